/**
 * The Linq simulator: a faithful, stateful fake of the Linq Partner API v2 as a
 * real HTTP server (node:http) on 127.0.0.1.
 *
 * ```ts
 * import { startLinqSimulator } from "@linq-connect/core/testing";
 *
 * const linq = await startLinqSimulator();
 * // point the code under test at linq.baseUrl with X-LINQ-INTEGRATION-TOKEN: linq.token
 * await linq.inbound.text({ from: "+15551234567", text: "Hi!" }); // fires message.received
 * await linq.webhooks.flush();                                      // wait for webhook deliveries
 * linq.state.chats();                                               // inspect what happened
 * linq.faults.inject({ kind: "rate-limit", times: 1 });            // make the next request fail
 * await linq.close();
 * ```
 *
 * Behaviour, in short (details on each module):
 * - All 29 operations under `/api/partner/v2`, in memory, with the documented
 *   envelopes and statuses, validated against the OpenAPI document (unknown
 *   properties → 422, missing required parameters → 400), errors in the
 *   endpoint's documented format (`Error` or `StandardError`); every answer
 *   carries an `x-request-id` header.
 * - Wrong or missing `X-LINQ-INTEGRATION-TOKEN` → 401; unknown ids → 404;
 *   `send_from` that is not an organisation number → 403.
 * - Create chat is find-or-create: for an existing chat the initial message is
 *   NOT sent and `chat_messages` is null (unless the request's idempotency key
 *   already sent a message in that chat, which is then returned).
 * - Send message: 201, or 200 with the existing message when the idempotency
 *   key was already used in that chat. Multipart (reference), urlencoded, and
 *   JSON (`{message:{…}}` or the quick-start `{text, attachment_urls}`) bodies.
 *   Uploaded files are served back at `GET /files/<uuid>`; URL attachments are
 *   kept as given (not downloaded). Bodies over `maxUploadBytes` → 413.
 * - Webhooks are signed (`X-Webhook-Signature: sha256=…` when the subscription
 *   has a secret) and delivered asynchronously with retries; see
 *   `simulator.webhooks`.
 * - Faults (`simulator.faults.inject`) are applied before authentication.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { ConfigurationError, InvalidPhoneNumberError } from "../errors.ts";
import { isEmailAddress, normalizeLenientPhoneNumber } from "./simulator-addresses.ts";
import { apiProblem, type ErrorFormat, isApiProblem, renderProblem } from "./simulator-errors.ts";
import { type SimulatorEvent, WEBHOOK_EVENT_TYPES } from "./simulator-events.ts";
import { type AppliedFault, FaultRegistry } from "./simulator-faults.ts";
import {
  closeSimulatorServer,
  createSimulatorServer,
  listenSimulatorServer,
  readSimulatorRequestBody,
} from "./simulator-http.ts";
import { IntervalLimiter, TokenBucket } from "./simulator-limits.ts";
import {
  buildRoutes,
  errorFormatForPath,
  matchRoute,
  type Route,
  type RouteServices,
  type SimulatorResponse,
} from "./simulator-routes.ts";
import { renderReaction, SimulatorState } from "./simulator-state.ts";
import type {
  CallRecord,
  LinqSimulator,
  LinqSimulatorOptions,
  RecordedRequest,
  SimulatorFaults,
  SimulatorInbound,
  SimulatorStateView,
  SimulatorWebhooks,
} from "./simulator-types.ts";
import { loadRequestValidators, type RequestValidators } from "./simulator-validation.ts";
import { sleepUntilAborted, WebhookDispatcher, type WebhookTarget } from "./simulator-webhooks.ts";

const DEFAULT_TOKEN = "linq-simulator-token";
const DEFAULT_PHONE_NUMBER = "+15550001111";
const DEFAULT_MAX_UPLOAD_BYTES = 100 * 1024 * 1024;
const TOKEN_HEADER = "x-linq-integration-token";

/**
 * Starts a Linq simulator listening on `host:port` (default 127.0.0.1 on an
 * ephemeral port). Close it with `await simulator.close()`.
 *
 * Throws `ConfigurationError` for invalid options.
 */
