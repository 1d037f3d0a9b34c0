// Live tests against a real Salesforce org. They write (one Contact and one Task, deleted afterwards), so they
// run only when SALESFORCE_LIVE_TEST=1 is set together with credentials of a sandbox or developer org:
//   SALESFORCE_LIVE_TEST=1
//   SALESFORCE_INSTANCE_URL + SALESFORCE_ACCESS_TOKEN, or
//   SALESFORCE_REFRESH_TOKEN + SALESFORCE_CLIENT_ID (+ SALESFORCE_CLIENT_SECRET, SALESFORCE_LOGIN_URL)
// Linq is the local simulator: only Salesforce is real. CI and everyone else skip them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, linqEvent, startHarness } from "./connector-harness.test-helpers.ts";
import { CONTACT_MAPPING } from "./mappings.ts";
import type { SalesforceConnectorOptions } from "./salesforce-connector.ts";

const environment = process.env;
const enabled = environment.SALESFORCE_LIVE_TEST === "1";

function liveCredentials(): Partial<SalesforceConnectorOptions> {
  const loginUrl = environment.SALESFORCE_LOGIN_URL ?? "https://test.salesforce.com";
  if (environment.SALESFORCE_REFRESH_TOKEN !== undefined) {
    return {
      refreshToken: environment.SALESFORCE_REFRESH_TOKEN,
      clientId: environment.SALESFORCE_CLIENT_ID,
      clientSecret: environment.SALESFORCE_CLIENT_SECRET,
      instanceUrl: environment.SALESFORCE_INSTANCE_URL,
      accessToken: undefined,
      loginUrl,
    };
  }
  return {
    accessToken: environment.SALESFORCE_ACCESS_TOKEN,
    instanceUrl: environment.SALESFORCE_INSTANCE_URL,
    refreshToken: undefined,
    clientId: undefined,
    clientSecret: undefined,
    loginUrl,
  };
}

describe.skipIf(!enabled)("Salesforce connector against a real org (live)", () => {
  let harness: Harness;
  const stamp = Date.now().toString().slice(-7);
  // A fictional +1 555 01xx number, unique enough per run; written to Salesforce formatted differently.
  const phoneNumber = `+1555${stamp}`;
  const created: { sobject: string; id: string }[] = [];

  beforeAll(async () => {
    harness = await startHarness({ connector: { ...liveCredentials(), timeoutMs: 60_000 } });
  }, 60_000);

  afterAll(async () => {
    for (const record of created.reverse()) {
      await harness.connector.api.delete(record.sobject, record.id).catch(() => undefined);
    }
    await harness.close();
  }, 60_000);

  it("reads the org's limits and reports API usage", async () => {
    const limits = await harness.connector.api.limits();
    expect(limits.DailyApiRequests?.Max).toBeGreaterThan(0);
    expect(harness.connector.api.apiUsage?.limit).toBeGreaterThan(0);
  });

  it("matches a Contact typed with another phone format, then logs a message as a Task on it", async () => {
    const { api } = harness.connector;
    const national = phoneNumber.slice(2);
    const typed = `(${national.slice(0, 3)}) ${national.slice(3, 6)}-${national.slice(6)}`;
    const contactId = await api.create("Contact", { LastName: `linq-connect live ${stamp}`, Phone: typed });
    created.push({ sobject: "Contact", id: contactId });
    // SOSL indexes new records asynchronously in real orgs: give it a moment.
    await new Promise((resolve) => setTimeout(resolve, 15_000));
    harness.dispatch(
      linqEvent("contact.created", {
        id: 900_000 + Number(stamp.slice(-5)),
        first_name: "Live",
        last_name: `linq-connect live ${stamp}`,
        phone_number: phoneNumber,
      }),
    );
    await harness.settle();
    expect(harness.runner.deadLetters).toEqual([]);
    expect(harness.store.all(CONTACT_MAPPING).map((mapping) => mapping.externalId)).toContain(contactId);
    await harness.linqSimulator.inbound.text({ from: phoneNumber, text: "linq-connect live test" });
    await harness.settle();
    const tasks = await api.query<{ Id: string; Subject: string }>(
      `SELECT Id, Subject FROM Task WHERE WhoId = '${contactId}'`,
    );
    created.push(...tasks.map((task) => ({ sobject: "Task", id: task.Id })));
    expect(tasks).toHaveLength(1);
    expect(tasks[0]?.Subject).toMatch(/from Live linq-connect live/);
  }, 120_000);
});
