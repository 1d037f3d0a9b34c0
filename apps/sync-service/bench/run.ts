// pnpm bench (in apps/sync-service): the service's ingest throughput and ack latency on PGlite and on
// PostgreSQL next to a bare node:http server that only verifies the HMAC (measured in the same run),
// the event-to-handler latency at a steady 100 events/s, and the service process's memory. Results go
// to bench-results/service-bench.{json,md} with the machine described.
//
// Figures, not assertions: nothing here fails on a number. The servers run as child processes (so
// their memory is measured cleanly and the load generator does not share their event loop); the load
// generator is an undici Pool in this process. PostgreSQL: TEST_DATABASE_URL, or a throw-away server
// started from the local installation (src/test-support/postgres-server.ts).
//
// Knobs (environment): BENCH_REQUESTS (5000), BENCH_WARMUP_REQUESTS (500), BENCH_CONNECTIONS (32),
// BENCH_MAX_LOAD_SECONDS (30: a slow server gets fewer requests, so the run stays within ~3 minutes),
// BENCH_PIPELINE_RATE (100 events/s), BENCH_PIPELINE_SECONDS (20), BENCH_BODY_BYTES (1024),
// BENCH_JOB_CONCURRENCY (4), BENCH_BACKENDS ("pglite,postgres": which services to measure),
// BENCH_RESULTS_DIRECTORY (bench-results: where the results go).
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes, randomInt, randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, tmpdir, totalmem, type } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { Pool } from "undici";
import {
  type ServiceProcess,
  startServiceProcess,
} from "../src/reliability/service-launcher.test-helpers.ts";
import { messageEventBody, signedHeaders } from "../src/reliability/webhooks.test-helpers.ts";
import { type PostgresServer, startPostgresServer } from "../src/test-support/postgres-server.ts";
import { preciseNow } from "../src/test-support/recording-connector.ts";

const appRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const resultsDirectory = process.env.BENCH_RESULTS_DIRECTORY ?? join(appRoot, "bench-results");

function setting(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === "") return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`${name} must be a positive number`);
  return parsed;
}

const config = {
  requests: setting("BENCH_REQUESTS", 5_000),
  warmupRequests: setting("BENCH_WARMUP_REQUESTS", 500),
  connections: setting("BENCH_CONNECTIONS", 32),
  maxLoadSeconds: setting("BENCH_MAX_LOAD_SECONDS", 30),
  maxWarmupSeconds: 5,
  pipelineRate: setting("BENCH_PIPELINE_RATE", 100),
  pipelineSeconds: setting("BENCH_PIPELINE_SECONDS", 20),
  bodyBytes: setting("BENCH_BODY_BYTES", 1_024),
  jobConcurrency: setting("BENCH_JOB_CONCURRENCY", 4),
};
const backendNames = (process.env.BENCH_BACKENDS ?? "pglite,postgres").split(",").map((name) => name.trim());
const secret = `whsec_${randomBytes(16).toString("hex")}`;

// ---------------------------------------------------------------------------------------------
// Figures

