/**
 * The Salesforce simulator: a faithful, stateful fake of the Salesforce REST
 * API, OAuth token endpoint and Bulk API 2.0, as a real HTTP server (node:http)
 * on 127.0.0.1, driven by the real jsforce in tests.
 *
 * ```ts
 * import { Connection } from "jsforce";
 * import { startSalesforceSimulator } from "@linq-connect/salesforce/testing";
 *
 * const salesforce = await startSalesforceSimulator();
 * const connection = new Connection({
 *   oauth2: { clientId: salesforce.clientId, clientSecret: salesforce.clientSecret, loginUrl: salesforce.loginUrl },
 *   instanceUrl: salesforce.instanceUrl,
 *   accessToken: salesforce.issueAccessToken(),
 *   refreshToken: salesforce.issueRefreshToken(),
 *   version: salesforce.apiVersion,
 * });
 * await connection.sobject("Contact").create({ LastName: "Ng", MobilePhone: "(555) 123-4567" });
 * salesforce.users.update("Contact", id, { Title: "CTO" }); // someone edits it in the UI
 * salesforce.users.convertLead(leadId);                      // someone converts a Lead
 * salesforce.state.records("Contact");                       // inspect what happened
 * await salesforce.close();
 * ```
 *
 * Request pipeline: faults (before anything) → authentication (401
 * INVALID_SESSION_ID) → API version (404) → daily API allowance (403
 * REQUEST_LIMIT_EXCEEDED) → the resource. Every `/services/data/vXX.X/` answer
 * after authentication carries `Sforce-Limit-Info: api-usage=N/LIMIT`.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { ConfigurationError } from "@linq-connect/core";
import {
  closeSimulatorServer,
  createSimulatorServer,
  listenSimulatorServer,
  readSimulatorRequestBody,
} from "@linq-connect/core/testing";
import {
  type ApiRequest,
  type ApiResponse,
  type ApiServices,
  errorResponse,
  parseDataPath,
} from "./simulator-api.ts";
import { BulkIngest } from "./simulator-bulk.ts";
import {
  apiError,
  NOT_FOUND_MESSAGE,
  OAuthError,
  requestLimitExceeded,
  sessionExpired,
} from "./simulator-errors.ts";
import { type AppliedFault, FaultRegistry } from "./simulator-faults.ts";
import { renderHome, renderNotFound, renderRecord } from "./simulator-html.ts";
import { IdGenerator, normalizeId, toId18 } from "./simulator-ids.ts";
import { OAuthServer } from "./simulator-oauth.ts";
import { QueryCursors, RestApi } from "./simulator-rest.ts";
import { Schema } from "./simulator-schema.ts";
import { RecordStore } from "./simulator-store.ts";
import type {
  SalesforceRecord,
  SalesforceRecordedRequest,
  SalesforceSimulator,
  SalesforceSimulatorFaults,
  SalesforceSimulatorOptions,
  SalesforceSimulatorState,
  SalesforceSimulatorUser,
  SalesforceSimulatorUsers,
} from "./simulator-types.ts";

const JSON_CONTENT_TYPE = "application/json;charset=UTF-8";
const MIN_API_VERSION = 31;

/**
 * Starts a Salesforce simulator on `host:port` (default 127.0.0.1, an ephemeral
 * port). Close it with `await simulator.close()`. Throws `ConfigurationError` for
 * invalid options.
 */
export async function startSalesforceSimulator(
  options: SalesforceSimulatorOptions = {},
): Promise<SalesforceSimulator> {
  const simulator = new RunningSalesforceSimulator(resolveSettings(options));
  await simulator.listen();
  return simulator;
}

interface Settings {
  port: number;
  host: string;
  apiVersion: string;
  clientId: string;
  clientSecret: string;
  users: SalesforceSimulatorUser[];
  accessTokenTtlSeconds: number;
  dailyApiLimit: number;
  queryBatchSize: number;
  bulkProcessingDelayMs: number;
  maxBodyBytes: number;
  now: () => Date;
  log: (line: string) => void;
  options: SalesforceSimulatorOptions;
}

