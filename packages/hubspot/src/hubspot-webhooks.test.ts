import type { ConnectorJobRequest, InboundRequest } from "@linq-connect/core";
import { describe, expect, it } from "vitest";
import { MemoryMappingStore, memoryLogger } from "./connector-harness.test-helpers.ts";
import { createHubSpotConnector } from "./hubspot-connector.ts";
import { candidateUris, hubSpotSignatureV3, verifyHubSpotSignatureV3 } from "./hubspot-webhooks.ts";
import { signHubSpotWebhookV3 } from "./testing/simulator-signature.ts";

const clientSecret = "webhook-test-secret";
const url = "https://sync.example.com/webhooks/hubspot";
const now = Date.UTC(2026, 0, 15, 12, 0, 0);

function event(overrides: Record<string, unknown>) {
  return {
    eventId: 1,
    subscriptionId: 100001,
    portalId: 62515,
    appId: 54321,
    occurredAt: now - 1000,
    subscriptionType: "contact.propertyChange",
    attemptNumber: 0,
    objectId: 1001,
    propertyName: "firstname",
    propertyValue: "Jane",
    changeSource: "CRM_UI",
    sourceId: "userId:9586504",
    ...overrides,
  };
}

function signedRequest(
  body: string,
  options: { timestamp?: number; secret?: string; uri?: string; headers?: Record<string, string> } = {},
): InboundRequest {
  const timestamp = String(options.timestamp ?? now - 2000);
  const signature = signHubSpotWebhookV3({
    clientSecret: options.secret ?? clientSecret,
    method: "POST",
    uri: options.uri ?? url,
    body,
    timestamp,
  });
  return {
    method: "POST",
    url: "/webhooks/hubspot",
    headers: {
      host: "10.0.0.5:3000",
      "x-forwarded-proto": "https",
      "x-forwarded-host": "sync.example.com",
      "x-hubspot-signature-v3": signature,
      "x-hubspot-request-timestamp": timestamp,
      "content-type": "application/json",
      ...options.headers,
    },
    rawBody: Buffer.from(body, "utf8"),
  };
}

function connectorAndContext(options: { webhookUrl?: string; appId?: number } = {}) {
  const connector = createHubSpotConnector({
    accessToken: "pat-test",
    clientSecret,
    baseUrl: "http://127.0.0.1:9",
    now: () => new Date(now),
    reconciliationIntervalSeconds: false,
    ...options,
  });
  const jobs: ConnectorJobRequest[] = [];
  const logs = memoryLogger();
  const context = {
    linq: undefined as never,
    store: new MemoryMappingStore(),
    logger: logs,
    signal: new AbortController().signal,
    enqueue: async (job: ConnectorJobRequest) => {
      jobs.push(job);
    },
  };
  const route = connector.inboundRoutes?.[0];
  if (route === undefined) throw new Error("no inbound route");
  return { connector, route, context, jobs, logs };
}

