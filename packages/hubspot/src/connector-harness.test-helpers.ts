/**
 * A small host for the connector's tests, with the semantics of the sync-service that matter here:
 *
 * `startHarness`: the connector test host of `@linq-connect/core/testing` (Linq simulator, store, job
 * runner, webhook receiver; its pieces re-exported here), the real HubSpot simulator whose webhooks the
 * receiver hands to the connector's inbound route, the connector (one or more replicas sharing the
 * store); `settle()` also waits for HubSpot's webhooks.
 */
import {
  type ConnectorTestHost,
  type LinqSimulatorOptions,
  startConnectorTestHost,
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

export interface Harness extends Omit<ConnectorTestHost, "connectors"> {
  hubspot: HubSpotSimulator;
  connectors: HubSpotConnector[];
  connector: HubSpotConnector;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const hubspot = await startHubSpotSimulator({
    clientSecret: "harness-client-secret",
    rateLimit: false,
    webhookDelivery: { retries: 2, retryDelayMs: 50, timeoutMs: 5_000 },
    ...options.hubspot,
  });
  const host = await startConnectorTestHost({
    linq: options.linq,
    routeSettings: options.route,
    linqWebhooks: options.linqWebhooks,
    // HubSpot's webhooks go to the connector's inbound route, with no route (as the host does).
    receive: async (request, running) => {
      if (!request.url.startsWith("/webhooks/hubspot")) return undefined;
      const inbound = running.connectors[0]?.inboundRoutes?.[0];
      if (inbound === undefined) throw new Error("no inbound route");
      return inbound.handle(request, running.runner.context(undefined));
    },
    flush: () => hubspot.webhooks.flush(),
  });
  hubspot.webhooks.targetUrl = `${host.receiverUrl}/webhooks/hubspot`;
  const connectors = host.connectors as HubSpotConnector[];
  for (let index = 0; index < (options.replicas ?? 1); index += 1) {
    connectors.push(
      createHubSpotConnector({
        accessToken: hubspot.accessToken,
        clientSecret: hubspot.clientSecret,
        baseUrl: hubspot.baseUrl,
        appId: hubspot.appId,
        reconciliationIntervalSeconds: false,
        maxRateLimitRetries: 10,
        inboundRoute: host.route,
        timeoutMs: 5_000,
        logger: host.logger,
        ...options.connector,
      }),
    );
  }
  return {
    ...host,
    hubspot,
    connectors,
    connector: connectors[0] as HubSpotConnector,
    close: async () => {
      await host.close();
      await hubspot.close();
    },
  };
}