function resolveSettings(options: SalesforceSimulatorOptions): Settings {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new ConfigurationError("port must be 0..65535");
  const apiVersion = options.apiVersion ?? "62.0";
  if (!/^\d{2}\.0$/.test(apiVersion) || Number(apiVersion) < MIN_API_VERSION) {
    throw new ConfigurationError(`apiVersion must look like "62.0" (${MIN_API_VERSION}.0 or later)`);
  }
  const positiveInteger = (value: number | undefined, fallback: number, name: string): number => {
    const resolved = value ?? fallback;
    if (!Number.isInteger(resolved) || resolved <= 0)
      throw new ConfigurationError(`${name} must be a positive integer`);
    return resolved;
  };
  const nonEmpty = (value: string | undefined, fallback: string, name: string): string => {
    const resolved = value ?? fallback;
    if (typeof resolved !== "string" || resolved === "")
      throw new ConfigurationError(`${name} must be a non-empty string`);
    return resolved;
  };
  const delay = options.bulkProcessingDelayMs ?? 40;
  if (!Number.isFinite(delay) || delay < 0)
    throw new ConfigurationError("bulkProcessingDelayMs must be a non-negative number");
  const userIds = new IdGenerator();
  const inputs = options.users ?? [
    {
      username: "integration@example.com.simulator",
      email: "integration@example.com",
      name: "Integration User",
    },
    { username: "rep@example.com.simulator", email: "rep@example.com", name: "Sales Rep" },
  ];
  if (inputs.length === 0) throw new ConfigurationError("users needs at least one user");
  const users = inputs.map((input, index): SalesforceSimulatorUser => {
    if (typeof input.username !== "string" || !input.username.includes("@")) {
      throw new ConfigurationError(`users[${index}].username must look like an email address`);
    }
    const id = input.id === undefined ? userIds.next("005") : normalizeId(input.id);
    if (id === undefined || !id.startsWith("005"))
      throw new ConfigurationError(`users[${index}].id must be a User id (005…)`);
    return {
      id,
      username: input.username,
      email: input.email ?? input.username,
      name: input.name ?? input.username.split("@")[0] ?? input.username,
      publicKeyPem: input.publicKeyPem ?? null,
      privateKeyPem: input.privateKeyPem ?? null,
    };
  });
  const seen = new Set<string>();
  for (const user of users) {
    for (const key of [user.id, user.username.toLowerCase()]) {
      if (seen.has(key)) throw new ConfigurationError(`users: ${key} appears twice`);
      seen.add(key);
    }
  }
  return {
    port,
    host: options.host ?? "127.0.0.1",
    apiVersion,
    clientId: nonEmpty(options.clientId, "linq-simulator-client-id", "clientId"),
    clientSecret: nonEmpty(options.clientSecret, "linq-simulator-client-secret", "clientSecret"),
    users,
    accessTokenTtlSeconds: positiveInteger(options.accessTokenTtlSeconds, 7200, "accessTokenTtlSeconds"),
    dailyApiLimit: positiveInteger(options.dailyApiLimit, 15_000, "dailyApiLimit"),
    queryBatchSize: positiveInteger(options.queryBatchSize, 2000, "queryBatchSize"),
    bulkProcessingDelayMs: delay,
    maxBodyBytes: positiveInteger(options.maxBodyBytes, 150 * 1024 * 1024, "maxBodyBytes"),
    now: options.now ?? (() => new Date()),
    log: options.logger ?? (() => {}),
    options,
  };
}

class RunningSalesforceSimulator implements SalesforceSimulator {
  readonly apiVersion: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly organizationId: string;
  readonly state: SalesforceSimulatorState;
  readonly users: SalesforceSimulatorUsers;
  readonly faults: SalesforceSimulatorFaults;
  private address = "";
  private readonly settings: Settings;
  private readonly schema: Schema;
  private readonly ids = new IdGenerator();
  private readonly store: RecordStore;
  private readonly oauth: OAuthServer;
  private readonly cursors = new QueryCursors();
  private readonly bulk: BulkIngest;
  private readonly rest: RestApi;
  private readonly faultRegistry = new FaultRegistry();
  private readonly recorded: SalesforceRecordedRequest[] = [];
  private readonly server: Server;
  private readonly lifetime = new AbortController();
  private apiRequests = 0;
  private createdAt: number;
  private closing: Promise<void> | undefined;

