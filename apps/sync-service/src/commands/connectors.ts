/**
 * The connectors this build of linq-sync runs, built from the settings and the routing. One hook for
 * every command that needs them (`serve` in production, `doctor` for their health checks, `backfill`
 * for the target connector), so a connector is configured the same way everywhere.
 *
 * A connector is created when a route uses it; its credentials must then be set (the routing check
 * `routingCredentialProblems` refuses to start otherwise). The HubSpot and Salesforce connectors join
 * with their own issues.
 */
import { ConfigurationError, type ConnectorLogger, type ConnectorV1 } from "@linq-connect/core";
import { createSlackConnector } from "@linq-connect/slack";
import type { Logger } from "pino";
import type { ServiceSettings } from "../config/environment.ts";
import type { RoutingConfig } from "../config/routing.ts";

export interface ConnectorFactoryOptions {
  routing: RoutingConfig;
  logger: Logger;
  /** Counts upstream requests in the service's metrics. */
  recordUpstream?: (service: string, status: number | undefined) => void;
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
  return connectors;
};
