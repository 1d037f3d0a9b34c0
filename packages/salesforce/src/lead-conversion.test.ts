import { afterEach, describe, expect, it } from "vitest";
import { type Harness, type HarnessOptions, startHarness } from "./connector-harness.test-helpers.ts";
import { CONTACT_MAPPING, HANDLE_MAPPING, pollCursorName } from "./mappings.ts";
import { RECORD_CHANGED_JOB } from "./polling.ts";
import { manualClock } from "./testing/salesforce-simulator.test-helpers.ts";

const JANE = "+15551234567";

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** A Lead route harness whose Salesforce and connector clock moves when told (for polls). */
async function startLeadRoute(options: HarnessOptions = {}) {
  const clock = manualClock(new Date(Date.now() - 10 * 60_000).toISOString());
  harness = await startHarness({
    ...options,
    route: { objectType: "Lead", ...options.route },
    salesforce: { now: clock.now },
    connector: { now: clock.now },
  });
  const current = harness;
  return {
    harness: current,
    clock,
    /** Polls a few seconds later (as the schedule would), and waits for the jobs. */
    pollLater: async () => {
      clock.advance(5_000);
      await current.poll();
    },
  };
}

/** Jane's Linq contact (its Lead made by the connector) and her Linq id. */
async function createJane(current: Harness): Promise<string> {
  const created = await current.linq.createContact({
    contact: { first_name: "Jane", last_name: "Doe", phone_number: JANE, company: "Acme" },
  });
  await current.settle();
  return String(created.id);
}

function onlyLead(current: Harness) {
  const leads = current.salesforce.state.records("Lead");
  expect(leads).toHaveLength(1);
  return leads[0] as (typeof leads)[number];
}

