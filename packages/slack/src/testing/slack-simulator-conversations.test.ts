import { ErrorCode, type WebAPIPlatformError, WebAPIRateLimitedError } from "@slack/web-api";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { SlackSimulator } from "./simulator-types.ts";
import { callApi, webClient } from "./slack-simulator.test-helpers.ts";
import { startSlackSimulator } from "./slack-simulator.ts";

async function slackError(promise: Promise<unknown>): Promise<WebAPIPlatformError["data"]> {
  try {
    await promise;
  } catch (error) {
    expect((error as WebAPIPlatformError).code).toBe(ErrorCode.PlatformError);
    return (error as WebAPIPlatformError).data;
  }
  throw new Error("expected the call to fail");
}

const CHANNELS = [
  { id: "C0SALES", name: "sales", topic: "Customer chats" },
  { id: "C0OUTSIDE", name: "outside", botIsMember: false },
  { id: "C0SECRET", name: "secret", isPrivate: true, botIsMember: false },
  { id: "C0PRIVATE", name: "private-team", isPrivate: true },
  { id: "C0OLD", name: "old", isArchived: true, botIsMember: false },
];
const USERS = [
  { id: "U0ALEX", name: "alex", realName: "Alex Rivera", email: "alex@example.com", isAdmin: true },
  { id: "U0SAM", name: "sam", realName: "Sam Lee", email: "Sam@Example.com" },
];

