/**
 * Settings of the Salesforce connector, validated with zod. A bad setting is a ConfigurationError that
 * names it and says what is expected; a token, secret or private key is never echoed.
 *
 * - `parseConnectorOptions`: the factory's options (credentials, limits, polling, timeouts);
 * - `parseRouteSettings`: a route's `salesforce` block plus the route's `contacts` and `activities`
 *   (`context.route.settings` from the host), over the factory's `defaults`.
 */
import { ConfigurationError, type RouteContext } from "@linq-connect/core";
import { z } from "zod";
import {
  defaultSalesforceFieldMappings,
  type LinqContactField,
  type SalesforceFieldMapping,
  type SalesforceObjectName,
} from "./field-mapping.ts";

export type ContactSyncMode = "two-way" | "linq-to-crm" | "crm-to-linq" | "off";
export type ActivitySyncMode = "per-message" | "daily-digest" | "off";

export const linqContactFields: readonly LinqContactField[] = [
  "first_name",
  "last_name",
  "email",
  "phone_number",
  "company",
  "title",
  "location",
];

/** What a Linq `contact.deleted` does to the linked Salesforce record. */
export type LinqContactDeletedAction = "ignore" | "delete" | { setField: { name: string; value: string } };

/** A route's Salesforce settings after defaults. */
export interface SalesforceRouteSettings {
  /** Contact sync between Linq and Salesforce (the route's `contacts`). Default "two-way". */
  contacts: ContactSyncMode;
  /** Messages and calls logged as Tasks (the route's `activities`). Default "per-message". */
  activities: ActivitySyncMode;
  /** Which object Linq contacts become: "Contact" (default) or "Lead". */
  objectType: SalesforceObjectName;
  /** Linq contact field → Salesforce field of `objectType`, defaults merged in; null switches a field off. */
  fieldMapping: SalesforceFieldMapping;
  /** Lead.Company when the Linq contact has no company. Default "Unknown (via Linq)". */
  companyPlaceholder: string;
  /** A Contact's company: find the Account with that Name (or create it) and set AccountId. Default true. */
  linkAccounts: boolean;
  /** Linq `contact.deleted`: "ignore" (default), "delete" the Salesforce record, or set a field on it. */
  contactDeleted: LinqContactDeletedAction;
  /** A Salesforce record deleted: "ignore" (default: only the link is forgotten) or "delete" the Linq contact. */
  salesforceRecordDeleted: "ignore" | "delete";
  /** Create the Contact (or Lead) of a number that texts or calls and is not in Salesforce. Default true. */
  createUnknownContacts: boolean;
  /** The IANA time zone whose calendar days group messages in "daily-digest". Default "UTC". */
  digestTimeZone: string;
  /** Who wins a field conflict whose timestamps are equal or unknown. Default "salesforce". */
  conflictTieBreaker: "linq" | "salesforce";
  /** OwnerId of created records and Tasks (a User id). Default: the connected user. */
  ownerId: string | undefined;
  /**
   * Polling interval (Salesforce → Linq) in seconds. Read from the route that governs polling (the
   * host's inbound route); overrides the connector's `pollIntervalSeconds`. Default: the connector's.
   */
  pollIntervalSeconds: number | undefined;
}

const fieldName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, {
  error: "expected a Salesforce field API name (e.g. MobilePhone or Linq_Id__c)",
});

const fieldMappingSchema = z.strictObject(
  Object.fromEntries(linqContactFields.map((field) => [field, fieldName.nullable().optional()])) as Record<
    LinqContactField,
    z.ZodOptional<z.ZodNullable<typeof fieldName>>
  >,
);

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

const salesforceId = z.string().regex(/^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/, {
  error: "expected a Salesforce record id (15 or 18 characters)",
});

