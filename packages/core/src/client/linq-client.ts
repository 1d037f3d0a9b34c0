/**
 * The Linq Partner API v2 client: all 29 operations, typed from the OpenAPI
 * document, over an undici dispatcher, with per-attempt timeouts, safe retries
 * (idempotency keys on every send), client-side rate limiting and errors from
 * the shared hierarchy.
 */
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { Agent, type Dispatcher } from "undici";
import {
  AbortError,
  ConfigurationError,
  type LinqConnectError,
  NetworkError,
  TimeoutError,
  ValidationError,
} from "../errors.ts";
import { type LinqOperationName, linqOperations } from "../generated/operations.generated.ts";
import { linqErrorFromResponse, redactSecrets } from "./error-parsing.ts";
import { DEFAULT_MAX_UPLOAD_BYTES, type EncodedBody, encodeSendMessageForm } from "./multipart.ts";
import {
  expectRecord,
  isRecord,
  normalizeChat,
  normalizeChatMessage,
  normalizeContact,
  normalizeCreateChat,
  normalizeFindChat,
  normalizeFindContact,
  normalizePage,
  normalizePhoneNumber,
  normalizeReaction,
  normalizeWebhookSubscription,
  unexpectedResponse,
  unwrapList,
  unwrapResource,
} from "./normalize.ts";
import {
  type AttemptFailure,
  type RetryOptions,
  type RetryPolicy,
  resolveRetryPolicy,
  retryDelay,
} from "./retry-policy.ts";
import { abortableSleep, abortErrorFor, defaultSleep, type SleepFunction } from "./sleep.ts";
import { TokenBucket } from "./token-bucket.ts";
import type {
  Chat,
  ChatMessage,
  Contact,
  ContactInput,
  CreateChatInput,
  CreateChatResult,
  EditMessageInput,
  FindChatQuery,
  FindContactQuery,
  IdempotentRequestOptions,
  IMessageAvailability,
  LinqId,
  ListChatMessagesQuery,
  ListChatsQuery,
  ListContactsQuery,
  Page,
  PhoneNumber,
  Reaction,
  ReactToMessageInput,
  RequestCompleteInfo,
  RequestOptions,
  SendMessageInput,
  UpdatePhoneNumberInput,
  WebhookSubscription,
  WebhookSubscriptionParameters,
} from "./types.ts";

/** Options of {@link LinqClient}. */
export interface LinqClientOptions {
  /** The integration token, sent as X-LINQ-INTEGRATION-TOKEN. Never logged, never in error messages. */
  token: string;
  /** Default "https://api.linqapp.com". A path prefix (a proxy) and a trailing slash are fine. */
  baseUrl?: string | undefined;
  /** The undici transport. Default: a keep-alive Agent owned (and closed) by the client; an injected one is never closed. */
  dispatcher?: Dispatcher | undefined;
  /** Per-attempt timeout covering the response headers and body. Default 30 000 ms. */
  timeoutMs?: number | undefined;
  /** Retry policy (see retry-policy.ts); `false` disables retries. */
  retry?: RetryOptions | false | undefined;
  /** Client-side token bucket applied to every attempt. Default { requestsPerSecond: 10, burst: 20 }. */
  rateLimit?: { requestsPerSecond: number; burst?: number | undefined } | false | undefined;
  /** Minimum spacing of iMessage availability checks (the documented 1 per 10 s); calls wait. 0 disables. Default 10 000. */
  iMessageAvailabilityIntervalMs?: number | undefined;
  /** Generates idempotency keys for sendMessage and createChat. Default crypto.randomUUID(). */
  generateIdempotencyKey?: (() => string) | undefined;
  /** Cap on the total size of the files of one message. Default 100 MB. */
  maxUploadBytes?: number | undefined;
  /** Default "linq-connect/<version> node/<version>". */
  userAgent?: string | undefined;
  /** Called after every attempt (metrics). Exceptions it throws are ignored. */
  onRequestComplete?: ((info: RequestCompleteInfo) => void) | undefined;
  /** Random source in [0, 1) for back-off jitter (tests). */
  random?: (() => number) | undefined;
  /** Sleep used for back-off and rate-limit waits (tests). */
  sleep?: SleepFunction | undefined;
  /** Clock in milliseconds for durations, Retry-After dates and rate limiting (tests). */
  now?: (() => number) | undefined;
}

const DEFAULT_BASE_URL = "https://api.linqapp.com";
const API_PATH_PREFIX = "/api/partner/v2";
const IDEMPOTENCY_KEY_PATTERN = /^[a-zA-Z0-9_-]+$/;
const ID_PATTERN = /^[A-Za-z0-9_-]+$/;
const MAX_PER_PAGE = 100;

