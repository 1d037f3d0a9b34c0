/**
 * The webhook payload examples from the Linq reference
 * (shared/seeds/002, "Webhook Events Documentation"), as Linq sends them.
 * The reference shows one example per pair (sent/received, created/updated, …);
 * the other member of each pair uses the same data with its own event_type.
 * participant.* payloads are undocumented; the example here is an assumption.
 */

const chatHandles = [
  { identifier: "+15551234567", display_name: "John Doe", is_me: false },
  { identifier: "+15559876543", display_name: "Your Linq Number", is_me: true },
];

export const messageReceivedExample = {
  api_version: "v2",
  created_at: "2025-05-21T15:30:00-06:00",
  data: {
    id: "27799380",
    chat_id: "324324",
    text: "Hello, how are you?",
    sent_at: "2025-05-21 15:30:00 -0600",
    is_read: false,
    from_phone: "+15551234567",
    service: "iMessage",
    reaction_id: null,
    chat_handles: chatHandles,
    attachments: [
      {
        id: "abc12345-1234-5678-9abc-def012345678",
        url: "https://storage.googleapis.com/linq-files/attachments/abc123.pdf",
        filename: "document.pdf",
        mime_type: "application/pdf",
      },
    ],
  },
  event_id: "9dabceb9-9194-4dc6-beda-892573f377b4",
  event_type: "message.received",
};

export const messageReadExample = {
  api_version: "v2",
  created_at: "2025-05-21T15:35:00-06:00",
  data: { id: "12345", chat_id: "67890", read_at: "2025-05-21T15:35:00-06:00" },
  event_id: "wh_evt_789ghi",
  event_type: "message.read",
};

export const callCompletedExample = {
  api_version: "v2",
  created_at: "2025-05-21T15:05:30-06:00",
  data: {
    id: "12345",
    to: "+15559876543",
    from: "+15551234567",
    status: "completed",
    direction: "inbound",
    start_time: "2025-05-21 15:00:00 -0600",
    end_time: "2025-05-21 15:05:30 -0600",
    duration: 330,
    call_type: "normal",
    forwarded_from: null,
    answered_by: "+15559876543",
    voicemail: false,
    has_recording: true,
    recording_data: {
      id: "67890",
      url: "https://storage.googleapis.com/linq-files/recordings/abc123.mp3",
      duration: 330,
      transcribed: true,
      transcript_available: true,
      transcription: "Hello, this is John calling about our meeting tomorrow...",
      summary: "John called to confirm tomorrow's meeting at 2pm.",
    },
  },
  event_id: "wh_evt_101jkl",
  event_type: "call.completed",
};

export const contactCreatedExample = {
  api_version: "v2",
  created_at: "2025-07-30T10:00:00-06:00",
  data: {
    id: 123,
    first_name: "John",
    last_name: "Doe",
    full_name: "John Doe",
    email: "john@example.com",
    phone_number: "+15551234567",
    company: "Acme Corp",
    title: "CEO",
    location: "San Francisco, CA",
    image_url: null,
    created_at: "2025-07-30T10:00:00-06:00",
    updated_at: "2025-07-30T10:00:00-06:00",
    contact_owner: {
      id: 456,
      email: "owner@company.com",
      first_name: "Jane",
      last_name: "Owner",
      name: "Jane Owner",
    },
  },
  event_id: "wh_evt_contact_123",
  event_type: "contact.created",
};

export const contactDeletedExample = {
  api_version: "v2",
  created_at: "2025-07-30T10:00:00-06:00",
  data: { id: 123 },
  event_id: "wh_evt_contact_deleted_123",
  event_type: "contact.deleted",
};

export const reactionReceivedExample = {
  api_version: "v2",
  created_at: "2025-07-10T15:31:00-06:00",
  data: {
    id: "12346",
    chat_message_id: "67891",
    chat_id: "11111",
    reaction: "like",
    is_from_me: false,
    sent_at: "2025-07-10 15:31:00 -0600",
    created_at: "2025-07-10 15:31:00 -0600",
    chat_handle: { id: "22223", identifier: "+15551234567" },
    chat_handles: chatHandles,
    associated_message: {
      id: "67891",
      text: "I'm doing great, thanks!",
      sent_at: "2025-07-10 15:30:30 -0600",
    },
  },
  event_id: "wh_evt_456deg",
  event_type: "reaction.received",
};

export const typingIndicatorReceivedExample = {
  api_version: "v2",
  created_at: "2025-07-10T15:32:00-06:00",
  data: {
    chat_id: "11111",
    display: true,
    timestamp: "2025-07-10 15:32:00 -0600",
    chat_handles: chatHandles,
  },
  event_id: "wh_evt_789ghi",
  event_type: "typing_indicator.received",
};

/** Undocumented by Linq: an assumed shape. */
export const participantAddedExample = {
  api_version: "v2",
  created_at: "2025-07-10T15:40:00-06:00",
  data: {
    chat_id: "11111",
    chat_handle: { id: "22224", identifier: "+15557654321", display_name: "Alex Roe", is_me: false },
  },
  event_id: "wh_evt_participant_1",
  event_type: "participant.added",
};

/** The quick-start guide's envelope for message.received. */
export const quickStartMessageReceivedExample = {
  event: "message.received",
  data: {
    message: {
      id: 67891,
      text: "Thanks! This is my reply.",
      sent_at: "2025-10-22T10:31:00Z",
      sent_from: "+15551234567",
      chat_id: 12345,
    },
    chat: { id: 12345, display_name: "+1 (555) 123-4567", service: "iMessage" },
  },
  timestamp: "2025-10-22T10:31:00Z",
};

function withEventType<T extends { event_type: string; event_id: string }>(example: T, eventType: string): T {
  return { ...example, event_type: eventType, event_id: `${example.event_id}_${eventType}` };
}

/** One example body for each of the 13 event types. */
export const exampleEventsByType = {
  "message.sent": withEventType(messageReceivedExample, "message.sent"),
  "message.received": messageReceivedExample,
  "message.read": messageReadExample,
  "call.completed": callCompletedExample,
  "reaction.sent": withEventType(
    { ...reactionReceivedExample, data: { ...reactionReceivedExample.data, is_from_me: true } },
    "reaction.sent",
  ),
  "reaction.received": reactionReceivedExample,
  "typing_indicator.received": typingIndicatorReceivedExample,
  "typing_indicator.removed": withEventType(
    { ...typingIndicatorReceivedExample, data: { ...typingIndicatorReceivedExample.data, display: false } },
    "typing_indicator.removed",
  ),
  "contact.created": contactCreatedExample,
  "contact.updated": withEventType(contactCreatedExample, "contact.updated"),
  "contact.deleted": contactDeletedExample,
  "participant.added": participantAddedExample,
  "participant.removed": withEventType(participantAddedExample, "participant.removed"),
} as const;
