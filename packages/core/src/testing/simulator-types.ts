import type { LinqEventType } from "../webhooks/events.ts";
/**
 * Public types of the Linq simulator (`@linq-connect/core/testing`).
 *
 * The REST shapes below are what the simulator answers on the wire and what
 * `simulator.state` returns: they follow the Linq Partner API v2 reference
 * (`components["schemas"]` of the OpenAPI document) with every field present.
 */

/** A messaging service of a chat, a chat handle or a message. */
export type MessagingService = "iMessage" | "SMS" | "RCS";

/** The six reactions (tapbacks) Linq supports. */
export type ReactionType = "love" | "like" | "dislike" | "laugh" | "emphasize" | "question";

/** The delivery states of a message the REST API reports. */
export type DeliveryStatus = "pending" | "delivered" | "service_unavailable" | "paused";

/** The 13 webhook event types of the Linq Partner API v2. */
export type LinqWebhookEventType = LinqEventType;

/** A user of the simulated organisation (owner of contacts and phone numbers). */
export interface SimulatorOrganizationUser {
  email: string;
  first_name?: string;
  last_name?: string;
}

/** Options of {@link startLinqSimulator}. Every field is optional. */
export interface LinqSimulatorOptions {
  /** The integration token the simulator accepts in `X-LINQ-INTEGRATION-TOKEN`. Default `"linq-simulator-token"`. */
  token?: string;
  /** The organisation's Linq numbers (E.164). The first is the default sender. Default `["+15550001111"]`. */
  phoneNumbers?: string[];
  /** TCP port to listen on. Default 0 (an ephemeral port). */
  port?: number;
  /** Interface to listen on. Default `"127.0.0.1"`. */
  host?: string;
  /**
   * The organisation's users, for `user_email` and `contact_owner`. The first is the
   * admin that owns contacts created without `user_email` and every Linq number.
   * Default: one admin `admin@example.com`.
   */
  organizationUsers?: SimulatorOrganizationUser[];
  /**
   * The service each participant address uses (E.164 number or email → service).
   * Unlisted addresses use iMessage. An address listed as `"SMS"` or `"RCS"` is
   * reported unavailable by the iMessage availability check.
   */
  handles?: Record<string, MessagingService>;
  /** Minimum interval between two iMessage availability checks (per token). Default 10 000 ms (the documented 1 request / 10 s). */
  iMessageAvailabilityIntervalMs?: number;
  /** An optional general per-token limiter (token bucket); off by default. Over the limit → 429 with `Retry-After`. */
  rateLimit?: { requestsPerSecond: number; burst?: number };
  /**
   * Delay before a sent message turns from `pending` to `delivered`.
   * Default 0: messages are `delivered` immediately.
   */
  deliveryDelayMs?: number;
  /** Largest request body accepted, in bytes; larger → 413. Default 100 MB. */
  maxUploadBytes?: number;
  /** Webhook delivery: per-attempt timeout (default 10 000 ms), retries after the first attempt (default 3) and the first retry delay (default 1 000 ms, doubled each retry). */
  webhookDelivery?: { timeoutMs?: number; retries?: number; retryDelayMs?: number };
  /** The clock for every timestamp and for the rate limiters. Default `() => new Date()`. */
  now?: () => Date;
  /** Receives one line per request and per webhook attempt. Silent by default. */
  logger?: (line: string) => void;
}

/** A chat handle (participant) in the REST shape. */
export interface SimulatorChatHandle {
  id: number;
  /** The phone number (E.164) or email of the participant. */
  phone_number: string;
  service: MessagingService;
  joined_at: string;
}

/** A chat in the REST shape (`GET /chats/{id}`). `chat_handles` includes the Linq number's own handle. */
export interface SimulatorChat {
  id: number;
  display_name: string;
  service: MessagingService;
  group: boolean;
  message_count: number;
  chat_handles: SimulatorChatHandle[];
}

/** An attachment in the REST shape. `file_size` is absent for attachments given by URL. */
export interface SimulatorAttachment {
  id: string;
  url: string;
  filename: string;
  mime_type: string;
  file_size?: number;
}

/** A reaction in the REST shape. */
export interface SimulatorReaction {
  id: number;
  chat_message_id: number;
  reaction: ReactionType;
  is_from_me: boolean;
  from_phone: string;
  sent_at: string;
  created_at: string;
  updated_at: string;
}

