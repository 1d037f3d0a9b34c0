/**
 * Composes the service: database (migrated under a lock), stores, the durable queue, the Linq client,
 * the connectors and their workers, schedules, and the HTTP server. `stop()` shuts down in order:
 * stop accepting, let in-flight jobs finish (or release them to be retried), close upstream clients,
 * close the database.
 */
import { assertConnector, type ConnectorV1, LinqClient, type MappingStore } from "@linq-connect/core";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { ServiceSettings } from "./config/environment.ts";
import type { RoutingConfig } from "./config/routing.ts";
import { openDatabase } from "./database/database.ts";
import type { Database } from "./database/database-types.ts";
import { migrate } from "./database/migrations.ts";
import { createHttpServer, type MountedInboundRoute } from "./http/server.ts";
import { ServiceMetrics } from "./metrics.ts";
import {
  type ConnectorRunnerDependencies,
  createConnectorContext,
  deadLetterSinkFor,
  startConnectorRunners,
} from "./pipeline/connector-runner.ts";
import { createLinqIngest } from "./pipeline/linq-ingest.ts";
import { startRetention } from "./pipeline/retention.ts";
import { startSchedules } from "./pipeline/schedules.ts";
import { createJobQueue, type JobQueue, type JobQueueOptions } from "./queue/index.ts";
import { createDeadLetterStore, type DeadLetterStore } from "./store/dead-letter-store.ts";
import { createEventStore, type EventStore } from "./store/event-store.ts";
import { createMappingStore } from "./store/mapping-store.ts";

export interface ApplicationOptions {
  settings: ServiceSettings;
  routing: RoutingConfig;
  logger: Logger;
  connectors?: readonly ConnectorV1[];
  /** Defaults to a client built from the settings. */
  linq?: LinqClient;
  /** Defaults to the settings' database. */
  database?: Database;
  /** Metrics shared with the connectors' request hooks; created here when absent. */
  metrics?: ServiceMetrics;
  /** Extra HTTP routes (the sandbox's controls). */
  register?: (server: FastifyInstance, application: ApplicationParts) => void | Promise<void>;
  /** Listen on this port instead of the settings' (0 picks a free one). */
  port?: number;
  /**
   * Queue timings beyond the settings (tests and benchmarks: short heartbeats and supervision so a
   * killed process's jobs are reclaimed in seconds).
   */
  queueOptions?: Pick<
    JobQueueOptions,
    | "heartbeatSeconds"
    | "superviseIntervalSeconds"
    | "pollingIntervalSeconds"
    | "expireInSeconds"
    | "retryDelayMaxSeconds"
    | "maxConnections"
  >;
}

export interface ApplicationParts {
  settings: ServiceSettings;
  routing: RoutingConfig;
  database: Database;
  queue: JobQueue;
  eventStore: EventStore;
  mappingStore: MappingStore;
  deadLetters: DeadLetterStore;
  metrics: ServiceMetrics;
  linq: LinqClient;
  connectors: ReadonlyMap<string, ConnectorV1>;
  logger: Logger;
}

export interface RunningApplication extends ApplicationParts {
  server: FastifyInstance;
  url: string;
  stop(): Promise<void>;
}

