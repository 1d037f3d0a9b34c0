/**
 * Friendly names for the Linq Partner API v2 types.
 *
 * Resource shapes (what the API returns, and the JSON bodies of contacts, phone
 * numbers and webhook subscriptions) come straight from the generated
 * OpenAPI types and keep the API's snake_case field names. Query parameters and
 * the two message-sending inputs, which the client assembles itself, are camelCase.
 */
import type { LinqConnectError } from "../errors.ts";
import type { components, paths } from "../generated/linq-api.generated.ts";
import type { LinqOperationName } from "../generated/operations.generated.ts";

type Schemas = components["schemas"];

/** A conversation (one-to-one or group) between a Linq number and one or more participants. */
export type Chat = Schemas["Chat"];

/** One participant of a chat. */
export type ChatHandle = Schemas["ChatHandle"];

/** A file attached to a message. */
export type Attachment = Schemas["Attachment"];

/** A tapback reaction on a message. */
export type Reaction = Schemas["Reaction"];

/** The six reaction kinds: love, like, dislike, laugh, emphasize, question. */
export type ReactionType = NonNullable<Reaction["reaction"]>;

/** Whether a reaction request adds or removes the reaction. */
export type ReactionOperation =
  paths["/api/partner/v2/chat_messages/{chat_message_id}/reactions"]["post"]["requestBody"]["content"]["application/json"]["operation"];

/** The transport a chat or handle uses: iMessage, SMS or RCS. */
export type MessagingService = NonNullable<Chat["service"]>;

type CreateChatResponseMessage = NonNullable<
  NonNullable<
    paths["/api/partner/v2/chats"]["post"]["responses"][200]["content"]["application/json"]["data"]
  >["chat_messages"]
>;

/**
 * Delivery status of a message. The reference lists pending, delivered,
 * service_unavailable and paused; the create-chat response adds rate_limit_exceeded.
 */
export type DeliveryStatus =
  | NonNullable<Schemas["ChatMessage"]["delivery_status"]>
  | NonNullable<CreateChatResponseMessage["delivery_status"]>;

/** A message in a chat. */
export type ChatMessage = Omit<Schemas["ChatMessage"], "delivery_status"> & {
  delivery_status?: DeliveryStatus;
};

/** An entry of the organisation's address book. */
export type Contact = Schemas["Contact"];

/**
 * The body of create/update contact calls: `{ contact: {...}, user_email? }`.
 * At least one of first_name, last_name, email or phone_number is required.
 */
export type ContactInput = Schemas["ContactInput"];

/** One of the organisation's Linq phone numbers. */
export type PhoneNumber = Schemas["PhoneNumber"];

/** The body of an update-phone-number call (`forwarding_number: ""` or null clears it). */
export type UpdatePhoneNumberInput =
  paths["/api/partner/v2/phone_numbers/{id}"]["put"]["requestBody"]["content"]["application/json"];

/** A webhook subscription as the API returns it (the secret is never returned). */
export type WebhookSubscription = Schemas["WebhookSubscription"];

/** The fields of a webhook subscription the caller sends. */
export type WebhookSubscriptionInput = Schemas["WebhookSubscriptionInput"];

/** What create/update webhook subscription accept: `version` defaults to 2. */
export type WebhookSubscriptionParameters = Omit<WebhookSubscriptionInput, "version"> & {
  version?: number | undefined;
};

/** The 13 webhook event types. */
export type WebhookEventType = WebhookSubscriptionInput["events"][number];

/** The body of an edit-message call. */
export type EditMessageInput =
  paths["/api/partner/v2/chats/{chat_id}/chat_messages/{id}/edit"]["post"]["requestBody"]["content"]["application/json"];

/** The body of a react-to-message call. */
export type ReactToMessageInput =
  paths["/api/partner/v2/chat_messages/{chat_message_id}/reactions"]["post"]["requestBody"]["content"]["application/json"];

/** The answer of the iMessage availability check. */
export interface IMessageAvailability {
  available: boolean;
  phone_number: string;
}

/** Ids are integers in the REST API and strings in webhooks: both are accepted. */
export type LinqId = number | string;

