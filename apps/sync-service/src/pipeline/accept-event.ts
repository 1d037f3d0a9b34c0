/**
 * Routing and durable acceptance of one parsed Linq event, shared by the live webhook ingest
 * (src/pipeline/linq-ingest.ts) and `linq-sync backfill` (src/backfill/), so that a replayed event goes
 * through exactly the same path as a live one:
 *
 * - `createEventRouter`: which route and connectors an event goes to (first matching route wins; contact
 *   events go to one route per CRM; a connector receives only the event types it declares).
 * - `acceptEvent`: stores the event and enqueues one job per target connector in ONE transaction, so
 *   "stored" and "queued" commit together or not at all. The primary key on `event_id` deduplicates.
 */
import type { ConnectorV1, ParsedLinqWebhookEvent } from "@linq-connect/core";
import type { RoutingConfig } from "../config/routing.ts";
import type { Database, SqlExecutor } from "../database/database-types.ts";
import { eventJobId, type JobQueue } from "../queue/index.ts";
import {
  connectorsForRoute,
  conversationKeyOfEvent,
  linqNumberOfEvent,
  routesForContactEvents,
  selectRoute,
} from "../routing/router.ts";
import type { EventStore } from "../store/event-store.ts";

export interface RoutingDecision {
  routeName: string | undefined;
  linqNumber: string | undefined;
  conversationKey: string | undefined;
  /** Connectors (by name) the event goes to, with the route each one runs under. */
  targets: { connector: string; routeName: string }[];
  skipReason: string | undefined;
}

export interface EventRouterDependencies {
  routing: RoutingConfig;
  eventStore: EventStore;
  connectors: ReadonlyMap<string, ConnectorV1>;
}

export type EventRouter = (event: ParsedLinqWebhookEvent) => Promise<RoutingDecision>;

export function createEventRouter(dependencies: EventRouterDependencies): EventRouter {
  return async function route(event) {
    const conversationKey = conversationKeyOfEvent(event);
    if (!event.known) {
      return {
        routeName: undefined,
        linqNumber: undefined,
        conversationKey,
        targets: [],
        skipReason: "unknown_event_type",
      };
    }
    const consumes = (connector: string) =>
      dependencies.connectors.get(connector)?.events.includes(event.event_type) === true;
    if (event.event_type.startsWith("contact.")) {
      const targets = routesForContactEvents(dependencies.routing).flatMap((contactRoute) =>
        connectorsForRoute(contactRoute)
          .filter(consumes)
          .map((connector) => ({ connector, routeName: contactRoute.name })),
      );
      return {
        routeName: targets[0]?.routeName,
        linqNumber: undefined,
        conversationKey,
        targets,
        skipReason: targets.length === 0 ? "no_connector_for_contacts" : undefined,
      };
    }
    let linqNumber = linqNumberOfEvent(event);
    if (linqNumber === undefined && conversationKey !== undefined) {
      // message.read carries no handles: the conversation's earlier events tell its Linq number.
      linqNumber = await dependencies.eventStore.findLinqNumberForConversation(conversationKey);
    }
    const matched = selectRoute(dependencies.routing, linqNumber);
    if (matched === undefined) {
      return {
        routeName: undefined,
        linqNumber,
        conversationKey,
        targets: [],
        skipReason: "no_matching_route",
      };
    }
    const targets = connectorsForRoute(matched)
      .filter(consumes)
      .map((connector) => ({ connector, routeName: matched.name }));
    return {
      routeName: matched.name,
      linqNumber,
      conversationKey,
      targets,
      skipReason: targets.length === 0 ? "no_connector_for_route" : undefined,
    };
  };
}

export interface AcceptEventDependencies {
  database: Database;
  eventStore: EventStore;
  queue: JobQueue;
}

export interface AcceptEventOptions {
  /**
   * - "new-events-only" (the webhook ingest): a known `event_id` changes nothing at all.
   * - "add-missing-deliveries" (backfill): a known `event_id` still gets a job for each target
   *   connector it has no delivery for yet (a backfill for a second connector replays events a first
   *   backfill recorded); a connector that already has a delivery gets nothing.
   * Default "new-events-only".
   */
  mode?: "new-events-only" | "add-missing-deliveries";
  /** Stamped on the job for the event-to-handler latency metric (default: now). */
  receivedAt?: number;
}

export interface AcceptEventResult {
  /** Whether the event was new (its row was inserted). */
  recorded: boolean;
  /** The connectors a job was enqueued for by this call. */
  enqueued: string[];
}

/**
 * Stores the event and enqueues its jobs in one transaction. Queues of the target connectors must be
 * ensured (`queue.ensureConnectorQueue`) beforehand: a job is sent inside the transaction.
 */
export async function acceptEvent(
  dependencies: AcceptEventDependencies,
  event: ParsedLinqWebhookEvent,
  decision: RoutingDecision,
  options: AcceptEventOptions = {},
): Promise<AcceptEventResult> {
  const mode = options.mode ?? "new-events-only";
  const receivedAt = options.receivedAt ?? Date.now();
  const { eventStore, queue } = dependencies;
  const enqueue = async (transaction: SqlExecutor, target: RoutingDecision["targets"][number]) => {
    await queue.enqueue(
      target.connector,
      {
        id: eventJobId(event.event_id, target.connector),
        kind: "linq-event",
        payload: { eventId: event.event_id, routeName: target.routeName, receivedAt },
        ...(decision.conversationKey === undefined ? {} : { orderingKey: decision.conversationKey }),
      },
      { executor: transaction },
    );
  };
  return dependencies.database.transaction(async (transaction) => {
    const recorded = await eventStore.recordEvent(transaction, {
      eventId: event.event_id,
      eventType: event.event_type,
      known: event.known,
      conversationKey: decision.conversationKey,
      linqNumber: decision.linqNumber,
      routeName: decision.routeName,
      status: decision.targets.length > 0 ? "queued" : "skipped",
      payload: event.raw,
      eventCreatedAt: event.created_at,
      skipReason: decision.skipReason,
    });
    if (decision.targets.length === 0) return { recorded: recorded.inserted, enqueued: [] };
    if (recorded.inserted) {
      await eventStore.recordDeliveries(
        transaction,
        event.event_id,
        decision.targets.map((target) => target.connector),
      );
      for (const target of decision.targets) await enqueue(transaction, target);
      return { recorded: true, enqueued: decision.targets.map((target) => target.connector) };
    }
    if (mode === "new-events-only") return { recorded: false, enqueued: [] };
    // A known event: only connectors without a delivery get a job. The delivery row (unique per event
    // and connector) decides, not the job id: pg-boss forgets completed jobs after its retention.
    const enqueued: string[] = [];
    for (const target of decision.targets) {
      const added = await eventStore.recordDeliveries(transaction, event.event_id, [target.connector]);
      if (added === 0) continue;
      await enqueue(transaction, target);
      enqueued.push(target.connector);
    }
    if (enqueued.length > 0) {
      // The event may have settled (processed, failed, skipped) before this delivery was added.
      await eventStore.setEventStatus(transaction, event.event_id, "queued", {
        ...(decision.routeName === undefined ? {} : { routeName: decision.routeName }),
        skipReason: null,
      });
    }
    return { recorded: false, enqueued };
  });
}
