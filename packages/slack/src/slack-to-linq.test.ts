import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { ConnectorJobRequest } from "@linq-connect/core";
import { WebClient } from "@slack/web-api";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import {
  AGENT,
  CHANNEL,
  CUSTOMER,
  LINQ_NUMBER,
  startWorld,
  type World,
} from "./connector-harness.test-helpers.ts";
import { signSlackRequest } from "./testing/index.ts";

let world: World | undefined;

async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting for a condition");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** A customer texted in and the thread exists: returns the chat id and the thread's ts. */
async function conversation(
  target: World,
  text = "Hi, is my order ready?",
): Promise<{ chatId: number; threadTs: string }> {
  const { chat } = await target.linqSimulator.inbound.text({ from: CUSTOMER, text });
  await target.settle();
  const threadTs = await target.threadTsOf(chat.id);
  if (threadTs === undefined) throw new Error("no thread");
  return { chatId: chat.id, threadTs };
}

/** The Socket Mode envelopes of the Slack event about the message `ts`, in delivery order. */
function envelopesOf(target: World, ts: string) {
  return target.slack.socketMode.deliveries.filter((delivery) => {
    if (delivery.type !== "events_api") return false;
    const envelope = JSON.parse(delivery.body) as { payload?: { event?: { ts?: unknown } } };
    return envelope.payload?.event?.ts === ts;
  });
}

/**
 * Socket Mode with Slack's ack timeout at `ackTimeoutMs` (retries 20 ms apart): a conversation,
 * then an agent's reply while `beforeEnqueue(world)` runs before each job is stored.
 */
async function socketModeReply(
  text: string,
  beforeEnqueue: (target: World) => (request: ConnectorJobRequest) => Promise<void>,
  ackTimeoutMs = 400,
) {
  world = await startWorld({
    socketMode: true,
    slack: { eventDelivery: { ackTimeoutMs, retryDelaysMs: [0, 20, 20] } },
  });
  const current = world;
  const { chatId, threadTs } = await conversation(current);
  current.harness.beforeEnqueue = beforeEnqueue(current);
  const reply = await current.slack.users.post({ user: AGENT, channel: CHANNEL, threadTs, text });
  await current.settle();
  return { current, chatId, reply };
}

/** The reply ran as one job and reached Linq once. */
function expectSentOnce(target: World, chatId: number, text: string): void {
  expect(target.harness.queue.completed.filter((type) => type === "slack.reply")).toHaveLength(1);
  expect(sentToLinq(target, chatId).map((message) => message.text)).toEqual([text]);
  expect(target.harness.queue.dead).toEqual([]);
}

function linqTexts(target: World, chatId: number): string[] {
  return target.linqSimulator.state.messages(chatId).map((message) => message.text);
}

/** What the connector sent to Linq (not the customer's texts). */
function sentToLinq(target: World, chatId: number) {
  return target.linqSimulator.state.messages(chatId).filter((message) => message.sent_from === LINQ_NUMBER);
}

