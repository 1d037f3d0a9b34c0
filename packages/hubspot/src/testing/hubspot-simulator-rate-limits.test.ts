import { afterEach, describe, expect, it, vi } from "vitest";
import { callApi, sdkClient, sdkFailure, testClock } from "./hubspot-simulator.test-helpers.ts";
import { startHubSpotSimulator } from "./hubspot-simulator.ts";
import type { HubSpotSimulator } from "./simulator-types.ts";

describe("HubSpot simulator: rate limits", () => {
  const started: HubSpotSimulator[] = [];
  const start = async (options: Parameters<typeof startHubSpotSimulator>[0]) => {
    const simulator = await startHubSpotSimulator(options);
    started.push(simulator);
    return simulator;
  };

  afterEach(async () => {
    vi.useRealTimers();
    vi.restoreAllMocks();
    await Promise.all(started.splice(0).map((simulator) => simulator.close()));
  });

  it("sends the X-HubSpot-RateLimit headers on every authenticated answer", async () => {
    const simulator = await start({ rateLimit: { requestsPer10Seconds: 190, dailyLimit: 1_000 } });
    const first = await callApi(simulator, "GET", "/crm/v3/objects/contacts");
    expect(
      Object.fromEntries([...first.headers].filter(([name]) => name.startsWith("x-hubspot-ratelimit"))),
    ).toEqual({
      "x-hubspot-ratelimit-daily": "1000",
      "x-hubspot-ratelimit-daily-remaining": "999",
      "x-hubspot-ratelimit-interval-milliseconds": "10000",
      "x-hubspot-ratelimit-max": "190",
      "x-hubspot-ratelimit-remaining": "189",
    });
    const notFound = await callApi(simulator, "GET", "/crm/v3/objects/contacts/123");
    expect(notFound.status).toBe(404);
    expect(notFound.headers.get("x-hubspot-ratelimit-remaining")).toBe("188");
  });

  it("TEN_SECONDLY_ROLLING: 429 with HubSpot's body and no Retry-After; the window rolls", async () => {
    const clock = testClock();
    const simulator = await start({ now: clock.now, rateLimit: { requestsPer10Seconds: 3 } });
    for (let index = 0; index < 3; index += 1) {
      expect((await callApi(simulator, "GET", "/crm/v3/objects/contacts")).status).toBe(200);
      clock.advance(1_000);
    }
    const limited = await callApi(simulator, "GET", "/crm/v3/objects/contacts");
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({
      status: "error",
      message: "You have reached your ten_secondly_rolling limit.",
      errorType: "RATE_LIMIT",
      correlationId: expect.any(String),
      policyName: "TEN_SECONDLY_ROLLING",
    });
    expect(limited.headers.get("retry-after")).toBeNull();
    expect(limited.headers.get("x-hubspot-ratelimit-remaining")).toBe("0");
    expect(simulator.requests.at(-1)?.rateLimitPolicy).toBe("TEN_SECONDLY_ROLLING");
    // The oldest request leaves the rolling window 10 s after it was made.
    clock.advance(7_000);
    expect((await callApi(simulator, "GET", "/crm/v3/objects/contacts")).status).toBe(200);
    expect((await callApi(simulator, "GET", "/crm/v3/objects/contacts")).status).toBe(429);
  });

  it("SECONDLY: search endpoints are limited to 5 per second on their own", async () => {
    const clock = testClock();
    const simulator = await start({ now: clock.now });
    const client = sdkClient(simulator);
    for (let index = 0; index < 5; index += 1) await client.crm.contacts.searchApi.doSearch({});
    const failure = await sdkFailure(client.crm.contacts.searchApi.doSearch({}));
    expect(failure.code).toBe(429);
    expect(failure.body).toMatchObject({
      message: "You have reached your secondly limit.",
      errorType: "RATE_LIMIT",
      policyName: "SECONDLY",
    });
    // Other endpoints are not affected, and another object type's search shares the limit.
    await client.crm.contacts.basicApi.getPage();
    expect((await sdkFailure(client.crm.companies.searchApi.doSearch({}))).code).toBe(429);
    clock.advance(1_000);
    await client.crm.contacts.searchApi.doSearch({});
  });

  it("DAILY: the quota runs out and resets at midnight UTC", async () => {
    const clock = testClock(Date.UTC(2026, 0, 15, 23, 59, 0));
    const simulator = await start({ now: clock.now, rateLimit: { dailyLimit: 2 } });
    await callApi(simulator, "GET", "/crm/v3/objects/contacts");
    await callApi(simulator, "GET", "/crm/v3/objects/contacts");
    const limited = await callApi(simulator, "GET", "/crm/v3/objects/contacts");
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({
      message: "You have reached your daily limit.",
      policyName: "DAILY",
    });
    expect(limited.headers.get("x-hubspot-ratelimit-daily-remaining")).toBe("0");
    clock.advance(60_000);
    expect((await callApi(simulator, "GET", "/crm/v3/objects/contacts")).status).toBe(200);
  });

  it("the SDK's numberOfApiCallRetries retries a search that hit the secondly limit (1 s, on fake timers)", async () => {
    const clock = testClock();
    const simulator = await start({ now: clock.now, rateLimit: { searchRequestsPerSecond: 1 } });
    vi.spyOn(console, "error").mockImplementation(() => {});
    const client = sdkClient(simulator, { numberOfApiCallRetries: 3 });
    await client.crm.contacts.searchApi.doSearch({});
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const retried = client.crm.contacts.searchApi.doSearch({});
    await vi.waitFor(() => expect(simulator.requests).toHaveLength(2), { interval: 5 });
    expect(simulator.requests[1]?.rateLimitPolicy).toBe("SECONDLY");
    clock.advance(1_000);
    await vi.advanceTimersByTimeAsync(1_000);
    vi.useRealTimers();
    await expect(retried).resolves.toMatchObject({ total: 0 });
    expect(simulator.requests.map((request) => request.status)).toEqual([200, 429, 200]);
  });

  it("the SDK's numberOfApiCallRetries waits out a TEN_SECONDLY_ROLLING 429 (10 s, on fake timers)", async () => {
    const clock = testClock();
    const simulator = await start({ now: clock.now, rateLimit: { requestsPer10Seconds: 1 } });
    vi.spyOn(console, "error").mockImplementation(() => {});
    const client = sdkClient(simulator, { numberOfApiCallRetries: 2 });
    await client.crm.contacts.basicApi.getPage();
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const retried = client.crm.contacts.basicApi.getPage();
    await vi.waitFor(() => expect(simulator.requests).toHaveLength(2), { interval: 5 });
    expect(simulator.requests[1]?.status).toBe(429);
    clock.advance(10_000);
    await vi.advanceTimersByTimeAsync(10_000);
    vi.useRealTimers();
    await expect(retried).resolves.toMatchObject({ results: [] });
    expect(simulator.requests.map((request) => request.status)).toEqual([200, 429, 200]);
  });

  it("rateLimit: false switches the limits (and their headers) off", async () => {
    const simulator = await start({ rateLimit: false });
    for (let index = 0; index < 12; index += 1) {
      const response = await callApi(simulator, "POST", "/crm/v3/objects/contacts/search", { body: {} });
      expect(response.status).toBe(200);
      expect(response.headers.get("x-hubspot-ratelimit-max")).toBeNull();
    }
  });
});
