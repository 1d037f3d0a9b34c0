/**
 * Public types of the HubSpot simulator (`@linq-connect/hubspot/testing`).
 *
 * The REST shapes are what HubSpot's CRM v3/v4 APIs answer on the wire (and what
 * `simulator.state` returns): objects are `{id, properties, createdAt, updatedAt,
 * archived}` with every property value a string.
 */

/** The CRM object types the simulator implements. Paths also accept the singular name and the type id (`0-1`). */
export type HubSpotObjectType = "contacts" | "companies" | "calls" | "communications";

/** A CRM record as the v3 object APIs return it. `properties` holds only the properties that have a value. */
export interface HubSpotSimulatorObject {
  id: string;
  properties: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
}

/** An association type between two object types, as `GET /crm/v4/associations/{from}/{to}/labels` lists it. */
export interface HubSpotAssociationType {
  category: "HUBSPOT_DEFINED" | "USER_DEFINED" | "INTEGRATOR_DEFINED";
  typeId: number;
  label: string | null;
}

/** The records one record is associated with, with every association type between them. */
export interface HubSpotSimulatorAssociation {
  toObjectType: HubSpotObjectType;
  toObjectId: string;
  associationTypes: HubSpotAssociationType[];
}

/** An option of an enumeration property. */
export interface HubSpotPropertyOption {
  label: string;
  value: string;
  displayOrder: number;
  hidden: boolean;
  description?: string;
}

/** A property definition in the shape of `GET /crm/v3/properties/{objectType}`. */
export interface HubSpotSimulatorProperty {
  name: string;
  label: string;
  type: "string" | "number" | "date" | "datetime" | "enumeration" | "bool" | "phone_number";
  fieldType: string;
  description: string;
  groupName: string;
  options: HubSpotPropertyOption[];
  displayOrder: number;
  calculated: boolean;
  externalOptions: boolean;
  hasUniqueValue: boolean;
  hidden: boolean;
  hubspotDefined?: boolean;
  modificationMetadata: { archivable: boolean; readOnlyDefinition: boolean; readOnlyValue: boolean };
  formField: boolean;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
}

/** A HubSpot user who can own records (`GET /crm/v3/owners`). */
export interface HubSpotSimulatorOwner {
  id: string;
  email: string;
  type: "PERSON";
  firstName: string;
  lastName: string;
  userId: number;
  userIdIncludingInactive: number;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
}

/** An owner given to {@link HubSpotSimulatorOptions.owners}. */
export interface HubSpotSimulatorOwnerInput {
  /** The owner id (a numeric string). */
  id: string;
  email: string;
  firstName?: string;
  lastName?: string;
  /** The user id (used in `sourceId: "userId:…"` of UI changes). Default: derived from the owner id. */
  userId?: number;
  /** Deactivated owners are listed only with `archived=true`. */
  archived?: boolean;
}

/** The rate limits of a private app. */
export interface HubSpotRateLimitOptions {
  /** The rolling ten-second burst limit (`TEN_SECONDLY_ROLLING`). Default 100 (a private app on a Free/Starter account). */
  requestsPer10Seconds?: number;
  /** The CRM search endpoints' own limit (`SECONDLY`). Default 5. */
  searchRequestsPerSecond?: number;
  /** Requests per day (`DAILY`, reset at midnight UTC of the simulator clock). Default 500 000. */
  dailyLimit?: number;
}

/** The legacy CRM webhook subscription types the simulator fires. */
export type HubSpotSubscriptionType =
  | "contact.creation"
  | "contact.propertyChange"
  | "contact.deletion"
  | "company.creation"
  | "company.propertyChange"
  | "company.deletion";

/** A webhook subscription of the app. `propertyName` is required for (and only for) `*.propertyChange`. */
export interface HubSpotWebhookSubscription {
  id: number;
  subscriptionType: HubSpotSubscriptionType;
  propertyName?: string;
  active: boolean;
}

/** A subscription given to the options or to `webhooks.configure`; the id is assigned when omitted. */
export interface HubSpotWebhookSubscriptionInput {
  id?: number;
  subscriptionType: HubSpotSubscriptionType;
  propertyName?: string;
  active?: boolean;
}

