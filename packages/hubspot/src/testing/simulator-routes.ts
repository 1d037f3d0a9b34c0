/**
 * The routing layer: route definitions (method, path template, required scopes, whether the
 * search limit applies), matching, and the request-body parsing shared by every handler (JSON with
 * HubSpot's binding errors, strict zod schemas).
 */
import type { z } from "zod";
import { HubSpotApiError, invalidInputError } from "./simulator-errors.ts";
import type { ChangeOrigin, SimulatorStore } from "./simulator-store.ts";

/** The request as handlers see it. */
export interface RouteRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  /** The parsed JSON body; undefined without one. */
  body: unknown;
}

/** What a handler answers. */
export interface RouteResponse {
  status: number;
  json?: unknown;
  headers?: Record<string, string>;
}

/** What handlers may use. */
export interface RouteServices {
  store: SimulatorStore;
  portalId: number;
  baseUrl: string;
  /** The origin of the app's own writes (`INTEGRATION`, the app id). */
  apiOrigin: ChangeOrigin;
}

/** A route. `scopes` lists groups of scopes: one scope of every group is needed. */
export interface Route {
  method: string;
  pattern: RegExp;
  parameterNames: string[];
  isSearch: boolean;
  scopes(params: Record<string, string>): string[][];
  handle(request: RouteRequest, services: RouteServices): RouteResponse;
}

/** Builds a route from a template like `/crm/v3/objects/:objectType/:objectId`. */
export function route(
  method: string,
  template: string,
  options: {
    scopes: Route["scopes"];
    handle: Route["handle"];
    isSearch?: boolean;
  },
): Route {
  const parameterNames: string[] = [];
  const source = template
    .split("/")
    .map((segment) => {
      if (!segment.startsWith(":")) return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      parameterNames.push(segment.slice(1));
      return "([^/]+)";
    })
    .join("/");
  return {
    method,
    pattern: new RegExp(`^${source}/?$`),
    parameterNames,
    isSearch: options.isSearch ?? false,
    scopes: options.scopes,
    handle: options.handle,
  };
}

/** The route matching a request, with its decoded parameters, or whether the path exists for another method. */
export function matchRoute(
  routes: readonly Route[],
  method: string,
  path: string,
): { route: Route; params: Record<string, string> } | { route: undefined; pathExists: boolean } {
  let pathExists = false;
  for (const candidate of routes) {
    const match = candidate.pattern.exec(path);
    if (match === null) continue;
    pathExists = true;
    if (candidate.method !== method) continue;
    const params: Record<string, string> = {};
    candidate.parameterNames.forEach((name, index) => {
      const raw = match[index + 1] ?? "";
      try {
        params[name] = decodeURIComponent(raw);
      } catch {
        params[name] = raw;
      }
    });
    return { route: candidate, params };
  }
  return { route: undefined, pathExists };
}

/** Parses a JSON body, answering HubSpot's binding error (with line and column) when it is not JSON. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const position = /position (\d+)/.exec(message);
    const offset = position === null ? 0 : Number(position[1]);
    const before = text.slice(0, offset);
    const line = before.split("\n").length;
    const column = offset - before.lastIndexOf("\n");
    throw invalidInputError(`Unexpected character or end of input (${message})`, { line, column });
  }
}

function describePath(path: readonly PropertyKey[]): string {
  return path.map((part) => (typeof part === "number" ? `[${part}]` : `["${String(part)}"]`)).join("");
}

function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = body;
  for (const part of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

/**
 * Validates a body against a strict schema. Failures become HubSpot's 400 binding errors: an
 * unknown field, a missing required attribute, or a value of the wrong type (no category).
 */
export function parseBody<Schema extends z.ZodType>(
  schema: Schema,
  body: unknown,
  inputClass: string,
): z.infer<Schema> {
  if (body === undefined) throw invalidInputError("No content to map due to end-of-input");
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (issue === undefined) throw invalidInputError(`Cannot build ${inputClass}`);
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0] ?? "";
    throw invalidInputError(
      `Unrecognized field "${key}" (class ${inputClass}), not marked as ignorable${issue.path.length > 0 ? ` (through reference chain: ${describePath(issue.path)})` : ""}`,
    );
  }
  const location = issue.path.length > 0 ? describePath(issue.path) : "";
  if (issue.path.length > 0 && valueAt(body, issue.path) === undefined) {
    const name = String(issue.path.at(-1) ?? "");
    throw invalidInputError(
      `Cannot build ${inputClass}, some of required attributes are not set [${name}]${location === "" ? "" : ` (through reference chain: ${location})`}`,
    );
  }
  throw invalidInputError(
    `${issue.message}${location === "" ? "" : ` (through reference chain: ${location})`}`,
  );
}

/** A query list parameter: repeated, comma-separated, or both. Undefined when absent. */
export function queryList(query: URLSearchParams, name: string): string[] | undefined {
  const values = query.getAll(name);
  if (values.length === 0) return undefined;
  return values
    .flatMap((value) => value.split(","))
    .map((value) => value.trim())
    .filter((value) => value !== "");
}

/** A boolean query parameter (`archived=true`). */
export function queryFlag(query: URLSearchParams, name: string): boolean {
  return query.get(name)?.toLowerCase() === "true";
}

/** An integer query parameter within bounds; HubSpot's 400 otherwise. */
export function queryInteger(
  query: URLSearchParams,
  name: string,
  bounds: { defaultValue: number; min: number; max: number },
): number {
  const raw = query.get(name);
  if (raw === null || raw === "") return bounds.defaultValue;
  const value = Number(raw);
  if (!Number.isInteger(value)) {
    throw new HubSpotApiError(400, `Invalid value for query parameter ${name}: ${raw}`, {
      category: "VALIDATION_ERROR",
    });
  }
  if (value < bounds.min || value > bounds.max) {
    throw new HubSpotApiError(400, `${name} must be between ${bounds.min} and ${bounds.max}`, {
      category: "VALIDATION_ERROR",
    });
  }
  return value;
}