function percentile(sorted: readonly number[], quantile: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(quantile * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

function round(value: number, digits = 2): number {
  return Number(value.toFixed(digits));
}

const mebibytes = (bytes: number) => round(bytes / 1024 / 1024, 1);

interface SignedRequest {
  eventId: string;
  body: string;
  headers: Record<string, string>;
}

/** `count` signed 1 KB message.received webhooks, each a new event, spread over `chats` chats. */
function signedRequests(count: number, chats: number): SignedRequest[] {
  const firstChat = randomInt(1, 2 ** 40) * 1000;
  return Array.from({ length: count }, (_, index) => {
    const eventId = randomUUID();
    const body = messageEventBody({
      eventId,
      chatId: String(firstChat + (index % chats)),
      text: `bench message ${index} `,
      targetBytes: config.bodyBytes,
    });
    return { eventId, body, headers: signedHeaders(body, secret) };
  });
}

interface LoadResult {
  /** Requests sent (fewer than planned when the time cap was reached). */
  requests: number;
  planned: number;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Answers other than 200, and failed requests. */
  errors: number;
}

/**
 * Sends the requests once each over `connections` keep-alive connections, as fast as answers come;
 * no new request starts after `maxSeconds`.
 */
async function runLoad(
  url: string,
  requests: readonly SignedRequest[],
  maxSeconds: number,
): Promise<LoadResult> {
  const pool = new Pool(url, { connections: config.connections, pipelining: 1 });
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + maxSeconds * 1000;
  const worker = async () => {
    for (;;) {
      const index = next;
      next += 1;
      const request = requests[index];
      if (request === undefined || performance.now() > deadline) return;
      const sent = performance.now();
      try {
        const response = await pool.request({
          method: "POST",
          path: "/webhooks/linq",
          body: request.body,
          headers: request.headers,
        });
        await response.body.dump();
        if (response.statusCode !== 200) errors += 1;
      } catch {
        errors += 1;
      }
      latencies.push(performance.now() - sent);
    }
  };
  await Promise.all(Array.from({ length: config.connections }, () => worker()));
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  const sorted = latencies.sort((left, right) => left - right);
  return {
    requests: sorted.length,
    planned: requests.length,
    seconds: round(seconds),
    requestsPerSecond: Math.round(sorted.length / seconds),
    p50Ms: round(percentile(sorted, 0.5)),
    p99Ms: round(percentile(sorted, 0.99)),
    maxMs: round(sorted.at(-1) ?? Number.NaN),
    errors,
  };
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

interface PipelineResult {
  events: number;
  targetRate: number;
  achievedRate: number;
  ackP50Ms: number;
  ackP99Ms: number;
  handlerP50Ms: number;
  handlerP99Ms: number;
  handlerMaxMs: number;
  errors: number;
}

/**
 * Sends `rate` events per second for `seconds` at fixed times (not waiting for answers), then reads
 * when the recording connector started handling each: event-to-handler latency = handler start −
 * send time (both on this host's clock).
 */
async function runPipeline(service: ServiceProcess): Promise<PipelineResult> {
  const count = Math.round(config.pipelineRate * config.pipelineSeconds);
  const requests = signedRequests(count, 100);
  const pool = new Pool(service.url, { connections: 16, pipelining: 1 });
  const sendTimes = new Map<string, number>();
  const ackLatencies: number[] = [];
  let errors = 0;
  const interval = 1000 / config.pipelineRate;
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (const [index, request] of requests.entries()) {
    const due = started + index * interval;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    sendTimes.set(request.eventId, preciseNow());
    const sent = performance.now();
    inFlight.push(
      pool
        .request({ method: "POST", path: "/webhooks/linq", body: request.body, headers: request.headers })
        .then(async (response) => {
          await response.body.dump();
          if (response.statusCode !== 200) errors += 1;
          ackLatencies.push(performance.now() - sent);
        })
        .catch(() => {
          errors += 1;
        }),
    );
  }
  await Promise.all(inFlight);
  const sendSeconds = (performance.now() - started) / 1000;
  await pool.close();

  const deadline = Date.now() + 120_000;
  while ((await service.effectCount()) < count - errors) {
    if (Date.now() > deadline) throw new Error("the pipeline did not handle every event within 120 s");
    await sleep(200);
  }
  const recording = await service.recording();
  const handlerLatencies: number[] = [];
  const seen = new Set<string>();
  for (const attempt of recording.attempts) {
    const sentAt = sendTimes.get(attempt.eventId);
    if (sentAt === undefined || seen.has(attempt.eventId)) continue;
    seen.add(attempt.eventId);
    handlerLatencies.push(attempt.startedAtMs - sentAt);
  }
  handlerLatencies.sort((left, right) => left - right);
  ackLatencies.sort((left, right) => left - right);
  return {
    events: count,
    targetRate: config.pipelineRate,
    achievedRate: round(count / sendSeconds, 1),
    ackP50Ms: round(percentile(ackLatencies, 0.5)),
    ackP99Ms: round(percentile(ackLatencies, 0.99)),
    handlerP50Ms: round(percentile(handlerLatencies, 0.5)),
    handlerP99Ms: round(percentile(handlerLatencies, 0.99)),
    handlerMaxMs: round(handlerLatencies.at(-1) ?? Number.NaN),
    errors,
  };
}

// ---------------------------------------------------------------------------------------------
// The processes

interface BareServer {
  url: string;
  child: ChildProcess;
  memory(): Promise<{ rss: number; peakRss: number }>;
  resetPeak(): Promise<void>;
  stop(): Promise<void>;
}

async function startBareServer(): Promise<BareServer> {
  const child = spawn(process.execPath, [join(appRoot, "bench", "bare-server.ts")], {
    env: { PATH: process.env.PATH ?? "", BENCH_WEBHOOK_SECRET: secret },
    stdio: ["ignore", "pipe", "inherit", "ipc"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let output = "";
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      output += chunk;
      if (output.includes("\n")) resolve((JSON.parse(output.split("\n")[0] ?? "") as { url: string }).url);
    });
    child.once("exit", (code) => reject(new Error(`the bare server exited with ${code}`)));
  });
  let nextId = 1;
  const ask = <T>(command: string) =>
    new Promise<T>((resolve, reject) => {
      const id = nextId;
      nextId += 1;
      const onMessage = (message: { id: number; result?: T; error?: string }) => {
        if (message.id !== id) return;
        child.off("message", onMessage);
        if (message.error !== undefined) reject(new Error(message.error));
        else resolve(message.result as T);
      };
      child.on("message", onMessage);
      child.send({ id, command });
    });
  return {
    url,
    child,
    memory: () => ask("memory"),
    resetPeak: async () => {
      await ask("reset-peak");
    },
    stop: async () => {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

interface Backend {
  name: string;
  variables: Record<string, string>;
  dispose(): Promise<void>;
}

async function pgliteBackend(): Promise<Backend> {
  const dataDirectory = mkdtempSync(join(tmpdir(), "linq-sync-bench-"));
  return {
    name: "PGlite",
    variables: { LINQ_SYNC_DATA_DIR: dataDirectory },
    dispose: async () => rmSync(dataDirectory, { recursive: true, force: true }),
  };
}

async function postgresBackend(): Promise<Backend> {
  let server: PostgresServer | undefined;
  let adminUrl = process.env.TEST_DATABASE_URL;
  if (adminUrl === undefined || adminUrl === "") {
    server = await startPostgresServer();
    adminUrl = server.url;
  }
  const name = `linq_sync_bench_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name: server === undefined ? "PostgreSQL (TEST_DATABASE_URL)" : "PostgreSQL (local, fsync off)",
    variables: { DATABASE_URL: url.toString() },
    async dispose() {
      const cleanup = new pg.Client({ connectionString: adminUrl });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
      await server?.stop();
    },
  };
}

interface ServiceFigures {
  backend: string;
  ingest: LoadResult;
  pipeline: PipelineResult;
  idleRssBytes: number;
  peakRssUnderIngestBytes: number;
}

async function measureService(backend: Backend): Promise<ServiceFigures> {
  console.log(`\n[${backend.name}] starting the service…`);
  const service = await startServiceProcess({
    name: `service (${backend.name})`,
    nodeArguments: ["--expose-gc"],
    environment: {
      ...backend.variables,
      LINQ_API_TOKEN: "bench-token",
      // The recording connector never calls Linq; nothing listens here.
      LINQ_API_BASE_URL: "http://127.0.0.1:9",
      LINQ_WEBHOOK_SECRET: secret,
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      JOB_CONCURRENCY: String(config.jobConcurrency),
      SHUTDOWN_TIMEOUT_SECONDS: "5",
      // The connector keeps its timings in memory: the figures are the service's, not the instrument's.
      RECORDING_STORE: "memory",
    },
    startTimeoutMs: 60_000,
  });
  try {
    await sleep(1_000);
    await service.collectGarbage();
    const idle = await service.memory();
    console.log(`[${backend.name}] idle RSS ${mebibytes(idle.rss)} MiB`);

    console.log(
      `[${backend.name}] pipeline: ${config.pipelineRate} events/s for ${config.pipelineSeconds} s…`,
    );
    const pipeline = await runPipeline(service);
    console.log(
      `[${backend.name}] event→handler p50 ${pipeline.handlerP50Ms} ms, p99 ${pipeline.handlerP99Ms} ms`,
    );

    console.log(
      `[${backend.name}] ingest: ${config.requests} requests over ${config.connections} connections…`,
    );
    await runLoad(service.url, signedRequests(config.warmupRequests, 200), config.maxWarmupSeconds);
    await service.resetPeakMemory();
    const ingest = await runLoad(service.url, signedRequests(config.requests, 200), config.maxLoadSeconds);
    const loaded = await service.memory();
    console.log(
      `[${backend.name}] ${ingest.requestsPerSecond} req/s, p50 ${ingest.p50Ms} ms, p99 ${ingest.p99Ms} ms, peak RSS ${mebibytes(loaded.peakRss)} MiB`,
    );
    return {
      backend: backend.name,
      ingest,
      pipeline,
      idleRssBytes: idle.rss,
      peakRssUnderIngestBytes: loaded.peakRss,
    };
  } finally {
    const exit = await service.stop(20_000);
    if (exit.code !== 0)
      console.error(`${service.name} exited with ${JSON.stringify(exit)}:\n${service.logs()}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Run

function machine() {
  const processors = cpus();
  return {
    cpuModel: processors[0]?.model.trim() ?? "unknown",
    cores: processors.length,
    memoryGiB: round(totalmem() / 1024 ** 3, 1),
    os: `${type()} ${release()}`,
    node: process.version,
    /** 1-minute load average when the run started: other work on the machine skews the figures. */
    loadAverageAtStart: round(loadavg()[0] ?? 0),
  };
}

function markdown(results: {
  measuredAt: string;
  machine: ReturnType<typeof machine>;
  config: typeof config;
  bare: { ingest: LoadResult; idleRssBytes: number; peakRssUnderIngestBytes: number };
  services: ServiceFigures[];
  durationSeconds: number;
}): string {
  const { bare, services } = results;
  const lines = [
    "# @linq-connect/sync-service benchmarks",
    "",
    `Measured ${results.measuredAt} on ${results.machine.cpuModel} (${results.machine.cores} cores, ${results.machine.memoryGiB} GiB), ${results.machine.os}, Node.js ${results.machine.node}; the whole run took ${results.durationSeconds} s.`,
    `Load generator and servers share the machine; each server is its own process. Load average at the start: ${results.machine.loadAverageAtStart}.`,
    "",
    `## Ingest: signed ${results.config.bodyBytes}-byte message.received webhooks, ${results.config.requests} requests over ${results.config.connections} keep-alive connections (after ${results.config.warmupRequests} warm-up requests; at most ${results.config.maxLoadSeconds} s each)`,
    "",
    "The service verifies, parses, routes, stores the event and enqueues its job in one transaction, and its workers process the jobs meanwhile; the bare server only verifies the HMAC.",
    "",
    "| server | requests | req/s | ack p50 ms | ack p99 ms | max ms | errors | throughput vs bare | p50 vs bare |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    `| bare node:http, HMAC only | ${bare.ingest.requests} | ${bare.ingest.requestsPerSecond} | ${bare.ingest.p50Ms} | ${bare.ingest.p99Ms} | ${bare.ingest.maxMs} | ${bare.ingest.errors} | 1 | 1× |`,
    ...services.map(
      (service) =>
        `| service, ${service.backend} | ${service.ingest.requests} | ${service.ingest.requestsPerSecond} | ${service.ingest.p50Ms} | ${service.ingest.p99Ms} | ${service.ingest.maxMs} | ${service.ingest.errors} | ${round(service.ingest.requestsPerSecond / bare.ingest.requestsPerSecond, 3)} | ${round(service.ingest.p50Ms / bare.ingest.p50Ms, 1)}× |`,
    ),
    "",
    `## Pipeline: event-to-handler latency at a steady ${results.config.pipelineRate} events/s for ${results.config.pipelineSeconds} s`,
    "",
    "From the moment the webhook is sent to the moment the connector's handler starts (acknowledged, stored, queued, fetched by a worker). An achieved rate below the target means the acknowledgements fell behind (requests queued at the server).",
    "",
    "| database | events | achieved events/s | ack p50 ms | ack p99 ms | handler p50 ms | handler p99 ms | handler max ms | errors |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...services.map(
      (service) =>
        `| ${service.backend} | ${service.pipeline.events} | ${service.pipeline.achievedRate} | ${service.pipeline.ackP50Ms} | ${service.pipeline.ackP99Ms} | ${service.pipeline.handlerP50Ms} | ${service.pipeline.handlerP99Ms} | ${service.pipeline.handlerMaxMs} | ${service.pipeline.errors} |`,
    ),
    "",
    "## Memory (resident set size of the server process)",
    "",
    "Idle: after start-up, a second of rest and a full GC. Peak: the highest RSS sampled (every 20 ms) during the ingest load.",
    "",
    "| process | idle MiB | peak under ingest MiB |",
    "| --- | ---: | ---: |",
    `| bare node:http | ${mebibytes(bare.idleRssBytes)} | ${mebibytes(bare.peakRssUnderIngestBytes)} |`,
    ...services.map(
      (service) =>
        `| service, ${service.backend} | ${mebibytes(service.idleRssBytes)} | ${mebibytes(service.peakRssUnderIngestBytes)} |`,
    ),
    "",
    "With PGlite the database runs inside the service process (its memory is in the service's RSS); PostgreSQL runs in its own processes (not counted).",
    "",
    ...services
      .filter((service) => service.pipeline.achievedRate < 0.95 * results.config.pipelineRate)
      .map(
        (service) =>
          `Note: on ${service.backend} the service did not sustain ${results.config.pipelineRate} events/s (${service.pipeline.achievedRate} achieved); its latencies above include the backlog.`,
      ),
    "",
  ];
  return lines.join("\n");
}

async function main(): Promise<void> {
  const runStarted = performance.now();
  const measuredAt = new Date().toISOString();
  console.log("linq-sync service benchmark", JSON.stringify(config));

  console.log("\n[bare] starting the bare node:http server…");
  const bareServer = await startBareServer();
  let bare: { ingest: LoadResult; idleRssBytes: number; peakRssUnderIngestBytes: number };
  try {
    await sleep(500);
    const idle = await bareServer.memory();
    await runLoad(bareServer.url, signedRequests(config.warmupRequests, 200), config.maxWarmupSeconds);
    await bareServer.resetPeak();
    const ingest = await runLoad(bareServer.url, signedRequests(config.requests, 200), config.maxLoadSeconds);
    const loaded = await bareServer.memory();
    bare = { ingest, idleRssBytes: idle.rss, peakRssUnderIngestBytes: loaded.peakRss };
    console.log(`[bare] ${ingest.requestsPerSecond} req/s, p50 ${ingest.p50Ms} ms, p99 ${ingest.p99Ms} ms`);
  } finally {
    await bareServer.stop();
  }

  const services: ServiceFigures[] = [];
  const makers = { pglite: pgliteBackend, postgres: postgresBackend } as const;
  for (const name of backendNames) {
    const makeBackend = makers[name as keyof typeof makers];
    if (makeBackend === undefined) throw new Error(`BENCH_BACKENDS: unknown backend ${JSON.stringify(name)}`);
    const backend = await makeBackend();
    try {
      services.push(await measureService(backend));
    } finally {
      await backend.dispose();
    }
  }

  const results = {
    measuredAt,
    machine: machine(),
    config,
    bare,
    services,
    durationSeconds: round((performance.now() - runStarted) / 1000, 1),
  };
  mkdirSync(resultsDirectory, { recursive: true });
  writeFileSync(join(resultsDirectory, "service-bench.json"), `${JSON.stringify(results, null, 2)}\n`);
  const text = markdown(results);
  writeFileSync(join(resultsDirectory, "service-bench.md"), text);
  console.log(`\n${text}`);
  console.log(`Written to ${join(resultsDirectory, "service-bench.{json,md}")}`);
}

await main();
