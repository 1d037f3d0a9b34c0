/**
 * The Salesforce REST API as the connector uses it, on a jsforce `Connection`:
 *
 * - **Sessions:** jsforce refreshes an expired session (INVALID_SESSION_ID) itself, through the OAuth
 *   refresh token or, for the JWT bearer flow, a new assertion ({@link createSalesforceConnection}).
 * - **Errors:** every failure becomes the core hierarchy ({@link toSalesforceError}). jsforce does not
 *   put the HTTP status on its errors, so the connection's transport is wrapped and each call records
 *   its last response (status, `Retry-After`, `Sforce-Limit-Info`) in an AsyncLocalStorage slot.
 * - **Retries:** jsforce's own retries are switched off; a call marked idempotent (reads, updates,
 *   upserts by external id, deletes) is retried here on 429 / 5xx / dropped connections / timeouts,
 *   honouring `Retry-After`. Creates are never repeated in process (a lost answer may have created the
 *   record); the caller's job is retried by the queue, which finds the record first.
 * - **API usage:** `Sforce-Limit-Info: api-usage=used/limit` of every response is tracked. Above
 *   `slowDownAtShare` of the daily limit calls are spaced out; at `stopAtShare` (or on
 *   REQUEST_LIMIT_EXCEEDED) calls fail fast with a retryable `SalesforceRequestLimitError` whose
 *   `retryAfter` makes queued jobs wait and resume instead of burning what is left.
 * - **Timeouts:** a call that gets no answer in `timeoutMs` fails with a retryable TimeoutError.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { createSign } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import {
  ConfigurationError,
  type ConnectorLogger,
  isLinqConnectError,
  type LinqConnectError,
  parseRetryAfter,
} from "@linq-connect/core";
import { Connection } from "jsforce";
import {
  errorFromEntries,
  type SalesforceErrorEntry,
  SalesforceRequestLimitError,
  timeoutError,
  toSalesforceError,
} from "./salesforce-errors.ts";
import type { ParsedConnectorOptions } from "./settings.ts";

/** A record as Salesforce returns it (field API names, plus `attributes`). */
export type SalesforceRecord = Record<string, unknown> & { Id: string };

/** The result of one record of an sObject Collections request. */
export interface SaveResult {
  id: string | null;
  success: boolean;
  errors: SalesforceErrorEntry[];
}

export interface SalesforceApiUsage {
  used: number;
  limit: number;
  /** used / limit. */
  share: number;
  /** When the header was read. */
  at: Date;
}

/** Reported after every request attempt (metrics, logging). Never carries a token. */
export interface SalesforceRequestInfo {
  operation: string;
  method: string;
  /** The path below the instance (no query string). */
  path: string;
  status: number | undefined;
  durationMs: number;
  attempt: number;
  error: LinqConnectError | undefined;
  apiUsage: SalesforceApiUsage | undefined;
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
}

interface ResponseRecord {
  status: number | undefined;
  retryAfter: number | undefined;
  /** The API object whose call sent the request (counts it, reads its usage header). */
  api: SalesforceApi;
}

/**
 * The call each HTTP request belongs to. Module-wide, so that several SalesforceApi objects over one
 * injected jsforce Connection (whose transport is wrapped once) each see their own requests.
 */
const responses = new AsyncLocalStorage<ResponseRecord>();

interface TransportResponse {
  statusCode?: number;
  headers?: Record<string, string | undefined>;
}

interface JsforceTransport {
  httpRequest(request: unknown, options?: unknown): Promise<TransportResponse> & object;
}

const JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/** Largest slow-down pause between calls near the daily limit. */
const MAX_SLOW_DOWN_MS = 2_000;
/** Longest wait honoured in process for a 429 / 503 Retry-After; longer waits go back to the queue. */
const MAX_IN_PROCESS_WAIT_MS = 30_000;
const NO_JSFORCE_RETRIES = { retry: { maxRetries: 0 } };

function base64Url(input: string | Buffer): string {
  return Buffer.from(input).toString("base64url");
}

