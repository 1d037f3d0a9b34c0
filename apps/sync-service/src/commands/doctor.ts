/**
 * `linq-sync doctor`: checks what the service depends on and prints one table (check, status, detail,
 * fix). Every failure says what to do about it. Exit code 1 when a check failed; warnings (things
 * that work but deserve a look) do not fail it.
 *
 * Doctor changes nothing: it does not create the embedded database, apply migrations, install the
 * queue's schema or touch the webhook subscription; it says which command does.
 */

import {
  AuthenticationError,
  ConfigurationError,
  type ConnectorContext,
  type ConnectorLogger,
  type ConnectorV1,
  isLinqConnectError,
  LinqClient,
  type MappingStore,
  NetworkError,
  PermissionError,
  RateLimitError,
  ServerError,
  TimeoutError,
  tryNormalizePhoneNumber,
  type WebhookSubscription,
} from "@linq-connect/core";
import type { Logger } from "pino";
import { InvalidSettingsError, loadSettings, type ServiceSettings } from "../config/environment.ts";
import {
  formatRoutingProblem,
  loadRoutingConfig,
  type RoutingConfig,
  RoutingConfigurationError,
  routingCredentialProblems,
} from "../config/routing.ts";
import { DataDirectoryInUseError } from "../database/data-directory-lock.ts";
import { openDatabase } from "../database/database.ts";
import type { Database } from "../database/database-types.ts";
import { appliedMigrationVersions, migrations } from "../database/migrations.ts";
import { connectorQueuePrefix, queueSchema } from "../queue/index.ts";
import { connectorsForRoute } from "../routing/router.ts";
import { createDeadLetterStore } from "../store/dead-letter-store.ts";
import { createMappingStore } from "../store/mapping-store.ts";
import { renderTable } from "../terminal/table.ts";
import {
  type CommandContext,
  commandLogger,
  databaseLocation,
  embeddedDatabaseExists,
  outputWidth,
  plural,
  printLine,
} from "./command-context.ts";
import {
  linqWebhookUrl,
  missingEventTypes,
  nearMatches,
  subscribedEventTypes,
  subscriptionsFor,
} from "./webhook-subscription.ts";

export type CheckStatus = "ok" | "warn" | "fail" | "skip";

export interface DoctorCheck {
  name: string;
  status: CheckStatus;
  detail: string;
  /** What to do; every failure has one. */
  fix?: string | undefined;
}

export interface DoctorReport {
  checks: DoctorCheck[];
  failed: number;
  warnings: number;
}

export interface DoctorOptions {
  /** How long the PUBLIC_URL reachability probe waits. Default 5 000 ms. */
  publicUrlTimeoutMs?: number | undefined;
}

export const statusSymbols: Record<CheckStatus, string> = { ok: "✓", warn: "!", fail: "✗", skip: "–" };

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A failure of a Linq call as a check: what happened and the concrete fix. */
export function linqFailure(name: string, error: unknown, baseUrl: string): DoctorCheck {
  if (error instanceof AuthenticationError) {
    return {
      name,
      status: "fail",
      detail: `the token was rejected by ${baseUrl} (401)`,
      fix: "the token was rejected: ask your Linq representative for a new one and set LINQ_API_TOKEN",
    };
  }
  if (error instanceof PermissionError) {
    return {
      name,
      status: "fail",
      detail: `the token is not allowed to do this (403): ${error.message}`,
      fix: "ask your Linq representative to grant this integration token access to the Partner API v2",
    };
  }
  if (error instanceof NetworkError || error instanceof TimeoutError) {
    return {
      name,
      status: "fail",
      detail: `cannot reach ${baseUrl}: ${error.message}`,
      fix: "check LINQ_API_BASE_URL (default https://api.linqapp.com), DNS, firewall and proxy settings",
    };
  }
  if (error instanceof RateLimitError) {
    return {
      name,
      status: "warn",
      detail: `rate limited by Linq${error.retryAfter === undefined ? "" : ` (retry after ${error.retryAfter} s)`}`,
      fix: "run `linq-sync doctor` again in a minute; lower the service's traffic if it keeps happening",
    };
  }
  if (error instanceof ServerError) {
    return {
      name,
      status: "fail",
      detail: `Linq answered ${error.status ?? "5xx"}: ${error.message}`,
      fix: "Linq may be having an outage: try again later; contact Linq support if it lasts",
    };
  }
  return {
    name,
    status: "fail",
    detail: isLinqConnectError(error) ? `${error.code}: ${error.message}` : errorText(error),
    fix: "check LINQ_API_BASE_URL and LINQ_API_TOKEN; contact Linq support with this message if it persists",
  };
}