describe("Slack → Linq: replies", () => {
  it("sends a human reply in a mirrored thread to the chat, once, and does not mirror its echo", async () => {
    world = await startWorld();
    const { chatId, threadTs } = await conversation(world);
    const reply = await world.slack.users.post({
      user: AGENT,
      channel: CHANNEL,
      threadTs,
      text: "Yes, it ships today!",
    });
    await world.settle();

    const sent = sentToLinq(world, chatId);
    expect(sent.map((message) => message.text)).toEqual(["Yes, it ships today!"]);
    const request = world.linqSimulator.requests.find(
      (candidate) => candidate.method === "POST" && /chat_messages$/.test(candidate.path),
    );
    expect(request?.idempotencyKey).toBe(`slack-${CHANNEL}-${reply.ts.replace(".", "_")}`);
    // The thread holds the header, the customer's text and the human reply: the echo (message.sent) was recognised.
    const thread = world.slack.state.thread(CHANNEL, threadTs);
    expect(thread.map((message) => message.text)).toEqual([
      "Conversation with (555) 123-4567 · iMessage",
      "(555) 123-4567: Hi, is my order ready?",
      "Yes, it ships today!",
    ]);
    expect(world.harness.events.some((event) => event.event_type === "message.sent")).toBe(true);
    expect(world.harness.queue.dead).toEqual([]);
  });

  it("sends once when Slack delivers the same event again (X-Slack-Retry-Num) or twice", async () => {
    world = await startWorld({ slack: { eventDelivery: { ackTimeoutMs: 300, retryDelaysMs: [0, 50, 50] } } });
    const { chatId, threadTs } = await conversation(world);
    // The first answer to each event comes too late: Slack retries with X-Slack-Retry-Num.
    world.harness.beforeSlackAnswer = async (headers) => {
      if (headers["x-slack-retry-num"] === undefined)
        await new Promise((resolve) => setTimeout(resolve, 450));
    };
    world.slack.events.configure({ duplicateProbability: 1 });
    await world.slack.users.post({ user: AGENT, channel: CHANNEL, threadTs, text: "Only once please" });
    await world.settle();
    world.harness.beforeSlackAnswer = undefined;

    const retried = world.slack.events.deliveries.filter(
      (delivery) => delivery.retryNum !== null && delivery.type === "message",
    );
    expect(retried.length).toBeGreaterThan(0);
    expect(world.harness.slackRequests.some((request) => request.retryNum === "1")).toBe(true);
    expect(sentToLinq(world, chatId).map((message) => message.text)).toEqual(["Only once please"]);
    expect(world.harness.queue.completed.filter((type) => type === "slack.reply")).toHaveLength(1);
  });

  it("keeps notes starting with the internal prefix inside Slack and marks them with a lock", async () => {
    world = await startWorld();
    const { chatId, threadTs } = await conversation(world);
    const note = await world.slack.users.post({
      user: AGENT,
      channel: CHANNEL,
      threadTs,
      text: "NOTE: VIP customer, be nice",
    });
    await world.settle();
    expect(sentToLinq(world, chatId)).toEqual([]);
    expect(world.slack.state.reactions(CHANNEL, note.ts).map((reaction) => reaction.name)).toEqual(["lock"]);
  });

  it("never texts the customer from an alerts-only route", async () => {
    world = await startWorld({
      routes: [
        {
          name: "alerts",
          match: { linqNumbers: [LINQ_NUMBER] },
          slack: { channel: CHANNEL, mode: "alerts-only" },
        },
      ],
    });
    const { chatId, threadTs } = await conversation(world);
    await world.slack.users.post({ user: AGENT, channel: CHANNEL, threadTs, text: "This must stay here" });
    await world.settle();
    expect(sentToLinq(world, chatId)).toEqual([]);
    expect(linqTexts(world, chatId)).toEqual(["Hi, is my order ready?"]);
  });

  it("sends a file shared in the thread as a Linq attachment, downloaded with the bot token", async () => {
    world = await startWorld();
    const { chatId, threadTs } = await conversation(world);
    await world.slack.users.shareFile({
      user: AGENT,
      channel: CHANNEL,
      threadTs,
      text: "Here is your invoice",
      file: { name: "invoice.pdf", content: "%PDF-1.4 invoice", mimetype: "application/pdf" },
    });
    await world.settle();
    const [sent] = sentToLinq(world, chatId);
    expect(sent?.text).toBe("Here is your invoice");
    expect(
      sent?.attachments.map((attachment) => [
        attachment.filename,
        attachment.mime_type,
        attachment.file_size,
      ]),
    ).toEqual([["invoice.pdf", "application/pdf", 16]]);
    const download = world.slack.requests.find((request) => request.method === "file_download");
    expect(download?.status).toBe(200);
    // The file is not uploaded back into Slack.
    expect(world.slack.state.thread(CHANNEL, threadTs)).toHaveLength(3);
  });

  it("edits and deletes the Linq message when the reply is edited or deleted in Slack", async () => {
    world = await startWorld();
    const { chatId, threadTs } = await conversation(world);
    const reply = await world.slack.users.post({
      user: AGENT,
      channel: CHANNEL,
      threadTs,
      text: "Ships tomorow",
    });
    await world.settle();
    await world.slack.users.edit({ user: AGENT, channel: CHANNEL, ts: reply.ts, text: "Ships tomorrow" });
    await world.settle();
    const [sent] = sentToLinq(world, chatId);
    expect(sent?.text).toBe("Ships tomorrow");
    expect(sent?.edited_at).not.toBeNull();

    await world.slack.users.delete({ user: AGENT, channel: CHANNEL, ts: reply.ts });
    await world.settle();
    expect(sentToLinq(world, chatId)).toEqual([]);
    expect(world.harness.queue.dead).toEqual([]);
  });

  it("sends a reaction on a customer's message to Linq (add and remove); unmapped emoji are ignored", async () => {
    world = await startWorld();
    const { chatId, threadTs } = await conversation(world);
    const customerMessage = world.slack.state.thread(CHANNEL, threadTs)[1];
    const linqMessage = world.linqSimulator.state.messages(chatId)[0];
    if (customerMessage === undefined || linqMessage === undefined) throw new Error("missing messages");

    await world.slack.users.react({ user: AGENT, channel: CHANNEL, ts: customerMessage.ts, name: "+1" });
    await world.slack.users.react({ user: AGENT, channel: CHANNEL, ts: customerMessage.ts, name: "tada" });
    await world.settle();
    expect(world.linqSimulator.state.reactions(linqMessage.id).map((reaction) => reaction.reaction)).toEqual([
      "like",
    ]);
    // The reaction.sent echo did not add a second (bot) reaction in Slack.
    expect(world.slack.state.reactions(CHANNEL, customerMessage.ts)).toEqual([
      { name: "+1", users: [AGENT], count: 1 },
      { name: "tada", users: [AGENT], count: 1 },
    ]);

    await world.slack.users.unreact({ user: AGENT, channel: CHANNEL, ts: customerMessage.ts, name: "+1" });
    await world.settle();
    expect(world.linqSimulator.state.reactions(linqMessage.id)).toEqual([]);
  });

  it("ignores reactions on the header and on messages we sent", async () => {
    world = await startWorld();
    const { chatId, threadTs } = await conversation(world);
    await world.slack.users.react({ user: AGENT, channel: CHANNEL, ts: threadTs, name: "heart" });
    await world.settle();
    const ours = await world.linq.sendMessage(chatId, { text: "From the app" });
    await world.settle();
    const mirrored = world.slack.state.thread(CHANNEL, threadTs).at(-1);
    await world.slack.users.react({ user: AGENT, channel: CHANNEL, ts: mirrored?.ts ?? "", name: "heart" });
    await world.settle();
    expect(world.linqSimulator.state.reactions(Number(ours.id))).toEqual([]);
  });
});