/** An RS256 JWT bearer assertion for Salesforce's token endpoint. */
export function createJwtAssertion(
  settings: { clientId: string; username: string; privateKey: string; audience: string },
  now: Date = new Date(),
): string {
  const header = base64Url(JSON.stringify({ alg: "RS256", typ: "JWT" }));
  const claims = base64Url(
    JSON.stringify({
      iss: settings.clientId,
      sub: settings.username,
      aud: settings.audience,
      exp: Math.floor(now.getTime() / 1000) + 180,
    }),
  );
  const signer = createSign("RSA-SHA256");
  signer.update(`${header}.${claims}`);
  return `${header}.${claims}.${base64Url(signer.sign(settings.privateKey))}`;
}

interface TokenResponse {
  access_token: string;
  instance_url: string;
  id?: string;
}

/**
 * A jsforce Connection for the configured authentication:
 * - access token + instance URL (no refresh: an expired token is an AuthenticationError);
 * - refresh token + connected app: jsforce refreshes on INVALID_SESSION_ID;
 * - JWT bearer: a signed assertion is exchanged for a token now and whenever the session expires.
 */
export function createSalesforceConnection(options: ParsedConnectorOptions): Connection {
  const version = options.apiVersion;
  switch (options.authentication) {
    case "access-token":
      return new Connection({
        instanceUrl: options.instanceUrl as string,
        accessToken: options.accessToken as string,
        version,
      });
    case "refresh-token":
      return new Connection({
        oauth2: {
          clientId: options.clientId as string,
          ...(options.clientSecret === undefined ? {} : { clientSecret: options.clientSecret }),
          loginUrl: options.loginUrl,
          redirectUri: `${options.loginUrl}/services/oauth2/success`,
        },
        ...(options.instanceUrl === undefined ? {} : { instanceUrl: options.instanceUrl }),
        ...(options.accessToken === undefined ? {} : { accessToken: options.accessToken }),
        refreshToken: options.refreshToken as string,
        version,
      });
    case "jwt": {
      const jwt = options.jwt;
      if (jwt === undefined) throw new ConfigurationError("The JWT bearer flow needs jwt settings");
      const connection: Connection = new Connection({
        oauth2: { clientId: jwt.clientId, loginUrl: options.loginUrl, redirectUri: `${options.loginUrl}/` },
        ...(options.instanceUrl === undefined ? {} : { instanceUrl: options.instanceUrl }),
        version,
        refreshFn: (target, callback) => {
          const assertion = createJwtAssertion({
            clientId: jwt.clientId,
            username: jwt.username,
            privateKey: jwt.privateKey,
            audience: jwt.audience ?? options.loginUrl,
          });
          target.oauth2
            .requestToken({ grant_type: JWT_GRANT, assertion })
            .then((response) => {
              const token = response as unknown as TokenResponse;
              target.instanceUrl = token.instance_url;
              target.accessToken = token.access_token;
              callback(undefined, token.access_token, response);
            })
            .catch((error: unknown) => callback(error instanceof Error ? error : new Error(String(error))));
        },
      });
      return connection;
    }
    default:
      throw new ConfigurationError("createSalesforceConnection needs credentials");
  }
}

function parseLimitInfo(header: string | undefined, at: Date): SalesforceApiUsage | undefined {
  const match = /api-usage=(\d+)\/(\d+)/.exec(header ?? "");
  if (match === null) return undefined;
  const used = Number(match[1]);
  const limit = Number(match[2]);
  if (!(limit > 0)) return undefined;
  return { used, limit, share: used / limit, at };
}

function headerValue(headers: TransportResponse["headers"], name: string): string | undefined {
  if (headers === undefined) return undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name && typeof value === "string") return value;
  }
  return undefined;
}

function isRetryableHere(error: LinqConnectError): boolean {
  if (error instanceof SalesforceRequestLimitError) return false;
  return ["rate_limited", "server_error", "network_error", "timeout"].includes(error.code);
}

export interface SalesforceApiOptions {
  connection: Connection;
  timeoutMs: number;
  maxRetries: number;
  slowDownAtShare: number;
  stopAtShare: number;
  requestLimitRetrySeconds: number;
  logger?: ConnectorLogger | undefined;
  onRequestComplete?: ((info: SalesforceRequestInfo) => void) | undefined;
  now?: (() => Date) | undefined;
  /** Waits (tests pass a fake). */
  wait?: ((milliseconds: number, signal?: AbortSignal) => Promise<void>) | undefined;
}