interface DatabaseInspection {
  checks: DoctorCheck[];
  database: Database | undefined;
  close(): Promise<void>;
}

async function inspectDatabase(
  context: CommandContext,
  settings: ServiceSettings,
): Promise<DatabaseInspection> {
  const location = databaseLocation(settings);
  const checks: DoctorCheck[] = [];
  const skipRest = (reason: string) => {
    checks.push({ name: "migrations", status: "skip", detail: reason });
    checks.push({ name: "job queue", status: "skip", detail: reason });
  };
  let database = context.database;
  let owned = false;
  if (database === undefined) {
    if (location.url === undefined && !embeddedDatabaseExists(location)) {
      checks.push({
        name: "database",
        status: "warn",
        detail: `${location.description} does not exist yet`,
        fix: "`linq-sync serve` creates it at its first start (check LINQ_SYNC_DATA_DIR if you expected one)",
      });
      skipRest("no database yet");
      return { checks, database: undefined, close: async () => {} };
    }
    try {
      database = await openDatabase({ url: location.url, dataDirectory: location.dataDirectory });
      owned = true;
    } catch (error) {
      const message = errorText(error);
      if (location.url === undefined && findCause(error, DataDirectoryInUseError)) {
        checks.push({
          name: "database",
          status: "warn",
          detail: `${location.description} is open in a running linq-sync process: ${message}`,
          fix: "the embedded database allows one process: stop the service to let doctor inspect it, or use DATABASE_URL (PostgreSQL) so that commands can share it with the service",
        });
      } else {
        checks.push({
          name: "database",
          status: "fail",
          // The PostgreSQL errors already name the (redacted) URL.
          detail: location.url === undefined ? `cannot open ${location.description}: ${message}` : message,
          fix:
            location.url === undefined
              ? "check that LINQ_SYNC_DATA_DIR is a writable directory on a local disk"
              : "check that PostgreSQL is running and reachable and that DATABASE_URL (host, port, user, password, database name) is right",
        });
      }
      skipRest("the database is not available");
      return { checks, database: undefined, close: async () => {} };
    }
  }
  const opened = database;
  const close = owned ? () => opened.close() : async () => {};
  try {
    await opened.ping();
    checks.push({ name: "database", status: "ok", detail: `${location.description}: reachable` });
  } catch (error) {
    checks.push({
      name: "database",
      status: "fail",
      detail: `${location.description} does not answer: ${errorText(error)}`,
      fix: "check that the database server is running and reachable from here",
    });
    skipRest("the database does not answer");
    return { checks, database: undefined, close };
  }

  const latest = Math.max(0, ...migrations.map((migration) => migration.version));
  const hasTable = async (name: string) => {
    const { rows } = await opened.query<{ present: boolean }>(
      "SELECT to_regclass($1) IS NOT NULL AS present",
      [name],
    );
    return rows[0]?.present === true;
  };
  let migrated = false;
  if (!(await hasTable("schema_migrations"))) {
    checks.push({
      name: "migrations",
      status: "warn",
      detail: `none applied yet (this release has ${plural(migrations.length, "migration")})`,
      fix: "`linq-sync serve` applies them at start-up (under a lock, safe with several replicas)",
    });
  } else {
    const applied = await appliedMigrationVersions(opened);
    const known = new Set(migrations.map((migration) => migration.version));
    const unknown = applied.filter((version) => !known.has(version));
    const pending = migrations.filter((migration) => !applied.includes(migration.version));
    if (unknown.length > 0) {
      checks.push({
        name: "migrations",
        status: "fail",
        detail: `the database has version ${Math.max(...applied)}, newer than this release knows (${latest})`,
        fix: "run the newer release of linq-sync that migrated it, or point DATABASE_URL / LINQ_SYNC_DATA_DIR at another database",
      });
    } else if (pending.length > 0) {
      checks.push({
        name: "migrations",
        status: "warn",
        detail: `${plural(pending.length, "migration")} pending (at ${Math.max(0, ...applied)}, this release has ${latest})`,
        fix: "`linq-sync serve` applies them at start-up",
      });
    } else {
      migrated = true;
      checks.push({ name: "migrations", status: "ok", detail: `current (version ${latest})` });
    }
  }

  if (!(await hasTable(`${queueSchema}.job`))) {
    checks.push({
      name: "job queue",
      status: "warn",
      detail: `the queue's schema (${queueSchema}) is not installed yet`,
      fix: "`linq-sync serve` installs it at start-up",
    });
  } else {
    const { rows } = await opened.query<{ state: string; count: number }>(
      `SELECT state::text AS state, count(*)::integer AS count FROM ${queueSchema}.job
       WHERE starts_with(name, $1) AND state IN ('created', 'retry', 'active') GROUP BY state`,
      [connectorQueuePrefix],
    );
    const count = (state: string) => Number(rows.find((row) => row.state === state)?.count ?? 0);
    checks.push({
      name: "job queue",
      status: "ok",
      detail: `reachable: ${count("created")} queued, ${count("active")} running, ${count("retry")} waiting to retry`,
    });
  }
  if (migrated) {
    const dead = await createDeadLetterStore(opened).count();
    checks.push(
      dead === 0
        ? { name: "dead letters", status: "ok", detail: "none" }
        : {
            name: "dead letters",
            status: "warn",
            detail: `${plural(dead, "job")} failed for good and wait in the dead-letter queue`,
            fix: "inspect them with `linq-sync dlq list` / `dlq show <id>`; after fixing the cause, `linq-sync dlq replay --all`",
          },
    );
  }
  return { checks, database: opened, close };
}

