import type { ConnectorJobRequest } from "@linq-connect/core";
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, type HarnessOptions, startHarness } from "./connector-harness.test-helpers.ts";
import { CONTACT_MAPPING, HANDLE_MAPPING } from "./mappings.ts";
import { RECORD_CHANGED_JOB } from "./polling.ts";
import { manualClock } from "./testing/salesforce-simulator.test-helpers.ts";

/** Writes to Salesforce Contacts/Leads (creates, updates, deletes). */
function salesforceWrites(harness: Harness): number {
  return harness.salesforce.requests.filter(
    (request) =>
      ["POST", "PATCH", "DELETE"].includes(request.method) &&
      /\/sobjects\/(Contact|Lead)(\/|$)/.test(request.path),
  ).length;
}

/** Writes to Linq contacts. */
function linqWrites(harness: Harness): number {
  return harness.linqSimulator.requests.filter(
    (request) =>
      /\/contacts/.test(request.path) &&
      ["POST", "PUT", "PATCH", "DELETE"].includes(request.method) &&
      !request.path.endsWith("/find"),
  ).length;
}

function recordJobs(harness: Harness) {
  return harness.runner.handled.filter(
    (entry) => entry.item.kind === "job" && entry.item.type === RECORD_CHANGED_JOB,
  );
}

/**
 * A harness whose Salesforce (and connector) clock starts ten minutes ago and moves when told, so that
 * polls see settled seconds and Get Deleted sees whole minutes. Linq keeps the real time.
 */
async function startWithClock(options: HarnessOptions = {}) {
  const clock = manualClock(new Date(Date.now() - 10 * 60_000).toISOString());
  const harness = await startHarness({
    ...options,
    salesforce: { now: clock.now, ...options.salesforce },
    connector: { now: clock.now, ...options.connector },
  });
  /** Polls a few seconds later (as the schedule would), and waits for the jobs. */
  const pollLater = async (milliseconds = 5_000) => {
    clock.advance(milliseconds);
    await harness.poll();
  };
  await pollLater(); // the first poll starts the cursors
  return { harness, clock, pollLater };
}

