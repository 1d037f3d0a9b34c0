// The HubSpot flow end to end THROUGH THE SYNC-SERVICE, over real HTTP everywhere:
//   Linq simulator → signed webhook → /webhooks/linq → event store + queue → HubSpot connector → HubSpot simulator
//   HubSpot simulator → signed webhook (v3) → /webhooks/hubspot → connector job → Linq simulator
// The connector is built by the service's own factory (src/commands/connectors.ts) from the settings and
// the routing, as `linq-sync serve` builds it. Every assertion reads the simulators' state.
import { randomBytes } from "node:crypto";
import { ConfigurationError } from "@linq-connect/core";
import type { LinqSimulator } from "@linq-connect/core/testing";
import type { HubSpotConnector } from "@linq-connect/hubspot";
import {
  type HubSpotSimulator,
  type HubSpotSimulatorObject,
  signHubSpotWebhookV3,
  startHubSpotSimulator,
} from "@linq-connect/hubspot/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApplication } from "../application.ts";
import { createConnectors } from "../commands/connectors.ts";
import { loadSettings } from "../config/environment.ts";
import { parseRoutingConfig } from "../config/routing.ts";
import { createLogger } from "../logger.ts";
import {
  settleFlow,
  startFlowApplication,
  startFlowLinqSimulator,
  stopFlowApplication,
} from "./crm-flow.test-helpers.ts";
import { LogLines } from "./slack-flow.test-helpers.ts";

const LINQ_NUMBER = "+15550001111";
const CUSTOMER = "+15552010001";
const SECOND_CUSTOMER = "+15552010002";

const routingYaml = `routes:
  - name: sales
    crm: hubspot
    contacts: two-way
    activities: per-message
`;

