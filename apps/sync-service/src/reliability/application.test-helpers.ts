/**
 * The service started in this process for the reliability tests: settings from environment variables
 * (as in production), its own embedded database in a temporary data directory (opened and closed by
 * the application), a Linq simulator as the Linq API, and the recording connector as "slack" behind a
 * catch-all route. The recording connector writes to a separate in-memory database owned by the test
 * (it stands for Slack), so what it recorded outlives the application's database.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LinqSimulator, startLinqSimulator } from "@linq-connect/core/testing";
import type { Logger } from "pino";
import { type ApplicationOptions, type RunningApplication, startApplication } from "../application.ts";
import { loadSettings, type ServiceSettings } from "../config/environment.ts";
import type { RoutingConfig } from "../config/routing.ts";
import { openDatabase } from "../database/database.ts";
import type { Database, SqlExecutor } from "../database/database-types.ts";
import { createLogger } from "../logger.ts";
import {
  createRecordingConnector,
  type RecordingConnector,
  type RecordingConnectorOptions,
} from "../test-support/recording-connector.ts";
import { catchAllRouting } from "./webhooks.test-helpers.ts";

export interface TestEnvironment {
  /** The service's environment variables. */
  variables: Record<string, string>;
  secret: string;
  dataDirectory: string;
  linqSimulator: LinqSimulator;
  /** The recording connector's database (in memory). */
  recordingDatabase: Database;
  /** Stops the simulator, closes the recording database and removes the data directory. */
  dispose(): Promise<void>;
}

/**
 * A Linq simulator, a temporary data directory and a recording database, and the variables of a
 * production-mode service on 127.0.0.1 (a Linq token, so no sandbox) on top of `variables`.
 */
export async function createTestEnvironment(
  options: { variables?: Record<string, string>; linqToken?: string } = {},
): Promise<TestEnvironment> {
  const secret = `whsec_${randomBytes(16).toString("hex")}`;
  const linqToken = options.linqToken ?? `linq_${randomBytes(16).toString("hex")}`;
  const dataDirectory = mkdtempSync(join(tmpdir(), "linq-sync-reliability-"));
  const linqSimulator = await startLinqSimulator({ token: linqToken });
  const recordingDatabase = await openDatabase({ inMemory: true });
  return {
    variables: {
      LINQ_API_TOKEN: linqToken,
      LINQ_API_BASE_URL: linqSimulator.baseUrl,
      LINQ_WEBHOOK_SECRET: secret,
      LINQ_SYNC_DATA_DIR: dataDirectory,
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      JOB_RETRY_DELAY_SECONDS: "1",
      ...options.variables,
    },
    secret,
    dataDirectory,
    linqSimulator,
    recordingDatabase,
    async dispose() {
      await linqSimulator.close();
      await recordingDatabase.close();
      rmSync(dataDirectory, { recursive: true, force: true });
    },
  };
}

export interface TestApplication {
  application: RunningApplication;
  connector: RecordingConnector;
  settings: ServiceSettings;
}

export async function startTestApplication(
  environment: TestEnvironment,
  options: {
    logger?: Logger;
    routing?: RoutingConfig;
    connector?: Omit<RecordingConnectorOptions, "database">;
    queueOptions?: ApplicationOptions["queueOptions"];
  } = {},
): Promise<TestApplication> {
  const settings = loadSettings(environment.variables);
  const connector = await createRecordingConnector({
    ...options.connector,
    database: environment.recordingDatabase,
  });
  const application = await startApplication({
    settings,
    routing: options.routing ?? catchAllRouting(),
    logger: options.logger ?? createLogger({ level: "silent" }),
    connectors: [connector],
    ...(options.queueOptions === undefined ? {} : { queueOptions: options.queueOptions }),
  });
  return { application, connector, settings };
}

export interface StoredCounts {
  /** Rows of linq_events. */
  events: number;
  /** Jobs ever created in the connectors' queues (pg-boss keeps completed jobs). */
  jobs: number;
}

export async function countStored(database: SqlExecutor): Promise<StoredCounts> {
  const events = await database.query<{ count: number }>(
    "SELECT count(*)::integer AS count FROM linq_events",
  );
  const jobs = await database.query<{ count: number }>(
    "SELECT count(*)::integer AS count FROM pgboss.job WHERE starts_with(name, 'connector.')",
  );
  return { events: Number(events.rows[0]?.count ?? 0), jobs: Number(jobs.rows[0]?.count ?? 0) };
}
