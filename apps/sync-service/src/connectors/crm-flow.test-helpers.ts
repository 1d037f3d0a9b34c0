/**
 * Shared pieces of the CRM flow tests (HubSpot, Salesforce) through the service: the application on an
 * in-memory database with short queue timings, subscribed to the Linq simulator's webhooks, and a wait
 * until every upstream delivery and every job has finished.
 */
import { randomBytes } from "node:crypto";
import { type ConnectorV1, linqEventTypes } from "@linq-connect/core";
import { type LinqSimulator, startLinqSimulator } from "@linq-connect/core/testing";
import type { SalesforceSimulator } from "@linq-connect/salesforce/testing";
import type { Logger } from "pino";
import { type RunningApplication, startApplication } from "../application.ts";
import type { ServiceSettings } from "../config/environment.ts";
import type { RoutingConfig } from "../config/routing.ts";
import { openDatabase } from "../database/database.ts";
import { type LogLines, sleep } from "./slack-flow.test-helpers.ts";

/** The Linq simulator of a flow test: one Linq number, webhooks retried quickly. */
export function startFlowLinqSimulator(linqNumber: string): Promise<LinqSimulator> {
  return startLinqSimulator({
    token: `linq_${randomBytes(12).toString("hex")}`,
    phoneNumbers: [linqNumber],
    webhookDelivery: { retries: 3, retryDelayMs: 200 },
  });
}

/** The service on an in-memory database, its Linq webhook subscription created with `webhookSecret`. */
export async function startFlowApplication(options: {
  settings: ServiceSettings;
  routing: RoutingConfig;
  logger: Logger;
  connectors: readonly ConnectorV1[];
  webhookSecret: string;
}): Promise<RunningApplication> {
  const application = await startApplication({
    settings: options.settings,
    routing: options.routing,
    logger: options.logger,
    connectors: options.connectors,
    database: await openDatabase({ inMemory: true }),
    port: 0,
    queueOptions: { retryDelayMaxSeconds: 1, pollingIntervalSeconds: 0.5 },
  });
  await application.linq.createWebhookSubscription({
    webhook_url: `${application.url}/webhooks/linq`,
    events: [...linqEventTypes],
    secret: options.webhookSecret,
    active: true,
  });
  return application;
}

export async function stopFlowApplication(application: RunningApplication | undefined): Promise<void> {
  const database = application?.database;
  await application?.stop();
  await database?.close();
}

/**
 * Waits until `flush` (the simulators' webhook deliveries) has nothing left and no job is queued,
 * running or retrying, twice in a row.
 */
export async function settleFlow(
  application: RunningApplication,
  options: { flush: () => Promise<void>; logs: LogLines; timeoutMs?: number | undefined },
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const deadline = Date.now() + timeoutMs;
  let quietRounds = 0;
  while (quietRounds < 2) {
    if (Date.now() > deadline) {
      throw new Error(
        `The flow did not settle within ${timeoutMs} ms. Service warnings:\n${options.logs.tail()}`,
      );
    }
    await options.flush();
    const depth = await application.queue.depth();
    const busy = Object.values(depth).reduce(
      (total, entry) => total + entry.queued + entry.active + entry.retry,
      0,
    );
    quietRounds = busy === 0 ? quietRounds + 1 : 0;
    await sleep(busy === 0 ? 150 : 40);
  }
}

/** The SALESFORCE_* settings of a service signing in to `salesforce` with a refresh token. */
export function salesforceEnvironment(salesforce: SalesforceSimulator): NodeJS.ProcessEnv {
  return {
    SALESFORCE_INSTANCE_URL: salesforce.instanceUrl,
    SALESFORCE_LOGIN_URL: salesforce.loginUrl,
    SALESFORCE_ACCESS_TOKEN: salesforce.issueAccessToken(),
    SALESFORCE_REFRESH_TOKEN: salesforce.issueRefreshToken(),
    SALESFORCE_CLIENT_ID: salesforce.clientId,
    SALESFORCE_CLIENT_SECRET: salesforce.clientSecret,
  };
}
