import type { ConnectorV1 } from "@linq-connect/core";
import { ConfigurationError } from "@linq-connect/core";
import type { Logger } from "pino";
import { startApplication } from "../application.ts";
import { type ServiceSettings, settingsSummary } from "../config/environment.ts";
import { loadRoutingConfig, routingCredentialProblems } from "../config/routing.ts";
import type { ServiceMetrics } from "../metrics.ts";
import { sandboxWalkthrough, startSandbox } from "../sandbox/sandbox.ts";

export interface ServeOptions {
  settings: ServiceSettings;
  logger: Logger;
  /** Writes the sandbox walkthrough (stdout by default). */
  print?: (text: string) => void;
  connectors?: readonly ConnectorV1[];
  metrics?: ServiceMetrics;
}

export interface ServeHandle {
  url: string;
  stop(): Promise<void>;
}

/**
 * `linq-sync serve`. With no LINQ_API_TOKEN: the sandbox on local simulators. With credentials: the
 * service on the configured database, never a simulator.
 */
export async function serve(options: ServeOptions): Promise<ServeHandle> {
  const { settings, logger } = options;
  const print = options.print ?? ((text: string) => process.stdout.write(text));
  logger.info({ settings: settingsSummary(settings) }, "starting linq-sync");
  const routing = await loadRoutingConfig({ settings });

  if (settings.mode === "sandbox") {
    const sandbox = await startSandbox({
      settings,
      routing,
      logger,
      ...(options.connectors === undefined ? {} : { connectors: options.connectors }),
    });
    for (const warning of sandbox.application.routing.warnings)
      logger.warn({ warning }, "routing configuration");
    print(sandboxWalkthrough(sandbox));
    return { url: sandbox.application.url, stop: () => sandbox.stop() };
  }

  for (const warning of routing.warnings) logger.warn({ warning }, "routing configuration");
  const problems = routingCredentialProblems(routing, settings);
  if (problems.length > 0) {
    throw new ConfigurationError(
      `The routing needs credentials that are not set:\n  - ${problems.join("\n  - ")}`,
    );
  }
  const application = await startApplication({
    settings,
    routing,
    logger,
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    ...(options.connectors === undefined ? {} : { connectors: options.connectors }),
  });
  logger.info(
    { url: application.url, routes: routing.routes.map((route) => route.name) },
    "linq-sync is running",
  );
  return { url: application.url, stop: () => application.stop() };
}
