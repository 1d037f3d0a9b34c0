/**
 * The HubSpot simulator: a stateful fake of the HubSpot CRM APIs a private app uses, as a real HTTP
 * server (node:http) on 127.0.0.1, for `@hubspot/api-client` pointed at it with `basePath`.
 *
 * ```ts
 * import { Client } from "@hubspot/api-client";
 * import { startHubSpotSimulator } from "@linq-connect/hubspot/testing";
 *
 * const hubspot = await startHubSpotSimulator({ webhookUrl: "http://127.0.0.1:3000/webhooks/hubspot" });
 * const client = new Client({ accessToken: hubspot.accessToken, basePath: hubspot.baseUrl });
 * hubspot.crm.createContact({ email: "jane@example.com" }); // a user in the UI: contact.creation, …
 * await hubspot.webhooks.flush();                             // webhook requests have been answered
 * hubspot.state.contacts();                                   // inspect what happened
 * await hubspot.close();
 * ```
 *
 * Behaviour, in short (details on each module):
 * - Contacts, companies, calls and communications under `/crm/v3/objects`, with search, batch
 *   endpoints and inline associations; properties, owners and associations v4.
 * - `Authorization: Bearer <accessToken>` or 401 `INVALID_AUTHENTICATION`; a token without the
 *   endpoint's scopes gets 403 `MISSING_SCOPES`.
 * - HubSpot's error bodies (`status`, `message`, `correlationId`, `errors`, `context`, `category`);
 *   every answer carries `X-HubSpot-Correlation-Id`, authenticated ones the `X-HubSpot-RateLimit-*` headers.
 * - Rate limits: 100 requests per rolling 10 s, 5 searches per second, a daily quota; 429 bodies name
 *   the policy (no `Retry-After`, as HubSpot).
 * - Search is eventually consistent: records reach the index `searchIndexLagMs` after each change.
 * - Every change (API or `simulator.crm`) fires the subscribed webhook events, batched and signed.
 * - Faults (`simulator.faults.inject`) are applied before authentication.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { ConfigurationError } from "@linq-connect/core";
import {
  closeSimulatorServer,
  createSimulatorServer,
  listenSimulatorServer,
  readSimulatorRequestBody,
} from "@linq-connect/core/testing";
import {
  authenticationError,
  HubSpotApiError,
  isHubSpotApiError,
  missingScopesError,
  newCorrelationId,
  type RateLimitPolicy,
  rateLimitError,
  resourceNotFoundError,
} from "./simulator-errors.ts";
import { type AppliedFault, FaultRegistry } from "./simulator-faults.ts";
import { renderContactList, renderContactPage, renderNotFoundPage } from "./simulator-html.ts";
import { RateLimiter, type RateLimitSettings } from "./simulator-limits.ts";
import {
  matchRoute,
  parseJsonBody,
  type Route,
  type RouteResponse,
  type RouteServices,
} from "./simulator-routes.ts";
import { associationRoutes } from "./simulator-routes-associations.ts";
import { metadataRoutes } from "./simulator-routes-metadata.ts";
import { objectRoutes } from "./simulator-routes-objects.ts";
import {
  ALL_SCOPES,
  associationDefinition,
  associationTypesBetween,
  OBJECT_TYPE_NAMES,
  OBJECT_TYPES,
  renderAssociationType,
} from "./simulator-schema.ts";
import { type ChangeOrigin, type ObjectChange, SimulatorStore } from "./simulator-store.ts";
import type {
  HubSpotCrmActor,
  HubSpotObjectType,
  HubSpotRecordedRequest,
  HubSpotSimulator,
  HubSpotSimulatorCrm,
  HubSpotSimulatorFaults,
  HubSpotSimulatorObject,
  HubSpotSimulatorOptions,
  HubSpotSimulatorOwner,
  HubSpotSimulatorStateView,
  HubSpotSimulatorWebhooks,
  HubSpotSubscriptionType,
  HubSpotWebhookEvent,
  HubSpotWebhookSubscription,
  HubSpotWebhookSubscriptionInput,
} from "./simulator-types.ts";
import { formatInstant } from "./simulator-values.ts";
import { assertTargetUrl, sleepUntilAborted, WebhookDispatcher } from "./simulator-webhooks.ts";

const MAX_BODY_BYTES = 10 * 1024 * 1024;
const DEFAULT_PORTAL_ID = 62515;
const DEFAULT_APP_ID = 54321;
const FIRST_SUBSCRIPTION_ID = 100_001;
const FIRST_EVENT_ID = 1_000_001;
const OWNERS_CREATED_AT = formatInstant(Date.UTC(2019, 11, 25, 13, 1, 35, 228));

/** The contact properties whose changes the default subscriptions follow. */
const DEFAULT_WATCHED_PROPERTIES = [
  "firstname",
  "lastname",
  "email",
  "phone",
  "mobilephone",
  "company",
  "jobtitle",
  "city",
  "hubspot_owner_id",
  "lifecyclestage",
];

