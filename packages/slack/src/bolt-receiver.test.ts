import type { InboundRequest } from "@linq-connect/core";
import { LinqClient } from "@linq-connect/core";
import { describe, expect, it, onTestFinished } from "vitest";
import { ConnectorHarness, MemoryJobQueue, MemoryMappingStore } from "./connector-harness.test-helpers.ts";
import { createSlackConnector } from "./slack-connector.ts";
import { signSlackRequest, startSlackSimulator } from "./testing/index.ts";

const signingSecret = "receiver-test-signing-secret";

function setUp(
  api: { apiUrl: string; botToken: string } = {
    apiUrl: "http://127.0.0.1:9/api/",
    botToken: "xoxb-receiver-test",
  },
) {
  const connector = createSlackConnector({
    botToken: api.botToken,
    signingSecret,
    apiUrl: api.apiUrl,
    routes: [{ name: "sales", match: { linqNumbers: [] }, slack: { channel: "C0SALES" } }],
  });
  const harness = new ConnectorHarness({
    connector,
    linq: new LinqClient({ token: "unused", baseUrl: "http://127.0.0.1:9" }),
    store: new MemoryMappingStore(),
    routes: [],
    queue: new MemoryJobQueue(),
  });
  const route = (path: string) => {
    const found = connector.inboundRoutes?.find((candidate) => candidate.path === path);
    if (found === undefined) throw new Error(`no route ${path}`);
    return found;
  };
  return { connector, harness, route };
}

function request(
  body: string,
  options: {
    contentType?: string;
    timestamp?: number;
    secret?: string;
    headers?: Record<string, string>;
  } = {},
): InboundRequest {
  const signature = signSlackRequest({
    signingSecret: options.secret ?? signingSecret,
    body,
    ...(options.timestamp === undefined ? {} : { timestamp: options.timestamp }),
  });
  return {
    method: "POST",
    url: "/slack/events",
    headers: { "content-type": options.contentType ?? "application/json", ...signature, ...options.headers },
    rawBody: Buffer.from(body),
  };
}

describe("the inbound request receiver", () => {
  it("answers Slack's url_verification challenge", async () => {
    const { harness, route } = setUp();
    const answer = await route("/slack/events").handle(
      request(JSON.stringify({ type: "url_verification", challenge: "abc123", token: "t" })),
      harness.context(undefined),
    );
    expect(answer.status).toBe(200);
    expect(JSON.parse(String(answer.body))).toEqual({ challenge: "abc123" });
  });

  it("refuses a wrong signature, a stale timestamp and a missing signature with 401", async () => {
    const { harness, route } = setUp();
    const body = JSON.stringify({ type: "url_verification", challenge: "abc" });
    const wrong = await route("/slack/events").handle(
      request(body, { secret: "another-secret" }),
      harness.context(undefined),
    );
    expect(wrong.status).toBe(401);
    const stale = await route("/slack/events").handle(
      request(body, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 }),
      harness.context(undefined),
    );
    expect(stale.status).toBe(401);
    const future = await route("/slack/events").handle(
      request(body, { timestamp: Math.floor(Date.now() / 1000) + 10 * 60 }),
      harness.context(undefined),
    );
    expect(future.status).toBe(401);
    const unsigned = await route("/slack/events").handle(
      {
        method: "POST",
        url: "/slack/events",
        headers: { "content-type": "application/json" },
        rawBody: Buffer.from(body),
      },
      harness.context(undefined),
    );
    expect(unsigned.status).toBe(401);
  });

  it("answers a slash command's ack body, parsed from the form", async () => {
    const slack = await startSlackSimulator({ signingSecret });
    onTestFinished(() => slack.close());
    const { harness, route } = setUp(slack);
    const form = new URLSearchParams({
      command: "/linq",
      text: "help",
      channel_id: "C0SALES",
      user_id: "U0ALEX",
      team_id: "T0SIM",
      trigger_id: "1.2.3",
      response_url: "http://127.0.0.1:9/commands/x",
    }).toString();
    const answer = await route("/slack/commands").handle(
      request(form, { contentType: "application/x-www-form-urlencoded" }),
      harness.context(undefined),
    );
    expect(answer.status).toBe(200);
    const body = JSON.parse(String(answer.body)) as { response_type: string; text: string };
    expect(body.response_type).toBe("ephemeral");
    expect(body.text).toContain("/linq +15551234567 Hello");
  });

  it("answers 500 when a listener fails before its work is stored, so Slack retries", async () => {
    const { harness, route } = setUp();
    // auth.test cannot be reached (port 9): authorisation fails, the event is not processed.
    const body = JSON.stringify({
      type: "event_callback",
      team_id: "T0SIM",
      api_app_id: "A0",
      event_id: "Ev1",
      event_time: 1,
      event: {
        type: "message",
        channel: "C0SALES",
        user: "U0ALEX",
        text: "hi",
        ts: "1.000002",
        thread_ts: "1.000001",
      },
    });
    const answer = await route("/slack/events").handle(request(body), harness.context(undefined));
    expect(answer.status).toBe(500);
  });

  it("ignores ssl_check and refuses other methods", async () => {
    const { harness, route } = setUp();
    const check = await route("/slack/commands").handle(
      request("ssl_check=1&token=x", { contentType: "application/x-www-form-urlencoded" }),
      harness.context(undefined),
    );
    expect(check.status).toBe(200);
    const get = await route("/slack/events").handle(
      { ...request("{}"), method: "GET" },
      harness.context(undefined),
    );
    expect(get.status).toBe(405);
  });
});
