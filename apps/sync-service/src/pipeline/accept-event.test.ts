import { parseWebhookEvent } from "@linq-connect/core";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordingConnector } from "../commands/command.test-helpers.ts";
import { parseRoutingConfig } from "../config/routing.ts";
import { openDatabase } from "../database/database.ts";
import type { Database } from "../database/database-types.ts";
import { migrate } from "../database/migrations.ts";
import { createJobQueue, type JobQueue } from "../queue/index.ts";
import { createDeadLetterStore } from "../store/dead-letter-store.ts";
import { createEventStore, type EventStore } from "../store/event-store.ts";
import { acceptEvent, createEventRouter, type EventRouter } from "./accept-event.ts";

const routing = parseRoutingConfig(
  `
routes:
  - name: sales
    match: { linqNumbers: ["+15550001111"] }
    slack: { channel: C0SALES }
    crm: hubspot
`,
  { fileName: "linq-sync.yaml" },
);

function messageEvent(eventId: string, chatId: number, linqNumber = "+15550001111") {
  return parseWebhookEvent({
    api_version: "v2",
    event_id: eventId,
    event_type: "message.received",
    created_at: "2025-01-01T00:00:00Z",
    data: {
      id: "1",
      chat_id: String(chatId),
      text: "hello",
      from_phone: "+15551230001",
      chat_handles: [
        { identifier: "+15551230001", is_me: false },
        { identifier: linqNumber, is_me: true },
      ],
    },
  });
}

describe("createEventRouter and acceptEvent", () => {
  let database: Database;
  let queue: JobQueue;
  let eventStore: EventStore;
  let route: EventRouter;

  beforeAll(async () => {
    database = await openDatabase({ inMemory: true });
    await migrate(database);
    queue = createJobQueue({
      database,
      logger: pino({ level: "silent" }),
      deadLetters: createDeadLetterStore(database),
    });
    await queue.start();
    for (const connector of ["slack", "hubspot"]) await queue.ensureConnectorQueue(connector);
    eventStore = createEventStore(database);
    route = createEventRouter({
      routing,
      eventStore,
      connectors: new Map([
        ["slack", recordingConnector("slack", ["message.received", "message.read"])],
        ["hubspot", recordingConnector("hubspot", ["message.received", "contact.updated"])],
      ]),
    });
  });
  afterAll(async () => {
    await queue.stop({ timeoutMs: 2_000 });
    await database.close();
  });

  const depth = async (connector: string) => (await queue.depth())[connector]?.queued ?? 0;

  it("routes by the event's Linq number to the route's connectors that consume the type", async () => {
    expect(await route(messageEvent("r-1", 10))).toMatchObject({
      routeName: "sales",
      linqNumber: "+15550001111",
      conversationKey: "chat:10",
      targets: [
        { connector: "slack", routeName: "sales" },
        { connector: "hubspot", routeName: "sales" },
      ],
      skipReason: undefined,
    });
    expect(await route(messageEvent("r-2", 11, "+15550009999"))).toMatchObject({
      targets: [],
      skipReason: "no_matching_route",
    });
    const contact = parseWebhookEvent({
      api_version: "v2",
      event_id: "r-3",
      event_type: "contact.updated",
      created_at: "2025-01-01T00:00:00Z",
      data: { id: 5 },
    });
    expect(await route(contact)).toMatchObject({
      conversationKey: "contact:5",
      targets: [{ connector: "hubspot", routeName: "sales" }],
    });
    const unknown = parseWebhookEvent({
      api_version: "v2",
      event_id: "r-4",
      event_type: "brand.new",
      created_at: "2025-01-01T00:00:00Z",
      data: {},
    });
    expect(await route(unknown)).toMatchObject({ targets: [], skipReason: "unknown_event_type" });
  });

  it("new-events-only: stores and enqueues once; the same event id again changes nothing", async () => {
    const event = messageEvent("live-1", 20);
    const decision = await route(event);
    expect(await acceptEvent({ database, eventStore, queue }, event, decision)).toEqual({
      recorded: true,
      enqueued: ["slack", "hubspot"],
    });
    const slackBefore = await depth("slack");
    expect(await acceptEvent({ database, eventStore, queue }, event, decision)).toEqual({
      recorded: false,
      enqueued: [],
    });
    expect(await depth("slack")).toBe(slackBefore);
    const stored = await eventStore.getEvent("live-1");
    expect(stored).toMatchObject({ status: "queued", routeName: "sales", linqNumber: "+15550001111" });
    expect(stored?.deliveries.map((delivery) => delivery.connector)).toEqual(["hubspot", "slack"]);
  });

  it("records an event no connector takes as skipped, with its reason, and queues nothing", async () => {
    const event = messageEvent("skip-1", 21, "+15550009999");
    const result = await acceptEvent({ database, eventStore, queue }, event, await route(event));
    expect(result).toEqual({ recorded: true, enqueued: [] });
    expect(await eventStore.getEvent("skip-1")).toMatchObject({
      status: "skipped",
      skipReason: "no_matching_route",
      deliveries: [],
    });
  });

  it("add-missing-deliveries: a known event gets a job only for connectors without a delivery", async () => {
    const event = messageEvent("backfill-message-77", 30);
    const decision = await route(event);
    const slackOnly = {
      ...decision,
      targets: decision.targets.filter((target) => target.connector === "slack"),
    };
    const hubspotOnly = {
      ...decision,
      targets: decision.targets.filter((target) => target.connector === "hubspot"),
    };
    const options = { mode: "add-missing-deliveries" } as const;
    expect(await acceptEvent({ database, eventStore, queue }, event, slackOnly, options)).toEqual({
      recorded: true,
      enqueued: ["slack"],
    });
    await eventStore.markDelivery("backfill-message-77", "slack", "processed");
    expect((await eventStore.getEvent("backfill-message-77"))?.status).toBe("processed");

    const hubspotBefore = await depth("hubspot");
    expect(await acceptEvent({ database, eventStore, queue }, event, hubspotOnly, options)).toEqual({
      recorded: false,
      enqueued: ["hubspot"],
    });
    expect(await depth("hubspot")).toBe(hubspotBefore + 1);
    // The event is pending again until hubspot handled it.
    expect((await eventStore.getEvent("backfill-message-77"))?.status).toBe("queued");

    expect(await acceptEvent({ database, eventStore, queue }, event, decision, options)).toEqual({
      recorded: false,
      enqueued: [],
    });
    expect(await depth("hubspot")).toBe(hubspotBefore + 1);
  });
});
