// `linq-sync backfill salesforce` through the CLI with the real connector factory: the Salesforce
// connector's batch backfill (sObject Collections) against the Salesforce and Linq simulators,
// interrupted (Ctrl-C, then a create whose answer is lost) and resumed, asserted on the Salesforce
// simulator's state and the service's mappings.
import { CONTACT_MAPPING } from "@linq-connect/salesforce";
import { type SalesforceSimulator, startSalesforceSimulator } from "@linq-connect/salesforce/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  customers,
  expectNoSecrets,
  productionEnvironment,
  type SeededSimulator,
  startSeededSimulator,
  type TemporaryDirectory,
  temporaryDirectory,
} from "../commands/command.test-helpers.ts";
import { salesforceEnvironment } from "../connectors/crm-flow.test-helpers.ts";
import { openDatabase } from "../database/database.ts";
import { createMappingStore } from "../store/mapping-store.ts";
import { backfillPhone, cliRunner, createLinqContacts } from "./batch-backfill.test-helpers.ts";

const CONTACTS = 450;
const SINCE = "2024-12-31";

const contactPhone = (index: number) => backfillPhone("400", index);

const salesforceRouting = `
routes:
  - name: everyone
    crm: salesforce
    contacts: two-way
    activities: per-message
`;

describe("linq-sync backfill salesforce (the connector's batch backfill)", () => {
  let seeded: SeededSimulator;
  let salesforce: SalesforceSimulator;
  let directory: TemporaryDirectory;
  let environment: NodeJS.ProcessEnv;
  const outputs: string[] = [];

  beforeAll(async () => {
    seeded = await startSeededSimulator({ messagesPerChat: 6 });
    await createLinqContacts(seeded.linq, CONTACTS, contactPhone);
    salesforce = await startSalesforceSimulator();
    directory = await temporaryDirectory();
    environment = productionEnvironment(seeded.simulator, {
      SYNC_CONFIG: await directory.file("linq-sync.yaml", salesforceRouting),
      LINQ_SYNC_DATA_DIR: `${directory.path}/data`,
      ...salesforceEnvironment(salesforce),
    });
  }, 60_000);

  afterAll(async () => {
    await salesforce?.close();
    await seeded?.close();
    await directory?.remove();
  });

  const cli = cliRunner(() => environment, outputs);

  const recordsWithPhone = (phone: string) =>
    salesforce.state.records("Contact").filter((record) => record.MobilePhone === phone);

  it("backfills contacts 200 at a time, resumes after Ctrl-C and after a lost answer, and never duplicates", async () => {
    // 1. Ctrl-C once Salesforce holds the first batch: the run stops at the next safe point.
    const controller = new AbortController();
    const watcher = setInterval(() => {
      if (salesforce.state.records("Contact").length >= 200) controller.abort();
    }, 2);
    let first: Awaited<ReturnType<typeof cli>>;
    try {
      first = await cli(["backfill", "salesforce", "--contacts", "--since", SINCE], {
        signal: controller.signal,
      });
    } finally {
      clearInterval(watcher);
    }
    expect(first.code).toBe(1);
    expect(first.stdout).toContain(
      "backfill salesforce: interrupted (progress saved: run the same command again to resume)",
    );
    const afterFirst = salesforce.state.records("Contact").length;
    expect(afterFirst).toBeGreaterThanOrEqual(200);
    expect(afterFirst).toBeLessThan(CONTACTS);

    // 2. The next collection create is processed by Salesforce but its answer is lost: the run fails.
    const lost = salesforce.faults.inject({
      match: { method: "POST", path: /\/composite\/sobjects$/ },
      kind: "drop-after-processing",
      times: 1,
    });
    const second = await cli(["backfill", "salesforce", "--contacts", "--since", SINCE]);
    expect(lost.hits).toBe(1);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(
      "The backfill stopped; what it finished is saved: run the same command again to resume.",
    );

    // 3. The same command finishes the job, adopting what the lost request created.
    const third = await cli(["backfill", "salesforce", "--contacts", "--since", SINCE]);
    expect(third.code).toBe(0);
    expect(third.stdout).toMatch(
      /^backfill salesforce: completed in \d+:\d\d \(the connector's batch backfill\), resuming an earlier run$/m,
    );
    expect(third.stdout).toMatch(/^ {2}contacts {2}\d+ read: \d+ created, \d+ linked, /m);
    expect(third.stdout).toMatch(
      /^ {2}requests {2}\d+ to salesforce \(sObject Collections, 200 records per request\)$/m,
    );
    expect(third.stdout).not.toContain("messages");
    // A progress bar (a line per update when stderr is not a terminal).
    expect(third.stderr).toMatch(/^backfill salesforce /m);

    // Salesforce holds each Linq contact once, with the mapped values.
    expect(salesforce.state.records("Contact")).toHaveLength(CONTACTS);
    for (const index of [0, 1, 199, 200, 201, 449]) {
      const matches = recordsWithPhone(contactPhone(index));
      expect(matches, contactPhone(index)).toHaveLength(1);
      expect(matches[0]).toMatchObject({ FirstName: `First${index}`, LastName: `Last${index}` });
    }
    expect(recordsWithPhone(contactPhone(3))[0]?.Email).toBe("person3@example.com");
    // Collections: no single-record creates.
    const singleCreates = salesforce.requests.filter(
      (request) => request.method === "POST" && /\/sobjects\/Contact\/?$/.test(request.path),
    );
    expect(singleCreates).toHaveLength(0);

    // Every Linq contact is linked in the service's database, to distinct Salesforce Contacts.
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
      expect(salesforce.state.records("Contact").every((record) => linked.has(record.Id))).toBe(true);
    } finally {
      await database.close();
    }

    // 4. Conversation history: every message once as a Task, the customers as Contacts.
    const messages = await cli(["backfill", "salesforce", "--messages", "--since", SINCE]);
    expect(messages.code, messages.stdout + messages.stderr).toBe(0);
    expect(messages.stdout).toMatch(/^ {2}messages {2}18 read: 18 logged, 0 already logged/m);
    expect(messages.stdout).toContain("  chats     3 done");
    expect(salesforce.state.records("Task")).toHaveLength(18);
    for (const customer of customers) expect(recordsWithPhone(customer)).toHaveLength(1);
    const restarted = await cli(["backfill", "salesforce", "--messages", "--since", SINCE, "--restart"]);
    expect(restarted.code).toBe(0);
    expect(restarted.stdout).toMatch(/^ {2}messages {2}18 read: 0 logged, 18 already logged/m);
    expect(salesforce.state.records("Task")).toHaveLength(18);
    expect(salesforce.state.records("Contact")).toHaveLength(CONTACTS + customers.length);
    expectNoSecrets(outputs, environment);
  }, 120_000);
});
