/**
 * `createSalesforceConnector`: two-way contact sync between Linq and Salesforce (Contacts or Leads), and
 * Linq conversations and calls logged as Tasks, as a `ConnectorV1` for the sync-service.
 *
 * - Linq events: `contact.created` / `contact.updated` / `contact.deleted` (contact sync),
 *   `message.received` / `message.sent` (Tasks, per message or one digest per conversation and day)
 *   and `call.completed` (call Tasks), each under its route's `salesforce` settings.
 * - Salesforce → Linq: a schedule polls Contacts/Leads changed since the stored `SystemModstamp`
 *   cursor and the Get Deleted resource, and queues one `salesforce.record-changed` job per record
 *   (a Lead route also polls Contacts, for the converted Leads' Contacts it tracks only).
 * - `backfill()`: every Linq contact (and conversation history) into Salesforce with sObject
 *   Collections (200 per request), or Bulk API 2.0 above `bulkThreshold` records.
 */
import {
  CONNECTOR_SPECIFICATION_VERSION,
  ConfigurationError,
  type ConnectorContext,
  type ConnectorJob,
  type ConnectorLogger,
  type ConnectorV1,
  type CountryCode,
  type HealthCheckResult,
  type LinqEventType,
  type LinqWebhookEvent,
  type RouteContext,
  type ScheduledTask,
  UnexpectedResponseError,
} from "@linq-connect/core";
import type { Connection } from "jsforce";
import { ActivityLogger } from "./activities.ts";
import {
  type BackfillSalesforceOptions,
  backfillSalesforce,
  type SalesforceBackfillSummary,
} from "./backfill.ts";
import type { ConnectorServices } from "./connector-services.ts";
import { ContactSync } from "./contact-sync.ts";
import { checkSalesforceHealth } from "./health-check.ts";
import { pollSalesforceChanges, RECORD_CHANGED_JOB, recordChangedPayloadSchema } from "./polling.ts";
import { createSalesforceConnection, SalesforceApi, type SalesforceRequestInfo } from "./salesforce-api.ts";
import {
  parseConnectorOptions,
  parseDefaultRouteSettings,
  parseRouteSettings,
  type SalesforceJwtSettings,
  type SalesforceRouteSettings,
  type SalesforceRouteSettingsInput,
} from "./settings.ts";

export interface SalesforceConnectorOptions {
  /** An access token (with `instanceUrl`): used as is, or as the first session of the refresh-token flow. */
  accessToken?: string | undefined;
  /** The org's URL, e.g. https://yourcompany.my.salesforce.com (the simulator's `instanceUrl`). */
  instanceUrl?: string | undefined;
  /** OAuth refresh token: with `clientId` (and `clientSecret`), sessions are renewed on INVALID_SESSION_ID. */
  refreshToken?: string | undefined;
  /** The connected app's consumer key. */
  clientId?: string | undefined;
  /** The connected app's consumer secret. */
  clientSecret?: string | undefined;
  /** The OAuth host: https://login.salesforce.com (default), https://test.salesforce.com (sandboxes), My Domain, a simulator. */
  loginUrl?: string | undefined;
  /** JWT bearer flow (server to server). */
  jwt?: SalesforceJwtSettings | undefined;
  /** A jsforce Connection of your own (it must be able to refresh its session if that is wanted). */
  connection?: Connection | undefined;
  /** REST API version. Default "62.0". */
  apiVersion?: string | undefined;
  /** A custom external-id field (text, unique) holding the Linq contact id, e.g. "Linq_Id__c" (or per object). */
  externalIdField?: string | { Contact?: string; Lead?: string } | undefined;
  /** Salesforce → Linq polling interval; false switches polling off. Default 60. */
  pollIntervalSeconds?: number | false | undefined;
  /** Above this share of the org's daily API limit, calls are spaced out. Default 0.8. */
  slowDownAtShare?: number | undefined;
  /** At this share, work waits (jobs are retried later) instead of calling. Default 0.95. */
  stopAtShare?: number | undefined;
  /** A backfill with more records than this uses Bulk API 2.0. Default 2000. */
  bulkThreshold?: number | undefined;
  /** Per call. Default 30 000. */
  timeoutMs?: number | undefined;
  /** In-process retries of idempotent calls (429 / 5xx / dropped connections / timeouts). Default 2. */
  maxRetries?: number | undefined;
  /** How long work waits after REQUEST_LIMIT_EXCEEDED. Default 900. */
  requestLimitRetrySeconds?: number | undefined;
  /** Region of phone numbers written without a country code. Default "US". */
  defaultRegion?: CountryCode | undefined;
  /** Route settings every route starts from (a route's `salesforce` block overrides them). */
  defaults?: SalesforceRouteSettingsInput | undefined;
  /**
   * The route whose settings govern work that comes with no route: polling (Salesforce → Linq). The
   * host passes its first Salesforce route whose `contacts` is two-way or crm-to-linq, or null when
   * none is (polling is then off). Default: the defaults.
   */
  inboundRoute?: RouteContext | null | undefined;
  /** Every route using Salesforce, for `checkHealth` (mapped fields). */
  routes?: readonly RouteContext[] | undefined;
  logger?: ConnectorLogger | undefined;
  /** Called after every Salesforce request attempt. */
  onRequestComplete?: ((info: SalesforceRequestInfo) => void) | undefined;
  /** The clock (tests). */
  now?: (() => Date) | undefined;
}

