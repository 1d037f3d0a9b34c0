import { afterEach, describe, expect, it } from "vitest";
import { type Harness, linqEvent, startHarness } from "./connector-harness.test-helpers.ts";
import { createHubSpotConnector } from "./hubspot-connector.ts";
import { CONTACT_CHANGED_JOB } from "./hubspot-webhooks.ts";
import { CONTACT_MAPPING } from "./mappings.ts";
import { RECONCILIATION_CURSOR } from "./reconciliation.ts";

function linqContactWrites(harness: Harness): number {
  return harness.linqSimulator.requests.filter(
    (request) =>
      /\/contacts/.test(request.path) &&
      ["POST", "PUT", "PATCH"].includes(request.method) &&
      !request.path.endsWith("/find"),
  ).length;
}

function hubSpotContactWrites(harness: Harness): number {
  return harness.hubspot.requests.filter(
    (request) =>
      /^\/crm\/v3\/objects\/contacts/.test(request.path) &&
      !request.path.endsWith("/search") &&
      !request.path.endsWith("/batch/read") &&
      ["POST", "PATCH", "DELETE"].includes(request.method),
  ).length;
}

function contactJobs(harness: Harness) {
  return harness.runner.handled.filter(
    (entry) => entry.item.kind === "job" && entry.item.type === CONTACT_CHANGED_JOB,
  );
}