/** A chat message in the REST shape. */
export interface SimulatorChatMessage {
  id: number;
  text: string;
  sent_at: string;
  delivered_at: string | null;
  delivery_status: DeliveryStatus;
  edited_at: string | null;
  is_read: boolean;
  /** The Linq number for messages we sent, the participant's address for received ones. */
  sent_from: string;
  chat_handle_id: number;
  attachments: SimulatorAttachment[];
  reactions: SimulatorReaction[];
}

/** The owner of a contact. */
export interface SimulatorContactOwner {
  id: number;
  email: string;
  first_name: string | null;
  last_name: string | null;
  name: string;
}

/** A contact in the REST shape. Fields never set are `null` (as Rails renders nil). */
export interface SimulatorContact {
  id: number;
  first_name: string | null;
  last_name: string | null;
  full_name: string | null;
  email: string | null;
  phone_number: string | null;
  company: string | null;
  title: string | null;
  location: string | null;
  image_url: string | null;
  created_at: string;
  updated_at: string;
  contact_owner: SimulatorContactOwner | null;
}

/** A Linq number in the REST shape (`GET /phone_numbers`), with the owning user as in the quick-start guide. */
export interface SimulatorPhoneNumber {
  id: number;
  phone_number: string;
  forwarding_number: string | null;
  response_rate: number;
  user: { id: number; name: string; email: string };
}

/** A webhook subscription in the REST shape. The secret is never returned. */
export interface SimulatorWebhookSubscription {
  id: number;
  webhook_url: string;
  version: number;
  events: string[];
  active: boolean;
  secret_configured: boolean;
  last_delivered_at: string | null;
  delivery_attempts: number;
  created_at: string;
  updated_at: string;
}

/** Who is typing in a chat. */
export interface SimulatorTypingState {
  /** Whether our Linq number shows a typing indicator (started through the API, 60 s timeout, ended by sending). */
  me: boolean;
  /** Participants currently typing (set through `inbound.typing`). */
  participants: string[];
}

/** A completed call (`inbound.call`), in the shape of the `call.completed` event with integer ids and ISO times. */
export interface CallRecord {
  id: number;
  to: string;
  from: string;
  status: "completed";
  direction: "inbound" | "outbound";
  start_time: string;
  end_time: string;
  duration: number;
  call_type: "normal";
  forwarded_from: string | null;
  answered_by: string | null;
  voicemail: boolean;
  has_recording: boolean;
  recording_data: {
    id: number;
    url: string;
    duration: number;
    transcribed: boolean;
    transcript_available: boolean;
    transcription: string | null;
    summary: string | null;
  } | null;
}

/** Read-only inspection of the simulator's state. Every method returns a deep copy. */
export interface SimulatorStateView {
  /** Every chat, by id ascending. */
  chats(): SimulatorChat[];
  chat(id: number): SimulatorChat | undefined;
  /** The messages of a chat in chronological order (empty when the chat does not exist). */
  messages(chatId: number): SimulatorChatMessage[];
  message(id: number): SimulatorChatMessage | undefined;
  /** The current reactions on a message. */
  reactions(messageId: number): SimulatorReaction[];
  reaction(id: number): SimulatorReaction | undefined;
  /** Every contact, by id ascending. */
  contacts(): SimulatorContact[];
  contact(id: number): SimulatorContact | undefined;
  /** Every webhook subscription (without secrets). */
  subscriptions(): SimulatorWebhookSubscription[];
  phoneNumbers(): SimulatorPhoneNumber[];
  /** Who is typing in a chat, or undefined when the chat does not exist. */
  typing(chatId: number): SimulatorTypingState | undefined;
  /** How many times the contact card was shared in a chat. */
  sharedContactCards(chatId: number): number;
  /** Every completed call. */
  calls(): CallRecord[];
}

/** The kinds of faults {@link FaultRule} can inject. */
export type FaultKind =
  | "rate-limit"
  | "server-error"
  | "bad-gateway"
  | "latency"
  | "drop-connection"
  | "drop-after-processing"
  | "timeout";

