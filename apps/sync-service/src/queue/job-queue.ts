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
 * - Low latency without busy polling: a new job wakes idle workers at once (LISTEN/NOTIFY, on PGlite
 *   and PostgreSQL), and a worker that has just finished a job fetches again at once (the next job of
 *   that conversation became available when this one completed); polling remains the safety net.
 */
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { ConfigurationError, isLinqConnectError, NetworkError, ValidationError } from "@linq-connect/core";
import {
  type ConstructorOptions,
  fromPglite,
  type JobWithMetadata,
  PgBoss,
  type Db as PgBossDatabase,
  type Queue as PgBossQueueOptions,
} from "pg-boss";
import { z } from "zod";
import type { Database, SqlExecutor } from "../database/database-types.ts";
import { isUuid } from "./job-ids.ts";

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
  /** How often the supervisor looks for expired jobs and lapsed heartbeats. Default 15. */
  superviseIntervalSeconds?: number;
  /** Connections of pg-boss's own pool on PostgreSQL (plus one for LISTEN). Default 4. */
  maxConnections?: number;
}

const optionsSchema = z
  .object({
    retryLimit: z.number().int().min(0).max(100).default(8),
    retryDelaySeconds: z.number().int().min(1).max(3600).default(2),
    retryDelayMaxSeconds: z.number().int().min(1).max(86_400).default(300),
    expireInSeconds: z.number().int().min(1).max(86_400).default(300),
    heartbeatSeconds: z.number().int().min(10).max(3600).default(30),
    pollingIntervalSeconds: z.number().min(0.5).max(300).default(0.5),
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
 * pg-boss orders the jobs of a key by `created_on`, then by id. `created_on` is the inserting
 * transaction's `now()`, so jobs enqueued in one transaction share it, and PGlite's clock has only
 * millisecond resolution: jobs of one key enqueued in a burst would tie, and a tie is broken by the
 * (random) id, not by enqueue order. Run in the inserting transaction, this moves a new job just after
 * the latest unfinished job of its key when it does not already sort after it. It writes one column
 * of pg-boss's job table (pg-boss 12.35 reads it only for ordering and statistics); the two lookups
 * match the predicates of pg-boss's key_strict_fifo indexes (job_i10, job_i8).
 */
const orderAfterPredecessorsSql = `WITH previous AS MATERIALIZED (
    SELECT GREATEST(
      (SELECT max(created_on) FROM ${queueSchema}.job
        WHERE name = $1 AND singleton_key = $2 AND id <> $3::uuid
          AND state < 'active' AND NOT blocked AND policy = 'key_strict_fifo'),
      (SELECT max(created_on) FROM ${queueSchema}.job
        WHERE name = $1 AND singleton_key = $2
          AND state IN ('active', 'retry', 'failed') AND policy = 'key_strict_fifo')
    ) AS latest
  )
  UPDATE ${queueSchema}.job AS job
  SET created_on = previous.latest + interval '1 microsecond'
  FROM previous
  WHERE job.name = $1 AND job.id = $3::uuid AND previous.latest IS NOT NULL AND job.created_on <= previous.latest`;

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
  return new Promise((resolve) => setTimeout(resolve, milliseconds).unref());
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
  const working = new Set<string>();
  const inFlight = new Set<Promise<void>>();
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
      useListenNotify: true,
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
    // Loads the queue into pg-boss's in-memory cache, so that a later send inside a caller's
    // transaction needs no statement outside it (on PGlite that would wait for the transaction).
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
    raw: JobWithMetadata<unknown>,
    handler: JobHandler,
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
      signal: raw.signal,
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
      const completion = await instance.complete(queue, attempt, null);
      if (affectedCount(completion) === 0) {
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
      const instance = running();
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
      const send = async (transaction: SqlExecutor) => {
        const result = await instance.send(name, stored, {
          id,
          singletonKey: orderingKey,
          ...(job.startAfter === undefined ? {} : { startAfter: job.startAfter }),
          db: toPgBossDatabase(transaction),
        });
        if (result === null) return { id, created: false };
        await transaction.query(orderAfterPredecessorsSql, [name, orderingKey, id]);
        return { id, created: true };
      };
      return executor === undefined ? database.transaction(send) : send(executor);
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
      if (working.has(name)) throw new ConfigurationError(`The queue ${name} already has workers`);
      working.add(name);
      try {
        await jobQueue.ensureConnectorQueue(connector);
        // One pg-boss worker per slot (each fetching one job), so that a worker that just finished a
        // job can be told to fetch again at once: the next job of the same conversation becomes
        // available only when this one completes, and should not wait for the next poll.
        for (let slot = 0; slot < parsedOptions.data.concurrency; slot += 1) {
          const worker: { id: string | undefined } = { id: undefined };
          worker.id = await instance.work(
            name,
            {
              batchSize: 1,
              includeMetadata: true,
              localConcurrency: 1,
              pollingIntervalSeconds: settings.pollingIntervalSeconds,
              notifyPollingIntervalSeconds: settings.pollingIntervalSeconds,
            },
            async (jobs: JobWithMetadata<unknown>[]) => {
              for (const raw of jobs) {
                const run = runAttempt(instance, connector, name, raw, handler);
                inFlight.add(run);
                try {
                  await run;
                } finally {
                  inFlight.delete(run);
                }
              }
              if (worker.id !== undefined && state === "running") instance.notifyWorker(worker.id);
            },
          );
        }
      } catch (error) {
        working.delete(name);
        await instance.offWork(name, { wait: false }).catch(() => {});
        throw error;
      }
      logger.info({ queue: name, concurrency: parsedOptions.data.concurrency }, "job queue workers started");
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
      const deadline = Date.now() + timeoutMs;
      try {
        await boss.stop({ graceful, timeout: timeoutMs, close: true });
        if (graceful && inFlight.size > 0) {
          // Attempts pg-boss released at the deadline may still be settling; give them what is left.
          await Promise.race([Promise.allSettled([...inFlight]), delay(Math.max(0, deadline - Date.now()))]);
        }
      } finally {
        state = "stopped";
        working.clear();
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
