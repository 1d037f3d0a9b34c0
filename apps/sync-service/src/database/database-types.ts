/**
 * The one SQL dialect of the service is PostgreSQL: embedded PGlite (a data directory, nothing to
 * install) or a PostgreSQL server (`DATABASE_URL`) that several replicas share.
 */
import type { PGlite } from "@electric-sql/pglite";

export interface QueryResult<Row> {
  rows: Row[];
  /** Rows inserted, updated or deleted, or returned by a SELECT (as node-postgres counts them). */
  rowCount: number;
}

export interface SqlExecutor {
  query<Row extends Record<string, unknown> = Record<string, unknown>>(
    text: string,
    parameters?: readonly unknown[],
  ): Promise<QueryResult<Row>>;
}

/** How pg-boss reaches the same database. */
export type QueueConnection =
  | { kind: "pglite"; pglite: PGlite }
  | { kind: "postgres"; connectionString: string };

export interface Database extends SqlExecutor {
  readonly kind: "pglite" | "postgres";
  /** Several statements without parameters (migrations). */
  exec(text: string): Promise<void>;
  /** Runs `work` in one transaction on one connection; rolls back when it throws. */
  transaction<T>(work: (transaction: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * Runs `work` while holding an exclusive lock on `key` across every process that shares this
   * database (a PostgreSQL advisory lock; an in-process lock on PGlite, which one process owns).
   */
  withLock<T>(key: string, work: () => Promise<T>): Promise<T>;
  readonly queueConnection: QueueConnection;
  /** Throws when the database cannot answer `SELECT 1`. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** postgres:// URL; when absent the embedded PGlite is used. */
  url?: string | undefined;
  /** PGlite data directory (created when missing); ignored with `url`. */
  dataDirectory?: string | undefined;
  /** PGlite in memory (tests); ignored with `url`. */
  inMemory?: boolean | undefined;
  /** Connection pool size for PostgreSQL (default 10). */
  poolSize?: number | undefined;
}
