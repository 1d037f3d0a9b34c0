/**
 * The Linq webhook ingest: verify on the raw body before anything else, parse, route, then store the
 * event and enqueue one job per connector in ONE transaction, and acknowledge. The acknowledgement never
 * waits for Slack or a CRM. A duplicate `event_id` hits the primary key and is acknowledged with no
 * second effect.
 */
import { type ConnectorV1, handleLinqWebhook, type WebhookHeaders } from "@linq-connect/core";
import type { Logger } from "pino";
import type { RoutingConfig } from "../config/routing.ts";
import type { Database } from "../database/database-types.ts";
import type { ServiceMetrics } from "../metrics.ts";
import type { JobQueue } from "../queue/index.ts";
import type { EventStore } from "../store/event-store.ts";
import { acceptEvent, createEventRouter } from "./accept-event.ts";

export type { RoutingDecision } from "./accept-event.ts";

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

export function createLinqIngest(dependencies: LinqIngestDependencies) {
  const { metrics, logger } = dependencies;
  const route = createEventRouter(dependencies);

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
    const { recorded: inserted } = await acceptEvent(dependencies, event, decision);
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
