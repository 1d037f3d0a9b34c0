/**
 * The job queue's behaviour, as scenarios that run on each database backend (PGlite in
 * job-queue.test.ts, PostgreSQL in job-queue.postgres.test.ts). Every test works its own connector
 * queue, so tests can share a database and run concurrently.
 */
import { RateLimitError, ServerError, ValidationError } from "@linq-connect/core";
import { type ConstructorOptions, fromPglite, PgBoss } from "pg-boss";
import { describe, expect, it, type TestContext } from "vitest";
import type { Database } from "../database/database-types.ts";
import { migrate } from "../database/migrations.ts";
import { createDeadLetterStore, type DeadLetterStore } from "../store/dead-letter-store.ts";
import { eventJobId } from "./job-ids.ts";
import {
  createJobQueue,
  type FetchInfo,
  type JobEventInfo,
  type JobEventName,
  type JobQueue,
  type JobQueueOptions,
  type QueueLogger,
  replayDeadLetter,
} from "./job-queue.ts";

export interface LogRecord {
  level: string;
  object: Record<string, unknown>;
  message: string | undefined;
}

export function recordingLogger(records: LogRecord[]): QueueLogger {
  const record = (level: string) => (object: Record<string, unknown>, message?: string) => {
    records.push({ level, object, message });
  };
  return { debug: record("debug"), info: record("info"), warn: record("warn"), error: record("error") };
}

export function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

/** Settings that keep the tests fast: short backoff, a 1 s supervisor, pg-boss's minimum heartbeat. */
export const fastSettings = {
  retryLimit: 3,
  retryDelaySeconds: 1,
  retryDelayMaxSeconds: 1,
  heartbeatSeconds: 10,
  expireInSeconds: 60,
  pollingIntervalSeconds: 0.5,
  superviseIntervalSeconds: 1,
  // Test files share one PostgreSQL server and its connection limit.
  maxConnections: 3,
} satisfies Partial<JobQueueOptions>;

export type QueueOverrides = Partial<Omit<JobQueueOptions, "database" | "logger" | "deadLetters">>;

export type Cleanup = () => Promise<void>;
/** Registers a cleanup for the running test; cleanups run in reverse order of registration. */
export type Track = (cleanup: Cleanup) => void;

export function tracker(context: TestContext): Track {
  return (cleanup) => context.onTestFinished(() => cleanup().catch(() => {}));
}

export interface Backend {
  name: "pglite" | "postgres";
  /** The database of one test (possibly shared with others) and a way to open a second connection. */
  open(track: Track): Promise<{ database: Database; openAnother(): Promise<Database> }>;
}

export interface Harness {
  /** This test's connector: its queue is `connector.<connector>`. */
  connector: string;
  database: Database;
  store: DeadLetterStore;
  logs: LogRecord[];
  /** Starts a queue instance (stopped without grace when the test ends). */
  startQueue(overrides?: QueueOverrides, database?: Database): Promise<JobQueue>;
  /** Another connection to the same database (a second "process"); PGlite has only one. */
  openAnother(): Promise<Database>;
  events(queue: JobQueue): Record<JobEventName, JobEventInfo[]>;
}

let connectorCounter = 0;

export async function setup(backend: Backend, context: TestContext): Promise<Harness> {
  const track = tracker(context);
  const { database, openAnother } = await backend.open(track);
  await migrate(database);
  connectorCounter += 1;
  const connector = `test-${connectorCounter}`;
  const logs: LogRecord[] = [];
  return {
    connector,
    database,
    store: createDeadLetterStore(database),
    logs,
    openAnother,
    async startQueue(overrides = {}, on = database) {
      const queue = createJobQueue({
        database: on,
        logger: recordingLogger(logs),
        deadLetters: createDeadLetterStore(on),
        ...fastSettings,
        ...overrides,
      });
      await queue.start();
      track(() => queue.stop({ graceful: false }));
      return queue;
    },
    events(queue) {
      const recorded: Record<JobEventName, JobEventInfo[]> = {
        processed: [],
        retried: [],
        dead: [],
        failed: [],
      };
      for (const name of Object.keys(recorded) as JobEventName[]) {
        queue.on(name, (info) => {
          if (info.connector === connector) recorded[name].push(info);
        });
      }
      return recorded;
    },
  };
}

