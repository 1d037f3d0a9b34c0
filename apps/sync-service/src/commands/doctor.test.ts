import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadSettings } from "../config/environment.ts";
import { openDatabase } from "../database/database.ts";
import type { Database } from "../database/database-types.ts";
import { migrate } from "../database/migrations.ts";
import { createDeadLetterStore } from "../store/dead-letter-store.ts";
import {
  expectNoSecrets,
  linqNumbers,
  productionEnvironment,
  recordingConnector,
  type SeededSimulator,
  startSeededSimulator,
  type TemporaryDirectory,
  temporaryDirectory,
  testContext,
} from "./command.test-helpers.ts";
import { startCommandQueue } from "./command-context.ts";
import { type DoctorReport, diagnose, renderDoctorReport, runDoctor } from "./doctor.ts";
import { runSubscribe } from "./subscribe.ts";

const routingFile = `
routes:
  - name: sales
    match: { linqNumbers: ["${linqNumbers[0]}"] }
    slack: { channel: C0SALES }
  - name: support
    match: { linqNumbers: ["${linqNumbers[1]}"] }
    slack: { channel: C0SUPPORT, mode: alerts-only }
`;

function check(report: DoctorReport, name: string) {
  const found = report.checks.filter((entry) => entry.name === name);
  expect(
    found.length,
    `a "${name}" check in ${JSON.stringify(report.checks.map((entry) => entry.name))}`,
  ).toBeGreaterThan(0);
  return found[0];
}

