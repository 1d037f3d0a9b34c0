/**
 * Salesforce → Linq change detection: incremental polling on `SystemModstamp`, and the Get Deleted
 * resource for deletions. Each changed or deleted record becomes one `salesforce.record-changed` job
 * (contact-sync.ts `syncSalesforceRecord` reads the record when the job runs).
 *
 * - Changes: `SELECT Id, SystemModstamp FROM <object> WHERE (SystemModstamp > :at OR (SystemModstamp
 *   = :at AND Id > :id)) AND SystemModstamp < :settled ORDER BY SystemModstamp, Id LIMIT 200`, page
 *   after page. SystemModstamp has second precision and many records share one, so the cursor
 *   (`salesforce:poll:<object>`, JSON `{ at, id }`) is the last (stamp, Id) pair enqueued, or `{ at,
 *   id: "" }` for "everything from `at` on". Only seconds that are over by a few seconds (`settled`)
 *   are read: a record changed later within the cursor's own second, with a lower Id, would be
 *   skipped for good otherwise. The cursor advances after the page's jobs are enqueued: a crash in
 *   between enqueues them again, and the jobs' deduplication keys (`salesforce:<id>:<SystemModstamp>`)
 *   make the repeats one job.
 * - Deletions: `GET /sobjects/<object>/deleted?start&end` from the cursor `salesforce:deleted:<object>`
 *   (the `latestDateCovered` of the last window). Salesforce answers whole minutes and refuses a
 *   window shorter than a minute or starting more than 15 days ago (the recycle bin's life), so a
 *   poll within the same minute skips the call, and a cursor older than that starts at the oldest
 *   allowed time (deletions before it cannot be known anymore; the log says so).
 *
 * A Lead route polls Contacts too, the same way (their own cursors `salesforce:poll:Contact` and
 * `salesforce:deleted:Contact`), but queues jobs only for the Contacts it tracks: those with a
 * `salesforce.contact` mapping, i.e. the Contacts of converted Leads it followed (a store lookup per
 * changed Contact, no API call). So a person who moved to a Contact keeps syncing back to Linq, and
 * an org with many Contacts does not flood the queue. The price is one more query per poll (more
 * pages when many Contacts change) and one more Get Deleted call per minute.
 *
 * The first poll of an object starts from now (a few seconds ago for changes, the current minute for
 * deletions) and reads nothing. Polling does not import the whole org;
 * the backfill (`linq-sync backfill salesforce`) is for history.
 */
import type { ConnectorContext } from "@linq-connect/core";
import { z } from "zod";
import type { ConnectorServices } from "./connector-services.ts";
import type { SalesforceObjectName } from "./field-mapping.ts";
import { deletedCursorName, isLinkedRecord, pollCursorName } from "./mappings.ts";
import { escapeSoql } from "./salesforce-api.ts";
import type { SalesforceRouteSettings } from "./settings.ts";

export const RECORD_CHANGED_JOB = "salesforce.record-changed";

export const recordChangedPayloadSchema = z.object({
  objectType: z.enum(["Contact", "Lead"]),
  recordId: z.string(),
  deleted: z.boolean().default(false),
});

export type RecordChangedPayload = z.infer<typeof recordChangedPayloadSchema>;

export interface PollSummary {
  /** Jobs enqueued for changed records. */
  changed: number;
  /** Jobs enqueued for deleted records. */
  deleted: number;
}

/** Records per poll query (the cursor moves after each page). */
const PAGE_SIZE = 200;
/** Pages per poll at most: the rest waits for the next poll (the cursor says where). */
const MAX_PAGES_PER_POLL = 50;
const MINUTE_MS = 60_000;
/**
 * Changes of the last seconds are left for the next poll: Salesforce stamps whole seconds, its clock
 * may differ from ours a little, and a transaction's records may become visible after their stamp.
 */
const SETTLE_MS = 3_000;
/** Get Deleted windows start at most this long ago (Salesforce keeps deleted records 15 days). */
const DELETED_HISTORY_MS = 15 * 24 * 60 * MINUTE_MS;

const pollCursorSchema = z.object({ at: z.string(), id: z.string() });
type PollCursor = z.infer<typeof pollCursorSchema>;

