/**
 * Salesforce failures as the shared error hierarchy of `@linq-connect/core`.
 *
 * jsforce throws `HttpApiError { errorCode, data }` for REST errors (Salesforce answers
 * `[{ message, errorCode, fields }]`), errors named after the OAuth `error` for token requests, and
 * undici's `TypeError: fetch failed` for network failures. The HTTP status is not on jsforce's
 * errors; `SalesforceApi` records it per request and passes it here. {@link toSalesforceError} maps:
 *
 * | Salesforce                                                   | class                          | retryable |
 * | ------------------------------------------------------------ | ------------------------------ | --------- |
 * | INVALID_SESSION_ID (after a refresh), invalid_grant, 401     | AuthenticationError            | no        |
 * | REQUEST_LIMIT_EXCEEDED (the org's daily API limit)           | SalesforceRequestLimitError    | yes, late |
 * | 429, TOO_MANY_REQUESTS                                       | RateLimitError                 | yes       |
 * | INSUFFICIENT_ACCESS*, API_DISABLED_FOR_ORG, 403              | PermissionError                | no        |
 * | NOT_FOUND, ENTITY_IS_DELETED, 404                            | NotFoundError                  | no        |
 * | DUPLICATE_VALUE, DUPLICATES_DETECTED                         | SalesforceDuplicateError       | no        |
 * | UNABLE_TO_LOCK_ROW, UNKNOWN_EXCEPTION, SERVER_UNAVAILABLE, 5xx | ServerError                  | yes       |
 * | REQUIRED_FIELD_MISSING, INVALID_FIELD, … 400                 | ValidationError (fieldErrors)  | no        |
 * | connection refused / reset / dropped                         | NetworkError                   | yes       |
 * | no answer in time                                            | TimeoutError                   | yes       |
 *
 * Messages carry Salesforce's message and error code, never a token.
 */
import {
  AbortError,
  ApiError,
  AuthenticationError,
  ConflictError,
  type FieldError,
  isLinqConnectError,
  type LinqConnectError,
  type LinqConnectErrorOptions,
  NetworkError,
  NotFoundError,
  PermissionError,
  RateLimitError,
  ServerError,
  TimeoutError,
  ValidationError,
} from "@linq-connect/core";

/** REQUEST_LIMIT_EXCEEDED: the org used its rolling 24-hour API allowance. Jobs wait `retryAfter` and resume. */
export class SalesforceRequestLimitError extends RateLimitError {}

/** DUPLICATE_VALUE / DUPLICATES_DETECTED: a unique field or a duplicate rule refused the write. */
export class SalesforceDuplicateError extends ConflictError {
  /** The records Salesforce named as the duplicates, when it named them. */
  readonly duplicateIds: readonly string[];
  constructor(message: string, options: LinqConnectErrorOptions & { duplicateIds: readonly string[] }) {
    super(message, options);
    this.duplicateIds = options.duplicateIds;
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), duplicateIds: this.duplicateIds };
  }
}

/** One error entry as Salesforce returns them (REST error bodies and per-record results). */
export interface SalesforceErrorEntry {
  errorCode?: string;
  statusCode?: string;
  message?: string;
  fields?: string[];
  duplicateResult?: { matchResults?: { matchRecords?: { record?: { Id?: string } }[] }[] };
}

/** What the API layer knows about the failed request. */
export interface FailureContext {
  /** The HTTP status of the last response of this call, when one arrived. */
  status?: number | undefined;
  /** `Retry-After` of that response, in seconds. */
  retryAfter?: number | undefined;
  /** How long REQUEST_LIMIT_EXCEEDED makes work wait. */
  requestLimitRetrySeconds?: number | undefined;
  /** What was being done, for the message ("create Contact"). */
  operation?: string | undefined;
}

