/**
 * The service's settings, read from environment variables (12-factor) and
 * validated with zod.
 *
 * - An empty or blank variable counts as unset (`FOO=` in a .env file or a compose file).
 * - Values of non-secret variables are trimmed; secrets are used exactly as given.
 * - Every problem is reported at once in one `InvalidSettingsError` (a `ConfigurationError`)
 *   naming each variable and what is wrong. A secret's value never appears in a message.
 * - `mode` is "sandbox" exactly when `LINQ_API_TOKEN` is unset or empty: the CLI then runs the
 *   local simulators; with a token it never does.
 */
import { createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { ConfigurationError } from "@linq-connect/core";
import { z } from "zod";
import { didYouMean } from "./suggestions.ts";

export type ServiceMode = "sandbox" | "production";
export type CrmProvider = "hubspot" | "salesforce" | "none";
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

export const crmProviders = ["hubspot", "salesforce", "none"] as const satisfies readonly CrmProvider[];
export const logLevels = [
  "fatal",
  "error",
  "warn",
  "info",
  "debug",
  "trace",
  "silent",
] as const satisfies readonly LogLevel[];

/**
 * A Slack conversation id: public and private channels start with C, older private
 * channels and group conversations with G.
 */
export const slackChannelIdPattern = /^[CG][A-Z0-9]{2,}$/;
export const slackChannelIdHint =
  "a Slack channel ID such as C0123ABCD, not a #name (Slack shows it at the bottom of the channel's About tab)";

export interface ServiceSettings {
  /** "sandbox" exactly when LINQ_API_TOKEN is unset or empty. */
  mode: ServiceMode;
  logLevel: LogLevel;
  server: {
    port: number;
    /** "0.0.0.0" in production, "127.0.0.1" in the sandbox, unless HOST says otherwise. */
    host: string;
    /** The service's public base URL without a trailing slash (e.g. "https://sync.example.com"). */
    publicUrl: string | undefined;
  };
  database: {
    /** A postgres:// URL; undefined: the embedded PGlite database in `dataDirectory`. */
    url: string | undefined;
    /** Where the embedded database lives (as configured, relative paths relative to the working directory). */
    dataDirectory: string;
  };
  routingFile: {
    /** The routing file (as configured). */
    path: string;
    /** Whether SYNC_CONFIG set it: a missing file is then an error instead of "use the defaults". */
    isExplicit: boolean;
  };
  linq: {
    apiToken: string | undefined;
    apiBaseUrl: string;
    webhookSecret: string | undefined;
    /** Secrets still accepted while rotating (LINQ_WEBHOOK_SECRET_PREVIOUS, comma-separated). */
    previousWebhookSecrets: string[];
  };
  webhooks: {
    /** Bodies above this answer 413. */
    maxBodyBytes: number;
    /** Linq events older than this are rejected; undefined: no limit. */
    maxEventAgeSeconds: number | undefined;
  };
  slack: {
    botToken: string | undefined;
    signingSecret: string | undefined;
    /** App-level token (xapp-…) for Socket Mode. */
    appToken: string | undefined;
    apiUrl: string;
    /** The channel of the default route when there is no routing file. */
    defaultChannel: string | undefined;
  };
  hubspot: {
    accessToken: string | undefined;
    clientSecret: string | undefined;
    baseUrl: string;
    /** Our HubSpot app's id: webhook events of our own writes carry it as their `sourceId`. */
    appId: string | undefined;
    /** The webhook target URL configured in the HubSpot app (the URI HubSpot signs); default PUBLIC_URL/webhooks/hubspot. */
    webhookUrl: string | undefined;
  };
  salesforce: {
    instanceUrl: string | undefined;
    loginUrl: string;
    accessToken: string | undefined;
    refreshToken: string | undefined;
    clientId: string | undefined;
    clientSecret: string | undefined;
    /** JWT bearer flow: the user to act as. */
    username: string | undefined;
    /** JWT bearer flow: the PEM private key, from SALESFORCE_PRIVATE_KEY or read from SALESFORCE_PRIVATE_KEY_FILE. */
    privateKey: string | undefined;
    /** Where the private key was read from, when it came from a file. */
    privateKeyFile: string | undefined;
    pollIntervalSeconds: number;
    /** REST API version, e.g. "62.0". */
    apiVersion: string | undefined;
    /** A custom external-id field (text, unique) on Contact/Lead holding the Linq contact id. */
    externalIdField: string | undefined;
    /** Above this share of the org's daily API limit, calls are spaced out. */
    slowDownAtShare: number | undefined;
    /** At this share of the daily API limit, work waits instead of calling. */
    stopAtShare: number | undefined;
    /** How long work waits after REQUEST_LIMIT_EXCEEDED. */
    requestLimitRetrySeconds: number | undefined;
    /** A backfill above this many records uses Bulk API 2.0. */
    bulkThreshold: number | undefined;
  };
  /** The CRM of the default route when there is no routing file. */
  crmProvider: CrmProvider;
  /** Whether CRM_PROVIDER set it (the sandbox picks HubSpot when it is unset). */
  crmProviderIsExplicit: boolean;
  queue: {
    /** Jobs run at once per connector queue (and process). */
    concurrency: number;
    /** Retries before a job goes to the dead-letter queue. */
    retryLimit: number;
    /** The first retry delay; later ones grow exponentially. */
    retryDelaySeconds: number;
  };
  /** How long a SIGTERM waits for in-flight work before releasing it. */
  shutdownTimeoutSeconds: number;
  /** Settled Linq events (and inbound receipts) older than this many days are deleted; 0 keeps them. */
  eventRetentionDays: number;
}

export type EnvironmentVariableGroup =
  | "service"
  | "linq"
  | "webhooks"
  | "slack"
  | "hubspot"
  | "salesforce"
  | "routing"
  | "queue";

export interface EnvironmentVariable {
  name: string;
  /** The default as documented; undefined when there is none. */
  default: string | undefined;
  description: string;
  /** Never logged, never shown in an error. */
  secret: boolean;
  group: EnvironmentVariableGroup;
}

type EnvironmentVariableEntry = Omit<EnvironmentVariable, "default" | "secret"> & {
  default?: string;
  secret?: true;
};

const entries: readonly EnvironmentVariableEntry[] = [
  { name: "PORT", group: "service", default: "3000", description: "HTTP port." },
  {
    name: "HOST",
    group: "service",
    default: "0.0.0.0 (sandbox: 127.0.0.1)",
    description: "Address to listen on; the sandbox listens on loopback only.",
  },
  {
    name: "PUBLIC_URL",
    group: "service",
    description:
      "The service's public base URL (https://…); `linq-sync subscribe` registers PUBLIC_URL/webhooks/linq.",
  },
  {
    name: "DATABASE_URL",
    group: "service",
    description:
      "postgres:// URL of a shared PostgreSQL database (required for several replicas). Unset: embedded PGlite.",
    secret: true,
  },
  {
    name: "LINQ_SYNC_DATA_DIR",
    group: "service",
    default: "./data",
    description: "Directory of the embedded PGlite database.",
  },
  {
    name: "LOG_LEVEL",
    group: "service",
    default: "info",
    description: `Log level: ${logLevels.join(", ")}.`,
  },
  {
    name: "SYNC_CONFIG",
    group: "routing",
    default: "./linq-sync.yaml",
    description: "The routing file. When set, the file must exist.",
  },
  {
    name: "LINQ_API_TOKEN",
    group: "linq",
    description: "Linq Partner API integration token. Unset: sandbox mode with local simulators.",
    secret: true,
  },
  {
    name: "LINQ_API_BASE_URL",
    group: "linq",
    default: "https://api.linqapp.com",
    description: "Linq API host (a simulator, a staging host).",
  },
  {
    name: "LINQ_WEBHOOK_SECRET",
    group: "linq",
    description: "Signing secret of the Linq webhook subscription; required with LINQ_API_TOKEN.",
    secret: true,
  },
  {
    name: "LINQ_WEBHOOK_SECRET_PREVIOUS",
    group: "linq",
    description: "Comma-separated secrets still accepted while rotating LINQ_WEBHOOK_SECRET.",
    secret: true,
  },
  {
    name: "WEBHOOK_MAX_BODY_BYTES",
    group: "webhooks",
    default: "1048576",
    description: "Largest accepted webhook body; larger ones get 413.",
  },
  {
    name: "WEBHOOK_MAX_EVENT_AGE_SECONDS",
    group: "webhooks",
    description: "Reject Linq events created longer ago than this. Unset: no limit.",
  },
  { name: "SLACK_BOT_TOKEN", group: "slack", description: "Slack bot token (xoxb-…).", secret: true },
  {
    name: "SLACK_SIGNING_SECRET",
    group: "slack",
    description: "Slack signing secret, verifies POST /slack/*.",
    secret: true,
  },
  {
    name: "SLACK_APP_TOKEN",
    group: "slack",
    description: "Slack app-level token (xapp-…) for Socket Mode.",
    secret: true,
  },
  {
    name: "SLACK_API_URL",
    group: "slack",
    default: "https://slack.com/api/",
    description: "Slack Web API base URL (GovSlack, a simulator).",
  },
  {
    name: "SLACK_DEFAULT_CHANNEL",
    group: "routing",
    description: "Slack channel ID of the default route when there is no routing file.",
  },
  {
    name: "HUBSPOT_ACCESS_TOKEN",
    group: "hubspot",
    description: "HubSpot private app or OAuth access token.",
    secret: true,
  },
  {
    name: "HUBSPOT_CLIENT_SECRET",
    group: "hubspot",
    description: "HubSpot app client secret, verifies POST /webhooks/hubspot.",
    secret: true,
  },
  {
    name: "HUBSPOT_BASE_URL",
    group: "hubspot",
    default: "https://api.hubapi.com",
    description: "HubSpot API base URL (a simulator).",
  },
  {
    name: "HUBSPOT_APP_ID",
    group: "hubspot",
    description:
      "HubSpot app id: webhook events of the service's own writes are recognised by it at once (without it, by their values).",
  },
  {
    name: "HUBSPOT_WEBHOOK_URL",
    group: "hubspot",
    default: "PUBLIC_URL/webhooks/hubspot",
    description:
      "The webhook target URL set in the HubSpot app, which HubSpot signs. Unset without PUBLIC_URL: rebuilt from each request.",
  },
  {
    name: "SALESFORCE_INSTANCE_URL",
    group: "salesforce",
    description: "Your org's URL (https://yourorg.my.salesforce.com); required with an access token alone.",
  },
  {
    name: "SALESFORCE_LOGIN_URL",
    group: "salesforce",
    default: "https://login.salesforce.com",
    description: "OAuth host (https://test.salesforce.com for sandboxes, a simulator).",
  },
  {
    name: "SALESFORCE_ACCESS_TOKEN",
    group: "salesforce",
    description: "Salesforce access token.",
    secret: true,
  },
  {
    name: "SALESFORCE_REFRESH_TOKEN",
    group: "salesforce",
    description: "Refresh token (with SALESFORCE_CLIENT_ID): renews the access token.",
    secret: true,
  },
  { name: "SALESFORCE_CLIENT_ID", group: "salesforce", description: "Connected app consumer key." },
  {
    name: "SALESFORCE_CLIENT_SECRET",
    group: "salesforce",
    description: "Connected app consumer secret.",
    secret: true,
  },
  {
    name: "SALESFORCE_USERNAME",
    group: "salesforce",
    description: "JWT bearer flow: the Salesforce user to act as.",
  },
  {
    name: "SALESFORCE_PRIVATE_KEY",
    group: "salesforce",
    description:
      'JWT bearer flow: PEM private key of the connected app\'s certificate ("\\n" escapes allowed).',
    secret: true,
  },
  {
    name: "SALESFORCE_PRIVATE_KEY_FILE",
    group: "salesforce",
    description: "JWT bearer flow: a file holding the PEM private key (instead of SALESFORCE_PRIVATE_KEY).",
  },
  {
    name: "SALESFORCE_POLL_INTERVAL_SECONDS",
    group: "salesforce",
    default: "60",
    description:
      "How often Salesforce changes are polled, in seconds (at least 5). A route's salesforce.pollIntervalSeconds overrides it.",
  },
  {
    name: "SALESFORCE_API_VERSION",
    group: "salesforce",
    default: "62.0",
    description: "Salesforce REST API version.",
  },
  {
    name: "SALESFORCE_EXTERNAL_ID_FIELD",
    group: "salesforce",
    description:
      "A custom external-id field on Contact and Lead (e.g. Linq_Id__c) holding the Linq contact id; unset: none is used.",
  },
  {
    name: "SALESFORCE_SLOW_DOWN_AT_SHARE",
    group: "salesforce",
    default: "0.8",
    description: "Above this share of the org's daily API limit (0–1), calls are spaced out.",
  },
  {
    name: "SALESFORCE_STOP_AT_SHARE",
    group: "salesforce",
    default: "0.95",
    description: "At this share of the daily API limit (0–1), jobs wait and resume later instead of calling.",
  },
  {
    name: "SALESFORCE_REQUEST_LIMIT_RETRY_SECONDS",
    group: "salesforce",
    default: "900",
    description:
      "How long jobs wait after REQUEST_LIMIT_EXCEEDED (or at the stop share) before trying again.",
  },
  {
    name: "SALESFORCE_BULK_THRESHOLD",
    group: "salesforce",
    default: "2000",
    description: "A backfill with more records than this uses Bulk API 2.0 instead of sObject Collections.",
  },
  {
    name: "CRM_PROVIDER",
    group: "routing",
    default: "none",
    description:
      "CRM of the default route when there is no routing file: hubspot, salesforce or none. Unset in the sandbox: hubspot, on its simulator.",
  },
  {
    name: "JOB_CONCURRENCY",
    group: "queue",
    default: "4",
    description: "Jobs run at once per connector queue in each process.",
  },
  {
    name: "JOB_RETRY_LIMIT",
    group: "queue",
    default: "8",
    description: "Retries before a job goes to the dead-letter queue.",
  },
  {
    name: "JOB_RETRY_DELAY_SECONDS",
    group: "queue",
    default: "2",
    description: "First retry delay; each further retry waits exponentially longer.",
  },
  {
    name: "SHUTDOWN_TIMEOUT_SECONDS",
    group: "queue",
    default: "20",
    description: "On SIGTERM, how long in-flight jobs may finish before they are released.",
  },
  {
    name: "EVENT_RETENTION_DAYS",
    group: "queue",
    default: "30",
    description:
      "Stored Linq events whose deliveries all succeeded, and inbound receipts, are deleted after this many days (hourly). 0 keeps them.",
  },
];

/** Every environment variable the service reads, documented (the README's settings table). */
export const environmentVariables: readonly EnvironmentVariable[] = entries.map((entry) => ({
  name: entry.name,
  default: entry.default,
  description: entry.description,
  secret: entry.secret === true,
  group: entry.group,
}));

const variablesByName = new Map(environmentVariables.map((entry) => [entry.name, entry]));

// ---------------------------------------------------------------------------------------------
// Per-variable schemas: a string (or undefined when unset) in, a typed value out.

/** A schema for one variable: `parse` returns the value or throws a `VariableProblem`. */
function variableSchema<T>(parse: (value: string) => T) {
  return z
    .string()
    .optional()
    .transform((value, context): T | undefined => {
      if (value === undefined) return undefined;
      try {
        return parse(value);
      } catch (error) {
        if (!(error instanceof VariableProblem)) throw error;
        context.addIssue({ code: "custom", message: error.message, params: { showValue: error.showValue } });
        return z.NEVER;
      }
    });
}

/** What is wrong with one variable's value; `showValue: false` keeps a non-secret value out of the message too. */
class VariableProblem extends Error {
  readonly showValue: boolean;
  constructor(message: string, showValue = true) {
    super(message);
    this.showValue = showValue;
  }
}

function integerSchema(minimum: number, maximum: number) {
  return variableSchema((value) => {
    const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(parsed) || parsed < minimum || parsed > maximum) {
      throw new VariableProblem(`expected a whole number from ${minimum} to ${maximum}`);
    }
    return parsed;
  });
}

function parseHttpUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new VariableProblem("expected an http:// or https:// URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new VariableProblem(`expected an http:// or https:// URL, not ${url.protocol}//`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new VariableProblem("must not contain a user name or password", false);
  }
  return url;
}

const httpUrlSchema = variableSchema((value) => {
  parseHttpUrl(value);
  return value;
});

const publicUrlSchema = variableSchema((value) => {
  const url = parseHttpUrl(value);
  if (url.search !== "" || url.hash !== "") {
    throw new VariableProblem("must be a base URL without a query or fragment");
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
});

const hubSpotAppIdSchema = variableSchema((value) => {
  if (!/^[1-9]\d{0,15}$/.test(value)) throw new VariableProblem("expected the numeric id of a HubSpot app");
  return value;
});

const databaseUrlSchema = variableSchema((value) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new VariableProblem("expected a postgres:// or postgresql:// URL (the value is not shown)", false);
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw new VariableProblem(
      `expected a postgres:// or postgresql:// URL, not ${url.protocol}// (the value is not shown)`,
      false,
    );
  }
  return value;
});

const hostSchema = variableSchema((value) => {
  if (!/^[A-Za-z0-9.:%[\]-]+$/.test(value)) {
    throw new VariableProblem("expected a host name or IP address such as 0.0.0.0, 127.0.0.1 or ::");
  }
  return value;
});