export async function startLinqSimulator(options: LinqSimulatorOptions = {}): Promise<LinqSimulator> {
  const settings = resolveSettings(options);
  const validators = await loadRequestValidators();
  const simulator = new RunningSimulator(settings, validators);
  await simulator.listen();
  return simulator;
}

interface Settings {
  token: string;
  phoneNumbers: string[];
  port: number;
  host: string;
  users: NonNullable<LinqSimulatorOptions["organizationUsers"]>;
  handles: NonNullable<LinqSimulatorOptions["handles"]>;
  iMessageAvailabilityIntervalMs: number;
  rateLimit: { requestsPerSecond: number; burst: number } | undefined;
  deliveryDelayMs: number;
  maxUploadBytes: number;
  webhookDelivery: { timeoutMs: number; retries: number; retryDelayMs: number };
  now: () => Date;
  log: (line: string) => void;
}

function resolveSettings(options: LinqSimulatorOptions): Settings {
  const token = options.token ?? DEFAULT_TOKEN;
  if (typeof token !== "string" || token === "")
    throw new ConfigurationError("token must be a non-empty string");
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new ConfigurationError("port must be 0..65535");
  const nonNegative = (value: number | undefined, fallback: number, name: string): number => {
    const resolved = value ?? fallback;
    if (!Number.isFinite(resolved) || resolved < 0)
      throw new ConfigurationError(`${name} must be a non-negative number`);
    return resolved;
  };
  let rateLimit: Settings["rateLimit"];
  if (options.rateLimit !== undefined) {
    const { requestsPerSecond } = options.rateLimit;
    if (!(Number.isFinite(requestsPerSecond) && requestsPerSecond > 0)) {
      throw new ConfigurationError("rateLimit.requestsPerSecond must be a positive number");
    }
    const burst = options.rateLimit.burst ?? Math.max(1, Math.ceil(requestsPerSecond));
    if (!(Number.isInteger(burst) && burst >= 1))
      throw new ConfigurationError("rateLimit.burst must be a positive integer");
    rateLimit = { requestsPerSecond, burst };
  }
  const retries = options.webhookDelivery?.retries ?? 3;
  if (!Number.isInteger(retries) || retries < 0)
    throw new ConfigurationError("webhookDelivery.retries must be a non-negative integer");
  const timeoutMs = nonNegative(options.webhookDelivery?.timeoutMs, 10_000, "webhookDelivery.timeoutMs");
  const maxUploadBytes = nonNegative(options.maxUploadBytes, DEFAULT_MAX_UPLOAD_BYTES, "maxUploadBytes");
  if (timeoutMs === 0 || maxUploadBytes === 0)
    throw new ConfigurationError("timeouts and size limits must be positive");
  return {
    token,
    phoneNumbers: options.phoneNumbers ?? [DEFAULT_PHONE_NUMBER],
    port,
    host: options.host ?? "127.0.0.1",
    users: options.organizationUsers ?? [
      { email: "admin@example.com", first_name: "Admin", last_name: "User" },
    ],
    handles: options.handles ?? {},
    iMessageAvailabilityIntervalMs: nonNegative(
      options.iMessageAvailabilityIntervalMs,
      10_000,
      "iMessageAvailabilityIntervalMs",
    ),
    rateLimit,
    deliveryDelayMs: nonNegative(options.deliveryDelayMs, 0, "deliveryDelayMs"),
    maxUploadBytes,
    webhookDelivery: {
      timeoutMs,
      retries,
      retryDelayMs: nonNegative(options.webhookDelivery?.retryDelayMs, 1_000, "webhookDelivery.retryDelayMs"),
    },
    now: options.now ?? (() => new Date()),
    log: options.logger ?? (() => {}),
  };
}

class RunningSimulator implements LinqSimulator {
  readonly token: string;
  readonly state: SimulatorStateView;
  readonly inbound: SimulatorInbound;
  readonly faults: SimulatorFaults;
  readonly webhooks: SimulatorWebhooks;
  private address = "";
  private readonly settings: Settings;
  private readonly store: SimulatorState;
  private readonly dispatcher: WebhookDispatcher;
  private readonly faultRegistry = new FaultRegistry();
  private readonly routes: Route[] = buildRoutes();
  private readonly services: RouteServices;
  private readonly server: Server;
  private readonly recorded: RecordedRequest[] = [];
  private availabilityLimiter: IntervalLimiter;
  private generalLimiter: TokenBucket | undefined;
  private readonly lifetime = new AbortController();
  private closing: Promise<void> | undefined;

