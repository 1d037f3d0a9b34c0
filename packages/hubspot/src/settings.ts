/**
 * Settings of the HubSpot connector, validated with zod. A bad setting is a ConfigurationError that
 * names it and says what is expected; a token or secret is never echoed.
 *
 * - `parseConnectorOptions`: the factory's options (credentials, limits, timeouts);
 * - `parseRouteSettings`: a route's `hubspot` block plus the route's `contacts` and `activities`
 *   (`context.route.settings` from the host), over the factory's `defaults`.
 */
import { ConfigurationError, type RouteContext } from "@linq-connect/core";
import { z } from "zod";
import {
  defaultHubSpotFieldMapping,
  type HubSpotFieldMapping,
  type LinqContactField,
  linqContactFields,
} from "./field-mapping.ts";

export type ContactSyncMode = "two-way" | "linq-to-crm" | "crm-to-linq" | "off";
export type ActivitySyncMode = "per-message" | "daily-digest" | "off";

/** The channel types HubSpot documents for logging messages (it has no iMessage or RCS value). */
export const hubSpotChannelTypes = ["SMS", "WHATS_APP", "LINKEDIN_MESSAGE"] as const;
export type HubSpotChannelType = (typeof hubSpotChannelTypes)[number];

/** What a Linq `contact.deleted` does to the linked HubSpot contact. */
export type LinqContactDeletedAction =
  | "ignore"
  | "archive"
  | { setProperty: { name: string; value: string } };

/** A route's HubSpot settings after defaults. */
export interface HubSpotRouteSettings {
  /** Contact sync between Linq and HubSpot (the route's `contacts`). Default "two-way". */
  contacts: ContactSyncMode;
  /** Messages and calls logged in HubSpot (the route's `activities`). Default "per-message". */
  activities: ActivitySyncMode;
  /** Linq contact field → HubSpot contact property, defaults merged in; null switches a field off. */
  fieldMapping: HubSpotFieldMapping;
  /** Linq `contact.deleted`: "ignore" (default), "archive" the HubSpot contact, or set a property on it. */
  contactDeleted: LinqContactDeletedAction;
  /** A HubSpot contact deleted (archived): "ignore" (default: only the link is forgotten) or "delete" the Linq contact. */
  hubSpotContactDeleted: "ignore" | "delete";
  /** `hs_communication_channel_type` of logged messages. Default "SMS". */
  channelType: HubSpotChannelType;
  /** Whether the body of a logged message names the service that carried it (iMessage, SMS, RCS). Default true. */
  showServiceInBody: boolean;
  /** Associate activities with the contact's primary company too. Default false. */
  associatePrimaryCompany: boolean;
  /** Create the HubSpot contact of a number that texts or calls and is not in HubSpot. Default true. */
  createUnknownContacts: boolean;
  /** Set `hubspot_owner_id` from the Linq contact owner's email when that user is a HubSpot owner. Default true. */
  syncOwner: boolean;
  /** The IANA time zone whose calendar days group messages in "daily-digest". Default "UTC". */
  digestTimeZone: string;
  /** Who wins a field conflict whose timestamps are equal or unknown. Default "hubspot". */
  conflictTieBreaker: "linq" | "hubspot";
}

const propertyName = z
  .string()
  .regex(/^[a-z][a-z0-9_]*$/, { error: "expected a HubSpot property internal name (e.g. mobilephone)" });

