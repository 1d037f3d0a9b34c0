/**
 * Linq webhook events: zod schemas, types and a parser that turns either
 * envelope Linq documents into one normalised shape.
 *
 * - Reference envelope: `{api_version: "v2", created_at, data, event_id, event_type}`.
 * - Quick-start envelope: `{event, timestamp, data: {message, chat}}`.
 *
 * Normalised event: `{known, event_id, event_type, api_version, created_at, data, raw}`
 * with Linq's snake_case field names. Integer ids (strings in webhooks, numbers
 * in REST) become numbers; timestamps (ISO 8601 or "2025-05-21 15:30:00 -0600")
 * become ISO 8601 UTC. Undocumented fields are kept, unknown event types are
 * returned with `known: false` instead of being rejected.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { ConfigurationError, type FieldError, WebhookPayloadError } from "../errors.ts";
import { canonicalizeJson } from "./signature.ts";
import { normalizeLinqTimestamp, parseLinqTimestamp } from "./timestamps.ts";

/** The 13 webhook event types Linq documents. */
export const linqEventTypes = [
  "message.sent",
  "message.received",
  "message.read",
  "call.completed",
  "reaction.sent",
  "reaction.received",
  "typing_indicator.received",
  "typing_indicator.removed",
  "contact.created",
  "contact.updated",
  "contact.deleted",
  "participant.added",
  "participant.removed",
] as const;

export type LinqEventType = (typeof linqEventTypes)[number];

const knownEventTypes: ReadonlySet<string> = new Set(linqEventTypes);

/** Whether `value` is one of the 13 documented event types. */
export function isLinqEventType(value: unknown): value is LinqEventType {
  return typeof value === "string" && knownEventTypes.has(value);
}

/** A string with documented values that still accepts values Linq adds later. */
export type OpenString<Known extends string> = Known | (string & Record<never, never>);

function openString<const Known extends readonly string[]>(_documentedValues: Known) {
  return z.string().transform((value) => value as OpenString<Known[number]>);
}

/** An integer id, sent as a number (REST) or a string of digits (webhooks); always a number after parsing. */
export const linqIdSchema = z.union([z.number(), z.string()]).transform((value, context) => {
  const id =
    typeof value === "number" ? value : /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!Number.isSafeInteger(id) || id < 0) {
    context.addIssue({ code: "custom", message: "Expected an integer id (a number or a string of digits)" });
    return z.NEVER;
  }
  return id;
});

/** A Linq timestamp (ISO 8601 or "2025-05-21 15:30:00 -0600"), normalised to ISO 8601 UTC. */
export const linqTimestampSchema = z.string().transform((value, context) => {
  const normalized = normalizeLinqTimestamp(value);
  if (normalized === undefined) {
    context.addIssue({
      code: "custom",
      message: 'Expected a timestamp such as "2025-05-21T15:30:00-06:00" or "2025-05-21 15:30:00 -0600"',
    });
    return z.NEVER;
  }
  return normalized;
});

const optionalText = z.string().nullable().optional();
const optionalTimestamp = linqTimestampSchema.nullable().optional();
const messageServiceSchema = openString(["iMessage", "SMS", "RCS"] as const);

/** A participant of a chat as webhooks describe it. */
export const linqChatHandleSchema = z.looseObject({
  id: linqIdSchema.optional(),
  /** Phone number (E.164) or email address. */
  identifier: z.string().optional(),
  display_name: optionalText,
  is_me: z.boolean().optional(),
  phone_number: optionalText,
  service: messageServiceSchema.nullable().optional(),
  joined_at: optionalTimestamp,
});

/** An attachment; its id is a UUID and stays a string. */
export const linqAttachmentSchema = z.looseObject({
  id: z
    .union([z.string(), z.number()])
    .transform((value) => String(value))
    .optional(),
  url: optionalText,
  filename: optionalText,
  mime_type: optionalText,
  file_size: z.number().nullable().optional(),
});

/** The chat object the quick-start envelope sends next to the message. */
export const linqWebhookChatSchema = z.looseObject({
  id: linqIdSchema.optional(),
  display_name: optionalText,
  service: messageServiceSchema.nullable().optional(),
  group: z.boolean().nullable().optional(),
  chat_handles: z.array(linqChatHandleSchema).optional(),
});

