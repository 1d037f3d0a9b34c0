#!/usr/bin/env node
// linq-sync — the sync service's command line.
//
// Exit codes: 0 success, 1 a failure (a check failed, an operation failed, invalid configuration),
// 2 a wrong invocation (unknown command or option, missing argument, conflicting options).
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { runBackfillCommand } from "./commands/backfill.ts";
import { type CommandContext, UsageError } from "./commands/command-context.ts";
import { runConfigSchema, runConfigValidate } from "./commands/config.ts";
import { type CreateConnectors, createConnectors } from "./commands/connectors.ts";
import { runDlqList, runDlqPurge, runDlqReplay, runDlqShow } from "./commands/dlq.ts";
import { runDoctor } from "./commands/doctor.ts";
import { serve } from "./commands/serve.ts";
import { runSubscribe } from "./commands/subscribe.ts";
import { loadSettings } from "./config/environment.ts";
import { loadRoutingConfig } from "./config/routing.ts";
import { createLogger } from "./logger.ts";
import { ServiceMetrics } from "./metrics.ts";
import type { TerminalStream } from "./terminal/progress-bar.ts";

export interface CliOptions {
  /** Default process.env. */
  environment?: NodeJS.ProcessEnv;
  /** Default process.stdout / process.stderr. */
  stdout?: TerminalStream;
  stderr?: TerminalStream;
  /** Default: the connectors of this build (src/commands/connectors.ts). */
  createConnectors?: CreateConnectors;
  /** Stops long commands (backfill, dlq replay); the CLI aborts it on SIGINT/SIGTERM. */
  signal?: AbortSignal;
}

function positiveInteger(value: string): number {
  const parsed = /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < 1)
    throw new InvalidArgumentError("expected a positive whole number");
  return parsed;
}

