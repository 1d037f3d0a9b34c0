/**
 * A real `ConnectorV1` for reliability tests and benchmarks: it records in the database what it did, so
 * a test (possibly in another process, possibly after a kill -9) can tell what was processed, how often
 * and in which order.
 *
 * - `recording_attempts`: one row per call of `handleEvent` (who, when it started, how it ended).
 * - `recording_effects`: the effect, one row per event at most (primary key on `event_id`, written
 *   with ON CONFLICT DO NOTHING, like an idempotent connector). `sequence` (an identity) gives the
 *   order in which effects happened; an attempt that finds its effect already there is recorded as a
 *   `repeat` (at-least-once delivery, e.g. the process died between the effect and the completion).
 * - Concurrency per conversation, across processes: a handler claims its conversation in
 *   `active_conversations` (primary key on the key) when it starts and releases it when it ends.
 *   Finding the key already claimed by a live process means two handlers of one conversation ran at
 *   once: an `recording_overlaps` row. A claim left by a process that is gone (killed) is taken over;
 *   the processes are assumed to share one host (tests and benchmarks do).
 *
 * With `store: "memory"` the same records stay in this process (no database load, for benchmarks).
 */
import { performance } from "node:perf_hooks";
import {
  AbortError,
  CONNECTOR_SPECIFICATION_VERSION,
  type ConnectorContext,
  type ConnectorV1,
  type LinqEventType,
  type LinqWebhookEvent,
  ServerError,
} from "@linq-connect/core";
import type { Database, SqlExecutor } from "../database/database-types.ts";
import { conversationKeyOfEvent } from "../routing/router.ts";

export const recordingTablesSql = `
CREATE TABLE IF NOT EXISTS recording_effects (
  event_id text PRIMARY KEY,
  connector text NOT NULL,
  conversation_key text,
  sequence bigint GENERATED ALWAYS AS IDENTITY,
  handled_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  process_id integer NOT NULL,
  text text
);
CREATE TABLE IF NOT EXISTS recording_attempts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id text NOT NULL,
  connector text NOT NULL,
  conversation_key text,
  process_id integer NOT NULL,
  attempt integer NOT NULL,
  started_at_ms double precision NOT NULL,
  finished_at_ms double precision,
  outcome text NOT NULL DEFAULT 'running'
);
CREATE INDEX IF NOT EXISTS recording_attempts_event_id ON recording_attempts (event_id);
CREATE TABLE IF NOT EXISTS active_conversations (
  conversation_key text PRIMARY KEY,
  event_id text NOT NULL,
  process_id integer NOT NULL,
  claimed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE IF NOT EXISTS recording_overlaps (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  conversation_key text NOT NULL,
  event_id text NOT NULL,
  process_id integer NOT NULL,
  holder_event_id text NOT NULL,
  holder_process_id integer NOT NULL,
  detected_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
`;

/** How an attempt ended: the effect was written, it was already there, the attempt threw, or it was aborted. */
export type AttemptOutcome = "running" | "effect" | "repeat" | "failed" | "aborted";

export interface RecordingConnectorOptions {
  /** Where to record (store "database"); the tables are created when missing. */
  database?: Database;
  /**
   * "database" (default): the tables above, visible to every process. "memory": the same records
   * in this process only, with no database load (benchmarks); read them with `read()`.
   */
  store?: "database" | "memory";
  /** A routed connector name, so routing sends events to it. Default "slack". */
  name?: string;
  /** The event types it consumes. Default message.received and message.sent. */
  events?: readonly LinqEventType[];
  /**
   * How long each handling takes before its effect (ms), or a function of the event. The wait ends
   * early, with an AbortError, when the job's signal aborts (shutdown, lost claim).
   */
  delayMs?: number | ((event: LinqWebhookEvent) => number);
  /** The first `failFirst` attempts of every event throw a retryable ServerError. Default 0. */
  failFirst?: number;
  /** Runs after the delay and before the effect (e.g. a call upstream); a throw fails the attempt. */
  beforeEffect?: (event: LinqWebhookEvent, context: ConnectorContext) => Promise<void>;
  /** Recorded as `process_id`. Default `process.pid`. */
  processId?: number;
}

