import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApplication } from "../application.ts";
import { runCli } from "../cli.ts";
import { loadSettings } from "../config/environment.ts";
import { loadRoutingConfig } from "../config/routing.ts";
import { openDatabase } from "../database/database.ts";
import { createJobQueue } from "../queue/index.ts";
import { createDeadLetterStore } from "../store/dead-letter-store.ts";
import { createTestDatabase, type TestDatabase } from "../test-support/index.ts";
import {
  captureStream,
  expectNoSecrets,
  historyStart,
  linqNumbers,
  productionEnvironment,
  type RecordingConnector,
  recordingConnector,
  type SeededSimulator,
  startSeededSimulator,
  type TemporaryDirectory,
  temporaryDirectory,
} from "./command.test-helpers.ts";

const routingFile = `
routes:
  - name: sales
    match: { linqNumbers: ["${linqNumbers[0]}"] }
    slack: { channel: C0SALES }
  - name: support
    match: { linqNumbers: ["${linqNumbers[1]}"] }
    slack: { channel: C0SUPPORT }
`;

describe("linq-sync backfill", () => {
  let seeded: SeededSimulator;
  let directory: TemporaryDirectory;
  let environment: NodeJS.ProcessEnv;
  const outputs: string[] = [];
  const slack = () => recordingConnector("slack", ["message.received", "message.sent"]);

  beforeAll(async () => {
    seeded = await startSeededSimulator({ messagesPerChat: 30 });
    directory = await temporaryDirectory();
    environment = productionEnvironment(seeded.simulator, {
      SYNC_CONFIG: await directory.file("linq-sync.yaml", routingFile),
      SLACK_BOT_TOKEN: "xoxb-backfill-test-0123456789",
      SLACK_SIGNING_SECRET: "slack-backfill-signing-0123456789",
    });
  });
  afterAll(async () => {
    await seeded.close();
    await directory.remove();
  });

  async function cli(
    argv: string[],
    env: NodeJS.ProcessEnv,
    connectors: () => RecordingConnector[] = () => [slack()],
  ) {
    const stdout = captureStream();
    const stderr = captureStream();
    const code = await runCli(argv, {
      environment: env,
      stdout,
      stderr,
      createConnectors: async () => connectors(),
    });
    outputs.push(stdout.text, stderr.text);
    return { code, stdout: stdout.text, stderr: stderr.text };
  }

  it("queues the history on the embedded database, prints progress and a summary, and never a secret", async () => {
    const env = { ...environment, LINQ_SYNC_DATA_DIR: `${directory.path}/embedded` };
    const first = await cli(["backfill", "slack", "--since", "2024-12-31"], env);
    expect(first.stderr).toMatch(/^backfill slack listing chats: 1 found \| \d+:\d\d$/m);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("backfill slack: completed in");
    expect(first.stdout).toContain("window    2024-12-31T00:00:00.000Z (included) to ");
    expect(first.stdout).toContain(`numbers   ${linqNumbers.join(", ")}`);
    expect(first.stdout).toContain("chats     3 of 3 done");
    expect(first.stdout).toContain("messages  90 read: 90 queued, 0 already queued, 0 skipped");
    expect(first.stdout).toContain(
      "90 events queued for slack: `linq-sync serve` processes them when it starts on this database",
    );
    // The last progress line (printed by finish) shows the end state.
    const lines = first.stderr.trim().split("\n");
    expect(lines.at(-1)).toMatch(
      /\[=+\] 3\/3 chats 100% \| 90 messages queued \| 0 already queued \| 0 skipped \| \d+:\d\d \| [\d.]+ messages\/s$/,
    );

    const again = await cli(["backfill", "slack", "--since", "2024-12-31"], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("messages  90 read: 0 queued, 90 already queued");
    expect(again.stdout).toContain("nothing new was queued");

    // What the service finds when it starts on this database: 90 events, 90 jobs for slack.
    const database = await openDatabase({ dataDirectory: `${directory.path}/embedded` });
    try {
      const { rows } = await database.query<{ count: number }>(
        "SELECT count(*)::integer AS count FROM linq_events WHERE event_id LIKE 'backfill-message-%'",
      );
      expect(Number(rows[0]?.count)).toBe(90);
      const queue = createJobQueue({
        database,
        logger: pino({ level: "silent" }),
        deadLetters: createDeadLetterStore(database),
      });
      await queue.start();
      try {
        expect((await queue.depth()).slack).toMatchObject({ queued: 90 });
      } finally {
        await queue.stop();
      }
    } finally {
      await database.close();
    }
    expectNoSecrets(outputs, env);
  });

  it("says which connectors are configured when the one named is not", async () => {
    const env = { ...environment, LINQ_SYNC_DATA_DIR: `${directory.path}/unknown` };
    const none = await cli(["backfill", "slack", "--since", "30d"], env, () => []);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('linq-sync: No connector named "slack" is configured; configured: none');
    const other = await cli(["backfill", "hubspot", "--since", "30d"], env);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('No connector named "hubspot" is configured; configured: slack');
  });

  it("refuses wrong invocations with exit code 2", async () => {
    const env = { ...environment, LINQ_SYNC_DATA_DIR: `${directory.path}/usage` };
    const noSince = await cli(["backfill", "slack"], env);
    expect(noSince.code).toBe(2);
    expect(noSince.stderr).toContain("--since is required");
    const badDate = await cli(["backfill", "slack", "--since", "last tuesday"], env);
    expect(badDate.code).toBe(2);
    const reversed = await cli(["backfill", "slack", "--since", "2025-02-01", "--until", "2025-01-01"], env);
    expect(reversed.code).toBe(2);
    expect(reversed.stderr).toContain("--until must be after --since");
    const wait = await cli(["backfill", "slack", "--since", "30d", "--wait"], env);
    expect(wait.code).toBe(2);
    expect(wait.stderr).toContain("--wait needs the service running at the same time");
    const noConnector = await cli(["backfill"], env);
    expect(noConnector.code).toBe(2);
  });

  it("needs LINQ_API_TOKEN", async () => {
    const { LINQ_API_TOKEN: _token, LINQ_WEBHOOK_SECRET: _secret, ...sandbox } = environment;
    const result = await cli(["backfill", "slack", "--since", "30d"], {
      ...sandbox,
      LINQ_SYNC_DATA_DIR: `${directory.path}/sandbox`,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "LINQ_API_TOKEN is not set: `linq-sync backfill` needs the Linq Partner API",
    );
  });

  describe("on PostgreSQL, next to the running service", () => {
    let testDatabase: TestDatabase;
    beforeAll(async () => {
      testDatabase = await createTestDatabase();
    });
    afterAll(async () => {
      await testDatabase?.drop();
    });

    it("--wait follows the service's workers until every backfilled event is handled", async () => {
      const env = { ...environment, DATABASE_URL: testDatabase.url, PORT: "0" };
      const settings = loadSettings(env);
      const routing = await loadRoutingConfig({ settings, environment: env });
      const serviceSlack = slack();
      const application = await startApplication({
        settings,
        routing,
        logger: pino({ level: "silent" }),
        connectors: [serviceSlack],
        port: 0,
      });
      try {
        const result = await cli(
          ["backfill", "slack", "--since", new Date(historyStart).toISOString(), "--wait"],
          env,
        );
        expect(result.stderr).toContain("waiting for slack");
        expect(result.code).toBe(0);
        expect(result.stdout).toContain("messages  90 read: 90 queued");
        expect(result.stdout).toContain("every backfilled event for slack is handled: 90 processed, 0 dead");
        expect(serviceSlack.handled).toHaveLength(90);
        expect(new Set(serviceSlack.handled.map((event) => event.event_id)).size).toBe(90);
        expectNoSecrets([result.stdout, result.stderr], env);
      } finally {
        await application.stop();
      }
    }, 60_000);
  });
});
