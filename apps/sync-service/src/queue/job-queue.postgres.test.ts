import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../database/database.ts";
import { migrate } from "../database/migrations.ts";
import { createDeadLetterStore } from "../store/dead-letter-store.ts";
import { createTestDatabase } from "../test-support/index.ts";
import {
  type Backend,
  defineQueueScenarios,
  fastSettings,
  jobRow,
  recordingLogger,
  setup,
  sleep,
  tracker,
  waitFor,
} from "./job-queue.test-helpers.ts";
import { createJobQueue, type JobEventInfo } from "./job-queue.ts";

/**
 * A fresh database per test on the run's PostgreSQL server (src/test-support), dropped afterwards;
 * `openAnother` opens a second pool on it (a second process).
 */
const postgres: Backend = {
  name: "postgres",
  async open(track) {
    const testDatabase = await createTestDatabase();
    track(() => testDatabase.drop());
    const database = await openDatabase({ url: testDatabase.url, poolSize: 2 });
    track(() => database.close());
    return {
      database,
      openAnother: async () => {
        const another = await openDatabase({ url: testDatabase.url, poolSize: 2 });
        track(() => another.close());
        return another;
      },
    };
  },
};

defineQueueScenarios(postgres);

describe("job queue replicas on one PostgreSQL database", { concurrent: true }, () => {
  it("processes a burst across many keys exactly once and in order per key, with both replicas", async (context) => {
    const harness = await setup(postgres, context);
    const { connector } = harness;
    const producer = await harness.startQueue();
    const keys = 10;
    const perKey = 20;
    await producer.ensureConnectorQueue(connector);
    for (let sequence = 0; sequence < perKey; sequence += 1) {
      for (let key = 0; key < keys; key += 1) {
        await producer.enqueue(connector, {
          kind: "connector-job",
          payload: { key, sequence },
          orderingKey: `k${key}`,
        });
      }
    }
    const replicas = [
      await harness.startQueue({}, await harness.openAnother()),
      await harness.startQueue({}, await harness.openAnother()),
    ];
    const seen = new Map<number, number[]>();
    const byReplica = [0, 0];
    const activeByKey = new Map<number, number>();
    let sameKeyOverlap = 0;
    let done = 0;
    for (const [index, replica] of replicas.entries()) {
      await replica.work(
        connector,
        async (job) => {
          const key = job.payload.key as number;
          if ((activeByKey.get(key) ?? 0) > 0) sameKeyOverlap += 1;
          activeByKey.set(key, (activeByKey.get(key) ?? 0) + 1);
          await sleep(2 + Math.random() * 8);
          seen.set(key, [...(seen.get(key) ?? []), job.payload.sequence as number]);
          byReplica[index] = (byReplica[index] ?? 0) + 1;
          activeByKey.set(key, (activeByKey.get(key) ?? 0) - 1);
          done += 1;
        },
        { concurrency: 4 },
      );
    }
    await waitFor(() => done >= keys * perKey, 40_000, "every job");
    await sleep(1000);
    expect(done).toBe(keys * perKey);
    const expected = Array.from({ length: perKey }, (_, index) => index);
    for (let key = 0; key < keys; key += 1) expect(seen.get(key)).toEqual(expected);
    expect(sameKeyOverlap).toBe(0);
    expect(byReplica[0]).toBeGreaterThan(0);
    expect(byReplica[1]).toBeGreaterThan(0);
  }, 60_000);

  it("loses nothing when a worker process is killed with SIGKILL mid-job", async (context) => {
    const track = tracker(context);
    const testDatabase = await createTestDatabase();
    track(() => testDatabase.drop());
    const url = testDatabase.url;
    const database = await openDatabase({ url, poolSize: 2 });
    track(() => database.close());
    await migrate(database);
    const queue = createJobQueue({
      database,
      logger: recordingLogger([]),
      deadLetters: createDeadLetterStore(database),
      ...fastSettings,
    });
    await queue.start();
    track(() => queue.stop({ graceful: false }));
    // The worker process works the connector "test" (see kill-worker.test-helpers.ts).
    const { id } = await queue.enqueue("test", {
      kind: "connector-job",
      payload: {},
      orderingKey: "chat:kill",
    });

    const script = fileURLToPath(new URL("./kill-worker.test-helpers.ts", import.meta.url));
    const child: ChildProcess = spawn(process.execPath, [script], {
      env: { ...process.env, QUEUE_TEST_DATABASE_URL: url },
      stdio: ["ignore", "pipe", "pipe"],
    });
    track(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    });
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    let errors = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      errors += chunk.toString();
    });
    await waitFor(
      () => output.includes(`started ${id} 1`) || child.exitCode !== null,
      20_000,
      "the child's job",
    );
    expect(errors).toBe("");
    expect(output).toContain(`started ${id} 1`);
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    expect((await jobRow(database, id))?.state).toBe("active");

    const events: JobEventInfo[] = [];
    queue.on("processed", (info) => events.push(info));
    const killedAt = Date.now();
    await queue.work("test", async () => {});
    await waitFor(() => events.length === 1, 30_000, "the job of the killed worker");
    expect(events[0]?.job.id).toBe(id);
    expect(events[0]?.job.attempt).toBe(2);
    // Reclaimed because its heartbeat lapsed (10 s), long before it would have expired (60 s).
    expect(Date.now() - killedAt).toBeLessThan(30_000);
    expect((await jobRow(database, id))?.state).toBe("completed");
  }, 60_000);
});
