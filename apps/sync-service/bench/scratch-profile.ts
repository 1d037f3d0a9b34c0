// Scratch (not committed): where the embedded database's time goes under the ingest load.
// PGlite runs each statement synchronously in execProtocolRawSync; summing its time per statement
// (decoded from the wire messages) gives the database's share of the service's one thread.
import { randomBytes, randomInt, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Pool } from "undici";
import { startApplication } from "../src/application.ts";
import { loadSettings } from "../src/config/environment.ts";
import { openDatabase } from "../src/database/database.ts";
import { createLogger } from "../src/logger.ts";
import { catchAllRouting, messageEventBody, signedHeaders } from "../src/reliability/webhooks.test-helpers.ts";
import { createRecordingConnector } from "../src/test-support/recording-connector.ts";

const secret = `whsec_${randomBytes(16).toString("hex")}`;
const directory = mkdtempSync(join(tmpdir(), "profile-"));
const settings = loadSettings({
  LINQ_SYNC_DATA_DIR: directory,
  LINQ_API_TOKEN: "bench-token",
  LINQ_API_BASE_URL: "http://127.0.0.1:9",
  LINQ_WEBHOOK_SECRET: secret,
  PORT: "0",
  HOST: "127.0.0.1",
  LOG_LEVEL: "warn",
  JOB_CONCURRENCY: process.env.JOB_CONCURRENCY ?? "4",
});
const logger = createLogger({ level: "warn", destination: process.stderr });
const database = await openDatabase({ dataDirectory: directory });
const connection = database.queueConnection;
if (connection.kind !== "pglite") throw new Error("pglite only");
const pglite = connection.pglite as unknown as { execProtocolRawSync(message: Uint8Array): Uint8Array };
const totals = new Map<string, { ms: number; count: number; max: number }>();
let lastParsed = "?";
let enabled = false;
const decoder = new TextDecoder();
function labelOf(message: Uint8Array): string {
  const type = message[0];
  if (type === 0x50 /* P */) {
    let offset = 5;
    while (message[offset] !== 0) offset += 1; // statement name
    offset += 1;
    let end = offset;
    while (message[end] !== 0) end += 1;
    lastParsed = decoder.decode(message.subarray(offset, end)).trim().replace(/\s+/g, " ").slice(0, 70);
    return `P ${lastParsed}`;
  }
  if (type === 0x51 /* Q */) {
    let end = 5;
    while (message[end] !== 0) end += 1;
    return `Q ${decoder.decode(message.subarray(5, end)).trim().replace(/\s+/g, " ").slice(0, 70)}`;
  }
  if (type === 0x42 /* B */ || type === 0x44 || type === 0x45) return `B ${lastParsed}`;
  return `? ${String.fromCharCode(type ?? 0)}`;
}
const original = pglite.execProtocolRawSync.bind(pglite);
pglite.execProtocolRawSync = (message: Uint8Array) => {
  const label = labelOf(message);
  const start = performance.now();
  try {
    return original(message);
  } finally {
    if (enabled) {
      const total = totals.get(label) ?? { ms: 0, count: 0, max: 0 };
      const elapsed = performance.now() - start;
      total.ms += elapsed;
      total.max = Math.max(total.max, elapsed);
      total.count += 1;
      totals.set(label, total);
    }
  }
};

const connector = await createRecordingConnector({ database, store: "memory", delayMs: () => 0, failFirst: 0 });
const application = await startApplication({
  settings,
  routing: catchAllRouting(),
  logger,
  connectors: [connector],
  database,
});

const requests = Number(process.env.PROFILE_REQUESTS ?? 3000);
const connections = Number(process.env.PROFILE_CONNECTIONS ?? 32);
const firstChat = randomInt(1, 2 ** 40) * 1000;
const bodies = Array.from({ length: requests + 300 }, (_, index) => {
  const body = messageEventBody({ eventId: randomUUID(), chatId: String(firstChat + (index % 200)), targetBytes: 1024 });
  return { body, headers: signedHeaders(body, secret) };
});
const pool = new Pool(application.url, { connections, pipelining: 1 });
const rate = Number(process.env.PROFILE_RATE ?? 0);
async function loadAtRate(from: number, to: number) {
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  const started = performance.now();
  for (let index = from; index < to; index += 1) {
    const due = started + ((index - from) * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const request = bodies[index];
    if (request === undefined) break;
    const sent = performance.now();
    pending.push(
      pool.request({ method: "POST", path: "/webhooks/linq", body: request.body, headers: request.headers }).then(async (response) => {
        await response.body.dump();
        latencies.push(performance.now() - sent);
      }),
    );
  }
  await Promise.all(pending);
  return latencies.sort((a, b) => a - b);
}
async function load(from: number, to: number) {
  if (rate > 0 && from > 0) return loadAtRate(from, to);
  let next = from;
  const latencies: number[] = [];
  await Promise.all(
    Array.from({ length: connections }, async () => {
      for (;;) {
        const index = next;
        next += 1;
        const request = bodies[index];
        if (index >= to || request === undefined) return;
        const sent = performance.now();
        const response = await pool.request({ method: "POST", path: "/webhooks/linq", body: request.body, headers: request.headers });
        await response.body.dump();
        latencies.push(performance.now() - sent);
      }
    }),
  );
  return latencies.sort((a, b) => a - b);
}
await load(0, 300);
while ((await connector.countEffects()) < 300) await new Promise((resolve) => setTimeout(resolve, 50));
enabled = true;
const cpuStart = process.cpuUsage();
const started = performance.now();
const latencies = await load(300, 300 + requests);
const seconds = (performance.now() - started) / 1000;
const effectsAtEnd = await connector.countEffects();
const cpu = process.cpuUsage(cpuStart);
enabled = false;
const sum = [...totals.values()].reduce((a, b) => a + b.ms, 0);
console.log(
  `${requests} requests in ${seconds.toFixed(2)} s: ${(requests / seconds).toFixed(0)} req/s, p50 ${latencies[Math.floor(latencies.length / 2)]?.toFixed(1)} p99 ${latencies[Math.floor(latencies.length * 0.99)]?.toFixed(1)}; effects done during load ${effectsAtEnd - 300}`,
);
console.log(`cpu user+sys ${((cpu.user + cpu.system) / 1000 / seconds / 10).toFixed(0)}% of one core; pglite sync ${(sum / seconds / 10).toFixed(0)}% of wall (${(sum / requests).toFixed(2)} ms per request)`);
for (const [label, total] of [...totals.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) {
  console.log(`${(total.ms / requests).toFixed(3).padStart(7)} ms/req ${String(total.count).padStart(6)}× ${(total.ms / total.count).toFixed(3).padStart(7)} ms max ${total.max.toFixed(1).padStart(6)}  ${label}`);
}
const deadline = Date.now() + 120_000;
while ((await connector.countEffects()) < requests + 300 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
console.log(`drained after ${((performance.now() - started) / 1000).toFixed(1)} s`);
await pool.close();
await application.stop();
await database.close();
rmSync(directory, { recursive: true, force: true });
