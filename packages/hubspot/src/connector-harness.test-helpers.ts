/**
 * A small host for the connector's tests, with the semantics of the sync-service that matter here:
 *
 * - `MemoryMappingStore`: unique (kind, linqId) and (kind, externalId) with the insert race of a
 *   database (check and insert are atomic, a caller's find-then-insert is not), cross-"replica"
 *   locks (FIFO per key), cursors; every call yields to the event loop like a database round trip.
 * - `JobRunner`: Linq events and connector jobs, one at a time per ordering key, concurrent across
 *   keys, deduplicated by key, retried when the error is retryable (honouring `retryAfter`, shortened),
 *   dead-lettered otherwise.
 * - `startHarness`: the real HubSpot and Linq simulators, a webhook receiver for both (HubSpot →
 *   the connector's inbound route; Linq → parsed events into the runner), the connector (one or more
 *   replicas sharing the store) and `settle()` to wait until every webhook and job has finished.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type ConnectorContext,
  type ConnectorJobRequest,
  type ConnectorLogger,
  isRetryableError,
  LinqClient,
  type LinqConnectError,
  type LinqWebhookEvent,
  type Mapping,
  type MappingStore,
  parseWebhookEvent,
  type RouteContext,
  tryNormalizePhoneNumber,
} from "@linq-connect/core";
import {
  type LinqSimulator,
  type LinqSimulatorOptions,
  startLinqSimulator,
} from "@linq-connect/core/testing";
import {
  createHubSpotConnector,
  type HubSpotConnector,
  type HubSpotConnectorOptions,
} from "./hubspot-connector.ts";
import type { HubSpotRouteSettingsInput } from "./settings.ts";
import { startHubSpotSimulator } from "./testing/hubspot-simulator.ts";
import type { HubSpotSimulator, HubSpotSimulatorOptions } from "./testing/simulator-types.ts";

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

// ------------------------------------------------------------------ mapping store

export class MemoryMappingStore implements MappingStore {
  private readonly byLinq = new Map<string, Mapping>();
  private readonly byExternal = new Map<string, Mapping>();
  private readonly cursors = new Map<string, string>();
  private readonly locks = new Map<string, Promise<void>>();
  /** Lock keys taken, in order (for assertions). */
  readonly lockLog: string[] = [];

  async findByLinqId(kind: string, linqId: string): Promise<Mapping | undefined> {
    await tick();
    const found = this.byLinq.get(`${kind}\u0000${linqId}`);
    return found === undefined ? undefined : structuredClone(found);
  }

  async findByExternalId(kind: string, externalId: string): Promise<Mapping | undefined> {
    await tick();
    const found = this.byExternal.get(`${kind}\u0000${externalId}`);
    return found === undefined ? undefined : structuredClone(found);
  }

  async insertMapping(mapping: Omit<Mapping, "updatedAt">): Promise<Mapping> {
    await tick();
    const linqKey = `${mapping.kind}\u0000${mapping.linqId}`;
    const externalKey = `${mapping.kind}\u0000${mapping.externalId}`;
    const existing = this.byLinq.get(linqKey) ?? this.byExternal.get(externalKey);
    if (existing !== undefined) return structuredClone(existing);
    const stored: Mapping = { ...structuredClone(mapping), updatedAt: new Date() };
    this.byLinq.set(linqKey, stored);
    this.byExternal.set(externalKey, stored);
    return structuredClone(stored);
  }

  async updateMetadata(kind: string, linqId: string, metadata: Record<string, unknown>): Promise<void> {
    await tick();
    const stored = this.byLinq.get(`${kind}\u0000${linqId}`);
    if (stored === undefined) return;
    stored.metadata = { ...stored.metadata, ...structuredClone(metadata) };
    stored.updatedAt = new Date();
  }

  async deleteMapping(kind: string, linqId: string): Promise<void> {
    await tick();
    const stored = this.byLinq.get(`${kind}\u0000${linqId}`);
    if (stored === undefined) return;
    this.byLinq.delete(`${kind}\u0000${linqId}`);
    this.byExternal.delete(`${kind}\u0000${stored.externalId}`);
  }

  async getCursor(name: string): Promise<string | undefined> {
    await tick();
    return this.cursors.get(name);
  }

  async setCursor(name: string, value: string): Promise<void> {
    await tick();
    this.cursors.set(name, value);
  }

  async withLock<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    let release: () => void = () => {};
    const current = new Promise<void>((resolve) => {
      release = resolve;
    });
    const chained = previous.then(() => current);
    this.locks.set(key, chained);
    await previous;
    this.lockLog.push(key);
    try {
      return await work();
    } finally {
      release();
      if (this.locks.get(key) === chained) this.locks.delete(key);
    }
  }

  /** Every mapping of a kind (copies). */
  all(kind: string): Mapping[] {
    return [...this.byLinq.values()]
      .filter((mapping) => mapping.kind === kind)
      .map((mapping) => structuredClone(mapping));
  }
}