/**
 * A fault to inject into matching requests, checked before authentication:
 * - `rate-limit`: 429 with `Retry-After: retryAfterSeconds` (default 1, an integer ≥ 0)
 * - `server-error`: 500 in the endpoint's error format
 * - `bad-gateway`: 502 with an HTML body, like a load balancer
 * - `latency`: wait `latencyMs` (default 500) then answer normally
 * - `drop-connection`: destroy the socket before doing anything
 * - `drop-after-processing`: process the request (state changes, webhooks fire) then destroy the socket
 * - `timeout`: never answer; the socket stays open until the client gives up (or the simulator closes)
 */
export interface FaultRule {
  /** Which requests the fault affects; omitted fields match everything. `path` is compared with the path without query. */
  match?: { method?: string; path?: string | RegExp };
  kind: FaultKind;
  /** How many matching requests it affects. Default Infinity. */
  times?: number;
  retryAfterSeconds?: number;
  latencyMs?: number;
}

/** Returned by `faults.inject`. */
export interface FaultHandle {
  /** How many requests the fault has affected so far. */
  readonly hits: number;
  /** Stops the fault. */
  remove(): void;
}

/** One request the simulator received. */
export interface RecordedRequest {
  /** The `x-request-id` the simulator answered with. */
  requestId: string;
  method: string;
  /** The path without query. */
  path: string;
  /** Query parameters; repeated keys become arrays. */
  query: Record<string, string | string[]>;
  /** The status answered (or that would have been answered for `drop-after-processing`); null while pending or when dropped before processing. */
  status: number | null;
  /** The message idempotency key the request carried, if any. */
  idempotencyKey: string | null;
  /** ISO time the request arrived. */
  at: string;
  /** The fault applied to the request, if any. */
  fault: FaultKind | null;
  /** The parsed JSON body, or the multipart/urlencoded fields (files as `{ filename, mime_type, file_size }`); null without a body. */
  body: unknown;
}

/** One webhook delivery attempt. */
export interface WebhookDeliveryRecord {
  subscriptionId: number;
  url: string;
  /** The event id (null for the quick-start envelope, which has none). */
  eventId: string | null;
  eventType: string;
  /** 1 for the first attempt, 2 for the first retry, … */
  attempt: number;
  /** The receiver's HTTP status, or null when the attempt failed without one. */
  status: number | null;
  /** Why the attempt failed without a status (timeout, connection refused, …), else null. */
  error: string | null;
  /** Whether the receiver answered 2xx. */
  ok: boolean;
  /** Whether this delivery is a deliberate duplicate (`configure({ duplicateProbability })`). */
  duplicate: boolean;
  /** The exact body posted. */
  body: string;
  /** The `X-Webhook-Signature` header sent, or null for a subscription without a secret. */
  signature: string | null;
  /** ISO time the attempt started. */
  at: string;
  durationMs: number;
}

/** Webhook fault modes and formats, for `webhooks.configure`. */
export interface WebhookDeliveryConfiguration {
  /** 0..1: the probability of delivering an event twice (same event_id, same body). Default 0. */
  duplicateProbability?: number;
  /** Hold events for `reorderWindowMs` (or until `flush()`) and deliver them in shuffled order. Default false. */
  reorder?: boolean;
  /** How long events are held in reorder mode. Default 50 ms. */
  reorderWindowMs?: number;
  /** The envelope: the API reference's `{api_version, created_at, data, event_id, event_type}` (default) or the quick-start guide's `{event, data, timestamp}`. */
  envelope?: "reference" | "quickstart";
  /** Sign the raw body (default) or the canonical JSON (keys sorted recursively) while sending the body unsorted. */
  signatureForm?: "raw" | "canonical";
  /** The random source for duplicates and shuffling. Default `Math.random`. */
  random?: () => number;
}

/** Input of `inbound.text`. */
export interface InboundTextInput {
  /** The sender (a phone number in any common format, or an email). */
  from: string;
  /** The Linq number receiving it. Default: the first number. */
  to?: string;
  text: string;
  attachments?: { url: string; filename: string; mime_type: string; file_size?: number }[];
  /** The service the sender uses; remembered for that participant in the chat. */
  service?: MessagingService;
}