const routeSettingsShape = {
  contacts: z.enum(["two-way", "linq-to-crm", "crm-to-linq", "off"]),
  activities: z.enum(["per-message", "daily-digest", "off"]),
  objectType: z.enum(["Contact", "Lead"]),
  fieldMapping: fieldMappingSchema,
  companyPlaceholder: z.string().trim().min(1).max(255),
  linkAccounts: z.boolean(),
  contactDeleted: z.union([
    z.enum(["ignore", "delete"]),
    z.strictObject({ setField: z.strictObject({ name: fieldName, value: z.string() }) }),
  ]),
  salesforceRecordDeleted: z.enum(["ignore", "delete"]),
  createUnknownContacts: z.boolean(),
  digestTimeZone: z.string().refine(isTimeZone, { error: "expected an IANA time zone such as Europe/Paris" }),
  conflictTieBreaker: z.enum(["linq", "salesforce"]),
  ownerId: salesforceId,
  pollIntervalSeconds: z.number().int().min(5).max(86_400),
};

/** Every key optional: what a route or the factory's `defaults` may give. */
const partialRouteSettingsSchema = z.strictObject(routeSettingsShape).partial();

export type SalesforceRouteSettingsInput = z.input<typeof partialRouteSettingsSchema>;

const builtInRouteSettings: SalesforceRouteSettings = {
  contacts: "two-way",
  activities: "per-message",
  objectType: "Contact",
  fieldMapping: defaultSalesforceFieldMappings.Contact,
  companyPlaceholder: "Unknown (via Linq)",
  linkAccounts: true,
  contactDeleted: "ignore",
  salesforceRecordDeleted: "ignore",
  createUnknownContacts: true,
  digestTimeZone: "UTC",
  conflictTieBreaker: "salesforce",
  ownerId: undefined,
  pollIntervalSeconds: undefined,
};

function describeIssues(error: z.ZodError, prefix: string): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const path = [prefix, ...issue.path.map(String)].filter((part) => part !== "").join(".");
      return `${path}: ${issue.message}`;
    })
    .join("; ");
}

function parsePartial(input: unknown, where: string, prefix: string): SalesforceRouteSettingsInput {
  const result = partialRouteSettingsSchema.safeParse(input ?? {});
  if (!result.success) {
    throw new ConfigurationError(
      `${where} has invalid Salesforce settings: ${describeIssues(result.error, prefix)}`,
    );
  }
  return result.data;
}

/**
 * Overrides over a base. The field mapping starts from the defaults of the resulting `objectType`
 * (a route that switches to Lead gets Lead's defaults, e.g. company → Company), then the base's
 * explicit overrides when the object is unchanged, then the route's.
 */
function combine(
  base: SalesforceRouteSettings,
  overrides: SalesforceRouteSettingsInput,
): SalesforceRouteSettings {
  const { fieldMapping, ...rest } = overrides;
  const settings: SalesforceRouteSettings = { ...base };
  for (const [key, value] of Object.entries(rest)) {
    if (value !== undefined) (settings as unknown as Record<string, unknown>)[key] = value;
  }
  const mapping: Record<LinqContactField, string | null> =
    settings.objectType === base.objectType
      ? { ...base.fieldMapping }
      : { ...defaultSalesforceFieldMappings[settings.objectType] };
  if (fieldMapping !== undefined) {
    for (const field of linqContactFields) {
      const target = fieldMapping[field];
      if (target !== undefined) mapping[field] = target;
    }
  }
  if (mapping.last_name === null) {
    throw new ConfigurationError(
      "Salesforce settings: fieldMapping.last_name cannot be null (LastName is required on Contact and Lead)",
    );
  }
  settings.fieldMapping = mapping;
  return settings;
}

/** Validates the factory's `defaults` (route settings every route starts from). */
export function parseDefaultRouteSettings(defaults: unknown): SalesforceRouteSettings {
  return combine(builtInRouteSettings, parsePartial(defaults, "The connector's defaults", "defaults"));
}

/** A route's settings (`context.route.settings`) over the defaults. */
export function parseRouteSettings(
  route: RouteContext | undefined,
  defaults: SalesforceRouteSettings,
): SalesforceRouteSettings {
  if (route === undefined) return defaults;
  return combine(defaults, parsePartial(route.settings, `Route ${JSON.stringify(route.name)}`, "salesforce"));
}

