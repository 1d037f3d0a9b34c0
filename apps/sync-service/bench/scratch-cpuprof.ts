// Scratch: CPU profile of the service process under the ingest load (separate load generator).
import { randomBytes, randomInt, randomUUID } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Pool } from "undici";
import { startServiceProcess } from "../src/reliability/service-launcher.test-helpers.ts";
import { messageEventBody, signedHeaders } from "../src/reliability/webhooks.test-helpers.ts";

const secret = `whsec_${randomBytes(16).toString("hex")}`;
const dataDirectory = mkdtempSync(join(tmpdir(), "cpuprof-data-"));
const profileDirectory = mkdtempSync(join(tmpdir(), "cpuprof-"));
const service = await startServiceProcess({
  nodeArguments: ["--cpu-prof", `--cpu-prof-dir=${profileDirectory}`],
  environment: {
    LINQ_SYNC_DATA_DIR: dataDirectory, LINQ_API_TOKEN: "t", LINQ_API_BASE_URL: "http://127.0.0.1:9", LINQ_WEBHOOK_SECRET: secret,
    PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "warn", JOB_CONCURRENCY: process.env.JOB_CONCURRENCY ?? "4", SHUTDOWN_TIMEOUT_SECONDS: "5", RECORDING_STORE: "memory",
  },
  startTimeoutMs: 60_000,
});
const requests = Number(process.env.PROFILE_REQUESTS ?? 3000);
const firstChat = randomInt(1, 2 ** 40) * 1000;
const bodies = Array.from({ length: requests }, (_, index) => {
  const body = messageEventBody({ eventId: randomUUID(), chatId: String(firstChat + (index % 200)), targetBytes: 1024 });
  return { body, headers: signedHeaders(body, secret) };
});
const pool = new Pool(service.url, { connections: 32, pipelining: 1 });
let next = 0;
const started = performance.now();
await Promise.all(Array.from({ length: 32 }, async () => {
  for (;;) {
    const request = bodies[next++];
    if (request === undefined) return;
    const response = await pool.request({ method: "POST", path: "/webhooks/linq", body: request.body, headers: request.headers });
    await response.body.dump();
  }
}));
const seconds = (performance.now() - started) / 1000;
console.log(`${requests} in ${seconds.toFixed(1)} s = ${(requests / seconds).toFixed(0)} req/s; effects so far ${await service.effectCount()}`);
await pool.close();
await service.stop(30_000);
const file = readdirSync(profileDirectory).find((name) => name.endsWith(".cpuprofile"));
const profile = JSON.parse(readFileSync(join(profileDirectory, file ?? ""), "utf8")) as {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[]; timeDeltas: number[];
};
const self = new Map<number, number>();
profile.samples.forEach((id, index) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));
const categories = new Map<string, number>();
const byFunction = new Map<string, number>();
let total = 0;
for (const node of profile.nodes) {
  const time = (self.get(node.id) ?? 0) / 1000;
  total += time;
  const { url, functionName } = node.callFrame;
  let category = "other";
  if (url.startsWith("wasm://")) category = "wasm (pglite)";
  else if (functionName === "(idle)") category = "idle";
  else if (functionName === "(garbage collector)") category = "gc";
  else if (functionName === "(program)") category = "program";
  else if (url.includes("pglite")) category = "pglite js";
  else if (url.includes("pg-boss")) category = "pg-boss";
  else if (url.includes("fastify") || url.includes("avvio") || url.includes("find-my-way") || url.includes("light-my-request")) category = "fastify";
  else if (url.includes("pino")) category = "pino";
  else if (url.includes("zod")) category = "zod";
  else if (url.includes("/apps/sync-service/src/")) category = `app ${url.split("/apps/sync-service/src/")[1]?.split("/")[0]}`;
  else if (url.includes("packages/core")) category = "core";
  else if (url.startsWith("node:")) category = "node internals";
  categories.set(category, (categories.get(category) ?? 0) + time);
  const key = `${functionName || "(anon)"} ${url.split("/").slice(-2).join("/")}:${node.callFrame.lineNumber}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + time);
}
console.log(`profile total ${total.toFixed(0)} ms`);
for (const [category, time] of [...categories].sort((a, b) => b[1] - a[1])) console.log(`${(time / requests).toFixed(3)} ms/req ${((100 * time) / total).toFixed(1)}% ${category}`);
console.log("--- top functions");
for (const [key, time] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${(time / requests).toFixed(3)} ms/req ${key}`);
rmSync(dataDirectory, { recursive: true, force: true });
rmSync(profileDirectory, { recursive: true, force: true });
