// pnpm bench (in packages/hubspot, after pnpm build): the contact backfill against the HubSpot and
// Linq simulators with HubSpot's rate limits ON, next to the physical ceiling those limits allow and
// to a bare baseline (the SDK's batch create of the same contacts through the same limiter, with no
// Linq reads, no matching and no mappings). Figures go to bench-results/ with the machine described.
//
// Figures, not assertions: nothing here fails on a number.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, freemem, totalmem, type } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { LinqClient, type Mapping, type MappingStore } from "@linq-connect/core";
import { startLinqSimulator } from "@linq-connect/core/testing";
import { backfillHubSpot, createHubSpotClient, HubSpotApi, HubSpotRateLimiter } from "../dist/index.js";
import { startHubSpotSimulator } from "../dist/testing/index.js";

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const resultsDirectory = join(packageRoot, "bench-results");
const contactCount = Number(process.env.BENCH_CONTACTS ?? 20_000);
const limits = (process.env.BENCH_LIMITS ?? "100,190").split(",").map(Number);

/** A minimal in-memory MappingStore (unique keys, cursors, a FIFO lock per key). */
function memoryStore(): MappingStore {
  const byLinq = new Map<string, Mapping>();
  const byExternal = new Map<string, Mapping>();
  const cursors = new Map<string, string>();
  return {
    findByLinqId: async (kind, linqId) => byLinq.get(`${kind}\u0000${linqId}`),
    findByExternalId: async (kind, externalId) => byExternal.get(`${kind}\u0000${externalId}`),
    insertMapping: async (mapping) => {
      const existing =
        byLinq.get(`${mapping.kind}\u0000${mapping.linqId}`) ??
        byExternal.get(`${mapping.kind}\u0000${mapping.externalId}`);
      if (existing !== undefined) return existing;
      const stored = { ...mapping, updatedAt: new Date() };
      byLinq.set(`${mapping.kind}\u0000${mapping.linqId}`, stored);
      byExternal.set(`${mapping.kind}\u0000${mapping.externalId}`, stored);
      return stored;
    },
    updateMetadata: async (kind, linqId, metadata) => {
      const stored = byLinq.get(`${kind}\u0000${linqId}`);
      if (stored !== undefined) stored.metadata = { ...stored.metadata, ...metadata };
    },
    deleteMapping: async (kind, linqId) => {
      const stored = byLinq.get(`${kind}\u0000${linqId}`);
      if (stored === undefined) return;
      byLinq.delete(`${kind}\u0000${linqId}`);
      byExternal.delete(`${kind}\u0000${stored.externalId}`);
    },
    getCursor: async (name) => cursors.get(name),
    setCursor: async (name, value) => {
      cursors.set(name, value);
    },
    withLock: async (_key, work) => work(),
  };
}

async function seed(linq: LinqClient, count: number): Promise<void> {
  for (let start = 0; start < count; start += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, count - start) }, (_, offset) => {
        const index = start + offset;
        return linq.createContact({
          contact: {
            first_name: `First${index}`,
            last_name: `Last${index}`,
            phone_number: `+1555${String(2_000_000 + index).padStart(7, "0")}`,
            ...(index % 3 === 0 ? { email: `person${index}@example.com` } : {}),
          },
        });
      }),
    );
  }
}

interface Row {
  name: string;
  requestsPer10Seconds: number;
  contacts: number;
  seconds: number;
  contactsPerSecond: number;
  hubSpotRequests: number;
  requestsPer1000Contacts: number;
  refused429: number;
  /** Steady-state ceiling: (limit / 10 s) requests × 100 contacts per batch request. */
  ceilingContactsPerSecond: number;
  /** What the run's first 10 s allow on top: a full window of `limit` requests at once. */
  burstContacts: number;
}

