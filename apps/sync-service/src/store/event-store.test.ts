import { NotFoundError } from "@linq-connect/core";
import { beforeEach, describe, expect, it } from "vitest";
import type { Database } from "../database/database-types.ts";
import { openTestDatabases, useTestDatabase } from "../test-support/index.ts";
import { createEventStore, type EventStore, type RecordEventInput } from "./event-store.ts";

function event(eventId: string, overrides: Partial<RecordEventInput> = {}): RecordEventInput {
  return {
    eventId,
    eventType: "message.received",
    known: true,
    conversationKey: "chat-1",
    linqNumber: "+15550001111",
    routeName: "sales",
    status: "received",
    payload: { event_id: eventId, data: { text: "hello", parts: [1, 2] } },
    eventCreatedAt: new Date("2024-05-01T12:00:00.000Z"),
    ...overrides,
  };
}

describe.each(openTestDatabases())("event store on $name", (backend) => {
  let database: Database;
  let store: EventStore;
  const handle = useTestDatabase(backend);
  beforeEach(() => {
    database = handle.database;
    store = createEventStore(database);
  });
  beforeEach(async () => {
    await database.query("DELETE FROM linq_events");
  });

  it("records an event once: a duplicate event_id changes nothing", async () => {
    expect(await store.recordEvent(database, event("evt-1"))).toEqual({ inserted: true });
    expect(
      await store.recordEvent(
        database,
        event("evt-1", { eventType: "message.sent", payload: { other: true } }),
      ),
    ).toEqual({ inserted: false });
    const stored = await store.getEvent("evt-1");
    expect(stored).toMatchObject({
      eventId: "evt-1",
      eventType: "message.received",
      known: true,
      conversationKey: "chat-1",
      linqNumber: "+15550001111",
      routeName: "sales",
      status: "received",
      payload: { event_id: "evt-1", data: { text: "hello", parts: [1, 2] } },
      processedAt: undefined,
      skipReason: undefined,
      deliveries: [],
    });
    expect(stored?.eventCreatedAt?.toISOString()).toBe("2024-05-01T12:00:00.000Z");
    expect(stored?.receivedAt).toBeInstanceOf(Date);
    expect(await store.getEvent("evt-unknown")).toBeUndefined();
  });

  it("records concurrent duplicates once", async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, () => store.recordEvent(database, event("evt-concurrent"))),
    );
    expect(results.filter((result) => result.inserted)).toHaveLength(1);
  });

  it("records inside a caller's transaction, and a rollback keeps nothing", async () => {
    await expect(
      database.transaction(async (transaction) => {
        await store.recordEvent(transaction, event("evt-rolled-back"));
        throw new Error("enqueue failed");
      }),
    ).rejects.toThrow("enqueue failed");
    expect(await store.getEvent("evt-rolled-back")).toBeUndefined();
  });

  it("keeps unknown event types and optional fields", async () => {
    await store.recordEvent(database, {
      eventId: "evt-minimal",
      eventType: "future.event",
      known: false,
      status: "skipped",
      payload: ["an", "array"],
      skipReason: "unknown event type",
    });
    expect(await store.getEvent("evt-minimal")).toMatchObject({
      known: false,
      conversationKey: undefined,
      linqNumber: undefined,
      routeName: undefined,
      eventCreatedAt: undefined,
      payload: ["an", "array"],
      status: "skipped",
      skipReason: "unknown event type",
    });
  });

  it("settles an event from its deliveries", async () => {
    await store.recordEvent(database, event("evt-2"));
    expect(await store.recordDeliveries(database, "evt-2", ["slack", "hubspot", "slack"])).toBe(2);
    expect(await store.recordDeliveries(database, "evt-2", ["slack"])).toBe(0);
    expect((await store.getEvent("evt-2"))?.status).toBe("queued");

    expect(await store.markDelivery("evt-2", "slack", "processed", { attempts: 1 })).toEqual({
      eventStatus: "queued",
    });
    expect(await store.markDelivery("evt-2", "hubspot", "processed", { attempts: 2 })).toEqual({
      eventStatus: "processed",
    });
    const settled = await store.getEvent("evt-2");
    expect(settled?.status).toBe("processed");
    expect(settled?.processedAt).toBeInstanceOf(Date);
    expect(
      settled?.deliveries.map(({ connector, status, attempts }) => ({ connector, status, attempts })),
    ).toEqual([
      { connector: "hubspot", status: "processed", attempts: 2 },
      { connector: "slack", status: "processed", attempts: 1 },
    ]);
  });

  it("fails an event with a dead delivery, keeps the error, and requeues it on replay", async () => {
    await store.recordEvent(database, event("evt-3"));
    await store.recordDeliveries(database, "evt-3", ["slack", "salesforce"]);
    await store.markDelivery("evt-3", "slack", "processed", { attempts: 1 });
    const error = { name: "AuthenticationError", code: "authentication_error", message: "token revoked" };
    expect(await store.markDelivery("evt-3", "salesforce", "dead", { attempts: 5, error })).toEqual({
      eventStatus: "failed",
    });
    const failed = await store.getEvent("evt-3");
    expect(failed?.status).toBe("failed");
    expect(failed?.deliveries.find((delivery) => delivery.connector === "salesforce")).toMatchObject({
      status: "dead",
      attempts: 5,
      lastError: error,
    });

    // A replay puts the delivery back in the queue; attempts and error stay unless given.
    expect(await store.markDelivery("evt-3", "salesforce", "queued", { error: undefined })).toEqual({
      eventStatus: "queued",
    });
    const requeued = await store.getEvent("evt-3");
    expect(requeued?.processedAt).toBeUndefined();
    expect(requeued?.deliveries.find((delivery) => delivery.connector === "salesforce")).toMatchObject({
      status: "queued",
      attempts: 5,
      lastError: error,
    });
    await store.markDelivery("evt-3", "salesforce", "processed", { attempts: 6, error: null });
    const done = await store.getEvent("evt-3");
    expect(done?.status).toBe("processed");
    expect(
      done?.deliveries.find((delivery) => delivery.connector === "salesforce")?.lastError,
    ).toBeUndefined();
  });

  it("settles an event once when its deliveries finish at the same moment", async () => {
    const connectors = ["slack", "hubspot", "salesforce", "audit"];
    await store.recordEvent(database, event("evt-parallel"));
    await store.recordDeliveries(database, "evt-parallel", connectors);
    const outcomes = await Promise.all(
      connectors.map((connector) =>
        store.markDelivery("evt-parallel", connector, "processed", { attempts: 1 }),
      ),
    );
    expect(outcomes.filter((outcome) => outcome.eventStatus === "processed")).toHaveLength(1);
    expect((await store.getEvent("evt-parallel"))?.status).toBe("processed");
  });

  it("refuses a delivery of an unknown event", async () => {
    await expect(store.markDelivery("evt-missing", "slack", "processed")).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(store.setEventStatus(database, "evt-missing", "skipped")).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it("marks an event skipped with its reason and route", async () => {
    await store.recordEvent(database, event("evt-4", { routeName: null }));
    await store.setEventStatus(database, "evt-4", "skipped", { skipReason: "no route matched" });
    expect(await store.getEvent("evt-4")).toMatchObject({
      status: "skipped",
      skipReason: "no route matched",
      routeName: undefined,
    });
    expect((await store.getEvent("evt-4"))?.processedAt).toBeInstanceOf(Date);
    await store.setEventStatus(database, "evt-4", "received", { routeName: "support", skipReason: null });
    expect(await store.getEvent("evt-4")).toMatchObject({
      status: "received",
      routeName: "support",
      skipReason: undefined,
      processedAt: undefined,
    });
  });

  it("finds events acknowledged but never queued, oldest first", async () => {
    await store.recordEvent(database, event("evt-old-1"));
    await store.recordEvent(database, event("evt-old-2"));
    await store.recordEvent(database, event("evt-queued"));
    await store.recordDeliveries(database, "evt-queued", ["slack"]);
    await database.query(
      "UPDATE linq_events SET received_at = now() - interval '10 minutes' WHERE event_id IN ('evt-old-1', 'evt-queued')",
    );
    await database.query(
      "UPDATE linq_events SET received_at = now() - interval '5 minutes' WHERE event_id = 'evt-old-2'",
    );
    await store.recordEvent(database, event("evt-fresh"));

    const stuck = await store.findUnqueued({ olderThanSeconds: 60 });
    expect(stuck.map((stored) => stored.eventId)).toEqual(["evt-old-1", "evt-old-2"]);
    expect(stuck[0]?.payload).toEqual(event("evt-old-1").payload);
    expect(
      (await store.findUnqueued({ olderThanSeconds: 60, limit: 1 })).map((stored) => stored.eventId),
    ).toEqual(["evt-old-1"]);
    expect((await store.findUnqueued({ olderThanSeconds: 0 })).map((stored) => stored.eventId)).toContain(
      "evt-fresh",
    );
  });

  it("accepts the creation time as an ISO string", async () => {
    await store.recordEvent(
      database,
      event("evt-string-date", { eventCreatedAt: "2024-05-02T08:30:00.250Z" }),
    );
    expect((await store.getEvent("evt-string-date"))?.eventCreatedAt?.toISOString()).toBe(
      "2024-05-02T08:30:00.250Z",
    );
  });

  it("tells the Linq number of a conversation from its latest event that named one", async () => {
    expect(await store.findLinqNumberForConversation("chat-numbers")).toBeUndefined();
    await store.recordEvent(
      database,
      event("evt-n1", { conversationKey: "chat-numbers", linqNumber: "+15550000001" }),
    );
    await store.recordEvent(
      database,
      event("evt-n2", { conversationKey: "chat-numbers", linqNumber: "+15550000002" }),
    );
    await store.recordEvent(database, event("evt-n3", { conversationKey: "chat-numbers", linqNumber: null }));
    await store.recordEvent(
      database,
      event("evt-other", { conversationKey: "chat-other", linqNumber: "+15559999999" }),
    );
    await database.query(
      "UPDATE linq_events SET received_at = now() - interval '1 hour' WHERE event_id = 'evt-n1'",
    );
    expect(await store.findLinqNumberForConversation("chat-numbers")).toBe("+15550000002");
  });

  it("lists newest first, filters by status, and counts by status", async () => {
    await store.recordEvent(database, event("evt-a"));
    await store.recordEvent(database, event("evt-b", { status: "skipped", skipReason: "no route" }));
    await store.recordEvent(database, event("evt-c"));
    await database.query(
      "UPDATE linq_events SET received_at = now() - interval '1 minute' WHERE event_id = 'evt-a'",
    );

    expect((await store.listEvents({ limit: 10 })).map((stored) => stored.eventId)).toEqual([
      "evt-c",
      "evt-b",
      "evt-a",
    ]);
    expect(
      (await store.listEvents({ status: "skipped", limit: 10 })).map((stored) => stored.eventId),
    ).toEqual(["evt-b"]);
    expect(await store.listEvents({ limit: 1 })).toHaveLength(1);
    expect(await store.countByStatus()).toEqual({
      received: 2,
      queued: 0,
      skipped: 1,
      processed: 0,
      failed: 0,
    });
    await expect(store.listEvents({ limit: 0 })).rejects.toBeInstanceOf(RangeError);
  });
});
