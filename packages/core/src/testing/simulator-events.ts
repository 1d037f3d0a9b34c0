/**
 * Webhook event payloads, exactly like the examples of the Linq webhook
 * reference: ids inside `data` are strings ("27799380") for messages,
 * reactions, typing and calls, times inside `data` look like
 * "2025-05-21 15:30:00 +0000", `chat_handles[]` carry `identifier`,
 * `display_name` and `is_me`. Contact events carry the REST contact (integer id,
 * ISO times) and `contact.deleted` only `{id}`, as in the reference.
 *
 * participant.added / participant.removed payloads are not documented; the
 * simulator sends `{chat_id, chat_handle:{id, identifier}, timestamp, chat_handles}`.
 */
import { linqEventTypes } from "../webhooks/events.ts";
import type {
  ChatRecord,
  ContactRecord,
  HandleRecord,
  MessageRecord,
  ReactionRecord,
} from "./simulator-state.ts";
import type {
  CallRecord,
  LinqWebhookEventType,
  MessagingService,
  SimulatorContact,
} from "./simulator-types.ts";

/** An event the state reports, before it gets its envelope. */
export interface SimulatorEvent {
  eventType: string;
  /** The reference `data`. */
  data: Record<string, unknown>;
  /** The quick-start guide's `data` (`{message, chat}`) for message events; other events reuse `data`. */
  quickstartData?: Record<string, unknown>;
}

/** What the payload builders need to know about names and services. */
export interface EventNaming {
  participantName(address: string): string;
  linqNumberName(linqNumber: string): string;
  participantsOf(chat: ChatRecord): HandleRecord[];
  chatService(chat: ChatRecord): MessagingService;
  chatDisplayName(chat: ChatRecord): string;
  renderContact(contact: ContactRecord): SimulatorContact;
}

/** Every documented event type (the same list the webhook parser knows). */
export const WEBHOOK_EVENT_TYPES: readonly LinqWebhookEventType[] = linqEventTypes;

/** The non-ISO time form of webhook data: `2025-05-21 15:30:00 +0000` (UTC). */
export function webhookTime(date: Date): string {
  return `${date.toISOString().slice(0, 10)} ${date.toISOString().slice(11, 19)} +0000`;
}

/** ISO 8601 without fractions and with an explicit offset: `2025-05-21T15:30:00+00:00`. */
export function isoSeconds(date: Date): string {
  return `${date.toISOString().slice(0, 19)}+00:00`;
}

/** The `chat_handles` of webhook data: participants, then our number. */
export function webhookChatHandles(naming: EventNaming, chat: ChatRecord): Record<string, unknown>[] {
  return [
    ...naming.participantsOf(chat).map((handle) => ({
      identifier: handle.address,
      display_name: naming.participantName(handle.address),
      is_me: false,
    })),
    { identifier: chat.linqNumber, display_name: naming.linqNumberName(chat.linqNumber), is_me: true },
  ];
}

/** message.sent / message.received. */
export function messageEvent(
  naming: EventNaming,
  eventType: "message.sent" | "message.received",
  message: MessageRecord,
  chat: ChatRecord,
): SimulatorEvent {
  return {
    eventType,
    data: {
      id: String(message.id),
      chat_id: String(chat.id),
      text: message.text,
      sent_at: webhookTime(message.sentAt),
      is_read: message.isRead,
      from_phone: message.sentFrom,
      service: message.service,
      reaction_id: null,
      chat_handles: webhookChatHandles(naming, chat),
      attachments: message.attachments.map((attachment) => ({
        id: attachment.id,
        url: attachment.url,
        filename: attachment.filename,
        mime_type: attachment.mimeType,
      })),
    },
    quickstartData: {
      message: {
        id: message.id,
        text: message.text,
        sent_at: quickstartTime(message.sentAt),
        sent_from: message.sentFrom,
        chat_id: chat.id,
      },
      chat: { id: chat.id, display_name: naming.chatDisplayName(chat), service: naming.chatService(chat) },
    },
  };
}