  constructor(settings: Settings, validators: RequestValidators) {
    this.settings = settings;
    this.token = settings.token;
    this.dispatcher = new WebhookDispatcher({
      ...settings.webhookDelivery,
      now: settings.now,
      log: settings.log,
      onAttempt: (subscriptionId, ok, at) => {
        const subscription = this.store.getSubscription(subscriptionId);
        if (subscription === undefined) return;
        subscription.deliveryAttempts += 1;
        if (ok) subscription.lastDeliveredAt = at;
      },
    });
    this.store = new SimulatorState({
      phoneNumbers: settings.phoneNumbers,
      users: settings.users,
      handles: settings.handles,
      deliveryDelayMs: settings.deliveryDelayMs,
      now: settings.now,
      emit: (event) => {
        void this.dispatcher.enqueue(event, this.targetsFor(event.eventType, false));
      },
    });
    this.availabilityLimiter = this.newAvailabilityLimiter();
    this.generalLimiter = this.newGeneralLimiter();
    this.services = {
      state: this.store,
      validators,
      takeAvailabilityCheck: () => {
        const retryAfter = this.availabilityLimiter.take();
        if (retryAfter !== undefined) {
          throw apiProblem(
            429,
            "rate_limited",
            "Rate limit exceeded: iMessage availability checks are limited to 1 request per 10 seconds",
            {
              retryAfter,
            },
          );
        }
      },
    };
    this.state = this.createStateView();
    this.inbound = this.createInbound();
    this.faults = {
      inject: (fault) => this.faultRegistry.inject(fault),
      clear: () => this.faultRegistry.clear(),
    };
    const dispatcher = this.dispatcher;
    this.webhooks = {
      get deliveries() {
        return dispatcher.deliveries;
      },
      configure: (options) => dispatcher.configure(options),
      flush: () => dispatcher.flush(),
      deliver: (event) => this.deliverArbitraryEvent(event),
    };
    this.server = createSimulatorServer(
      (request, response) => this.handleRequest(request, response),
      this.settings.log,
    );
  }

  get baseUrl(): string {
    return this.address;
  }

  get requests(): RecordedRequest[] {
    return this.recorded;
  }

  async listen(): Promise<void> {
    this.address = await listenSimulatorServer(this.server, this.settings.host, this.settings.port);
    this.store.baseUrl = this.address;
  }

