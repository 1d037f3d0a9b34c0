import type { LinqClient } from "@linq-connect/core";
import { afterEach, describe, expect, it } from "vitest";
import { BACKFILL_CURSOR, type SalesforceBackfillProgress } from "./backfill.ts";
import {
  type Harness,
  type HarnessOptions,
  MemoryMappingStore,
  startHarness,
} from "./connector-harness.test-helpers.ts";
import { CONTACT_MAPPING, DIGEST_MAPPING, HANDLE_MAPPING, TASK_MAPPING } from "./mappings.ts";
import { createSalesforceConnector } from "./salesforce-connector.ts";

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function start(options: HarnessOptions = {}): Promise<Harness> {
  // Webhooks off: the backfill alone writes to Salesforce.
  harness = await startHarness({ linqWebhooks: false, ...options });
  return harness;
}

const phoneOf = (index: number) => `+1555${String(2_000_000 + index).padStart(7, "0")}`;

async function seedLinqContacts(linq: LinqClient, count: number, offset = 0): Promise<void> {
  const indexes = Array.from({ length: count }, (_, index) => index + offset);
  for (let start = 0; start < indexes.length; start += 50) {
    await Promise.all(
      indexes.slice(start, start + 50).map((index) =>
        linq.createContact({
          contact: {
            first_name: `First${index}`,
            last_name: `Last${index}`,
            phone_number: phoneOf(index),
            ...(index % 3 === 0 ? { email: `person${index}@example.com` } : {}),
          },
        }),
      ),
    );
  }
}

const since = new Date(0);

type BackfillOptions = Parameters<Harness["connector"]["backfill"]>[0];

/** The connector's backfill of the harness's Linq and store: contacts only, everything since 1970. */
function backfill(current: Harness, options: Partial<BackfillOptions> = {}) {
  return current.connector.backfill({
    linq: current.linq,
    store: current.store,
    since,
    contacts: true,
    messages: false,
    ...options,
  });
}

/** POST /composite/sobjects bodies (collection creates) the simulator received. */
function collectionCreates(current: Harness): { records: unknown[] }[] {
  return current.salesforce.requests
    .filter((request) => request.method === "POST" && /\/composite\/sobjects$/.test(request.path))
    .map((request) => request.body as { records: unknown[] });
}