/** message.read (`read_at` is ISO in the reference example). */
export function messageReadEvent(message: MessageRecord, chat: ChatRecord, readAt: Date): SimulatorEvent {
  return {
    eventType: "message.read",
    data: { id: String(message.id), chat_id: String(chat.id), read_at: isoSeconds(readAt) },
  };
}

/** reaction.sent / reaction.received. */
export function reactionEvent(
  naming: EventNaming,
  eventType: "reaction.sent" | "reaction.received",
  reaction: ReactionRecord,
  message: MessageRecord,
  chat: ChatRecord,
): SimulatorEvent {
  return {
    eventType,
    data: {
      id: String(reaction.id),
      chat_message_id: String(message.id),
      chat_id: String(chat.id),
      reaction: reaction.reaction,
      is_from_me: reaction.isFromMe,
      sent_at: webhookTime(reaction.sentAt),
      created_at: webhookTime(reaction.createdAt),
      chat_handle: { id: String(reaction.handleId), identifier: reaction.fromPhone },
      chat_handles: webhookChatHandles(naming, chat),
      associated_message: {
        id: String(message.id),
        text: message.text,
        sent_at: webhookTime(message.sentAt),
      },
    },
  };
}

/** typing_indicator.received (display true) / typing_indicator.removed (display false). */
export function typingEvent(
  naming: EventNaming,
  chat: ChatRecord,
  display: boolean,
  at: Date,
): SimulatorEvent {
  return {
    eventType: display ? "typing_indicator.received" : "typing_indicator.removed",
    data: {
      chat_id: String(chat.id),
      display,
      timestamp: webhookTime(at),
      chat_handles: webhookChatHandles(naming, chat),
    },
  };
}

/** participant.added / participant.removed (undocumented payload, see the module comment). */
export function participantEvent(
  naming: EventNaming,
  eventType: "participant.added" | "participant.removed",
  chat: ChatRecord,
  handle: HandleRecord,
  at: Date,
): SimulatorEvent {
  return {
    eventType,
    data: {
      chat_id: String(chat.id),
      chat_handle: { id: String(handle.id), identifier: handle.address },
      timestamp: webhookTime(at),
      chat_handles: webhookChatHandles(naming, chat),
    },
  };
}

/** call.completed. */
export function callEvent(call: CallRecord): SimulatorEvent {
  return {
    eventType: "call.completed",
    data: {
      id: String(call.id),
      to: call.to,
      from: call.from,
      status: call.status,
      direction: call.direction,
      start_time: webhookTime(new Date(call.start_time)),
      end_time: webhookTime(new Date(call.end_time)),
      duration: call.duration,
      call_type: call.call_type,
      forwarded_from: call.forwarded_from,
      answered_by: call.answered_by,
      voicemail: call.voicemail,
      has_recording: call.has_recording,
      recording_data:
        call.recording_data === null
          ? null
          : {
              id: String(call.recording_data.id),
              url: call.recording_data.url,
              duration: call.recording_data.duration,
              transcribed: call.recording_data.transcribed,
              transcript_available: call.recording_data.transcript_available,
              transcription: call.recording_data.transcription,
              summary: call.recording_data.summary,
            },
    },
  };
}

/** contact.created / contact.updated: the REST contact with second-precision ISO times. */
export function contactEvent(
  naming: EventNaming,
  eventType: "contact.created" | "contact.updated",
  contact: ContactRecord,
): SimulatorEvent {
  return {
    eventType,
    data: {
      ...naming.renderContact(contact),
      created_at: isoSeconds(contact.createdAt),
      updated_at: isoSeconds(contact.updatedAt),
    },
  };
}

/** contact.deleted carries only the id. */
export function contactDeletedEvent(contactId: number): SimulatorEvent {
  return { eventType: "contact.deleted", data: { id: contactId } };
}

function quickstartTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}
