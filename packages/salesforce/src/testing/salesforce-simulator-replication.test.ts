import type { Connection } from "jsforce";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { callApi, connect, failure, manualClock } from "./salesforce-simulator.test-helpers.ts";
import { startSalesforceSimulator } from "./salesforce-simulator.ts";
import type { SalesforceSimulator } from "./simulator-types.ts";

describe("Salesforce simulator: replication (updated / deleted) and API limits", () => {
  let simulator: SalesforceSimulator;
  let connection: Connection;
  const clock = manualClock();

  beforeAll(async () => {
    simulator = await startSalesforceSimulator({ now: clock.now, dailyApiLimit: 25 });
    connection = connect(simulator);
  });
  afterAll(async () => {
    await simulator.close();
  });
  beforeEach(() => {
    clock.set("2026-03-02T10:00:30Z");
    simulator.reset();
  });
  afterEach(() => {
    simulator.reset();
  });

  it("Get Updated lists records changed in the window (by SystemModstamp) after UI edits", async () => {
    const ours = await connection.sobject("Contact").create({ LastName: "Ours" });
    const theirs = simulator.users.create("Contact", { LastName: "Theirs" });
    clock.set("2026-03-02T10:05:10Z");
    simulator.users.update("Contact", String(ours.id), { Title: "Edited in the UI" });
    clock.set("2026-03-02T10:07:45Z");
    const first = await connection.sobject("Contact").updated("2026-03-02T10:00:00Z", "2026-03-02T10:05:00Z");
    // "Ours" was modified again at 10:05:10: its SystemModstamp left the first window.
    expect(first).toEqual({ ids: [theirs.Id], latestDateCovered: "2026-03-02T10:05:00.000+0000" });
    const second = await connection
      .sobject("Contact")
      .updated(first.latestDateCovered, "2026-03-02T11:00:00Z");
    expect(second).toEqual({ ids: [ours.id], latestDateCovered: "2026-03-02T10:07:00.000+0000" });
    expect(simulator.state.record("Contact", String(ours.id))?.LastModifiedById).toBe(
      simulator.users.list()[1]?.id,
    );
  });

  it("Get Deleted lists the delete log with earliestDateAvailable and latestDateCovered", async () => {
    const lead = simulator.users.create("Lead", { LastName: "Gone", Company: "Acme" });
    clock.set("2026-03-02T10:02:20Z");
    simulator.users.delete("Lead", lead.Id);
    clock.set("2026-03-02T10:04:00Z");
    const deleted = await connection.sobject("Lead").deleted("2026-03-02T10:00:00Z", "2026-03-02T10:04:00Z");
    expect(deleted).toEqual({
      deletedRecords: [{ id: lead.Id, deletedDate: "2026-03-02T10:02:20.000+0000" }],
      earliestDateAvailable: "2026-03-02T10:00:00.000+0000",
      latestDateCovered: "2026-03-02T10:04:00.000+0000",
    });
    expect(await connection.sobject("Lead").updated("2026-03-02T10:00:00Z", "2026-03-02T10:04:00Z")).toEqual({
      ids: [],
      latestDateCovered: "2026-03-02T10:04:00.000+0000",
    });
  });

  it("validates the replication window", async () => {
    const reversed = await callApi(
      simulator,
      "GET",
      "/sobjects/Contact/updated/?start=2026-03-02T10:00:00Z&end=2026-03-01T10:00:00Z",
    );
    expect(reversed.body[0].errorCode).toBe("INVALID_REPLICATION_DATE");
    const old = await failure(
      connection.sobject("Contact").deleted("2026-02-01T00:00:00Z", "2026-03-02T00:00:00Z"),
    );
    expect(old.errorCode).toBe("INVALID_REPLICATION_DATE");
    expect(
      (await callApi(simulator, "GET", "/sobjects/Contact/updated/?start=2026-03-01T10:00:00Z")).body[0]
        .errorCode,
    ).toBe("MISSING_ARGUMENT");
  });

  it("every API answer carries Sforce-Limit-Info and /limits agrees", async () => {
    await connection.sobject("Contact").create({ LastName: "One" });
    expect(connection.limitInfo).toEqual({ apiUsage: { used: 1, limit: 25 } });
    const limits = await connection.limits();
    expect(limits.DailyApiRequests).toEqual({ Max: 25, Remaining: 23 });
    const failed = await callApi(simulator, "GET", "/sobjects/Contact/0035g00000B0zzzAAB");
    expect(failed.headers.get("sforce-limit-info")).toBe("api-usage=3/25");
    expect(simulator.state.apiUsage()).toEqual({ used: 3, limit: 25 });
    const versions = await callApi(simulator, "GET", "/services/data/", { token: null });
    expect(versions.headers.get("sforce-limit-info")).toBeNull();
    await fetch(`${simulator.instanceUrl}/`);
    expect(simulator.state.apiUsage().used).toBe(3);
  });

  it("answers 403 REQUEST_LIMIT_EXCEEDED once the daily allowance is used, without processing", async () => {
    for (let index = 0; index < 25; index += 1) await callApi(simulator, "GET", "/limits");
    const refused = await callApi(simulator, "POST", "/sobjects/Contact", { body: { LastName: "Too late" } });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual([
      { errorCode: "REQUEST_LIMIT_EXCEEDED", message: "TotalRequests Limit exceeded." },
    ]);
    expect(refused.headers.get("sforce-limit-info")).toBe("api-usage=25/25");
    const viaJsforce = await failure(connection.sobject("Contact").create({ LastName: "Too late" }));
    expect(viaJsforce.errorCode).toBe("REQUEST_LIMIT_EXCEEDED");
    expect(simulator.state.records("Contact")).toHaveLength(0);
    simulator.reset();
    expect((await callApi(simulator, "GET", "/limits")).status).toBe(200);
  });
});