/** The answer of `GET /sobjects/{object}/describe`, the parts the connector reads. */
export interface SalesforceDescribe {
  name: string;
  createable: boolean;
  updateable: boolean;
  fields: {
    name: string;
    type: string;
    createable: boolean;
    updateable: boolean;
    nillable: boolean;
    externalId: boolean;
    defaultedOnCreate: boolean;
    picklistValues?: { value: string; active: boolean }[];
  }[];
}

export class SalesforceApi {
  readonly connection: Connection;
  private readonly options: SalesforceApiOptions;
  private latestUsage: SalesforceApiUsage | undefined;
  private requestCount = 0;
  private firstSession: Promise<void> | undefined;
  private readonly now: () => Date;
  private readonly wait: (milliseconds: number, signal?: AbortSignal) => Promise<void>;

  constructor(options: SalesforceApiOptions) {
    this.options = options;
    this.connection = options.connection;
    this.now = options.now ?? (() => new Date());
    this.wait =
      options.wait ??
      (async (milliseconds, signal) => {
        await sleep(milliseconds, undefined, signal === undefined ? undefined : { signal });
      });
    this.watchTransport();
  }

  /** Reads `Sforce-Limit-Info` of a response to one of this API's calls. */
  private observe(response: TransportResponse): void {
    const usage = parseLimitInfo(headerValue(response.headers, "sforce-limit-info"), this.now());
    if (usage !== undefined) this.latestUsage = usage;
  }

  /** The last `Sforce-Limit-Info` reading, if any response carried one. */
  get apiUsage(): SalesforceApiUsage | undefined {
    return this.latestUsage;
  }

  /** HTTP requests sent by this API object's calls (every attempt, replays after a session refresh included). */
  get requestsSent(): number {
    return this.requestCount;
  }

  /** The instance URL of the session (after a refresh it may have changed). */
  get instanceUrl(): string {
    return this.connection.instanceUrl;
  }

  /** The API version, e.g. "62.0". */
  get apiVersion(): string {
    return this.connection.version;
  }

  private watchTransport(): void {
    const holder = this.connection as unknown as { _transport?: JsforceTransport };
    const transport = holder._transport;
    if (transport === undefined || (transport as { __linqWatched?: boolean }).__linqWatched) return;
    const original = transport.httpRequest.bind(transport);
    transport.httpRequest = (request: unknown, options?: unknown) => {
      const pending = original(request, options);
      const record = responses.getStore();
      if (record !== undefined) {
        record.api.requestCount += 1;
        pending.then(
          (response) => {
            record.api.observe(response);
            record.status = response.statusCode;
            record.retryAfter = parseRetryAfter(headerValue(response.headers, "retry-after") ?? null);
          },
          () => undefined,
        );
      }
      return pending;
    };
    (transport as { __linqWatched?: boolean }).__linqWatched = true;
  }

  /**
   * A connection without a session yet (JWT bearer, or a refresh token without an access token) and
   * often without an instance URL: jsforce would send its first request to a relative URL. Get the
   * first session now, once, through the connection's own refresh function.
   */
  private async ensureSession(operation: string): Promise<void> {
    const connection = this.connection as unknown as {
      accessToken?: string | null;
      _refreshDelegate?: { refresh(since: number): Promise<void> };
    };
    if (typeof connection.accessToken === "string" && connection.accessToken !== "") return;
    const delegate = connection._refreshDelegate;
    if (delegate === undefined) return;
    this.firstSession ??= delegate.refresh(0).finally(() => {
      this.firstSession = undefined;
    });
    try {
      await this.firstSession;
    } catch (error) {
      throw toSalesforceError(error, { operation: `${operation} (getting a session)` });
    }
  }

