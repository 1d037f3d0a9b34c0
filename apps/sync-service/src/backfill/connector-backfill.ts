/**
 * A connector's own batch backfill. A connector may expose `backfill(options)` next to the
 * `ConnectorV1` contract (HubSpot: batch endpoints, 100 records per request; Salesforce: sObject
 * Collections, 200 records per request, or Bulk API 2.0 for large orgs; each resumable in its own
 * cursor); `linq-sync backfill <connector>` then calls it instead of replaying
 * events through the queue (src/backfill/run-backfill.ts).
 *
 * The method is found by duck typing, and what it reports (progress, summary) is read through zod
 * schemas, so that any connector with the same shape works and a connector that reports something
 * else is an error rather than a wrong summary.
 *
 * The batch backfill is used when it can do what was asked exactly:
 * - contacts are organisation-wide, so a contacts-only backfill always can;
 * - a batch backfill of messages logs the history of every Linq number, so it is used only when every
 *   route feeds the connector (otherwise numbers routed elsewhere would be logged too);
 * - it logs messages whatever a route's `activities` say, so not when a route has them off;
 * - it has no end of window (`--until`).
 * Otherwise the generic replay runs, which follows the routing and the window.
 */
import type { ConnectorV1, LinqClient, MappingStore, RouteContext } from "@linq-connect/core";
import { UnexpectedResponseError } from "@linq-connect/core";
import { z } from "zod";
import type { Route, RoutingConfig } from "../config/routing.ts";
import {
  type ConnectorName,
  connectorsForRoute,
  routeContextFor,
  routesForContactEvents,
} from "../routing/router.ts";
import { formatElapsed, type ProgressCounter, type ProgressSnapshot } from "../terminal/progress-bar.ts";

export interface ConnectorBackfillOptions {
  linq: LinqClient;
  store: MappingStore;
  since: Date;
  contacts: boolean;
  messages: boolean;
  /** Forget the connector's saved progress. */
  restart: boolean;
  /** The route whose settings govern the backfill (field mapping, activity format…). */
  route: RouteContext | undefined;
  onProgress: (progress: unknown) => void;
  signal: AbortSignal | undefined;
}

export type ConnectorBackfill = (options: ConnectorBackfillOptions) => Promise<unknown>;

/** The connector's `backfill` method, bound to it, when it has one. */
export function connectorBackfillOf(connector: ConnectorV1): ConnectorBackfill | undefined {
  const candidate = (connector as { backfill?: unknown }).backfill;
  if (typeof candidate !== "function") return undefined;
  return (options) => (candidate as ConnectorBackfill).call(connector, options);
}

const countsSchema = z.record(z.string(), z.number().int().min(0));

export const connectorBackfillProgressSchema = z.object({
  phase: z.string(),
  counts: countsSchema,
  contactsTotal: z.number().int().min(0).optional(),
  requests: z.number().int().min(0).optional(),
});
export type ConnectorBackfillProgress = z.infer<typeof connectorBackfillProgressSchema>;

export const connectorBackfillSummarySchema = z.object({
  status: z.enum(["completed", "interrupted"]),
  resumed: z.boolean(),
  since: z.date(),
  counts: countsSchema,
  requests: z.number().int().min(0).optional(),
  rateLimited: z.number().int().min(0).optional(),
  /** How the records were written, when the connector has several ways (Salesforce). */
  method: z.enum(["collections", "bulk"]).optional(),
  elapsedMs: z.number().min(0),
});
export type ConnectorBackfillSummary = z.infer<typeof connectorBackfillSummarySchema>;

/** Reads what a connector's backfill reported; throws when it is not a summary. */
export function parseConnectorBackfillSummary(name: string, value: unknown): ConnectorBackfillSummary {
  const parsed = connectorBackfillSummarySchema.safeParse(value);
  if (!parsed.success) {
    throw new UnexpectedResponseError(
      `The ${name} connector's backfill returned something that is not a backfill summary`,
      { source: "internal" },
    );
  }
  return parsed.data;
}