describe("Slack → Linq: failures", () => {
  it("retries a send that Linq failed or whose answer was lost, and texts the customer once", async () => {
    world = await startWorld();
    const { chatId, threadTs } = await conversation(world);
    world.linqSimulator.faults.inject({
      match: { method: "POST", path: /chat_messages$/ },
      kind: "server-error",
      times: 5,
    });
    world.linqSimulator.faults.inject({
      match: { method: "POST", path: /chat_messages$/ },
      kind: "drop-after-processing",
      times: 1,
    });
    await world.slack.users.post({ user: AGENT, channel: CHANNEL, threadTs, text: "Sent exactly once" });
    await world.settle();
    expect(sentToLinq(world, chatId).map((message) => message.text)).toEqual(["Sent exactly once"]);
    expect(
      world.slack.state
        .thread(CHANNEL, threadTs)
        .map((message) => message.text)
        .filter((text) => text.includes("Sent exactly once")),
    ).toEqual(["Sent exactly once"]);
    expect(world.harness.queue.dead).toEqual([]);
  });

  it("posts a warning in the thread when Linq refuses a reply", async () => {
    world = await startWorld({ linq: { maxUploadBytes: 2048 } });
    const { chatId, threadTs } = await conversation(world);
    const reply = await world.slack.users.shareFile({
      user: AGENT,
      channel: CHANNEL,
      threadTs,
      text: "A big file",
      file: { name: "big.txt", content: "x".repeat(5000), mimetype: "text/plain" },
    });
    await world.settle();
    expect(sentToLinq(world, chatId)).toEqual([]);
    const warning = world.slack.state.thread(CHANNEL, threadTs).at(-1);
    expect(warning?.text).toMatch(/^Warning: <@U0ALEX>'s reply was not sent to the customer: /);
    expect(world.slack.state.reactions(CHANNEL, reply.message.ts).map((reaction) => reaction.name)).toContain(
      "warning",
    );
    expect(world.harness.queue.dead.map((dead) => dead.type)).toEqual(["slack.reply"]);
  });
});

describe("Slack → Linq: loop prevention", () => {
  it("never sends bot messages, the app's own messages, top-level messages or other subtypes", async () => {
    world = await startWorld();
    const { chatId, threadTs } = await conversation(world);
    // The app's own posts (header, mirrored text) already came back as events: nothing was sent.
    const ownEvents = world.slack.events.deliveries.filter((delivery) => delivery.type === "message");
    expect(ownEvents.length).toBeGreaterThanOrEqual(2);

    // A bot (here the app's own token, as any integration could) posting into the thread.
    const bot = new WebClient(world.slack.botToken, { slackApiUrl: world.slack.apiUrl });
    await bot.chat.postMessage({ channel: CHANNEL, thread_ts: threadTs, text: "bot says hi" });
    // A human's message outside any thread, and a broadcast reply from another channel member.
    await world.slack.users.post({ user: AGENT, channel: CHANNEL, text: "Top-level chatter" });
    // Joining the channel (a channel_join subtype).
    world.slack.channels.removeBot(CHANNEL);
    world.slack.channels.addBot(CHANNEL);
    await world.settle();
    expect(sentToLinq(world, chatId)).toEqual([]);
    expect(world.harness.queue.completed.filter((type) => type === "slack.reply")).toEqual([]);
    expect(world.harness.queue.dead).toEqual([]);
  });

  it("a long conversation stays one message per message on both sides (no ping-pong)", async () => {
    world = await startWorld();
    const { chatId, threadTs } = await conversation(world);
    for (let round = 1; round <= 3; round += 1) {
      await world.slack.users.post({ user: AGENT, channel: CHANNEL, threadTs, text: `agent ${round}` });
      await world.settle();
      await world.linqSimulator.inbound.text({ from: CUSTOMER, text: `customer ${round}` });
      await world.settle();
    }
    expect(linqTexts(world, chatId)).toEqual([
      "Hi, is my order ready?",
      "agent 1",
      "customer 1",
      "agent 2",
      "customer 2",
      "agent 3",
      "customer 3",
    ]);
    expect(world.slack.state.thread(CHANNEL, threadTs).map((message) => message.text)).toEqual([
      "Conversation with (555) 123-4567 · iMessage",
      "(555) 123-4567: Hi, is my order ready?",
      "agent 1",
      "(555) 123-4567: customer 1",
      "agent 2",
      "(555) 123-4567: customer 2",
      "agent 3",
      "(555) 123-4567: customer 3",
    ]);
  });
});

describe("Slack → Linq: starting conversations", () => {
  it("creates the chat and its thread from /linq, answering ephemerally", async () => {
    world = await startWorld();
    const result = await world.slack.users.slashCommand({
      user: AGENT,
      channel: CHANNEL,
      command: "/linq",
      text: "+15557654321 Hello from Slack",
    });
    expect(result.status).toBe(200);
    expect((result.json as { response_type?: string; text?: string }).response_type).toBe("ephemeral");
    await world.settle();

    const chat = world.linqSimulator.state
      .chats()
      .find((candidate) => candidate.chat_handles.some((handle) => handle.phone_number === "+15557654321"));
    if (chat === undefined) throw new Error("no chat created");
    expect(
      world.linqSimulator.state.messages(chat.id).map((message) => [message.text, message.sent_from]),
    ).toEqual([["Hello from Slack", LINQ_NUMBER]]);
    const threadTs = await world.threadTsOf(chat.id);
    const thread = world.slack.state.thread(CHANNEL, threadTs ?? "");
    expect(thread[0]?.text).toBe("Conversation with (555) 765-4321 · iMessage");
    expect(JSON.stringify(thread)).toContain("started this conversation from Slack");
    expect(thread.map((message) => message.text)).toContain(
      "Sent by Admin User from (555) 000-1111: Hello from Slack",
    );
    expect((result.responses.at(-1)?.body as { text?: string } | undefined)?.text).toMatch(
      /^Sent to \+15557654321\. <.*\|Open the thread>$/,
    );
    expect(world.harness.queue.dead).toEqual([]);
  });

  it("answers /linq mistakes ephemerally without creating anything", async () => {
    world = await startWorld({
      slack: {
        channels: [
          { id: CHANNEL, name: "sales" },
          { id: "C0OTHER", name: "other" },
        ],
      },
    });
    const invalid = await world.slack.users.slashCommand({
      user: AGENT,
      channel: CHANNEL,
      command: "/linq",
      text: "555-12 hi",
    });
    expect((invalid.json as { text: string }).text).toContain('Invalid phone number "555-12"');
    const missing = await world.slack.users.slashCommand({
      user: AGENT,
      channel: CHANNEL,
      command: "/linq",
      text: "+15557654321",
    });
    expect((missing.json as { text: string }).text).toContain("Add the text to send");
    const elsewhere = await world.slack.users.slashCommand({
      user: AGENT,
      channel: "C0OTHER",
      command: "/linq",
      text: "+15557654321 hi",
    });
    expect((elsewhere.json as { text: string }).text).toContain("No route mirrors this channel");
    await world.settle();
    expect(world.linqSimulator.state.chats()).toEqual([]);
  });

  it("starts a conversation from the shortcut's modal", async () => {
    world = await startWorld();
    const shortcut = await world.slack.users.shortcut({ user: AGENT, callbackId: "linq_new_conversation" });
    expect(shortcut.status).toBe(200);
    await world.settle();
    const view = world.slack.state.views().find((candidate) => candidate.isOpen);
    if (view === undefined) throw new Error("no modal opened");
    const invalid = await world.slack.users.submitView({
      user: AGENT,
      viewId: view.view.id,
      values: {
        route: { value: { type: "static_select", selected_option: { value: "sales" } } },
        phone: { value: { type: "plain_text_input", value: "12" } },
        message: { value: { type: "plain_text_input", value: "Hi there" } },
      },
    });
    expect(invalid.responseAction).toBe("errors");
    expect(invalid.errors?.phone).toContain("Invalid phone number");
    const submitted = await world.slack.users.submitView({
      user: AGENT,
      viewId: view.view.id,
      values: {
        route: { value: { type: "static_select", selected_option: { value: "sales" } } },
        phone: { value: { type: "plain_text_input", value: "+1 555 765 4321" } },
        message: { value: { type: "plain_text_input", value: "Hi there" } },
      },
    });
    expect(submitted.viewIsOpen).toBe(false);
    await world.settle();
    const chat = world.linqSimulator.state.chats()[0];
    expect(
      chat === undefined ? [] : world.linqSimulator.state.messages(chat.id).map((message) => message.text),
    ).toEqual(["Hi there"]);
    expect(await world.threadTsOf(chat?.id ?? 0)).toBeDefined();
  });
});

describe("Slack → Linq: SMS segments", () => {
  it("warns the replier ephemerally when an SMS reply takes several segments, and still sends it", async () => {
    world = await startWorld({ linq: { handles: { [CUSTOMER]: "SMS" } } });
    const { chatId, threadTs } = await conversation(world);
    const long = `Your order #12345 has shipped. ${"It will arrive within three business days. ".repeat(5)}`;
    await world.slack.users.post({ user: AGENT, channel: CHANNEL, threadTs, text: long });
    await world.settle();
    const [warning] = world.slack.state.ephemeral(CHANNEL);
    expect(warning?.user).toBe(AGENT);
    expect(warning?.thread_ts).toBe(threadTs);
    expect(warning?.text).toMatch(/This SMS will be sent as \d segments/);
    expect(sentToLinq(world, chatId).map((message) => message.text)).toEqual([long]);
  });

  it("does not send a multi-segment SMS reply deleted within the cancel window", async () => {
    world = await startWorld({
      linq: { handles: { [CUSTOMER]: "SMS" } },
      connector: { smsCancelWindowSeconds: 1 },
    });
    const { chatId, threadTs } = await conversation(world);
    const reply = await world.slack.users.post({
      user: AGENT,
      channel: CHANNEL,
      threadTs,
      text: "x".repeat(200),
    });
    await waitFor(() => world?.slack.state.ephemeral(CHANNEL).length === 1);
    const [warning] = world.slack.state.ephemeral(CHANNEL);
    expect(JSON.stringify(warning?.blocks)).toContain("linq_cancel_send");
    await world.slack.users.delete({ user: AGENT, channel: CHANNEL, ts: reply.ts });
    await world.settle();
    expect(sentToLinq(world, chatId)).toEqual([]);
  });

  it("does not send a multi-segment SMS reply whose Cancel button was pressed", async () => {
    world = await startWorld({
      linq: { handles: { [CUSTOMER]: "SMS" } },
      connector: { smsCancelWindowSeconds: 1 },
    });
    const { chatId, threadTs } = await conversation(world);
    const reply = await world.slack.users.post({
      user: AGENT,
      channel: CHANNEL,
      threadTs,
      text: "y".repeat(200),
    });
    await waitFor(() => world?.slack.state.ephemeral(CHANNEL).length === 1);
    // The simulator has no button clicks: the signed block_actions request Slack would send.
    const answers: unknown[] = [];
    const capture = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk) => {
        body += String(chunk);
      });
      request.on("end", () => {
        answers.push(JSON.parse(body));
        response.writeHead(200).end("ok");
      });
    });
    await new Promise<void>((resolve) => capture.listen(0, "127.0.0.1", resolve));
    onTestFinished(() => new Promise<void>((resolve) => capture.close(() => resolve())));
    const payload = {
      type: "block_actions",
      user: { id: AGENT, username: "alex", team_id: "T0SIM" },
      api_app_id: world.slack.appId,
      token: world.slack.verificationToken,
      container: { type: "message", message_ts: "1.1", channel_id: CHANNEL, is_ephemeral: true },
      trigger_id: "123.456.abc",
      team: { id: "T0SIM", domain: "simulated" },
      channel: { id: CHANNEL, name: "sales" },
      response_url: `http://127.0.0.1:${(capture.address() as AddressInfo).port}/respond`,
      actions: [
        {
          type: "button",
          action_id: "linq_cancel_send",
          block_id: "cancel",
          value: `${CHANNEL}/${reply.ts}`,
          action_ts: "1.2",
          text: { type: "plain_text", text: "Cancel the send" },
        },
      ],
    };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const response = await fetch(`${world.harness.baseUrl}/slack/interactions`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        ...signSlackRequest({ signingSecret: world.slack.signingSecret, body }),
      },
      body,
    });
    expect(response.status).toBe(200);
    await world.settle();
    expect(answers).toEqual([
      { replace_original: true, text: "Cancelled: this reply was not sent to the customer." },
    ]);
    expect(sentToLinq(world, chatId)).toEqual([]);
  });

  it("does not warn for a one-segment SMS or for iMessage", async () => {
    world = await startWorld({ linq: { handles: { [CUSTOMER]: "SMS" } } });
    const { threadTs } = await conversation(world);
    await world.slack.users.post({ user: AGENT, channel: CHANNEL, threadTs, text: "Short and sweet" });
    await world.settle();
    expect(world.slack.state.ephemeral(CHANNEL)).toEqual([]);
  });
});

