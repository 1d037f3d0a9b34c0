// The Salesforce flow end to end THROUGH THE SYNC-SERVICE, over real HTTP everywhere:
//   Linq simulator → signed webhook → /webhooks/linq → event store + queue → Salesforce connector (jsforce)
//     → Salesforce simulator
//   Salesforce simulator (a user's edit) → the service's poll schedule → connector job → Linq simulator
// The connector is built by the service's own factory (src/commands/connectors.ts) from the settings and
// the routing, as `linq-sync serve` builds it. Every assertion reads the simulators' state.
import { randomBytes } from "node:crypto";
import { ConfigurationError } from "@linq-connect/core";
import { type LinqSimulator, startLinqSimulator } from "@linq-connect/core/testing";
import type { SalesforceConnector } from "@linq-connect/salesforce";
import {
  type SalesforceRecord,
  type SalesforceSimulator,
  startSalesforceSimulator,
} from "@linq-connect/salesforce/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApplication } from "../application.ts";
import { testContext } from "../commands/command.test-helpers.ts";
import { createConnectors } from "../commands/connectors.ts";
import { diagnose } from "../commands/doctor.ts";
import { loadSettings } from "../config/environment.ts";
import { parseRoutingConfig, routingCredentialProblems } from "../config/routing.ts";
import { openDatabase } from "../database/database.ts";
import { migrate } from "../database/migrations.ts";
import { createLogger } from "../logger.ts";
import { createDeadLetterStore } from "../store/dead-letter-store.ts";
import {
  salesforceEnvironment,
  settleFlow,
  startFlowApplication,
  startFlowLinqSimulator,
  stopFlowApplication,
} from "./crm-flow.test-helpers.ts";
import { LogLines, sleep } from "./slack-flow.test-helpers.ts";

const LINQ_NUMBER = "+15550001111";
const CUSTOMER = "+15552020001";
const SECOND_CUSTOMER = "+15552020002";
const POLL_INTERVAL_SECONDS = 5;
const REQUEST_LIMIT_RETRY_SECONDS = 2;

const routingYaml = `routes:
  - name: sales
    crm: salesforce
    contacts: two-way
    activities: per-message
`;

