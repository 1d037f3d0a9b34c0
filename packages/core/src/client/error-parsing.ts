/**
 * Turns a Linq error response into the linq-connect error hierarchy.
 *
 * The Linq documents use two error body formats:
 * - reference (render_error): `{ errors: [{ status, code, title, detail }] }`
 * - standard (render_standard_error, contacts and webhook subscriptions):
 *   `{ status, error_code, message, errors: [string] }`
 * Anything else (HTML from a proxy, plain text, an empty body) still yields the
 * right class from the HTTP status, with a short excerpt of the body as message.
 */
import { STATUS_CODES } from "node:http";
import {
  errorForStatus,
  type FieldError,
  type LinqConnectError,
  type LinqConnectErrorOptions,
  parseRetryAfter,
} from "../errors.ts";

/** Response headers as undici (`IncomingHttpHeaders`) or fetch (`Headers`) expose them. */
export type ResponseHeadersInput =
  | { get(name: string): string | null }
  | Record<string, string | readonly string[] | undefined>;

export interface LinqErrorResponseInput {
  status: number;
  headers?: ResponseHeadersInput;
  /** The raw body (string or bytes) or an already-parsed JSON value. */
  body?: unknown;
  /** The client method that failed, e.g. "sendMessage"; it prefixes the message. */
  operation?: string;
  /** Clock for an HTTP-date Retry-After, in milliseconds. Default Date.now(). */
  now?: number;
  /** Strings that must never appear in the message or the kept body (the API token). */
  redact?: readonly string[];
}

/** What could be read from an error body. */
export interface ParsedLinqErrorBody {
  /** The upstream's human-readable message. */
  message: string | undefined;
  /** The upstream's own error code (e.g. "invalid_params", "not_found"). */
  upstreamCode: string | undefined;
  fieldErrors: FieldError[];
  /** The parsed JSON, or the text when the body is not JSON; undefined when empty. */
  body: unknown;
}

const MAX_EXCERPT_LENGTH = 300;
const REDACTED = "[REDACTED]";

