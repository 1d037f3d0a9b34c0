import { AuthenticationError, type LinqWebhookEvent, PermissionError } from "@linq-connect/core";
import { afterEach, describe, expect, it } from "vitest";
import {
  CHANNEL,
  CUSTOMER,
  LINQ_NUMBER,
  MemoryMappingStore,
  startWorld,
  type World,
} from "./connector-harness.test-helpers.ts";
import type { SlackConnector } from "./slack-connector.ts";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

function threadTexts(target: World, threadTs: string): string[] {
  return target.slack.state.thread(CHANNEL, threadTs).map((message) => message.text);
}

describe("exactly one thread per chat", () => {
  for (const locks of [true, false]) {
    it(`creates one thread when two replicas race on a chat's first messages (${locks ? "with" : "without"} working locks)`, async () => {
      world = await startWorld({ replicas: 2, store: new MemoryMappingStore({ locks }) });
      world.harness.holdEvents = true;
      await world.linqSimulator.inbound.text({ from: CUSTOMER, text: "first" });
      await world.linqSimulator.inbound.text({ from: CUSTOMER, text: "second" });
      await world.linqSimulator.webhooks.flush();
      const [first, second] = world.harness.held;
      if (first === undefined || second === undefined) throw new Error("events not received");
      const [replicaA, replicaB] = world.replicas;
      if (replicaA === undefined || replicaB === undefined) throw new Error("replicas missing");
      const route = { name: "sales", settings: { channel: CHANNEL } };
      await Promise.all([
        replicaA.connector.handleEvent(first, replicaA.context(route)),
        replicaB.connector.handleEvent(second, replicaB.context(route)),
      ]);

      const parents = world.slack.state.messages(CHANNEL);
      expect(parents).toHaveLength(1);
      const threadTs = parents[0]?.ts ?? "";
      expect(
        await world.threadTsOf(Number(first.event_type === "message.received" ? first.data.chat_id : 0)),
      ).toBe(threadTs);
      expect(threadTexts(world, threadTs).slice(1).sort()).toEqual([
        "(555) 123-4567: first",
        "(555) 123-4567: second",
      ]);
      expect(
        world.store.lockCounts.get(
          `slack-thread:${(first as LinqWebhookEvent & { data: { chat_id: number } }).data.chat_id}`,
        ),
      ).toBeGreaterThanOrEqual(1);
    });
  }
});

