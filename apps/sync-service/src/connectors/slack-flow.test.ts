// The Slack flow end to end THROUGH THE SYNC-SERVICE, over real HTTP everywhere:
//   Linq simulator → signed webhook → /webhooks/linq → event store + queue → Slack connector → Slack simulator
//   Slack simulator → signed Events API / slash command → /slack/* → connector job → Linq simulator
// Every assertion reads the simulators' state (what the customer and the Slack channel see), plus the
// service's dead-letter store where the outcome is a dead letter. Each scenario runs on the embedded
// PGlite; the ordering and concurrency ones also on PostgreSQL, with one instance and with two replicas
// sharing the database behind a round-robin proxy.
import { replyIdempotencyKey } from "@linq-connect/slack";
import { signSlackRequest } from "@linq-connect/slack/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../database/database.ts";
import type { Database } from "../database/database-types.ts";
import { createTestDatabase, type TestDatabase } from "../test-support/index.ts";
import {
  AGENT,
  CLOSED_CHANNEL,
  CLOSED_NUMBER,
  type SlackFlow,
  SUPPORT_CHANNEL,
  SUPPORT_NUMBER,
  startSlackFlow,
} from "./slack-flow.test-helpers.ts";

/** "+15552010001" → "(555) 201-0001", as the connector shows US numbers. */
function display(number: string): string {
  return `(${number.slice(2, 5)}) ${number.slice(5, 8)}-${number.slice(8)}`;
}

function header(number: string): string {
  return `Conversation with ${display(number)} · iMessage`;
}

function customerLine(number: string, text: string): string {
  return `${display(number)}: ${text}`;
}

/** The thread parents in a channel that are the header of a conversation with `number`. */
function threadsWith(flow: SlackFlow, channel: string, number: string): string[] {
  return flow.slack.state
    .messages(channel)
    .filter((message) => message.text === header(number))
    .map((message) => message.ts);
}

/**
 * Thread headers successfully posted for a conversation with `number`, deleted or not: a duplicate
 * thread that was created and then removed again still counts.
 */
function headerPosts(flow: SlackFlow, channel: string, number: string): number {
  return flow.slack.requests.filter(
    (request) =>
      request.method === "chat.postMessage" &&
      request.ok === true &&
      request.params.channel === channel &&
      request.params.thread_ts === undefined &&
      request.params.text === header(number),
  ).length;
}

/** Exactly one thread for the conversation: one header ever posted, and it is the recorded thread. */
async function expectOneThread(flow: SlackFlow, chatId: number, number: string): Promise<void> {
  const thread = await flow.threadOf(chatId);
  expect(thread?.channel).toBe(SUPPORT_CHANNEL);
  expect(threadsWith(flow, SUPPORT_CHANNEL, number)).toEqual([thread?.ts]);
  expect(headerPosts(flow, SUPPORT_CHANNEL, number)).toBe(1);
}

function linqTexts(flow: SlackFlow, chatId: number): string[] {
  return flow.linq.state.messages(chatId).map((message) => message.text);
}

/** The requests the service made to Linq that change something (sends, reactions, edits…). */
function linqWrites(flow: SlackFlow): { method: string; path: string; idempotencyKey: string | null }[] {
  return flow.linq.requests
    .filter((request) => request.method !== "GET")
    .map(({ method, path, idempotencyKey }) => ({ method, path, idempotencyKey }));
}

/** Successful chat.postMessage calls into a thread. */
function postsInto(flow: SlackFlow, channel: string, threadTs: string): number {
  return flow.slack.requests.filter(
    (request) =>
      request.method === "chat.postMessage" &&
      request.ok === true &&
      request.params.channel === channel &&
      request.params.thread_ts === threadTs,
  ).length;
}

interface DeliveredSlackEvent {
  eventId: string | null;
  ok: boolean;
  status: number | null;
  retryNum: number | null;
  duplicate: boolean;
  body: string;
  event: Record<string, unknown> & {
    type?: string;
    user?: string;
    bot_id?: string;
    subtype?: string;
    ts?: string;
    thread_ts?: string;
    channel?: string;
    item?: { channel?: string; ts?: string };
    message?: { bot_id?: string; user?: string; thread_ts?: string; ts?: string };
  };
}