const SUBSCRIPTION_TYPES: readonly HubSpotSubscriptionType[] = [
  "contact.creation",
  "contact.propertyChange",
  "contact.deletion",
  "company.creation",
  "company.propertyChange",
  "company.deletion",
];

/**
 * Starts a HubSpot simulator listening on `host:port` (default 127.0.0.1 on an ephemeral port).
 * Close it with `await simulator.close()`. Throws `ConfigurationError` for invalid options.
 */
export async function startHubSpotSimulator(
  options: HubSpotSimulatorOptions = {},
): Promise<HubSpotSimulator> {
  const simulator = new RunningSimulator(resolveSettings(options));
  await simulator.listen();
  return simulator;
}

interface Settings {
  port: number;
  host: string;
  accessToken: string;
  scopes: Set<string>;
  clientSecret: string;
  portalId: number;
  appId: number;
  owners: HubSpotSimulatorOwner[];
  rateLimit: RateLimitSettings | undefined;
  searchIndexLagMs: number;
  webhookUrl: string | null;
  subscriptions: HubSpotWebhookSubscriptionInput[] | undefined;
  webhookDelivery: { timeoutMs: number; retries: number; retryDelayMs: number };
  now: () => Date;
  log: (line: string) => void;
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  const resolved = value ?? fallback;
  if (!(Number.isInteger(resolved) && resolved > 0))
    throw new ConfigurationError(`${name} must be a positive integer`);
  return resolved;
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  const resolved = value ?? fallback;
  if (!(Number.isFinite(resolved) && resolved >= 0))
    throw new ConfigurationError(`${name} must be a non-negative number`);
  return resolved;
}

function resolveSettings(options: HubSpotSimulatorOptions): Settings {
  const accessToken = options.accessToken ?? `pat-sim-${randomUUID()}`;
  if (typeof accessToken !== "string" || accessToken.trim() === "") {
    throw new ConfigurationError("accessToken must be a non-empty string");
  }
  const clientSecret = options.clientSecret ?? randomUUID();
  if (typeof clientSecret !== "string" || clientSecret === "") {
    throw new ConfigurationError("clientSecret must be a non-empty string");
  }
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new ConfigurationError("port must be 0..65535");
  const ownerInputs = options.owners ?? [
    { id: "41629779", email: "admin@example.com", firstName: "Admin", lastName: "User", userId: 9586504 },
  ];
  const ownerIds = new Set<string>();
  const owners = ownerInputs.map((input, index): HubSpotSimulatorOwner => {
    if (!/^\d+$/.test(input.id))
      throw new ConfigurationError(`Owner id ${JSON.stringify(input.id)} must be numeric`);
    if (ownerIds.has(input.id)) throw new ConfigurationError(`Owner id ${input.id} is used twice`);
    ownerIds.add(input.id);
    if (typeof input.email !== "string" || !input.email.includes("@")) {
      throw new ConfigurationError(`Owner ${input.id} needs an email address`);
    }
    const userId = input.userId ?? 9_000_000 + index;
    return {
      id: input.id,
      email: input.email,
      type: "PERSON",
      firstName: input.firstName ?? "",
      lastName: input.lastName ?? "",
      userId,
      userIdIncludingInactive: userId,
      createdAt: OWNERS_CREATED_AT,
      updatedAt: OWNERS_CREATED_AT,
      archived: input.archived ?? false,
    };
  });
  let rateLimit: RateLimitSettings | undefined;
  if (options.rateLimit !== false) {
    rateLimit = {
      requestsPer10Seconds: positiveInteger(
        options.rateLimit?.requestsPer10Seconds,
        100,
        "rateLimit.requestsPer10Seconds",
      ),
      searchRequestsPerSecond: positiveInteger(
        options.rateLimit?.searchRequestsPerSecond,
        5,
        "rateLimit.searchRequestsPerSecond",
      ),
      dailyLimit: positiveInteger(options.rateLimit?.dailyLimit, 500_000, "rateLimit.dailyLimit"),
    };
  }
  const retries = options.webhookDelivery?.retries ?? 3;
  if (!(Number.isInteger(retries) && retries >= 0)) {
    throw new ConfigurationError("webhookDelivery.retries must be a non-negative integer");
  }
  return {
    port,
    host: options.host ?? "127.0.0.1",
    accessToken,
    scopes: new Set(options.scopes ?? ALL_SCOPES),
    clientSecret,
    portalId: positiveInteger(options.portalId, DEFAULT_PORTAL_ID, "portalId"),
    appId: positiveInteger(options.appId, DEFAULT_APP_ID, "appId"),
    owners,
    rateLimit,
    searchIndexLagMs: nonNegative(options.searchIndexLagMs, 0, "searchIndexLagMs"),
    webhookUrl: options.webhookUrl ?? null,
    subscriptions: options.webhookSubscriptions,
    webhookDelivery: {
      timeoutMs: positiveInteger(options.webhookDelivery?.timeoutMs, 5_000, "webhookDelivery.timeoutMs"),
      retries,
      retryDelayMs: nonNegative(options.webhookDelivery?.retryDelayMs, 1_000, "webhookDelivery.retryDelayMs"),
    },
    now: options.now ?? (() => new Date()),
    log: options.logger ?? (() => {}),
  };
}

