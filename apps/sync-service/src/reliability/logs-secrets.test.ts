/**
 * No token, secret, password or signature reaches a log line. The service is started the way
 * `linq-sync serve` starts it (settings from environment variables with every secret set, a routing
 * file, a DATABASE_URL with a password), logging at "trace" into memory; then ingest (valid, badly
 * signed, invalid, duplicate, with credentials in request headers), a connector that calls the Linq
 * API and fails into the dead-letter queue, /readyz, /metrics, shutdown, and a start-up that fails on
 * a wrong database password.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { signWebhook } from "@linq-connect/core";
import { startLinqSimulator } from "@linq-connect/core/testing";
import { request } from "undici";
import { describe, expect, it, onTestFinished } from "vitest";
import { serve } from "../commands/serve.ts";
import { loadSettings } from "../config/environment.ts";
import { openDatabase } from "../database/database.ts";
import { createLogger } from "../logger.ts";
import { createTestDatabase } from "../test-support/index.ts";
import { createRecordingConnector, readRecording } from "../test-support/recording-connector.ts";
import {
  catchAllRoutingYaml,
  messageEventBody,
  signedHeaders,
  uniqueChatId,
  WebhookClient,
  waitFor,
} from "./webhooks.test-helpers.ts";

function secretValue(prefix: string): string {
  return `${prefix}${randomBytes(18).toString("hex")}`;
}

/** Collects every log line written. */
function memoryLog(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      lines.push(
        ...String(chunk)
          .split("\n")
          .filter((line) => line !== ""),
      );
      callback();
    },
  });
  return { stream, lines };
}

/** The forms a secret could take in a log line: as is, URL-encoded, JSON-escaped. */
function formsOf(secret: string): string[] {
  return [...new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)])];
}

function assertNoSecrets(lines: readonly string[], secrets: Record<string, string>): void {
  const text = lines.join("\n");
  for (const [name, value] of Object.entries(secrets)) {
    for (const form of formsOf(value)) {
      const line = lines.find((candidate) => candidate.includes(form));
      expect(line, `${name} appears in a log line: ${line}`).toBeUndefined();
    }
  }
  expect(text).not.toMatch(/sha256=[0-9a-f]{64}/i);
}

