import { ConfigurationError } from "@linq-connect/core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { SlackSimulator } from "./simulator-types.ts";
import { type BareApp, startBareApp, webClient } from "./slack-simulator.test-helpers.ts";
import { startSlackSimulator } from "./slack-simulator.ts";

const EVENT_ID = /^Ev[A-Z0-9]{10}$/;

describe("Slack simulator: Events API delivery", () => {
  let simulator: SlackSimulator;
  let app: BareApp;

  beforeAll(async () => {
    simulator = await startSlackSimulator({
      rateLimits: false,
      channels: [
        { id: "C0SALES", name: "sales" },
        { id: "C0PRIVATE", name: "private-team", isPrivate: true },
        { id: "C0OUTSIDE", name: "outside", botIsMember: false },
      ],
      users: [
        { id: "U0ALEX", name: "alex", realName: "Alex Rivera", email: "alex@example.com" },
        { id: "U0SAM", name: "sam", realName: "Sam Lee" },
      ],
      eventDelivery: { retryDelaysMs: [0, 5, 10], ackTimeoutMs: 1_000 },
    });
  });
  afterAll(async () => {
    await simulator.close();
  });
  beforeEach(async () => {
    app = await startBareApp(simulator.signingSecret);
    await simulator.configureApp({ eventsUrl: app.url });
  });
  afterEach(async () => {
    simulator.reset();
    simulator.events.configure({
      retryOnFailure: true,
      ackTimeoutMs: 1_000,
      retryDelaysMs: [0, 5, 10],
      duplicateProbability: 0,
    });
    await simulator.configureApp({ eventsUrl: null, eventSubscriptions: [...ALL_SUBSCRIPTIONS] });
    await app.close();
  });

  it("users.post delivers a signed event_callback with Slack's envelope and a message event", async () => {
    const posted = await simulator.users.post({
      user: "U0ALEX",
      channel: "C0SALES",
      text: "Can you call the customer?",
    });
    await simulator.events.flush();
    expect(app.received).toHaveLength(1);
    const [request] = app.received;
    expect(request?.signatureValid).toBe(true);
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(request?.headers["user-agent"]).toMatch(/^Slackbot 1\.0/);
    expect(Number(request?.headers["x-slack-request-timestamp"])).toBeCloseTo(Date.now() / 1000, -1);
    expect(request?.headers["x-slack-retry-num"]).toBeUndefined();
    const envelope = request?.body;
    expect(Object.keys(envelope).sort()).toEqual(
      [
        "token",
        "team_id",
        "context_team_id",
        "context_enterprise_id",
        "api_app_id",
        "event",
        "type",
        "event_id",
        "event_time",
        "authorizations",
        "is_ext_shared_channel",
        "event_context",
      ].sort(),
    );
    expect(envelope).toMatchObject({
      token: simulator.verificationToken,
      team_id: "T0SIM",
      api_app_id: "A0SIMAPP",
      type: "event_callback",
      authorizations: [{ team_id: "T0SIM", user_id: "U0SIMBOT", is_bot: true, is_enterprise_install: false }],
      is_ext_shared_channel: false,
    });
    expect(envelope.event_id).toMatch(EVENT_ID);
    expect(envelope.event_context).toMatch(/^4-/);
    expect(envelope.event).toEqual({
      type: "message",
      text: "Can you call the customer?",
      user: "U0ALEX",
      team: "T0SIM",
      ts: posted.ts,
      client_msg_id: posted.client_msg_id,
      blocks: posted.blocks,
      channel: "C0SALES",
      event_ts: posted.ts,
      channel_type: "channel",
    });
    expect(simulator.events.deliveries).toMatchObject([
      { eventId: envelope.event_id, type: "message", attempt: 1, status: 200, ok: true, retryNum: null },
    ]);
  });

  it("the bot's own posts come back as message events with bot_id (bot_message when customised)", async () => {
    const client = webClient(simulator);
    const plain = await client.chat.postMessage({ channel: "C0SALES", text: "from the app" });
    await client.chat.postMessage({
      channel: "C0SALES",
      text: "as the customer",
      username: "+1 555 0100",
      icon_emoji: ":iphone:",
    });
    await client.chat.postMessage({ channel: "C0SALES", text: "in thread", thread_ts: plain.ts as string });
    await simulator.events.flush();
    const events = app.events().map((envelope) => envelope.event);
    expect(events).toMatchObject([
      { type: "message", text: "from the app", user: "U0SIMBOT", bot_id: "B0SIMBOT", app_id: "A0SIMAPP" },
      {
        type: "message",
        subtype: "bot_message",
        username: "+1 555 0100",
        bot_id: "B0SIMBOT",
        icons: { emoji: ":iphone:" },
      },
      {
        type: "message",
        text: "in thread",
        bot_id: "B0SIMBOT",
        thread_ts: plain.ts,
        parent_user_id: "U0SIMBOT",
      },
    ]);
    expect(events[0].subtype).toBeUndefined();
    expect(events[1].user).toBeUndefined();
  });

  it("edits, deletes and reactions arrive as message_changed, message_deleted, reaction_added, reaction_removed", async () => {
    const posted = await simulator.users.post({ user: "U0ALEX", channel: "C0SALES", text: "typo" });
    await simulator.users.edit({ user: "U0ALEX", channel: "C0SALES", ts: posted.ts, text: "fixed" });
    await simulator.users.react({ user: "U0SAM", channel: "C0SALES", ts: posted.ts, name: "+1" });
    await simulator.users.react({ user: "U0SAM", channel: "C0SALES", ts: posted.ts, name: "+1" }); // ignored
    await simulator.users.unreact({ user: "U0SAM", channel: "C0SALES", ts: posted.ts, name: "+1" });
    await simulator.users.delete({ user: "U0ALEX", channel: "C0SALES", ts: posted.ts });
    await simulator.events.flush();
    const events = app.events().map((envelope) => envelope.event);
    expect(events.map((event) => event.subtype ?? event.type)).toEqual([
      "message",
      "message_changed",
      "reaction_added",
      "reaction_removed",
      "message_deleted",
    ]);
    expect(events[1]).toMatchObject({
      type: "message",
      subtype: "message_changed",
      hidden: true,
      channel: "C0SALES",
      message: { text: "fixed", ts: posted.ts, edited: { user: "U0ALEX" } },
      previous_message: { text: "typo", ts: posted.ts },
    });
    expect(events[2]).toEqual({
      type: "reaction_added",
      user: "U0SAM",
      reaction: "+1",
      item: { type: "message", channel: "C0SALES", ts: posted.ts },
      item_user: "U0ALEX",
      event_ts: expect.stringMatching(/^\d+\.\d{6}$/),
    });
    expect(events[4]).toMatchObject({
      subtype: "message_deleted",
      deleted_ts: posted.ts,
      previous_message: { text: "fixed" },
    });
    expect(simulator.state.message("C0SALES", posted.ts)).toBeUndefined();
  });

  it("a user's file shared in a thread: a file_share message with files, then file_shared", async () => {
    const parent = await webClient(simulator).chat.postMessage({ channel: "C0SALES", text: "chat" });
    const { file } = await simulator.users.shareFile({
      user: "U0ALEX",
      channel: "C0SALES",
      threadTs: parent.ts as string,
      file: { name: "scan.jpg", content: Buffer.alloc(12, 1) },
    });
    await simulator.events.flush();
    const events = app.events().map((envelope) => envelope.event);
    expect(events[1]).toMatchObject({
      type: "message",
      subtype: "file_share",
      user: "U0ALEX",
      thread_ts: parent.ts,
      upload: true,
      files: [{ id: file.id, name: "scan.jpg", mimetype: "image/jpeg", url_private: file.url_private }],
    });
    expect(events[2]).toEqual({
      type: "file_shared",
      channel_id: "C0SALES",
      file_id: file.id,
      user_id: "U0ALEX",
      file: { id: file.id },
      event_ts: expect.any(String),
    });
  });

  it("only delivers what the app subscribes to, holds the scope for, and in conversations its bot is in", async () => {
    await simulator.configureApp({ eventSubscriptions: ["message.channels"] });
    const posted = await simulator.users.post({ user: "U0ALEX", channel: "C0SALES", text: "one" });
    await simulator.users.react({ user: "U0ALEX", channel: "C0SALES", ts: posted.ts, name: "eyes" }); // not subscribed
    await simulator.users.post({ user: "U0ALEX", channel: "C0PRIVATE", text: "private" }); // message.groups
    await simulator.users.post({ user: "U0ALEX", channel: "C0OUTSIDE", text: "not a member" });
    await simulator.events.flush();
    expect(app.events().map((envelope) => envelope.event.text)).toEqual(["one"]);
    const noHistory = await startSlackSimulator({
      rateLimits: false,
      scopes: ["chat:write", "reactions:read"],
      eventsUrl: app.url,
    });
    try {
      const message = await noHistory.users.post({ user: "U0ALEX", channel: "C0GENERAL", text: "unseen" });
      await noHistory.users.react({ user: "U0ALEX", channel: "C0GENERAL", ts: message.ts, name: "wave" });
      await noHistory.events.flush();
      expect(noHistory.events.deliveries.map((delivery) => delivery.type)).toEqual(["reaction_added"]);
    } finally {
      await noHistory.close();
    }
  });

  it("retries a 500 with X-Slack-Retry-Num / X-Slack-Retry-Reason, keeping the event_id", async () => {
    app.respond = (_request, index) => ({ status: index < 2 ? 500 : 200 });
    await simulator.users.post({ user: "U0ALEX", channel: "C0SALES", text: "retry me" });
    await simulator.events.flush();
    expect(app.received).toHaveLength(3);
    const ids = app.received.map((request) => request.body.event_id);
    expect(new Set(ids).size).toBe(1);
    expect(app.received.map((request) => request.headers["x-slack-retry-num"])).toEqual([
      undefined,
      "1",
      "2",
    ]);
    expect(app.received.map((request) => request.headers["x-slack-retry-reason"])).toEqual([
      undefined,
      "http_error",
      "http_error",
    ]);
    expect(app.received.every((request) => request.signatureValid)).toBe(true);
    expect(
      simulator.events.deliveries.map((delivery) => [delivery.attempt, delivery.status, delivery.failure]),
    ).toEqual([
      [1, 500, "http_error"],
      [2, 500, "http_error"],
      [3, 200, null],
    ]);
  });

  it("a slow app gets http_timeout retries (Slack does not wait), at most 3", async () => {
    simulator.events.configure({ ackTimeoutMs: 50 });
    app.respond = () => ({ status: 200, delayMs: 200 });
    await simulator.users.post({ user: "U0ALEX", channel: "C0SALES", text: "slow" });
    await simulator.events.flush();
    expect(
      simulator.events.deliveries.map((delivery) => [
        delivery.attempt,
        delivery.failure,
        delivery.retryReason,
      ]),
    ).toEqual([
      [1, "http_timeout", null],
      [2, "http_timeout", "http_timeout"],
      [3, "http_timeout", "http_timeout"],
      [4, "http_timeout", "http_timeout"],
    ]);
    expect(app.received.map((request) => request.headers["x-slack-retry-num"])).toEqual([
      undefined,
      "1",
      "2",
      "3",
    ]);
  });

  it("X-Slack-No-Retry: 1 stops retries; retryOnFailure: false too; a refused connection is connection_failed", async () => {
    app.respond = () => ({ status: 503, headers: { "x-slack-no-retry": "1" } });
    await simulator.users.post({ user: "U0ALEX", channel: "C0SALES", text: "no retry" });
    await simulator.events.flush();
    expect(simulator.events.deliveries).toMatchObject([{ attempt: 1, status: 503, noRetry: true }]);
    simulator.events.configure({ retryOnFailure: false });
    app.respond = () => ({ status: 500 });
    await simulator.users.post({ user: "U0ALEX", channel: "C0SALES", text: "once" });
    await simulator.events.flush();
    expect(simulator.events.deliveries).toHaveLength(2);
    const closed = app.url;
    await app.close();
    await simulator.configureApp({ eventsUrl: closed });
    await simulator.users.post({ user: "U0ALEX", channel: "C0SALES", text: "nobody home" });
    await simulator.events.flush();
    expect(simulator.events.deliveries.at(-1)).toMatchObject({
      status: null,
      failure: "connection_failed",
      ok: false,
    });
    app = await startBareApp(simulator.signingSecret);
  });

  it("duplicateProbability sends the same event_id twice without retry headers", async () => {
    simulator.events.configure({ duplicateProbability: 1 });
    await simulator.users.post({ user: "U0ALEX", channel: "C0SALES", text: "twice" });
    await simulator.events.flush();
    expect(app.received).toHaveLength(2);
    expect(app.received[0]?.body.event_id).toBe(app.received[1]?.body.event_id);
    expect(app.received.map((request) => request.headers["x-slack-retry-num"])).toEqual([
      undefined,
      undefined,
    ]);
    expect(simulator.events.deliveries.map((delivery) => delivery.duplicate).sort()).toEqual([false, true]);
  });

  it("configureApp({ verify: true }) sends url_verification and refuses a URL that does not echo the challenge", async () => {
    app.respond = (request) =>
      request.body?.type === "url_verification"
        ? { status: 200, body: JSON.stringify({ challenge: request.body.challenge }) }
        : { status: 200 };
    await simulator.configureApp({ eventsUrl: app.url, verify: true });
    expect(app.received[0]?.body).toMatchObject({
      type: "url_verification",
      token: simulator.verificationToken,
    });
    expect(app.received[0]?.signatureValid).toBe(true);
    const silent = await startBareApp(simulator.signingSecret);
    try {
      await expect(simulator.configureApp({ eventsUrl: silent.url, verify: true })).rejects.toThrow(
        ConfigurationError,
      );
      // The previous URL is kept.
      await simulator.users.post({ user: "U0ALEX", channel: "C0SALES", text: "still here" });
      await simulator.events.flush();
      expect(app.events()).toHaveLength(1);
    } finally {
      await silent.close();
    }
  });

  it("membership, archiving and revocation events; a removed bot gets no more messages", async () => {
    simulator.channels.removeBot("C0SALES");
    await simulator.users.post({ user: "U0ALEX", channel: "C0SALES", text: "after removal" });
    simulator.channels.addBot("C0OUTSIDE");
    simulator.channels.archive("C0OUTSIDE");
    simulator.revokeToken();
    await simulator.users.post({ user: "U0ALEX", channel: "C0PRIVATE", text: "after revocation" });
    await simulator.events.flush();
    const events = app.events().map((envelope) => envelope.event);
    expect(events).toMatchObject([
      { type: "channel_left", channel: "C0SALES", actor_id: "U0ALEX" },
      {
        type: "member_joined_channel",
        user: "U0SIMBOT",
        channel: "C0OUTSIDE",
        channel_type: "C",
        inviter: "U0ALEX",
      },
      { type: "message", subtype: "channel_join", user: "U0SIMBOT", channel: "C0OUTSIDE" },
      { type: "channel_archive", channel: "C0OUTSIDE", user: "U0ALEX" },
      { type: "tokens_revoked", tokens: { oauth: [], bot: ["U0SIMBOT"] } },
    ]);
    expect(simulator.state.channel("C0SALES")).toMatchObject({
      botIsMember: false,
      members: ["U0ALEX", "U0SAM"],
    });
  });

  it("private channels: message.groups with channel_type group, group_archive, group_left", async () => {
    await simulator.users.post({ user: "U0ALEX", channel: "C0PRIVATE", text: "secret plan" });
    simulator.channels.archive("C0PRIVATE");
    simulator.channels.removeBot("C0PRIVATE");
    await simulator.events.flush();
    expect(app.events().map((envelope) => envelope.event)).toMatchObject([
      { type: "message", text: "secret plan", channel: "C0PRIVATE", channel_type: "group" },
      { type: "group_archive", channel: "C0PRIVATE" },
      { type: "group_left", channel: "C0PRIVATE" },
    ]);
    expect(app.events()[0].event_context).toMatch(/^4-/);
    expect(JSON.parse(Buffer.from(app.events()[0].event_context.slice(2), "base64url").toString())).toEqual({
      et: "message",
      tid: "T0SIM",
      aid: "A0SIMAPP",
      cid: "C0PRIVATE",
    });
  });

  it("the bot's chat.update and chat.delete arrive as message_changed and message_deleted with bot_id", async () => {
    const client = webClient(simulator);
    const { ts } = await client.chat.postMessage({ channel: "C0SALES", text: "v1" });
    await client.chat.update({ channel: "C0SALES", ts: ts as string, text: "v2" });
    await client.chat.delete({ channel: "C0SALES", ts: ts as string });
    await simulator.events.flush();
    const events = app.events().map((envelope) => envelope.event);
    expect(events).toMatchObject([
      { text: "v1", bot_id: "B0SIMBOT" },
      {
        subtype: "message_changed",
        message: { text: "v2", bot_id: "B0SIMBOT" },
        previous_message: { text: "v1" },
      },
      { subtype: "message_deleted", deleted_ts: ts, previous_message: { text: "v2", bot_id: "B0SIMBOT" } },
    ]);
  });

  it("events.deliver sends any inner event (here app_mention) signed in the envelope", async () => {
    const eventId = simulator.events.deliver({
      type: "app_mention",
      user: "U0ALEX",
      text: "<@U0SIMBOT> status?",
      ts: "1700000000.000100",
      channel: "C0SALES",
      event_ts: "1700000000.000100",
    });
    await simulator.events.flush();
    expect(eventId).toMatch(EVENT_ID);
    expect(app.received[0]?.signatureValid).toBe(true);
    expect(app.events()[0]).toMatchObject({
      event_id: eventId,
      type: "event_callback",
      event: { type: "app_mention", text: "<@U0SIMBOT> status?" },
    });
    await simulator.configureApp({ eventsUrl: null });
    expect(() => simulator.events.deliver({ type: "app_mention" })).toThrow(ConfigurationError);
  });

  it("no events URL: nothing is delivered", async () => {
    await simulator.configureApp({ eventsUrl: null });
    await simulator.users.post({ user: "U0ALEX", channel: "C0SALES", text: "into the void" });
    await simulator.events.flush();
    expect(app.received).toEqual([]);
    expect(simulator.events.deliveries).toEqual([]);
  });

  it("user controls refuse impossible actions with ConfigurationError", async () => {
    await expect(simulator.users.post({ user: "U0NOBODY", channel: "C0SALES", text: "x" })).rejects.toThrow(
      ConfigurationError,
    );
    await expect(simulator.users.post({ user: "U0ALEX", channel: "C0NOPE", text: "x" })).rejects.toThrow(
      ConfigurationError,
    );
    await expect(
      simulator.users.post({ user: "U0ALEX", channel: "C0SALES", text: "x", threadTs: "1600000000.000001" }),
    ).rejects.toThrow(/No message/);
    const bot = await webClient(simulator).chat.postMessage({ channel: "C0SALES", text: "bot" });
    await expect(
      simulator.users.edit({ user: "U0ALEX", channel: "C0SALES", ts: bot.ts as string, text: "hijack" }),
    ).rejects.toThrow(/own messages/);
  });
});

const ALL_SUBSCRIPTIONS = [
  "message.channels",
  "message.groups",
  "reaction_added",
  "reaction_removed",
  "file_shared",
  "member_joined_channel",
  "channel_left",
  "group_left",
  "channel_archive",
  "group_archive",
  "tokens_revoked",
];
