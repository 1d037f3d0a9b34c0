/**
 * A worker process for the kill -9 test: it takes jobs of the `test` connector, prints
 * `started <job id> <attempt>` and never finishes them, so that the test can kill it mid-job.
 * Run as `node kill-worker.test-helpers.ts` with QUEUE_TEST_DATABASE_URL set.
 */
import { openDatabase } from "../database/database.ts";
import { createDeadLetterStore } from "../store/dead-letter-store.ts";
import { createJobQueue, type QueueLogger } from "./job-queue.ts";

const url = process.env.QUEUE_TEST_DATABASE_URL;
if (url === undefined || url === "") throw new Error("QUEUE_TEST_DATABASE_URL is not set");

const silent: QueueLogger = { debug() {}, info() {}, warn() {}, error() {} };
const database = await openDatabase({ url, poolSize: 2 });
const queue = createJobQueue({
  database,
  logger: silent,
  deadLetters: createDeadLetterStore(database),
  heartbeatSeconds: 10,
  expireInSeconds: 300,
  superviseIntervalSeconds: 1,
  retryDelaySeconds: 1,
  retryDelayMaxSeconds: 1,
  pollingIntervalSeconds: 0.5,
});
await queue.start();
await queue.work("test", async (job) => {
  process.stdout.write(`started ${job.id} ${job.attempt}\n`);
  await new Promise<never>(() => {});
});
process.stdout.write("ready\n");
