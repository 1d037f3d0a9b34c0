/**
 * Shared pieces of the CLI command tests: captured output streams, a command context, a recording
 * connector, a seeded Linq simulator, and the check that no secret reaches the output.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CONNECTOR_SPECIFICATION_VERSION,
  type ConnectorV1,
  type HealthCheckResult,
  LinqClient,
  type LinqEventType,
  type LinqWebhookEvent,
} from "@linq-connect/core";
import { type LinqSimulator, startLinqSimulator } from "@linq-connect/core/testing";
import { expect } from "vitest";
import { environmentVariables } from "../config/environment.ts";
import type { Database } from "../database/database-types.ts";
import type { TerminalStream } from "../terminal/progress-bar.ts";
import type { CommandContext } from "./command-context.ts";

export interface CapturedStream extends TerminalStream {
  text: string;
}

export function captureStream(options: { isTTY?: boolean; columns?: number } = {}): CapturedStream {
  const stream: CapturedStream = {
    text: "",
    write(text: string) {
      stream.text += text;
      return true;
    },
    isTTY: options.isTTY ?? false,
    columns: options.columns,
  };
  return stream;
}

export interface TestContext extends CommandContext {
  stdout: CapturedStream;
  stderr: CapturedStream;
}

export function testContext(
  environment: NodeJS.ProcessEnv,
  options: { database?: Database; connectors?: readonly ConnectorV1[]; signal?: AbortSignal } = {},
): TestContext {
  return {
    environment,
    stdout: captureStream(),
    stderr: captureStream(),
    createConnectors: async () => options.connectors ?? [],
    database: options.database,
    signal: options.signal,
  };
}

/** A connector that records the events it handles (in order) and reports a healthy check. */
export interface RecordingConnector extends ConnectorV1 {
  handled: LinqWebhookEvent[];
}

export function recordingConnector(
  name: string,
  events: readonly LinqEventType[],
  health: HealthCheckResult[] = [{ name: "api", ok: true, detail: "reachable" }],
): RecordingConnector {
  const handled: LinqWebhookEvent[] = [];
  return {
    specificationVersion: CONNECTOR_SPECIFICATION_VERSION,
    name,
    events,
    handled,
    async handleEvent(event) {
      handled.push(event);
    },
    async checkHealth() {
      return health;
    },
  };
}

export const linqNumbers = ["+15550001111", "+15550002222"] as const;
export const customers = ["+15551230001", "+15551230002"] as const;
/** The seeded history starts here; the simulator's clock moves one minute per message. */
export const historyStart = Date.parse("2025-01-01T00:00:00Z");

export interface SeededSimulator {
  simulator: LinqSimulator;
  /** A client without rate limiting, for seeding and assertions. */
  linq: LinqClient;
  /** The chats created, in order: [number 1 + customer 1, number 1 + customer 2, number 2 + customer 1]. */
  chatIds: number[];
  /** Message ids per chat, in the order they were sent. */
  messageIds: Map<number, number[]>;
  advanceClock(milliseconds: number): void;
  now(): Date;
  close(): Promise<void>;
}

/**
 * A simulator with two Linq numbers and, with `messagesPerChat > 0`, three chats whose messages
 * alternate between the customer (inbound.text) and us (sendMessage), one minute apart.
 */
export async function startSeededSimulator(
  options: { messagesPerChat?: number; token?: string } = {},
): Promise<SeededSimulator> {
  let clock = historyStart;
  const simulator = await startLinqSimulator({
    phoneNumbers: [...linqNumbers],
    token: options.token ?? `linq-test-token-${randomBytes(8).toString("hex")}`,
    now: () => new Date(clock),
    // Webhooks to unreachable test URLs fail once, fast.
    webhookDelivery: { retries: 0, timeoutMs: 2_000 },
  });
  const linq = new LinqClient({
    token: simulator.token,
    baseUrl: simulator.baseUrl,
    rateLimit: false,
    retry: false,
  });
  const chatIds: number[] = [];
  const messageIds = new Map<number, number[]>();
  const messagesPerChat = options.messagesPerChat ?? 0;
  if (messagesPerChat > 0) {
    const pairs: [string, string][] = [
      [linqNumbers[0], customers[0]],
      [linqNumbers[0], customers[1]],
      [linqNumbers[1], customers[0]],
    ];
    for (const [number, customer] of pairs) {
      let chatId: number | undefined;
      const ids: number[] = [];
      for (let index = 0; index < messagesPerChat; index += 1) {
        clock += 60_000;
        if (index % 2 === 0 || chatId === undefined) {
          const { chat, message } = await simulator.inbound.text({
            from: customer,
            to: number,
            text: `customer ${index}`,
          });
          chatId = chat.id;
          ids.push(message.id);
        } else {
          const message = await linq.sendMessage(chatId, { text: `agent ${index}` });
          if (message.id === undefined) throw new Error("the simulator returned a message without an id");
          ids.push(message.id);
        }
      }
      if (chatId === undefined) throw new Error("no chat was created");
      chatIds.push(chatId);
      messageIds.set(chatId, ids);
    }
  }
  return {
    simulator,
    linq,
    chatIds,
    messageIds,
    advanceClock(milliseconds) {
      clock += milliseconds;
    },
    now: () => new Date(clock),
    async close() {
      await linq.close();
      await simulator.close();
    },
  };
}

export interface TemporaryDirectory {
  path: string;
  file(name: string, content: string): Promise<string>;
  remove(): Promise<void>;
}

export async function temporaryDirectory(): Promise<TemporaryDirectory> {
  const path = await mkdtemp(join(tmpdir(), "linq-sync-cli-"));
  return {
    path,
    async file(name, content) {
      const filePath = join(path, name);
      await writeFile(filePath, content);
      return filePath;
    },
    remove: () => rm(path, { recursive: true, force: true }),
  };
}

/** The environment of a production run against the simulator (no process.env leaks in). */
export function productionEnvironment(
  simulator: LinqSimulator,
  extra: NodeJS.ProcessEnv = {},
): NodeJS.ProcessEnv {
  return {
    LINQ_API_TOKEN: simulator.token,
    LINQ_API_BASE_URL: simulator.baseUrl,
    LINQ_WEBHOOK_SECRET: `whsec-${randomBytes(12).toString("hex")}`,
    PUBLIC_URL: "https://sync.example.test",
    HOST: "127.0.0.1",
    ...extra,
  };
}

/** Asserts that no value of a secret variable of `environment` (nor a database password) appears in `texts`. */
export function expectNoSecrets(texts: readonly string[], environment: NodeJS.ProcessEnv): void {
  const secrets: string[] = [];
  for (const variable of environmentVariables) {
    const value = environment[variable.name];
    if (!variable.secret || value === undefined || value === "" || variable.name === "DATABASE_URL") continue;
    secrets.push(...value.split(",").filter((part) => part.trim().length >= 6));
  }
  if (environment.DATABASE_URL !== undefined) {
    const password = new URL(environment.DATABASE_URL).password;
    if (password !== "") secrets.push(password, decodeURIComponent(password));
  }
  expect(secrets.length, "the environment under test has secrets").toBeGreaterThan(0);
  for (const text of texts) {
    for (const secret of secrets)
      expect(text.includes(secret), `a secret appears in: ${text.slice(0, 500)}`).toBe(false);
  }
}
