/**
 * `linq-sync config validate [--file path]` and `linq-sync config schema [--output path]`.
 *
 * validate: checks the environment settings and the routing file (the explicit path, else
 * SYNC_CONFIG, else ./linq-sync.yaml or the default route from the environment), prints the routes as
 * a table and the warnings, and exits 1 listing every problem (file, path in it, what is wrong, line)
 * when something is invalid: the same checks `serve` makes before it starts.
 */
import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { ConfigurationError } from "@linq-connect/core";
import { InvalidSettingsError, loadSettings, type ServiceSettings } from "../config/environment.ts";
import {
  formatRoutingProblem,
  loadRoutingConfig,
  type RoutingConfig,
  RoutingConfigurationError,
  type RoutingSettings,
  routingCredentialProblems,
  routingJsonSchema,
} from "../config/routing.ts";
import { renderTable } from "../terminal/table.ts";
import { type CommandContext, outputWidth, plural, printError, printLine } from "./command-context.ts";

export interface ConfigValidateOptions {
  /** The routing file to check instead of SYNC_CONFIG / ./linq-sync.yaml. */
  file?: string | undefined;
}

/** The routing settings when the environment is invalid: enough to find and check the file. */
function fallbackRoutingSettings(environment: NodeJS.ProcessEnv): RoutingSettings {
  const configured = environment.SYNC_CONFIG?.trim();
  return {
    routingFile: {
      path: configured === undefined || configured === "" ? "./linq-sync.yaml" : configured,
      isExplicit: configured !== undefined && configured !== "",
    },
    slack: { defaultChannel: undefined },
    crmProvider: "none",
  };
}

export function routesTable(routing: RoutingConfig, width: number): string {
  return renderTable(
    [
      { header: "route" },
      { header: "Linq numbers", overflow: "wrap" },
      { header: "Slack channel" },
      { header: "CRM" },
      { header: "contacts" },
      { header: "activities" },
    ],
    routing.routes.map((route) => [
      route.name,
      route.match.linqNumbers.length === 0 ? "every number" : route.match.linqNumbers.join(", "),
      route.slack === undefined
        ? "none"
        : `${route.slack.channel}${route.slack.mode === "alerts-only" ? " (alerts only)" : ""}`,
      route.crm,
      route.contacts,
      route.activities,
    ]),
    { maxWidth: width },
  );
}

export async function runConfigValidate(
  context: CommandContext,
  options: ConfigValidateOptions = {},
): Promise<number> {
  let problems = 0;
  let settings: ServiceSettings | undefined;
  try {
    settings = loadSettings(context.environment);
    printLine(
      context,
      `settings: valid (${settings.mode === "sandbox" ? "sandbox mode: no LINQ_API_TOKEN" : "production mode"})`,
    );
  } catch (error) {
    if (!(error instanceof InvalidSettingsError)) throw error;
    problems += error.problems.length;
    printError(context, `settings: ${plural(error.problems.length, "problem")}`);
    for (const problem of error.problems) printError(context, `  ${problem.variable}: ${problem.message}`);
  }

  const routingSettings = settings ?? fallbackRoutingSettings(context.environment);
  let routing: RoutingConfig | undefined;
  try {
    routing = await loadRoutingConfig({
      settings: routingSettings,
      environment: context.environment,
      ...(options.file === undefined ? {} : { path: options.file }),
    });
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    const routingProblems =
      error instanceof RoutingConfigurationError
        ? error.problems.map((problem) => formatRoutingProblem(error.fileName, problem))
        : [error.message];
    problems += routingProblems.length;
    printError(context, `routing: ${plural(routingProblems.length, "problem")}`);
    for (const line of routingProblems) printError(context, `  ${line}`);
  }

  if (routing !== undefined) {
    const source =
      routing.source === "file"
        ? `routing file ${routing.fileName ?? routingSettings.routingFile.path}`
        : `no routing file at ${options.file ?? routingSettings.routingFile.path}: one default route from SLACK_DEFAULT_CHANNEL and CRM_PROVIDER`;
    printLine(context, source);
    printLine(
      context,
      `${plural(routing.routes.length, "route")} (the first route matching a conversation's Linq number handles it):`,
    );
    printLine(context);
    printLine(context, routesTable(routing, outputWidth(context.stdout)));
    if (routing.warnings.length > 0) {
      printLine(context);
      for (const warning of routing.warnings) printLine(context, `warning: ${warning}`);
    }
    if (settings !== undefined) {
      const missing = routingCredentialProblems(routing, settings);
      if (missing.length > 0) {
        problems += missing.length;
        printError(
          context,
          `credentials: ${plural(missing.length, "problem")} (the service refuses to start)`,
        );
        for (const line of missing) printError(context, `  ${line}`);
      }
    }
  }

  printLine(context);
  if (problems > 0) {
    printError(context, `invalid: ${plural(problems, "problem")}; the service would refuse to start`);
    return 1;
  }
  printLine(context, "valid: the service can start with this configuration");
  return 0;
}

export interface ConfigSchemaOptions {
  /** Write the schema to this file instead of stdout. */
  output?: string | undefined;
}

/** Prints (or writes) the JSON Schema of the routing file, for editors. */
export async function runConfigSchema(
  context: CommandContext,
  options: ConfigSchemaOptions = {},
): Promise<number> {
  const text = `${JSON.stringify(routingJsonSchema(), null, 2)}\n`;
  if (options.output === undefined) {
    context.stdout.write(text);
    if (context.stdout.isTTY === true) {
      printError(
        context,
        "The repository publishes this schema as apps/sync-service/linq-sync.schema.json; point your editor at it " +
          "with a first line `# yaml-language-server: $schema=./linq-sync.schema.json` in linq-sync.yaml.",
      );
    }
    return 0;
  }
  const path = resolve(options.output);
  await writeFile(path, text);
  printLine(context, `wrote the routing file's JSON Schema to ${path}`);
  printLine(
    context,
    "reference it from linq-sync.yaml with a first line: # yaml-language-server: $schema=<path>",
  );
  return 0;
}