describe("the Salesforce flow through the service", () => {
  let linq: LinqSimulator;
  let salesforce: SalesforceSimulator;
  let application: RunningApplication;
  const logs = new LogLines();

  beforeAll(async () => {
    linq = await startFlowLinqSimulator(LINQ_NUMBER);
    salesforce = await startSalesforceSimulator();
    const webhookSecret = `whsec_${randomBytes(16).toString("hex")}`;
    const settings = loadSettings({
      LINQ_API_TOKEN: linq.token,
      LINQ_API_BASE_URL: linq.baseUrl,
      LINQ_WEBHOOK_SECRET: webhookSecret,
      ...salesforceEnvironment(salesforce),
      SALESFORCE_POLL_INTERVAL_SECONDS: String(POLL_INTERVAL_SECONDS),
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      JOB_RETRY_DELAY_SECONDS: "1",
    });
    const logger = createLogger({
      level: process.env.SALESFORCE_FLOW_LOG_LEVEL ?? "warn",
      destination: logs,
    });
    const routing = parseRoutingConfig(routingYaml, { fileName: "salesforce-flow.yaml", environment: {} });
    expect(routingCredentialProblems(routing, settings)).toEqual([]);
    const connectors = await createConnectors(settings, {
      routing,
      logger,
      // No environment variable: REQUEST_LIMIT_EXCEEDED makes work wait 15 minutes in production.
      salesforceOverrides: { requestLimitRetrySeconds: REQUEST_LIMIT_RETRY_SECONDS },
    });
    expect(connectors.map((connector) => connector.name)).toEqual(["salesforce"]);
    application = await startFlowApplication({ settings, routing, logger, connectors, webhookSecret });
  }, 30_000);

  afterAll(async () => {
    await stopFlowApplication(application);
    await linq?.close();
    await salesforce?.close();
  });

  /** Linq has delivered everything and no job is queued, running or retrying (twice in a row). */
  const settle = (timeoutMs?: number) =>
    settleFlow(application, { logs, timeoutMs, flush: () => linq.webhooks.flush() });

  async function waitUntil(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline)
        throw new Error(`Timed out waiting for ${what}. Service warnings:\n${logs.tail()}`);
      await linq.webhooks.flush();
      await sleep(50);
    }
  }

  const contactsWithPhone = (phone: string): SalesforceRecord[] =>
    salesforce.state
      .records("Contact")
      .filter((record) =>
        [record.Phone, record.MobilePhone].some((value) => digits(value) === digits(phone)),
      );

  function onlyContact(phone: string): SalesforceRecord {
    const matches = contactsWithPhone(phone);
    expect(matches, `Salesforce Contacts with the phone ${phone}`).toHaveLength(1);
    return matches[0] as SalesforceRecord;
  }

  const tasksOf = (recordId: string) =>
    salesforce.state.records("Task").filter((task) => task.WhoId === recordId);

  /** Requests the service made to Salesforce that write a Contact. */
  const contactWrites = () =>
    salesforce.requests.filter(
      (request) =>
        request.method !== "GET" &&
        (/\/sobjects\/Contact(\/|$)/.test(request.path) ||
          (/\/composite\/sobjects$/.test(request.path) &&
            JSON.stringify(request.body).includes('"Contact"'))),
    ).length;

  const deadLetters = () => createDeadLetterStore(application.database).count();

  it("logs a customer's texts as Tasks on one Salesforce Contact, created once, and only once under replays", async () => {
    // Two texts at once from a number Salesforce does not know: one Contact, two Tasks.
    await Promise.all([
      linq.inbound.text({ from: CUSTOMER, to: LINQ_NUMBER, text: "Hi! Is my order ready?" }),
      linq.inbound.text({ from: CUSTOMER, to: LINQ_NUMBER, text: "It is order 1042." }),
    ]);
    await settle();
    const contact = onlyContact(CUSTOMER);
    const tasks = tasksOf(contact.Id);
    expect(tasks).toHaveLength(2);
    for (const task of tasks) {
      expect(task).toMatchObject({ Status: "Completed", TaskSubtype: "Task" });
      expect(String(task.Subject)).not.toBe("");
      expect(task.ActivityDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
    const descriptions = tasks.map((task) => String(task.Description ?? ""));
    expect(descriptions.some((text) => text.includes("Is my order ready?"))).toBe(true);
    expect(descriptions.some((text) => text.includes("It is order 1042."))).toBe(true);
    expect(salesforce.state.records("Task")).toHaveLength(2);

    // The same message again under a new event id (a replay): the connector logs it only once.
    const received = linq.webhooks.deliveries.find((delivery) => delivery.eventType === "message.received");
    if (received === undefined) throw new Error("no message.received was delivered");
    const { data } = JSON.parse(received.body) as { data: Record<string, unknown> };
    await linq.webhooks.deliver({ event_type: "message.received", data });
    await settle();
    expect(tasksOf(contact.Id)).toHaveLength(2);

    await linq.inbound.text({ from: CUSTOMER, to: LINQ_NUMBER, text: "Thanks" });
    await settle();
    expect(tasksOf(contact.Id)).toHaveLength(3);
    expect(contactsWithPhone(CUSTOMER)).toHaveLength(1);
    expect(await deadLetters()).toBe(0);
  });

  it("updates the Salesforce Contact when the Linq contact changes", async () => {
    const created = await application.linq.createContact({
      contact: { first_name: "Jane", last_name: "Doe", phone_number: CUSTOMER, company: "Acme" },
    });
    await settle();
    const linked = onlyContact(CUSTOMER);
    expect(linked).toMatchObject({ FirstName: "Jane", LastName: "Doe" });
    // A Contact's company is its Account.
    const account = salesforce.state.records("Account").find((record) => record.Id === linked.AccountId);
    expect(account?.Name).toBe("Acme");

    await application.linq.updateContact(String(created.id), {
      contact: { first_name: "Jane", title: "Buyer", email: "jane@acme.example" },
    });
    await settle();
    expect(onlyContact(CUSTOMER)).toMatchObject({
      FirstName: "Jane",
      LastName: "Doe",
      Title: "Buyer",
      Email: "jane@acme.example",
    });
    expect(salesforce.state.records("Contact")).toHaveLength(1);
  });

  it("brings a change made in Salesforce to Linq through the poll schedule, without bouncing it back", async () => {
    const [linqContact] = linq.state.contacts().filter((contact) => contact.phone_number === CUSTOMER);
    if (linqContact === undefined) throw new Error("the previous test's Linq contact is missing");
    const record = onlyContact(CUSTOMER);
    const linqWrites = () =>
      linq.requests.filter(
        (request) => request.method !== "GET" && request.path.endsWith(`/contacts/${linqContact.id}`),
      ).length;
    const linqWritesBefore = linqWrites();
    const salesforceWritesBefore = contactWrites();

    // A sales rep edits the Contact in Salesforce's UI; the next poll (every 5 s) picks it up.
    const rep = salesforce.users.list()[1];
    salesforce.users.update(
      "Contact",
      record.Id,
      { Title: "Head of Purchasing", MailingCity: "Lyon" },
      rep === undefined ? {} : { as: rep.id },
    );
    await waitUntil(
      () => linq.state.contact(Number(linqContact.id))?.title === "Head of Purchasing",
      "the Salesforce edit to reach Linq",
      (POLL_INTERVAL_SECONDS + 10) * 1000,
    );
    await settle();
    expect(linq.state.contact(Number(linqContact.id))).toMatchObject({
      first_name: "Jane",
      title: "Head of Purchasing",
      location: "Lyon",
    });
    expect(linqWrites() - linqWritesBefore).toBe(1);
    // Linq's contact.updated about our own write came back to the service and wrote nothing to Salesforce.
    expect(contactWrites()).toBe(salesforceWritesBefore);
    expect(onlyContact(CUSTOMER)).toMatchObject({ Title: "Head of Purchasing", MailingCity: "Lyon" });
  }, 30_000);

  it("refreshes an expired session mid-run and loses nothing", async () => {
    const contact = onlyContact(CUSTOMER);
    const before = tasksOf(contact.Id).length;
    const refreshesBefore = salesforce.requests.filter((request) =>
      request.path.endsWith("/services/oauth2/token"),
    ).length;
    // Every token issued so far expires while texts arrive: the next call answers INVALID_SESSION_ID.
    const first = linq.inbound.text({ from: CUSTOMER, to: LINQ_NUMBER, text: "Are you there?" });
    salesforce.expireAllTokens();
    await Promise.all([
      first,
      linq.inbound.text({ from: CUSTOMER, to: LINQ_NUMBER, text: "Hello again" }),
      linq.inbound.text({ from: SECOND_CUSTOMER, to: LINQ_NUMBER, text: "New here" }),
    ]);
    await settle();
    const refreshes = salesforce.requests.filter(
      (request) => request.path.endsWith("/services/oauth2/token") && request.status === 200,
    ).length;
    expect(refreshes).toBeGreaterThan(refreshesBefore);
    expect(salesforce.requests.some((request) => request.status === 401)).toBe(true);
    const descriptions = tasksOf(contact.Id).map((task) => String(task.Description ?? ""));
    expect(descriptions).toHaveLength(before + 2);
    expect(descriptions.some((text) => text.includes("Are you there?"))).toBe(true);
    expect(descriptions.some((text) => text.includes("Hello again"))).toBe(true);
    const second = onlyContact(SECOND_CUSTOMER);
    expect(tasksOf(second.Id)).toHaveLength(1);
    expect(await deadLetters()).toBe(0);
  });

  it("waits on REQUEST_LIMIT_EXCEEDED and completes the work later", async () => {
    const contact = onlyContact(CUSTOMER);
    const before = tasksOf(contact.Id).length;
    // The org runs out of API requests for the next Task write.
    const limit = salesforce.faults.inject({
      kind: "request-limit",
      match: { method: "POST", path: /\/(sobjects\/Task\/?|composite\/sobjects|composite)$/ },
      times: 1,
    });
    const started = Date.now();
    await linq.inbound.text({ from: CUSTOMER, to: LINQ_NUMBER, text: "Still waiting for order 1042" });
    await waitUntil(() => limit.hits === 1, "the REQUEST_LIMIT_EXCEEDED answer");
    // The job is not lost, and not retried at once: it waits for the limit window.
    expect(tasksOf(contact.Id)).toHaveLength(before);
    let waiting = 0;
    for (let round = 0; round < 40 && waiting === 0; round += 1) {
      const depth = await application.queue.depth();
      waiting = Object.values(depth).reduce((total, entry) => total + entry.retry, 0);
      if (waiting === 0) await sleep(25);
    }
    expect(waiting).toBe(1);
    expect(tasksOf(contact.Id)).toHaveLength(before);
    await settle();
    expect(Date.now() - started).toBeGreaterThanOrEqual(REQUEST_LIMIT_RETRY_SECONDS * 1000);
    const tasks = tasksOf(contact.Id);
    expect(tasks).toHaveLength(before + 1);
    expect(tasks.some((task) => String(task.Description).includes("Still waiting for order 1042"))).toBe(
      true,
    );
    expect(await deadLetters()).toBe(0);
  }, 30_000);
});