describe("HubSpot → Linq contacts", () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it("creates the Linq contact of a contact created in HubSpot, and the echoes stop there", async () => {
    harness = await startHarness();
    const { hubspot, linqSimulator } = harness;
    const created = hubspot.crm.createContact({
      firstname: "Jane",
      lastname: "Doe",
      phone: "(555) 123-4567",
      email: "jane@example.com",
    });
    await harness.settle();
    const contacts = linqSimulator.state.contacts();
    expect(contacts).toHaveLength(1);
    expect(contacts[0]).toMatchObject({
      first_name: "Jane",
      last_name: "Doe",
      phone_number: "+15551234567",
      email: "jane@example.com",
    });
    expect((await harness.store.findByExternalId(CONTACT_MAPPING, created.id))?.linqId).toBe(
      String(contacts[0]?.id),
    );
    // The Linq contact.created that our create caused wrote nothing back to HubSpot.
    expect(hubSpotContactWrites(harness)).toBe(0);
    expect(hubspot.state.contacts()).toHaveLength(1);
  });

  it("a contact made for an unknown sender stays out of Linq until someone names it in HubSpot", async () => {
    harness = await startHarness({ connector: { appId: undefined } });
    const { hubspot, linqSimulator } = harness;
    await linqSimulator.inbound.text({ from: "+15559876543", text: "Hi" });
    await harness.settle();
    const [contact] = hubspot.state.contacts();
    expect(linqSimulator.state.contacts()).toHaveLength(0);
    hubspot.crm.updateContact(contact?.id ?? "", { firstname: "Sam" });
    await harness.settle();
    expect(linqSimulator.state.contacts()).toEqual([
      expect.objectContaining({ first_name: "Sam", phone_number: "+15559876543" }),
    ]);
    expect(hubspot.state.contacts()).toHaveLength(1);
  });

  it("a change made in HubSpot flows to Linq once and does not bounce back", async () => {
    harness = await startHarness();
    const { hubspot, linq, linqSimulator } = harness;
    const contact = await linq.createContact({
      contact: { first_name: "Jane", phone_number: "+15551234567" },
    });
    await harness.settle();
    const hubSpotId =
      (await harness.store.findByLinqId(CONTACT_MAPPING, String(contact.id)))?.externalId ?? "";
    const linqWritesBefore = linqContactWrites(harness);
    const hubSpotWritesBefore = hubSpotContactWrites(harness);
    hubspot.crm.updateContact(hubSpotId, { firstname: "Janet", jobtitle: "CTO" });
    await harness.settle();
    expect(linqSimulator.state.contact(contact.id as number)).toMatchObject({
      first_name: "Janet",
      title: "CTO",
    });
    expect(linqContactWrites(harness)).toBe(linqWritesBefore + 1);
    expect(hubSpotContactWrites(harness)).toBe(hubSpotWritesBefore);
    // Linq's contact.updated (the echo) was handled and found nothing to do.
    expect(harness.linqEvents.filter((event) => event.event_type === "contact.updated")).toHaveLength(1);
    expect(harness.runner.deadLetters).toEqual([]);
  });

  it("ignores the INTEGRATION events of our own writes at the door when the app id is known", async () => {
    harness = await startHarness();
    const { linq, hubspot } = harness;
    await linq.createContact({ contact: { first_name: "Jane", phone_number: "+15551234567" } });
    await harness.settle();
    const ownEvents = hubspot.webhooks.events.filter((event) => event.changeSource === "INTEGRATION");
    expect(ownEvents.length).toBeGreaterThan(0);
    expect(hubspot.webhooks.deliveries.every((delivery) => delivery.status === 200)).toBe(true);
    expect(contactJobs(harness)).toHaveLength(0);
  });

  it("without the app id, our own echoes are recognised by their values: fetched, nothing written", async () => {
    harness = await startHarness({ connector: { appId: undefined } });
    const { linq, hubspot } = harness;
    await linq.createContact({ contact: { first_name: "Jane", phone_number: "+15551234567" } });
    await harness.settle();
    const linqWrites = linqContactWrites(harness);
    expect(contactJobs(harness).length).toBeGreaterThan(0);
    expect(linqWrites).toBe(1); // the create by the test itself
    expect(hubspot.state.contacts()).toHaveLength(1);
  });

  it("orders out-of-order batches by occurredAt and fetches the current record", async () => {
    harness = await startHarness({ linqWebhooks: false });
    const { hubspot, linqSimulator } = harness;
    hubspot.webhooks.configure({ reorder: true, delayMs: 30, random: () => 0.42 });
    const created = hubspot.crm.createContact({ firstname: "A", phone: "+15551234567" });
    hubspot.crm.updateContact(created.id, { firstname: "B" });
    hubspot.crm.updateContact(created.id, { firstname: "C", lastname: "Final" });
    await harness.settle();
    const jobs = contactJobs(harness);
    expect(jobs.length).toBeGreaterThan(0);
    for (const job of jobs) {
      if (job.item.kind !== "job") continue;
      const events = job.item.payload.events as { occurredAt: number; eventId: string }[];
      const sorted = [...events].sort(
        (left, right) => left.occurredAt - right.occurredAt || Number(left.eventId) - Number(right.eventId),
      );
      expect(events).toEqual(sorted);
    }
    expect(linqSimulator.state.contacts()).toHaveLength(1);
    expect(linqSimulator.state.contacts()[0]).toMatchObject({ first_name: "C", last_name: "Final" });
  });

  it("a contact deleted in HubSpot forgets the link, or deletes the Linq contact when configured", async () => {
    harness = await startHarness({ route: { hubSpotContactDeleted: "delete" } });
    const { hubspot, linq, linqSimulator } = harness;
    const contact = await linq.createContact({
      contact: { first_name: "Jane", phone_number: "+15551234567" },
    });
    await harness.settle();
    const hubSpotId =
      (await harness.store.findByLinqId(CONTACT_MAPPING, String(contact.id)))?.externalId ?? "";
    hubspot.crm.deleteContact(hubSpotId);
    await harness.settle();
    expect(linqSimulator.state.contacts()).toHaveLength(0);
    expect(harness.store.all(CONTACT_MAPPING)).toHaveLength(0);
    expect(hubspot.state.contacts({ archived: true })).toHaveLength(1);
  });

  it("resolves a conflict per field by the source timestamps, and logs the decision", async () => {
    harness = await startHarness({ linqWebhooks: false });
    const { hubspot, linq, linqSimulator } = harness;
    const contact = await linq.createContact({
      contact: { first_name: "Jane", last_name: "Doe", phone_number: "+15551234567" },
    });
    await harness.connector.handleEvent(linqEvent("contact.created", { ...contact }), harness.context());
    await harness.settle();
    const hubSpotId =
      (await harness.store.findByLinqId(CONTACT_MAPPING, String(contact.id)))?.externalId ?? "";
    // Linq changes first_name first; HubSpot changes first_name and last_name later.
    await linq.updateContact(contact.id as number, { contact: { first_name: "FromLinq" } });
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // Linq timestamps have second precision
    hubspot.crm.updateContact(hubSpotId, { firstname: "FromHubSpot", lastname: "Smith" });
    await harness.settle();
    expect(linqSimulator.state.contact(contact.id as number)).toMatchObject({
      first_name: "FromHubSpot",
      last_name: "Smith",
    });
    expect(hubspot.state.contact(hubSpotId)?.properties.firstname).toBe("FromHubSpot");
    const decision = harness.logs.find(
      (entry) =>
        entry.message === "contact field conflict: last writer wins" && entry.fields.field === "first_name",
    );
    expect(decision?.fields).toMatchObject({ winner: "hubspot", outcome: "conflict" });
    expect(JSON.stringify(decision?.fields)).not.toContain("FromLinq");
  }, 20_000);

  it("the reconciliation picks up a change whose webhook never arrived", async () => {
    harness = await startHarness();
    const { hubspot, linq, linqSimulator } = harness;
    const contact = await linq.createContact({
      contact: { first_name: "Jane", phone_number: "+15551234567" },
    });
    await harness.settle();
    const hubSpotId =
      (await harness.store.findByLinqId(CONTACT_MAPPING, String(contact.id)))?.externalId ?? "";
    const target = hubspot.webhooks.targetUrl;
    hubspot.webhooks.targetUrl = null; // the webhook is lost
    hubspot.crm.updateContact(hubSpotId, { lastname: "Missed" });
    const unlinked = hubspot.crm.createContact({ firstname: "New", email: "new@example.com" });
    await harness.settle();
    hubspot.webhooks.targetUrl = target;
    expect(linqSimulator.state.contact(contact.id as number)?.last_name).toBeNull();
    const hubSpotWritesBefore = hubSpotContactWrites(harness);
    // The harness switches the schedule off; the same connector with it on runs one reconciliation.
    const withSchedule = createHubSpotConnector({
      accessToken: hubspot.accessToken,
      baseUrl: hubspot.baseUrl,
      appId: hubspot.appId,
      inboundRoute: harness.route,
    });
    const schedule = withSchedule.schedules?.[0];
    expect(schedule).toMatchObject({ name: "hubspot-reconciliation", intervalSeconds: 300 });
    await schedule?.run(harness.runner.context(undefined));
    await withSchedule.close?.();
    await harness.settle();
    expect(linqSimulator.state.contact(contact.id as number)?.last_name).toBe("Missed");
    expect(linqSimulator.state.contacts().find((entry) => entry.email === "new@example.com")).toBeDefined();
    expect(await harness.store.findByExternalId(CONTACT_MAPPING, unlinked.id)).toBeDefined();
    expect(await harness.store.getCursor(RECONCILIATION_CURSOR)).toBeDefined();
    expect(hubSpotContactWrites(harness)).toBe(hubSpotWritesBefore);
  });
});
