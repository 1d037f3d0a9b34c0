// `checkHealth` of the Salesforce connector against the Salesforce simulator: signing in, API usage,
// the mapped fields, the external id field and the Task picklists, as `linq-sync doctor` shows them.
import type { ConnectorContext, HealthCheckResult } from "@linq-connect/core";
import { afterEach, describe, expect, it } from "vitest";
import { MemoryMappingStore, memoryLogger } from "./connector-harness.test-helpers.ts";
import { createSalesforceConnector, type SalesforceConnectorOptions } from "./salesforce-connector.ts";
import { startSalesforceSimulator } from "./testing/salesforce-simulator.ts";
import type { SalesforceSimulator, SalesforceSimulatorOptions } from "./testing/simulator-types.ts";

const simulators: SalesforceSimulator[] = [];

afterEach(async () => {
  for (const simulator of simulators.splice(0)) await simulator.close();
});

function context(): ConnectorContext {
  return {
    linq: undefined as never,
    store: new MemoryMappingStore(),
    logger: memoryLogger([]),
    signal: new AbortController().signal,
    enqueue: async () => {
      throw new Error("a health check must not enqueue work");
    },
  };
}

/** The results of `checkHealth` against a fresh simulator, signed in with a refresh token. */
async function check(
  options: {
    salesforce?: SalesforceSimulatorOptions;
    connector?: Partial<SalesforceConnectorOptions>;
    before?: (simulator: SalesforceSimulator) => void | Promise<void>;
  } = {},
): Promise<{ results: HealthCheckResult[]; simulator: SalesforceSimulator; secrets: string[] }> {
  const simulator = await startSalesforceSimulator(options.salesforce);
  simulators.push(simulator);
  const refreshToken = simulator.issueRefreshToken();
  const accessToken = simulator.issueAccessToken();
  const connector = createSalesforceConnector({
    instanceUrl: simulator.instanceUrl,
    loginUrl: simulator.loginUrl,
    clientId: simulator.clientId,
    clientSecret: simulator.clientSecret,
    refreshToken,
    accessToken,
    pollIntervalSeconds: false,
    maxRetries: 0,
    timeoutMs: 5_000,
    ...options.connector,
  });
  await options.before?.(simulator);
  const results = (await connector.checkHealth?.(context())) ?? [];
  return { results, simulator, secrets: [refreshToken, accessToken, simulator.clientSecret] };
}

const byName = (results: HealthCheckResult[], name: string) => {
  const result = results.find((candidate) => candidate.name === name);
  if (result === undefined) {
    throw new Error(`no result ${name} in ${results.map((candidate) => candidate.name).join(", ")}`);
  }
  return result;
};

