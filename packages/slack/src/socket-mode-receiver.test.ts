import { App } from "@slack/bolt";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { silentLogger } from "./connector-harness.test-helpers.ts";
import { AckAfterStoreSocketModeReceiver } from "./socket-mode-receiver.ts";
import { type SlackSimulator, startSlackSimulator } from "./testing/index.ts";
import { silentLogger as sdkLogger } from "./testing/slack-simulator.test-helpers.ts";

const sleep = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

describe("the Socket Mode receiver (real Bolt, the simulator's Socket Mode)", () => {
  let simulator: SlackSimulator;
  let app: App | undefined;

  beforeEach(async () => {
    simulator = await startSlackSimulator({
      rateLimits: false,
      channels: [{ id: "C0SALES", name: "sales" }],
      eventDelivery: { retryDelaysMs: [0, 10, 10], ackTimeoutMs: 400 },
    });
  });
  afterEach(async () => {
    await app?.stop();
    app = undefined;
    await simulator.close();
  });

  async function start(options: { authorize?: () => Promise<Record<string, string>> } = {}): Promise<App> {
    const receiver = new AckAfterStoreSocketModeReceiver({
      appToken: simulator.appToken,
      logger: silentLogger,
      sdkLogger,
      apiUrl: simulator.apiUrl,
      customProperties: () => ({}),
      ackTimeoutMs: 150,
    });
    const identity = { botToken: simulator.botToken, botId: simulator.botId, botUserId: simulator.botUserId };
    const started = new App({
      receiver,
      authorize: options.authorize ?? (async () => identity),
      logger: sdkLogger,
      clientOptions: { slackApiUrl: simulator.apiUrl, retryConfig: { retries: 0 } },
    });
    started.error(async (error) => {
      throw error;
    });
    await started.start();
    app = started;
    return started;
  }

  it("answers a command whose listener keeps working after ack() once the ack deadline passed, with its payload", async () => {
    const bolt = await start();
    let finished = false;
    bolt.command("/linq", async ({ ack }) => {
      await ack({ text: "On it" });
      await sleep(1_000);
      finished = true;
    });
    const startedAt = Date.now();
    const result = await simulator.users.slashCommand({
      user: "U0ALEX",
      channel: "C0SALES",
      command: "/linq",
    });
    expect(result).toMatchObject({ error: null, transport: "socket_mode", json: { text: "On it" } });
    expect(Date.now() - startedAt).toBeLessThan(900);
    expect(finished).toBe(false);
    expect(simulator.socketMode.deliveries).toMatchObject([
      { type: "slash_commands", outcome: "acked", ackPayload: { text: "On it" } },
    ]);
  });

  it("does not acknowledge a command whose listener failed before ack()", async () => {
    const bolt = await start();
    bolt.command("/linq", async () => {
      throw new Error("the database is unavailable");
    });
    const result = await simulator.users.slashCommand({
      user: "U0ALEX",
      channel: "C0SALES",
      command: "/linq",
    });
    expect(result).toMatchObject({ status: null, error: "operation_timeout", transport: "socket_mode" });
    expect(simulator.socketMode.deliveries).toMatchObject([{ type: "slash_commands", outcome: "timeout" }]);
  });

  it("acknowledges an event after its listener finished, and leaves it unacknowledged when the listener failed", async () => {
    const bolt = await start();
    const seen: { retryNum: number | undefined }[] = [];
    bolt.message(async ({ context }) => {
      seen.push({ retryNum: context.retryNum });
      await sleep(100);
      if (seen.length === 1) throw new Error("could not store the job");
    });
    await simulator.users.post({ user: "U0ALEX", channel: "C0SALES", text: "Hello" });
    await simulator.events.flush();
    expect(seen.map((delivery) => delivery.retryNum)).toEqual([0, 1]);
    expect(simulator.socketMode.deliveries).toMatchObject([
      { retryAttempt: 0, outcome: "timeout", acknowledgedLate: false },
      { retryAttempt: 1, retryReason: "timeout", outcome: "acked" },
    ]);
    expect(simulator.socketMode.deliveries[1]?.durationMs).toBeGreaterThanOrEqual(95);
  });

  it("leaves an event unacknowledged when authorize fails (Bolt's own receiver acks it), so it arrives again", async () => {
    let authorizations = 0;
    const bolt = await start({
      authorize: async () => {
        authorizations += 1;
        if (authorizations === 1) throw new Error("auth.test timed out");
        return { botToken: simulator.botToken, botId: simulator.botId, botUserId: simulator.botUserId };
      },
    });
    const seen: (number | undefined)[] = [];
    bolt.message(async ({ context }) => {
      seen.push(context.retryNum);
    });
    await simulator.users.post({ user: "U0ALEX", channel: "C0SALES", text: "Hi" });
    await simulator.events.flush();
    expect(seen).toEqual([1]);
    expect(
      simulator.socketMode.deliveries.map((delivery) => [delivery.retryAttempt, delivery.outcome]),
    ).toEqual([
      [0, "timeout"],
      [1, "acked"],
    ]);
  });
});
