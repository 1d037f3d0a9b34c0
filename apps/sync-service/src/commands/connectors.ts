/**
 * The connectors this build of linq-sync runs, built from the settings and the routing. One hook for
 * every command that needs them (`serve` in production, `doctor` for their health checks, `backfill`
 * for the target connector), so a connector is configured the same way everywhere.
 *
 * A connector is created when a route uses it; its credentials must then be set (the routing check
 * `routingCredentialProblems` refuses to start otherwise).
 */
import { ConfigurationError, type ConnectorLogger, type ConnectorV1 } from "@linq-connect/core";
import {
  createHubSpotConnector,
  type HubSpotConnector,
  validateHubSpotRouteSettings,
} from "@linq-connect/hubspot";
import {
  createSalesforceConnector,
  type SalesforceConnector,
  type SalesforceConnectorOptions,
  validateSalesforceRouteSettings,
} from "@linq-connect/salesforce";
import { createSlackConnector } from "@linq-connect/slack";
import type { Logger } from "pino";
import type { ServiceSettings } from "../config/environment.ts";
import type { RoutingConfig } from "../config/routing.ts";
import { routeContextFor } from "../routing/router.ts";

export interface ConnectorFactoryOptions {
  routing: RoutingConfig;
  logger: Logger;
  /** Counts upstream requests in the service's metrics. */
  recordUpstream?: (service: string, status: number | undefined) => void;
  /**
   * Salesforce connector options over those built from the settings (tests, hosts embedding the
   * service): e.g. `requestLimitRetrySeconds`, which has no environment variable.
   */
  salesforceOverrides?: Partial<SalesforceConnectorOptions>;
}

/** Builds the configured connectors; never starts work (the host does). */
export type CreateConnectors = (
  settings: ServiceSettings,
  options: ConnectorFactoryOptions,
) => Promise<readonly ConnectorV1[]>;

export const createConnectors: CreateConnectors = async (settings, options) => {
  const connectors: ConnectorV1[] = [];
  if (options.routing.routes.some((route) => route.slack !== undefined)) {
    const botToken = settings.slack.botToken;
    if (botToken === undefined) {
      throw new ConfigurationError("A route mirrors to Slack but SLACK_BOT_TOKEN is not set");
    }
    if (settings.slack.signingSecret === undefined && settings.slack.appToken === undefined) {
      throw new ConfigurationError(
        "Slack needs SLACK_SIGNING_SECRET (HTTP events at /slack/events) or SLACK_APP_TOKEN (Socket Mode)",
      );
    }
    connectors.push(
      createSlackConnector({
        botToken,
        ...(settings.slack.signingSecret === undefined
          ? {}
          : { signingSecret: settings.slack.signingSecret }),
        ...(settings.slack.appToken === undefined
          ? {}
          : { appToken: settings.slack.appToken, socketMode: true }),
        apiUrl: settings.slack.apiUrl,
        routes: options.routing.routes,
        logger: options.logger.child({ connector: "slack" }) as unknown as ConnectorLogger,
        onRequestComplete: (info) =>
          options.recordUpstream?.("slack", info.error?.status ?? (info.ok ? 200 : undefined)),
      }),
    );
  }
  if (options.routing.routes.some((route) => route.crm === "hubspot")) {
    connectors.push(createHubSpotConnectorFor(settings, options));
  }
  if (options.routing.routes.some((route) => route.crm === "salesforce")) {
    connectors.push(createSalesforceConnectorFor(settings, options));
  }
  return connectors;
};

/**
 * The HubSpot connector of the routes with `crm: hubspot`, from the HUBSPOT_* settings. Every such
 * route's `hubspot` block is validated first (a ConfigurationError naming the route). HubSpot webhooks
 * and the reconciliation carry no route: they follow the first HubSpot route that takes contacts from
 * HubSpot (`contacts: two-way` or `crm-to-linq`), and are off when none does.
 *
 * @throws ConfigurationError when HUBSPOT_ACCESS_TOKEN is not set or a route's HubSpot settings are invalid.
 */