/** Pagination of a list, normalised from `meta` (chats, messages) or `pagination` (contacts). */
export interface PaginationInfo {
  page: number;
  perPage: number;
  totalPages: number;
  totalCount: number;
}

/** One page of a list. */
export interface Page<T> {
  items: T[];
  pagination: PaginationInfo;
}

/** Options every method accepts as its last argument. */
export interface RequestOptions {
  /** Aborts the call (including rate-limit waits and retry back-off) with an AbortError. */
  signal?: AbortSignal | undefined;
  /** Per-attempt timeout (headers and body), overriding the client's `timeoutMs`. */
  timeoutMs?: number | undefined;
}

/** Options of the calls that send a message (sendMessage, createChat). */
export interface IdempotentRequestOptions extends RequestOptions {
  /** `^[a-zA-Z0-9_-]+$`; generated when absent and reused for every retry of the call. */
  idempotencyKey?: string | undefined;
}

/** Query of listChats / iterateChats. */
export interface ListChatsQuery {
  /** The Linq number whose chats to list (required by the API). */
  phoneNumber: string;
  page?: number | undefined;
  /** Items per page, at most 100. */
  perPage?: number | undefined;
}

/** Query of findChat. */
export interface FindChatQuery {
  /** Your Linq number. */
  phoneNumber: string;
  /** The participant(s) of the chat to find. */
  phoneNumbers: readonly string[];
}

/** Query of listChatMessages / iterateChatMessages. */
export interface ListChatMessagesQuery {
  page?: number | undefined;
  perPage?: number | undefined;
  /** Only messages sent before this ISO 8601 time. */
  before?: string | undefined;
  /** Only messages sent after this ISO 8601 time. */
  after?: string | undefined;
  sort?: "asc" | "desc" | undefined;
}

/** Query of listContacts / iterateContacts. */
export interface ListContactsQuery {
  page?: number | undefined;
  perPage?: number | undefined;
}

/** Query of findContact: at least one of the two (matched with OR logic). */
export interface FindContactQuery {
  email?: string | undefined;
  phoneNumber?: string | undefined;
}

/** The data of an attachment upload: bytes, a Blob or a stream (read once into memory). */
export type AttachmentData = Buffer | Uint8Array | Blob | NodeJS.ReadableStream | ReadableStream<Uint8Array>;

/** A file to upload with a message. */
export interface AttachmentUpload {
  data: AttachmentData;
  filename: string;
  /** MIME type; application/octet-stream when absent (and the Blob has none). */
  contentType?: string | undefined;
}

/** Input of sendMessage. */
export interface SendMessageInput {
  text: string;
  attachments?: readonly AttachmentUpload[] | undefined;
  /** Public URLs the API downloads and attaches. */
  attachmentUrls?: readonly string[] | undefined;
  /** `^[a-zA-Z0-9_-]+$`; generated when absent and reused for every retry. */
  idempotencyKey?: string | undefined;
}

/** Input of createChat (sent as the reference body). */
export interface CreateChatInput {
  /** Your Linq number to send from. */
  sendFrom: string;
  /** The participants (not including your number). */
  phoneNumbers: readonly string[];
  displayName?: string | undefined;
  message: { text: string; attachmentUrls?: readonly string[] | undefined };
  /** `^[a-zA-Z0-9_-]+$`; generated when absent and reused for every retry. */
  idempotencyKey?: string | undefined;
}

/**
 * Result of createChat, from either documented response shape. `message` is
 * undefined when the server returned an existing chat without the initial message.
 */
export interface CreateChatResult {
  chat: Chat;
  message: ChatMessage | undefined;
}

/** What `onRequestComplete` receives after every attempt. */
export interface RequestCompleteInfo {
  operation: LinqOperationName;
  method: string;
  /** The path template, e.g. `/api/partner/v2/chats/{chat_id}` (low cardinality for metrics). */
  path: string;
  /** The HTTP status, undefined when no response arrived. */
  status: number | undefined;
  durationMs: number;
  /** 1 for the first attempt, 2 for the first retry, … */
  attempt: number;
  error?: LinqConnectError | undefined;
}