describe("the HubSpot flow through the service", () => {
  let linq: LinqSimulator;
  let hubspot: HubSpotSimulator;
  let application: RunningApplication;
  const logs = new LogLines();

  beforeAll(async () => {
    linq = await startFlowLinqSimulator(LINQ_NUMBER);
    hubspot = await startHubSpotSimulator({
      clientSecret: `hubspot-secret-${randomBytes(8).toString("hex")}`,
      webhookDelivery: { retries: 3, retryDelayMs: 200, timeoutMs: 5_000 },
    });
    const webhookSecret = `whsec_${randomBytes(16).toString("hex")}`;
    const settings = loadSettings({
      LINQ_API_TOKEN: linq.token,
      LINQ_API_BASE_URL: linq.baseUrl,
      LINQ_WEBHOOK_SECRET: webhookSecret,
      HUBSPOT_ACCESS_TOKEN: hubspot.accessToken,
      HUBSPOT_CLIENT_SECRET: hubspot.clientSecret,
      HUBSPOT_BASE_URL: hubspot.baseUrl,
      HUBSPOT_APP_ID: String(hubspot.appId),
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      JOB_RETRY_DELAY_SECONDS: "1",
    });
    const logger = createLogger({ level: process.env.HUBSPOT_FLOW_LOG_LEVEL ?? "warn", destination: logs });
    const routing = parseRoutingConfig(routingYaml, { fileName: "hubspot-flow.yaml", environment: {} });
    const connectors = await createConnectors(settings, { routing, logger });
    expect(connectors.map((connector) => connector.name)).toEqual(["hubspot"]);
    application = await startFlowApplication({ settings, routing, logger, connectors, webhookSecret });
    hubspot.webhooks.configure({ targetUrl: `${application.url}/webhooks/hubspot` });
  }, 30_000);

  afterAll(async () => {
    await stopFlowApplication(application);
    await linq?.close();
    await hubspot?.close();
  });

  /** Both simulators have delivered everything and no job is queued, running or retrying (twice in a row). */
  const settle = (timeoutMs?: number) =>
    settleFlow(application, {
      logs,
      timeoutMs,
      flush: async () => {
        await linq.webhooks.flush();
        await hubspot.webhooks.flush();
      },
    });

  const contactsWithPhone = (phone: string): HubSpotSimulatorObject[] =>
    hubspot.state.contacts().filter((contact) => contact.properties.phone === phone);

  function onlyContact(phone: string): HubSpotSimulatorObject {
    const matches = contactsWithPhone(phone);
    expect(matches, `HubSpot contacts with the phone ${phone}`).toHaveLength(1);
    return matches[0] as HubSpotSimulatorObject;
  }

  const communicationsOf = (contactId: string) =>
    hubspot.state
      .associations("contacts", contactId, "communications")
      .map((association) => hubspot.state.communication(association.toObjectId));

  /** Requests the service made to HubSpot that write a contact. */
  const contactWrites = () =>
    hubspot.requests.filter(
      (request) =>
        request.method !== "GET" &&
        /^\/crm\/v3\/objects\/contacts(\/\d+|\/batch\/(create|update|upsert))?$/.test(request.path),
    ).length;

  it("logs a customer's texts as Communications on one HubSpot contact, created once", async () => {
    // Two texts at once from a number HubSpot does not know: one contact, two Communications.
    await Promise.all([
      linq.inbound.text({ from: CUSTOMER, to: LINQ_NUMBER, text: "Hi! Is my order ready?" }),
      linq.inbound.text({ from: CUSTOMER, to: LINQ_NUMBER, text: "It is order 1042." }),
    ]);
    await settle();
    const contact = onlyContact(CUSTOMER);
    const communications = communicationsOf(contact.id);
    expect(communications).toHaveLength(2);
    for (const communication of communications) {
      expect(communication?.properties.hs_communication_channel_type).toBe("SMS");
    }
    const bodies = communications.map(
      (communication) => communication?.properties.hs_communication_body ?? "",
    );
    expect(bodies.some((body) => body.includes("Is my order ready?"))).toBe(true);
    expect(bodies.some((body) => body.includes("It is order 1042."))).toBe(true);
    expect(hubspot.state.communications()).toHaveLength(2);

    // The same message again under a new event id (a replay): the connector logs it only once.
    const received = linq.webhooks.deliveries.find((delivery) => delivery.eventType === "message.received");
    if (received === undefined) throw new Error("no message.received was delivered");
    const { data } = JSON.parse(received.body) as { data: Record<string, unknown> };
    await linq.webhooks.deliver({ event_type: "message.received", data });
    await settle();
    expect(communicationsOf(contact.id)).toHaveLength(2);

    await linq.inbound.text({ from: CUSTOMER, to: LINQ_NUMBER, text: "Thanks" });
    await settle();
    expect(communicationsOf(contact.id)).toHaveLength(3);
    expect(contactsWithPhone(CUSTOMER)).toHaveLength(1);
  });

  it("updates the HubSpot contact when the Linq contact changes", async () => {
    const created = await application.linq.createContact({
      contact: { first_name: "Jane", last_name: "Doe", phone_number: CUSTOMER, company: "Acme" },
    });
    await settle();
    const linked = onlyContact(CUSTOMER);
    expect(linked.properties).toMatchObject({ firstname: "Jane", lastname: "Doe", company: "Acme" });

    await application.linq.updateContact(String(created.id), {
      contact: { first_name: "Jane", title: "Buyer", company: "Acme Inc" },
    });
    await settle();
    expect(onlyContact(CUSTOMER).properties).toMatchObject({
      firstname: "Jane",
      jobtitle: "Buyer",
      company: "Acme Inc",
    });
    expect(hubspot.state.contacts()).toHaveLength(1);
  });

  it("brings a change made in HubSpot to Linq once, without bouncing it back", async () => {
    const [linqContact] = linq.state.contacts().filter((contact) => contact.phone_number === CUSTOMER);
    if (linqContact === undefined) throw new Error("the previous test's Linq contact is missing");
    const hubSpotContact = onlyContact(CUSTOMER);
    const linqWritesBefore = linq.requests.filter(
      (request) => request.method !== "GET" && request.path.endsWith(`/contacts/${linqContact.id}`),
    ).length;
    const hubSpotWritesBefore = contactWrites();
    const deliveriesBefore = hubspot.webhooks.deliveries.length;
    const linqDeliveriesBefore = linq.webhooks.deliveries.length;

    // A user edits the contact in HubSpot's UI: HubSpot signs and sends the webhook to the service.
    hubspot.crm.updateContact(hubSpotContact.id, { jobtitle: "Head of Purchasing", city: "Lyon" });
    await settle();

    const delivered = hubspot.webhooks.deliveries.slice(deliveriesBefore);
    expect(delivered.length).toBeGreaterThan(0);
    expect(delivered.every((delivery) => delivery.status === 200)).toBe(true);
    expect(linq.state.contact(Number(linqContact.id))).toMatchObject({
      first_name: "Jane",
      title: "Head of Purchasing",
      location: "Lyon",
    });
    const linqWrites = linq.requests.filter(
      (request) => request.method !== "GET" && request.path.endsWith(`/contacts/${linqContact.id}`),
    ).length;
    expect(linqWrites - linqWritesBefore).toBe(1);
    // Linq's contact.updated about our own write came back to the service and wrote nothing to HubSpot.
    expect(
      linq.webhooks.deliveries
        .slice(linqDeliveriesBefore)
        .filter((delivery) => delivery.eventType === "contact.updated" && delivery.ok),
    ).toHaveLength(1);
    expect(contactWrites()).toBe(hubSpotWritesBefore);
    expect(onlyContact(CUSTOMER).properties).toMatchObject({ jobtitle: "Head of Purchasing", city: "Lyon" });
  });

  it("answers 401 to a HubSpot webhook with an invalid or stale signature, and changes nothing", async () => {
    const hubSpotContact = onlyContact(CUSTOMER);
    const url = `${application.url}/webhooks/hubspot`;
    const body = JSON.stringify([
      {
        eventId: 9_000_001,
        subscriptionId: 1,
        portalId: hubspot.portalId,
        appId: hubspot.appId,
        occurredAt: Date.now(),
        subscriptionType: "contact.propertyChange",
        attemptNumber: 0,
        objectId: Number(hubSpotContact.id),
        propertyName: "firstname",
        propertyValue: "Mallory",
        changeSource: "CRM_UI",
      },
    ]);
    const linqWritesBefore = linq.requests.filter((request) => request.method !== "GET").length;
    const post = (headers: Record<string, string>) =>
      fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });

    const timestamp = String(Date.now());
    const wrongSecret = signHubSpotWebhookV3({
      clientSecret: "not-the-client-secret",
      method: "POST",
      uri: url,
      body,
      timestamp,
    });
    const invalid = await post({
      "x-hubspot-signature-v3": wrongSecret,
      "x-hubspot-request-timestamp": timestamp,
    });
    expect(invalid.status).toBe(401);

    const stale = String(Date.now() - 10 * 60_000);
    const staleSignature = signHubSpotWebhookV3({
      clientSecret: hubspot.clientSecret,
      method: "POST",
      uri: url,
      body,
      timestamp: stale,
    });
    const old = await post({
      "x-hubspot-signature-v3": staleSignature,
      "x-hubspot-request-timestamp": stale,
    });
    expect(old.status).toBe(401);

    const unsigned = await post({});
    expect(unsigned.status).toBe(401);

    await settle();
    expect(linq.requests.filter((request) => request.method !== "GET").length).toBe(linqWritesBefore);
    expect(linq.state.contacts().find((contact) => contact.phone_number === CUSTOMER)?.first_name).toBe(
      "Jane",
    );
  });

  it("never creates a second contact for a number texting concurrently with its Linq contact's creation", async () => {
    await Promise.all([
      linq.inbound.text({ from: SECOND_CUSTOMER, to: LINQ_NUMBER, text: "Hello?" }),
      application.linq.createContact({ contact: { first_name: "Sam", phone_number: SECOND_CUSTOMER } }),
    ]);
    await settle();
    const contact = onlyContact(SECOND_CUSTOMER);
    expect(contact.properties.firstname).toBe("Sam");
    expect(communicationsOf(contact.id)).toHaveLength(1);
  });
});