/** POSTs that are safe to repeat: the edit, the availability check, and the sends (idempotency key). */
const REPEATABLE_POSTS: ReadonlySet<LinqOperationName> = new Set([
  "editMessage",
  "checkIMessageAvailability",
  "sendMessage",
  "createChat",
]);

/** undici / Node error codes meaning the connection failed before the request could be sent. */
const NEVER_SENT_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "UND_ERR_CONNECT_TIMEOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/** Whether an operation may be repeated without risking a second effect. */
export function isRepeatableOperation(operation: LinqOperationName): boolean {
  return linqOperations[operation].method !== "POST" || REPEATABLE_POSTS.has(operation);
}

function packageVersion(): string {
  try {
    const require = createRequire(import.meta.url);
    const manifest = require("../../package.json") as { version?: unknown };
    return typeof manifest.version === "string" ? manifest.version : "0.0.0";
  } catch {
    return "0.0.0";
  }
}

const DEFAULT_USER_AGENT = `linq-connect/${packageVersion()} node/${process.version.replace(/^v/, "")}`;

interface RequestPlan {
  operation: LinqOperationName;
  pathParameters?: Record<string, LinqId>;
  query?: Array<[string, string | number | undefined]>;
  body?: EncodedBody;
}

type AttemptResult = { ok: true; status: number; body: unknown } | { ok: false; failure: AttemptFailure };

function invalidInput(operation: string, field: string, message: string): ValidationError {
  return new ValidationError(`Linq ${operation}: ${field} ${message}; nothing was sent`, {
    source: "internal",
    fieldErrors: [{ field, message }],
  });
}

function jsonBody(value: unknown): EncodedBody {
  return { bytes: Buffer.from(JSON.stringify(value), "utf8"), contentType: "application/json" };
}

