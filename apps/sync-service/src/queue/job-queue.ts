/**
 * The durable job queue of the service, on pg-boss (its own `pgboss` schema, in the service's one
 * database: the embedded PGlite or a PostgreSQL server shared by every replica).
 *
 * Guarantees (the product's, not only pg-boss's):
 * - One queue per connector, `connector.<name>`, with pg-boss's `key_strict_fifo` policy: jobs with
 *   the same ordering key (a conversation, e.g. `chat:123`) run one at a time and in creation order
 *   across every replica. A job waiting for a retry still holds its key, so order survives failures.
 *   Every job has a key: the job id when the caller gives none (no ordering constraint).
 * - Enqueueing is idempotent by job id (`eventJobId`, `connectorJobId`); it can join the caller's
 *   transaction (`executor`), so "event stored" and "job queued" commit together or not at all.
 * - Retries decided from the error: a `LinqConnectError` is retried when `isRetryable`, any other
 *   error (a bug, a database blip) is treated as retryable too, up to `retryLimit` retries with
 *   exponential backoff. `retryAfter` (seconds, from a 429) is honoured by deferring the retry in the
 *   same transaction that records the failure, without holding a worker. A non-retryable error, or
 *   the last attempt, writes the job to the dead-letter sink and completes it in pg-boss in one
 *   transaction, so the ordering key is never blocked by a dead job. While the queue stops, a failed
 *   attempt is released to run again instead (the failure may be the shutdown's doing).
 * - Nothing is lost when a process dies: a job keeps a heartbeat while its handler runs; when the
 *   heartbeat lapses (or `expireInSeconds` passes) pg-boss's supervisor, on any replica, puts it back.
 *   A few spare pg-boss attempts beyond `retryLimit` are reserved for settling: a job whose last
 *   attempt died is dead-lettered (without running again) instead of failing in pg-boss, which would
 *   block its key.
 * - Low latency without busy polling, and few fetches: one dispatcher per connector queue
 *   (queue-dispatcher.ts) claims batches for the local slots. A new job wakes it at once
 *   (LISTEN/NOTIFY, on PGlite and PostgreSQL), and so does a job settling here (the next job of that
 *   conversation became claimable); the wake-ups that arrive together are served by one fetch
 *   (at most one per `minimumFetchIntervalMs`). Polling remains the safety net.
 * - On the embedded database (one connection, one thread, no autovacuum) the queue keeps its cost
 *   off the ingest: enqueueing is one call of a plan-caching PL/pgSQL function (`enqueueFunction`),
 *   completions are grouped (`createCompletionBatcher`), fetches are spaced out (a few ms per slot,
 *   and at most `pgliteMaximumFetchShare` of the time when a backlog makes them slow), and pg-boss's
 *   job tables are vacuumed and analyzed (queue-maintenance.ts).
 */
