import { afterEach, describe, expect, it } from "vitest";
import { type Harness, linqEvent, startHarness } from "./connector-harness.test-helpers.ts";
import { CONTACT_MAPPING, HANDLE_MAPPING } from "./mappings.ts";

describe("Linq → HubSpot contacts", () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it("creates the HubSpot contact of a new Linq contact, with the default field mapping, and links it", async () => {
    harness = await startHarness();
    const { linq, hubspot, store } = harness;
    const created = await linq.createContact({
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
    const contacts = hubspot.state.contacts();
    expect(contacts).toHaveLength(1);
    expect(contacts[0]?.properties).toMatchObject({
      firstname: "Jane",
      lastname: "Doe",
      email: "jane@example.com",
      phone: "+15551234567",
      company: "Acme",
      jobtitle: "CEO",
      city: "Austin",
      hubspot_owner_id: "41629779", // the Linq owner admin@example.com is a HubSpot owner
    });
    const mapping = await store.findByLinqId(CONTACT_MAPPING, String(created.id));
    expect(mapping?.externalId).toBe(contacts[0]?.id);
    expect((await store.findByLinqId(HANDLE_MAPPING, "+15551234567"))?.metadata.contactId).toBe(
      contacts[0]?.id,
    );
    expect(harness.runner.deadLetters).toEqual([]);
  });

  it("matches a HubSpot contact whose phone was typed as (555) 123-4567, without rewriting it", async () => {
    harness = await startHarness();
    const { linq, hubspot } = harness;
    // A contact that was in HubSpot before the sync started (no webhook for it).
    const target = hubspot.webhooks.targetUrl;
    hubspot.webhooks.targetUrl = null;
    const existing = hubspot.crm.createContact({ phone: "(555) 123-4567", firstname: "Jane" });
    await hubspot.webhooks.flush();
    hubspot.webhooks.targetUrl = target;
    await linq.createContact({ contact: { last_name: "Doe", phone_number: "+15551234567" } });
    await harness.settle();
    const contacts = hubspot.state.contacts();
    expect(contacts).toHaveLength(1);
    expect(contacts[0]?.id).toBe(existing.id);
    expect(contacts[0]?.properties).toMatchObject({
      phone: "(555) 123-4567",
      firstname: "Jane",
      lastname: "Doe",
    });
    // Two-way first link: HubSpot's first name went to Linq.
    expect(harness.linqSimulator.state.contacts()[0]).toMatchObject({ first_name: "Jane", last_name: "Doe" });
  });

  it("matches by mobilephone and by email, and adopts the contact of a 409 on the email", async () => {
    harness = await startHarness({ hubspot: { searchIndexLagMs: 60_000 } });
    const { linq, hubspot } = harness;
    // Search cannot see it yet (index lag): the create answers 409 "Contact already exists. Existing ID".
    const existing = hubspot.crm.createContact({ email: "jane@example.com", firstname: "Jane" });
    const contact = await linq.createContact({
      contact: { email: "JANE@example.com", phone_number: "+15551234567", last_name: "Doe" },
    });
    await harness.settle();
    expect(hubspot.state.contacts()).toHaveLength(1);
    expect(hubspot.state.contact(existing.id)?.properties).toMatchObject({
      email: "jane@example.com",
      phone: "+15551234567",
      lastname: "Doe",
    });
    expect((await harness.store.findByLinqId(CONTACT_MAPPING, String(contact.id)))?.externalId).toBe(
      existing.id,
    );
    const conflicts = hubspot.requests.filter((request) => request.status === 409);
    expect(conflicts).toHaveLength(1);
  });

  it("updates only the changed fields and writes nothing when nothing changed (our own echo)", async () => {
    harness = await startHarness();
    const { linq, hubspot } = harness;
    const contact = await linq.createContact({
      contact: { first_name: "Jane", phone_number: "+15551234567" },
    });
    await harness.settle();
    const writesBefore = hubspot.requests.filter((request) => request.method === "PATCH").length;
    await linq.updateContact(contact.id as number, { contact: { first_name: "Jane", title: "CTO" } });
    await harness.settle();
    const patches = hubspot.requests.filter((request) => request.method === "PATCH");
    expect(patches).toHaveLength(writesBefore + 1);
    expect(patches.at(-1)?.body).toEqual({ properties: { jobtitle: "CTO" } });
    // The same event again (a replay): no write.
    const last = harness.linqEvents.at(-1);
    if (last === undefined) throw new Error("no event");
    await harness.connector.handleEvent(last, harness.context());
    expect(hubspot.requests.filter((request) => request.method === "PATCH")).toHaveLength(writesBefore + 1);
  });

  it("concurrent events for one new person on several replicas, with search lag, make one HubSpot contact", async () => {
    harness = await startHarness({
      replicas: 3,
      linqWebhooks: false,
      hubspot: { searchIndexLagMs: 30_000 },
    });
    const { linq, hubspot, connectors } = harness;
    const contact = await linq.createContact({
      contact: { first_name: "Jane", phone_number: "+15551234567", email: "jane@example.com" },
    });
    const data = { ...contact, id: contact.id as number };
    const { chat, message } = await harness.linqSimulator.inbound.text({
      from: "+15551234567",
      text: "Hello?",
    });
    const handles = [
      { identifier: "+15551234567", is_me: false },
      { identifier: "+15550001111", is_me: true },
    ];
    const messageData = {
      id: message.id,
      chat_id: chat.id,
      text: "Hello?",
      from_phone: "+15551234567",
      service: "iMessage",
      sent_at: message.sent_at,
      chat_handles: handles,
    };
    const events = [
      linqEvent("contact.created", data),
      linqEvent("contact.updated", data),
      linqEvent("message.received", messageData),
      linqEvent("contact.created", data),
      linqEvent("message.received", messageData),
      linqEvent("message.received", { ...messageData, id: message.id + 1000, text: "Anyone?" }),
    ];
    await Promise.all(
      events.map((event, index) =>
        connectors[index % connectors.length]?.handleEvent(event, harness?.context() ?? harness!.context()),
      ),
    );
    await harness.settle();
    const contacts = hubspot.state.contacts();
    expect(contacts).toHaveLength(1);
    expect(contacts[0]?.properties).toMatchObject({ firstname: "Jane", email: "jane@example.com" });
    expect(harness.store.all(CONTACT_MAPPING)).toHaveLength(1);
    // Two distinct messages, each logged once.
    expect(hubspot.state.communications()).toHaveLength(2);
    expect(hubspot.state.associations("contacts", contacts[0]?.id ?? "", "communications")).toHaveLength(2);
  });

  it("contact.deleted: ignored by default (link forgotten), archive, or a property set", async () => {
    harness = await startHarness({ route: { contactDeleted: "archive" } });
    const { linq, hubspot } = harness;
    const archived = await linq.createContact({
      contact: { first_name: "Gone", phone_number: "+15551230001" },
    });
    await harness.settle();
    expect(hubspot.state.contacts()).toHaveLength(1);
    await linq.deleteContact(archived.id as number);
    await harness.settle();
    expect(hubspot.state.contacts()).toHaveLength(0);
    expect(hubspot.state.contacts({ archived: true })).toHaveLength(1);
    await harness.close();

    harness = await startHarness({
      route: { contactDeleted: { setProperty: { name: "hs_lead_status", value: "UNQUALIFIED" } } },
    });
    const kept = await harness.linq.createContact({
      contact: { first_name: "Kept", phone_number: "+15551230002" },
    });
    await harness.settle();
    await harness.linq.deleteContact(kept.id as number);
    await harness.settle();
    expect(harness.hubspot.state.contacts()[0]?.properties.hs_lead_status).toBe("UNQUALIFIED");
    expect(harness.store.all(CONTACT_MAPPING)).toHaveLength(0);
    await harness.close();

    harness = await startHarness();
    const ignored = await harness.linq.createContact({
      contact: { first_name: "Stays", phone_number: "+15551230003" },
    });
    await harness.settle();
    await harness.linq.deleteContact(ignored.id as number);
    await harness.settle();
    expect(harness.hubspot.state.contacts()).toHaveLength(1);
    expect(harness.store.all(CONTACT_MAPPING)).toHaveLength(0);
    // The number still maps to its HubSpot contact for activities.
    expect(harness.store.all(HANDLE_MAPPING)).toHaveLength(1);
  });

  it("honours a route's field mapping and a linq-to-crm route never writes to Linq", async () => {
    harness = await startHarness({
      route: { contacts: "linq-to-crm", fieldMapping: { phone_number: "mobilephone", location: null } },
    });
    const { linq, hubspot } = harness;
    hubspot.crm.createContact({ mobilephone: "555.123.4567", firstname: "HubSpotName", city: "Paris" });
    await harness.settle();
    await linq.createContact({
      contact: { first_name: "LinqName", phone_number: "+15551234567", location: "Austin" },
    });
    await harness.settle();
    const [contact] = hubspot.state.contacts();
    expect(contact?.properties).toMatchObject({
      firstname: "LinqName",
      mobilephone: "555.123.4567",
      city: "Paris",
    });
    expect(contact?.properties.phone).toBeUndefined();
    expect(harness.linqSimulator.state.contacts()[0]?.first_name).toBe("LinqName");
  });
});