const textSchema = variableSchema((value) => value);

/** A share such as 0.8 (more than 0, at most 1). */
const shareSchema = variableSchema((value) => {
  const parsed = /^(0(\.\d+)?|1(\.0+)?|\.\d+)$/.test(value) ? Number(value) : Number.NaN;
  if (!(parsed > 0 && parsed <= 1)) throw new VariableProblem("expected a share from 0 to 1, such as 0.8");
  return parsed;
});

const salesforceApiVersionSchema = variableSchema((value) => {
  if (!/^\d{2,3}\.0$/.test(value))
    throw new VariableProblem("expected a Salesforce API version such as 62.0");
  return value;
});

const salesforceFieldSchema = variableSchema((value) => {
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(value)) {
    throw new VariableProblem("expected a Salesforce field API name such as Linq_Id__c");
  }
  return value;
});

function choiceSchema<const Choice extends string>(choices: readonly Choice[]) {
  return variableSchema((value): Choice => {
    const lowered = value.toLowerCase();
    const found = choices.find((choice) => choice === lowered);
    if (found === undefined) {
      throw new VariableProblem(`expected one of ${choices.join(" | ")}${didYouMean(value, choices)}`);
    }
    return found;
  });
}

const slackChannelSchema = variableSchema((value) => {
  if (!slackChannelIdPattern.test(value)) throw new VariableProblem(`expected ${slackChannelIdHint}`);
  return value;
});

