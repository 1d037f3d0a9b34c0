import { beforeEach, describe, expect, it } from "vitest";
import type { Database } from "../database/database-types.ts";
import { openTestDatabases, useTestDatabase } from "../test-support/index.ts";
import { type BackfillProgressStore, createBackfillProgressStore } from "./backfill-progress.ts";

describe.each(openTestDatabases())("backfill progress on $name", (backend) => {
  let database: Database;
  let store: BackfillProgressStore;
  const handle = useTestDatabase(backend);
  beforeEach(() => {
    database = handle.database;
    store = createBackfillProgressStore(database);
  });

  it("saves, resumes from and clears a run's state", async () => {
    expect(await store.loadProgress("hubspot:contacts")).toBeUndefined();
    await store.saveProgress("hubspot:contacts", { after: "page-2", done: 200 });
    const saved = await store.loadProgress<{ after: string; done: number }>("hubspot:contacts");
    expect(saved?.state).toEqual({ after: "page-2", done: 200 });
    expect(saved?.updatedAt).toBeInstanceOf(Date);

    await store.saveProgress("hubspot:contacts", { after: "page-3", done: 300 });
    await store.saveProgress("slack:history", ["C1", "C2"]);
    expect((await store.loadProgress("hubspot:contacts"))?.state).toEqual({ after: "page-3", done: 300 });
    expect((await store.listProgress()).map(({ name, state }) => ({ name, state }))).toEqual([
      { name: "hubspot:contacts", state: { after: "page-3", done: 300 } },
      { name: "slack:history", state: ["C1", "C2"] },
    ]);

    expect(await store.clearProgress("hubspot:contacts")).toBe(true);
    expect(await store.clearProgress("hubspot:contacts")).toBe(false);
    expect(await store.loadProgress("hubspot:contacts")).toBeUndefined();
  });
});
