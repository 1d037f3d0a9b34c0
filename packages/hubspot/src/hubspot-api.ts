/**
 * Every HubSpot call the connector makes, through `@hubspot/api-client`, with one policy:
 *
 * - **Pacing**: each call first waits its turn at the process-wide limiter (searches also at the
 *   search limit), so the app stays under 100 (or up to 190) requests per 10 s on every path.
 * - **Retries are ours, not the SDK's.** The SDK is built with `numberOfApiCallRetries: 0` on
 *   purpose: its retry decorator (a) retries every method on 5xx, creates included, which can create a
 *   contact or an activity twice when the first attempt was processed; (b) sleeps 10 s × attempt after
 *   a 429 without looking at how full the window is; (c) cannot be aborted; and (d) is installed in a
 *   process-wide singleton (`ApiDecoratorService`), so another `Client` built with other options in
 *   the same process changes ours. Here a 429 is always retried (HubSpot does not process refused
 *   requests) after pausing the shared limiter until the window drains; 5xx, timeouts and dropped
 *   connections are retried only for calls that are safe to repeat (reads, searches, updates,
 *   associations). A create that fails that way is not repeated here: the error goes to the host,
 *   whose retry runs the whole handler again (mapping, lock, search, 409 adoption) instead of blindly
 *   posting the same create.
 * - **Errors** become the core hierarchy (`toHubSpotError`).
 * - **Timeouts**: the SDK has none; each attempt races `timeoutMs`.
 * - `onRequestComplete` sees every attempt (operation, status, duration, attempt).
 */
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { Client } from "@hubspot/api-client";
import type { AssociationSpecAssociationCategoryEnum } from "@hubspot/api-client/lib/codegen/crm/contacts/models/AssociationSpec.js";
import type { FilterOperatorEnum } from "@hubspot/api-client/lib/codegen/crm/contacts/models/Filter.js";
import {
  AbortError,
  type ConnectorLogger,
  isLinqConnectError,
  type LinqConnectError,
  NotFoundError,
  TimeoutError,
} from "@linq-connect/core";
import { HubSpotRateLimitError, toHubSpotError } from "./hubspot-errors.ts";
import type { HubSpotRateLimiter } from "./rate-limiter.ts";

/** One value in a property's history. */
export interface HubSpotPropertyHistoryEntry {
  value: string;
  /** Epoch milliseconds. */
  timestamp: number;
  sourceType: string;
  sourceId: string | undefined;
}

/** A CRM record as the connector uses it. */
export interface HubSpotRecord {
  id: string;
  properties: Record<string, string | null | undefined>;
  /** Newest first, for the properties asked with history. */
  history: Record<string, HubSpotPropertyHistoryEntry[]>;
  updatedAt: number | undefined;
}

/** What `onRequestComplete` receives after every attempt. */
export interface HubSpotRequestInfo {
  /** e.g. "contacts.search", "communications.create". */
  operation: string;
  /** HTTP status, or undefined when there was no answer (network error, timeout). */
  status: number | undefined;
  durationMs: number;
  /** 1 for the first attempt. */
  attempt: number;
}

export interface HubSpotApiOptions {
  client: Client;
  limiter: HubSpotRateLimiter;
  timeoutMs: number;
  /** In-process retries of a 429 (always safe: HubSpot does not process a refused request). */
  maxRateLimitRetries: number;
  /** In-process retries of 5xx / timeouts / dropped connections, for repeatable calls only. */
  maxServerErrorRetries: number;
  logger?: ConnectorLogger | undefined;
  onRequestComplete?: ((info: HubSpotRequestInfo) => void) | undefined;
}

interface CallOptions {
  /** Counted against the search limit. */
  search?: boolean;
  /** Safe to send again after an ambiguous failure (5xx, timeout, dropped connection). */
  repeatable: boolean;
  signal?: AbortSignal | undefined;
}

/** An input of a batch create (`objectWriteTraceId` correlates results and errors). */
export interface BatchCreateInput {
  objectWriteTraceId: string;
  properties: Record<string, string>;
  associations?: InlineAssociation[];
}

/** An association given with a create. */
export interface InlineAssociation {
  toId: string;
  associationTypeId: number;
}

/** The result of a batch create: records by trace id, and per-input errors. */
export interface BatchCreateResult {
  created: Map<string, HubSpotRecord>;
  errors: { objectWriteTraceIds: string[]; category: string; message: string }[];
}