function describeSubscription(subscription: WebhookSubscription): string {
  const delivered =
    subscription.last_delivered_at === undefined || subscription.last_delivered_at === null
      ? "nothing delivered yet"
      : `last delivery ${subscription.last_delivered_at}`;
  return `subscription ${subscription.id}: active, all ${subscribedEventTypes.length} events, signing secret set (${delivered})`;
}

async function checkLinq(
  settings: ServiceSettings,
  routing: RoutingConfig | undefined,
  linq: LinqClient,
  signal: AbortSignal | undefined,
): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const baseUrl = settings.linq.apiBaseUrl;
  const requestOptions = signal === undefined ? {} : { signal };
  let organisationNumbers: string[];
  try {
    const numbers = await linq.listPhoneNumbers(requestOptions);
    organisationNumbers = numbers.flatMap((number) => {
      const normalized =
        number.phone_number === undefined ? undefined : tryNormalizePhoneNumber(number.phone_number);
      return normalized === undefined ? [] : [normalized];
    });
  } catch (error) {
    checks.push(linqFailure("Linq API", error, baseUrl));
    checks.push({ name: "Linq numbers", status: "skip", detail: "the Linq API check failed" });
    checks.push({ name: "Linq webhook subscription", status: "skip", detail: "the Linq API check failed" });
    return checks;
  }
  checks.push({
    name: "Linq API",
    status: "ok",
    detail: `${baseUrl} reachable, token accepted; ${plural(organisationNumbers.length, "number")}: ${organisationNumbers.join(", ") || "none"}`,
  });

  // The routed numbers must be the organisation's; the organisation's numbers should be routed.
  if (organisationNumbers.length === 0) {
    checks.push({
      name: "Linq numbers",
      status: "warn",
      detail: "the organisation has no Linq number: nothing will be received",
      fix: "ask your Linq representative to provision a number",
    });
  } else if (routing !== undefined) {
    const owned = new Set(organisationNumbers);
    const foreign: string[] = [];
    routing.routes.forEach((route, index) => {
      for (const number of route.match.linqNumbers) {
        if (!owned.has(number))
          foreign.push(`route ${JSON.stringify(route.name)} (routes[${index}]): ${number}`);
      }
    });
    if (foreign.length > 0) {
      checks.push({
        name: "Linq numbers",
        status: "fail",
        detail: `not numbers of your organisation: ${foreign.join("; ")}`,
        fix: `correct match.linqNumbers in ${routing.fileName ?? "the routing file"}; your numbers are ${organisationNumbers.join(", ")}`,
      });
    } else {
      const catchAll = routing.routes.some((route) => route.match.linqNumbers.length === 0);
      const unrouted = catchAll
        ? []
        : organisationNumbers.filter(
            (number) => !routing.routes.some((route) => route.match.linqNumbers.includes(number)),
          );
      checks.push(
        unrouted.length === 0
          ? {
              name: "Linq numbers",
              status: "ok",
              detail: "every routed number belongs to your organisation, every number has a route",
            }
          : {
              name: "Linq numbers",
              status: "warn",
              detail: `no route matches ${unrouted.join(", ")}: their conversations are recorded and skipped`,
              fix: `add ${unrouted.length === 1 ? "it" : "them"} to a route in ${routing.fileName ?? "the routing file"}, or add a last route without match`,
            },
      );
    }
  }

  const name = "Linq webhook subscription";
  if (settings.server.publicUrl === undefined) {
    checks.push({
      name,
      status: "fail",
      detail: "PUBLIC_URL is not set, so the subscription cannot be checked (Linq needs a URL to deliver to)",
      fix: "set PUBLIC_URL to the service's public https URL, then run `linq-sync subscribe`",
    });
    return checks;
  }
  const url = linqWebhookUrl(settings.server.publicUrl);
  let subscriptions: WebhookSubscription[];
  try {
    subscriptions = await linq.listWebhookSubscriptions(requestOptions);
  } catch (error) {
    checks.push(linqFailure(name, error, baseUrl));
    return checks;
  }
  const matching = subscriptionsFor(subscriptions, url);
  const kept = matching[0];
  if (kept === undefined) {
    const near = nearMatches(subscriptions, url);
    checks.push({
      name,
      status: "fail",
      detail: `no subscription delivers to ${url}${near.length > 0 ? ` (${near.map((entry) => `${entry.id}: ${entry.webhook_url}`).join(", ")} look similar)` : ""}`,
      fix: "run `linq-sync subscribe`",
    });
    return checks;
  }
  const problems: string[] = [];
  if (kept.active !== true) problems.push("it is inactive");
  if (kept.secret_configured !== true)
    problems.push("it has no signing secret (the service rejects unsigned webhooks)");
  const missing = missingEventTypes(kept);
  if (missing.length > 0) problems.push(`it lacks the events ${missing.join(", ")}`);
  checks.push(
    problems.length === 0
      ? {
          name,
          status: "ok",
          detail: `${describeSubscription(kept)}; if webhooks get 401, run \`linq-sync subscribe\` to re-send LINQ_WEBHOOK_SECRET`,
        }
      : {
          name,
          status: "fail",
          detail: `subscription ${kept.id} for ${url}: ${problems.join("; ")}`,
          fix: "run `linq-sync subscribe` (it updates the subscription in place)",
        },
  );
  if (matching.length > 1) {
    checks.push({
      name: "duplicate subscriptions",
      status: "warn",
      detail: `${plural(matching.length - 1, "more subscription")} for ${url} (${matching
        .slice(1)
        .map((entry) => entry.id)
        .join(", ")}): every event is delivered once per subscription`,
      fix: "run `linq-sync subscribe --remove-duplicates`",
    });
  }
  return checks;
}