class RunningSimulator implements HubSpotSimulator {
  readonly accessToken: string;
  readonly clientSecret: string;
  readonly portalId: number;
  readonly appId: number;
  readonly state: HubSpotSimulatorStateView;
  readonly crm: HubSpotSimulatorCrm;
  readonly webhooks: HubSpotSimulatorWebhooks;
  readonly faults: HubSpotSimulatorFaults;
  private address = "";
  private readonly settings: Settings;
  private readonly store: SimulatorStore;
  private readonly dispatcher: WebhookDispatcher;
  private readonly faultRegistry = new FaultRegistry();
  private readonly routes: Route[] = [...objectRoutes(), ...associationRoutes(), ...metadataRoutes()];
  private readonly server: Server;
  private readonly recorded: HubSpotRecordedRequest[] = [];
  private limiter: RateLimiter | undefined;
  private subscriptionList: HubSpotWebhookSubscription[] = [];
  private nextEventId = FIRST_EVENT_ID;
  private readonly lifetime = new AbortController();
  private closing: Promise<void> | undefined;

  constructor(settings: Settings) {
    this.settings = settings;
    this.accessToken = settings.accessToken;
    this.clientSecret = settings.clientSecret;
    this.portalId = settings.portalId;
    this.appId = settings.appId;
    this.subscriptionList = this.buildSubscriptions(settings.subscriptions);
    assertTargetUrl(settings.webhookUrl);
    this.dispatcher = new WebhookDispatcher({
      clientSecret: settings.clientSecret,
      ...settings.webhookDelivery,
      targetUrl: settings.webhookUrl,
      now: settings.now,
      log: settings.log,
    });
    this.store = new SimulatorStore({
      now: settings.now,
      portalId: settings.portalId,
      owners: settings.owners,
      searchIndexLagMs: settings.searchIndexLagMs,
      onChange: (change) => this.onChange(change),
    });
    this.limiter = this.newLimiter();
    this.state = this.createStateView();
    this.crm = this.createCrm();
    this.faults = {
      inject: (fault) => this.faultRegistry.inject(fault),
      clear: () => this.faultRegistry.clear(),
    };
    const dispatcher = this.dispatcher;
    this.webhooks = {
      get deliveries() {
        return dispatcher.deliveries;
      },
      get events() {
        return dispatcher.events;
      },
      get targetUrl() {
        return dispatcher.targetUrl;
      },
      set targetUrl(url: string | null) {
        dispatcher.setTargetUrl(url);
      },
      subscriptions: () => this.subscriptionList.map((subscription) => ({ ...subscription })),
      configure: (configuration) => {
        const subscriptions =
          configuration.subscriptions === undefined
            ? undefined
            : this.buildSubscriptions(configuration.subscriptions);
        dispatcher.configure(configuration);
        if (subscriptions !== undefined) this.subscriptionList = subscriptions;
      },
      flush: () => dispatcher.flush(),
    };
    this.server = createSimulatorServer(
      (request, response) => this.handleRequest(request, response),
      this.settings.log,
    );
  }

