import { createHmac } from "node:crypto";
import { ConfigurationError } from "@linq-connect/core";
import { describe, expect, it } from "vitest";
import { signSlackRequest } from "./simulator-signature.ts";
import { webClient } from "./slack-simulator.test-helpers.ts";
import { DEFAULT_BOT_SCOPES, startSlackSimulator } from "./slack-simulator.ts";

describe("Slack simulator: options, state copies and reset", () => {
  it("starts with the documented defaults", async () => {
    const simulator = await startSlackSimulator();
    try {
      expect(simulator.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(simulator.apiUrl).toBe(`${simulator.baseUrl}/api/`);
      expect(simulator.botToken).toMatch(/^xoxb-sim-/);
      expect([simulator.teamId, simulator.botUserId, simulator.botId, simulator.appId]).toEqual([
        "T0SIM",
        "U0SIMBOT",
        "B0SIMBOT",
        "A0SIMAPP",
      ]);
      expect(simulator.state.channels()).toEqual([
        {
          id: "C0GENERAL",
          name: "general",
          isPrivate: false,
          isArchived: false,
          botIsMember: true,
          members: ["U0ALEX", "U0SIMBOT"],
        },
      ]);
      const auth = await webClient(simulator).auth.test();
      expect(auth.response_metadata?.scopes).toEqual([...DEFAULT_BOT_SCOPES]);
    } finally {
      await simulator.close();
    }
  });

  it("refuses invalid options with ConfigurationError", async () => {
    const invalid = [
      { botToken: "xoxp-user-token" },
      { port: 70_000 },
      { teamId: "lowercase" },
      { channels: [{ id: "C0A", name: "Has Spaces" }] },
      {
        channels: [
          { id: "C0AAA", name: "a" },
          { id: "C0AAA", name: "b" },
        ],
      },
      { channels: [{ id: "C0AAA", name: "a", members: ["U0GHOST"] }] },
      {
        users: [
          { id: "U0ALEX", name: "a" },
          { id: "U0ALEX", name: "b" },
        ],
      },
      { eventsUrl: "not a url" },
      { eventsUrl: "ftp://example.com/events" },
      { eventSubscriptions: ["message.im"] },
      { maxUploadBytes: 0 },
      { eventDelivery: { ackTimeoutMs: 0 } },
      { eventDelivery: { duplicateProbability: 2 } },
    ];
    for (const options of invalid) {
      await expect(startSlackSimulator(options as never), JSON.stringify(options)).rejects.toThrow(
        ConfigurationError,
      );
    }
  });

  it("state views are copies; reset() restores channels and users and forgets the rest", async () => {
    const simulator = await startSlackSimulator({ rateLimits: false });
    try {
      const client = webClient(simulator);
      const { ts } = await client.chat.postMessage({ channel: "C0GENERAL", text: "original" });
      const copy = simulator.state.messages("C0GENERAL")[0];
      if (copy === undefined) throw new Error("missing message");
      copy.text = "changed by the test";
      simulator.state.channels()[0]?.members.push("U0INTRUDER");
      expect(simulator.state.message("C0GENERAL", ts as string)?.text).toBe("original");
      expect(simulator.state.channel("C0GENERAL")?.members).toEqual(["U0ALEX", "U0SIMBOT"]);
      simulator.channels.create({ id: "C0NEW", name: "new" });
      simulator.channels.removeBot("C0GENERAL");
      simulator.revokeToken();
      simulator.faults.inject({ kind: "server-error" });
      simulator.reset();
      expect(simulator.state.channels().map((channel) => [channel.id, channel.botIsMember])).toEqual([
        ["C0GENERAL", true],
      ]);
      expect(simulator.state.messages("C0GENERAL")).toEqual([]);
      expect(simulator.requests).toEqual([]);
      expect((await client.auth.test()).ok).toBe(true);
      expect(() => simulator.channels.create({ id: "C0GENERAL", name: "again" })).toThrow(ConfigurationError);
      expect(() => simulator.channels.archive("C0NOPE")).toThrow(ConfigurationError);
    } finally {
      await simulator.close();
    }
  });

  it("close() is idempotent", async () => {
    const simulator = await startSlackSimulator();
    await Promise.all([simulator.close(), simulator.close()]);
    await simulator.close();
  });
});

describe("signSlackRequest", () => {
  it("computes v0=HMAC-SHA256(secret, v0:timestamp:body)", () => {
    const headers = signSlackRequest({ signingSecret: "secret", body: "a=1", timestamp: 1_700_000_000 });
    expect(headers).toEqual({
      "x-slack-request-timestamp": "1700000000",
      "x-slack-signature": `v0=${createHmac("sha256", "secret").update("v0:1700000000:a=1").digest("hex")}`,
    });
  });
});