  /** Waits (or refuses) according to the daily API usage. */
  private async pace(signal: AbortSignal | undefined): Promise<void> {
    const usage = this.latestUsage;
    if (usage === undefined) return;
    const ageSeconds = (this.now().getTime() - usage.at.getTime()) / 1000;
    if (usage.share >= this.options.stopAtShare) {
      // A stale reading lets one call through to learn the current usage (the limit is a rolling 24 h).
      // Timers fire a few milliseconds early or late: a retry scheduled for the end of the wait probes.
      const remainingSeconds = this.options.requestLimitRetrySeconds - ageSeconds;
      if (remainingSeconds > 0.05) {
        throw new SalesforceRequestLimitError(
          `Salesforce API usage is at ${Math.round(usage.share * 100)}% of the daily limit (${usage.used}/${usage.limit}); work waits until it falls below ${Math.round(this.options.stopAtShare * 100)}%`,
          { source: "salesforce", retryAfter: Math.max(1, Math.ceil(remainingSeconds)) },
        );
      }
      return;
    }
    if (usage.share >= this.options.slowDownAtShare) {
      const span = Math.max(this.options.stopAtShare - this.options.slowDownAtShare, 0.01);
      const delay = Math.round(
        MAX_SLOW_DOWN_MS * Math.min(1, (usage.share - this.options.slowDownAtShare) / span),
      );
      if (delay > 0) await this.wait(delay, signal);
    }
  }

  /**
   * Runs one Salesforce call with pacing, a timeout, error mapping and (when `idempotent`) retries.
   * Everything the connector does to Salesforce goes through here.
   */
  async call<T>(
    operation: string,
    request: { method: string; path: string },
    perform: (connection: Connection) => Promise<T>,
    options: CallOptions & { idempotent: boolean; timeoutMs?: number },
  ): Promise<T> {
    const maxAttempts = options.idempotent ? this.options.maxRetries + 1 : 1;
    for (let attempt = 1; ; attempt += 1) {
      options.signal?.throwIfAborted();
      await this.pace(options.signal);
      await this.ensureSession(operation);
      const record: ResponseRecord = { status: undefined, retryAfter: undefined, api: this };
      const started = performance.now();
      let error: LinqConnectError | undefined;
      try {
        const result = await responses.run(record, () =>
          this.withTimeout(
            operation,
            perform(this.connection),
            options.signal,
            options.timeoutMs ?? this.options.timeoutMs,
          ),
        );
        this.report(operation, request, record, started, attempt, undefined);
        return result;
      } catch (thrown) {
        error = toSalesforceError(thrown, {
          status: record.status,
          retryAfter: record.retryAfter,
          requestLimitRetrySeconds: this.options.requestLimitRetrySeconds,
          operation,
        });
        this.report(operation, request, record, started, attempt, error);
      }
      if (error instanceof SalesforceRequestLimitError && this.latestUsage !== undefined) {
        // Remember that the org is out of calls, so that other work waits without calling.
        this.latestUsage = { ...this.latestUsage, used: this.latestUsage.limit, share: 1, at: this.now() };
      }
      if (attempt >= maxAttempts || !isRetryableHere(error)) throw error;
      const waitMs =
        error.retryAfter === undefined ? 250 * 2 ** (attempt - 1) : Math.ceil(error.retryAfter * 1000);
      if (waitMs > MAX_IN_PROCESS_WAIT_MS) throw error;
      this.options.logger?.debug(
        { operation, attempt, code: error.code, waitMs },
        "Salesforce call failed; retrying",
      );
      await this.wait(waitMs, options.signal);
    }
  }

