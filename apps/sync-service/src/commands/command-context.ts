/**
 * What every `linq-sync` command receives, and the helpers they share: where the output goes, the
 * environment the settings come from, how the configured connectors are built, and how a command
 * opens the service's database and its Linq client.
 *
 * Commands print results to stdout and problems to stderr; they return an exit code (0 ok, 1 a check
 * or an operation failed) and throw `UsageError` for a wrong invocation (exit code 2). They never
 * print a token or a secret: settings are shown through `settingsSummary`-style views only.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { ConfigurationError, LinqClient, type LinqClientOptions } from "@linq-connect/core";
import type { Logger } from "pino";
import { redactDatabaseUrl, type ServiceSettings } from "../config/environment.ts";
import { openDatabase } from "../database/database.ts";
import type { Database } from "../database/database-types.ts";
import { migrate } from "../database/migrations.ts";
import { createLogger } from "../logger.ts";
import { createJobQueue, type JobQueue } from "../queue/index.ts";
import { createDeadLetterStore } from "../store/dead-letter-store.ts";
import type { TerminalStream } from "../terminal/progress-bar.ts";
import type { CreateConnectors } from "./connectors.ts";

export interface CommandContext {
  /** Where the settings come from (process.env). */
  environment: NodeJS.ProcessEnv;
  stdout: TerminalStream;
  stderr: TerminalStream;
  createConnectors: CreateConnectors;
  /**
   * A database to use instead of the one the settings name (tests). It is migrated when a command
   * needs the schema, and never closed by the command.
   */
  database?: Database | undefined;
  /** Aborted on SIGINT/SIGTERM: long commands stop at a safe point. */
  signal?: AbortSignal | undefined;
}

/** A wrong invocation (missing argument, conflicting options): exit code 2. */
export class UsageError extends ConfigurationError {}

/** Lines for stdout. */
export function printLine(context: CommandContext, text = ""): void {
  context.stdout.write(`${text}\n`);
}

/** Lines for stderr. */
export function printError(context: CommandContext, text: string): void {
  context.stderr.write(`${text}\n`);
}

/** The width tables may use. */
export function outputWidth(stream: TerminalStream): number {
  return stream.isTTY === true && stream.columns !== undefined && stream.columns >= 40 ? stream.columns : 120;
}

/**
 * A logger for a command: warnings and errors only (on stderr), unless LOG_LEVEL asks for more, so
 * that library chatter does not bury the command's output.
 */
export function commandLogger(context: CommandContext, settings: ServiceSettings | undefined): Logger {
  const explicit = context.environment.LOG_LEVEL;
  const level =
    explicit !== undefined && explicit.trim() !== "" && settings !== undefined ? settings.logLevel : "warn";
  return createLogger({ level, destination: context.stderr as never });
}

/** Where the commands find the service's database (the sandbox keeps its own in `<data dir>/sandbox`). */
export interface DatabaseLocation {
  url: string | undefined;
  dataDirectory: string;
  /** Safe to print: the URL without credentials, or the absolute data directory. */
  description: string;
}

export function databaseLocation(settings: ServiceSettings): DatabaseLocation {
  if (settings.database.url !== undefined) {
    return {
      url: settings.database.url,
      dataDirectory: settings.database.dataDirectory,
      description: `PostgreSQL ${redactDatabaseUrl(settings.database.url)}`,
    };
  }
  const directory = resolve(
    settings.mode === "sandbox"
      ? join(settings.database.dataDirectory, "sandbox")
      : settings.database.dataDirectory,
  );
  return {
    url: undefined,
    dataDirectory: directory,
    description: `embedded PGlite in ${directory}${settings.mode === "sandbox" ? " (the sandbox's)" : ""}`,
  };
}

/** Whether the embedded database of `location` has been created (serve creates it). */
export function embeddedDatabaseExists(location: DatabaseLocation): boolean {
  return existsSync(join(location.dataDirectory, "PG_VERSION"));
}

export interface OpenedDatabase {
  database: Database;
  location: DatabaseLocation;
  /** Closes it unless it was the context's. */
  close(): Promise<void>;
}

/**
 * Opens the service's database and brings its schema up to date (what `serve` does at start-up, under
 * the same lock). With `mustExist`, an embedded database that `serve` has not created yet is an error
 * instead of being created empty.
 */
export async function openCommandDatabase(
  context: CommandContext,
  settings: ServiceSettings,
  options: { mustExist: boolean; logger?: Logger | undefined },
): Promise<OpenedDatabase> {
  const location = databaseLocation(settings);
  if (context.database !== undefined) {
    await migrate(context.database, options.logger === undefined ? {} : { logger: options.logger });
    return { database: context.database, location, close: async () => {} };
  }
  if (location.url === undefined && options.mustExist && !embeddedDatabaseExists(location)) {
    throw new ConfigurationError(
      `There is no database yet: ${location.description} does not exist. \`linq-sync serve\` creates it ` +
        "(or set LINQ_SYNC_DATA_DIR / DATABASE_URL to the service's database).",
    );
  }
  const database = await openDatabase({ url: location.url, dataDirectory: location.dataDirectory });
  try {
    await migrate(database, options.logger === undefined ? {} : { logger: options.logger });
  } catch (error) {
    await database.close();
    throw error;
  }
  return { database, location, close: () => database.close() };
}

/** A job queue on `database` without workers (to enqueue), with the service's queue settings. */
export async function startCommandQueue(
  database: Database,
  settings: ServiceSettings,
  logger: Logger,
): Promise<JobQueue> {
  const queue = createJobQueue({
    database,
    logger,
    deadLetters: createDeadLetterStore(database),
    retryLimit: settings.queue.retryLimit,
    retryDelaySeconds: settings.queue.retryDelaySeconds,
  });
  await queue.start();
  return queue;
}

/** The Linq client of the settings; a command that talks to Linq needs LINQ_API_TOKEN. */
export function commandLinqClient(
  settings: ServiceSettings,
  purpose: string,
  options: Omit<LinqClientOptions, "token" | "baseUrl"> = {},
): LinqClient {
  if (settings.linq.apiToken === undefined) {
    throw new ConfigurationError(
      `LINQ_API_TOKEN is not set: ${purpose} needs the Linq Partner API. Set LINQ_API_TOKEN (and ` +
        "LINQ_WEBHOOK_SECRET); without them `linq-sync serve` runs the sandbox on local simulators.",
    );
  }
  return new LinqClient({ ...options, token: settings.linq.apiToken, baseUrl: settings.linq.apiBaseUrl });
}

/** "1 chat" / "3 chats". */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}
