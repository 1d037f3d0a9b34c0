import { ConfigurationError } from "@linq-connect/core";
import { describe, expect, it } from "vitest";
import { parseConnectorSettings, parseRouteSettings, resolveRouteDefinitions } from "./settings.ts";
import { createSlackConnector } from "./slack-connector.ts";

describe("connector settings", () => {
  it("names the bad setting and never echoes a token", () => {
    const secret = "not-a-token-9f8e7d6c5b4a";
    let error: unknown;
    try {
      parseConnectorSettings({ botToken: secret });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toContain("botToken must be a Slack bot token starting with xoxb-");
    expect((error as Error).message).not.toContain(secret);
    expect(() => parseConnectorSettings({ botToken: "xoxb-1", appToken: "xoxb-2" })).toThrow(
      /appToken must be an app-level token/,
    );
    expect(() => parseConnectorSettings({ botToken: "xoxb-1", timeoutMs: -1 })).toThrow(
      /timeoutMs must be positive/,
    );
    expect(() => parseConnectorSettings({ botToken: "xoxb-1", socketMode: true })).toThrow(
      /socketMode needs appToken/,
    );
    expect(() => parseConnectorSettings({ botToken: "xoxb-1", apiUrl: "slack" })).toThrow(
      /apiUrl must be an absolute/,
    );
  });

  it("chooses the transport from the credentials", () => {
    expect(createSlackConnector({ botToken: "xoxb-1", signingSecret: "0123456789abcdef" }).transport).toBe(
      "http",
    );
    expect(createSlackConnector({ botToken: "xoxb-1", appToken: "xapp-1-A-1-abc" }).transport).toBe(
      "socket-mode",
    );
    const none = createSlackConnector({ botToken: "xoxb-1" });
    expect(none.transport).toBe("none");
    expect(none.inboundRoutes).toEqual([]);
    const http = createSlackConnector({ botToken: "xoxb-1", signingSecret: "0123456789abcdef" });
    expect(http.inboundRoutes?.map((route) => `${route.method} ${route.path}`)).toEqual([
      "POST /slack/events",
      "POST /slack/commands",
      "POST /slack/interactions",
    ]);
    expect(http.name).toBe("slack");
    expect(http.events).toContain("message.received");
  });
});

describe("route settings", () => {
  it("applies the routing file's defaults", () => {
    expect(parseRouteSettings({ channel: "C0SALES" }, "sales")).toEqual({
      channel: "C0SALES",
      internalPrefix: "note:",
      mode: "two-way",
      reactions: {},
      postTypingIndicators: false,
    });
    expect(
      parseRouteSettings({ channel: "G0PRIV", reactions: { love: ":sparkling_heart:" } }, "x").reactions,
    ).toEqual({
      love: "sparkling_heart",
    });
  });

  it("names the route and the setting that is wrong", () => {
    expect(() => parseRouteSettings({ channel: "#sales" }, "sales")).toThrow(
      /Route "sales" has invalid Slack settings: slack.channel: expected a Slack channel ID/,
    );
    expect(() => parseRouteSettings({ channel: "C0SALES", mode: "loud" }, "sales")).toThrow(/slack.mode/);
    expect(() =>
      resolveRouteDefinitions([{ name: "x", match: { linqNumbers: [] }, slack: { channel: "nope" } }]),
    ).toThrow(ConfigurationError);
  });
});

describe("Socket Mode start", () => {
  it("fails start() with a ConfigurationError that says what to check when the app token is refused", async () => {
    const { startSlackSimulator } = await import("./testing/index.ts");
    const slack = await startSlackSimulator();
    try {
      const connector = createSlackConnector({
        botToken: slack.botToken,
        appToken: "xapp-1-A0SIMAPP-2-wrong",
        apiUrl: slack.apiUrl,
      });
      const context = {
        linq: undefined as never,
        store: undefined as never,
        logger: { debug() {}, info() {}, warn() {}, error() {}, child: () => context.logger },
        signal: new AbortController().signal,
        enqueue: async () => undefined,
      };
      await expect(connector.start(context)).rejects.toThrow(
        /Socket Mode could not connect.*SLACK_APP_TOKEN/,
      );
      await connector.close();
    } finally {
      await slack.close();
    }
  });
});
