/**
 * A small host for the connector's tests, with the semantics of the sync-service that matter here:
 *
 * - the store, logger and job runner of `@linq-connect/core/testing` (re-exported here);
 * - `startHarness`: the real HubSpot and Linq simulators, a webhook receiver for both (HubSpot →
 *   the connector's inbound route; Linq → parsed events into the runner), the connector (one or more
 *   replicas sharing the store) and `settle()` to wait until every webhook and job has finished.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
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
  createHubSpotConnector,
  type HubSpotConnector,
  type HubSpotConnectorOptions,
} from "./hubspot-connector.ts";
import type { HubSpotRouteSettingsInput } from "./settings.ts";
import { startHubSpotSimulator } from "./testing/hubspot-simulator.ts";
import type { HubSpotSimulator, HubSpotSimulatorOptions } from "./testing/simulator-types.ts";

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
  hubspot?: HubSpotSimulatorOptions;
  linq?: LinqSimulatorOptions;
  /** Route settings (the route's `hubspot` block plus contacts and activities). */
  route?: HubSpotRouteSettingsInput;
  connector?: Partial<HubSpotConnectorOptions>;
  replicas?: number;
  /** Deliver Linq webhooks to the runner (default true). */
  linqWebhooks?: boolean;
}

export interface Harness {
  hubspot: HubSpotSimulator;
  linqSimulator: LinqSimulator;
  linq: LinqClient;
  store: MemoryMappingStore;
  runner: JobRunner;
  connectors: HubSpotConnector[];
  connector: HubSpotConnector;
  logs: LogEntry[];
  route: RouteContext;
  receiverUrl: string;
  /** Every Linq event delivered to the receiver. */
  linqEvents: LinqWebhookEvent[];
  /** A context for direct calls (the harness route). */
  context(route?: RouteContext | undefined): ConnectorContext;
  /** Hands a Linq event to the runner as the host would (ordering key per conversation/contact). */
  dispatch(event: LinqWebhookEvent): void;
  /** Waits until every webhook of both simulators and every job has finished. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

function headerRecord(headers: IncomingHttpHeaders): Record<string, string | undefined> {
  const record: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers))
    record[name] = Array.isArray(value) ? value.join(", ") : value;
  return record;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const logs: LogEntry[] = [];
  const logger = memoryLogger(logs);
  const store = new MemoryMappingStore();
  const hubspot = await startHubSpotSimulator({
    clientSecret: "harness-client-secret",
    rateLimit: false,
    webhookDelivery: { retries: 2, retryDelayMs: 50, timeoutMs: 5_000 },
    ...options.hubspot,
  });
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
  const connectors: HubSpotConnector[] = [];
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
      void (async () => {
        try {
          if (url.startsWith("/webhooks/linq")) {
            const parsed = parseWebhookEvent(rawBody);
            if (parsed.known && options.linqWebhooks !== false) dispatch(parsed);
            response.writeHead(200).end();
            return;
          }
          if (url.startsWith("/webhooks/hubspot")) {
            const connector = connectors[0] as HubSpotConnector;
            const inbound = connector.inboundRoutes?.[0];
            if (inbound === undefined) throw new Error("no inbound route");
            const answer = await inbound.handle(
              { method: request.method ?? "POST", url, headers: headerRecord(request.headers), rawBody },
              runner.context(undefined),
            );
            response.writeHead(answer.status, answer.headers).end(answer.body);
            return;
          }
          response.writeHead(404).end();
        } catch (error) {
          logs.push({ level: "error", message: "harness receiver failed", fields: { error: String(error) } });
          if (!response.headersSent) response.writeHead(500).end();
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const receiverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  hubspot.webhooks.targetUrl = `${receiverUrl}/webhooks/hubspot`;
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
      createHubSpotConnector({
        accessToken: hubspot.accessToken,
        clientSecret: hubspot.clientSecret,
        baseUrl: hubspot.baseUrl,
        appId: hubspot.appId,
        reconciliationIntervalSeconds: false,
        maxRateLimitRetries: 10,
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
      await hubspot.webhooks.flush();
      await runner.idle();
      await new Promise((resolve) => setTimeout(resolve, 10));
      await linqSimulator.webhooks.flush();
      await hubspot.webhooks.flush();
      if (!runner.busy) return;
    }
    throw new Error("the harness did not settle");
  };
  return {
    hubspot,
    linqSimulator,
    linq,
    store,
    runner,
    connectors,
    connector: connectors[0] as HubSpotConnector,
    logs,
    route,
    receiverUrl,
    linqEvents,
    context: (contextRoute = route) => runner.context(contextRoute),
    dispatch,
    settle,
    close: async () => {
      abort.abort();
      for (const connector of connectors) await connector.close?.();
      await linq.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await hubspot.close();
      await linqSimulator.close();
    },
  };
}