import { createHash, randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { ConfigurationError, isLinqConnectError, NetworkError, ValidationError } from "@linq-connect/core";
import {
  type ConstructorOptions,
  fromPglite,
  PgBoss,
  type Db as PgBossDatabase,
  type Queue as PgBossQueueOptions,
} from "pg-boss";
import { z } from "zod";
import type { Database, SqlExecutor } from "../database/database-types.ts";
import { isUuid } from "./job-ids.ts";
import {
  type ClaimedJob,
  type CompletionBatcher,
  createCompletionBatcher,
  createQueueDispatcher,
  type QueueDispatcher,
} from "./queue-dispatcher.ts";
import { createQueueMaintenance } from "./queue-maintenance.ts";

/** The schema pg-boss keeps its tables in. */
export const queueSchema = "pgboss";
/** Queue names are `connector.<name>`. */
export const connectorQueuePrefix = "connector.";
/**
 * pg-boss attempts reserved beyond `retryLimit` for settling a job whose last attempt could not
 * settle itself (its process died, or the dead-letter write failed): such a job is dead-lettered
 * without running its handler again.
 */
export const settlementAttempts = 3;
/**
 * Default least time between two fetches of a queue on the embedded database, per slot of the queue
 * (at most 4 slots counted): one fetch serves the wake-ups of up to this long. A fetch claims at most
 * the free slots, so this also bounds a connector to `1000 / 5` = 200 jobs/s whatever its concurrency
 * (more with more than 4 slots): about what the embedded database can ingest and process together.
 * Measured with bench/run.ts at concurrency 4, two runs each (interval: PGlite ingest at 32
 * connections; handler p50 in the 100 events/s pipeline): 0 ms: 212-244 req/s, 5 ms; 10 ms: 197-234
 * req/s, 9 ms; 20 ms: 312-329 req/s, 17 ms; 50 ms: 541-560 req/s, but jobs were capped at 80/s, so
 * the pipeline fell behind (2.8 s). Spacing fetches out leaves the ingest more of the one thread
 * during a burst (the jobs catch up afterwards).
 */
export const pgliteFetchIntervalPerSlotMs = 5;
const pgliteFetchIntervalSlots = 4;

/** The default least time between two fetches of a queue worked with `concurrency` slots. */
export function defaultMinimumFetchIntervalMs(backend: "pglite" | "postgres", concurrency: number): number {
  if (backend === "postgres") return 0;
  return pgliteFetchIntervalPerSlotMs * Math.min(concurrency, pgliteFetchIntervalSlots);
}
/**
 * On the embedded database, fetches may take at most this share of the time (the rest goes to the
 * ingest and to the jobs themselves): a fetch that took 30 ms (a backlog of thousands of jobs) is
 * followed by the next no sooner than 120 ms after it began.
 */
export const pgliteMaximumFetchShare = 0.25;

export const jobKinds = ["linq-event", "connector-job"] as const;
export type JobKind = (typeof jobKinds)[number];

export interface QueueJobInput {
  /** A UUID; a deterministic id (`eventJobId`, `connectorJobId`) makes enqueueing idempotent. */
  id?: string;
  kind: JobKind;
  payload: Record<string, unknown>;
  /** Jobs with the same key run one at a time, in order, across replicas. Default: the job id. */
  orderingKey?: string;
  /** Earliest start. */
  startAfter?: Date;
}

export interface QueueJob {
  id: string;
  /** The pg-boss queue, `connector.<name>`. */
  queue: string;
  connector: string;
  kind: JobKind;
  payload: Record<string, unknown>;
  orderingKey: string;
  /** 1-based. */
  attempt: number;
  createdAt: Date;
  /**
   * Aborted when this attempt no longer owns the job: the queue is shutting down, the attempt ran
   * past `expireInSeconds`, or its heartbeat found the job reclaimed. Pass it to outbound requests.
   */
  signal: AbortSignal;
}

export type JobHandler = (job: QueueJob) => Promise<void>;

export interface EnqueueOptions {
  /** Send inside the caller's transaction: the job exists only if that transaction commits. */
  executor?: SqlExecutor;
}

export interface WorkOptions {
  /** Jobs of this connector run at the same time in this process (each of a different key). Default 4. */
  concurrency?: number;
}

export interface StopOptions {
  /** Stop fetching and let active jobs finish (up to `timeoutMs`). Default true. */
  graceful?: boolean;
  /** Default 20 000 ms; jobs still running then are released (they are retried), never lost. */
  timeoutMs?: number;
}

export interface QueueDepth {
  /** Waiting to run (including deferred ones). */
  queued: number;
  /** Running now, in any replica. */
  active: number;
  /** Failed and waiting for their next attempt. */
  retry: number;
}

export type JobEventName = "processed" | "retried" | "dead" | "failed";

export interface JobEventInfo {
  connector: string;
  job: QueueJob;
  /** How long the handler ran for this attempt (0 when it did not run). */
  durationMs: number;
  error?: unknown;
}

export type JobEventListener = (info: JobEventInfo) => void;

export interface JobQueue {
  /** Installs or migrates pg-boss's schema (under its own lock) and starts its supervisor. */
  start(): Promise<void>;
  /** Creates (or updates the settings of) the queue `connector.<connector>`. Idempotent. */
  ensureConnectorQueue(connector: string): Promise<void>;
  /**
   * Adds a job. `created` is false when a job with this id already exists in the queue (the id made
   * the call idempotent). With `executor` the queue must have been ensured first.
   */
  enqueue(
    connector: string,
    job: QueueJobInput,
    options?: EnqueueOptions,
  ): Promise<{ id: string; created: boolean }>;
  /** Runs `handler` for the connector's jobs until `stop`. Once per connector. */
  work(connector: string, handler: JobHandler, options?: WorkOptions): Promise<void>;
  /** Jobs per connector (every `connector.*` queue in the database), for /metrics and /readyz. */
  depth(): Promise<Record<string, QueueDepth>>;
  /** Throws when the queue is not running or its database does not answer. */
  ping(): Promise<void>;
  stop(options?: StopOptions): Promise<void>;
  /**
   * - "processed": the handler succeeded and the job is completed.
   * - "failed": an attempt failed (the handler threw, or the attempt was abandoned); exactly one of
   *   "retried" or "dead" follows for the same attempt.
   * - "retried": the job will run again.
   * - "dead": the job was written to the dead-letter sink and will not run again.
   * Listeners run synchronously; an exception in one is logged and ignored.
   */
  on(event: JobEventName, listener: JobEventListener): void;
}

export interface DeadLetterEntry {
  queue: string;
  jobId: string;
  connector: string;
  jobKind: string;
  orderingKey: string;
  payload: Record<string, unknown>;
  /** JSON-safe: `LinqConnectError#toJSON()`, or the name and message of another error. */
  error: Record<string, unknown>;
  /** Attempts the handler made. */
  attempts: number;
}

export interface DeadLetterSink {
  /**
   * Records a dead job. Must write through `executor`: it is the transaction that also completes the
   * job in pg-boss, so the entry exists exactly when the job is settled (a rolled-back settlement,
   * e.g. because the attempt lost its claim, leaves no entry). Being idempotent by `jobId` is still
   * wise (the dead-letter store is).
   */
  add(executor: SqlExecutor, entry: DeadLetterEntry): Promise<unknown>;
}

/** Structured logger; pino's Logger satisfies it. */
export interface QueueLogger {
  debug(object: Record<string, unknown>, message?: string): void;
  info(object: Record<string, unknown>, message?: string): void;
  warn(object: Record<string, unknown>, message?: string): void;
  error(object: Record<string, unknown>, message?: string): void;
}

export interface JobQueueOptions {
  database: Database;
  logger: QueueLogger;
  deadLetters: DeadLetterSink;
  /** Retries after the first attempt (so `retryLimit + 1` attempts in all). Default 8. */
  retryLimit?: number;
  /** First backoff, in whole seconds; doubles each retry, with jitter. Default 2. */
  retryDelaySeconds?: number;
  /** Longest backoff, in whole seconds. Default 300. */
  retryDelayMaxSeconds?: number;
  /** Longest an attempt may run; then it is abandoned and retried. Default 300. */
  expireInSeconds?: number;
  /** A running job's heartbeat; a job whose heartbeat lapses is retried (its worker died). Min 10, default 30. */
  heartbeatSeconds?: number;
  /** How often an idle worker looks for jobs (new jobs also wake workers at once). Min 0.5, default 0.5. */
  pollingIntervalSeconds?: number;
  /**
   * Least time between two fetches of one connector queue in this process; the wake-ups in between
   * (new jobs, settled jobs) are served by one fetch of a batch. Default on the embedded database
   * (one connection: fetches compete with the ingest): 5 per slot, at most 20
   * (`defaultMinimumFetchIntervalMs`); on PostgreSQL 0.
   */
  minimumFetchIntervalMs?: number;
  /** How often the supervisor looks for expired jobs and lapsed heartbeats. Default 15. */
  superviseIntervalSeconds?: number;
  /** Connections of pg-boss's own pool on PostgreSQL (plus one for LISTEN). Default 4. */
  maxConnections?: number;
  /**
   * Called after every fetch of a connector queue in this process (metrics: a slow fetch means a
   * large backlog; few jobs per fetch under load means wasted fetches). Exceptions are logged.
   */
  onFetch?: (info: FetchInfo) => void;
}

export interface FetchInfo {
  connector: string;
  /** How long the fetch took, waiting for the database included. */
  durationMs: number;
  /** Jobs it claimed. */
  jobs: number;
  /** Jobs it asked for (the free slots). */
  batchSize: number;
}

const optionsSchema = z
  .object({
    retryLimit: z.number().int().min(0).max(100).default(8),
    retryDelaySeconds: z.number().int().min(1).max(3600).default(2),
    retryDelayMaxSeconds: z.number().int().min(1).max(86_400).default(300),
    expireInSeconds: z.number().int().min(1).max(86_400).default(300),
    heartbeatSeconds: z.number().int().min(10).max(3600).default(30),
    pollingIntervalSeconds: z.number().min(0.5).max(300).default(0.5),
    minimumFetchIntervalMs: z.number().min(0).max(10_000).optional(),
    superviseIntervalSeconds: z.number().int().min(1).max(3600).default(15),
    maxConnections: z.number().int().min(1).max(100).default(4),
  })
  .refine((options) => options.retryDelayMaxSeconds >= options.retryDelaySeconds, {
    message: "retryDelayMaxSeconds must be at least retryDelaySeconds",
    path: ["retryDelayMaxSeconds"],
  });

type Settings = z.output<typeof optionsSchema>;

const connectorNamePattern = /^[a-z0-9][a-z0-9_-]{0,62}$/;

const jobInputSchema = z.object({
  id: z
    .string()
    .refine(isUuid, "must be a UUID")
    .transform((id) => id.toLowerCase())
    .optional(),
  kind: z.enum(jobKinds),
  payload: z.record(z.string(), z.unknown()),
  orderingKey: z.string().min(1).max(1000).optional(),
  startAfter: z
    .date()
    .refine((date) => !Number.isNaN(date.getTime()), "must be a valid date")
    .optional(),
});

const storedJobSchema = z.object({
  kind: z.enum(jobKinds),
  payload: z.record(z.string(), z.unknown()),
});

type StoredJob = z.output<typeof storedJobSchema>;

const workOptionsSchema = z.object({ concurrency: z.number().int().min(1).max(100).default(4) });

/** `connector.<name>` for a connector name (lower-case letters, digits, `-`, `_`). */
export function connectorQueueName(connector: string): string {
  if (!connectorNamePattern.test(connector)) {
    throw new ConfigurationError(
      `A connector name must be lower-case letters, digits, "-" or "_" (at most 63), not ${JSON.stringify(connector)}`,
    );
  }
  return `${connectorQueuePrefix}${connector}`;
}

/** A JSON-safe summary of an error for dead letters and job output; never a body or a cause. */
export function describeError(error: unknown): Record<string, unknown> {
  if (isLinqConnectError(error)) return error.toJSON();
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: "NonError", message: String(error) };
}

