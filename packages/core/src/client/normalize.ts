/**
 * Tolerant normalisation of Linq responses: unwraps the documented envelopes,
 * reconciles the shapes where the documents disagree, and coerces ids that
 * arrive as strings ("27799380") to the integers the schema promises. Unknown
 * fields are kept. A response that cannot be understood at all raises
 * UnexpectedResponseError.
 */
import { UnexpectedResponseError } from "../errors.ts";
import type {
  Attachment,
  Chat,
  ChatHandle,
  ChatMessage,
  Contact,
  CreateChatResult,
  Page,
  PaginationInfo,
  PhoneNumber,
  Reaction,
  WebhookSubscription,
} from "./types.ts";

type JsonRecord = Record<string, unknown>;

/** Whether a value is a plain JSON object. */
export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** "42" → 42; numbers and anything else are returned unchanged. */
export function coerceInteger(value: unknown): unknown {
  if (typeof value === "string" && /^-?\d{1,15}$/.test(value.trim())) return Number(value.trim());
  return value;
}

function coerceNumber(value: unknown): unknown {
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value)))
    return Number(value);
  return value;
}

function withIntegers(record: JsonRecord, fields: readonly string[]): JsonRecord {
  const result: JsonRecord = { ...record };
  for (const field of fields) {
    if (field in result) result[field] = coerceInteger(result[field]);
  }
  return result;
}

function mapArray<T>(value: unknown, normalize: (item: JsonRecord) => T): unknown {
  if (!Array.isArray(value)) return value;
  return value.map((item) => (isRecord(item) ? normalize(item) : item));
}

export function normalizeChatHandle(record: JsonRecord): ChatHandle {
  return withIntegers(record, ["id"]) as ChatHandle;
}

export function normalizeChat(record: JsonRecord): Chat {
  const chat = withIntegers(record, ["id", "message_count"]);
  if ("chat_handles" in chat) chat.chat_handles = mapArray(chat.chat_handles, normalizeChatHandle);
  return chat as Chat;
}

export function normalizeAttachment(record: JsonRecord): Attachment {
  const attachment = withIntegers(record, ["file_size"]);
  if (typeof attachment.id === "number") attachment.id = String(attachment.id);
  return attachment as Attachment;
}

export function normalizeReaction(record: JsonRecord): Reaction {
  return withIntegers(record, ["id", "chat_message_id"]) as Reaction;
}

export function normalizeChatMessage(record: JsonRecord): ChatMessage {
  const message = withIntegers(record, ["id", "chat_handle_id", "chat_id"]);
  if ("attachments" in message) message.attachments = mapArray(message.attachments, normalizeAttachment);
  if ("reactions" in message) message.reactions = mapArray(message.reactions, normalizeReaction);
  return message as ChatMessage;
}

export function normalizeContact(record: JsonRecord): Contact {
  const contact = withIntegers(record, ["id"]);
  if (isRecord(contact.contact_owner)) contact.contact_owner = withIntegers(contact.contact_owner, ["id"]);
  return contact as Contact;
}

export function normalizePhoneNumber(record: JsonRecord): PhoneNumber {
  const phoneNumber = withIntegers(record, ["id"]);
  if ("response_rate" in phoneNumber) phoneNumber.response_rate = coerceNumber(phoneNumber.response_rate);
  return phoneNumber as PhoneNumber;
}

export function normalizeWebhookSubscription(record: JsonRecord): WebhookSubscription {
  return withIntegers(record, ["id", "version", "delivery_attempts"]) as WebhookSubscription;
}

/** Raises the error used for every response the client cannot interpret. */
export function unexpectedResponse(
  operation: string,
  problem: string,
  body: unknown,
  options: { status?: number; cause?: unknown } = {},
): UnexpectedResponseError {
  return new UnexpectedResponseError(`Linq ${operation} returned an unexpected response: ${problem}`, {
    source: "linq",
    ...(body === undefined ? {} : { body }),
    ...options,
  });
}

/** The body as an object, or UnexpectedResponseError. */
export function expectRecord(operation: string, body: unknown): JsonRecord {
  if (!isRecord(body)) throw unexpectedResponse(operation, "expected a JSON object", body);
  return body;
}

/**
 * The resource inside the first of `keys` that holds an object, else the body
 * itself when it looks like the resource (has an `id`).
 */
export function unwrapResource(operation: string, body: unknown, keys: readonly string[]): JsonRecord {
  const record = expectRecord(operation, body);
  for (const key of keys) {
    const inner = record[key];
    if (isRecord(inner)) return inner;
  }
  if ("id" in record) return record;
  throw unexpectedResponse(
    operation,
    `expected an object under ${keys.map((key) => `"${key}"`).join(" or ")}`,
    body,
  );
}

