import { createHash, createHmac } from "node:crypto";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type ReceivedWebhook,
  sdkClient,
  startWebhookReceiver,
  type WebhookReceiver,
} from "./hubspot-simulator.test-helpers.ts";
import { startHubSpotSimulator } from "./hubspot-simulator.ts";
import { signHubSpotWebhookV3 } from "./simulator-signature.ts";
import type { HubSpotSimulator, HubSpotWebhookEvent } from "./simulator-types.ts";

const CLIENT_SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";

/** Verifies a received request the way a receiver must (independently of the simulator's signing code). */
function verifyV3(received: ReceivedWebhook, url: string): boolean {
  const timestamp = String(received.headers["x-hubspot-request-timestamp"]);
  const expected = createHmac("sha256", CLIENT_SECRET)
    .update(`${received.method}${url}${received.rawBody}${timestamp}`, "utf8")
    .digest("base64");
  return received.headers["x-hubspot-signature-v3"] === expected;
}

function events(receiver: WebhookReceiver): HubSpotWebhookEvent[] {
  return receiver.received.flatMap((request) => request.body as HubSpotWebhookEvent[]);
}

describe("HubSpot simulator: webhooks", () => {
  let simulator: HubSpotSimulator;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    simulator = await startHubSpotSimulator({
      clientSecret: CLIENT_SECRET,
      portalId: 62515,
      appId: 54321,
      webhookUrl: receiver.url,
      webhookDelivery: { retryDelayMs: 20, timeoutMs: 500 },
      owners: [{ id: "41629779", email: "owner@example.com", userId: 9586504 }],
    });
  });
  beforeEach(() => {
    receiver.received.length = 0;
    receiver.respond = () => ({ status: 204 });
  });
  afterEach(async () => {
    await simulator.webhooks.flush();
    simulator.reset();
    simulator.webhooks.configure({
      batchSize: 100,
      delayMs: 0,
      reorder: false,
      duplicateProbability: 0,
      random: Math.random,
      targetUrl: receiver.url,
      subscriptions: [
        { subscriptionType: "contact.creation" },
        { subscriptionType: "contact.deletion" },
        ...["firstname", "lastname", "email", "phone", "city"].map((propertyName) => ({
          subscriptionType: "contact.propertyChange" as const,
          propertyName,
        })),
      ],
    });
  });
  afterAll(async () => {
    await simulator.close();
    await receiver.close();
  });

  it("delivers a UI creation as one signed request: creation + one propertyChange per subscribed property", async () => {
    const contact = simulator.crm.createContact({
      email: "jane@example.com",
      firstname: "Jane",
      state: "CA",
    });
    await simulator.webhooks.flush();
    expect(receiver.received).toHaveLength(1);
    const request = receiver.received[0] as ReceivedWebhook;
    expect(request.method).toBe("POST");
    expect(request.headers["content-type"]).toBe("application/json");
    expect(verifyV3(request, receiver.url)).toBe(true);
    expect(
      signHubSpotWebhookV3({
        clientSecret: CLIENT_SECRET,
        method: "POST",
        uri: receiver.url,
        body: request.rawBody,
        timestamp: String(request.headers["x-hubspot-request-timestamp"]),
      }),
    ).toBe(request.headers["x-hubspot-signature-v3"]);
    expect(Math.abs(Date.now() - Number(request.headers["x-hubspot-request-timestamp"]))).toBeLessThan(
      300_000,
    );
    expect(request.headers["x-hubspot-signature-version"]).toBe("v1");
    expect(request.headers["x-hubspot-signature"]).toBe(
      createHash("sha256").update(`${CLIENT_SECRET}${request.rawBody}`).digest("hex"),
    );
    expect(request.body).toEqual([
      {
        eventId: expect.any(Number),
        subscriptionId: expect.any(Number),
        portalId: 62515,
        appId: 54321,
        occurredAt: expect.any(Number),
        subscriptionType: "contact.creation",
        attemptNumber: 0,
        objectId: Number(contact.id),
        changeFlag: "CREATED",
        changeSource: "CRM_UI",
        sourceId: "userId:9586504",
      },
      expect.objectContaining({
        subscriptionType: "contact.propertyChange",
        objectId: Number(contact.id),
        propertyName: "email",
        propertyValue: "jane@example.com",
        changeSource: "CRM_UI",
        sourceId: "userId:9586504",
      }),
      expect.objectContaining({ propertyName: "firstname", propertyValue: "Jane" }),
    ]);
    expect(new Set(request.body.map((event: HubSpotWebhookEvent) => event.eventId)).size).toBe(3);
    expect(simulator.webhooks.deliveries[0]).toMatchObject({ ok: true, status: 204, attemptNumber: 0 });
  });

  it("fires propertyChange only for values that changed, and contact.deletion on delete", async () => {
    const contact = simulator.crm.createContact({ email: "a@example.com", firstname: "A" });
    await simulator.webhooks.flush();
    receiver.received.length = 0;
    simulator.crm.updateContact(contact.id, { firstname: "A", city: "Lyon", jobtitle: "unwatched" });
    simulator.crm.deleteContact(contact.id, { userId: 77 });
    await simulator.webhooks.flush();
    expect(
      events(receiver).map((event) => [event.subscriptionType, event.propertyName, event.propertyValue]),
    ).toEqual([
      ["contact.propertyChange", "city", "Lyon"],
      ["contact.deletion", undefined, undefined],
    ]);
    expect(events(receiver)[1]).toMatchObject({ changeFlag: "DELETED", sourceId: "userId:77" });
  });

  it("echoes the app's own API writes with changeSource INTEGRATION and sourceId = app id (loop prevention)", async () => {
    const client = sdkClient(simulator);
    const created = await client.crm.contacts.basicApi.create({ properties: { email: "api@example.com" } });
    await client.crm.contacts.basicApi.update(created.id, { properties: { phone: "+15551234567" } });
    await client.crm.contacts.basicApi.archive(created.id);
    await simulator.webhooks.flush();
    const received = events(receiver);
    expect(received.map((event) => [event.subscriptionType, event.propertyName])).toEqual([
      ["contact.creation", undefined],
      ["contact.propertyChange", "email"],
      ["contact.propertyChange", "phone"],
      ["contact.deletion", undefined],
    ]);
    for (const event of received)
      expect(event).toMatchObject({ changeSource: "INTEGRATION", sourceId: "54321" });
  });

  it("batches up to batchSize events per request within the collection window", async () => {
    simulator.webhooks.configure({ batchSize: 2, delayMs: 30 });
    simulator.crm.createContact({ firstname: "One" });
    simulator.crm.createContact({ firstname: "Two" });
    simulator.crm.createContact({ firstname: "Three" });
    await simulator.webhooks.flush();
    expect(receiver.received.map((request) => request.body.length)).toEqual([2, 2, 2]);
    for (const request of receiver.received) expect(verifyV3(request, receiver.url)).toBe(true);
  });

  it("retries a failed request with attemptNumber incremented and a fresh signature", async () => {
    receiver.respond = (index) => ({ status: index < 2 ? 500 : 200 });
    const contact = simulator.crm.createContact({ firstname: "Retry" });
    await simulator.webhooks.flush();
    expect(receiver.received).toHaveLength(3);
    expect(receiver.received.map((request) => request.body[0].attemptNumber)).toEqual([0, 1, 2]);
    expect(receiver.received.every((request) => request.body[0].objectId === Number(contact.id))).toBe(true);
    expect(receiver.received.every((request) => verifyV3(request, receiver.url))).toBe(true);
    expect(
      simulator.webhooks.deliveries.map((delivery) => [delivery.attemptNumber, delivery.status, delivery.ok]),
    ).toEqual([
      [0, 500, false],
      [1, 500, false],
      [2, 200, true],
    ]);
  });

  it("gives up after the configured retries; a receiver that does not answer in time is a failure too", async () => {
    const impatient = await startHubSpotSimulator({
      clientSecret: CLIENT_SECRET,
      webhookUrl: receiver.url,
      webhookDelivery: { timeoutMs: 50, retries: 2, retryDelayMs: 10 },
    });
    try {
      receiver.respond = () => ({ status: 200, delayMs: 300 });
      impatient.crm.createContact({ firstname: "Slow" });
      await impatient.webhooks.flush();
      expect(impatient.webhooks.deliveries.map((delivery) => [delivery.attemptNumber, delivery.ok])).toEqual([
        [0, false],
        [1, false],
        [2, false],
      ]);
      expect(
        impatient.webhooks.deliveries.every((delivery) => delivery.error === "timeout after 50 ms"),
      ).toBe(true);
    } finally {
      await impatient.close();
    }
  });

  it("duplicates events (same eventId, a later request) with duplicateProbability", async () => {
    simulator.webhooks.configure({
      duplicateProbability: 1,
      subscriptions: [{ subscriptionType: "contact.creation" }],
    });
    simulator.crm.createContact({ firstname: "Twice" });
    await simulator.webhooks.flush();
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[0]?.body[0].eventId).toBe(receiver.received[1]?.body[0].eventId);
    expect(simulator.webhooks.deliveries.map((delivery) => delivery.duplicate)).toEqual([false, true]);
  });

  it("reorders events within the collection window", async () => {
    simulator.webhooks.configure({
      reorder: true,
      delayMs: 30,
      random: () => 0,
      subscriptions: [{ subscriptionType: "contact.creation" }],
    });
    const ids = ["One", "Two", "Three", "Four"].map(
      (name) => simulator.crm.createContact({ firstname: name }).id,
    );
    await simulator.webhooks.flush();
    const delivered = events(receiver).map((event) => String(event.objectId));
    expect([...delivered].sort()).toEqual([...ids].sort());
    expect(delivered).not.toEqual(ids);
  });

  it("records events without a target URL and delivers once one is set", async () => {
    simulator.webhooks.targetUrl = null;
    simulator.crm.createContact({ firstname: "Nowhere" });
    await simulator.webhooks.flush();
    expect(receiver.received).toEqual([]);
    expect(simulator.webhooks.events.map((event) => event.subscriptionType)).toEqual([
      "contact.creation",
      "contact.propertyChange",
    ]);
    simulator.webhooks.targetUrl = receiver.url;
    simulator.crm.createContact({ firstname: "Somewhere" });
    await simulator.webhooks.flush();
    expect(events(receiver).map((event) => event.propertyValue)).toEqual([undefined, "Somewhere"]);
  });

  it("follows the subscriptions: inactive ones and unsubscribed properties send nothing", async () => {
    simulator.webhooks.configure({
      subscriptions: [
        { subscriptionType: "contact.creation", active: false },
        { id: 9, subscriptionType: "contact.propertyChange", propertyName: "lastname" },
      ],
    });
    expect(simulator.webhooks.subscriptions()).toEqual([
      { id: 100001, subscriptionType: "contact.creation", active: false },
      { id: 9, subscriptionType: "contact.propertyChange", propertyName: "lastname", active: true },
    ]);
    simulator.crm.createContact({ firstname: "F", lastname: "L" });
    await simulator.webhooks.flush();
    expect(events(receiver).map((event) => [event.subscriptionId, event.propertyName])).toEqual([
      [9, "lastname"],
    ]);
  });

  it("sends no events for calls and communications (no legacy subscriptions exist for them)", async () => {
    await sdkClient(simulator).crm.objects.calls.basicApi.create({
      properties: { hs_timestamp: "1768478400000" },
      associations: [],
    });
    await simulator.webhooks.flush();
    expect(receiver.received).toEqual([]);
  });
});
