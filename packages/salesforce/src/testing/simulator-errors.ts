/**
 * The error bodies of the Salesforce REST API, and how simulator code raises them.
 *
 * - REST resources answer a JSON array: `[{ "message", "errorCode", "fields"? }]`
 *   (one entry per problem; `fields` only where Salesforce names fields).
 * - Save results (sObject Collections, composite) carry per-record errors as
 *   `{ "statusCode", "message", "fields" }` — `statusCode`, not `errorCode`.
 * - The OAuth token endpoint answers `{ "error", "error_description" }`.
 */

/** One entry of a Salesforce error array. */
export interface SalesforceErrorItem {
  message: string;
  errorCode: string;
  fields?: string[];
  [extra: string]: unknown;
}

/** A per-record error inside a save result. */
export interface SaveResultError {
  statusCode: string;
  message: string;
  fields: string[];
  [extra: string]: unknown;
}

/** A REST error: the status and the error array to answer with. */
export class SalesforceApiError extends Error {
  readonly status: number;
  readonly errors: SalesforceErrorItem[];
  readonly headers: Record<string, string>;

  constructor(status: number, errors: SalesforceErrorItem[], headers: Record<string, string> = {}) {
    super(errors.map((error) => `${error.errorCode}: ${error.message}`).join("; "));
    this.name = "SalesforceApiError";
    this.status = status;
    this.errors = errors;
    this.headers = headers;
  }
}

/** A record-level validation failure (becomes a 400 on single-record resources, a failed save result in collections). */
export class SalesforceRecordError extends Error {
  readonly errorCode: string;
  readonly fields: string[];
  readonly extra: Record<string, unknown>;
  /** 404 for NOT_FOUND / ENTITY_IS_DELETED, else 400. */
  readonly status: number;

  constructor(
    errorCode: string,
    message: string,
    fields: string[] = [],
    options: { status?: number; extra?: Record<string, unknown> } = {},
  ) {
    super(message);
    this.name = "SalesforceRecordError";
    this.errorCode = errorCode;
    this.fields = fields;
    this.extra = options.extra ?? {};
    this.status =
      options.status ?? (errorCode === "NOT_FOUND" || errorCode === "ENTITY_IS_DELETED" ? 404 : 400);
  }

  /** The REST error item (fields omitted when empty, as Salesforce does for most codes). */
  toErrorItem(): SalesforceErrorItem {
    return {
      ...this.extra,
      errorCode: this.errorCode,
      message: this.message,
      ...(this.fields.length > 0 ? { fields: [...this.fields] } : {}),
    };
  }

  toSaveResultError(): SaveResultError {
    return { ...this.extra, statusCode: this.errorCode, message: this.message, fields: [...this.fields] };
  }

  toApiError(): SalesforceApiError {
    return new SalesforceApiError(this.status, [this.toErrorItem()]);
  }
}

/** An OAuth token endpoint error. */
export class OAuthError extends Error {
  readonly status: number;
  readonly error: string;
  readonly description: string;

  constructor(error: string, description: string, status = 400) {
    super(`${error}: ${description}`);
    this.name = "OAuthError";
    this.status = status;
    this.error = error;
    this.description = description;
  }
}

/** Shorthand for a single-error {@link SalesforceApiError}. */
export function apiError(
  status: number,
  errorCode: string,
  message: string,
  fields?: string[],
  headers?: Record<string, string>,
): SalesforceApiError {
  return new SalesforceApiError(
    status,
    [{ message, errorCode, ...(fields === undefined ? {} : { fields }) }],
    headers,
  );
}

export const NOT_FOUND_MESSAGE = "The requested resource does not exist";

export function notFound(): SalesforceApiError {
  return apiError(404, "NOT_FOUND", NOT_FOUND_MESSAGE);
}

export function sessionExpired(): SalesforceApiError {
  return apiError(401, "INVALID_SESSION_ID", "Session expired or invalid");
}

export function requestLimitExceeded(): SalesforceApiError {
  return apiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.");
}

/** The JSON_PARSER_ERROR Salesforce answers for a body it cannot deserialize. */
export function jsonParserError(message: string): SalesforceApiError {
  return apiError(400, "JSON_PARSER_ERROR", message);
}