/** `data` of message.sent and message.received. */
export const linqMessageEventDataSchema = z.looseObject({
  id: linqIdSchema,
  chat_id: linqIdSchema,
  text: optionalText,
  sent_at: optionalTimestamp,
  delivered_at: optionalTimestamp,
  edited_at: optionalTimestamp,
  is_read: z.boolean().nullable().optional(),
  /** The sender's phone number or email address. */
  from_phone: optionalText,
  service: messageServiceSchema.nullable().optional(),
  reaction_id: linqIdSchema.nullable().optional(),
  delivery_status: openString([
    "pending",
    "delivered",
    "service_unavailable",
    "paused",
    "rate_limit_exceeded",
  ] as const)
    .nullable()
    .optional(),
  chat_handle_id: linqIdSchema.nullable().optional(),
  chat_handles: z.array(linqChatHandleSchema).optional(),
  attachments: z.array(linqAttachmentSchema).optional(),
  /** Present when the event came in the quick-start envelope. */
  chat: linqWebhookChatSchema.optional(),
});

/** `data` of message.read. */
export const linqMessageReadEventDataSchema = z.looseObject({
  id: linqIdSchema.optional(),
  chat_id: linqIdSchema,
  read_at: optionalTimestamp,
});

/** `recording_data` of call.completed. */
export const linqCallRecordingSchema = z.looseObject({
  id: linqIdSchema.optional(),
  url: optionalText,
  duration: z.number().nullable().optional(),
  transcribed: z.boolean().nullable().optional(),
  transcript_available: z.boolean().nullable().optional(),
  transcription: optionalText,
  summary: optionalText,
});

/** `data` of call.completed. */
export const linqCallCompletedEventDataSchema = z.looseObject({
  id: linqIdSchema,
  to: optionalText,
  from: optionalText,
  status: optionalText,
  direction: openString(["inbound", "outbound"] as const)
    .nullable()
    .optional(),
  start_time: optionalTimestamp,
  end_time: optionalTimestamp,
  /** Seconds. */
  duration: z.number().nullable().optional(),
  call_type: optionalText,
  forwarded_from: optionalText,
  answered_by: optionalText,
  voicemail: z.boolean().nullable().optional(),
  has_recording: z.boolean().nullable().optional(),
  recording_data: linqCallRecordingSchema.nullable().optional(),
});

/** The owner of a contact. */
export const linqContactOwnerSchema = z.looseObject({
  id: linqIdSchema.optional(),
  email: optionalText,
  first_name: optionalText,
  last_name: optionalText,
  name: optionalText,
});

/** `data` of contact.created and contact.updated (the Contact object). */
export const linqContactEventDataSchema = z.looseObject({
  id: linqIdSchema,
  first_name: optionalText,
  last_name: optionalText,
  full_name: optionalText,
  email: optionalText,
  phone_number: optionalText,
  company: optionalText,
  title: optionalText,
  location: optionalText,
  image_url: optionalText,
  created_at: optionalTimestamp,
  updated_at: optionalTimestamp,
  contact_owner: linqContactOwnerSchema.nullable().optional(),
});

/** `data` of contact.deleted: only the id. */
export const linqContactDeletedEventDataSchema = z.looseObject({
  id: linqIdSchema,
});

/** The six documented reactions. */
export const linqReactionTypes = ["love", "like", "dislike", "laugh", "emphasize", "question"] as const;

/** `data` of reaction.sent and reaction.received. */
export const linqReactionEventDataSchema = z.looseObject({
  id: linqIdSchema,
  chat_message_id: linqIdSchema,
  chat_id: linqIdSchema.optional(),
  reaction: openString(linqReactionTypes),
  is_from_me: z.boolean().nullable().optional(),
  from_phone: optionalText,
  sent_at: optionalTimestamp,
  created_at: optionalTimestamp,
  updated_at: optionalTimestamp,
  chat_handle: linqChatHandleSchema.nullable().optional(),
  chat_handles: z.array(linqChatHandleSchema).optional(),
  associated_message: z
    .looseObject({
      id: linqIdSchema.optional(),
      text: optionalText,
      sent_at: optionalTimestamp,
    })
    .nullable()
    .optional(),
});

