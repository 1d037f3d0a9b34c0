import { ConfigurationError } from "@linq-connect/core";
import { beforeEach, describe, expect, it } from "vitest";
import { createTestDatabase, openTestDatabases, useTestDatabase } from "../test-support/index.ts";
import { openDatabase } from "./database.ts";
import type { Database } from "./database-types.ts";
import { appliedMigrationVersions, type Migration, migrate, migrations } from "./migrations.ts";

const expectedTables = [
  "backfill_progress",
  "cursors",
  "dead_letters",
  "event_deliveries",
  "inbound_receipts",
  "linq_events",
  "mappings",
  "schema_migrations",
];

async function tableNames(database: Database): Promise<string[]> {
  const { rows } = await database.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables
     WHERE table_schema = 'public' ORDER BY table_name`,
  );
  return rows.map((row) => row.table_name);
}

describe.each(openTestDatabases())("migrations on $name", (backend) => {
  let database: Database;
  const handle = useTestDatabase(backend, { migrate: false });
  beforeEach(() => {
    database = handle.database;
  });

  it("applies every version once, also to concurrent callers, then nothing", async () => {
    const info: Array<Record<string, unknown>> = [];
    const logger = { info: (object: Record<string, unknown>) => info.push(object) };
    const [first, second] = await Promise.all([migrate(database, { logger }), migrate(database, { logger })]);
    const all = migrations.map((migration) => migration.version);
    // The lock serialises the two calls: one applies everything, the other finds it done.
    expect([first.applied, second.applied].sort((left, right) => right.length - left.length)).toEqual([
      all,
      [],
    ]);
    expect(info).toEqual(migrations.map(({ version, name }) => ({ version, name })));
    expect(await tableNames(database)).toEqual(expectedTables);
    expect(await appliedMigrationVersions(database)).toEqual(all);

    expect(await migrate(database)).toEqual({ applied: [] });
    expect(await appliedMigrationVersions(database)).toEqual(all);
  });

  it("creates the constraints that make duplicates impossible", async () => {
    await database.query(
      "INSERT INTO mappings (kind, linq_id, external_id) VALUES ('thread', 'chat-1', 'ts-1')",
    );
    await expect(
      database.query("INSERT INTO mappings (kind, linq_id, external_id) VALUES ('thread', 'chat-1', 'ts-2')"),
    ).rejects.toMatchObject({ code: "23505" });
    await expect(
      database.query("INSERT INTO mappings (kind, linq_id, external_id) VALUES ('thread', 'chat-2', 'ts-1')"),
    ).rejects.toMatchObject({ code: "23505" });
    // Another kind may reuse both ids.
    await database.query(
      "INSERT INTO mappings (kind, linq_id, external_id) VALUES ('contact', 'chat-1', 'ts-1')",
    );

    await expect(
      database.query(
        `INSERT INTO linq_events (event_id, event_type, known, status, payload)
         VALUES ('evt-1', 'message.received', true, 'unknown-status', '{}')`,
      ),
    ).rejects.toMatchObject({ code: "23514" });
    await expect(
      database.query(
        "INSERT INTO event_deliveries (event_id, connector, status) VALUES ('no-such-event', 'slack', 'queued')",
      ),
    ).rejects.toMatchObject({ code: "23503" });
  });

  it("applies a later version on top and records each one", async () => {
    const next: Migration[] = [
      ...migrations,
      { version: 1000, name: "test addition", sql: "CREATE TABLE test_addition (id integer PRIMARY KEY);" },
    ];
    expect(await migrate(database, { migrations: next })).toEqual({ applied: [1000] });
    expect(await tableNames(database)).toContain("test_addition");
    const { rows } = await database.query<{ version: number; name: string }>(
      "SELECT version, name FROM schema_migrations WHERE version = 1000",
    );
    expect(rows).toEqual([{ version: 1000, name: "test addition" }]);
  });

  it("refuses to run against a database a newer release migrated", async () => {
    // Version 1000 from the test above is unknown to the service's own list.
    const failure = await migrate(database).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ConfigurationError);
    expect((failure as Error).message).toContain("1000");
    expect((failure as Error).message).toContain("newer release");
    await database.query("DROP TABLE test_addition");
    await database.query("DELETE FROM schema_migrations WHERE version = 1000");
    expect(await migrate(database)).toEqual({ applied: [] });
  });

  it("leaves nothing of a version that fails halfway", async () => {
    const broken: Migration[] = [
      ...migrations,
      {
        version: 2000,
        name: "broken",
        sql: "CREATE TABLE half_done (id integer); SELECT * FROM no_such_table;",
      },
    ];
    await expect(migrate(database, { migrations: broken })).rejects.toMatchObject({ code: "42P01" });
    expect(await tableNames(database)).not.toContain("half_done");
    expect(await appliedMigrationVersions(database)).toEqual(
      migrations.map((migration) => migration.version),
    );
    // The lock was released: the next start-up proceeds.
    expect(await migrate(database)).toEqual({ applied: [] });
  });

  it("rejects a list whose versions do not increase", async () => {
    const unordered: Migration[] = [
      { version: 2, name: "b", sql: "SELECT 1" },
      { version: 1, name: "a", sql: "SELECT 1" },
    ];
    await expect(migrate(database, { migrations: unordered })).rejects.toBeInstanceOf(ConfigurationError);
  });
});

describe("migrations on one PostgreSQL database from two instances", () => {
  it("run concurrently without error, each version applied once", async () => {
    const testDatabase = await createTestDatabase();
    const instances = await Promise.all([
      openDatabase({ url: testDatabase.url }),
      openDatabase({ url: testDatabase.url }),
      openDatabase({ url: testDatabase.url }),
    ]);
    try {
      const results = await Promise.all(instances.map((database) => migrate(database)));
      const applied = results.flatMap((result) => result.applied).sort((left, right) => left - right);
      expect(applied).toEqual(migrations.map((migration) => migration.version));
      expect(await appliedMigrationVersions(instances[0]!)).toEqual(applied);
      expect(await tableNames(instances[1]!)).toEqual(expectedTables);
    } finally {
      await Promise.all(instances.map((database) => database.close()));
      await testDatabase.drop();
    }
  });
});