describe("Slack simulator: conversations, users, bots and team", () => {
  let simulator: SlackSimulator;

  beforeAll(async () => {
    simulator = await startSlackSimulator({
      rateLimits: false,
      marketplaceApp: true,
      channels: CHANNELS,
      users: USERS,
    });
  });
  afterAll(async () => {
    await simulator.close();
  });
  afterEach(() => {
    simulator.reset();
  });

  it("conversations.info: public channels (member or not) and private ones the bot is in", async () => {
    const client = webClient(simulator);
    const sales = await client.conversations.info({ channel: "C0SALES", include_num_members: true });
    expect(sales.channel).toMatchObject({
      id: "C0SALES",
      name: "sales",
      is_channel: true,
      is_private: false,
      is_archived: false,
      is_member: true,
      num_members: 3,
      topic: { value: "Customer chats" },
      context_team_id: "T0SIM",
    });
    expect((await client.conversations.info({ channel: "C0OUTSIDE" })).channel).toMatchObject({
      is_member: false,
    });
    expect((await client.conversations.info({ channel: "C0PRIVATE" })).channel).toMatchObject({
      is_private: true,
    });
    expect((await client.conversations.info({ channel: "C0OLD" })).channel).toMatchObject({
      is_archived: true,
    });
    expect((await slackError(client.conversations.info({ channel: "C0SECRET" }))).error).toBe(
      "channel_not_found",
    );
    expect((await slackError(client.conversations.info({ channel: "C0NOPE" }))).error).toBe(
      "channel_not_found",
    );
  });

  it("conversations.info needs the scope of the conversation's type", async () => {
    const publicOnly = await startSlackSimulator({
      rateLimits: false,
      scopes: ["channels:read"],
      channels: CHANNELS,
    });
    try {
      const client = webClient(publicOnly);
      expect((await client.conversations.info({ channel: "C0SALES" })).ok).toBe(true);
      expect(await slackError(client.conversations.info({ channel: "C0PRIVATE" }))).toMatchObject({
        error: "missing_scope",
        needed: "groups:read",
        provided: "channels:read",
      });
    } finally {
      await publicOnly.close();
    }
  });

  it("conversations.join joins a public channel (channel_join message), warns already_in_channel, refuses archived and private ones", async () => {
    const client = webClient(simulator);
    const joined = await client.conversations.join({ channel: "C0OUTSIDE" });
    expect(joined).toMatchObject({ ok: true, channel: { id: "C0OUTSIDE", is_member: true } });
    expect(simulator.state.channel("C0OUTSIDE")).toMatchObject({ botIsMember: true });
    expect(simulator.state.messages("C0OUTSIDE")).toMatchObject([
      { subtype: "channel_join", user: "U0SIMBOT", text: "<@U0SIMBOT> has joined the channel" },
    ]);
    const again = await client.conversations.join({ channel: "C0SALES" });
    expect(again).toMatchObject({
      ok: true,
      warning: "already_in_channel",
      response_metadata: { warnings: ["already_in_channel"] },
    });
    expect((await slackError(client.conversations.join({ channel: "C0OLD" }))).error).toBe("is_archived");
    expect((await slackError(client.conversations.join({ channel: "C0SECRET" }))).error).toBe(
      "channel_not_found",
    );
    expect((await slackError(client.conversations.join({ channel: "C0PRIVATE" }))).error).toBe(
      "method_not_supported_for_channel_type",
    );
  });

  it("conversations.history: newest first, cursor pagination, oldest/latest bounds, not_in_channel", async () => {
    const client = webClient(simulator);
    const posted: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      posted.push((await client.chat.postMessage({ channel: "C0SALES", text: `m${index}` })).ts as string);
    }
    await client.chat.postMessage({ channel: "C0SALES", text: "a reply", thread_ts: posted[0] as string });
    const first = await client.conversations.history({ channel: "C0SALES", limit: 2 });
    expect(first.messages?.map((message) => message.text)).toEqual(["m4", "m3"]);
    expect(first.has_more).toBe(true);
    const cursor = first.response_metadata?.next_cursor as string;
    expect(Buffer.from(cursor, "base64").toString()).toBe(`next_ts:${posted[2]}`);
    const second = await client.conversations.history({ channel: "C0SALES", limit: 10, cursor });
    expect(second.messages?.map((message) => message.text)).toEqual(["m2", "m1", "m0"]);
    expect(second.has_more).toBe(false);
    expect(second.messages?.[2]).toMatchObject({ reply_count: 1, thread_ts: posted[0] });
    const bounded = await client.conversations.history({
      channel: "C0SALES",
      oldest: posted[1] as string,
      latest: posted[3] as string,
      inclusive: true,
    });
    expect(bounded.messages?.map((message) => message.text)).toEqual(["m3", "m2", "m1"]);
    expect((await slackError(client.conversations.history({ channel: "C0OUTSIDE" }))).error).toBe(
      "not_in_channel",
    );
    expect(
      (await slackError(client.conversations.history({ channel: "C0SALES", cursor: "bad" }))).error,
    ).toBe("invalid_cursor");
  });

  it("conversations.replies returns the parent then the replies, from the parent's or a reply's ts", async () => {
    const client = webClient(simulator);
    const parent = await client.chat.postMessage({ channel: "C0SALES", text: "parent" });
    const reply = await client.chat.postMessage({
      channel: "C0SALES",
      text: "r1",
      thread_ts: parent.ts as string,
    });
    await simulator.users.post({
      user: "U0ALEX",
      channel: "C0SALES",
      threadTs: parent.ts as string,
      text: "r2",
    });
    const thread = await client.conversations.replies({ channel: "C0SALES", ts: reply.ts as string });
    expect(thread.messages?.map((message) => message.text)).toEqual(["parent", "r1", "r2"]);
    expect(thread.messages?.[0]).toMatchObject({ reply_count: 2, reply_users: ["U0SIMBOT", "U0ALEX"] });
    expect(thread.messages?.[2]).toMatchObject({ user: "U0ALEX", parent_user_id: "U0SIMBOT" });
    expect(
      (await slackError(client.conversations.replies({ channel: "C0SALES", ts: "1600000000.000001" }))).error,
    ).toBe("thread_not_found");
  });

  it("conversations.members lists the humans and the bot, paginated", async () => {
    const client = webClient(simulator);
    const all = await client.conversations.members({ channel: "C0SALES" });
    expect(all.members).toEqual(["U0ALEX", "U0SAM", "U0SIMBOT"]);
    expect(all.response_metadata?.next_cursor).toBe("");
    const page = await client.conversations.members({ channel: "C0SALES", limit: 2 });
    expect(page.members).toEqual(["U0ALEX", "U0SAM"]);
    const rest = await client.conversations.members({
      channel: "C0SALES",
      cursor: page.response_metadata?.next_cursor as string,
    });
    expect(rest.members).toEqual(["U0SIMBOT"]);
  });

  it("users.info (email only with users:read.email), the bot user, users.lookupByEmail", async () => {
    const client = webClient(simulator);
    const alex = await client.users.info({ user: "U0ALEX" });
    expect(alex.user).toMatchObject({
      id: "U0ALEX",
      name: "alex",
      real_name: "Alex Rivera",
      is_bot: false,
      is_admin: true,
      profile: { real_name: "Alex Rivera", display_name: "alex", email: "alex@example.com" },
    });
    const bot = await client.users.info({ user: "U0SIMBOT" });
    expect(bot.user).toMatchObject({
      id: "U0SIMBOT",
      is_bot: true,
      profile: { bot_id: "B0SIMBOT", api_app_id: "A0SIMAPP" },
    });
    expect((await slackError(client.users.info({ user: "U0NOBODY" }))).error).toBe("user_not_found");
    const found = await client.users.lookupByEmail({ email: "sam@example.com" });
    expect(found.user).toMatchObject({ id: "U0SAM", profile: { email: "Sam@Example.com" } });
    expect((await slackError(client.users.lookupByEmail({ email: "nobody@example.com" }))).error).toBe(
      "users_not_found",
    );
    const withoutEmail = await startSlackSimulator({
      rateLimits: false,
      scopes: ["users:read"],
      users: USERS,
    });
    try {
      const user = await webClient(withoutEmail).users.info({ user: "U0ALEX" });
      expect(user.user?.profile?.email).toBeUndefined();
      expect(
        (await slackError(webClient(withoutEmail).users.lookupByEmail({ email: "alex@example.com" }))).error,
      ).toBe("missing_scope");
    } finally {
      await withoutEmail.close();
    }
  });

  it("bots.info, and team.info (which needs team:read, not in the default grant)", async () => {
    const client = webClient(simulator);
    expect((await client.bots.info({ bot: "B0SIMBOT" })).bot).toMatchObject({
      id: "B0SIMBOT",
      app_id: "A0SIMAPP",
      user_id: "U0SIMBOT",
      name: "linq-connect",
      deleted: false,
    });
    expect((await slackError(client.bots.info({ bot: "B0OTHER" }))).error).toBe("bot_not_found");
    expect(await slackError(client.team.info())).toMatchObject({
      error: "missing_scope",
      needed: "team:read",
    });
    const withTeam = await startSlackSimulator({ rateLimits: false, scopes: ["team:read"] });
    try {
      expect((await webClient(withTeam).team.info()).team).toMatchObject({
        id: "T0SIM",
        name: "Simulated Workspace",
        domain: "simulated",
        url: "https://simulated.slack.com/",
      });
    } finally {
      await withTeam.close();
    }
  });

  it("form-only methods do not read JSON bodies (the arguments go unseen)", async () => {
    const response = await callApi(simulator, "conversations.info", { channel: "C0SALES" }, { json: true });
    expect(response.body).toMatchObject({ ok: false, error: "channel_not_found" });
    const get = await callApi(simulator, "conversations.info", { channel: "C0SALES" }, { httpMethod: "GET" });
    expect(get.body).toMatchObject({ ok: true, channel: { id: "C0SALES" } });
  });
});