  get baseUrl(): string {
    return this.address;
  }

  get requests(): HubSpotRecordedRequest[] {
    return this.recorded;
  }

  async listen(): Promise<void> {
    this.address = await listenSimulatorServer(this.server, this.settings.host, this.settings.port);
  }

  reset(): void {
    this.store.reset();
    this.dispatcher.reset();
    this.faultRegistry.clear();
    this.recorded.length = 0;
    this.limiter = this.newLimiter();
    this.nextEventId = FIRST_EVENT_ID;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.lifetime.abort();
      await this.dispatcher.close();
      await closeSimulatorServer(this.server);
    })();
    return this.closing;
  }

  private newLimiter(): RateLimiter | undefined {
    return this.settings.rateLimit === undefined
      ? undefined
      : new RateLimiter(this.settings.rateLimit, this.settings.now);
  }

  // ------------------------------------------------------------------ request pipeline

  private async handleRequest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = performance.now();
    const method = (request.method ?? "GET").toUpperCase();
    const url = new URL(request.url ?? "/", "http://simulator.invalid");
    const path = url.pathname;
    const correlationId = newCorrelationId(this.settings.now());
    const record: HubSpotRecordedRequest = {
      correlationId,
      method,
      path,
      query: queryRecord(url.searchParams),
      status: null,
      at: this.settings.now().toISOString(),
      fault: null,
      rateLimitPolicy: null,
      body: null,
    };
    this.recorded.push(record);
    const log = (outcome: string): void =>
      this.settings.log(
        `${method} ${path}${url.search} → ${outcome} (${Math.round(performance.now() - started)} ms)`,
      );

    const fault = this.faultRegistry.take(method, path);
    if (fault !== undefined) record.fault = fault.kind;
    if (fault?.kind === "drop-connection") {
      request.socket.destroy();
      log("connection dropped (fault)");
      return;
    }
    if (fault?.kind === "timeout") {
      request.resume();
      log("no answer (timeout fault)");
      return;
    }
    const raw = await readSimulatorRequestBody(request, MAX_BODY_BYTES);
    const body = { text: raw.bytes.toString("utf8"), tooLarge: raw.tooLarge, complete: raw.complete };
    if (!body.complete) {
      log("client disconnected before sending the whole body");
      return;
    }
    if (fault?.kind === "latency") await sleepUntilAborted(fault.latencyMs, this.lifetime.signal);
    if (this.lifetime.signal.aborted) {
      request.socket.destroy();
      return;
    }

    let result: RouteResponse & { html?: string };
    if (fault !== undefined && isAnsweringFault(fault)) {
      result = faultResponse(fault, correlationId);
    } else {
      const page = method === "GET" ? this.htmlPage(path) : undefined;
      if (page !== undefined) {
        result = page;
      } else {
        try {
          result = this.process(request, url, body, record);
        } catch (error) {
          result = this.errorResponse(error, correlationId);
        }
      }
    }
    if (record.body === null && body.text !== "") record.body = parseJsonOrText(body.text);
    record.status = result.status;
    if (fault?.kind === "drop-after-processing") {
      request.socket.destroy();
      log(`${result.status} processed, then connection dropped (fault)`);
      return;
    }
    writeResponse(response, result, correlationId);
    log(`${result.status}${fault === undefined ? "" : ` (fault: ${fault.kind})`}`);
  }

  private htmlPage(path: string): (RouteResponse & { html: string }) | undefined {
    if (path === "/" || path === "/contacts" || path === "/contacts/") {
      return { status: 200, html: renderContactList(this.store) };
    }
    const match = /^\/contacts\/([^/]+)\/?$/.exec(path);
    if (match === null) return undefined;
    const html = renderContactPage(this.store, decodeURIComponent(match[1] ?? ""));
    return html === undefined ? { status: 404, html: renderNotFoundPage() } : { status: 200, html };
  }

  private process(
    request: IncomingMessage,
    url: URL,
    body: { text: string; tooLarge: boolean },
    record: HubSpotRecordedRequest,
  ): RouteResponse {
    const authorization = request.headers.authorization ?? "";
    if (authorization !== `Bearer ${this.accessToken}`) throw authenticationError();
    const matched = matchRoute(this.routes, record.method, record.path);
    const decision = this.limiter?.take(matched.route?.isSearch ?? false);
    const rateHeaders = decision?.headers ?? {};
    try {
      if (decision?.policy !== undefined) {
        record.rateLimitPolicy = decision.policy;
        throw rateLimitError(decision.policy);
      }
      if (matched.route === undefined) {
        if (matched.pathExists) {
          throw new HubSpotApiError(405, `Request method '${record.method}' is not supported`);
        }
        throw resourceNotFoundError();
      }
      for (const group of matched.route.scopes(matched.params)) {
        if (!group.some((scope) => this.settings.scopes.has(scope))) throw missingScopesError(group);
      }
      if (body.tooLarge) throw new HubSpotApiError(413, "Request body is too large");
      const contentType = (request.headers["content-type"] ?? "").toLowerCase();
      if (body.text.trim() !== "" && !contentType.includes("json")) {
        throw new HubSpotApiError(415, `Content type '${contentType || "none"}' not supported`);
      }
      const parsed = parseJsonBody(body.text);
      if (parsed !== undefined) record.body = parsed;
      const services: RouteServices = {
        store: this.store,
        portalId: this.portalId,
        baseUrl: this.baseUrl,
        apiOrigin: { changeSource: "INTEGRATION", sourceId: String(this.appId) },
      };
      const result = matched.route.handle(
        {
          method: record.method,
          path: record.path,
          params: matched.params,
          query: url.searchParams,
          body: parsed,
        },
        services,
      );
      return { ...result, headers: { ...rateHeaders, ...result.headers } };
    } catch (error) {
      if (isHubSpotApiError(error)) {
        for (const [name, value] of Object.entries(rateHeaders)) error.headers[name] ??= value;
      }
      throw error;
    }
  }

  private errorResponse(error: unknown, correlationId: string): RouteResponse {
    if (isHubSpotApiError(error)) {
      return { status: error.status, json: error.body(correlationId), headers: error.headers };
    }
    const message = error instanceof Error ? error.message : String(error);
    this.settings.log(
      `simulator handler failure: ${error instanceof Error ? (error.stack ?? message) : message}`,
    );
    return {
      status: 500,
      json: {
        status: "error",
        message: `Simulator failure: ${message}`,
        correlationId,
        category: "INTERNAL_ERROR",
      },
    };
  }

  // ------------------------------------------------------------------ webhooks

  private buildSubscriptions(
    inputs: HubSpotWebhookSubscriptionInput[] | undefined,
  ): HubSpotWebhookSubscription[] {
    const list: HubSpotWebhookSubscriptionInput[] =
      inputs ??
      ([
        { subscriptionType: "contact.creation" },
        { subscriptionType: "contact.deletion" },
        ...DEFAULT_WATCHED_PROPERTIES.map((propertyName) => ({
          subscriptionType: "contact.propertyChange" as const,
          propertyName,
        })),
      ] satisfies HubSpotWebhookSubscriptionInput[]);
    const used = new Set<number>();
    let next = FIRST_SUBSCRIPTION_ID;
    return list.map((input) => {
      if (!SUBSCRIPTION_TYPES.includes(input.subscriptionType)) {
        throw new ConfigurationError(`Unknown subscription type ${JSON.stringify(input.subscriptionType)}`);
      }
      const isPropertyChange = input.subscriptionType.endsWith(".propertyChange");
      if (isPropertyChange !== (input.propertyName !== undefined)) {
        throw new ConfigurationError(
          `${input.subscriptionType} subscriptions ${isPropertyChange ? "need" : "take no"} propertyName`,
        );
      }
      let id = input.id;
      if (id === undefined) {
        while (used.has(next)) next += 1;
        id = next;
      }
      if (used.has(id)) throw new ConfigurationError(`Subscription id ${id} is used twice`);
      used.add(id);
      return {
        id,
        subscriptionType: input.subscriptionType,
        ...(input.propertyName === undefined ? {} : { propertyName: input.propertyName }),
        active: input.active ?? true,
      };
    });
  }

  /** Turns a record change into the webhook events of the matching active subscriptions. */
  private onChange(change: ObjectChange): void {
    if (change.objectType !== "contacts" && change.objectType !== "companies") return;
    const prefix = OBJECT_TYPES[change.objectType].singular;
    const subscriptionType = `${prefix}.${change.kind}` as HubSpotSubscriptionType;
    const subscriptions = this.subscriptionList.filter(
      (subscription) =>
        subscription.active &&
        subscription.subscriptionType === subscriptionType &&
        (change.kind !== "propertyChange" || subscription.propertyName === change.propertyName),
    );
    for (const subscription of subscriptions) {
      const event: HubSpotWebhookEvent = {
        eventId: this.nextEventId,
        subscriptionId: subscription.id,
        portalId: this.portalId,
        appId: this.appId,
        occurredAt: change.occurredAt,
        subscriptionType,
        attemptNumber: 0,
        objectId: Number(change.objectId),
        ...(change.kind === "propertyChange"
          ? { propertyName: change.propertyName ?? "", propertyValue: change.propertyValue ?? "" }
          : {}),
        ...(change.kind === "creation" ? { changeFlag: "CREATED" as const } : {}),
        ...(change.kind === "deletion" ? { changeFlag: "DELETED" as const } : {}),
        changeSource: change.origin.changeSource,
        sourceId: change.origin.sourceId,
        ...(change.kind === "propertyChange" ? { isSensitive: false } : {}),
      };
      this.nextEventId += 1;
      this.dispatcher.enqueue(event);
    }
  }

  // ------------------------------------------------------------------ views and controls

  private createStateView(): HubSpotSimulatorStateView {
    const store = this.store;
    const list = (type: HubSpotObjectType, options?: { archived?: boolean }): HubSpotSimulatorObject[] =>
      store.list(type, options?.archived ?? false).map((record) => store.render(record));
    const one = (type: HubSpotObjectType, id: string): HubSpotSimulatorObject | undefined => {
      const record = store.find(type, id);
      return record === undefined ? undefined : store.render(record);
    };
    return {
      contacts: (options) => list("contacts", options),
      contact: (id) => one("contacts", id),
      companies: (options) => list("companies", options),
      company: (id) => one("companies", id),
      communications: (options) => list("communications", options),
      communication: (id) => one("communications", id),
      calls: (options) => list("calls", options),
      call: (id) => one("calls", id),
      objects: (type, options) => list(type, options),
      associations: (fromType, fromId, toType) =>
        store.associationsOf(fromType, fromId, toType).map((association) => ({
          toObjectType: association.toType,
          toObjectId: association.toId,
          associationTypes: association.typeIds.map((typeId) => {
            const definition = associationDefinition(typeId);
            return definition === undefined
              ? { category: "HUBSPOT_DEFINED" as const, typeId, label: null }
              : renderAssociationType(definition);
          }),
        })),
      properties: (type) => structuredClone(store.properties(type)),
      owners: () => structuredClone(store.owners),
    };
  }

  private uiOrigin(actor: HubSpotCrmActor | undefined): ChangeOrigin {
    const userId = actor?.userId ?? this.settings.owners[0]?.userId ?? 0;
    return { changeSource: actor?.changeSource ?? "CRM_UI", sourceId: `userId:${userId}` };
  }

  private createCrm(): HubSpotSimulatorCrm {
    const store = this.store;
    const asConfigurationError = <T>(action: () => T): T => {
      try {
        return action();
      } catch (error) {
        if (isHubSpotApiError(error)) throw new ConfigurationError(error.message, { cause: error });
        throw error;
      }
    };
    const assertType = (type: HubSpotObjectType): void => {
      if (!OBJECT_TYPE_NAMES.includes(type))
        throw new ConfigurationError(`Unknown object type ${JSON.stringify(type)}`);
    };
    const create = (type: HubSpotObjectType, properties: Record<string, string>, actor?: HubSpotCrmActor) =>
      asConfigurationError(() => {
        assertType(type);
        const values = store.checkProperties(type, properties, "create");
        if (type === "contacts") store.assertEmailFree(values.get("email"));
        return store.render(store.insert(type, values, this.uiOrigin(actor)));
      });
    const update = (
      type: HubSpotObjectType,
      id: string,
      properties: Record<string, string>,
      actor?: HubSpotCrmActor,
    ) =>
      asConfigurationError(() => {
        assertType(type);
        const record = store.live(type, id);
        if (record === undefined)
          throw new ConfigurationError(`There is no live ${OBJECT_TYPES[type].singular} ${id}`);
        const values = store.checkProperties(type, properties, "update");
        if (type === "contacts") store.assertEmailFree(values.get("email"), record.id);
        store.update(record, values, this.uiOrigin(actor));
        return store.render(record);
      });
    const remove = (type: HubSpotObjectType, id: string, actor?: HubSpotCrmActor): void => {
      assertType(type);
      const record = store.live(type, id);
      if (record === undefined)
        throw new ConfigurationError(`There is no live ${OBJECT_TYPES[type].singular} ${id}`);
      store.archive(record, this.uiOrigin(actor));
    };
    return {
      createContact: (properties, actor) => create("contacts", properties, actor),
      updateContact: (id, properties, actor) => update("contacts", id, properties, actor),
      deleteContact: (id, actor) => remove("contacts", id, actor),
      createCompany: (properties, actor) => create("companies", properties, actor),
      createObject: create,
      updateObject: update,
      deleteObject: remove,
      associate: (input) => {
        assertType(input.fromObjectType);
        assertType(input.toObjectType);
        const types = associationTypesBetween(input.fromObjectType, input.toObjectType);
        const definition =
          input.associationTypeId === undefined
            ? types.find((candidate) => candidate.isDefault)
            : types.find((candidate) => candidate.typeId === input.associationTypeId);
        if (definition === undefined) {
          throw new ConfigurationError(
            `No association type ${input.associationTypeId ?? "(default)"} from ${input.fromObjectType} to ${input.toObjectType}`,
          );
        }
        for (const [type, id] of [
          [input.fromObjectType, input.fromObjectId],
          [input.toObjectType, input.toObjectId],
        ] as const) {
          if (store.live(type, id) === undefined) {
            throw new ConfigurationError(`There is no live ${OBJECT_TYPES[type].singular} ${id}`);
          }
        }
        store.associate(input.fromObjectType, input.fromObjectId, input.toObjectType, input.toObjectId, [
          definition.typeId,
        ]);
      },
    };
  }
}

