/**
 * A small in-memory host for connector tests, with the semantics of the sync-service that matter to a
 * connector (exported from `@linq-connect/core/testing` so that every connector, ours or yours, is
 * tested against the same host):
 *
 * - `MemoryMappingStore`: unique (kind, linqId) and (kind, externalId) with the insert race of a
 *   database (check and insert are atomic, a caller's find-then-insert is not), cross-"replica" locks
 *   (FIFO per key), cursors; every call yields to the event loop like a database round trip.
 * - `memoryLogger`: a ConnectorLogger that keeps its entries for assertions.
 * - `JobRunner`: Linq events and connector jobs, one at a time per ordering key, concurrent across
 *   keys, deduplicated by key, retried when the error is retryable (honouring `retryAfter`, shortened
 *   to at most 1.5 s), dead-lettered otherwise; work is spread over the connector replicas in turn.
 * - `linqEvent` / `linqEventOrderingKey`: a parsed Linq event and the ordering key the host gives it.
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import {
  type ConnectorContext,
  type ConnectorJobRequest,
  type ConnectorLogger,
  type ConnectorV1,
  type InboundResponse,
  isRetryableError,
  LinqClient,
  type LinqConnectError,
  type LinqWebhookEvent,
  type Mapping,
  type MappingStore,
  parseWebhookEvent,
  type RouteContext,
  tryNormalizePhoneNumber,
} from "../index.ts";
import { startLinqSimulator } from "./linq-simulator.ts";
import { closeSimulatorServer, listenSimulatorServer } from "./simulator-http.ts";
import type { LinqSimulator, LinqSimulatorOptions } from "./simulator-types.ts";

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

export type WorkItem =
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
  private readonly connectors: () => readonly ConnectorV1[];
  private readonly contextFor: (
    route: RouteContext | undefined,
    enqueue: (job: ConnectorJobRequest) => Promise<void>,
  ) => ConnectorContext;
  private readonly maxAttempts: number;

  constructor(options: {
    connectors: () => readonly ConnectorV1[];
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
    const connector = replicas[this.replica++ % replicas.length] as ConnectorV1;
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

// ------------------------------------------------------------------ Linq events

export function linqEventOrderingKey(event: LinqWebhookEvent): string | undefined {
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

// ------------------------------------------------------------------ the host

/** An inbound request other than a Linq webhook (e.g. a CRM's webhook), as the host received it. */
export interface ConnectorTestHostRequest {
  method: string;
  url: string;
  headers: Record<string, string | undefined>;
  rawBody: Buffer;
}

export interface ConnectorTestHostOptions {
  /** Options of the Linq simulator (default: one number, +15550001111). */
  linq?: LinqSimulatorOptions | undefined;
  /** The route's settings, over `{ contacts: "two-way", activities: "per-message" }`. */
  routeSettings?: Record<string, unknown> | undefined;
  /** Deliver Linq webhooks to the runner (default true). */
  linqWebhooks?: boolean | undefined;
  /** Answers other inbound paths; undefined: 404. */
  receive?:
    | ((request: ConnectorTestHostRequest, host: ConnectorTestHost) => Promise<InboundResponse | undefined>)
    | undefined;
  /** Runs with the Linq simulator's webhook flush while settling (another simulator's deliveries). */
  flush?: (() => Promise<void>) | undefined;
}

/**
 * A Linq simulator, a Linq client on it, the in-memory store and job runner, and an HTTP receiver the
 * simulator's webhooks reach (parsed and dispatched like the host does). Add the connectors under test
 * to `connectors`; `settle()` waits until every webhook and job has finished.
 */
export interface ConnectorTestHost {
  linqSimulator: LinqSimulator;
  linq: LinqClient;
  store: MemoryMappingStore;
  runner: JobRunner;
  logs: LogEntry[];
  logger: ConnectorLogger & { entries: LogEntry[] };
  /** The replicas of the connector under test (the runner spreads work over them). */
  connectors: ConnectorV1[];
  route: RouteContext;
  receiverUrl: string;
  /** Every Linq event delivered to the receiver. */
  linqEvents: LinqWebhookEvent[];
  /** A context for direct calls (the host's route by default). */
  context(route?: RouteContext | undefined): ConnectorContext;
  /** Hands a Linq event to the runner as the host would (ordering key per conversation/contact). */
  dispatch(event: LinqWebhookEvent): void;
  settle(): Promise<void>;
  /** Closes the connectors, the client, the receiver and the Linq simulator. */
  close(): Promise<void>;
}

function headerRecord(headers: IncomingHttpHeaders): Record<string, string | undefined> {
  const record: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) {
    record[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return record;
}

export async function startConnectorTestHost(
  options: ConnectorTestHostOptions = {},
): Promise<ConnectorTestHost> {
  const logs: LogEntry[] = [];
  const logger = memoryLogger(logs);
  const store = new MemoryMappingStore();
  const linqSimulator = await startLinqSimulator({ phoneNumbers: ["+15550001111"], ...options.linq });
  const linq = new LinqClient({
    token: linqSimulator.token,
    baseUrl: linqSimulator.baseUrl,
    rateLimit: false,
    retry: { maxRetries: 2, initialDelayMs: 10, maxDelayMs: 50 },
  });
  const route: RouteContext = {
    name: "default",
    settings: { contacts: "two-way", activities: "per-message", ...options.routeSettings },
  };
  const connectors: ConnectorV1[] = [];
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
      { orderingKey: linqEventOrderingKey(event), deduplicationKey: `event:${event.event_id}` },
    );
  };
  const settle = async () => {
    for (let round = 0; round < 50; round += 1) {
      await linqSimulator.webhooks.flush();
      await options.flush?.();
      await runner.idle();
      await new Promise((resolve) => setTimeout(resolve, 10));
      await linqSimulator.webhooks.flush();
      await options.flush?.();
      if (!runner.busy) return;
    }
    throw new Error("the connector test host did not settle");
  };
  let host: ConnectorTestHost | undefined;
  const server = createServer((request, response) => {
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
          const answer =
            host === undefined || options.receive === undefined
              ? undefined
              : await options.receive(
                  { method: request.method ?? "POST", url, headers: headerRecord(request.headers), rawBody },
                  host,
                );
          if (answer === undefined) response.writeHead(404).end();
          else response.writeHead(answer.status, answer.headers).end(answer.body);
        } catch (error) {
          logs.push({ level: "error", message: "host receiver failed", fields: { error: String(error) } });
          if (!response.headersSent) response.writeHead(500).end();
        }
      })();
    });
  });
  const receiverUrl = await listenSimulatorServer(server, "127.0.0.1", 0);
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
  host = {
    linqSimulator,
    linq,
    store,
    runner,
    logs,
    logger,
    connectors,
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
      await closeSimulatorServer(server);
      await linqSimulator.close();
    },
  };
  return host;
}
