import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { randomUUID } from "node:crypto";
import { openDatabase } from "../src/database/database.ts";
import { migrate } from "../src/database/migrations.ts";
import { createJobQueue } from "../src/queue/job-queue.ts";

const directory = mkdtempSync(join(tmpdir(), "order-"));
const database = await openDatabase({ dataDirectory: directory });
await migrate(database);
const logger = { debug() {}, info() {}, warn() {}, error() {} };
const queue = createJobQueue({ database, logger, deadLetters: { add: async () => {} } });
await queue.start();
await queue.ensureConnectorQueue("x");
// backlog of completed + pending jobs
for (let i = 0; i < 3000; i++) await queue.enqueue("x", { kind: "connector-job", payload: { i }, orderingKey: `chat:${i % 200}` });
await database.query("UPDATE pgboss.job_common SET state = 'completed' WHERE name = 'connector.x' AND (data->'payload'->>'i')::int < 2800");
const connection = database.queueConnection;
const variants: Record<string, string> = {
  current: `WITH previous AS MATERIALIZED (
    SELECT GREATEST(
      (SELECT max(created_on) FROM pgboss.job
        WHERE name = $1 AND singleton_key = $2 AND id <> $3::uuid
          AND state < 'active' AND NOT blocked AND policy = 'key_strict_fifo'),
      (SELECT max(created_on) FROM pgboss.job
        WHERE name = $1 AND singleton_key = $2
          AND state IN ('active', 'retry', 'failed') AND policy = 'key_strict_fifo')
    ) AS latest
  )
  UPDATE pgboss.job AS job
  SET created_on = previous.latest + interval '1 microsecond'
  FROM previous
  WHERE job.name = $1 AND job.id = $3::uuid AND previous.latest IS NOT NULL AND job.created_on <= previous.latest`,
  partition: `WITH previous AS MATERIALIZED (
    SELECT GREATEST(
      (SELECT max(created_on) FROM pgboss.job_common
        WHERE name = $1 AND singleton_key = $2 AND id <> $3::uuid
          AND state < 'active' AND NOT blocked AND policy = 'key_strict_fifo'),
      (SELECT max(created_on) FROM pgboss.job_common
        WHERE name = $1 AND singleton_key = $2
          AND state IN ('active', 'retry', 'failed') AND policy = 'key_strict_fifo')
    ) AS latest
  )
  UPDATE pgboss.job_common AS job
  SET created_on = previous.latest + interval '1 microsecond'
  FROM previous
  WHERE job.name = $1 AND job.id = $3::uuid AND previous.latest IS NOT NULL AND job.created_on <= previous.latest`,
  selectOnly: `SELECT GREATEST(
      (SELECT max(created_on) FROM pgboss.job_common
        WHERE name = $1 AND singleton_key = $2 AND id <> $3::uuid
          AND state < 'active' AND NOT blocked AND policy = 'key_strict_fifo'),
      (SELECT max(created_on) FROM pgboss.job_common
        WHERE name = $1 AND singleton_key = $2
          AND state IN ('active', 'retry', 'failed') AND policy = 'key_strict_fifo')
    ) AS latest`,
  nothing: `SELECT $1::text, $2::text, $3::uuid`,
};
for (const round of [1, 2]) {
  for (const [label, sql] of Object.entries(variants)) {
    const durations: number[] = [];
    for (let i = 0; i < 200; i++) {
      await database.transaction(async (tx) => {
        const { id } = await queue.enqueue("y" as never, { kind: "connector-job", payload: {}, orderingKey: `chat:${i % 200}` }, { executor: tx }).catch(() => ({ id: randomUUID() }));
        const start = performance.now();
        await tx.query(sql, ["connector.x", `chat:${i % 200}`, id]);
        durations.push(performance.now() - start);
      });
    }
    durations.sort((a, b) => a - b);
    console.log(round, label.padEnd(12), "p50", durations[100]?.toFixed(3), "mean", (durations.reduce((a, b) => a + b) / durations.length).toFixed(3));
  }
}
for (const [label, sql] of Object.entries(variants)) {
  if (label === "nothing") continue;
  const r = await database.query(`EXPLAIN (ANALYZE, SUMMARY) ${sql.replace(/\$1/g, "'connector.x'").replace(/\$2/g, "'chat:7'").replace(/\$3/g, `'${randomUUID()}'`)}`);
  console.log(label, r.rows.map((row) => Object.values(row)[0]).filter((line) => /Time|Scan/.test(String(line))).join("\n"));
}
await queue.stop({ graceful: false });
await database.close();
rmSync(directory, { recursive: true, force: true });
