/**
 * `linq-sync backfill <connector> --since <date> [--until <date>] [--messages] [--contacts] [--restart] [--wait]`
 *
 * Replays Linq history (see src/backfill/run-backfill.ts) for one configured connector. It only
 * enqueues: the service's workers do the connector's work. A connector with a batch backfill of its own
 * (HubSpot: `connector.backfill(...)`, batch endpoints) runs it here instead, in this process, when it
 * can do exactly what was asked (see src/backfill/connector-backfill.ts).
 * - With PostgreSQL (DATABASE_URL), run it while `linq-sync serve` runs; `--wait` follows the jobs.
 * - With the embedded database, only one process may open it: stop the service, run the backfill, start
 *   the service, which then processes the queued events.
 * Progress goes to stderr (a bar on a terminal, a line every 10 s otherwise), the summary to stdout.
 * Ctrl-C stops after the current chat; the same command resumes.
 */
import { ConfigurationError, type ConnectorV1, type LinqClient } from "@linq-connect/core";
import type { Logger } from "pino";
import {
  batchBackfillObstacle,
  batchBackfillRoute,
  type ConnectorBackfill,
  type ConnectorBackfillProgress,
  connectorBackfillOf,
  connectorBackfillProgressSchema,
  connectorProgressSnapshot,
  formatConnectorBackfillSummary,
  parseConnectorBackfillSummary,
} from "../backfill/connector-backfill.ts";
import {
  type BackfillProgress,
  type BackfillSummary,
  requireConnector,
  runBackfill,
} from "../backfill/run-backfill.ts";
import { waitForBackfillJobs } from "../backfill/wait-for-jobs.ts";
import { loadSettings, type ServiceSettings } from "../config/environment.ts";
import { loadRoutingConfig, type RoutingConfig } from "../config/routing.ts";
import { createBackfillProgressStore } from "../store/backfill-progress.ts";
import { createEventStore } from "../store/event-store.ts";
import { createMappingStore } from "../store/mapping-store.ts";
import { createProgressBar, formatElapsed, type ProgressSnapshot } from "../terminal/progress-bar.ts";
import {
  type CommandContext,
  commandLinqClient,
  commandLogger,
  openCommandDatabase,
  plural,
  printError,
  printLine,
  startCommandQueue,
  UsageError,
} from "./command-context.ts";
import { parseDateArgument } from "./time-arguments.ts";

export interface BackfillCommandOptions {
  since?: string | undefined;
  until?: string | undefined;
  messages?: boolean | undefined;
  contacts?: boolean | undefined;
  restart?: boolean | undefined;
  wait?: boolean | undefined;
  /** Non-terminal progress lines at most this often (default 10 s). */
  progressIntervalMs?: number | undefined;
  now?: (() => Date) | undefined;
}

function snapshotOf(progress: BackfillProgress): ProgressSnapshot {
  const { counts, thisRun } = progress;
  if (progress.phase === "contacts") {
    return {
      phase: "contacts",
      done: counts.contactsRead,
      unit: "contacts",
      counters: [
        { label: "queued", value: counts.contactsQueued },
        { label: "already queued", value: counts.contactsAlreadyQueued },
        { label: "skipped", value: counts.contactsSkipped },
      ],
      rate: { count: thisRun.contactsRead, unit: "contacts" },
    };
  }
  if (progress.phase === "listing chats") {
    return { phase: "listing chats:", done: progress.chatsDone, unit: "found" };
  }
  return {
    phase: progress.phase,
    done: progress.chatsDone,
    total: progress.chatsTotal,
    unit: "chats",
    counters: [
      { label: "messages queued", value: counts.messagesQueued },
      { label: "already queued", value: counts.messagesAlreadyQueued },
      { label: "skipped", value: counts.messagesSkipped },
    ],
    rate: { count: thisRun.messagesRead, unit: "messages" },
  };
}