/**
 * Unknown errors (not a `LinqConnectError`) are retried: a bug may be transient (a database blip, a
 * race), and the retry limit bounds the cost. A `LinqConnectError` says for itself.
 */
export function shouldRetry(error: unknown): boolean {
  if (isLinqConnectError(error)) return error.isRetryable;
  return true;
}

/** Raised as the dead-letter error of a job whose last attempt ended without settling. */
export class JobAttemptsExhaustedError extends Error {
  readonly lastOutput: unknown;
  constructor(message: string, lastOutput: unknown) {
    super(message);
    this.name = "JobAttemptsExhaustedError";
    this.lastOutput = lastOutput;
  }
}

/** Raised as the dead-letter error of a job whose stored data is not a job of this service. */
export class MalformedJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MalformedJobError";
  }
}

/** Thrown inside a settling transaction when the attempt no longer owns the job: rolls it back. */
class ClaimLostError extends Error {
  constructor() {
    super("this attempt no longer owns the job");
    this.name = "ClaimLostError";
  }
}

/**
 * Adds a job to a connector queue: one call of a PL/pgSQL function, in the caller's transaction or on
 * its own (one statement, so atomic either way). It does what pg-boss 12.35's `send` does for the
 * jobs of this service, and a little more:
 *
 * - The row: the same columns as pg-boss's `insertJobs` with the queue's settings (policy, retries,
 *   expiry, retention, deletion, heartbeat, dead letter), `ON CONFLICT DO NOTHING` so that an existing
 *   id makes it a no-op (false); pg-boss's NOTIFY (in the transaction, when the queue notifies and the
 *   job is due), which wakes the queue's dispatchers in every replica. A test compares its rows with
 *   those of pg-boss's own `send` (job-queue.test-helpers.ts), and pg-boss is pinned to 12.35.0.
 * - Enqueue order within a key: pg-boss orders the jobs of a key by `created_on`, then by id.
 *   `created_on` is the inserting transaction's `now()`, so jobs enqueued in one transaction share it,
 *   and PGlite's clock has only millisecond resolution: jobs of one key enqueued in a burst would tie,
 *   and a tie is broken by the (random) id, not by enqueue order. So a new job is moved just after the
 *   latest unfinished job of its key when it does not already sort after it (on PostgreSQL this also
 *   orders a transaction that began earlier but committed later). The two lookups match the predicates
 *   of pg-boss's key_strict_fifo indexes (job_i10, job_i8).
 *
 * Why a function and not pg-boss's `send` plus a statement: PL/pgSQL keeps its statements' plans for
 * the session. On the embedded database the planner runs in WebAssembly on the service's one thread:
 * measured on a file-backed PGlite inside a transaction, pg-boss's send plus the ordering statement
 * took ~1.0 ms per enqueue (mostly planning), the call takes ~0.25 ms; an ingested webhook costs ~2.5
 * ms of database time in all. The name carries a version: a changed body gets a new name, so
 * replicas of different versions never replace each other's function.
 */