/** Why the batch backfill cannot do what was asked, or undefined when it can. */
export function batchBackfillObstacle(
  routing: RoutingConfig,
  name: string,
  request: { messages: boolean; until: Date | undefined },
): string | undefined {
  if (request.until !== undefined) return "it has no --until";
  if (request.messages && !routing.routes.every((route) => feeds(route, name))) {
    return `it would log the messages of every Linq number, and some routes do not send to ${name}`;
  }
  if (request.messages && routing.routes.some((route) => route.activities === "off")) {
    // The batch backfill logs messages whatever a route's `activities` say; the replay follows them.
    return "it would log messages of a route whose activities are off";
  }
  return undefined;
}

function feeds(route: Route, name: string): boolean {
  return (connectorsForRoute(route) as string[]).includes(name);
}

/**
 * The route whose settings a batch backfill uses: the one that receives Linq contact events for the
 * connector, else the first route feeding it.
 */
export function batchBackfillRoute(routing: RoutingConfig, name: string): RouteContext | undefined {
  const route =
    routesForContactEvents(routing).find((candidate) => candidate.crm === name) ??
    routing.routes.find((candidate) => feeds(candidate, name));
  return route === undefined ? undefined : routeContextFor(route, name as ConnectorName);
}

/** "contactsAlreadyLogged" with prefix "contacts" → "already logged". */
function labelOf(key: string, prefix: string): string {
  return key
    .slice(prefix.length)
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase();
}

/** The counts starting with `prefix` other than `<prefix>Read`, in the connector's order. */
function countersOf(counts: Record<string, number>, prefix: string): ProgressCounter[] {
  return Object.entries(counts)
    .filter(
      ([key]) => key.startsWith(prefix) && key !== `${prefix}Read` && /^[A-Z]/.test(key.slice(prefix.length)),
    )
    .map(([key, value]) => ({ label: labelOf(key, prefix), value }));
}

/** The progress bar's view of a connector's backfill progress. */
export function connectorProgressSnapshot(progress: ConnectorBackfillProgress): ProgressSnapshot {
  const { counts } = progress;
  if (progress.phase === "contacts") {
    const read = counts.contactsRead ?? 0;
    return {
      phase: "contacts",
      done: read,
      total: progress.contactsTotal,
      unit: "contacts",
      counters: countersOf(counts, "contacts"),
      rate: { count: read, unit: "contacts" },
    };
  }
  if (progress.phase === "messages") {
    return {
      phase: "messages",
      done: counts.chatsDone ?? 0,
      unit: "chats",
      counters: countersOf(counts, "messages"),
      rate: { count: counts.messagesRead ?? 0, unit: "messages" },
    };
  }
  return {
    phase: `${progress.phase}:`,
    done: progress.requests ?? 0,
    unit: "requests",
  };
}

const methodLabels: Record<NonNullable<ConnectorBackfillSummary["method"]>, string> = {
  collections: "sObject Collections, 200 records per request",
  bulk: "Bulk API 2.0",
};

/** What `linq-sync backfill` prints after a connector's batch backfill. */
export function formatConnectorBackfillSummary(
  name: string,
  summary: ConnectorBackfillSummary,
  request: { contacts: boolean; messages: boolean },
): string {
  const { counts } = summary;
  const lines = [
    `backfill ${name}: ${summary.status === "completed" ? "completed" : "interrupted (progress saved: run the same command again to resume)"} in ${formatElapsed(summary.elapsedMs)} (the connector's batch backfill)${summary.resumed ? ", resuming an earlier run" : ""}`,
    `  since     ${summary.since.toISOString()}`,
  ];
  const group = (label: string, prefix: string) => {
    const read = counts[`${prefix}Read`];
    if (read === undefined) return;
    const details = countersOf(counts, prefix)
      .map((counter) => `${counter.value} ${counter.label}`)
      .join(", ");
    lines.push(`  ${label.padEnd(9)} ${read} read${details === "" ? "" : `: ${details}`}`);
  };
  if (request.contacts) group("contacts", "contacts");
  if (request.messages) group("messages", "messages");
  if (request.messages && counts.chatsDone !== undefined) lines.push(`  chats     ${counts.chatsDone} done`);
  if (summary.requests !== undefined) {
    const notes = [
      ...(summary.method === undefined ? [] : [methodLabels[summary.method]]),
      ...(summary.rateLimited === undefined ? [] : [`${summary.rateLimited} answered 429 and retried`]),
    ];
    lines.push(
      `  requests  ${summary.requests} to ${name}${notes.length === 0 ? "" : ` (${notes.join(", ")})`}`,
    );
  }
  return lines.join("\n");
}
