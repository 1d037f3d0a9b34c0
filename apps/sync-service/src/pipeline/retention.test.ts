import { beforeEach, describe, expect, it } from "vitest";
import type { Database } from "../database/database-types.ts";
import { createEventStore, type EventStore, recordInboundReceipt } from "../store/index.ts";
import { openTestDatabases, useTestDatabase } from "../test-support/index.ts";
import { pruneExpired } from "./retention.ts";

const logger = { info: () => {}, warn: () => {} };

describe.each(openTestDatabases())("retention on $name", (backend) => {
  let database: Database;
  let store: EventStore;
  const handle = useTestDatabase(backend);
  beforeEach(async () => {
    database = handle.database;
    store = createEventStore(database);
    await database.query("DELETE FROM linq_events");
    await database.query("DELETE FROM inbound_receipts");
  });

  async function storeEvent(eventId: string, daysAgo: number, connectors: string[]): Promise<void> {
    await store.recordEvent(database, {
      eventId,
      eventType: "message.received",
      known: true,
      conversationKey: "chat-1",
      linqNumber: "+15550001111",
      routeName: "sales",
      status: "received",
      payload: { event_id: eventId },
      eventCreatedAt: new Date(),
    });
    if (connectors.length === 0)
      await store.setEventStatus(database, eventId, "skipped", { skipReason: "no route" });
    else await store.recordDeliveries(database, eventId, connectors);
    await database.query(
      `UPDATE linq_events SET received_at = now() - interval '${daysAgo} days' WHERE event_id = $1`,
      [eventId],
    );
  }

  it("deletes settled events and receipts past retention, keeps queued, dead-lettered and recent ones", async () => {
    await storeEvent("old-processed", 40, ["slack", "hubspot"]);
    await store.markDelivery("old-processed", "slack", "processed");
    await store.markDelivery("old-processed", "hubspot", "processed");
    await storeEvent("old-skipped", 40, []);
    await storeEvent("old-queued", 40, ["slack"]);
    await storeEvent("old-dead", 40, ["slack"]);
    await store.markDelivery("old-dead", "slack", "dead");
    await storeEvent("recent-processed", 5, ["slack"]);
    await store.markDelivery("recent-processed", "slack", "processed");
    await recordInboundReceipt(database, "slack", "Ev-old");
    await recordInboundReceipt(database, "slack", "Ev-new");
    await database.query(
      "UPDATE inbound_receipts SET received_at = now() - interval '40 days' WHERE external_event_id = 'Ev-old'",
    );

    const summary = await pruneExpired({ database, logger, retentionDays: 30, batchSize: 1 });
    expect(summary).toEqual({ events: 2, receipts: 1 });
    const { rows } = await database.query<{ event_id: string }>(
      "SELECT event_id FROM linq_events ORDER BY event_id",
    );
    expect(rows.map((row) => row.event_id)).toEqual(["old-dead", "old-queued", "recent-processed"]);
    const deliveries = await database.query<{ event_id: string }>(
      "SELECT DISTINCT event_id FROM event_deliveries ORDER BY event_id",
    );
    expect(deliveries.rows.map((row) => row.event_id)).toEqual([
      "old-dead",
      "old-queued",
      "recent-processed",
    ]);
    const receipts = await database.query<{ external_event_id: string }>(
      "SELECT external_event_id FROM inbound_receipts",
    );
    expect(receipts.rows.map((row) => row.external_event_id)).toEqual(["Ev-new"]);
  });

  it("keeps everything when retention is 0", async () => {
    await storeEvent("old-skipped", 400, []);
    expect(await pruneExpired({ database, logger, retentionDays: 0 })).toEqual({ events: 0, receipts: 0 });
    const { rows } = await database.query("SELECT event_id FROM linq_events");
    expect(rows).toHaveLength(1);
  });
});
