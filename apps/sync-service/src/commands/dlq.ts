/**
 * `linq-sync dlq list|show|replay|purge`: the dead-letter queue (jobs that failed for good).
 *
 * - list: newest first; `--all` includes entries already replayed.
 * - show: one entry as JSON, with its payload and error (and, for a Linq event, the stored event).
 * - replay: enqueues the entries again as new jobs (same connector, kind, payload and ordering key) and
 *   marks them replayed; a Linq event's delivery goes back to "queued". The running service's workers
 *   run them; with the embedded database they run at the next `linq-sync serve`.
 * - purge: deletes entries by id, older than a duration, or all of them (`--all --yes`).
 */
import type { Logger } from "pino";
import { loadSettings, type ServiceSettings } from "../config/environment.ts";
import { replayDeadLetter } from "../queue/index.ts";
import { createDeadLetterStore, type DeadLetter, type DeadLetterStore } from "../store/dead-letter-store.ts";
import { createEventStore } from "../store/event-store.ts";
import { renderTable } from "../terminal/table.ts";
import {
  type CommandContext,
  commandLogger,
  type OpenedDatabase,
  openCommandDatabase,
  outputWidth,
  plural,
  printError,
  printLine,
  startCommandQueue,
  UsageError,
} from "./command-context.ts";
import { parseDuration } from "./time-arguments.ts";

async function withDeadLetters<T>(
  context: CommandContext,
  options: { mustExist: boolean },
  work: (parts: {
    settings: ServiceSettings;
    opened: OpenedDatabase;
    store: DeadLetterStore;
    logger: Logger;
  }) => Promise<T>,
): Promise<T> {
  const settings = loadSettings(context.environment);
  const logger = commandLogger(context, settings);
  const opened = await openCommandDatabase(context, settings, { mustExist: options.mustExist, logger });
  try {
    return await work({ settings, opened, store: createDeadLetterStore(opened.database), logger });
  } finally {
    await opened.close();
  }
}

/** Parses dead-letter ids given as arguments ("12", "#12"). */
export function parseDeadLetterIds(values: readonly string[]): number[] {
  return values.map((value) => {
    const text = value.trim().replace(/^#/, "");
    const id = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(id) || id < 1) {
      throw new UsageError(
        `A dead-letter id is a positive whole number (see \`linq-sync dlq list\`), not ${JSON.stringify(value)}`,
      );
    }
    return id;
  });
}

/** "rate_limited: Too many requests" from a stored error summary. */
export function describeStoredError(error: unknown): string {
  if (error === null || typeof error !== "object") return String(error ?? "");
  const record = error as Record<string, unknown>;
  const code =
    typeof record.code === "string" ? record.code : typeof record.name === "string" ? record.name : undefined;
  const message = typeof record.message === "string" ? record.message : JSON.stringify(record);
  return code === undefined ? message : `${code}: ${message}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function formatTime(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace("T", " ")}Z`;
}

export interface DlqListOptions {
  connector?: string | undefined;
  limit?: number | undefined;
  /** Include entries already replayed. */
  all?: boolean | undefined;
}

export async function runDlqList(context: CommandContext, options: DlqListOptions = {}): Promise<number> {
  const limit = options.limit ?? 50;
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw new UsageError(`--limit: expected a positive whole number, got ${limit}`);
  return withDeadLetters(context, { mustExist: true }, async ({ store }) => {
    const filter = { connector: options.connector, includeReplayed: options.all === true };
    const [entries, total] = await Promise.all([store.list({ ...filter, limit }), store.count(filter)]);
    const scope = `${options.connector === undefined ? "" : ` of ${options.connector}`}${options.all === true ? "" : " (not replayed)"}`;
    if (entries.length === 0) {
      printLine(context, `no dead letters${scope}`);
      return 0;
    }
    const columns = [
      { header: "id", align: "right" as const },
      { header: "connector" },
      { header: "kind" },
      { header: "ordering key", maxWidth: 28 },
      { header: "attempts", align: "right" as const },
      { header: "failed at" },
      ...(options.all === true ? [{ header: "replayed" }] : []),
      { header: "error", minWidth: 20 },
    ];
    const rows = entries.map((entry) => [
      String(entry.id),
      entry.connector,
      entry.jobKind,
      entry.orderingKey ?? "",
      String(entry.attempts),
      formatTime(entry.failedAt),
      ...(options.all === true ? [entry.replayedAt === undefined ? "" : formatTime(entry.replayedAt)] : []),
      describeStoredError(entry.error),
    ]);
    printLine(context, renderTable(columns, rows, { maxWidth: outputWidth(context.stdout) }));
    printLine(context);
    printLine(
      context,
      `${entries.length < total ? `showing ${entries.length} of ${total}` : plural(total, "dead letter")}${scope}` +
        `${entries.length < total ? " (--limit to see more)" : ""}; \`linq-sync dlq show <id>\` for details`,
    );
    return 0;
  });
}

export async function runDlqShow(context: CommandContext, idArgument: string): Promise<number> {
  const [id] = parseDeadLetterIds([idArgument]);
  if (id === undefined) throw new UsageError("Name the dead letter to show");
  return withDeadLetters(context, { mustExist: true }, async ({ store, opened }) => {
    const entry = await store.get(id);
    if (entry === undefined) {
      printError(context, `there is no dead letter #${id} (see \`linq-sync dlq list --all\`)`);
      return 1;
    }
    const shown: Record<string, unknown> = { ...entry };
    const eventId =
      entry.jobKind === "linq-event" ? (entry.payload as { eventId?: unknown } | null)?.eventId : undefined;
    if (typeof eventId === "string") {
      const event = await createEventStore(opened.database).getEvent(eventId);
      shown.event = event ?? null;
    }
    printLine(context, JSON.stringify(shown, null, 2));
    return 0;
  });
}