/** A plain pg-boss on the queue's schema (no migration, supervisor or schedules), to compare with. */
export function plainPgBossOptions(database: Database): ConstructorOptions {
  const common = {
    schema: "pgboss",
    migrate: false,
    supervise: false,
    schedule: false,
    useListenNotify: false,
  };
  const connection = database.queueConnection;
  return connection.kind === "pglite"
    ? { ...common, backend: "pglite", db: fromPglite(connection.pglite) }
    : { ...common, backend: "postgres", connectionString: connection.connectionString, max: 2 };
}

export async function jobRow(
  database: Database,
  id: string,
): Promise<{ state: string; retry_count: number; output: unknown } | undefined> {
  const { rows } = await database.query<{ state: string; retry_count: number; output: unknown }>(
    "SELECT state::text AS state, retry_count, output FROM pgboss.job WHERE id = $1",
    [id],
  );
  return rows[0];
}

export function defineQueueScenarios(backend: Backend): void {
  describe(`job queue on ${backend.name}`, { concurrent: true }, () => {
    it("runs the jobs of one ordering key one at a time and in order, other keys in parallel", async (context) => {
      const harness = await setup(backend, context);
      const { connector } = harness;
      const queue = await harness.startQueue();
      const keys = 5;
      const perKey = 30;
      await queue.ensureConnectorQueue(connector);
      for (let sequence = 0; sequence < perKey; sequence += 1) {
        for (let key = 0; key < keys; key += 1) {
          await queue.enqueue(connector, {
            kind: "connector-job",
            payload: { key, sequence },
            orderingKey: `chat:${key}`,
          });
        }
      }
      const seen = new Map<number, number[]>();
      const activeByKey = new Map<number, number>();
      let active = 0;
      let maxActive = 0;
      let sameKeyOverlap = 0;
      let done = 0;
      await queue.work(
        connector,
        async (job) => {
          const key = job.payload.key as number;
          if ((activeByKey.get(key) ?? 0) > 0) sameKeyOverlap += 1;
          activeByKey.set(key, (activeByKey.get(key) ?? 0) + 1);
          active += 1;
          maxActive = Math.max(maxActive, active);
          await sleep(5 + Math.random() * 15);
          seen.set(key, [...(seen.get(key) ?? []), job.payload.sequence as number]);
          activeByKey.set(key, (activeByKey.get(key) ?? 0) - 1);
          active -= 1;
          done += 1;
        },
        { concurrency: 8 },
      );
      await waitFor(() => done === keys * perKey, 40_000, "every job");
      const expected = Array.from({ length: perKey }, (_, index) => index);
      for (let key = 0; key < keys; key += 1) expect(seen.get(key)).toEqual(expected);
      expect(sameKeyOverlap).toBe(0);
      expect(maxActive).toBeGreaterThan(1);
    }, 60_000);

    it("keeps the enqueue order of one key when its jobs share a creation time (one transaction)", async (context) => {
      const harness = await setup(backend, context);
      const { connector } = harness;
      const queue = await harness.startQueue();
      await queue.ensureConnectorQueue(connector);
      const count = 20;
      await harness.database.transaction(async (transaction) => {
        for (let sequence = 0; sequence < count; sequence += 1) {
          await queue.enqueue(
            connector,
            { kind: "connector-job", payload: { sequence }, orderingKey: "chat:same-instant" },
            { executor: transaction },
          );
        }
      });
      const seen: number[] = [];
      await queue.work(
        connector,
        async (job) => {
          seen.push(job.payload.sequence as number);
        },
        { concurrency: 4 },
      );
      await waitFor(() => seen.length === count, 20_000, "every job");
      expect(seen).toEqual(Array.from({ length: count }, (_, index) => index));
    });

    it("wakes an idle worker as soon as a job is enqueued, without waiting for its next poll", async (context) => {
      const harness = await setup(backend, context);
      const { connector } = harness;
      const queue = await harness.startQueue({ pollingIntervalSeconds: 10 });
      const started: number[] = [];
      await queue.work(connector, async () => {
        started.push(Date.now());
      });
      // Let the worker's first (empty) fetch pass, so that it is waiting out its 10 s poll.
      await sleep(500);
      const enqueuedAt = Date.now();
      await queue.enqueue(connector, { kind: "connector-job", payload: {} });
      await waitFor(() => started.length === 1, 5_000, "the job");
      expect((started[0] ?? 0) - enqueuedAt).toBeLessThan(2_000);
    });

    it("enqueues idempotently by id: the same id twice is one job, created:false the second time", async (context) => {
      const harness = await setup(backend, context);
      const { connector } = harness;
      const queue = await harness.startQueue();
      const id = eventJobId("evt_1", connector);
      const job = { id, kind: "linq-event" as const, payload: { eventId: "evt_1" }, orderingKey: "chat:1" };
      expect(await queue.enqueue(connector, job)).toEqual({ id, created: true });
      expect(await queue.enqueue(connector, job)).toEqual({ id, created: false });
      const runs: string[] = [];
      const events = harness.events(queue);
      await queue.work(connector, async (received) => {
        runs.push(received.id);
      });
      await waitFor(() => events.processed.length === 1, 10_000, "the job");
      // Still one job once it has completed.
      expect(await queue.enqueue(connector, job)).toEqual({ id, created: false });
      await sleep(700);
      expect(runs).toEqual([id]);
      expect(events.processed[0]?.job).toMatchObject({
        id,
        queue: `connector.${connector}`,
        connector,
        kind: "linq-event",
        payload: { eventId: "evt_1" },
        orderingKey: "chat:1",
        attempt: 1,
      });
      expect(events.processed[0]?.job.createdAt).toBeInstanceOf(Date);
    });

    it("enqueues inside the caller's transaction: a rollback leaves no job, a commit one", async (context) => {
      const harness = await setup(backend, context);
      const { connector } = harness;
      const queue = await harness.startQueue();
      // The queue must exist before a transaction sends to it.
      await expect(
        harness.database.transaction(async (transaction) =>
          queue.enqueue(connector, { kind: "connector-job", payload: {} }, { executor: transaction }),
        ),
      ).rejects.toThrow(/not ready/);
      await queue.ensureConnectorQueue(connector);
      const rolledBack = eventJobId("evt_rolled_back", connector);
      const committed = eventJobId("evt_committed", connector);
      await expect(
        harness.database.transaction(async (transaction) => {
          const result = await queue.enqueue(
            connector,
            { id: rolledBack, kind: "linq-event", payload: { n: 1 } },
            { executor: transaction },
          );
          expect(result.created).toBe(true);
          throw new Error("roll back");
        }),
      ).rejects.toThrow("roll back");
      await harness.database.transaction(async (transaction) => {
        await queue.enqueue(
          connector,
          { id: committed, kind: "linq-event", payload: { n: 2 } },
          { executor: transaction },
        );
      });
      expect(await jobRow(harness.database, rolledBack)).toBeUndefined();
      expect((await queue.depth())[connector]).toEqual({ queued: 1, active: 0, retry: 0 });
      const runs: string[] = [];
      await queue.work(connector, async (job) => {
        runs.push(job.id);
      });
      await waitFor(() => runs.length === 1, 10_000, "the committed job");
      await sleep(600);
      expect(runs).toEqual([committed]);
    });

    it("claims a burst in batches of at most the free slots: far fewer fetches than jobs", async (context) => {
      const harness = await setup(backend, context);
      const { connector } = harness;
      const fetches: FetchInfo[] = [];
      const queue = await harness.startQueue({
        minimumFetchIntervalMs: 50,
        onFetch: (info) => {
          if (info.connector === connector) fetches.push(info);
        },
      });
      await queue.ensureConnectorQueue(connector);
      const jobs = 48;
      for (let index = 0; index < jobs; index += 1) {
        await queue.enqueue(connector, {
          kind: "connector-job",
          payload: { index },
          orderingKey: `chat:${index}`,
        });
      }
      let done = 0;
      let running = 0;
      let mostRunning = 0;
      await queue.work(
        connector,
        async () => {
          running += 1;
          mostRunning = Math.max(mostRunning, running);
          await sleep(5);
          running -= 1;
          done += 1;
        },
        { concurrency: 8 },
      );
      await waitFor(() => done === jobs, 20_000, "every job");
      const claimed = fetches.reduce((sum, fetch) => sum + fetch.jobs, 0);
      expect(claimed).toBe(jobs);
      expect(mostRunning).toBeLessThanOrEqual(8);
      expect(fetches.every((fetch) => fetch.jobs <= fetch.batchSize && fetch.batchSize <= 8)).toBe(true);
      // 48 jobs, 8 at a time: about 6 fetches (one pg-boss worker per slot made ~5 per job).
      expect(fetches.filter((fetch) => fetch.jobs > 0).length).toBeLessThanOrEqual(12);
    });

    it("stores a job exactly as pg-boss's own send does (the enqueue function mirrors it)", async (context) => {
      const harness = await setup(backend, context);
      const { connector } = harness;
      const queue = await harness.startQueue();
      await queue.ensureConnectorQueue(connector);
      const boss = new PgBoss(plainPgBossOptions(harness.database));
      await boss.start();
      tracker(context)(() => boss.stop({ graceful: false, close: true }));
      const name = `connector.${connector}`;
      const later = new Date(Date.now() + 3_600_000);
      for (const startAfter of [undefined, later]) {
        const data = { kind: "connector-job" as const, payload: { text: "same", n: 1 } };
        const ours = await queue.enqueue(connector, {
          ...data,
          orderingKey: `ours:${String(startAfter)}`,
          ...(startAfter === undefined ? {} : { startAfter }),
        });
        const theirs = await boss.send(name, data, {
          singletonKey: `theirs:${String(startAfter)}`,
          ...(startAfter === undefined ? {} : { startAfter }),
        });
        const rows = await harness.database.query<Record<string, unknown>>(
          `SELECT *, extract(epoch FROM keep_until - start_after)::float8 AS retention_seconds,
              (extract(epoch FROM start_after) * 1000)::float8 AS due_ms
             FROM pgboss.job WHERE name = $1 AND id IN ($2::uuid, $3::uuid)`,
          [name, ours.id, theirs],
        );
        const comparable = (row: Record<string, unknown> | undefined) => {
          const {
            id: _id,
            singleton_key: _key,
            created_on: _created,
            start_after: _startsAt,
            keep_until: _keepUntil,
            due_ms: dueMs,
            ...rest
          } = row ?? {};
          // Due now: both at their own insert time; deferred: both at the requested time.
          return { ...rest, due: startAfter === undefined ? "now" : Math.round(Number(dueMs)) };
        };
        const byId = new Map(rows.rows.map((row) => [row.id, row]));
        expect(rows.rows).toHaveLength(2);
        expect(comparable(byId.get(ours.id))).toEqual(comparable(byId.get(theirs ?? "")));
        if (startAfter !== undefined) {
          expect(comparable(byId.get(ours.id)).due).toBe(startAfter.getTime());
        }
      }
    });

    it("retries a retryable error with attempts 1, 2, 3 and then completes", async (context) => {
      const harness = await setup(backend, context);
      const { connector } = harness;
      const queue = await harness.startQueue();
      const events = harness.events(queue);
      const attempts: number[] = [];
      const { id } = await queue.enqueue(connector, {
        kind: "connector-job",
        payload: {},
        orderingKey: "chat:r",
      });
      await queue.work(connector, async (job) => {
        attempts.push(job.attempt);
        if (job.attempt < 3) throw new ServerError("upstream 503", { status: 503 });
      });
      await waitFor(() => events.processed.length === 1, 15_000, "success on the third attempt");
      expect(attempts).toEqual([1, 2, 3]);
      expect(events.failed).toHaveLength(2);
      expect(events.retried).toHaveLength(2);
      expect(events.dead).toHaveLength(0);
      expect(events.retried[0]?.error).toBeInstanceOf(ServerError);
      expect((await jobRow(harness.database, id))?.state).toBe("completed");
      expect(await harness.store.count({ connector })).toBe(0);
    }, 30_000);

    it("retries an unknown error (not a LinqConnectError) like a retryable one", async (context) => {
      const harness = await setup(backend, context);
      const { connector } = harness;
      const queue = await harness.startQueue();
      const events = harness.events(queue);
      const attempts: number[] = [];
      await queue.enqueue(connector, { kind: "connector-job", payload: {} });
      await queue.work(connector, async (job) => {
        attempts.push(job.attempt);
        if (job.attempt === 1) throw new TypeError("a bug that goes away");
      });
      await waitFor(() => events.processed.length === 1, 15_000, "the second attempt");
      expect(attempts).toEqual([1, 2]);
      expect(events.retried).toHaveLength(1);
    });

    it("dead-letters a non-retryable error after one attempt, and the next job of the key then runs", async (context) => {
      const harness = await setup(backend, context);
      const { connector } = harness;
      const queue = await harness.startQueue();
      const events = harness.events(queue);
      const first = await queue.enqueue(connector, {
        kind: "connector-job",
        payload: { name: "first", phone: "+15550001111" },
        orderingKey: "chat:dead",
      });
      await queue.enqueue(connector, {
        kind: "connector-job",
        payload: { name: "second" },
        orderingKey: "chat:dead",
      });
      const runs: string[] = [];
      await queue.work(connector, async (job) => {
        runs.push(job.payload.name as string);
        if (job.payload.name === "first")
          throw new ValidationError("bad request", { status: 400, source: "slack" });
      });
      await waitFor(() => events.processed.length === 1, 10_000, "the second job");
      expect(runs).toEqual(["first", "second"]);
      expect(events.dead).toHaveLength(1);
      expect(events.dead[0]?.job.id).toBe(first.id);
      expect(events.dead[0]?.error).toBeInstanceOf(ValidationError);
      const entries = await harness.store.list({ connector, limit: 10 });
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({
        queue: `connector.${connector}`,
        jobId: first.id,
        connector,
        jobKind: "connector-job",
        orderingKey: "chat:dead",
        payload: { name: "first", phone: "+15550001111" },
        attempts: 1,
        error: {
          name: "ValidationError",
          code: "validation_error",
          status: 400,
          source: "slack",
          isRetryable: false,
        },
      });
      const row = await jobRow(harness.database, first.id);
      expect(row?.state).toBe("completed");
      expect(row?.output).toMatchObject({ deadLettered: true, error: { code: "validation_error" } });
      // Payloads never reach the logs.
      expect(JSON.stringify(harness.logs)).not.toContain("+15550001111");
    });

    it("dead-letters a job whose retries are exhausted, and a dead letter can be replayed", async (context) => {
      const harness = await setup(backend, context);
      const { connector } = harness;
      const queue = await harness.startQueue({ retryLimit: 2 });
      const events = harness.events(queue);
      const attempts: number[] = [];
      const { id } = await queue.enqueue(connector, { kind: "linq-event", payload: { eventId: "evt_x" } });
      let failing = true;
      await queue.work(connector, async (job) => {
        attempts.push(job.attempt);
        if (failing) throw new ServerError("always down", { status: 502 });
      });
      await waitFor(() => events.dead.length === 1, 20_000, "the dead letter");
      expect(attempts).toEqual([1, 2, 3]);
      expect(events.retried).toHaveLength(2);
      expect(events.failed).toHaveLength(3);
      const [entry] = await harness.store.list({ connector, limit: 10 });
      expect(entry).toMatchObject({
        jobId: id,
        attempts: 3,
        jobKind: "linq-event",
        error: { code: "server_error" },
      });
      expect((await jobRow(harness.database, id))?.state).toBe("completed");
      await sleep(1500);
      expect(attempts).toEqual([1, 2, 3]);
      failing = false;
      const replayed = await replayDeadLetter(queue, {
        connector,
        jobKind: entry?.jobKind ?? "",
        payload: entry?.payload as Record<string, unknown>,
        orderingKey: entry?.orderingKey,
      });
      expect(replayed.id).not.toBe(id);
      await waitFor(() => events.processed.length === 1, 10_000, "the replayed job");
      expect(events.processed[0]?.job).toMatchObject({
        id: replayed.id,
        attempt: 1,
        payload: { eventId: "evt_x" },
      });
    }, 40_000);

    it("waits at least retryAfter seconds before retrying a rate-limited job", async (context) => {
      const harness = await setup(backend, context);
      const { connector } = harness;
      const queue = await harness.startQueue();
      const events = harness.events(queue);
      const starts: number[] = [];
      let failedAt = 0;
      await queue.enqueue(connector, { kind: "connector-job", payload: {}, orderingKey: "chat:rate" });
      await queue.work(connector, async (job) => {
        starts.push(Date.now());
        if (job.attempt === 1) {
          failedAt = Date.now();
          throw new RateLimitError("slow down", { status: 429, retryAfter: 3, source: "slack" });
        }
      });
      await waitFor(() => events.processed.length === 1, 15_000, "the retry");
      expect(starts).toHaveLength(2);
      // Without retryAfter the backoff here is 1 s.
      expect((starts[1] ?? 0) - failedAt).toBeGreaterThanOrEqual(2900);
      expect(events.retried).toHaveLength(1);
    }, 20_000);

    it("counts queued, active and retrying jobs per connector", async (context) => {
      const harness = await setup(backend, context);
      const { connector } = harness;
      const other = `${connector}-other`;
      const queue = await harness.startQueue({ retryDelaySeconds: 60, retryDelayMaxSeconds: 60 });
      const events = harness.events(queue);
      await queue.enqueue(connector, { kind: "connector-job", payload: {}, orderingKey: "a" });
      await queue.enqueue(connector, { kind: "connector-job", payload: {}, orderingKey: "a" });
      await queue.enqueue(connector, { kind: "connector-job", payload: { fail: true }, orderingKey: "b" });
      await queue.enqueue(connector, {
        kind: "connector-job",
        payload: {},
        orderingKey: "c",
        startAfter: new Date(Date.now() + 3_600_000),
      });
      await queue.ensureConnectorQueue(other);
      const before = await queue.depth();
      expect(before[connector]).toEqual({ queued: 4, active: 0, retry: 0 });
      expect(before[other]).toEqual({ queued: 0, active: 0, retry: 0 });
      let release: () => void = () => {};
      const blocked = new Promise<void>((resolve) => {
        release = resolve;
      });
      let started = 0;
      await queue.work(
        connector,
        async (job) => {
          if (job.payload.fail === true) throw new ServerError("down");
          started += 1;
          await blocked;
        },
        { concurrency: 4 },
      );
      await waitFor(() => started === 1 && events.retried.length === 1, 10_000, "one active, one retrying");
      await sleep(700);
      // The second job of key "a" waits behind the first; the deferred one is not due.
      expect((await queue.depth())[connector]).toEqual({ queued: 2, active: 1, retry: 1 });
      release();
      await waitFor(() => events.processed.length === 2, 10_000, "both jobs of key a");
      expect((await queue.depth())[connector]).toEqual({ queued: 1, active: 0, retry: 1 });
    });

    it("a graceful stop waits for the job in flight; ping fails once stopped", async (context) => {
      const harness = await setup(backend, context);
      const { connector } = harness;
      const queue = await harness.startQueue();
      await queue.ping();
      const { id } = await queue.enqueue(connector, { kind: "connector-job", payload: {} });
      let started = false;
      let finished = false;
      await queue.work(connector, async () => {
        started = true;
        await sleep(1500);
        finished = true;
      });
      await waitFor(() => started, 10_000, "the job to start");
      await queue.stop({ graceful: true, timeoutMs: 10_000 });
      expect(finished).toBe(true);
      expect((await jobRow(harness.database, id))?.state).toBe("completed");
      await expect(queue.ping()).rejects.toThrow(/not running/);
    });

    it("releases, rather than dead-letters, a job that fails while the queue is stopping", async (context) => {
      const harness = await setup(backend, context);
      const { connector } = harness;
      const queue = await harness.startQueue();
      const { id } = await queue.enqueue(connector, { kind: "connector-job", payload: {} });
      let started = false;
      let stopping = false;
      await queue.work(connector, async () => {
        started = true;
        await waitFor(() => stopping, 10_000, "the stop");
        // What a handler sees when the service's own shutdown aborts its requests.
        throw new ValidationError("aborted by the shutdown");
      });
      await waitFor(() => started, 10_000, "the job to start");
      const stopped = queue.stop({ graceful: true, timeoutMs: 10_000 });
      stopping = true;
      await stopped;
      expect(await harness.store.count({ connector })).toBe(0);
      expect((await jobRow(harness.database, id))?.state).toBe("retry");
    });

    it("a stop without grace releases the job in flight, and another instance runs it again", async (context) => {
      const harness = await setup(backend, context);
      const { connector } = harness;
      const first = await harness.startQueue();
      const { id } = await first.enqueue(connector, {
        kind: "connector-job",
        payload: {},
        orderingKey: "chat:k",
      });
      let abortedSignal = false;
      let started = false;
      await first.work(connector, async (job) => {
        started = true;
        await new Promise<void>((resolve) =>
          job.signal.addEventListener("abort", () => resolve(), { once: true }),
        );
        abortedSignal = job.signal.aborted;
      });
      await waitFor(() => started, 10_000, "the job to start");
      await first.stop({ graceful: false });
      expect(abortedSignal).toBe(true);
      expect((await jobRow(harness.database, id))?.state).toBe("retry");
      const second = await harness.startQueue({}, await harness.openAnother());
      const events = harness.events(second);
      const attempts: number[] = [];
      await second.work(connector, async (job) => {
        attempts.push(job.attempt);
      });
      await waitFor(() => events.processed.length === 1, 15_000, "the released job");
      expect(attempts).toEqual([2]);
      expect(await harness.store.count({ connector })).toBe(0);
    });

    it("dead-letters, without running it again, a job whose last attempt ended without a result", async (context) => {
      const harness = await setup(backend, context);
      const { connector } = harness;
      const first = await harness.startQueue({ retryLimit: 0 });
      const { id } = await first.enqueue(connector, { kind: "connector-job", payload: { x: 1 } });
      let started = false;
      await first.work(connector, async (job) => {
        started = true;
        await new Promise<void>((resolve) =>
          job.signal.addEventListener("abort", () => resolve(), { once: true }),
        );
      });
      await waitFor(() => started, 10_000, "the job to start");
      await first.stop({ graceful: false });
      const second = await harness.startQueue({ retryLimit: 0 }, await harness.openAnother());
      const events = harness.events(second);
      let ran = false;
      await second.work(connector, async () => {
        ran = true;
      });
      await waitFor(() => events.dead.length === 1, 15_000, "the dead letter");
      expect(ran).toBe(false);
      const [entry] = await harness.store.list({ connector, limit: 10 });
      expect(entry).toMatchObject({ jobId: id, attempts: 1, error: { name: "JobAttemptsExhaustedError" } });
      expect((await jobRow(harness.database, id))?.state).toBe("completed");
    });
  });
}