  constructor(settings: Settings) {
    this.settings = settings;
    this.apiVersion = settings.apiVersion;
    this.clientId = settings.clientId;
    this.clientSecret = settings.clientSecret;
    this.organizationId = toId18("00D5g00000LinQS");
    this.schema = new Schema(settings.options);
    for (const [objectName, fields] of Object.entries(settings.options.duplicateRules ?? {})) {
      const object = this.schema.object(objectName);
      for (const name of fields ?? []) {
        if (object?.field(name) === undefined)
          throw new ConfigurationError(
            `duplicateRules: ${objectName}.${name} is not a field of the simulator`,
          );
      }
    }
    this.store = new RecordStore({
      schema: this.schema,
      ids: this.ids,
      now: settings.now,
      duplicateRules: Object.fromEntries(
        Object.entries(settings.options.duplicateRules ?? {}).map(([name, fields]) => [
          this.schema.object(name)?.name ?? name,
          fields ?? [],
        ]),
      ),
      apiVersion: settings.apiVersion,
    });
    this.createdAt = settings.now().getTime();
    this.store.seedUsers(settings.users);
    this.oauth = new OAuthServer({
      clientId: settings.clientId,
      clientSecret: settings.clientSecret,
      users: settings.users,
      now: settings.now,
      accessTokenTtlSeconds: settings.accessTokenTtlSeconds,
      organizationId: this.organizationId,
    });
    const services: ApiServices = {
      schema: this.schema,
      store: this.store,
      ids: this.ids,
      now: settings.now,
      apiVersion: settings.apiVersion,
      queryBatchSize: settings.queryBatchSize,
      dailyApiLimit: settings.dailyApiLimit,
      apiUsage: () => this.apiRequests,
      createdAt: () => this.createdAt,
      dispatch: (request) => this.dispatch(request),
    };
    this.bulk = new BulkIngest(services, { processingDelayMs: settings.bulkProcessingDelayMs });
    this.rest = new RestApi(services, this.cursors, this.bulk);
    this.state = this.createStateView();
    this.users = this.createUsers();
    this.faults = {
      inject: (fault) => this.faultRegistry.inject(fault),
      clear: () => this.faultRegistry.clear(),
    };
    this.server = createSimulatorServer(
      (request, response) => this.handle(request, response),
      this.settings.log,
    );
  }

  get instanceUrl(): string {
    return this.address;
  }

  get loginUrl(): string {
    return this.address;
  }

  get requests(): SalesforceRecordedRequest[] {
    return this.recorded;
  }

  async listen(): Promise<void> {
    this.address = await listenSimulatorServer(this.server, this.settings.host, this.settings.port);
    this.oauth.baseUrl = this.address;
  }

  issueAccessToken(user?: string): string {
    return this.oauth.issueAccessToken(this.resolveUser(user).id);
  }

  issueRefreshToken(user?: string): string {
    return this.oauth.issueRefreshToken(this.resolveUser(user).id);
  }

  expireAllTokens(): void {
    this.oauth.expireAll();
  }

  revokeAllTokens(): void {
    this.oauth.revokeAll();
  }