describe("backfillSalesforce: contacts", () => {
  it("creates 450 contacts with 3 collection requests, and a rerun creates nothing", async () => {
    const current = await start();
    await seedLinqContacts(current.linq, 450);
    const progress: SalesforceBackfillProgress[] = [];
    const summary = await backfill(current, {
      onProgress: (entry) => progress.push(entry),
    });
    expect(summary).toMatchObject({ status: "completed", method: "collections", resumed: false });
    expect(summary.counts).toMatchObject({ contactsRead: 450, contactsCreated: 450, contactsSkipped: 0 });
    const records = current.salesforce.state.records("Contact");
    expect(records).toHaveLength(450);
    expect(new Set(records.map((record) => record.MobilePhone)).size).toBe(450);
    const first = records.find((record) => record.MobilePhone === phoneOf(3));
    expect(first).toMatchObject({ FirstName: "First3", LastName: "Last3", Email: "person3@example.com" });
    const creates = collectionCreates(current);
    expect(creates.map((body) => body.records.length)).toEqual([200, 200, 50]);
    // Index query + 3 collections (Linq requests are not Salesforce requests).
    expect(summary.requests).toBe(current.salesforce.requests.length);
    expect(summary.requests).toBeLessThanOrEqual(5);
    expect(current.store.all(CONTACT_MAPPING)).toHaveLength(450);
    const mapping = current.store.all(CONTACT_MAPPING).find((entry) => entry.externalId === first?.Id);
    expect(mapping?.metadata).toMatchObject({
      objectType: "Contact",
      synced: { first_name: "First3", last_name: "Last3", phone_number: phoneOf(3) },
      handles: [phoneOf(3), "person3@example.com"],
    });
    expect(current.store.all(HANDLE_MAPPING)).toHaveLength(450 + 150);
    expect(progress.at(-1)?.counts.contactsCreated).toBe(450);

    // Rerun from the start: every contact is linked and unchanged.
    const rerun = await backfill(current, {
      restart: true,
    });
    expect(rerun.counts).toMatchObject({ contactsCreated: 0, contactsUnchanged: 450, contactsUpdated: 0 });
    expect(current.salesforce.state.records("Contact")).toHaveLength(450);
    expect(collectionCreates(current)).toHaveLength(3);

    // Mappings lost (a new host database): the index of Salesforce records links them all again.
    const freshStore = new MemoryMappingStore();
    const relinked = await backfill(current, {
      store: freshStore,
    });
    expect(relinked.counts).toMatchObject({ contactsCreated: 0, contactsLinked: 450 });
    expect(current.salesforce.state.records("Contact")).toHaveLength(450);
    expect(freshStore.all(CONTACT_MAPPING)).toHaveLength(450);
  }, 30_000);

  it("links a record whose phone was typed as (555) 123-4567 instead of duplicating it, and updates changed contacts", async () => {
    const current = await start();
    const typed = current.salesforce.users.create("Contact", { LastName: "Doe", Phone: "(555) 123-4567" });
    const byEmail = current.salesforce.users.create("Contact", {
      LastName: "Mail",
      Email: "ADA@example.com",
    });
    const jane = await current.linq.createContact({
      contact: { first_name: "Jane", last_name: "Doe", phone_number: "+15551234567", title: "CTO" },
    });
    await current.linq.createContact({ contact: { first_name: "Ada", email: "ada@example.com" } });
    await seedLinqContacts(current.linq, 3);
    const summary = await backfill(current);
    expect(summary.counts).toMatchObject({ contactsCreated: 3, contactsLinked: 2 });
    const records = current.salesforce.state.records("Contact");
    expect(records).toHaveLength(5);
    expect(current.salesforce.state.record("Contact", typed.Id)).toMatchObject({
      Phone: "(555) 123-4567",
      FirstName: "Jane",
      LastName: "Doe",
      Title: "CTO",
    });
    expect(current.salesforce.state.record("Contact", byEmail.Id)).toMatchObject({ FirstName: "Ada" });
    expect((await current.store.findByLinqId(CONTACT_MAPPING, String(jane.id)))?.externalId).toBe(typed.Id);

    // Jane changes her title in Linq; a new run updates only her record.
    await current.linq.updateContact(jane.id as number, { contact: { first_name: "Jane", title: "CEO" } });
    const second = await backfill(current, {
      restart: true,
    });
    expect(second.counts).toMatchObject({ contactsCreated: 0, contactsUpdated: 1, contactsUnchanged: 4 });
    expect(current.salesforce.state.record("Contact", typed.Id)?.Title).toBe("CEO");
    expect(current.salesforce.state.records("Contact")).toHaveLength(5);
  }, 20_000);

  it("resumes an interrupted run where it stopped", async () => {
    const current = await start();
    await seedLinqContacts(current.linq, 450);
    const controller = new AbortController();
    const first = await backfill(current, {
      signal: controller.signal,
      onProgress: (entry) => {
        if (entry.counts.contactsCreated >= 200) controller.abort();
      },
    });
    expect(first).toMatchObject({ status: "interrupted", interruptedBy: "signal" });
    expect(first.counts.contactsCreated).toBe(200);
    expect(current.salesforce.state.records("Contact")).toHaveLength(200);
    expect(JSON.parse((await current.store.getCursor(BACKFILL_CURSOR)) ?? "{}")).toMatchObject({
      contactsNextPage: 3,
      contactsFinished: false,
    });

    const second = await backfill(current);
    expect(second).toMatchObject({ status: "completed", resumed: true });
    // Counts carry over from the interrupted run.
    expect(second.counts).toMatchObject({ contactsRead: 450, contactsCreated: 450 });
    expect(current.salesforce.state.records("Contact")).toHaveLength(450);
    expect(collectionCreates(current).map((body) => body.records.length)).toEqual([200, 200, 50]);
  }, 30_000);

  it("stops on REQUEST_LIMIT_EXCEEDED with its progress saved, and a later run resumes without duplicates", async () => {
    const current = await start();
    await seedLinqContacts(current.linq, 450);
    let injected = false;
    const first = await backfill(current, {
      onProgress: (entry) => {
        if (!injected && entry.counts.contactsCreated >= 200) {
          injected = true;
          current.salesforce.faults.inject({
            kind: "request-limit",
            match: { method: "POST", path: /\/composite\/sobjects$/ },
            times: 1,
          });
        }
      },
    });
    expect(first).toMatchObject({ status: "interrupted", interruptedBy: "request-limit" });
    expect(first.retryAfterSeconds).toBeGreaterThan(0);
    expect(current.salesforce.state.records("Contact")).toHaveLength(200);
    expect(current.store.all(CONTACT_MAPPING)).toHaveLength(200);

    // The limit has reset: a new process (a fresh API, no memory of the refusal) continues.
    const later = createSalesforceConnector({
      instanceUrl: current.salesforce.instanceUrl,
      loginUrl: current.salesforce.loginUrl,
      clientId: current.salesforce.clientId,
      clientSecret: current.salesforce.clientSecret,
      refreshToken: current.salesforce.issueRefreshToken(),
      accessToken: current.salesforce.issueAccessToken(),
      apiVersion: current.salesforce.apiVersion,
      pollIntervalSeconds: false,
    });
    const second = await later.backfill({
      linq: current.linq,
      store: current.store,
      since,
      contacts: true,
      messages: false,
    });
    expect(second).toMatchObject({ status: "completed", resumed: true });
    expect(second.counts.contactsCreated).toBe(450);
    const records = current.salesforce.state.records("Contact");
    expect(records).toHaveLength(450);
    expect(new Set(records.map((record) => record.MobilePhone)).size).toBe(450);
  }, 30_000);

  it("counts and logs records Salesforce refuses, with the error code, and goes on", async () => {
    const current = await start({ salesforce: { duplicateRules: { Contact: ["Email", "LastName"] } } });
    // A record the index cannot match (no phone, no email) that the org's duplicate rule names: linked.
    const smith = current.salesforce.users.create("Contact", { LastName: "Smith" });
    await current.linq.createContact({
      contact: { first_name: "Sam", last_name: "Smith", phone_number: "+15553000009" },
    });
    await seedLinqContacts(current.linq, 4);
    await current.linq.createContact({
      contact: { first_name: "Long", phone_number: "+15553000001", title: "x".repeat(200) },
    });
    // Two people sharing an email: the org's duplicate rule refuses the second one.
    await current.linq.createContact({
      contact: { first_name: "Twin", phone_number: "+15553000002", email: "twin@example.com" },
    });
    await current.linq.createContact({
      contact: { first_name: "Twin2", phone_number: "+15553000003", email: "twin@example.com" },
    });
    const summary = await backfill(current);
    expect(summary.status).toBe("completed");
    expect(summary.counts).toMatchObject({ contactsCreated: 5, contactsSkipped: 2, contactsLinked: 1 });
    const records = current.salesforce.state.records("Contact");
    expect(records).toHaveLength(6);
    expect(current.salesforce.state.record("Contact", smith.Id)).toMatchObject({
      FirstName: "Sam",
      MobilePhone: "+15553000009",
    });
    expect(records.filter((record) => record.Email === "twin@example.com")).toHaveLength(1);
    const codes = current.logs
      .filter((entry) => entry.message?.startsWith("backfill: Contact not created") === true)
      .map((entry) => entry.fields.code)
      .sort();
    expect(codes).toEqual(["DUPLICATES_DETECTED", "STRING_TOO_LONG"]);
  }, 20_000);

  it("uses Bulk API 2.0 above the threshold: one insert job, results mapped back to Linq contacts", async () => {
    const current = await start({ connector: { bulkThreshold: 50 } });
    await seedLinqContacts(current.linq, 120);
    await current.linq.createContact({
      contact: { first_name: "Long", phone_number: "+15553000001", title: "x".repeat(200) },
    });
    const summary = await backfill(current);
    expect(summary).toMatchObject({ status: "completed", method: "bulk" });
    expect(summary.counts).toMatchObject({ contactsCreated: 120, contactsSkipped: 1, bulkJobs: 1 });
    const jobs = current.salesforce.state.bulkJobs();
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ operation: "insert", object: "Contact", state: "JobComplete" });
    expect(collectionCreates(current)).toHaveLength(0);
    const records = current.salesforce.state.records("Contact");
    expect(records).toHaveLength(120);
    // Every mapping points at the record holding that Linq contact's phone number.
    const byId = new Map(records.map((record) => [record.Id, record]));
    const linqContacts = [];
    for await (const contact of current.linq.iterateContacts({ perPage: 100 })) linqContacts.push(contact);
    for (const mapping of current.store.all(CONTACT_MAPPING)) {
      const contact = linqContacts.find((entry) => String(entry.id) === mapping.linqId);
      expect(byId.get(mapping.externalId)?.MobilePhone).toBe(contact?.phone_number);
    }
    expect(current.store.all(CONTACT_MAPPING)).toHaveLength(120);
    expect(
      current.logs.find((entry) => entry.message === "backfill: Contact not created (Bulk API)")?.fields.code,
    ).toBe("STRING_TOO_LONG");

    // A rerun finds everything: no new job.
    const rerun = await backfill(current, {
      restart: true,
    });
    expect(rerun.counts).toMatchObject({ contactsCreated: 0, contactsUnchanged: 120, bulkJobs: 0 });
    expect(current.salesforce.state.bulkJobs()).toHaveLength(1);
  }, 20_000);

  it("upserts on the external-id field with Bulk API 2.0 when one is configured", async () => {
    const current = await start({
      salesforce: {
        customFields: { Contact: [{ name: "Linq_Id__c", type: "string", externalId: true, unique: true }] },
      },
      connector: { bulkThreshold: 50, externalIdField: "Linq_Id__c" },
    });
    await seedLinqContacts(current.linq, 80);
    const summary = await backfill(current);
    expect(summary.counts).toMatchObject({ contactsCreated: 80, bulkJobs: 1 });
    expect(current.salesforce.state.bulkJobs()[0]).toMatchObject({
      operation: "upsert",
      externalIdFieldName: "Linq_Id__c",
    });
    const records = current.salesforce.state.records("Contact");
    expect(records).toHaveLength(80);
    for (const mapping of current.store.all(CONTACT_MAPPING)) {
      expect(records.find((record) => record.Id === mapping.externalId)?.Linq_Id__c).toBe(mapping.linqId);
    }
  }, 20_000);

  it("backfills Leads with the company placeholder, and Contacts with their company's Account", async () => {
    const current = await start({ route: { objectType: "Lead" } });
    await current.linq.createContact({ contact: { first_name: "Ann", phone_number: "+15554000001" } });
    await current.linq.createContact({
      contact: { first_name: "Bo", phone_number: "+15554000002", company: "Acme" },
    });
    const leads = await backfill(current, {
      route: current.route,
    });
    expect(leads.counts.contactsCreated).toBe(2);
    expect(
      current.salesforce.state.records("Lead").map((lead) => [lead.FirstName, lead.LastName, lead.Company]),
    ).toEqual([
      ["Ann", "Ann", "Unknown (via Linq)"],
      ["Bo", "Bo", "Acme"],
    ]);

    const contacts = await current.connector.backfill({
      linq: current.linq,
      store: new MemoryMappingStore(),
      since,
      contacts: true,
      messages: false,
      route: { name: "contacts", settings: { objectType: "Contact" } },
    });
    expect(contacts.counts.contactsCreated).toBe(2);
    const accounts = current.salesforce.state.records("Account");
    expect(accounts.map((account) => account.Name)).toEqual(["Acme"]);
    const bo = current.salesforce.state.records("Contact").find((record) => record.FirstName === "Bo");
    expect(bo?.AccountId).toBe(accounts[0]?.Id);
  }, 20_000);
});