/** Options of {@link startHubSpotSimulator}. Every field is optional. */
export interface HubSpotSimulatorOptions {
  /** TCP port to listen on. Default 0 (an ephemeral port). */
  port?: number;
  /** Interface to listen on. Default `"127.0.0.1"`. */
  host?: string;
  /** The private app access token accepted as `Authorization: Bearer …`. Default `"pat-sim-…"` (random per simulator). */
  accessToken?: string;
  /** The scopes granted to the token. Default: every scope the implemented endpoints need. */
  scopes?: string[];
  /** The app's client secret, used to sign webhooks (v1 and v3). Default: a random UUID. */
  clientSecret?: string;
  /** The HubSpot account id (`portalId` of webhook events). Default 62515. */
  portalId?: number;
  /** The app id (`appId` of webhook events and `sourceId` of the app's own API writes). Default 54321. */
  appId?: number;
  /** The account's users. Default: one owner `admin@example.com`. */
  owners?: HubSpotSimulatorOwnerInput[];
  /** The private app rate limits, or `false` to switch them off. */
  rateLimit?: HubSpotRateLimitOptions | false;
  /**
   * How long a created, updated or deleted record takes to reach the search index. Search is eventually
   * consistent on HubSpot: until the lag has passed, search returns the previous version (or nothing).
   * Default 0.
   */
  searchIndexLagMs?: number;
  /** The app's webhook target URL (null: events are recorded but not delivered). Settable later. */
  webhookUrl?: string | null;
  /** The app's webhook subscriptions. Default: contact creation, deletion and the property changes of the usual contact fields. */
  webhookSubscriptions?: HubSpotWebhookSubscriptionInput[];
  /** Webhook delivery: per-attempt timeout (default 5 000 ms as HubSpot), retries after the first attempt (default 3; HubSpot retries 10 times over 24 h) and the first retry delay (default 1 000 ms, doubled each retry). */
  webhookDelivery?: { timeoutMs?: number; retries?: number; retryDelayMs?: number };
  /** The clock for timestamps, rate limits and the search index lag. Default `() => new Date()`. */
  now?: () => Date;
  /** Receives one line per request and per webhook attempt. Silent by default. */
  logger?: (line: string) => void;
}

/** One event of a webhook request body (an array of these). */
export interface HubSpotWebhookEvent {
  eventId: number;
  subscriptionId: number;
  portalId: number;
  appId: number;
  /** Epoch milliseconds. */
  occurredAt: number;
  subscriptionType: HubSpotSubscriptionType;
  /** 0 for the first attempt, incremented on each retry. */
  attemptNumber: number;
  objectId: number;
  propertyName?: string;
  propertyValue?: string;
  /** `CRM_UI` for changes made through `simulator.crm`, `INTEGRATION` for the app's own API writes. */
  changeSource: string;
  /** `CREATED` on creation events, `DELETED` on deletion events. */
  changeFlag?: "CREATED" | "DELETED";
  /** `userId:<id>` for UI changes, the app id for the app's own API writes. */
  sourceId?: string;
  isSensitive?: boolean;
}

/** One webhook request attempt. */
export interface HubSpotWebhookDelivery {
  url: string;
  /** The events in the body (their `attemptNumber` is this attempt's). */
  events: HubSpotWebhookEvent[];
  /** The exact body posted. */
  body: string;
  /** 0 for the first attempt. */
  attemptNumber: number;
  /** The receiver's status, or null when the attempt failed without one. */
  status: number | null;
  /** Why the attempt failed without a status (timeout, connection refused, …). */
  error: string | null;
  ok: boolean;
  /** Whether this request repeats events already sent (`configure({ duplicateProbability })`). */
  duplicate: boolean;
  /** `X-HubSpot-Signature-v3`. */
  signatureV3: string;
  /** `X-HubSpot-Request-Timestamp` (epoch ms, as a string). */
  timestamp: string;
  /** `X-HubSpot-Signature` (v1: hex SHA-256 of client secret + body). */
  signatureV1: string;
  /** ISO time the attempt started. */
  at: string;
  durationMs: number;
}