// ------------------------------------------------------------------ logger

export interface LogEntry {
  level: "debug" | "info" | "warn" | "error";
  message: string | undefined;
  fields: Record<string, unknown>;
}

export function memoryLogger(
  entries: LogEntry[] = [],
  bindings: Record<string, unknown> = {},
): ConnectorLogger & {
  entries: LogEntry[];
} {
  const write =
    (level: LogEntry["level"]) =>
    (object: Record<string, unknown>, message?: string): void => {
      entries.push({ level, message, fields: { ...bindings, ...object } });
    };
  return {
    entries,
    debug: write("debug"),
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
    child: (more) => memoryLogger(entries, { ...bindings, ...more }),
  };
}

// ------------------------------------------------------------------ job runner

type WorkItem =
  | { kind: "event"; event: LinqWebhookEvent; route: RouteContext | undefined }
  | { kind: "job"; type: string; payload: Record<string, unknown>; route: RouteContext | undefined };

interface QueuedWork {
  item: WorkItem;
  attempt: number;
}

export interface DeadLetter {
  item: WorkItem;
  error: unknown;
}

export class JobRunner {
  readonly deadLetters: DeadLetter[] = [];
  /** Every handled item with its outcome, in order. */
  readonly handled: { item: WorkItem; attempt: number; outcome: "ok" | "retry" | "dead" }[] = [];
  private readonly queues = new Map<string, QueuedWork[]>();
  private readonly running = new Set<string>();
  private readonly seen = new Set<string>();
  private inFlight = 0;
  private sequence = 0;
  private replica = 0;
  private readonly connectors: () => readonly HubSpotConnector[];
  private readonly contextFor: (
    route: RouteContext | undefined,
    enqueue: (job: ConnectorJobRequest) => Promise<void>,
  ) => ConnectorContext;
  private readonly maxAttempts: number;

  constructor(options: {
    connectors: () => readonly HubSpotConnector[];
    contextFor: (
      route: RouteContext | undefined,
      enqueue: (job: ConnectorJobRequest) => Promise<void>,
    ) => ConnectorContext;
    maxAttempts?: number;
  }) {
    this.connectors = options.connectors;
    this.contextFor = options.contextFor;
    this.maxAttempts = options.maxAttempts ?? 8;
  }

  /** Queues work; `orderingKey` serialises, `deduplicationKey` drops repeats. */
  submit(
    item: WorkItem,
    keys: { orderingKey?: string | undefined; deduplicationKey?: string | undefined } = {},
  ): void {
    if (keys.deduplicationKey !== undefined) {
      if (this.seen.has(keys.deduplicationKey)) return;
      this.seen.add(keys.deduplicationKey);
    }
    const key = keys.orderingKey ?? `unordered:${this.sequence++}`;
    let queue = this.queues.get(key);
    if (queue === undefined) {
      queue = [];
      this.queues.set(key, queue);
    }
    queue.push({ item, attempt: 1 });
    this.pump(key);
  }

  /** The context the connector gets (its `enqueue` feeds this runner). */
  context(route: RouteContext | undefined): ConnectorContext {
    return this.contextFor(route, async (job) => {
      this.submit(
        { kind: "job", type: job.type, payload: job.payload, route: undefined },
        { orderingKey: job.orderingKey, deduplicationKey: job.deduplicationKey },
      );
    });
  }

  private pump(key: string): void {
    if (this.running.has(key)) return;
    const queue = this.queues.get(key);
    const next = queue?.shift();
    if (next === undefined) {
      this.queues.delete(key);
      return;
    }
    this.running.add(key);
    this.inFlight += 1;
    void this.run(next).then((retry) => {
      this.running.delete(key);
      this.inFlight -= 1;
      if (retry !== undefined) {
        const delay = retry.delayMs;
        this.inFlight += 1;
        setTimeout(() => {
          this.inFlight -= 1;
          (this.queues.get(key) ?? this.queues.set(key, []).get(key))?.unshift(retry.work);
          this.pump(key);
        }, delay);
        return;
      }
      this.pump(key);
    });
  }

