import { afterEach, describe, expect, it } from "vitest";
import { type Harness, linqEvent, startHarness } from "./connector-harness.test-helpers.ts";
import { ContactSync } from "./contact-sync.ts";
import { CONTACT_MAPPING, HANDLE_MAPPING } from "./mappings.ts";
import { parseDefaultRouteSettings, parseRouteSettings, type SalesforceRouteSettings } from "./settings.ts";

/** A ContactSync over a replica's API (what the activities use). */
function contactSyncOf(harness: Harness, replica: number): ContactSync {
  const connector = harness.connectors[replica] ?? harness.connector;
  return new ContactSync({
    api: connector.api,
    externalIdFields: {},
    bulkThreshold: 2000,
    phoneNumberOptions: {},
    now: () => new Date(),
    logger: undefined,
  });
}

function routeSettings(harness: Harness): SalesforceRouteSettings {
  return parseRouteSettings(harness.route, parseDefaultRouteSettings(undefined));
}

function contactWrites(harness: Harness, method: "POST" | "PATCH"): number {
  return harness.salesforce.requests.filter(
    (request) =>
      request.method === method &&
      /\/sobjects\/(Contact|Lead)(\/|$)/.test(request.path) &&
      request.status !== null,
  ).length;
}

describe("Linq → Salesforce contacts", () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it("creates the Contact of a new Linq contact, links its company's Account, and stores the links", async () => {
    harness = await startHarness();
    const { linq, salesforce, store } = harness;
    const jane = await linq.createContact({
      contact: {
        first_name: "Jane",
        last_name: "Doe",
        email: "jane@example.com",
        phone_number: "+15551234567",
        company: "Acme",
        title: "CEO",
        location: "Austin",
      },
    });
    await harness.settle();
    const accounts = salesforce.state.records("Account");
    expect(accounts).toHaveLength(1);
    expect(accounts[0]).toMatchObject({ Name: "Acme" });
    const [contact] = salesforce.state.records("Contact");
    expect(salesforce.state.records("Contact")).toHaveLength(1);
    expect(contact).toMatchObject({
      FirstName: "Jane",
      LastName: "Doe",
      Email: "jane@example.com",
      MobilePhone: "+15551234567",
      Title: "CEO",
      MailingCity: "Austin",
      AccountId: accounts[0]?.Id,
    });
    const mapping = await store.findByLinqId(CONTACT_MAPPING, String(jane.id));
    expect(mapping?.externalId).toBe(contact?.Id);
    expect(mapping?.metadata).toMatchObject({
      objectType: "Contact",
      handles: ["+15551234567", "jane@example.com"],
    });
    expect((await store.findByLinqId(HANDLE_MAPPING, "+15551234567"))?.metadata).toEqual({
      recordId: contact?.Id,
      objectType: "Contact",
    });

    // A second person of the same company joins the same Account (found with SOQL by Name).
    await linq.createContact({
      contact: { first_name: "John", phone_number: "+15551230000", company: "Acme" },
    });
    await harness.settle();
    expect(salesforce.state.records("Account")).toHaveLength(1);
    const john = salesforce.state.records("Contact").find((record) => record.FirstName === "John");
    // LastName is required: derived from the first name, and not copied back to Linq.
    expect(john).toMatchObject({ LastName: "John", AccountId: accounts[0]?.Id });
    const linqJohn = harness.linqSimulator.state.contacts().find((person) => person.first_name === "John");
    expect(linqJohn?.last_name ?? "").toBe("");
    expect(harness.runner.deadLetters).toEqual([]);
  });

  it('matches a Contact whose phone was typed "(555) 123-4567" (SOSL), without rewriting it', async () => {
    harness = await startHarness();
    const { linq, salesforce } = harness;
    const existing = salesforce.users.create("Contact", {
      FirstName: "Jane",
      LastName: "Smith",
      Phone: "(555) 123-4567",
    });
    await linq.createContact({ contact: { first_name: "Jane", phone_number: "+15551234567", title: "CTO" } });
    await harness.settle();
    const contacts = salesforce.state.records("Contact");
    expect(contacts).toHaveLength(1);
    expect(contacts[0]).toMatchObject({
      Id: existing.Id,
      Phone: "(555) 123-4567",
      MobilePhone: null,
      LastName: "Smith",
      Title: "CTO",
    });
    const searches = salesforce.requests.filter((request) => request.path.endsWith("/search"));
    expect(searches.length).toBeGreaterThan(0);
    // First link, two-way: Salesforce's last name went to Linq.
    expect(harness.linqSimulator.state.contacts()[0]).toMatchObject({ last_name: "Smith", title: "CTO" });
  });

  it("matches by email (case-insensitively) when the phone finds nothing", async () => {
    harness = await startHarness();
    const { linq, salesforce } = harness;
    const existing = salesforce.users.create("Contact", { LastName: "Doe", Email: "Jane@Example.com" });
    salesforce.users.create("Contact", { LastName: "Other", Email: "other@example.com" });
    await linq.createContact({
      contact: { first_name: "Jane", email: "jane@example.com", phone_number: "+15559998888" },
    });
    await harness.settle();
    expect(salesforce.state.records("Contact")).toHaveLength(2);
    expect(salesforce.state.record("Contact", existing.Id)).toMatchObject({
      FirstName: "Jane",
      LastName: "Doe",
      Email: "Jane@Example.com",
      MobilePhone: "+15559998888",
    });
  });

  it("Lead mode: creates Leads with LastName derived and the Company placeholder", async () => {
    harness = await startHarness({ route: { objectType: "Lead", companyPlaceholder: "Via Linq" } });
    const { linq, salesforce } = harness;
    await linq.createContact({ contact: { first_name: "Sam", phone_number: "+15551112222" } });
    await linq.createContact({
      contact: { first_name: "Kim", last_name: "Lee", phone_number: "+15551113333", company: "Globex" },
    });
    await harness.settle();
    expect(salesforce.state.records("Contact")).toHaveLength(0);
    const leads = salesforce.state.records("Lead");
    expect(leads).toHaveLength(2);
    expect(leads.find((lead) => lead.FirstName === "Sam")).toMatchObject({
      LastName: "Sam",
      Company: "Via Linq",
      MobilePhone: "+15551112222",
    });
    expect(leads.find((lead) => lead.FirstName === "Kim")).toMatchObject({
      LastName: "Lee",
      Company: "Globex",
    });
    expect(
      harness.linqSimulator.state
        .contacts()
        .every((person) => (person.last_name ?? "") === "" || person.last_name === "Lee"),
    ).toBe(true);
    expect(harness.runner.deadLetters).toEqual([]);
  });

  it("with an external-id field: upserts on the Linq id and stamps a matched record with it", async () => {
    harness = await startHarness({
      salesforce: {
        customFields: { Contact: [{ name: "Linq_Id__c", type: "string", externalId: true, unique: true }] },
      },
      connector: { externalIdField: "Linq_Id__c" },
    });
    const { linq, salesforce } = harness;
    const matched = salesforce.users.create("Contact", { LastName: "Known", MobilePhone: "555-123-4567" });
    const known = await linq.createContact({ contact: { last_name: "Known", phone_number: "+15551234567" } });
    const fresh = await linq.createContact({ contact: { first_name: "New", phone_number: "+15557654321" } });
    await harness.settle();
    const contacts = salesforce.state.records("Contact");
    expect(contacts).toHaveLength(2);
    expect(salesforce.state.record("Contact", matched.Id)?.Linq_Id__c).toBe(String(known.id));
    expect(contacts.find((record) => record.FirstName === "New")?.Linq_Id__c).toBe(String(fresh.id));
    const upserts = salesforce.requests.filter((request) => request.path.includes("/Linq_Id__c/"));
    expect(upserts).toHaveLength(1);
    expect(contactWrites(harness, "POST")).toBe(0);
  });

  it("concurrent events for one new person on two replicas make exactly one record", async () => {
    harness = await startHarness({ replicas: 2, linqWebhooks: false });
    const { linq, salesforce, connectors } = harness;
    const contact = await linq.createContact({
      contact: { first_name: "Jane", phone_number: "+15551234567", email: "jane@example.com" },
    });
    const data = { ...contact, id: contact.id as number };
    const events = [
      linqEvent("contact.created", data),
      linqEvent("contact.updated", data),
      linqEvent("contact.created", data),
      linqEvent("contact.updated", { ...data, title: "CEO" }),
    ];
    const context = harness.context();
    // A text from the same number is being logged on the second replica at the same time.
    await Promise.all([
      ...events.map((event, index) => connectors[index % connectors.length]?.handleEvent(event, context)),
      contactSyncOf(harness, 1).recordForHandle("+15551234567", routeSettings(harness), context, {
        create: true,
        verify: false,
      }),
    ]);
    await harness.settle();
    const records = salesforce.state.records("Contact");
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ FirstName: "Jane", Email: "jane@example.com", Title: "CEO" });
    expect(harness.store.all(CONTACT_MAPPING)).toHaveLength(1);
  });

  it("an expired token is refreshed mid-run and nothing is lost", async () => {
    harness = await startHarness();
    const { linq, salesforce } = harness;
    await linq.createContact({ contact: { first_name: "One", phone_number: "+15551230001" } });
    await harness.settle();
    salesforce.expireAllTokens();
    await linq.createContact({ contact: { first_name: "Two", phone_number: "+15551230002" } });
    await linq.createContact({ contact: { first_name: "Three", phone_number: "+15551230003" } });
    await harness.settle();
    expect(
      salesforce.state
        .records("Contact")
        .map((record) => record.FirstName)
        .sort(),
    ).toEqual(["One", "Three", "Two"]);
    expect(salesforce.requests.some((request) => request.path.endsWith("/oauth2/token"))).toBe(true);
    expect(salesforce.requests.some((request) => request.status === 401)).toBe(true);
    expect(harness.runner.deadLetters).toEqual([]);
  });

  it("a replayed event writes nothing; an update writes only what changed", async () => {
    harness = await startHarness();
    const { linq, salesforce } = harness;
    const contact = await linq.createContact({
      contact: { first_name: "Jane", phone_number: "+15551234567" },
    });
    await harness.settle();
    const created = harness.linqEvents.find((event) => event.event_type === "contact.created");
    if (created === undefined) throw new Error("no contact.created event");
    const requestsBefore = salesforce.requests.length;
    await harness.connector.handleEvent(created, harness.context());
    await harness.connector.handleEvent(
      linqEvent("contact.created", created.data as never),
      harness.context(),
    );
    expect(salesforce.requests.length).toBe(requestsBefore);
    await linq.updateContact(contact.id as number, { contact: { first_name: "Jane", title: "CTO" } });
    await harness.settle();
    const patches = salesforce.requests.filter(
      (request) => request.method === "PATCH" && request.path.includes("/sobjects/Contact/"),
    );
    expect(patches).toHaveLength(1);
    expect(patches[0]?.body).toEqual({ Title: "CTO" });
    expect(salesforce.state.records("Contact")).toHaveLength(1);
  });

  it("a create whose answer was lost is found on the retry, not made twice", async () => {
    harness = await startHarness();
    const { linq, salesforce } = harness;
    salesforce.faults.inject({
      kind: "drop-after-processing",
      match: { method: "POST", path: /\/sobjects\/Contact$/ },
      times: 1,
    });
    const contact = await linq.createContact({
      contact: { first_name: "Jane", phone_number: "+15551234567" },
    });
    await harness.settle();
    const records = salesforce.state.records("Contact");
    expect(records).toHaveLength(1);
    expect(harness.runner.handled.some((entry) => entry.outcome === "retry")).toBe(true);
    expect((await harness.store.findByLinqId(CONTACT_MAPPING, String(contact.id)))?.externalId).toBe(
      records[0]?.Id,
    );
    expect(harness.runner.deadLetters).toEqual([]);
  });

  it("REQUEST_LIMIT_EXCEEDED: the job waits, is retried and completes", async () => {
    harness = await startHarness({ connector: { requestLimitRetrySeconds: 1 } });
    const { linq, salesforce } = harness;
    salesforce.faults.inject({ kind: "request-limit", match: { method: "POST" }, times: 1 });
    await linq.createContact({ contact: { first_name: "Jane", phone_number: "+15551234567" } });
    await harness.settle();
    expect(salesforce.state.records("Contact")).toHaveLength(1);
    const outcomes = harness.runner.handled
      .filter((entry) => entry.item.kind === "event")
      .map((entry) => entry.outcome);
    // Retried (once, or again if the runner's timer fired before the wait was over), then done.
    expect(outcomes.at(-1)).toBe("ok");
    expect(outcomes.slice(0, -1).length).toBeGreaterThanOrEqual(1);
    expect(outcomes.slice(0, -1).every((outcome) => outcome === "retry")).toBe(true);
    expect(harness.runner.deadLetters).toEqual([]);
  });

  it("contact.deleted: delete the record, set a field, or only forget the link", async () => {
    harness = await startHarness({ route: { contactDeleted: "delete" } });
    const deleted = await harness.linq.createContact({
      contact: { first_name: "Gone", phone_number: "+15551230001" },
    });
    await harness.settle();
    expect(harness.salesforce.state.records("Contact")).toHaveLength(1);
    await harness.linq.deleteContact(deleted.id as number);
    await harness.settle();
    expect(harness.salesforce.state.records("Contact")).toHaveLength(0);
    expect(harness.store.all(CONTACT_MAPPING)).toHaveLength(0);
    expect(harness.store.all(HANDLE_MAPPING)).toHaveLength(0);
    await harness.close();

    harness = await startHarness({
      route: { contactDeleted: { setField: { name: "Description", value: "Deleted in Linq" } } },
    });
    const kept = await harness.linq.createContact({
      contact: { first_name: "Kept", phone_number: "+15551230002" },
    });
    await harness.settle();
    await harness.linq.deleteContact(kept.id as number);
    await harness.settle();
    expect(harness.salesforce.state.records("Contact")[0]?.Description).toBe("Deleted in Linq");
    expect(harness.store.all(CONTACT_MAPPING)).toHaveLength(0);
    await harness.close();

    harness = await startHarness();
    const ignored = await harness.linq.createContact({
      contact: { first_name: "Stays", phone_number: "+15551230003" },
    });
    await harness.settle();
    await harness.linq.deleteContact(ignored.id as number);
    await harness.settle();
    expect(harness.salesforce.state.records("Contact")).toHaveLength(1);
    expect(harness.store.all(CONTACT_MAPPING)).toHaveLength(0);
    // The number still leads to its record for activities.
    expect(harness.store.all(HANDLE_MAPPING)).toHaveLength(1);
  });

  it("recordForHandle: creates an unknown sender's record once; the Linq contact made later links to it", async () => {
    harness = await startHarness();
    const { salesforce } = harness;
    const contacts = contactSyncOf(harness, 0);
    const context = harness.context();
    const settings = routeSettings(harness);
    expect(
      await contacts.recordForHandle("+15551234567", settings, context, { create: false, verify: true }),
    ).toBeUndefined();
    const [first, second] = await Promise.all([
      contacts.recordForHandle("+15551234567", settings, context, { create: true, verify: false }),
      contacts.recordForHandle("(555) 123-4567", settings, context, { create: true, verify: true }),
    ]);
    expect(first?.id).toBeDefined();
    expect(second).toEqual(first);
    expect(salesforce.state.records("Contact")).toEqual([
      expect.objectContaining({ Id: first?.id, LastName: "+15551234567", MobilePhone: "+15551234567" }),
    ]);
    await harness.linq.createContact({
      contact: { first_name: "Jane", last_name: "Doe", phone_number: "+15551234567" },
    });
    await harness.settle();
    expect(salesforce.state.records("Contact")).toEqual([
      expect.objectContaining({ Id: first?.id, FirstName: "Jane", LastName: "Doe" }),
    ]);
    // An email handle (iMessage) without a record, and create off.
    expect(
      await contacts.recordForHandle("sam@example.com", settings, context, { create: false, verify: false }),
    ).toBeUndefined();
    // A handle whose record was deleted in Salesforce is verified and forgotten.
    salesforce.users.delete("Contact", first?.id ?? "");
    expect(
      await contacts.recordForHandle("+15551234567", settings, context, { create: false, verify: true }),
    ).toBeUndefined();
    expect(await harness.store.findByLinqId(HANDLE_MAPPING, "+15551234567")).toBeUndefined();
  });
});
