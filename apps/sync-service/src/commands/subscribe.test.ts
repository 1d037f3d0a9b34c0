import { linqEventTypes, verifyWebhookSignature } from "@linq-connect/core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../cli.ts";
import {
  type CapturedStream,
  captureStream,
  expectNoSecrets,
  productionEnvironment,
  type SeededSimulator,
  startSeededSimulator,
} from "./command.test-helpers.ts";

describe("linq-sync subscribe", () => {
  let seeded: SeededSimulator;
  let environment: NodeJS.ProcessEnv;
  const outputs: string[] = [];
  const url = "https://sync.example.test/webhooks/linq";

  beforeAll(async () => {
    seeded = await startSeededSimulator();
    environment = productionEnvironment(seeded.simulator);
  });
  afterAll(async () => {
    expectNoSecrets(outputs, environment);
    await seeded.close();
  });
  beforeEach(() => seeded.simulator.reset());

  async function subscribe(
    argv: string[] = [],
    env: NodeJS.ProcessEnv = environment,
  ): Promise<{ code: number; stdout: CapturedStream; stderr: CapturedStream }> {
    const stdout = captureStream();
    const stderr = captureStream();
    const code = await runCli(["subscribe", ...argv], { environment: env, stdout, stderr });
    outputs.push(stdout.text, stderr.text);
    return { code, stdout, stderr };
  }

  it("creates the subscription once, then updates it in place: never a duplicate", async () => {
    const first = await subscribe();
    expect(first.code).toBe(0);
    expect(first.stdout.text).toMatch(/created subscription \d+ with all 13 event types/);
    let subscriptions = seeded.simulator.state.subscriptions();
    expect(subscriptions).toHaveLength(1);
    expect(subscriptions[0]).toMatchObject({ webhook_url: url, active: true, secret_configured: true });
    expect([...(subscriptions[0]?.events ?? [])].sort()).toEqual([...linqEventTypes].sort());

    const second = await subscribe();
    expect(second.code).toBe(0);
    expect(second.stdout.text).toMatch(/updated subscription \d+: re-send the signing secret/);
    subscriptions = seeded.simulator.state.subscriptions();
    expect(subscriptions).toHaveLength(1);
    const createdId = Number(first.stdout.text.match(/created subscription (\d+)/)?.[1]);
    expect(subscriptions[0]?.id).toBe(createdId);
    expect(second.stdout.text).toContain(`updated subscription ${createdId}`);
    // The update sent the secret again (Linq never returns it), so a rotated secret takes effect.
    const put = seeded.simulator.requests.filter((request) => request.method === "PUT");
    expect(put).toHaveLength(1);
    expect(put[0]?.body).toMatchObject({
      webhook_subscription: { secret: expect.any(String), active: true },
    });
  });

  it("sets LINQ_WEBHOOK_SECRET as the secret Linq signs with, also after a rotation", async () => {
    const secretOf = async (env: NodeJS.ProcessEnv) => {
      expect((await subscribe([], env)).code).toBe(0);
      const before = seeded.simulator.webhooks.deliveries.length;
      await seeded.simulator.inbound.text({ from: "+15557654321", text: "hello" });
      await seeded.simulator.webhooks.flush();
      const delivery = seeded.simulator.webhooks.deliveries
        .slice(before)
        .find((entry) => entry.attempt === 1);
      if (delivery === undefined) throw new Error("no webhook delivery was attempted");
      return delivery;
    };
    const first = await secretOf(environment);
    expect(() =>
      verifyWebhookSignature({
        rawBody: first.body,
        signatureHeader: first.signature,
        secret: String(environment.LINQ_WEBHOOK_SECRET),
      }),
    ).not.toThrow();
    const rotated = { ...environment, LINQ_WEBHOOK_SECRET: "whsec-rotated-0123456789abcdef" };
    const second = await secretOf(rotated);
    expect(() =>
      verifyWebhookSignature({
        rawBody: second.body,
        signatureHeader: second.signature,
        secret: "whsec-rotated-0123456789abcdef",
      }),
    ).not.toThrow();
    expect(seeded.simulator.state.subscriptions()).toHaveLength(1);
  });

  it("repairs an inactive subscription that lacks events, and leaves other URLs alone", async () => {
    const other = await seeded.linq.createWebhookSubscription({
      webhook_url: "https://other.example.test/hook",
      events: ["message.received"],
    });
    const stale = await seeded.linq.createWebhookSubscription({
      webhook_url: url,
      events: ["message.received", "message.sent"],
      active: false,
    });
    const result = await subscribe();
    expect(result.code).toBe(0);
    expect(result.stdout.text).toContain(`updated subscription ${stale.id}: re-activate it; add the events`);
    expect(result.stdout.text).toContain("set its signing secret (it had none)");
    expect(result.stdout.text).toContain("1 subscription for other URLs left as they are");
    const repaired = seeded.simulator.state.subscriptions().find((entry) => entry.id === stale.id);
    expect(repaired).toMatchObject({ active: true, secret_configured: true });
    expect(repaired?.events).toHaveLength(13);
    const untouched = seeded.simulator.state.subscriptions().find((entry) => entry.id === other.id);
    expect(untouched).toMatchObject({
      webhook_url: "https://other.example.test/hook",
      events: ["message.received"],
    });
  });

  it("keeps the oldest of duplicates, reports the others, and deletes them only with --remove-duplicates", async () => {
    const oldest = await seeded.linq.createWebhookSubscription({
      webhook_url: url,
      events: [...linqEventTypes],
    });
    seeded.advanceClock(60_000);
    const duplicate = await seeded.linq.createWebhookSubscription({
      webhook_url: url,
      events: [...linqEventTypes],
    });

    const reported = await subscribe();
    expect(reported.code).toBe(0);
    expect(reported.stdout.text).toContain(`updated subscription ${oldest.id}`);
    expect(reported.stdout.text).toContain(`warning: 1 more subscription for the same URL (${duplicate.id})`);
    expect(reported.stdout.text).toContain("--remove-duplicates");
    expect(seeded.simulator.state.subscriptions()).toHaveLength(2);

    const removed = await subscribe(["--remove-duplicates"]);
    expect(removed.code).toBe(0);
    expect(removed.stdout.text).toContain(`deleted duplicate subscription ${duplicate.id}`);
    expect(seeded.simulator.state.subscriptions().map((entry) => entry.id)).toEqual([oldest.id]);
  });

  it("changes nothing with --dry-run", async () => {
    const created = await subscribe(["--dry-run"]);
    expect(created.code).toBe(0);
    expect(created.stdout.text).toContain("[dry run] would create it with all 13 event types");
    expect(seeded.simulator.state.subscriptions()).toHaveLength(0);

    await seeded.linq.createWebhookSubscription({
      webhook_url: url,
      events: ["message.received"],
      active: false,
    });
    await seeded.linq.createWebhookSubscription({ webhook_url: url, events: ["message.received"] });
    const before = seeded.simulator.state.subscriptions();
    const planned = await subscribe(["--dry-run", "--remove-duplicates"]);
    expect(planned.code).toBe(0);
    expect(planned.stdout.text).toContain("[dry run] would update subscription");
    expect(planned.stdout.text).toContain("[dry run] would delete duplicate subscription");
    expect(planned.stdout.text).toContain("nothing was changed (dry run)");
    expect(seeded.simulator.state.subscriptions()).toEqual(before);
    expect(
      seeded.simulator.requests.filter((request) => request.method === "PUT" || request.method === "DELETE"),
    ).toEqual([]);
  });

  it("needs PUBLIC_URL and LINQ_API_TOKEN, and says so", async () => {
    const { PUBLIC_URL: _publicUrl, ...withoutPublicUrl } = environment;
    const noUrl = await subscribe([], withoutPublicUrl);
    expect(noUrl.code).toBe(1);
    expect(noUrl.stderr.text).toContain("PUBLIC_URL is required to subscribe to Linq webhooks");

    const { LINQ_API_TOKEN: _token, ...withoutToken } = environment;
    const noToken = await subscribe([], withoutToken);
    expect(noToken.code).toBe(1);
    expect(noToken.stderr.text).toContain("LINQ_API_TOKEN is not set");
    expect(seeded.simulator.state.subscriptions()).toHaveLength(0);
  });

  it("reports a rejected token as an error, exit code 1", async () => {
    const result = await subscribe([], { ...environment, LINQ_API_TOKEN: "not-the-simulator-token" });
    expect(result.code).toBe(1);
    expect(result.stderr.text).toMatch(/linq-sync: .*(401|unauthori|token)/i);
    expect(result.stderr.text).not.toContain("not-the-simulator-token");
  });
});