/** `data` of typing_indicator.received and typing_indicator.removed. */
export const linqTypingIndicatorEventDataSchema = z.looseObject({
  chat_id: linqIdSchema,
  display: z.boolean().nullable().optional(),
  timestamp: optionalTimestamp,
  chat_handles: z.array(linqChatHandleSchema).optional(),
});

/**
 * `data` of participant.added and participant.removed. Linq does not document
 * these payloads, so any object is accepted: the typed fields are filled when
 * they are present and well-formed, and left out of `data` otherwise (the
 * original is always in `event.raw`).
 */
export const linqParticipantEventDataSchema = z
  .looseObject({
    chat_id: linqIdSchema.optional().catch(undefined),
    chat_handle: linqChatHandleSchema.nullable().optional().catch(undefined),
    handle: linqChatHandleSchema.nullable().optional().catch(undefined),
    chat_handles: z.array(linqChatHandleSchema).optional().catch(undefined),
  })
  .transform((data) => {
    const cleaned: typeof data = { ...data };
    for (const key of ["chat_id", "chat_handle", "handle", "chat_handles"] as const) {
      if (cleaned[key] === undefined) delete cleaned[key];
    }
    return cleaned;
  });

export type LinqChatHandle = z.output<typeof linqChatHandleSchema>;
export type LinqAttachment = z.output<typeof linqAttachmentSchema>;
export type LinqWebhookChat = z.output<typeof linqWebhookChatSchema>;
export type LinqMessageEventData = z.output<typeof linqMessageEventDataSchema>;
export type LinqMessageReadEventData = z.output<typeof linqMessageReadEventDataSchema>;
export type LinqCallRecording = z.output<typeof linqCallRecordingSchema>;
export type LinqCallCompletedEventData = z.output<typeof linqCallCompletedEventDataSchema>;
export type LinqContactEventData = z.output<typeof linqContactEventDataSchema>;
export type LinqContactDeletedEventData = z.output<typeof linqContactDeletedEventDataSchema>;
export type LinqReactionType = (typeof linqReactionTypes)[number];
export type LinqReactionEventData = z.output<typeof linqReactionEventDataSchema>;
export type LinqTypingIndicatorEventData = z.output<typeof linqTypingIndicatorEventDataSchema>;
export type LinqParticipantEventData = z.output<typeof linqParticipantEventDataSchema>;

/** The `data` schema of each documented event type. */
export const linqEventDataSchemas = {
  "message.sent": linqMessageEventDataSchema,
  "message.received": linqMessageEventDataSchema,
  "message.read": linqMessageReadEventDataSchema,
  "call.completed": linqCallCompletedEventDataSchema,
  "reaction.sent": linqReactionEventDataSchema,
  "reaction.received": linqReactionEventDataSchema,
  "typing_indicator.received": linqTypingIndicatorEventDataSchema,
  "typing_indicator.removed": linqTypingIndicatorEventDataSchema,
  "contact.created": linqContactEventDataSchema,
  "contact.updated": linqContactEventDataSchema,
  "contact.deleted": linqContactDeletedEventDataSchema,
  "participant.added": linqParticipantEventDataSchema,
  "participant.removed": linqParticipantEventDataSchema,
} as const satisfies Record<LinqEventType, z.ZodType>;

/** The normalised `data` type of each documented event type. */
export type LinqEventDataMap = { [Type in LinqEventType]: z.output<(typeof linqEventDataSchemas)[Type]> };

/** Fields every normalised event has. */
interface LinqWebhookEventFields {
  /** Linq's event id, or `derived-<sha256>` of the canonical body when the envelope has none. Use it to dedupe. */
  event_id: string;
  /** "v2" (the quick-start envelope carries no version; it is assumed to be "v2"). */
  api_version: string;
  /** When the event was created, ISO 8601 UTC. */
  created_at: string;
  /** The parsed JSON body exactly as received. */
  raw: Record<string, unknown>;
}

/** A documented event whose data passed validation. */
export type KnownLinqWebhookEvent<Type extends LinqEventType> = LinqWebhookEventFields & {
  known: true;
  event_type: Type;
  data: LinqEventDataMap[Type];
};