export function formatBackfillSummary(summary: BackfillSummary): string {
  const { counts } = summary;
  const lines = [
    `backfill ${summary.connector}: ${summary.status === "completed" ? "completed" : "interrupted (progress saved: run the same command again to resume)"} in ${formatElapsed(summary.elapsedMs)}${summary.resumed ? ", resuming an earlier run" : ""}`,
    `  window    ${summary.since.toISOString()} (included) to ${summary.until.toISOString()} (excluded)`,
  ];
  if (summary.numbers.length > 0 || summary.skippedNumbers.length > 0) {
    lines.push(`  numbers   ${summary.numbers.join(", ") || "none routed to this connector"}`);
    for (const skipped of summary.skippedNumbers)
      lines.push(`            ${skipped.number} skipped: ${skipped.reason}`);
  }
  lines.push(
    `  chats     ${counts.chatsDone}${summary.chatsTotal > 0 ? ` of ${summary.chatsTotal}` : ""} done`,
    `  messages  ${counts.messagesRead} read: ${counts.messagesQueued} queued, ${counts.messagesAlreadyQueued} already queued, ${counts.messagesSkipped} skipped (not for this connector)`,
  );
  if (counts.contactsRead > 0 || counts.contactsQueued > 0) {
    lines.push(
      `  contacts  ${counts.contactsRead} read: ${counts.contactsQueued} queued, ${counts.contactsAlreadyQueued} already queued, ${counts.contactsSkipped} skipped`,
    );
  }
  return lines.join("\n");
}

export async function runBackfillCommand(
  context: CommandContext,
  connectorName: string,
  options: BackfillCommandOptions,
): Promise<number> {
  if (options.since === undefined) {
    throw new UsageError(
      "--since is required: the start of the history to replay (e.g. --since 2025-01-01 or --since 30d)",
    );
  }
  const since = parseDateArgument(options.since, "--since", options.now);
  const until =
    options.until === undefined ? undefined : parseDateArgument(options.until, "--until", options.now);
  if (until !== undefined && until.getTime() <= since.getTime())
    throw new UsageError("--until must be after --since");
  const contacts = options.contacts === true;
  const messages = options.messages === true || !contacts;

  const settings = loadSettings(context.environment);
  const logger = commandLogger(context, settings);
  const embedded =
    context.database !== undefined ? context.database.kind === "pglite" : settings.database.url === undefined;
  if (options.wait === true && embedded) {
    throw new UsageError(
      "--wait needs the service running at the same time, which the embedded database does not allow (one process at a time): " +
        "set DATABASE_URL to a PostgreSQL database shared with the service, or run the backfill without --wait and start `linq-sync serve` afterwards",
    );
  }
  const routing = await loadRoutingConfig({ settings, environment: context.environment });
  const connectors = await context.createConnectors(settings, { routing, logger });
  try {
    const byName = new Map(connectors.map((connector) => [connector.name, connector]));
    const target = requireConnector(byName, connectorName);
    const linq = commandLinqClient(settings, "`linq-sync backfill`");
    try {
      const batchBackfill = connectorBackfillOf(target);
      if (batchBackfill !== undefined) {
        const obstacle = batchBackfillObstacle(routing, connectorName, { messages, until });
        if (obstacle === undefined) {
          return await runConnectorBackfill(context, {
            connector: target,
            backfill: batchBackfill,
            settings,
            routing,
            logger,
            linq,
            since,
            contacts,
            messages,
            restart: options.restart === true,
            progressIntervalMs: options.progressIntervalMs,
          });
        }
        printError(
          context,
          `The ${connectorName} connector's batch backfill is not used (${obstacle}): replaying the history through the queue instead.`,
        );
      }
      const opened = await openCommandDatabase(context, settings, { mustExist: false, logger });
      try {
        const queue = await startCommandQueue(opened.database, settings, logger);
        try {
          const bar = createProgressBar({
            stream: context.stderr,
            label: `backfill ${connectorName}`,
            ...(options.progressIntervalMs === undefined
              ? {}
              : { lineIntervalMs: options.progressIntervalMs }),
          });
          let last: BackfillProgress | undefined;
          let summary: BackfillSummary;
          try {
            summary = await runBackfill({
              connector: connectorName,
              since,
              until,
              messages,
              contacts,
              restart: options.restart === true,
              linq,
              database: opened.database,
              eventStore: createEventStore(opened.database),
              queue,
              progressStore: createBackfillProgressStore(opened.database),
              routing,
              connectors: byName,
              signal: context.signal,
              onProgress: (progress) => {
                last = progress;
                bar.update(snapshotOf(progress));
              },
              onNotice: (line) => bar.log(line),
              ...(options.now === undefined ? {} : { now: options.now }),
            });
          } catch (error) {
            bar.finish(last === undefined ? undefined : snapshotOf(last));
            if (!(error instanceof ConfigurationError)) {
              printError(
                context,
                "The backfill stopped; what it finished is saved: run the same command again to resume.",
              );
            }
            throw error;
          }
          bar.finish(last === undefined ? undefined : snapshotOf(last));
          printLine(context, formatBackfillSummary(summary));
          if (summary.status === "interrupted") return 1;
          const queued = summary.thisRun.messagesQueued + summary.thisRun.contactsQueued;
          if (options.wait !== true) {
            printLine(
              context,
              queued === 0
                ? "nothing new was queued"
                : embedded
                  ? `${plural(queued, "event")} queued for ${connectorName}: \`linq-sync serve\` processes them when it starts on this database`
                  : `${plural(queued, "event")} queued for ${connectorName}: the running service's workers process them (\`--wait\` follows them)`,
            );
            return 0;
          }
          const waitBar = createProgressBar({
            stream: context.stderr,
            label: `waiting for ${connectorName}`,
            ...(options.progressIntervalMs === undefined
              ? {}
              : { lineIntervalMs: options.progressIntervalMs }),
          });
          let waitSnapshot: ProgressSnapshot | undefined;
          const waited = await waitForBackfillJobs({
            database: opened.database,
            connector: connectorName,
            signal: context.signal,
            onProgress: (counts) => {
              waitSnapshot = {
                done: counts.processed + counts.dead,
                total: counts.processed + counts.dead + counts.queued,
                unit: "backfilled events handled",
                counters: [
                  { label: "processed", value: counts.processed },
                  { label: "dead", value: counts.dead },
                  { label: "still queued", value: counts.queued },
                ],
              };
              waitBar.update(waitSnapshot);
            },
          });
          waitBar.finish(waitSnapshot);
          const { counts } = waited;
          if (waited.status === "interrupted") {
            printLine(
              context,
              `stopped waiting: ${counts.queued} still queued (the service keeps processing them)`,
            );
            return 1;
          }
          printLine(
            context,
            `every backfilled event for ${connectorName} is handled: ${counts.processed} processed, ${counts.dead} dead${counts.dead > 0 ? " (see `linq-sync dlq list`)" : ""}`,
          );
          return counts.dead > 0 ? 1 : 0;
        } finally {
          await queue.stop({ graceful: true, timeoutMs: 5_000 });
        }
      } finally {
        await opened.close();
      }
    } finally {
      await linq.close();
    }
  } finally {
    for (const connector of connectors) await connector.close?.().catch(() => undefined);
  }
}