export interface DlqReplayOptions {
  ids?: readonly string[] | undefined;
  all?: boolean | undefined;
  connector?: string | undefined;
}

/** Every entry not yet replayed (of one connector). */
async function allReplayable(store: DeadLetterStore, connector: string | undefined): Promise<DeadLetter[]> {
  const total = await store.count({ connector });
  if (total === 0) return [];
  return store.list({ connector, limit: total });
}

export async function runDlqReplay(context: CommandContext, options: DlqReplayOptions): Promise<number> {
  const ids = parseDeadLetterIds(options.ids ?? []);
  if (ids.length > 0 && options.all === true) throw new UsageError("Give dead-letter ids or --all, not both");
  if (ids.length === 0 && options.all !== true) {
    throw new UsageError(
      "Say what to replay: dead-letter ids (`linq-sync dlq replay 12 13`) or --all [--connector name]",
    );
  }
  if (options.connector !== undefined && options.all !== true) {
    throw new UsageError("--connector filters --all; with ids, the ids say what is replayed");
  }
  return withDeadLetters(context, { mustExist: true }, async ({ settings, store, opened, logger }) => {
    let failed = 0;
    const entries: DeadLetter[] = [];
    if (options.all === true) entries.push(...(await allReplayable(store, options.connector)));
    else {
      for (const id of ids) {
        const entry = await store.get(id);
        if (entry === undefined) {
          printError(context, `#${id}: there is no such dead letter`);
          failed += 1;
        } else if (entry.replayedAt !== undefined) {
          printError(
            context,
            `#${id}: already replayed as job ${entry.replayJobId ?? "?"} at ${formatTime(entry.replayedAt)}`,
          );
          failed += 1;
        } else entries.push(entry);
      }
    }
    if (entries.length === 0) {
      if (failed === 0) printLine(context, "nothing to replay");
      return failed > 0 ? 1 : 0;
    }
    // Oldest first: jobs of one conversation must run again in the order they first ran.
    entries.sort(
      (first, second) => first.failedAt.getTime() - second.failedAt.getTime() || first.id - second.id,
    );
    const queue = await startCommandQueue(opened.database, settings, logger);
    const eventStore = createEventStore(opened.database);
    let replayed = 0;
    try {
      for (const entry of entries) {
        try {
          const payload = isRecord(entry.payload) ? entry.payload : {};
          const { id: jobId } = await replayDeadLetter(queue, { ...entry, payload });
          await store.markReplayed(entry.id, jobId);
          printLine(context, `#${entry.id} (${entry.connector}, ${entry.jobKind}) → queued as job ${jobId}`);
          replayed += 1;
          const eventId = entry.jobKind === "linq-event" ? payload.eventId : undefined;
          if (typeof eventId === "string") {
            // The event's delivery to this connector is pending again (it was "dead").
            try {
              await eventStore.markDelivery(eventId, entry.connector, "queued");
            } catch (error) {
              printError(
                context,
                `#${entry.id}: the job is queued, but the delivery of event ${eventId} could not be marked queued: ${error instanceof Error ? error.message : String(error)}`,
              );
            }
          }
        } catch (error) {
          failed += 1;
          printError(
            context,
            `#${entry.id}: not replayed: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
      }
    } finally {
      await queue.stop({ graceful: true, timeoutMs: 5_000 });
    }
    printLine(
      context,
      `replayed ${plural(replayed, "dead letter")}${failed > 0 ? `, ${failed} failed` : ""}. ` +
        (opened.database.kind === "pglite"
          ? "They run when `linq-sync serve` starts on this database."
          : "The running service's workers run them."),
    );
    return failed > 0 ? 1 : 0;
  });
}

export interface DlqPurgeOptions {
  ids?: readonly string[] | undefined;
  olderThan?: string | undefined;
  all?: boolean | undefined;
  yes?: boolean | undefined;
  now?: () => Date;
}

export async function runDlqPurge(context: CommandContext, options: DlqPurgeOptions): Promise<number> {
  const ids = parseDeadLetterIds(options.ids ?? []);
  const olderThanMs =
    options.olderThan === undefined ? undefined : parseDuration(options.olderThan, "--older-than");
  if (options.all === true) {
    if (ids.length > 0 || olderThanMs !== undefined) {
      throw new UsageError("--all deletes every dead letter: do not combine it with ids or --older-than");
    }
    if (options.yes !== true) {
      throw new UsageError(
        "--all deletes every dead letter for good: add --yes to confirm (`linq-sync dlq purge --all --yes`)",
      );
    }
  } else if (ids.length === 0 && olderThanMs === undefined) {
    throw new UsageError("Say what to purge: dead-letter ids, --older-than 7d, or --all --yes");
  }
  return withDeadLetters(context, { mustExist: true }, async ({ store }) => {
    const now = options.now?.() ?? new Date();
    const olderThan = olderThanMs === undefined ? undefined : new Date(now.getTime() - olderThanMs);
    const purged = await store.purge({
      all: options.all === true,
      ...(ids.length > 0 ? { ids } : {}),
      ...(olderThan === undefined ? {} : { olderThan }),
    });
    const criteria = [
      ...(ids.length > 0 ? [`ids ${ids.join(", ")}`] : []),
      ...(olderThan === undefined ? [] : [`failed before ${formatTime(olderThan)}`]),
    ];
    printLine(
      context,
      `purged ${plural(purged, "dead letter")}${criteria.length > 0 ? ` (${criteria.join(", ")})` : ""}`,
    );
    if (ids.length > purged)
      printLine(context, `${ids.length - purged} of the ids matched nothing (or not the other criteria)`);
    return 0;
  });
}