export interface RecordingConnector extends ConnectorV1 {
  /** `handleEvent` calls made by this instance, by event id. */
  readonly attemptsByEvent: ReadonlyMap<string, number>;
  /** Everything recorded (with store "database": by every process on that database). */
  read(): Promise<Recording>;
  countEffects(): Promise<number>;
}

export interface EffectRow {
  eventId: string;
  connector: string;
  conversationKey: string | undefined;
  sequence: number;
  handledAtMs: number;
  processId: number;
  text: string | undefined;
}

export interface AttemptRow {
  eventId: string;
  connector: string;
  conversationKey: string | undefined;
  processId: number;
  attempt: number;
  startedAtMs: number;
  finishedAtMs: number | undefined;
  outcome: AttemptOutcome;
}

export interface OverlapRow {
  conversationKey: string;
  eventId: string;
  processId: number;
  holderEventId: string;
  holderProcessId: number;
}

export interface Recording {
  /** In `sequence` order. */
  effects: EffectRow[];
  /** In insertion order. */
  attempts: AttemptRow[];
  overlaps: OverlapRow[];
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes of one host. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Creates the recording tables (idempotent, safe when several processes start at once). */
export async function createRecordingTables(database: Database): Promise<void> {
  await database.withLock("recording-connector:schema", () => database.exec(recordingTablesSql));
}

/** Everything recorded so far. */
export async function readRecording(executor: SqlExecutor): Promise<Recording> {
  const effects = await executor.query<{
    event_id: string;
    connector: string;
    conversation_key: string | null;
    sequence: string | number;
    handled_at_ms: string | number;
    process_id: number;
    text: string | null;
  }>(
    `SELECT event_id, connector, conversation_key, sequence,
            extract(epoch FROM handled_at) * 1000 AS handled_at_ms, process_id, text
     FROM recording_effects ORDER BY sequence`,
  );
  const attempts = await executor.query<{
    event_id: string;
    connector: string;
    conversation_key: string | null;
    process_id: number;
    attempt: number;
    started_at_ms: number;
    finished_at_ms: number | null;
    outcome: AttemptOutcome;
  }>(
    `SELECT event_id, connector, conversation_key, process_id, attempt, started_at_ms, finished_at_ms, outcome
     FROM recording_attempts ORDER BY id`,
  );
  const overlaps = await executor.query<{
    conversation_key: string;
    event_id: string;
    process_id: number;
    holder_event_id: string;
    holder_process_id: number;
  }>(
    `SELECT conversation_key, event_id, process_id, holder_event_id, holder_process_id
     FROM recording_overlaps ORDER BY id`,
  );
  return {
    effects: effects.rows.map((row) => ({
      eventId: row.event_id,
      connector: row.connector,
      conversationKey: row.conversation_key ?? undefined,
      sequence: Number(row.sequence),
      handledAtMs: Number(row.handled_at_ms),
      processId: Number(row.process_id),
      text: row.text ?? undefined,
    })),
    attempts: attempts.rows.map((row) => ({
      eventId: row.event_id,
      connector: row.connector,
      conversationKey: row.conversation_key ?? undefined,
      processId: Number(row.process_id),
      attempt: Number(row.attempt),
      startedAtMs: Number(row.started_at_ms),
      finishedAtMs: row.finished_at_ms === null ? undefined : Number(row.finished_at_ms),
      outcome: row.outcome,
    })),
    overlaps: overlaps.rows.map((row) => ({
      conversationKey: row.conversation_key,
      eventId: row.event_id,
      processId: Number(row.process_id),
      holderEventId: row.holder_event_id,
      holderProcessId: Number(row.holder_process_id),
    })),
  };
}

/** How many effect rows exist (cheap, for polling). */
export async function countEffects(executor: SqlExecutor): Promise<number> {
  const result = await executor.query<{ count: number }>(
    "SELECT count(*)::integer AS count FROM recording_effects",
  );
  return Number(result.rows[0]?.count ?? 0);
}

/** Whether a process with this pid exists on this host. */
function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function abortableDelay(milliseconds: number, signal: AbortSignal): Promise<void> {
  if (milliseconds <= 0 && !signal.aborted) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const abort = () => {
      clearTimeout(timer);
      reject(new AbortError("The recording connector's handling was aborted", { source: "internal" }));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", abort);
      resolve();
    }, milliseconds);
    if (signal.aborted) abort();
    else signal.addEventListener("abort", abort, { once: true });
  });
}