/** Every Events API attempt the Slack simulator made to the service, with its inner event parsed. */
function deliveredEvents(flow: SlackFlow): DeliveredSlackEvent[] {
  return flow.slack.events.deliveries.flatMap((delivery) => {
    const body = JSON.parse(delivery.body) as { type?: string; event?: DeliveredSlackEvent["event"] };
    if (body.type !== "event_callback" || body.event === undefined) return [];
    return [
      {
        eventId: delivery.eventId,
        ok: delivery.ok,
        status: delivery.status,
        retryNum: delivery.retryNum,
        duplicate: delivery.duplicate,
        body: delivery.body,
        event: body.event,
      },
    ];
  });
}

/** Whether an event is the app's own doing: its bot's message, edit or reaction. */
function isFromTheApp(flow: SlackFlow, event: DeliveredSlackEvent["event"]): boolean {
  return (
    event.bot_id === flow.slack.botId ||
    event.user === flow.slack.botUserId ||
    event.message?.bot_id === flow.slack.botId
  );
}

/** Linq answering GET /chats/{id} slowly: thread creation (which reads the chat) takes a while. */
const slowChatReadFault = {
  match: { method: "GET", path: /^\/api\/partner\/v2\/chats\/\d+$/ },
  kind: "latency",
  latencyMs: 400,
} as const;

// ------------------------------------------------------------------------------------------------
// Databases

interface OpenedDatabases {
  databases: Database[];
  dispose(): Promise<void>;
}

async function openPglite(): Promise<OpenedDatabases> {
  const database = await openDatabase({ inMemory: true });
  return { databases: [database], dispose: () => database.close() };
}

/** One PostgreSQL database; one connection pool per service instance, as separate processes would have. */
async function openPostgres(instances: number): Promise<OpenedDatabases> {
  const testDatabase: TestDatabase = await createTestDatabase();
  const databases: Database[] = [];
  try {
    for (let index = 0; index < instances; index += 1) {
      databases.push(await openDatabase({ url: testDatabase.url, poolSize: 6 }));
    }
  } catch (error) {
    for (const database of databases) await database.close();
    await testDatabase.drop();
    throw error;
  }
  return {
    databases,
    async dispose() {
      for (const database of databases) await database.close();
      await testDatabase.drop();
    },
  };
}

/** A flow started before the calling describe's tests and stopped after them. */
function useFlow(open: () => Promise<OpenedDatabases>): { readonly flow: SlackFlow } {
  let flow: SlackFlow | undefined;
  let opened: OpenedDatabases | undefined;
  beforeAll(async () => {
    opened = await open();
    flow = await startSlackFlow({ databases: opened.databases });
  }, 30_000);
  afterAll(async () => {
    await flow?.close();
    await opened?.dispose();
  }, 30_000);
  return {
    get flow(): SlackFlow {
      if (flow === undefined) throw new Error("The Slack flow did not start (see the beforeAll error)");
      return flow;
    },
  };
}

// ------------------------------------------------------------------------------------------------
// Ordering and concurrency: on PGlite and on PostgreSQL

