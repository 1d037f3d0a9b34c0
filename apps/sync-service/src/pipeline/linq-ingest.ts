/**
 * The Linq webhook ingest: verify on the raw body before anything else, parse, route, then store the
 * event and enqueue one job per connector in ONE transaction, and acknowledge. The acknowledgement never
 * waits for Slack or a CRM. A duplicate `event_id` hits the primary key and is acknowledged with no
 * second effect.
 */
import {
  type ConnectorV1,
  handleLinqWebhook,
  type ParsedLinqWebhookEvent,
  type WebhookHeaders,
} from "@linq-connect/core";
import type { Logger } from "pino";
import type { RoutingConfig } from "../config/routing.ts";
import type { Database } from "../database/database-types.ts";
import type { ServiceMetrics } from "../metrics.ts";
import { eventJobId, type JobQueue } from "../queue/index.ts";
import {
  connectorsForRoute,
  conversationKeyOfEvent,
  linqNumberOfEvent,
  routesForContactEvents,
  selectRoute,
} from "../routing/router.ts";
import type { EventStore } from "../store/event-store.ts";

export interface LinqIngestDependencies {
  webhookSecret: string;
  additionalWebhookSecrets: readonly string[];
  maxEventAgeSeconds: number | undefined;
  routing: RoutingConfig;
  database: Database;
  eventStore: EventStore;
  queue: JobQueue;
  connectors: ReadonlyMap<string, ConnectorV1>;
  metrics: ServiceMetrics;
  logger: Logger;
}

export interface IngestResponse {
  status: number;
  body: Record<string, unknown>;
}

export interface RoutingDecision {
  routeName: string | undefined;
  linqNumber: string | undefined;
  conversationKey: string | undefined;
  /** Connectors (by name) the event goes to, with the route each one runs under. */
  targets: { connector: string; routeName: string }[];
  skipReason: string | undefined;
}

export function createLinqIngest(dependencies: LinqIngestDependencies) {
  const { metrics, logger } = dependencies;

  async function route(event: ParsedLinqWebhookEvent): Promise<RoutingDecision> {
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
  }

  return async function ingest(request: {
    rawBody: Buffer;
    headers: WebhookHeaders;
  }): Promise<IngestResponse> {
    const result = handleLinqWebhook({
      rawBody: request.rawBody,
      headers: request.headers,
      secret: dependencies.webhookSecret,
      additionalSecrets: dependencies.additionalWebhookSecrets,
      ...(dependencies.maxEventAgeSeconds === undefined
        ? {}
        : { maxEventAgeSeconds: dependencies.maxEventAgeSeconds }),
    });
    if (result.status === 401) {
      metrics.eventsRejected.inc({ source: "linq", reason: "signature" });
      logger.warn({ source: "linq", reason: result.error.message }, "webhook rejected: signature");
      return { status: 401, body: result.body };
    }
    if (result.status === 400) {
      metrics.eventsRejected.inc({ source: "linq", reason: "payload" });
      logger.warn(
        { source: "linq", issues: result.error.issues.slice(0, 5) },
        "webhook rejected: invalid payload",
      );
      return { status: 400, body: result.body };
    }
    const event = result.event;
    const decision = await route(event);
    const inserted = await dependencies.database.transaction(async (transaction) => {
      const recorded = await dependencies.eventStore.recordEvent(transaction, {
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
      if (!recorded.inserted || decision.targets.length === 0) return recorded.inserted;
      await dependencies.eventStore.recordDeliveries(
        transaction,
        event.event_id,
        decision.targets.map((target) => target.connector),
      );
      for (const target of decision.targets) {
        await dependencies.queue.enqueue(
          target.connector,
          {
            id: eventJobId(event.event_id, target.connector),
            kind: "linq-event",
            payload: { eventId: event.event_id, routeName: target.routeName, receivedAt: Date.now() },
            ...(decision.conversationKey === undefined ? {} : { orderingKey: decision.conversationKey }),
          },
          { executor: transaction },
        );
      }
      return true;
    });
    if (!inserted) {
      metrics.eventsDeduplicated.inc({ source: "linq" });
      logger.debug({ eventId: event.event_id }, "duplicate webhook acknowledged");
      return { status: 200, body: { received: true, duplicate: true } };
    }
    metrics.eventsReceived.inc({ source: "linq", event_type: event.known ? event.event_type : "unknown" });
    if (decision.skipReason !== undefined) metrics.eventsSkipped.inc({ reason: decision.skipReason });
    logger.info(
      {
        eventId: event.event_id,
        eventType: event.event_type,
        route: decision.routeName,
        connectors: decision.targets.map((target) => target.connector),
        skipReason: decision.skipReason,
      },
      "linq event accepted",
    );
    return { status: 200, body: { received: true } };
  };
}
