import { ConfigurationError } from "@linq-connect/core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { SlackSimulator } from "./simulator-types.ts";
import { type BareApp, callApi, startBareApp } from "./slack-simulator.test-helpers.ts";
import { startSlackSimulator } from "./slack-simulator.ts";

const MODAL = {
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
};

describe("Slack simulator: slash commands, shortcuts, views and response URLs (raw)", () => {
  let now = new Date("2026-03-01T12:00:00Z");
  let simulator: SlackSimulator;
  let app: BareApp;

  beforeAll(async () => {
    simulator = await startSlackSimulator({
      rateLimits: false,
      now: () => now,
      channels: [{ id: "C0SALES", name: "sales" }],
    });
  });
  afterAll(async () => {
    await simulator.close();
  });
  beforeEach(async () => {
    now = new Date("2026-03-01T12:00:00Z");
    app = await startBareApp(simulator.signingSecret);
    await simulator.configureApp({ commandsUrl: app.url, interactionsUrl: app.url });
  });
  afterEach(async () => {
    simulator.reset();
    await app.close();
  });

  async function openModal(): Promise<string> {
    const shortcut = await simulator.users.shortcut({ user: "U0ALEX", callbackId: "open" });
    const opened = await callApi(simulator, "views.open", { trigger_id: shortcut.triggerId, view: MODAL });
    expect(opened.body.ok).toBe(true);
    return opened.body.view.id;
  }

  it("a slash command is a signed form POST with Slack's fields", async () => {
    const result = await simulator.users.slashCommand({
      user: "U0ALEX",
      channel: "C0SALES",
      command: "/linq",
      text: "status",
    });
    const [request] = app.received;
    expect(request?.signatureValid).toBe(true);
    expect(request?.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(request?.body).toEqual({
      token: simulator.verificationToken,
      team_id: "T0SIM",
      team_domain: "simulated",
      channel_id: "C0SALES",
      channel_name: "sales",
      user_id: "U0ALEX",
      user_name: "alex",
      command: "/linq",
      text: "status",
      api_app_id: "A0SIMAPP",
      is_enterprise_install: "false",
      response_url: result.responseUrl,
      trigger_id: result.triggerId,
    });
    expect(result.triggerId).toMatch(/^\d+\.\d+\.[0-9a-f]{32}$/);
  });

  it("response URLs: ephemeral by default, in_channel, replace_original, 5 uses, then used_url; bad bodies are refused", async () => {
    const { responseUrl, responses } = await simulator.users.slashCommand({
      user: "U0ALEX",
      channel: "C0SALES",
      command: "/linq",
    });
    const post = (body: unknown) =>
      fetch(responseUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    expect((await post({ text: "only you" })).status).toBe(200);
    expect((await post({ text: "replaced", replace_original: true })).status).toBe(200);
    expect((await post({ text: "for everyone", response_type: "in_channel" })).status).toBe(200);
    const invalid = await post({ blocks: "nope" });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toEqual({ ok: false, error: "invalid_payload" });
    expect((await post({})).status).toBe(400);
    expect((await post({ text: "four" })).status).toBe(200);
    expect((await post({ text: "five" })).status).toBe(200);
    const sixth = await post({ text: "six" });
    expect(sixth.status).toBe(404);
    expect(await sixth.json()).toEqual({ ok: false, error: "used_url" });
    expect(simulator.state.ephemeral("C0SALES").map((message) => message.text)).toEqual([
      "replaced",
      "four",
      "five",
    ]);
    expect(simulator.state.messages("C0SALES").map((message) => message.text)).toEqual(["for everyone"]);
    expect(responses.map((response) => response.outcome)).toEqual([
      "ephemeral",
      "replaced",
      "in_channel",
      "rejected",
      "rejected",
      "ephemeral",
      "ephemeral",
      "rejected",
    ]);
    expect(
      (await fetch(`${simulator.baseUrl}/commands/T0SIM/1/unknown`, { method: "POST", body: "{}" })).status,
    ).toBe(404);
  });

  it("response URLs: delete_original removes the last response; an in_channel reply can go to a thread", async () => {
    const parent = await simulator.users.post({ user: "U0ALEX", channel: "C0SALES", text: "parent" });
    const { responseUrl, responses } = await simulator.users.slashCommand({
      user: "U0ALEX",
      channel: "C0SALES",
      command: "/linq",
    });
    const post = (body: unknown) =>
      fetch(responseUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    await post({ delete_original: true });
    await post({ text: "threaded", response_type: "in_channel", thread_ts: parent.ts });
    await post({ delete_original: "true" });
    expect(responses.map((response) => response.outcome)).toEqual(["rejected", "in_channel", "deleted"]);
    expect(simulator.state.thread("C0SALES", parent.ts).map((message) => message.text)).toEqual(["parent"]);
  });

  it("response URLs expire after 30 minutes", async () => {
    const { responseUrl } = await simulator.users.slashCommand({
      user: "U0ALEX",
      channel: "C0SALES",
      command: "/linq",
    });
    now = new Date(now.getTime() + 31 * 60_000);
    const late = await fetch(responseUrl, { method: "POST", body: JSON.stringify({ text: "late" }) });
    expect(late.status).toBe(404);
    expect(await late.json()).toEqual({ ok: false, error: "expired_url" });
  });

  it("an app error status is reported as is; an unreachable app as connection_failed", async () => {
    app.respond = () => ({ status: 500, body: "boom" });
    expect(
      await simulator.users.slashCommand({ user: "U0ALEX", channel: "C0SALES", command: "/linq" }),
    ).toMatchObject({
      status: 500,
      body: "boom",
      error: null,
    });
    await simulator.configureApp({ commandsUrl: "http://127.0.0.1:9/slack/events" });
    expect(
      await simulator.users.slashCommand({ user: "U0ALEX", channel: "C0SALES", command: "/linq" }),
    ).toMatchObject({
      status: null,
      error: "connection_failed",
    });
    await simulator.configureApp({ commandsUrl: null });
    await expect(
      simulator.users.slashCommand({ user: "U0ALEX", channel: "C0SALES", command: "/linq" }),
    ).rejects.toThrow(ConfigurationError);
  });

  it("shortcut payloads (global and message) as the payload form field", async () => {
    const posted = await simulator.users.post({ user: "U0ALEX", channel: "C0SALES", text: "look" });
    await simulator.users.shortcut({ user: "U0ALEX", callbackId: "global" });
    const messageShortcut = await simulator.users.shortcut({
      user: "U0ALEX",
      callbackId: "on_message",
      channel: "C0SALES",
      messageTs: posted.ts,
    });
    expect(app.received[0]?.body).toMatchObject({
      type: "shortcut",
      callback_id: "global",
      team: { id: "T0SIM", domain: "simulated" },
      user: { id: "U0ALEX", username: "alex", team_id: "T0SIM" },
      trigger_id: expect.any(String),
    });
    expect(app.received[1]?.body).toMatchObject({
      type: "message_action",
      callback_id: "on_message",
      message_ts: posted.ts,
      message: { text: "look", user: "U0ALEX" },
      channel: { id: "C0SALES", name: "sales" },
      response_url: messageShortcut.responseUrl,
    });
    expect(app.received.every((request) => request.signatureValid)).toBe(true);
  });

  it("views.open: trigger ids are single-use and expire after 3 s; views are validated", async () => {
    const expired = await simulator.users.shortcut({ user: "U0ALEX", callbackId: "x" });
    now = new Date(now.getTime() + 3_500);
    expect(
      (await callApi(simulator, "views.open", { trigger_id: expired.triggerId, view: MODAL })).body.error,
    ).toBe("expired_trigger_id");
    expect(
      (await callApi(simulator, "views.open", { trigger_id: "123.456.abc", view: MODAL })).body.error,
    ).toBe("invalid_trigger_id");
    expect((await callApi(simulator, "views.open", { view: MODAL })).body).toEqual({
      ok: false,
      error: "invalid_arguments",
      response_metadata: { messages: ["[ERROR] missing required field: trigger_id"] },
    });
    const shortcut = await simulator.users.shortcut({ user: "U0ALEX", callbackId: "x" });
    const invalid = await callApi(simulator, "views.open", {
      trigger_id: shortcut.triggerId,
      view: {
        type: "modal",
        title: { type: "plain_text", text: "A title that is far too long" },
        blocks: MODAL.blocks,
      },
    });
    expect(invalid.body).toEqual({
      ok: false,
      error: "invalid_arguments",
      response_metadata: {
        messages: [
          "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]",
          "[ERROR] must provide submit when using input blocks [json-pointer:/view/submit]",
        ],
      },
    });
    // A refused view does not use the trigger.
    const opened = await callApi(
      simulator,
      "views.open",
      { trigger_id: shortcut.triggerId, view: MODAL },
      { json: true },
    );
    expect(opened.body.view).toMatchObject({
      id: expect.stringMatching(/^V[A-Z0-9]+$/),
      type: "modal",
      callback_id: "link_modal",
      state: { values: {} },
      app_id: "A0SIMAPP",
      bot_id: "B0SIMBOT",
      root_view_id: opened.body.view.id,
    });
    expect(
      (await callApi(simulator, "views.open", { trigger_id: shortcut.triggerId, view: MODAL })).body.error,
    ).toBe("exchanged_trigger_id");
  });

  it("views.update by view_id or external_id, with hash_conflict and not_found", async () => {
    const viewId = await openModal();
    const before = simulator.state.views()[0]?.view.hash;
    const updated = await callApi(simulator, "views.update", {
      view_id: viewId,
      hash: before,
      view: { ...MODAL, title: { type: "plain_text", text: "Linked" }, external_id: "link-1" },
    });
    expect(updated.body).toMatchObject({
      ok: true,
      view: { id: viewId, title: { text: "Linked" }, external_id: "link-1" },
    });
    expect(
      (await callApi(simulator, "views.update", { view_id: viewId, hash: before, view: MODAL })).body.error,
    ).toBe("hash_conflict");
    expect((await callApi(simulator, "views.update", { external_id: "link-1", view: MODAL })).body.ok).toBe(
      true,
    );
    expect((await callApi(simulator, "views.update", { view_id: "V0NOPE", view: MODAL })).body.error).toBe(
      "not_found",
    );
  });

  it("view submissions: errors keep the modal open, update replaces it, clear closes everything, an empty 200 closes it", async () => {
    const viewId = await openModal();
    app.respond = (request) => {
      const value = request.body.view?.state?.values?.number?.value?.value as string;
      if (value === "bad")
        return {
          status: 200,
          body: JSON.stringify({ response_action: "errors", errors: { number: "Nope" } }),
        };
      if (value === "update") {
        return {
          status: 200,
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            response_action: "update",
            view: { ...MODAL, title: { type: "plain_text", text: "Step 2" } },
          }),
        };
      }
      return { status: 200 };
    };
    const values = (value: string) => ({ number: { value: { type: "plain_text_input", value } } });
    expect(await simulator.users.submitView({ user: "U0ALEX", viewId, values: values("bad") })).toMatchObject(
      {
        responseAction: "errors",
        errors: { number: "Nope" },
        viewIsOpen: true,
      },
    );
    const submission = app.received.at(-1)?.body;
    expect(submission).toMatchObject({
      type: "view_submission",
      user: { id: "U0ALEX" },
      api_app_id: "A0SIMAPP",
      view: { id: viewId, callback_id: "link_modal", state: { values: values("bad") } },
    });
    expect(
      await simulator.users.submitView({ user: "U0ALEX", viewId, values: values("update") }),
    ).toMatchObject({
      responseAction: "update",
      viewIsOpen: true,
    });
    expect(simulator.state.views()[0]?.view.title).toEqual({ type: "plain_text", text: "Step 2" });
    expect(
      await simulator.users.submitView({ user: "U0ALEX", viewId, values: values("+15550100") }),
    ).toMatchObject({
      responseAction: null,
      viewIsOpen: false,
    });
    await expect(simulator.users.submitView({ user: "U0ALEX", viewId })).rejects.toThrow(/No open view/);
  });
});