describe("linq-sync doctor", () => {
  let seeded: SeededSimulator;
  let database: Database;
  let directory: TemporaryDirectory;
  let health: Server;
  let environment: NodeJS.ProcessEnv;
  const outputs: string[] = [];
  const slack = () => recordingConnector("slack", ["message.received", "message.sent"]);

  beforeAll(async () => {
    seeded = await startSeededSimulator();
    directory = await temporaryDirectory();
    database = await openDatabase({ inMemory: true });
    await migrate(database);
    // Install the queue's schema, as the service's first start does.
    const settings = loadSettings({});
    const queue = await startCommandQueue(database, settings, pino({ level: "silent" }));
    await queue.stop();
    health = createServer((request, response) => {
      response.statusCode = request.url === "/healthz" ? 200 : 404;
      response.end('{"status":"ok"}');
    });
    await new Promise<void>((resolve) => health.listen(0, "127.0.0.1", resolve));
    const port = (health.address() as AddressInfo).port;
    environment = productionEnvironment(seeded.simulator, {
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      SYNC_CONFIG: await directory.file("linq-sync.yaml", routingFile),
      SLACK_BOT_TOKEN: "xoxb-doctor-test-token-123",
      SLACK_SIGNING_SECRET: "slack-signing-secret-456",
      LINQ_SYNC_DATA_DIR: directory.path,
    });
  });
  afterAll(async () => {
    expectNoSecrets(outputs, environment);
    await new Promise((resolve) => health.close(resolve));
    await database.close();
    await directory.remove();
    await seeded.close();
  });
  beforeEach(async () => {
    seeded.simulator.reset();
    expect(await runSubscribe(testContext(environment))).toBe(0);
  });

  async function doctor(env: NodeJS.ProcessEnv, options: Parameters<typeof testContext>[1] = {}) {
    const context = testContext(env, { database, connectors: [slack()], ...options });
    const code = await runDoctor(context, { publicUrlTimeoutMs: 2_000 });
    outputs.push(context.stdout.text, context.stderr.text);
    const report = await diagnose(testContext(env, { database, connectors: [slack()], ...options }), {
      publicUrlTimeoutMs: 2_000,
    });
    return { code, text: context.stdout.text, report };
  }

  it("is all green against a simulator and a subscribed service", async () => {
    const { code, text, report } = await doctor(environment);
    expect(report.checks.filter((entry) => entry.status !== "ok")).toEqual([]);
    expect(code).toBe(0);
    expect(report.failed).toBe(0);
    for (const name of [
      "settings",
      "routing",
      "database",
      "migrations",
      "job queue",
      "dead letters",
      "Linq API",
      "Linq numbers",
      "Linq webhook subscription",
      "public URL",
      "slack: api",
    ]) {
      expect(check(report, name)?.status).toBe("ok");
    }
    expect(text).toMatch(/^check\s+status\s+detail\s+fix/m);
    expect(text).toMatch(/Linq API\s+✓/);
    expect(text).toMatch(/\d+ checks: \d+ passed, 0 warnings, 0 failed/);
    expect(text).not.toContain("✗");
  });

  it("fails with a concrete fix when the token is rejected", async () => {
    const { code, text, report } = await doctor({ ...environment, LINQ_API_TOKEN: "revoked-token-value" });
    expect(code).toBe(1);
    expect(check(report, "Linq API")).toMatchObject({
      status: "fail",
      fix: "the token was rejected: ask your Linq representative for a new one and set LINQ_API_TOKEN",
    });
    expect(check(report, "Linq webhook subscription")?.status).toBe("skip");
    expect(text).toMatch(/Linq API\s+✗/);
    expect(text).not.toContain("revoked-token-value");
  });

  it("tells to run `linq-sync subscribe` when the subscription is missing, inactive or incomplete", async () => {
    for (const subscription of seeded.simulator.state.subscriptions()) {
      await seeded.linq.deleteWebhookSubscription(subscription.id);
    }
    const missing = await doctor(environment);
    expect(missing.code).toBe(1);
    expect(check(missing.report, "Linq webhook subscription")).toMatchObject({
      status: "fail",
      fix: "run `linq-sync subscribe`",
    });
    expect(missing.text).toContain("run `linq-sync subscribe`");

    const url = `${environment.PUBLIC_URL}/webhooks/linq`;
    await seeded.linq.createWebhookSubscription({
      webhook_url: url,
      events: ["message.received"],
      active: false,
    });
    const incomplete = await doctor(environment);
    const found = check(incomplete.report, "Linq webhook subscription");
    expect(found?.status).toBe("fail");
    expect(found?.detail).toContain("it is inactive");
    expect(found?.detail).toContain("it has no signing secret");
    expect(found?.detail).toContain("it lacks the events message.sent");
    expect(found?.fix).toContain("run `linq-sync subscribe`");
  });

  it("warns about duplicate subscriptions", async () => {
    await seeded.linq.createWebhookSubscription({
      webhook_url: `${environment.PUBLIC_URL}/webhooks/linq`,
      events: ["message.received"],
    });
    const { code, report } = await doctor(environment);
    expect(code).toBe(0);
    expect(check(report, "duplicate subscriptions")).toMatchObject({
      status: "warn",
      fix: "run `linq-sync subscribe --remove-duplicates`",
    });
  });

  it("fails when the database is unreachable, without printing its password", async () => {
    const unreachable = {
      ...environment,
      DATABASE_URL: "postgres://linq:db-password-789@127.0.0.1:1/linq_sync",
    };
    const context = testContext(unreachable, { connectors: [slack()] });
    const code = await runDoctor(context, { publicUrlTimeoutMs: 2_000 });
    outputs.push(context.stdout.text, context.stderr.text);
    expect(code).toBe(1);
    expect(context.stdout.text).toMatch(/database\s+✗/);
    expect(context.stdout.text).toContain("127.0.0.1:1");
    expect(context.stdout.text).toMatch(/migrations\s+–/);
    expect(context.stdout.text).not.toContain("db-password-789");
    expectNoSecrets([context.stdout.text, context.stderr.text], unreachable);
  });

  it("fails for a routed number outside the organisation and warns about unrouted numbers", async () => {
    const file = await directory.file(
      "foreign.yaml",
      `routes:\n  - name: sales\n    match: { linqNumbers: ["+15559990000"] }\n    slack: { channel: C0SALES }\n`,
    );
    const foreign = await doctor({ ...environment, SYNC_CONFIG: file });
    expect(foreign.code).toBe(1);
    const numbers = check(foreign.report, "Linq numbers");
    expect(numbers?.status).toBe("fail");
    expect(numbers?.detail).toContain('route "sales" (routes[0]): +15559990000');
    expect(numbers?.fix).toContain(
      `correct match.linqNumbers in ${file}; your numbers are ${linqNumbers.join(", ")}`,
    );

    const partial = await directory.file(
      "partial.yaml",
      `routes:\n  - name: sales\n    match: { linqNumbers: ["${linqNumbers[0]}"] }\n    slack: { channel: C0SALES }\n`,
    );
    const unrouted = await doctor({ ...environment, SYNC_CONFIG: partial });
    expect(unrouted.code).toBe(0);
    expect(check(unrouted.report, "Linq numbers")).toMatchObject({ status: "warn" });
    expect(check(unrouted.report, "Linq numbers")?.detail).toContain(`no route matches ${linqNumbers[1]}`);
  });

  it("reports connector health, and routes whose connector is not configured", async () => {
    const unhealthy = recordingConnector(
      "slack",
      ["message.received"],
      [{ name: "channel membership", ok: false, detail: "not in C0SALES", fix: "invite the app to #sales" }],
    );
    const failing = await doctor(environment, { connectors: [unhealthy] });
    expect(failing.code).toBe(1);
    expect(check(failing.report, "slack: channel membership")).toMatchObject({
      status: "fail",
      detail: "not in C0SALES",
      fix: "invite the app to #sales",
    });

    const none = await doctor(environment, { connectors: [] });
    expect(none.code).toBe(0);
    expect(check(none.report, "slack connector")).toMatchObject({ status: "warn" });
    expect(check(none.report, "slack connector")?.detail).toContain(
      'route "sales", "support" sends to slack',
    );
  });

  it("warns about dead letters and points at `linq-sync dlq`", async () => {
    const deadLetters = createDeadLetterStore(database);
    await deadLetters.add(database, {
      queue: "connector.slack",
      jobId: "5d3f0c56-5a4b-4c3e-9f5e-7c9d2f1b0a11",
      connector: "slack",
      jobKind: "connector-job",
      payload: {},
      error: { code: "validation_error", message: "channel_not_found" },
      attempts: 1,
    });
    try {
      const { code, report } = await doctor(environment);
      expect(code).toBe(0);
      expect(check(report, "dead letters")).toMatchObject({
        status: "warn",
        detail: "1 job failed for good and wait in the dead-letter queue",
      });
      expect(check(report, "dead letters")?.fix).toContain("linq-sync dlq list");
    } finally {
      await deadLetters.purge({ all: true });
    }
  });

  it("fails on invalid settings and on an invalid routing file, naming each problem", async () => {
    const invalidSettings = await doctor({ ...environment, PORT: "70000", LINQ_WEBHOOK_SECRET: "" });
    expect(invalidSettings.code).toBe(1);
    const settings = check(invalidSettings.report, "settings");
    expect(settings?.status).toBe("fail");
    expect(settings?.detail).toContain("PORT: expected a whole number from 0 to 65535");
    expect(settings?.detail).toContain("LINQ_WEBHOOK_SECRET: required when LINQ_API_TOKEN is set");

    const file = await directory.file("broken.yaml", "routes:\n  - name: sales\n    crm: zoho\n");
    const broken = await doctor({ ...environment, SYNC_CONFIG: file });
    expect(broken.code).toBe(1);
    const routing = check(broken.report, "routing");
    expect(routing?.status).toBe("fail");
    expect(routing?.detail).toContain(`${file}: routes[0].crm`);
    expect(routing?.fix).toContain("linq-sync config validate");
  });

  it("in sandbox mode checks the local parts and skips Linq and the connectors", async () => {
    const { LINQ_API_TOKEN: _token, LINQ_WEBHOOK_SECRET: _secret, ...sandbox } = environment;
    const { code, report } = await doctor(sandbox);
    expect(code).toBe(0);
    expect(check(report, "settings")?.detail).toBe("valid; sandbox mode (no LINQ_API_TOKEN)");
    expect(check(report, "database")?.status).toBe("ok");
    expect(check(report, "Linq API")).toMatchObject({
      status: "skip",
      fix: "set LINQ_API_TOKEN and LINQ_WEBHOOK_SECRET to connect to Linq",
    });
    expect(check(report, "connectors")?.status).toBe("skip");
    expect(report.checks.some((entry) => entry.name.startsWith("slack"))).toBe(false);
  });

  it("renders every failure with its fix in a table that fits the width", () => {
    const text = renderDoctorReport(
      {
        checks: [
          {
            name: "Linq API",
            status: "fail",
            detail: "the token was rejected by https://api.linqapp.com (401)",
            fix: "ask for a new token",
          },
          { name: "database", status: "ok", detail: "reachable" },
        ],
        failed: 1,
        warnings: 0,
      },
      60,
    );
    for (const line of text.split("\n")) expect([...line].length).toBeLessThanOrEqual(60);
    expect(text).toContain("✗");
    expect(text).toContain("ask for a new token");
    expect(text).toContain("2 checks: 1 passed, 0 warnings, 1 failed");
  });
});
