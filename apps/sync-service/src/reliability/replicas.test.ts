/**
 * Two service processes on ONE PostgreSQL database, behind the test's own load balancing (requests
 * alternate between them). A burst across many chats is processed exactly once and in send order
 * per chat, both replicas do work, and no conversation is ever handled by two handlers at once —
 * also when the first two messages of a new chat reach the two replicas at the same moment.
 */
import { randomBytes } from "node:crypto";
import { startLinqSimulator } from "@linq-connect/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../database/database.ts";
import type { Database } from "../database/database-types.ts";
import { createTestDatabase, type TestDatabase } from "../test-support/index.ts";
import { countEffects, readRecording } from "../test-support/recording-connector.ts";
import { type ServiceProcess, startServiceProcess } from "./service-launcher.test-helpers.ts";
import {
  groupBy,
  messageEventBody,
  planBurst,
  sendInChatOrder,
  signedHeaders,
  uniqueChatId,
  WebhookClient,
  waitFor,
} from "./webhooks.test-helpers.ts";

const secret = `whsec_${randomBytes(16).toString("hex")}`;
let testDatabase: TestDatabase;
let database: Database;
let replicas: ServiceProcess[] = [];
let client: WebhookClient;
let closeSimulator: () => Promise<void>;

beforeAll(async () => {
  testDatabase = await createTestDatabase();
  database = await openDatabase({ url: testDatabase.url, poolSize: 2 });
  const simulator = await startLinqSimulator();
  closeSimulator = () => simulator.close();
  const environment = {
    DATABASE_URL: testDatabase.url,
    LINQ_API_TOKEN: simulator.token,
    LINQ_API_BASE_URL: simulator.baseUrl,
    LINQ_WEBHOOK_SECRET: secret,
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "warn",
    JOB_CONCURRENCY: "4",
    RECORDING_DELAY_MS: "2",
    RECORDING_DELAY_JITTER_MS: "8",
    // Long enough that two handlers of one chat running at once could not miss each other.
    RECORDING_SLOW_DELAY_MS: "300",
  };
  // Both start at once on the empty database: migrations and the queue's schema install under locks.
  replicas = await Promise.all([
    startServiceProcess({ environment, name: "replica-a" }),
    startServiceProcess({ environment, name: "replica-b" }),
  ]);
  client = new WebhookClient({ connections: 8 });
}, 60_000);

afterAll(async () => {
  await client?.close();
  await Promise.all(replicas.map((replica) => replica.stop()));
  await closeSimulator?.();
  await database?.close();
  await testDatabase?.drop();
});

function logs(): string {
  return replicas.map((replica) => `--- ${replica.name} ---\n${replica.logs()}`).join("\n");
}

describe("two replicas on one PostgreSQL database", () => {
  it("process a burst across 40 chats exactly once, in order per chat, with both doing work", {
    timeout: 60_000,
  }, async () => {
    const [first, second] = replicas;
    if (first === undefined || second === undefined) throw new Error("the replicas did not start");
    const chats = 40;
    const perChat = 10;
    const events = planBurst({ chats, perChat, secret });
    const before = await countEffects(database);
    const sent = await sendInChatOrder(events, {
      client,
      targetFor: (requestNumber) => (requestNumber % 2 === 0 ? first.url : second.url),
      concurrency: 16,
    });
    expect(sent.unsent).toEqual([]);
    expect(sent.results.filter((result) => result.status !== 200)).toEqual([]);
    expect(new Set(sent.results.map((result) => result.target))).toEqual(new Set([first.url, second.url]));

    await waitFor(async () => (await countEffects(database)) >= before + events.length, {
      timeoutMs: 45_000,
      intervalMs: 100,
      what: `${events.length} effects (logs:\n${logs()})`,
    });
    const ids = new Set(events.map((event) => event.eventId));
    const recording = await readRecording(database);
    const effects = recording.effects.filter((effect) => ids.has(effect.eventId));
    const attempts = recording.attempts.filter((attempt) => ids.has(attempt.eventId));
    expect(effects).toHaveLength(events.length);
    // Exactly once: one attempt per event, and it wrote the effect.
    expect(attempts).toHaveLength(events.length);
    expect(attempts.every((attempt) => attempt.outcome === "effect")).toBe(true);

    const plannedById = new Map(events.map((event) => [event.eventId, event]));
    const byChat = groupBy(effects, (effect) => effect.conversationKey ?? "");
    expect(byChat.size).toBe(chats);
    for (const [chatId, chatEffects] of byChat) {
      expect(
        chatEffects.map((effect) => plannedById.get(effect.eventId)?.indexInChat),
        chatId,
      ).toEqual(Array.from({ length: perChat }, (_, index) => index));
    }
    // Both replicas handled events.
    const byProcess = groupBy(effects, (effect) => String(effect.processId));
    expect(new Set(byProcess.keys())).toEqual(new Set([String(first.pid), String(second.pid)]));
    expect(recording.overlaps).toEqual([]);

    // Ordering held although a chat's events moved between replicas.
    const chatsHandledByBoth = [
      ...groupBy(effects, (effect) => effect.conversationKey ?? "").values(),
    ].filter((chatEffects) => new Set(chatEffects.map((effect) => effect.processId)).size > 1);
    expect(chatsHandledByBoth.length).toBeGreaterThan(0);
  });

  it("handle the first two messages of a new chat, sent to both replicas at once, one at a time", {
    timeout: 60_000,
  }, async () => {
    const [first, second] = replicas;
    if (first === undefined || second === undefined) throw new Error("the replicas did not start");
    const rounds = 4;
    for (let round = 0; round < rounds; round += 1) {
      const chatId = uniqueChatId();
      const bodies = [
        messageEventBody({ chatId, text: "slow: first message" }),
        messageEventBody({ chatId, text: "slow: second message" }),
      ];
      const answers = await Promise.all([
        client.post(first.url, bodies[0] ?? "", signedHeaders(bodies[0] ?? "", secret)),
        client.post(second.url, bodies[1] ?? "", signedHeaders(bodies[1] ?? "", secret)),
      ]);
      expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
      await waitFor(
        async () =>
          (await readRecording(database)).effects.filter(
            (effect) => effect.conversationKey === `chat:${chatId}`,
          ).length === 2,
        { timeoutMs: 20_000, what: `both effects of chat ${chatId}` },
      );
      const recording = await readRecording(database);
      const attempts = recording.attempts.filter((attempt) => attempt.conversationKey === `chat:${chatId}`);
      expect(attempts).toHaveLength(2);
      const [earlier, later] = [...attempts].sort((left, right) => left.startedAtMs - right.startedAtMs);
      // The second handler started only after the first had finished.
      expect(later?.startedAtMs).toBeGreaterThanOrEqual(earlier?.finishedAtMs ?? Number.POSITIVE_INFINITY);
      expect(recording.overlaps.filter((overlap) => overlap.conversationKey === `chat:${chatId}`)).toEqual(
        [],
      );
    }
  });
});
