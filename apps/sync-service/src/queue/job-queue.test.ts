import { ConfigurationError, RateLimitError, ValidationError } from "@linq-connect/core";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "../database/database.ts";
import type { Database } from "../database/database-types.ts";
import { migrate } from "../database/migrations.ts";
import { type Backend, defineQueueScenarios, recordingLogger } from "./job-queue.test-helpers.ts";
import {
  connectorQueueName,
  createJobQueue,
  describeError,
  replayDeadLetter,
  shouldRetry,
  toPgBossDatabase,
} from "./job-queue.ts";

describe("createJobQueue settings", () => {
  const database = {} as Database;
  const logger = recordingLogger([]);
  const deadLetters = { add: async () => {} };

  it("refuses a heartbeat below pg-boss's minimum, a backoff cap below the first delay, a fast poll", () => {
    expect(() => createJobQueue({ database, logger, deadLetters, heartbeatSeconds: 5 })).toThrow(
      ConfigurationError,
    );
    expect(() =>
      createJobQueue({ database, logger, deadLetters, retryDelaySeconds: 10, retryDelayMaxSeconds: 5 }),
    ).toThrow(/retryDelayMaxSeconds/);
    expect(() => createJobQueue({ database, logger, deadLetters, pollingIntervalSeconds: 0.1 })).toThrow(
      ConfigurationError,
    );
    expect(() => createJobQueue({ database, logger, deadLetters, retryLimit: -1 })).toThrow(
      ConfigurationError,
    );
  });

  it("names queues connector.<name> and refuses names pg-boss or metrics would mangle", () => {
    expect(connectorQueueName("slack")).toBe("connector.slack");
    expect(connectorQueueName("my_crm-2")).toBe("connector.my_crm-2");
    expect(() => connectorQueueName("Slack!")).toThrow(ConfigurationError);
    expect(() => connectorQueueName("")).toThrow(ConfigurationError);
  });

  it("refuses to enqueue, work or answer a ping before start", async () => {
    const queue = createJobQueue({ database, logger, deadLetters });
    await expect(queue.enqueue("test", { kind: "connector-job", payload: {} })).rejects.toThrow(
      /not running/,
    );
    await expect(queue.work("test", async () => {})).rejects.toThrow(/not running/);
    await expect(queue.ping()).rejects.toThrow(/not running/);
    await queue.stop();
    await expect(queue.start()).rejects.toThrow(/cannot start/);
  });
});

describe("retry decisions and error summaries", () => {
  it("retries retryable core errors and unknown errors, not the others", () => {
    expect(shouldRetry(new RateLimitError("429"))).toBe(true);
    expect(shouldRetry(new ValidationError("400"))).toBe(false);
    expect(shouldRetry(new Error("bug"))).toBe(true);
    expect(shouldRetry("a string")).toBe(true);
  });

  it("summarises core errors with toJSON and others by name and message only", () => {
    const cause = new Error("the body with a secret");
    expect(describeError(new RateLimitError("slow", { retryAfter: 5, status: 429, cause }))).toMatchObject({
      name: "RateLimitError",
      code: "rate_limited",
      retryAfter: 5,
      isRetryable: true,
    });
    expect(JSON.stringify(describeError(new RateLimitError("slow", { cause })))).not.toContain("secret");
    expect(describeError(new TypeError("boom"))).toEqual({ name: "TypeError", message: "boom" });
    expect(describeError(42)).toEqual({ name: "NonError", message: "42" });
  });

  it("adapts an executor to pg-boss's database interface", async () => {
    const calls: unknown[] = [];
    const adapted = toPgBossDatabase({
      async query(text, parameters) {
        calls.push([text, parameters]);
        return { rows: [{ one: 1 }] as never[], rowCount: 1 };
      },
    });
    expect(await adapted.executeSql("SELECT $1", [1])).toEqual({ rows: [{ one: 1 }] });
    expect(await adapted.executeSql("SELECT 1")).toEqual({ rows: [{ one: 1 }] });
    expect(calls).toEqual([
      ["SELECT $1", [1]],
      ["SELECT 1", []],
    ]);
  });

  it("refuses to replay a dead letter of an unknown kind", async () => {
    const queue = createJobQueue({
      database: {} as Database,
      logger: recordingLogger([]),
      deadLetters: { add: async () => {} },
    });
    await expect(
      replayDeadLetter(queue, { connector: "test", jobKind: "mystery", payload: {} }),
    ).rejects.toThrow(ValidationError);
  });
});

// One embedded database for every PGlite scenario (creating one takes seconds); each test works its
// own connector queue in it. pg-boss's schema is installed once up front: in production one process
// owns a PGlite database and runs one queue, so instances never race to install it there.
async function openSharedDatabase(): Promise<Database> {
  const database = await openDatabase({ inMemory: true });
  await migrate(database);
  const installer = createJobQueue({
    database,
    logger: recordingLogger([]),
    deadLetters: { add: async () => {} },
  });
  await installer.start();
  await installer.stop({ graceful: false });
  return database;
}

let shared: Promise<Database> | undefined;
const pglite: Backend = {
  name: "pglite",
  async open() {
    shared ??= openSharedDatabase();
    const database = await shared;
    return { database, openAnother: async () => database };
  },
};

afterAll(async () => {
  if (shared !== undefined) await (await shared).close();
});

describe("job queue lifecycle", () => {
  it("a stop requested while the queue starts waits for the start, then stops it", async () => {
    const { database } = await pglite.open(() => {});
    const queue = createJobQueue({
      database,
      logger: recordingLogger([]),
      deadLetters: { add: async () => {} },
    });
    const started = queue.start();
    await queue.stop({ graceful: false });
    await started;
    await expect(queue.ping()).rejects.toThrow(/not running \(stopped\)/);
    await expect(queue.start()).rejects.toThrow(/cannot start/);
  });
});

defineQueueScenarios(pglite);