/** A token sent in an HTTP header: visible ASCII only (a pasted line break or space is a common mistake). */
const headerTokenSchema = variableSchema((value) => {
  if (!/^[\x21-\x7e]+$/.test(value)) {
    throw new VariableProblem(
      "must contain only visible ASCII characters, no spaces or line breaks (the value is not shown)",
      false,
    );
  }
  return value;
});

const secretSchema = variableSchema((value) => value);

const secretListSchema = variableSchema((value) => {
  const secrets = value
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  if (secrets.length === 0) throw new VariableProblem("contains no secret (the value is not shown)", false);
  return secrets;
});

function checkPrivateKey(pem: string, where: string): void {
  if (/ENCRYPTED/.test(pem)) {
    throw new VariableProblem(
      `${where} is encrypted; export it without a passphrase (openssl pkey -in key.pem -out plain.pem)`,
      false,
    );
  }
  try {
    createPrivateKey(pem);
  } catch {
    throw new VariableProblem(
      `${where} is not a PEM private key ("-----BEGIN PRIVATE KEY-----…"; the value is not shown)`,
      false,
    );
  }
}

const privateKeySchema = variableSchema((value) => {
  const pem = value.includes("\\n") ? value.replace(/\\n/g, "\n") : value;
  checkPrivateKey(pem, "the value");
  return pem;
});

