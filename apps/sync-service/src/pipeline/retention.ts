/**
 * Retention: the stored Linq events (every accepted webhook, kept for deduplication, replays and
 * `linq-sync` inspection) and the inbound receipts (Slack / HubSpot event ids seen) would otherwise grow
 * forever. Every hour, under a database lock so that one replica does it, settled events and receipts
 * older than `EVENT_RETENTION_DAYS` are deleted in batches of 1,000 (short transactions that never hold
 * the embedded database for long). Events still queued or dead-lettered are kept whatever their age.
 * A redelivery of a deleted event after that many days would be accepted again; Linq retries for hours.
 */
import type { Database } from "../database/database-types.ts";
import { pruneInboundReceipts, pruneSettledEvents } from "../store/index.ts";

export interface RetentionLogger {
  info(object: Record<string, unknown>, message?: string): void;
  warn(object: Record<string, unknown>, message?: string): void;
}

export interface RetentionOptions {
  database: Database;
  logger: RetentionLogger;
  /** 0 switches retention off. */
  retentionDays: number;
  /** Default one hour. */
  intervalMs?: number;
  /** Default 1,000. */
  batchSize?: number;
  now?: () => Date;
}

export interface RetentionSummary {
  events: number;
  receipts: number;
}

/** Deletes what is past retention now; returns how much. */
export async function pruneExpired(options: RetentionOptions): Promise<RetentionSummary> {
  const summary: RetentionSummary = { events: 0, receipts: 0 };
  if (options.retentionDays <= 0) return summary;
  const now = options.now?.() ?? new Date();
  const olderThan = new Date(now.getTime() - options.retentionDays * 86_400_000);
  const batchSize = options.batchSize ?? 1_000;
  await options.database.withLock("linq-sync:retention", async () => {
    for (;;) {
      const deleted = await pruneSettledEvents(options.database, olderThan, batchSize);
      summary.events += deleted;
      if (deleted < batchSize) break;
    }
    summary.receipts = await pruneInboundReceipts(options.database, olderThan);
  });
  if (summary.events > 0 || summary.receipts > 0) {
    options.logger.info(
      { ...summary, retentionDays: options.retentionDays },
      "expired events and receipts deleted",
    );
  }
  return summary;
}

/** Runs {@link pruneExpired} every `intervalMs` (and a minute after start); returns a stop function. */
export function startRetention(options: RetentionOptions): () => void {
  if (options.retentionDays <= 0) return () => {};
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      await pruneExpired(options);
    } catch (error) {
      options.logger.warn(
        { message: error instanceof Error ? error.message : String(error) },
        "retention run failed; it is tried again later",
      );
    } finally {
      running = false;
    }
  };
  const first = setTimeout(() => void tick(), Math.min(60_000, options.intervalMs ?? 3_600_000));
  const timer = setInterval(() => void tick(), options.intervalMs ?? 3_600_000);
  first.unref();
  timer.unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