describe("HubSpot webhooks (v3 signatures)", () => {
  it("signs like HubSpot: method + URI (listed characters decoded) + body + timestamp", () => {
    const body = '[{"eventId":1}]';
    const encoded = "https://example.com/webhooks/hubspot?x=a%3Ab%2Cc";
    expect(hubSpotSignatureV3({ clientSecret, method: "post", uri: encoded, body, timestamp: "1" })).toBe(
      signHubSpotWebhookV3({
        clientSecret,
        method: "POST",
        uri: "https://example.com/webhooks/hubspot?x=a:b,c",
        body,
        timestamp: "1",
      }),
    );
  });

  it("accepts a valid request (URL rebuilt from X-Forwarded-*) and enqueues one job per contact", async () => {
    const { route, context, jobs } = connectorAndContext();
    const body = JSON.stringify([
      event({ eventId: 5, objectId: 1001 }),
      event({ eventId: 6, objectId: 1002 }),
    ]);
    const answer = await route.handle(signedRequest(body), context);
    expect(answer.status).toBe(200);
    expect(jobs.map((job) => [job.type, job.orderingKey])).toEqual([
      ["hubspot.contact-changed", "hubspot-contact:1001"],
      ["hubspot.contact-changed", "hubspot-contact:1002"],
    ]);
  });

  it("uses the configured webhook URL (the URI HubSpot signs) when given", async () => {
    const { route, context } = connectorAndContext({ webhookUrl: url });
    const body = JSON.stringify([event({})]);
    const request = signedRequest(body, { headers: { "x-forwarded-host": "other.example.com" } });
    expect((await route.handle(request, context)).status).toBe(200);
    expect(candidateUris(request, undefined)).toEqual(["https://other.example.com/webhooks/hubspot"]);
  });

  it("refuses a wrong signature, a tampered body, another URI, an old or a future timestamp: 401", async () => {
    const { route, context, jobs, logs } = connectorAndContext();
    const body = JSON.stringify([event({})]);
    const cases: InboundRequest[] = [
      signedRequest(body, { secret: "another-secret" }),
      { ...signedRequest(body), rawBody: Buffer.from(body.replace("Jane", "Evil")) },
      signedRequest(body, { uri: "https://sync.example.com/webhooks/other" }),
      signedRequest(body, { timestamp: now - 5 * 60_000 - 1 }),
      signedRequest(body, { timestamp: now + 6 * 60_000 }),
      {
        ...signedRequest(body),
        headers: { ...signedRequest(body).headers, "x-hubspot-signature-v3": undefined },
      },
      {
        ...signedRequest(body),
        headers: { ...signedRequest(body).headers, "x-hubspot-request-timestamp": "soon" },
      },
    ];
    for (const request of cases) {
      const answer = await route.handle(request, context);
      expect(answer.status).toBe(401);
      expect(answer.body).toBe('{"error":"unauthorized"}');
    }
    expect(jobs).toHaveLength(0);
    expect(
      logs.entries.filter((entry) => entry.message === "HubSpot webhook rejected: signature"),
    ).toHaveLength(7);
    // Just inside the 5 minutes: accepted.
    expect(
      (await route.handle(signedRequest(body, { timestamp: now - 5 * 60_000 + 1 }), context)).status,
    ).toBe(200);
  });

  it("answers 400 to a signed body that is not a batch of events", async () => {
    const { route, context } = connectorAndContext();
    expect((await route.handle(signedRequest('{"not":"an array"}'), context)).status).toBe(400);
    expect((await route.handle(signedRequest("[]"), context)).status).toBe(400);
  });

  it("orders each contact's events by occurredAt, contacts by their first event, and dedupes redeliveries", async () => {
    const { route, context, jobs } = connectorAndContext();
    const batch = [
      event({ eventId: 13, objectId: 2002, occurredAt: now - 1000, subscriptionType: "contact.deletion" }),
      event({ eventId: 12, objectId: 1001, occurredAt: now - 2000 }),
      event({ eventId: 11, objectId: 1001, occurredAt: now - 3000, subscriptionType: "contact.creation" }),
      event({ eventId: 10, objectId: 2002, occurredAt: now - 4000, subscriptionType: "contact.creation" }),
      event({ eventId: 14, objectId: 3003, occurredAt: now - 500, subscriptionType: "company.creation" }),
    ];
    await route.handle(signedRequest(JSON.stringify(batch)), context);
    expect(jobs.map((job) => job.orderingKey)).toEqual(["hubspot-contact:2002", "hubspot-contact:1001"]);
    const first = jobs[0]?.payload.events as { eventId: string; subscriptionType: string }[];
    expect(first.map((entry) => [entry.eventId, entry.subscriptionType])).toEqual([
      ["10", "contact.creation"],
      ["13", "contact.deletion"],
    ]);
    // HubSpot retries the same request (attemptNumber + 1): the same deduplication keys.
    const retried = batch.map((entry) => ({ ...entry, attemptNumber: 1 }));
    await route.handle(signedRequest(JSON.stringify(retried)), context);
    expect(jobs[2]?.deduplicationKey).toBe(jobs[0]?.deduplicationKey);
    expect(jobs[3]?.deduplicationKey).toBe(jobs[1]?.deduplicationKey);
  });

  it("drops batches made only of our own writes (INTEGRATION, sourceId = app id) before enqueueing", async () => {
    const { route, context, jobs } = connectorAndContext({ appId: 54321 });
    const own = event({ changeSource: "INTEGRATION", sourceId: "54321" });
    await route.handle(
      signedRequest(JSON.stringify([own, { ...own, eventId: 2, propertyName: "lastname" }])),
      context,
    );
    expect(jobs).toHaveLength(0);
    await route.handle(signedRequest(JSON.stringify([own, event({ eventId: 3 })])), context);
    expect(jobs).toHaveLength(1);
  });

  it("refuses every webhook when no client secret is configured", async () => {
    const connector = createHubSpotConnector({
      accessToken: "pat-test",
      reconciliationIntervalSeconds: false,
    });
    const route = connector.inboundRoutes?.[0];
    const { context } = connectorAndContext();
    const answer = await route?.handle(signedRequest(JSON.stringify([event({})])), context);
    expect(answer?.status).toBe(401);
  });

  it("verifies in constant time over every candidate URI", () => {
    const body = JSON.stringify([event({})]);
    const request = signedRequest(body, { uri: "http://sync.example.com/webhooks/hubspot" });
    delete request.headers["x-forwarded-proto"];
    expect(
      verifyHubSpotSignatureV3({ request, clientSecret, webhookUrl: undefined, toleranceSeconds: 300, now }),
    ).toEqual({
      ok: true,
    });
  });
});
