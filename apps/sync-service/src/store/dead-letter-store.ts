/**
 * Jobs that failed for good (not retryable, or out of retries): kept with their payload and error
 * so `linq-sync dlq` can show, replay or purge them. `job_id` is unique, so recording the same dead
 * job twice (a worker that died after writing it) keeps one entry.
 */
import { ConfigurationError } from "@linq-connect/core";
import type { Database, SqlExecutor } from "../database/database-types.ts";
import { toDate, toJsonParameter, toOptionalDate } from "./json.ts";

export interface NewDeadLetter {
  /** The queue the job ran on. */
  queue: string;
  jobId: string;
  connector: string;
  /** The job's type: "event" for a Linq event delivery, or the connector's own job type. */
  jobKind: string;
  orderingKey?: string | null | undefined;
  payload: unknown;
  /** A JSON-safe summary (e.g. `LinqConnectError#toJSON()`): never a token or a request body. */
  error: unknown;
  attempts: number;
  failedAt?: Date | undefined;
}

export interface DeadLetter {
  id: number;
  queue: string;
  jobId: string;
  connector: string;
  jobKind: string;
  orderingKey: string | undefined;
  payload: unknown;
  error: unknown;
  attempts: number;
  failedAt: Date;
  replayedAt: Date | undefined;
  replayJobId: string | undefined;
}

export interface ListDeadLettersOptions {
  connector?: string | undefined;
  limit: number;
  /** Entries already replayed are hidden unless this is true. */
  includeReplayed?: boolean | undefined;
}

export interface PurgeDeadLettersOptions {
  /** Entries that failed before this time. */
  olderThan?: Date | undefined;
  ids?: readonly number[] | undefined;
  /** Every entry (the other criteria are ignored). */
  all?: boolean | undefined;
}

export interface DeadLetterStore {
  /** Records a dead job; a second call for the same `jobId` returns the first entry unchanged. */
  add(executor: SqlExecutor, entry: NewDeadLetter): Promise<{ deadLetter: DeadLetter; inserted: boolean }>;
  /** Newest first. */
  list(options: ListDeadLettersOptions): Promise<DeadLetter[]>;
  get(id: number): Promise<DeadLetter | undefined>;
  /** Notes that the entry was enqueued again as `replayJobId`; false when there is no such entry. */
  markReplayed(id: number, replayJobId: string): Promise<boolean>;
  /** Deletes the entries that match every given criterion; returns how many. */
  purge(options: PurgeDeadLettersOptions): Promise<number>;
  /** Entries not yet replayed (all of them with `includeReplayed`), optionally of one connector. */
  count(options?: { connector?: string | undefined; includeReplayed?: boolean | undefined }): Promise<number>;
}

interface DeadLetterRow extends Record<string, unknown> {
  id: string;
  queue: string;
  job_id: string;
  connector: string;
  job_kind: string;
  ordering_key: string | null;
  payload: unknown;
  error: unknown;
  attempts: number;
  failed_at: Date | string;
  replayed_at: Date | string | null;
  replay_job_id: string | null;
}

// bigint comes back as a string from `pg` and as a number from PGlite: read it as text everywhere.
const deadLetterColumns =
  "id::text AS id, queue, job_id, connector, job_kind, ordering_key, payload, error, attempts, " +
  "failed_at, replayed_at, replay_job_id";

function toDeadLetter(row: DeadLetterRow): DeadLetter {
  return {
    id: Number(row.id),
    queue: row.queue,
    jobId: row.job_id,
    connector: row.connector,
    jobKind: row.job_kind,
    orderingKey: row.ordering_key ?? undefined,
    payload: row.payload,
    error: row.error,
    attempts: Number(row.attempts),
    failedAt: toDate(row.failed_at),
    replayedAt: toOptionalDate(row.replayed_at),
    replayJobId: row.replay_job_id ?? undefined,
  };
}

function assertId(id: number): void {
  if (!Number.isSafeInteger(id) || id < 1)
    throw new RangeError(`A dead-letter id is a positive integer, not ${id}`);
}

export function createDeadLetterStore(database: Database): DeadLetterStore {
  return {
    async add(executor, entry) {
      const inserted = await executor.query<DeadLetterRow>(
        `INSERT INTO dead_letters (queue, job_id, connector, job_kind, ordering_key, payload, error, attempts, failed_at)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, coalesce($9::timestamptz, now()))
         ON CONFLICT (job_id) DO NOTHING
         RETURNING ${deadLetterColumns}`,
        [
          entry.queue,
          entry.jobId,
          entry.connector,
          entry.jobKind,
          entry.orderingKey ?? null,
          toJsonParameter(entry.payload),
          toJsonParameter(entry.error ?? null),
          entry.attempts,
          entry.failedAt ?? null,
        ],
      );
      if (inserted.rows[0] !== undefined)
        return { deadLetter: toDeadLetter(inserted.rows[0]), inserted: true };
      const existing = await executor.query<DeadLetterRow>(
        `SELECT ${deadLetterColumns} FROM dead_letters WHERE job_id = $1`,
        [entry.jobId],
      );
      if (existing.rows[0] === undefined) {
        throw new Error(`The dead letter of job ${entry.jobId} conflicted but cannot be read`);
      }
      return { deadLetter: toDeadLetter(existing.rows[0]), inserted: false };
    },

    async list({ connector, limit, includeReplayed = false }) {
      if (!Number.isInteger(limit) || limit < 1)
        throw new RangeError(`A limit must be a positive integer, not ${limit}`);
      const { rows } = await database.query<DeadLetterRow>(
        `SELECT ${deadLetterColumns} FROM dead_letters
         WHERE ($1::text IS NULL OR connector = $1) AND ($2::boolean OR replayed_at IS NULL)
         ORDER BY failed_at DESC, id DESC
         LIMIT $3`,
        [connector ?? null, includeReplayed, limit],
      );
      return rows.map(toDeadLetter);
    },

    async get(id) {
      assertId(id);
      const { rows } = await database.query<DeadLetterRow>(
        `SELECT ${deadLetterColumns} FROM dead_letters WHERE id = $1`,
        [id],
      );
      return rows[0] === undefined ? undefined : toDeadLetter(rows[0]);
    },

    async markReplayed(id, replayJobId) {
      assertId(id);
      const result = await database.query(
        "UPDATE dead_letters SET replayed_at = now(), replay_job_id = $2 WHERE id = $1",
        [id, replayJobId],
      );
      return result.rowCount > 0;
    },

    async purge({ olderThan, ids, all = false }) {
      if (all) {
        const result = await database.query("DELETE FROM dead_letters");
        return result.rowCount;
      }
      if (olderThan === undefined && ids === undefined) {
        throw new ConfigurationError("Say which dead letters to purge: older than a date, by id, or all");
      }
      for (const id of ids ?? []) assertId(id);
      const result = await database.query(
        `DELETE FROM dead_letters
         WHERE ($1::timestamptz IS NULL OR failed_at < $1) AND ($2::bigint[] IS NULL OR id = ANY($2::bigint[]))`,
        [olderThan ?? null, ids === undefined ? null : ids.map(String)],
      );
      return result.rowCount;
    },

    async count({ connector, includeReplayed = false } = {}) {
      const { rows } = await database.query<{ count: number }>(
        `SELECT count(*)::integer AS count FROM dead_letters
         WHERE ($1::text IS NULL OR connector = $1) AND ($2::boolean OR replayed_at IS NULL)`,
        [connector ?? null, includeReplayed],
      );
      return Number(rows[0]?.count ?? 0);
    },
  };
}