/** Webhook delivery settings; omitted fields keep their value. */
export interface HubSpotWebhookConfiguration {
  /** The target URL (null stops delivery). */
  targetUrl?: string | null;
  /** Events per request (HubSpot sends up to 100). Default 100. */
  batchSize?: number;
  /** How long events are collected into one request before it is sent. Default 0 (the next tick). */
  delayMs?: number;
  /** Shuffle the events of each collection window and the order of its requests. Default false. */
  reorder?: boolean;
  /** 0..1: the probability that an event is delivered a second time (same eventId) in a later request. Default 0. */
  duplicateProbability?: number;
  /** Replaces the subscriptions. */
  subscriptions?: HubSpotWebhookSubscriptionInput[];
  /** The random source for duplicates and shuffling. Default `Math.random`. */
  random?: () => number;
}

/** Webhook inspection and settings. */
export interface HubSpotSimulatorWebhooks {
  /** Every attempt, in the order they finished. */
  readonly deliveries: HubSpotWebhookDelivery[];
  /** Every event generated (delivered or not), in order, with `attemptNumber` 0. */
  readonly events: HubSpotWebhookEvent[];
  /** The target URL (null: events are recorded but not delivered). */
  targetUrl: string | null;
  subscriptions(): HubSpotWebhookSubscription[];
  configure(options: HubSpotWebhookConfiguration): void;
  /** Resolves when every collected, in-flight and retrying request has finished. */
  flush(): Promise<void>;
}

/** Who makes a change through `simulator.crm`. */
export interface HubSpotCrmActor {
  /** The acting user's id (`sourceId: "userId:<id>"`). Default: the first owner's user id. */
  userId?: number;
  /** Default `CRM_UI`. */
  changeSource?: string;
}

/** Acts as a HubSpot user in the UI: every change fires the subscribed webhook events with `changeSource: "CRM_UI"`. */
export interface HubSpotSimulatorCrm {
  createContact(properties: Record<string, string>, actor?: HubSpotCrmActor): HubSpotSimulatorObject;
  updateContact(
    id: string,
    properties: Record<string, string>,
    actor?: HubSpotCrmActor,
  ): HubSpotSimulatorObject;
  deleteContact(id: string, actor?: HubSpotCrmActor): void;
  createCompany(properties: Record<string, string>, actor?: HubSpotCrmActor): HubSpotSimulatorObject;
  createObject(
    objectType: HubSpotObjectType,
    properties: Record<string, string>,
    actor?: HubSpotCrmActor,
  ): HubSpotSimulatorObject;
  updateObject(
    objectType: HubSpotObjectType,
    id: string,
    properties: Record<string, string>,
    actor?: HubSpotCrmActor,
  ): HubSpotSimulatorObject;
  deleteObject(objectType: HubSpotObjectType, id: string, actor?: HubSpotCrmActor): void;
  /** Associates two records (both directions) with the default type, or the given HUBSPOT_DEFINED type id. */
  associate(input: {
    fromObjectType: HubSpotObjectType;
    fromObjectId: string;
    toObjectType: HubSpotObjectType;
    toObjectId: string;
    associationTypeId?: number;
  }): void;
}

/** Read-only inspection of the simulator's state. Every method returns copies. */
export interface HubSpotSimulatorStateView {
  /** Live (not archived) contacts by id ascending; `{ archived: true }` lists the archived ones. */
  contacts(options?: { archived?: boolean }): HubSpotSimulatorObject[];
  /** A contact by id, archived or not. */
  contact(id: string): HubSpotSimulatorObject | undefined;
  companies(options?: { archived?: boolean }): HubSpotSimulatorObject[];
  company(id: string): HubSpotSimulatorObject | undefined;
  communications(options?: { archived?: boolean }): HubSpotSimulatorObject[];
  communication(id: string): HubSpotSimulatorObject | undefined;
  calls(options?: { archived?: boolean }): HubSpotSimulatorObject[];
  call(id: string): HubSpotSimulatorObject | undefined;
  objects(objectType: HubSpotObjectType, options?: { archived?: boolean }): HubSpotSimulatorObject[];
  /** The associations of a record, optionally only those to one object type. */
  associations(
    fromObjectType: HubSpotObjectType,
    fromObjectId: string,
    toObjectType?: HubSpotObjectType,
  ): HubSpotSimulatorAssociation[];
  /** The property definitions of an object type (archived ones excluded). */
  properties(objectType: HubSpotObjectType): HubSpotSimulatorProperty[];
  owners(): HubSpotSimulatorOwner[];
}