  reset(): void {
    this.store.clear();
    this.ids.reset();
    this.store.seedUsers(this.settings.users);
    this.cursors.clear();
    this.bulk.reset();
    this.faultRegistry.clear();
    this.recorded.length = 0;
    this.apiRequests = 0;
    this.createdAt = this.settings.now().getTime();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.lifetime.abort();
      this.bulk.reset();
      await closeSimulatorServer(this.server);
    })();
    return this.closing;
  }

  // ------------------------------------------------------------------ pipeline

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = performance.now();
    const method = (request.method ?? "GET").toUpperCase();
    const url = new URL(request.url ?? "/", "http://simulator.invalid");
    const path = url.pathname;
    const record: SalesforceRecordedRequest = {
      method,
      path,
      query: queryRecord(url.searchParams),
      status: null,
      userId: null,
      countedAsApiRequest: false,
      at: this.settings.now().toISOString(),
      fault: null,
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
    const body = await readSimulatorRequestBody(request, this.settings.maxBodyBytes);
    if (!body.complete) return;
    if (fault?.kind === "latency") {
      try {
        await sleep(fault.latencyMs, undefined, { signal: this.lifetime.signal });
      } catch {
        request.socket.destroy();
        return;
      }
    }
    const contentType = String(request.headers["content-type"] ?? "");
    record.body = recordedBody(body.bytes, contentType, path);
    let result: ApiResponse;
    try {
      if (body.tooLarge)
        throw apiError(
          413,
          "REQUEST_ENTITY_TOO_LARGE",
          `The request body exceeds ${this.settings.maxBodyBytes} bytes`,
        );
      result = await this.route(request, method, url, body.bytes, contentType, record, fault);
    } catch (error) {
      result = this.toResponse(error);
    }
    record.status = result.status;
    if (fault?.kind === "drop-after-processing") {
      request.socket.destroy();
      log(`${result.status} processed, then connection dropped (fault)`);
      return;
    }
    writeResponse(response, result);
    log(`${result.status}${fault === undefined ? "" : ` (fault: ${fault.kind})`}`);
  }

  private async route(
    request: IncomingMessage,
    method: string,
    url: URL,
    bytes: Buffer,
    contentType: string,
    record: SalesforceRecordedRequest,
    fault: AppliedFault | undefined,
  ): Promise<ApiResponse> {
    const path = url.pathname;
    const answering = fault === undefined ? undefined : faultResponse(fault, this.limitHeader());
    if (method === "GET" && (path === "/" || path.startsWith("/records/"))) {
      if (answering !== undefined) return answering;
      return this.page(path);
    }
    if (path === "/services/oauth2/token" || path === "/services/oauth2/revoke") {
      if (answering !== undefined) return answering;
      if (method !== "POST")
        throw apiError(405, "METHOD_NOT_ALLOWED", `HTTP Method '${method}' not allowed. Allowed are POST`);
      const form = new URLSearchParams(bytes.toString("utf8"));
      if (path.endsWith("/revoke")) {
        this.oauth.revoke(form);
        return { status: 200 };
      }
      return {
        status: 200,
        json: this.oauth.token(form),
        headers: { "cache-control": "no-cache,must-revalidate,max-age=0,no-store,private" },
      };
    }
    if (path === "/services/data" || path === "/services/data/") {
      if (answering !== undefined) return answering;
      if (method !== "GET")
        throw apiError(405, "METHOD_NOT_ALLOWED", `HTTP Method '${method}' not allowed. Allowed are GET`);
      return { status: 200, json: this.versions() };
    }
    const parsed = parseDataPath(path);
    if (parsed === undefined) {
      if (answering !== undefined) return answering;
      throw apiError(404, "NOT_FOUND", NOT_FOUND_MESSAGE);
    }
    if (answering !== undefined) return answering;
    const user = this.oauth.authenticate(request.headers.authorization);
    record.userId = user.id;
    const version = Number(parsed.version);
    if (!/^\d+\.0$/.test(parsed.version) || version < MIN_API_VERSION || version > Number(this.apiVersion)) {
      throw apiError(404, "NOT_FOUND", NOT_FOUND_MESSAGE);
    }
    if (this.apiRequests >= this.settings.dailyApiLimit) {
      const error = requestLimitExceeded();
      return {
        status: error.status,
        json: error.errors,
        headers: { "sforce-limit-info": this.limitHeader() },
      };
    }
    this.apiRequests += 1;
    record.countedAsApiRequest = true;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (typeof value === "string") headers[name.toLowerCase()] = value;
    }
    const result = await this.dispatch({
      method,
      segments: parsed.segments,
      query: url.searchParams,
      headers,
      rawBody: bytes,
      contentType,
      user,
      version: parsed.version,
    });
    return { ...result, headers: { ...result.headers, "sforce-limit-info": this.limitHeader() } };
  }

  private async dispatch(request: ApiRequest): Promise<ApiResponse> {
    try {
      const version = Number(request.version);
      if (
        !/^\d+\.0$/.test(request.version) ||
        version < MIN_API_VERSION ||
        version > Number(this.apiVersion)
      ) {
        throw apiError(404, "NOT_FOUND", NOT_FOUND_MESSAGE);
      }
      return await this.rest.handle(request);
    } catch (error) {
      const response = errorResponse(error);
      if (response === undefined) throw error;
      return response;
    }
  }

  private toResponse(error: unknown): ApiResponse {
    if (error instanceof OAuthError) {
      return { status: error.status, json: { error: error.error, error_description: error.description } };
    }
    const response = errorResponse(error);
    if (response !== undefined) return response;
    const message = error instanceof Error ? error.message : String(error);
    this.settings.log(
      `simulator handler failure: ${error instanceof Error ? (error.stack ?? message) : message}`,
    );
    return {
      status: 500,
      json: [{ errorCode: "UNKNOWN_EXCEPTION", message: `Simulator failure: ${message}` }],
    };
  }

  private limitHeader(): string {
    return `api-usage=${this.apiRequests}/${this.settings.dailyApiLimit}`;
  }

  private versions(): { label: string; url: string; version: string }[] {
    const versions: { label: string; url: string; version: string }[] = [];
    for (let version = MIN_API_VERSION; version <= Number(this.apiVersion); version += 1) {
      versions.push({
        label: seasonLabel(version),
        url: `/services/data/v${version}.0`,
        version: `${version}.0`,
      });
    }
    return versions;
  }

  private page(path: string): ApiResponse {
    if (path === "/")
      return {
        status: 200,
        text: { body: renderHome(this.store, this.organizationId), contentType: "text/html; charset=utf-8" },
      };
    const id = decodeURIComponent(path.slice("/records/".length));
    const found = this.store.get(id);
    if (found === undefined)
      return { status: 404, text: { body: renderNotFound(), contentType: "text/html; charset=utf-8" } };
    return {
      status: 200,
      text: { body: renderRecord(this.store, found), contentType: "text/html; charset=utf-8" },
    };
  }

  // ------------------------------------------------------------------ views and controls

  private resolveUser(reference: string | undefined): SalesforceSimulatorUser {
    if (reference === undefined) return this.settings.users[0] as SalesforceSimulatorUser;
    const id = normalizeId(reference);
    const user = this.settings.users.find(
      (candidate) => candidate.id === id || candidate.username.toLowerCase() === reference.toLowerCase(),
    );
    if (user === undefined) throw new ConfigurationError(`No simulator user ${JSON.stringify(reference)}`);
    return user;
  }

  private requireObjectName(sobject: string): string {
    const object = this.schema.object(sobject);
    if (object === undefined) {
      throw new ConfigurationError(
        `Unknown object ${JSON.stringify(sobject)}: the simulator has ${this.schema
          .all()
          .map((candidate) => candidate.name)
          .join(", ")}`,
      );
    }
    return object.name;
  }

  private createStateView(): SalesforceSimulatorState {
    return {
      records: (sobject, options = {}) =>
        this.store
          .all(this.requireObjectName(sobject), { includeDeleted: options.includeDeleted === true })
          .map((record) => this.store.render(record, this.apiVersion)),
      record: (sobject, id) => {
        const found = this.store.get(id);
        if (found === undefined || found.object.name !== this.requireObjectName(sobject)) return undefined;
        return this.store.render(found, this.apiVersion);
      },
      deletedRecords: (sobject) =>
        this.store
          .deletedLog(this.requireObjectName(sobject))
          .map((entry) => this.store.renderDeleted(entry)),
      apiUsage: () => ({ used: this.apiRequests, limit: this.settings.dailyApiLimit }),
      bulkJobs: () => this.bulk.list(),
    };
  }

  private createUsers(): SalesforceSimulatorUsers {
    const uiUser = (as: string | undefined): SalesforceSimulatorUser =>
      as === undefined
        ? (this.settings.users[1] ?? (this.settings.users[0] as SalesforceSimulatorUser))
        : this.resolveUser(as);
    const render = (record: Parameters<RecordStore["render"]>[0]): SalesforceRecord =>
      this.store.render(record, this.apiVersion);
    return {
      list: () => this.settings.users.map((user) => ({ ...user })),
      create: (sobject, fields, options = {}) =>
        render(
          this.store.create(this.requireObjectName(sobject), fields, {
            userId: uiUser(options.as).id,
            source: "json",
            allowDuplicates: true,
          }),
        ),
      update: (sobject, id, fields, options = {}) =>
        render(
          this.store.update(this.requireObjectName(sobject), id, fields, {
            userId: uiUser(options.as).id,
            source: "json",
            allowDuplicates: true,
          }),
        ),
      delete: (sobject, id, options = {}) => {
        this.store.delete(this.requireObjectName(sobject), id, {
          userId: uiUser(options.as).id,
          source: "json",
        });
      },
      convertLead: (leadId, options = {}) =>
        this.store.convertLead(
          leadId,
          { contactId: options.contactId, accountId: options.accountId },
          { userId: uiUser(options.as).id, source: "json", allowDuplicates: true },
        ),
    };
  }
}