export async function startApplication(options: ApplicationOptions): Promise<RunningApplication> {
  const { settings, routing, logger } = options;
  const database =
    options.database ??
    (await openDatabase({ url: settings.database.url, dataDirectory: settings.database.dataDirectory }));
  const closers: (() => Promise<void>)[] = [];
  if (options.database === undefined) closers.push(() => database.close());
  try {
    const { applied } = await migrate(database, { logger });
    if (applied.length > 0) logger.info({ applied }, "database migrated");

    const eventStore = createEventStore(database);
    const mappingStore = createMappingStore(database);
    const deadLetters = createDeadLetterStore(database);
    const queue = createJobQueue({
      database,
      logger,
      deadLetters: deadLetterSinkFor(deadLetters, eventStore),
      retryLimit: settings.queue.retryLimit,
      retryDelaySeconds: settings.queue.retryDelaySeconds,
      ...options.queueOptions,
    });
    await queue.start();
    closers.unshift(() => queue.stop({ graceful: true, timeoutMs: settings.shutdownTimeoutSeconds * 1000 }));

    const metrics = options.metrics ?? new ServiceMetrics();
    metrics.setQueueDepthReader(() => queue.depth());
    const linq =
      options.linq ??
      new LinqClient({
        token: settings.linq.apiToken ?? "",
        baseUrl: settings.linq.apiBaseUrl,
        onRequestComplete: (info) => metrics.recordUpstream("linq", info.status),
      });
    if (options.linq === undefined) closers.push(() => linq.close());

    const connectors = new Map<string, ConnectorV1>();
    for (const connector of options.connectors ?? []) {
      assertConnector(connector);
      if (connectors.has(connector.name)) throw new TypeError(`Two connectors are named ${connector.name}`);
      connectors.set(connector.name, connector);
      if (connector.close !== undefined) closers.push(() => connector.close?.() ?? Promise.resolve());
    }

    const shutdown = new AbortController();
    const runnerDependencies: ConnectorRunnerDependencies = {
      connectors,
      routing,
      queue,
      eventStore,
      mappingStore,
      linq,
      metrics,
      logger,
      signal: shutdown.signal,
      concurrency: settings.queue.concurrency,
    };
    await startConnectorRunners(runnerDependencies);
    const stopSchedules = startSchedules({ ...runnerDependencies, database });
    const stopRetention = startRetention({ database, logger, retentionDays: settings.eventRetentionDays });
    for (const connector of connectors.values()) {
      await connector.start?.(
        createConnectorContext(
          runnerDependencies,
          connector.name,
          undefined,
          logger.child({ connector: connector.name }) as never,
        ),
      );
    }

    const ingest = createLinqIngest({
      webhookSecret: settings.linq.webhookSecret ?? "",
      additionalWebhookSecrets: settings.linq.previousWebhookSecrets,
      maxEventAgeSeconds: settings.webhooks.maxEventAgeSeconds,
      routing,
      database,
      eventStore,
      queue,
      connectors,
      metrics,
      logger,
    });
    const inboundRoutes: MountedInboundRoute[] = [...connectors.values()].flatMap((connector) =>
      (connector.inboundRoutes ?? []).map((route) => ({
        connector: connector.name,
        route,
        context: () =>
          createConnectorContext(
            runnerDependencies,
            connector.name,
            undefined,
            logger.child({ connector: connector.name }) as never,
          ),
      })),
    );
    const parts: ApplicationParts = {
      settings,
      routing,
      database,
      queue,
      eventStore,
      mappingStore,
      deadLetters,
      metrics,
      linq,
      connectors,
      logger,
    };
    const server = await createHttpServer({
      logger,
      metrics,
      maxBodyBytes: settings.webhooks.maxBodyBytes,
      ingestLinq: ingest,
      readiness: [
        { name: "database", check: () => database.ping() },
        { name: "queue", check: () => queue.ping() },
      ],
      inboundRoutes,
      ...(options.register === undefined
        ? {}
        : { register: (instance) => options.register?.(instance, parts) }),
    });
    await server.listen({ port: options.port ?? settings.server.port, host: settings.server.host });
    const address = server.server.address();
    const port = typeof address === "object" && address !== null ? address.port : settings.server.port;
    const url = `http://${settings.server.host === "0.0.0.0" ? "127.0.0.1" : settings.server.host}:${port}`;

    let stopping: Promise<void> | undefined;
    const stop = () => {
      stopping ??= (async () => {
        logger.info({}, "shutting down: no new requests");
        await server.close();
        stopSchedules();
        stopRetention();
        for (const close of closers) {
          try {
            await close();
          } catch (error) {
            logger.error({ message: (error as Error).message }, "error during shutdown");
          }
        }
        shutdown.abort();
        logger.info({}, "stopped");
      })();
      return stopping;
    };
    return { ...parts, server, url, stop };
  } catch (error) {
    for (const close of closers) await close().catch(() => undefined);
    throw error;
  }
}
