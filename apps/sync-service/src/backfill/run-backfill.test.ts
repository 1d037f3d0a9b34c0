import { ConfigurationError, LinqClient } from "@linq-connect/core";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it, type TestContext } from "vitest";
import {
  customers,
  historyStart,
  linqNumbers,
  recordingConnector,
  type SeededSimulator,
  startSeededSimulator,
} from "../commands/command.test-helpers.ts";
import { parseRoutingConfig } from "../config/routing.ts";
import { openDatabase } from "../database/database.ts";
import type { Database } from "../database/database-types.ts";
import { migrate } from "../database/migrations.ts";
import { createJobQueue, type JobQueue, type QueueJob } from "../queue/index.ts";
import { type BackfillProgressStore, createBackfillProgressStore } from "../store/backfill-progress.ts";
import { createDeadLetterStore } from "../store/dead-letter-store.ts";
import { createEventStore, type EventStore } from "../store/event-store.ts";
import { type BackfillState, backfillProgressName } from "./backfill-state.ts";
import { type RunBackfillOptions, runBackfill } from "./run-backfill.ts";

const routing = parseRoutingConfig(
  `
routes:
  - name: sales
    match: { linqNumbers: ["${linqNumbers[0]}"] }
    slack: { channel: C0SALES }
    crm: hubspot
  - name: support
    match: { linqNumbers: ["${linqNumbers[1]}"] }
    slack: { channel: C0SUPPORT }
`,
  { fileName: "linq-sync.yaml" },
);

const slack = recordingConnector("slack", ["message.received", "message.sent"]);
const hubspot = recordingConnector("hubspot", ["message.received", "contact.updated"]);
const connectors = new Map([
  [slack.name, slack],
  [hubspot.name, hubspot],
]);

interface Harness {
  database: Database;
  queue: JobQueue;
  eventStore: EventStore;
  progressStore: BackfillProgressStore;
  options(overrides?: Partial<RunBackfillOptions>): RunBackfillOptions;
  events(): Promise<{ event_id: string; event_type: string; route_name: string; conversation_key: string }[]>;
  deliveries(connector: string): Promise<number>;
}

