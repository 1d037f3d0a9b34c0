/**
 * A small in-test host for the Slack connector: what the sync-service does, in memory.
 *
 * - `MemoryMappingStore`: the MappingStore contract with the database's semantics (unique on
 *   (kind, linqId) and (kind, externalId); an insert that loses a race returns the winner's row;
 *   shallow metadata merge; exclusive locks shared by every "replica" using the same store). Each
 *   operation yields to the event loop, so concurrent callers really interleave.
 * - `MemoryJobQueue`: jobs with an ordering key run one at a time in creation order (a job waiting
 *   for its retry keeps the key, as pg-boss's key_strict_fifo); a deduplication key makes
 *   enqueueing idempotent; retryable errors retry (honouring `retryAfter`, capped for tests),
 *   others are dead-lettered.
 * - `ConnectorHarness`: a connector with the queue, a Linq webhook receiver (signature checked,
 *   events routed like the host does) and an HTTP server forwarding Slack's requests to the
 *   connector's inbound routes.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type ConnectorContext,
  type ConnectorJobRequest,
  type ConnectorLogger,
  type ConnectorV1,
  createNodeWebhookHandler,
  type LinqChatHandle,
  LinqClient,
  type LinqWebhookEvent,
  type Mapping,
  type MappingStore,
  type ParsedLinqWebhookEvent,
  type RouteContext,
  tryNormalizePhoneNumber,
} from "@linq-connect/core";
import { type LinqSimulator, startLinqSimulator } from "@linq-connect/core/testing";
import type { SlackRouteDefinition } from "./settings.ts";
import { createSlackConnector, type SlackConnector, type SlackConnectorOptions } from "./slack-connector.ts";
import { type SlackSimulator, type SlackSimulatorOptions, startSlackSimulator } from "./testing/index.ts";

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

// ------------------------------------------------------------------ the store

export class MemoryMappingStore implements MappingStore {
  readonly #byLinqId = new Map<string, Mapping>();
  readonly #byExternalId = new Map<string, Mapping>();
  readonly #cursors = new Map<string, string>();
  readonly #locks = new Map<string, Promise<void>>();
  readonly #useLocks: boolean;
  /** How many times each lock key was taken. */
  readonly lockCounts = new Map<string, number>();

  /** `locks: false` makes `withLock` a no-op, to test the insert-race fallback. */
  constructor(options: { locks?: boolean } = {}) {
    this.#useLocks = options.locks ?? true;
  }

  async findByLinqId(kind: string, linqId: string): Promise<Mapping | undefined> {
    await tick();
    const found = this.#byLinqId.get(`${kind}\u0000${linqId}`);
    return found === undefined ? undefined : structuredClone(found);
  }

  async findByExternalId(kind: string, externalId: string): Promise<Mapping | undefined> {
    await tick();
    const found = this.#byExternalId.get(`${kind}\u0000${externalId}`);
    return found === undefined ? undefined : structuredClone(found);
  }

  async insertMapping(mapping: Omit<Mapping, "updatedAt">): Promise<Mapping> {
    await tick();
    const existing =
      this.#byLinqId.get(`${mapping.kind}\u0000${mapping.linqId}`) ??
      this.#byExternalId.get(`${mapping.kind}\u0000${mapping.externalId}`);
    if (existing !== undefined) return structuredClone(existing);
    const stored: Mapping = { ...structuredClone(mapping), updatedAt: new Date() };
    this.#byLinqId.set(`${mapping.kind}\u0000${mapping.linqId}`, stored);
    this.#byExternalId.set(`${mapping.kind}\u0000${mapping.externalId}`, stored);
    return structuredClone(stored);
  }

  async updateMetadata(kind: string, linqId: string, metadata: Record<string, unknown>): Promise<void> {
    await tick();
    const existing = this.#byLinqId.get(`${kind}\u0000${linqId}`);
    if (existing === undefined) return;
    // JSON round trip, as a jsonb column stores it (undefined values disappear).
    existing.metadata = JSON.parse(JSON.stringify({ ...existing.metadata, ...metadata })) as Record<
      string,
      unknown
    >;
    existing.updatedAt = new Date();
  }

  async deleteMapping(kind: string, linqId: string): Promise<void> {
    await tick();
    const existing = this.#byLinqId.get(`${kind}\u0000${linqId}`);
    if (existing === undefined) return;
    this.#byLinqId.delete(`${kind}\u0000${linqId}`);
    this.#byExternalId.delete(`${kind}\u0000${existing.externalId}`);
  }

  async getCursor(name: string): Promise<string | undefined> {
    return this.#cursors.get(name);
  }

  async setCursor(name: string, value: string): Promise<void> {
    this.#cursors.set(name, value);
  }

  async withLock<T>(key: string, work: () => Promise<T>): Promise<T> {
    this.lockCounts.set(key, (this.lockCounts.get(key) ?? 0) + 1);
    if (!this.#useLocks) return work();
    const previous = this.#locks.get(key) ?? Promise.resolve();
    let release: () => void = () => undefined;
    const current = new Promise<void>((resolve) => {
      release = resolve;
    });
    const chained = previous.then(() => current);
    this.#locks.set(key, chained);
    await previous;
    try {
      return await work();
    } finally {
      release();
      if (this.#locks.get(key) === chained) this.#locks.delete(key);
    }
  }

  /** Every mapping of a kind (tests only). */
  all(kind: string): Mapping[] {
    return [...this.#byLinqId.values()]
      .filter((mapping) => mapping.kind === kind)
      .map((mapping) => structuredClone(mapping));
  }
}

// ------------------------------------------------------------------ the queue

export interface QueuedWork {
  id: string;
  /** "event" (a Linq event) or a connector job type. */
  type: string;
  orderingKey: string | undefined;
  attempt: number;
  run: (attempt: number) => Promise<void>;
}

export interface DeadJob {
  type: string;
  attempts: number;
  error: unknown;
}

export interface MemoryJobQueueOptions {
  /** Attempts in all before a retryable failure is dead-lettered. Default 12. */
  maxAttempts?: number;
  /** The first retry delay (doubled each retry, at most 1 s). Default 20 ms. */
  retryDelayMs?: number;
  /** `retryAfter` (seconds) is honoured up to this many ms. Default 1 500. */
  maxRetryAfterMs?: number;
}

export class MemoryJobQueue {
  readonly dead: DeadJob[] = [];
  readonly completed: string[] = [];
  readonly #seen = new Set<string>();
  readonly #keyed = new Map<string, QueuedWork[]>();
  readonly #running = new Set<Promise<void>>();
  readonly #options: Required<MemoryJobQueueOptions>;
  #counter = 0;
  #idleWaiters: (() => void)[] = [];
  #pending = 0;
  /** Every failed attempt (for assertions about retries). */
  readonly failures: { type: string; attempt: number; error: unknown }[] = [];

  constructor(options: MemoryJobQueueOptions = {}) {
    this.#options = { maxAttempts: 12, retryDelayMs: 20, maxRetryAfterMs: 1500, ...options };
  }

  /** Adds work; false when the deduplication key was seen before. */
  add(input: {
    type: string;
    orderingKey?: string;
    deduplicationKey?: string;
    run: (attempt: number) => Promise<void>;
  }): boolean {
    if (input.deduplicationKey !== undefined) {
      if (this.#seen.has(input.deduplicationKey)) return false;
      this.#seen.add(input.deduplicationKey);
    }
    this.#counter += 1;
    const work: QueuedWork = {
      id: `job-${this.#counter}`,
      type: input.type,
      orderingKey: input.orderingKey,
      attempt: 0,
      run: input.run,
    };
    this.#pending += 1;
    if (work.orderingKey === undefined) {
      this.#start(work);
      return true;
    }
    const lane = this.#keyed.get(work.orderingKey);
    if (lane !== undefined) {
      lane.push(work);
      return true;
    }
    this.#keyed.set(work.orderingKey, [work]);
    this.#start(work);
    return true;
  }

  #start(work: QueuedWork): void {
    const promise = this.#execute(work).finally(() => {
      this.#running.delete(promise);
    });
    this.#running.add(promise);
  }

  async #execute(work: QueuedWork): Promise<void> {
    for (;;) {
      work.attempt += 1;
      try {
        await work.run(work.attempt);
        this.completed.push(work.type);
        break;
      } catch (error) {
        this.failures.push({ type: work.type, attempt: work.attempt, error });
        const retryable =
          error !== null && typeof error === "object" && "isRetryable" in error
            ? error.isRetryable === true
            : true;
        if (!retryable || work.attempt >= this.#options.maxAttempts) {
          this.dead.push({ type: work.type, attempts: work.attempt, error });
          break;
        }
        const retryAfter = (error as { retryAfter?: unknown }).retryAfter;
        const backoff = Math.min(1000, this.#options.retryDelayMs * 2 ** (work.attempt - 1));
        const delay =
          typeof retryAfter === "number"
            ? Math.min(this.#options.maxRetryAfterMs, retryAfter * 1000)
            : backoff;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
    this.#pending -= 1;
    if (work.orderingKey !== undefined) {
      const lane = this.#keyed.get(work.orderingKey);
      lane?.shift();
      const next = lane?.[0];
      if (next === undefined) this.#keyed.delete(work.orderingKey);
      else this.#start(next);
    }
    if (this.#pending === 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const waiter of waiters) waiter();
    }
  }

  get pending(): number {
    return this.#pending;
  }

  /** Resolves when no work is queued, running or waiting for a retry. */
  idle(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }
}

// ------------------------------------------------------------------ routing (as the host does it)

function ownNumber(handles: readonly LinqChatHandle[] | undefined): string | undefined {
  const own = handles?.find((handle) => handle.is_me === true);
  const address = own?.identifier ?? own?.phone_number ?? undefined;
  return address === undefined ? undefined : tryNormalizePhoneNumber(address);
}

export function linqNumberOf(event: LinqWebhookEvent): string | undefined {
  switch (event.event_type) {
    case "message.sent":
      return ownNumber(event.data.chat_handles) ?? tryNormalizePhoneNumber(event.data.from_phone ?? "");
    case "message.received":
      return ownNumber(event.data.chat_handles ?? event.data.chat?.chat_handles);
    case "reaction.sent":
    case "reaction.received":
    case "typing_indicator.received":
    case "typing_indicator.removed":
    case "participant.added":
    case "participant.removed":
      return ownNumber(event.data.chat_handles);
    case "call.completed":
      return tryNormalizePhoneNumber(
        (event.data.direction === "outbound" ? event.data.from : event.data.to) ?? "",
      );
    default:
      return undefined;
  }
}

export function orderingKeyOf(event: LinqWebhookEvent): string | undefined {
  switch (event.event_type) {
    case "message.sent":
    case "message.received":
    case "message.read":
    case "typing_indicator.received":
    case "typing_indicator.removed":
      return `chat:${event.data.chat_id}`;
    case "reaction.sent":
    case "reaction.received":
      return event.data.chat_id === undefined
        ? `message:${event.data.chat_message_id}`
        : `chat:${event.data.chat_id}`;
    case "participant.added":
    case "participant.removed":
      return event.data.chat_id === undefined ? undefined : `chat:${event.data.chat_id}`;
    case "call.completed": {
      const other = event.data.direction === "outbound" ? event.data.to : event.data.from;
      return other === undefined || other === null
        ? undefined
        : `call:${tryNormalizePhoneNumber(other) ?? other}`;
    }
    default:
      return undefined;
  }
}

export function routeContextOf(
  routes: readonly SlackRouteDefinition[],
  event: LinqWebhookEvent,
): RouteContext | undefined {
  const number = linqNumberOf(event);
  const route = routes.find(
    (candidate) =>
      candidate.match.linqNumbers.length === 0 ||
      (number !== undefined && candidate.match.linqNumbers.includes(number)),
  );
  if (route?.slack === undefined) return undefined;
  return { name: route.name, settings: { ...route.slack } };
}

// ------------------------------------------------------------------ the harness

export const silentLogger: ConnectorLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};

/** A logger that prints (set LINQ_CONNECT_TEST_LOGS=1 to see the connector's logs). */
export function testLogger(): ConnectorLogger {
  if (process.env.LINQ_CONNECT_TEST_LOGS !== "1") return silentLogger;
  const print = (level: string) => (object: Record<string, unknown>, message?: string) =>
    console.log(level, message ?? "", JSON.stringify(object));
  const logger: ConnectorLogger = {
    debug: print("debug"),
    info: print("info"),
    warn: print("warn"),
    error: print("error"),
    child: () => logger,
  };
  return logger;
}

async function readRaw(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export interface ConnectorHarnessOptions {
  connector: ConnectorV1;
  linq: LinqClient;
  store: MappingStore;
  routes: readonly SlackRouteDefinition[];
  queue?: MemoryJobQueue;
  logger?: ConnectorLogger;
  /** The Linq webhook secret the subscription uses. */
  webhookSecret?: string;
}

/** One "replica" of the host: a connector, a queue, a Linq webhook endpoint and the Slack endpoints. */
export class ConnectorHarness {
  readonly connector: ConnectorV1;
  readonly linq: LinqClient;
  readonly store: MappingStore;
  readonly queue: MemoryJobQueue;
  readonly routes: readonly SlackRouteDefinition[];
  readonly webhookSecret: string;
  readonly #logger: ConnectorLogger;
  readonly #abort = new AbortController();
  #server: Server | undefined;
  #baseUrl = "";
  /** Every Linq event received (after deduplication by event id). */
  readonly events: ParsedLinqWebhookEvent[] = [];
  /** Every Slack request answered: path, retry number and status. */
  readonly slackRequests: { path: string; retryNum: string | undefined; status: number }[] = [];
  /**
   * Runs when the connector asks to store a job (`context.enqueue`), before the job is stored: to
   * delay the store, or to fail it by throwing (the job is then not stored).
   */
  beforeEnqueue: ((request: ConnectorJobRequest) => Promise<void>) | undefined;
  /** Runs after the connector handled a Slack request and before the answer is written (to delay it). */
  beforeSlackAnswer: ((headers: Record<string, string | undefined>) => Promise<void>) | undefined;

  constructor(options: ConnectorHarnessOptions) {
    this.connector = options.connector;
    this.linq = options.linq;
    this.store = options.store;
    this.routes = options.routes;
    this.queue = options.queue ?? new MemoryJobQueue();
    this.#logger = options.logger ?? testLogger();
    this.webhookSecret = options.webhookSecret ?? "linq-webhook-secret-for-tests";
  }

  /** The URL prefix of this replica's HTTP endpoints. */
  get baseUrl(): string {
    return this.#baseUrl;
  }

  context(route: RouteContext | undefined): ConnectorContext {
    return {
      linq: this.linq,
      store: this.store,
      logger: this.#logger,
      ...(route === undefined ? {} : { route }),
      signal: this.#abort.signal,
      enqueue: async (request: ConnectorJobRequest) => {
        await this.beforeEnqueue?.(request);
        this.enqueue(request, route);
      },
    };
  }

  enqueue(request: ConnectorJobRequest, route: RouteContext | undefined): boolean {
    const connector = this.connector;
    return this.queue.add({
      type: request.type,
      ...(request.orderingKey === undefined ? {} : { orderingKey: request.orderingKey }),
      ...(request.deduplicationKey === undefined
        ? {}
        : { deduplicationKey: `job:${request.deduplicationKey}` }),
      run: async (attempt) => {
        if (request.runAt !== undefined) {
          const wait = request.runAt.getTime() - Date.now();
          if (wait > 0 && attempt === 1) await new Promise((resolve) => setTimeout(resolve, wait));
        }
        await connector.handleJob?.(
          {
            id: request.deduplicationKey ?? request.type,
            type: request.type,
            payload: request.payload,
            attempt,
          },
          this.context(route),
        );
      },
    });
  }

  /** While true, Linq events are kept in `held` instead of being queued (to run them by hand). */
  holdEvents = false;
  readonly held: LinqWebhookEvent[] = [];

  /** Queues a Linq event as the host does: deduplicated by event id, ordered by conversation, routed. */
  deliver(event: ParsedLinqWebhookEvent): boolean {
    if (!event.known) return false;
    if (this.holdEvents) {
      this.held.push(event);
      return true;
    }
    if (!this.connector.events.includes(event.event_type)) return false;
    const route = routeContextOf(this.routes, event);
    const orderingKey = orderingKeyOf(event);
    const accepted = this.queue.add({
      type: `event:${event.event_type}`,
      ...(orderingKey === undefined ? {} : { orderingKey }),
      deduplicationKey: `event:${event.event_id}`,
      run: () => this.connector.handleEvent(event, this.context(route)),
    });
    if (accepted) this.events.push(event);
    return accepted;
  }

  /** Starts the HTTP server: `/webhooks/linq` and the connector's inbound routes. */
  async listen(): Promise<void> {
    const linqHandler = createNodeWebhookHandler({
      secret: this.webhookSecret,
      onEvent: async (event) => {
        this.deliver(event);
      },
    });
    this.#server = createServer((request, response) => {
      const path = (request.url ?? "/").split("?")[0] ?? "/";
      if (path === "/webhooks/linq") {
        void linqHandler(request, response);
        return;
      }
      const route = this.connector.inboundRoutes?.find(
        (candidate) => candidate.path === path && candidate.method === request.method,
      );
      if (route === undefined) {
        response.writeHead(404).end();
        return;
      }
      void (async () => {
        try {
          const rawBody = await readRaw(request);
          const headers: Record<string, string | undefined> = {};
          for (const [name, value] of Object.entries(request.headers)) {
            headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
          }
          const answer = await route.handle(
            { method: request.method ?? "POST", url: request.url ?? path, headers, rawBody },
            this.context(undefined),
          );
          this.slackRequests.push({ path, retryNum: headers["x-slack-retry-num"], status: answer.status });
          await this.beforeSlackAnswer?.(headers);
          if (response.destroyed) return;
          response.writeHead(answer.status, answer.headers ?? {});
          response.end(answer.body ?? "");
        } catch (error) {
          response.writeHead(500).end(String(error));
        }
      })();
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, "127.0.0.1", resolve));
    const address = this.#server.address() as AddressInfo;
    this.#baseUrl = `http://127.0.0.1:${address.port}`;
  }

  async close(): Promise<void> {
    this.#abort.abort();
    await new Promise<void>((resolve) => {
      if (this.#server === undefined) resolve();
      else {
        this.#server.closeAllConnections();
        this.#server.close(() => resolve());
      }
    });
    await this.connector.close?.();
  }
}

// ------------------------------------------------------------------ the whole set-up

export const LINQ_NUMBER = "+15550001111";
export const CUSTOMER = "+15551234567";
export const CHANNEL = "C0SALES";
export const AGENT = "U0ALEX";

export const defaultRoutes: SlackRouteDefinition[] = [
  { name: "sales", match: { linqNumbers: [LINQ_NUMBER] }, slack: { channel: CHANNEL } },
];

export interface WorldOptions {
  routes?: SlackRouteDefinition[];
  slack?: SlackSimulatorOptions;
  linq?: Parameters<typeof startLinqSimulator>[0];
  connector?: Partial<SlackConnectorOptions>;
  queue?: MemoryJobQueueOptions;
  store?: MemoryMappingStore;
  /** More replicas sharing the store (each with its own connector and queue). */
  replicas?: number;
  /** Slack → Linq over Socket Mode (the app-level token, no signing secret) instead of HTTP. */
  socketMode?: boolean;
}

/** Both simulators, the store, and one or more replicas wired to them. */
export interface World {
  slack: SlackSimulator;
  linqSimulator: LinqSimulator;
  linq: LinqClient;
  store: MemoryMappingStore;
  harness: ConnectorHarness;
  replicas: ConnectorHarness[];
  connector: SlackConnector;
  /** Waits until both simulators delivered everything and every queue is idle (repeatedly, until stable). */
  settle(): Promise<void>;
  /** The thread's ts of a Linq chat (from the store). */
  threadTsOf(chatId: number): Promise<string | undefined>;
  close(): Promise<void>;
}

export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const routes = options.routes ?? defaultRoutes;
  const channels = options.slack?.channels ?? [{ id: CHANNEL, name: "sales" }];
  // Tests post dozens of messages per second into one channel: both sides are set to 50/s unless a
  // test asks for Slack's real pacing (1/s, burst 3).
  const slack = await startSlackSimulator({
    rateLimits: { postMessagePerChannel: { perSecond: 50, burst: 50 } },
    users: [
      { id: AGENT, name: "alex", realName: "Alex Agent", email: "alex@example.com" },
      { id: "U0BLAIR", name: "blair", realName: "Blair Boss", email: "blair@example.com" },
    ],
    ...options.slack,
    channels,
  });
  const linqSimulator = await startLinqSimulator({ phoneNumbers: [LINQ_NUMBER], ...options.linq });
  const linq = new LinqClient({
    token: linqSimulator.token,
    baseUrl: linqSimulator.baseUrl,
    rateLimit: false,
    retry: { maxRetries: 3, initialDelayMs: 20, maxDelayMs: 200 },
  });
  const store = options.store ?? new MemoryMappingStore();
  const replicas: ConnectorHarness[] = [];
  for (let index = 0; index < (options.replicas ?? 1); index += 1) {
    const connector = createSlackConnector({
      botToken: slack.botToken,
      ...(options.socketMode === true
        ? { appToken: slack.appToken }
        : { signingSecret: slack.signingSecret }),
      apiUrl: slack.apiUrl,
      routes,
      logger: testLogger(),
      timeoutMs: 2000,
      smsCancelWindowSeconds: 0,
      pacing: { perChannelPerSecond: 50, perChannelBurst: 50 },
      ...options.connector,
    });
    const harness = new ConnectorHarness({
      connector,
      linq,
      store,
      routes,
      queue: new MemoryJobQueue(options.queue),
    });
    await harness.listen();
    replicas.push(harness);
  }
  const harness = replicas[0] as ConnectorHarness;
  await linq.createWebhookSubscription({
    webhook_url: `${harness.baseUrl}/webhooks/linq`,
    events: [...harness.connector.events],
    secret: harness.webhookSecret,
  });
  await slack.configureApp(
    options.socketMode === true
      ? { socketMode: true }
      : {
          eventsUrl: `${harness.baseUrl}/slack/events`,
          commandsUrl: `${harness.baseUrl}/slack/commands`,
          interactionsUrl: `${harness.baseUrl}/slack/interactions`,
        },
  );
  for (const replica of replicas) await replica.connector.start?.(replica.context(undefined));

  const settle = async () => {
    for (let round = 0; round < 50; round += 1) {
      await linqSimulator.webhooks.flush();
      await slack.events.flush();
      await Promise.all(replicas.map((replica) => replica.queue.idle()));
      await new Promise((resolve) => setTimeout(resolve, 5));
      const busy = replicas.some((replica) => replica.queue.pending > 0);
      if (!busy) {
        await linqSimulator.webhooks.flush();
        await slack.events.flush();
        if (replicas.every((replica) => replica.queue.pending === 0)) return;
      }
    }
  };

  return {
    slack,
    linqSimulator,
    linq,
    store,
    harness,
    replicas,
    connector: harness.connector as SlackConnector,
    settle,
    async threadTsOf(chatId) {
      const mapping = await store.findByLinqId("slack.thread", String(chatId));
      return mapping?.externalId.split(":")[1];
    },
    async close() {
      for (const replica of replicas) await replica.close();
      await linq.close();
      await linqSimulator.close();
      await slack.close();
    },
  };
}