export type MessageSentEvent = KnownLinqWebhookEvent<"message.sent">;
export type MessageReceivedEvent = KnownLinqWebhookEvent<"message.received">;
export type MessageReadEvent = KnownLinqWebhookEvent<"message.read">;
export type CallCompletedEvent = KnownLinqWebhookEvent<"call.completed">;
export type ReactionSentEvent = KnownLinqWebhookEvent<"reaction.sent">;
export type ReactionReceivedEvent = KnownLinqWebhookEvent<"reaction.received">;
export type TypingIndicatorReceivedEvent = KnownLinqWebhookEvent<"typing_indicator.received">;
export type TypingIndicatorRemovedEvent = KnownLinqWebhookEvent<"typing_indicator.removed">;
export type ContactCreatedEvent = KnownLinqWebhookEvent<"contact.created">;
export type ContactUpdatedEvent = KnownLinqWebhookEvent<"contact.updated">;
export type ContactDeletedEvent = KnownLinqWebhookEvent<"contact.deleted">;
export type ParticipantAddedEvent = KnownLinqWebhookEvent<"participant.added">;
export type ParticipantRemovedEvent = KnownLinqWebhookEvent<"participant.removed">;

/** One of the 13 documented events, discriminated on `event_type`. */
export type LinqWebhookEvent =
  | MessageSentEvent
  | MessageReceivedEvent
  | MessageReadEvent
  | CallCompletedEvent
  | ReactionSentEvent
  | ReactionReceivedEvent
  | TypingIndicatorReceivedEvent
  | TypingIndicatorRemovedEvent
  | ContactCreatedEvent
  | ContactUpdatedEvent
  | ContactDeletedEvent
  | ParticipantAddedEvent
  | ParticipantRemovedEvent;

/** An event type this version does not know, preserved as received (only the envelope is normalised). */
export type UnknownLinqWebhookEvent = LinqWebhookEventFields & {
  known: false;
  event_type: string;
  data: Record<string, unknown>;
};

/** What `parseWebhookEvent` returns: narrow with `if (event.known) switch (event.event_type) …`. */
export type ParsedLinqWebhookEvent = LinqWebhookEvent | UnknownLinqWebhookEvent;

export interface ParseWebhookEventOptions {
  /** Reject events whose `created_at` is more than this many seconds before `now`. Off by default. */
  maxEventAgeSeconds?: number;
  /** The current time, for `maxEventAgeSeconds` (default: the clock). */
  now?: Date;
}

export type SafeParseWebhookEventResult =
  | { success: true; event: ParsedLinqWebhookEvent }
  | { success: false; error: WebhookPayloadError };

/**
 * Parses and validates a Linq webhook body.
 *
 * `input` is the raw body (a string or bytes) or JSON that was already parsed.
 * Throws `WebhookPayloadError` (with `issues` naming the fields) when the body is
 * not JSON, not an object, lacks envelope fields, carries invalid data for a
 * documented event type, or (with `maxEventAgeSeconds`) is too old. Event types
 * this version does not know are returned with `known: false`.
 *
 * This does not check the signature: call `verifyWebhookSignature` on the raw
 * body first (or use `handleLinqWebhook`, which does both).
 */