function isAnsweringFault(fault: AppliedFault): boolean {
  return fault.kind === "rate-limit" || fault.kind === "server-error" || fault.kind === "bad-gateway";
}

function faultResponse(fault: AppliedFault, correlationId: string): RouteResponse & { html?: string } {
  if (fault.kind === "rate-limit") {
    const error = rateLimitError(fault.policy as RateLimitPolicy, fault.retryAfterSeconds);
    return { status: 429, json: error.body(correlationId), headers: error.headers };
  }
  if (fault.kind === "bad-gateway") {
    return {
      status: 502,
      html: "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n",
    };
  }
  return {
    status: 500,
    json: { status: "error", message: "internal error", correlationId, category: "INTERNAL_ERROR" },
  };
}

function writeResponse(
  response: ServerResponse,
  result: RouteResponse & { html?: string },
  correlationId: string,
): void {
  const headers: Record<string, string | number> = {
    "x-hubspot-correlation-id": correlationId,
    ...result.headers,
  };
  let bytes: Uint8Array = new Uint8Array(0);
  if (result.html !== undefined) {
    bytes = Buffer.from(result.html, "utf8");
    headers["content-type"] = "text/html;charset=utf-8";
  } else if (result.json !== undefined) {
    bytes = Buffer.from(JSON.stringify(result.json), "utf8");
    headers["content-type"] = "application/json;charset=utf-8";
  }
  if (result.status !== 204) headers["content-length"] = bytes.byteLength;
  response.writeHead(result.status, headers);
  response.end(result.status === 204 ? undefined : bytes);
}

function queryRecord(parameters: URLSearchParams): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(parameters.keys())) {
    const values = parameters.getAll(key);
    query[key] = values.length === 1 ? (values[0] ?? "") : values;
  }
  return query;
}

function parseJsonOrText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
