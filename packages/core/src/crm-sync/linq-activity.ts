/**
 * Linq messages and calls as CRM connectors log them, whatever the CRM: who the customer is (their
 * handles in canonical form), our Linq number, the direction, the service that carried the message,
 * the text and the attachments; for a call, the customer's number, duration, recording and transcript.
 * Also the calendar day of an instant in a time zone (daily digests) and a guard for links.
 */
import type { ConnectorContext } from "../connector.ts";
import { isEmailHandle, type PhoneNumberOptions, tryNormalizePhoneNumber } from "../phone/phone-number.ts";
import type { CallCompletedEvent, MessageReceivedEvent, MessageSentEvent } from "../webhooks/events.ts";

/** At most this many customer handles of a group chat are logged. */
const MAX_PARTICIPANTS = 10;

/** One message as a CRM logs it. */
export interface LinqMessageActivity {
  messageId: string;
  direction: "incoming" | "outgoing";
  /** iMessage, SMS, RCS (null when unknown). */
  service: string | null;
  /** The customer's handle(s), canonical (E.164 or lower-cased email); the sender first when incoming. */
  participants: string[];
  /** Our Linq number (or handle). */
  linqNumber: string | undefined;
  text: string;
  /** ISO time the message was sent. */
  sentAt: string;
  attachments: { url: string; filename: string }[];
}

/** A completed call as a CRM logs it. */
export interface LinqCallActivity {
  callId: string;
  direction: "inbound" | "outbound";
  from: string;
  to: string;
  /** The customer's number, canonical (the caller when inbound, the called number when outbound). */
  customer: string;
  status: string | null;
  durationSeconds: number | null;
  startedAt: string;
  recordingUrl: string | null;
  transcription: string | null;
  summary: string | null;
  voicemail: boolean;
}

/** A handle in canonical form: E.164 for a phone number, lower case for an email; undefined when unusable. */
export function canonicalHandle(handle: string, options: PhoneNumberOptions = {}): string | undefined {
  const trimmed = handle.trim();
  if (trimmed === "") return undefined;
  if (isEmailHandle(trimmed)) return trimmed.toLowerCase();
  return tryNormalizePhoneNumber(trimmed, options);
}

/**
 * The message of a `message.received` / `message.sent` event as it is logged: direction, the customer
 * handles and our number (from the event's chat handles, else the sender, else the chat read from
 * Linq). Undefined when the conversation has no customer handle.
 */
export async function describeLinqMessage(
  event: MessageReceivedEvent | MessageSentEvent,
  options: PhoneNumberOptions,
  context: Pick<ConnectorContext, "linq" | "signal">,
): Promise<LinqMessageActivity | undefined> {
  const data = event.data;
  const incoming = event.event_type === "message.received";
  const handles = data.chat_handles ?? data.chat?.chat_handles;
  let linqNumber: string | undefined;
  let participants: string[] = [];
  for (const handle of handles ?? []) {
    const identifier = handle.identifier ?? handle.phone_number ?? undefined;
    if (identifier === undefined || identifier === null) continue;
    const canonical = canonicalHandle(identifier, options);
    if (canonical === undefined) continue;
    if (handle.is_me === true) linqNumber = canonical;
    else participants.push(canonical);
  }
  const sender =
    data.from_phone === null || data.from_phone === undefined
      ? undefined
      : canonicalHandle(data.from_phone, options);
  if (!incoming && linqNumber === undefined) linqNumber = sender;
  if (participants.length === 0) {
    if (incoming && sender !== undefined) participants = [sender];
    else {
      // message.sent without handles: the chat's participants are everyone but our number.
      const chat = await context.linq.getChat(data.chat_id, { signal: context.signal });
      participants = (chat.chat_handles ?? [])
        .map((handle) => canonicalHandle(String(handle.phone_number ?? ""), options))
        .filter((handle): handle is string => handle !== undefined && handle !== linqNumber);
    }
  } else if (incoming && sender !== undefined && participants.includes(sender)) {
    participants = [sender, ...participants.filter((handle) => handle !== sender)];
  }
  participants = [...new Set(participants)].slice(0, MAX_PARTICIPANTS);
  if (participants.length === 0) return undefined;
  return {
    messageId: String(data.id),
    direction: incoming ? "incoming" : "outgoing",
    service: data.service ?? data.chat?.service ?? null,
    participants,
    linqNumber,
    text: data.text ?? "",
    sentAt: data.sent_at ?? event.created_at,
    attachments: (data.attachments ?? [])
      .filter((attachment) => typeof attachment.url === "string" && attachment.url !== "")
      .map((attachment) => ({
        url: attachment.url as string,
        filename: attachment.filename ?? "attachment",
      })),
  };
}

/** The call of a `call.completed` event, or why it cannot be logged (no direction, no usable number). */
export function describeLinqCall(
  event: CallCompletedEvent,
  options: PhoneNumberOptions,
): { call: LinqCallActivity } | { skipped: string } {
  const data = event.data;
  const direction =
    data.direction === "outbound" ? "outbound" : data.direction === "inbound" ? "inbound" : undefined;
  const from = data.from ?? "";
  const to = data.to ?? "";
  const party = direction === "inbound" ? from : to;
  if (direction === undefined || party.trim() === "") {
    return { skipped: "call without a direction or a customer number: not logged" };
  }
  const customer = canonicalHandle(party, options);
  if (customer === undefined) return { skipped: "withheld or unreadable caller number: call not logged" };
  return {
    call: {
      callId: String(data.id),
      direction,
      from,
      to,
      customer,
      status: data.status ?? null,
      durationSeconds: data.duration ?? null,
      startedAt: data.start_time ?? data.end_time ?? event.created_at,
      recordingUrl: data.recording_data?.url ?? null,
      transcription: data.recording_data?.transcription ?? null,
      summary: data.recording_data?.summary ?? null,
      voicemail: data.voicemail === true,
    },
  };
}

/** The calendar day (yyyy-mm-dd) of an instant in an IANA time zone. */
export function calendarDayIn(instant: string, timeZone: string): string {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).formatToParts(new Date(instant));
  const part = (type: string) => parts.find((candidate) => candidate.type === type)?.value ?? "00";
  return `${part("year")}-${part("month")}-${part("day")}`;
}

/** The URL when it is an http(s) URL (never a `javascript:` or `data:` link), normalised; else undefined. */
export function safeHttpUrl(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.toString() : undefined;
  } catch {
    return undefined;
  }
}