/** The program; `exitCode.value` holds what the command that ran returned. */
export function createProgram(options: CliOptions = {}, exitCode: { value: number } = { value: 0 }): Command {
  const environment = options.environment ?? process.env;
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const context: CommandContext = {
    environment,
    stdout,
    stderr,
    createConnectors: options.createConnectors ?? createConnectors,
    signal: options.signal,
  };
  const run = (command: () => Promise<number>) => async () => {
    exitCode.value = await command();
  };

  const program = new Command("linq-sync")
    .description("Connects the Linq Partner API to Slack, HubSpot and Salesforce.")
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => {
        stdout.write(text);
      },
      writeErr: (text) => {
        stderr.write(text);
      },
    });
  program.addHelpText(
    "after",
    "\nSettings come from environment variables (see the README). Run `linq-sync <command> --help` for a command's options.",
  );

  program
    .command("serve")
    .description("run the service (with no LINQ_API_TOKEN: the sandbox on local simulators)")
    .action(async () => {
      const settings = loadSettings(environment);
      const logger = createLogger({ level: settings.logLevel });
      let connectors: Awaited<ReturnType<CreateConnectors>> | undefined;
      const metrics = new ServiceMetrics();
      if (settings.mode === "production") {
        // The sandbox wires its connectors to its simulators itself.
        const routing = await loadRoutingConfig({ settings, environment });
        connectors = await context.createConnectors(settings, {
          routing,
          logger,
          recordUpstream: (service, status) => metrics.recordUpstream(service, status),
        });
      }
      const handle = await serve({
        settings,
        logger,
        metrics,
        ...(connectors === undefined ? {} : { connectors }),
      });
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, "shutdown requested");
        const timer = setTimeout(
          () => {
            logger.error({}, "shutdown timed out; exiting");
            process.exit(1);
          },
          (settings.shutdownTimeoutSeconds + 10) * 1000,
        );
        timer.unref();
        void handle.stop().then(() => process.exit(0));
      };
      process.once("SIGTERM", () => stop("SIGTERM"));
      process.once("SIGINT", () => stop("SIGINT"));
    });

  program
    .command("subscribe")
    .description(
      "ensure the Linq webhook subscription for PUBLIC_URL/webhooks/linq (every event type, LINQ_WEBHOOK_SECRET); never creates a duplicate",
    )
    .option("--dry-run", "print what would be done and change nothing")
    .option("--remove-duplicates", "delete other subscriptions for the same URL (the oldest is kept)")
    .action((commandOptions: { dryRun?: boolean; removeDuplicates?: boolean }) =>
      run(() => runSubscribe(context, commandOptions))(),
    );

  program
    .command("doctor")
    .description(
      "check the settings, routing, database, queue, Linq and the connectors; print a fix for each failure",
    )
    .action(run(() => runDoctor(context)));

  const config = program.command("config").description("the settings and the routing file");
  config
    .command("validate")
    .description("validate the settings and the routing file and print the routes")
    .option("--file <path>", "the routing file to check (default: SYNC_CONFIG, else ./linq-sync.yaml)")
    .action((commandOptions: { file?: string }) => run(() => runConfigValidate(context, commandOptions))());
  config
    .command("schema")
    .description("print the routing file's JSON Schema (for editors)")
    .option("--output <path>", "write it to a file instead")
    .action((commandOptions: { output?: string }) => run(() => runConfigSchema(context, commandOptions))());

  const dlq = program.command("dlq").description("the dead-letter queue: jobs that failed for good");
  dlq
    .command("list")
    .description("list dead letters, newest first")
    .option("--connector <name>", "only this connector's")
    .option("--limit <n>", "at most this many (default 50)", positiveInteger)
    .option("--all", "include entries already replayed")
    .action((commandOptions: { connector?: string; limit?: number; all?: boolean }) =>
      run(() => runDlqList(context, commandOptions))(),
    );
  dlq
    .command("show")
    .description("print one dead letter as JSON, with its payload and error")
    .argument("<id>", "the dead letter's id (see `dlq list`)")
    .action((id: string) => run(() => runDlqShow(context, id))());
  dlq
    .command("replay")
    .description("queue dead letters again (the service's workers run them)")
    .argument("[ids...]", "dead-letter ids")
    .option("--all", "every dead letter not yet replayed")
    .option("--connector <name>", "with --all: only this connector's")
    .action((ids: string[], commandOptions: { all?: boolean; connector?: string }) =>
      run(() => runDlqReplay(context, { ids, ...commandOptions }))(),
    );
  dlq
    .command("purge")
    .description("delete dead letters for good")
    .argument("[ids...]", "dead-letter ids")
    .option("--older-than <duration>", "entries that failed longer ago than this (7d, 12h, 30m)")
    .option("--all", "every dead letter (needs --yes)")
    .option("--yes", "confirm --all")
    .action((ids: string[], commandOptions: { olderThan?: string; all?: boolean; yes?: boolean }) =>
      run(() => runDlqPurge(context, { ids, ...commandOptions }))(),
    );

  program
    .command("backfill")
    .description("replay Linq history to one connector through the normal pipeline; resumable")
    .addHelpText(
      "after",
      `
The backfill only queues events: the service's workers do the connector's work.
  - With PostgreSQL (DATABASE_URL): run it while \`linq-sync serve\` runs; --wait follows the jobs.
  - With the embedded database (one process at a time): stop the service, run the backfill, start the
    service again; it processes the queued events when it starts.
Event ids are deterministic, so running it again queues nothing twice. Ctrl-C stops after the current
chat; the same command resumes where it stopped (--restart starts over).`,
    )
    .argument("<connector>", "a configured connector (slack, hubspot, salesforce)")
    .option("--since <date>", "start of the history: 2025-01-31, 2025-01-31T08:00:00Z or 30d (ago)")
    .option("--until <date>", "end of the history (default: when the backfill first started)")
    .option("--messages", "replay messages (the default when neither --messages nor --contacts is given)")
    .option("--contacts", "replay contacts (as contact.updated events)")
    .option("--restart", "forget the saved progress and start again")
    .option("--wait", "then wait until the service has handled the queued events (needs DATABASE_URL)")
    .action(
      (
        connector: string,
        commandOptions: {
          since?: string;
          until?: string;
          messages?: boolean;
          contacts?: boolean;
          restart?: boolean;
          wait?: boolean;
        },
      ) => run(() => runBackfillCommand(context, connector, commandOptions))(),
    );

  return program;
}

/** Runs one command line; returns the exit code (never exits the process). */
export async function runCli(argv: readonly string[], options: CliOptions = {}): Promise<number> {
  const stderr = options.stderr ?? process.stderr;
  const exitCode = { value: 0 };
  const program = createProgram(options, exitCode);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return exitCode.value;
  } catch (error) {
    // Commander has printed its own errors (unknown command or option, missing argument) and help.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    const message = error instanceof Error ? error.message : String(error);
    stderr.write(`linq-sync: ${message}\n`);
    if (error instanceof UsageError) {
      stderr.write("(see `linq-sync --help`)\n");
      return 2;
    }
    return 1;
  }
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (invokedDirectly) {
  const argv = process.argv.slice(2);
  const isServe = argv[0] === "serve";
  const controller = new AbortController();
  // Long commands stop at a safe point on Ctrl-C; a second Ctrl-C exits at once. (serve has its own.)
  const interrupt = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`\n${signal}: stopping at the next safe point (again to quit at once)\n`);
    controller.abort();
  };
  if (!isServe) {
    process.on("SIGINT", interrupt);
    process.on("SIGTERM", interrupt);
  }
  const code = await runCli(argv, { signal: controller.signal });
  if (!isServe) {
    process.off("SIGINT", interrupt);
    process.off("SIGTERM", interrupt);
    process.exitCode = code;
    // Everything the command opened is closed; should a library keep a handle open, do not hang.
    setTimeout(() => process.exit(code), 2_000).unref();
  } else if (code !== 0) process.exit(code);
}