  private async run(work: QueuedWork): Promise<{ work: QueuedWork; delayMs: number } | undefined> {
    const replicas = this.connectors();
    const connector = replicas[this.replica++ % replicas.length] as HubSpotConnector;
    const context = this.context(work.item.route);
    try {
      if (work.item.kind === "event") await connector.handleEvent(work.item.event, context);
      else {
        await connector.handleJob?.(
          {
            id: `job-${this.sequence++}`,
            type: work.item.type,
            payload: work.item.payload,
            attempt: work.attempt,
          },
          context,
        );
      }
      this.handled.push({ item: work.item, attempt: work.attempt, outcome: "ok" });
      return undefined;
    } catch (error) {
      if (isRetryableError(error) && work.attempt < this.maxAttempts) {
        this.handled.push({ item: work.item, attempt: work.attempt, outcome: "retry" });
        const retryAfter = (error as LinqConnectError).retryAfter;
        const delayMs = retryAfter === undefined ? 20 * work.attempt : Math.min(retryAfter * 1000, 1_500);
        return { work: { item: work.item, attempt: work.attempt + 1 }, delayMs };
      }
      this.handled.push({ item: work.item, attempt: work.attempt, outcome: "dead" });
      this.deadLetters.push({ item: work.item, error });
      return undefined;
    }
  }