export function parseWebhookEvent(
  input: unknown,
  options: ParseWebhookEventOptions = {},
): ParsedLinqWebhookEvent {
  const maxEventAgeSeconds = validateMaxEventAge(options.maxEventAgeSeconds);
  const body = decodeBody(input);
  if (!isPlainObject(body)) {
    throw payloadError("The webhook body must be a JSON object", [
      { message: `Expected a JSON object, received ${describeJsonType(body)}`, code: "invalid_type" },
    ]);
  }

  const envelope =
    "event_type" in body || !("event" in body) ? readReferenceEnvelope(body) : readQuickStartEnvelope(body);

  if (maxEventAgeSeconds !== undefined) {
    const now = options.now ?? new Date();
    const ageSeconds = (now.getTime() - Date.parse(envelope.created_at)) / 1000;
    if (ageSeconds > maxEventAgeSeconds) {
      throw payloadError("The webhook event is too old", [
        {
          field: envelope.createdAtField,
          message: `The event was created ${Math.floor(ageSeconds)} seconds ago, more than the allowed ${maxEventAgeSeconds}`,
          code: "event_too_old",
        },
      ]);
    }
  }

  if (!isLinqEventType(envelope.event_type)) {
    return {
      known: false,
      event_id: envelope.event_id,
      event_type: envelope.event_type,
      api_version: envelope.api_version,
      created_at: envelope.created_at,
      data: envelope.data,
      raw: body,
    };
  }

  const result = linqEventDataSchemas[envelope.event_type].safeParse(envelope.data);
  if (!result.success) {
    const issues = result.error.issues.map(
      (issue): FieldError => ({
        field: ["data", ...issue.path.map(String)].join("."),
        message: issue.message,
        code: issue.code,
      }),
    );
    throw payloadError(`Invalid data for a ${envelope.event_type} webhook event`, issues);
  }
  return {
    known: true,
    event_id: envelope.event_id,
    event_type: envelope.event_type,
    api_version: envelope.api_version,
    created_at: envelope.created_at,
    data: result.data,
    raw: body,
  } as LinqWebhookEvent;
}

/** Like `parseWebhookEvent`, but returns `{ success: false, error }` instead of throwing `WebhookPayloadError`. */
export function safeParseWebhookEvent(
  input: unknown,
  options: ParseWebhookEventOptions = {},
): SafeParseWebhookEventResult {
  try {
    return { success: true, event: parseWebhookEvent(input, options) };
  } catch (error) {
    if (error instanceof WebhookPayloadError) return { success: false, error };
    throw error;
  }
}

interface Envelope {
  event_id: string;
  event_type: string;
  api_version: string;
  created_at: string;
  /** Which envelope field held the creation time, for error messages. */
  createdAtField: string;
  data: Record<string, unknown>;
}

function readReferenceEnvelope(body: Record<string, unknown>): Envelope {
  const issues: FieldError[] = [];
  const eventType = readNonEmptyString(body, "event_type", issues);
  const eventId = readEventId(body, issues);
  const createdAt = readTimestamp(body, "created_at", issues);
  const apiVersion = readApiVersion(body, issues);
  const data = readData(body.data, "data", issues);
  if (
    issues.length > 0 ||
    eventType === undefined ||
    eventId === undefined ||
    createdAt === undefined ||
    data === undefined
  ) {
    throw payloadError("Invalid Linq webhook envelope", issues);
  }
  return {
    event_id: eventId,
    event_type: eventType,
    api_version: apiVersion,
    created_at: createdAt,
    createdAtField: "created_at",
    data,
  };
}

/** The quick-start guide's `{event, timestamp, data: {message, chat}}` form. */
function readQuickStartEnvelope(body: Record<string, unknown>): Envelope {
  const issues: FieldError[] = [];
  const eventType = readNonEmptyString(body, "event", issues);
  const createdAt = readTimestamp(body, "timestamp", issues);
  const apiVersion = readApiVersion(body, issues);
  const data = readData(body.data, "data", issues);
  const eventId = body.event_id === undefined ? derivedEventId(body) : readEventId(body, issues);
  if (issues.length > 0 || eventType === undefined || createdAt === undefined || data === undefined) {
    throw payloadError("Invalid Linq webhook envelope", issues);
  }
  return {
    event_id: eventId ?? "",
    event_type: eventType,
    api_version: apiVersion,
    created_at: createdAt,
    createdAtField: "timestamp",
    data: flattenQuickStartData(data),
  };
}

/**
 * Turns quick-start `{message, chat}` data into the reference message shape:
 * the message's own fields, `chat_id` (from the message, else the chat),
 * `from_phone` (from `sent_from`), `service` and `chat_handles` from the chat,
 * and the chat itself under `chat`.
 */
function flattenQuickStartData(data: Record<string, unknown>): Record<string, unknown> {
  const message = data.message;
  if (!isPlainObject(message)) return data;
  const chat = isPlainObject(data.chat) ? data.chat : undefined;
  const { message: _message, ...otherData } = data;
  const flattened: Record<string, unknown> = { ...otherData, ...message };
  if (flattened.chat_id === undefined && chat?.id !== undefined) flattened.chat_id = chat.id;
  if (flattened.from_phone === undefined && message.sent_from !== undefined)
    flattened.from_phone = message.sent_from;
  if (flattened.service === undefined && chat?.service !== undefined) flattened.service = chat.service;
  if (flattened.chat_handles === undefined && chat?.chat_handles !== undefined) {
    flattened.chat_handles = chat.chat_handles;
  }
  return flattened;
}