interface ConnectorBackfillRun {
  connector: ConnectorV1;
  backfill: ConnectorBackfill;
  settings: ServiceSettings;
  routing: RoutingConfig;
  logger: Logger;
  linq: LinqClient;
  since: Date;
  contacts: boolean;
  messages: boolean;
  restart: boolean;
  progressIntervalMs: number | undefined;
}

/**
 * The connector's own batch backfill, in this process: it writes to the platform itself and keeps its
 * progress in the service's database (mappings and its cursor), so the same command resumes it.
 */
async function runConnectorBackfill(context: CommandContext, run: ConnectorBackfillRun): Promise<number> {
  const name = run.connector.name;
  const opened = await openCommandDatabase(context, run.settings, { mustExist: false, logger: run.logger });
  try {
    const bar = createProgressBar({
      stream: context.stderr,
      label: `backfill ${name}`,
      ...(run.progressIntervalMs === undefined ? {} : { lineIntervalMs: run.progressIntervalMs }),
    });
    let last: ConnectorBackfillProgress | undefined;
    const finish = () => bar.finish(last === undefined ? undefined : connectorProgressSnapshot(last));
    let result: unknown;
    try {
      result = await run.backfill({
        linq: run.linq,
        store: createMappingStore(opened.database),
        since: run.since,
        contacts: run.contacts,
        messages: run.messages,
        restart: run.restart,
        route: batchBackfillRoute(run.routing, name),
        onProgress: (progress) => {
          const parsed = connectorBackfillProgressSchema.safeParse(progress);
          if (!parsed.success) return;
          last = parsed.data;
          bar.update(connectorProgressSnapshot(parsed.data));
        },
        signal: context.signal,
      });
    } catch (error) {
      finish();
      if (!(error instanceof ConfigurationError)) {
        printError(
          context,
          "The backfill stopped; what it finished is saved: run the same command again to resume.",
        );
      }
      throw error;
    }
    finish();
    const summary = parseConnectorBackfillSummary(name, result);
    printLine(
      context,
      formatConnectorBackfillSummary(name, summary, { contacts: run.contacts, messages: run.messages }),
    );
    return summary.status === "completed" ? 0 : 1;
  } finally {
    await opened.close();
  }
}
