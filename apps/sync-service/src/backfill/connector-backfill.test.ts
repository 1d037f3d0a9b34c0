// `linq-sync backfill hubspot` through the CLI with the real connector factory: the HubSpot connector's
// batch backfill against the HubSpot and Linq simulators, interrupted (Ctrl-C, then a create whose
// answer is lost) and resumed, asserted on the HubSpot simulator's state and the service's mappings.
import { CONTACT_MAPPING } from "@linq-connect/hubspot";
import { type HubSpotSimulator, startHubSpotSimulator } from "@linq-connect/hubspot/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  customers,
  expectNoSecrets,
  linqNumbers,
  productionEnvironment,
  type SeededSimulator,
  startSeededSimulator,
  type TemporaryDirectory,
  temporaryDirectory,
} from "../commands/command.test-helpers.ts";
import { openDatabase } from "../database/database.ts";
import { createMappingStore } from "../store/mapping-store.ts";
import { backfillPhone, cliRunner, createLinqContacts } from "./batch-backfill.test-helpers.ts";
import {
  batchBackfillObstacle,
  batchBackfillRoute,
  formatConnectorBackfillSummary,
} from "./connector-backfill.ts";

const CONTACTS = 300;
const SINCE = "2024-12-31";

const contactPhone = (index: number) => backfillPhone("300", index);

const hubSpotRouting = `
routes:
  - name: everyone
    crm: hubspot
    contacts: two-way
    activities: per-message
`;

const partlyHubSpotRouting = `
routes:
  - name: support
    match: { linqNumbers: ["${linqNumbers[1]}"] }
    crm: none
  - name: sales
    crm: hubspot
    contacts: two-way
    activities: per-message
`;

