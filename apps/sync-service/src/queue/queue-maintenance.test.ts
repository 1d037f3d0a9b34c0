import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../database/database.ts";
import type { Database } from "../database/database-types.ts";
import { migrate } from "../database/migrations.ts";
import { recordingLogger, sleep, waitFor } from "./job-queue.test-helpers.ts";
import { connectorQueuePrefix, createJobQueue, notificationChannel, queueSchema } from "./job-queue.ts";
import { createQueueMaintenance } from "./queue-maintenance.ts";

let database: Database;

beforeAll(async () => {
  database = await openDatabase({ inMemory: true });
  await migrate(database);
  const queue = createJobQueue({
    database,
    logger: recordingLogger([]),
    deadLetters: { add: async () => {} },
  });
  await queue.start();
  await queue.ensureConnectorQueue("maintained");
  for (let index = 0; index < 60; index += 1) {
    await queue.enqueue("maintained", {
      kind: "connector-job",
      payload: { index },
      orderingKey: `k${index % 6}`,
    });
  }
  await queue.stop({ graceful: false });
}, 60_000);

afterAll(async () => {
  await database?.close();
});

/** Records the maintenance statements run through a database. */
function spied(target: Database, statements: string[]): Database {
  return {
    ...target,
    kind: target.kind,
    queueConnection: target.queueConnection,
    query: (text, parameters) => target.query(text, parameters),
    exec: async (text) => {
      statements.push(text);
      await target.exec(text);
    },
    transaction: (work) =>
      target.transaction((transaction) =>
        work({
          query: (text, parameters) => {
            statements.push(text);
            return transaction.query(text, parameters);
          },
        }),
      ),
  } as Database;
}

describe("job table maintenance on the embedded database", () => {
  it("vacuums the connector queues' job table and gives the planner statistics for it", async () => {
    const table = await database.query<{ reltuples: number }>(
      "SELECT reltuples::float8 AS reltuples FROM pg_class WHERE oid = 'pgboss.job_common'::regclass",
    );
    // Never analyzed: PGlite has no autovacuum.
    expect(Number(table.rows[0]?.reltuples)).toBeLessThan(60);
    const maintenance = createQueueMaintenance({
      database,
      schema: queueSchema,
      queuePrefix: connectorQueuePrefix,
      logger: recordingLogger([]),
    });
    await maintenance.run();
    const after = await database.query<{ reltuples: number; relallvisible: number }>(
      "SELECT reltuples::float8 AS reltuples, relallvisible FROM pg_class WHERE oid = 'pgboss.job_common'::regclass",
    );
    expect(Number(after.rows[0]?.reltuples)).toBeGreaterThanOrEqual(60);
    expect(Number(after.rows[0]?.relallvisible)).toBeGreaterThan(0);
    const statistics = await database.query<{ attname: string }>(
      "SELECT attname FROM pg_stats WHERE schemaname = 'pgboss' AND tablename = 'job_common' ORDER BY attname",
    );
    const columns = statistics.rows.map((row) => row.attname);
    expect(columns).toEqual(expect.arrayContaining(["name", "singleton_key", "state"]));
    // Only the columns the fetch and the enqueue filter on: not the payloads.
    expect(columns).not.toContain("data");
    await maintenance.stop();
  });

  it("vacuums and analyzes the service's own tables too (a cursor updated by every poll leaves dead rows)", async () => {
    await database.query("INSERT INTO cursors (name, value) VALUES ('salesforce:poll:Contact', '0')");
    for (let index = 1; index <= 50; index += 1) {
      await database.query("UPDATE cursors SET value = $1 WHERE name = 'salesforce:poll:Contact'", [
        String(index),
      ]);
    }
    const before = await database.query<{ relallvisible: number }>(
      "SELECT relallvisible FROM pg_class WHERE oid = 'cursors'::regclass",
    );
    expect(Number(before.rows[0]?.relallvisible)).toBe(0);
    const statements: string[] = [];
    const maintenance = createQueueMaintenance({
      database: spied(database, statements),
      schema: queueSchema,
      queuePrefix: connectorQueuePrefix,
      logger: recordingLogger([]),
    });
    await maintenance.run();
    expect(statements).toEqual(
      expect.arrayContaining(["VACUUM linq_events", "VACUUM cursors", "ANALYZE mappings"]),
    );
    const after = await database.query<{ relallvisible: number; reltuples: number }>(
      "SELECT relallvisible, reltuples::float8 AS reltuples FROM pg_class WHERE oid = 'cursors'::regclass",
    );
    expect(Number(after.rows[0]?.relallvisible)).toBeGreaterThan(0);
    expect(Number(after.rows[0]?.reltuples)).toBe(1);
    await maintenance.stop();
  });

  it("runs on its timer only after jobs came or went, and early after a slow fetch", async () => {
    const statements: string[] = [];
    const maintenance = createQueueMaintenance({
      database: spied(database, statements),
      schema: queueSchema,
      queuePrefix: connectorQueuePrefix,
      logger: recordingLogger([]),
      intervalMs: 40,
      slowFetchMs: 20,
      minimumSpacingMs: 300,
    });
    maintenance.start();
    await sleep(150);
    expect(statements).toEqual([]);
    maintenance.recordActivity(3);
    await waitFor(() => statements.some((text) => text.startsWith("ANALYZE")), 2_000, "a run");
    const runs = () => statements.filter((text) => text.startsWith(`VACUUM ${queueSchema}.`)).length;
    expect(runs()).toBe(1);
    await sleep(150);
    // No activity since: no run.
    expect(runs()).toBe(1);
    await sleep(200);
    maintenance.recordFetch(5);
    await sleep(50);
    expect(runs()).toBe(1);
    maintenance.recordFetch(25);
    await waitFor(() => runs() === 2, 2_000, "the early run");
    // At most one per minimumSpacingMs, however many slow fetches.
    maintenance.recordFetch(25);
    maintenance.recordFetch(40);
    await sleep(80);
    expect(runs()).toBe(2);
    await maintenance.stop();
  });

  it("logs a failed run instead of throwing, and tries again later", async () => {
    const logs: Parameters<typeof recordingLogger>[0] = [];
    const broken = {
      ...database,
      kind: database.kind,
      queueConnection: database.queueConnection,
      query: () => Promise.reject(new Error("the database is closed")),
    } as unknown as Database;
    const maintenance = createQueueMaintenance({
      database: broken,
      schema: queueSchema,
      queuePrefix: connectorQueuePrefix,
      logger: recordingLogger(logs),
    });
    await expect(maintenance.run()).resolves.toBeUndefined();
    expect(logs.map((log) => log.message)).toContain("job table maintenance failed; it is tried again later");
    await maintenance.stop();
  });
});

describe("the LISTEN channel", () => {
  it("is the one pg-boss NOTIFYs on for the schema", async () => {
    const { rows } = await database.query<{ channel: string }>(
      `SELECT ('pgboss_' || left(encode(sha224('${queueSchema}'::bytea), 'hex'), 24)) AS channel`,
    );
    expect(notificationChannel(queueSchema)).toBe(rows[0]?.channel);
  });
});