/**
 * A route's Salesforce settings over the built-in defaults: for hosts that validate the routing file
 * at startup. Throws ConfigurationError naming the route and the setting.
 */
export function validateSalesforceRouteSettings(route: RouteContext): SalesforceRouteSettings {
  return parseRouteSettings(route, builtInRouteSettings);
}

/** The Linq fields a route syncs (those mapped to a field). */
export function syncedFields(settings: SalesforceRouteSettings): LinqContactField[] {
  return linqContactFields.filter((field) => settings.fieldMapping[field] !== null);
}

// ------------------------------------------------------------------ factory options

/** JWT bearer flow (server to server): a connected app's consumer key and the certificate's private key. */
export interface SalesforceJwtSettings {
  /** The connected app's consumer key (the JWT's `iss`). */
  clientId: string;
  /** The Salesforce username the token is for (the JWT's `sub`). */
  username: string;
  /** PEM private key (RS256) matching the certificate uploaded to the connected app. */
  privateKey: string;
  /** The JWT's `aud`. Default: the login URL (https://login.salesforce.com or https://test.salesforce.com). */
  audience?: string | undefined;
}

export interface ParsedConnectorOptions {
  /** "access-token" (no refresh), "refresh-token" (OAuth web/server flow) or "jwt" (JWT bearer). */
  authentication: "access-token" | "refresh-token" | "jwt" | "injected";
  accessToken: string | undefined;
  instanceUrl: string | undefined;
  refreshToken: string | undefined;
  clientId: string | undefined;
  clientSecret: string | undefined;
  loginUrl: string;
  jwt: SalesforceJwtSettings | undefined;
  apiVersion: string;
  /** The external-id field holding the Linq contact id, per object (only when configured). */
  externalIdFields: Partial<Record<SalesforceObjectName, string>>;
  pollIntervalSeconds: number | false;
  /** Above this share of the daily API limit requests are spaced out. Default 0.8. */
  slowDownAtShare: number;
  /** At this share of the daily limit work waits instead of calling. Default 0.95. */
  stopAtShare: number;
  /** A backfill above this many records uses Bulk API 2.0. Default 2000. */
  bulkThreshold: number;
  timeoutMs: number;
  maxRetries: number;
  /** How long jobs wait after REQUEST_LIMIT_EXCEEDED before trying again. Default 900. */
  requestLimitRetrySeconds: number;
  defaultRegion: string | undefined;
}

const httpUrl = (example: string) =>
  z.url({ protocol: /^https?$/, error: `expected an http(s) URL such as ${example}` });

const connectorOptionsSchema = z.object({
  accessToken: z.string().trim().min(1, { error: "expected an OAuth access token" }).optional(),
  instanceUrl: httpUrl("https://yourcompany.my.salesforce.com").optional(),
  refreshToken: z.string().trim().min(1, { error: "expected an OAuth refresh token" }).optional(),
  clientId: z.string().trim().min(1, { error: "expected the connected app's consumer key" }).optional(),
  clientSecret: z.string().min(1, { error: "expected the connected app's consumer secret" }).optional(),
  loginUrl: httpUrl("https://login.salesforce.com (or https://test.salesforce.com for a sandbox)").optional(),
  jwt: z
    .strictObject({
      clientId: z.string().trim().min(1, { error: "expected the connected app's consumer key" }),
      username: z.string().trim().min(1, { error: "expected the Salesforce username" }),
      privateKey: z.string().refine((value) => value.includes("PRIVATE KEY"), {
        error: "expected a PEM private key (-----BEGIN PRIVATE KEY----- …)",
      }),
      audience: z.string().min(1).optional(),
    })
    .optional(),
  apiVersion: z
    .string()
    .regex(/^\d{2,3}\.0$/, { error: "expected an API version such as 62.0" })
    .optional(),
  externalIdField: z
    .union([fieldName, z.strictObject({ Contact: fieldName.optional(), Lead: fieldName.optional() })])
    .optional(),
  pollIntervalSeconds: z.union([z.number().int().min(5).max(86_400), z.literal(false)]).optional(),
  slowDownAtShare: z.number().gt(0).max(1).optional(),
  stopAtShare: z.number().gt(0).max(1).optional(),
  bulkThreshold: z.number().int().min(1).optional(),
  timeoutMs: z.number().int().min(100).max(600_000).optional(),
  maxRetries: z.number().int().min(0).max(10).optional(),
  requestLimitRetrySeconds: z.number().int().min(1).max(86_400).optional(),
  defaultRegion: z
    .string()
    .regex(/^[A-Z]{2}$/, { error: "expected an ISO 3166 country code such as US" })
    .optional(),
});