async function measure(limit: number, mode: "backfillHubSpot" | "bare batch create"): Promise<Row> {
  const hubspot = await startHubSpotSimulator({ rateLimit: { requestsPer10Seconds: limit } });
  const linqSimulator = await startLinqSimulator({ phoneNumbers: ["+15550001111"] });
  const linq = new LinqClient({
    token: linqSimulator.token,
    baseUrl: linqSimulator.baseUrl,
    rateLimit: false,
  });
  try {
    await seed(linq, contactCount);
    const contacts = mode === "bare batch create" ? await listAll(linq) : [];
    const client = createHubSpotClient({
      accessToken: hubspot.accessToken,
      baseUrl: hubspot.baseUrl,
      timeoutMs: 30_000,
    });
    const api = new HubSpotApi({
      client,
      limiter: new HubSpotRateLimiter({ requestsPer10Seconds: limit, searchPerSecond: 5 }),
      timeoutMs: 30_000,
      maxRateLimitRetries: 10,
      maxServerErrorRetries: 2,
    });
    const started = performance.now();
    if (mode === "backfillHubSpot") {
      const summary = await backfillHubSpot({
        api,
        linq,
        store: memoryStore(),
        since: new Date(0),
        contacts: true,
        messages: false,
      });
      if (summary.counts.contactsCreated !== contactCount)
        throw new Error(`created ${summary.counts.contactsCreated}`);
    } else {
      for (let start = 0; start < contacts.length; start += 100) {
        await api.batchCreateContacts(
          contacts.slice(start, start + 100).map((contact) => ({
            objectWriteTraceId: String(contact.id),
            properties: Object.fromEntries(
              Object.entries({
                firstname: contact.first_name,
                lastname: contact.last_name,
                phone: contact.phone_number,
                email: contact.email,
              }).filter(
                (entry): entry is [string, string] => typeof entry[1] === "string" && entry[1] !== "",
              ),
            ),
          })),
        );
      }
    }
    const seconds = (performance.now() - started) / 1000;
    if (hubspot.state.contacts().length !== contactCount) throw new Error("wrong number of HubSpot contacts");
    const requests = hubspot.requests.length;
    return {
      name: mode,
      requestsPer10Seconds: limit,
      contacts: contactCount,
      seconds: Number(seconds.toFixed(2)),
      contactsPerSecond: Math.round(contactCount / seconds),
      hubSpotRequests: requests,
      requestsPer1000Contacts: Number(((requests * 1000) / contactCount).toFixed(1)),
      refused429: hubspot.requests.filter((request) => request.status === 429).length,
      ceilingContactsPerSecond: (limit / 10) * 100,
      burstContacts: limit * 100,
    };
  } finally {
    await linq.close();
    await hubspot.close();
    await linqSimulator.close();
  }
}

async function listAll(linq: LinqClient) {
  const contacts = [];
  for await (const contact of linq.iterateContacts({ perPage: 100 })) contacts.push(contact);
  return contacts;
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
for (const limit of limits) {
  for (const mode of ["backfillHubSpot", "bare batch create"] as const) {
    const row = await measure(limit, mode);
    console.log(JSON.stringify(row));
    rows.push(row);
  }
}
mkdirSync(resultsDirectory, { recursive: true });
const result = { measuredAt: new Date().toISOString(), contactCount, machine, rows };
writeFileSync(join(resultsDirectory, "hubspot-bench.json"), `${JSON.stringify(result, null, 2)}\n`);
const table = [
  "| run | limit (req/10 s) | contacts | seconds | contacts/s | HubSpot requests | requests / 1,000 contacts | 429s | ceiling contacts/s (steady) |",
  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ...rows.map(
    (row) =>
      `| ${row.name} | ${row.requestsPer10Seconds} | ${row.contacts} | ${row.seconds} | ${row.contactsPerSecond} | ${row.hubSpotRequests} | ${row.requestsPer1000Contacts} | ${row.refused429} | ${row.ceilingContactsPerSecond} |`,
  ),
].join("\n");
writeFileSync(
  join(resultsDirectory, "hubspot-bench.md"),
  `# @linq-connect/hubspot benchmarks\n\nMeasured ${result.measuredAt} on ${machine.cpu} (${machine.cores} cores, ${machine.memoryGiB} GiB), ${machine.os}, Node.js ${machine.node}.\n\nContact backfill of ${contactCount} Linq contacts into an empty HubSpot portal, both simulators on 127.0.0.1, HubSpot's rate limits ON. The ceiling is what HubSpot's limit physically allows in steady state (limit / 10 s × 100 contacts per batch request); a run can beat it by the first window's burst (limit × 100 contacts at once). The bare batch create is the floor: the SDK's batch create of the same contacts through the same limiter, without reading Linq, matching or storing mappings.\n\n${table}\n`,
);
console.log(`wrote ${join("bench-results", "hubspot-bench.json")} and hubspot-bench.md`);