function digits(value: unknown): string {
  return typeof value === "string" ? value.replace(/\D/g, "").replace(/^1(\d{10})$/, "$1") : "";
}

describe("the service's Salesforce connector factory", () => {
  const logger = createLogger({ level: "silent" });
  const routing = (yaml: string) => parseRoutingConfig(yaml, { fileName: "linq-sync.yaml", environment: {} });

  it("needs Salesforce credentials when a route uses Salesforce", async () => {
    await expect(
      createConnectors(loadSettings({}), { routing: routing(routingYaml), logger }),
    ).rejects.toThrow(/A route uses Salesforce \(crm: salesforce\) but no Salesforce credentials are set/);
    expect(
      routingCredentialProblems(
        routing(routingYaml),
        loadSettings({ LINQ_API_TOKEN: "linq-token-123456", LINQ_WEBHOOK_SECRET: "whsec-factory-test-123" }),
      ),
    ).toEqual([
      'Salesforce credentials are required: route "sales" uses Salesforce (SALESFORCE_ACCESS_TOKEN, SALESFORCE_REFRESH_TOKEN or the JWT bearer flow)',
    ]);
  });

  it("refuses a route's invalid Salesforce settings, naming the route and the setting", async () => {
    const settings = loadSettings({
      SALESFORCE_ACCESS_TOKEN: "00D000000000001!factory-test",
      SALESFORCE_INSTANCE_URL: "https://example.my.salesforce.com",
    });
    const invalid = routing(`routes:
  - name: sales
    crm: salesforce
    salesforce: { objectType: Opportunity }
`);
    const error = await createConnectors(settings, { routing: invalid, logger }).catch((caught) => caught);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(
      /Route "sales" has invalid Salesforce settings: salesforce\.objectType/,
    );
    expect(() =>
      loadSettings({
        SALESFORCE_ACCESS_TOKEN: "00D000000000001!factory-test",
        SALESFORCE_INSTANCE_URL: "https://example.my.salesforce.com",
        SALESFORCE_POLL_INTERVAL_SECONDS: "2",
      }),
    ).toThrow(/SALESFORCE_POLL_INTERVAL_SECONDS.*from 5 to 86400/);
    const tooLate = loadSettings({
      SALESFORCE_ACCESS_TOKEN: "00D000000000001!factory-test",
      SALESFORCE_INSTANCE_URL: "https://example.my.salesforce.com",
      SALESFORCE_SLOW_DOWN_AT_SHARE: "0.9",
      SALESFORCE_STOP_AT_SHARE: "0.5",
    });
    await expect(createConnectors(tooLate, { routing: routing(routingYaml), logger })).rejects.toThrow(
      /stopAtShare must be at least slowDownAtShare/,
    );
  });

  it("signs in with the JWT bearer flow, records requests in the metrics, and polls only for a route that takes Salesforce contacts", async () => {
    const { generateKeyPairSync } = await import("node:crypto");
    const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const simulator = await startSalesforceSimulator({
      users: [
        {
          username: "integration@example.com",
          publicKeyPem: keys.publicKey.export({ type: "spki", format: "pem" }).toString(),
        },
      ],
    });
    try {
      const recorded: [string, number | undefined][] = [];
      const settings = loadSettings({
        SALESFORCE_LOGIN_URL: simulator.loginUrl,
        SALESFORCE_INSTANCE_URL: simulator.instanceUrl,
        SALESFORCE_CLIENT_ID: simulator.clientId,
        SALESFORCE_USERNAME: "integration@example.com",
        SALESFORCE_PRIVATE_KEY: keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      });
      const [connector] = await createConnectors(settings, {
        routing: routing(routingYaml),
        logger,
        recordUpstream: (service, status) => recorded.push([service, status]),
      });
      const salesforceConnector = connector as SalesforceConnector;
      expect(salesforceConnector.schedules?.map((task) => [task.name, task.intervalSeconds])).toEqual([
        ["salesforce-poll", 60],
      ]);
      const limits = await salesforceConnector.api.limits();
      expect(limits.DailyApiRequests?.Max).toBe(15_000);
      expect(recorded).toContainEqual(["salesforce", 200]);
      expect(recorded.every(([service]) => service === "salesforce")).toBe(true);
      await connector?.close?.();

      // No route takes contacts from Salesforce: polling has no route to follow and does nothing.
      const [oneWay] = await createConnectors(settings, {
        routing: routing("routes:\n  - name: sales\n    crm: salesforce\n    contacts: linq-to-crm\n"),
        logger,
      });
      const requestsBefore = simulator.requests.length;
      await (oneWay as SalesforceConnector).poll({
        linq: undefined as never,
        store: undefined as never,
        logger: logger as never,
        signal: new AbortController().signal,
        enqueue: async () => {
          throw new Error("nothing should be enqueued");
        },
      });
      expect(simulator.requests.length).toBe(requestsBefore);
    } finally {
      await simulator.close();
    }
  });

  it("is checked by `linq-sync doctor`: sign-in, API usage, fields and Task picklists", async () => {
    const simulator = await startSalesforceSimulator({ picklists: { "Task.CallType": ["Internal"] } });
    const linqSimulator = await startLinqSimulator({ phoneNumbers: [LINQ_NUMBER] });
    const database = await openDatabase({ inMemory: true });
    try {
      await migrate(database);
      const environment: NodeJS.ProcessEnv = {
        LINQ_API_TOKEN: linqSimulator.token,
        LINQ_API_BASE_URL: linqSimulator.baseUrl,
        LINQ_WEBHOOK_SECRET: `whsec_${randomBytes(12).toString("hex")}`,
        CRM_PROVIDER: "salesforce",
        ...salesforceEnvironment(simulator),
      };
      const context = { ...testContext(environment, { database }), createConnectors };
      const report = await diagnose(context);
      const salesforceChecks = report.checks.filter((check) => check.name.startsWith("salesforce"));
      expect(salesforceChecks.map((check) => [check.name, check.status])).toEqual([
        ["salesforce: salesforce sign-in", "ok"],
        ["salesforce: salesforce API usage", "ok"],
        ["salesforce: salesforce Contact fields", "ok"],
        ["salesforce: salesforce Task fields", "ok"],
        ["salesforce: salesforce Task picklists", "fail"],
      ]);
      expect(salesforceChecks.at(-1)?.detail).toBe(
        'picklist values the connector writes that are not active: CallType "Inbound", CallType "Outbound"',
      );
      const text = JSON.stringify(report);
      for (const variable of [
        "SALESFORCE_ACCESS_TOKEN",
        "SALESFORCE_REFRESH_TOKEN",
        "SALESFORCE_CLIENT_SECRET",
      ]) {
        expect(text).not.toContain(environment[variable]);
      }

      simulator.revokeAllTokens();
      simulator.expireAllTokens();
      const refused = await diagnose({ ...testContext(environment, { database }), createConnectors });
      const signIn = refused.checks.find((check) => check.name === "salesforce: salesforce sign-in");
      expect(signIn).toMatchObject({
        status: "fail",
        fix: expect.stringMatching(/^Authorize the connected app again/),
      });
    } finally {
      await database.close();
      await linqSimulator.close();
      await simulator.close();
    }
  });
});
