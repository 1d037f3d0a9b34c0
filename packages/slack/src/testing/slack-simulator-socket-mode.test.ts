import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from "@slack/bolt";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { SlackSimulator, SlackSimulatorOptions } from "./simulator-types.ts";
import {
  type BareApp,
  callApi,
  connectRawSocketMode,
  eventually,
  type RawSocketModeClient,
  type SocketModeBoltHarness,
  startBareApp,
  startSocketModeBoltApp,
  upgradeStatus,
  webClient,
} from "./slack-simulator.test-helpers.ts";
import { startSlackSimulator } from "./slack-simulator.ts";

type MessageArgs = SlackEventMiddlewareArgs<"message"> & AllMiddlewareArgs;

const BASE_OPTIONS: SlackSimulatorOptions = {
  rateLimits: false,
  channels: [{ id: "C0SALES", name: "sales" }],
  eventDelivery: { retryDelaysMs: [0, 10, 10], ackTimeoutMs: 1_000 },
};

describe("Slack simulator: apps.connections.open", () => {
  let simulator: SlackSimulator;

  beforeEach(async () => {
    simulator = await startSlackSimulator({ ...BASE_OPTIONS, appTokenScopes: ["connections:write"] });
  });
  afterEach(async () => {
    await simulator.close();
  });

  it("answers a single-use ws:// URL on the simulator for the app-level token", async () => {
    const result = await webClient(simulator, {}, simulator.appToken).apps.connections.open();
    expect(result.ok).toBe(true);
    const url = result.url as string;
    expect(url).toMatch(
      new RegExp(`^ws://127\\.0\\.0\\.1:${new URL(simulator.baseUrl).port}/socket-mode/[\\w-]+$`),
    );
    expect(simulator.requests.at(-1)).toMatchObject({
      method: "apps.connections.open",
      ok: true,
      status: 200,
    });
    // The ticket opens one connection; a second attempt with the same URL is refused.
    const first = await upgradeStatus(url);
    expect(first).toBe(101);
    expect(await upgradeStatus(url)).toBe(401);
    expect(await upgradeStatus(`${simulator.baseUrl.replace("http", "ws")}/socket-mode/not-a-ticket`)).toBe(
      401,
    );
    expect(await upgradeStatus(`${simulator.baseUrl.replace("http", "ws")}/somewhere-else`)).toBe(404);
    expect(
      simulator.requests.filter((request) => request.method === "socket_mode").map((r) => r.status),
    ).toEqual([101, 401, 401]);
  });

  it("token checks: bot token not_allowed_token_type, none not_authed, wrong invalid_auth, as a parameter missing_args, GET insecure_request", async () => {
    const bot = await callApi(simulator, "apps.connections.open");
    expect(bot.body).toEqual({ ok: false, error: "not_allowed_token_type" });
    await expect(webClient(simulator).apps.connections.open()).rejects.toMatchObject({
      data: { ok: false, error: "not_allowed_token_type" },
    });
    expect((await callApi(simulator, "apps.connections.open", {}, { token: null })).body.error).toBe(
      "not_authed",
    );
    expect(
      (await callApi(simulator, "apps.connections.open", {}, { token: "xapp-1-A0SIMAPP-2-wrong" })).body
        .error,
    ).toBe("invalid_auth");
    expect(
      (
        await callApi(
          simulator,
          "apps.connections.open",
          {},
          { token: simulator.appToken, tokenAs: "argument" },
        )
      ).body.error,
    ).toBe("missing_args");
    expect(
      (
        await callApi(
          simulator,
          "apps.connections.open",
          {},
          { token: simulator.appToken, httpMethod: "GET" },
        )
      ).body.error,
    ).toBe("insecure_request");
    // The app-level token opens connections only: Web API methods refuse it.
    expect(
      (
        await callApi(
          simulator,
          "chat.postMessage",
          { channel: "C0SALES", text: "x" },
          { token: simulator.appToken },
        )
      ).body.error,
    ).toBe("not_allowed_token_type");
  });

  it("an app-level token without connections:write: missing_scope", async () => {
    const scopeless = await startSlackSimulator({ ...BASE_OPTIONS, appTokenScopes: ["authorizations:read"] });
    try {
      const answer = await callApi(scopeless, "apps.connections.open", {}, { token: scopeless.appToken });
      expect(answer.body).toEqual({
        ok: false,
        error: "missing_scope",
        needed: "connections:write",
        provided: "authorizations:read",
      });
      expect(answer.headers.get("x-oauth-scopes")).toBe("authorizations:read");
    } finally {
      await scopeless.close();
    }
  });

  it("rejects an appToken option that is not an app-level token", async () => {
    await expect(startSlackSimulator({ appToken: "xoxb-not-an-app-token" })).rejects.toThrow(
      /app-level token/,
    );
  });
});