  /** Resolves when nothing is queued, running or waiting to be retried. */
  async idle(): Promise<void> {
    while (this.inFlight > 0 || this.queues.size > 0) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  get busy(): boolean {
    return this.inFlight > 0 || this.queues.size > 0;
  }
}

// ------------------------------------------------------------------ harness

export interface HarnessOptions {
  hubspot?: HubSpotSimulatorOptions;
  linq?: LinqSimulatorOptions;
  /** Route settings (the route's `hubspot` block plus contacts and activities). */
  route?: HubSpotRouteSettingsInput;
  connector?: Partial<HubSpotConnectorOptions>;
  replicas?: number;
  /** Deliver Linq webhooks to the runner (default true). */
  linqWebhooks?: boolean;
}

export interface Harness {
  hubspot: HubSpotSimulator;
  linqSimulator: LinqSimulator;
  linq: LinqClient;
  store: MemoryMappingStore;
  runner: JobRunner;
  connectors: HubSpotConnector[];
  connector: HubSpotConnector;
  logs: LogEntry[];
  route: RouteContext;
  receiverUrl: string;
  /** Every Linq event delivered to the receiver. */
  linqEvents: LinqWebhookEvent[];
  /** A context for direct calls (the harness route). */
  context(route?: RouteContext | undefined): ConnectorContext;
  /** Hands a Linq event to the runner as the host would (ordering key per conversation/contact). */
  dispatch(event: LinqWebhookEvent): void;
  /** Waits until every webhook of both simulators and every job has finished. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

function orderingKeyOf(event: LinqWebhookEvent): string | undefined {
  switch (event.event_type) {
    case "contact.created":
    case "contact.updated":
    case "contact.deleted":
      return `contact:${event.data.id}`;
    case "message.received":
    case "message.sent":
      return `chat:${event.data.chat_id}`;
    case "call.completed": {
      const party = event.data.direction === "inbound" ? event.data.from : event.data.to;
      return `call:${tryNormalizePhoneNumber(party ?? "") ?? party}`;
    }
    default:
      return undefined;
  }
}

function headerRecord(headers: IncomingHttpHeaders): Record<string, string | undefined> {
  const record: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers))
    record[name] = Array.isArray(value) ? value.join(", ") : value;
  return record;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const logs: LogEntry[] = [];
  const logger = memoryLogger(logs);
  const store = new MemoryMappingStore();
  const hubspot = await startHubSpotSimulator({
    clientSecret: "harness-client-secret",
    rateLimit: false,
    webhookDelivery: { retries: 2, retryDelayMs: 50, timeoutMs: 5_000 },
    ...options.hubspot,
  });
  const linqSimulator = await startLinqSimulator({ phoneNumbers: ["+15550001111"], ...options.linq });
  const linq = new LinqClient({
    token: linqSimulator.token,
    baseUrl: linqSimulator.baseUrl,
    rateLimit: false,
    retry: { maxRetries: 2, initialDelayMs: 10, maxDelayMs: 50 },
  });
  const route: RouteContext = {
    name: "default",
    settings: { contacts: "two-way", activities: "per-message", ...options.route },
  };
  const connectors: HubSpotConnector[] = [];
  const abort = new AbortController();
  const runner = new JobRunner({
    connectors: () => connectors,
    contextFor: (contextRoute, enqueue) => ({
      linq,
      store,
      logger,
      ...(contextRoute === undefined ? {} : { route: contextRoute }),
      signal: abort.signal,
      enqueue,
    }),
  });
  const linqEvents: LinqWebhookEvent[] = [];
  const dispatch = (event: LinqWebhookEvent) => {
    linqEvents.push(event);
    runner.submit(
      { kind: "event", event, route },
      { orderingKey: orderingKeyOf(event), deduplicationKey: `event:${event.event_id}` },
    );
  };

  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const rawBody = Buffer.concat(chunks);
      const url = request.url ?? "/";
      void (async () => {
        try {
          if (url.startsWith("/webhooks/linq")) {
            const parsed = parseWebhookEvent(rawBody);
            if (parsed.known && options.linqWebhooks !== false) dispatch(parsed);
            response.writeHead(200).end();
            return;
          }
          if (url.startsWith("/webhooks/hubspot")) {
            const connector = connectors[0] as HubSpotConnector;
            const inbound = connector.inboundRoutes?.[0];
            if (inbound === undefined) throw new Error("no inbound route");
            const answer = await inbound.handle(
              { method: request.method ?? "POST", url, headers: headerRecord(request.headers), rawBody },
              runner.context(undefined),
            );
            response.writeHead(answer.status, answer.headers).end(answer.body);
            return;
          }
          response.writeHead(404).end();
        } catch (error) {
          logs.push({ level: "error", message: "harness receiver failed", fields: { error: String(error) } });
          if (!response.headersSent) response.writeHead(500).end();
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const receiverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  hubspot.webhooks.targetUrl = `${receiverUrl}/webhooks/hubspot`;
  await linq.createWebhookSubscription({
    webhook_url: `${receiverUrl}/webhooks/linq`,
    events: [
      "contact.created",
      "contact.updated",
      "contact.deleted",
      "message.received",
      "message.sent",
      "call.completed",
    ],
    secret: "harness-linq-secret",
  });
  for (let index = 0; index < (options.replicas ?? 1); index += 1) {
    connectors.push(
      createHubSpotConnector({
        accessToken: hubspot.accessToken,
        clientSecret: hubspot.clientSecret,
        baseUrl: hubspot.baseUrl,
        appId: hubspot.appId,
        reconciliationIntervalSeconds: false,
        maxRateLimitRetries: 10,
        inboundRoute: route,
        timeoutMs: 5_000,
        logger,
        ...options.connector,
      }),
    );
  }
  const settle = async () => {
    for (let round = 0; round < 50; round += 1) {
      await linqSimulator.webhooks.flush();
      await hubspot.webhooks.flush();
      await runner.idle();
      await new Promise((resolve) => setTimeout(resolve, 10));
      await linqSimulator.webhooks.flush();
      await hubspot.webhooks.flush();
      if (!runner.busy) return;
    }
    throw new Error("the harness did not settle");
  };
  return {
    hubspot,
    linqSimulator,
    linq,
    store,
    runner,
    connectors,
    connector: connectors[0] as HubSpotConnector,
    logs,
    route,
    receiverUrl,
    linqEvents,
    context: (contextRoute = route) => runner.context(contextRoute),
    dispatch,
    settle,
    close: async () => {
      abort.abort();
      for (const connector of connectors) await connector.close?.();
      await linq.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await hubspot.close();
      await linqSimulator.close();
    },
  };
}

/** A Linq webhook event in the reference envelope, parsed like the host does. */
export function linqEvent(
  eventType: string,
  data: Record<string, unknown>,
  eventId?: string,
): LinqWebhookEvent {
  const parsed = parseWebhookEvent({
    api_version: "v2",
    created_at: new Date().toISOString(),
    event_id: eventId ?? `evt-${eventType}-${Math.random().toString(36).slice(2)}`,
    event_type: eventType,
    data,
  });
  if (!parsed.known) throw new Error(`unknown event type ${eventType}`);
  return parsed;
}