/** The connector, plus the backfill the `linq-sync backfill salesforce` command calls. */
export interface SalesforceConnector extends ConnectorV1 {
  /** The Salesforce API as the connector uses it (pacing, retries, errors, API usage). */
  readonly api: SalesforceApi;
  /** Linq contacts (and history) into Salesforce, resumable. See `backfillSalesforce`. */
  backfill(
    options: Omit<BackfillSalesforceOptions, "services" | "settings"> & { route?: RouteContext | undefined },
  ): Promise<SalesforceBackfillSummary>;
  /** Runs one poll now (what the schedule does). */
  poll(context: ConnectorContext): Promise<void>;
}

const EVENTS: readonly LinqEventType[] = [
  "contact.created",
  "contact.updated",
  "contact.deleted",
  "message.received",
  "message.sent",
  "call.completed",
];

export function createSalesforceConnector(options: SalesforceConnectorOptions): SalesforceConnector {
  if (options === null || typeof options !== "object") {
    throw new ConfigurationError("createSalesforceConnector needs an options object");
  }
  const {
    connection: injected,
    logger,
    onRequestComplete,
    now: clock,
    defaults,
    inboundRoute,
    routes,
    ...scalars
  } = options;
  const parsed = parseConnectorOptions(scalars as Record<string, unknown>, injected !== undefined);
  const defaultSettings = parseDefaultRouteSettings(defaults);
  const inboundSettings: SalesforceRouteSettings | undefined =
    inboundRoute === null ? undefined : parseRouteSettings(inboundRoute, defaultSettings);
  const routeSettings = (routes ?? []).map((route) => parseRouteSettings(route, defaultSettings));
  const now = clock ?? (() => new Date());
  const connection = injected ?? createSalesforceConnection(parsed);
  const api = new SalesforceApi({
    connection,
    timeoutMs: parsed.timeoutMs,
    maxRetries: parsed.maxRetries,
    slowDownAtShare: parsed.slowDownAtShare,
    stopAtShare: parsed.stopAtShare,
    requestLimitRetrySeconds: parsed.requestLimitRetrySeconds,
    logger,
    onRequestComplete,
    now,
  });
  const services: ConnectorServices = {
    api,
    externalIdFields: parsed.externalIdFields,
    bulkThreshold: parsed.bulkThreshold,
    phoneNumberOptions:
      parsed.defaultRegion === undefined ? {} : { defaultRegion: parsed.defaultRegion as CountryCode },
    now,
    logger,
  };
  const contacts = new ContactSync(services);
  const activities = new ActivityLogger(services, contacts);

  const settingsFor = (context: ConnectorContext) => parseRouteSettings(context.route, defaultSettings);
  const offSettings: SalesforceRouteSettings = { ...defaultSettings, contacts: "off" };
  const inboundSettingsFor = (context: ConnectorContext) =>
    context.route === undefined ? (inboundSettings ?? offSettings) : settingsFor(context);
  const poll = async (context: ConnectorContext) => {
    await pollSalesforceChanges(services, inboundSettingsFor(context), context);
  };

  // The inbound route's `pollIntervalSeconds` (routing file) wins over the connector option (environment).
  const pollIntervalSeconds =
    parsed.pollIntervalSeconds === false
      ? false
      : (inboundSettings?.pollIntervalSeconds ?? parsed.pollIntervalSeconds);
  const schedules: ScheduledTask[] =
    pollIntervalSeconds === false
      ? []
      : [{ name: "salesforce-poll", intervalSeconds: pollIntervalSeconds, run: poll }];

  return {
    specificationVersion: CONNECTOR_SPECIFICATION_VERSION,
    name: "salesforce",
    events: EVENTS,
    inboundRoutes: [],
    schedules,
    api,
    poll,

    async handleEvent(event: LinqWebhookEvent, context: ConnectorContext): Promise<void> {
      const settings = settingsFor(context);
      switch (event.event_type) {
        case "contact.created":
        case "contact.updated":
          await contacts.syncLinqContact(event.data, settings, context);
          return;
        case "contact.deleted":
          await contacts.deleteLinqContact(String(event.data.id), settings, context);
          return;
        case "message.received":
        case "message.sent":
          await activities.logMessage(event, settings, context);
          return;
        case "call.completed":
          await activities.logCall(event, settings, context);
          return;
        default:
          return;
      }
    },

    async handleJob(job: ConnectorJob, context: ConnectorContext): Promise<void> {
      if (job.type !== RECORD_CHANGED_JOB) {
        throw new UnexpectedResponseError(
          `The Salesforce connector has no job type ${JSON.stringify(job.type)}`,
          { source: "internal" },
        );
      }
      const payload = recordChangedPayloadSchema.safeParse(job.payload);
      if (!payload.success) {
        throw new UnexpectedResponseError(`Invalid ${RECORD_CHANGED_JOB} job payload`, {
          source: "internal",
        });
      }
      await contacts.syncSalesforceRecord(payload.data, inboundSettingsFor(context), context);
    },

    async checkHealth(context: ConnectorContext): Promise<HealthCheckResult[]> {
      const all = [
        defaultSettings,
        ...(inboundSettings === undefined ? [] : [inboundSettings]),
        ...routeSettings,
      ];
      if (context.route !== undefined) all.push(settingsFor(context));
      return checkSalesforceHealth(
        services,
        { settings: all, authentication: parsed.authentication, slowDownAtShare: parsed.slowDownAtShare },
        context,
      );
    },

    async backfill(backfillOptions) {
      const { route, ...rest } = backfillOptions;
      return backfillSalesforce({
        ...rest,
        services,
        settings: parseRouteSettings(route, defaultSettings),
      });
    },

    async close(): Promise<void> {
      // jsforce keeps no sockets of its own beyond undici's shared pool; nothing to release.
    },
  };
}
