/**
 * HubSpot failures as the shared error hierarchy of `@linq-connect/core`.
 *
 * `@hubspot/api-client` throws `ApiException { code, body, headers }` for HTTP errors (the body is
 * HubSpot's `{status, message, correlationId, category, errors, context}`, or text for an HTML 502)
 * and plain errors for network failures. {@link toHubSpotError} maps both:
 *
 * | HubSpot                                  | class                         | retryable |
 * | ---------------------------------------- | ----------------------------- | --------- |
 * | 401                                      | AuthenticationError           | no        |
 * | 403 `MISSING_SCOPES`                     | HubSpotMissingScopesError     | no        |
 * | 403 other                                | PermissionError               | no        |
 * | 404                                      | NotFoundError                 | no        |
 * | 409 "Contact already exists. Existing ID" | HubSpotContactExistsError     | no        |
 * | 409 other                                | ConflictError                 | no        |
 * | 400 / 422                                | ValidationError (fieldErrors) | no        |
 * | 429                                      | RateLimitError (retryAfter)   | yes       |
 * | 5xx                                      | ServerError                   | yes       |
 * | connection refused / reset / dropped     | NetworkError                  | yes       |
 * | no answer in time                        | TimeoutError                  | yes       |
 *
 * Messages carry HubSpot's message and correlation id, never the token.
 */
import {
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
  parseRetryAfter,
  RateLimitError,
  ServerError,
  TimeoutError,
  UnexpectedResponseError,
  ValidationError,
} from "@linq-connect/core";

/** The rate-limit policies HubSpot names in a 429. */
export type HubSpotRateLimitPolicy = "TEN_SECONDLY_ROLLING" | "SECONDLY" | "DAILY";

/** 403 `MISSING_SCOPES`: the private app lacks a scope; `requiredScopes` lists the ones that would do. */
export class HubSpotMissingScopesError extends PermissionError {
  readonly requiredScopes: readonly string[];
  constructor(message: string, options: LinqConnectErrorOptions & { requiredScopes: readonly string[] }) {
    super(message, options);
    this.requiredScopes = options.requiredScopes;
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), requiredScopes: this.requiredScopes };
  }
}

/** 409 on a contact write: another contact has this email; `existingId` is that contact. */
export class HubSpotContactExistsError extends ConflictError {
  readonly existingId: string;
  constructor(message: string, options: LinqConnectErrorOptions & { existingId: string }) {
    super(message, options);
    this.existingId = options.existingId;
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), existingId: this.existingId };
  }
}

/**
 * A create whose outcome is unknown (the connection dropped, a 5xx) happened a moment ago and search
 * cannot see its result yet: retry later rather than risk a duplicate. Retryable, with `retryAfter`.
 */
export class HubSpotIndexLagError extends ServerError {}

/** 429 with the policy HubSpot named. */
export class HubSpotRateLimitError extends RateLimitError {
  readonly policy: HubSpotRateLimitPolicy | undefined;
  /** Whether HubSpot sent a Retry-After header (it normally does not; `retryAfter` is then our estimate). */
  readonly retryAfterGiven: boolean;
  constructor(
    message: string,
    options: LinqConnectErrorOptions & {
      policy: HubSpotRateLimitPolicy | undefined;
      retryAfterGiven: boolean;
    },
  ) {
    super(message, options);
    this.policy = options.policy;
    this.retryAfterGiven = options.retryAfterGiven;
  }
}

interface HubSpotErrorBody {
  message?: unknown;
  category?: unknown;
  correlationId?: unknown;
  policyName?: unknown;
  errors?: unknown;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function parseBody(body: unknown): HubSpotErrorBody | undefined {
  if (isRecord(body)) return body as HubSpotErrorBody;
  if (typeof body === "string" && body.trim().startsWith("{")) {
    try {
      const parsed: unknown = JSON.parse(body);
      if (isRecord(parsed)) return parsed as HubSpotErrorBody;
    } catch {
      // not JSON
    }
  }
  return undefined;
}

function headerOf(headers: unknown, name: string): string | undefined {
  if (!isRecord(headers)) return undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name && typeof value === "string") return value;
  }
  return undefined;
}

/** The policy of a 429, from `policyName` or (the SDK drops unknown body fields) the message. */
export function rateLimitPolicyOf(body: HubSpotErrorBody | undefined): HubSpotRateLimitPolicy | undefined {
  const named = typeof body?.policyName === "string" ? body.policyName : undefined;
  if (named === "TEN_SECONDLY_ROLLING" || named === "SECONDLY" || named === "DAILY") return named;
  const message = typeof body?.message === "string" ? body.message.toLowerCase() : "";
  if (message.includes("ten_secondly")) return "TEN_SECONDLY_ROLLING";
  if (message.includes("secondly")) return "SECONDLY";
  if (message.includes("daily")) return "DAILY";
  return undefined;
}

/** Seconds until midnight UTC (when the daily quota resets). */
function secondsUntilMidnightUtc(now: number): number {
  const midnight = new Date(now);
  midnight.setUTCHours(24, 0, 0, 0);
  return Math.max(1, Math.ceil((midnight.getTime() - now) / 1000));
}

