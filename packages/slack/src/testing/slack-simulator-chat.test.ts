import { ErrorCode, type WebAPIPlatformError } from "@slack/web-api";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { SlackSimulator } from "./simulator-types.ts";
import { callApi, webClient } from "./slack-simulator.test-helpers.ts";
import { startSlackSimulator } from "./slack-simulator.ts";

const TS = /^\d{10}\.\d{6}$/;

/** The Slack error code of a rejected WebClient call. */
async function slackError(promise: Promise<unknown>): Promise<WebAPIPlatformError["data"]> {
  try {
    await promise;
  } catch (error) {
    const platform = error as WebAPIPlatformError;
    expect(platform.code).toBe(ErrorCode.PlatformError);
    return platform.data;
  }
  throw new Error("expected the call to fail");
}

describe("Slack simulator: auth and chat methods", () => {
  let simulator: SlackSimulator;

  beforeAll(async () => {
    simulator = await startSlackSimulator({
      rateLimits: false,
      channels: [
        { id: "C0SALES", name: "sales" },
        { id: "C0OUTSIDE", name: "outside", botIsMember: false },
        { id: "C0SECRET", name: "secret", isPrivate: true, botIsMember: false },
        { id: "C0PRIVATE", name: "private-team", isPrivate: true },
        { id: "C0OLD", name: "old", isArchived: true },
      ],
      users: [
        { id: "U0ALEX", name: "alex", realName: "Alex Rivera", email: "alex@example.com" },
        { id: "U0SAM", name: "sam", realName: "Sam Lee", email: "sam@example.com" },
      ],
    });
  });
  afterAll(async () => {
    await simulator.close();
  });
  afterEach(() => {
    simulator.reset();
  });

  it("auth.test answers the bot's identity; Web API answers carry x-oauth-scopes", async () => {
    const client = webClient(simulator);
    const result = await client.auth.test();
    expect(result).toMatchObject({
      ok: true,
      url: "https://simulated.slack.com/",
      team: "Simulated Workspace",
      user: "linq-connect",
      team_id: "T0SIM",
      user_id: "U0SIMBOT",
      bot_id: "B0SIMBOT",
      is_enterprise_install: false,
    });
    expect(result.response_metadata?.scopes).toContain("chat:write");
    const raw = await callApi(simulator, "chat.postMessage", { channel: "C0SALES", text: "hi" });
    expect(raw.headers.get("x-accepted-oauth-scopes")).toBe("chat:write");
    expect(raw.headers.get("content-type")).toBe("application/json; charset=utf-8");
  });

  it("missing, wrong, app-level and revoked tokens: not_authed, invalid_auth, not_allowed_token_type, token_revoked", async () => {
    expect((await callApi(simulator, "auth.test", {}, { token: null })).body).toEqual({
      ok: false,
      error: "not_authed",
    });
    const wrong = await slackError(webClient(simulator, {}, "xoxb-wrong").auth.test());
    expect(wrong.error).toBe("invalid_auth");
    expect((await callApi(simulator, "auth.test", {}, { token: "xapp-1-A0SIMAPP-1-abc" })).body.error).toBe(
      "not_allowed_token_type",
    );
    // The token may also come as a form argument; it is redacted in the request log.
    const asArgument = await callApi(simulator, "auth.test", {}, { tokenAs: "argument" });
    expect(asArgument.body.ok).toBe(true);
    expect(simulator.requests.at(-1)?.params).toEqual({ token: "[REDACTED]" });
    simulator.revokeToken();
    const revoked = await slackError(
      webClient(simulator).chat.postMessage({ channel: "C0SALES", text: "x" }),
    );
    expect(revoked.error).toBe("token_revoked");
    expect(simulator.state.messages("C0SALES")).toEqual([]);
  });

  it("chat.postMessage posts as the bot and returns channel, ts and message", async () => {
    const client = webClient(simulator);
    const result = await client.chat.postMessage({
      channel: "C0SALES",
      text: "New conversation with +1 555 0100",
    });
    expect(result.ok).toBe(true);
    expect(result.channel).toBe("C0SALES");
    expect(result.ts).toMatch(TS);
    expect(result.message).toMatchObject({
      type: "message",
      text: "New conversation with +1 555 0100",
      user: "U0SIMBOT",
      bot_id: "B0SIMBOT",
      app_id: "A0SIMAPP",
      team: "T0SIM",
      ts: result.ts,
      bot_profile: { id: "B0SIMBOT", app_id: "A0SIMAPP", name: "linq-connect", team_id: "T0SIM" },
      blocks: [{ type: "rich_text" }],
    });
    expect(result.message?.subtype).toBeUndefined();
    const stored = simulator.state.messages("C0SALES");
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      ts: result.ts,
      text: "New conversation with +1 555 0100",
      bot_id: "B0SIMBOT",
    });
  });

  it("ts values are unique and increasing; a channel name works as the channel", async () => {
    const client = webClient(simulator);
    const timestamps: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      const { ts } = await client.chat.postMessage({
        channel: index % 2 === 0 ? "C0SALES" : "#sales",
        text: `m${index}`,
      });
      timestamps.push(ts as string);
    }
    expect(new Set(timestamps).size).toBe(5);
    expect([...timestamps].sort()).toEqual(timestamps);
    expect(simulator.state.messages("C0SALES").map((message) => message.text)).toEqual([
      "m0",
      "m1",
      "m2",
      "m3",
      "m4",
    ]);
  });

  it("thread replies (also to a reply's ts) and reply_broadcast", async () => {
    const client = webClient(simulator);
    const parent = await client.chat.postMessage({ channel: "C0SALES", text: "Parent" });
    const reply = await client.chat.postMessage({
      channel: "C0SALES",
      text: "Reply 1",
      thread_ts: parent.ts as string,
    });
    expect(reply.message).toMatchObject({ thread_ts: parent.ts, parent_user_id: "U0SIMBOT" });
    // A reply's ts designates its thread.
    await client.chat.postMessage({ channel: "C0SALES", text: "Reply 2", thread_ts: reply.ts as string });
    const broadcast = await client.chat.postMessage({
      channel: "C0SALES",
      text: "Also in channel",
      thread_ts: parent.ts as string,
      reply_broadcast: true,
    });
    expect(broadcast.message?.subtype).toBe("thread_broadcast");
    const thread = simulator.state.thread("C0SALES", parent.ts as string);
    expect(thread.map((message) => message.text)).toEqual([
      "Parent",
      "Reply 1",
      "Reply 2",
      "Also in channel",
    ]);
    expect(thread[0]).toMatchObject({
      reply_count: 3,
      reply_users: ["U0SIMBOT"],
      reply_users_count: 1,
      latest_reply: broadcast.ts,
      thread_ts: parent.ts,
    });
    expect(simulator.state.messages("C0SALES").map((message) => message.text)).toEqual([
      "Parent",
      "Also in channel",
    ]);
  });

  it("a thread_ts no message has is accepted and the reply shows nowhere in the channel; a malformed one is invalid_thread_ts", async () => {
    const client = webClient(simulator);
    const orphan = await client.chat.postMessage({
      channel: "C0SALES",
      text: "lost",
      thread_ts: "1600000000.000100",
    });
    expect(orphan.ok).toBe(true);
    expect(simulator.state.messages("C0SALES")).toEqual([]);
    expect(simulator.state.thread("C0SALES", "1600000000.000100").map((message) => message.text)).toEqual([
      "lost",
    ]);
    const malformed = await slackError(
      client.chat.postMessage({ channel: "C0SALES", text: "x", thread_ts: "0" }),
    );
    expect(malformed).toMatchObject({
      error: "invalid_thread_ts",
      response_metadata: { messages: ["[ERROR] 0 is not a valid thread_ts"] },
    });
  });

  it("username and icon_emoji (chat:write.customize) make a bot_message; metadata is kept", async () => {
    const client = webClient(simulator);
    const result = await client.chat.postMessage({
      channel: "C0SALES",
      text: "From +1 555 0100",
      username: "+1 555 0100",
      icon_emoji: "iphone",
      unfurl_links: false,
      unfurl_media: false,
      metadata: { event_type: "linq_message", event_payload: { chat_id: 42 } },
    });
    expect(result.message).toMatchObject({
      subtype: "bot_message",
      username: "+1 555 0100",
      icons: { emoji: ":iphone:" },
      bot_id: "B0SIMBOT",
      metadata: { event_type: "linq_message", event_payload: { chat_id: 42 } },
    });
    expect(result.message?.user).toBeUndefined();
    expect(simulator.requests.at(-1)?.params).toMatchObject({ unfurl_links: "false", unfurl_media: "false" });
  });

  it("without chat:write.customize, username and icons are ignored", async () => {
    const plain = await startSlackSimulator({ rateLimits: false, scopes: ["chat:write", "channels:read"] });
    try {
      const result = await webClient(plain).chat.postMessage({
        channel: "C0GENERAL",
        text: "x",
        username: "Someone",
      });
      expect(result.message).toMatchObject({ user: "U0SIMBOT" });
      expect(result.message?.username).toBeUndefined();
      expect(result.message?.subtype).toBeUndefined();
    } finally {
      await plain.close();
    }
  });

  it("chat.postMessage access errors: channel_not_found, not_in_channel, is_archived; chat:write.public allows public channels", async () => {
    const client = webClient(simulator);
    expect((await slackError(client.chat.postMessage({ channel: "C0NOPE", text: "x" }))).error).toBe(
      "channel_not_found",
    );
    // A private channel the bot is not in does not exist for it.
    expect((await slackError(client.chat.postMessage({ channel: "C0SECRET", text: "x" }))).error).toBe(
      "channel_not_found",
    );
    expect((await slackError(client.chat.postMessage({ channel: "C0OUTSIDE", text: "x" }))).error).toBe(
      "not_in_channel",
    );
    expect((await slackError(client.chat.postMessage({ channel: "C0OLD", text: "x" }))).error).toBe(
      "is_archived",
    );
    expect((await client.chat.postMessage({ channel: "C0PRIVATE", text: "ok" })).ok).toBe(true);
    const publicWriter = await startSlackSimulator({
      rateLimits: false,
      scopes: ["chat:write", "chat:write.public"],
      channels: [{ id: "C0OUTSIDE", name: "outside", botIsMember: false }],
    });
    try {
      expect(
        (await webClient(publicWriter).chat.postMessage({ channel: "C0OUTSIDE", text: "hello" })).ok,
      ).toBe(true);
    } finally {
      await publicWriter.close();
    }
  });

  it("chat.postMessage content errors: no_text, msg_too_long, invalid_blocks, invalid_blocks_format, invalid_metadata_format, too_many_attachments", async () => {
    const client = webClient(simulator);
    expect((await slackError(client.chat.postMessage({ channel: "C0SALES", text: "" }))).error).toBe(
      "no_text",
    );
    expect(
      (await slackError(client.chat.postMessage({ channel: "C0SALES", text: "x".repeat(40_001) }))).error,
    ).toBe("msg_too_long");
    const blocks = await slackError(
      client.chat.postMessage({
        channel: "C0SALES",
        text: "fallback",
        blocks: [{ type: "section" }, { type: "wobble" }] as never,
      }),
    );
    expect(blocks).toMatchObject({
      error: "invalid_blocks",
      response_metadata: {
        messages: [
          "[ERROR] must provide either text or fields [json-pointer:/blocks/0]",
          "[ERROR] unsupported type: wobble [json-pointer:/blocks/1/type]",
        ],
      },
    });
    const format = await callApi(simulator, "chat.postMessage", {
      channel: "C0SALES",
      text: "x",
      blocks: "{nope",
    });
    expect(format.body.error).toBe("invalid_blocks_format");
    const metadata = await callApi(simulator, "chat.postMessage", {
      channel: "C0SALES",
      text: "x",
      metadata: { event_payload: {} },
    });
    expect(metadata.body.error).toBe("invalid_metadata_format");
    const attachments = await callApi(simulator, "chat.postMessage", {
      channel: "C0SALES",
      text: "x",
      attachments: Array.from({ length: 101 }, () => ({ text: "a" })),
    });
    expect(attachments.body.error).toBe("too_many_attachments");
    // Blocks alone are enough.
    const withBlocks = await client.chat.postMessage({
      channel: "C0SALES",
      blocks: [{ type: "section", text: { type: "mrkdwn", text: "*Hi*" } }],
    });
    expect(withBlocks.ok).toBe(true);
    expect(simulator.state.messages("C0SALES")).toHaveLength(1);
  });

  it("missing_scope names the needed scope and the provided ones", async () => {
    const readOnly = await startSlackSimulator({ rateLimits: false, scopes: ["channels:read"] });
    try {
      const error = await slackError(
        webClient(readOnly).chat.postMessage({ channel: "C0GENERAL", text: "x" }),
      );
      expect(error).toMatchObject({
        error: "missing_scope",
        needed: "chat:write",
        provided: "channels:read",
      });
    } finally {
      await readOnly.close();
    }
  });

  it("JSON bodies with a Bearer token work; JSON without charset warns missing_charset; bad JSON is invalid_json", async () => {
    const json = await callApi(
      simulator,
      "chat.postMessage",
      { channel: "C0SALES", text: "via JSON" },
      { json: true },
    );
    expect(json.body).toMatchObject({ ok: true, channel: "C0SALES" });
    expect(json.body.warning).toBeUndefined();
    const noCharset = await callApi(
      simulator,
      "chat.postMessage",
      { channel: "C0SALES", text: "again" },
      { json: true, contentType: "application/json" },
    );
    expect(noCharset.body).toMatchObject({
      ok: true,
      warning: "missing_charset",
      response_metadata: { warnings: ["missing_charset"] },
    });
    // In a JSON body the token argument is not read: only the Authorization header counts.
    const tokenInJson = await callApi(
      simulator,
      "auth.test",
      { token: simulator.botToken },
      { json: true, token: null },
    );
    expect(tokenInJson.body.error).toBe("not_authed");
    const broken = await callApi(
      simulator,
      "chat.postMessage",
      {},
      {
        body: "{not json",
        contentType: "application/json; charset=utf-8",
      },
    );
    expect(broken.body.error).toBe("invalid_json");
    const badType = await callApi(
      simulator,
      "chat.postMessage",
      {},
      { body: "x", contentType: "application/xml" },
    );
    expect(badType.body.error).toBe("invalid_post_type");
    const arrayArgument = await callApi(simulator, "chat.postMessage", { "channel[0]": "C0SALES" });
    expect(arrayArgument.body.error).toBe("invalid_array_arg");
    expect(simulator.state.messages("C0SALES").map((message) => message.text)).toEqual(["via JSON", "again"]);
  });

  it("request-level errors: missing_post_type, invalid_charset, invalid_arg_name, invalid_attachments", async () => {
    const noType = await fetch(`${simulator.apiUrl}chat.postMessage`, {
      method: "POST",
      headers: { authorization: `Bearer ${simulator.botToken}` },
      body: new TextEncoder().encode("channel=C0SALES&text=x"),
    });
    expect(await noType.json()).toEqual({ ok: false, error: "missing_post_type" });
    const charset = await callApi(
      simulator,
      "chat.postMessage",
      {},
      {
        body: "channel=C0SALES&text=x",
        contentType: "application/x-www-form-urlencoded; charset=koi8-r",
      },
    );
    expect(charset.body.error).toBe("invalid_charset");
    const badName = await callApi(
      simulator,
      "chat.postMessage",
      {},
      {
        body: "channel=C0SALES&text=x&bad-name=1",
        contentType: "application/x-www-form-urlencoded",
      },
    );
    expect(badName.body.error).toBe("invalid_arg_name");
    const attachments = await callApi(simulator, "chat.postMessage", {
      channel: "C0SALES",
      attachments: "[oops",
    });
    expect(attachments.body.error).toBe("invalid_attachments");
    // Unknown but well-formed arguments are ignored, as Slack does.
    const extra = await callApi(simulator, "chat.postMessage", {
      channel: "C0SALES",
      text: "ok",
      flavour: "vanilla",
    });
    expect(extra.body.ok).toBe(true);
    expect(simulator.state.messages("C0SALES").map((message) => message.text)).toEqual(["ok"]);
  });

  it("after channels.archive or channels.removeBot, writes fail with is_archived / not_in_channel / channel_not_found", async () => {
    const client = webClient(simulator);
    const { ts } = await client.chat.postMessage({ channel: "C0SALES", text: "before" });
    const secret = await client.chat.postMessage({ channel: "C0PRIVATE", text: "private before" });
    simulator.channels.removeBot("C0SALES");
    expect((await slackError(client.chat.postMessage({ channel: "C0SALES", text: "x" }))).error).toBe(
      "not_in_channel",
    );
    expect((await slackError(client.conversations.history({ channel: "C0SALES" }))).error).toBe(
      "not_in_channel",
    );
    // Public: still visible, so its own message can still be edited.
    expect((await client.chat.update({ channel: "C0SALES", ts: ts as string, text: "edited" })).ok).toBe(
      true,
    );
    simulator.channels.removeBot("C0PRIVATE");
    for (const call of [
      client.chat.postMessage({ channel: "C0PRIVATE", text: "x" }),
      client.chat.update({ channel: "C0PRIVATE", ts: secret.ts as string, text: "x" }),
      client.chat.delete({ channel: "C0PRIVATE", ts: secret.ts as string }),
      client.chat.getPermalink({ channel: "C0PRIVATE", message_ts: secret.ts as string }),
      client.conversations.info({ channel: "C0PRIVATE" }),
    ]) {
      expect((await slackError(call)).error).toBe("channel_not_found");
    }
    simulator.channels.addBot("C0SALES");
    simulator.channels.archive("C0SALES");
    expect((await slackError(client.chat.postMessage({ channel: "C0SALES", text: "x" }))).error).toBe(
      "is_archived",
    );
    expect(
      (await slackError(client.chat.update({ channel: "C0SALES", ts: ts as string, text: "x" }))).error,
    ).toBe("is_archived");
    expect((await slackError(client.chat.delete({ channel: "C0SALES", ts: ts as string }))).error).toBe(
      "is_archived",
    );
    expect((await client.conversations.info({ channel: "C0SALES" })).channel?.is_archived).toBe(true);
    simulator.channels.unarchive("C0SALES");
    expect((await client.chat.postMessage({ channel: "C0SALES", text: "back" })).ok).toBe(true);
  });

  it("unknown methods answer HTTP 404 unknown_method", async () => {
    const response = await callApi(simulator, "chat.postMessages", { channel: "C0SALES" });
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ ok: false, error: "unknown_method", req_method: "chat.postMessages" });
  });

  it("chat.update edits the bot's own messages only", async () => {
    const client = webClient(simulator);
    const { ts } = await client.chat.postMessage({ channel: "C0SALES", text: "Original" });
    const updated = await client.chat.update({ channel: "C0SALES", ts: ts as string, text: "Edited" });
    expect(updated).toMatchObject({ ok: true, channel: "C0SALES", ts, text: "Edited" });
    expect(updated.message).toMatchObject({ text: "Edited", edited: { user: "U0SIMBOT" } });
    expect(simulator.state.message("C0SALES", ts as string)).toMatchObject({
      text: "Edited",
      blocks: [{ elements: [{ elements: [{ text: "Edited" }] }] }],
    });
    const human = await simulator.users.post({ user: "U0ALEX", channel: "C0SALES", text: "mine" });
    expect(
      (await slackError(client.chat.update({ channel: "C0SALES", ts: human.ts, text: "x" }))).error,
    ).toBe("cant_update_message");
    expect(
      (await slackError(client.chat.update({ channel: "C0SALES", ts: "1600000000.000001", text: "x" })))
        .error,
    ).toBe("message_not_found");
    expect(
      (await slackError(client.chat.update({ channel: "C0SALES", ts: ts as string, text: "" }))).error,
    ).toBe("no_text");
    expect(simulator.state.message("C0SALES", human.ts)?.text).toBe("mine");
  });

  it("chat.update keeps blocks the app set unless it replaces them; attachments get ids", async () => {
    const client = webClient(simulator);
    const { ts } = await client.chat.postMessage({
      channel: "C0SALES",
      text: "fallback",
      blocks: [{ type: "section", text: { type: "mrkdwn", text: "*Status:* open" } }],
      attachments: [{ text: "details", fallback: "details" }],
    });
    expect(simulator.state.message("C0SALES", ts as string)?.attachments).toEqual([
      { id: 1, text: "details", fallback: "details" },
    ]);
    await client.chat.update({ channel: "C0SALES", ts: ts as string, text: "new fallback" });
    expect(simulator.state.message("C0SALES", ts as string)).toMatchObject({
      text: "new fallback",
      blocks: [{ type: "section", text: { text: "*Status:* open" } }],
    });
    await client.chat.update({
      channel: "C0SALES",
      ts: ts as string,
      text: "",
      blocks: [{ type: "section", text: { type: "mrkdwn", text: "*Status:* closed" } }],
    });
    expect(simulator.state.message("C0SALES", ts as string)).toMatchObject({
      text: "",
      blocks: [{ text: { text: "*Status:* closed" } }],
    });
  });

  it("chat.delete deletes the bot's own messages; a parent with replies becomes a tombstone", async () => {
    const client = webClient(simulator);
    const single = await client.chat.postMessage({ channel: "C0SALES", text: "bye" });
    expect(await client.chat.delete({ channel: "C0SALES", ts: single.ts as string })).toMatchObject({
      ok: true,
      channel: "C0SALES",
      ts: single.ts,
    });
    expect(simulator.state.message("C0SALES", single.ts as string)).toBeUndefined();
    const parent = await client.chat.postMessage({ channel: "C0SALES", text: "parent" });
    await client.chat.postMessage({ channel: "C0SALES", text: "reply", thread_ts: parent.ts as string });
    await client.chat.delete({ channel: "C0SALES", ts: parent.ts as string });
    expect(simulator.state.thread("C0SALES", parent.ts as string)).toMatchObject([
      { subtype: "tombstone", text: "This message was deleted.", hidden: true, reply_count: 1 },
      { text: "reply" },
    ]);
    const human = await simulator.users.post({ user: "U0ALEX", channel: "C0SALES", text: "keep" });
    expect((await slackError(client.chat.delete({ channel: "C0SALES", ts: human.ts }))).error).toBe(
      "cant_delete_message",
    );
    expect(
      (await slackError(client.chat.delete({ channel: "C0SALES", ts: single.ts as string }))).error,
    ).toBe("message_not_found");
  });

  it("chat.postEphemeral stores a message for one user, never in channel history", async () => {
    const client = webClient(simulator);
    const result = await client.chat.postEphemeral({ channel: "C0SALES", user: "U0ALEX", text: "Only you" });
    expect(result.message_ts).toMatch(TS);
    expect(simulator.state.ephemeral("C0SALES")).toEqual([
      {
        channel: "C0SALES",
        user: "U0ALEX",
        ts: result.message_ts,
        text: "Only you",
        source: "chat.postEphemeral",
      },
    ]);
    expect(simulator.state.messages("C0SALES")).toEqual([]);
    expect(
      (await slackError(client.chat.postEphemeral({ channel: "C0SALES", user: "U0NOBODY", text: "x" })))
        .error,
    ).toBe("user_not_found");
    const notMember = await startSlackSimulator({
      rateLimits: false,
      users: [
        { id: "U0ALEX", name: "alex" },
        { id: "U0SAM", name: "sam" },
      ],
      channels: [{ id: "C0SALES", name: "sales", members: ["U0ALEX"] }],
    });
    try {
      const error = await slackError(
        webClient(notMember).chat.postEphemeral({ channel: "C0SALES", user: "U0SAM", text: "x" }),
      );
      expect(error.error).toBe("user_not_in_channel");
    } finally {
      await notMember.close();
    }
  });

  it("chat.getPermalink points at the message (thread replies carry thread_ts and cid) and opens the page", async () => {
    const client = webClient(simulator);
    const parent = await client.chat.postMessage({ channel: "C0SALES", text: "parent" });
    const reply = await client.chat.postMessage({
      channel: "C0SALES",
      text: "reply",
      thread_ts: parent.ts as string,
    });
    const permalink = await client.chat.getPermalink({ channel: "C0SALES", message_ts: parent.ts as string });
    expect(permalink).toMatchObject({
      ok: true,
      channel: "C0SALES",
      permalink: `${simulator.baseUrl}/archives/C0SALES/p${(parent.ts as string).replace(".", "")}`,
    });
    const replyLink = await client.chat.getPermalink({ channel: "C0SALES", message_ts: reply.ts as string });
    expect(replyLink.permalink).toBe(
      `${simulator.baseUrl}/archives/C0SALES/p${(reply.ts as string).replace(".", "")}?thread_ts=${parent.ts}&cid=C0SALES`,
    );
    const page = await fetch(permalink.permalink as string, { redirect: "manual" });
    expect(page.status).toBe(302);
    expect(page.headers.get("location")).toBe(`/channels/C0SALES#m${parent.ts}`);
    expect(
      (await slackError(client.chat.getPermalink({ channel: "C0SALES", message_ts: "1600000000.000001" })))
        .error,
    ).toBe("message_not_found");
  });
});