describe("checkHealth", () => {
  it("passes on a standard org and says how it signed in, without a token", async () => {
    const { results, simulator, secrets } = await check();
    expect(results.map((result) => result.name)).toEqual([
      "salesforce sign-in",
      "salesforce API usage",
      "salesforce Contact fields",
      "salesforce Task fields",
      "salesforce Task picklists",
    ]);
    expect(results.filter((result) => !result.ok)).toEqual([]);
    expect(byName(results, "salesforce sign-in").detail).toBe(
      `signed in to ${simulator.instanceUrl} (API v62.0) with the OAuth refresh token (sessions renew by themselves)`,
    );
    expect(byName(results, "salesforce API usage").detail).toMatch(
      /^1 of 15000 daily API requests used \(0%\)$/,
    );
    expect(byName(results, "salesforce Contact fields").detail).toBe(
      "all 6 mapped fields exist and are updateable",
    );
    const text = JSON.stringify(results);
    for (const secret of secrets) expect(text).not.toContain(secret);
    // Health checks only read.
    expect(simulator.requests.filter((request) => request.method !== "GET")).toEqual([]);
  });

  it("names mapped fields that do not exist or cannot be updated, per object", async () => {
    const { results } = await check({
      connector: {
        defaults: {
          objectType: "Lead",
          fieldMapping: { location: "Region__c", title: "Name" },
          contactDeleted: { setField: { name: "Linq_Deleted__c", value: "true" } },
        },
      },
    });
    const lead = byName(results, "salesforce Lead fields");
    expect(lead.ok).toBe(false);
    expect(lead.detail).toBe(
      "mapped fields that do not exist on Lead: Region__c, Linq_Deleted__c; mapped fields the connected user cannot update: Name",
    );
    expect(lead.fix).toMatch(/Object Manager → Lead → Fields & Relationships/);
    expect(results.some((result) => result.name === "salesforce Contact fields")).toBe(false);
  });

  it("checks that the external id field exists and is an External ID", async () => {
    const missing = await check({ connector: { externalIdField: "Linq_Id__c" } });
    expect(byName(missing.results, "salesforce Contact external id")).toMatchObject({
      ok: false,
      detail: "Contact.Linq_Id__c does not exist",
    });

    const plain = await check({
      salesforce: { customFields: { Contact: [{ name: "Linq_Id__c", type: "string" }] } },
      connector: { externalIdField: "Linq_Id__c" },
    });
    expect(byName(plain.results, "salesforce Contact external id")).toMatchObject({
      ok: false,
      detail: "Contact.Linq_Id__c exists but is not an External ID field",
    });

    const good = await check({
      salesforce: {
        customFields: { Contact: [{ name: "Linq_Id__c", type: "string", externalId: true, unique: true }] },
      },
      connector: { externalIdField: "Linq_Id__c" },
    });
    expect(byName(good.results, "salesforce Contact external id").ok).toBe(true);
    expect(good.results.filter((result) => !result.ok)).toEqual([]);
  });

  it("names the Task picklist values the connector writes that the org lacks", async () => {
    const { results } = await check({
      salesforce: {
        picklists: {
          "Task.Status": { values: ["Open", "Done"], defaultValue: "Open" },
          "Task.CallType": ["Internal", "Inbound"],
        },
      },
    });
    expect(byName(results, "salesforce Task picklists")).toMatchObject({
      ok: false,
      detail:
        'picklist values the connector writes that are not active: Status "Completed", CallType "Outbound"',
    });
    expect(byName(results, "salesforce Task fields").ok).toBe(true);
  });

  it("skips Tasks when no route logs activities, and checks a configured owner", async () => {
    const { results, simulator } = await check({
      connector: { defaults: { activities: "off", ownerId: "005000000000000AAA" } },
    });
    expect(results.some((result) => result.name.startsWith("salesforce Task"))).toBe(false);
    expect(byName(results, "salesforce owner")).toMatchObject({
      ok: false,
      detail: "ownerId 005000000000000AAA is not an active User of the org",
    });
    const rep = simulator.users.list()[1];
    if (rep === undefined) throw new Error("the simulator has no second user");
    const owned = await check({ connector: { defaults: { ownerId: rep.id } } });
    expect(byName(owned.results, "salesforce owner").ok).toBe(true);
    expect(byName(owned.results, "salesforce Task fields").detail).toContain("OwnerId");
  });

  it("fails when the daily API usage is above the slow-down share", async () => {
    const { results } = await check({
      salesforce: { dailyApiLimit: 10 },
      before: async (simulator) => {
        const token = simulator.issueAccessToken();
        for (let index = 0; index < 8; index += 1) {
          const response = await fetch(`${simulator.instanceUrl}/services/data/v62.0/limits`, {
            headers: { authorization: `Bearer ${token}` },
          });
          expect(response.status).toBe(200);
        }
      },
    });
    expect(byName(results, "salesforce API usage")).toMatchObject({
      ok: false,
      detail:
        "9 of 10 daily API requests used (90%): above 80% the connector spaces its calls out, and near the limit work waits",
    });
  });

  it("reports refused credentials with what to do for each way of signing in", async () => {
    const expired = await check({
      connector: { refreshToken: undefined, clientId: undefined, clientSecret: undefined },
      before: (simulator) => simulator.expireAllTokens(),
    });
    expect(expired.results).toHaveLength(1);
    expect(expired.results[0]).toMatchObject({ name: "salesforce sign-in", ok: false });
    expect(expired.results[0]?.detail).toMatch(/^Salesforce refused the credentials \(an access token\)/);
    expect(expired.results[0]?.fix).toMatch(/SALESFORCE_REFRESH_TOKEN/);
    for (const secret of expired.secrets) expect(JSON.stringify(expired.results)).not.toContain(secret);

    const revoked = await check({
      before: (simulator) => {
        simulator.revokeAllTokens();
        simulator.expireAllTokens();
      },
    });
    expect(revoked.results).toHaveLength(1);
    expect(revoked.results[0]).toMatchObject({ name: "salesforce sign-in", ok: false });
    expect(revoked.results[0]?.fix).toMatch(/^Authorize the connected app again/);
    for (const secret of revoked.secrets) expect(JSON.stringify(revoked.results)).not.toContain(secret);

    const alone = await check({
      connector: { refreshToken: undefined, clientId: undefined, clientSecret: undefined },
    });
    expect(byName(alone.results, "salesforce sign-in")).toMatchObject({ ok: true });
    expect(byName(alone.results, "salesforce sign-in").detail).toMatch(/with an access token alone/);
  });

  it("reports REQUEST_LIMIT_EXCEEDED as API usage", async () => {
    const { results } = await check({
      before: (simulator) => {
        simulator.faults.inject({ kind: "request-limit", match: { path: /\/limits$/ } });
      },
    });
    expect(results).toEqual([
      expect.objectContaining({
        name: "salesforce API usage",
        ok: false,
        detail: expect.stringMatching(/REQUEST_LIMIT_EXCEEDED/),
      }),
    ]);
  });
});