async function checkPublicUrl(publicUrl: string, timeoutMs: number): Promise<DoctorCheck> {
  const url = `${publicUrl}/healthz`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
    await response.body?.cancel();
    if (response.status === 200) return { name: "public URL", status: "ok", detail: `${url} answered 200` };
    return {
      name: "public URL",
      status: "warn",
      detail: `${url} answered ${response.status}`,
      fix: "PUBLIC_URL must reach this service (a proxy or load balancer in front must pass /webhooks/linq through)",
    };
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    return {
      name: "public URL",
      status: "warn",
      detail: `${url} is not reachable from here: ${cause instanceof Error ? cause.message : errorText(error)}`,
      fix: "start the service (`linq-sync serve`) and make sure PUBLIC_URL reaches it; Linq delivers webhooks there",
    };
  }
}

function unavailableStore(reason: string): MappingStore {
  const fail = async (): Promise<never> => {
    throw new ConfigurationError(`The mapping store is unavailable during \`linq-sync doctor\`: ${reason}`);
  };
  return {
    findByLinqId: fail,
    findByExternalId: fail,
    insertMapping: fail,
    updateMetadata: fail,
    deleteMapping: fail,
    getCursor: fail,
    setCursor: fail,
    withLock: fail,
  };
}

async function checkConnectors(
  connectors: readonly ConnectorV1[],
  routing: RoutingConfig | undefined,
  parts: { linq: LinqClient; database: Database | undefined; logger: Logger; signal: AbortSignal },
): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const names = new Set(connectors.map((connector) => connector.name));
  if (routing !== undefined) {
    const missing = new Map<string, string[]>();
    for (const route of routing.routes) {
      for (const connector of connectorsForRoute(route)) {
        if (!names.has(connector)) missing.set(connector, [...(missing.get(connector) ?? []), route.name]);
      }
    }
    for (const [connector, routes] of missing) {
      checks.push({
        name: `${connector} connector`,
        status: "warn",
        detail: `route ${routes.map((route) => JSON.stringify(route)).join(", ")} sends to ${connector}, but no ${connector} connector is configured: those events are recorded and skipped`,
        fix: `configure the ${connector} connector (its credentials, see the README), or remove ${connector} from the route`,
      });
    }
  }
  for (const connector of connectors) {
    if (connector.checkHealth === undefined) {
      checks.push({ name: `${connector.name} connector`, status: "skip", detail: "has no health check" });
      continue;
    }
    const logger = parts.logger.child({ connector: connector.name });
    const context: ConnectorContext = {
      linq: parts.linq,
      store:
        parts.database === undefined
          ? unavailableStore("the database is not available")
          : createMappingStore(parts.database),
      logger: logger as unknown as ConnectorLogger,
      signal: parts.signal,
      enqueue: async () => {
        throw new ConfigurationError("A health check must not enqueue work");
      },
    };
    try {
      const results = await connector.checkHealth(context);
      for (const result of results) {
        checks.push({
          name: `${connector.name}: ${result.name}`,
          status: result.ok ? "ok" : "fail",
          detail: result.detail,
          fix: result.ok ? undefined : (result.fix ?? `see the ${connector.name} connector's documentation`),
        });
      }
    } catch (error) {
      checks.push({
        name: `${connector.name} connector`,
        status: "fail",
        detail: `the health check failed: ${errorText(error)}`,
        fix: `check the ${connector.name} settings; run with LOG_LEVEL=debug for details`,
      });
    }
  }
  return checks;
}