describe("backfillSalesforce: messages", () => {
  it("logs conversation history as Tasks once, in collections, creating the unknown sender's Contact", async () => {
    const current = await start();
    await current.linq.createContact({
      contact: { first_name: "Jane", last_name: "Doe", phone_number: "+15551234567" },
    });
    const { chat } = await current.linqSimulator.inbound.text({ from: "+15551234567", text: "one" });
    await current.linq.sendMessage(chat.id, { text: "two" });
    await current.linqSimulator.inbound.text({ from: "+15551234567", text: "three" });
    await current.linqSimulator.inbound.text({ from: "+15559990000", text: "a stranger" });
    const summary = await backfill(current, {
      contacts: true,
      messages: true,
    });
    expect(summary.status).toBe("completed");
    expect(summary.counts).toMatchObject({
      contactsCreated: 1,
      messagesRead: 4,
      messagesLogged: 4,
      messagesSkipped: 0,
      chatsDone: 2,
    });
    const contacts = current.salesforce.state.records("Contact");
    expect(contacts).toHaveLength(2); // Jane and the stranger
    const jane = contacts.find((record) => record.MobilePhone === "+15551234567");
    const stranger = contacts.find((record) => record.MobilePhone === "+15559990000");
    const tasks = current.salesforce.state.records("Task");
    expect(tasks).toHaveLength(4);
    const janeTasks = tasks.filter((task) => task.WhoId === jane?.Id);
    expect(janeTasks.map((task) => task.Subject).sort()).toEqual([
      expect.stringMatching(/from Jane Doe$/),
      expect.stringMatching(/from Jane Doe$/),
      expect.stringMatching(/to Jane Doe$/),
    ]);
    expect(janeTasks.every((task) => task.Status === "Completed")).toBe(true);
    expect(janeTasks.map((task) => String(task.Description)).join("\n")).toContain("three");
    expect(tasks.filter((task) => task.WhoId === stranger?.Id)).toHaveLength(1);
    // One collection for the stranger's Contact, one for the 4 Tasks (plus Jane's create).
    const taskCreates = collectionCreates(current).filter((body) =>
      (body.records as { attributes: { type: string } }[]).every(
        (record) => record.attributes.type === "Task",
      ),
    );
    expect(taskCreates.map((body) => body.records.length)).toEqual([4]);
    expect(current.store.all(TASK_MAPPING)).toHaveLength(4);

    const again = await backfill(current, {
      contacts: true,
      messages: true,
      restart: true,
    });
    expect(again.counts).toMatchObject({ messagesLogged: 0, messagesAlreadyLogged: 4 });
    expect(current.salesforce.state.records("Task")).toHaveLength(4);
  }, 20_000);

  it("writes one digest Task per conversation and day, extended by a later run", async () => {
    const current = await start({ route: { activities: "daily-digest" } });
    const { chat } = await current.linqSimulator.inbound.text({ from: "+15551234567", text: "hello" });
    await current.linq.sendMessage(chat.id, { text: "hi there" });
    const first = await backfill(current, {
      contacts: false,
      messages: true,
      route: current.route,
    });
    expect(first.counts).toMatchObject({ messagesLogged: 2, chatsDone: 1 });
    const tasks = current.salesforce.state.records("Task");
    expect(tasks).toHaveLength(1);
    expect(tasks[0]?.Description).toEqual(expect.stringContaining("hello"));
    expect(tasks[0]?.Description).toEqual(expect.stringContaining("hi there"));
    expect(current.store.all(DIGEST_MAPPING)).toHaveLength(1);

    await current.linqSimulator.inbound.text({ from: "+15551234567", text: "one more thing" });
    const second = await backfill(current, {
      contacts: false,
      messages: true,
      route: current.route,
      restart: true,
    });
    expect(second.counts).toMatchObject({ messagesLogged: 1, messagesAlreadyLogged: 2 });
    const after = current.salesforce.state.records("Task");
    expect(after).toHaveLength(1);
    expect(after[0]?.Description).toEqual(expect.stringContaining("one more thing"));
    expect(after[0]?.Description).toEqual(expect.stringContaining("hello"));
    expect(current.store.all(TASK_MAPPING)).toHaveLength(3);
  }, 20_000);
});