/** Reads a header from either header representation, joining repeated values. */
export function readHeader(headers: ResponseHeadersInput | undefined, name: string): string | undefined {
  if (headers === undefined) return undefined;
  if (typeof headers.get === "function") {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const record = headers as Record<string, string | readonly string[] | undefined>;
  const lowerName = name.toLowerCase();
  for (const [key, value] of Object.entries(record)) {
    if (key.toLowerCase() !== lowerName || value === undefined) continue;
    return typeof value === "string" ? value : value.join(", ");
  }
  return undefined;
}

/** Replaces every occurrence of each secret in `text`. Secrets shorter than 4 characters are ignored. */
export function redactSecrets(text: string, secrets: readonly string[] | undefined): string {
  if (secrets === undefined) return text;
  let result = text;
  for (const secret of secrets) {
    if (secret.length >= 4) result = result.split(secret).join(REDACTED);
  }
  return result;
}

function redactValue(value: unknown, secrets: readonly string[] | undefined): unknown {
  if (secrets === undefined || secrets.length === 0) return value;
  if (typeof value === "string") return redactSecrets(value, secrets);
  if (Array.isArray(value)) return value.map((item) => redactValue(item, secrets));
  if (isRecord(value)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactValue(item, secrets)]));
  }
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): string | undefined {
  if (typeof value === "string" && value.trim() !== "") return value.trim();
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

function bodyToText(body: unknown): string | undefined {
  if (typeof body === "string") return body;
  if (body instanceof Uint8Array)
    return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8");
  if (body instanceof ArrayBuffer) return Buffer.from(body).toString("utf8");
  return undefined;
}

function excerpt(text: string): string {
  const titleMatch = /<title[^>]*>([^<]*)<\/title>/i.exec(text);
  if (titleMatch?.[1] !== undefined && titleMatch[1].trim() !== "") return titleMatch[1].trim();
  if (/^\s*</.test(text)) return "an HTML page";
  const collapsed = text.replace(/\s+/g, " ").trim();
  return collapsed.length > MAX_EXCERPT_LENGTH ? `${collapsed.slice(0, MAX_EXCERPT_LENGTH)}…` : collapsed;
}

function fieldFromEntry(entry: Record<string, unknown>): string | undefined {
  const direct =
    nonEmptyString(entry.field) ?? nonEmptyString(entry.attribute) ?? nonEmptyString(entry.param);
  if (direct !== undefined) return direct;
  const source = entry.source;
  if (isRecord(source)) return nonEmptyString(source.parameter) ?? nonEmptyString(source.pointer);
  return undefined;
}

function fieldErrorsFrom(errors: unknown): FieldError[] {
  const fieldErrors: FieldError[] = [];
  if (Array.isArray(errors)) {
    for (const entry of errors) {
      const text = nonEmptyString(entry);
      if (text !== undefined) {
        fieldErrors.push({ message: text });
        continue;
      }
      if (!isRecord(entry)) continue;
      const message =
        nonEmptyString(entry.detail) ??
        nonEmptyString(entry.message) ??
        nonEmptyString(entry.title) ??
        nonEmptyString(entry.code);
      if (message === undefined) continue;
      const field = fieldFromEntry(entry);
      const code = nonEmptyString(entry.code) ?? nonEmptyString(entry.error_code);
      fieldErrors.push({
        message,
        ...(field === undefined ? {} : { field }),
        ...(code === undefined ? {} : { code }),
      });
    }
  } else if (isRecord(errors)) {
    // Rails-style `{ email: ["is invalid"] }`.
    for (const [field, messages] of Object.entries(errors)) {
      const list = Array.isArray(messages) ? messages : [messages];
      for (const item of list) {
        const message = nonEmptyString(item);
        if (message !== undefined) fieldErrors.push({ field, message });
      }
    }
  }
  return fieldErrors;
}

/**
 * Reads the upstream message, code and field errors from a Linq error body in
 * either documented format (or a few common variants), without throwing.
 */
export function parseLinqErrorBody(body: unknown): ParsedLinqErrorBody {
  let parsed: unknown = body;
  const text = bodyToText(body);
  if (text !== undefined) {
    if (text.trim() === "")
      return { message: undefined, upstreamCode: undefined, fieldErrors: [], body: undefined };
    try {
      parsed = JSON.parse(text);
    } catch {
      return { message: excerpt(text), upstreamCode: undefined, fieldErrors: [], body: text };
    }
  }
  if (!isRecord(parsed)) {
    const message = nonEmptyString(parsed);
    return { message, upstreamCode: undefined, fieldErrors: [], body: parsed };
  }

  const fieldErrors = fieldErrorsFrom(parsed.errors);
  const firstEntry =
    Array.isArray(parsed.errors) && isRecord(parsed.errors[0]) ? parsed.errors[0] : undefined;
  const nestedError = isRecord(parsed.error) ? parsed.error : undefined;

  const topMessage =
    nonEmptyString(parsed.message) ??
    nonEmptyString(parsed.detail) ??
    nonEmptyString(nestedError?.message) ??
    (typeof parsed.error === "string" ? nonEmptyString(parsed.error) : undefined);
  const entryMessages = fieldErrors.map((fieldError) =>
    fieldError.field === undefined ? fieldError.message : `${fieldError.field}: ${fieldError.message}`,
  );
  let message: string | undefined;
  if (topMessage !== undefined && entryMessages.length > 0 && !entryMessages.includes(topMessage)) {
    message = `${topMessage} (${entryMessages.join("; ")})`;
  } else {
    message = topMessage ?? (entryMessages.length > 0 ? entryMessages.join("; ") : undefined);
  }

  const upstreamCode =
    nonEmptyString(parsed.error_code) ??
    nonEmptyString(firstEntry?.code) ??
    nonEmptyString(nestedError?.code) ??
    (typeof parsed.code === "string" ? nonEmptyString(parsed.code) : undefined);

  return { message, upstreamCode, fieldErrors, body: parsed };
}

/**
 * Builds the LinqConnectError for an HTTP error response of the Linq API:
 * 401 AuthenticationError, 403 PermissionError, 404 NotFoundError, 400/422
 * ValidationError (with fieldErrors), 409 ConflictError, 429 RateLimitError
 * (retryAfter from the Retry-After header), 408 TimeoutError, 5xx ServerError,
 * any other status ApiError. The message names the operation and carries the
 * upstream's message and code; `requestId` comes from `x-request-id`.
 */
export function linqErrorFromResponse(response: LinqErrorResponseInput): LinqConnectError {
  const { status, headers, operation, redact } = response;
  const parsed = parseLinqErrorBody(response.body);
  const requestId = readHeader(headers, "x-request-id");
  const retryAfter = parseRetryAfter(readHeader(headers, "retry-after"), response.now ?? Date.now());

  const statusText = STATUS_CODES[status];
  const statusLabel = statusText === undefined ? `HTTP ${status}` : `HTTP ${status} ${statusText}`;
  const subject = operation === undefined ? "Linq request" : `Linq ${operation}`;
  let message = `${subject} failed with ${statusLabel}`;
  if (parsed.message !== undefined) message += `: ${parsed.message}`;
  if (parsed.upstreamCode !== undefined) message += ` [${parsed.upstreamCode}]`;

  const options: LinqConnectErrorOptions & { fieldErrors?: readonly FieldError[] } = {
    source: "linq",
    fieldErrors: parsed.fieldErrors.map((fieldError) => ({
      ...fieldError,
      message: redactSecrets(fieldError.message, redact),
    })),
    ...(parsed.body === undefined ? {} : { body: redactValue(parsed.body, redact) }),
    ...(requestId === undefined ? {} : { requestId }),
    ...(retryAfter === undefined ? {} : { retryAfter }),
  };
  return errorForStatus(status, redactSecrets(message, redact), options);
}