/** Runs every check (never throws for a failed check). */
export async function diagnose(context: CommandContext, options: DoctorOptions = {}): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  let settings: ServiceSettings | undefined;
  try {
    settings = loadSettings(context.environment);
    checks.push({
      name: "settings",
      status: "ok",
      detail:
        settings.mode === "sandbox" ? "valid; sandbox mode (no LINQ_API_TOKEN)" : "valid; production mode",
    });
  } catch (error) {
    if (!(error instanceof InvalidSettingsError)) throw error;
    checks.push({
      name: "settings",
      status: "fail",
      detail: error.problems.map((problem) => `${problem.variable}: ${problem.message}`).join("\n"),
      fix: "correct the environment variables listed (the README's settings table documents each)",
    });
    return summarize([
      ...checks,
      { name: "everything else", status: "skip", detail: "needs valid settings" },
    ]);
  }
  const logger = commandLogger(context, settings);

  let routing: RoutingConfig | undefined;
  try {
    routing = await loadRoutingConfig({ settings, environment: context.environment });
    checks.push({
      name: "routing",
      status: "ok",
      detail:
        routing.source === "file"
          ? `${routing.fileName}: ${plural(routing.routes.length, "route")} (${routing.routes.map((route) => route.name).join(", ")})`
          : "no routing file: one default route from SLACK_DEFAULT_CHANNEL and CRM_PROVIDER",
    });
    for (const warning of routing.warnings) {
      checks.push({
        name: "routing",
        status: "warn",
        detail: warning,
        fix:
          routing.source === "environment"
            ? "create linq-sync.yaml (see linq-sync.example.yaml) or set SLACK_DEFAULT_CHANNEL / CRM_PROVIDER"
            : `edit ${routing.fileName ?? "the routing file"}; \`linq-sync config validate\` shows the routes`,
      });
    }
    const credentials = routingCredentialProblems(routing, settings);
    for (const problem of credentials) {
      checks.push({
        name: "credentials",
        status: "fail",
        detail: problem,
        fix: "set the variables it names (the README's settings table documents them); the service refuses to start without them",
      });
    }
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    const lines =
      error instanceof RoutingConfigurationError
        ? error.problems.map((problem) => formatRoutingProblem(error.fileName, problem))
        : [error.message];
    checks.push({
      name: "routing",
      status: "fail",
      detail: lines.join("\n"),
      fix: "correct the routing file (`linq-sync config validate` lists every problem)",
    });
  }

  const inspection = await inspectDatabase(context, settings);
  checks.push(...inspection.checks);

  const signal = context.signal ?? new AbortController().signal;
  const linq =
    settings.linq.apiToken === undefined
      ? undefined
      : new LinqClient({
          token: settings.linq.apiToken,
          baseUrl: settings.linq.apiBaseUrl,
          timeoutMs: 10_000,
          retry: { maxRetries: 1, initialDelayMs: 250, maxDelayMs: 1_000, maxRetryAfterMs: 5_000 },
        });
  const connectors =
    linq === undefined
      ? []
      : await context.createConnectors(settings, {
          routing: routing ?? { version: 1, routes: [], source: "environment", warnings: [] },
          logger,
        });
  try {
    if (linq === undefined) {
      checks.push({
        name: "Linq API",
        status: "skip",
        detail: "no LINQ_API_TOKEN: sandbox mode, `linq-sync serve` runs a local Linq simulator",
        fix: "set LINQ_API_TOKEN and LINQ_WEBHOOK_SECRET to connect to Linq",
      });
    } else {
      checks.push(...(await checkLinq(settings, routing, linq, context.signal)));
      if (settings.server.publicUrl !== undefined) {
        checks.push(await checkPublicUrl(settings.server.publicUrl, options.publicUrlTimeoutMs ?? 5_000));
      }
    }
    if (linq === undefined) {
      // The sandbox wires its connectors to local simulators inside `serve`; nothing upstream to check.
      checks.push({
        name: "connectors",
        status: "skip",
        detail: "sandbox mode: `linq-sync serve` runs the connectors against local simulators",
      });
    } else {
      checks.push(
        ...(await checkConnectors(connectors, routing, {
          linq,
          database: inspection.database,
          logger,
          signal,
        })),
      );
    }
  } finally {
    for (const connector of connectors) await connector.close?.().catch(() => undefined);
    await linq?.close();
    await inspection.close();
  }
  return summarize(checks);
}

