/**
 * Runs the connectors' work from the queue: a Linq event routed to a connector, or a job the connector
 * enqueued itself (from its inbound traffic, a schedule or a backfill). Retries and dead-lettering are the
 * queue's: this only turns a job into a `handleEvent` / `handleJob` call with its context.
 */
import {
  type ConnectorContext,
  type ConnectorJobRequest,
  type ConnectorLogger,
  type ConnectorV1,
  type LinqClient,
  type MappingStore,
  parseWebhookEvent,
  UnexpectedResponseError,
} from "@linq-connect/core";
import type { Logger } from "pino";
import type { Route, RoutingConfig } from "../config/routing.ts";
import type { ServiceMetrics } from "../metrics.ts";
import { connectorJobId, type DeadLetterSink, type JobQueue, type QueueJob } from "../queue/index.ts";
import { type ConnectorName, routeContextFor } from "../routing/router.ts";
import type { DeadLetterStore } from "../store/dead-letter-store.ts";
import type { EventStore } from "../store/event-store.ts";

export interface ConnectorRunnerDependencies {
  connectors: ReadonlyMap<string, ConnectorV1>;
  routing: RoutingConfig;
  queue: JobQueue;
  eventStore: EventStore;
  mappingStore: MappingStore;
  linq: LinqClient;
  metrics: ServiceMetrics;
  logger: Logger;
  /** Aborted on shutdown. */
  signal: AbortSignal;
  concurrency: number;
}

export function createConnectorContext(
  dependencies: ConnectorRunnerDependencies,
  connector: string,
  route: Route | undefined,
  logger: ConnectorLogger,
  jobSignal?: AbortSignal,
): ConnectorContext {
  return {
    linq: dependencies.linq,
    store: dependencies.mappingStore,
    logger,
    ...(route === undefined || !isConnectorName(connector)
      ? {}
      : { route: routeContextFor(route, connector) }),
    // A job's attempt is aborted when it no longer owns the job (shutdown, expiry, reclaimed).
    signal: jobSignal === undefined ? dependencies.signal : AbortSignal.any([dependencies.signal, jobSignal]),
    enqueue: async (request: ConnectorJobRequest) => {
      await dependencies.queue.enqueue(connector, {
        ...(request.deduplicationKey === undefined
          ? {}
          : { id: connectorJobId(connector, request.deduplicationKey) }),
        kind: "connector-job",
        payload: { type: request.type, payload: request.payload, routeName: route?.name ?? null },
        ...(request.orderingKey === undefined ? {} : { orderingKey: request.orderingKey }),
        ...(request.runAt === undefined ? {} : { startAfter: request.runAt }),
      });
    },
  };
}

export async function startConnectorRunners(dependencies: ConnectorRunnerDependencies): Promise<void> {
  const { queue, metrics } = dependencies;
  queue.on("processed", ({ connector, durationMs }) => {
    metrics.jobsProcessed.inc({ connector });
    metrics.jobDuration.observe({ connector, outcome: "processed" }, durationMs / 1000);
  });
  queue.on("retried", ({ connector, durationMs }) => {
    metrics.jobsFailed.inc({ connector });
    metrics.jobsRetried.inc({ connector });
    metrics.jobDuration.observe({ connector, outcome: "retried" }, durationMs / 1000);
  });
  // The deliveries' outcomes are written in the same transactions that settle the jobs: "processed"
  // inside the job before it completes (runJob), "dead" by the dead-letter sink (deadLetterSinkFor).
  queue.on("dead", ({ connector, durationMs }) => {
    metrics.jobsFailed.inc({ connector });
    metrics.jobsDead.inc({ connector });
    metrics.jobDuration.observe({ connector, outcome: "dead" }, durationMs / 1000);
  });
  for (const [name, connector] of dependencies.connectors) {
    await queue.ensureConnectorQueue(name);
    await queue.work(name, (job) => runJob(dependencies, name, connector, job), {
      concurrency: dependencies.concurrency,
    });
  }
}

/**
 * The queue's dead-letter sink: the dead letter, and the event delivery marked dead, in the transaction
 * that settles the job — so neither can be lost between them.
 */
export function deadLetterSinkFor(deadLetters: DeadLetterStore, eventStore: EventStore): DeadLetterSink {
  return {
    async add(executor, entry) {
      await deadLetters.add(executor, entry);
      if (entry.jobKind === "linq-event" && typeof entry.payload.eventId === "string") {
        await eventStore.markDelivery(
          entry.payload.eventId,
          entry.connector,
          "dead",
          { attempts: entry.attempts, error: entry.error },
          executor,
        );
      }
    },
  };
}

export function serializeError(error: unknown): Record<string, unknown> {
  if (
    error !== null &&
    typeof error === "object" &&
    "toJSON" in error &&
    typeof error.toJSON === "function"
  ) {
    return error.toJSON() as Record<string, unknown>;
  }
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { message: String(error) };
}

async function runJob(
  dependencies: ConnectorRunnerDependencies,
  name: string,
  connector: ConnectorV1,
  job: QueueJob,
): Promise<void> {
  const routeName = typeof job.payload.routeName === "string" ? job.payload.routeName : undefined;
  const route = dependencies.routing.routes.find((candidate) => candidate.name === routeName);
  const logger = dependencies.logger.child({ connector: name, jobId: job.id, attempt: job.attempt });
  const context = createConnectorContext(
    dependencies,
    name,
    route,
    logger as unknown as ConnectorLogger,
    job.signal,
  );
  if (job.kind === "linq-event") {
    const eventId = String(job.payload.eventId);
    const stored = await dependencies.eventStore.getEvent(eventId);
    if (stored === undefined) {
      throw new UnexpectedResponseError(`Event ${eventId} is queued for ${name} but not stored`, {
        source: "internal",
      });
    }
    if (job.attempt === 1 && typeof job.payload.receivedAt === "number") {
      dependencies.metrics.eventToHandlerLatency.observe(
        { connector: name },
        Math.max(0, Date.now() - job.payload.receivedAt) / 1000,
      );
    }
    const event = parseWebhookEvent(stored.payload);
    if (event.known) await connector.handleEvent(event, context);
    // Before the job completes: a crash between the two re-runs the (idempotent) job; the mark is never lost.
    await dependencies.eventStore.markDelivery(eventId, name, "processed", { attempts: job.attempt });
    return;
  }
  if (connector.handleJob === undefined) {
    throw new UnexpectedResponseError(`Connector ${name} received a job but has no handleJob`, {
      source: "internal",
    });
  }
  await connector.handleJob(
    {
      id: job.id,
      type: String(job.payload.type),
      payload: (job.payload.payload ?? {}) as Record<string, unknown>,
      attempt: job.attempt,
    },
    context,
  );
}

function isConnectorName(name: string): name is ConnectorName {
  return name === "slack" || name === "hubspot" || name === "salesforce";
}