/** The kinds of faults {@link HubSpotFaultRule} can inject. */
export type HubSpotFaultKind =
  | "rate-limit"
  | "server-error"
  | "bad-gateway"
  | "latency"
  | "timeout"
  | "drop-connection"
  | "drop-after-processing";

/**
 * A fault to inject into matching requests, checked before authentication:
 * - `rate-limit`: 429 with HubSpot's rate-limit body (`policy`, default `TEN_SECONDLY_ROLLING`) and, only
 *   when `retryAfterSeconds` is given, a `Retry-After` header (HubSpot does not send one)
 * - `server-error`: 500 with HubSpot's JSON error body
 * - `bad-gateway`: 502 with an HTML body, as a load balancer answers
 * - `latency`: wait `latencyMs` (default 500) then answer normally
 * - `timeout`: never answer; the socket stays open until the client gives up (or the simulator closes)
 * - `drop-connection`: destroy the socket before doing anything
 * - `drop-after-processing`: process the request (state changes, webhooks fire) then destroy the socket
 */
export interface HubSpotFaultRule {
  /** Which requests the fault affects; omitted fields match everything. `path` is compared with the path without query. */
  match?: { method?: string; path?: string | RegExp };
  kind: HubSpotFaultKind;
  /** How many matching requests it affects. Default Infinity. */
  times?: number;
  retryAfterSeconds?: number;
  latencyMs?: number;
  policy?: "TEN_SECONDLY_ROLLING" | "SECONDLY" | "DAILY";
}

/** Returned by `faults.inject`. */
export interface HubSpotFaultHandle {
  /** How many requests the fault has affected so far. */
  readonly hits: number;
  remove(): void;
}

export interface HubSpotSimulatorFaults {
  inject(fault: HubSpotFaultRule): HubSpotFaultHandle;
  clear(): void;
}

/** One request the simulator received. */
export interface HubSpotRecordedRequest {
  /** The `X-HubSpot-Correlation-Id` the simulator answered with. */
  correlationId: string;
  method: string;
  /** The path without query. */
  path: string;
  /** Query parameters; repeated keys become arrays. */
  query: Record<string, string | string[]>;
  /** The status answered (or that would have been, for `drop-after-processing`); null while pending or when dropped. */
  status: number | null;
  /** ISO time the request arrived. */
  at: string;
  fault: HubSpotFaultKind | null;
  /** The rate limit policy that rejected the request, if any. */
  rateLimitPolicy: "TEN_SECONDLY_ROLLING" | "SECONDLY" | "DAILY" | null;
  /** The parsed JSON body (the text when it is not JSON); null without a body. */
  body: unknown;
}

/** A running HubSpot simulator. */
export interface HubSpotSimulator {
  /** `http://127.0.0.1:<port>`: pass it as `basePath` to `@hubspot/api-client`. */
  readonly baseUrl: string;
  readonly accessToken: string;
  readonly clientSecret: string;
  readonly portalId: number;
  readonly appId: number;
  readonly state: HubSpotSimulatorStateView;
  /** Every request received, in arrival order. */
  readonly requests: HubSpotRecordedRequest[];
  readonly crm: HubSpotSimulatorCrm;
  readonly webhooks: HubSpotSimulatorWebhooks;
  readonly faults: HubSpotSimulatorFaults;
  /** Forgets every record, association, custom property, request, fault, event and delivery; keeps the options. */
  reset(): void;
  close(): Promise<void>;
}