  reset(): void {
    this.store.reset();
    this.dispatcher.reset();
    this.faultRegistry.clear();
    this.recorded.length = 0;
    this.availabilityLimiter = this.newAvailabilityLimiter();
    this.generalLimiter = this.newGeneralLimiter();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.lifetime.abort();
      this.store.dispose();
      await this.dispatcher.close();
      await closeSimulatorServer(this.server);
    })();
    return this.closing;
  }

  // ------------------------------------------------------------------ request pipeline

  private async handleRequest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = performance.now();
    const method = (request.method ?? "GET").toUpperCase();
    const url = new URL(request.url ?? "/", "http://simulator.invalid");
    const path = url.pathname;
    const record: RecordedRequest = {
      requestId: randomUUID(),
      method,
      path,
      query: queryRecord(url.searchParams),
      status: null,
      idempotencyKey: null,
      at: this.settings.now().toISOString(),
      fault: null,
      body: null,
    };
    this.recorded.push(record);
    response.setHeader("x-request-id", record.requestId);
    const log = (outcome: string): void =>
      this.settings.log(
        `${method} ${path}${url.search} → ${outcome} (${Math.round(performance.now() - started)} ms)`,
      );

    const fault = this.faultRegistry.take(method, path);
    if (fault !== undefined) record.fault = fault.kind;
    if (fault?.kind === "drop-connection") {
      request.socket.destroy();
      log("connection dropped (fault)");
      return;
    }
    if (fault?.kind === "timeout") {
      request.resume();
      log("no answer (timeout fault)");
      return;
    }

    const body = await readSimulatorRequestBody(request, this.settings.maxUploadBytes);
    if (!body.complete) {
      log("client disconnected before sending the whole body");
      return;
    }
    if (fault?.kind === "latency") await sleepUntilAborted(fault.latencyMs, this.lifetime.signal);
    if (this.lifetime.signal.aborted) {
      request.socket.destroy();
      return;
    }

    const matched = matchRoute(this.routes, method, path);
    const format: ErrorFormat = matched?.route.format ?? errorFormatForPath(path);
    let result: SimulatorResponse;
    try {
      result =
        fault === undefined || !isAnsweringFault(fault)
          ? await this.process(request, url, matched, body, record)
          : faultResponse(fault, format);
    } catch (error) {
      result = this.errorResponse(error, format);
    }
    record.status = result.status;
    if (fault?.kind === "drop-after-processing") {
      request.socket.destroy();
      log(`${result.status} processed, then connection dropped (fault)`);
      return;
    }
    writeResponse(response, result);
    log(`${result.status}${fault === undefined ? "" : ` (fault: ${fault.kind})`}`);
  }

  private async process(
    request: IncomingMessage,
    url: URL,
    matched: ReturnType<typeof matchRoute>,
    body: { bytes: Buffer; tooLarge: boolean },
    record: RecordedRequest,
  ): Promise<SimulatorResponse> {
    if (matched?.route.authenticated !== false) {
      if (request.headers[TOKEN_HEADER] !== this.token) {
        throw apiProblem(401, "unauthorized", "Invalid or missing authentication token");
      }
      const retryAfter = this.generalLimiter?.take();
      if (retryAfter !== undefined)
        throw apiProblem(429, "rate_limited", "Too many requests", { retryAfter });
    }
    if (matched === undefined)
      throw apiProblem(404, "not_found", `No route matches ${record.method} ${record.path}`);
    if (body.tooLarge) {
      throw apiProblem(
        413,
        "payload_too_large",
        `The request body exceeds ${this.settings.maxUploadBytes} bytes`,
      );
    }
    const contentType = request.headers["content-type"] ?? "";
    if (body.bytes.byteLength > 0 && contentType.toLowerCase().includes("json")) {
      record.body = parseJsonOrText(body.bytes);
    }
    return matched.route.handle(
      {
        params: matched.params,
        query: url.searchParams,
        body: body.bytes,
        contentType,
        recordBody: (parsed, idempotencyKey) => {
          record.body = parsed;
          if (idempotencyKey !== undefined) record.idempotencyKey = idempotencyKey;
        },
      },
      this.services,
    );
  }

  private errorResponse(error: unknown, format: ErrorFormat): SimulatorResponse {
    if (isApiProblem(error)) {
      // 401 always uses the Error format.
      const bodyFormat = error.status === 401 ? "error" : format;
      return {
        status: error.status,
        json: renderProblem(bodyFormat, error.status, error.body),
        ...(error.retryAfter === undefined ? {} : { headers: { "retry-after": String(error.retryAfter) } }),
      };
    }
    const message = error instanceof Error ? error.message : String(error);
    this.settings.log(
      `simulator handler failure: ${error instanceof Error ? (error.stack ?? message) : message}`,
    );
    return {
      status: 500,
      json: renderProblem(format, 500, {
        code: "internal_server_error",
        details: [`Simulator failure: ${message}`],
      }),
    };
  }

  // ------------------------------------------------------------------ webhooks

  private targetsFor(eventType: string, includeUnknownTypes: boolean): WebhookTarget[] {
    const known = (WEBHOOK_EVENT_TYPES as readonly string[]).includes(eventType);
    return this.store
      .allSubscriptions()
      .filter(
        (subscription) =>
          subscription.active && (subscription.events.includes(eventType) || (includeUnknownTypes && !known)),
      )
      .map((subscription) => ({
        subscriptionId: subscription.id,
        url: subscription.webhookUrl,
        secret: subscription.secret,
      }));
  }

  private deliverArbitraryEvent(event: { event_type: string; data: Record<string, unknown> }): Promise<void> {
    if (typeof event.event_type !== "string" || event.event_type === "") {
      return Promise.reject(new ConfigurationError("webhooks.deliver needs a non-empty event_type"));
    }
    if (event.data === null || typeof event.data !== "object") {
      return Promise.reject(new ConfigurationError("webhooks.deliver needs a data object"));
    }
    const simulatorEvent: SimulatorEvent = { eventType: event.event_type, data: structuredClone(event.data) };
    return this.dispatcher.enqueue(simulatorEvent, this.targetsFor(event.event_type, true));
  }

  // ------------------------------------------------------------------ views

  private createStateView(): SimulatorStateView {
    const store = this.store;
    return {
      chats: () => store.allChats().map((chat) => store.renderChat(chat)),
      chat: (id) => {
        const chat = store.getChat(id);
        return chat === undefined ? undefined : store.renderChat(chat);
      },
      messages: (chatId) => store.messagesOf(chatId).map((message) => store.renderMessage(message)),
      message: (id) => {
        const message = store.getMessage(id);
        return message === undefined ? undefined : store.renderMessage(message);
      },
      reactions: (messageId) => store.reactionsOf(messageId).map(renderReaction),
      reaction: (id) => {
        const reaction = store.getReaction(id);
        return reaction === undefined ? undefined : renderReaction(reaction);
      },
      contacts: () => store.allContacts().map((contact) => store.renderContact(contact)),
      contact: (id) => {
        const contact = store.getContact(id);
        return contact === undefined ? undefined : store.renderContact(contact);
      },
      subscriptions: () =>
        store.allSubscriptions().map((subscription) => store.renderSubscription(subscription)),
      phoneNumbers: () => store.phoneNumbers.map((record) => store.renderPhoneNumber(record)),
      typing: (chatId) => store.typingState(chatId),
      sharedContactCards: (chatId) => store.getChat(chatId)?.sharedContactCards ?? 0,
      calls: () => structuredClone(store.allCalls()),
    };
  }

  private createInbound(): SimulatorInbound {
    const store = this.store;
    return {
      text: async (input) => {
        const from = inboundAddress(input.from);
        const to = this.linqNumber(input.to);
        const { chat } = store.findOrCreateChat(to, [from]);
        const message = store.receiveMessage(
          chat.id,
          from,
          input.text,
          (input.attachments ?? []).map((attachment) => ({
            kind: "reference" as const,
            url: attachment.url,
            filename: attachment.filename,
            mimeType: attachment.mime_type,
            ...(attachment.file_size === undefined ? {} : { fileSize: attachment.file_size }),
          })),
          input.service,
        );
        return { chat: store.renderChat(chat), message: store.renderMessage(message) };
      },
      groupText: async (input) => {
        const from = inboundAddress(input.from);
        const to = this.linqNumber(input.to);
        const participants = [...new Set([from, ...input.participants.map(inboundAddress)])].filter(
          (address) => address !== to,
        );
        if (participants.length < 2)
          throw new ConfigurationError(
            "A group chat needs at least two participants besides the Linq number",
          );
        const { chat } = store.findOrCreateChat(to, participants);
        const message = store.receiveMessage(chat.id, from, input.text);
        return { chat: store.renderChat(chat), message: store.renderMessage(message) };
      },
      react: async (input) => {
        const reaction = store.react(input.messageId, {
          reaction: input.reaction,
          operation: input.operation ?? "add",
          from: inboundAddress(input.from),
        });
        return renderReaction(reaction);
      },
      read: async (input) => {
        store.readOutbound(input.chatId, input.messageId);
      },
      typing: async (input) => {
        store.participantTyping(input.chatId, inboundAddress(input.from), input.display);
      },
      call: async (input): Promise<CallRecord> => {
        const from = inboundAddress(input.from);
        const to = this.linqNumber(input.to);
        const direction = input.direction ?? "inbound";
        const voicemail = input.voicemail ?? false;
        const durationSeconds = input.durationSeconds ?? 60;
        if (!Number.isInteger(durationSeconds) || durationSeconds < 0) {
          throw new ConfigurationError("durationSeconds must be a non-negative integer");
        }
        const answeredBy =
          input.answeredBy === undefined
            ? voicemail
              ? null
              : direction === "inbound"
                ? to
                : from
            : input.answeredBy;
        return structuredClone(
          store.recordCall({
            from,
            to,
            direction,
            durationSeconds,
            answeredBy,
            voicemail,
            recording: input.recording ?? null,
          }),
        );
      },
      addParticipant: async (input) => {
        store.addParticipant(input.chatId, inboundAddress(input.phoneNumber));
      },
      removeParticipant: async (input) => {
        store.removeParticipant(input.chatId, inboundAddress(input.phoneNumber));
      },
      deliveryStatus: async (input) => {
        store.setDeliveryStatus(input.messageId, input.status);
      },
    };
  }

  /** One of our numbers (the first by default). */
  private linqNumber(input: string | undefined): string {
    if (input === undefined) return this.store.defaultLinqNumber();
    const address = normalizeLenientPhoneNumber(input);
    if (address === undefined) throw new InvalidPhoneNumberError(input, "not a phone number Linq accepts");
    if (!this.store.isLinqNumber(address)) {
      throw new ConfigurationError(
        `${address} is not one of the simulator's Linq numbers (${this.settings.phoneNumbers.join(", ")})`,
      );
    }
    return address;
  }

  private newAvailabilityLimiter(): IntervalLimiter {
    return new IntervalLimiter({
      intervalMs: this.settings.iMessageAvailabilityIntervalMs,
      now: this.settings.now,
    });
  }

  private newGeneralLimiter(): TokenBucket | undefined {
    const rateLimit = this.settings.rateLimit;
    return rateLimit === undefined ? undefined : new TokenBucket({ ...rateLimit, now: this.settings.now });
  }
}

