import { LinqClient } from "@linq-connect/core";
import { type LinqSimulator, startLinqSimulator } from "@linq-connect/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import { backfillHubSpot, type HubSpotBackfillProgress } from "./backfill.ts";
import { MemoryMappingStore } from "./connector-harness.test-helpers.ts";
import { createHubSpotClient } from "./hubspot-api.ts";
import { createHubSpotConnector } from "./hubspot-connector.ts";
import { ACTIVITY_MAPPING, CONTACT_MAPPING } from "./mappings.ts";
import { startHubSpotSimulator } from "./testing/hubspot-simulator.ts";
import type { HubSpotSimulator } from "./testing/simulator-types.ts";

let hubspot: HubSpotSimulator | undefined;
let linqSimulator: LinqSimulator | undefined;
let linq: LinqClient | undefined;
afterEach(async () => {
  await linq?.close();
  await hubspot?.close();
  await linqSimulator?.close();
  hubspot = undefined;
  linqSimulator = undefined;
  linq = undefined;
});

async function seedLinqContacts(client: LinqClient, count: number, offset = 0): Promise<void> {
  const indexes = Array.from({ length: count }, (_, index) => index + offset);
  for (let start = 0; start < indexes.length; start += 50) {
    await Promise.all(
      indexes.slice(start, start + 50).map((index) =>
        client.createContact({
          contact: {
            first_name: `First${index}`,
            last_name: `Last${index}`,
            phone_number: `+1555${String(2_000_000 + index).padStart(7, "0")}`,
            ...(index % 3 === 0 ? { email: `person${index}@example.com` } : {}),
          },
        }),
      ),
    );
  }
}

async function start(options: { rateLimit?: boolean } = {}) {
  hubspot = await startHubSpotSimulator(options.rateLimit === false ? { rateLimit: false } : {});
  linqSimulator = await startLinqSimulator({ phoneNumbers: ["+15550001111"] });
  linq = new LinqClient({ token: linqSimulator.token, baseUrl: linqSimulator.baseUrl, rateLimit: false });
  return { hubspot, linqSimulator, linq };
}