describe("linq-sync backfill hubspot (the connector's batch backfill)", () => {
  let seeded: SeededSimulator;
  let hubspot: HubSpotSimulator;
  let directory: TemporaryDirectory;
  let environment: NodeJS.ProcessEnv;
  const outputs: string[] = [];

  beforeAll(async () => {
    seeded = await startSeededSimulator({ messagesPerChat: 6 });
    await createLinqContacts(seeded.linq, CONTACTS, contactPhone);
    hubspot = await startHubSpotSimulator({ clientSecret: "hubspot-backfill-client-secret" });
    directory = await temporaryDirectory();
    environment = productionEnvironment(seeded.simulator, {
      SYNC_CONFIG: await directory.file("linq-sync.yaml", hubSpotRouting),
      LINQ_SYNC_DATA_DIR: `${directory.path}/data`,
      HUBSPOT_ACCESS_TOKEN: hubspot.accessToken,
      HUBSPOT_CLIENT_SECRET: hubspot.clientSecret,
      HUBSPOT_BASE_URL: hubspot.baseUrl,
      HUBSPOT_APP_ID: String(hubspot.appId),
    });
  }, 60_000);

  afterAll(async () => {
    await hubspot?.close();
    await seeded?.close();
    await directory?.remove();
  });

  const cli = cliRunner(() => environment, outputs);

  const hubSpotContactsWithPhone = (phone: string) =>
    hubspot.state.contacts().filter((contact) => contact.properties.phone === phone);

  it("backfills contacts with batch requests, resumes after Ctrl-C and after a lost answer, and never duplicates", async () => {
    // 1. Ctrl-C once HubSpot holds the first batch: the run stops at the next safe point.
    const controller = new AbortController();
    const watcher = setInterval(() => {
      if (hubspot.state.contacts().length >= 100) controller.abort();
    }, 2);
    let first: Awaited<ReturnType<typeof cli>>;
    try {
      first = await cli(["backfill", "hubspot", "--contacts", "--since", SINCE], {
        signal: controller.signal,
      });
    } finally {
      clearInterval(watcher);
    }
    expect(first.code).toBe(1);
    expect(first.stdout).toContain(
      "backfill hubspot: interrupted (progress saved: run the same command again to resume)",
    );
    const afterFirst = hubspot.state.contacts().length;
    expect(afterFirst).toBeGreaterThanOrEqual(100);
    expect(afterFirst).toBeLessThan(CONTACTS);

    // 2. The next batch create is processed by HubSpot but its answer is lost: the run fails.
    const lost = hubspot.faults.inject({
      match: { method: "POST", path: /\/crm\/v3\/objects\/contacts\/batch\/create$/ },
      kind: "drop-after-processing",
      times: 1,
    });
    const second = await cli(["backfill", "hubspot", "--contacts", "--since", SINCE]);
    expect(lost.hits).toBe(1);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(
      "The backfill stopped; what it finished is saved: run the same command again to resume.",
    );

    // 3. The same command finishes the job, adopting what the lost request created.
    const third = await cli(["backfill", "hubspot", "--contacts", "--since", SINCE]);
    expect(third.code).toBe(0);
    expect(third.stdout).toMatch(
      /^backfill hubspot: completed in \d+:\d\d \(the connector's batch backfill\), resuming an earlier run$/m,
    );
    expect(third.stdout).toMatch(/^ {2}contacts {2}\d+ read: \d+ created, \d+ linked, /m);
    expect(third.stdout).toMatch(/^ {2}requests {2}\d+ to hubspot \(\d+ answered 429 and retried\)$/m);
    expect(third.stdout).not.toContain("messages");

    // HubSpot holds each Linq contact once, with the mapped values.
    expect(hubspot.state.contacts()).toHaveLength(CONTACTS);
    for (const index of [0, 1, 99, 100, 150, 299]) {
      const matches = hubSpotContactsWithPhone(contactPhone(index));
      expect(matches, contactPhone(index)).toHaveLength(1);
      expect(matches[0]?.properties).toMatchObject({ firstname: `First${index}`, lastname: `Last${index}` });
    }
    const phones = hubspot.state.contacts().map((contact) => contact.properties.phone);
    expect(new Set(phones).size).toBe(CONTACTS);
    // Batch endpoints: far fewer contact writes than contacts.
    const creates = hubspot.requests.filter(
      (request) => request.method === "POST" && request.path === "/crm/v3/objects/contacts",
    );
    expect(creates).toHaveLength(0);

    // Every Linq contact is linked in the service's database, to distinct HubSpot contacts.
    const database = await openDatabase({ dataDirectory: `${directory.path}/data` });
    try {
      const store = createMappingStore(database);
      const linked = new Set<string>();
      for (const contact of seeded.simulator.state.contacts()) {
        const mapping = await store.findByLinqId(CONTACT_MAPPING, String(contact.id));
        expect(mapping, `the mapping of Linq contact ${contact.id}`).toBeDefined();
        linked.add(mapping?.externalId ?? "");
      }
      expect(linked.size).toBe(CONTACTS);
      expect(hubspot.state.contacts().every((contact) => linked.has(contact.id))).toBe(true);
    } finally {
      await database.close();
    }

    // 4. Conversation history: every message once as a Communication, the customers as contacts.
    const messages = await cli(["backfill", "hubspot", "--messages", "--since", SINCE]);
    expect(messages.code).toBe(0);
    expect(messages.stdout).toMatch(/^ {2}messages {2}18 read: 18 logged, 0 already logged/m);
    expect(messages.stdout).toContain("  chats     3 done");
    expect(hubspot.state.communications()).toHaveLength(18);
    for (const customer of customers) expect(hubSpotContactsWithPhone(customer)).toHaveLength(1);
    const restarted = await cli(["backfill", "hubspot", "--messages", "--since", SINCE, "--restart"]);
    expect(restarted.code).toBe(0);
    expect(restarted.stdout).toMatch(/^ {2}messages {2}18 read: 0 logged, 18 already logged/m);
    expect(hubspot.state.communications()).toHaveLength(18);
    expect(hubspot.state.contacts()).toHaveLength(CONTACTS + customers.length);
    expectNoSecrets(outputs, environment);
  }, 120_000);

  it("replays through the queue instead when some numbers are routed elsewhere or --until is given", async () => {
    const env = {
      ...environment,
      SYNC_CONFIG: await directory.file("partly.yaml", partlyHubSpotRouting),
      LINQ_SYNC_DATA_DIR: `${directory.path}/partly`,
    };
    const communications = hubspot.state.communications().length;
    const result = await cli(["backfill", "hubspot", "--messages", "--since", SINCE], { env });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(
      "The hubspot connector's batch backfill is not used (it would log the messages of every Linq number, and some routes do not send to hubspot): replaying the history through the queue instead.",
    );
    // Only the two chats of the number routed to HubSpot are queued; nothing is written to HubSpot here.
    expect(result.stdout).toContain("messages  12 read: 12 queued");
    expect(hubspot.state.communications()).toHaveLength(communications);

    const until = await cli(
      ["backfill", "hubspot", "--contacts", "--since", SINCE, "--until", "2030-01-01"],
      { env },
    );
    expect(until.code).toBe(0);
    expect(until.stderr).toContain("The hubspot connector's batch backfill is not used (it has no --until)");
    expect(until.stdout).toContain(`contacts  ${CONTACTS} read: ${CONTACTS} queued`);
  }, 60_000);
});

describe("the batch backfill's choices", () => {
  const routing = (routes: { name: string; crm: "hubspot" | "none"; contacts: "two-way" | "off" }[]) => ({
    version: 1 as const,
    source: "file" as const,
    warnings: [],
    routes: routes.map((route) => ({
      ...route,
      match: { linqNumbers: [] },
      activities: route.crm === "none" ? ("off" as const) : ("per-message" as const),
    })),
  });

  it("uses the route that receives contacts, and refuses what it cannot do exactly", () => {
    const config = routing([
      { name: "alerts", crm: "none", contacts: "off" },
      { name: "sales", crm: "hubspot", contacts: "two-way" },
    ]);
    expect(batchBackfillRoute(config, "hubspot")).toEqual({
      name: "sales",
      settings: { contacts: "two-way", activities: "per-message" },
    });
    expect(batchBackfillRoute(config, "salesforce")).toBeUndefined();
    expect(batchBackfillObstacle(config, "hubspot", { messages: false, until: undefined })).toBeUndefined();
    expect(batchBackfillObstacle(config, "hubspot", { messages: true, until: undefined })).toMatch(
      /some routes do not send to hubspot/,
    );
    const all = routing([{ name: "sales", crm: "hubspot", contacts: "two-way" }]);
    expect(batchBackfillObstacle(all, "hubspot", { messages: true, until: undefined })).toBeUndefined();
    const quiet = routing([{ name: "sales", crm: "hubspot", contacts: "two-way" }]);
    for (const route of quiet.routes) route.activities = "off";
    expect(batchBackfillObstacle(quiet, "hubspot", { messages: true, until: undefined })).toBe(
      "it would log messages of a route whose activities are off",
    );
    expect(batchBackfillObstacle(quiet, "hubspot", { messages: false, until: undefined })).toBeUndefined();
    expect(batchBackfillObstacle(all, "hubspot", { messages: false, until: new Date() })).toBe(
      "it has no --until",
    );
  });

  it("prints only the groups that were asked for", () => {
    const summary = {
      status: "completed" as const,
      resumed: false,
      since: new Date("2025-01-01T00:00:00Z"),
      counts: {
        contactsRead: 5,
        contactsCreated: 4,
        contactsAlreadyLinked: 1,
        messagesRead: 0,
        chatsDone: 0,
      },
      requests: 3,
      rateLimited: 1,
      elapsedMs: 65_000,
    };
    expect(formatConnectorBackfillSummary("hubspot", summary, { contacts: true, messages: false })).toBe(
      [
        "backfill hubspot: completed in 1:05 (the connector's batch backfill)",
        "  since     2025-01-01T00:00:00.000Z",
        "  contacts  5 read: 4 created, 1 already linked",
        "  requests  3 to hubspot (1 answered 429 and retried)",
      ].join("\n"),
    );
    // Salesforce says how it wrote the records.
    const { rateLimited: _rateLimited, ...withoutRateLimits } = summary;
    expect(
      formatConnectorBackfillSummary(
        "salesforce",
        { ...withoutRateLimits, method: "bulk" },
        { contacts: true, messages: false },
      )
        .split("\n")
        .at(-1),
    ).toBe("  requests  3 to salesforce (Bulk API 2.0)");
  });
});