export function createHubSpotConnectorFor(
  settings: ServiceSettings,
  options: ConnectorFactoryOptions,
): HubSpotConnector {
  const accessToken = settings.hubspot.accessToken;
  if (accessToken === undefined) {
    throw new ConfigurationError("A route uses HubSpot (crm: hubspot) but HUBSPOT_ACCESS_TOKEN is not set");
  }
  const hubSpotRoutes = options.routing.routes.filter((route) => route.crm === "hubspot");
  const routes = hubSpotRoutes.map((route) => routeContextFor(route, "hubspot"));
  // Throws a ConfigurationError naming the route and the setting.
  for (const route of routes) validateHubSpotRouteSettings(route);
  const inbound = hubSpotRoutes.find(
    (route) => route.contacts === "two-way" || route.contacts === "crm-to-linq",
  );
  return createHubSpotConnector({
    accessToken,
    clientSecret: settings.hubspot.clientSecret,
    baseUrl: settings.hubspot.baseUrl,
    appId: settings.hubspot.appId,
    webhookUrl: settings.hubspot.webhookUrl,
    inboundRoute: inbound === undefined ? null : routeContextFor(inbound, "hubspot"),
    routes,
    logger: options.logger.child({ connector: "hubspot" }) as unknown as ConnectorLogger,
    onRequestComplete: (info) => options.recordUpstream?.("hubspot", info.status),
  });
}

/** The connector's shortest polling interval (Salesforce's change tracking is not worth polling faster). */

/**
 * The Salesforce connector of the routes with `crm: salesforce`, from the SALESFORCE_* settings: the JWT
 * bearer flow when SALESFORCE_PRIVATE_KEY[_FILE] and SALESFORCE_USERNAME are set, else the refresh
 * token (with the access token, if any, as the first session), else the access token alone. Every such
 * route's `salesforce` block is validated first (a ConfigurationError naming the route). Polling
 * (Salesforce → Linq) carries no route: it follows the first Salesforce route that takes contacts from
 * Salesforce (`contacts: two-way` or `crm-to-linq`), and is off when none does.
 *
 * @throws ConfigurationError when no Salesforce credentials are set or a route's settings are invalid.
 */
export function createSalesforceConnectorFor(
  settings: ServiceSettings,
  options: ConnectorFactoryOptions,
): SalesforceConnector {
  const salesforce = settings.salesforce;
  const jwt =
    salesforce.privateKey !== undefined &&
    salesforce.username !== undefined &&
    salesforce.clientId !== undefined
      ? { clientId: salesforce.clientId, username: salesforce.username, privateKey: salesforce.privateKey }
      : undefined;
  if (jwt === undefined && salesforce.refreshToken === undefined && salesforce.accessToken === undefined) {
    throw new ConfigurationError(
      "A route uses Salesforce (crm: salesforce) but no Salesforce credentials are set: SALESFORCE_ACCESS_TOKEN (with SALESFORCE_INSTANCE_URL), SALESFORCE_REFRESH_TOKEN (with SALESFORCE_CLIENT_ID), or the JWT bearer flow (SALESFORCE_CLIENT_ID, SALESFORCE_USERNAME, SALESFORCE_PRIVATE_KEY[_FILE])",
    );
  }
  const salesforceRoutes = options.routing.routes.filter((route) => route.crm === "salesforce");
  const routes = salesforceRoutes.map((route) => routeContextFor(route, "salesforce"));
  // Throws a ConfigurationError naming the route and the setting.
  for (const route of routes) validateSalesforceRouteSettings(route);
  const inbound = salesforceRoutes.find(
    (route) => route.contacts === "two-way" || route.contacts === "crm-to-linq",
  );
  return createSalesforceConnector({
    instanceUrl: salesforce.instanceUrl,
    loginUrl: salesforce.loginUrl,
    ...(jwt === undefined
      ? {
          accessToken: salesforce.accessToken,
          refreshToken: salesforce.refreshToken,
          clientId: salesforce.clientId,
          clientSecret: salesforce.clientSecret,
        }
      : { jwt }),
    pollIntervalSeconds: salesforce.pollIntervalSeconds,
    apiVersion: salesforce.apiVersion,
    externalIdField: salesforce.externalIdField,
    slowDownAtShare: salesforce.slowDownAtShare,
    stopAtShare: salesforce.stopAtShare,
    requestLimitRetrySeconds: salesforce.requestLimitRetrySeconds,
    bulkThreshold: salesforce.bulkThreshold,
    inboundRoute: inbound === undefined ? null : routeContextFor(inbound, "salesforce"),
    routes,
    logger: options.logger.child({ connector: "salesforce" }) as unknown as ConnectorLogger,
    onRequestComplete: (info) => options.recordUpstream?.("salesforce", info.status),
    ...options.salesforceOverrides,
  });
}
