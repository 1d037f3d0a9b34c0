import { randomUUID } from "node:crypto";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../cli.ts";
import { loadSettings } from "../config/environment.ts";
import { openDatabase } from "../database/database.ts";
import type { Database } from "../database/database-types.ts";
import { migrate } from "../database/migrations.ts";
import { createJobQueue, type QueueJob } from "../queue/index.ts";
import { createDeadLetterStore, type DeadLetterStore } from "../store/dead-letter-store.ts";
import { createEventStore, type EventStore } from "../store/event-store.ts";
import { captureStream, expectNoSecrets, testContext } from "./command.test-helpers.ts";
import {
  describeStoredError,
  parseDeadLetterIds,
  runDlqList,
  runDlqPurge,
  runDlqReplay,
  runDlqShow,
} from "./dlq.ts";

describe("linq-sync dlq", () => {
  let database: Database;
  let deadLetters: DeadLetterStore;
  let eventStore: EventStore;
  const environment: NodeJS.ProcessEnv = {
    LINQ_API_TOKEN: "dlq-test-token-123456",
    LINQ_WEBHOOK_SECRET: "dlq-test-secret-123456",
  };
  const outputs: string[] = [];

  beforeAll(async () => {
    database = await openDatabase({ inMemory: true });
    await migrate(database);
    deadLetters = createDeadLetterStore(database);
    eventStore = createEventStore(database);
  });
  afterAll(async () => {
    expectNoSecrets(outputs, environment);
    await database.close();
  });
  afterEach(async () => {
    await deadLetters.purge({ all: true });
  });

  const context = () => {
    const created = testContext(environment, { database });
    return created;
  };
  const run = async (command: (context: ReturnType<typeof testContext>) => Promise<number>) => {
    const created = context();
    const code = await command(created);
    outputs.push(created.stdout.text, created.stderr.text);
    return { code, stdout: created.stdout.text, stderr: created.stderr.text };
  };

  /** A Linq event routed to `connector`, its delivery dead, and its dead letter. */
  async function seedDeadEvent(connector: string, chatId: number, failedAt: Date) {
    const eventId = `evt-${randomUUID()}`;
    await database.transaction(async (transaction) => {
      await eventStore.recordEvent(transaction, {
        eventId,
        eventType: "message.received",
        known: true,
        conversationKey: `chat:${chatId}`,
        status: "queued",
        payload: {
          event_id: eventId,
          event_type: "message.received",
          data: { chat_id: String(chatId), text: "hi" },
        },
      });
      await eventStore.recordDeliveries(transaction, eventId, [connector]);
    });
    await eventStore.markDelivery(eventId, connector, "dead", {
      attempts: 9,
      error: { code: "rate_limited", message: "Too many requests" },
    });
    const { deadLetter } = await deadLetters.add(database, {
      queue: `connector.${connector}`,
      jobId: randomUUID(),
      connector,
      jobKind: "linq-event",
      orderingKey: `chat:${chatId}`,
      payload: { eventId, routeName: "sales", receivedAt: failedAt.getTime() },
      error: { name: "RateLimitError", code: "rate_limited", message: "Too many requests" },
      attempts: 9,
      failedAt,
    });
    return { eventId, deadLetter };
  }

  async function seedConnectorJob(connector: string, failedAt: Date) {
    const { deadLetter } = await deadLetters.add(database, {
      queue: `connector.${connector}`,
      jobId: randomUUID(),
      connector,
      jobKind: "connector-job",
      orderingKey: "contact:7",
      payload: { type: "hubspot.sync-contact", payload: { contactId: 7 }, routeName: "sales" },
      error: { name: "ValidationError", code: "validation_error", message: "Property email is invalid" },
      attempts: 1,
      failedAt,
    });
    return deadLetter;
  }

  it("list: a table of the entries, newest first, filtered by connector, with a total", async () => {
    const older = await seedDeadEvent("slack", 1, new Date("2025-01-01T10:00:00Z"));
    const newer = await seedConnectorJob("hubspot", new Date("2025-01-02T10:00:00Z"));
    const all = await run((created) => runDlqList(created));
    expect(all.code).toBe(0);
    const lines = all.stdout.split("\n");
    expect(lines[0]).toMatch(/^id\s+connector\s+kind\s+ordering key\s+attempts\s+failed at\s+error$/);
    expect(lines[2]).toMatch(
      new RegExp(
        `^\\s*${newer.id}\\s+hubspot\\s+connector-job\\s+contact:7\\s+1\\s+2025-01-02 10:00:00Z\\s+validation_error: Property email is invalid$`,
      ),
    );
    expect(lines[3]).toMatch(
      new RegExp(
        `^\\s*${older.deadLetter.id}\\s+slack\\s+linq-event\\s+chat:1\\s+9\\s+2025-01-01 10:00:00Z\\s+rate_limited: Too many requests$`,
      ),
    );
    expect(all.stdout).toContain("2 dead letters (not replayed)");

    const slackOnly = await run((created) => runDlqList(created, { connector: "slack" }));
    expect(slackOnly.stdout).toContain("linq-event");
    expect(slackOnly.stdout).not.toContain("connector-job");

    const limited = await run((created) => runDlqList(created, { limit: 1 }));
    expect(limited.stdout).toContain("showing 1 of 2 (not replayed) (--limit to see more)");

    const empty = await run((created) => runDlqList(created, { connector: "salesforce" }));
    expect(empty.stdout).toBe("no dead letters of salesforce (not replayed)\n");
  });

  it("show: the whole entry as JSON, with the payload, the error and the stored event", async () => {
    const { eventId, deadLetter } = await seedDeadEvent("slack", 2, new Date("2025-01-03T00:00:00Z"));
    const { code, stdout } = await run((created) => runDlqShow(created, String(deadLetter.id)));
    expect(code).toBe(0);
    const shown = JSON.parse(stdout) as Record<string, unknown>;
    expect(shown).toMatchObject({
      id: deadLetter.id,
      connector: "slack",
      jobKind: "linq-event",
      payload: { eventId, routeName: "sales" },
      error: { code: "rate_limited", message: "Too many requests" },
      attempts: 9,
      event: { eventId, eventType: "message.received", deliveries: [{ connector: "slack", status: "dead" }] },
    });
    const missing = await run((created) => runDlqShow(created, "999999"));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("there is no dead letter #999999");
  });

  it("replay: queues the job again (a worker receives it), marks the entry, and puts the delivery back to queued", async () => {
    const first = await seedDeadEvent("replaytest", 3, new Date("2025-01-04T00:00:00Z"));
    const second = await seedDeadEvent("replaytest", 3, new Date("2025-01-04T00:01:00Z"));
    const replayed = await run((created) =>
      runDlqReplay(created, { ids: [String(second.deadLetter.id), String(first.deadLetter.id)] }),
    );
    expect(replayed.code).toBe(0);
    expect(replayed.stdout).toContain("replayed 2 dead letters");
    expect(replayed.stdout).toContain("They run when `linq-sync serve` starts on this database.");
    // Oldest first, whatever order the ids were given in.
    expect(replayed.stdout.indexOf(`#${first.deadLetter.id} `)).toBeLessThan(
      replayed.stdout.indexOf(`#${second.deadLetter.id} `),
    );

    const stored = await deadLetters.get(first.deadLetter.id);
    expect(stored?.replayedAt).toBeInstanceOf(Date);
    expect(stored?.replayJobId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await eventStore.getEvent(first.eventId))?.deliveries[0]?.status).toBe("queued");

    const queue = createJobQueue({
      database,
      logger: pino({ level: "silent" }),
      deadLetters,
      pollingIntervalSeconds: 0.5,
    });
    await queue.start();
    try {
      expect((await queue.depth()).replaytest).toMatchObject({ queued: 2 });
      const received: QueueJob[] = [];
      await queue.work("replaytest", async (job) => {
        received.push(job);
      });
      const deadline = Date.now() + 10_000;
      while (received.length < 2 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(received.map((job) => job.payload.eventId)).toEqual([first.eventId, second.eventId]);
      expect(
        received.every(
          (job) => job.kind === "linq-event" && job.orderingKey === "chat:3" && job.attempt === 1,
        ),
      ).toBe(true);
    } finally {
      await queue.stop({ timeoutMs: 2_000 });
    }

    // Replayed entries are hidden from the list unless --all, and are not replayed twice.
    const list = await run((created) => runDlqList(created, { connector: "replaytest" }));
    expect(list.stdout).toContain("no dead letters of replaytest (not replayed)");
    const listAll = await run((created) => runDlqList(created, { connector: "replaytest", all: true }));
    expect(listAll.stdout).toMatch(/replayed/);
    expect(listAll.stdout).toContain("2 dead letters of replaytest");
    const again = await run((created) => runDlqReplay(created, { ids: [String(first.deadLetter.id)] }));
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`#${first.deadLetter.id}: already replayed as job ${stored?.replayJobId}`);
  });

  it("replay --all [--connector]: every entry not yet replayed, of that connector only", async () => {
    await seedConnectorJob("replayall", new Date("2025-01-05T00:00:00Z"));
    await seedConnectorJob("replayall", new Date("2025-01-05T00:01:00Z"));
    const other = await seedConnectorJob("untouched", new Date("2025-01-05T00:02:00Z"));
    const { code, stdout } = await run((created) =>
      runDlqReplay(created, { all: true, connector: "replayall" }),
    );
    expect(code).toBe(0);
    expect(stdout).toContain("replayed 2 dead letters");
    expect(await deadLetters.count({ connector: "replayall" })).toBe(0);
    expect((await deadLetters.get(other.id))?.replayedAt).toBeUndefined();
    const nothing = await run((created) => runDlqReplay(created, { all: true, connector: "replayall" }));
    expect(nothing.stdout).toBe("nothing to replay\n");
  });

  it("purge: by id, by age, or all with --yes", async () => {
    const now = new Date("2025-02-01T00:00:00Z");
    const old = await seedConnectorJob("purge", new Date("2025-01-01T00:00:00Z"));
    const recent = await seedConnectorJob("purge", new Date("2025-01-31T00:00:00Z"));
    const third = await seedConnectorJob("purge", new Date("2025-01-31T12:00:00Z"));

    const byAge = await run((created) => runDlqPurge(created, { olderThan: "7d", now: () => now }));
    expect(byAge.code).toBe(0);
    expect(byAge.stdout).toBe("purged 1 dead letter (failed before 2025-01-25 00:00:00Z)\n");
    expect(await deadLetters.get(old.id)).toBeUndefined();
    expect(await deadLetters.get(recent.id)).toBeDefined();

    const byId = await run((created) => runDlqPurge(created, { ids: [String(recent.id)] }));
    expect(byId.stdout).toBe(`purged 1 dead letter (ids ${recent.id})\n`);
    expect(await deadLetters.get(recent.id)).toBeUndefined();

    const all = await run((created) => runDlqPurge(created, { all: true, yes: true }));
    expect(all.stdout).toBe("purged 1 dead letter\n");
    expect(await deadLetters.get(third.id)).toBeUndefined();
  });

  it("refuses unclear invocations with exit code 2 before touching anything", async () => {
    const cli = async (argv: string[]) => {
      const stdout = captureStream();
      const stderr = captureStream();
      const code = await runCli(argv, { environment, stdout, stderr });
      outputs.push(stdout.text, stderr.text);
      return { code, stderr: stderr.text };
    };
    expect(await cli(["dlq", "purge", "--all"])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("add --yes to confirm"),
    });
    expect(await cli(["dlq", "purge"])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("Say what to purge"),
    });
    expect(await cli(["dlq", "purge", "--older-than", "soon"])).toMatchObject({ code: 2 });
    expect(await cli(["dlq", "replay"])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("Say what to replay"),
    });
    expect(await cli(["dlq", "replay", "1", "--all"])).toMatchObject({ code: 2 });
    expect(await cli(["dlq", "show"])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("missing required argument"),
    });
    expect(await cli(["dlq", "show", "abc"])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("positive whole number"),
    });
    expect(await cli(["dlq", "list", "--limit", "0"])).toMatchObject({ code: 2 });
    expect(await cli(["dlq", "frobnicate"])).toMatchObject({ code: 2 });
  });

  it("on a data directory without a database, says that serve creates it", async () => {
    const stdout = captureStream();
    const stderr = captureStream();
    const settings = loadSettings({ ...environment, LINQ_SYNC_DATA_DIR: "/nonexistent/linq-sync-data" });
    expect(settings.database.url).toBeUndefined();
    const code = await runCli(["dlq", "list"], {
      environment: { ...environment, LINQ_SYNC_DATA_DIR: "/nonexistent/linq-sync-data" },
      stdout,
      stderr,
    });
    expect(code).toBe(1);
    expect(stderr.text).toContain("There is no database yet");
    expect(stderr.text).toContain("`linq-sync serve` creates it");
  });

  it("parses ids and describes stored errors", () => {
    expect(parseDeadLetterIds(["3", "#12"])).toEqual([3, 12]);
    expect(() => parseDeadLetterIds(["0"])).toThrow(/positive whole number/);
    expect(describeStoredError({ code: "timeout", message: "no answer" })).toBe("timeout: no answer");
    expect(describeStoredError({ name: "TypeError", message: "x is undefined" })).toBe(
      "TypeError: x is undefined",
    );
    expect(describeStoredError(null)).toBe("");
  });
});