/** Distinct customers per backend, so the two runs never share a chat even in one Linq simulator. */
function orderingScenarios(handle: { readonly flow: SlackFlow }, customerPrefix: string): void {
  it("creates exactly one thread when a new chat's first two texts arrive at once", async () => {
    const { flow } = handle;
    const customer = `${customerPrefix}01`;
    const [first, second] = await Promise.all([
      flow.linq.inbound.text({ from: customer, text: "first, at once" }),
      flow.linq.inbound.text({ from: customer, text: "second, at once" }),
    ]);
    expect(second.chat.id).toBe(first.chat.id);
    const chatId = first.chat.id;
    await flow.waitFor(
      async () => (await flow.threadTexts(chatId)).length >= 3,
      "the thread with both first messages",
    );
    await flow.settle();

    await expectOneThread(flow, chatId, customer);
    expect(await flow.threadTexts(chatId)).toEqual([
      header(customer),
      // In the order Linq has them.
      ...linqTexts(flow, chatId).map((text) => customerLine(customer, text)),
    ]);
    expect(linqTexts(flow, chatId).sort()).toEqual(["first, at once", "second, at once"]);
  });

  it("creates exactly one thread when a new chat's first text and a call from the customer are handled at once", async () => {
    const { flow } = handle;
    const customer = `${customerPrefix}04`;
    // A call is ordered by caller, a text by chat: the two jobs run side by side and both need the
    // chat's thread (the call is posted into it). A slow Linq API (reading the chat for the header)
    // keeps the first job inside thread creation until the second one arrives.
    const slowChatReads = flow.linq.faults.inject(slowChatReadFault);
    let chatId: number;
    try {
      const [{ chat }] = await Promise.all([
        flow.linq.inbound.text({ from: customer, text: "calling you now" }),
        flow.linq.inbound.call({ from: customer, durationSeconds: 42, recording: null }),
      ]);
      chatId = chat.id;
      await flow.waitFor(
        async () => (await flow.threadTexts(chatId)).length >= 3,
        "the thread with the text and the call",
      );
      await flow.settle();
    } finally {
      slowChatReads.remove();
    }
    expect(slowChatReads.hits).toBeGreaterThanOrEqual(1);

    await expectOneThread(flow, chatId, customer);
    const texts = await flow.threadTexts(chatId);
    expect(texts[0]).toBe(header(customer));
    expect(texts).toHaveLength(3);
    expect(texts).toContain(customerLine(customer, "calling you now"));
    expect(texts.filter((text) => text.startsWith(`Inbound call from ${display(customer)}`))).toHaveLength(1);
  });

  it("posts a burst of 50 texts in one chat once each, in order", async () => {
    const { flow } = handle;
    const customer = `${customerPrefix}02`;
    const texts = Array.from({ length: 50 }, (_, index) => `burst message ${index + 1}`);
    let chatId = 0;
    for (const text of texts) chatId = (await flow.linq.inbound.text({ from: customer, text })).chat.id;
    await flow.waitFor(
      async () => (await flow.threadTexts(chatId)).length >= 51,
      "50 mirrored messages",
      30_000,
    );
    await flow.settle();

    await expectOneThread(flow, chatId, customer);
    const thread = await flow.threadOf(chatId);
    expect(await flow.threadTexts(chatId)).toEqual([
      header(customer),
      ...texts.map((text) => customerLine(customer, text)),
    ]);
    // Once each: 50 successful posts into the thread, no more.
    expect(postsInto(flow, SUPPORT_CHANNEL, thread?.ts ?? "")).toBe(50);
  }, 40_000);

  it("delivers every text exactly once and in order while Slack answers 429 and 500 for a while", async () => {
    const { flow } = handle;
    const customer = `${customerPrefix}03`;
    const postMessage = { method: "chat.postMessage" };
    const rateLimited = flow.slack.faults.inject({
      match: postMessage,
      kind: "rate-limit",
      retryAfterSeconds: 1,
      times: 5,
    });
    const failed = flow.slack.faults.inject({ match: postMessage, kind: "server-error", times: 5 });
    const firstRequest = flow.slack.requests.length;
    try {
      const texts = Array.from({ length: 10 }, (_, index) => `during the outage ${index + 1}`);
      let chatId = 0;
      for (const text of texts) chatId = (await flow.linq.inbound.text({ from: customer, text })).chat.id;
      await flow.waitFor(
        async () => (await flow.threadTexts(chatId)).length >= 11,
        "10 messages mirrored through the faults",
        40_000,
      );
      await flow.settle({ timeoutMs: 30_000 });

      expect(rateLimited.hits).toBe(5);
      expect(failed.hits).toBe(5);
      await expectOneThread(flow, chatId, customer);
      expect(await flow.threadTexts(chatId)).toEqual([
        header(customer),
        ...texts.map((text) => customerLine(customer, text)),
      ]);
      const thread = await flow.threadOf(chatId);
      expect(postsInto(flow, SUPPORT_CHANNEL, thread?.ts ?? "")).toBe(10);

      const requests = flow.slack.requests.slice(firstRequest);
      const posts = requests.filter((request) => request.method === "chat.postMessage");
      // Retry-After honoured: after each 429 the next post waited at least the second Slack asked for.
      for (const [index, post] of posts.entries()) {
        if (post.fault !== "rate-limit") continue;
        const next = posts[index + 1];
        expect(next).toBeDefined();
        expect(Date.parse(next?.at ?? "") - Date.parse(post.at)).toBeGreaterThanOrEqual(900);
      }
      // A 500 may hide a post Slack made: before posting again the connector looked for it.
      expect(
        requests.some(
          (request) =>
            (request.method === "conversations.replies" || request.method === "conversations.history") &&
            request.params.channel === SUPPORT_CHANNEL,
        ),
      ).toBe(true);
      const [replica] = flow.replicas;
      expect(await replica?.deadLetters.count({ connector: "slack" })).toBe(0);
      // No post was left half-done (an attempt marker waiting for reconciliation).
      const markers = await replica?.database.query<{ count: number }>(
        "SELECT count(*)::integer AS count FROM mappings WHERE kind = 'slack.post-attempt'",
      );
      expect(Number(markers?.rows[0]?.count)).toBe(0);
    } finally {
      rateLimited.remove();
      failed.remove();
    }
  }, 60_000);
}