/** The array inside the first of `keys` that holds one, or UnexpectedResponseError. */
export function unwrapList(operation: string, body: unknown, keys: readonly string[]): JsonRecord[] {
  if (Array.isArray(body)) return body.filter(isRecord);
  const record = expectRecord(operation, body);
  for (const key of keys) {
    const inner = record[key];
    if (Array.isArray(inner)) return inner.filter(isRecord);
  }
  throw unexpectedResponse(
    operation,
    `expected an array under ${keys.map((key) => `"${key}"`).join(" or ")}`,
    body,
  );
}

function positiveInteger(value: unknown): number | undefined {
  const coerced = coerceInteger(value);
  return typeof coerced === "number" && Number.isInteger(coerced) && coerced >= 0 ? coerced : undefined;
}

/**
 * Normalises a list response, either `{ data, meta: { page, per_page, total_pages, total_count } }`
 * (chats, messages) or `{ contacts, pagination: { current_page, … } }` (contacts). Missing
 * pagination fields are derived from the request and the items (a response without any
 * pagination is treated as the last page).
 */
export function normalizePage<T>(
  operation: string,
  body: unknown,
  itemKeys: readonly string[],
  normalizeItem: (record: JsonRecord) => T,
  requested: { page?: number | undefined; perPage?: number | undefined },
): Page<T> {
  const items = unwrapList(operation, body, itemKeys).map(normalizeItem);
  const record = isRecord(body) ? body : {};
  const meta = isRecord(record.meta) ? record.meta : isRecord(record.pagination) ? record.pagination : {};

  const page = positiveInteger(meta.page) ?? positiveInteger(meta.current_page) ?? requested.page ?? 1;
  const perPage = positiveInteger(meta.per_page) ?? requested.perPage ?? items.length;
  const reportedTotalCount = positiveInteger(meta.total_count);
  const reportedTotalPages = positiveInteger(meta.total_pages);
  const totalPages =
    reportedTotalPages ??
    (reportedTotalCount !== undefined && perPage > 0 ? Math.ceil(reportedTotalCount / perPage) : page);
  const totalCount = reportedTotalCount ?? Math.max(0, (page - 1) * perPage) + items.length;
  const pagination: PaginationInfo = { page, perPage, totalPages, totalCount };
  return { items, pagination };
}

/**
 * Normalises the create-chat response, either the reference shape
 * `data: { id, …, chat_messages: {…} }` or the quick-start shape
 * `data: { chat: {…}, message: {…} }`.
 */
export function normalizeCreateChat(operation: string, body: unknown): CreateChatResult {
  const record = expectRecord(operation, body);
  const data = isRecord(record.data) ? record.data : record;

  if (isRecord(data.chat)) {
    const message = isRecord(data.message) ? normalizeChatMessage(data.message) : firstMessage(data.messages);
    return { chat: normalizeChat(data.chat), message };
  }
  if (!("id" in data)) throw unexpectedResponse(operation, "expected a chat under data", body);
  const { chat_messages: chatMessages, message: singleMessage, ...chatFields } = data;
  const message = isRecord(singleMessage)
    ? normalizeChatMessage(singleMessage)
    : isRecord(chatMessages)
      ? normalizeChatMessage(chatMessages)
      : firstMessage(chatMessages);
  return { chat: normalizeChat(chatFields), message };
}

function firstMessage(value: unknown): ChatMessage | undefined {
  if (!Array.isArray(value)) return undefined;
  const first = value.find(isRecord);
  return first === undefined ? undefined : normalizeChatMessage(first);
}

/**
 * Normalises the find-chat response: `data: { chat: Chat }`, `data: { chat: null, messages: [] }`,
 * or (tolerated) `data: Chat` / `data: null`.
 */
export function normalizeFindChat(operation: string, body: unknown): Chat | null {
  const record = expectRecord(operation, body);
  const data = "data" in record ? record.data : record;
  if (data === null || data === undefined) return null;
  if (!isRecord(data)) throw unexpectedResponse(operation, "expected an object under data", body);
  if ("chat" in data) return isRecord(data.chat) ? normalizeChat(data.chat) : null;
  if ("id" in data) return normalizeChat(data);
  return null;
}

/**
 * Normalises the find-contact response: a bare Contact, `{ contact: null }`,
 * or (tolerated) `{ contact: Contact }` / `{ data: Contact | null }`.
 */
export function normalizeFindContact(operation: string, body: unknown): Contact | null {
  if (body === null || body === undefined) return null;
  const record = expectRecord(operation, body);
  for (const key of ["data", "contact"]) {
    if (key in record) {
      const inner = record[key];
      if (inner === null || inner === undefined) return null;
      if (isRecord(inner)) return normalizeContact(inner);
      throw unexpectedResponse(operation, `expected a contact or null under "${key}"`, body);
    }
  }
  if ("id" in record) return normalizeContact(record);
  return null;
}
