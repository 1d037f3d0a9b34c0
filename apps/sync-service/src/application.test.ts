import { randomUUID } from "node:crypto";
import {
  CONNECTOR_SPECIFICATION_VERSION,
  type ConnectorContext,
  type ConnectorJob,
  type ConnectorV1,
  type LinqWebhookEvent,
  signWebhook,
  ValidationError,
} from "@linq-connect/core";
import { type LinqSimulator, startLinqSimulator } from "@linq-connect/core/testing";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type RunningApplication, startApplication } from "./application.ts";
import { loadSettings } from "./config/environment.ts";
import { parseRoutingConfig } from "./config/routing.ts";
import { openDatabase } from "./database/database.ts";

const secret = "application-test-secret";
const salesNumber = "+15550001111";
const supportNumber = "+15550002222";
const customer = "+15551234567";

interface Handled {
  event: LinqWebhookEvent;
  route: ConnectorContext["route"];
}

function fakeConnector(name: string, events: ConnectorV1["events"], behaviour: Partial<ConnectorV1> = {}) {
  const handled: Handled[] = [];
  const jobs: ConnectorJob[] = [];
  const inbound: string[] = [];
  const connector: ConnectorV1 = {
    specificationVersion: CONNECTOR_SPECIFICATION_VERSION,
    name,
    events,
    async handleEvent(event, context) {
      handled.push({ event, route: context.route });
      if (event.event_type === "message.received" && event.data.text === "please enqueue") {
        await context.enqueue({
          type: `${name}.follow-up`,
          payload: { chatId: event.data.chat_id },
          orderingKey: "x",
        });
      }
      if (event.event_type === "message.received" && event.data.text === "please fail") {
        throw new ValidationError("the channel is archived", { source: "slack" });
      }
    },
    async handleJob(job) {
      jobs.push(job);
    },
    inboundRoutes: [
      {
        method: "POST",
        path: `/${name}/events`,
        async handle(request) {
          inbound.push(request.rawBody.toString("utf8"));
          return { status: 200, body: "ok" };
        },
      },
    ],
    ...behaviour,
  };
  return { connector, handled, jobs, inbound };
}

function messageEvent(options: {
  eventId?: string;
  type?: string;
  chatId: number;
  linqNumber?: string;
  text: string;
}) {
  return {
    api_version: "v2",
    created_at: "2026-11-21T10:00:00Z",
    event_id: options.eventId ?? randomUUID(),
    event_type: options.type ?? "message.received",
    data: {
      id: String(Math.floor(Math.random() * 1e9)),
      chat_id: String(options.chatId),
      text: options.text,
      sent_at: "2026-11-21 10:00:00 +0000",
      is_read: false,
      from_phone: customer,
      service: "iMessage",
      chat_handles: [
        { identifier: customer, display_name: "Jane Doe", is_me: false },
        { identifier: options.linqNumber ?? salesNumber, display_name: "Sales", is_me: true },
      ],
      attachments: [],
    },
  };
}

async function post(application: RunningApplication, payload: unknown) {
  const body = JSON.stringify(payload);
  return fetch(`${application.url}/webhooks/linq`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-webhook-signature": signWebhook({ payload: body, secret }),
    },
    body,
  });
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const routingYaml = `
routes:
  - name: sales
    match: { linqNumbers: ["${salesNumber}"] }
    slack: { channel: C0SALES }
    crm: hubspot
  - name: support
    match: { linqNumbers: ["${supportNumber}"] }
    slack: { channel: C0SUPPORT }
`;