const fieldMappingSchema = z.strictObject(
  Object.fromEntries(linqContactFields.map((field) => [field, propertyName.nullable().optional()])) as Record<
    LinqContactField,
    z.ZodOptional<z.ZodNullable<typeof propertyName>>
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

const routeSettingsShape = {
  contacts: z.enum(["two-way", "linq-to-crm", "crm-to-linq", "off"]),
  activities: z.enum(["per-message", "daily-digest", "off"]),
  fieldMapping: fieldMappingSchema,
  contactDeleted: z.union([
    z.enum(["ignore", "archive"]),
    z.strictObject({ setProperty: z.strictObject({ name: propertyName, value: z.string() }) }),
  ]),
  hubSpotContactDeleted: z.enum(["ignore", "delete"]),
  channelType: z.enum(hubSpotChannelTypes),
  showServiceInBody: z.boolean(),
  associatePrimaryCompany: z.boolean(),
  createUnknownContacts: z.boolean(),
  syncOwner: z.boolean(),
  digestTimeZone: z.string().refine(isTimeZone, { error: "expected an IANA time zone such as Europe/Paris" }),
  conflictTieBreaker: z.enum(["linq", "hubspot"]),
};

/** Every key optional: what a route or the factory's `defaults` may give. */
const partialRouteSettingsSchema = z.strictObject(routeSettingsShape).partial();

export type HubSpotRouteSettingsInput = z.input<typeof partialRouteSettingsSchema>;

const builtInRouteSettings: HubSpotRouteSettings = {
  contacts: "two-way",
  activities: "per-message",
  fieldMapping: defaultHubSpotFieldMapping,
  contactDeleted: "ignore",
  hubSpotContactDeleted: "ignore",
  channelType: "SMS",
  showServiceInBody: true,
  associatePrimaryCompany: false,
  createUnknownContacts: true,
  syncOwner: true,
  digestTimeZone: "UTC",
  conflictTieBreaker: "hubspot",
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

function parsePartial(input: unknown, where: string, prefix: string): HubSpotRouteSettingsInput {
  const result = partialRouteSettingsSchema.safeParse(input ?? {});
  if (!result.success) {
    throw new ConfigurationError(
      `${where} has invalid HubSpot settings: ${describeIssues(result.error, prefix)}`,
    );
  }
  return result.data;
}

function combine(base: HubSpotRouteSettings, overrides: HubSpotRouteSettingsInput): HubSpotRouteSettings {
  const { fieldMapping, ...rest } = overrides;
  const settings: HubSpotRouteSettings = { ...base };
  for (const [key, value] of Object.entries(rest)) {
    if (value !== undefined) (settings as unknown as Record<string, unknown>)[key] = value;
  }
  if (fieldMapping !== undefined) {
    const mapping: Record<LinqContactField, string | null> = { ...base.fieldMapping };
    for (const field of linqContactFields) {
      const property = fieldMapping[field];
      if (property !== undefined) mapping[field] = property;
    }
    settings.fieldMapping = mapping;
  }
  return settings;
}

/** Validates the factory's `defaults` (route settings every route starts from). */
export function parseDefaultRouteSettings(defaults: unknown): HubSpotRouteSettings {
  return combine(builtInRouteSettings, parsePartial(defaults, "The connector's defaults", "defaults"));
}

/** A route's settings (`context.route.settings`) over the defaults. */
export function parseRouteSettings(
  route: RouteContext | undefined,
  defaults: HubSpotRouteSettings,
): HubSpotRouteSettings {
  if (route === undefined) return defaults;
  return combine(defaults, parsePartial(route.settings, `Route ${JSON.stringify(route.name)}`, "hubspot"));
}

/**
 * A route's HubSpot settings over the built-in defaults: for hosts that validate the routing file
 * at startup. Throws ConfigurationError naming the route and the setting.
 */
export function validateHubSpotRouteSettings(route: RouteContext): HubSpotRouteSettings {
  return parseRouteSettings(route, builtInRouteSettings);
}

/** The mapped HubSpot property of a field, or undefined when the field is switched off. */
export function mappedProperty(settings: HubSpotRouteSettings, field: LinqContactField): string | undefined {
  return settings.fieldMapping[field] ?? undefined;
}

// ------------------------------------------------------------------ factory options

/** The private app's rate limits as the connector paces itself. */
export interface HubSpotRateLimitSettings {
  /** Requests per rolling 10 seconds for the whole process (HubSpot's burst limit). Default 100; up to 190. */
  requestsPer10Seconds: number;
  /** CRM search requests per second (HubSpot's search limit). Default 5. */
  searchPerSecond: number;
}

export interface ParsedConnectorOptions {
  accessToken: string | undefined;
  clientSecret: string | undefined;
  baseUrl: string | undefined;
  appId: string | undefined;
  webhookUrl: string | undefined;
  rateLimit: HubSpotRateLimitSettings;
  timeoutMs: number;
  maxRateLimitRetries: number;
  maxServerErrorRetries: number;
  reconciliationIntervalSeconds: number | false;
  webhookToleranceSeconds: number;
  defaultRegion: string | undefined;
}

const connectorOptionsSchema = z.object({
  accessToken: z.string().trim().min(1, { error: "expected the private app's access token" }).optional(),
  clientSecret: z.string().min(1, { error: "expected the app's client secret" }).optional(),
  baseUrl: z.url({ error: "expected an http(s) URL such as https://api.hubapi.com" }).optional(),
  appId: z
    .union([z.number().int().positive(), z.string().regex(/^\d+$/)], { error: "expected the numeric app id" })
    .optional(),
  webhookUrl: z
    .url({
      error:
        "expected the public URL HubSpot posts webhooks to, e.g. https://sync.example.com/webhooks/hubspot",
    })
    .optional(),
  rateLimit: z
    .strictObject({
      requestsPer10Seconds: z
        .number()
        .int()
        .min(1)
        .max(190, { error: "HubSpot allows at most 190 requests per 10 seconds to a private app" })
        .optional(),
      searchPerSecond: z
        .number()
        .int()
        .min(1)
        .max(5, { error: "HubSpot allows at most 5 search requests per second" })
        .optional(),
    })
    .optional(),
  timeoutMs: z.number().int().min(100).max(300_000).optional(),
  maxRateLimitRetries: z.number().int().min(0).max(20).optional(),
  maxServerErrorRetries: z.number().int().min(0).max(10).optional(),
  reconciliationIntervalSeconds: z.union([z.number().int().min(10), z.literal(false)]).optional(),
  webhookToleranceSeconds: z.number().int().min(1).max(3600).optional(),
  defaultRegion: z
    .string()
    .regex(/^[A-Z]{2}$/, { error: "expected an ISO 3166 country code such as US" })
    .optional(),
});

/** Validates the scalar options of `createHubSpotConnector`. */
export function parseConnectorOptions(options: Record<string, unknown>): ParsedConnectorOptions {
  const result = connectorOptionsSchema.safeParse(options);
  if (!result.success) {
    throw new ConfigurationError(`Invalid HubSpot connector settings: ${describeIssues(result.error, "")}`);
  }
  const value = result.data;
  return {
    accessToken: value.accessToken,
    clientSecret: value.clientSecret,
    baseUrl: value.baseUrl?.replace(/\/+$/, ""),
    appId: value.appId === undefined ? undefined : String(value.appId),
    webhookUrl: value.webhookUrl,
    rateLimit: {
      requestsPer10Seconds: value.rateLimit?.requestsPer10Seconds ?? 100,
      searchPerSecond: value.rateLimit?.searchPerSecond ?? 5,
    },
    timeoutMs: value.timeoutMs ?? 30_000,
    maxRateLimitRetries: value.maxRateLimitRetries ?? 6,
    maxServerErrorRetries: value.maxServerErrorRetries ?? 2,
    reconciliationIntervalSeconds: value.reconciliationIntervalSeconds ?? 300,
    webhookToleranceSeconds: value.webhookToleranceSeconds ?? 300,
    defaultRegion: value.defaultRegion,
  };
}
