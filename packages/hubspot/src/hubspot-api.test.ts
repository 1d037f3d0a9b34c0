import {
  AuthenticationError,
  NetworkError,
  ServerError,
  TimeoutError,
  ValidationError,
} from "@linq-connect/core";
import { afterEach, describe, expect, it } from "vitest";
import { createHubSpotClient, HubSpotApi, type HubSpotRequestInfo } from "./hubspot-api.ts";
import {
  HubSpotContactExistsError,
  HubSpotMissingScopesError,
  HubSpotRateLimitError,
} from "./hubspot-errors.ts";
import { HubSpotRateLimiter } from "./rate-limiter.ts";
import { startHubSpotSimulator } from "./testing/hubspot-simulator.ts";
import type { HubSpotSimulator, HubSpotSimulatorOptions } from "./testing/simulator-types.ts";

let simulator: HubSpotSimulator | undefined;
afterEach(async () => {
  await simulator?.close();
  simulator = undefined;
});

async function setup(
  options: HubSpotSimulatorOptions = {},
  api: Partial<{
    timeoutMs: number;
    token: string;
    maxRateLimitRetries: number;
    limiter: HubSpotRateLimiter;
  }> = {},
) {
  simulator = await startHubSpotSimulator({ rateLimit: false, ...options });
  const attempts: HubSpotRequestInfo[] = [];
  const client = createHubSpotClient({
    accessToken: api.token ?? simulator.accessToken,
    baseUrl: simulator.baseUrl,
    timeoutMs: api.timeoutMs ?? 5_000,
  });
  const hubspot = new HubSpotApi({
    client,
    limiter: api.limiter ?? new HubSpotRateLimiter({ requestsPer10Seconds: 100, searchPerSecond: 5 }),
    timeoutMs: api.timeoutMs ?? 5_000,
    maxRateLimitRetries: api.maxRateLimitRetries ?? 3,
    maxServerErrorRetries: 2,
    onRequestComplete: (info) => attempts.push(info),
  });
  return { simulator, hubspot, attempts };
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a failure");
}

