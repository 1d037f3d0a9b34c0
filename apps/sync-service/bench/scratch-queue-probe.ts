// Scratch probe (not committed): isolated costs of the ingest and queue statements on a file PGlite.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { randomUUID } from "node:crypto";
import { parseWebhookEvent } from "@linq-connect/core";
import { fromPglite, PgBoss } from "pg-boss";
import { openDatabase } from "../src/database/database.ts";
import type { SqlExecutor } from "../src/database/database-types.ts";
import { migrate } from "../src/database/migrations.ts";
import { acceptEvent, createEventRouter } from "../src/pipeline/accept-event.ts";
import { createJobQueue } from "../src/queue/job-queue.ts";
import { createEventStore } from "../src/store/event-store.ts";
import { catchAllRouting, messageEventBody } from "../src/reliability/webhooks.test-helpers.ts";

const directory = mkdtempSync(join(tmpdir(), "probe-"));
const database = await openDatabase({ dataDirectory: directory });
await migrate(database);
const logger = { debug() {}, info() {}, warn() {}, error() {} };
const queue = createJobQueue({ database, logger, deadLetters: { add: async () => {} } });
await queue.start();
await queue.ensureConnectorQueue("slack");
const eventStore = createEventStore(database);
const connectors = new Map([["slack", { name: "slack", events: ["message.received"] } as never]]);
const router = createEventRouter({ routing: catchAllRouting(), eventStore, connectors });

const timings = new Map<string, number[]>();
function record(label: string, ms: number) {
  const list = timings.get(label) ?? [];
  list.push(ms);
  timings.set(label, list);
}
function report() {
  for (const [label, list] of timings) {
    const sorted = [...list].sort((a, b) => a - b);
    const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
    console.log(
      `${label.padEnd(48)} n=${String(sorted.length).padStart(5)} mean=${mean.toFixed(2)} p50=${sorted[Math.floor(sorted.length / 2)]?.toFixed(2)} p99=${sorted[Math.floor(sorted.length * 0.99)]?.toFixed(2)}`,
    );
  }
  timings.clear();
}

const originalTransaction = database.transaction.bind(database);
(database as { transaction: typeof database.transaction }).transaction = (work) =>
  originalTransaction((executor) => {
    const wrapped: SqlExecutor = {
      async query(text, parameters) {
        const start = performance.now();
        try {
          return await executor.query(text, parameters);
        } finally {
          const label = text.trim().replace(/\s+/g, " ").slice(0, 44);
          record(`  tx: ${label}`, performance.now() - start);
        }
      },
    };
    return work(wrapped as never);
  });

const chats = Number(process.env.PROBE_CHATS ?? 100);
async function ingest(count: number) {
  for (let index = 0; index < count; index += 1) {
    const body = messageEventBody({ chatId: String(1000 + (index % chats)), targetBytes: 1024 });
    const event = parseWebhookEvent(JSON.parse(body));
    const start = performance.now();
    const decision = await router(event);
    await acceptEvent({ database, eventStore, queue }, event, decision);
    record("ingest (route + accept transaction)", performance.now() - start);
  }
}

await ingest(50);
timings.clear();
await ingest(Number(process.env.PROBE_INGEST ?? 1500));
report();

const connection = database.queueConnection;
if (connection.kind !== "pglite") throw new Error("pglite only");
const boss = new PgBoss({ db: fromPglite(connection.pglite), backend: "pglite", migrate: false, supervise: false, schedule: false, useListenNotify: false });
boss.on("error", (error) => console.error(error));
await boss.start();
const name = "connector.slack";
const countPending = async () =>
  (await database.query<{ count: number }>(`SELECT count(*)::int AS count FROM pgboss.job WHERE name = $1 AND state < 'active'`, [name])).rows[0]?.count;
console.log("pending", await countPending());
for (const batchSize of [1, 4, 16, 64]) {
  console.log("backlog", await countPending());
  for (let round = 0; round < 10; round += 1) {
    const start = performance.now();
    const jobs = await boss.fetch(name, { batchSize, includeMetadata: true });
    record(`fetch batch ${batchSize} (got ${jobs.length})`, performance.now() - start);
    const keys = new Set(jobs.map((job) => job.singletonKey));
    if (keys.size !== jobs.length) console.log("DUPLICATE KEYS IN BATCH", jobs.length, keys.size);
    const startComplete = performance.now();
    if (jobs.length > 0) await boss.complete(name, jobs.map((job) => ({ id: job.id, retryCount: job.retryCount })));
    record(`complete ${batchSize}`, performance.now() - startComplete);
  }
}
report();
// Empty-ish fetch: claim one job per key, then fetch again (nothing fetchable).
const claimed = await boss.fetch(name, { batchSize: 1000, includeMetadata: true });
console.log("claimed heads", claimed.length, "pending now", await countPending());
for (let round = 0; round < 30; round += 1) {
  const start = performance.now();
  const jobs = await boss.fetch(name, { batchSize: 4, includeMetadata: true });
  record(`fetch with every key active (got ${jobs.length})`, performance.now() - start);
}
if (claimed.length > 0) await boss.complete(name, claimed.map((job) => ({ id: job.id, retryCount: job.retryCount })));
// Drain everything and measure an empty fetch on an empty queue.
for (;;) {
  const jobs = await boss.fetch(name, { batchSize: 1000 });
  if (jobs.length === 0) break;
  await boss.complete(name, jobs.map((job) => ({ id: job.id, retryCount: job.retryCount })));
}
for (let round = 0; round < 30; round += 1) {
  const start = performance.now();
  await boss.fetch(name, { batchSize: 4 });
  record("fetch empty queue", performance.now() - start);
}
for (let round = 0; round < 30; round += 1) {
  const start = performance.now();
  await database.query("SELECT 1");
  record("SELECT 1", performance.now() - start);
}
const id = randomUUID();
for (let round = 0; round < 30; round += 1) {
  const start = performance.now();
  await eventStore.getEvent(id);
  record("getEvent (missing)", performance.now() - start);
}
report();
// Ingest with an empty queue again
await ingest(200);
report();
await boss.stop({ graceful: false, close: false });
await queue.stop({ graceful: false });
await database.close();
rmSync(directory, { recursive: true, force: true });