describe("Salesforce → Linq contacts", () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it("creates the Linq contact of a Contact created in Salesforce, and the echoes stop there", async () => {
    const started = await startWithClock();
    harness = started.harness;
    const { salesforce, linqSimulator } = harness;
    const record = salesforce.users.create("Contact", {
      FirstName: "Jane",
      LastName: "Doe",
      Phone: "(555) 123-4567",
      Email: "jane@example.com",
      Title: "CEO",
    });
    await started.pollLater();
    expect(linqSimulator.state.contacts()).toEqual([
      expect.objectContaining({
        first_name: "Jane",
        last_name: "Doe",
        phone_number: "+15551234567",
        email: "jane@example.com",
        title: "CEO",
      }),
    ]);
    const mapping = await harness.store.findByExternalId(CONTACT_MAPPING, record.Id);
    expect(mapping?.linqId).toBe(String(linqSimulator.state.contacts()[0]?.id));
    expect((await harness.store.findByLinqId(HANDLE_MAPPING, "+15551234567"))?.metadata.recordId).toBe(
      record.Id,
    );
    // The Linq contact.created that our create caused wrote nothing back to Salesforce.
    expect(salesforceWrites(harness)).toBe(0);
    // Nothing changed since: the next poll queues nothing.
    const jobs = recordJobs(harness).length;
    await started.pollLater();
    expect(recordJobs(harness)).toHaveLength(jobs);
    expect(linqSimulator.state.contacts()).toHaveLength(1);
  });

  it("a UI edit is polled and updates the linked Linq contact; our own writes do not come back", async () => {
    const started = await startWithClock();
    harness = started.harness;
    const { salesforce, linq, linqSimulator } = harness;
    const contact = await linq.createContact({
      contact: { first_name: "Jane", last_name: "Doe", phone_number: "+15551234567" },
    });
    await harness.settle();
    const [record] = salesforce.state.records("Contact");
    if (record === undefined) throw new Error("no Contact");
    // Our create comes back in the poll: echo, no Linq write.
    const linqWritesBefore = linqWrites(harness);
    await started.pollLater();
    expect(recordJobs(harness).length).toBeGreaterThan(0);
    expect(linqWrites(harness)).toBe(linqWritesBefore);

    salesforce.users.update("Contact", record.Id, { Title: "VP Sales", MailingCity: "Denver" });
    await started.pollLater();
    expect(linqSimulator.state.contacts()).toEqual([
      expect.objectContaining({ id: contact.id, title: "VP Sales", location: "Denver", first_name: "Jane" }),
    ]);
    expect(linqWrites(harness)).toBe(linqWritesBefore + 1);
    // Linq's contact.updated (our write) went nowhere; Salesforce was written once (the create).
    expect(salesforceWrites(harness)).toBe(1);

    // A Linq edit goes to Salesforce, and that write polled back does not touch Linq again.
    await linq.updateContact(contact.id as number, { contact: { first_name: "Janet" } });
    await harness.settle();
    expect(salesforce.state.record("Contact", record.Id)).toMatchObject({ FirstName: "Janet" });
    const afterLinqEdit = linqWrites(harness);
    await started.pollLater();
    expect(linqWrites(harness)).toBe(afterLinqEdit);
    const mapping = await harness.store.findByExternalId(CONTACT_MAPPING, record.Id);
    expect(mapping?.metadata.systemModstamp).toBe(
      salesforce.state.record("Contact", record.Id)?.SystemModstamp,
    );
    expect(harness.runner.deadLetters).toEqual([]);
  });

  it("last writer wins per field when both sides changed since the last sync", async () => {
    const started = await startWithClock();
    harness = started.harness;
    const { salesforce, linq, linqSimulator } = harness;
    const contact = await linq.createContact({
      contact: { first_name: "Jane", last_name: "Doe", phone_number: "+15551234567", title: "CEO" },
    });
    await harness.settle();
    const [record] = salesforce.state.records("Contact");
    if (record === undefined) throw new Error("no Contact");
    // Salesforce's clock is ten minutes behind: its edit is older than the Linq edit that follows.
    salesforce.users.update("Contact", record.Id, { Title: "CFO", LastName: "Smith" });
    await linq.updateContact(contact.id as number, { contact: { first_name: "Jane", title: "CTO" } });
    await harness.settle();
    await started.pollLater();
    // Title: both changed, Linq wrote later. LastName: only Salesforce changed.
    expect(salesforce.state.record("Contact", record.Id)).toMatchObject({ Title: "CTO", LastName: "Smith" });
    expect(linqSimulator.state.contacts()[0]).toMatchObject({ title: "CTO", last_name: "Smith" });
    const conflicts = harness.logs.filter(
      (entry) => entry.message === "contact field conflict: last writer wins",
    );
    expect(conflicts.map((entry) => entry.fields.winner)).toEqual(["linq"]);

    // Now Salesforce writes later than Linq (its clock jumps ahead of the real time).
    await linq.updateContact(contact.id as number, { contact: { first_name: "Jane", title: "COO" } });
    started.clock.set(new Date(Date.now() + 60_000).toISOString());
    // Salesforce changes too before the Linq webhook arrives.
    salesforce.users.update("Contact", record.Id, { Title: "Chair" });
    await harness.settle();
    await started.pollLater();
    expect(salesforce.state.record("Contact", record.Id)?.Title).toBe("Chair");
    expect(linqSimulator.state.contacts()[0]?.title).toBe("Chair");
    const winners = harness.logs
      .filter((entry) => entry.message === "contact field conflict: last writer wins")
      .map((entry) => entry.fields.winner);
    expect(winners).toEqual(["linq", "salesforce"]);
  });

  it("matches an existing Linq contact by phone instead of creating one (crm-to-linq route)", async () => {
    const started = await startWithClock({ route: { contacts: "crm-to-linq" } });
    harness = started.harness;
    const { salesforce, linq, linqSimulator } = harness;
    const contact = await linq.createContact({
      contact: { first_name: "Jane", phone_number: "+15551234567" },
    });
    await harness.settle();
    expect(salesforce.state.records("Contact")).toHaveLength(0);
    const record = salesforce.users.create("Contact", {
      FirstName: "Janet",
      LastName: "Doe",
      MobilePhone: "555.123.4567",
      Email: "jane@example.com",
    });
    await started.pollLater();
    expect(linqSimulator.state.contacts()).toEqual([
      expect.objectContaining({
        id: contact.id,
        first_name: "Janet",
        last_name: "Doe",
        email: "jane@example.com",
      }),
    ]);
    expect((await harness.store.findByExternalId(CONTACT_MAPPING, record.Id))?.linqId).toBe(
      String(contact.id),
    );
    // One way: nothing is written to Salesforce.
    expect(salesforceWrites(harness)).toBe(0);
  });

  it("a record with nothing but a number stays out of Linq until someone names it", async () => {
    const started = await startWithClock();
    harness = started.harness;
    const { salesforce, linqSimulator } = harness;
    const record = salesforce.users.create("Contact", {
      LastName: "+15559876543",
      MobilePhone: "+15559876543",
    });
    await started.pollLater();
    expect(linqSimulator.state.contacts()).toHaveLength(0);
    salesforce.users.update("Contact", record.Id, { FirstName: "Sam" });
    await started.pollLater();
    expect(linqSimulator.state.contacts()).toEqual([
      expect.objectContaining({ first_name: "Sam", phone_number: "+15559876543" }),
    ]);
    expect(linqSimulator.state.contacts()[0]?.last_name ?? "").toBe("");
  });

  it("a record deleted in Salesforce (Get Deleted): the link is forgotten, or the Linq contact deleted", async () => {
    for (const salesforceRecordDeleted of ["ignore", "delete"] as const) {
      const started = await startWithClock({ route: { salesforceRecordDeleted } });
      harness = started.harness;
      const { salesforce, linq, linqSimulator } = harness;
      await linq.createContact({ contact: { first_name: "Jane", phone_number: "+15551234567" } });
      await harness.settle();
      const [record] = salesforce.state.records("Contact");
      salesforce.users.delete("Contact", record?.Id ?? "");
      // Get Deleted answers whole minutes: the deletion shows once its minute is over.
      await started.pollLater(2 * 60_000);
      const deletedRequests = salesforce.requests.filter((request) => request.path.includes("/deleted"));
      expect(deletedRequests.length).toBeGreaterThan(0);
      expect(harness.store.all(CONTACT_MAPPING)).toHaveLength(0);
      expect(harness.store.all(HANDLE_MAPPING)).toHaveLength(0);
      expect(linqSimulator.state.contacts()).toHaveLength(salesforceRecordDeleted === "delete" ? 0 : 1);
      expect(harness.runner.deadLetters).toEqual([]);
      await harness.close();
      harness = undefined;
    }
  });

  it("REQUEST_LIMIT_EXCEEDED while a change is synced: the job waits and completes", async () => {
    const started = await startWithClock({ connector: { requestLimitRetrySeconds: 1 } });
    harness = started.harness;
    const { salesforce, linqSimulator } = harness;
    salesforce.users.create("Contact", { FirstName: "Jane", LastName: "Doe", Phone: "(555) 123-4567" });
    started.clock.advance(5_000);
    // The poll's jobs are held back until the org runs out of API calls.
    const jobs: ConnectorJobRequest[] = [];
    await harness.connector.poll({
      ...harness.context(undefined),
      enqueue: async (job) => {
        jobs.push(job);
      },
    });
    expect(jobs).toHaveLength(1);
    salesforce.faults.inject({ kind: "request-limit", match: { method: "GET" }, times: 1 });
    for (const job of jobs) {
      harness.runner.submit(
        { kind: "job", type: job.type, payload: job.payload, route: undefined },
        { orderingKey: job.orderingKey, deduplicationKey: job.deduplicationKey },
      );
    }
    // The limit-wait is measured on the connector's clock: let it pass while the job waits.
    const ticking = setInterval(() => started.clock.advance(500), 50);
    try {
      await harness.settle();
    } finally {
      clearInterval(ticking);
    }
    expect(recordJobs(harness).map((entry) => entry.outcome)).toEqual(["retry", "ok"]);
    expect(linqSimulator.state.contacts()).toEqual([expect.objectContaining({ first_name: "Jane" })]);
  });

  it("Lead mode: a UI edit reaches Linq, the LastName and Company placeholders never do", async () => {
    const started = await startWithClock({ route: { objectType: "Lead", companyPlaceholder: "Via Linq" } });
    harness = started.harness;
    const { linq, salesforce, linqSimulator } = harness;
    await linq.createContact({ contact: { first_name: "Sam", phone_number: "+15551112222" } });
    await harness.settle();
    const [lead] = salesforce.state.records("Lead");
    expect(lead).toMatchObject({ FirstName: "Sam", LastName: "Sam", Company: "Via Linq" });
    await started.pollLater();
    salesforce.users.update("Lead", lead?.Id ?? "", { Title: "Buyer" });
    await started.pollLater();
    const [sam] = linqSimulator.state.contacts();
    expect(sam).toMatchObject({ first_name: "Sam", title: "Buyer" });
    expect(sam?.company ?? "").toBe("");
    expect(sam?.last_name ?? "").toBe("");
    // A real company typed in Salesforce does reach Linq.
    salesforce.users.update("Lead", lead?.Id ?? "", { Company: "Initech" });
    await started.pollLater();
    expect(linqSimulator.state.contacts()[0]?.company).toBe("Initech");
    expect(harness.runner.deadLetters).toEqual([]);
  });

  it("routes that do not read Salesforce do not poll", async () => {
    const started = await startWithClock({ route: { contacts: "linq-to-crm" } });
    harness = started.harness;
    harness.salesforce.users.create("Contact", { FirstName: "Jane", LastName: "Doe" });
    await started.pollLater();
    expect(harness.salesforce.requests.filter((request) => request.path.includes("/query"))).toHaveLength(0);
    expect(harness.linqSimulator.state.contacts()).toHaveLength(0);
  });
});
