/**
 * Deduplication of the connectors' inbound traffic (Slack event ids, HubSpot event ids): platforms
 * retry deliveries, and the primary key (source, external_event_id) lets only the first one through.
 */
import type { SqlExecutor } from "../database/database-types.ts";

/** Records a receipt; true the first time this (source, id) is seen, false for a repeat. */
export async function recordInboundReceipt(
  executor: SqlExecutor,
  source: string,
  externalEventId: string,
): Promise<boolean> {
  const result = await executor.query(
    `INSERT INTO inbound_receipts (source, external_event_id) VALUES ($1, $2)
     ON CONFLICT (source, external_event_id) DO NOTHING
     RETURNING source`,
    [source, externalEventId],
  );
  return result.rows.length > 0;
}

/** Deletes receipts older than `olderThan` (platforms stop retrying after hours); returns how many. */
export async function pruneInboundReceipts(executor: SqlExecutor, olderThan: Date): Promise<number> {
  const result = await executor.query("DELETE FROM inbound_receipts WHERE received_at < $1", [olderThan]);
  return result.rowCount;
}