function textOf(event: LinqWebhookEvent): string | undefined {
  const data = event.data as { text?: unknown };
  return typeof data.text === "string" ? data.text : undefined;
}

/** Where a recording connector keeps its records. */
interface RecordingSink {
  /** Records the start of an attempt; returns its id and its number for the event (1-based). */
  startAttempt(
    eventId: string,
    conversationKey: string | undefined,
    startedAtMs: number,
  ): Promise<{ id: number; attempt: number }>;
  /** Claims the conversation; false (and an overlap record) when a live handler holds it. */
  claim(conversationKey: string, eventId: string): Promise<boolean>;
  release(conversationKey: string, eventId: string): Promise<void>;
  /** Writes the effect unless it exists; true when it was written now. */
  writeEffect(
    eventId: string,
    conversationKey: string | undefined,
    text: string | undefined,
  ): Promise<boolean>;
  finishAttempt(id: number, outcome: AttemptOutcome): Promise<void>;
  read(): Promise<Recording>;
  countEffects(): Promise<number>;
}

function databaseSink(database: Database, name: string, processId: number): RecordingSink {
  return {
    async startAttempt(eventId, conversationKey, startedAtMs) {
      const row = await database.query<{ id: string | number; attempt: number }>(
        `INSERT INTO recording_attempts (event_id, connector, conversation_key, process_id, attempt, started_at_ms)
         SELECT $1, $2, $3, $4, count(*)::integer + 1, $5 FROM recording_attempts WHERE event_id = $1
         RETURNING id, attempt`,
        [eventId, name, conversationKey ?? null, processId, startedAtMs],
      );
      return { id: Number(row.rows[0]?.id), attempt: Number(row.rows[0]?.attempt) };
    },

    async claim(conversationKey, eventId) {
      for (let round = 0; round < 3; round += 1) {
        const inserted = await database.query(
          `INSERT INTO active_conversations (conversation_key, event_id, process_id) VALUES ($1, $2, $3)
           ON CONFLICT (conversation_key) DO NOTHING RETURNING conversation_key`,
          [conversationKey, eventId, processId],
        );
        if (inserted.rows.length > 0) return true;
        const holder = await database.query<{ event_id: string; process_id: number }>(
          "SELECT event_id, process_id FROM active_conversations WHERE conversation_key = $1",
          [conversationKey],
        );
        const row = holder.rows[0];
        if (row === undefined) continue; // released meanwhile: try again
        if (!isProcessAlive(Number(row.process_id))) {
          // A claim left by a killed process: not a concurrent handler.
          await database.query(
            "DELETE FROM active_conversations WHERE conversation_key = $1 AND event_id = $2 AND process_id = $3",
            [conversationKey, row.event_id, row.process_id],
          );
          continue;
        }
        await database.query(
          `INSERT INTO recording_overlaps (conversation_key, event_id, process_id, holder_event_id, holder_process_id)
           VALUES ($1, $2, $3, $4, $5)`,
          [conversationKey, eventId, processId, row.event_id, row.process_id],
        );
        return false;
      }
      return false;
    },

    async release(conversationKey, eventId) {
      await database.query(
        "DELETE FROM active_conversations WHERE conversation_key = $1 AND event_id = $2 AND process_id = $3",
        [conversationKey, eventId, processId],
      );
    },

    async writeEffect(eventId, conversationKey, text) {
      const effect = await database.query(
        `INSERT INTO recording_effects (event_id, connector, conversation_key, process_id, text)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (event_id) DO NOTHING RETURNING event_id`,
        [eventId, name, conversationKey ?? null, processId, text ?? null],
      );
      return effect.rows.length > 0;
    },

    async finishAttempt(id, outcome) {
      await database.query("UPDATE recording_attempts SET outcome = $2, finished_at_ms = $3 WHERE id = $1", [
        id,
        outcome,
        preciseNow(),
      ]);
    },

    read: () => readRecording(database),
    countEffects: () => countEffects(database),
  };
}

