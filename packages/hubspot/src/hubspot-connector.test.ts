import { assertConnector, ConfigurationError, NetworkError } from "@linq-connect/core";
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, linqEvent, startHarness } from "./connector-harness.test-helpers.ts";
import { createHubSpotConnector } from "./hubspot-connector.ts";
import { toHubSpotError } from "./hubspot-errors.ts";
import { validateHubSpotRouteSettings } from "./settings.ts";
import { startHubSpotSimulator } from "./testing/hubspot-simulator.ts";

function configurationError(run: () => unknown): ConfigurationError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigurationError) return error;
    throw error;
  }
  throw new Error("expected a ConfigurationError");
}

describe("createHubSpotConnector", () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it("implements the connector contract", () => {
    const connector = createHubSpotConnector({
      accessToken: "pat-x",
      clientSecret: "s",
      reconciliationIntervalSeconds: 60,
    });
    assertConnector(connector);
    expect(connector.name).toBe("hubspot");
    expect(connector.events).toEqual([
      "contact.created",
      "contact.updated",
      "contact.deleted",
      "message.received",
      "message.sent",
      "call.completed",
    ]);
    expect(connector.inboundRoutes?.map((route) => `${route.method} ${route.path}`)).toEqual([
      "POST /webhooks/hubspot",
    ]);
    expect(connector.schedules?.map((task) => [task.name, task.intervalSeconds])).toEqual([
      ["hubspot-reconciliation", 60],
    ]);
  });

  it("validates its settings with errors that name the setting and never echo a secret", () => {
    const missing = configurationError(() => createHubSpotConnector({}));
    expect(missing.message).toContain("accessToken is required");
    const tooFast = configurationError(() =>
      createHubSpotConnector({ accessToken: "pat-secret-token", rateLimit: { requestsPer10Seconds: 500 } }),
    );
    expect(tooFast.message).toContain("rateLimit.requestsPer10Seconds");
    expect(tooFast.message).toContain("190");
    expect(tooFast.message).not.toContain("pat-secret-token");
    const badSecret = configurationError(() =>
      createHubSpotConnector({ accessToken: "pat-secret-token", clientSecret: "", baseUrl: "not a url" }),
    );
    expect(badSecret.message).toContain("clientSecret");
    expect(badSecret.message).toContain("baseUrl");
    const badDefaults = configurationError(() =>
      createHubSpotConnector({ accessToken: "pat-x", defaults: { channelType: "IMESSAGE" as never } }),
    );
    expect(badDefaults.message).toContain("defaults.channelType");
  });

  it("validates route settings strictly (unknown keys, property names, time zones)", () => {
    const route = (settings: Record<string, unknown>) => ({ name: "sales", settings });
    expect(
      validateHubSpotRouteSettings(route({ activities: "daily-digest", digestTimeZone: "Europe/Paris" })),
    ).toMatchObject({
      activities: "daily-digest",
      digestTimeZone: "Europe/Paris",
      contacts: "two-way",
      channelType: "SMS",
    });
    expect(
      configurationError(() => validateHubSpotRouteSettings(route({ chanelType: "SMS" }))).message,
    ).toContain('Route "sales" has invalid HubSpot settings');
    expect(
      configurationError(() =>
        validateHubSpotRouteSettings(route({ fieldMapping: { phone_number: "Mobile Phone" } })),
      ).message,
    ).toContain("hubspot.fieldMapping.phone_number");
    expect(
      configurationError(() => validateHubSpotRouteSettings(route({ digestTimeZone: "Mars/Olympus" })))
        .message,
    ).toContain("hubspot.digestTimeZone");
    expect(
      validateHubSpotRouteSettings(route({ fieldMapping: { location: null, phone_number: "mobilephone" } }))
        .fieldMapping,
    ).toMatchObject({ location: null, phone_number: "mobilephone", first_name: "firstname" });
  });

  it("shares one rate limiter per private app across connector instances in the process", () => {
    const first = createHubSpotConnector({ accessToken: "pat-shared", reconciliationIntervalSeconds: false });
    const second = createHubSpotConnector({
      accessToken: "pat-shared",
      reconciliationIntervalSeconds: false,
    });
    const other = createHubSpotConnector({ accessToken: "pat-other", reconciliationIntervalSeconds: false });
    expect(first.api.limiter).toBe(second.api.limiter);
    expect(first.api.limiter).not.toBe(other.api.limiter);
  });

  it("throws non-retryable errors for what a retry cannot fix (the host dead-letters), retryable ones otherwise", async () => {
    harness = await startHarness({ hubspot: { scopes: ["crm.objects.contacts.read"] }, linqWebhooks: false });
    const event = linqEvent("contact.created", { id: 1, first_name: "Jane", phone_number: "+15551234567" });
    harness.dispatch(event);
    await harness.settle();
    expect(harness.runner.deadLetters).toHaveLength(1);
    expect(harness.runner.deadLetters[0]?.error).toMatchObject({ code: "permission_error" });
    expect(harness.runner.handled.filter((entry) => entry.outcome === "retry")).toHaveLength(0);
    expect(
      toHubSpotError(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }), "x"),
    ).toBeInstanceOf(NetworkError);
  });

  it("a 5xx on a create is retried by the host, after search had a minute to show a possible result", async () => {
    let offset = 0;
    harness = await startHarness({
      linqWebhooks: false,
      connector: { now: () => new Date(Date.now() + offset) },
    });
    harness.hubspot.faults.inject({
      match: { method: "POST", path: /\/contacts$/ },
      kind: "server-error",
      times: 1,
    });
    harness.dispatch(
      linqEvent("contact.created", { id: 1, first_name: "Jane", phone_number: "+15551234567" }),
    );
    while (harness.runner.handled.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    // The 500 may have created it: nothing is created again while search could still be lagging…
    expect(
      harness.hubspot.requests.filter(
        (request) => request.method === "POST" && request.path.endsWith("/contacts"),
      ),
    ).toHaveLength(1);
    offset = 61_000; // …and once a minute has passed, the retry creates it.
    await harness.settle();
    expect(harness.runner.handled.map((entry) => entry.outcome).at(-1)).toBe("ok");
    expect(harness.runner.handled[0]?.outcome).toBe("retry");
    expect(harness.hubspot.state.contacts()).toHaveLength(1);
  });

  it("a create whose answer was lost is not repeated blindly while search still lags: one contact", async () => {
    harness = await startHarness({ linqWebhooks: false, hubspot: { searchIndexLagMs: 2_500 } });
    harness.hubspot.faults.inject({
      match: { method: "POST", path: /\/contacts$/ },
      kind: "drop-after-processing",
      times: 1,
    });
    harness.dispatch(
      linqEvent("contact.created", { id: 1, first_name: "Jane", phone_number: "+15551234567" }),
    );
    await harness.settle();
    expect(harness.hubspot.state.contacts()).toHaveLength(1);
    const outcomes = harness.runner.handled.map((entry) => entry.outcome);
    expect(outcomes[0]).toBe("retry");
    expect(outcomes.at(-1)).toBe("ok");
    expect(harness.runner.deadLetters).toEqual([]);
  }, 20_000);

  it("checkHealth: token, scopes, mapped properties and webhook settings", async () => {
    const simulator = await startHubSpotSimulator({
      rateLimit: false,
      scopes: ["crm.objects.contacts.read", "crm.schemas.contacts.read", "crm.objects.owners.read"],
    });
    try {
      const context = {
        linq: undefined as never,
        store: undefined as never,
        logger: undefined as never,
        signal: new AbortController().signal,
        enqueue: async () => {},
      };
      const connector = createHubSpotConnector({
        accessToken: simulator.accessToken,
        baseUrl: simulator.baseUrl,
        reconciliationIntervalSeconds: false,
        routes: [{ name: "sales", settings: { fieldMapping: { title: "linq_title" } } }],
      });
      const results = await connector.checkHealth?.(context);
      const byName = Object.fromEntries((results ?? []).map((result) => [result.name, result]));
      expect(byName["hubspot token"]?.ok).toBe(true);
      expect(byName["hubspot scopes"]).toMatchObject({ ok: false });
      expect(byName["hubspot scopes"]?.detail).toContain("crm.objects.contacts.write");
      expect(byName["hubspot contact properties"]).toMatchObject({ ok: false });
      expect(byName["hubspot contact properties"]?.detail).toContain("linq_title");
      expect(byName["hubspot webhooks"]).toMatchObject({ ok: false });
      await connector.close?.();

      const wrongToken = createHubSpotConnector({
        accessToken: "pat-wrong",
        baseUrl: simulator.baseUrl,
        reconciliationIntervalSeconds: false,
      });
      const refused = await wrongToken.checkHealth?.(context);
      expect(refused).toEqual([expect.objectContaining({ name: "hubspot token", ok: false })]);
      await wrongToken.close?.();
    } finally {
      await simulator.close();
    }
  });

  it("checkHealth is green with every scope, the default mapping and a client secret", async () => {
    const simulator = await startHubSpotSimulator({ rateLimit: false });
    try {
      const connector = createHubSpotConnector({
        accessToken: simulator.accessToken,
        clientSecret: simulator.clientSecret,
        appId: simulator.appId,
        baseUrl: simulator.baseUrl,
        reconciliationIntervalSeconds: false,
      });
      const results = await connector.checkHealth?.({
        linq: undefined as never,
        store: undefined as never,
        logger: undefined as never,
        signal: new AbortController().signal,
        enqueue: async () => {},
      });
      expect(results?.filter((result) => !result.ok)).toEqual([]);
      await connector.close?.();
    } finally {
      await simulator.close();
    }
  });
});