describe("Slack simulator: the Socket Mode protocol (raw WebSocket client)", () => {
  let simulator: SlackSimulator;
  const clients: RawSocketModeClient[] = [];
  let bare: BareApp | undefined;

  beforeEach(async () => {
    simulator = await startSlackSimulator(BASE_OPTIONS);
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) await client.close();
    await bare?.close();
    bare = undefined;
    await simulator.close();
  });

  async function connect(urlSuffix?: string): Promise<RawSocketModeClient> {
    const client = await connectRawSocketMode(simulator, urlSuffix === undefined ? {} : { urlSuffix });
    clients.push(client);
    return client;
  }

  it("hello carries num_connections, debug_info and connection_info.app_id", async () => {
    const first = await connect();
    expect(first.hello).toEqual({
      type: "hello",
      num_connections: 1,
      debug_info: {
        host: expect.stringMatching(/^applink-/),
        started: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/),
        build_number: expect.any(Number),
        approximate_connection_time: 3600,
      },
      connection_info: { app_id: "A0SIMAPP" },
    });
    // Slack's docs: append `&debug_reconnects=true` for a 360 s connection.
    const second = await connect("&debug_reconnects=true");
    expect(second.hello).toMatchObject({
      num_connections: 2,
      debug_info: { approximate_connection_time: 360 },
    });
    expect(simulator.socketMode.connections()).toMatchObject([
      { state: "open", debugReconnects: false },
      { state: "open", debugReconnects: true },
    ]);
    expect(simulator.socketMode.enabled).toBe(true);
  });

  it("events go over the socket as events_api envelopes (not to the events URL) and the ack completes them", async () => {
    bare = await startBareApp(simulator.signingSecret);
    await simulator.configureApp({ eventsUrl: bare.url });
    const client = await connect();
    const posted = await simulator.users.post({
      user: "U0ALEX",
      channel: "C0SALES",
      text: "over the socket",
    });
    await eventually(() => expect(client.envelopes()).toHaveLength(1));
    const [envelope] = client.envelopes();
    expect(envelope).toEqual({
      envelope_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      payload: expect.objectContaining({
        type: "event_callback",
        team_id: "T0SIM",
        api_app_id: "A0SIMAPP",
        event_id: expect.stringMatching(/^Ev/),
        event: expect.objectContaining({ type: "message", text: "over the socket", ts: posted.ts }),
      }),
      type: "events_api",
      accepts_response_payload: false,
      retry_attempt: 0,
      retry_reason: "",
    });
    client.ack(envelope.envelope_id);
    await simulator.events.flush();
    expect(simulator.socketMode.deliveries).toMatchObject([
      {
        envelopeId: envelope.envelope_id,
        type: "events_api",
        name: "message",
        eventId: envelope.payload.event_id,
        connectionId: "SM1",
        retryAttempt: 0,
        outcome: "acked",
      },
    ]);
    expect(bare.received).toEqual([]);
    expect(simulator.events.deliveries).toEqual([]);
    expect(simulator.socketMode.connections()).toMatchObject([{ envelopesSent: 1, acksReceived: 1 }]);
  });

  it("an envelope without an ack is redelivered: new envelope_id, same event_id, retry_attempt 1..3, retry_reason timeout", async () => {
    simulator.events.configure({ ackTimeoutMs: 60 });
    const client = await connect();
    await simulator.users.post({ user: "U0ALEX", channel: "C0SALES", text: "nobody acks" });
    await simulator.events.flush();
    const envelopes = client.envelopes();
    expect(envelopes.map((envelope) => [envelope.retry_attempt, envelope.retry_reason])).toEqual([
      [0, ""],
      [1, "timeout"],
      [2, "timeout"],
      [3, "timeout"],
    ]);
    expect(new Set(envelopes.map((envelope) => envelope.envelope_id)).size).toBe(4);
    expect(new Set(envelopes.map((envelope) => envelope.payload.event_id)).size).toBe(1);
    expect(simulator.socketMode.deliveries.map((delivery) => delivery.outcome)).toEqual([
      "timeout",
      "timeout",
      "timeout",
      "timeout",
    ]);
    // A late ack does not undo the timeout; it is noted.
    client.ack(envelopes[0].envelope_id);
    await eventually(() => expect(simulator.socketMode.deliveries[0]?.acknowledgedLate).toBe(true));
  });

  it("acking a retry stops the redelivery", async () => {
    simulator.events.configure({ ackTimeoutMs: 60 });
    const client = await connect();
    client.socket.on("message", (data) => {
      const message = JSON.parse(String(data));
      if (message.retry_attempt === 1) client.ack(message.envelope_id);
    });
    await simulator.users.post({ user: "U0ALEX", channel: "C0SALES", text: "second time lucky" });
    await simulator.events.flush();
    expect(
      simulator.socketMode.deliveries.map((delivery) => [delivery.retryAttempt, delivery.outcome]),
    ).toEqual([
      [0, "timeout"],
      [1, "acked"],
    ]);
  });

  it("with several connections each envelope goes to one of them", async () => {
    let turn = 0;
    simulator.events.configure({ random: () => (turn++ % 2 === 0 ? 0.1 : 0.9) });
    const first = await connect();
    const second = await connect();
    for (const client of [first, second]) {
      client.socket.on("message", (data) => {
        const message = JSON.parse(String(data));
        if (typeof message.envelope_id === "string") client.ack(message.envelope_id);
      });
    }
    await simulator.users.post({ user: "U0ALEX", channel: "C0SALES", text: "one" });
    await simulator.users.post({ user: "U0ALEX", channel: "C0SALES", text: "two" });
    await simulator.events.flush();
    expect(first.envelopes().map((envelope) => envelope.payload.event.text)).toEqual(["one"]);
    expect(second.envelopes().map((envelope) => envelope.payload.event.text)).toEqual(["two"]);
  });

  it("disconnectAll(refresh_requested): the disconnect message, no more envelopes, closed after the grace period", async () => {
    simulator.socketMode.configure({ disconnectGraceMs: 100 });
    simulator.events.configure({ ackTimeoutMs: 60, retryDelaysMs: [0, 300, 600] });
    const old = await connect();
    expect(simulator.socketMode.disconnectAll("refresh_requested")).toBe(1);
    await eventually(() =>
      expect(old.messages.at(-1)).toEqual({
        type: "disconnect",
        reason: "refresh_requested",
        debug_info: { host: old.hello.debug_info.host },
      }),
    );
    expect(simulator.socketMode.connections()).toMatchObject([
      { state: "disconnecting", disconnectReason: "refresh_requested" },
    ]);
    // While only a disconnecting connection is open, an event cannot be delivered; it is retried.
    await simulator.users.post({ user: "U0ALEX", channel: "C0SALES", text: "during the refresh" });
    await eventually(() => expect(old.socket.readyState).toBe(old.socket.CLOSED));
    const fresh = await connect();
    fresh.socket.on("message", (data) => {
      const message = JSON.parse(String(data));
      if (typeof message.envelope_id === "string") fresh.ack(message.envelope_id);
    });
    await simulator.events.flush();
    expect(old.envelopes()).toEqual([]);
    expect(fresh.envelopes().map((envelope) => envelope.payload.event.text)).toEqual(["during the refresh"]);
    expect(simulator.socketMode.deliveries.map((delivery) => delivery.outcome)).toEqual(
      expect.arrayContaining(["no_connection", "acked"]),
    );
    expect(simulator.socketMode.deliveries.at(-1)).toMatchObject({
      outcome: "acked",
      retryReason: "timeout",
    });
  });

  it("a warning is followed by refresh_requested; the connection lifetime does the same on its own", async () => {
    simulator.socketMode.configure({ warningLeadMs: 80, disconnectGraceMs: 5_000 });
    const warned = await connect();
    simulator.socketMode.disconnectAll("warning");
    await eventually(() =>
      expect(warned.messages.filter((message) => message.type === "disconnect").map((m) => m.reason)).toEqual(
        ["warning", "refresh_requested"],
      ),
    );
    simulator.socketMode.configure({ connectionLifetimeSeconds: 0.3, warningLeadMs: 100 });
    const aging = await connect();
    expect(aging.hello.debug_info.approximate_connection_time).toBe(0);
    await eventually(() =>
      expect(aging.messages.filter((message) => message.type === "disconnect").map((m) => m.reason)).toEqual([
        "warning",
        "refresh_requested",
      ]),
    );
  });

  it("sends WebSocket pings and answers the app's pings with pongs", async () => {
    simulator.socketMode.configure({ pingIntervalMs: 20 });
    const client = await connect();
    await eventually(() => expect(client.pings).toBeGreaterThanOrEqual(2));
    const pong = new Promise<string>((resolve) =>
      client.socket.once("pong", (data) => resolve(String(data))),
    );
    client.socket.ping("are you there");
    expect(await pong).toBe("are you there");
  });

  it("events.deliver() sends any event over the socket, without an events URL", async () => {
    const client = await connect();
    const eventId = simulator.events.deliver({ type: "app_mention", user: "U0ALEX", text: "<@U0SIMBOT> hi" });
    await eventually(() =>
      expect(client.envelopes()).toMatchObject([
        { type: "events_api", payload: { event_id: eventId, event: { type: "app_mention" } } },
      ]),
    );
    client.ack(client.envelopes()[0].envelope_id);
    await simulator.events.flush();
    expect(simulator.socketMode.deliveries).toMatchObject([{ name: "app_mention", outcome: "acked" }]);
  });

  it("turning Socket Mode off sends link_disabled and events go to the events URL again", async () => {
    bare = await startBareApp(simulator.signingSecret);
    await simulator.configureApp({ eventsUrl: bare.url });
    const client = await connect();
    await simulator.configureApp({ socketMode: false });
    await eventually(() =>
      expect(client.messages.at(-1)).toMatchObject({ type: "disconnect", reason: "link_disabled" }),
    );
    expect(simulator.socketMode.enabled).toBe(false);
    await simulator.users.post({ user: "U0ALEX", channel: "C0SALES", text: "back to HTTP" });
    await simulator.events.flush();
    expect(bare.events().map((event) => event.event.text)).toEqual(["back to HTTP"]);
    expect(client.envelopes()).toEqual([]);
  });

  it("socketMode: true without a connection: events are retried, a slash command fails with connection_failed", async () => {
    await simulator.configureApp({ socketMode: true });
    expect(simulator.socketMode.enabled).toBe(true);
    await simulator.users.post({ user: "U0ALEX", channel: "C0SALES", text: "nobody listening" });
    await simulator.events.flush();
    expect(
      simulator.socketMode.deliveries.map((delivery) => [delivery.retryAttempt, delivery.outcome]),
    ).toEqual([
      [0, "no_connection"],
      [1, "no_connection"],
      [2, "no_connection"],
      [3, "no_connection"],
    ]);
    const command = await simulator.users.slashCommand({
      user: "U0ALEX",
      channel: "C0SALES",
      command: "/linq",
    });
    expect(command).toMatchObject({ status: null, error: "connection_failed", transport: "socket_mode" });
  });

  it("slash commands and interactions arrive as slash_commands / interactive envelopes; the ack payload is the answer", async () => {
    const client = await connect();
    client.socket.on("message", (data) => {
      const message = JSON.parse(String(data));
      if (message.type === "slash_commands") client.ack(message.envelope_id, { text: "Working on it" });
      if (message.type === "interactive") client.ack(message.envelope_id);
    });
    const command = await simulator.users.slashCommand({
      user: "U0ALEX",
      channel: "C0SALES",
      command: "/linq",
      text: "status",
    });
    expect(command).toMatchObject({
      status: 200,
      error: null,
      transport: "socket_mode",
      json: { text: "Working on it" },
    });
    const commandEnvelope = client.envelopes().find((envelope) => envelope.type === "slash_commands");
    expect(commandEnvelope).toEqual({
      envelope_id: command.envelopeId,
      payload: expect.objectContaining({
        command: "/linq",
        text: "status",
        channel_id: "C0SALES",
        user_id: "U0ALEX",
        response_url: command.responseUrl,
        trigger_id: command.triggerId,
      }),
      type: "slash_commands",
      accepts_response_payload: true,
    });
    expect(simulator.state.ephemeral("C0SALES")).toMatchObject([
      { text: "Working on it", source: "command_response" },
    ]);
    const shortcut = await simulator.users.shortcut({ user: "U0ALEX", callbackId: "link_number" });
    expect(shortcut).toMatchObject({ status: 200, transport: "socket_mode" });
    expect(client.envelopes().find((envelope) => envelope.type === "interactive")).toMatchObject({
      payload: { type: "shortcut", callback_id: "link_number", trigger_id: shortcut.triggerId },
      accepts_response_payload: false,
    });
  });

  it("a slash command without an ack in time: operation_timeout, and it is not redelivered", async () => {
    simulator.events.configure({ ackTimeoutMs: 60 });
    const client = await connect();
    const command = await simulator.users.slashCommand({
      user: "U0ALEX",
      channel: "C0SALES",
      command: "/slow",
    });
    expect(command).toMatchObject({ status: null, error: "operation_timeout", transport: "socket_mode" });
    await simulator.events.flush();
    expect(client.envelopes()).toHaveLength(1);
    expect(simulator.socketMode.deliveries).toMatchObject([
      { type: "slash_commands", name: "/slow", outcome: "timeout" },
    ]);
  });

  it("faults on the WebSocket upgrade (named socket_mode)", async () => {
    const { url } = await webClient(simulator, {}, simulator.appToken).apps.connections.open();
    simulator.faults.inject({ match: { method: "socket_mode" }, kind: "rate-limit", times: 1 });
    expect(await upgradeStatus(url as string)).toBe(429);
    simulator.faults.inject({ match: { method: "socket_mode" }, kind: "drop-connection", times: 1 });
    await expect(upgradeStatus(url as string)).rejects.toThrow();
    // The faults came before the ticket was looked at: it still opens a connection.
    expect(await upgradeStatus(url as string)).toBe(101);
    expect(
      simulator.requests.filter((request) => request.method === "socket_mode").map((r) => r.fault),
    ).toEqual(["rate-limit", "drop-connection", null]);
  });

  it("reset() forgets deliveries but keeps the connection and the toggle", async () => {
    const client = await connect();
    client.socket.on("message", (data) => {
      const message = JSON.parse(String(data));
      if (typeof message.envelope_id === "string") client.ack(message.envelope_id);
    });
    await simulator.users.post({ user: "U0ALEX", channel: "C0SALES", text: "before" });
    await simulator.events.flush();
    simulator.reset();
    expect(simulator.socketMode.deliveries).toEqual([]);
    expect(simulator.socketMode.connections()).toHaveLength(1);
    expect(simulator.socketMode.enabled).toBe(true);
    await simulator.users.post({ user: "U0ALEX", channel: "C0SALES", text: "after" });
    await simulator.events.flush();
    expect(simulator.socketMode.deliveries).toMatchObject([{ outcome: "acked" }]);
  });
});