/** Validates the scalar options of `createSalesforceConnector`. `injected`: a jsforce Connection was given. */
export function parseConnectorOptions(
  options: Record<string, unknown>,
  injected: boolean,
): ParsedConnectorOptions {
  const result = connectorOptionsSchema.safeParse(options);
  if (!result.success) {
    throw new ConfigurationError(
      `Invalid Salesforce connector settings: ${describeIssues(result.error, "")}`,
    );
  }
  const value = result.data;
  const loginUrl = (value.loginUrl ?? "https://login.salesforce.com").replace(/\/+$/, "");
  let authentication: ParsedConnectorOptions["authentication"];
  if (injected) authentication = "injected";
  else if (value.jwt !== undefined) authentication = "jwt";
  else if (value.refreshToken !== undefined) {
    if (value.clientId === undefined) {
      throw new ConfigurationError(
        "Invalid Salesforce connector settings: refreshToken needs clientId (and clientSecret) of the connected app",
      );
    }
    authentication = "refresh-token";
  } else if (value.accessToken !== undefined) {
    if (value.instanceUrl === undefined) {
      throw new ConfigurationError(
        "Invalid Salesforce connector settings: accessToken needs instanceUrl (e.g. https://yourcompany.my.salesforce.com)",
      );
    }
    authentication = "access-token";
  } else {
    throw new ConfigurationError(
      "Invalid Salesforce connector settings: give accessToken + instanceUrl, refreshToken + clientId (+ clientSecret), or jwt { clientId, username, privateKey } (or pass connection)",
    );
  }
  const slowDownAtShare = value.slowDownAtShare ?? 0.8;
  const stopAtShare = value.stopAtShare ?? Math.max(0.95, slowDownAtShare);
  if (stopAtShare < slowDownAtShare) {
    throw new ConfigurationError(
      "Invalid Salesforce connector settings: stopAtShare must be at least slowDownAtShare",
    );
  }
  const externalIdFields: Partial<Record<SalesforceObjectName, string>> =
    value.externalIdField === undefined
      ? {}
      : typeof value.externalIdField === "string"
        ? { Contact: value.externalIdField, Lead: value.externalIdField }
        : Object.fromEntries(
            Object.entries(value.externalIdField).filter(([, field]) => field !== undefined),
          );
  return {
    authentication,
    accessToken: value.accessToken,
    instanceUrl: value.instanceUrl?.replace(/\/+$/, ""),
    refreshToken: value.refreshToken,
    clientId: value.clientId,
    clientSecret: value.clientSecret,
    loginUrl,
    jwt: value.jwt,
    apiVersion: value.apiVersion ?? "62.0",
    externalIdFields,
    pollIntervalSeconds: value.pollIntervalSeconds ?? 60,
    slowDownAtShare,
    stopAtShare,
    bulkThreshold: value.bulkThreshold ?? 2000,
    timeoutMs: value.timeoutMs ?? 30_000,
    maxRetries: value.maxRetries ?? 2,
    requestLimitRetrySeconds: value.requestLimitRetrySeconds ?? 900,
    defaultRegion: value.defaultRegion,
  };
}
