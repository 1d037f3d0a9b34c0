/**
 * `linq-sync backfill --wait`: follows the backfilled events' deliveries to one connector until none is
 * queued any more (the service's workers, in another process, run them). Reads the event_deliveries
 * rows of backfilled events (`backfill-…` ids), so it sees every replica's work.
 */
import type { Database } from "../database/database-types.ts";
import { backfillEventIdPrefix } from "./synthesize.ts";

export interface BackfillDeliveryCounts {
  /** Waiting for (or being handled by) a worker. */
  queued: number;
  processed: number;
  /** Failed for good: in the dead-letter queue. */
  dead: number;
}

export async function countBackfillDeliveries(
  database: Database,
  connector: string,
): Promise<BackfillDeliveryCounts> {
  const { rows } = await database.query<{ status: string; count: number }>(
    `SELECT status, count(*)::integer AS count FROM event_deliveries
     WHERE connector = $1 AND starts_with(event_id, $2)
     GROUP BY status`,
    [connector, backfillEventIdPrefix],
  );
  const count = (status: string) => Number(rows.find((row) => row.status === status)?.count ?? 0);
  return { queued: count("queued"), processed: count("processed"), dead: count("dead") };
}

export interface WaitForBackfillJobsOptions {
  database: Database;
  connector: string;
  signal?: AbortSignal | undefined;
  /** Between two looks. Default 1 000 ms. */
  intervalMs?: number | undefined;
  onProgress?: ((counts: BackfillDeliveryCounts) => void) | undefined;
}

/** Resolves with the final counts once nothing is queued, or with `interrupted` when the signal fires. */
export async function waitForBackfillJobs(
  options: WaitForBackfillJobsOptions,
): Promise<{ status: "done" | "interrupted"; counts: BackfillDeliveryCounts }> {
  const intervalMs = options.intervalMs ?? 1_000;
  const aborted = () => options.signal?.aborted === true;
  for (;;) {
    const counts = await countBackfillDeliveries(options.database, options.connector);
    options.onProgress?.(counts);
    if (counts.queued === 0) return { status: "done", counts };
    if (aborted()) return { status: "interrupted", counts };
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, intervalMs);
      function done() {
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", done);
        resolve();
      }
      options.signal?.addEventListener("abort", done, { once: true });
    });
    if (aborted()) {
      return {
        status: "interrupted",
        counts: await countBackfillDeliveries(options.database, options.connector),
      };
    }
  }
}
