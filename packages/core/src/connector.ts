/**
 * The connector contract, version 1.
 *
 * Every connector (Slack, HubSpot, Salesforce, yours) implements `ConnectorV1`
 * and exports a factory such as `createSlackConnector(settings)`. The host (the
 * sync-service) owns HTTP, verification of Linq webhooks, the durable queue,
 * routing, storage and scheduling; a connector only says what it consumes and
 * how it handles one unit of work. Keep this interface small: a change to it is
 * a new specification version, and hosts check `specificationVersion`.
 */
import type { LinqClient } from "./client/linq-client.ts";
import type { LinqEventType, LinqWebhookEvent } from "./webhooks/events.ts";

export const CONNECTOR_SPECIFICATION_VERSION = "v1" as const;

/** Structured logger; pino's Logger satisfies it. Never pass secrets. */
export interface ConnectorLogger {
  debug(object: Record<string, unknown>, message?: string): void;
  info(object: Record<string, unknown>, message?: string): void;
  warn(object: Record<string, unknown>, message?: string): void;
  error(object: Record<string, unknown>, message?: string): void;
  child(bindings: Record<string, unknown>): ConnectorLogger;
}

/** One stored link between a Linq object and an object of the connector's platform. */
export interface Mapping {
  /** What is linked, e.g. "chat-thread", "message", "contact". */
  kind: string;
  linqId: string;
  externalId: string;
  /** Small connector-owned state (last synced values, a Slack channel, …). */
  metadata: Record<string, unknown>;
  updatedAt: Date;
}

/**
 * Durable id mappings and cursors. The host backs this with database tables
 * whose unique constraints make a duplicate mapping impossible.
 */
export interface MappingStore {
  findByLinqId(kind: string, linqId: string): Promise<Mapping | undefined>;
  findByExternalId(kind: string, externalId: string): Promise<Mapping | undefined>;
  /**
   * Inserts the mapping unless one exists for (kind, linqId) or (kind, externalId);
   * returns the stored mapping, which is the existing one when there was a race.
   */
  insertMapping(mapping: Omit<Mapping, "updatedAt">): Promise<Mapping>;
  /** Replaces the metadata of an existing mapping (merged shallowly). */
  updateMetadata(kind: string, linqId: string, metadata: Record<string, unknown>): Promise<void>;
  deleteMapping(kind: string, linqId: string): Promise<void>;
  getCursor(name: string): Promise<string | undefined>;
  setCursor(name: string, value: string): Promise<void>;
  /**
   * Runs `work` while holding an exclusive lock on `key` across every replica
   * of the host (a Postgres advisory lock in the sync-service).
   */
  withLock<T>(key: string, work: () => Promise<T>): Promise<T>;
}

/** A unit of work the connector asks the host to run later, durably and in order per `orderingKey`. */
export interface ConnectorJobRequest {
  /** Job type, owned by the connector (e.g. "slack.reply"). */
  type: string;
  payload: Record<string, unknown>;
  /** Jobs with the same key run one at a time, in order, across replicas. */
  orderingKey?: string;
  /** A key that makes enqueueing idempotent (the same key twice is one job). */
  deduplicationKey?: string;
  /** Earliest start. */
  runAt?: Date;
}

export interface ConnectorJob {
  id: string;
  type: string;
  payload: Record<string, unknown>;
  attempt: number;
}

/** What the route that matched a conversation says about this connector. */
export interface RouteContext {
  name: string;
  /** Connector-specific settings from the routing file (e.g. `{ channel: "C0SALES" }`). */
  settings: Record<string, unknown>;
}

/** Everything a connector receives for one unit of work. */
export interface ConnectorContext {
  linq: LinqClient;
  store: MappingStore;
  logger: ConnectorLogger;
  /** The route that matched, when the work concerns one conversation or contact. */
  route?: RouteContext;
  /** Aborted when the host shuts down; pass it to outbound requests. */
  signal: AbortSignal;
  enqueue(job: ConnectorJobRequest): Promise<void>;
}

/** A request from the connector's own platform (Slack events, HubSpot webhooks, …). */
export interface InboundRequest {
  method: string;
  /** The path and query as received, e.g. "/slack/events?x=1". */
  url: string;
  /** Lower-cased header names. */
  headers: Record<string, string | undefined>;
  /** The body exactly as received: verification needs the raw bytes. */
  rawBody: Buffer;
}

export interface InboundResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** An HTTP endpoint the host mounts for the connector. The connector verifies its own platform's signature. */
export interface InboundRoute {
  method: "POST" | "GET";
  path: string;
  handle(request: InboundRequest, context: ConnectorContext): Promise<InboundResponse>;
}

/** Work the host runs on an interval (polling, reconciliation), once across replicas. */
export interface ScheduledTask {
  name: string;
  intervalSeconds: number;
  run(context: ConnectorContext): Promise<void>;
}

export interface HealthCheckResult {
  name: string;
  ok: boolean;
  detail: string;
  /** What to do when it failed. */
  fix?: string;
}

export interface ConnectorV1 {
  readonly specificationVersion: typeof CONNECTOR_SPECIFICATION_VERSION;
  /** Stable name: "slack", "hubspot", "salesforce". */
  readonly name: string;
  /** The Linq webhook event types this connector consumes. */
  readonly events: readonly LinqEventType[];
  /**
   * Handles one verified, parsed and routed Linq event. Must be idempotent:
   * the host delivers at least once. Throw a LinqConnectError; the host
   * retries when `isRetryable` and dead-letters otherwise.
   */
  handleEvent(event: LinqWebhookEvent, context: ConnectorContext): Promise<void>;
  /** Runs a job the connector enqueued (from inbound traffic, a schedule, a backfill). */
  handleJob?(job: ConnectorJob, context: ConnectorContext): Promise<void>;
  /** Endpoints for the connector's own platform. */
  readonly inboundRoutes?: readonly InboundRoute[];
  readonly schedules?: readonly ScheduledTask[];
  /** Used by `linq-sync doctor`. */
  checkHealth?(context: ConnectorContext): Promise<HealthCheckResult[]>;
  /**
   * Called once when the host has started (queue and routes ready): for long-lived inbound connections
   * that are not HTTP routes, such as Slack Socket Mode. Release them in `close`.
   */
  start?(context: ConnectorContext): Promise<void>;
  close?(): Promise<void>;
}

export type Connector = ConnectorV1;

/** Throws when `value` does not implement a connector specification version this core supports. */
export function assertConnector(value: unknown): asserts value is Connector {
  const candidate = value as Partial<ConnectorV1> | null;
  if (candidate === null || typeof candidate !== "object")
    throw new TypeError("A connector must be an object");
  if (candidate.specificationVersion !== CONNECTOR_SPECIFICATION_VERSION) {
    throw new TypeError(
      `Connector ${String(candidate.name)} implements specification ${String(
        candidate.specificationVersion,
      )}; this host supports ${CONNECTOR_SPECIFICATION_VERSION}`,
    );
  }
  if (typeof candidate.name !== "string" || candidate.name === "")
    throw new TypeError("A connector needs a name");
  if (!Array.isArray(candidate.events))
    throw new TypeError(`Connector ${candidate.name} must list its events`);
  if (typeof candidate.handleEvent !== "function") {
    throw new TypeError(`Connector ${candidate.name} must implement handleEvent`);
  }
}
