import type { MappingStore } from "@linq-connect/core";
import { NotFoundError } from "@linq-connect/core";
import { beforeEach, describe, expect, it } from "vitest";
import { openDatabase } from "../database/database.ts";
import type { Database } from "../database/database-types.ts";
import { migrate } from "../database/migrations.ts";
import { createTestDatabase, openTestDatabases, useTestDatabase } from "../test-support/index.ts";
import { createMappingStore } from "./mapping-store.ts";

describe.each(openTestDatabases())("mapping store on $name", (backend) => {
  let database: Database;
  let store: MappingStore;
  const handle = useTestDatabase(backend);
  beforeEach(() => {
    database = handle.database;
    store = createMappingStore(database);
  });

  it("inserts a mapping and finds it by either id", async () => {
    const before = Date.now();
    const stored = await store.insertMapping({
      kind: "chat-thread",
      linqId: "chat-1",
      externalId: "C1:1700000000.000100",
      metadata: { channel: "C1" },
    });
    expect(stored).toMatchObject({
      kind: "chat-thread",
      linqId: "chat-1",
      externalId: "C1:1700000000.000100",
      metadata: { channel: "C1" },
    });
    expect(stored.updatedAt).toBeInstanceOf(Date);
    expect(stored.updatedAt.getTime()).toBeGreaterThan(before - 60_000);
    expect(await store.findByLinqId("chat-thread", "chat-1")).toEqual(stored);
    expect(await store.findByExternalId("chat-thread", "C1:1700000000.000100")).toEqual(stored);
    expect(await store.findByLinqId("chat-thread", "chat-unknown")).toBeUndefined();
    expect(await store.findByExternalId("contact", "C1:1700000000.000100")).toBeUndefined();
  });

  it("returns the existing mapping instead of a second one for the same Linq id", async () => {
    const first = await store.insertMapping({
      kind: "contact",
      linqId: "+15550001",
      externalId: "hs-1",
      metadata: {},
    });
    const second = await store.insertMapping({
      kind: "contact",
      linqId: "+15550001",
      externalId: "hs-2",
      metadata: { other: true },
    });
    expect(second).toEqual(first);
    expect(await store.findByExternalId("contact", "hs-2")).toBeUndefined();
  });

  it("never maps one external id to two Linq ids", async () => {
    const first = await store.insertMapping({
      kind: "message",
      linqId: "msg-a",
      externalId: "ts-shared",
      metadata: {},
    });
    const second = await store.insertMapping({
      kind: "message",
      linqId: "msg-b",
      externalId: "ts-shared",
      metadata: {},
    });
    expect(second).toEqual(first);
    expect(await store.findByLinqId("message", "msg-b")).toBeUndefined();
  });

  it("yields one mapping when 20 workers race to link the same chat", async () => {
    const attempts = Array.from({ length: 20 }, (_, index) =>
      store.insertMapping({
        kind: "race-thread",
        linqId: "chat-race",
        externalId: `thread-${index}`,
        metadata: { worker: index },
      }),
    );
    const results = await Promise.all(attempts);
    const winner = results[0]!;
    for (const result of results) expect(result).toEqual(winner);
    const { rows } = await database.query<{ count: number }>(
      "SELECT count(*)::integer AS count FROM mappings WHERE kind = 'race-thread'",
    );
    expect(rows[0]?.count).toBe(1);
    expect(winner.metadata).toEqual({ worker: Number(winner.externalId.slice("thread-".length)) });
  });

  it("merges metadata shallowly and moves updatedAt", async () => {
    const stored = await store.insertMapping({
      kind: "contact",
      linqId: "+15550002",
      externalId: "hs-merge",
      metadata: { name: "Ada", nested: { a: 1, b: 2 }, keep: true },
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    await store.updateMetadata("contact", "+15550002", { name: "Ada L.", nested: { c: 3 }, added: 1 });
    const updated = await store.findByLinqId("contact", "+15550002");
    expect(updated?.metadata).toEqual({ name: "Ada L.", nested: { c: 3 }, keep: true, added: 1 });
    expect(updated!.updatedAt.getTime()).toBeGreaterThan(stored.updatedAt.getTime());
  });

  it("refuses to update the metadata of a mapping that does not exist", async () => {
    await expect(store.updateMetadata("contact", "+15559999", { x: 1 })).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it("deletes a mapping, which frees both ids", async () => {
    await store.insertMapping({ kind: "deletable", linqId: "l-1", externalId: "e-1", metadata: {} });
    await store.deleteMapping("deletable", "l-1");
    expect(await store.findByLinqId("deletable", "l-1")).toBeUndefined();
    const again = await store.insertMapping({
      kind: "deletable",
      linqId: "l-2",
      externalId: "e-1",
      metadata: {},
    });
    expect(again.linqId).toBe("l-2");
    await store.deleteMapping("deletable", "l-does-not-exist");
  });

  it("stores cursors and replaces them", async () => {
    expect(await store.getCursor("salesforce:contacts")).toBeUndefined();
    await store.setCursor("salesforce:contacts", "2024-01-01T00:00:00Z");
    expect(await store.getCursor("salesforce:contacts")).toBe("2024-01-01T00:00:00Z");
    await store.setCursor("salesforce:contacts", "2024-02-01T00:00:00Z");
    expect(await store.getCursor("salesforce:contacts")).toBe("2024-02-01T00:00:00Z");
  });

  it("runs withLock holders of one key one at a time", async () => {
    let inside = 0;
    let overlap = 0;
    await Promise.all(
      Array.from({ length: 8 }, () =>
        store.withLock("chat-7", async () => {
          inside += 1;
          if (inside > 1) overlap += 1;
          await new Promise((resolve) => setTimeout(resolve, 2));
          inside -= 1;
        }),
      ),
    );
    expect(overlap).toBe(0);
  });
});

describe("mapping store on two PostgreSQL instances", () => {
  it("gives one mapping to racing replicas and excludes them with withLock", async () => {
    const testDatabase = await createTestDatabase();
    const first = await openDatabase({ url: testDatabase.url, poolSize: 5 });
    const second = await openDatabase({ url: testDatabase.url, poolSize: 5 });
    try {
      await migrate(first);
      const stores = [createMappingStore(first), createMappingStore(second)];
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          stores[index % 2]!.insertMapping({
            kind: "chat-thread",
            linqId: "chat-across",
            externalId: `ts-${index}`,
            metadata: {},
          }),
        ),
      );
      expect(new Set(results.map((result) => result.externalId)).size).toBe(1);

      let inside = 0;
      let overlap = 0;
      let runs = 0;
      await Promise.all(
        Array.from({ length: 16 }, (_, index) =>
          stores[index % 2]!.withLock("chat-across", async () => {
            inside += 1;
            if (inside > 1) overlap += 1;
            await new Promise((resolve) => setTimeout(resolve, 3));
            runs += 1;
            inside -= 1;
          }),
        ),
      );
      expect(runs).toBe(16);
      expect(overlap).toBe(0);
    } finally {
      await Promise.all([first.close(), second.close()]);
      await testDatabase.drop();
    }
  });
});
