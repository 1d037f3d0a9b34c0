/**
 * `createHubSpotConnector`: two-way contact sync between Linq and HubSpot, and Linq conversations and
 * calls logged as HubSpot activities, as a `ConnectorV1` for the sync-service.
 *
 * - Linq events: `contact.created` / `contact.updated` / `contact.deleted` (contact sync, routed
 *   organisation-wide by the host), `message.received` / `message.sent` (Communications) and
 *   `call.completed` (Calls), each under its route's `hubspot` settings.
 * - `POST /webhooks/hubspot`: HubSpot's contact webhooks, verified (v3), acknowledged, processed as
 *   `hubspot.contact-changed` jobs one contact at a time.
 * - A reconciliation schedule catches HubSpot changes whose webhook never arrived.
 * - `backfill()`: every Linq contact (and conversation history) into HubSpot with batch endpoints.
 */
import type { Client } from "@hubspot/api-client";
import {
  CONNECTOR_SPECIFICATION_VERSION,
  ConfigurationError,
  type ConnectorContext,
  type ConnectorJob,
  type ConnectorLogger,
  type ConnectorV1,
  type CountryCode,
  type HealthCheckResult,
  type InboundRoute,
  type LinqEventType,
  type LinqWebhookEvent,
  type RouteContext,
  type ScheduledTask,
  UnexpectedResponseError,
} from "@linq-connect/core";
import { ActivityLogger } from "./activities.ts";
import { type BackfillHubSpotOptions, backfillHubSpot, type HubSpotBackfillSummary } from "./backfill.ts";
import type { ConnectorServices } from "./connector-services.ts";
import { ContactSync } from "./contact-sync.ts";
import { checkHubSpotHealth } from "./health-check.ts";
import { createHubSpotClient, freezeDecorators, HubSpotApi, type HubSpotRequestInfo } from "./hubspot-api.ts";
import {
  CONTACT_CHANGED_JOB,
  contactChangedPayloadSchema,
  handleHubSpotWebhook,
  isOwnWrite,
} from "./hubspot-webhooks.ts";
import { sharedHubSpotRateLimiter } from "./rate-limiter.ts";
import { reconcileHubSpotContacts } from "./reconciliation.ts";
import {
  type HubSpotRateLimitSettings,
  type HubSpotRouteSettings,
  type HubSpotRouteSettingsInput,
  parseConnectorOptions,
  parseDefaultRouteSettings,
  parseRouteSettings,
} from "./settings.ts";

export interface HubSpotConnectorOptions {
  /** The private app's access token (required unless `client` is given). */
  accessToken?: string | undefined;
  /** The app's client secret: verifies webhooks (v3). Without it `POST /webhooks/hubspot` answers 401. */
  clientSecret?: string | undefined;
  /** Another API host (the simulator). Default https://api.hubapi.com. */
  baseUrl?: string | undefined;
  /** A `@hubspot/api-client` Client of your own; build it with `numberOfApiCallRetries: 0`. */
  client?: Client | undefined;
  /** The app id: webhook events of our own API writes (`INTEGRATION`, `sourceId` = app id) are skipped at once. */
  appId?: number | string | undefined;
  /** The webhook target URL as configured in the app (the URI HubSpot signs). Default: rebuilt from the request. */
  webhookUrl?: string | undefined;
  /** Process-wide pacing: `{ requestsPer10Seconds: 100 (up to 190), searchPerSecond: 5 }`. */
  rateLimit?: Partial<HubSpotRateLimitSettings> | undefined;
  /** Per attempt. Default 30 000. */
  timeoutMs?: number | undefined;
  /** In-process retries of a 429. Default 6. */
  maxRateLimitRetries?: number | undefined;
  /** In-process retries of 5xx / timeouts / dropped connections, for repeatable calls. Default 2. */
  maxServerErrorRetries?: number | undefined;
  /** Reconciliation interval; false switches it off. Default 300. */
  reconciliationIntervalSeconds?: number | false | undefined;
  /** Webhooks older (or newer) than this are refused. Default 300 (HubSpot's 5 minutes). */
  webhookToleranceSeconds?: number | undefined;
  /** Region of phone numbers written without a country code. Default "US". */
  defaultRegion?: CountryCode | undefined;
  /** Route settings every route starts from (a route's `hubspot` block overrides them). */
  defaults?: HubSpotRouteSettingsInput | undefined;
  /**
   * The route whose settings govern work that comes with no route: HubSpot webhooks and the
   * reconciliation (HubSpot → Linq). The host passes its first HubSpot route whose `contacts` is
   * two-way or crm-to-linq, or null when none is (HubSpot → Linq is then off). Default: the defaults.
   */
  inboundRoute?: RouteContext | null | undefined;
  /** Every route using HubSpot, for `checkHealth` (mapped properties). */
  routes?: readonly RouteContext[] | undefined;
  logger?: ConnectorLogger | undefined;
  /** Called after every HubSpot request attempt. */
  onRequestComplete?: ((info: HubSpotRequestInfo) => void) | undefined;
  /** The clock (tests). */
  now?: (() => Date) | undefined;
}

/** The connector, plus the batch backfill the `linq-sync backfill hubspot` command can call. */
export interface HubSpotConnector extends ConnectorV1 {
  /** The HubSpot API as the connector uses it (pacing, retries, errors). */
  readonly api: HubSpotApi;
  /** Linq contacts (and history) into HubSpot with batch endpoints, resumable. See `backfillHubSpot`. */
  backfill(
    options: Omit<BackfillHubSpotOptions, "api" | "settings" | "phoneNumberOptions"> & {
      route?: RouteContext | undefined;
    },
  ): Promise<HubSpotBackfillSummary>;
}