describe("converted Leads are followed to their Contact", () => {
  it("a Linq update goes to the Contact, never to the Lead or a new record; Tasks go on the Contact", async () => {
    const { harness: current } = await startLeadRoute();
    const { salesforce, linq, linqSimulator } = current;
    const janeId = await createJane(current);
    const lead = onlyLead(current);
    expect(lead).toMatchObject({ FirstName: "Jane", LastName: "Doe", Company: "Acme", MobilePhone: JANE });
    await linqSimulator.inbound.text({ from: JANE, text: "Before the conversion" });
    await current.settle();

    const { contactId, accountId } = salesforce.users.convertLead(lead.Id);
    await linq.updateContact(janeId, { contact: { first_name: "Jane", title: "CTO", company: "Acme Corp" } });
    await current.settle();

    expect(current.runner.deadLetters).toEqual([]);
    expect(salesforce.state.records("Lead")).toHaveLength(1);
    expect(salesforce.state.record("Lead", lead.Id)).toMatchObject({ IsConverted: true, Title: null });
    const contacts = salesforce.state.records("Contact");
    expect(contacts).toHaveLength(1);
    const account = salesforce.state.records("Account").find((entry) => entry.Name === "Acme Corp");
    expect(contacts[0]).toMatchObject({
      Id: contactId,
      FirstName: "Jane",
      LastName: "Doe",
      MobilePhone: JANE,
      Title: "CTO",
      AccountId: account?.Id,
    });
    expect(account?.Id).not.toBe(accountId);
    expect(current.store.all(CONTACT_MAPPING)).toEqual([
      expect.objectContaining({
        linqId: janeId,
        externalId: contactId,
        metadata: expect.objectContaining({ objectType: "Contact" }),
      }),
    ]);
    expect(current.store.all(HANDLE_MAPPING)).toEqual([
      expect.objectContaining({ linqId: JANE, metadata: { recordId: contactId, objectType: "Contact" } }),
    ]);

    await linqSimulator.inbound.text({ from: JANE, text: "After the conversion" });
    await current.settle();
    const tasks = salesforce.state.records("Task");
    expect(tasks).toHaveLength(2);
    expect(tasks.map((task) => task.WhoId)).toEqual([contactId, contactId]);
    expect(tasks[1]?.Description).toContain("After the conversion");
    // The Linq contact kept its values; nothing was copied back but what changed.
    expect(linqSimulator.state.contacts()).toEqual([
      expect.objectContaining({ first_name: "Jane", last_name: "Doe", title: "CTO", company: "Acme Corp" }),
    ]);
    // A new person on the route still becomes a Lead.
    await linq.createContact({ contact: { first_name: "Sam", phone_number: "+15557654321" } });
    await current.settle();
    expect(salesforce.state.records("Lead").map((entry) => entry.FirstName)).toEqual(["Jane", "Sam"]);
    expect(salesforce.state.records("Contact")).toHaveLength(1);
    expect(current.runner.deadLetters).toEqual([]);
  });

  it("a sender whose Lead was converted: the refused Task is logged on the Contact, and the handle follows", async () => {
    const { harness: current } = await startLeadRoute();
    const { salesforce, linqSimulator } = current;
    await linqSimulator.inbound.text({ from: JANE, text: "Hi, who is this?" });
    await current.settle();
    const lead = onlyLead(current);
    expect(lead).toMatchObject({ LastName: JANE, Company: "Unknown (via Linq)" });
    const { contactId } = salesforce.users.convertLead(lead.Id);

    await linqSimulator.inbound.text({ from: JANE, text: "Still me" });
    await current.settle();

    expect(current.runner.deadLetters).toEqual([]);
    const refused = salesforce.requests.filter(
      (request) =>
        request.method === "POST" && request.path.endsWith("/sobjects/Task") && request.status === 400,
    );
    expect(refused).toHaveLength(1);
    const tasks = salesforce.state.records("Task");
    expect(tasks.map((task) => task.WhoId)).toEqual([contactId, contactId]);
    expect(tasks[1]?.Description).toContain("Still me");
    await expect(current.store.findByLinqId(HANDLE_MAPPING, JANE)).resolves.toMatchObject({
      metadata: { recordId: contactId, objectType: "Contact" },
    });
    expect(salesforce.state.records("Lead")).toHaveLength(1);
    expect(salesforce.state.records("Contact")).toHaveLength(1);
    // The next message goes straight to the Contact: no refused create.
    await linqSimulator.inbound.text({ from: JANE, text: "Third" });
    await current.settle();
    expect(
      salesforce.requests.filter(
        (request) => request.path.endsWith("/sobjects/Task") && request.status === 400,
      ),
    ).toHaveLength(1);
    expect(salesforce.state.records("Task")).toHaveLength(3);
  });

  it("the poll after a conversion links the Contact, and creates no Linq duplicate", async () => {
    const started = await startLeadRoute();
    const { harness: current, pollLater, clock } = started;
    const { salesforce, linqSimulator } = current;
    await pollLater(); // starts the cursors
    const janeId = await createJane(current);
    const lead = onlyLead(current);
    // Someone else's Lead, made in Salesforce and converted before any poll saw it.
    const other = salesforce.users.create("Lead", {
      FirstName: "Ravi",
      LastName: "Shah",
      Company: "Initech",
      Phone: "(555) 222-3333",
    });
    clock.advance(2_000);
    const jane = salesforce.users.convertLead(lead.Id);
    const ravi = salesforce.users.convertLead(other.Id);
    const linqWritesBefore = linqSimulator.requests.filter((request) => request.method !== "GET").length;

    await pollLater();

    expect(current.runner.deadLetters).toEqual([]);
    const people = linqSimulator.state.contacts();
    expect(people).toHaveLength(2);
    const raviInLinq = people.find((person) => person.first_name === "Ravi");
    expect(raviInLinq).toMatchObject({ last_name: "Shah", phone_number: "+15552223333" });
    const mappings = current.store.all(CONTACT_MAPPING);
    expect(
      mappings.map((mapping) => [mapping.linqId, mapping.externalId, mapping.metadata.objectType]),
    ).toEqual(
      expect.arrayContaining([
        [janeId, jane.contactId, "Contact"],
        [String(raviInLinq?.id), ravi.contactId, "Contact"],
      ]),
    );
    expect(mappings).toHaveLength(2);
    // Jane's Contact holds what her Linq contact holds: nothing written to Linq for her; only Ravi created.
    const linqWrites = linqSimulator.requests.filter((request) => request.method !== "GET").length;
    expect(linqWrites - linqWritesBefore).toBe(1);
    // Another poll changes nothing.
    await pollLater();
    expect(linqSimulator.state.contacts()).toHaveLength(2);
    expect(salesforce.state.records("Contact")).toHaveLength(2);
    expect(salesforce.state.records("Lead")).toHaveLength(2);
  });
});

