/**
 * The webhook events Linq would have sent for history read through the REST API, in the reference
 * envelope (`{api_version, event_id, event_type, created_at, data}`) and data shape, so that a
 * backfilled event goes through the same parser, router, queue and connector code as a live one.
 *
 * Event ids are deterministic (`backfill-message-<message id>`, `backfill-contact-<id>-<updated_at>`):
 * running a backfill again records nothing twice (the events table's primary key), and a connector
 * that already handled the live event for the same message finds its mapping and does nothing.
 */
import type { Chat, ChatMessage, Contact } from "@linq-connect/core";
import { tryNormalizePhoneNumber } from "@linq-connect/core";

export const backfillEventIdPrefix = "backfill-";

export function backfillMessageEventId(messageId: number | string): string {
  return `${backfillEventIdPrefix}message-${messageId}`;
}

/** One event per version of a contact: a contact updated since the last backfill is replayed again. */
export function backfillContactEventId(contactId: number | string, updatedAt: string | undefined): string {
  const time = updatedAt === undefined ? Number.NaN : Date.parse(updatedAt);
  return `${backfillEventIdPrefix}contact-${contactId}${Number.isNaN(time) ? "" : `-${new Date(time).toISOString()}`}`;
}

/** Whether a message was sent from our Linq number (message.sent) rather than received (message.received). */
export function isSentFrom(message: ChatMessage, linqNumber: string): boolean {
  const sender = message.sent_from;
  if (sender === undefined || sender === "") return false;
  return (tryNormalizePhoneNumber(sender) ?? sender) === linqNumber;
}

/**
 * The `chat_handles` of webhook data: the participants, then our number with `is_me: true`. The REST
 * chat includes our own handle; it is recognised by its number (and added when it is missing).
 */
export function webhookChatHandles(chat: Chat, linqNumber: string): Record<string, unknown>[] {
  const participants = (chat.chat_handles ?? []).filter((handle) => {
    const address = handle.phone_number;
    if (address === undefined || address === "") return false;
    return (tryNormalizePhoneNumber(address) ?? address) !== linqNumber;
  });
  // A one-to-one chat's display name is the participant's name (or number); a group's names everyone.
  const participantName =
    chat.group === true || participants.length !== 1 ? null : (chat.display_name ?? null);
  return [
    ...participants.map((handle) => ({
      identifier: handle.phone_number,
      display_name: participantName,
      is_me: false,
      ...(handle.service === undefined ? {} : { service: handle.service }),
    })),
    { identifier: linqNumber, display_name: null, is_me: true },
  ];
}

export interface SynthesizedEvent {
  eventId: string;
  eventType: "message.sent" | "message.received" | "contact.updated";
  /** The raw webhook body (reference envelope). */
  body: Record<string, unknown>;
}

/** The message.sent / message.received event of a message of `chat` on our number `linqNumber` (E.164). */
export function synthesizeMessageEvent(
  chat: Chat,
  message: ChatMessage,
  linqNumber: string,
): SynthesizedEvent {
  if (message.id === undefined || chat.id === undefined) {
    throw new TypeError("A message and its chat need ids to be backfilled");
  }
  const eventType = isSentFrom(message, linqNumber) ? "message.sent" : "message.received";
  const eventId = backfillMessageEventId(message.id);
  const data: Record<string, unknown> = {
    id: String(message.id),
    chat_id: String(chat.id),
    text: message.text ?? null,
    sent_at: message.sent_at ?? null,
    is_read: message.is_read ?? null,
    from_phone: message.sent_from ?? null,
    service: chat.service ?? null,
    chat_handles: webhookChatHandles(chat, linqNumber),
    attachments: (message.attachments ?? []).map((attachment) => ({
      id: attachment.id,
      url: attachment.url ?? null,
      filename: attachment.filename ?? null,
      mime_type: attachment.mime_type ?? null,
      ...(attachment.file_size === undefined ? {} : { file_size: attachment.file_size }),
    })),
  };
  if (message.delivered_at !== undefined) data.delivered_at = message.delivered_at;
  if (message.delivery_status !== undefined) data.delivery_status = message.delivery_status;
  if (message.edited_at !== undefined) data.edited_at = message.edited_at;
  if (message.chat_handle_id !== undefined) data.chat_handle_id = String(message.chat_handle_id);
  return {
    eventId,
    eventType,
    body: {
      api_version: "v2",
      event_id: eventId,
      event_type: eventType,
      created_at: message.sent_at ?? new Date().toISOString(),
      data,
    },
  };
}

/** The contact.updated event of a contact as the REST API returns it. */
export function synthesizeContactEvent(contact: Contact): SynthesizedEvent {
  if (contact.id === undefined) throw new TypeError("A contact needs an id to be backfilled");
  const eventId = backfillContactEventId(contact.id, contact.updated_at);
  return {
    eventId,
    eventType: "contact.updated",
    body: {
      api_version: "v2",
      event_id: eventId,
      event_type: "contact.updated",
      created_at: contact.updated_at ?? contact.created_at ?? new Date().toISOString(),
      data: { ...contact },
    },
  };
}
