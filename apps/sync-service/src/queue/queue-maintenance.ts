/**
 * Upkeep of pg-boss's job tables on the embedded database, which has no autovacuum: PGlite runs
 * PostgreSQL as one process, without the background workers that vacuum and analyze tables. Left
 * alone, the job table is never analyzed (the planner then guesses that a queue holds a row or two,
 * and with a backlog of a few thousand jobs the `key_strict_fifo` fetch took a nested-loop plan of
 * hundreds of milliseconds, measured) and never vacuumed (its visibility map stays empty, so the
 * fetch's index-only scans visit every row's heap page, and dead rows pile up).
 *
 * So, on PGlite only: a VACUUM of the job tables and an ANALYZE of the columns the fetch filters and
 * sorts on (a small sample: ~15-25 ms whatever the table's size, measured up to 60 000 jobs) run
 * every `intervalMs` when jobs came and went meanwhile, and sooner when a fetch turned slow (the
 * backlog grew past what the statistics knew). PostgreSQL's autovacuum does this by itself.
 *
 * The same run vacuums and analyzes the service's own tables that are written all the time (events,
 * deliveries, mappings, cursors, inbound receipts): a cursor updated by every Salesforce poll or
 * HubSpot reconciliation leaves a dead row each time, and the event lookups need statistics too.
 */
import { performance } from "node:perf_hooks";
import type { Database } from "../database/database-types.ts";

export interface QueueMaintenanceLogger {
  debug(object: Record<string, unknown>, message?: string): void;
  warn(object: Record<string, unknown>, message?: string): void;
}

export interface QueueMaintenanceOptions {
  database: Database;
  /** pg-boss's schema. */
  schema: string;
  /** Only the tables of queues whose name starts with this. */
  queuePrefix: string;
  logger: QueueMaintenanceLogger;
  /** Default 30 000. */
  intervalMs?: number;
  /** A fetch slower than this asks for an early run. Default 20. */
  slowFetchMs?: number;
  /** Least time between two runs. Default 5 000. */
  minimumSpacingMs?: number;
  /** The service's own tables to vacuum and analyze too. Default {@link serviceTables}. */
  serviceTables?: readonly string[];
}

/** The service's tables that see steady inserts, updates or deletes. */
export const serviceTables: readonly string[] = [
  "linq_events",
  "event_deliveries",
  "mappings",
  "cursors",
  "inbound_receipts",
];

export interface QueueMaintenance {
  start(): void;
  /** Jobs were enqueued, fetched or settled. */
  recordActivity(jobs: number): void;
  /** A fetch took `durationMs`. */
  recordFetch(durationMs: number): void;
  /** Runs the upkeep now (unless one runs already) and resolves when it is done. */
  run(): Promise<void>;
  stop(): Promise<void>;
}

/** Columns of pg-boss's job table that the fetch, the enqueue function and the supervisor filter on. */
const analyzedColumns = [
  "name",
  "state",
  "policy",
  "singleton_key",
  "blocked",
  "start_after",
  "created_on",
  "priority",
] as const;

export function createQueueMaintenance(options: QueueMaintenanceOptions): QueueMaintenance {
  const { database, schema, logger } = options;
  const intervalMs = options.intervalMs ?? 30_000;
  const slowFetchMs = options.slowFetchMs ?? 20;
  const minimumSpacingMs = options.minimumSpacingMs ?? 5_000;
  let activity = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let lastRunAt = Number.NEGATIVE_INFINITY;
  let stopped = false;

  async function tables(): Promise<string[]> {
    const { rows } = await database.query<{ name: string }>(
      `SELECT DISTINCT quote_ident(table_name) AS name FROM ${schema}.queue WHERE starts_with(name, $1)`,
      [options.queuePrefix],
    );
    return rows.map((row) => `${schema}.${row.name}`);
  }

  async function maintain(): Promise<void> {
    const started = performance.now();
    activity = 0;
    lastRunAt = started;
    for (const table of await tables()) {
      if (stopped) return;
      await database.exec(`VACUUM ${table}`);
      // A small sample is enough: the fetch's plan depends on how many jobs wait, not on details.
      await database.transaction(async (transaction) => {
        await transaction.query("SET LOCAL default_statistics_target = 10");
        await transaction.query(`ANALYZE ${table} (${analyzedColumns.join(", ")})`);
      });
    }
    for (const table of options.serviceTables ?? serviceTables) {
      if (stopped) return;
      await database.exec(`VACUUM ${table}`);
      await database.transaction(async (transaction) => {
        await transaction.query("SET LOCAL default_statistics_target = 10");
        await transaction.query(`ANALYZE ${table}`);
      });
    }
    logger.debug(
      { durationMs: Math.round(performance.now() - started) },
      "job tables and service tables vacuumed and analyzed",
    );
  }

  function run(): Promise<void> {
    running ??= maintain()
      .catch((error: unknown) => {
        logger.warn(
          { message: error instanceof Error ? error.message : String(error) },
          "job table maintenance failed; it is tried again later",
        );
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  return {
    start() {
      if (timer !== undefined || stopped) return;
      timer = setInterval(() => {
        if (activity > 0) void run();
      }, intervalMs);
      timer.unref();
    },

    recordActivity(jobs) {
      activity += jobs;
    },

    recordFetch(durationMs) {
      if (stopped || durationMs < slowFetchMs || running !== undefined) return;
      if (performance.now() - lastRunAt < minimumSpacingMs) return;
      void run();
    },

    run,

    async stop() {
      stopped = true;
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
