import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from "@slack/bolt";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { signSlackRequest } from "./simulator-signature.ts";
import type { SlackSimulator } from "./simulator-types.ts";
import { type BoltHarness, eventually, startBoltApp, webClient } from "./slack-simulator.test-helpers.ts";
import { startSlackSimulator } from "./slack-simulator.ts";

type MessageArgs = SlackEventMiddlewareArgs<"message"> & AllMiddlewareArgs;

describe("Slack simulator with a real Bolt app (HTTP receiver)", () => {
  let simulator: SlackSimulator;
  let bolt: BoltHarness;

  beforeAll(async () => {
    simulator = await startSlackSimulator({
      rateLimits: false,
      channels: [{ id: "C0SALES", name: "sales" }],
      eventDelivery: { retryDelaysMs: [0, 5, 10], ackTimeoutMs: 1_000 },
    });
  });
  afterAll(async () => {
    await simulator.close();
  });
  beforeEach(() => {
    simulator.reset();
  });
  afterEach(async () => {
    await bolt?.close();
  });

  async function connect(
    options: { processBeforeResponse?: boolean; ignoreSelf?: boolean } = {},
  ): Promise<void> {
    bolt = await startBoltApp(simulator, options);
    await simulator.configureApp({
      eventsUrl: bolt.url,
      commandsUrl: bolt.url,
      interactionsUrl: bolt.url,
      verify: true,
    });
  }

  it("Bolt verifies the signature of users.post's message event and receives it (after auth.test)", async () => {
    await connect();
    const received: MessageArgs["message"][] = [];
    bolt.app.message(async ({ message }) => {
      received.push(message);
    });
    const posted = await simulator.users.post({
      user: "U0ALEX",
      channel: "C0SALES",
      text: "hello from Slack",
    });
    await simulator.events.flush();
    await eventually(() => expect(received).toHaveLength(1));
    expect(received[0]).toMatchObject({
      type: "message",
      text: "hello from Slack",
      user: "U0ALEX",
      ts: posted.ts,
    });
    expect(simulator.events.deliveries.at(-1)).toMatchObject({ status: 200, ok: true });
    // Bolt's authorize step called auth.test on the simulator.
    expect(simulator.requests.some((request) => request.method === "auth.test" && request.ok === true)).toBe(
      true,
    );
    expect(bolt.errors).toEqual([]);
  });

  it("a tampered or stale signature is rejected by Bolt", async () => {
    await connect();
    const body = JSON.stringify({ type: "event_callback", event: { type: "message", text: "forged" } });
    const good = signSlackRequest({ signingSecret: simulator.signingSecret, body });
    const tampered = await fetch(bolt.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...good,
        "x-slack-signature": `${good["x-slack-signature"].slice(0, -4)}beef`,
      },
      body,
    });
    expect(tampered.status).toBe(401);
    const stale = signSlackRequest({
      signingSecret: simulator.signingSecret,
      body,
      timestamp: Math.floor(Date.now() / 1000) - 10 * 60,
    });
    expect(
      (
        await fetch(bolt.url, {
          method: "POST",
          headers: { "content-type": "application/json", ...stale },
          body,
        })
      ).status,
    ).toBe(401);
    const wrongSecret = signSlackRequest({ signingSecret: "not-the-secret", body });
    expect(
      (
        await fetch(bolt.url, {
          method: "POST",
          headers: { "content-type": "application/json", ...wrongSecret },
          body,
        })
      ).status,
    ).toBe(401);
  });

  it("the app's own posts come back as events with bot_id (seen when ignoreSelf is off)", async () => {
    await connect({ ignoreSelf: false });
    const received: Record<string, unknown>[] = [];
    bolt.app.message(async ({ message }) => {
      received.push(message as unknown as Record<string, unknown>);
    });
    bolt.app.message("ping", async ({ message, client }) => {
      const { ts } = message as { ts: string };
      await client.chat.postMessage({ channel: "C0SALES", thread_ts: ts, text: "pong" });
    });
    await simulator.users.post({ user: "U0ALEX", channel: "C0SALES", text: "ping" });
    await eventually(async () => {
      await simulator.events.flush();
      expect(received.map((message) => message.text)).toEqual(["ping", "pong"]);
    });
    expect(received[1]).toMatchObject({ bot_id: "B0SIMBOT", user: "U0SIMBOT", app_id: "A0SIMAPP" });
    const thread = simulator.state.thread("C0SALES", simulator.state.messages("C0SALES")[0]?.ts as string);
    expect(thread.map((message) => message.text)).toEqual(["ping", "pong"]);
  });

  it("with ignoreSelf (the default) Bolt drops its own messages: the loop stops", async () => {
    await connect();
    let handled = 0;
    bolt.app.message(async ({ message, client }) => {
      handled += 1;
      await client.chat.postMessage({
        channel: "C0SALES",
        text: `echo of ${(message as { text?: string }).text}`,
      });
    });
    await simulator.users.post({ user: "U0ALEX", channel: "C0SALES", text: "once" });
    await eventually(async () => {
      await simulator.events.flush();
      expect(simulator.state.messages("C0SALES")).toHaveLength(2);
    });
    await simulator.events.flush();
    expect(handled).toBe(1);
    expect(simulator.events.deliveries.filter((delivery) => delivery.type === "message")).toHaveLength(2);
  });

  it("a slash command round trip: ack() within 3 s, then respond() to the response_url", async () => {
    await connect();
    bolt.app.command("/linq", async ({ command, ack, respond }) => {
      await ack();
      await respond({ text: `Linked ${command.text} to this channel`, response_type: "ephemeral" });
      await respond({ text: "Posted for everyone", response_type: "in_channel" });
    });
    const result = await simulator.users.slashCommand({
      user: "U0ALEX",
      channel: "C0SALES",
      command: "/linq",
      text: "+1 555 0100",
    });
    expect(result).toMatchObject({ status: 200, error: null, body: "" });
    expect(result.responseUrl).toMatch(new RegExp(`^${simulator.baseUrl}/commands/T0SIM/`));
    await eventually(() => expect(result.responses).toHaveLength(2));
    expect(result.responses.map((response) => response.outcome)).toEqual(["ephemeral", "in_channel"]);
    expect(simulator.state.ephemeral("C0SALES")).toMatchObject([
      { user: "U0ALEX", text: "Linked +1 555 0100 to this channel", source: "response_url" },
    ]);
    expect(simulator.state.messages("C0SALES")).toMatchObject([
      { text: "Posted for everyone", bot_id: "B0SIMBOT" },
    ]);
  });

  it("ack() with a message answers the command at once (ephemeral by default)", async () => {
    await connect();
    bolt.app.command("/linq", async ({ ack }) => {
      await ack({ text: "Working on it" });
    });
    const result = await simulator.users.slashCommand({
      user: "U0ALEX",
      channel: "C0SALES",
      command: "/linq",
    });
    expect(result.status).toBe(200);
    expect(result.json).toMatchObject({ text: "Working on it" });
    expect(simulator.state.ephemeral("C0SALES")).toMatchObject([
      { text: "Working on it", source: "command_response" },
    ]);
  });

  it("an app that does not ack within 3 s: operation_timeout", async () => {
    await connect();
    simulator.events.configure({ ackTimeoutMs: 100 });
    bolt.app.command("/slow", async ({ ack }) => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      await ack();
    });
    const result = await simulator.users.slashCommand({
      user: "U0ALEX",
      channel: "C0SALES",
      command: "/slow",
    });
    expect(result).toMatchObject({ status: null, error: "operation_timeout" });
    simulator.events.configure({ ackTimeoutMs: 1_000 });
  });

  it("an event handler that fails (processBeforeResponse) gets a 500 and Slack retries with X-Slack-Retry-Num", async () => {
    await connect({ processBeforeResponse: true });
    const retryNumbers: (number | undefined)[] = [];
    let failures = 1;
    bolt.app.message(async ({ context }) => {
      retryNumbers.push(context.retryNum);
      if (failures > 0) {
        failures -= 1;
        throw new Error("database unavailable");
      }
    });
    await simulator.users.post({ user: "U0ALEX", channel: "C0SALES", text: "retry" });
    await simulator.events.flush();
    expect(retryNumbers).toEqual([undefined, 1]);
    expect(bolt.errors).toHaveLength(1);
    const messages = simulator.events.deliveries.filter((delivery) => delivery.type === "message");
    expect(messages.map((delivery) => [delivery.status, delivery.retryReason])).toEqual([
      [500, null],
      [200, "http_error"],
    ]);
  });

  it("a global shortcut opens a modal (views.open with the trigger_id) and the submission is handled", async () => {
    await connect();
    const submissions: Record<string, unknown>[] = [];
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
      if (!value.startsWith("+")) {
        await ack({ response_action: "errors", errors: { number: "Use the E.164 format" } });
        return;
      }
      submissions.push(view.state.values);
      await ack();
    });
    const shortcut = await simulator.users.shortcut({ user: "U0ALEX", callbackId: "link_number" });
    expect(shortcut.status).toBe(200);
    await eventually(() => expect(simulator.state.views()).toHaveLength(1));
    const [opened] = simulator.state.views();
    expect(opened).toMatchObject({
      user: "U0ALEX",
      isOpen: true,
      view: { callback_id: "link_modal", type: "modal" },
    });
    const viewId = opened?.view.id as string;
    const rejected = await simulator.users.submitView({
      user: "U0ALEX",
      viewId,
      values: { number: { value: { type: "plain_text_input", value: "555" } } },
    });
    expect(rejected).toMatchObject({
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
    expect(submissions).toEqual([{ number: { value: { type: "plain_text_input", value: "+15550100" } } }]);
    // The trigger id was used once; a second views.open with it is refused.
    const client = webClient(simulator);
    await expect(
      client.views.open({
        trigger_id: shortcut.triggerId,
        view: { type: "modal", title: { type: "plain_text", text: "x" }, blocks: [] },
      }),
    ).rejects.toMatchObject({ data: { error: "exchanged_trigger_id" } });
  });

  it("a message shortcut carries the message and a response_url that can replace the app's message", async () => {
    await connect();
    const posted = await webClient(simulator).chat.postMessage({ channel: "C0SALES", text: "Status: open" });
    bolt.app.shortcut("close_chat", async ({ ack, respond }) => {
      await ack();
      await respond({ replace_original: true, text: "Status: closed" });
    });
    const result = await simulator.users.shortcut({
      user: "U0ALEX",
      callbackId: "close_chat",
      channel: "C0SALES",
      messageTs: posted.ts as string,
    });
    expect(result.status).toBe(200);
    await eventually(() => expect(result.responses).toMatchObject([{ outcome: "replaced" }]));
    expect(simulator.state.message("C0SALES", posted.ts as string)).toMatchObject({ text: "Status: closed" });
  });
});
