// pnpm bench (in packages/salesforce; runs the TypeScript sources, no build needed): the contact
// backfill against the Salesforce and Linq simulators, with sObject Collections and with Bulk API 2.0,
// next to a bare baseline measured in the same run (raw jsforce creating the same records, in
// collections of 200 or in one Bulk API 2.0 job, with no Linq reads, no matching and no mappings).
// Figures go to bench-results/ with the machine described. The mapping store is the tests' in-memory
// one (each call yields to the event loop, like a database round trip).
//
// Figures, not assertions: nothing here fails on a number.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, freemem, totalmem, type } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Contact, LinqClient } from "@linq-connect/core";
import { startLinqSimulator } from "@linq-connect/core/testing";
import { Connection } from "jsforce";
import { MemoryMappingStore } from "../src/connector-harness.test-helpers.ts";
import { linqContactToSalesforceFields } from "../src/field-mapping.ts";
import { createSalesforceConnector } from "../src/salesforce-connector.ts";
import { startSalesforceSimulator } from "../src/testing/salesforce-simulator.ts";
import type { SalesforceSimulator } from "../src/testing/simulator-types.ts";

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const resultsDirectory = join(packageRoot, "bench-results");
const contactCounts = (process.env.BENCH_CONTACTS ?? "2000,10000").split(",").map(Number);
/** Bulk runs: a threshold below the contact count, so that the run is sized for Bulk API 2.0. */
const BULK_THRESHOLD = 1_000;
const bulkThresholdFor = (count: number) => Math.min(BULK_THRESHOLD, Math.floor(count / 2));

/** Linq contacts as people type them: some with an email, a title or a city. */
async function seed(linq: LinqClient, count: number): Promise<void> {
  const input = (index: number) => ({
    first_name: `First${index}`,
    last_name: `Last${index}`,
    phone_number: `+1555${String(2_000_000 + index).padStart(7, "0")}`,
    ...(index % 3 === 0 ? { email: `person${index}@example.com` } : {}),
    ...(index % 4 === 0 ? { title: "Buyer" } : {}),
    ...(index % 5 === 0 ? { location: "Springfield" } : {}),
  });
  const indexes = Array.from({ length: count }, (_, index) => index);
  while (indexes.length > 0) {
    const wave = indexes.splice(0, 100);
    await Promise.all(wave.map((index) => linq.createContact({ contact: input(index) })));
  }
}

async function listAll(linq: LinqClient): Promise<Contact[]> {
  const contacts: Contact[] = [];
  for await (const contact of linq.iterateContacts({ perPage: 100 })) contacts.push(contact);
  return contacts;
}

type Method = "collections" | "bulk";

interface Row {
  name: string;
  method: Method;
  contacts: number;
  seconds: number;
  recordsPerSecond: number;
  salesforceRequests: number;
  requestsPer1000Contacts: number;
  bulkJobs: number;
  /** Baseline rows: undefined. Connector rows: connector seconds / baseline seconds. */
  timeVersusBaseline: number | undefined;
}

function connection(salesforce: SalesforceSimulator): Connection {
  return new Connection({
    instanceUrl: salesforce.instanceUrl,
    accessToken: salesforce.issueAccessToken(),
    version: salesforce.apiVersion,
  });
}

async function measure(
  linq: LinqClient,
  contacts: Contact[],
  method: Method,
  mode: "backfillSalesforce" | "bare jsforce",
): Promise<Row> {
  const count = contacts.length;
  const salesforce = await startSalesforceSimulator({ dailyApiLimit: 1_000_000 });
  try {
    const started = performance.now();
    let bulkJobs = 0;
    if (mode === "backfillSalesforce") {
      const connector = createSalesforceConnector({
        instanceUrl: salesforce.instanceUrl,
        accessToken: salesforce.issueAccessToken(),
        apiVersion: salesforce.apiVersion,
        pollIntervalSeconds: false,
        bulkThreshold: method === "bulk" ? bulkThresholdFor(count) : 1_000_000_000,
      });
      const summary = await connector.backfill({
        linq,
        store: new MemoryMappingStore(),
        since: new Date(0),
        contacts: true,
        messages: false,
      });
      if (summary.counts.contactsCreated !== count || summary.method !== method) {
        throw new Error(`backfill created ${summary.counts.contactsCreated} with ${summary.method}`);
      }
      bulkJobs = summary.counts.bulkJobs;
    } else {
      const records = contacts.map((contact) =>
        linqContactToSalesforceFields("Contact", {
          first_name: contact.first_name ?? null,
          last_name: contact.last_name ?? null,
          email: contact.email ?? null,
          phone_number: contact.phone_number ?? null,
          title: contact.title ?? null,
          location: contact.location ?? null,
        }),
      );
      const jsforce = connection(salesforce);
      if (method === "collections") {
        for (let start = 0; start < records.length; start += 200) {
          await jsforce.sobject("Contact").create(records.slice(start, start + 200), { allOrNone: false });
        }
      } else {
        const columns = [...new Set(records.flatMap((record) => Object.keys(record)))];
        await jsforce.bulk2.loadAndWaitForResults({
          object: "Contact",
          operation: "insert",
          input: records.map((record) =>
            Object.fromEntries(columns.map((name) => [name, record[name] ?? ""])),
          ) as never,
          pollInterval: 1_000,
          pollTimeout: 600_000,
        });
        bulkJobs = 1;
      }
    }
    const seconds = (performance.now() - started) / 1000;
    if (salesforce.state.records("Contact").length !== count) throw new Error("wrong number of Contacts");
    const requests = salesforce.requests.length;
    return {
      name: mode,
      method,
      contacts: count,
      seconds: Number(seconds.toFixed(2)),
      recordsPerSecond: Math.round(count / seconds),
      salesforceRequests: requests,
      requestsPer1000Contacts: Number(((requests * 1000) / count).toFixed(1)),
      bulkJobs,
      timeVersusBaseline: undefined,
    };
  } finally {
    await salesforce.close();
  }
}

