import { ConfigurationError } from "@linq-connect/core";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { callApi, sdkClient, sdkFailure } from "./hubspot-simulator.test-helpers.ts";
import { startHubSpotSimulator } from "./hubspot-simulator.ts";
import type { HubSpotSimulator } from "./simulator-types.ts";

describe("HubSpot simulator: fault injection", () => {
  let simulator: HubSpotSimulator;

  beforeAll(async () => {
    simulator = await startHubSpotSimulator({ rateLimit: false });
  });
  afterAll(async () => {
    await simulator.close();
  });
  afterEach(() => {
    vi.restoreAllMocks();
    simulator.reset();
  });

  it("rate-limit: HubSpot's 429 body, Retry-After only when asked, before authentication, `times` honoured", async () => {
    const handle = simulator.faults.inject({ kind: "rate-limit", times: 2 });
    const first = await callApi(simulator, "GET", "/crm/v3/objects/contacts", { token: "wrong" });
    expect(first.status).toBe(429);
    expect(first.body).toMatchObject({ errorType: "RATE_LIMIT", policyName: "TEN_SECONDLY_ROLLING" });
    expect(first.headers.get("retry-after")).toBeNull();
    expect((await callApi(simulator, "GET", "/crm/v3/objects/contacts")).status).toBe(429);
    expect((await callApi(simulator, "GET", "/crm/v3/objects/contacts")).status).toBe(200);
    expect(handle.hits).toBe(2);
    simulator.faults.inject({ kind: "rate-limit", times: 1, retryAfterSeconds: 3, policy: "SECONDLY" });
    const withHeader = await callApi(simulator, "GET", "/crm/v3/objects/contacts");
    expect(withHeader.headers.get("retry-after")).toBe("3");
    expect(withHeader.body.message).toBe("You have reached your secondly limit.");
    expect(simulator.requests.map((request) => request.fault)).toEqual([
      "rate-limit",
      "rate-limit",
      null,
      "rate-limit",
    ]);
  });

  it("server-error: 500 with a JSON body; the SDK retries 5xx with numberOfApiCallRetries", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    simulator.faults.inject({ kind: "server-error", times: 1, match: { method: "POST" } });
    const client = sdkClient(simulator, { numberOfApiCallRetries: 2 });
    const created = await client.crm.contacts.basicApi.create({ properties: { email: "retry@example.com" } });
    expect(simulator.requests.map((request) => request.status)).toEqual([500, 201]);
    expect(simulator.state.contacts().map((contact) => contact.id)).toEqual([created.id]);
    simulator.faults.inject({ kind: "server-error", times: 1 });
    const failure = await sdkFailure(sdkClient(simulator).crm.contacts.basicApi.getPage());
    expect(failure.code).toBe(500);
    expect(failure.body).toMatchObject({ status: "error", category: "INTERNAL_ERROR" });
  });

  it("bad-gateway: 502 with an HTML body", async () => {
    simulator.faults.inject({ kind: "bad-gateway", times: 1 });
    const response = await callApi(simulator, "GET", "/crm/v3/objects/contacts");
    expect(response.status).toBe(502);
    expect(response.headers.get("content-type")).toBe("text/html;charset=utf-8");
    expect(response.text).toContain("502 Bad Gateway");
  });

  it("matches by method and path (string or RegExp) and leaves other requests alone; remove() stops it", async () => {
    const handle = simulator.faults.inject({
      kind: "server-error",
      match: { method: "post", path: /\/search$/ },
    });
    simulator.faults.inject({ kind: "bad-gateway", match: { path: "/crm/v3/owners" } });
    expect((await callApi(simulator, "POST", "/crm/v3/objects/contacts/search", { body: {} })).status).toBe(
      500,
    );
    expect(
      (await callApi(simulator, "POST", "/crm/v3/objects/contacts", { body: { properties: {} } })).status,
    ).toBe(201);
    expect((await callApi(simulator, "GET", "/crm/v3/owners")).status).toBe(502);
    expect((await callApi(simulator, "GET", "/crm/v3/owners/")).status).toBe(200);
    handle.remove();
    expect((await callApi(simulator, "POST", "/crm/v3/objects/contacts/search", { body: {} })).status).toBe(
      200,
    );
  });

  it("drop-connection: the socket is destroyed before anything is processed", async () => {
    simulator.faults.inject({ kind: "drop-connection", times: 1 });
    await expect(
      sdkClient(simulator).crm.contacts.basicApi.create({ properties: { email: "lost@example.com" } }),
    ).rejects.toThrow();
    expect(simulator.state.contacts()).toEqual([]);
    expect(simulator.requests.at(-1)).toMatchObject({ fault: "drop-connection", status: null });
  });

  it("drop-after-processing: the contact is created but the client gets no answer; its retry gets the 409 with the id", async () => {
    simulator.faults.inject({ kind: "drop-after-processing", times: 1, match: { method: "POST" } });
    const client = sdkClient(simulator);
    await expect(
      client.crm.contacts.basicApi.create({ properties: { email: "once@example.com" } }),
    ).rejects.toThrow();
    const stored = simulator.state.contacts();
    expect(stored).toHaveLength(1);
    expect(simulator.requests.at(-1)).toMatchObject({ fault: "drop-after-processing", status: 201 });
    const retry = await sdkFailure(
      client.crm.contacts.basicApi.create({ properties: { email: "once@example.com" } }),
    );
    expect(retry.code).toBe(409);
    expect(retry.body.message).toBe(`Contact already exists. Existing ID: ${stored[0]?.id}`);
  });

  it("timeout: never answers until the client gives up", async () => {
    simulator.faults.inject({ kind: "timeout", times: 1 });
    await expect(
      callApi(simulator, "GET", "/crm/v3/objects/contacts", { signal: AbortSignal.timeout(100) }),
    ).rejects.toThrow();
    expect(simulator.requests[0]).toMatchObject({ fault: "timeout", status: null });
    expect((await callApi(simulator, "GET", "/crm/v3/objects/contacts")).status).toBe(200);
  });

  it("latency: delays the answer, then answers normally", async () => {
    simulator.faults.inject({ kind: "latency", latencyMs: 120, times: 1 });
    const started = performance.now();
    expect((await callApi(simulator, "GET", "/crm/v3/objects/contacts")).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(100);
  });

  it("a hanging request does not keep close() waiting", async () => {
    const hanging = await startHubSpotSimulator();
    hanging.faults.inject({ kind: "timeout" });
    const request = callApi(hanging, "GET", "/crm/v3/objects/contacts").catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 30));
    await hanging.close();
    expect(await request).toBeInstanceOf(Error);
  });

  it("refuses invalid fault rules and options with ConfigurationError", async () => {
    expect(() => simulator.faults.inject({ kind: "explode" as never })).toThrow(ConfigurationError);
    expect(() => simulator.faults.inject({ kind: "rate-limit", times: -1 })).toThrow(ConfigurationError);
    expect(() => simulator.faults.inject({ kind: "rate-limit", retryAfterSeconds: 1.5 })).toThrow(
      ConfigurationError,
    );
    await expect(startHubSpotSimulator({ port: 70_000 })).rejects.toThrow(ConfigurationError);
    await expect(startHubSpotSimulator({ accessToken: "" })).rejects.toThrow(ConfigurationError);
    await expect(startHubSpotSimulator({ rateLimit: { requestsPer10Seconds: 0 } })).rejects.toThrow(
      ConfigurationError,
    );
    await expect(startHubSpotSimulator({ owners: [{ id: "x", email: "a@b.c" }] })).rejects.toThrow(
      ConfigurationError,
    );
    await expect(startHubSpotSimulator({ webhookUrl: "ftp://example.com" })).rejects.toThrow(
      ConfigurationError,
    );
    await expect(
      startHubSpotSimulator({ webhookSubscriptions: [{ subscriptionType: "contact.propertyChange" }] }),
    ).rejects.toThrow(ConfigurationError);
  });
});