function errorCodeOf(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function errorMessageOf(error: unknown): string {
  if (error instanceof Error && error.message !== "") return error.message;
  return String(error);
}

function encodeQueryKey(key: string): string {
  return encodeURIComponent(key).replace(/%5B/gi, "[").replace(/%5D/gi, "]");
}

/**
 * A typed client for the Linq Partner API v2. Method names are the operation
 * names of `linqOperations`; every method takes a trailing `RequestOptions`.
 *
 * @example
 * const linq = new LinqClient({ token: process.env.LINQ_TOKEN! });
 * const { chat } = await linq.createChat({ sendFrom: "+15550001111", phoneNumbers: ["+15551234567"], message: { text: "Hi" } });
 * await linq.sendMessage(chat.id!, { text: "Hello again" });
 * await linq.close();
 */
export class LinqClient {
  readonly #token: string;
  readonly #origin: string;
  readonly #pathPrefix: string;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #timeoutMs: number;
  readonly #retryPolicy: RetryPolicy;
  readonly #rateLimiter: TokenBucket | undefined;
  readonly #iMessageLimiter: TokenBucket | undefined;
  readonly #generateIdempotencyKey: () => string;
  readonly #maxUploadBytes: number;
  readonly #userAgent: string;
  readonly #onRequestComplete: ((info: RequestCompleteInfo) => void) | undefined;
  readonly #random: () => number;
  readonly #sleep: SleepFunction;
  readonly #now: () => number;
  #closed = false;

  constructor(options: LinqClientOptions) {
    if (typeof options.token !== "string" || options.token.trim() === "") {
      throw new ConfigurationError("LinqClient needs a non-empty token");
    }
    this.#token = options.token;

    let baseUrl: URL;
    try {
      baseUrl = new URL(options.baseUrl ?? DEFAULT_BASE_URL);
    } catch (error) {
      throw new ConfigurationError(`LinqClient baseUrl is not a valid URL: ${options.baseUrl}`, {
        cause: error,
      });
    }
    if (baseUrl.protocol !== "https:" && baseUrl.protocol !== "http:") {
      throw new ConfigurationError(`LinqClient baseUrl must be http(s), got ${baseUrl.protocol}`);
    }
    this.#origin = baseUrl.origin;
    let prefix = baseUrl.pathname.replace(/\/+$/, "");
    if (prefix.endsWith(API_PATH_PREFIX)) prefix = prefix.slice(0, -API_PATH_PREFIX.length);
    this.#pathPrefix = prefix;

    this.#timeoutMs = options.timeoutMs ?? 30_000;
    if (!Number.isFinite(this.#timeoutMs) || this.#timeoutMs <= 0) {
      throw new ConfigurationError(
        `LinqClient timeoutMs must be a positive number, got ${options.timeoutMs}`,
      );
    }
    this.#retryPolicy = resolveRetryPolicy(options.retry);
    this.#random = options.random ?? Math.random;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#now = options.now ?? Date.now;

    const rateLimit =
      options.rateLimit === undefined ? { requestsPerSecond: 10, burst: 20 } : options.rateLimit;
    this.#rateLimiter =
      rateLimit === false
        ? undefined
        : new TokenBucket({
            ratePerSecond: rateLimit.requestsPerSecond,
            burst: rateLimit.burst ?? Math.max(1, rateLimit.requestsPerSecond),
            now: this.#now,
            sleep: this.#sleep,
          });

    const interval = options.iMessageAvailabilityIntervalMs ?? 10_000;
    if (!Number.isFinite(interval) || interval < 0) {
      throw new ConfigurationError(`LinqClient iMessageAvailabilityIntervalMs must be >= 0, got ${interval}`);
    }
    this.#iMessageLimiter =
      interval === 0
        ? undefined
        : new TokenBucket({ ratePerSecond: 1000 / interval, burst: 1, now: this.#now, sleep: this.#sleep });

    this.#generateIdempotencyKey = options.generateIdempotencyKey ?? randomUUID;
    this.#maxUploadBytes = options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
    if (!Number.isFinite(this.#maxUploadBytes) || this.#maxUploadBytes < 0) {
      throw new ConfigurationError(`LinqClient maxUploadBytes must be >= 0, got ${options.maxUploadBytes}`);
    }
    this.#userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
    this.#onRequestComplete = options.onRequestComplete;

    if (options.dispatcher === undefined) {
      this.#dispatcher = new Agent({
        keepAliveTimeout: 10_000,
        keepAliveMaxTimeout: 60_000,
        connect: { timeout: 10_000 },
      });
      this.#ownsDispatcher = true;
    } else {
      this.#dispatcher = options.dispatcher;
      this.#ownsDispatcher = false;
    }
  }

  /** Closes the dispatcher the client created (an injected one is left open). Later calls fail. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---------------------------------------------------------------- chats

  /** Lists the chats of one of your Linq numbers, one page at a time. */
  async listChats(query: ListChatsQuery, options?: RequestOptions): Promise<Page<Chat>> {
    const operation = "listChats";
    this.#requireText(operation, "phoneNumber", query.phoneNumber);
    const body = await this.#request(
      {
        operation,
        query: [
          ["phone_number", query.phoneNumber],
          ["page", this.#page(operation, query.page)],
          ["per_page", this.#perPage(operation, query.perPage)],
        ],
      },
      options,
    );
    return normalizePage(operation, body, ["data", "chats"], normalizeChat, query);
  }

  /** Yields every chat of a Linq number, following pages until the last. */
  async *iterateChats(query: Omit<ListChatsQuery, "page">, options?: RequestOptions): AsyncGenerator<Chat> {
    yield* this.#iterate((page) => this.listChats({ ...query, page }, options));
  }

  /**
   * Finds or creates the chat with these participants and sends the first message
   * (with an idempotency key, generated when not given, reused on every retry).
   * Accepts both documented response shapes.
   */
  async createChat(input: CreateChatInput, options?: IdempotentRequestOptions): Promise<CreateChatResult> {
    const operation = "createChat";
    this.#requireText(operation, "sendFrom", input.sendFrom);
    if (!Array.isArray(input.phoneNumbers) || input.phoneNumbers.length === 0) {
      throw invalidInput(operation, "phoneNumbers", "needs at least one phone number");
    }
    if (typeof input.message?.text !== "string") throw invalidInput(operation, "message.text", "is required");
    const idempotencyKey = this.#idempotencyKey(operation, input.idempotencyKey, options?.idempotencyKey);
    const message: Record<string, unknown> = { text: input.message.text, idempotency_key: idempotencyKey };
    if (input.message.attachmentUrls !== undefined && input.message.attachmentUrls.length > 0) {
      message.attachment_urls = [...input.message.attachmentUrls];
    }
    const chat: Record<string, unknown> = { phone_numbers: [...input.phoneNumbers] };
    if (input.displayName !== undefined) chat.display_name = input.displayName;
    const body = await this.#request(
      { operation, body: jsonBody({ send_from: input.sendFrom, chat, message }) },
      options,
    );
    return normalizeCreateChat(operation, body);
  }

  /** Gets one chat. */
  async getChat(chatId: LinqId, options?: RequestOptions): Promise<Chat> {
    const operation = "getChat";
    const body = await this.#request({ operation, pathParameters: { chat_id: chatId } }, options);
    return normalizeChat(unwrapResource(operation, body, ["data", "chat"]));
  }

  /** Finds the chat between your Linq number and these participants; null when there is none. */
  async findChat(query: FindChatQuery, options?: RequestOptions): Promise<Chat | null> {
    const operation = "findChat";
    this.#requireText(operation, "phoneNumber", query.phoneNumber);
    if (!Array.isArray(query.phoneNumbers) || query.phoneNumbers.length === 0) {
      throw invalidInput(operation, "phoneNumbers", "needs at least one phone number");
    }
    const body = await this.#request(
      {
        operation,
        query: [
          ["phone_number", query.phoneNumber],
          ...query.phoneNumbers.map((phoneNumber): [string, string] => ["phone_numbers[]", phoneNumber]),
        ],
      },
      options,
    );
    return normalizeFindChat(operation, body);
  }

  /** Marks every message of a chat as read. */
  async markChatAsRead(chatId: LinqId, options?: RequestOptions): Promise<void> {
    await this.#request({ operation: "markChatAsRead", pathParameters: { chat_id: chatId } }, options);
  }

  /** Shows a typing indicator in a chat (it times out after 60 s or on the next message). */
  async startTypingIndicator(chatId: LinqId, options?: RequestOptions): Promise<void> {
    await this.#request({ operation: "startTypingIndicator", pathParameters: { chat_id: chatId } }, options);
  }

  /** Removes the typing indicator. */
  async stopTypingIndicator(chatId: LinqId, options?: RequestOptions): Promise<void> {
    await this.#request({ operation: "stopTypingIndicator", pathParameters: { chat_id: chatId } }, options);
  }

  /** Shares your Linq contact card with the chat's participants. */
  async shareContactCard(chatId: LinqId, options?: RequestOptions): Promise<void> {
    await this.#request({ operation: "shareContactCard", pathParameters: { chat_id: chatId } }, options);
  }

  // ---------------------------------------------------------------- messages

  /** Lists the messages of a chat, one page at a time. */
  async listChatMessages(
    chatId: LinqId,
    query: ListChatMessagesQuery = {},
    options?: RequestOptions,
  ): Promise<Page<ChatMessage>> {
    const operation = "listChatMessages";
    if (query.sort !== undefined && query.sort !== "asc" && query.sort !== "desc") {
      throw invalidInput(operation, "sort", 'must be "asc" or "desc"');
    }
    const body = await this.#request(
      {
        operation,
        pathParameters: { chat_id: chatId },
        query: [
          ["page", this.#page(operation, query.page)],
          ["per_page", this.#perPage(operation, query.perPage)],
          ["before", query.before],
          ["after", query.after],
          ["sort", query.sort],
        ],
      },
      options,
    );
    return normalizePage(operation, body, ["data", "chat_messages"], normalizeChatMessage, query);
  }

  /** Yields every message of a chat (filtered and sorted as asked), following pages until the last. */
  async *iterateChatMessages(
    chatId: LinqId,
    query: Omit<ListChatMessagesQuery, "page"> = {},
    options?: RequestOptions,
  ): AsyncGenerator<ChatMessage> {
    yield* this.#iterate((page) => this.listChatMessages(chatId, { ...query, page }, options));
  }

  /**
   * Sends a message (multipart/form-data) with optional files and URLs. An
   * idempotency key is generated when not given and reused on every retry, so
   * a retried send never texts twice. Streams are read once (at most
   * `maxUploadBytes` in total).
   */
  async sendMessage(
    chatId: LinqId,
    input: SendMessageInput,
    options?: IdempotentRequestOptions,
  ): Promise<ChatMessage> {
    const operation = "sendMessage";
    if (typeof input.text !== "string") throw invalidInput(operation, "text", "is required");
    const idempotencyKey = this.#idempotencyKey(operation, input.idempotencyKey, options?.idempotencyKey);
    this.#assertOpen();
    if (options?.signal?.aborted) throw abortErrorFor(`Linq ${operation}`, options.signal, "linq");
    const encoded = await encodeSendMessageForm(
      {
        text: input.text,
        idempotencyKey,
        attachments: input.attachments,
        attachmentUrls: input.attachmentUrls,
      },
      { operation, maxUploadBytes: this.#maxUploadBytes, signal: options?.signal },
    );
    const body = await this.#request(
      { operation, pathParameters: { chat_id: chatId }, body: encoded },
      options,
    );
    return normalizeChatMessage(unwrapResource(operation, body, ["data", "chat_message", "message"]));
  }

  /** Gets one message of a chat. */
  async getChatMessage(chatId: LinqId, messageId: LinqId, options?: RequestOptions): Promise<ChatMessage> {
    const operation = "getChatMessage";
    const body = await this.#request(
      { operation, pathParameters: { chat_id: chatId, id: messageId } },
      options,
    );
    return normalizeChatMessage(unwrapResource(operation, body, ["data", "chat_message"]));
  }

  /** Deletes a message. */
  async deleteMessage(chatId: LinqId, messageId: LinqId, options?: RequestOptions): Promise<void> {
    await this.#request(
      { operation: "deleteMessage", pathParameters: { chat_id: chatId, id: messageId } },
      options,
    );
  }

  /** Edits the text of a message; returns the edited message (at least id and text). */
  async editMessage(
    chatId: LinqId,
    messageId: LinqId,
    input: EditMessageInput,
    options?: RequestOptions,
  ): Promise<ChatMessage> {
    const operation = "editMessage";
    if (typeof input.text !== "string") throw invalidInput(operation, "text", "is required");
    const body = await this.#request(
      { operation, pathParameters: { chat_id: chatId, id: messageId }, body: jsonBody({ text: input.text }) },
      options,
    );
    return normalizeChatMessage(unwrapResource(operation, body, ["data", "chat_message"]));
  }

  /** Adds or removes a reaction; returns the reaction when the API returns one. */
  async reactToMessage(
    chatMessageId: LinqId,
    input: ReactToMessageInput,
    options?: RequestOptions,
  ): Promise<Reaction | undefined> {
    const operation = "reactToMessage";
    if (input.operation !== "add" && input.operation !== "remove") {
      throw invalidInput(operation, "operation", 'must be "add" or "remove"');
    }
    const body = await this.#request(
      {
        operation,
        pathParameters: { chat_message_id: chatMessageId },
        body: jsonBody({ type: input.type, operation: input.operation }),
      },
      options,
    );
    if (body === undefined) return undefined;
    const record = expectRecord(operation, body);
    if (isRecord(record.data)) return normalizeReaction(record.data);
    if (isRecord(record.reaction)) return normalizeReaction(record.reaction);
    if ("id" in record) return normalizeReaction(record);
    return undefined;
  }

  /** Gets one reaction. */
  async getChatMessageReaction(reactionId: LinqId, options?: RequestOptions): Promise<Reaction> {
    const operation = "getChatMessageReaction";
    const body = await this.#request({ operation, pathParameters: { reaction_id: reactionId } }, options);
    return normalizeReaction(unwrapResource(operation, body, ["data", "reaction"]));
  }

  // ---------------------------------------------------------------- contacts

  /** Lists the organisation's contacts, one page at a time. */
  async listContacts(query: ListContactsQuery = {}, options?: RequestOptions): Promise<Page<Contact>> {
    const operation = "listContacts";
    const body = await this.#request(
      {
        operation,
        query: [
          ["page", this.#page(operation, query.page)],
          ["per_page", this.#perPage(operation, query.perPage)],
        ],
      },
      options,
    );
    return normalizePage(operation, body, ["contacts", "data"], normalizeContact, query);
  }

  /** Yields every contact, following pages until the last. */
  async *iterateContacts(
    query: Omit<ListContactsQuery, "page"> = {},
    options?: RequestOptions,
  ): AsyncGenerator<Contact> {
    yield* this.#iterate((page) => this.listContacts({ ...query, page }, options));
  }

  /** Creates a contact (not retried on server errors: a create is not idempotent). */
  async createContact(input: ContactInput, options?: RequestOptions): Promise<Contact> {
    const operation = "createContact";
    const body = await this.#request(
      { operation, body: jsonBody(this.#contactBody(operation, input)) },
      options,
    );
    return normalizeContact(unwrapResource(operation, body, ["data", "contact"]));
  }

  /** Gets one contact. */
  async getContact(contactId: LinqId, options?: RequestOptions): Promise<Contact> {
    const operation = "getContact";
    const body = await this.#request({ operation, pathParameters: { id: contactId } }, options);
    return normalizeContact(unwrapResource(operation, body, ["data", "contact"]));
  }

  /** Updates a contact (PUT; only the given fields change). */
  async updateContact(contactId: LinqId, input: ContactInput, options?: RequestOptions): Promise<Contact> {
    const operation = "updateContact";
    const body = await this.#request(
      { operation, pathParameters: { id: contactId }, body: jsonBody(this.#contactBody(operation, input)) },
      options,
    );
    return normalizeContact(unwrapResource(operation, body, ["data", "contact"]));
  }

  /** Updates a contact (PATCH; functionally identical to updateContact). */
  async partiallyUpdateContact(
    contactId: LinqId,
    input: ContactInput,
    options?: RequestOptions,
  ): Promise<Contact> {
    const operation = "partiallyUpdateContact";
    const body = await this.#request(
      { operation, pathParameters: { id: contactId }, body: jsonBody(this.#contactBody(operation, input)) },
      options,
    );
    return normalizeContact(unwrapResource(operation, body, ["data", "contact"]));
  }

  /** Deletes a contact. */
  async deleteContact(contactId: LinqId, options?: RequestOptions): Promise<void> {
    await this.#request({ operation: "deleteContact", pathParameters: { id: contactId } }, options);
  }

  /** Finds a contact by email or phone number (OR logic); null when there is none. */
  async findContact(query: FindContactQuery, options?: RequestOptions): Promise<Contact | null> {
    const operation = "findContact";
    const hasEmail = typeof query.email === "string" && query.email.trim() !== "";
    const hasPhone = typeof query.phoneNumber === "string" && query.phoneNumber.trim() !== "";
    if (!hasEmail && !hasPhone)
      throw invalidInput(operation, "email/phoneNumber", "needs at least one of the two");
    const body = await this.#request(
      {
        operation,
        query: [
          ["email", hasEmail ? query.email : undefined],
          ["phone_number", hasPhone ? query.phoneNumber : undefined],
        ],
      },
      options,
    );
    return normalizeFindContact(operation, body);
  }

  // ---------------------------------------------------------------- phone numbers

  /** Lists the organisation's Linq phone numbers. */
  async listPhoneNumbers(options?: RequestOptions): Promise<PhoneNumber[]> {
    const operation = "listPhoneNumbers";
    const body = await this.#request({ operation }, options);
    return unwrapList(operation, body, ["phone_numbers", "data"]).map(normalizePhoneNumber);
  }

  /** Sets (or, with "" or null, clears) the forwarding number of a Linq number. */
  async updatePhoneNumber(
    phoneNumberId: LinqId,
    input: UpdatePhoneNumberInput,
    options?: RequestOptions,
  ): Promise<PhoneNumber> {
    const operation = "updatePhoneNumber";
    const body = await this.#request(
      {
        operation,
        pathParameters: { id: phoneNumberId },
        body: jsonBody({ forwarding_number: input.forwarding_number ?? null }),
      },
      options,
    );
    return normalizePhoneNumber(unwrapResource(operation, body, ["data", "phone_number"]));
  }

  // ---------------------------------------------------------------- webhook subscriptions

  /** Lists the webhook subscriptions. */
  async listWebhookSubscriptions(options?: RequestOptions): Promise<WebhookSubscription[]> {
    const operation = "listWebhookSubscriptions";
    const body = await this.#request({ operation }, options);
    return unwrapList(operation, body, ["webhook_subscriptions", "data"]).map(normalizeWebhookSubscription);
  }

  /**
   * Creates a webhook subscription (`version` defaults to 2). Creating the same
   * URL and events twice doubles deliveries: list first to stay idempotent.
   */
  async createWebhookSubscription(
    input: WebhookSubscriptionParameters,
    options?: RequestOptions,
  ): Promise<WebhookSubscription> {
    const operation = "createWebhookSubscription";
    const body = await this.#request(
      { operation, body: jsonBody({ webhook_subscription: this.#subscriptionBody(operation, input) }) },
      options,
    );
    return normalizeWebhookSubscription(unwrapResource(operation, body, ["webhook_subscription", "data"]));
  }

  /** Replaces a webhook subscription's settings (`version` defaults to 2). */
  async updateWebhookSubscription(
    webhookSubscriptionId: LinqId,
    input: WebhookSubscriptionParameters,
    options?: RequestOptions,
  ): Promise<WebhookSubscription> {
    const operation = "updateWebhookSubscription";
    const body = await this.#request(
      {
        operation,
        pathParameters: { webhook_subscription_id: webhookSubscriptionId },
        body: jsonBody({ webhook_subscription: this.#subscriptionBody(operation, input) }),
      },
      options,
    );
    return normalizeWebhookSubscription(unwrapResource(operation, body, ["webhook_subscription", "data"]));
  }

  /** Deletes a webhook subscription. */
  async deleteWebhookSubscription(webhookSubscriptionId: LinqId, options?: RequestOptions): Promise<void> {
    await this.#request(
      {
        operation: "deleteWebhookSubscription",
        pathParameters: { webhook_subscription_id: webhookSubscriptionId },
      },
      options,
    );
  }

  // ---------------------------------------------------------------- utilities

  /**
   * Checks whether a number is registered with iMessage. Calls are spaced by
   * `iMessageAvailabilityIntervalMs` (the documented 1 per 10 s): a call waits
   * for its turn (abortable) instead of being refused with 429.
   */
  async checkIMessageAvailability(
    phoneNumber: string,
    options?: RequestOptions,
  ): Promise<IMessageAvailability> {
    const operation = "checkIMessageAvailability";
    this.#requireText(operation, "phoneNumber", phoneNumber);
    const body = await this.#request({ operation, body: jsonBody({ phone_number: phoneNumber }) }, options);
    const record = expectRecord(operation, body);
    const result = isRecord(record.data) ? record.data : record;
    if (typeof result.available !== "boolean")
      throw unexpectedResponse(operation, "missing boolean available", body);
    return {
      ...result,
      available: result.available,
      phone_number: typeof result.phone_number === "string" ? result.phone_number : phoneNumber,
    };
  }

  // ---------------------------------------------------------------- internals

  async *#iterate<T>(fetchPage: (page: number) => Promise<Page<T>>): AsyncGenerator<T> {
    for (let page = 1; ; page += 1) {
      const result = await fetchPage(page);
      yield* result.items;
      if (result.items.length === 0 || result.pagination.page >= result.pagination.totalPages) return;
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new ConfigurationError("This LinqClient is closed");
  }

  #requireText(operation: string, field: string, value: unknown): void {
    if (typeof value !== "string" || value.trim() === "") throw invalidInput(operation, field, "is required");
  }

  #page(operation: string, page: number | undefined): number | undefined {
    if (page !== undefined && (!Number.isInteger(page) || page < 1)) {
      throw invalidInput(operation, "page", "must be an integer >= 1");
    }
    return page;
  }

  #perPage(operation: string, perPage: number | undefined): number | undefined {
    if (perPage !== undefined && (!Number.isInteger(perPage) || perPage < 1 || perPage > MAX_PER_PAGE)) {
      throw invalidInput(operation, "perPage", `must be an integer between 1 and ${MAX_PER_PAGE}`);
    }
    return perPage;
  }

  #contactBody(operation: string, input: ContactInput): ContactInput {
    if (!isRecord(input) || !isRecord(input.contact)) throw invalidInput(operation, "contact", "is required");
    return input.user_email === undefined
      ? { contact: { ...input.contact } }
      : { contact: { ...input.contact }, user_email: input.user_email };
  }

  #subscriptionBody(operation: string, input: WebhookSubscriptionParameters): Record<string, unknown> {
    this.#requireText(operation, "webhook_url", input.webhook_url);
    if (!Array.isArray(input.events) || input.events.length === 0) {
      throw invalidInput(operation, "events", "needs at least one event type");
    }
    return { ...input, events: [...input.events], version: input.version ?? 2 };
  }

  #idempotencyKey(operation: string, fromInput: string | undefined, fromOptions: string | undefined): string {
    if (fromInput !== undefined && fromOptions !== undefined && fromInput !== fromOptions) {
      throw invalidInput(operation, "idempotencyKey", "was given twice with different values");
    }
    const key = fromInput ?? fromOptions ?? this.#generateIdempotencyKey();
    if (typeof key !== "string" || !IDEMPOTENCY_KEY_PATTERN.test(key)) {
      throw invalidInput(operation, "idempotencyKey", "must match ^[a-zA-Z0-9_-]+$");
    }
    return key;
  }

  #buildPath(plan: RequestPlan): string {
    const template = linqOperations[plan.operation].path;
    const path = template.replace(/\{(\w+)\}/g, (_match, name: string) => {
      const value = plan.pathParameters?.[name];
      if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return String(value);
      if (typeof value === "string" && ID_PATTERN.test(value)) return value;
      throw invalidInput(
        plan.operation,
        name,
        "must be a non-negative integer or an id string of [A-Za-z0-9_-]",
      );
    });
    const query = (plan.query ?? [])
      .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
      .map(([key, value]) => `${encodeQueryKey(key)}=${encodeURIComponent(String(value))}`)
      .join("&");
    return `${this.#pathPrefix}${path}${query === "" ? "" : `?${query}`}`;
  }

  #timeoutFor(operation: string, timeoutMs: number | undefined): number {
    if (timeoutMs === undefined) return this.#timeoutMs;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw invalidInput(operation, "timeoutMs", "must be a positive number");
    }
    return timeoutMs;
  }

  /** Runs the request with rate limiting, timeouts and retries; resolves to the parsed JSON body (undefined when empty). */
  async #request(plan: RequestPlan, options: RequestOptions | undefined): Promise<unknown> {
    this.#assertOpen();
    const { operation } = plan;
    const signal = options?.signal;
    const timeoutMs = this.#timeoutFor(operation, options?.timeoutMs);
    const path = this.#buildPath(plan);
    const repeatable = isRepeatableOperation(operation);
    if (signal?.aborted) throw abortErrorFor(`Linq ${operation}`, signal, "linq");

    for (let attempt = 1; ; attempt += 1) {
      await this.#waitForTurn(operation, signal);
      this.#assertOpen();
      const startedAt = this.#now();
      const result = await this.#attempt(plan, path, timeoutMs, signal);
      const durationMs = Math.max(0, this.#now() - startedAt);
      if (result.ok) {
        this.#report({ operation, status: result.status, durationMs, attempt });
        return result.body;
      }
      const { error } = result.failure;
      this.#report({ operation, status: error.status, durationMs, attempt, error });
      if (error instanceof AbortError) throw error;
      const delayMs = retryDelay(this.#retryPolicy, result.failure, attempt, repeatable, this.#random);
      if (delayMs === undefined) throw error;
      await abortableSleep(this.#sleep, delayMs, signal, `Linq ${operation}`, "linq");
    }
  }

  async #waitForTurn(operation: LinqOperationName, signal: AbortSignal | undefined): Promise<void> {
    try {
      if (operation === "checkIMessageAvailability" && this.#iMessageLimiter !== undefined) {
        await this.#iMessageLimiter.take(signal);
      }
      if (this.#rateLimiter !== undefined) await this.#rateLimiter.take(signal);
    } catch (error) {
      if (error instanceof AbortError) throw abortErrorFor(`Linq ${operation}`, signal, "linq");
      throw error;
    }
  }

  async #attempt(
    plan: RequestPlan,
    path: string,
    timeoutMs: number,
    callerSignal: AbortSignal | undefined,
  ): Promise<AttemptResult> {
    const { operation } = plan;
    const { method } = linqOperations[operation];
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error("timeout"));
    }, timeoutMs);
    const onCallerAbort = (): void => controller.abort(callerSignal?.reason);
    callerSignal?.addEventListener("abort", onCallerAbort, { once: true });
    if (callerSignal?.aborted) onCallerAbort();

    const headers: Record<string, string> = {
      "x-linq-integration-token": this.#token,
      accept: "application/json",
      "user-agent": this.#userAgent,
    };
    if (plan.body !== undefined) headers["content-type"] = plan.body.contentType;

    let status: number | undefined;
    try {
      const response = await this.#dispatcher.request({
        origin: this.#origin,
        path,
        method,
        headers,
        body: plan.body?.bytes ?? null,
        signal: controller.signal,
      });
      status = response.statusCode;
      const text = await response.body.text();
      if (status < 200 || status >= 300) {
        const error = linqErrorFromResponse({
          status,
          headers: response.headers,
          body: text,
          operation,
          now: this.#now(),
          redact: [this.#token],
        });
        return { ok: false, failure: { error, neverSent: false } };
      }
      if (text.trim() === "") return { ok: true, status, body: undefined };
      try {
        return { ok: true, status, body: JSON.parse(text) };
      } catch (parseError) {
        const error = unexpectedResponse(
          operation,
          `HTTP ${status} with a body that is not JSON`,
          undefined,
          {
            status,
            cause: parseError,
          },
        );
        return { ok: false, failure: { error, neverSent: false } };
      }
    } catch (error) {
      return {
        ok: false,
        failure: this.#transportFailure(operation, error, { timedOut, timeoutMs, callerSignal }),
      };
    } finally {
      clearTimeout(timer);
      callerSignal?.removeEventListener("abort", onCallerAbort);
    }
  }

  #transportFailure(
    operation: LinqOperationName,
    error: unknown,
    context: { timedOut: boolean; timeoutMs: number; callerSignal: AbortSignal | undefined },
  ): AttemptFailure {
    if (context.callerSignal?.aborted) {
      return { error: abortErrorFor(`Linq ${operation}`, context.callerSignal, "linq"), neverSent: false };
    }
    const code = errorCodeOf(error);
    if (context.timedOut || code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") {
      const message = context.timedOut
        ? `Linq ${operation} got no complete response within ${context.timeoutMs} ms`
        : `Linq ${operation} timed out in the transport (${code})`;
      return { error: new TimeoutError(message, { source: "linq", cause: error }), neverSent: false };
    }
    if (code === "UND_ERR_CLOSED" || code === "UND_ERR_DESTROYED") {
      return {
        error: new ConfigurationError(`Linq ${operation} could not be sent: the dispatcher is closed`, {
          cause: error,
        }),
        neverSent: true,
      };
    }
    if (code?.startsWith("UND_ERR_INVALID") === true) {
      return {
        error: new ConfigurationError(
          redactSecrets(`Linq ${operation} could not be sent: ${errorMessageOf(error)}`, [this.#token]),
          { cause: error },
        ),
        neverSent: true,
      };
    }
    const detail = redactSecrets(errorMessageOf(error), [this.#token]);
    const message = `Linq ${operation} failed before a response arrived: ${code === undefined ? "" : `${code} `}(${detail})`;
    return {
      error: new NetworkError(message, { source: "linq", cause: error }),
      neverSent: code !== undefined && NEVER_SENT_CODES.has(code),
    };
  }

  #report(info: {
    operation: LinqOperationName;
    status: number | undefined;
    durationMs: number;
    attempt: number;
    error?: LinqConnectError;
  }): void {
    if (this.#onRequestComplete === undefined) return;
    const { method, path } = linqOperations[info.operation];
    const complete: RequestCompleteInfo = {
      operation: info.operation,
      method,
      path,
      status: info.status,
      durationMs: info.durationMs,
      attempt: info.attempt,
      ...(info.error === undefined ? {} : { error: info.error }),
    };
    try {
      this.#onRequestComplete(complete);
    } catch {
      // A metrics hook must never break a request.
    }
  }
}