/** HUBSPOT_DEFINED association type ids the connector uses (published by HubSpot). */
export const ASSOCIATION_TYPES = {
  communicationToContact: 81,
  communicationToCompany: 87,
  callToContact: 194,
  callToCompany: 182,
  contactToCompanyPrimary: 1,
} as const;

const HUBSPOT_DEFINED = "HUBSPOT_DEFINED" as unknown as AssociationSpecAssociationCategoryEnum;

/** A search filter. */
export interface SearchFilter {
  propertyName: string;
  operator: "EQ" | "IN" | "GTE" | "GT" | "LTE" | "HAS_PROPERTY";
  value?: string;
  values?: string[];
}

export interface SearchRequest {
  filterGroups: SearchFilter[][];
  properties: string[];
  /** One sort: "name" ascending or "-name" descending. */
  sort?: string;
  limit?: number;
  after?: string;
}

export interface SearchPage {
  total: number;
  results: HubSpotRecord[];
  after: string | undefined;
}

/** Builds the SDK client the connector uses when none is injected: no SDK retries, keep-alive sockets. */
export function createHubSpotClient(options: {
  accessToken: string;
  baseUrl: string | undefined;
  timeoutMs: number;
}): Client {
  const base = options.baseUrl ?? "https://api.hubapi.com";
  const agentOptions = { keepAlive: true, maxSockets: 16, timeout: options.timeoutMs };
  const httpAgent = base.startsWith("https:") ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
  const client = new Client({
    accessToken: options.accessToken,
    ...(options.baseUrl === undefined ? {} : { basePath: options.baseUrl }),
    numberOfApiCallRetries: 0,
    httpAgent,
  });
  freezeDecorators(client);
  return client;
}

/**
 * The SDK applies its (process-wide) decorators when an API group is first touched; touching the
 * groups we use right after building the client binds them to this client's (empty) decorator list.
 */
export function freezeDecorators(client: Client): void {
  void client.crm.contacts.basicApi;
  void client.crm.companies.basicApi;
  void client.crm.objects.communications.basicApi;
  void client.crm.objects.calls.basicApi;
  void client.crm.owners.ownersApi;
  void client.crm.associations.v4.basicApi;
  void client.crm.properties.coreApi;
}

function toEpoch(value: unknown): number | undefined {
  if (value instanceof Date) return value.getTime();
  if (typeof value === "string" || typeof value === "number") {
    const time = typeof value === "number" ? value : Date.parse(value);
    return Number.isFinite(time) ? time : undefined;
  }
  return undefined;
}

interface SdkRecord {
  id: string;
  properties?: Record<string, string | null>;
  propertiesWithHistory?: Record<
    string,
    { value?: string; timestamp?: unknown; sourceType?: string; sourceId?: string }[]
  >;
  updatedAt?: unknown;
}

/** The SDK's record as a {@link HubSpotRecord}. */
export function toRecord(object: SdkRecord): HubSpotRecord {
  const history: Record<string, HubSpotPropertyHistoryEntry[]> = {};
  for (const [name, entries] of Object.entries(object.propertiesWithHistory ?? {})) {
    history[name] = entries.map((entry) => ({
      value: entry.value ?? "",
      timestamp: toEpoch(entry.timestamp) ?? 0,
      sourceType: entry.sourceType ?? "",
      sourceId: entry.sourceId,
    }));
  }
  return {
    id: String(object.id),
    properties: { ...(object.properties ?? {}) },
    history,
    updatedAt: toEpoch(object.updatedAt),
  };
}