const cpuList = cpus();
const machine = {
  cpu: cpuList[0]?.model ?? "unknown",
  cores: cpuList.length,
  memoryGiB: Number((totalmem() / 1024 ** 3).toFixed(1)),
  freeMemoryGiB: Number((freemem() / 1024 ** 3).toFixed(1)),
  os: type(),
  node: process.version,
};
console.log(`machine: ${JSON.stringify(machine)}`);
const rows: Row[] = [];
for (const count of contactCounts) {
  const linqSimulator = await startLinqSimulator({ phoneNumbers: ["+15550001111"] });
  const linq = new LinqClient({
    token: linqSimulator.token,
    baseUrl: linqSimulator.baseUrl,
    rateLimit: false,
  });
  try {
    await seed(linq, count);
    const contacts = await listAll(linq);
    for (const method of ["collections", "bulk"] as const) {
      const baseline = await measure(linq, contacts, method, "bare jsforce");
      const connector = await measure(linq, contacts, method, "backfillSalesforce");
      connector.timeVersusBaseline = Number((connector.seconds / baseline.seconds).toFixed(2));
      for (const row of [connector, baseline]) {
        console.log(JSON.stringify(row));
        rows.push(row);
      }
    }
  } finally {
    await linq.close();
    await linqSimulator.close();
  }
}
mkdirSync(resultsDirectory, { recursive: true });
const result = {
  measuredAt: new Date().toISOString(),
  contactCounts,
  bulkThreshold: BULK_THRESHOLD,
  machine,
  rows,
};
writeFileSync(join(resultsDirectory, "salesforce-bench.json"), `${JSON.stringify(result, null, 2)}\n`);
const table = [
  "| run | method | contacts | seconds | records/s | Salesforce requests | requests / 1,000 contacts | Bulk jobs | time vs baseline |",
  "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ...rows.map(
    (row) =>
      `| ${row.name} | ${row.method} | ${row.contacts} | ${row.seconds} | ${row.recordsPerSecond} | ${row.salesforceRequests} | ${row.requestsPer1000Contacts} | ${row.bulkJobs} | ${row.timeVersusBaseline === undefined ? "—" : `${row.timeVersusBaseline}×`} |`,
  ),
].join("\n");
writeFileSync(
  join(resultsDirectory, "salesforce-bench.md"),
  `# @linq-connect/salesforce benchmarks\n\nMeasured ${result.measuredAt} on ${machine.cpu} (${machine.cores} cores, ${machine.memoryGiB} GiB), ${machine.os}, Node.js ${machine.node}.\n\nContact backfill of N Linq contacts into an empty org (Contacts), both simulators on 127.0.0.1. "collections": sObject Collections, 200 records per request. "bulk": Bulk API 2.0 (the run's bulkThreshold is ${BULK_THRESHOLD}, so one ingest job per 10,000 contacts; jsforce polls the job every second, and every poll is an API request). Requests are every HTTP request the Salesforce simulator received (SOQL index pages, creates, Bulk job creation, upload, close, polls and result downloads). The bare jsforce baseline is measured in the same run: jsforce creating the same records (\`sobject("Contact").create\` in collections of 200, or one \`bulk2.loadAndWaitForResults\` job) without reading Linq, matching or storing mappings; "time vs baseline" is the backfill's time over the baseline's. The simulator answers in microseconds and finishes a Bulk job in 40 ms: against a real org, collections take ~0.5–2 s per request and Bulk jobs seconds to minutes, so absolute figures are upper bounds and the request counts are what carries over.\n\n${table}\n`,
);
console.log(`wrote ${join("bench-results", "salesforce-bench.json")} and salesforce-bench.md`);