describe("backfill after a conversion", () => {
  it("updates the Contact of a converted Lead and never recreates the Lead", async () => {
    const { harness: current } = await startLeadRoute({ linqWebhooks: false });
    const { salesforce, linq } = current;
    const jane = await linq.createContact({
      contact: { first_name: "Jane", last_name: "Doe", phone_number: JANE, email: "jane@acme.test" },
    });
    const ravi = await linq.createContact({
      contact: { first_name: "Ravi", last_name: "Shah", phone_number: "+15552223333" },
    });
    const run = (store = current.store) =>
      current.connector.backfill({
        linq,
        store,
        since: new Date(0),
        contacts: true,
        messages: false,
        restart: true,
        route: current.route,
      });
    expect((await run()).counts.contactsCreated).toBe(2);
    const leads = salesforce.state.records("Lead");
    const janeLead = leads.find((lead) => lead.FirstName === "Jane");
    const raviLead = leads.find((lead) => lead.FirstName === "Ravi");
    const janeConversion = salesforce.users.convertLead(String(janeLead?.Id));
    const raviConversion = salesforce.users.convertLead(String(raviLead?.Id));
    await linq.updateContact(String(jane.id), { contact: { first_name: "Jane", title: "CTO" } });

    const second = await run();

    expect(second.counts).toMatchObject({ contactsCreated: 0, contactsUpdated: 1, contactsUnchanged: 1 });
    expect(salesforce.state.records("Lead")).toHaveLength(2);
    expect(salesforce.state.records("Contact")).toHaveLength(2);
    expect(salesforce.state.record("Contact", janeConversion.contactId)?.Title).toBe("CTO");
    expect(
      current.store
        .all(CONTACT_MAPPING)
        .map((mapping) => [mapping.linqId, mapping.externalId, mapping.metadata.objectType]),
    ).toEqual(
      expect.arrayContaining([
        [String(jane.id), janeConversion.contactId, "Contact"],
        [String(ravi.id), raviConversion.contactId, "Contact"],
      ]),
    );

    // With no links at all (a new store), the converted people are linked to their Contacts.
    const { MemoryMappingStore } = await import("./connector-harness.test-helpers.ts");
    const freshStore = new MemoryMappingStore();
    const third = await run(freshStore);
    expect(third.counts).toMatchObject({ contactsCreated: 0, contactsLinked: 2 });
    expect(salesforce.state.records("Lead")).toHaveLength(2);
    expect(salesforce.state.records("Contact")).toHaveLength(2);
    expect(
      freshStore
        .all(CONTACT_MAPPING)
        .map((mapping) => mapping.externalId)
        .sort(),
    ).toEqual([janeConversion.contactId, raviConversion.contactId].sort());
    expect(freshStore.all(HANDLE_MAPPING).every((mapping) => mapping.metadata.objectType === "Contact")).toBe(
      true,
    );
  });
});

