/**
 * The periodic reconciliation: contacts modified in HubSpot since the last cursor, in case a webhook
 * was missed (delivery gave up, the service was down longer than HubSpot retries, a subscription was
 * missing).
 *
 * Each run searches `lastmodifieddate >= cursor − overlap` (the overlap covers HubSpot's search index
 * lag: a contact modified just before the last run may only now be searchable), oldest first, and
 * enqueues the same job a webhook would for every contact that is not linked yet or whose values
 * differ from the last synced ones (our own writes and unchanged contacts cost nothing more). The
 * cursor (`hubspot:reconciliation`) then moves to the newest modification seen. The search API stops
 * at 10 000 results per query; a run that reaches it continues from the newest modification seen.
 */
import { type ConnectorContext, isEchoOfLastSync } from "@linq-connect/core";
import { type ConnectorServices, contactProperties, syncedFields } from "./connector-services.ts";
import { type LinqContactField, linqContactFieldKinds } from "./field-mapping.ts";
import { CONTACT_CHANGED_JOB } from "./hubspot-webhooks.ts";
import { CONTACT_MAPPING, contactMetadata } from "./mappings.ts";
import type { HubSpotRouteSettings } from "./settings.ts";

export const RECONCILIATION_CURSOR = "hubspot:reconciliation";
const OVERLAP_MS = 5 * 60_000;
const FIRST_RUN_LOOKBACK_MS = 60 * 60_000;
const PAGE_SIZE = 100;
const MAX_RESULTS_PER_QUERY = 10_000;
/** At most this many contacts per run, so one run stays bounded; the next run continues. */
const MAX_CONTACTS_PER_RUN = 5_000;

export interface ReconciliationResult {
  examined: number;
  enqueued: number;
  cursor: string | undefined;
}

export async function reconcileHubSpotContacts(
  services: ConnectorServices,
  settings: HubSpotRouteSettings,
  context: ConnectorContext,
): Promise<ReconciliationResult> {
  if (settings.contacts !== "two-way" && settings.contacts !== "crm-to-linq") {
    return { examined: 0, enqueued: 0, cursor: undefined };
  }
  const stored = await context.store.getCursor(RECONCILIATION_CURSOR);
  const storedTime = stored === undefined ? Number.NaN : Date.parse(stored);
  let from = Number.isFinite(storedTime)
    ? storedTime - OVERLAP_MS
    : services.now().getTime() - FIRST_RUN_LOOKBACK_MS;
  const fields = syncedFields(settings);
  const properties = contactProperties(settings);
  let newest = Number.isFinite(storedTime) ? storedTime : undefined;
  let examined = 0;
  let enqueued = 0;
  let after: string | undefined;
  let seenInQuery = 0;
  while (examined < MAX_CONTACTS_PER_RUN) {
    const page = await services.api.searchContacts(
      {
        filterGroups: [[{ propertyName: "lastmodifieddate", operator: "GTE", value: String(from) }]],
        properties,
        sort: "lastmodifieddate",
        limit: PAGE_SIZE,
        ...(after === undefined ? {} : { after }),
      },
      context.signal,
    );
    for (const record of page.results) {
      examined += 1;
      const modified = Date.parse(record.properties.lastmodifieddate ?? "");
      if (Number.isFinite(modified) && (newest === undefined || modified > newest)) newest = modified;
      const mapping = await context.store.findByExternalId(CONTACT_MAPPING, record.id);
      if (mapping !== undefined) {
        const current: Partial<Record<LinqContactField, string | null | undefined>> = {};
        for (const field of fields)
          current[field] = record.properties[settings.fieldMapping[field] as string];
        const echo = isEchoOfLastSync({
          fields,
          kinds: linqContactFieldKinds,
          current,
          lastSynced: contactMetadata(mapping).synced,
          phoneNumberOptions: services.phoneNumberOptions,
        });
        if (echo) continue;
      }
      await context.enqueue({
        type: CONTACT_CHANGED_JOB,
        payload: { objectId: record.id, source: "reconciliation", events: [] },
        orderingKey: `hubspot-contact:${record.id}`,
        deduplicationKey: `hubspot-reconcile:${record.id}:${record.properties.lastmodifieddate ?? ""}`,
      });
      enqueued += 1;
    }
    seenInQuery += page.results.length;
    if (page.after === undefined || page.results.length === 0) break;
    if (seenInQuery + PAGE_SIZE > MAX_RESULTS_PER_QUERY && newest !== undefined) {
      // The search API returns at most 10 000 results per query: start a new query from here.
      from = newest;
      after = undefined;
      seenInQuery = 0;
      continue;
    }
    after = page.after;
  }
  const cursor = newest === undefined ? undefined : new Date(newest).toISOString();
  if (cursor !== undefined && cursor !== stored) await context.store.setCursor(RECONCILIATION_CURSOR, cursor);
  else if (stored === undefined) {
    await context.store.setCursor(RECONCILIATION_CURSOR, new Date(from).toISOString());
  }
  context.logger.info({ examined, enqueued, cursor }, "HubSpot reconciliation finished");
  return { examined, enqueued, cursor };
}