const PERMISSION_CODES = new Set([
  "INSUFFICIENT_ACCESS",
  "INSUFFICIENT_ACCESS_OR_READONLY",
  "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY",
  "API_DISABLED_FOR_ORG",
  "API_CURRENTLY_DISABLED",
  "FUNCTIONALITY_NOT_ENABLED",
  "INVALID_OPERATION_WITH_EXPIRED_PASSWORD",
]);
const NOT_FOUND_CODES = new Set(["NOT_FOUND", "ENTITY_IS_DELETED", "INVALID_ID_FIELD"]);
const DUPLICATE_CODES = new Set(["DUPLICATE_VALUE", "DUPLICATES_DETECTED", "DUPLICATE_EXTERNAL_ID"]);
const SERVER_CODES = new Set([
  "UNABLE_TO_LOCK_ROW",
  "UNKNOWN_EXCEPTION",
  "SERVER_UNAVAILABLE",
  "QUERY_TIMEOUT",
]);
const AUTHENTICATION_CODES = new Set([
  "INVALID_SESSION_ID",
  "INVALID_AUTH_HEADER",
  "invalid_grant",
  "invalid_client",
  "invalid_client_id",
  "unauthorized_client",
  "invalid_request",
]);
const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ENOTFOUND",
  "ENETDOWN",
  "ENETUNREACH",
  "EHOSTDOWN",
  "EHOSTUNREACH",
  "EPIPE",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The error code of a Salesforce error entry (`errorCode` in REST errors, `statusCode` in record results). */
export function errorCodeOf(entry: SalesforceErrorEntry): string {
  return entry.errorCode ?? entry.statusCode ?? "UNKNOWN";
}

/** The duplicate record ids a DUPLICATES_DETECTED entry names. */
export function duplicateIdsOf(entry: SalesforceErrorEntry): string[] {
  const ids: string[] = [];
  for (const match of entry.duplicateResult?.matchResults ?? []) {
    for (const record of match.matchRecords ?? []) {
      if (typeof record.record?.Id === "string") ids.push(record.record.Id);
    }
  }
  // DUPLICATE_VALUE names the existing record in the message: "duplicate value found: X duplicates value on record with id: 003…"
  const named = /record with id:\s*([a-zA-Z0-9]{15,18})/.exec(entry.message ?? "");
  if (named?.[1] !== undefined) ids.push(named[1]);
  return ids;
}

/** Maps one Salesforce error entry (a REST error or a failed record of a collection) to the hierarchy. */
export function errorFromEntries(
  entries: readonly SalesforceErrorEntry[],
  context: FailureContext = {},
  cause?: unknown,
): LinqConnectError {
  const first = entries[0] ?? {};
  const code = errorCodeOf(first);
  const text = entries.map((entry) => `${errorCodeOf(entry)}: ${entry.message ?? ""}`.trim()).join("; ");
  const message = `Salesforce${context.operation === undefined ? "" : ` ${context.operation}`} failed: ${text}`;
  const options: LinqConnectErrorOptions = {
    source: "salesforce",
    ...(context.status === undefined ? {} : { status: context.status }),
    ...(cause === undefined ? {} : { cause }),
    body: entries,
  };
  const status = context.status;
  if (code === "REQUEST_LIMIT_EXCEEDED") {
    return new SalesforceRequestLimitError(message, {
      ...options,
      retryAfter: context.retryAfter ?? context.requestLimitRetrySeconds ?? 900,
    });
  }
  if (code === "TOO_MANY_REQUESTS" || status === 429) {
    return new RateLimitError(message, { ...options, retryAfter: context.retryAfter ?? 5 });
  }
  if (AUTHENTICATION_CODES.has(code) || status === 401) return new AuthenticationError(message, options);
  if (PERMISSION_CODES.has(code) || (status === 403 && !code.startsWith("ERROR_HTTP"))) {
    return new PermissionError(message, options);
  }
  if (NOT_FOUND_CODES.has(code) || status === 404) return new NotFoundError(message, options);
  if (DUPLICATE_CODES.has(code)) {
    return new SalesforceDuplicateError(message, {
      ...options,
      duplicateIds: entries.flatMap(duplicateIdsOf),
    });
  }
  if (SERVER_CODES.has(code) || (status !== undefined && status >= 500) || /^ERROR_HTTP_5\d\d$/.test(code)) {
    return new ServerError(message, {
      ...options,
      ...(context.retryAfter === undefined ? {} : { retryAfter: context.retryAfter }),
    });
  }
  if (status === 400 || status === undefined || entries.some((entry) => entry.fields !== undefined)) {
    const fieldErrors: FieldError[] = entries.flatMap((entry) => {
      const fields = entry.fields ?? [];
      const base = { message: entry.message ?? errorCodeOf(entry), code: errorCodeOf(entry) };
      return fields.length === 0 ? [base] : fields.map((field) => ({ ...base, field }));
    });
    if (status === 400 || code !== "UNKNOWN")
      return new ValidationError(message, { ...options, fieldErrors });
  }
  return new ApiError(message, options);
}

function causeCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && isRecord(current); depth += 1) {
    const code = current.code;
    if (typeof code === "string" && NETWORK_CODES.has(code)) return code;
    current = current.cause;
  }
  return undefined;
}

/**
 * Any error thrown while talking to Salesforce (through jsforce) as a `LinqConnectError`. Errors that
 * already are one pass through unchanged.
 */
export function toSalesforceError(error: unknown, context: FailureContext = {}): LinqConnectError {
  if (isLinqConnectError(error)) return error;
  const operation = context.operation === undefined ? "" : ` ${context.operation}`;
  if (error instanceof Error && error.name === "AbortError") {
    return new AbortError(`Salesforce${operation} was cancelled`, { source: "salesforce", cause: error });
  }
  const network = causeCode(error);
  if (network !== undefined || (error instanceof TypeError && error.message === "fetch failed")) {
    return new NetworkError(
      `Salesforce${operation} failed: the connection failed (${network ?? "fetch failed"})`,
      { source: "salesforce", cause: error },
    );
  }
  if (error instanceof Error && error.message.startsWith("Unable to refresh session")) {
    // jsforce wraps a failed token refresh (refresh token revoked, JWT refused, token endpoint down).
    const options = { source: "salesforce" as const, cause: error };
    const text = `Salesforce${operation} failed: ${error.message.slice(0, 300)}`;
    if (/fetch failed|ECONNRESET|ECONNREFUSED|socket/i.test(error.message))
      return new NetworkError(text, options);
    if (/ERROR_HTTP_5\d\d/.test(error.message)) return new ServerError(text, options);
    return new AuthenticationError(text, options);
  }
  if (error instanceof Error) {
    const named = error as Error & { errorCode?: unknown; data?: unknown };
    const code = typeof named.errorCode === "string" ? named.errorCode : error.name;
    if (code === "MULTIPLE_API_ERRORS" && Array.isArray(named.data)) {
      return errorFromEntries(named.data as SalesforceErrorEntry[], context, error);
    }
    const data = isRecord(named.data) ? (named.data as SalesforceErrorEntry) : {};
    const fields = Array.isArray(data.fields) ? { fields: data.fields } : {};
    const entry: SalesforceErrorEntry = {
      errorCode: code === "Error" && context.status !== undefined ? `ERROR_HTTP_${context.status}` : code,
      // HTML bodies (a proxy's error page) are not repeated in the message.
      message: error.message.includes("html content") ? "HTML error page" : error.message.slice(0, 500),
      ...fields,
      ...(data.duplicateResult === undefined ? {} : { duplicateResult: data.duplicateResult }),
    };
    return errorFromEntries([entry], context, error);
  }
  return new ApiError(`Salesforce${operation} failed: ${String(error).slice(0, 200)}`, {
    source: "salesforce",
    cause: error,
  });
}

/** A TimeoutError for a call that got no answer in `timeoutMs`. */
export function timeoutError(operation: string, timeoutMs: number): TimeoutError {
  return new TimeoutError(`Salesforce ${operation} got no answer within ${timeoutMs} ms`, {
    source: "salesforce",
  });
}