describe("bursts, pacing and faults", () => {
  it("posts a burst of 50 messages in one chat once each, in order", async () => {
    world = await startWorld();
    const texts = Array.from({ length: 50 }, (_, index) => `message ${index + 1}`);
    for (const text of texts) await world.linqSimulator.inbound.text({ from: CUSTOMER, text });
    await world.settle();
    const [parent] = world.slack.state.messages(CHANNEL);
    expect(world.slack.state.messages(CHANNEL)).toHaveLength(1);
    expect(threadTexts(world, parent?.ts ?? "").slice(1)).toEqual(
      texts.map((text) => `(555) 123-4567: ${text}`),
    );
    expect(world.harness.queue.dead).toEqual([]);
  });

  it("paces posts to Slack's one message per second per channel without a single 429", async () => {
    world = await startWorld({
      slack: { rateLimits: { postMessagePerChannel: { perSecond: 1, burst: 3 } } },
      connector: { pacing: {} },
    });
    const started = Date.now();
    for (const text of ["a", "b", "c", "d", "e"])
      await world.linqSimulator.inbound.text({ from: CUSTOMER, text });
    await world.settle();
    const elapsed = Date.now() - started;
    const posts = world.slack.requests.filter((request) => request.method === "chat.postMessage");
    expect(posts.map((request) => request.status)).toEqual([200, 200, 200, 200, 200, 200]);
    // Six posts (header + five) with a burst of three: at least three more seconds.
    expect(elapsed).toBeGreaterThanOrEqual(2800);
  });

  it("delivers every message exactly once while Slack answers 429, 500, 502, drops connections and times out", async () => {
    world = await startWorld({
      slack: {
        // linq-connect is installed as an internal (customer-built) app, which keeps tier 3 for
        // conversations.replies; the reconciliation read after an ambiguous failure uses it.
        rateLimits: {
          postMessagePerChannel: { perSecond: 50, burst: 50 },
          methods: { "conversations.replies": { perMinute: 50 } },
        },
      },
      connector: { timeoutMs: 300 },
    });
    const { chat } = await world.linqSimulator.inbound.text({ from: CUSTOMER, text: "message 0" });
    await world.settle();
    const faults = world.slack.faults;
    const postOnly = { method: "chat.postMessage" };
    faults.inject({ match: postOnly, kind: "rate-limit", retryAfterSeconds: 1, times: 2 });
    faults.inject({ match: postOnly, kind: "server-error", times: 2 });
    faults.inject({ match: postOnly, kind: "drop-after-processing", times: 2 });
    faults.inject({ match: postOnly, kind: "bad-gateway", times: 1 });
    faults.inject({ match: postOnly, kind: "timeout", times: 1 });
    faults.inject({ match: postOnly, kind: "drop-connection", times: 1 });
    const texts = Array.from({ length: 12 }, (_, index) => `message ${index + 1}`);
    for (const text of texts) await world.linqSimulator.inbound.text({ from: CUSTOMER, text });
    await world.settle();

    const threadTs = (await world.threadTsOf(chat.id)) ?? "";
    expect(threadTexts(world, threadTs).slice(1)).toEqual(
      ["message 0", ...texts].map((text) => `(555) 123-4567: ${text}`),
    );
    const applied = world.slack.requests
      .filter((request) => request.fault !== null)
      .map((request) => request.fault);
    expect(new Set(applied)).toEqual(
      new Set([
        "rate-limit",
        "server-error",
        "drop-after-processing",
        "bad-gateway",
        "timeout",
        "drop-connection",
      ]),
    );
    // The messages Slack processed before dropping the connection were found, not posted again.
    expect(world.slack.requests.some((request) => request.method === "conversations.replies")).toBe(true);
    expect(world.harness.queue.dead).toEqual([]);
    expect(world.store.all("slack.post-attempt")).toEqual([]);
  });

  it("keeps uploads exactly once when the completion's connection drops after Slack processed it", async () => {
    world = await startWorld();
    const { chat } = await world.linqSimulator.inbound.text({ from: CUSTOMER, text: "hello" });
    await world.settle();
    const fault = world.slack.faults.inject({
      match: { method: "files.completeUploadExternal" },
      kind: "drop-after-processing",
      times: 1,
    });
    // An attachment the Linq simulator serves itself.
    await world.linq.sendMessage(chat.id, {
      text: "receipt",
      attachments: [
        { data: Buffer.from("receipt bytes"), filename: "receipt.txt", contentType: "text/plain" },
      ],
    });
    await world.settle();
    expect(fault.hits).toBe(1);
    expect(world.slack.requests.some((request) => request.method === "files.info")).toBe(true);
    const shared = world.slack.state.files().filter((file) => file.name === "receipt.txt");
    expect(shared).toHaveLength(1);
    const threadTs = (await world.threadTsOf(chat.id)) ?? "";
    expect(
      world.slack.state.thread(CHANNEL, threadTs).filter((message) => (message.files?.length ?? 0) > 0),
    ).toHaveLength(1);
    expect(world.harness.queue.dead).toEqual([]);
  });
});