/** `derived-` + SHA-256 of the canonical body, so duplicate deliveries get the same id. */
function derivedEventId(body: Record<string, unknown>): string {
  let canonical: string;
  try {
    canonical = canonicalizeJson(body);
  } catch (error) {
    // Only reachable with absurdly deep nesting (stack overflow) or non-JSON values in pre-parsed input.
    throw payloadError("The webhook body cannot be canonicalised", [{ message: String(error) }], error);
  }
  return `derived-${createHash("sha256").update(canonical, "utf8").digest("hex")}`;
}

function readNonEmptyString(
  body: Record<string, unknown>,
  field: string,
  issues: FieldError[],
): string | undefined {
  const value = body[field];
  if (typeof value === "string" && value.trim() !== "") return value;
  issues.push({
    field,
    message: value === undefined ? "Required" : "Expected a non-empty string",
    code: value === undefined ? "missing" : "invalid_type",
  });
  return undefined;
}

function readEventId(body: Record<string, unknown>, issues: FieldError[]): string | undefined {
  const value = body.event_id;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return readNonEmptyString(body, "event_id", issues);
}

function readApiVersion(body: Record<string, unknown>, issues: FieldError[]): string {
  const value = body.api_version;
  if (value === undefined || value === null) return "v2";
  if (typeof value === "string") return value;
  if (typeof value === "number") return `v${value}`;
  issues.push({ field: "api_version", message: 'Expected a string such as "v2"', code: "invalid_type" });
  return "v2";
}

function readTimestamp(
  body: Record<string, unknown>,
  field: string,
  issues: FieldError[],
): string | undefined {
  const value = body[field];
  if (typeof value === "string") {
    const normalized = parseLinqTimestamp(value)?.toISOString();
    if (normalized !== undefined) return normalized;
    issues.push({
      field,
      message: "Expected an ISO 8601 timestamp with a time zone",
      code: "invalid_timestamp",
    });
    return undefined;
  }
  issues.push({
    field,
    message: value === undefined ? "Required" : "Expected a timestamp string",
    code: value === undefined ? "missing" : "invalid_type",
  });
  return undefined;
}

function readData(value: unknown, field: string, issues: FieldError[]): Record<string, unknown> | undefined {
  if (isPlainObject(value)) return value;
  issues.push({
    field,
    message: value === undefined ? "Required" : `Expected an object, received ${describeJsonType(value)}`,
    code: value === undefined ? "missing" : "invalid_type",
  });
  return undefined;
}

const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

/** Turns a raw body into parsed JSON; already-parsed values pass through. */
function decodeBody(input: unknown): unknown {
  let text: string;
  if (typeof input === "string") {
    text = input;
  } else if (input instanceof Uint8Array) {
    try {
      text = utf8Decoder.decode(input);
    } catch (error) {
      throw payloadError(
        "The webhook body is not valid UTF-8",
        [{ message: "Invalid UTF-8", code: "invalid_encoding" }],
        error,
      );
    }
  } else {
    return input;
  }
  try {
    return JSON.parse(text.startsWith("\uFEFF") ? text.slice(1) : text);
  } catch (error) {
    throw payloadError(
      "The webhook body is not valid JSON",
      [{ message: "Invalid JSON", code: "invalid_json" }],
      error,
    );
  }
}

function validateMaxEventAge(value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new ConfigurationError("maxEventAgeSeconds must be a positive number of seconds");
  }
  return value;
}

function payloadError(message: string, issues: FieldError[], cause?: unknown): WebhookPayloadError {
  const details = issues
    .slice(0, 5)
    .map((issue) => (issue.field === undefined ? issue.message : `${issue.field}: ${issue.message}`))
    .join("; ");
  return new WebhookPayloadError(details === "" ? message : `${message} (${details})`, {
    issues,
    ...(cause === undefined ? {} : { cause }),
  });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describeJsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value;
}