describe("the service application", () => {
  let simulator: LinqSimulator;
  let application: RunningApplication | undefined;
  let slack: ReturnType<typeof fakeConnector>;
  let hubspot: ReturnType<typeof fakeConnector>;

  beforeEach(async () => {
    simulator = await startLinqSimulator({ phoneNumbers: [salesNumber, supportNumber] });
    slack = fakeConnector("slack", ["message.received", "message.sent", "message.read"]);
    hubspot = fakeConnector("hubspot", ["message.received", "contact.created"]);
    const settings = loadSettings({
      LINQ_API_TOKEN: simulator.token,
      LINQ_API_BASE_URL: simulator.baseUrl,
      LINQ_WEBHOOK_SECRET: secret,
      HOST: "127.0.0.1",
      PORT: "0",
      SLACK_BOT_TOKEN: "xoxb-test",
      SLACK_SIGNING_SECRET: "slack-secret",
      HUBSPOT_ACCESS_TOKEN: "pat-test",
    });
    application = await startApplication({
      settings,
      routing: parseRoutingConfig(routingYaml, { fileName: "linq-sync.yaml" }),
      logger: pino({ level: "silent" }),
      connectors: [slack.connector, hubspot.connector],
      database: await openDatabase({ inMemory: true }),
      port: 0,
    });
  });

  afterEach(async () => {
    const database = application?.database;
    await application?.stop();
    await database?.close();
    await simulator.close();
  });

  it("routes a message to the route's connectors with the route's settings and records the deliveries", async () => {
    const running = application!;
    const event = messageEvent({ chatId: 7, text: "Hello" });
    const response = await post(running, event);
    expect(response.status).toBe(200);
    await waitFor(() => slack.handled.length === 1 && hubspot.handled.length === 1);
    expect(slack.handled[0]?.route).toEqual({
      name: "sales",
      settings: expect.objectContaining({ channel: "C0SALES" }),
    });
    expect(hubspot.handled[0]?.route?.name).toBe("sales");
    await waitFor(async () => (await running.eventStore.getEvent(event.event_id))?.status === "processed");
    const stored = await running.eventStore.getEvent(event.event_id);
    expect(stored?.routeName).toBe("sales");
    expect(stored?.deliveries.map((delivery) => [delivery.connector, delivery.status]).sort()).toEqual([
      ["hubspot", "processed"],
      ["slack", "processed"],
    ]);
  });

  it("acknowledges a duplicate event_id without a second effect", async () => {
    const event = messageEvent({ chatId: 8, text: "Once" });
    expect((await post(application!, event)).status).toBe(200);
    const duplicate = await post(application!, event);
    expect(duplicate.status).toBe(200);
    expect(await duplicate.json()).toEqual({ received: true, duplicate: true });
    await waitFor(() => slack.handled.length >= 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(slack.handled).toHaveLength(1);
  });

  it("uses the second route for the second number, where the CRM is not routed", async () => {
    await post(application!, messageEvent({ chatId: 9, text: "Support please", linqNumber: supportNumber }));
    await waitFor(() => slack.handled.length === 1);
    expect(slack.handled[0]?.route?.settings.channel).toBe("C0SUPPORT");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(hubspot.handled).toHaveLength(0);
  });

  it("routes message.read by the conversation's earlier Linq number", async () => {
    await post(application!, messageEvent({ chatId: 10, text: "first", linqNumber: supportNumber }));
    await waitFor(() => slack.handled.length === 1);
    const read = {
      api_version: "v2",
      created_at: "2026-11-21T10:05:00Z",
      event_id: randomUUID(),
      event_type: "message.read",
      data: { id: "1", chat_id: "10", read_at: "2026-11-21T10:05:00Z" },
    };
    expect((await post(application!, read)).status).toBe(200);
    await waitFor(() => slack.handled.length === 2);
    expect(slack.handled[1]?.event.event_type).toBe("message.read");
    expect(slack.handled[1]?.route?.name).toBe("support");
  });

  it("records and skips events with no matching route and unknown event types", async () => {
    const stray = messageEvent({ chatId: 11, text: "to nobody", linqNumber: "+15550009999" });
    const unknown = {
      api_version: "v2",
      created_at: "2026-11-21T10:00:00Z",
      event_id: randomUUID(),
      event_type: "chat.exploded",
      data: {},
    };
    expect((await post(application!, stray)).status).toBe(200);
    expect((await post(application!, unknown)).status).toBe(200);
    const strayStored = await application!.eventStore.getEvent(stray.event_id);
    const unknownStored = await application!.eventStore.getEvent(unknown.event_id);
    expect([strayStored?.status, strayStored?.skipReason]).toEqual(["skipped", "no_matching_route"]);
    expect([unknownStored?.status, unknownStored?.skipReason]).toEqual(["skipped", "unknown_event_type"]);
    const metrics = await (await fetch(`${application!.url}/metrics`)).text();
    expect(metrics).toContain('linq_sync_events_skipped_total{reason="no_matching_route"} 1');
  });

  it("sends contact events to the CRM that receives Linq contacts", async () => {
    const created = {
      api_version: "v2",
      created_at: "2026-11-21T10:00:00Z",
      event_id: randomUUID(),
      event_type: "contact.created",
      data: { id: 123, first_name: "Jane", phone_number: customer },
    };
    await post(application!, created);
    await waitFor(() => hubspot.handled.length === 1);
    expect(hubspot.handled[0]?.event.event_type).toBe("contact.created");
    expect(slack.handled).toHaveLength(0);
  });

  it("runs the jobs a connector enqueues and dead-letters non-retryable failures", async () => {
    await post(application!, messageEvent({ chatId: 12, text: "please enqueue", linqNumber: supportNumber }));
    await waitFor(() => slack.jobs.length === 1);
    expect(slack.jobs[0]).toMatchObject({ type: "slack.follow-up", payload: { chatId: 12 }, attempt: 1 });

    const failing = messageEvent({ chatId: 13, text: "please fail", linqNumber: supportNumber });
    await post(application!, failing);
    await waitFor(
      async () => (await application!.eventStore.getEvent(failing.event_id))?.status === "failed",
    );
    const [deadLetter] = await application!.deadLetters.list({ limit: 10 });
    expect(deadLetter).toMatchObject({ connector: "slack", attempts: 1 });
    expect(JSON.stringify(deadLetter?.error)).toContain("validation_error");
  });

  it("mounts the connectors' inbound routes with the raw body, and reports readiness", async () => {
    const response = await fetch(`${application!.url}/slack/events`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"type":"url_verification" , "challenge":"x"}',
    });
    expect(response.status).toBe(200);
    expect(slack.inbound).toEqual(['{"type":"url_verification" , "challenge":"x"}']);
    const ready = await fetch(`${application!.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ready" });
  });
});