describe("the service's HubSpot connector factory", () => {
  const logger = createLogger({ level: "silent" });
  const routing = (yaml: string) => parseRoutingConfig(yaml, { fileName: "linq-sync.yaml", environment: {} });

  it("needs HUBSPOT_ACCESS_TOKEN when a route uses HubSpot", async () => {
    await expect(
      createConnectors(loadSettings({}), { routing: routing(routingYaml), logger }),
    ).rejects.toThrow(/HUBSPOT_ACCESS_TOKEN is not set/);
    await expect(
      createConnectors(loadSettings({}), { routing: routing("routes:\n  - name: plain\n"), logger }),
    ).resolves.toEqual([]);
  });

  it("refuses a route's invalid HubSpot settings, naming the route and the setting", async () => {
    const settings = loadSettings({ HUBSPOT_ACCESS_TOKEN: "pat-na1-factory-test" });
    const invalid = routing(`routes:
  - name: sales
    crm: hubspot
    hubspot: { channelType: IMESSAGE }
`);
    const error = await createConnectors(settings, { routing: invalid, logger }).catch((caught) => caught);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(
      /Route "sales" has invalid HubSpot settings: hubspot\.channelType/,
    );
  });

  it("records every HubSpot request in the service's upstream metrics", async () => {
    const simulator = await startHubSpotSimulator();
    try {
      const recorded: [string, number | undefined][] = [];
      const settings = loadSettings({
        HUBSPOT_ACCESS_TOKEN: simulator.accessToken,
        HUBSPOT_BASE_URL: simulator.baseUrl,
      });
      const [connector] = await createConnectors(settings, {
        routing: routing(routingYaml),
        logger,
        recordUpstream: (service, status) => recorded.push([service, status]),
      });
      const hubspotConnector = connector as HubSpotConnector;
      const page = await hubspotConnector.api.listContacts({ properties: ["phone"], limit: 1 });
      expect(page.results).toEqual([]);
      expect(recorded).toEqual([["hubspot", 200]]);
      await connector?.close?.();
    } finally {
      await simulator.close();
    }
  });
});