describe("ambiguous failures of the first post", () => {
  it("finds the header Slack created before the connection dropped instead of creating a second thread", async () => {
    world = await startWorld();
    const fault = world.slack.faults.inject({
      match: { method: "chat.postMessage" },
      kind: "drop-after-processing",
      times: 1,
    });
    const { chat } = await world.linqSimulator.inbound.text({ from: CUSTOMER, text: "first contact" });
    await world.settle();
    expect(fault.hits).toBe(1);
    expect(world.slack.state.messages(CHANNEL)).toHaveLength(1);
    expect(world.slack.requests.some((request) => request.method === "conversations.history")).toBe(true);
    const threadTs = (await world.threadTsOf(chat.id)) ?? "";
    expect(threadTexts(world, threadTs)).toEqual([
      "Conversation with (555) 123-4567 · iMessage",
      "(555) 123-4567: first contact",
    ]);
  });
});

describe("errors that need a person", () => {
  const cases = [
    {
      name: "an archived channel",
      breakIt: (target: World) => target.slack.channels.archive(CHANNEL),
      type: PermissionError,
      message: /archived.*linq-sync doctor/,
    },
    {
      name: "a bot removed from the channel",
      breakIt: (target: World) => target.slack.channels.removeBot(CHANNEL),
      type: PermissionError,
      message: /not a member of channel C0SALES: invite it/,
    },
    {
      name: "a revoked token",
      breakIt: (target: World) => target.slack.revokeToken(),
      type: AuthenticationError,
      message: /token_revoked.*linq-sync doctor/,
    },
  ] as const;
  for (const testCase of cases) {
    it(`dead-letters at once with a clear reason for ${testCase.name}`, async () => {
      world = await startWorld();
      testCase.breakIt(world);
      await world.linqSimulator.inbound.text({ from: CUSTOMER, text: "Anyone?" });
      await world.settle();
      const [dead] = world.harness.queue.dead;
      expect(dead?.attempts).toBe(1);
      expect(dead?.error).toBeInstanceOf(testCase.type);
      const message = dead?.error instanceof Error ? dead.error.message : "";
      expect(message).toMatch(testCase.message);
      expect(message).not.toContain(world.slack.botToken);
      expect(world.store.all("slack.post-attempt")).toEqual([]);
    });
  }

  it("reports the token, scopes and each routed channel in checkHealth", async () => {
    world = await startWorld({
      routes: [
        { name: "sales", match: { linqNumbers: [LINQ_NUMBER] }, slack: { channel: CHANNEL } },
        { name: "archive", match: { linqNumbers: [] }, slack: { channel: "C0OLD" } },
        { name: "away", match: { linqNumbers: [] }, slack: { channel: "C0AWAY" } },
        { name: "typo", match: { linqNumbers: [] }, slack: { channel: "C0NOPE" } },
      ],
      slack: {
        channels: [
          { id: CHANNEL, name: "sales" },
          { id: "C0OLD", name: "old", isArchived: true },
          { id: "C0AWAY", name: "away", botIsMember: false },
        ],
        scopes: [
          "chat:write",
          "channels:read",
          "groups:read",
          "channels:history",
          "groups:history",
          "files:read",
          "files:write",
          "commands",
        ],
      },
    });
    const connector = world.connector as SlackConnector;
    const results = await connector.checkHealth?.(world.harness.context(undefined));
    const byName = Object.fromEntries((results ?? []).map((result) => [result.name, result]));
    expect(byName["slack: token"]?.ok).toBe(true);
    expect(byName["slack: scopes"]).toMatchObject({
      ok: false,
      detail: "missing reactions:read, reactions:write",
    });
    expect(byName["slack: channel C0SALES (route sales)"]?.ok).toBe(true);
    expect(byName["slack: channel C0OLD (route archive)"]).toMatchObject({
      ok: false,
      detail: "#old is archived",
    });
    expect(byName["slack: channel C0AWAY (route away)"]?.fix).toContain("/invite");
    expect(byName["slack: channel C0NOPE (route typo)"]?.ok).toBe(false);
    world.slack.revokeToken();
    const revoked = await connector.checkHealth?.(world.harness.context(undefined));
    expect(revoked?.[0]).toMatchObject({ name: "slack: token", ok: false });
  });
});