const EVENTS: readonly LinqEventType[] = [
  "contact.created",
  "contact.updated",
  "contact.deleted",
  "message.received",
  "message.sent",
  "call.completed",
];

export function createHubSpotConnector(options: HubSpotConnectorOptions): HubSpotConnector {
  if (options === null || typeof options !== "object") {
    throw new ConfigurationError("createHubSpotConnector needs an options object");
  }
  const {
    client: injected,
    logger,
    onRequestComplete,
    now: clock,
    defaults,
    inboundRoute,
    routes,
    ...scalars
  } = options;
  const parsed = parseConnectorOptions(scalars as Record<string, unknown>);
  if (injected === undefined && parsed.accessToken === undefined) {
    throw new ConfigurationError(
      "Invalid HubSpot connector settings: accessToken is required (or pass client)",
    );
  }
  const defaultSettings = parseDefaultRouteSettings(defaults);
  const inboundSettings: HubSpotRouteSettings | undefined =
    inboundRoute === null ? undefined : parseRouteSettings(inboundRoute, defaultSettings);
  const routeSettings = (routes ?? []).map((route) => parseRouteSettings(route, defaultSettings));
  const now = clock ?? (() => new Date());
  const client =
    injected ??
    createHubSpotClient({
      accessToken: parsed.accessToken as string,
      baseUrl: parsed.baseUrl,
      timeoutMs: parsed.timeoutMs,
    });
  if (injected !== undefined) freezeDecorators(injected);
  const limiter = sharedHubSpotRateLimiter(
    { accessToken: parsed.accessToken ?? injected?.config.accessToken, baseUrl: parsed.baseUrl },
    parsed.rateLimit,
  );
  const api = new HubSpotApi({
    client,
    limiter,
    timeoutMs: parsed.timeoutMs,
    maxRateLimitRetries: parsed.maxRateLimitRetries,
    maxServerErrorRetries: parsed.maxServerErrorRetries,
    logger,
    onRequestComplete,
  });
  const services: ConnectorServices = {
    api,
    appId: parsed.appId,
    phoneNumberOptions:
      parsed.defaultRegion === undefined ? {} : { defaultRegion: parsed.defaultRegion as CountryCode },
    now,
    logger,
  };
  const contacts = new ContactSync(services);
  const activities = new ActivityLogger(services, contacts);

  const settingsFor = (context: ConnectorContext) => parseRouteSettings(context.route, defaultSettings);
  const offSettings: HubSpotRouteSettings = { ...defaultSettings, contacts: "off" };
  const inboundSettingsFor = (context: ConnectorContext) =>
    context.route === undefined ? (inboundSettings ?? offSettings) : settingsFor(context);

  const inboundRoutes: InboundRoute[] = [
    {
      method: "POST",
      path: "/webhooks/hubspot",
      handle: (request, context) =>
        handleHubSpotWebhook(request, context, {
          clientSecret: parsed.clientSecret,
          webhookUrl: parsed.webhookUrl,
          appId: parsed.appId,
          toleranceSeconds: parsed.webhookToleranceSeconds,
          now,
        }),
    },
  ];
  const schedules: ScheduledTask[] =
    parsed.reconciliationIntervalSeconds === false
      ? []
      : [
          {
            name: "hubspot-reconciliation",
            intervalSeconds: parsed.reconciliationIntervalSeconds,
            run: async (context) => {
              await reconcileHubSpotContacts(services, inboundSettingsFor(context), context);
            },
          },
        ];

  return {
    specificationVersion: CONNECTOR_SPECIFICATION_VERSION,
    name: "hubspot",
    events: EVENTS,
    inboundRoutes,
    schedules,
    api,

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
      if (job.type !== CONTACT_CHANGED_JOB) {
        throw new UnexpectedResponseError(
          `The HubSpot connector has no job type ${JSON.stringify(job.type)}`,
          {
            source: "internal",
          },
        );
      }
      const payload = contactChangedPayloadSchema.safeParse(job.payload);
      if (!payload.success) {
        throw new UnexpectedResponseError(`Invalid ${CONTACT_CHANGED_JOB} job payload`, {
          source: "internal",
        });
      }
      const { objectId, events } = payload.data;
      if (events.length > 0 && events.every((event) => isOwnWrite(event, services.appId))) return;
      await contacts.syncHubSpotContact(objectId, inboundSettingsFor(context), context);
    },

    async checkHealth(context: ConnectorContext): Promise<HealthCheckResult[]> {
      const all = [
        defaultSettings,
        ...(inboundSettings === undefined ? [] : [inboundSettings]),
        ...routeSettings,
      ];
      if (context.route !== undefined) all.push(settingsFor(context));
      return checkHubSpotHealth(
        services,
        {
          settings: all,
          clientSecret: parsed.clientSecret,
          appId: parsed.appId,
          webhookUrl: parsed.webhookUrl,
        },
        context,
      );
    },

    async backfill(backfillOptions) {
      const { route, ...rest } = backfillOptions;
      return backfillHubSpot({
        ...rest,
        api,
        settings: parseRouteSettings(route, defaultSettings),
        phoneNumberOptions: services.phoneNumberOptions,
      });
    },

    async close(): Promise<void> {
      if (injected !== undefined) return;
      const agent = (client.config as { httpAgent?: { destroy(): void } }).httpAgent;
      agent?.destroy();
    },
  };
}