function parseCursor(value: string | undefined): PollCursor | undefined {
  if (value === undefined || value === "") return undefined;
  try {
    const parsed = pollCursorSchema.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function secondOf(time: number): number {
  return Math.floor(time / 1000) * 1000;
}

/** A SOQL datetime literal (second precision, as SystemModstamp). */
function soqlDateTime(value: string): string {
  const time = Date.parse(value);
  if (!Number.isFinite(time)) throw new Error(`invalid poll cursor time ${JSON.stringify(value)}`);
  return new Date(time).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Whether a changed or deleted record gets a job (the others only move the cursor). */
type RecordFilter = (recordId: string) => Promise<boolean>;

/** An object a route polls, and which of its records get jobs (all without `include`). */
interface PolledObject {
  objectType: SalesforceObjectName;
  include?: RecordFilter;
}

/**
 * What a route polls: its object; on a Lead route also the Contacts the connector tracks (a
 * `salesforce.contact` mapping: a converted Lead's Contact the person was moved to).
 */
function polledObjects(settings: SalesforceRouteSettings, context: ConnectorContext): PolledObject[] {
  if (settings.objectType === "Contact") return [{ objectType: "Contact" }];
  const tracked: RecordFilter = (recordId) => isLinkedRecord(context.store, recordId);
  return [{ objectType: "Lead" }, { objectType: "Contact", include: tracked }];
}

/**
 * One poll of the settings' object (Contact or Lead; on a Lead route, plus the tracked Contacts):
 * enqueues a job per record changed or deleted since the cursors, and moves them. Nothing when the
 * route's contact sync does not read Salesforce.
 */
export async function pollSalesforceChanges(
  services: ConnectorServices,
  settings: SalesforceRouteSettings,
  context: ConnectorContext,
): Promise<PollSummary> {
  const summary: PollSummary = { changed: 0, deleted: 0 };
  if (settings.contacts !== "two-way" && settings.contacts !== "crm-to-linq") return summary;
  for (const polled of polledObjects(settings, context)) {
    const changed = await pollChanged(services, polled, context);
    const deleted = await pollDeleted(services, polled, context);
    if (changed + deleted > 0) {
      context.logger.info(
        { objectType: polled.objectType, changed, deleted },
        "Salesforce changes queued for Linq",
      );
    }
    summary.changed += changed;
    summary.deleted += deleted;
  }
  return summary;
}

async function enqueue(
  context: ConnectorContext,
  payload: RecordChangedPayload,
  version: string,
): Promise<void> {
  await context.enqueue({
    type: RECORD_CHANGED_JOB,
    payload,
    orderingKey: `salesforce:${payload.recordId}`,
    deduplicationKey: `salesforce:${payload.recordId}:${version}`,
  });
}

async function pollChanged(
  services: ConnectorServices,
  { objectType, include }: PolledObject,
  context: ConnectorContext,
): Promise<number> {
  const cursorName = pollCursorName(objectType);
  // Only whole seconds that are over (with a margin for clock skew and commit lag): a record changed
  // later in the cursor's own second, with a lower Id, would otherwise be skipped.
  const settled = secondOf(services.now().getTime() - SETTLE_MS);
  let cursor = parseCursor(await context.store.getCursor(cursorName));
  if (cursor === undefined) {
    cursor = { at: new Date(settled).toISOString(), id: "" };
    await context.store.setCursor(cursorName, JSON.stringify(cursor));
    context.logger.info(
      { objectType, from: cursor.at, ...(include === undefined ? {} : { only: "tracked records" }) },
      "Salesforce polling starts from now",
    );
    return 0;
  }
  let count = 0;
  for (let page = 0; page < MAX_PAGES_PER_POLL; page += 1) {
    if (secondOf(Date.parse(cursor.at)) >= settled) break;
    const at = soqlDateTime(cursor.at);
    // An empty id: nothing of the cursor's second was seen yet.
    const after =
      cursor.id === ""
        ? `SystemModstamp >= ${at}`
        : `(SystemModstamp > ${at} OR (SystemModstamp = ${at} AND Id > '${escapeSoql(cursor.id)}'))`;
    const records: { Id: string; SystemModstamp: string }[] = await services.api.query(
      `SELECT Id, SystemModstamp FROM ${objectType} WHERE ${after} AND SystemModstamp < ${soqlDateTime(new Date(settled).toISOString())} ORDER BY SystemModstamp, Id LIMIT ${PAGE_SIZE}`,
      { signal: context.signal, maxRecords: PAGE_SIZE },
    );
    for (const record of records) {
      if (include !== undefined && !(await include(record.Id))) continue;
      await enqueue(context, { objectType, recordId: record.Id, deleted: false }, record.SystemModstamp);
      count += 1;
    }
    const last = records.at(-1);
    // Nothing more before `settled`: the next poll starts there.
    cursor =
      records.length < PAGE_SIZE || last === undefined
        ? { at: new Date(settled).toISOString(), id: "" }
        : { at: last.SystemModstamp, id: last.Id };
    await context.store.setCursor(cursorName, JSON.stringify(cursor));
    if (records.length < PAGE_SIZE) break;
  }
  return count;
}

async function pollDeleted(
  services: ConnectorServices,
  { objectType, include }: PolledObject,
  context: ConnectorContext,
): Promise<number> {
  const cursorName = deletedCursorName(objectType);
  const now = services.now().getTime();
  const currentMinute = Math.floor(now / MINUTE_MS) * MINUTE_MS;
  const stored = Date.parse((await context.store.getCursor(cursorName)) ?? "");
  if (!Number.isFinite(stored)) {
    await context.store.setCursor(cursorName, new Date(currentMinute).toISOString());
    return 0;
  }
  const oldestAllowed = currentMinute - DELETED_HISTORY_MS + MINUTE_MS;
  if (stored < oldestAllowed) {
    context.logger.warn(
      { objectType, since: new Date(stored).toISOString() },
      "the last check for deleted Salesforce records is older than Salesforce keeps them: deletions before the last 15 days are not known",
    );
  }
  const start = Math.floor(Math.max(stored, oldestAllowed) / MINUTE_MS) * MINUTE_MS;
  // Salesforce wants at least a whole minute between start and end.
  if (currentMinute <= start) return 0;
  const result = await services.api.getDeleted(objectType, new Date(start), new Date(currentMinute), {
    signal: context.signal,
  });
  let count = 0;
  for (const record of result.deletedRecords) {
    if (include !== undefined && !(await include(record.id))) continue;
    await enqueue(
      context,
      { objectType, recordId: record.id, deleted: true },
      `deleted:${record.deletedDate}`,
    );
    count += 1;
  }
  const covered = Date.parse(result.latestDateCovered);
  await context.store.setCursor(
    cursorName,
    new Date(Number.isFinite(covered) && covered > start ? covered : currentMinute).toISOString(),
  );
  return count;
}