/** The same records in this process's memory: no database load (benchmarks), one process only. */
function memorySink(name: string, processId: number): RecordingSink {
  const effects: EffectRow[] = [];
  const effectIds = new Set<string>();
  const attempts: AttemptRow[] = [];
  const overlaps: OverlapRow[] = [];
  const active = new Map<string, string>();
  return {
    async startAttempt(eventId, conversationKey, startedAtMs) {
      const attempt = attempts.filter((row) => row.eventId === eventId).length + 1;
      attempts.push({
        eventId,
        connector: name,
        conversationKey,
        processId,
        attempt,
        startedAtMs,
        finishedAtMs: undefined,
        outcome: "running",
      });
      return { id: attempts.length - 1, attempt };
    },
    async claim(conversationKey, eventId) {
      const holder = active.get(conversationKey);
      if (holder !== undefined) {
        overlaps.push({
          conversationKey,
          eventId,
          processId,
          holderEventId: holder,
          holderProcessId: processId,
        });
        return false;
      }
      active.set(conversationKey, eventId);
      return true;
    },
    async release(conversationKey, eventId) {
      if (active.get(conversationKey) === eventId) active.delete(conversationKey);
    },
    async writeEffect(eventId, conversationKey, text) {
      if (effectIds.has(eventId)) return false;
      effectIds.add(eventId);
      effects.push({
        eventId,
        connector: name,
        conversationKey,
        sequence: effects.length + 1,
        handledAtMs: preciseNow(),
        processId,
        text,
      });
      return true;
    },
    async finishAttempt(id, outcome) {
      const row = attempts[id];
      if (row !== undefined) {
        row.outcome = outcome;
        row.finishedAtMs = preciseNow();
      }
    },
    async read() {
      return {
        effects: effects.map((row) => ({ ...row })),
        attempts: attempts.map((row) => ({ ...row })),
        overlaps: overlaps.map((row) => ({ ...row })),
      };
    },
    async countEffects() {
      return effects.length;
    },
  };
}

export async function createRecordingConnector(
  options: RecordingConnectorOptions,
): Promise<RecordingConnector> {
  const name = options.name ?? "slack";
  const processId = options.processId ?? process.pid;
  const failFirst = options.failFirst ?? 0;
  const delayOf = (event: LinqWebhookEvent): number =>
    typeof options.delayMs === "function" ? options.delayMs(event) : (options.delayMs ?? 0);
  const attemptsByEvent = new Map<string, number>();
  let sink: RecordingSink;
  if (options.store === "memory") {
    sink = memorySink(name, processId);
  } else {
    if (options.database === undefined) {
      throw new TypeError('createRecordingConnector needs a database unless store is "memory"');
    }
    await createRecordingTables(options.database);
    sink = databaseSink(options.database, name, processId);
  }

  return {
    specificationVersion: CONNECTOR_SPECIFICATION_VERSION,
    name,
    events: options.events ?? ["message.received", "message.sent"],
    attemptsByEvent,
    read: () => sink.read(),
    countEffects: () => sink.countEffects(),

    async handleEvent(event, context) {
      const startedAtMs = preciseNow();
      const eventId = event.event_id;
      attemptsByEvent.set(eventId, (attemptsByEvent.get(eventId) ?? 0) + 1);
      const conversationKey = conversationKeyOfEvent(event);
      const { id: attemptId, attempt } = await sink.startAttempt(eventId, conversationKey, startedAtMs);
      const claimed = conversationKey === undefined ? false : await sink.claim(conversationKey, eventId);
      let outcome: AttemptOutcome = "failed";
      try {
        await abortableDelay(delayOf(event), context.signal);
        if (attempt <= failFirst) {
          throw new ServerError(
            `The recording connector fails attempt ${attempt} of event ${eventId} on purpose (failFirst ${failFirst})`,
            { source: "internal" },
          );
        }
        await options.beforeEffect?.(event, context);
        outcome = (await sink.writeEffect(eventId, conversationKey, textOf(event))) ? "effect" : "repeat";
      } catch (error) {
        outcome = error instanceof AbortError ? "aborted" : "failed";
        throw error;
      } finally {
        if (claimed && conversationKey !== undefined) await sink.release(conversationKey, eventId);
        await sink.finishAttempt(attemptId, outcome);
      }
    },
  };
}
