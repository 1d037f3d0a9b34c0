import { ConfigurationError } from "@linq-connect/core";
import { beforeEach, describe, expect, it } from "vitest";
import type { Database } from "../database/database-types.ts";
import { openTestDatabases, useTestDatabase } from "../test-support/index.ts";
import { createDeadLetterStore, type DeadLetterStore, type NewDeadLetter } from "./dead-letter-store.ts";

function entry(jobId: string, overrides: Partial<NewDeadLetter> = {}): NewDeadLetter {
  return {
    queue: "linq-sync.slack",
    jobId,
    connector: "slack",
    jobKind: "event",
    orderingKey: "chat-1",
    payload: { eventId: `evt-${jobId}`, list: [1, 2] },
    error: { name: "ValidationError", code: "validation_error", message: "channel_not_found" },
    attempts: 3,
    ...overrides,
  };
}

describe.each(openTestDatabases())("dead-letter store on $name", (backend) => {
  let database: Database;
  let store: DeadLetterStore;
  const handle = useTestDatabase(backend);
  beforeEach(() => {
    database = handle.database;
    store = createDeadLetterStore(database);
  });
  beforeEach(async () => {
    await store.purge({ all: true });
  });

  it("adds an entry once per job and reads it back", async () => {
    const first = await store.add(database, entry("job-1"));
    expect(first.inserted).toBe(true);
    expect(first.deadLetter).toMatchObject({
      queue: "linq-sync.slack",
      jobId: "job-1",
      connector: "slack",
      jobKind: "event",
      orderingKey: "chat-1",
      payload: { eventId: "evt-job-1", list: [1, 2] },
      error: { code: "validation_error", message: "channel_not_found" },
      attempts: 3,
      replayedAt: undefined,
      replayJobId: undefined,
    });
    expect(typeof first.deadLetter.id).toBe("number");
    expect(first.deadLetter.failedAt).toBeInstanceOf(Date);

    const again = await store.add(database, entry("job-1", { attempts: 9 }));
    expect(again).toEqual({ deadLetter: first.deadLetter, inserted: false });
    expect(await store.get(first.deadLetter.id)).toEqual(first.deadLetter);
    expect(await store.get(first.deadLetter.id + 1000)).toBeUndefined();
    expect(await store.count()).toBe(1);
  });

  it("adds inside a caller's transaction", async () => {
    await expect(
      database.transaction(async (transaction) => {
        await store.add(transaction, entry("job-rolled-back"));
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await store.count({ includeReplayed: true })).toBe(0);
  });

  it("lists newest first, by connector, hiding replayed entries unless asked", async () => {
    const old = await store.add(database, entry("job-old", { failedAt: new Date("2024-01-01T00:00:00Z") }));
    const hubspot = await store.add(
      database,
      entry("job-hubspot", { connector: "hubspot", orderingKey: null }),
    );
    const recent = await store.add(database, entry("job-recent"));
    expect(hubspot.deadLetter.orderingKey).toBeUndefined();

    expect((await store.list({ limit: 10 })).map((letter) => letter.jobId)).toEqual([
      "job-recent",
      "job-hubspot",
      "job-old",
    ]);
    expect((await store.list({ connector: "slack", limit: 10 })).map((letter) => letter.jobId)).toEqual([
      "job-recent",
      "job-old",
    ]);
    expect(await store.list({ limit: 1 })).toHaveLength(1);

    expect(await store.markReplayed(recent.deadLetter.id, "replay-job-1")).toBe(true);
    expect(await store.markReplayed(recent.deadLetter.id + 1000, "replay-job-x")).toBe(false);
    expect((await store.list({ connector: "slack", limit: 10 })).map((letter) => letter.jobId)).toEqual([
      "job-old",
    ]);
    const withReplayed = await store.list({ connector: "slack", limit: 10, includeReplayed: true });
    expect(withReplayed.map((letter) => letter.jobId)).toEqual(["job-recent", "job-old"]);
    expect(withReplayed[0]).toMatchObject({ replayJobId: "replay-job-1" });
    expect(withReplayed[0]?.replayedAt).toBeInstanceOf(Date);

    expect(await store.count()).toBe(2);
    expect(await store.count({ includeReplayed: true })).toBe(3);
    expect(await store.count({ connector: "hubspot" })).toBe(1);
    expect(old.deadLetter.failedAt.toISOString()).toBe("2024-01-01T00:00:00.000Z");
  });

  it("purges by age, by id, both, or all, and refuses a purge without criteria", async () => {
    const old = await store.add(database, entry("job-old", { failedAt: new Date("2024-01-01T00:00:00Z") }));
    const older = await store.add(
      database,
      entry("job-older", { failedAt: new Date("2023-01-01T00:00:00Z") }),
    );
    const recent = await store.add(database, entry("job-recent"));
    const another = await store.add(database, entry("job-another"));

    await expect(store.purge({})).rejects.toBeInstanceOf(ConfigurationError);
    // Both criteria: old enough AND among the ids.
    expect(
      await store.purge({
        olderThan: new Date("2024-06-01T00:00:00Z"),
        ids: [old.deadLetter.id, recent.deadLetter.id],
      }),
    ).toBe(1);
    expect(await store.get(old.deadLetter.id)).toBeUndefined();
    expect(await store.purge({ ids: [recent.deadLetter.id] })).toBe(1);
    expect(await store.purge({ olderThan: new Date("2024-06-01T00:00:00Z") })).toBe(1);
    expect(await store.get(older.deadLetter.id)).toBeUndefined();
    expect(await store.purge({ ids: [] })).toBe(0);
    expect(await store.get(another.deadLetter.id)).toBeDefined();
    expect(await store.purge({ all: true })).toBe(1);
    expect(await store.count({ includeReplayed: true })).toBe(0);
  });

  it("rejects ids that cannot be dead-letter ids", async () => {
    await expect(store.get(0)).rejects.toBeInstanceOf(RangeError);
    await expect(store.purge({ ids: [1.5] })).rejects.toBeInstanceOf(RangeError);
  });
});