/** A participant address given to the inbound API: any common phone format, or an email. */
function inboundAddress(input: string): string {
  const phone = normalizeLenientPhoneNumber(input);
  if (phone !== undefined) return phone;
  if (isEmailAddress(input)) return input.trim().toLowerCase();
  throw new InvalidPhoneNumberError(input, "not a phone number (or email) Linq accepts");
}

function isAnsweringFault(fault: AppliedFault): boolean {
  return fault.kind === "rate-limit" || fault.kind === "server-error" || fault.kind === "bad-gateway";
}

function faultResponse(fault: AppliedFault, format: ErrorFormat): SimulatorResponse {
  if (fault.kind === "rate-limit") {
    return {
      status: 429,
      json: renderProblem(format, 429, { code: "rate_limited", details: ["Too many requests"] }),
      headers: { "retry-after": String(fault.retryAfterSeconds) },
    };
  }
  if (fault.kind === "bad-gateway") {
    return {
      status: 502,
      raw: {
        bytes: Buffer.from(
          "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n",
        ),
        contentType: "text/html",
      },
    };
  }
  return {
    status: 500,
    json: renderProblem(format, 500, { code: "internal_server_error", details: ["Internal server error"] }),
  };
}

function writeResponse(response: ServerResponse, result: SimulatorResponse): void {
  const headers: Record<string, string | number> = { ...result.headers };
  let bytes: Uint8Array = new Uint8Array(0);
  if (result.json !== undefined) {
    bytes = Buffer.from(JSON.stringify(result.json), "utf8");
    headers["content-type"] = "application/json; charset=utf-8";
  } else if (result.raw !== undefined) {
    bytes = result.raw.bytes;
    headers["content-type"] = result.raw.contentType;
  }
  if (result.status !== 204) headers["content-length"] = bytes.byteLength;
  response.writeHead(result.status, headers);
  response.end(result.status === 204 ? undefined : bytes);
}

function queryRecord(parameters: URLSearchParams): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(parameters.keys())) {
    const values = parameters.getAll(key);
    query[key] = values.length === 1 && !key.endsWith("[]") ? (values[0] ?? "") : values;
  }
  return query;
}

function parseJsonOrText(bytes: Buffer): unknown {
  const text = bytes.toString("utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
