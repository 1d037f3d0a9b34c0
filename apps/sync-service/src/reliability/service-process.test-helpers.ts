/**
 * The service as a real child process, for the kill -9, replica and benchmark runs:
 * `node service-process.test-helpers.ts` with the service's own environment variables (read by
 * `loadSettings`, so DATABASE_URL or LINQ_SYNC_DATA_DIR choose the database), the recording connector
 * as "slack" behind a catch-all route, and these test-only variables:
 *
 * - RECORDING_DELAY_MS, RECORDING_DELAY_JITTER_MS: how long each handling takes (a random jitter on top);
 * - RECORDING_SLOW_DELAY_MS: how long the handling of a message whose text starts with "slow" takes;
 * - RECORDING_FAIL_FIRST: attempts of every event that fail on purpose;
 * - RECORDING_STORE: "database" (default: the recording tables in the service's database) or
 *   "memory" (records in this process only, no database load: the benchmark);
 * - QUEUE_HEARTBEAT_SECONDS, QUEUE_SUPERVISE_INTERVAL_SECONDS, QUEUE_POLLING_INTERVAL_SECONDS.
 *
 * Prints one JSON line `{"ready":true,"url":…,"pid":…}` on stdout once it listens; logs go to stderr.
 * SIGTERM stops it gracefully (exit code 0). With an IPC channel it answers `{ id, command }`
 * messages: "memory" (current and peak RSS), "reset-peak", "gc" (needs --expose-gc), "recording"
 * (everything the recording connector wrote), "effect-count" and "stop".
 */
import { type RunningApplication, startApplication } from "../application.ts";
import { loadSettings } from "../config/environment.ts";
import { openDatabase } from "../database/database.ts";
import { createLogger } from "../logger.ts";
import { createRecordingConnector } from "../test-support/recording-connector.ts";
import { catchAllRouting } from "./webhooks.test-helpers.ts";

export type ServiceProcessCommand = "memory" | "reset-peak" | "gc" | "recording" | "effect-count" | "stop";

export interface ServiceProcessMemory {
  rss: number;
  peakRss: number;
  heapUsed: number;
}

function numberVariable(name: string): number | undefined {
  const value = process.env[name];
  if (value === undefined || value === "") return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new Error(`${name} must be a number, got ${JSON.stringify(value)}`);
  return parsed;
}

const settings = loadSettings(process.env);
const logger = createLogger({ level: settings.logLevel, destination: process.stderr });
const database = await openDatabase({
  url: settings.database.url,
  dataDirectory: settings.database.dataDirectory,
});
const delayMs = numberVariable("RECORDING_DELAY_MS") ?? 0;
const jitterMs = numberVariable("RECORDING_DELAY_JITTER_MS") ?? 0;
const slowDelayMs = numberVariable("RECORDING_SLOW_DELAY_MS") ?? delayMs;
const failFirst = numberVariable("RECORDING_FAIL_FIRST") ?? 0;
const store = process.env.RECORDING_STORE === "memory" ? "memory" : "database";
const connector = await createRecordingConnector({
  database,
  store,
  delayMs: (event) => {
    const text = (event.data as { text?: unknown }).text;
    if (typeof text === "string" && text.startsWith("slow")) return slowDelayMs;
    return delayMs + (jitterMs > 0 ? Math.random() * jitterMs : 0);
  },
  failFirst,
});

const heartbeatSeconds = numberVariable("QUEUE_HEARTBEAT_SECONDS");
const superviseIntervalSeconds = numberVariable("QUEUE_SUPERVISE_INTERVAL_SECONDS");
const pollingIntervalSeconds = numberVariable("QUEUE_POLLING_INTERVAL_SECONDS");
let application: RunningApplication;
try {
  application = await startApplication({
    settings,
    routing: catchAllRouting(),
    logger,
    connectors: [connector],
    database,
    queueOptions: {
      ...(heartbeatSeconds === undefined ? {} : { heartbeatSeconds }),
      ...(superviseIntervalSeconds === undefined ? {} : { superviseIntervalSeconds }),
      ...(pollingIntervalSeconds === undefined ? {} : { pollingIntervalSeconds }),
    },
  });
} catch (error) {
  await database.close();
  throw error;
}

let peakRss = process.memoryUsage.rss();
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}, 20);
sampler.unref();

let stopping: Promise<void> | undefined;
function stop(): Promise<void> {
  stopping ??= (async () => {
    clearInterval(sampler);
    await application.stop();
    await database.close();
  })();
  return stopping;
}

process.once("SIGTERM", () => {
  stop().then(
    () => process.exit(0),
    (error: unknown) => {
      logger.error({ message: (error as Error).message }, "stop failed");
      process.exit(1);
    },
  );
});

async function answer(command: ServiceProcessCommand): Promise<unknown> {
  switch (command) {
    case "memory": {
      const usage = process.memoryUsage();
      peakRss = Math.max(peakRss, usage.rss);
      return { rss: usage.rss, peakRss, heapUsed: usage.heapUsed } satisfies ServiceProcessMemory;
    }
    case "reset-peak":
      peakRss = process.memoryUsage.rss();
      return { peakRss };
    case "gc": {
      const gc = (globalThis as { gc?: () => void }).gc;
      if (gc === undefined) throw new Error("gc is not exposed: start the process with --expose-gc");
      gc();
      return { rss: process.memoryUsage.rss() };
    }
    case "recording":
      return connector.read();
    case "effect-count":
      return connector.countEffects();
    case "stop":
      await stop();
      return { stopped: true };
  }
}

if (process.send !== undefined) {
  process.on("message", (message: { id: number; command: ServiceProcessCommand }) => {
    answer(message.command).then(
      (result) =>
        process.send?.({ id: message.id, result }, () => {
          if (message.command === "stop") process.exit(0);
        }),
      (error: unknown) => process.send?.({ id: message.id, error: (error as Error).message }),
    );
  });
}

process.stdout.write(`${JSON.stringify({ ready: true, url: application.url, pid: process.pid })}\n`);