function sleep(milliseconds: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, milliseconds);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortError("Aborted", { source: "hubspot" }));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export class HubSpotApi {
  readonly client: Client;
  readonly limiter: HubSpotRateLimiter;
  private readonly options: HubSpotApiOptions;
  private owners = new Map<string, { id: string | undefined; expires: number }>();

  constructor(options: HubSpotApiOptions) {
    this.options = options;
    this.client = options.client;
    this.limiter = options.limiter;
  }

  /** The same API (client, limiter, caches) with one more observer of every attempt. */
  observed(observer: (info: HubSpotRequestInfo) => void): HubSpotApi {
    const outer = this.options.onRequestComplete;
    const copy = new HubSpotApi({
      ...this.options,
      onRequestComplete: (info) => {
        outer?.(info);
        observer(info);
      },
    });
    copy.owners = this.owners;
    return copy;
  }

  /** Runs one SDK call with pacing, timeout, retries and error mapping. */
  async call<T>(operation: string, options: CallOptions, run: () => Promise<T>): Promise<T> {
    let rateLimited = 0;
    let failed = 0;
    for (let attempt = 1; ; attempt += 1) {
      if (options.signal?.aborted === true)
        throw new AbortError(`HubSpot ${operation} aborted`, { source: "hubspot" });
      const slot = await this.limiter.acquire(options.search === true, options.signal);
      const started = performance.now();
      let error: LinqConnectError;
      try {
        const result = await this.withTimeout(operation, run(), options.signal);
        this.report(operation, 200, started, attempt);
        return result;
      } catch (caught) {
        error = toHubSpotError(caught, operation);
        this.report(operation, error.status, started, attempt);
      }
      if (error instanceof HubSpotRateLimitError) {
        this.limiter.refund(slot, options.search === true);
        if (error.policy === "DAILY" || rateLimited >= this.options.maxRateLimitRetries) throw error;
        rateLimited += 1;
        // HubSpot sends no Retry-After. A refused request is not counted, so trying again soon is
        // cheap: 1 s, then 2 s, 4 s… but never longer than the window our own requests fill needs to
        // drain (other replicas of the app may be filling it too). A Retry-After, when given, wins.
        const given = error.retryAfterGiven ? (error.retryAfter ?? 0) * 1000 : 0;
        const backoff = Math.min(this.limiter.drainMilliseconds(), 1_000 * 2 ** (rateLimited - 1));
        const pause = Math.max(error.policy === "SECONDLY" ? 1_000 : backoff, given);
        this.limiter.pause(pause);
        this.options.logger?.warn(
          { operation, policy: error.policy, pauseMs: pause, retry: rateLimited },
          "HubSpot rate limit reached: pausing every HubSpot call of this app, then retrying",
        );
        continue;
      }
      if (error.isRetryable && options.repeatable && failed < this.options.maxServerErrorRetries) {
        failed += 1;
        const delay = Math.round(250 * 2 ** (failed - 1) * (0.5 + Math.random()));
        this.options.logger?.debug(
          { operation, error: error.toJSON(), delayMs: delay },
          "retrying a HubSpot call",
        );
        await sleep(delay, options.signal);
        continue;
      }
      throw error;
    }
  }

  private report(operation: string, status: number | undefined, started: number, attempt: number): void {
    try {
      this.options.onRequestComplete?.({
        operation,
        status,
        durationMs: Math.round(performance.now() - started),
        attempt,
      });
    } catch {
      // a metrics callback must never break a request
    }
  }

  private withTimeout<T>(
    operation: string,
    promise: Promise<T>,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new TimeoutError(`HubSpot ${operation}: no answer within ${this.options.timeoutMs} ms`, {
            source: "hubspot",
          }),
        );
      }, this.options.timeoutMs);
      const onAbort = () => {
        cleanup();
        reject(new AbortError(`HubSpot ${operation} aborted`, { source: "hubspot" }));
      };
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      promise.then(
        (value) => {
          cleanup();
          resolve(value);
        },
        (error: unknown) => {
          cleanup();
          reject(error);
        },
      );
    });
  }

  // ------------------------------------------------------------------ contacts

  /** A live contact, or undefined when it does not exist (or is archived). */
  async getContact(
    id: string,
    options: { properties: string[]; propertiesWithHistory?: string[]; signal?: AbortSignal | undefined },
  ): Promise<HubSpotRecord | undefined> {
    try {
      const object = await this.call("contacts.get", { repeatable: true, signal: options.signal }, () =>
        this.client.crm.contacts.basicApi.getById(id, options.properties, options.propertiesWithHistory),
      );
      return toRecord(object);
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  async searchContacts(request: SearchRequest, signal?: AbortSignal): Promise<SearchPage> {
    return this.search("contacts", request, signal);
  }

  /**
   * Searches Communications or Calls (e.g. a contact's, at a time: `associations.contact` EQ the
   * contact id, `hs_timestamp` GTE/LTE). The index lags writes by seconds, like every CRM search.
   */
  async searchEngagements(
    objectType: "communications" | "calls",
    request: SearchRequest,
    signal?: AbortSignal,
  ): Promise<SearchPage> {
    return this.search(objectType, request, signal);
  }

  private async search(
    objectType: "contacts" | "communications" | "calls",
    request: SearchRequest,
    signal: AbortSignal | undefined,
  ): Promise<SearchPage> {
    const searchApi =
      objectType === "contacts"
        ? this.client.crm.contacts.searchApi
        : this.client.crm.objects[objectType].searchApi;
    const body = {
      filterGroups: request.filterGroups.map((filters) => ({
        filters: filters.map((filter) => ({
          propertyName: filter.propertyName,
          operator: filter.operator as FilterOperatorEnum,
          ...(filter.value === undefined ? {} : { value: filter.value }),
          ...(filter.values === undefined ? {} : { values: filter.values }),
        })),
      })),
      properties: request.properties,
      ...(request.sort === undefined ? {} : { sorts: [request.sort] }),
      limit: request.limit ?? 10,
      ...(request.after === undefined ? {} : { after: request.after }),
    };
    const page = await this.call(`${objectType}.search`, { search: true, repeatable: true, signal }, () =>
      searchApi.doSearch(body as never),
    );
    return {
      total: page.total,
      results: page.results.map(toRecord),
      after: page.paging?.next?.after,
    };
  }

  /** Creates a contact; a 409 with an existing id throws HubSpotContactExistsError. Not retried on 5xx. */
  async createContact(properties: Record<string, string>, signal?: AbortSignal): Promise<HubSpotRecord> {
    const object = await this.call("contacts.create", { repeatable: false, signal }, () =>
      this.client.crm.contacts.basicApi.create({ properties, associations: [] }),
    );
    return toRecord(object);
  }

  async updateContact(
    id: string,
    properties: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<HubSpotRecord> {
    const object = await this.call("contacts.update", { repeatable: true, signal }, () =>
      this.client.crm.contacts.basicApi.update(id, { properties }),
    );
    return toRecord(object);
  }

  async archiveContact(id: string, signal?: AbortSignal): Promise<void> {
    await this.call("contacts.archive", { repeatable: true, signal }, () =>
      this.client.crm.contacts.basicApi.archive(id),
    );
  }

  /** One page of every live contact (the list endpoint reads the records, not the lagging search index). */
  async listContacts(
    options: { after?: string | undefined; properties: string[]; limit?: number },
    signal?: AbortSignal,
  ): Promise<{ results: HubSpotRecord[]; after: string | undefined }> {
    const page = await this.call("contacts.list", { repeatable: true, signal }, () =>
      this.client.crm.contacts.basicApi.getPage(options.limit ?? 100, options.after, options.properties),
    );
    return { results: page.results.map(toRecord), after: page.paging?.next?.after };
  }

  /** Creates up to 100 contacts; per-input failures (a duplicate email) come back in `errors`. */
  async batchCreateContacts(inputs: BatchCreateInput[], signal?: AbortSignal): Promise<BatchCreateResult> {
    const response = await this.call("contacts.batchCreate", { repeatable: false, signal }, () =>
      this.client.crm.contacts.batchApi.create({
        inputs: inputs.map((input) => ({
          objectWriteTraceId: input.objectWriteTraceId,
          properties: input.properties,
          associations: (input.associations ?? []).map((association) => ({
            to: { id: association.toId },
            types: [
              { associationCategory: HUBSPOT_DEFINED, associationTypeId: association.associationTypeId },
            ],
          })),
        })),
      }),
    );
    return batchCreateResult(response);
  }

  /** Updates up to 100 contacts; ids that no longer exist are returned. */
  async batchUpdateContacts(
    inputs: { id: string; properties: Record<string, string> }[],
    signal?: AbortSignal,
  ): Promise<{ updated: HubSpotRecord[]; missingIds: string[] }> {
    const response = await this.call("contacts.batchUpdate", { repeatable: true, signal }, () =>
      this.client.crm.contacts.batchApi.update({ inputs }),
    );
    const missingIds: string[] = [];
    for (const error of "errors" in response ? (response.errors ?? []) : []) {
      for (const id of error.context?.ids ?? []) missingIds.push(id);
    }
    return { updated: response.results.map(toRecord), missingIds };
  }

  // ------------------------------------------------------------------ engagements

  async createCommunication(
    properties: Record<string, string>,
    associations: InlineAssociation[],
    signal?: AbortSignal,
  ): Promise<HubSpotRecord> {
    const object = await this.call("communications.create", { repeatable: false, signal }, () =>
      this.client.crm.objects.communications.basicApi.create({
        properties,
        associations: associations.map((association) => ({
          to: { id: association.toId },
          types: [{ associationCategory: HUBSPOT_DEFINED, associationTypeId: association.associationTypeId }],
        })) as never,
      }),
    );
    return toRecord(object);
  }

  async batchCreateCommunications(
    inputs: BatchCreateInput[],
    signal?: AbortSignal,
  ): Promise<BatchCreateResult> {
    const response = await this.call("communications.batchCreate", { repeatable: false, signal }, () =>
      this.client.crm.objects.communications.batchApi.create({
        inputs: inputs.map((input) => ({
          objectWriteTraceId: input.objectWriteTraceId,
          properties: input.properties,
          associations: (input.associations ?? []).map((association) => ({
            to: { id: association.toId },
            types: [
              { associationCategory: HUBSPOT_DEFINED, associationTypeId: association.associationTypeId },
            ],
          })),
        })) as never,
      }),
    );
    return batchCreateResult(response as never);
  }

  async updateCommunication(
    id: string,
    properties: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<HubSpotRecord | undefined> {
    try {
      const object = await this.call("communications.update", { repeatable: true, signal }, () =>
        this.client.crm.objects.communications.basicApi.update(id, { properties }),
      );
      return toRecord(object);
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  async createCall(
    properties: Record<string, string>,
    associations: InlineAssociation[],
    signal?: AbortSignal,
  ): Promise<HubSpotRecord> {
    const object = await this.call("calls.create", { repeatable: false, signal }, () =>
      this.client.crm.objects.calls.basicApi.create({
        properties,
        associations: associations.map((association) => ({
          to: { id: association.toId },
          types: [{ associationCategory: HUBSPOT_DEFINED, associationTypeId: association.associationTypeId }],
        })) as never,
      }),
    );
    return toRecord(object);
  }

  // ------------------------------------------------------------------ owners, companies, properties

  /** The id of the active HubSpot owner with this email, cached for 10 minutes (also when there is none). */
  async ownerIdByEmail(email: string, signal?: AbortSignal): Promise<string | undefined> {
    const key = email.trim().toLowerCase();
    const cached = this.owners.get(key);
    if (cached !== undefined && cached.expires > Date.now()) return cached.id;
    const page = await this.call("owners.list", { repeatable: true, signal }, () =>
      this.client.crm.owners.ownersApi.getPage(key, undefined, 100, false),
    );
    const owner = page.results.find((candidate) => candidate.email?.toLowerCase() === key);
    this.owners.set(key, { id: owner?.id, expires: Date.now() + 600_000 });
    return owner?.id;
  }

  /** The contact's primary company (association type 1), if any. */
  async primaryCompanyOf(contactId: string, signal?: AbortSignal): Promise<string | undefined> {
    const page = await this.call("associations.list", { repeatable: true, signal }, () =>
      this.client.crm.associations.v4.basicApi.getPage("contacts", contactId, "companies", undefined, 100),
    );
    const primary = page.results.find((association) =>
      association.associationTypes.some(
        (type) =>
          type.typeId === ASSOCIATION_TYPES.contactToCompanyPrimary &&
          String(type.category) === "HUBSPOT_DEFINED",
      ),
    );
    return primary === undefined ? undefined : String(primary.toObjectId);
  }

  /** The names of the contact properties that exist. */
  async contactPropertyNames(signal?: AbortSignal): Promise<Set<string>> {
    const response = await this.call("properties.list", { repeatable: true, signal }, () =>
      this.client.crm.properties.coreApi.getAll("contacts", false),
    );
    return new Set(response.results.map((property) => property.name));
  }
}

function batchCreateResult(response: {
  results: SdkRecord[] & { objectWriteTraceId?: string }[];
  errors?: { category: string; message: string; context?: Record<string, string[]> }[];
}): BatchCreateResult {
  const created = new Map<string, HubSpotRecord>();
  for (const result of response.results as (SdkRecord & { objectWriteTraceId?: string })[]) {
    if (result.objectWriteTraceId !== undefined) created.set(result.objectWriteTraceId, toRecord(result));
  }
  const errors = (response.errors ?? []).map((error) => ({
    objectWriteTraceIds: error.context?.objectWriteTraceId ?? [],
    category: error.category,
    message: error.message,
  }));
  return { created, errors };
}

/** Whether an error is a HubSpot 429 (for callers that count them). */
export function isRateLimit(error: unknown): boolean {
  return isLinqConnectError(error) && error.code === "rate_limited";
}