const privateKeyFileSchema = variableSchema((value) => {
  let pem: string;
  try {
    pem = readFileSync(value, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new VariableProblem(
      code === "ENOENT" ? "the file does not exist" : `the file cannot be read (${code ?? "unknown error"})`,
    );
  }
  checkPrivateKey(pem, "the file's content");
  return { path: value, pem };
});

/** The variables as zod sees them: unset variables are undefined. Keys are the variable names. */
const environmentSchema = z.object({
  PORT: integerSchema(0, 65_535),
  HOST: hostSchema,
  PUBLIC_URL: publicUrlSchema,
  DATABASE_URL: databaseUrlSchema,
  LINQ_SYNC_DATA_DIR: textSchema,
  LOG_LEVEL: choiceSchema(logLevels),
  SYNC_CONFIG: textSchema,
  LINQ_API_TOKEN: headerTokenSchema,
  LINQ_API_BASE_URL: httpUrlSchema,
  LINQ_WEBHOOK_SECRET: secretSchema,
  LINQ_WEBHOOK_SECRET_PREVIOUS: secretListSchema,
  WEBHOOK_MAX_BODY_BYTES: integerSchema(1_024, 100 * 1_024 * 1_024),
  WEBHOOK_MAX_EVENT_AGE_SECONDS: integerSchema(1, 31 * 24 * 3_600),
  SLACK_BOT_TOKEN: headerTokenSchema,
  SLACK_SIGNING_SECRET: secretSchema,
  SLACK_APP_TOKEN: headerTokenSchema,
  SLACK_API_URL: httpUrlSchema,
  SLACK_DEFAULT_CHANNEL: slackChannelSchema,
  HUBSPOT_ACCESS_TOKEN: headerTokenSchema,
  HUBSPOT_CLIENT_SECRET: secretSchema,
  HUBSPOT_BASE_URL: httpUrlSchema,
  HUBSPOT_APP_ID: hubSpotAppIdSchema,
  HUBSPOT_WEBHOOK_URL: httpUrlSchema,
  SALESFORCE_INSTANCE_URL: httpUrlSchema,
  SALESFORCE_LOGIN_URL: httpUrlSchema,
  SALESFORCE_ACCESS_TOKEN: headerTokenSchema,
  SALESFORCE_REFRESH_TOKEN: headerTokenSchema,
  SALESFORCE_CLIENT_ID: textSchema,
  SALESFORCE_CLIENT_SECRET: secretSchema,
  SALESFORCE_USERNAME: textSchema,
  SALESFORCE_PRIVATE_KEY: privateKeySchema,
  SALESFORCE_PRIVATE_KEY_FILE: privateKeyFileSchema,
  SALESFORCE_POLL_INTERVAL_SECONDS: integerSchema(5, 86_400),
  SALESFORCE_API_VERSION: salesforceApiVersionSchema,
  SALESFORCE_EXTERNAL_ID_FIELD: salesforceFieldSchema,
  SALESFORCE_SLOW_DOWN_AT_SHARE: shareSchema,
  SALESFORCE_STOP_AT_SHARE: shareSchema,
  SALESFORCE_REQUEST_LIMIT_RETRY_SECONDS: integerSchema(1, 86_400),
  SALESFORCE_BULK_THRESHOLD: integerSchema(1, 100_000_000),
  CRM_PROVIDER: choiceSchema(crmProviders),
  JOB_CONCURRENCY: integerSchema(1, 1_000),
  JOB_RETRY_LIMIT: integerSchema(0, 1_000),
  JOB_RETRY_DELAY_SECONDS: integerSchema(0, 86_400),
  SHUTDOWN_TIMEOUT_SECONDS: integerSchema(1, 3_600),
  EVENT_RETENTION_DAYS: integerSchema(0, 36_500),
});

type VariableName = keyof typeof environmentSchema.shape;

/** The names the schema reads; a test checks they match `environmentVariables`. */
export const environmentVariableNames = Object.keys(environmentSchema.shape) as VariableName[];

// ---------------------------------------------------------------------------------------------
// Errors

export interface SettingsProblem {
  /** The environment variable. */
  variable: string;
  /** What is wrong, without the value of a secret. */
  message: string;
}

/** Thrown by `loadSettings`: every problem at once. */
export class InvalidSettingsError extends ConfigurationError {
  readonly problems: readonly SettingsProblem[];

  constructor(problems: readonly SettingsProblem[]) {
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    super(
      `Invalid environment variables (${count}):\n${problems
        .map((problem) => `  - ${problem.variable}: ${problem.message}`)
        .join("\n")}`,
    );
    this.problems = problems;
  }
}

function describeValue(value: string): string {
  const shown = value.length > 80 ? `${value.slice(0, 77)}...` : value;
  return JSON.stringify(shown);
}

// ---------------------------------------------------------------------------------------------
// Loading

type RawEnvironment = Partial<Record<VariableName, string>>;

/** Known variables with blank values removed and non-secret values trimmed. */
function cleanEnvironment(environment: NodeJS.ProcessEnv): RawEnvironment {
  const cleaned: RawEnvironment = {};
  for (const name of environmentVariableNames) {
    const value = environment[name];
    if (typeof value !== "string" || value.trim() === "") continue;
    cleaned[name] = variablesByName.get(name)?.secret === true ? value : value.trim();
  }
  return cleaned;
}

/** Rules between variables; they only look at which variables are set. */
function crossVariableProblems(raw: RawEnvironment): SettingsProblem[] {
  const problems: SettingsProblem[] = [];
  const isSet = (name: VariableName) => raw[name] !== undefined;
  const require = (name: VariableName, message: string) => {
    if (!isSet(name) && !problems.some((problem) => problem.variable === name)) {
      problems.push({ variable: name, message });
    }
  };

  if (isSet("LINQ_API_TOKEN")) {
    require("LINQ_WEBHOOK_SECRET", "required when LINQ_API_TOKEN is set (the signing secret of your Linq webhook subscription; `linq-sync subscribe` sets it)");
  }
  if (isSet("SLACK_APP_TOKEN"))
    require("SLACK_BOT_TOKEN", "required when SLACK_APP_TOKEN is set (Socket Mode)");

  const usesJwt = isSet("SALESFORCE_PRIVATE_KEY") || isSet("SALESFORCE_PRIVATE_KEY_FILE");
  if (isSet("SALESFORCE_PRIVATE_KEY") && isSet("SALESFORCE_PRIVATE_KEY_FILE")) {
    problems.push({
      variable: "SALESFORCE_PRIVATE_KEY_FILE",
      message: "set either SALESFORCE_PRIVATE_KEY or SALESFORCE_PRIVATE_KEY_FILE, not both",
    });
  }
  if (usesJwt) {
    require("SALESFORCE_USERNAME", "required for the JWT bearer flow (with SALESFORCE_PRIVATE_KEY[_FILE])");
    require("SALESFORCE_CLIENT_ID", "required for the JWT bearer flow (the connected app's consumer key)");
  }
  if (isSet("SALESFORCE_USERNAME") && !usesJwt) {
    problems.push({
      variable: "SALESFORCE_PRIVATE_KEY",
      message:
        "SALESFORCE_USERNAME is set: the JWT bearer flow also needs SALESFORCE_PRIVATE_KEY or SALESFORCE_PRIVATE_KEY_FILE",
    });
  }
  if (isSet("SALESFORCE_REFRESH_TOKEN")) {
    require("SALESFORCE_CLIENT_ID", "required when SALESFORCE_REFRESH_TOKEN is set (to refresh the access token)");
  }
  if (isSet("SALESFORCE_CLIENT_SECRET")) {
    require("SALESFORCE_CLIENT_ID", "required when SALESFORCE_CLIENT_SECRET is set");
  }
  if (isSet("SALESFORCE_ACCESS_TOKEN") && !isSet("SALESFORCE_REFRESH_TOKEN") && !usesJwt) {
    require("SALESFORCE_INSTANCE_URL", "required with SALESFORCE_ACCESS_TOKEN alone (e.g. https://yourorg.my.salesforce.com)");
  }
  return problems;
}

/**
 * Reads and validates the settings.
 *
 * @throws InvalidSettingsError (a ConfigurationError) listing every invalid variable.
 */
export function loadSettings(environment: NodeJS.ProcessEnv = process.env): ServiceSettings {
  const raw = cleanEnvironment(environment);
  const result = environmentSchema.safeParse(raw);
  const problems: SettingsProblem[] = [];
  if (!result.success) {
    for (const issue of result.error.issues) {
      const name = String(issue.path[0]) as VariableName;
      const value = raw[name];
      const secret = variablesByName.get(name)?.secret === true;
      const showValue =
        !secret &&
        value !== undefined &&
        (issue as { params?: { showValue?: boolean } }).params?.showValue !== false;
      problems.push({
        variable: name,
        message: showValue ? `${issue.message}, got ${describeValue(value)}` : issue.message,
      });
    }
  }
  problems.push(...crossVariableProblems(raw));
  if (problems.length > 0 || !result.success) {
    const order = new Map(environmentVariableNames.map((name, index) => [name as string, index]));
    problems.sort((first, second) => (order.get(first.variable) ?? 0) - (order.get(second.variable) ?? 0));
    throw new InvalidSettingsError(problems);
  }

  const values = result.data;
  const mode: ServiceMode = values.LINQ_API_TOKEN === undefined ? "sandbox" : "production";
  return {
    mode,
    logLevel: values.LOG_LEVEL ?? "info",
    server: {
      port: values.PORT ?? 3_000,
      host: values.HOST ?? (mode === "sandbox" ? "127.0.0.1" : "0.0.0.0"),
      publicUrl: values.PUBLIC_URL,
    },
    database: {
      url: values.DATABASE_URL,
      dataDirectory: values.LINQ_SYNC_DATA_DIR ?? "./data",
    },
    routingFile: {
      path: values.SYNC_CONFIG ?? "./linq-sync.yaml",
      isExplicit: values.SYNC_CONFIG !== undefined,
    },
    linq: {
      apiToken: values.LINQ_API_TOKEN,
      apiBaseUrl: values.LINQ_API_BASE_URL ?? "https://api.linqapp.com",
      webhookSecret: values.LINQ_WEBHOOK_SECRET,
      previousWebhookSecrets: values.LINQ_WEBHOOK_SECRET_PREVIOUS ?? [],
    },
    webhooks: {
      maxBodyBytes: values.WEBHOOK_MAX_BODY_BYTES ?? 1_048_576,
      maxEventAgeSeconds: values.WEBHOOK_MAX_EVENT_AGE_SECONDS,
    },
    slack: {
      botToken: values.SLACK_BOT_TOKEN,
      signingSecret: values.SLACK_SIGNING_SECRET,
      appToken: values.SLACK_APP_TOKEN,
      apiUrl: values.SLACK_API_URL ?? "https://slack.com/api/",
      defaultChannel: values.SLACK_DEFAULT_CHANNEL,
    },
    hubspot: {
      accessToken: values.HUBSPOT_ACCESS_TOKEN,
      clientSecret: values.HUBSPOT_CLIENT_SECRET,
      baseUrl: values.HUBSPOT_BASE_URL ?? "https://api.hubapi.com",
      appId: values.HUBSPOT_APP_ID,
      webhookUrl:
        values.HUBSPOT_WEBHOOK_URL ??
        (values.PUBLIC_URL === undefined ? undefined : `${values.PUBLIC_URL}/webhooks/hubspot`),
    },
    salesforce: {
      instanceUrl: values.SALESFORCE_INSTANCE_URL,
      loginUrl: values.SALESFORCE_LOGIN_URL ?? "https://login.salesforce.com",
      accessToken: values.SALESFORCE_ACCESS_TOKEN,
      refreshToken: values.SALESFORCE_REFRESH_TOKEN,
      clientId: values.SALESFORCE_CLIENT_ID,
      clientSecret: values.SALESFORCE_CLIENT_SECRET,
      username: values.SALESFORCE_USERNAME,
      privateKey: values.SALESFORCE_PRIVATE_KEY ?? values.SALESFORCE_PRIVATE_KEY_FILE?.pem,
      privateKeyFile: values.SALESFORCE_PRIVATE_KEY_FILE?.path,
      pollIntervalSeconds: values.SALESFORCE_POLL_INTERVAL_SECONDS ?? 60,
      apiVersion: values.SALESFORCE_API_VERSION,
      externalIdField: values.SALESFORCE_EXTERNAL_ID_FIELD,
      slowDownAtShare: values.SALESFORCE_SLOW_DOWN_AT_SHARE,
      stopAtShare: values.SALESFORCE_STOP_AT_SHARE,
      requestLimitRetrySeconds: values.SALESFORCE_REQUEST_LIMIT_RETRY_SECONDS,
      bulkThreshold: values.SALESFORCE_BULK_THRESHOLD,
    },
    crmProvider: values.CRM_PROVIDER ?? "none",
    crmProviderIsExplicit: values.CRM_PROVIDER !== undefined,
    queue: {
      concurrency: values.JOB_CONCURRENCY ?? 4,
      retryLimit: values.JOB_RETRY_LIMIT ?? 8,
      retryDelaySeconds: values.JOB_RETRY_DELAY_SECONDS ?? 2,
    },
    shutdownTimeoutSeconds: values.SHUTDOWN_TIMEOUT_SECONDS ?? 20,
    eventRetentionDays: values.EVENT_RETENTION_DAYS ?? 30,
  };
}

/**
 * The PUBLIC_URL, for commands that need it (`linq-sync subscribe`).
 *
 * @throws ConfigurationError when PUBLIC_URL is not set.
 */
export function requirePublicUrl(settings: ServiceSettings, purpose: string): string {
  if (settings.server.publicUrl === undefined) {
    throw new ConfigurationError(
      `PUBLIC_URL is required ${purpose}: set it to the URL where Linq reaches this service, e.g. https://sync.example.com`,
    );
  }
  return settings.server.publicUrl;
}

/** A postgres URL without its password and query (which may carry credentials). */
export function redactDatabaseUrl(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    const user = url.username === "" ? "" : `${url.username}@`;
    return `${url.protocol}//${user}${url.host}${url.pathname}`;
  } catch {
    return "[unparseable]";
  }
}

