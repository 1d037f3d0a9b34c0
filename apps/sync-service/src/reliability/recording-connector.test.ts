/**
 * The recording connector is the reliability tests' instrument: it must itself notice a second
 * effect, a concurrent handling of one conversation, and tell a dead process's claim from a live one.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import {
  type ConnectorContext,
  type LinqClient,
  type LinqWebhookEvent,
  type MappingStore,
  parseWebhookEvent,
  ServerError,
} from "@linq-connect/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../database/database.ts";
import type { Database } from "../database/database-types.ts";
import { createRecordingConnector, readRecording } from "../test-support/recording-connector.ts";
import { messageEventBody, uniqueChatId } from "./webhooks.test-helpers.ts";

let database: Database;
beforeAll(async () => {
  database = await openDatabase({ inMemory: true });
});
afterAll(async () => {
  await database?.close();
});

function event(chatId: string, text = "hello"): LinqWebhookEvent {
  const parsed = parseWebhookEvent(messageEventBody({ eventId: randomUUID(), chatId, text }));
  if (!parsed.known) throw new Error("expected a known event");
  return parsed;
}

function context(signal: AbortSignal = new AbortController().signal): ConnectorContext {
  const logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => logger };
  return {
    linq: {} as LinqClient,
    store: {} as MappingStore,
    logger,
    signal,
    enqueue: async () => undefined,
  };
}

describe("the recording connector", () => {
  it("writes one effect per event and records a second handling as a repeat", async () => {
    const connector = await createRecordingConnector({ database, name: "slack" });
    const handled = event(uniqueChatId(), "first");
    await connector.handleEvent(handled, context());
    await connector.handleEvent(handled, context());
    const recording = await readRecording(database);
    expect(recording.effects.filter((effect) => effect.eventId === handled.event_id)).toMatchObject([
      {
        connector: "slack",
        text: "first",
        processId: process.pid,
        conversationKey: `chat:${handled.data.chat_id}`,
      },
    ]);
    expect(
      recording.attempts
        .filter((attempt) => attempt.eventId === handled.event_id)
        .map((attempt) => [attempt.attempt, attempt.outcome]),
    ).toEqual([
      [1, "effect"],
      [2, "repeat"],
    ]);
    expect(connector.attemptsByEvent.get(handled.event_id)).toBe(2);
  });

  it("records an overlap when two handlers of one conversation run at once, and none for different ones", async () => {
    const connector = await createRecordingConnector({ database, delayMs: 100 });
    const chatId = uniqueChatId();
    await Promise.all([
      connector.handleEvent(event(chatId), context()),
      connector.handleEvent(event(chatId), context()),
      connector.handleEvent(event(uniqueChatId()), context()),
    ]);
    const overlaps = (await readRecording(database)).overlaps;
    expect(overlaps.filter((overlap) => overlap.conversationKey === `chat:${chatId}`)).toHaveLength(1);
    expect(overlaps).toHaveLength(1);
    // Both still took effect: the detector observes, it does not prevent.
    const effects = (await readRecording(database)).effects.filter(
      (effect) => effect.conversationKey === `chat:${chatId}`,
    );
    expect(effects).toHaveLength(2);
  });

  it("takes over the claim of a process that is gone without recording an overlap", async () => {
    const gone = spawn(process.execPath, ["-e", "0"]);
    const goneProcessId = gone.pid ?? 0;
    await new Promise((resolve) => gone.once("exit", resolve));
    const chatId = uniqueChatId();
    await database.query(
      "INSERT INTO active_conversations (conversation_key, event_id, process_id) VALUES ($1, 'killed-event', $2)",
      [`chat:${chatId}`, goneProcessId],
    );
    const before = (await readRecording(database)).overlaps.length;
    const connector = await createRecordingConnector({ database });
    await connector.handleEvent(event(chatId), context());
    expect((await readRecording(database)).overlaps).toHaveLength(before);
    const claims = await database.query("SELECT 1 FROM active_conversations WHERE conversation_key = $1", [
      `chat:${chatId}`,
    ]);
    expect(claims.rows).toEqual([]);
  });

  it("fails the first attempts on purpose, then succeeds", async () => {
    const connector = await createRecordingConnector({ database, failFirst: 2 });
    const handled = event(uniqueChatId());
    await expect(connector.handleEvent(handled, context())).rejects.toBeInstanceOf(ServerError);
    await expect(connector.handleEvent(handled, context())).rejects.toBeInstanceOf(ServerError);
    await connector.handleEvent(handled, context());
    const attempts = (await readRecording(database)).attempts.filter(
      (attempt) => attempt.eventId === handled.event_id,
    );
    expect(attempts.map((attempt) => attempt.outcome)).toEqual(["failed", "failed", "effect"]);
  });

  it("stops waiting when the job's signal aborts, and takes no effect", async () => {
    const connector = await createRecordingConnector({ database, delayMs: 60_000 });
    const handled = event(uniqueChatId());
    const controller = new AbortController();
    const handling = connector.handleEvent(handled, context(controller.signal));
    setTimeout(() => controller.abort(), 50);
    await expect(handling).rejects.toMatchObject({ code: "aborted" });
    const recording = await readRecording(database);
    expect(recording.attempts.find((attempt) => attempt.eventId === handled.event_id)?.outcome).toBe(
      "aborted",
    );
    expect(recording.effects.some((effect) => effect.eventId === handled.event_id)).toBe(false);
  });

  it('keeps the same records in memory with store "memory", without touching a database', async () => {
    const connector = await createRecordingConnector({ store: "memory", delayMs: 50 });
    const chatId = uniqueChatId();
    const first = event(chatId, "one");
    await Promise.all([
      connector.handleEvent(first, context()),
      connector.handleEvent(event(chatId), context()),
    ]);
    await connector.handleEvent(first, context());
    const recording = await connector.read();
    expect(recording.effects.map((effect) => [effect.sequence, effect.text])).toEqual([
      [1, "one"],
      [2, "hello"],
    ]);
    expect(
      recording.attempts
        .filter((attempt) => attempt.eventId === first.event_id)
        .map((attempt) => attempt.outcome),
    ).toEqual(["effect", "repeat"]);
    expect(recording.overlaps).toHaveLength(1);
    expect(await connector.countEffects()).toBe(2);
  });
});