describe("the Slack flow through the sync-service on PGlite", () => {
  const handle = useFlow(openPglite);

  it("mirrors a customer text into one thread, texts an agent's reply once, and ignores Slack's redeliveries", async () => {
    const { flow } = handle;
    const customer = "+15552010001";
    const { chat } = await flow.linq.inbound.text({ from: customer, text: "Hi! Is my order ready?" });
    await flow.waitFor(
      async () => (await flow.threadTexts(chat.id)).length >= 2,
      "the thread with the header and the text",
    );
    await flow.settle();
    const thread = await flow.threadOf(chat.id);
    if (thread === undefined) throw new Error("no thread recorded for the chat");
    await expectOneThread(flow, chat.id, customer);
    expect(await flow.threadTexts(chat.id)).toEqual([
      header(customer),
      customerLine(customer, "Hi! Is my order ready?"),
    ]);
    // The header names the number and the service in its blocks too.
    const parent = flow.slack.state.message(SUPPORT_CHANNEL, thread.ts);
    expect(JSON.stringify(parent?.blocks)).toContain(display(customer));
    expect(JSON.stringify(parent?.blocks)).toContain("iMessage");

    // An agent answers in the thread: one Linq message in that chat, keyed by the Slack message.
    const reply = await flow.slack.users.post({
      user: AGENT,
      channel: thread.channel,
      threadTs: thread.ts,
      text: "Yes, it ships today!",
    });
    await flow.waitFor(
      () => linqTexts(flow, chat.id).includes("Yes, it ships today!"),
      "the agent's reply in the Linq chat",
    );
    await flow.settle();
    expect(linqTexts(flow, chat.id)).toEqual(["Hi! Is my order ready?", "Yes, it ships today!"]);
    expect(flow.linq.state.messages(chat.id)[1]?.sent_from).toBe(SUPPORT_NUMBER);
    const sendPath = `/api/partner/v2/chats/${chat.id}/chat_messages`;
    expect(linqWrites(flow).filter((write) => write.path === sendPath)).toEqual([
      { method: "POST", path: sendPath, idempotencyKey: replyIdempotencyKey(thread.channel, reply.ts) },
    ]);
    // Linq echoes the send as message.sent: it is linked to the agent's reply, not posted again.
    expect(await flow.threadTexts(chat.id)).toEqual([
      header(customer),
      customerLine(customer, "Hi! Is my order ready?"),
      "Yes, it ships today!",
    ]);

    // Slack delivers the next reply's event twice (same event_id).
    flow.slack.events.configure({ duplicateProbability: 1 });
    let second: { ts: string };
    try {
      second = await flow.slack.users.post({
        user: AGENT,
        channel: thread.channel,
        threadTs: thread.ts,
        text: "Tracking number: 1Z999",
      });
      await flow.waitFor(
        () => linqTexts(flow, chat.id).includes("Tracking number: 1Z999"),
        "the second reply in the Linq chat",
      );
      await flow.settle();
    } finally {
      flow.slack.events.configure({ duplicateProbability: 0 });
    }
    const twice = deliveredEvents(flow).filter((delivery) => delivery.event.ts === second.ts);
    expect(twice).toHaveLength(2);
    expect(twice.map((delivery) => delivery.duplicate).sort()).toEqual([false, true]);
    expect(new Set(twice.map((delivery) => delivery.eventId)).size).toBe(1);
    expect(twice.every((delivery) => delivery.status === 200)).toBe(true);

    // Slack retries the first reply's event (X-Slack-Retry-Num), as after an answer it found too slow.
    const [original] = deliveredEvents(flow).filter((delivery) => delivery.event.ts === reply.ts);
    if (original === undefined) throw new Error("the first reply's event was never delivered");
    for (const retryNum of [1, 2]) {
      const retried = await fetch(`${flow.entryUrl}/slack/events`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-slack-retry-num": String(retryNum),
          "x-slack-retry-reason": "http_timeout",
          ...signSlackRequest({ signingSecret: flow.slack.signingSecret, body: original.body }),
        },
        body: original.body,
      });
      await retried.body?.cancel();
      expect(retried.status).toBe(200);
    }
    await flow.settle();

    expect(linqTexts(flow, chat.id)).toEqual([
      "Hi! Is my order ready?",
      "Yes, it ships today!",
      "Tracking number: 1Z999",
    ]);
    expect(linqWrites(flow).filter((write) => write.path === sendPath)).toHaveLength(2);
    expect(await flow.threadTexts(chat.id)).toEqual([
      header(customer),
      customerLine(customer, "Hi! Is my order ready?"),
      "Yes, it ships today!",
      "Tracking number: 1Z999",
    ]);
  });

  orderingScenarios(handle, "+155520200");

  it("never sends the app's own posts, edits and reactions back to Linq", async () => {
    const { flow } = handle;
    const customer = "+15552010005";
    const { chat, message } = await flow.linq.inbound.text({ from: customer, text: "Loop check" });
    await flow.waitFor(
      async () => (await flow.threadTexts(chat.id)).length >= 2,
      "the thread with the header and the text",
    );
    // More of the app's own doing: a reaction (the customer's tapback) and a header update with a
    // notice (a participant joins).
    await flow.linq.inbound.react({ messageId: message.id, from: customer, reaction: "like" });
    await flow.linq.inbound.addParticipant({ chatId: chat.id, phoneNumber: "+15552010006" });
    const thread = await flow.threadOf(chat.id);
    if (thread === undefined) throw new Error("no thread recorded for the chat");
    await flow.waitFor(
      () =>
        flow.slack.state
          .thread(thread.channel, thread.ts)
          .some((reply) => reply.reactions?.some((reaction) => reaction.name === "+1") === true),
      "the customer's tapback as a reaction",
    );
    await flow.waitFor(
      async () => (await flow.threadTexts(chat.id)).some((text) => text.includes("joined the conversation")),
      "the participant notice",
    );
    await flow.settle();

    // The parent and every reply of the thread.
    const threadMessages = new Set(
      flow.slack.state.thread(thread.channel, thread.ts).map((reply) => reply.ts),
    );
    const ownEvents = deliveredEvents(flow).filter(({ event }) => {
      if (!isFromTheApp(flow, event)) return false;
      if ((event.channel ?? event.item?.channel) !== thread.channel) return false;
      const about = [event.ts, event.thread_ts, event.item?.ts, event.message?.ts, event.message?.thread_ts];
      return about.some((ts) => ts !== undefined && threadMessages.has(ts));
    });
    const kinds = new Set(ownEvents.map((delivery) => delivery.event.subtype ?? delivery.event.type));
    // The service received the app's own posts (header, mirrored text, notice), its header edit and
    // its reaction as events, and acknowledged each…
    expect(kinds).toEqual(new Set(["message", "message_changed", "reaction_added"]));
    expect(ownEvents.length).toBeGreaterThanOrEqual(4);
    expect(ownEvents.every((delivery) => delivery.status === 200)).toBe(true);
    // …and none of them reached the customer: the chat holds the customer's text only, and the
    // service never wrote to Linq about this chat or its message.
    expect(linqTexts(flow, chat.id)).toEqual(["Loop check"]);
    expect(
      linqWrites(flow).filter(
        (write) =>
          write.path.includes(`/chats/${chat.id}/`) || write.path.includes(`/chat_messages/${message.id}/`),
      ),
    ).toEqual([]);
  });

  it("starts a Linq conversation and its thread from the /linq slash command", async () => {
    const { flow } = handle;
    const customer = "+15557654321";
    const result = await flow.slack.users.slashCommand({
      user: AGENT,
      channel: SUPPORT_CHANNEL,
      command: "/linq",
      text: `${customer} Hello`,
    });
    expect(result.status).toBe(200);
    expect(result.body).toContain(`Texting ${customer}`);
    const chatOf = () =>
      flow.linq.state
        .chats()
        .filter((chat) => chat.chat_handles.some((handle) => handle.phone_number === customer));
    await flow.waitFor(() => chatOf().length > 0, "the new Linq chat");
    const [chat] = chatOf();
    if (chat === undefined) throw new Error("no chat");
    await flow.waitFor(async () => (await flow.threadOf(chat.id)) !== undefined, "the new thread");
    await flow.waitFor(
      () =>
        result.responses.some((response) => JSON.stringify(response.body).includes(`Sent to ${customer}`)),
      "the command's confirmation",
    );
    await flow.settle();

    expect(chatOf()).toHaveLength(1);
    expect(flow.linq.state.messages(chat.id).map((message) => [message.text, message.sent_from])).toEqual([
      ["Hello", SUPPORT_NUMBER],
    ]);
    await expectOneThread(flow, chat.id, customer);
    const texts = await flow.threadTexts(chat.id);
    expect(texts[0]).toBe(header(customer));
    expect(texts).toContain(`:rocket: <@${AGENT}> started this conversation from Slack`);
    // The text itself shows once in the thread (Linq's message.sent of it).
    expect(texts.filter((text) => text.endsWith(": Hello"))).toHaveLength(1);
  });

  it("dead-letters a message for an archived channel with a clear reason, once", async () => {
    const { flow } = handle;
    const [replica] = flow.replicas;
    if (replica === undefined) throw new Error("no replica");
    flow.slack.channels.archive(CLOSED_CHANNEL);
    try {
      const { chat } = await flow.linq.inbound.text({
        from: "+15552010007",
        to: CLOSED_NUMBER,
        text: "Anyone there?",
      });
      const eventIdOfChat = () =>
        flow.linq.webhooks.deliveries.find(
          (delivery) =>
            delivery.eventType === "message.received" &&
            String((JSON.parse(delivery.body) as { data?: { chat_id?: unknown } }).data?.chat_id) ===
              String(chat.id),
        )?.eventId;
      await flow.waitFor(
        async () => (await replica.deadLetters.count({ connector: "slack" })) > 0,
        "a dead letter",
      );
      await flow.settle();
      const attemptsBefore = flow.slack.requests.filter(
        (request) => request.method === "chat.postMessage" && request.params.channel === CLOSED_CHANNEL,
      ).length;

      const deadLetters = await replica.deadLetters.list({ connector: "slack", limit: 10 });
      expect(deadLetters).toHaveLength(1);
      const [dead] = deadLetters;
      if (dead === undefined) throw new Error("no dead letter");
      expect(dead.jobKind).toBe("linq-event");
      expect((dead.payload as { eventId?: unknown }).eventId).toBe(eventIdOfChat());
      expect(dead.attempts).toBe(1);
      const error = dead.error as {
        name?: string;
        code?: string;
        slackError?: string;
        message?: string;
        isRetryable?: boolean;
      };
      expect(error).toMatchObject({
        name: "SlackPermissionError",
        code: "permission_error",
        slackError: "is_archived",
        isRetryable: false,
      });
      expect(error.message).toMatch(/C0CLOSED|#closed/);
      expect(error.message).toMatch(/is archived: unarchive it or point the route's slack.channel/);
      expect(error.message).toMatch(/linq-sync doctor/);
      expect(error.message).not.toContain(flow.slack.botToken);
      // The event's delivery to the connector is marked dead, with the same reason.
      const stored = await replica.eventStore.getEvent(eventIdOfChat() ?? "");
      expect(stored?.deliveries).toEqual([
        expect.objectContaining({ connector: "slack", status: "dead", attempts: 1 }),
      ]);

      // It does not loop: nothing was posted, and nothing is tried again.
      expect(flow.slack.state.messages(CLOSED_CHANNEL)).toEqual([]);
      expect(attemptsBefore).toBe(1);
      await flow.settle();
      expect(
        flow.slack.requests.filter(
          (request) => request.method === "chat.postMessage" && request.params.channel === CLOSED_CHANNEL,
        ),
      ).toHaveLength(attemptsBefore);
      expect(await replica.deadLetters.count({ connector: "slack" })).toBe(1);
    } finally {
      flow.slack.channels.unarchive(CLOSED_CHANNEL);
    }
  });
});

