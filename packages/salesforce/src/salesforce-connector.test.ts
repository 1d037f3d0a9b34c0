import { CONNECTOR_SPECIFICATION_VERSION, ConfigurationError } from "@linq-connect/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "./connector-harness.test-helpers.ts";
import { createSalesforceConnector } from "./salesforce-connector.ts";

describe("createSalesforceConnector", () => {
  it("refuses missing credentials and bad route defaults with a ConfigurationError", () => {
    expect(() => createSalesforceConnector({})).toThrow(ConfigurationError);
    expect(() => createSalesforceConnector(null as never)).toThrow(/needs an options object/);
    expect(() =>
      createSalesforceConnector({
        accessToken: "token",
        instanceUrl: "https://example.my.salesforce.com",
        defaults: { objectType: "Account" as never },
      }),
    ).toThrow(/defaults\.objectType/);
  });

  it("is a ConnectorV1 with the poll schedule at the configured interval", () => {
    const connector = createSalesforceConnector({
      accessToken: "token",
      instanceUrl: "https://example.my.salesforce.com",
      pollIntervalSeconds: 120,
    });
    expect(connector.specificationVersion).toBe(CONNECTOR_SPECIFICATION_VERSION);
    expect(connector.name).toBe("salesforce");
    expect(connector.events).toEqual([
      "contact.created",
      "contact.updated",
      "contact.deleted",
      "message.received",
      "message.sent",
      "call.completed",
    ]);
    expect(connector.schedules?.map((schedule) => [schedule.name, schedule.intervalSeconds])).toEqual([
      ["salesforce-poll", 120],
    ]);
    const quiet = createSalesforceConnector({
      accessToken: "token",
      instanceUrl: "https://example.my.salesforce.com",
      pollIntervalSeconds: false,
    });
    expect(quiet.schedules).toEqual([]);
    const fromRoutingFile = createSalesforceConnector({
      accessToken: "token",
      instanceUrl: "https://example.my.salesforce.com",
      pollIntervalSeconds: 60,
      inboundRoute: { name: "sales", settings: { pollIntervalSeconds: 15 } },
    });
    expect(fromRoutingFile.schedules?.[0]?.intervalSeconds).toBe(15);
    expect(() =>
      createSalesforceConnector({
        accessToken: "token",
        instanceUrl: "https://example.my.salesforce.com",
        inboundRoute: { name: "sales", settings: { pollIntervalSeconds: 1 } },
      }),
    ).toThrow(/Route "sales".*pollIntervalSeconds/);
  });
});

describe("Salesforce connector jobs", () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(async () => {
    await harness.close();
  });

  it("refuses unknown job types and malformed payloads without retrying them", async () => {
    const context = harness.context(undefined);
    await expect(
      harness.connector.handleJob?.({ id: "1", type: "salesforce.other", payload: {}, attempt: 1 }, context),
    ).rejects.toMatchObject({ code: "unexpected_response", isRetryable: false });
    await expect(
      harness.connector.handleJob?.(
        { id: "2", type: "salesforce.record-changed", payload: { objectType: "Account" }, attempt: 1 },
        context,
      ),
    ).rejects.toMatchObject({ code: "unexpected_response", isRetryable: false });
  });
});