  private async withTimeout<T>(
    operation: string,
    work: Promise<T>,
    signal: AbortSignal | undefined,
    timeoutMs: number,
  ): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const guard = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(timeoutError(operation, timeoutMs)), timeoutMs);
      if (signal !== undefined) {
        onAbort = () => reject(signal.reason ?? new Error("aborted"));
        signal.addEventListener("abort", onAbort, { once: true });
      }
    });
    try {
      return await Promise.race([work, guard]);
    } finally {
      clearTimeout(timer);
      if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
      work.catch(() => undefined);
    }
  }

  private report(
    operation: string,
    request: { method: string; path: string },
    record: ResponseRecord,
    started: number,
    attempt: number,
    error: LinqConnectError | undefined,
  ): void {
    this.options.onRequestComplete?.({
      operation,
      method: request.method,
      path: request.path.split("?")[0] ?? request.path,
      status: record.status ?? error?.status,
      durationMs: performance.now() - started,
      attempt,
      error,
      apiUsage: this.latestUsage,
    });
  }

  /** A REST call relative to `/services/data/vXX.X` (or an absolute `/services/...` path). */
  private rest<T>(
    operation: string,
    method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE",
    path: string,
    body: unknown,
    options: CallOptions & { idempotent: boolean },
  ): Promise<T> {
    return this.call(
      operation,
      { method, path },
      (connection) =>
        connection.request<T>(
          {
            method,
            url: path,
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
            headers: body === undefined ? {} : { "content-type": "application/json" },
          },
          NO_JSFORCE_RETRIES as never,
        ),
      options,
    );
  }

  // ------------------------------------------------------------------ reads

  /** Every record of a SOQL query (following `nextRecordsUrl`), at most `maxRecords`. */
  async query<T extends Record<string, unknown> = SalesforceRecord>(
    soql: string,
    options: CallOptions & { maxRecords?: number; includeDeleted?: boolean } = {},
  ): Promise<T[]> {
    const records: T[] = [];
    const resource = options.includeDeleted === true ? "queryAll" : "query";
    let path: string | undefined = `/${resource}?q=${encodeURIComponent(soql)}`;
    const max = options.maxRecords ?? Number.POSITIVE_INFINITY;
    while (path !== undefined && records.length < max) {
      const page: { records: T[]; done: boolean; nextRecordsUrl?: string } = await this.rest(
        "query",
        "GET",
        path,
        undefined,
        { signal: options.signal, idempotent: true },
      );
      records.push(...page.records);
      path = page.done ? undefined : page.nextRecordsUrl;
    }
    return records.slice(0, max);
  }

  /** One page of a SOQL query and the URL of the next (for resumable scans). */
  async queryPage<T extends Record<string, unknown> = SalesforceRecord>(
    soqlOrNextUrl: { soql: string } | { nextRecordsUrl: string },
    options: CallOptions = {},
  ): Promise<{ records: T[]; nextRecordsUrl: string | undefined; totalSize: number }> {
    const path =
      "soql" in soqlOrNextUrl
        ? `/query?q=${encodeURIComponent(soqlOrNextUrl.soql)}`
        : soqlOrNextUrl.nextRecordsUrl;
    const page: { records: T[]; done: boolean; nextRecordsUrl?: string; totalSize: number } = await this.rest(
      "query",
      "GET",
      path,
      undefined,
      { signal: options.signal, idempotent: true },
    );
    return {
      records: page.records,
      nextRecordsUrl: page.done ? undefined : page.nextRecordsUrl,
      totalSize: page.totalSize,
    };
  }

  /** A SOSL search; the matched records of every object it returns. */
  async search(sosl: string, options: CallOptions = {}): Promise<SalesforceRecord[]> {
    const result: { searchRecords?: SalesforceRecord[] } = await this.rest(
      "search",
      "GET",
      `/search?q=${encodeURIComponent(sosl)}`,
      undefined,
      { signal: options.signal, idempotent: true },
    );
    return result.searchRecords ?? [];
  }

  /** One record, or undefined when it does not exist (or was deleted). */
  async retrieve(
    objectName: string,
    id: string,
    fields: readonly string[],
    options: CallOptions = {},
  ): Promise<SalesforceRecord | undefined> {
    const query = fields.length === 0 ? "" : `?fields=${encodeURIComponent(fields.join(","))}`;
    try {
      return await this.rest<SalesforceRecord>(
        `retrieve ${objectName}`,
        "GET",
        `/sobjects/${objectName}/${encodeURIComponent(id)}${query}`,
        undefined,
        { signal: options.signal, idempotent: true },
      );
    } catch (error) {
      if (isLinqConnectError(error) && error.code === "not_found") return undefined;
      throw error;
    }
  }

  async describe(objectName: string, options: CallOptions = {}): Promise<SalesforceDescribe> {
    return this.rest(`describe ${objectName}`, "GET", `/sobjects/${objectName}/describe`, undefined, {
      signal: options.signal,
      idempotent: true,
    });
  }

  /** `GET /limits`: the org's limits (DailyApiRequests and the rest). */
  async limits(options: CallOptions = {}): Promise<Record<string, { Max: number; Remaining: number }>> {
    return this.rest("limits", "GET", "/limits", undefined, { signal: options.signal, idempotent: true });
  }

  /** Ids of records of `objectName` changed between `start` and `end` (Get Updated; at most 30 days back). */
  async getUpdated(
    objectName: string,
    start: Date,
    end: Date,
    options: CallOptions = {},
  ): Promise<{ ids: string[]; latestDateCovered: string }> {
    const query = `?start=${encodeURIComponent(start.toISOString())}&end=${encodeURIComponent(end.toISOString())}`;
    return this.rest(`updated ${objectName}`, "GET", `/sobjects/${objectName}/updated/${query}`, undefined, {
      signal: options.signal,
      idempotent: true,
    });
  }

  /** Records of `objectName` deleted between `start` and `end` (Get Deleted). */
  async getDeleted(
    objectName: string,
    start: Date,
    end: Date,
    options: CallOptions = {},
  ): Promise<{
    deletedRecords: { id: string; deletedDate: string }[];
    earliestDateAvailable: string;
    latestDateCovered: string;
  }> {
    const query = `?start=${encodeURIComponent(start.toISOString())}&end=${encodeURIComponent(end.toISOString())}`;
    return this.rest(`deleted ${objectName}`, "GET", `/sobjects/${objectName}/deleted/${query}`, undefined, {
      signal: options.signal,
      idempotent: true,
    });
  }

  // ------------------------------------------------------------------ writes

  /** Creates one record; returns its id. Never repeated in process. */
  async create(
    objectName: string,
    fields: Record<string, unknown>,
    options: CallOptions = {},
  ): Promise<string> {
    const result: { id: string } = await this.rest(
      `create ${objectName}`,
      "POST",
      `/sobjects/${objectName}`,
      fields,
      {
        signal: options.signal,
        idempotent: false,
      },
    );
    return result.id;
  }

  /** Updates fields of one record. */
  async update(
    objectName: string,
    id: string,
    fields: Record<string, unknown>,
    options: CallOptions = {},
  ): Promise<void> {
    await this.rest(
      `update ${objectName}`,
      "PATCH",
      `/sobjects/${objectName}/${encodeURIComponent(id)}`,
      fields,
      {
        signal: options.signal,
        idempotent: true,
      },
    );
  }

  /** Deletes one record; a record that is already gone counts as deleted. */
  async delete(objectName: string, id: string, options: CallOptions = {}): Promise<void> {
    try {
      await this.rest(
        `delete ${objectName}`,
        "DELETE",
        `/sobjects/${objectName}/${encodeURIComponent(id)}`,
        undefined,
        {
          signal: options.signal,
          idempotent: true,
        },
      );
    } catch (error) {
      if (isLinqConnectError(error) && error.code === "not_found") return;
      throw error;
    }
  }

  /**
   * Upsert by an external id field (`PATCH /sobjects/{object}/{field}/{value}`): creates or updates the
   * one record with that value, so it is safe to repeat. Returns the id and whether it was created.
   */
  async upsertByExternalId(
    objectName: string,
    externalIdField: string,
    externalId: string,
    fields: Record<string, unknown>,
    options: CallOptions = {},
  ): Promise<{ id: string; created: boolean }> {
    const { [externalIdField]: _ignored, ...rest } = fields;
    const result: { id: string; created: boolean } | undefined = await this.rest(
      `upsert ${objectName}`,
      "PATCH",
      `/sobjects/${objectName}/${externalIdField}/${encodeURIComponent(externalId)}`,
      rest,
      { signal: options.signal, idempotent: true },
    );
    if (result?.id !== undefined) return result;
    // 204: an existing record was updated; read its id.
    const found = await this.query(
      `SELECT Id FROM ${objectName} WHERE ${externalIdField} = '${escapeSoql(externalId)}' LIMIT 1`,
      options,
    );
    const id = found[0]?.Id;
    if (id === undefined)
      throw errorFromEntries([{ errorCode: "NOT_FOUND", message: "upserted record not found" }]);
    return { id, created: false };
  }

  /**
   * sObject Collections: up to 200 records per request, `allOrNone` false, so each record has its own
   * result. `create` is never repeated in process; `update` and `delete` are.
   */
  async collection(
    operation: "create" | "update",
    objectName: string,
    records: readonly Record<string, unknown>[],
    options: CallOptions = {},
  ): Promise<SaveResult[]> {
    const results: SaveResult[] = [];
    for (let index = 0; index < records.length; index += 200) {
      const chunk = records
        .slice(index, index + 200)
        .map((record) => ({ attributes: { type: objectName }, ...record }));
      const page: SaveResult[] = await this.rest(
        `${operation} ${objectName} collection`,
        operation === "create" ? "POST" : "PATCH",
        "/composite/sobjects",
        { allOrNone: false, records: chunk },
        { signal: options.signal, idempotent: operation === "update" },
      );
      results.push(...page);
    }
    return results;
  }

  /** Deletes up to 200 ids per request; missing records count as deleted. */
  async deleteCollection(ids: readonly string[], options: CallOptions = {}): Promise<SaveResult[]> {
    const results: SaveResult[] = [];
    for (let index = 0; index < ids.length; index += 200) {
      const chunk = ids.slice(index, index + 200);
      const page: SaveResult[] = await this.rest(
        "delete collection",
        "DELETE",
        `/composite/sobjects?allOrNone=false&ids=${chunk.map(encodeURIComponent).join(",")}`,
        undefined,
        { signal: options.signal, idempotent: true },
      );
      results.push(...page);
    }
    return results;
  }

  /**
   * Bulk API 2.0 ingest: one job for all `records`, waited for. Returns per-record outcomes in input
   * order (`sf__Id` / `sf__Error`). Used by backfills above the threshold.
   */
  async bulkIngest(
    objectName: string,
    operation: "insert" | "update" | "upsert",
    records: readonly Record<string, unknown>[],
    options: CallOptions & {
      externalIdFieldName?: string;
      pollTimeoutMs?: number;
      pollIntervalMs?: number;
    } = {},
  ): Promise<{
    successful: { id: string; created: boolean; record: Record<string, unknown> }[];
    failed: { error: string; record: Record<string, unknown> }[];
  }> {
    const result = await this.call(
      `bulk ${operation} ${objectName}`,
      { method: "POST", path: "/jobs/ingest" },
      async (connection) =>
        connection.bulk2.loadAndWaitForResults({
          object: objectName,
          operation,
          input: records.map((record) => ({ ...record })) as never,
          ...(options.externalIdFieldName === undefined
            ? {}
            : { externalIdFieldName: options.externalIdFieldName }),
          pollTimeout: options.pollTimeoutMs ?? 10 * 60_000,
          pollInterval: options.pollIntervalMs ?? 1_000,
        }),
      {
        signal: options.signal,
        idempotent: false,
        // The whole job (upload, processing, polling, results), not one request.
        timeoutMs: (options.pollTimeoutMs ?? 10 * 60_000) + this.options.timeoutMs,
      },
    );
    const successful = result.successfulResults.map((row) => {
      const { sf__Id, sf__Created, ...record } = row as Record<string, unknown>;
      return { id: String(sf__Id), created: String(sf__Created) === "true", record };
    });
    const failed = result.failedResults.map((row) => {
      const { sf__Id: _id, sf__Error, ...record } = row as Record<string, unknown>;
      return { error: String(sf__Error), record };
    });
    return { successful, failed };
  }
}

/** Escapes a value for a SOQL string literal. */
export function escapeSoql(value: string): string {
  return value.replace(/[\\']/g, (character) => `\\${character}`);
}

/** Escapes a term for a SOSL FIND {…} clause. */
export function escapeSosl(value: string): string {
  return value.replace(/[?&|!{}[\]()^~*:\\"'+-]/g, (character) => `\\${character}`);
}