function summarize(checks: DoctorCheck[]): DoctorReport {
  return {
    checks,
    failed: checks.filter((check) => check.status === "fail").length,
    warnings: checks.filter((check) => check.status === "warn").length,
  };
}

export function renderDoctorReport(report: DoctorReport, width: number): string {
  const table = renderTable(
    [
      { header: "check", maxWidth: 28 },
      { header: "status" },
      { header: "detail", overflow: "wrap", minWidth: 24 },
      { header: "fix", overflow: "wrap", minWidth: 20 },
    ],
    report.checks.map((check) => [check.name, statusSymbols[check.status], check.detail, check.fix ?? ""]),
    { maxWidth: width },
  );
  const passed = report.checks.filter((check) => check.status === "ok").length;
  const skipped = report.checks.filter((check) => check.status === "skip").length;
  return `${table}\n\n${plural(report.checks.length, "check")}: ${passed} passed, ${plural(report.warnings, "warning")}, ${report.failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`;
}

export async function runDoctor(context: CommandContext, options: DoctorOptions = {}): Promise<number> {
  const report = await diagnose(context, options);
  printLine(context, renderDoctorReport(report, outputWidth(context.stdout)));
  return report.failed > 0 ? 1 : 0;
}

/** Whether `error` or one of its causes is an instance of `type`. */
function findCause(error: unknown, type: abstract new (...parameters: never[]) => unknown): boolean {
  for (
    let current: unknown = error, depth = 0;
    current !== undefined && current !== null && depth < 10;
    depth += 1
  ) {
    if (current instanceof type) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