export const enqueueFunction = `${queueSchema}.linq_sync_enqueue_v1`;

function createEnqueueFunctionSql(channel: string): string {
  return `CREATE OR REPLACE FUNCTION ${enqueueFunction}(
    queue_name text, job_id uuid, job_data jsonb, ordering_key text, requested_start timestamp with time zone
  ) RETURNS boolean LANGUAGE plpgsql AS $function$
  DECLARE
    settings ${queueSchema}.queue%ROWTYPE;
    starts timestamp with time zone;
    latest timestamp with time zone;
  BEGIN
    SELECT * INTO settings FROM ${queueSchema}.queue WHERE name = queue_name;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'Queue % does not exist', queue_name USING ERRCODE = 'undefined_object';
    END IF;
    starts := COALESCE(requested_start, ${queueSchema}.job_now());
    INSERT INTO ${queueSchema}.job (
      id, name, data, priority, start_after, created_on, singleton_key, singleton_on, group_id, group_tier,
      expire_seconds, deletion_seconds, keep_until, retry_limit, retry_delay, retry_backoff, retry_delay_max,
      policy, dead_letter, heartbeat_seconds, blocked, blocking, pending_dependencies
    ) VALUES (
      job_id, queue_name, job_data, 0, starts, ${queueSchema}.job_now(), ordering_key, NULL, NULL, NULL,
      settings.expire_seconds, settings.deletion_seconds,
      starts + settings.retention_seconds * interval '1s',
      settings.retry_limit, settings.retry_delay, COALESCE(settings.retry_backoff, false), settings.retry_delay_max,
      settings.policy, settings.dead_letter, settings.heartbeat_seconds, false, false, 0
    )
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
      RETURN false;
    END IF;
    SELECT GREATEST(
      (SELECT max(created_on) FROM ${queueSchema}.job
        WHERE name = queue_name AND singleton_key = ordering_key AND id <> job_id
          AND state < 'active' AND NOT blocked AND policy = 'key_strict_fifo'),
      (SELECT max(created_on) FROM ${queueSchema}.job
        WHERE name = queue_name AND singleton_key = ordering_key
          AND state IN ('active', 'retry', 'failed') AND policy = 'key_strict_fifo')
    ) INTO latest;
    IF latest IS NOT NULL THEN
      UPDATE ${queueSchema}.job SET created_on = latest + interval '1 microsecond'
        WHERE name = queue_name AND id = job_id AND created_on <= latest;
    END IF;
    IF settings.notify AND starts <= ${queueSchema}.job_now() THEN
      PERFORM pg_notify('${channel}', queue_name);
    END IF;
    RETURN true;
  END
  $function$`;
}

const enqueueSql = `SELECT ${enqueueFunction}($1, $2::uuid, $3::jsonb, $4, $5::timestamptz) AS created`;

/** Serialises the installation of the queue's functions across replicas. */
const queueFunctionsLockKey = "linq-sync:queue-functions";

/** pg-boss's `db` option over one of our executors (a caller's transaction). */
export function toPgBossDatabase(executor: SqlExecutor): PgBossDatabase {
  return {
    async executeSql(text: string, values?: unknown[]) {
      const result = await executor.query(text, values ?? []);
      return { rows: result.rows };
    },
  };
}

function toDate(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === "string" || typeof value === "number") return new Date(value);
  throw new TypeError(`Expected a timestamp, got ${typeof value}`);
}

/**
 * How many jobs a pg-boss settle call changed. Its type declares nothing, but every settle returns
 * `affected`; a missing count would make fenced settling unsafe, so it is an error.
 */
function affectedCount(response: unknown): number {
  const affected = (response as { affected?: unknown } | null)?.affected;
  if (typeof affected !== "number") throw new Error("pg-boss did not report how many jobs it settled");
  return affected;
}

function attemptOf(job: { id: string; retryCount: number }): { id: string; retryCount: number } {
  return { id: job.id, retryCount: job.retryCount };
}

function delay(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, milliseconds)).unref());
}

/** The ids a pg-boss settle or touch call reports it changed, when it reports them. */
function settledIds(response: unknown): readonly string[] | undefined {
  const settled = (response as { settled?: unknown } | null)?.settled;
  return Array.isArray(settled) && settled.every((id) => typeof id === "string") ? settled : undefined;
}

/**
 * The LISTEN channel pg-boss 12 NOTIFYs on for a schema: `pgboss_` and the first 24 hex digits of
 * the schema name's SHA-224 (pg-boss's notifyChannelSql, computed here instead of in SQL).
 */
export function notificationChannel(schema: string): string {
  return `pgboss_${createHash("sha224").update(schema).digest("hex").slice(0, 24)}`;
}

function validationError(what: string, error: z.ZodError): ValidationError {
  const fieldErrors = error.issues.map((issue) => ({
    field: issue.path.map(String).join("."),
    message: issue.message,
  }));
  return new ValidationError(
    `${what}: ${fieldErrors.map((issue) => (issue.field === "" ? issue.message : `${issue.field} ${issue.message}`)).join("; ")}`,
    { source: "internal", fieldErrors },
  );
}