function seasonLabel(version: number): string {
  // 62.0 is Winter '25, 63.0 Spring '25, 64.0 Summer '25: three releases a year.
  const season = ["Spring", "Summer", "Winter"][version % 3] ?? "Winter";
  const year = Math.floor((version - 2) / 3) + 5;
  return `${season} '${String(year).padStart(2, "0")}`;
}

function faultResponse(fault: AppliedFault, limitHeader: string): ApiResponse | undefined {
  switch (fault.kind) {
    case "server-error":
      return {
        status: 500,
        json: [
          {
            errorCode: "UNKNOWN_EXCEPTION",
            message:
              "An unexpected error occurred. Please include this ErrorId if you contact support: 1431718870-57612 (-1247382537)",
          },
        ],
      };
    case "service-unavailable":
      return {
        status: 503,
        json: [{ errorCode: "SERVER_UNAVAILABLE", message: "Server Unavailable" }],
        headers: { "retry-after": String(fault.retryAfterSeconds) },
      };
    case "rate-limit":
      return {
        status: 429,
        json: [{ errorCode: "TOO_MANY_REQUESTS", message: "Too many requests" }],
        headers: { "retry-after": String(fault.retryAfterSeconds) },
      };
    case "request-limit": {
      const error = requestLimitExceeded();
      return { status: error.status, json: error.errors, headers: { "sforce-limit-info": limitHeader } };
    }
    case "session-expired": {
      const error = sessionExpired();
      return { status: error.status, json: error.errors };
    }
    default:
      return undefined;
  }
}

function writeResponse(response: ServerResponse, result: ApiResponse): void {
  const headers: Record<string, string | number> = { ...result.headers };
  let bytes = Buffer.alloc(0);
  if (result.json !== undefined) {
    bytes = Buffer.from(JSON.stringify(result.json), "utf8");
    headers["content-type"] = JSON_CONTENT_TYPE;
  } else if (result.text !== undefined) {
    bytes = Buffer.from(result.text.body, "utf8");
    headers["content-type"] = result.text.contentType;
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

const SECRET_FIELDS = new Set(["client_secret", "refresh_token", "assertion", "token", "password"]);

function recordedBody(bytes: Buffer, contentType: string, path: string): unknown {
  if (bytes.byteLength === 0) return null;
  const text = bytes.toString("utf8");
  if (path.startsWith("/services/oauth2/")) {
    const form: Record<string, string> = {};
    for (const [key, value] of new URLSearchParams(text)) form[key] = SECRET_FIELDS.has(key) ? "***" : value;
    return form;
  }
  if (/json/i.test(contentType)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}
