// Scratch (not committed): pg-boss key_strict_fifo fetch cost vs backlog on a file PGlite.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fromPglite, PgBoss } from "pg-boss";
import { openDatabase } from "../src/database/database.ts";
import { migrate } from "../src/database/migrations.ts";
import { createJobQueue } from "../src/queue/job-queue.ts";

const directory = mkdtempSync(join(tmpdir(), "fetch-"));
const database = await openDatabase({ dataDirectory: directory });
await migrate(database);
const logger = { debug() {}, info() {}, warn() {}, error() {} };
const queue = createJobQueue({ database, logger, deadLetters: { add: async () => {} } });
await queue.start();
const connection = database.queueConnection;
if (connection.kind !== "pglite") throw new Error("pglite only");
const boss = new PgBoss({ db: fromPglite(connection.pglite), backend: "pglite", migrate: false, supervise: false, schedule: false, useListenNotify: false });
await boss.start();
const keys = Number(process.env.KEYS ?? 200);
let queueIndex = 0;
for (const backlog of [10, 100, 1000, 3000, 6000]) {
  queueIndex += 1;
  const connector = `scaling${queueIndex}`;
  await queue.ensureConnectorQueue(connector);
  const name = `connector.${connector}`;
  const jobs = Array.from({ length: backlog }, (_, index) => ({
    data: { kind: "connector-job", payload: { index } },
    singletonKey: `chat:${index % keys}`,
  }));
  for (let start = 0; start < jobs.length; start += 500) await boss.insert(name, jobs.slice(start, start + 500));
  const line: string[] = [`backlog ${backlog} over ${Math.min(keys, backlog)} keys:`];
  for (const batchSize of [1, 4, 16, 64]) {
    const durations: number[] = [];
    for (let round = 0; round < 6; round += 1) {
      const start = performance.now();
      const fetched = await boss.fetch(name, { batchSize, includeMetadata: true });
      durations.push(performance.now() - start);
      if (fetched.length > 0) await boss.complete(name, fetched.map((job) => ({ id: job.id, retryCount: job.retryCount })));
    }
    durations.sort((a, b) => a - b);
    line.push(`b${batchSize} ${durations[3]?.toFixed(2)}ms`);
  }
  // every key blocked
  const heads = await boss.fetch(name, { batchSize: 10_000, includeMetadata: true });
  const blocked: number[] = [];
  for (let round = 0; round < 6; round += 1) {
    const start = performance.now();
    await boss.fetch(name, { batchSize: 4 });
    blocked.push(performance.now() - start);
  }
  blocked.sort((a, b) => a - b);
  line.push(`all-blocked ${blocked[3]?.toFixed(2)}ms (heads ${heads.length})`);
  console.log(line.join("  "));
}
await boss.stop({ graceful: false, close: false });
await queue.stop({ graceful: false });
await database.close();
rmSync(directory, { recursive: true, force: true });