describe("the Slack flow through the sync-service on PostgreSQL", () => {
  const handle = useFlow(() => openPostgres(1));
  orderingScenarios(handle, "+155520300");
});

describe("the Slack flow through two replicas of the sync-service on one PostgreSQL database", () => {
  const handle = useFlow(() => openPostgres(2));

  it("creates one thread per new chat and texts each agent reply once while requests alternate between the replicas", async () => {
    const { flow } = handle;
    const proxy = flow.proxy;
    if (proxy === undefined) throw new Error("no proxy in front of the replicas");
    const customers = ["+15552040001", "+15552040002", "+15552040003", "+15552040004"];
    // Every chat's first two texts and a call at once, all chats at once, while Linq is slow to
    // answer the chat reads of thread creation (so that the chat's jobs meet inside it).
    const slowChatReads = flow.linq.faults.inject(slowChatReadFault);
    const sent = await Promise.all(
      customers.flatMap((customer) => [
        flow.linq.inbound.text({ from: customer, text: `${customer} first` }),
        flow.linq.inbound.text({ from: customer, text: `${customer} second` }),
      ]),
    );
    await Promise.all(
      customers.map((customer) =>
        flow.linq.inbound.call({ from: customer, durationSeconds: 30, recording: null }),
      ),
    );
    const chatIds = customers.map(
      (customer) =>
        sent.find((result) => result.chat.chat_handles.some((handle) => handle.phone_number === customer))
          ?.chat.id ?? 0,
    );
    expect(new Set(chatIds).size).toBe(customers.length);
    await flow.waitFor(
      async () => {
        for (const chatId of chatIds) if ((await flow.threadTexts(chatId)).length < 4) return false;
        return true;
      },
      "every chat's thread with both messages and the call",
      20_000,
    );
    await flow.settle();
    slowChatReads.remove();
    expect(slowChatReads.hits).toBeGreaterThanOrEqual(customers.length);

    const webhookReplicas = new Set(
      proxy.forwarded
        .filter((request) => request.path === "/webhooks/linq")
        .map((request) => request.replica),
    );
    expect(webhookReplicas).toEqual(new Set([0, 1]));
    for (const [index, customer] of customers.entries()) {
      const chatId = chatIds[index] ?? 0;
      await expectOneThread(flow, chatId, customer);
      const texts = await flow.threadTexts(chatId);
      const isCall = (text: string) => text.startsWith(`Inbound call from ${display(customer)}`);
      expect(texts.filter(isCall)).toHaveLength(1);
      expect(texts.filter((text) => !isCall(text))).toEqual([
        header(customer),
        ...linqTexts(flow, chatId).map((text) => customerLine(customer, text)),
      ]);
    }

    // Agents answer every thread; Slack's events alternate between the replicas too.
    const replies: { chatId: number; ts: string; text: string; channel: string }[] = [];
    for (const chatId of chatIds) {
      const thread = await flow.threadOf(chatId);
      if (thread === undefined) throw new Error(`no thread for chat ${chatId}`);
      const text = `Answer for chat ${chatId}`;
      const reply = await flow.slack.users.post({
        user: AGENT,
        channel: thread.channel,
        threadTs: thread.ts,
        text,
      });
      replies.push({ chatId, ts: reply.ts, text, channel: thread.channel });
    }
    await flow.waitFor(
      () => replies.every((reply) => linqTexts(flow, reply.chatId).includes(reply.text)),
      "every agent reply in its Linq chat",
      20_000,
    );
    await flow.settle();
    const eventReplicas = new Set(
      proxy.forwarded.filter((request) => request.path === "/slack/events").map((request) => request.replica),
    );
    expect(eventReplicas).toEqual(new Set([0, 1]));
    for (const reply of replies) {
      expect(linqTexts(flow, reply.chatId).filter((text) => text === reply.text)).toHaveLength(1);
      const sendPath = `/api/partner/v2/chats/${reply.chatId}/chat_messages`;
      expect(linqWrites(flow).filter((write) => write.path === sendPath)).toEqual([
        { method: "POST", path: sendPath, idempotencyKey: replyIdempotencyKey(reply.channel, reply.ts) },
      ]);
      // The echo (message.sent), handled by either replica, is not posted into Slack again.
      expect((await flow.threadTexts(reply.chatId)).filter((text) => text.includes(reply.text))).toEqual([
        reply.text,
      ]);
    }
  }, 40_000);
});