describe("runBackfill", () => {
  let seeded: SeededSimulator;
  /** The backfill's client: rate limited like the service's, but without retries. */
  let linq: LinqClient;

  beforeAll(async () => {
    seeded = await startSeededSimulator({ messagesPerChat: 30 });
    linq = new LinqClient({ token: seeded.simulator.token, baseUrl: seeded.simulator.baseUrl, retry: false });
  });
  afterAll(async () => {
    await linq.close();
    await seeded.close();
  });

  /** A fresh database and a started queue (no workers) for one test. */
  async function harness(context: TestContext): Promise<Harness> {
    const database = await openDatabase({ inMemory: true });
    await migrate(database);
    const queue = createJobQueue({
      database,
      logger: pino({ level: "silent" }),
      deadLetters: createDeadLetterStore(database),
      pollingIntervalSeconds: 0.5,
    });
    await queue.start();
    context.onTestFinished(async () => {
      await queue.stop({ timeoutMs: 2_000 });
      await database.close();
    });
    const eventStore = createEventStore(database);
    const progressStore = createBackfillProgressStore(database);
    return {
      database,
      queue,
      eventStore,
      progressStore,
      options: (overrides = {}) => ({
        connector: "slack",
        since: new Date(historyStart),
        messages: true,
        contacts: false,
        linq,
        database,
        eventStore,
        queue,
        progressStore,
        routing,
        connectors,
        ...overrides,
      }),
      async events() {
        const { rows } = await database.query<{
          event_id: string;
          event_type: string;
          route_name: string;
          conversation_key: string;
        }>("SELECT event_id, event_type, route_name, conversation_key FROM linq_events ORDER BY event_id");
        return rows;
      },
      async deliveries(connector) {
        const { rows } = await database.query<{ count: number }>(
          "SELECT count(*)::integer AS count FROM event_deliveries WHERE connector = $1",
          [connector],
        );
        return Number(rows[0]?.count ?? 0);
      },
    };
  }

  const allMessageIds = () => [...seeded.messageIds.values()].flat();
  const depth = async (queue: JobQueue, connector: string) => (await queue.depth())[connector]?.queued ?? 0;

  it("replays every message once, for one connector only, and a second run adds nothing", async (context) => {
    const h = await harness(context);
    const first = await runBackfill(h.options());
    expect(first.status).toBe("completed");
    expect(first.counts).toMatchObject({
      chatsDone: 3,
      messagesRead: 90,
      messagesQueued: 90,
      messagesAlreadyQueued: 0,
      messagesSkipped: 0,
    });
    expect(first.numbers).toEqual([...linqNumbers]);
    expect(first.chatsTotal).toBe(3);

    const events = await h.events();
    expect(events.map((event) => event.event_id).sort()).toEqual(
      allMessageIds()
        .map((id) => `backfill-message-${id}`)
        .sort(),
    );
    expect(events.filter((event) => event.event_type === "message.received")).toHaveLength(45);
    expect(events.filter((event) => event.event_type === "message.sent")).toHaveLength(45);
    const [chatA, chatB, chatC] = seeded.chatIds;
    expect(
      new Set(
        events.filter((event) => event.conversation_key === `chat:${chatC}`).map((event) => event.route_name),
      ),
    ).toEqual(new Set(["support"]));
    expect(
      new Set(
        events.filter((event) => event.conversation_key !== `chat:${chatC}`).map((event) => event.route_name),
      ),
    ).toEqual(new Set(["sales"]));
    expect(await h.deliveries("slack")).toBe(90);
    expect(await h.deliveries("hubspot")).toBe(0);
    expect(await depth(h.queue, "slack")).toBe(90);
    expect(await depth(h.queue, "hubspot")).toBe(0);
    expect(await h.progressStore.loadProgress(backfillProgressName("slack"))).toBeUndefined();

    const second = await runBackfill(h.options());
    expect(second.counts).toMatchObject({ messagesRead: 90, messagesQueued: 0, messagesAlreadyQueued: 90 });
    expect(await h.events()).toHaveLength(90);
    expect(await depth(h.queue, "slack")).toBe(90);

    // The jobs carry the chat as ordering key: a worker gets each chat's messages oldest first.
    const received: QueueJob[] = [];
    await h.queue.work(
      "slack",
      async (job) => {
        received.push(job);
      },
      { concurrency: 3 },
    );
    const deadline = Date.now() + 20_000;
    while (received.length < 90 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(received).toHaveLength(90);
    for (const chatId of [chatA, chatB, chatC]) {
      const order = received
        .filter((job) => job.orderingKey === `chat:${chatId}`)
        .map((job) => Number(String(job.payload.eventId).replace("backfill-message-", "")));
      expect(order).toEqual(seeded.messageIds.get(chatId ?? -1));
    }
  });

  it("gives a second connector the events a first backfill recorded, only what it consumes and is routed", async (context) => {
    const h = await harness(context);
    await runBackfill(h.options());
    const notices: string[] = [];
    const result = await runBackfill(
      h.options({ connector: "hubspot", onNotice: (line) => notices.push(line) }),
    );
    expect(result.status).toBe("completed");
    // +15550002222's route has no CRM; hubspot does not consume message.sent.
    expect(result.skippedNumbers).toEqual([
      { number: linqNumbers[1], reason: 'its route "support" does not send to hubspot' },
    ]);
    expect(notices).toContain(`${linqNumbers[1]} skipped: its route "support" does not send to hubspot`);
    expect(result.counts).toMatchObject({
      chatsDone: 2,
      messagesRead: 60,
      messagesQueued: 30,
      messagesSkipped: 30,
      messagesAlreadyQueued: 0,
    });
    expect(await h.events()).toHaveLength(90);
    expect(await h.deliveries("hubspot")).toBe(30);
    expect(await depth(h.queue, "hubspot")).toBe(30);
    const { rows } = await h.database.query<{ status: string; count: number }>(
      `SELECT e.status, count(*)::integer AS count FROM linq_events e JOIN event_deliveries d USING (event_id)
       WHERE d.connector = 'hubspot' GROUP BY e.status`,
    );
    expect(rows).toEqual([{ status: "queued", count: 30 }]);
  });

  it("reads only the window: --since included, --until excluded", async (context) => {
    const h = await harness(context);
    const minute = 60_000;
    const result = await runBackfill(
      h.options({ since: new Date(historyStart + 45 * minute), until: new Date(historyStart + 75 * minute) }),
    );
    // Messages were sent one minute apart: chat 2 at minutes 31-60, chat 3 at 61-90.
    expect(result.counts).toMatchObject({ messagesRead: 30, messagesQueued: 30 });
    const ids = (await h.events()).map((event) => Number(event.event_id.replace("backfill-message-", "")));
    const [, chatB, chatC] = seeded.chatIds;
    const expected = [
      ...(seeded.messageIds.get(chatB ?? -1) ?? []).slice(14),
      ...(seeded.messageIds.get(chatC ?? -1) ?? []).slice(0, 14),
    ];
    expect(ids.sort((a, b) => a - b)).toEqual(expected.sort((a, b) => a - b));
  });

  it("stops at the signal after a chat and resumes with the other chats, with exact totals", async (context) => {
    const h = await harness(context);
    const controller = new AbortController();
    const until = new Date(historyStart + 24 * 3_600_000);
    const interrupted = await runBackfill(
      h.options({
        until,
        signal: controller.signal,
        onProgress: (progress) => {
          if (progress.phase === "messages" && progress.chatsDone === 1) controller.abort();
        },
      }),
    );
    expect(interrupted.status).toBe("interrupted");
    expect(interrupted.counts).toMatchObject({ chatsDone: 1, messagesQueued: 30 });
    expect(await h.events()).toHaveLength(30);
    const saved = await h.progressStore.loadProgress<BackfillState>(backfillProgressName("slack"));
    expect(saved?.state.counts.chatsDone).toBe(1);
    const finishedChat = saved?.state.numbers[linqNumbers[0]]?.lastFinishedChatId;
    expect(seeded.chatIds.slice(0, 2)).toContain(finishedChat);

    const requestsBefore = seeded.simulator.requests.length;
    const resumed = await runBackfill(h.options({ until }));
    expect(resumed.status).toBe("completed");
    expect(resumed.resumed).toBe(true);
    expect(resumed.counts).toMatchObject({
      chatsDone: 3,
      messagesRead: 90,
      messagesQueued: 90,
      messagesAlreadyQueued: 0,
    });
    expect(resumed.thisRun).toMatchObject({ chatsDone: 2, messagesQueued: 60 });
    // The finished chat's messages were not read again.
    const listed = seeded.simulator.requests
      .slice(requestsBefore)
      .filter((request) => request.path.endsWith("/chat_messages"));
    expect(listed.map((request) => request.path).sort()).toEqual(
      seeded.chatIds
        .filter((chatId) => chatId !== finishedChat)
        .map((chatId) => `/api/partner/v2/chats/${chatId}/chat_messages`)
        .sort(),
    );
    expect(await h.events()).toHaveLength(90);
    expect(await depth(h.queue, "slack")).toBe(90);
    expect(await h.progressStore.loadProgress(backfillProgressName("slack"))).toBeUndefined();
  });

  it("after a crash in the middle of a chat, a new run records nothing twice and queues every message once", async (context) => {
    const h = await harness(context);
    let enqueued = 0;
    const failingQueue: JobQueue = {
      ...h.queue,
      enqueue: async (...parameters) => {
        enqueued += 1;
        if (enqueued === 45) throw new Error("the process died here");
        return h.queue.enqueue(...parameters);
      },
    };
    await expect(runBackfill(h.options({ queue: failingQueue }))).rejects.toThrow("the process died here");
    // The first chat (30) and 14 of the second: each event and its job committed together.
    expect(await h.events()).toHaveLength(44);
    expect(await depth(h.queue, "slack")).toBe(44);

    const resumed = await runBackfill(h.options());
    expect(resumed.status).toBe("completed");
    expect(resumed.counts).toMatchObject({
      chatsDone: 3,
      messagesRead: 90,
      messagesQueued: 76,
      messagesAlreadyQueued: 14,
    });
    expect(await h.events()).toHaveLength(90);
    expect(await h.deliveries("slack")).toBe(90);
    expect(await depth(h.queue, "slack")).toBe(90);
  });

  it("refuses to mix a saved run with other options, unless restarted", async (context) => {
    const h = await harness(context);
    const controller = new AbortController();
    controller.abort();
    const stopped = await runBackfill(h.options({ signal: controller.signal }));
    expect(stopped.status).toBe("interrupted");
    await expect(runBackfill(h.options({ since: new Date(historyStart - 86_400_000) }))).rejects.toThrow(
      /with other options \(--since 2025-01-01T00:00:00.000Z --messages\).*--restart/,
    );
    const restarted = await runBackfill(
      h.options({ since: new Date(historyStart - 86_400_000), restart: true }),
    );
    expect(restarted.status).toBe("completed");
    expect(restarted.resumed).toBe(false);
    expect(restarted.counts.messagesQueued).toBe(90);
  });

  it("replays contacts updated in the window as contact.updated events", async (context) => {
    const h = await harness(context);
    seeded.advanceClock(24 * 3_600_000);
    const windowStart = seeded.now();
    const old = await seeded.linq.createContact({
      contact: { first_name: "Old", phone_number: "+15551239999" },
    });
    seeded.advanceClock(60_000);
    const since = new Date(seeded.now().getTime());
    const created = [];
    for (const [index, customer] of customers.entries()) {
      seeded.advanceClock(60_000);
      created.push(
        await seeded.linq.createContact({
          contact: { first_name: `Customer ${index}`, phone_number: customer },
        }),
      );
    }
    expect(windowStart.getTime()).toBeLessThan(since.getTime());

    const result = await runBackfill(
      h.options({ connector: "hubspot", since, messages: false, contacts: true }),
    );
    expect(result.status).toBe("completed");
    expect(result.counts).toMatchObject({ contactsRead: 2, contactsQueued: 2, messagesRead: 0 });
    const events = await h.events();
    expect(events.map((event) => event.event_type)).toEqual(["contact.updated", "contact.updated"]);
    expect(events.map((event) => event.event_id).sort()).toEqual(
      created
        .map(
          (contact) => `backfill-contact-${contact.id}-${new Date(contact.updated_at ?? "").toISOString()}`,
        )
        .sort(),
    );
    expect(events.some((event) => event.event_id.startsWith(`backfill-contact-${old.id}-`))).toBe(false);
    expect(await depth(h.queue, "hubspot")).toBe(2);

    const again = await runBackfill(
      h.options({ connector: "hubspot", since, messages: false, contacts: true }),
    );
    expect(again.counts).toMatchObject({ contactsRead: 2, contactsQueued: 0, contactsAlreadyQueued: 2 });
  });

  it("names the configured connectors when the target is not one, and refuses what it does not consume", async (context) => {
    const h = await harness(context);
    await expect(runBackfill(h.options({ connector: "salesforce" }))).rejects.toThrow(
      'No connector named "salesforce" is configured; configured: hubspot, slack',
    );
    await expect(runBackfill(h.options({ connectors: new Map(), connector: "slack" }))).rejects.toThrow(
      'No connector named "slack" is configured; configured: none',
    );
    await expect(runBackfill(h.options({ contacts: true, messages: false }))).rejects.toThrow(
      ConfigurationError,
    );
    await expect(runBackfill(h.options({ contacts: true, messages: false }))).rejects.toThrow(
      "The slack connector does not consume contact.updated",
    );
    expect(await h.events()).toHaveLength(0);
  });
});
