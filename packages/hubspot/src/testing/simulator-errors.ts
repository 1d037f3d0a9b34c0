/**
 * HubSpot's error bodies and how simulator handlers raise them.
 *
 * Every error answer has HubSpot's shape `{status: "error", message, correlationId, errors?, context?,
 * links?, category?, subCategory?}` (keys in HubSpot's order). Handlers throw a {@link HubSpotApiError};
 * the server renders it with the request's correlation id.
 */

/** One invalid property value, as HubSpot reports it in a `VALIDATION_ERROR`. */
export interface PropertyIssue {
  name: string;
  value: string;
  /** `PROPERTY_DOESNT_EXIST`, `INVALID_OPTION`, `INVALID_EMAIL`, `INVALID_LONG`, `READ_ONLY_VALUE`, … */
  code: string;
  message: string;
}

/** The rate-limit policies HubSpot names in a 429. */
export type RateLimitPolicy = "TEN_SECONDLY_ROLLING" | "SECONDLY" | "DAILY";

interface HubSpotApiErrorInit {
  category?: string;
  subCategory?: string;
  errors?: Record<string, unknown>[];
  context?: Record<string, string[]>;
  links?: Record<string, string>;
  /** Fields placed right after `message` (the 429 body's `errorType`). */
  leading?: Record<string, unknown>;
  /** Fields placed after `correlationId` (the 429 body's `policyName`). */
  trailing?: Record<string, unknown>;
  headers?: Record<string, string>;
}

/** An error answer. `body(correlationId)` renders it. */
export class HubSpotApiError extends Error {
  readonly status: number;
  readonly category: string | undefined;
  readonly headers: Record<string, string>;
  private readonly init: HubSpotApiErrorInit;

  constructor(status: number, message: string, init: HubSpotApiErrorInit = {}) {
    super(message);
    this.name = "HubSpotApiError";
    this.status = status;
    this.category = init.category;
    this.headers = init.headers ?? {};
    this.init = init;
  }

  /** The JSON body, with HubSpot's key order. */
  body(correlationId: string): Record<string, unknown> {
    const body: Record<string, unknown> = { status: "error", message: this.message };
    Object.assign(body, this.init.leading);
    body.correlationId = correlationId;
    Object.assign(body, this.init.trailing);
    if (this.init.errors !== undefined) body.errors = this.init.errors;
    if (this.init.context !== undefined) body.context = this.init.context;
    if (this.init.links !== undefined) body.links = this.init.links;
    if (this.init.category !== undefined) body.category = this.init.category;
    if (this.init.subCategory !== undefined) body.subCategory = this.init.subCategory;
    return body;
  }
}

export function isHubSpotApiError(error: unknown): error is HubSpotApiError {
  return error instanceof HubSpotApiError;
}

/** 401: a missing or unknown token (HubSpot answers both with this body). */
export function authenticationError(): HubSpotApiError {
  return new HubSpotApiError(
    401,
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
    { category: "INVALID_AUTHENTICATION" },
  );
}

/** 403: the token lacks every one of `requiredScopes`. */
export function missingScopesError(requiredScopes: readonly string[]): HubSpotApiError {
  return new HubSpotApiError(
    403,
    "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
    {
      errors: [
        {
          message: "One or more of the following scopes are required.",
          context: { requiredGranularScopes: [...requiredScopes] },
        },
      ],
      links: { scopes: "https://developers.hubspot.com/scopes" },
      category: "MISSING_SCOPES",
    },
  );
}

const RATE_LIMIT_MESSAGES: Record<RateLimitPolicy, string> = {
  TEN_SECONDLY_ROLLING: "You have reached your ten_secondly_rolling limit.",
  // The search endpoints' limit; @hubspot/api-client retries on exactly this message.
  SECONDLY: "You have reached your secondly limit.",
  DAILY: "You have reached your daily limit.",
};