describe("Slack simulator: conversations.history and conversations.replies for non-Marketplace apps", () => {
  it("allow 1 request per minute and 15 messages per page (the connector must not depend on them)", async () => {
    let now = new Date("2026-03-01T12:00:00Z");
    const simulator = await startSlackSimulator({
      now: () => now,
      rateLimits: { postMessagePerChannel: false },
    });
    try {
      const client = webClient(simulator, { rejectRateLimitedCalls: true });
      for (let index = 0; index < 20; index += 1) {
        await client.chat.postMessage({ channel: "C0GENERAL", text: `m${index}` });
      }
      const page = await client.conversations.history({ channel: "C0GENERAL", limit: 100 });
      expect(page.messages).toHaveLength(15);
      expect(page.has_more).toBe(true);
      const limited = await client.conversations
        .history({ channel: "C0GENERAL" })
        .catch((error: unknown) => error);
      expect(limited).toBeInstanceOf(WebAPIRateLimitedError);
      expect((limited as WebAPIRateLimitedError).retryAfter).toBe(60);
      const raw = await callApi(simulator, "conversations.history", { channel: "C0GENERAL" });
      expect(raw.status).toBe(429);
      expect(raw.headers.get("retry-after")).toBe("60");
      expect(raw.body).toEqual({ ok: false, error: "ratelimited" });
      // replies has its own bucket, also 1 per minute.
      const ts = page.messages?.[0]?.ts as string;
      expect((await client.conversations.replies({ channel: "C0GENERAL", ts })).ok).toBe(true);
      await expect(client.conversations.replies({ channel: "C0GENERAL", ts })).rejects.toBeInstanceOf(
        WebAPIRateLimitedError,
      );
      now = new Date(now.getTime() + 60_000);
      expect((await client.conversations.history({ channel: "C0GENERAL" })).ok).toBe(true);
      expect(simulator.requests.filter((request) => request.error === "ratelimited")).toHaveLength(3);
    } finally {
      await simulator.close();
    }
  });
});
