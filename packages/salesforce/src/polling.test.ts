import type { ConnectorContext, ConnectorJobRequest } from "@linq-connect/core";
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "./connector-harness.test-helpers.ts";
import type { ConnectorServices } from "./connector-services.ts";
import { CONTACT_MAPPING, deletedCursorName, pollCursorName } from "./mappings.ts";
import { pollSalesforceChanges, RECORD_CHANGED_JOB } from "./polling.ts";
import { parseDefaultRouteSettings, type SalesforceRouteSettings } from "./settings.ts";
import { manualClock } from "./testing/salesforce-simulator.test-helpers.ts";

const DAY = 86_400_000;

describe("pollSalesforceChanges", () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  /** The simulator and the poll share a clock; jobs are collected instead of run. */
  async function setUp(
    options: { settings?: Partial<SalesforceRouteSettings>; queryBatchSize?: number } = {},
  ) {
    const clock = manualClock("2026-03-10T12:00:00Z");
    harness = await startHarness({
      salesforce: {
        now: clock.now,
        accessTokenTtlSeconds: 60 * 86_400,
        ...(options.queryBatchSize === undefined ? {} : { queryBatchSize: options.queryBatchSize }),
      },
    });
    const services: ConnectorServices = {
      api: harness.connector.api,
      externalIdFields: {},
      bulkThreshold: 2000,
      phoneNumberOptions: {},
      now: clock.now,
      logger: undefined,
    };
    const settings = { ...parseDefaultRouteSettings(undefined), ...options.settings };
    const jobs: ConnectorJobRequest[] = [];
    const context: ConnectorContext = {
      ...harness.context(undefined),
      enqueue: async (job) => {
        jobs.push(job);
      },
    };
    const poll = () => pollSalesforceChanges(services, settings, context);
    const queries = () =>
      harness?.salesforce.requests.filter((request) => request.path.endsWith("/query")) ?? [];
    return { harness, clock, jobs, poll, queries, context };
  }

  it("starts from now: records changed before the first poll are not imported", async () => {
    const { harness, clock, jobs, poll, queries } = await setUp();
    harness.salesforce.users.create("Contact", { LastName: "Old" });
    clock.advance(10_000);
    expect(await poll()).toEqual({ changed: 0, deleted: 0 });
    expect(jobs).toEqual([]);
    expect(queries()).toHaveLength(0);
    expect(JSON.parse((await harness.store.getCursor(pollCursorName("Contact"))) ?? "")).toEqual({
      at: "2026-03-10T12:00:07.000Z",
      id: "",
    });
    expect(await harness.store.getCursor(deletedCursorName("Contact"))).toBe("2026-03-10T12:00:00.000Z");
  });

  it("queues one job per changed record with ordering and deduplication keys, and moves the cursor", async () => {
    const { harness, clock, jobs, poll } = await setUp();
    await poll();
    clock.advance(1_000);
    const jane = harness.salesforce.users.create("Contact", { LastName: "Doe", FirstName: "Jane" });
    clock.advance(5_000);
    expect(await poll()).toEqual({ changed: 1, deleted: 0 });
    expect(jobs).toEqual([
      {
        type: RECORD_CHANGED_JOB,
        payload: { objectType: "Contact", recordId: jane.Id, deleted: false },
        orderingKey: `salesforce:${jane.Id}`,
        deduplicationKey: `salesforce:${jane.Id}:${jane.SystemModstamp}`,
      },
    ]);
    // Nothing new: nothing queued.
    clock.advance(5_000);
    expect(await poll()).toEqual({ changed: 0, deleted: 0 });
    // An edit: the same record again, with a new deduplication key.
    harness.salesforce.users.update("Contact", jane.Id, { Title: "CEO" });
    clock.advance(5_000);
    await poll();
    expect(jobs).toHaveLength(2);
    expect(jobs[1]?.deduplicationKey).not.toBe(jobs[0]?.deduplicationKey);
  });

  it("pages through many records sharing one SystemModstamp, each queued once", async () => {
    const { harness, clock, jobs, poll, queries } = await setUp({ queryBatchSize: 2000 });
    await poll();
    clock.advance(1_000);
    const ids = new Set<string>();
    for (let index = 0; index < 450; index += 1) {
      ids.add(harness.salesforce.users.create("Contact", { LastName: `Person ${index}` }).Id);
    }
    clock.advance(5_000);
    expect(await poll()).toEqual({ changed: 450, deleted: 0 });
    expect(new Set(jobs.map((job) => job.payload.recordId))).toEqual(ids);
    expect(jobs).toHaveLength(450);
    // 200 + 200 + 50.
    expect(queries()).toHaveLength(3);
    expect(queries()[1]?.query.q).toMatch(/SystemModstamp = 2026-03-10T12:00:01Z AND Id > '/);
  });

  it("leaves the last seconds for the next poll, so a late change in the cursor's second is not lost", async () => {
    const { harness, clock, jobs, poll } = await setUp();
    await poll();
    clock.advance(5_000);
    // Two records in the same second; the poll runs during that second.
    const first = harness.salesforce.users.create("Contact", { LastName: "First" });
    const second = harness.salesforce.users.create("Contact", { LastName: "Second" });
    expect(await poll()).toEqual({ changed: 0, deleted: 0 });
    // Later in the same second, the record with the lower Id changes again.
    harness.salesforce.users.update("Contact", first.Id, { Title: "Late" });
    clock.advance(4_000);
    await poll();
    expect(jobs.map((job) => job.payload.recordId).sort()).toEqual([first.Id, second.Id].sort());
  });

  it("queues deletions from Get Deleted in whole-minute windows of at most 15 days", async () => {
    const { harness, clock, jobs, poll } = await setUp();
    const gone = harness.salesforce.users.create("Contact", { LastName: "Gone" });
    await poll();
    clock.advance(1_000);
    harness.salesforce.users.delete("Contact", gone.Id);
    // Within the same minute: no Get Deleted call (Salesforce wants a whole minute).
    clock.advance(5_000);
    await poll();
    const deletedCalls = () =>
      harness.salesforce.requests.filter((request) => request.path.includes("/deleted"));
    expect(deletedCalls()).toHaveLength(0);
    clock.advance(60_000);
    expect(await poll()).toMatchObject({ deleted: 1 });
    expect(jobs.at(-1)).toMatchObject({
      type: RECORD_CHANGED_JOB,
      payload: { objectType: "Contact", recordId: gone.Id, deleted: true },
      orderingKey: `salesforce:${gone.Id}`,
    });
    expect(await harness.store.getCursor(deletedCursorName("Contact"))).toBe("2026-03-10T12:01:00.000Z");
    // Polling was down for 20 days: the window starts at the oldest time Salesforce allows.
    clock.advance(20 * DAY);
    await poll();
    const last = deletedCalls().at(-1);
    expect(Date.parse(String(last?.query.start))).toBeGreaterThanOrEqual(clock.now().getTime() - 15 * DAY);
    expect(
      harness.logs.some(
        (entry) => entry.level === "warn" && /older than Salesforce keeps them/.test(entry.message ?? ""),
      ),
    ).toBe(true);
    expect(harness.salesforce.requests.filter((request) => request.status === 400)).toHaveLength(0);
  });

  it("polls Leads for a Lead route, and nothing when the route does not read Salesforce", async () => {
    const leads = await setUp({ settings: { objectType: "Lead" } });
    await leads.poll();
    leads.clock.advance(1_000);
    const lead = leads.harness.salesforce.users.create("Lead", { LastName: "Lee", Company: "Initech" });
    leads.harness.salesforce.users.create("Contact", { LastName: "Not polled" });
    leads.clock.advance(5_000);
    await leads.poll();
    expect(leads.jobs.map((job) => job.payload)).toEqual([
      { objectType: "Lead", recordId: lead.Id, deleted: false },
    ]);
    await leads.harness.close();
    harness = undefined;

    for (const contacts of ["off", "linq-to-crm"] as const) {
      const off = await setUp({ settings: { contacts } });
      expect(await off.poll()).toEqual({ changed: 0, deleted: 0 });
      expect(
        off.harness.salesforce.requests.filter((request) => request.path.startsWith("/services/data")),
      ).toEqual([]);
      expect(await off.harness.store.getCursor(pollCursorName("Contact"))).toBeUndefined();
      await off.harness.close();
      harness = undefined;
    }
  });

  it("a Lead route polls Contacts from their own cursors, queuing only tracked ones (changes and deletions)", async () => {
    const { harness, clock, jobs, poll, queries } = await setUp({ settings: { objectType: "Lead" } });
    const { salesforce, store } = harness;
    const tracked = salesforce.users.create("Contact", { LastName: "Tracked" });
    const untracked = salesforce.users.create("Contact", { LastName: "Untracked" });
    // The first poll starts both objects from now, reading nothing.
    expect(await poll()).toEqual({ changed: 0, deleted: 0 });
    expect(queries()).toHaveLength(0);
    expect(JSON.parse((await store.getCursor(pollCursorName("Contact"))) ?? "")).toEqual({
      at: "2026-03-10T11:59:57.000Z",
      id: "",
    });
    expect(await store.getCursor(deletedCursorName("Contact"))).toBe("2026-03-10T12:00:00.000Z");
    await store.insertMapping({
      kind: CONTACT_MAPPING,
      linqId: "41",
      externalId: tracked.Id,
      metadata: { objectType: "Contact", synced: {}, handles: [], syncedAt: "", systemModstamp: "" },
    });
    clock.advance(1_000);
    salesforce.users.update("Contact", tracked.Id, { Title: "Edited" });
    salesforce.users.update("Contact", untracked.Id, { Title: "Edited" });
    clock.advance(5_000);

    expect(await poll()).toEqual({ changed: 1, deleted: 0 });
    expect(jobs.map((job) => job.payload)).toEqual([
      { objectType: "Contact", recordId: tracked.Id, deleted: false },
    ]);
    expect(jobs[0]?.deduplicationKey).toBe(
      `salesforce:${tracked.Id}:${salesforce.state.record("Contact", tracked.Id)?.SystemModstamp}`,
    );
    // One query per object; the Contact cursor moved past both records.
    expect(queries().map((request) => String(request.query.q).match(/FROM (\w+)/)?.[1])).toEqual([
      "Lead",
      "Contact",
    ]);
    expect(JSON.parse((await store.getCursor(pollCursorName("Contact"))) ?? "").at).toBe(
      "2026-03-10T12:00:03.000Z",
    );

    salesforce.users.delete("Contact", tracked.Id);
    salesforce.users.delete("Contact", untracked.Id);
    clock.advance(60_000);
    expect(await poll()).toEqual({ changed: 0, deleted: 1 });
    expect(jobs.at(-1)?.payload).toEqual({ objectType: "Contact", recordId: tracked.Id, deleted: true });
    expect(jobs).toHaveLength(2);
    expect(
      harness.salesforce.requests
        .filter((request) => request.path.includes("/deleted"))
        .map((request) => request.path.match(/sobjects\/(\w+)\/deleted/)?.[1]),
    ).toEqual(["Lead", "Contact"]);
  });

  it("a Contact route reads no Leads", async () => {
    const { harness, clock, jobs, poll, queries } = await setUp();
    await poll();
    clock.advance(1_000);
    const contact = harness.salesforce.users.create("Contact", { LastName: "Doe" });
    harness.salesforce.users.create("Lead", { LastName: "Lee", Company: "Initech" });
    clock.advance(60_000);
    await poll();
    expect(jobs.map((job) => job.payload)).toEqual([
      { objectType: "Contact", recordId: contact.Id, deleted: false },
    ]);
    expect(queries().every((request) => /FROM Contact /.test(String(request.query.q)))).toBe(true);
    expect(harness.salesforce.requests.some((request) => request.path.includes("/Lead"))).toBe(false);
    expect(await harness.store.getCursor(pollCursorName("Lead"))).toBeUndefined();
  });
});