/** 429 in HubSpot's rate-limit format. `retryAfterSeconds` adds a `Retry-After` header (HubSpot normally sends none). */
export function rateLimitError(policy: RateLimitPolicy, retryAfterSeconds?: number): HubSpotApiError {
  return new HubSpotApiError(429, RATE_LIMIT_MESSAGES[policy], {
    leading: { errorType: "RATE_LIMIT" },
    trailing: { policyName: policy },
    ...(retryAfterSeconds === undefined ? {} : { headers: { "retry-after": String(retryAfterSeconds) } }),
  });
}

/** 400 `VALIDATION_ERROR` with a plain message. */
export function validationError(
  message: string,
  init: Omit<HubSpotApiErrorInit, "category"> = {},
): HubSpotApiError {
  return new HubSpotApiError(400, message, { ...init, category: "VALIDATION_ERROR" });
}

/**
 * 400 for a body that does not fit the endpoint's input (HubSpot's JSON binding error: no category).
 * `detail` is appended to `Invalid input JSON on line 1, column 1: `.
 */
export function invalidInputError(detail: string, position = { line: 1, column: 1 }): HubSpotApiError {
  return new HubSpotApiError(
    400,
    `Invalid input JSON on line ${position.line}, column ${position.column}: ${detail}`,
  );
}

/**
 * 400 "Property values were not valid": the message embeds the issues as JSON (as HubSpot does) and
 * `errors` lists them with `code` and `context.propertyName`.
 */
export function propertyValuesError(issues: readonly PropertyIssue[], portalId: number): HubSpotApiError {
  const embedded = issues.map((issue) => ({
    isValid: false,
    message: issue.message,
    error: issue.code,
    name: issue.name,
    localizedErrorMessage: issue.message,
    portalId,
  }));
  return validationError(`Property values were not valid: ${JSON.stringify(embedded)}`, {
    errors: issues.map((issue) => ({
      message: issue.message,
      code: issue.code,
      context: { propertyName: [issue.name] },
    })),
  });
}

/** 404 for an object id: HubSpot's hint about numeric ids, with the id in `context`. */
export function objectNotFoundError(id: string): HubSpotApiError {
  return new HubSpotApiError(404, "Object not found.  objectId are usually numeric.", {
    context: { id: [id] },
    category: "OBJECT_NOT_FOUND",
  });
}

/** 404 `resource not found` (unknown route, or a record that does not exist). */
export function resourceNotFoundError(): HubSpotApiError {
  return new HubSpotApiError(404, "resource not found", { category: "OBJECT_NOT_FOUND" });
}

/** 409 `CONFLICT`. */
export function conflictError(message: string): HubSpotApiError {
  return new HubSpotApiError(409, message, { category: "CONFLICT" });
}

/** The 409 of a duplicate contact email; connectors parse the id out of this exact message. */
export function contactExistsError(existingId: string): HubSpotApiError {
  return conflictError(`Contact already exists. Existing ID: ${existingId}`);
}

/** The 400 of a batch with more than `max` inputs. */
export function batchLimitError(max: number): HubSpotApiError {
  return validationError(
    `The maximum number of inputs supported in a batch request is ${max}. Please reduce the number of items and try again`,
  );
}

/** A new correlation id (HubSpot's recent ones are UUIDv7: a millisecond timestamp then random bits). */
export function newCorrelationId(now: Date): string {
  const millis = BigInt(now.getTime()) & ((1n << 48n) - 1n);
  const random = crypto.getRandomValues(new Uint8Array(10));
  const hex = millis.toString(16).padStart(12, "0");
  const bytes = Array.from(random, (byte) => byte.toString(16).padStart(2, "0")).join("");
  const variant = ((Number.parseInt(bytes.slice(4, 6), 16) & 0x3f) | 0x80).toString(16).padStart(2, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${bytes.slice(1, 4)}-${variant}${bytes.slice(6, 8)}-${bytes.slice(8, 20)}`;
}
