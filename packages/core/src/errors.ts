/**
 * One error hierarchy for every linq-connect package.
 *
 * Each failure has its own class with a literal `code`, the HTTP `status` where
 * there is one, `retryAfter` (seconds) when the upstream said how long to wait,
 * `isRetryable`, the upstream `requestId` where present and the original `cause`.
 * Queues and retry loops decide from `isRetryable` (and `retryAfter`), never by
 * parsing messages.
 */

/** Which upstream (or which part of linq-connect) an error comes from. */
export type ErrorSource = "linq" | "slack" | "hubspot" | "salesforce" | "webhook" | "config" | "internal";

export interface LinqConnectErrorOptions {
  source?: ErrorSource;
  status?: number;
  retryAfter?: number;
  requestId?: string;
  cause?: unknown;
  /** The parsed error body the upstream returned, kept for diagnostics. */
  body?: unknown;
}

export abstract class LinqConnectError extends Error {
  abstract readonly code: string;
  /** Whether repeating the same request later may succeed. */
  abstract readonly isRetryable: boolean;
  readonly source: ErrorSource;
  readonly status: number | undefined;
  /** Seconds to wait before retrying, when the upstream said so. */
  readonly retryAfter: number | undefined;
  readonly requestId: string | undefined;
  readonly body: unknown;

  constructor(message: string, options: LinqConnectErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.source = options.source ?? "linq";
    this.status = options.status;
    this.retryAfter = options.retryAfter;
    this.requestId = options.requestId;
    this.body = options.body;
  }

  /** A JSON-safe summary for logs and dead-letter records (no secrets: bodies are not included). */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      source: this.source,
      status: this.status,
      retryAfter: this.retryAfter,
      requestId: this.requestId,
      isRetryable: this.isRetryable,
    };
  }
}

/** 401: the token is missing, wrong or revoked. */
export class AuthenticationError extends LinqConnectError {
  readonly code = "authentication_error";
  readonly isRetryable = false;
}

/** 403: the token is valid but may not do this (a number outside the organisation, a missing scope). */
export class PermissionError extends LinqConnectError {
  readonly code = "permission_error";
  readonly isRetryable = false;
}

/** 404: the resource does not exist (or is not visible to this token). */
export class NotFoundError extends LinqConnectError {
  readonly code = "not_found";
  readonly isRetryable = false;
}

export interface FieldError {
  /** The field the upstream named, when it named one. */
  field?: string;
  message: string;
  /** The upstream's own code for this problem, when it gave one. */
  code?: string;
}

/** 400 / 422: the request was malformed or failed validation. */
export class ValidationError extends LinqConnectError {
  readonly code = "validation_error";
  readonly isRetryable = false;
  readonly fieldErrors: readonly FieldError[];

  constructor(
    message: string,
    options: LinqConnectErrorOptions & { fieldErrors?: readonly FieldError[] } = {},
  ) {
    super(message, options);
    this.fieldErrors = options.fieldErrors ?? [];
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), fieldErrors: this.fieldErrors };
  }
}

/** 409: the write conflicts with the current state (a duplicate unique value, for one). */
export class ConflictError extends LinqConnectError {
  readonly code = "conflict";
  readonly isRetryable = false;
}

/** 429: too many requests; `retryAfter` says how long to wait when the upstream said so. */
export class RateLimitError extends LinqConnectError {
  readonly code = "rate_limited";
  readonly isRetryable = true;
}

/** 5xx: the upstream failed. */
export class ServerError extends LinqConnectError {
  readonly code = "server_error";
  readonly isRetryable = true;
}

/** The connection failed before a response arrived (refused, reset, DNS). */
export class NetworkError extends LinqConnectError {
  readonly code = "network_error";
  readonly isRetryable = true;
}

/** No response within the configured timeout. */
export class TimeoutError extends LinqConnectError {
  readonly code = "timeout";
  readonly isRetryable = true;
}

/** The caller aborted the request through its AbortSignal. */
export class AbortError extends LinqConnectError {
  readonly code = "aborted";
  readonly isRetryable = false;
}

/** Any other 4xx the upstream answered. */
export class ApiError extends LinqConnectError {
  readonly code = "api_error";
  readonly isRetryable = false;
}

/** A response that does not have the documented shape. */
export class UnexpectedResponseError extends LinqConnectError {
  readonly code = "unexpected_response";
  readonly isRetryable = false;
}

/** A webhook whose signature is missing or does not match any configured secret. */
export class WebhookSignatureError extends LinqConnectError {
  readonly code = "webhook_signature_invalid";
  readonly isRetryable = false;
  constructor(message: string, options: LinqConnectErrorOptions = {}) {
    super(message, { source: "webhook", status: 401, ...options });
  }
}

/** A webhook body that is not JSON or not a valid event. */
export class WebhookPayloadError extends LinqConnectError {
  readonly code = "webhook_payload_invalid";
  readonly isRetryable = false;
  readonly issues: readonly FieldError[];
  constructor(message: string, options: LinqConnectErrorOptions & { issues?: readonly FieldError[] } = {}) {
    super(message, { source: "webhook", status: 400, ...options });
    this.issues = options.issues ?? [];
  }
}

/** A phone number that cannot be normalised to E.164. */
export class InvalidPhoneNumberError extends LinqConnectError {
  readonly code = "invalid_phone_number";
  readonly isRetryable = false;
  readonly input: string;
  constructor(input: string, reason: string, options: LinqConnectErrorOptions = {}) {
    super(`Invalid phone number ${JSON.stringify(input)}: ${reason}`, { source: "internal", ...options });
    this.input = input;
  }
}

/** Settings or a routing file that cannot be used. */
export class ConfigurationError extends LinqConnectError {
  readonly code = "configuration_error";
  readonly isRetryable = false;
  constructor(message: string, options: LinqConnectErrorOptions = {}) {
    super(message, { source: "config", ...options });
  }
}

/** Whether an error (of any kind) is worth retrying. Unknown errors are not. */
export function isRetryableError(error: unknown): boolean {
  return error instanceof LinqConnectError && error.isRetryable;
}

export function isLinqConnectError(error: unknown): error is LinqConnectError {
  return error instanceof LinqConnectError;
}

/**
 * Parses an HTTP `Retry-After` header (delta-seconds or an HTTP date) into
 * seconds from `now`. Returns undefined when absent or unparseable.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

/** Builds the error class that matches an HTTP status. */
export function errorForStatus(
  status: number,
  message: string,
  options: LinqConnectErrorOptions & { fieldErrors?: readonly FieldError[] } = {},
): LinqConnectError {
  const withStatus = { ...options, status };
  if (status === 401) return new AuthenticationError(message, withStatus);
  if (status === 403) return new PermissionError(message, withStatus);
  if (status === 404) return new NotFoundError(message, withStatus);
  if (status === 409) return new ConflictError(message, withStatus);
  if (status === 400 || status === 422) return new ValidationError(message, withStatus);
  if (status === 429) return new RateLimitError(message, withStatus);
  if (status === 408) return new TimeoutError(message, withStatus);
  if (status >= 500) return new ServerError(message, withStatus);
  return new ApiError(message, withStatus);
}