describe("Slack → Linq over Socket Mode", () => {
  it("connects in start(), carries replies and commands over the WebSocket, and disconnects in close()", async () => {
    world = await startWorld({ socketMode: true });
    expect(world.connector.transport).toBe("socket-mode");
    expect(world.connector.inboundRoutes).toEqual([]);
    expect(world.slack.socketMode.connections()).toHaveLength(1);
    const { chatId, threadTs } = await conversation(world);
    await world.slack.users.post({ user: AGENT, channel: CHANNEL, threadTs, text: "Over the socket" });
    await world.settle();
    expect(sentToLinq(world, chatId).map((message) => message.text)).toEqual(["Over the socket"]);
    const command = await world.slack.users.slashCommand({
      user: AGENT,
      channel: CHANNEL,
      command: "/linq",
      text: "+15557654321 Hello over the socket",
    });
    expect((command.json as { text?: string } | null)?.text ?? JSON.stringify(command)).toContain(
      "Texting +15557654321",
    );
    await world.settle();
    expect(world.linqSimulator.state.chats()).toHaveLength(2);
    expect(world.slack.socketMode.deliveries.some((delivery) => delivery.type === "events_api")).toBe(true);
    expect(world.harness.queue.dead).toEqual([]);
    await world.connector.close();
    await waitFor(() => world?.slack.socketMode.connections().length === 0);
  });

  it("acknowledges a reply's envelope only after its job is stored", async () => {
    const stored: { type: string; ts: unknown; envelopesAckedWhenStored: number }[] = [];
    const { current, chatId, reply } = await socketModeReply(
      "Stored first",
      (target) => async (request) => {
        // A slow database: the job is stored 300 ms after the listener asked.
        await new Promise((resolve) => setTimeout(resolve, 300));
        const ts = (request.payload as { ts?: unknown }).ts;
        const acked = envelopesOf(target, String(ts)).filter((delivery) => delivery.outcome === "acked");
        stored.push({ type: request.type, ts, envelopesAckedWhenStored: acked.length });
      },
      3_000,
    );
    expect(stored).toEqual([{ type: "slack.reply", ts: reply.ts, envelopesAckedWhenStored: 0 }]);
    const envelopes = envelopesOf(current, reply.ts);
    expect(envelopes).toMatchObject([{ retryAttempt: 0, outcome: "acked" }]);
    expect(envelopes[0]?.durationMs).toBeGreaterThanOrEqual(290);
    expectSentOnce(current, chatId, "Stored first");
  });

  it("leaves a reply's envelope unacknowledged when its job cannot be stored: Slack redelivers it and it is sent once", async () => {
    let attempts = 0;
    const { current, chatId, reply } = await socketModeReply("Despite the outage", () => async (request) => {
      if (request.type !== "slack.reply") return;
      attempts += 1;
      if (attempts === 1) throw new Error("the database is unavailable");
    });
    expect(envelopesOf(current, reply.ts)).toMatchObject([
      { retryAttempt: 0, outcome: "timeout", acknowledgedLate: false },
      { retryAttempt: 1, retryReason: "timeout", outcome: "acked" },
    ]);
    expect(attempts).toBe(2);
    expectSentOnce(current, chatId, "Despite the outage");
  });

  it("a store slower than Slack's ack timeout: the redelivered envelope is the same job, sent once", async () => {
    let calls = 0;
    const { current, chatId, reply } = await socketModeReply("Slow but sure", () => async (request) => {
      if (request.type !== "slack.reply") return;
      calls += 1;
      if (calls === 1) await new Promise((resolve) => setTimeout(resolve, 600));
    });
    await waitFor(() => envelopesOf(current, reply.ts)[0]?.acknowledgedLate === true);
    expect(envelopesOf(current, reply.ts)).toMatchObject([
      { retryAttempt: 0, outcome: "timeout", acknowledgedLate: true },
      { retryAttempt: 1, retryReason: "timeout", outcome: "acked" },
    ]);
    expect(calls).toBe(2);
    expectSentOnce(current, chatId, "Slow but sure");
  });
});