describe("logs never contain secrets", () => {
  it("through start-up, ingest, a dead-lettered job, health checks and shutdown", {
    timeout: 60_000,
  }, async () => {
    const testDatabase = await createTestDatabase();
    onTestFinished(() => testDatabase.drop());
    const databasePassword = decodeURIComponent(new URL(testDatabase.url).password);
    expect(databasePassword.length).toBeGreaterThan(8);
    const secrets = {
      LINQ_API_TOKEN: secretValue("linq_token_"),
      LINQ_WEBHOOK_SECRET: secretValue("whsec_"),
      LINQ_WEBHOOK_SECRET_PREVIOUS: secretValue("whsec_old_"),
      SLACK_BOT_TOKEN: secretValue("xoxb-"),
      SLACK_SIGNING_SECRET: secretValue("slack_signing_"),
      SLACK_APP_TOKEN: secretValue("xapp-"),
      HUBSPOT_ACCESS_TOKEN: secretValue("pat-na1-"),
      HUBSPOT_CLIENT_SECRET: secretValue("hubspot_client_"),
      SALESFORCE_ACCESS_TOKEN: secretValue("00Dsf!"),
      SALESFORCE_REFRESH_TOKEN: secretValue("5Aep861"),
      SALESFORCE_CLIENT_SECRET: secretValue("sf_client_secret_"),
    };
    const simulator = await startLinqSimulator({ token: secrets.LINQ_API_TOKEN });
    const directory = mkdtempSync(join(tmpdir(), "linq-sync-logs-"));
    const client = new WebhookClient({ connections: 4 });
    onTestFinished(async () => {
      await client.close();
      await simulator.close();
      rmSync(directory, { recursive: true, force: true });
    });
    const routingFile = join(directory, "linq-sync.yaml");
    writeFileSync(routingFile, catchAllRoutingYaml);
    const settings = loadSettings({
      ...secrets,
      DATABASE_URL: testDatabase.url,
      LINQ_API_BASE_URL: simulator.baseUrl,
      SLACK_API_URL: "http://127.0.0.1:9/api/",
      HUBSPOT_BASE_URL: "http://127.0.0.1:9",
      SALESFORCE_INSTANCE_URL: "http://127.0.0.1:9",
      SALESFORCE_CLIENT_ID: "linq-sync-test-client",
      SYNC_CONFIG: routingFile,
      LINQ_SYNC_DATA_DIR: directory,
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "trace",
      JOB_RETRY_LIMIT: "0",
    });
    const log = memoryLog();
    const logger = createLogger({ level: "trace", destination: log.stream });

    // The connector calls the Linq API (the token goes out in a header) and, for "fail" messages,
    // asks for a chat that does not exist: a NotFoundError, not retryable, so a dead letter.
    const recordingDatabase = await openDatabase({ inMemory: true });
    onTestFinished(() => recordingDatabase.close());
    const connector = await createRecordingConnector({
      database: recordingDatabase,
      beforeEffect: async (event, context) => {
        const text = (event.data as { text?: string }).text ?? "";
        if (text.startsWith("fail")) await context.linq.getChat(987_654_321, { signal: context.signal });
        else await context.linq.listPhoneNumbers({ signal: context.signal });
      },
    });
    const handle = await serve({ settings, logger, connectors: [connector], print: () => undefined });
    let stopped = false;
    onTestFinished(async () => {
      if (!stopped) await handle.stop();
    });

    const sentSignatures: string[] = [];
    const post = async (body: string, headers: Record<string, string>) => {
      if (headers["x-webhook-signature"] !== undefined) sentSignatures.push(headers["x-webhook-signature"]);
      return client.post(handle.url, body, headers);
    };
    const signed = (body: string) => signedHeaders(body, secrets.LINQ_WEBHOOK_SECRET);

    const valid = messageEventBody({ chatId: uniqueChatId(), text: "hello" });
    expect((await post(valid, signed(valid))).status).toBe(200);
    expect((await post(valid, signed(valid))).status).toBe(200); // duplicate
    const previousSecret = messageEventBody({ chatId: uniqueChatId(), text: "rotated" });
    expect(
      (
        await post(previousSecret, {
          "content-type": "application/json",
          "x-webhook-signature": signWebhook({
            payload: previousSecret,
            secret: secrets.LINQ_WEBHOOK_SECRET_PREVIOUS,
          }),
        })
      ).status,
    ).toBe(200);
    const failing = messageEventBody({ chatId: uniqueChatId(), text: "fail please" });
    expect((await post(failing, signed(failing))).status).toBe(200);
    const badlySigned = messageEventBody({ chatId: uniqueChatId() });
    expect(
      (
        await post(badlySigned, {
          "content-type": "application/json",
          "x-webhook-signature": signWebhook({ payload: badlySigned, secret: "an-attacker-guess" }),
        })
      ).status,
    ).toBe(401);
    const invalid = JSON.stringify({ event_id: "evt", event_type: "message.received", data: {} });
    expect((await post(invalid, signed(invalid))).status).toBe(400);
    // Credentials in request headers of a rejected request.
    expect(
      (
        await post(valid.replace("hello", "tampered"), {
          "content-type": "application/json",
          authorization: `Bearer ${secrets.LINQ_API_TOKEN}`,
          "x-linq-integration-token": secrets.LINQ_API_TOKEN,
          "x-webhook-signature": signed(valid)["x-webhook-signature"] ?? "",
        })
      ).status,
    ).toBe(401);
    for (const path of ["/readyz", "/metrics", "/healthz"]) {
      const response = await request(`${handle.url}${path}`, {
        headers: { authorization: `Bearer ${secrets.SLACK_BOT_TOKEN}` },
      });
      await response.body.dump();
      expect(response.statusCode, path).toBe(200);
    }

    const database = await openDatabase({ url: testDatabase.url, poolSize: 1 });
    onTestFinished(() => database.close());
    await waitFor(
      async () => {
        const dead = await database.query<{ count: number }>(
          "SELECT count(*)::integer AS count FROM dead_letters",
        );
        const effects = (await readRecording(recordingDatabase)).effects.length;
        return Number(dead.rows[0]?.count) === 1 && effects === 2;
      },
      { timeoutMs: 20_000, what: "one dead letter and two effects" },
    );
    await handle.stop();
    stopped = true;

    // Something was logged for each step, so the check below is not vacuous.
    const messages = log.lines.map((line) => (JSON.parse(line) as { msg?: string }).msg ?? "");
    for (const expected of [
      "starting linq-sync",
      "linq event accepted",
      "webhook rejected: signature",
      "webhook rejected: invalid payload",
      "duplicate webhook acknowledged",
      "job dead-lettered: not retryable",
      "stopped",
    ]) {
      expect(messages, expected).toContain(expected);
    }
    // The request the connector made carried the token: the simulator saw it.
    expect(simulator.requests.length).toBeGreaterThan(0);

    assertNoSecrets(log.lines, {
      ...secrets,
      DATABASE_PASSWORD: databasePassword,
      ...Object.fromEntries(sentSignatures.map((signature, index) => [`signature ${index}`, signature])),
      ...Object.fromEntries(
        sentSignatures.map((signature, index) => [
          `signature ${index} (hex)`,
          signature.slice("sha256=".length),
        ]),
      ),
    });
  });

  it("when start-up fails on a wrong database password", async () => {
    const testDatabase = await createTestDatabase();
    onTestFinished(() => testDatabase.drop());
    const wrongPassword = secretValue("wrong-password-");
    const url = new URL(testDatabase.url);
    const realPassword = decodeURIComponent(url.password);
    url.password = wrongPassword;
    const directory = mkdtempSync(join(tmpdir(), "linq-sync-logs-"));
    onTestFinished(() => rmSync(directory, { recursive: true, force: true }));
    const routingFile = join(directory, "linq-sync.yaml");
    writeFileSync(routingFile, catchAllRoutingYaml);
    const secrets = {
      LINQ_API_TOKEN: secretValue("linq_token_"),
      LINQ_WEBHOOK_SECRET: secretValue("whsec_"),
      SLACK_BOT_TOKEN: secretValue("xoxb-"),
      SLACK_SIGNING_SECRET: secretValue("slack_signing_"),
    };
    const settings = loadSettings({
      ...secrets,
      DATABASE_URL: url.toString(),
      SYNC_CONFIG: routingFile,
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "trace",
    });
    const log = memoryLog();
    const logger = createLogger({ level: "trace", destination: log.stream });
    const recordingDatabase = await openDatabase({ inMemory: true });
    onTestFinished(() => recordingDatabase.close());
    const connector = await createRecordingConnector({ database: recordingDatabase });
    const failure = await serve({ settings, logger, connectors: [connector], print: () => undefined }).then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    expect(failure).toBeInstanceOf(Error);
    // The way the CLI reports a failed start.
    logger.fatal({ error: { name: failure?.name, message: failure?.message } }, "linq-sync could not start");
    expect(failure?.message).toMatch(/password/i);
    expect(log.lines.length).toBeGreaterThan(1);
    assertNoSecrets([...log.lines, failure?.message ?? "", failure?.stack ?? ""], {
      ...secrets,
      WRONG_PASSWORD: wrongPassword,
      REAL_PASSWORD: realPassword,
    });
  });
});
