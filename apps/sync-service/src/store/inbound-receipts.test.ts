import { beforeEach, describe, expect, it } from "vitest";
import type { Database } from "../database/database-types.ts";
import { openTestDatabases, useTestDatabase } from "../test-support/index.ts";
import { pruneInboundReceipts, recordInboundReceipt } from "./inbound-receipts.ts";

describe.each(openTestDatabases())("inbound receipts on $name", (backend) => {
  let database: Database;
  const handle = useTestDatabase(backend);
  beforeEach(() => {
    database = handle.database;
  });

  it("is true the first time a (source, id) is seen and false after", async () => {
    expect(await recordInboundReceipt(database, "slack", "Ev01")).toBe(true);
    expect(await recordInboundReceipt(database, "slack", "Ev01")).toBe(false);
    // The same id from another source is another receipt.
    expect(await recordInboundReceipt(database, "hubspot", "Ev01")).toBe(true);
  });

  it("lets one of many concurrent deliveries through", async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, () => recordInboundReceipt(database, "slack", "Ev-retried")),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it("records within a transaction that can roll back", async () => {
    await expect(
      database.transaction(async (transaction) => {
        expect(await recordInboundReceipt(transaction, "slack", "Ev-rollback")).toBe(true);
        throw new Error("handler failed");
      }),
    ).rejects.toThrow("handler failed");
    expect(await recordInboundReceipt(database, "slack", "Ev-rollback")).toBe(true);
  });

  it("prunes receipts older than a time", async () => {
    await recordInboundReceipt(database, "prune", "old");
    await recordInboundReceipt(database, "prune", "new");
    await database.query(
      "UPDATE inbound_receipts SET received_at = now() - interval '3 days' WHERE source = 'prune' AND external_event_id = 'old'",
    );
    expect(await pruneInboundReceipts(database, new Date(Date.now() - 24 * 3600 * 1000))).toBe(1);
    expect(await recordInboundReceipt(database, "prune", "old")).toBe(true);
    expect(await recordInboundReceipt(database, "prune", "new")).toBe(false);
  });
});