/** A log-safe view of the settings: secrets only as "configured" booleans, the database URL without credentials. */
export function settingsSummary(settings: ServiceSettings): Record<string, unknown> {
  const configured = (value: string | undefined) => value !== undefined;
  return {
    mode: settings.mode,
    logLevel: settings.logLevel,
    server: { ...settings.server },
    database: {
      embedded: settings.database.url === undefined,
      url: settings.database.url === undefined ? undefined : redactDatabaseUrl(settings.database.url),
      dataDirectory: settings.database.dataDirectory,
    },
    routingFile: { ...settings.routingFile },
    linq: {
      apiTokenConfigured: configured(settings.linq.apiToken),
      apiBaseUrl: settings.linq.apiBaseUrl,
      webhookSecretConfigured: configured(settings.linq.webhookSecret),
      previousWebhookSecretCount: settings.linq.previousWebhookSecrets.length,
    },
    webhooks: { ...settings.webhooks },
    slack: {
      botTokenConfigured: configured(settings.slack.botToken),
      signingSecretConfigured: configured(settings.slack.signingSecret),
      appTokenConfigured: configured(settings.slack.appToken),
      apiUrl: settings.slack.apiUrl,
      defaultChannel: settings.slack.defaultChannel,
    },
    hubspot: {
      accessTokenConfigured: configured(settings.hubspot.accessToken),
      clientSecretConfigured: configured(settings.hubspot.clientSecret),
      baseUrl: settings.hubspot.baseUrl,
      appId: settings.hubspot.appId,
      webhookUrl: settings.hubspot.webhookUrl,
    },
    salesforce: {
      instanceUrl: settings.salesforce.instanceUrl,
      loginUrl: settings.salesforce.loginUrl,
      accessTokenConfigured: configured(settings.salesforce.accessToken),
      refreshTokenConfigured: configured(settings.salesforce.refreshToken),
      clientId: settings.salesforce.clientId,
      clientSecretConfigured: configured(settings.salesforce.clientSecret),
      username: settings.salesforce.username,
      privateKeyConfigured: configured(settings.salesforce.privateKey),
      privateKeyFile: settings.salesforce.privateKeyFile,
      pollIntervalSeconds: settings.salesforce.pollIntervalSeconds,
      apiVersion: settings.salesforce.apiVersion,
      externalIdField: settings.salesforce.externalIdField,
      slowDownAtShare: settings.salesforce.slowDownAtShare,
      stopAtShare: settings.salesforce.stopAtShare,
      requestLimitRetrySeconds: settings.salesforce.requestLimitRetrySeconds,
      bulkThreshold: settings.salesforce.bulkThreshold,
    },
    crmProvider: settings.crmProvider,
    crmProviderIsExplicit: settings.crmProviderIsExplicit,
    queue: { ...settings.queue },
    shutdownTimeoutSeconds: settings.shutdownTimeoutSeconds,
    eventRetentionDays: settings.eventRetentionDays,
  };
}

/** The settings table as Markdown (variable, default, meaning), for the README. */
export function environmentVariablesMarkdown(): string {
  const escapePipes = (text: string) => text.replace(/\|/g, "\\|");
  const rows = environmentVariables.map((entry) => {
    const defaultValue = entry.default === undefined ? "" : escapePipes(entry.default);
    const secret = entry.secret ? " Secret: never logged." : "";
    return `| \`${entry.name}\` | ${defaultValue} | ${escapePipes(entry.description)}${secret} |`;
  });
  return ["| variable | default | meaning |", "| --- | --- | --- |", ...rows].join("\n");
}