/** Simulates the other side: customers and the phone network. Each call changes state and queues the webhooks (await `webhooks.flush()` to see them delivered). */
export interface SimulatorInbound {
  /** A customer texts a Linq number: finds or creates the 1:1 chat, stores the message, fires `message.received`. */
  text(input: InboundTextInput): Promise<{ chat: SimulatorChat; message: SimulatorChatMessage }>;
  /** A customer texts a group: finds or creates the chat with `participants` (plus `from`), fires `message.received`. */
  groupText(input: {
    from: string;
    participants: string[];
    to?: string;
    text: string;
  }): Promise<{ chat: SimulatorChat; message: SimulatorChatMessage }>;
  /** A participant reacts to a message; `add` fires `reaction.received`, `remove` only changes state (no event is documented for it). */
  react(input: {
    messageId: number;
    from: string;
    reaction: ReactionType;
    operation?: "add" | "remove";
  }): Promise<SimulatorReaction>;
  /** The recipient reads our messages: the given one and every earlier one (or all when omitted); fires `message.read` per message. */
  read(input: { chatId: number; messageId?: number }): Promise<void>;
  /** A participant starts (`display: true`) or stops typing: `typing_indicator.received` / `typing_indicator.removed`. */
  typing(input: { chatId: number; from: string; display: boolean }): Promise<void>;
  /** A voice call completed: fires `call.completed`. */
  call(input: {
    from: string;
    to?: string;
    direction?: "inbound" | "outbound";
    durationSeconds?: number;
    answeredBy?: string | null;
    voicemail?: boolean;
    recording?: { transcription?: string; summary?: string } | null;
  }): Promise<CallRecord>;
  /** Someone joins a chat: fires `participant.added`. */
  addParticipant(input: { chatId: number; phoneNumber: string }): Promise<void>;
  /** Someone leaves a chat: fires `participant.removed`. */
  removeParticipant(input: { chatId: number; phoneNumber: string }): Promise<void>;
  /** The network reports a new delivery status for one of our messages (no webhook is documented for it; the REST message reflects it). */
  deliveryStatus(input: { messageId: number; status: DeliveryStatus }): Promise<void>;
}

/** Fault injection. */
export interface SimulatorFaults {
  inject(fault: FaultRule): FaultHandle;
  clear(): void;
}

/** Webhook delivery inspection and fault modes. */
export interface SimulatorWebhooks {
  /** Every delivery attempt, in the order they finished. */
  readonly deliveries: WebhookDeliveryRecord[];
  configure(options: WebhookDeliveryConfiguration): void;
  /** Resolves when every queued, held, in-flight and retrying delivery has finished. */
  flush(): Promise<void>;
  /**
   * Fires an arbitrary event (in the configured envelope, signed like any other) to the
   * active subscriptions that listen to its type — or, for a type that is not one
   * of the 13 documented ones (which no subscription can list), to every active
   * subscription. Resolves when its deliveries (including retries) have finished.
   */
  deliver(event: { event_type: string; data: Record<string, unknown> }): Promise<void>;
}

/**
 * A running simulator (see {@link startLinqSimulator}).
 *
 * Point the code under test at `baseUrl` with the header
 * `X-LINQ-INTEGRATION-TOKEN: token`, drive the other side with `inbound`, make
 * the network misbehave with `faults`, and check the outcome with `state`,
 * `requests` and `webhooks.deliveries`.
 */
export interface LinqSimulator {
  /** `http://127.0.0.1:PORT` — use it as the Linq base URL (paths start with `/api/partner/v2`). */
  readonly baseUrl: string;
  /** The integration token the simulator accepts. */
  readonly token: string;
  /** Read-only inspection of chats, messages, contacts, subscriptions… in the REST shapes (deep copies). */
  readonly state: SimulatorStateView;
  /** Every request received, in arrival order (cleared by `reset()`). */
  readonly requests: RecordedRequest[];
  /** Simulates customers and the phone network: inbound texts, reactions, read receipts, typing, calls, participants. */
  readonly inbound: SimulatorInbound;
  /** Injects HTTP faults (429, 5xx, latency, dropped connections, timeouts) into matching requests. */
  readonly faults: SimulatorFaults;
  /** Webhook delivery attempts, fault modes, `flush()` and arbitrary events. */
  readonly webhooks: SimulatorWebhooks;
  /**
   * Clears chats, messages, contacts, subscriptions, calls, forwarding numbers,
   * recorded requests and deliveries, faults and rate-limiter counters, and
   * aborts pending deliveries; keeps the token, numbers, users, options and the
   * webhook configuration. Ids start again from their first values.
   */
  reset(): void;
  /** Stops the server, aborts pending deliveries and closes every open connection. */
  close(): Promise<void>;
}
