/**
 * A small host for the connector's tests, with the semantics of the sync-service that matter here:
 *
 * - the store, logger and job runner of `@linq-connect/core/testing` (re-exported here);
 * - `startHarness`: the real Salesforce and Linq simulators (jsforce with a refresh token against the
 *   former), a Linq webhook receiver (parsed events into the runner), the connector (one or more
 *   replicas sharing the store), `poll()` to run the Salesforce poll now, and `settle()` to wait until
 *   every webhook and job has finished.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type ConnectorContext,
  LinqClient,
  type LinqWebhookEvent,
  parseWebhookEvent,
  type RouteContext,
} from "@linq-connect/core";
import {
  JobRunner,
  type LinqSimulator,
  type LinqSimulatorOptions,
  type LogEntry,
  linqEventOrderingKey,
  MemoryMappingStore,
  memoryLogger,
  startLinqSimulator,
} from "@linq-connect/core/testing";

import {
  createSalesforceConnector,
  type SalesforceConnector,
  type SalesforceConnectorOptions,
} from "./salesforce-connector.ts";
import type { SalesforceRouteSettingsInput } from "./settings.ts";
import { startSalesforceSimulator } from "./testing/salesforce-simulator.ts";
import type { SalesforceSimulator, SalesforceSimulatorOptions } from "./testing/simulator-types.ts";

export {
  type DeadLetter,
  JobRunner,
  type LogEntry,
  linqEvent,
  MemoryMappingStore,
  memoryLogger,
} from "@linq-connect/core/testing";

// ------------------------------------------------------------------ harness

export interface HarnessOptions {
  salesforce?: SalesforceSimulatorOptions;
  linq?: LinqSimulatorOptions;
  /** Route settings (the route's `salesforce` block plus contacts and activities). */
  route?: SalesforceRouteSettingsInput & { contacts?: string; activities?: string };
  connector?: Partial<SalesforceConnectorOptions>;
  replicas?: number;
  /** Deliver Linq webhooks to the runner (default true). */
  linqWebhooks?: boolean;
}

export interface Harness {
  salesforce: SalesforceSimulator;
  linqSimulator: LinqSimulator;
  linq: LinqClient;
  store: MemoryMappingStore;
  runner: JobRunner;
  connectors: SalesforceConnector[];
  connector: SalesforceConnector;
  logs: LogEntry[];
  route: RouteContext;
  receiverUrl: string;
  /** Every Linq event delivered to the receiver. */
  linqEvents: LinqWebhookEvent[];
  /** A context for direct calls (the harness route). */
  context(route?: RouteContext | undefined): ConnectorContext;
  /** Hands a Linq event to the runner as the host would (ordering key per conversation/contact). */
  dispatch(event: LinqWebhookEvent): void;
  /** Runs the Salesforce poll now (as the schedule would, with no route) and waits for its jobs. */
  poll(): Promise<void>;
  /** Waits until every Linq webhook and every job has finished. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const logs: LogEntry[] = [];
  const logger = memoryLogger(logs);
  const store = new MemoryMappingStore();
  const salesforce = await startSalesforceSimulator({ ...options.salesforce });
  const linqSimulator = await startLinqSimulator({ phoneNumbers: ["+15550001111"], ...options.linq });
  const linq = new LinqClient({
    token: linqSimulator.token,
    baseUrl: linqSimulator.baseUrl,
    rateLimit: false,
    retry: { maxRetries: 2, initialDelayMs: 10, maxDelayMs: 50 },
  });
  const route: RouteContext = {
    name: "default",
    settings: { contacts: "two-way", activities: "per-message", ...options.route },
  };
  const connectors: SalesforceConnector[] = [];
  const abort = new AbortController();
  const runner = new JobRunner({
    connectors: () => connectors,
    contextFor: (contextRoute, enqueue) => ({
      linq,
      store,
      logger,
      ...(contextRoute === undefined ? {} : { route: contextRoute }),
      signal: abort.signal,
      enqueue,
    }),
  });
  const linqEvents: LinqWebhookEvent[] = [];
  const dispatch = (event: LinqWebhookEvent) => {
    linqEvents.push(event);
    runner.submit(
      { kind: "event", event, route },
      { orderingKey: linqEventOrderingKey(event), deduplicationKey: `event:${event.event_id}` },
    );
  };

  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const rawBody = Buffer.concat(chunks);
      const url = request.url ?? "/";
      try {
        if (url.startsWith("/webhooks/linq")) {
          const parsed = parseWebhookEvent(rawBody);
          if (parsed.known && options.linqWebhooks !== false) dispatch(parsed);
          response.writeHead(200).end();
          return;
        }
        response.writeHead(404).end();
      } catch (error) {
        logs.push({ level: "error", message: "harness receiver failed", fields: { error: String(error) } });
        if (!response.headersSent) response.writeHead(500).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const receiverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await linq.createWebhookSubscription({
    webhook_url: `${receiverUrl}/webhooks/linq`,
    events: [
      "contact.created",
      "contact.updated",
      "contact.deleted",
      "message.received",
      "message.sent",
      "call.completed",
    ],
    secret: "harness-linq-secret",
  });
  for (let index = 0; index < (options.replicas ?? 1); index += 1) {
    connectors.push(
      createSalesforceConnector({
        instanceUrl: salesforce.instanceUrl,
        loginUrl: salesforce.loginUrl,
        clientId: salesforce.clientId,
        clientSecret: salesforce.clientSecret,
        refreshToken: salesforce.issueRefreshToken(),
        accessToken: salesforce.issueAccessToken(),
        apiVersion: salesforce.apiVersion,
        pollIntervalSeconds: false,
        inboundRoute: route,
        timeoutMs: 5_000,
        logger,
        ...options.connector,
      }),
    );
  }
  const settle = async () => {
    for (let round = 0; round < 50; round += 1) {
      await linqSimulator.webhooks.flush();
      await runner.idle();
      await new Promise((resolve) => setTimeout(resolve, 10));
      await linqSimulator.webhooks.flush();
      if (!runner.busy) return;
    }
    throw new Error("the harness did not settle");
  };
  return {
    salesforce,
    linqSimulator,
    linq,
    store,
    runner,
    connectors,
    connector: connectors[0] as SalesforceConnector,
    logs,
    route,
    receiverUrl,
    linqEvents,
    context: (contextRoute = route) => runner.context(contextRoute),
    dispatch,
    poll: async () => {
      await (connectors[0] as SalesforceConnector).poll(runner.context(undefined));
      await settle();
    },
    settle,
    close: async () => {
      abort.abort();
      for (const connector of connectors) await connector.close?.();
      await linq.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await salesforce.close();
      await linqSimulator.close();
    },
  };
}
