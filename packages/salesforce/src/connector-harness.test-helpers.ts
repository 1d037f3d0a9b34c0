/**
 * A small host for the connector's tests, with the semantics of the sync-service that matter here:
 *
 * `startHarness`: the connector test host of `@linq-connect/core/testing` (Linq simulator, store, job
 * runner, webhook receiver; its pieces re-exported here), the real Salesforce simulator, the connector
 * (one or more replicas sharing the store, jsforce with a refresh token), and `poll()` to run the
 * Salesforce poll now.
 */
import {
  type ConnectorTestHost,
  type LinqSimulatorOptions,
  startConnectorTestHost,
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

export interface Harness extends Omit<ConnectorTestHost, "connectors"> {
  salesforce: SalesforceSimulator;
  connectors: SalesforceConnector[];
  connector: SalesforceConnector;
  /** Runs the Salesforce poll now (as the schedule would, with no route) and waits for its jobs. */
  poll(): Promise<void>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const salesforce = await startSalesforceSimulator({ ...options.salesforce });
  const host = await startConnectorTestHost({
    linq: options.linq,
    routeSettings: options.route,
    linqWebhooks: options.linqWebhooks,
  });
  const connectors = host.connectors as SalesforceConnector[];
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
        inboundRoute: host.route,
        timeoutMs: 5_000,
        logger: host.logger,
        ...options.connector,
      }),
    );
  }
  return {
    ...host,
    salesforce,
    connectors,
    connector: connectors[0] as SalesforceConnector,
    poll: async () => {
      await (connectors[0] as SalesforceConnector).poll(host.runner.context(undefined));
      await host.settle();
    },
    close: async () => {
      await host.close();
      await salesforce.close();
    },
  };
}
