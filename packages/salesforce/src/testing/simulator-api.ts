/**
 * The shapes shared by the REST, composite and Bulk API handlers: a parsed
 * request (from the wire or from a composite subrequest), a response, and the
 * services the handlers use.
 */
import { apiError, jsonParserError, SalesforceApiError, SalesforceRecordError } from "./simulator-errors.ts";
import type { IdGenerator } from "./simulator-ids.ts";
import type { Schema } from "./simulator-schema.ts";
import type { RecordStore } from "./simulator-store.ts";
import type { SalesforceSimulatorUser } from "./simulator-types.ts";

/** A request to a `/services/data/vXX.X/…` resource. */
export interface ApiRequest {
  method: string;
  /** Path segments after `/services/data/vXX.X/`, URL-decoded. */
  segments: string[];
  query: URLSearchParams;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** The raw body (wire requests) … */
  rawBody: Buffer;
  /** … or the parsed JSON body (composite subrequests). */
  parsedBody?: unknown;
  contentType: string;
  user: SalesforceSimulatorUser;
  /** The version of the URL, e.g. `62.0`. */
  version: string;
}

export interface ApiResponse {
  status: number;
  json?: unknown;
  text?: { body: string; contentType: string };
  headers?: Record<string, string>;
}

/** Everything handlers may use. */
export interface ApiServices {
  schema: Schema;
  store: RecordStore;
  ids: IdGenerator;
  now: () => Date;
  apiVersion: string;
  queryBatchSize: number;
  dailyApiLimit: number;
  apiUsage(): number;
  /** When the org was created or last reset (the start of the delete log), in milliseconds. */
  createdAt(): number;
  /** Runs another request of the same user (composite subrequests). */
  dispatch(request: ApiRequest): Promise<ApiResponse>;
}

/** The JSON body of a request, or the JSON_PARSER_ERROR Salesforce answers. */
export function jsonBody(request: ApiRequest): unknown {
  if (request.parsedBody !== undefined) return request.parsedBody;
  const text = request.rawBody.toString("utf8");
  if (text.trim() === "") throw jsonParserError("No content to map due to end-of-input");
  if (request.contentType !== "" && !/json/i.test(request.contentType)) {
    throw apiError(
      415,
      "UNSUPPORTED_MEDIA_TYPE",
      `Content type '${request.contentType.split(";")[0]}' not supported`,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const position = /position (\d+)/.exec(error instanceof Error ? error.message : "")?.[1];
    const column = position === undefined ? text.length : Number(position) + 1;
    const character = position === undefined ? "<EOF>" : `'${text.charAt(Number(position))}'`;
    throw jsonParserError(
      `Unexpected character (${character}): was expecting a valid JSON value at [line:1, column:${column}]`,
    );
  }
}

/** The JSON body as an object. */
export function jsonObject(request: ApiRequest): Record<string, unknown> {
  const body = jsonBody(request);
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw jsonParserError(
      `Cannot deserialize instance of object from ${Array.isArray(body) ? "START_ARRAY value [" : "a non-object value"}`,
    );
  }
  return body as Record<string, unknown>;
}

/** Converts anything a handler throws into the REST error response. */
export function errorResponse(error: unknown): ApiResponse | undefined {
  if (error instanceof SalesforceApiError) {
    return { status: error.status, json: error.errors, headers: error.headers };
  }
  if (error instanceof SalesforceRecordError) {
    if (error.status === 300) {
      return { status: 300, json: (error.extra.urls as string[] | undefined) ?? [] };
    }
    return { status: error.status, json: [error.toErrorItem()] };
  }
  return undefined;
}

/** Whether a `Sforce-Duplicate-Rule-Header` asks to save duplicates anyway. */
export function allowsDuplicates(request: ApiRequest): boolean {
  return /allowSave\s*=\s*true/i.test(request.headers["sforce-duplicate-rule-header"] ?? "");
}

/** Splits `/services/data/v62.0/sobjects/Contact` into its version and decoded segments. */
export function parseDataPath(path: string): { version: string; segments: string[] } | undefined {
  const match = /^\/services\/data\/v(\d+\.\d+)(?:\/(.*))?$/.exec(path);
  if (match === null) return undefined;
  const rest = match[2] ?? "";
  try {
    return {
      version: match[1] ?? "",
      segments: rest === "" ? [] : rest.split("/").map((segment) => decodeURIComponent(segment)),
    };
  } catch {
    return undefined;
  }
}