describe("HubSpotApi: errors, retries and pacing against the simulator", () => {
  it("maps 401, 403 MISSING_SCOPES, 400, 404 and 409 to the core hierarchy", async () => {
    const { simulator: hubspotSimulator, hubspot } = await setup({ scopes: ["crm.objects.contacts.read"] });
    const denied = await failure(hubspot.createContact({ firstname: "Jane" }));
    expect(denied).toBeInstanceOf(HubSpotMissingScopesError);
    expect((denied as HubSpotMissingScopesError).requiredScopes).toContain("crm.objects.contacts.write");
    expect((denied as HubSpotMissingScopesError).isRetryable).toBe(false);
    expect((denied as HubSpotMissingScopesError).requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await hubspot.getContact("999999", { properties: ["email"] })).toBeUndefined();
    await hubspotSimulator.close();

    const second = await setup();
    const invalid = await failure(second.hubspot.createContact({ not_a_property: "x" }));
    expect(invalid).toBeInstanceOf(ValidationError);
    expect((invalid as ValidationError).fieldErrors[0]).toMatchObject({
      field: "not_a_property",
      code: "PROPERTY_DOESNT_EXIST",
    });
    const jane = second.simulator.crm.createContact({ email: "jane@example.com" });
    const conflict = await failure(second.hubspot.createContact({ email: "JANE@example.com" }));
    expect(conflict).toBeInstanceOf(HubSpotContactExistsError);
    expect((conflict as HubSpotContactExistsError).existingId).toBe(jane.id);
    await second.simulator.close();

    const third = await setup({}, { token: "pat-wrong" });
    const unauthenticated = await failure(third.hubspot.listContacts({ properties: [] }));
    expect(unauthenticated).toBeInstanceOf(AuthenticationError);
    expect(String((unauthenticated as Error).message)).not.toContain("pat-wrong");
  });

  it("retries a 429 after pausing the shared limiter, and gives up with a RateLimitError", async () => {
    const { simulator: hubspotSimulator, hubspot, attempts } = await setup({}, { maxRateLimitRetries: 2 });
    hubspotSimulator.faults.inject({ kind: "rate-limit", times: 2, policy: "SECONDLY" });
    const started = Date.now();
    await hubspot.listContacts({ properties: [] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
    expect(attempts.map((attempt) => attempt.status)).toEqual([429, 429, 200]);
    hubspotSimulator.faults.inject({
      kind: "rate-limit",
      times: 3,
      policy: "SECONDLY",
      retryAfterSeconds: 1,
    });
    const exhausted = await failure(hubspot.listContacts({ properties: [] }));
    expect(exhausted).toBeInstanceOf(HubSpotRateLimitError);
    expect((exhausted as HubSpotRateLimitError).isRetryable).toBe(true);
    expect((exhausted as HubSpotRateLimitError).retryAfter).toBe(1);
    expect((exhausted as HubSpotRateLimitError).policy).toBe("SECONDLY");
    hubspotSimulator.faults.inject({ kind: "rate-limit", times: 1, policy: "DAILY" });
    const daily = await failure(hubspot.listContacts({ properties: [] }));
    expect((daily as HubSpotRateLimitError).policy).toBe("DAILY");
    expect((daily as HubSpotRateLimitError).retryAfter).toBeGreaterThan(0);
  }, 15_000);

  it("retries 5xx and dropped connections for reads, never for creates", async () => {
    const { simulator: hubspotSimulator, hubspot, attempts } = await setup();
    hubspotSimulator.faults.inject({ match: { method: "GET" }, kind: "server-error", times: 1 });
    hubspotSimulator.faults.inject({ match: { method: "GET" }, kind: "drop-connection", times: 1 });
    await hubspot.listContacts({ properties: [] });
    expect(attempts.map((attempt) => attempt.status)).toEqual([500, undefined, 200]);

    hubspotSimulator.faults.inject({
      match: { method: "POST", path: /\/contacts$/ },
      kind: "bad-gateway",
      times: 1,
    });
    const badGateway = await failure(hubspot.createContact({ firstname: "Once" }));
    expect(badGateway).toBeInstanceOf(ServerError);
    expect((badGateway as ServerError).message).toContain("502 Bad Gateway");
    hubspotSimulator.faults.inject({
      match: { method: "POST", path: /\/contacts$/ },
      kind: "drop-after-processing",
      times: 1,
    });
    const dropped = await failure(hubspot.createContact({ firstname: "Processed" }));
    expect(dropped).toBeInstanceOf(NetworkError);
    expect(hubspotSimulator.state.contacts().map((contact) => contact.properties.firstname)).toEqual([
      "Processed",
    ]);
    expect(hubspotSimulator.requests.filter((request) => request.method === "POST")).toHaveLength(2);
  });

  it("times out a request that never answers", async () => {
    const { simulator: hubspotSimulator, hubspot } = await setup({}, { timeoutMs: 300 });
    hubspotSimulator.faults.inject({ match: { method: "POST" }, kind: "timeout", times: 1 });
    const timedOut = await failure(hubspot.createContact({ firstname: "Slow" }));
    expect(timedOut).toBeInstanceOf(TimeoutError);
    expect((timedOut as TimeoutError).isRetryable).toBe(true);
  });

  it("keeps searches under 5 per second and everything under the 10-second limit: no 429 from the simulator", async () => {
    const { simulator: hubspotSimulator, hubspot } = await setup({
      rateLimit: { requestsPer10Seconds: 100, searchRequestsPerSecond: 5 },
    });
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 12 }, () =>
        hubspot.searchContacts({ filterGroups: [], properties: ["email"], limit: 1 }),
      ),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    expect(hubspotSimulator.requests.filter((request) => request.status === 429)).toHaveLength(0);
  });
});

describe("HubSpotRateLimiter", () => {
  it("never lets more requests than the limit into any window, and serves callers in order", async () => {
    const limiter = new HubSpotRateLimiter({
      requestsPer10Seconds: 5,
      searchPerSecond: 5,
      windowMs: 200,
      marginMs: 10,
    });
    const granted: number[] = [];
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 15 }, (_, index) =>
        limiter.acquire(false).then(() => {
          granted.push(Date.now());
          order.push(index);
        }),
      ),
    );
    expect(order).toEqual([...order].sort((left, right) => left - right));
    for (const time of granted) {
      expect(granted.filter((other) => other >= time && other < time + 200).length).toBeLessThanOrEqual(5);
    }
    expect((granted.at(-1) ?? 0) - (granted[0] ?? 0)).toBeGreaterThanOrEqual(400);
    expect(limiter.stats()).toMatchObject({ granted: 15 });
  });

  it("stops everyone during a pause and can be aborted", async () => {
    const limiter = new HubSpotRateLimiter({ requestsPer10Seconds: 100, searchPerSecond: 5 });
    limiter.pause(150);
    const started = Date.now();
    await limiter.acquire(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    limiter.pause(10_000);
    const controller = new AbortController();
    const waiting = limiter.acquire(false, controller.signal);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: "aborted" });
  });
});