describe("Slack simulator with a real Bolt app in Socket Mode", () => {
  let simulator: SlackSimulator;
  let bolt: SocketModeBoltHarness | undefined;

  beforeEach(async () => {
    simulator = await startSlackSimulator(BASE_OPTIONS);
  });
  afterEach(async () => {
    await bolt?.close();
    bolt = undefined;
    await simulator.close();
  });

  it("App({ socketMode: true }) connects and receives a user's thread reply", async () => {
    bolt = await startSocketModeBoltApp(simulator);
    expect(simulator.socketMode.connections()).toHaveLength(1);
    expect(simulator.requests.filter((request) => request.method === "apps.connections.open")).toMatchObject([
      { ok: true },
    ]);
    const received: MessageArgs["message"][] = [];
    bolt.app.message(async ({ message }) => {
      received.push(message);
    });
    const parent = await webClient(simulator).chat.postMessage({
      channel: "C0SALES",
      text: "New conversation",
    });
    const reply = await simulator.users.post({
      user: "U0ALEX",
      channel: "C0SALES",
      threadTs: parent.ts as string,
      text: "Thanks, on it",
    });
    await simulator.events.flush();
    await eventually(() => expect(received).toHaveLength(1));
    expect(received[0]).toMatchObject({
      type: "message",
      user: "U0ALEX",
      text: "Thanks, on it",
      ts: reply.ts,
      thread_ts: parent.ts,
    });
    // The bot's own post was delivered too (and acked); Bolt's ignoreSelf dropped it.
    expect(simulator.socketMode.deliveries.map((delivery) => [delivery.name, delivery.outcome])).toEqual([
      ["message", "acked"],
      ["message", "acked"],
    ]);
    expect(simulator.events.deliveries).toEqual([]);
    expect(bolt.errors).toEqual([]);
  });

  it("a slash command: ack() with a message answers at once, respond() posts to the response_url", async () => {
    bolt = await startSocketModeBoltApp(simulator);
    bolt.app.command("/linq", async ({ command, ack, respond }) => {
      await ack({ text: `Linking ${command.text}…` });
      await respond({ text: `Linked ${command.text} to this channel`, response_type: "in_channel" });
    });
    const result = await simulator.users.slashCommand({
      user: "U0ALEX",
      channel: "C0SALES",
      command: "/linq",
      text: "+1 555 0100",
    });
    expect(result).toMatchObject({
      status: 200,
      error: null,
      transport: "socket_mode",
      json: { text: "Linking +1 555 0100…" },
    });
    expect(simulator.state.ephemeral("C0SALES")).toMatchObject([
      { user: "U0ALEX", text: "Linking +1 555 0100…", source: "command_response" },
    ]);
    // The ack's message is the command's immediate response; respond() comes after it.
    await eventually(() =>
      expect(result.responses).toMatchObject([{ outcome: "ephemeral" }, { outcome: "in_channel" }]),
    );
    expect(simulator.state.messages("C0SALES")).toMatchObject([
      { text: "Linked +1 555 0100 to this channel", bot_id: "B0SIMBOT" },
    ]);
    // The command's envelope, then the in_channel message's own event (Bolt acks it and ignores itself).
    await simulator.events.flush();
    expect(simulator.socketMode.deliveries).toMatchObject([
      {
        type: "slash_commands",
        name: "/linq",
        outcome: "acked",
        ackPayload: { text: "Linking +1 555 0100…" },
      },
      { type: "events_api", name: "message", outcome: "acked" },
    ]);
  });

  it("a shortcut opens a modal and the view submission's ack carries response_action", async () => {
    bolt = await startSocketModeBoltApp(simulator);
    bolt.app.shortcut("link_number", async ({ ack, shortcut, client }) => {
      await ack();
      await client.views.open({
        trigger_id: shortcut.trigger_id,
        view: {
          type: "modal",
          callback_id: "link_modal",
          title: { type: "plain_text", text: "Link a number" },
          submit: { type: "plain_text", text: "Link" },
          blocks: [
            {
              type: "input",
              block_id: "number",
              label: { type: "plain_text", text: "Phone number" },
              element: { type: "plain_text_input", action_id: "value" },
            },
          ],
        },
      });
    });
    bolt.app.view("link_modal", async ({ ack, view }) => {
      const value = (view.state.values.number?.value as { value?: string } | undefined)?.value ?? "";
      if (value.startsWith("+")) await ack();
      else await ack({ response_action: "errors", errors: { number: "Use the E.164 format" } });
    });
    const shortcut = await simulator.users.shortcut({ user: "U0ALEX", callbackId: "link_number" });
    expect(shortcut).toMatchObject({ status: 200, transport: "socket_mode" });
    await eventually(() => expect(simulator.state.views()).toHaveLength(1));
    const viewId = simulator.state.views()[0]?.view.id as string;
    const rejected = await simulator.users.submitView({
      user: "U0ALEX",
      viewId,
      values: { number: { value: { type: "plain_text_input", value: "555" } } },
    });
    expect(rejected).toMatchObject({
      transport: "socket_mode",
      responseAction: "errors",
      errors: { number: "Use the E.164 format" },
      viewIsOpen: true,
    });
    const accepted = await simulator.users.submitView({
      user: "U0ALEX",
      viewId,
      values: { number: { value: { type: "plain_text_input", value: "+15550100" } } },
    });
    expect(accepted).toMatchObject({ status: 200, responseAction: null, viewIsOpen: false });
    expect(
      simulator.socketMode.deliveries.map((delivery) => [delivery.name, delivery.acceptsResponsePayload]),
    ).toEqual([
      ["shortcut", false],
      ["view_submission", true],
      ["view_submission", true],
    ]);
  });

  it("an event acked too late (slow authorize) is redelivered with retry_num 1 and retry_reason timeout", async () => {
    simulator.events.configure({ ackTimeoutMs: 200, retryDelaysMs: [0, 10, 10] });
    let authorizations = 0;
    bolt = await startSocketModeBoltApp(simulator, {
      authorize: async () => {
        authorizations += 1;
        // The first incoming event finds the installation store slow: Bolt acks after authorize.
        if (authorizations === 1) await new Promise((resolve) => setTimeout(resolve, 400));
        return { botToken: simulator.botToken, botId: simulator.botId, botUserId: simulator.botUserId };
      },
    });
    const seen: { eventId: string; retryNum: number | undefined; retryReason: string | undefined }[] = [];
    bolt.app.message(async ({ body, context }) => {
      seen.push({ eventId: body.event_id, retryNum: context.retryNum, retryReason: context.retryReason });
    });
    await simulator.users.post({ user: "U0ALEX", channel: "C0SALES", text: "slow start" });
    await simulator.events.flush();
    await eventually(() => expect(seen).toHaveLength(2));
    expect(new Set(seen.map((delivery) => delivery.eventId)).size).toBe(1);
    expect(seen.map((delivery) => delivery.retryNum).sort()).toEqual([0, 1]);
    expect(seen.find((delivery) => delivery.retryNum === 1)?.retryReason).toBe("timeout");
    await eventually(() =>
      expect(simulator.socketMode.deliveries).toMatchObject([
        { retryAttempt: 0, outcome: "timeout", acknowledgedLate: true },
        { retryAttempt: 1, retryReason: "timeout", outcome: "acked" },
      ]),
    );
  });

  it("reconnects after disconnect (refresh_requested); an event sent meanwhile arrives through a retry", async () => {
    simulator.events.configure({ retryDelaysMs: [0, 600, 1_500] });
    bolt = await startSocketModeBoltApp(simulator, { clientPingTimeoutMs: 300 });
    const texts: string[] = [];
    bolt.app.message(async ({ message }) => {
      texts.push((message as { text?: string }).text ?? "");
    });
    const [before] = simulator.socketMode.connections();
    expect(simulator.socketMode.disconnectAll("refresh_requested")).toBe(1);
    await simulator.users.post({ user: "U0ALEX", channel: "C0SALES", text: "while reconnecting" });
    await eventually(() => {
      const connections = simulator.socketMode.connections();
      expect(connections).toHaveLength(1);
      expect(connections[0]).toMatchObject({ state: "open" });
      expect(connections[0]?.id).not.toBe(before?.id);
    }, 5_000);
    await simulator.events.flush();
    await eventually(() => expect(texts).toEqual(["while reconnecting"]));
    const [after] = simulator.socketMode.connections();
    expect(simulator.socketMode.deliveries.at(-1)).toMatchObject({
      outcome: "acked",
      connectionId: after?.id,
      retryReason: "timeout",
    });
    expect(simulator.socketMode.deliveries.some((delivery) => delivery.outcome === "no_connection")).toBe(
      true,
    );
    expect(simulator.requests.filter((request) => request.method === "apps.connections.open")).toHaveLength(
      2,
    );
    await simulator.users.post({ user: "U0ALEX", channel: "C0SALES", text: "after the refresh" });
    await simulator.events.flush();
    await eventually(() => expect(texts).toEqual(["while reconnecting", "after the refresh"]));
  });
});
