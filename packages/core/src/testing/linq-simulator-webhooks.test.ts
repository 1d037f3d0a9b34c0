import { createHmac } from "node:crypto";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { canonicalizeJson, verifyWebhookSignature } from "../webhooks/signature.ts";
import {
  callApi,
  createChat,
  type ReceivedWebhook,
  startWebhookReceiver,
  subscribe,
  type WebhookReceiver,
} from "./linq-simulator.test-helpers.ts";
import { startLinqSimulator } from "./linq-simulator.ts";
import type { LinqSimulator } from "./simulator-types.ts";

const SECRET = "whsec_test_secret";
const ALL_EVENTS = [
  "message.sent",
  "message.received",
  "message.read",
  "call.completed",
  "reaction.sent",
  "reaction.received",
  "typing_indicator.received",
  "typing_indicator.removed",
  "contact.created",
  "contact.updated",
  "contact.deleted",
  "participant.added",
  "participant.removed",
];
const WEBHOOK_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \+0000$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function expectSigned(webhook: ReceivedWebhook, secret = SECRET): void {
  const expected = `sha256=${createHmac("sha256", secret).update(webhook.rawBody).digest("hex")}`;
  expect(webhook.headers["x-webhook-signature"]).toBe(expected);
}

describe("Linq simulator: webhooks", () => {
  let simulator: LinqSimulator;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    simulator = await startLinqSimulator({ webhookDelivery: { retryDelayMs: 5, timeoutMs: 1_000 } });
  });
  afterAll(async () => {
    await simulator.close();
  });
  beforeEach(async () => {
    receiver = await startWebhookReceiver();
  });
  afterEach(async () => {
    simulator.reset();
    simulator.webhooks.configure({
      duplicateProbability: 0,
      reorder: false,
      envelope: "reference",
      signatureForm: "raw",
      random: Math.random,
    });
    await receiver.close();
  });

  const eventsOf = (type: string) => receiver.received.filter((webhook) => webhook.body.event_type === type);

  it("delivers message.sent for create chat and send message, signed, with the reference envelope and payload", async () => {
    await subscribe(simulator, receiver.url, ["message.sent"], { secret: SECRET });
    const chat = await createChat(simulator, "+15551234567", "Hello there");
    await callApi(simulator, "POST", `/chats/${chat.id}/chat_messages`, { body: { text: "Second message" } });
    await simulator.webhooks.flush();

    expect(receiver.received).toHaveLength(2);
    const [first, second] = receiver.received;
    if (first === undefined || second === undefined) throw new Error("missing webhooks");
    expectSigned(first);
    expect(first.headers["content-type"]).toBe("application/json");
    expect(Object.keys(first.body)).toEqual(["api_version", "created_at", "data", "event_id", "event_type"]);
    expect(first.body).toMatchObject({ api_version: "v2", event_type: "message.sent" });
    expect(first.body.event_id).toMatch(UUID);
    expect(first.body.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$/);
    expect(first.body.data).toEqual({
      id: String(chat.chat_messages!.id),
      chat_id: String(chat.id),
      text: "Hello there",
      sent_at: expect.stringMatching(WEBHOOK_TIME),
      is_read: false,
      from_phone: "+15550001111",
      service: "iMessage",
      reaction_id: null,
      chat_handles: [
        { identifier: "+15551234567", display_name: "+15551234567", is_me: false },
        { identifier: "+15550001111", display_name: "Admin User", is_me: true },
      ],
      attachments: [],
    });
    expect(second.body.data.text).toBe("Second message");
    expect(second.body.event_id).not.toBe(first.body.event_id);

    const deliveries = simulator.webhooks.deliveries;
    expect(deliveries).toHaveLength(2);
    expect(deliveries[0]).toMatchObject({
      eventType: "message.sent",
      attempt: 1,
      status: 200,
      ok: true,
      url: receiver.url,
      duplicate: false,
    });
    expect(deliveries[0]?.body).toBe(first.rawBody);
    expect(simulator.state.subscriptions()[0]).toMatchObject({ delivery_attempts: 2 });
    expect(simulator.state.subscriptions()[0]?.last_delivered_at).not.toBeNull();
  });

  it("delivers every inbound and API event kind with the documented payloads", async () => {
    await subscribe(simulator, receiver.url, ALL_EVENTS, { secret: SECRET });
    const { chat, message: received } = await simulator.inbound.text({
      from: "+15551234567",
      text: "I'm doing great, thanks!",
      attachments: [
        { url: "https://example.com/a.pdf", filename: "a.pdf", mime_type: "application/pdf", file_size: 10 },
      ],
    });
    const sent = await callApi(simulator, "POST", `/chats/${chat.id}/chat_messages`, {
      body: { text: "Glad to hear" },
    });
    await simulator.inbound.read({ chatId: chat.id });
    await callApi(simulator, "POST", `/chat_messages/${received.id}/reactions`, {
      body: { type: "love", operation: "add" },
    });
    await simulator.inbound.react({ messageId: sent.body.data.id, from: "+15551234567", reaction: "like" });
    await simulator.inbound.typing({ chatId: chat.id, from: "+15551234567", display: true });
    await simulator.inbound.typing({ chatId: chat.id, from: "+15551234567", display: false });
    const contact = await callApi(simulator, "POST", "/contacts", {
      body: { contact: { first_name: "John", phone_number: "+15551234567" } },
    });
    await callApi(simulator, "PATCH", `/contacts/${contact.body.data.id}`, {
      body: { contact: { last_name: "Doe" } },
    });
    await callApi(simulator, "DELETE", `/contacts/${contact.body.data.id}`);
    await simulator.inbound.call({
      from: "+15551234567",
      durationSeconds: 330,
      recording: { transcription: "Hello", summary: "Greeting" },
    });
    await simulator.inbound.addParticipant({ chatId: chat.id, phoneNumber: "+15559876543" });
    await simulator.inbound.removeParticipant({ chatId: chat.id, phoneNumber: "+15559876543" });
    await simulator.webhooks.flush();

    for (const webhook of receiver.received) expectSigned(webhook);
    expect(receiver.received.map((webhook) => webhook.body.event_type)).toEqual([
      "message.received",
      "message.sent",
      "message.read",
      "reaction.sent",
      "reaction.received",
      "typing_indicator.received",
      "typing_indicator.removed",
      "contact.created",
      "contact.updated",
      "contact.deleted",
      "call.completed",
      "participant.added",
      "participant.removed",
    ]);

    expect(eventsOf("message.received")[0]?.body.data).toMatchObject({
      id: String(received.id),
      chat_id: String(chat.id),
      from_phone: "+15551234567",
      attachments: [
        {
          id: expect.stringMatching(UUID),
          url: "https://example.com/a.pdf",
          filename: "a.pdf",
          mime_type: "application/pdf",
        },
      ],
    });
    expect(eventsOf("message.read")[0]?.body.data).toEqual({
      id: String(sent.body.data.id),
      chat_id: String(chat.id),
      read_at: expect.stringMatching(/\+00:00$/),
    });
    expect(eventsOf("reaction.sent")[0]?.body.data).toMatchObject({
      reaction: "love",
      is_from_me: true,
      chat_message_id: String(received.id),
    });
    expect(eventsOf("reaction.received")[0]?.body.data).toEqual({
      id: expect.stringMatching(/^\d+$/),
      chat_message_id: String(sent.body.data.id),
      chat_id: String(chat.id),
      reaction: "like",
      is_from_me: false,
      sent_at: expect.stringMatching(WEBHOOK_TIME),
      created_at: expect.stringMatching(WEBHOOK_TIME),
      chat_handle: { id: expect.stringMatching(/^\d+$/), identifier: "+15551234567" },
      chat_handles: expect.any(Array),
      associated_message: {
        id: String(sent.body.data.id),
        text: "Glad to hear",
        sent_at: expect.stringMatching(WEBHOOK_TIME),
      },
    });
    expect(eventsOf("typing_indicator.received")[0]?.body.data).toMatchObject({
      chat_id: String(chat.id),
      display: true,
    });
    expect(eventsOf("typing_indicator.removed")[0]?.body.data).toMatchObject({ display: false });
    expect(eventsOf("contact.created")[0]?.body.data).toMatchObject({
      id: contact.body.data.id,
      first_name: "John",
      phone_number: "+15551234567",
      contact_owner: { email: "admin@example.com" },
    });
    expect(eventsOf("contact.updated")[0]?.body.data).toMatchObject({ full_name: "John Doe" });
    expect(eventsOf("contact.deleted")[0]?.body.data).toEqual({ id: contact.body.data.id });
    const call = eventsOf("call.completed")[0]?.body.data;
    expect(call).toMatchObject({
      from: "+15551234567",
      to: "+15550001111",
      status: "completed",
      direction: "inbound",
      duration: 330,
      call_type: "normal",
      answered_by: "+15550001111",
      voicemail: false,
      has_recording: true,
      recording_data: { duration: 330, transcribed: true, transcription: "Hello", summary: "Greeting" },
    });
    expect(call.start_time).toMatch(WEBHOOK_TIME);
    const recording = await fetch(call.recording_data.url);
    expect(recording.headers.get("content-type")).toBe("audio/wav");
    expect(
      Buffer.from(await recording.arrayBuffer())
        .subarray(0, 4)
        .toString("ascii"),
    ).toBe("RIFF");
    expect(eventsOf("participant.added")[0]?.body.data).toMatchObject({
      chat_id: String(chat.id),
      chat_handle: { identifier: "+15559876543" },
    });
    expect(eventsOf("participant.added")[0]?.body.data.chat_handles).toHaveLength(3);
    expect(eventsOf("participant.removed")[0]?.body.data.chat_handles).toHaveLength(2);

    expect(simulator.state.message(sent.body.data.id)?.is_read).toBe(true);
    expect(simulator.state.calls()).toHaveLength(1);
  });

  it("does not sign for a subscription without a secret, and sends nothing to inactive or non-listening ones", async () => {
    const other = await startWebhookReceiver();
    const inactive = await startWebhookReceiver();
    try {
      await subscribe(simulator, receiver.url, ["message.received"]);
      await subscribe(simulator, other.url, ["message.sent"], { secret: SECRET });
      await subscribe(simulator, inactive.url, ["message.received"], { secret: SECRET, active: false });
      await simulator.inbound.text({ from: "+15551234567", text: "hi" });
      await simulator.webhooks.flush();
      expect(receiver.received).toHaveLength(1);
      expect(receiver.received[0]?.headers["x-webhook-signature"]).toBeUndefined();
      expect(simulator.webhooks.deliveries[0]?.signature).toBeNull();
      expect(other.received).toHaveLength(0);
      expect(inactive.received).toHaveLength(0);
    } finally {
      await other.close();
      await inactive.close();
    }
  });

  it("delivers twice to two identical subscriptions, as documented", async () => {
    await subscribe(simulator, receiver.url, ["message.received"]);
    await subscribe(simulator, receiver.url, ["message.received"]);
    await simulator.inbound.text({ from: "+15551234567", text: "doubled" });
    await simulator.webhooks.flush();
    expect(receiver.received).toHaveLength(2);
    expect(new Set(simulator.webhooks.deliveries.map((delivery) => delivery.subscriptionId)).size).toBe(2);
  });

  it("does not block the API response on the delivery", async () => {
    await subscribe(simulator, receiver.url, ["message.sent"]);
    receiver.respond = () => ({ status: 200, delayMs: 300 });
    await createChat(simulator);
    expect(simulator.webhooks.deliveries).toHaveLength(0);
    await simulator.webhooks.flush();
    expect(simulator.webhooks.deliveries).toHaveLength(1);
  });

  it("retries non-2xx answers with backoff and records every attempt", async () => {
    const subscription = await subscribe(simulator, receiver.url, ["message.received"], { secret: SECRET });
    receiver.respond = (index) => ({ status: index < 2 ? 500 : 200 });
    await simulator.inbound.text({ from: "+15551234567", text: "retry me" });
    await simulator.webhooks.flush();
    expect(
      simulator.webhooks.deliveries.map((delivery) => [delivery.attempt, delivery.status, delivery.ok]),
    ).toEqual([
      [1, 500, false],
      [2, 500, false],
      [3, 200, true],
    ]);
    const eventIds = new Set(receiver.received.map((webhook) => webhook.body.event_id));
    expect(eventIds.size).toBe(1);
    for (const webhook of receiver.received) expectSigned(webhook);
    expect(
      simulator.state.subscriptions().find((candidate) => candidate.id === subscription.id)
        ?.delivery_attempts,
    ).toBe(3);
  });

  it("gives up after the configured retries, recording timeouts and connection failures", async () => {
    const strict = await startLinqSimulator({
      webhookDelivery: { retries: 1, retryDelayMs: 1, timeoutMs: 50 },
    });
    try {
      await subscribe(strict, receiver.url, ["message.received"]);
      await subscribe(strict, "http://127.0.0.1:9/unreachable", ["message.received"]);
      receiver.respond = () => ({ status: 200, delayMs: 500 });
      await strict.inbound.text({ from: "+15551234567", text: "slow receiver" });
      await strict.webhooks.flush();
      const slow = strict.webhooks.deliveries.filter((delivery) => delivery.url === receiver.url);
      expect(slow.map((delivery) => [delivery.attempt, delivery.status, delivery.error])).toEqual([
        [1, null, "timeout after 50 ms"],
        [2, null, "timeout after 50 ms"],
      ]);
      const refused = strict.webhooks.deliveries.filter((delivery) => delivery.url !== receiver.url);
      expect(refused).toHaveLength(2);
      expect(refused[0]?.error).toMatch(/ECONNREFUSED/);
      expect(strict.state.subscriptions()[0]?.last_delivered_at).toBeNull();
    } finally {
      await strict.close();
    }
  });

  it("duplicates events on demand (same event_id and body)", async () => {
    await subscribe(simulator, receiver.url, ["message.received"], { secret: SECRET });
    simulator.webhooks.configure({ duplicateProbability: 1 });
    await simulator.inbound.text({ from: "+15551234567", text: "twice" });
    await simulator.webhooks.flush();
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[0]?.rawBody).toBe(receiver.received[1]?.rawBody);
    expect(receiver.received[0]?.headers["x-webhook-signature"]).toBe(
      receiver.received[1]?.headers["x-webhook-signature"],
    );
    expect(simulator.webhooks.deliveries.map((delivery) => delivery.duplicate).sort()).toEqual([false, true]);
  });

  it("delivers in event order normally, and shuffled in reorder mode", async () => {
    await subscribe(simulator, receiver.url, ["message.received"]);
    const texts = ["one", "two", "three", "four"];
    for (const text of texts) await simulator.inbound.text({ from: "+15551234567", text });
    await simulator.webhooks.flush();
    expect(receiver.received.map((webhook) => webhook.body.data.text)).toEqual(texts);

    receiver.received.length = 0;
    simulator.webhooks.configure({ reorder: true, reorderWindowMs: 10_000, random: () => 0 });
    for (const text of texts) await simulator.inbound.text({ from: "+15551234567", text });
    expect(receiver.received).toHaveLength(0);
    await simulator.webhooks.flush();
    const order = receiver.received.map((webhook) => webhook.body.data.text);
    expect(order).toEqual(["two", "three", "four", "one"]);
  });

  it("releases held events after the reorder window without flush()", async () => {
    await subscribe(simulator, receiver.url, ["message.received"]);
    simulator.webhooks.configure({ reorder: true, reorderWindowMs: 20 });
    await simulator.inbound.text({ from: "+15551234567", text: "held" });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(receiver.received.map((webhook) => webhook.body.data.text)).toEqual(["held"]);
  });

  it("sends the quick-start envelope when configured", async () => {
    await subscribe(simulator, receiver.url, ["message.received"]);
    simulator.webhooks.configure({ envelope: "quickstart" });
    const { chat, message } = await simulator.inbound.text({
      from: "+15551234567",
      text: "Thanks! This is my reply.",
    });
    await simulator.webhooks.flush();
    expect(receiver.received[0]?.body).toEqual({
      event: "message.received",
      data: {
        message: {
          id: message.id,
          text: "Thanks! This is my reply.",
          sent_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
          sent_from: "+15551234567",
          chat_id: chat.id,
        },
        chat: { id: chat.id, display_name: "+15551234567", service: "iMessage" },
      },
      timestamp: expect.stringMatching(/Z$/),
    });
    expect(simulator.webhooks.deliveries[0]?.eventId).toBeNull();
  });

  it("signs the canonical JSON (keys sorted) instead of the raw body when configured", async () => {
    await subscribe(simulator, receiver.url, ["message.received"], { secret: SECRET });
    simulator.webhooks.configure({ signatureForm: "canonical" });
    await simulator.inbound.text({ from: "+15551234567", text: "canonical" });
    await simulator.webhooks.flush();
    const webhook = receiver.received[0];
    if (webhook === undefined) throw new Error("no webhook");
    const canonical = canonicalizeJson(JSON.parse(webhook.rawBody));
    expect(canonical).not.toBe(webhook.rawBody);
    expect(webhook.headers["x-webhook-signature"]).toBe(
      `sha256=${createHmac("sha256", SECRET).update(canonical).digest("hex")}`,
    );
    expect(webhook.headers["x-webhook-signature"]).not.toBe(
      `sha256=${createHmac("sha256", SECRET).update(webhook.rawBody).digest("hex")}`,
    );
    expect(() =>
      verifyWebhookSignature({
        rawBody: webhook.rawBody,
        signatureHeader: String(webhook.headers["x-webhook-signature"]),
        secret: SECRET,
      }),
    ).not.toThrow();
  });

  it("delivers arbitrary events: unknown types to every active subscription, known types to listeners only", async () => {
    const other = await startWebhookReceiver();
    try {
      await subscribe(simulator, receiver.url, ["message.received"], { secret: SECRET });
      await subscribe(simulator, other.url, ["contact.created"]);
      await simulator.webhooks.deliver({ event_type: "message.unsent", data: { id: "1" } });
      expect(receiver.received.map((webhook) => webhook.body.event_type)).toEqual(["message.unsent"]);
      expect(other.received.map((webhook) => webhook.body.event_type)).toEqual(["message.unsent"]);
      expectSigned(receiver.received[0] as ReceivedWebhook);
      await simulator.webhooks.deliver({ event_type: "contact.created", data: { id: 5 } });
      expect(receiver.received).toHaveLength(1);
      expect(other.received.at(-1)?.body).toMatchObject({ event_type: "contact.created", data: { id: 5 } });
    } finally {
      await other.close();
    }
  });

  it("reset() forgets deliveries", async () => {
    await subscribe(simulator, receiver.url, ["message.received"]);
    await simulator.inbound.text({ from: "+15551234567", text: "x" });
    await simulator.webhooks.flush();
    expect(simulator.webhooks.deliveries).toHaveLength(1);
    simulator.reset();
    expect(simulator.webhooks.deliveries).toEqual([]);
  });
});