export function createJobQueue(options: JobQueueOptions): JobQueue {
  const { database, logger, deadLetters } = options;
  const parsed = optionsSchema.safeParse({
    retryLimit: options.retryLimit,
    retryDelaySeconds: options.retryDelaySeconds,
    retryDelayMaxSeconds: options.retryDelayMaxSeconds,
    expireInSeconds: options.expireInSeconds,
    heartbeatSeconds: options.heartbeatSeconds,
    pollingIntervalSeconds: options.pollingIntervalSeconds,
    minimumFetchIntervalMs: options.minimumFetchIntervalMs,
    superviseIntervalSeconds: options.superviseIntervalSeconds,
    maxConnections: options.maxConnections,
  });
  if (!parsed.success) {
    const details = parsed.error.issues
      .map((issue) => `${issue.path.map(String).join(".")}: ${issue.message}`)
      .join("; ");
    throw new ConfigurationError(`Invalid job queue settings: ${details}`);
  }
  const settings: Settings = parsed.data;

  const queueOptions = {
    policy: "key_strict_fifo",
    retryLimit: settings.retryLimit + settlementAttempts,
    retryDelay: settings.retryDelaySeconds,
    retryBackoff: true,
    retryDelayMax: settings.retryDelayMaxSeconds,
    expireInSeconds: settings.expireInSeconds,
    heartbeatSeconds: settings.heartbeatSeconds,
    notify: true,
  } satisfies Omit<PgBossQueueOptions, "name">;

  let boss: PgBoss | undefined;
  let state: "created" | "starting" | "running" | "stopping" | "stopped" = "created";
  let starting: Promise<void> | undefined;
  const ensured = new Map<string, Promise<void>>();
  const ready = new Set<string>();
  /** The dispatcher of each queue worked in this process. */
  const dispatchers = new Map<string, QueueDispatcher>();
  let notifications: { close(): Promise<void> } | undefined;
  const maintenance =
    database.kind === "pglite"
      ? createQueueMaintenance({ database, schema: queueSchema, queuePrefix: connectorQueuePrefix, logger })
      : undefined;
  const listeners = new Map<JobEventName, JobEventListener[]>();

  function emit(event: JobEventName, info: JobEventInfo): void {
    for (const listener of listeners.get(event) ?? []) {
      try {
        listener(info);
      } catch (error) {
        logger.error({ event, error: describeError(error) }, "a job queue listener threw");
      }
    }
  }

  function running(): PgBoss {
    if (boss === undefined || state !== "running") {
      throw new NetworkError(`The job queue is not running (${state})`, { source: "internal" });
    }
    return boss;
  }

  function constructorOptions(): ConstructorOptions {
    const common: ConstructorOptions = {
      schema: queueSchema,
      migrate: true,
      supervise: true,
      schedule: false,
      // The dispatchers listen themselves (listenForNewJobs): pg-boss's listener wakes only its own
      // workers, and the service runs none.
      useListenNotify: false,
      superviseIntervalSeconds: settings.superviseIntervalSeconds,
      monitorIntervalSeconds: settings.superviseIntervalSeconds,
      persistWarnings: false,
    };
    const connection = database.queueConnection;
    if (connection.kind === "pglite") {
      // pg-boss statements and the service's share the one PGlite session; PGlite serialises them.
      return { ...common, backend: "pglite", db: fromPglite(connection.pglite), reindex: false };
    }
    return {
      ...common,
      backend: "postgres",
      connectionString: connection.connectionString,
      max: settings.maxConnections,
      application_name: "linq-sync-queue",
    };
  }

  async function ensureQueue(connector: string): Promise<void> {
    const name = connectorQueueName(connector);
    const instance = running();
    await instance.createQueue(name, queueOptions);
    const existing = await instance.getQueue(name);
    if (existing === null) throw new Error(`pg-boss did not create the queue ${name}`);
    if (existing.policy !== "key_strict_fifo") {
      throw new ConfigurationError(
        `The queue ${name} exists with the policy "${existing.policy}"; per-conversation ordering needs "key_strict_fifo". ` +
          `Drain it and delete it (pg-boss deleteQueue) so that the service can create it again.`,
      );
    }
    const drift =
      existing.retryLimit !== queueOptions.retryLimit ||
      existing.retryDelay !== queueOptions.retryDelay ||
      existing.retryBackoff !== queueOptions.retryBackoff ||
      existing.retryDelayMax !== queueOptions.retryDelayMax ||
      existing.expireInSeconds !== queueOptions.expireInSeconds ||
      existing.heartbeatSeconds !== queueOptions.heartbeatSeconds ||
      existing.notify !== queueOptions.notify;
    if (drift) {
      const { policy: _policy, ...updatable } = queueOptions;
      await instance.updateQueue(name, updatable);
      logger.info({ queue: name }, "job queue settings updated");
    }
    // Loads the queue into pg-boss's in-memory cache, so that a later pg-boss call inside one of our
    // transactions (settling a job) needs no statement outside it (on PGlite that would wait for it).
    await instance.getBlockedKeys(name);
    ready.add(name);
  }

  async function settleInTransaction<T>(work: (executor: SqlExecutor) => Promise<T>): Promise<T | undefined> {
    try {
      return await database.transaction(work);
    } catch (error) {
      if (error instanceof ClaimLostError) return undefined;
      throw error;
    }
  }

  async function deadLetter(
    instance: PgBoss,
    job: QueueJob,
    attempt: { id: string; retryCount: number },
    error: Record<string, unknown>,
    attempts: number,
  ): Promise<boolean> {
    const settled = await settleInTransaction(async (executor) => {
      await deadLetters.add(executor, {
        queue: job.queue,
        jobId: job.id,
        connector: job.connector,
        jobKind: job.kind,
        orderingKey: job.orderingKey,
        payload: job.payload,
        error,
        attempts,
      });
      const completion = await instance.complete(
        job.queue,
        attempt,
        { deadLettered: true, error },
        { db: toPgBossDatabase(executor) },
      );
      if (affectedCount(completion) === 0) throw new ClaimLostError();
      return true;
    });
    return settled === true;
  }

  async function scheduleRetry(
    instance: PgBoss,
    job: QueueJob,
    attempt: { id: string; retryCount: number },
    error: unknown,
  ): Promise<boolean> {
    const output = { error: describeError(error), attempt: job.attempt };
    const retryAfter = isLinqConnectError(error) ? error.retryAfter : undefined;
    if (retryAfter === undefined || !Number.isFinite(retryAfter) || retryAfter <= 0) {
      const failure = await instance.fail(job.queue, attempt, output);
      return affectedCount(failure) > 0;
    }
    // The upstream said how long to wait: record the failure and push the next attempt back to at
    // least `retryAfter` from now in one transaction, so no worker can take the job in between.
    const settled = await settleInTransaction(async (executor) => {
      const db = toPgBossDatabase(executor);
      const failure = await instance.fail(job.queue, attempt, output, { db });
      if (affectedCount(failure) === 0) throw new ClaimLostError();
      const [current] = await instance.findJobs(job.queue, { id: job.id, db });
      const clock = await executor.query<{ now: unknown }>("SELECT now() AS now");
      const now = clock.rows[0]?.now;
      if (current === undefined || now === undefined) return true;
      const earliest = new Date(toDate(now).getTime() + retryAfter * 1000);
      if (current.state === "retry" && toDate(current.startAfter).getTime() < earliest.getTime()) {
        await instance.update(job.queue, undefined, { id: job.id, startAfter: earliest, db });
      }
      return true;
    });
    return settled === true;
  }

  function abandoned(job: QueueJob, durationMs: number, reason: unknown): void {
    logger.warn(
      { connector: job.connector, jobId: job.id, attempt: job.attempt, reason: describeError(reason) },
      "job attempt abandoned; the job will run again",
    );
    emit("failed", { connector: job.connector, job, durationMs, error: reason });
    emit("retried", { connector: job.connector, job, durationMs, error: reason });
  }

  async function runAttempt(
    instance: PgBoss,
    connector: string,
    queue: string,
    raw: ClaimedJob,
    signal: AbortSignal,
    handler: JobHandler,
    completions: CompletionBatcher,
  ): Promise<void> {
    const attempt = attemptOf(raw);
    const stored = storedJobSchema.safeParse(raw.data);
    const data: StoredJob = stored.success
      ? stored.data
      : { kind: "connector-job", payload: { malformed: raw.data } };
    const job: QueueJob = {
      id: raw.id,
      queue,
      connector,
      kind: data.kind,
      payload: data.payload,
      orderingKey: raw.singletonKey ?? raw.id,
      attempt: raw.retryCount + 1,
      createdAt: toDate(raw.createdOn),
      signal,
    };
    const maxAttempts = Math.max(1, raw.retryLimit - settlementAttempts + 1);

    if (!stored.success) {
      const error = new MalformedJobError(`The job ${raw.id} in ${queue} does not hold a kind and a payload`);
      if (await deadLetter(instance, job, attempt, describeError(error), 0)) {
        logger.error({ connector, jobId: job.id }, "malformed job dead-lettered");
        emit("failed", { connector, job, durationMs: 0, error });
        emit("dead", { connector, job, durationMs: 0, error });
      }
      return;
    }

    if (job.attempt > maxAttempts) {
      // The last regular attempt ended without settling (its process died, it expired, or its
      // dead-letter write failed): dead-letter it now rather than let pg-boss fail it and block the key.
      const error = new JobAttemptsExhaustedError(
        `The job's attempts are exhausted (${maxAttempts}); the last one ended without a result`,
        raw.output ?? null,
      );
      const description = { ...describeError(error), lastOutput: raw.output ?? null };
      if (await deadLetter(instance, job, attempt, description, maxAttempts)) {
        logger.error(
          { connector, jobId: job.id, attempts: maxAttempts },
          "job dead-lettered: attempts exhausted",
        );
        emit("failed", { connector, job, durationMs: 0, error });
        emit("dead", { connector, job, durationMs: 0, error });
      }
      return;
    }

    const started = performance.now();
    let failure: { error: unknown } | undefined;
    try {
      await handler(job);
    } catch (error) {
      failure = { error };
    }
    const durationMs = performance.now() - started;

    if (job.signal.aborted) {
      // pg-boss gave up on this attempt (shutdown, expiry, lost claim) and has already released it.
      abandoned(job, durationMs, job.signal.reason ?? failure?.error);
      return;
    }

    if (failure === undefined) {
      if (!(await completions.complete(attempt))) {
        abandoned(job, durationMs, new Error("the job was reclaimed before its completion was recorded"));
        return;
      }
      logger.debug({ connector, jobId: job.id, attempt: job.attempt, durationMs }, "job processed");
      emit("processed", { connector, job, durationMs });
      return;
    }

    const { error } = failure;
    // While the queue stops, a failure may be the shutdown's doing (aborted requests, closing pools):
    // release the job to run again rather than dead-letter it. On its last attempt it is then
    // dead-lettered as exhausted by the next run, without running again.
    const retry = (shouldRetry(error) && job.attempt < maxAttempts) || state !== "running";
    if (retry) {
      if (!(await scheduleRetry(instance, job, attempt, error))) {
        abandoned(job, durationMs, error);
        return;
      }
      logger.warn(
        { connector, jobId: job.id, attempt: job.attempt, maxAttempts, error: describeError(error) },
        "job failed; it will be retried",
      );
      emit("failed", { connector, job, durationMs, error });
      emit("retried", { connector, job, durationMs, error });
      return;
    }

    if (!(await deadLetter(instance, job, attempt, describeError(error), job.attempt))) {
      abandoned(job, durationMs, error);
      return;
    }
    logger.error(
      { connector, jobId: job.id, attempt: job.attempt, error: describeError(error) },
      shouldRetry(error) ? "job dead-lettered: retries exhausted" : "job dead-lettered: not retryable",
    );
    emit("failed", { connector, job, durationMs, error });
    emit("dead", { connector, job, durationMs, error });
  }

  /** Creates the queue's own functions in pg-boss's schema (once pg-boss has installed it). */
  async function installQueueFunctions(): Promise<void> {
    const [schema, name] = enqueueFunction.split(".");
    const installed = async () =>
      (
        await database.query(
          `SELECT 1 FROM pg_proc JOIN pg_namespace ON pg_namespace.oid = pg_proc.pronamespace
             WHERE pg_namespace.nspname = $1 AND pg_proc.proname = $2`,
          [schema, name],
        )
      ).rowCount > 0;
    if (await installed()) return;
    // Under a lock: concurrent CREATE OR REPLACE of one function fails ("tuple concurrently updated").
    await database.withLock(queueFunctionsLockKey, async () => {
      if (!(await installed()))
        await database.exec(createEnqueueFunctionSql(notificationChannel(queueSchema)));
    });
  }

  /**
   * pg-boss NOTIFYs (in the inserting transaction) when a job of a notify-enabled queue becomes
   * claimable, with the queue's name as the payload: that wakes the queue's dispatcher in every
   * replica. The connection is pg-boss's: a dedicated, self-healing LISTEN client on PostgreSQL, the
   * one session on PGlite. Without it, dispatchers fall back to polling.
   */
  async function listenForNewJobs(instance: PgBoss): Promise<{ close(): Promise<void> } | undefined> {
    const connection = instance.getDb();
    if (typeof connection.listen !== "function") {
      logger.warn({}, "the job queue cannot LISTEN on this database; new jobs wait for the next poll");
      return undefined;
    }
    try {
      return await connection.listen(
        notificationChannel(queueSchema),
        (queue) => dispatchers.get(queue)?.wake(),
        // (Re)subscribed: notifications may have been missed meanwhile.
        () => {
          for (const dispatcher of dispatchers.values()) dispatcher.wake();
        },
      );
    } catch (error) {
      logger.warn(
        { message: describeError(error).message },
        "the job queue could not LISTEN; new jobs wait for the next poll",
      );
      return undefined;
    }
  }

  async function startBoss(): Promise<void> {
    const instance = new PgBoss(constructorOptions());
    instance.on("error", (error: Error & { queue?: unknown; code?: unknown }) => {
      // Never the error object itself: pg-boss errors may carry SQL parameters (job payloads).
      logger.error(
        {
          queue: typeof error.queue === "string" ? error.queue : undefined,
          code: typeof error.code === "string" ? error.code : undefined,
          message: error.message,
        },
        "job queue error",
      );
    });
    instance.on("warning", (warning) => {
      const data = warning.data as { type?: unknown } | undefined;
      logger.warn({ type: typeof data?.type === "string" ? data.type : undefined }, warning.message);
    });
    try {
      await instance.start();
      await installQueueFunctions();
      notifications = await listenForNewJobs(instance);
      maintenance?.start();
    } catch (error) {
      state = "stopped";
      await instance.stop({ graceful: false, close: true }).catch(() => {});
      throw error;
    }
    boss = instance;
    state = "running";
    logger.info({ backend: database.kind }, "job queue started");
  }

  const jobQueue: JobQueue = {
    start() {
      if (state !== "created") return Promise.reject(new Error(`The job queue cannot start: it is ${state}`));
      state = "starting";
      starting = startBoss();
      return starting;
    },

    ensureConnectorQueue(connector) {
      const name = connectorQueueName(connector);
      running();
      let pending = ensured.get(name);
      if (pending === undefined) {
        pending = ensureQueue(connector);
        ensured.set(name, pending);
        pending.catch(() => ensured.delete(name));
      }
      return pending;
    },

    async enqueue(connector, input, enqueueOptions = {}) {
      const name = connectorQueueName(connector);
      const parsedInput = jobInputSchema.safeParse(input);
      if (!parsedInput.success) throw validationError(`Invalid job for ${name}`, parsedInput.error);
      const job = parsedInput.data;
      running();
      const { executor } = enqueueOptions;
      if (executor === undefined) {
        await jobQueue.ensureConnectorQueue(connector);
      } else if (!ready.has(name)) {
        // Creating it here would need a statement outside the caller's transaction.
        throw new ConfigurationError(
          `The queue ${name} is not ready: call ensureConnectorQueue("${connector}") before enqueueing inside a transaction`,
        );
      }
      const id = job.id ?? randomUUID();
      const orderingKey = job.orderingKey ?? id;
      const stored: StoredJob = { kind: job.kind, payload: job.payload };
      // One statement: atomic on its own, or part of the caller's transaction.
      const result = await (executor ?? database).query<{ created: boolean }>(enqueueSql, [
        name,
        id,
        JSON.stringify(stored),
        orderingKey,
        job.startAfter?.toISOString() ?? null,
      ]);
      const created = result.rows[0]?.created === true;
      if (created) maintenance?.recordActivity(1);
      return { id, created };
    },

    async work(connector, handler, workOptions = {}) {
      const name = connectorQueueName(connector);
      const parsedOptions = workOptionsSchema.safeParse(workOptions);
      if (!parsedOptions.success) {
        throw new ConfigurationError(
          `Invalid work options for ${name}: ${parsedOptions.error.issues.map((issue) => issue.message).join("; ")}`,
        );
      }
      const instance = running();
      if (dispatchers.has(name)) throw new ConfigurationError(`The queue ${name} already has workers`);
      const { concurrency } = parsedOptions.data;
      const minimumFetchIntervalMs =
        settings.minimumFetchIntervalMs ?? defaultMinimumFetchIntervalMs(database.kind, concurrency);
      const completions = createCompletionBatcher(async (attempts) => {
        const completed = settledIds(await instance.complete(name, attempts, null));
        if (completed === undefined) throw new Error("pg-boss did not report which jobs it completed");
        return completed;
      });
      const dispatcher = createQueueDispatcher({
        queue: name,
        concurrency,
        pollingIntervalMs: settings.pollingIntervalSeconds * 1000,
        minimumFetchIntervalMs,
        maximumFetchShare: database.kind === "pglite" ? pgliteMaximumFetchShare : 1,
        onFetched({ durationMs, jobs, batchSize }) {
          maintenance?.recordActivity(jobs);
          maintenance?.recordFetch(durationMs);
          options.onFetch?.({ connector, durationMs, jobs, batchSize });
        },
        logger,
        backend: {
          fetch: (batchSize) => instance.fetch(name, { batchSize, includeMetadata: true }),
          async touch(attempts) {
            return settledIds(await instance.touch(name, attempts));
          },
          async release(attempts, reason) {
            await instance.fail(name, attempts, reason);
          },
        },
        run: (raw, signal) => runAttempt(instance, connector, name, raw, signal, handler, completions),
      });
      dispatchers.set(name, dispatcher);
      try {
        await jobQueue.ensureConnectorQueue(connector);
      } catch (error) {
        dispatchers.delete(name);
        throw error;
      }
      if (state !== "running") {
        dispatchers.delete(name);
        throw new NetworkError(`The job queue is not running (${state})`, { source: "internal" });
      }
      dispatcher.start();
      logger.info({ queue: name, concurrency, minimumFetchIntervalMs }, "job queue workers started");
    },

    async depth() {
      const instance = running();
      const result = await instance.getDb().executeSql(
        `SELECT name, state::text AS state, count(*)::integer AS count FROM ${queueSchema}.job
           WHERE starts_with(name, $1) AND state IN ('created', 'retry', 'active')
           GROUP BY name, state`,
        [connectorQueuePrefix],
      );
      const depths: Record<string, QueueDepth> = {};
      for (const name of ready)
        depths[name.slice(connectorQueuePrefix.length)] = { queued: 0, active: 0, retry: 0 };
      for (const row of result.rows as { name: string; state: string; count: number | string }[]) {
        const connector = row.name.slice(connectorQueuePrefix.length);
        const depth = depths[connector] ?? { queued: 0, active: 0, retry: 0 };
        depths[connector] = depth;
        const count = Number(row.count);
        if (row.state === "created") depth.queued += count;
        else if (row.state === "retry") depth.retry += count;
        else if (row.state === "active") depth.active += count;
      }
      return depths;
    },

    async ping() {
      const instance = running();
      let version: number | null;
      try {
        version = await instance.schemaVersion();
      } catch (error) {
        throw new NetworkError(`The job queue's database does not answer: ${describeError(error).message}`, {
          source: "internal",
          cause: error,
        });
      }
      if (version === null) {
        throw new NetworkError("The job queue's schema is not installed", { source: "internal" });
      }
    },

    async stop(stopOptions = {}) {
      const graceful = stopOptions.graceful ?? true;
      const timeoutMs = stopOptions.timeoutMs ?? 20_000;
      if (state === "created") {
        state = "stopped";
        return;
      }
      if (state === "starting") await starting?.catch(() => {});
      if (state !== "running" || boss === undefined) return;
      state = "stopping";
      const deadline = performance.now() + timeoutMs;
      const instance = boss;
      try {
        await notifications?.close().catch((error: unknown) => {
          logger.warn(
            { message: describeError(error).message },
            "the job queue's LISTEN did not close cleanly",
          );
        });
        notifications = undefined;
        // Stop fetching; graceful: let held jobs finish until the deadline; then release the rest.
        await Promise.all(
          [...dispatchers.values()].map((dispatcher) => dispatcher.stop({ graceful, deadline })),
        );
        await maintenance?.stop();
        const unwinding = [...dispatchers.values()].flatMap((dispatcher) => dispatcher.running());
        if (graceful && unwinding.length > 0) {
          // Released attempts may still be settling; give them what is left of the timeout.
          await Promise.race([Promise.allSettled(unwinding), delay(deadline - performance.now())]);
        }
        await instance.stop({ graceful, timeout: Math.max(1000, deadline - performance.now()), close: true });
      } finally {
        state = "stopped";
        dispatchers.clear();
        logger.info({ graceful }, "job queue stopped");
      }
    },

    on(event, listener) {
      const list = listeners.get(event) ?? [];
      list.push(listener);
      listeners.set(event, list);
    },
  };
  return jobQueue;
}

/**
 * Enqueues a dead-lettered job again, as a new job (a new id, attempt 1) with the same kind,
 * payload and ordering key. The caller marks the dead letter as replayed with the returned id.
 */
export async function replayDeadLetter(
  queue: JobQueue,
  entry: {
    connector: string;
    jobKind: string;
    payload: Record<string, unknown>;
    orderingKey?: string | undefined;
  },
): Promise<{ id: string }> {
  const kind = jobKinds.find((candidate) => candidate === entry.jobKind);
  if (kind === undefined) {
    throw new ValidationError(`Cannot replay a job of kind ${JSON.stringify(entry.jobKind)}`, {
      source: "internal",
    });
  }
  const { id } = await queue.enqueue(entry.connector, {
    kind,
    payload: entry.payload,
    ...(entry.orderingKey === undefined ? {} : { orderingKey: entry.orderingKey }),
  });
  return { id };
}