describe("backfillHubSpot", () => {
  it("backfills 10,000 contacts with batch requests under the rate limit: no 429 left unhandled, nothing duplicated", async () => {
    const { hubspot: hubspotSimulator, linq: client } = await start();
    await seedLinqContacts(client, 10_000);
    // Contacts already in HubSpot: one typed by hand (matched by phone), one with an email (matched by email).
    hubspotSimulator.crm.createContact({ phone: "(555) 200-0001", firstname: "Typed" });
    hubspotSimulator.crm.createContact({ email: "person3@example.com", lastname: "Existing" });
    // HubSpot refuses requests now and then anyway (another replica of the app filling the window):
    // three 429s in the middle of the run must be absorbed.
    let injected = false;
    const store = new MemoryMappingStore();
    const progress: HubSpotBackfillProgress[] = [];
    const summary = await backfillHubSpot({
      client: createHubSpotClient({
        accessToken: hubspotSimulator.accessToken,
        baseUrl: hubspotSimulator.baseUrl,
        timeoutMs: 10_000,
      }),
      linq: client,
      store,
      since: new Date(0),
      contacts: true,
      messages: false,
      onProgress: (entry) => {
        progress.push(entry);
        if (!injected && entry.counts.contactsRead >= 3_000) {
          injected = true;
          hubspotSimulator.faults.inject({ match: { path: /batch\/create$/ }, kind: "rate-limit", times: 3 });
        }
      },
    });
    expect(summary.status).toBe("completed");
    expect(summary.counts).toMatchObject({ contactsRead: 10_000, contactsCreated: 9_998, contactsLinked: 2 });
    const contacts = hubspotSimulator.state.contacts();
    expect(contacts).toHaveLength(10_000);
    const phones = new Set(contacts.map((contact) => contact.properties.phone));
    expect(phones.size).toBe(10_000);
    expect(store.all(CONTACT_MAPPING)).toHaveLength(10_000);
    // Batch endpoints: about 100 creates for 10,000 contacts (plus the index, owners and the 3 refusals).
    const requests = hubspotSimulator.requests;
    expect(requests.length).toBeLessThan(130);
    expect(requests.filter((request) => request.status === 429)).toHaveLength(3);
    expect(summary.rateLimited).toBe(3);
    expect(
      requests.filter((request) => request.rateLimitPolicy !== null && request.fault === null),
    ).toHaveLength(0);
    expect(progress.at(-1)?.counts.contactsRead).toBe(10_000);
    // The hand-typed contact kept its number as typed and got the Linq contact's last name.
    expect(
      contacts.find((contact) => contact.properties.phone === "(555) 200-0001")?.properties.lastname,
    ).toBe("Last1");
  }, 60_000);

  it("is resumable: an interrupted run continues where it stopped, and a rerun duplicates nothing", async () => {
    const { hubspot: hubspotSimulator, linq: client } = await start({ rateLimit: false });
    await seedLinqContacts(client, 450);
    const store = new MemoryMappingStore();
    const api = createHubSpotClient({
      accessToken: hubspotSimulator.accessToken,
      baseUrl: hubspotSimulator.baseUrl,
      timeoutMs: 10_000,
    });
    const controller = new AbortController();
    const first = await backfillHubSpot({
      client: api,
      linq: client,
      store,
      since: new Date(0),
      contacts: true,
      messages: false,
      signal: controller.signal,
      onProgress: (entry) => {
        if (entry.phase === "contacts" && entry.counts.contactsRead >= 200) controller.abort();
      },
    });
    expect(first.status).toBe("interrupted");
    const createdFirst = hubspotSimulator.state.contacts().length;
    expect(createdFirst).toBeGreaterThan(0);
    expect(createdFirst).toBeLessThan(450);
    const second = await backfillHubSpot({
      client: api,
      linq: client,
      store,
      since: new Date(0),
      contacts: true,
      messages: false,
    });
    expect(second).toMatchObject({ status: "completed", resumed: true });
    expect(second.counts.contactsRead).toBe(450);
    expect(hubspotSimulator.state.contacts()).toHaveLength(450);
    // Starting again from scratch (progress forgotten): everything is linked already.
    const third = await backfillHubSpot({
      client: api,
      linq: client,
      store,
      since: new Date(0),
      contacts: true,
      messages: false,
      restart: true,
    });
    expect(third.counts).toMatchObject({ contactsCreated: 0, contactsUnchanged: 450 });
    expect(hubspotSimulator.state.contacts()).toHaveLength(450);
    expect(store.all(CONTACT_MAPPING)).toHaveLength(450);
  });

  it("backfills conversation history as Communications in batches, and the connector's backfill() shares its limiter", async () => {
    const {
      hubspot: hubspotSimulator,
      linqSimulator: linqSide,
      linq: client,
    } = await start({ rateLimit: false });
    await client.createContact({ contact: { first_name: "Jane", phone_number: "+15551234567" } });
    const { chat } = await linqSide.inbound.text({ from: "+15551234567", text: "one" });
    await client.sendMessage(chat.id, { text: "two" });
    await linqSide.inbound.text({ from: "+15551234567", text: "three" });
    await linqSide.inbound.text({ from: "+15559990000", text: "a stranger" });
    const connector = createHubSpotConnector({
      accessToken: hubspotSimulator.accessToken,
      baseUrl: hubspotSimulator.baseUrl,
      reconciliationIntervalSeconds: false,
    });
    const store = new MemoryMappingStore();
    const summary = await connector.backfill({
      linq: client,
      store,
      since: new Date(0),
      contacts: true,
      messages: true,
    });
    expect(summary.counts).toMatchObject({
      contactsCreated: 1,
      messagesRead: 4,
      messagesLogged: 4,
      chatsDone: 2,
    });
    expect(hubspotSimulator.state.contacts()).toHaveLength(2); // Jane and the stranger
    expect(hubspotSimulator.state.communications()).toHaveLength(4);
    const batchCreates = hubspotSimulator.requests.filter((request) =>
      request.path.endsWith("/communications/batch/create"),
    );
    expect(batchCreates).toHaveLength(2);
    expect(store.all(ACTIVITY_MAPPING)).toHaveLength(4);
    const again = await connector.backfill({
      linq: client,
      store,
      since: new Date(0),
      contacts: true,
      messages: true,
      restart: true,
    });
    expect(again.counts).toMatchObject({ messagesLogged: 0, messagesAlreadyLogged: 4 });
    expect(hubspotSimulator.state.communications()).toHaveLength(4);
    await connector.close?.();
  });
});