/** How long to wait after a 429 of this policy when HubSpot sends no Retry-After (it normally does not). */
export function defaultRetryAfterSeconds(
  policy: HubSpotRateLimitPolicy | undefined,
  now = Date.now(),
): number {
  if (policy === "SECONDLY") return 1;
  if (policy === "DAILY") return secondsUntilMidnightUtc(now);
  return 10;
}

function fieldErrorsOf(body: HubSpotErrorBody | undefined): FieldError[] {
  if (!Array.isArray(body?.errors)) return [];
  return body.errors.filter(isRecord).map((entry) => {
    const context = isRecord(entry.context) ? entry.context : {};
    const propertyName = Array.isArray(context.propertyName) ? context.propertyName[0] : undefined;
    const error: FieldError = { message: typeof entry.message === "string" ? entry.message : "invalid" };
    if (typeof propertyName === "string") error.field = propertyName;
    if (typeof entry.code === "string") error.code = entry.code;
    return error;
  });
}

function requiredScopesOf(body: HubSpotErrorBody | undefined): string[] {
  const scopes = new Set<string>();
  if (!Array.isArray(body?.errors)) return [];
  for (const entry of body.errors) {
    if (!isRecord(entry) || !isRecord(entry.context)) continue;
    const required = entry.context.requiredGranularScopes ?? entry.context.requiredScopes;
    if (Array.isArray(required))
      for (const scope of required) if (typeof scope === "string") scopes.add(scope);
  }
  return [...scopes];
}

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "ERR_STREAM_PREMATURE_CLOSE",
]);

function errorCodeOf(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4; depth += 1) {
    if (current === null || typeof current !== "object") return undefined;
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Maps anything an SDK call threw to a LinqConnectError (source "hubspot"). */
export function toHubSpotError(error: unknown, operation: string): LinqConnectError {
  if (isLinqConnectError(error)) return error;
  const candidate = error as { code?: unknown; body?: unknown; headers?: unknown; message?: unknown };
  if (typeof candidate?.code === "number" && candidate.code >= 100) {
    const status = candidate.code;
    const body = parseBody(candidate.body);
    const correlationId =
      (typeof body?.correlationId === "string" ? body.correlationId : undefined) ??
      headerOf(candidate.headers, "x-hubspot-correlation-id");
    const hubSpotMessage =
      typeof body?.message === "string"
        ? body.message
        : typeof candidate.body === "string" && candidate.body.trim() !== ""
          ? candidate.body
              .replace(/<[^>]*>/g, " ")
              .replace(/\s+/g, " ")
              .trim()
              .slice(0, 200)
          : `HTTP ${status}`;
    const message = `HubSpot ${operation} failed (${status}): ${hubSpotMessage}`;
    const options: LinqConnectErrorOptions = {
      source: "hubspot",
      status,
      cause: error,
      ...(correlationId === undefined ? {} : { requestId: correlationId }),
      ...(body === undefined ? {} : { body }),
    };
    if (status === 401) return new AuthenticationError(message, options);
    if (status === 403) {
      if (body?.category === "MISSING_SCOPES") {
        const requiredScopes = requiredScopesOf(body);
        return new HubSpotMissingScopesError(
          `${message} (the private app needs one of these scopes: ${requiredScopes.join(", ") || "unknown"})`,
          { ...options, requiredScopes },
        );
      }
      return new PermissionError(message, options);
    }
    if (status === 404) return new NotFoundError(message, options);
    if (status === 409) {
      const existing = /Existing ID:\s*(\d+)/i.exec(hubSpotMessage);
      if (existing?.[1] !== undefined) {
        return new HubSpotContactExistsError(message, { ...options, existingId: existing[1] });
      }
      return new ConflictError(message, options);
    }
    if (status === 400 || status === 422) {
      return new ValidationError(message, { ...options, fieldErrors: fieldErrorsOf(body) });
    }
    if (status === 429) {
      const policy = rateLimitPolicyOf(body);
      const given = parseRetryAfter(headerOf(candidate.headers, "retry-after"));
      const retryAfter = given ?? defaultRetryAfterSeconds(policy);
      return new HubSpotRateLimitError(message, {
        ...options,
        retryAfter,
        policy,
        retryAfterGiven: given !== undefined,
      });
    }
    if (status === 408) return new TimeoutError(message, options);
    if (status >= 500) return new ServerError(message, options);
    return new ApiError(message, options);
  }
  const code = errorCodeOf(error);
  const text = error instanceof Error ? error.message : String(error);
  if (code === "ETIMEDOUT" || (error instanceof Error && error.name === "TimeoutError")) {
    return new TimeoutError(`HubSpot ${operation} timed out: ${text}`, { source: "hubspot", cause: error });
  }
  if (
    (code !== undefined && NETWORK_CODES.has(code)) ||
    /socket hang up|fetch failed|ECONNRESET|ECONNREFUSED|other side closed|terminated/i.test(text)
  ) {
    return new NetworkError(`HubSpot ${operation}: the connection failed (${code ?? text})`, {
      source: "hubspot",
      cause: error,
    });
  }
  return new UnexpectedResponseError(`HubSpot ${operation} failed: ${text}`, {
    source: "hubspot",
    cause: error,
  });
}