describe("a Lead route polls the Contacts of converted Leads it tracks", () => {
  /** Jane's Lead made from Linq, converted in Salesforce, and the poll that moves her link to the Contact. */
  async function convertedJane(started: Awaited<ReturnType<typeof startLeadRoute>>) {
    const { harness: current, pollLater } = started;
    await pollLater(); // starts the cursors (Leads and Contacts)
    const janeId = await createJane(current);
    const { contactId } = current.salesforce.users.convertLead(onlyLead(current).Id);
    await pollLater();
    expect(current.store.all(CONTACT_MAPPING)).toEqual([
      expect.objectContaining({ linqId: janeId, externalId: contactId }),
    ]);
    return { janeId, contactId };
  }

  /** The `salesforce.record-changed` jobs the runner handled for a record. */
  function jobsFor(current: Harness, recordId: string) {
    return current.runner.handled.filter(
      (entry) =>
        entry.item.kind === "job" &&
        entry.item.type === RECORD_CHANGED_JOB &&
        entry.item.payload.recordId === recordId,
    );
  }

  it("a Salesforce edit of the Contact reaches the Linq contact on the next poll, with no echo back", async () => {
    const started = await startLeadRoute();
    const { harness: current, pollLater } = started;
    const { salesforce, linqSimulator } = current;
    const { janeId, contactId } = await convertedJane(started);
    const salesforceWrites = () =>
      salesforce.requests.filter(
        (request) => request.method !== "GET" && request.path.includes("/sobjects/Contact"),
      ).length;
    const writesBefore = salesforceWrites();

    salesforce.users.update("Contact", contactId, { Title: "VP Sales", MailingCity: "Austin" });
    await pollLater();

    expect(current.runner.deadLetters).toEqual([]);
    expect(jobsFor(current, contactId).at(-1)).toMatchObject({
      item: { payload: { objectType: "Contact", recordId: contactId, deleted: false } },
      outcome: "ok",
    });
    expect(linqSimulator.state.contacts()).toEqual([
      expect.objectContaining({
        id: Number(janeId),
        first_name: "Jane",
        last_name: "Doe",
        title: "VP Sales",
        location: "Austin",
      }),
    ]);
    // The Linq update came back as contact.updated: nothing was written to Salesforce.
    expect(
      current.linqEvents.filter(
        (event) => event.event_type === "contact.updated" && String(event.data.id) === janeId,
      ).length,
    ).toBeGreaterThan(0);
    expect(salesforceWrites()).toBe(writesBefore);
    expect(salesforce.state.record("Contact", contactId)).toMatchObject({
      Title: "VP Sales",
      MailingCity: "Austin",
    });
    await expect(current.store.findByLinqId(CONTACT_MAPPING, janeId)).resolves.toMatchObject({
      metadata: { objectType: "Contact", synced: expect.objectContaining({ title: "VP Sales" }) },
    });
    // The next poll finds nothing new; a Linq edit still goes to the Contact.
    const handledBefore = current.runner.handled.length;
    await pollLater();
    expect(current.runner.handled).toHaveLength(handledBefore);
    await current.linq.updateContact(janeId, { contact: { first_name: "Jane", title: "COO" } });
    await current.settle();
    expect(salesforce.state.record("Contact", contactId)?.Title).toBe("COO");
    expect(salesforce.state.records("Lead")).toHaveLength(1);
    expect(salesforce.state.records("Contact")).toHaveLength(1);
  });

  it("an untracked Contact edited in Salesforce queues no job and reaches no Linq contact", async () => {
    const started = await startLeadRoute();
    const { harness: current, pollLater } = started;
    const { salesforce, linqSimulator } = current;
    await pollLater();
    const ravi = salesforce.users.create("Contact", {
      FirstName: "Ravi",
      LastName: "Shah",
      MobilePhone: "+15552223333",
    });
    await pollLater();
    salesforce.users.update("Contact", ravi.Id, { Title: "Buyer" });
    await pollLater();

    // The Contacts were read (and the cursor moved past Ravi), but no job was queued for him.
    const contactQueries = salesforce.requests.filter((request) =>
      /FROM Contact WHERE/.test(String(request.query.q ?? "")),
    );
    expect(contactQueries.length).toBeGreaterThan(0);
    expect(
      JSON.parse((await current.store.getCursor(pollCursorName("Contact"))) ?? "{}").at >
        String(salesforce.state.record("Contact", ravi.Id)?.SystemModstamp),
    ).toBe(true);
    expect(jobsFor(current, ravi.Id)).toEqual([]);
    expect(current.runner.handled.filter((entry) => entry.item.kind === "job")).toEqual([]);
    expect(linqSimulator.state.contacts()).toEqual([]);
    // A job for it anyway (a stale queue) is ignored: Lead routes copy no unlinked Contact to Linq.
    current.runner.submit({
      kind: "job",
      type: RECORD_CHANGED_JOB,
      payload: { objectType: "Contact", recordId: ravi.Id, deleted: false },
      route: undefined,
    });
    await current.settle();
    expect(jobsFor(current, ravi.Id)).toMatchObject([{ outcome: "ok" }]);
    expect(linqSimulator.state.contacts()).toEqual([]);
    expect(current.store.all(CONTACT_MAPPING)).toEqual([]);
    // Its deletion queues nothing either.
    salesforce.users.delete("Contact", ravi.Id);
    started.clock.advance(60_000);
    await pollLater();
    // Get Deleted on Contact covered the deletion, and queued nothing.
    const [deletion] = salesforce.state.deletedRecords("Contact");
    const window = salesforce.requests
      .filter((request) => request.path.includes("/sobjects/Contact/deleted"))
      .at(-1);
    expect(window?.status).toBe(200);
    expect(Date.parse(String(window?.query.start))).toBeLessThanOrEqual(
      Date.parse(String(deletion?.deletedDate)),
    );
    expect(Date.parse(String(window?.query.end))).toBeGreaterThan(Date.parse(String(deletion?.deletedDate)));
    expect(jobsFor(current, ravi.Id)).toHaveLength(1);
    expect(current.runner.deadLetters).toEqual([]);
  });

  it("a crm-to-linq route: deleting the tracked Contact in Salesforce deletes the Linq contact", async () => {
    const started = await startLeadRoute({
      route: { contacts: "crm-to-linq", salesforceRecordDeleted: "delete" },
    });
    const { harness: current, pollLater, clock } = started;
    const { salesforce, linqSimulator } = current;
    await pollLater();
    const lead = salesforce.users.create("Lead", {
      FirstName: "Jane",
      LastName: "Doe",
      Company: "Acme",
      MobilePhone: JANE,
    });
    await pollLater();
    const [jane] = linqSimulator.state.contacts();
    expect(jane).toMatchObject({ first_name: "Jane", last_name: "Doe", phone_number: JANE });
    const { contactId } = salesforce.users.convertLead(lead.Id);
    await pollLater();
    await expect(current.store.findByLinqId(CONTACT_MAPPING, String(jane?.id))).resolves.toMatchObject({
      externalId: contactId,
      metadata: { objectType: "Contact" },
    });
    // Before the deletion, an edit of the Contact comes back too (the route only reads Salesforce).
    salesforce.users.update("Contact", contactId, { Title: "CTO" });
    await pollLater();
    expect(linqSimulator.state.contacts()).toEqual([expect.objectContaining({ title: "CTO" })]);

    salesforce.users.delete("Contact", contactId);
    clock.advance(60_000);
    await pollLater();

    expect(current.runner.deadLetters).toEqual([]);
    expect(jobsFor(current, contactId).at(-1)).toMatchObject({
      item: { payload: { objectType: "Contact", recordId: contactId, deleted: true } },
      outcome: "ok",
    });
    expect(linqSimulator.state.contacts()).toEqual([]);
    expect(current.store.all(CONTACT_MAPPING)).toEqual([]);
    expect(current.store.all(HANDLE_MAPPING)).toEqual([]);
    // The converted Lead stays; nothing was written to Salesforce by the connector.
    expect(salesforce.state.records("Lead")).toHaveLength(1);
    expect(salesforce.requests.filter((request) => request.method !== "GET")).toEqual([]);
  });
});
