/**
 * `POST /composite`: up to 25 subrequests (at most 5 of them queries) run in
 * order in one call, later ones referring to earlier results with
 * `@{referenceId.path}` (`@{newAccount.id}`, `@{query.records[0].Id}`).
 *
 * - `allOrNone: true`: the first failing subrequest rolls everything back; every
 *   other subrequest answers 400 `PROCESSING_HALTED` ("The transaction was rolled
 *   back since another operation in the same transaction failed.").
 * - `allOrNone: false` (default): failures stay local; a subrequest referring to a
 *   failed or missing result answers 400 `PROCESSING_HALTED` ("Invalid reference
 *   specified. No value for ref.id found in ref.").
 */
import {
  type ApiRequest,
  type ApiResponse,
  type ApiServices,
  jsonObject,
  parseDataPath,
} from "./simulator-api.ts";
import { apiError, jsonParserError } from "./simulator-errors.ts";

const MAX_SUBREQUESTS = 25;
const MAX_QUERY_SUBREQUESTS = 5;
const METHODS = new Set(["GET", "POST", "PATCH", "PUT", "DELETE", "HEAD"]);
const REFERENCE = /@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}/g;
const ROLLED_BACK = "The transaction was rolled back since another operation in the same transaction failed.";

interface Subrequest {
  method: string;
  url: string;
  referenceId: string;
  body: unknown;
  httpHeaders: Record<string, string>;
}

interface SubresponseEntry {
  body: unknown;
  httpHeaders: Record<string, string>;
  httpStatusCode: number;
  referenceId: string;
}

export async function runComposite(request: ApiRequest, services: ApiServices): Promise<ApiResponse> {
  const body = jsonObject(request);
  for (const key of Object.keys(body)) {
    if (!["allOrNone", "collateSubrequests", "compositeRequest"].includes(key)) {
      throw jsonParserError(`Unrecognized field "${key}" (class CompositeRequest), not marked as ignorable`);
    }
  }
  const allOrNone = body.allOrNone === true;
  const subrequests = parseSubrequests(body.compositeRequest);
  const savepoint = services.store.savepoint();
  const results: SubresponseEntry[] = [];
  const bodies = new Map<string, unknown>();
  let failed = false;
  for (const subrequest of subrequests) {
    if (allOrNone && failed) {
      results.push(halted(subrequest.referenceId, ROLLED_BACK));
      continue;
    }
    const resolved = resolveReferences(subrequest, bodies);
    if (typeof resolved === "string") {
      results.push(halted(subrequest.referenceId, resolved));
      failed = true;
      continue;
    }
    const response = await runSubrequest(request, services, resolved);
    const headers: Record<string, string> = {};
    if (response.headers?.location !== undefined) headers.Location = response.headers.location;
    results.push({
      body: response.json ?? null,
      httpHeaders: headers,
      httpStatusCode: response.status,
      referenceId: subrequest.referenceId,
    });
    if (response.status >= 400) failed = true;
    else bodies.set(subrequest.referenceId, response.json ?? null);
  }
  if (allOrNone && failed) {
    savepoint.rollback();
    for (const [index, result] of results.entries()) {
      if (result.httpStatusCode < 400) results[index] = halted(result.referenceId, ROLLED_BACK);
    }
  } else {
    savepoint.release();
  }
  return { status: 200, json: { compositeResponse: results } };
}

function parseSubrequests(value: unknown): Subrequest[] {
  if (!Array.isArray(value) || value.length === 0)
    throw jsonParserError("compositeRequest: a non-empty list of subrequests is required");
  if (value.length > MAX_SUBREQUESTS) {
    throw apiError(400, "INVALID_INPUT", `The number of subrequests exceeds the limit of ${MAX_SUBREQUESTS}`);
  }
  const seen = new Set<string>();
  let queries = 0;
  return value.map((entry, index) => {
    if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
      throw jsonParserError(`compositeRequest[${index}] must be an object`);
    }
    const { method, url, referenceId, body, httpHeaders, ...unknown } = entry as Record<string, unknown>;
    const extra = Object.keys(unknown)[0];
    if (extra !== undefined)
      throw jsonParserError(
        `Unrecognized field "${extra}" (class CompositeSubrequest), not marked as ignorable`,
      );
    if (typeof method !== "string" || !METHODS.has(method.toUpperCase())) {
      throw jsonParserError(`compositeRequest[${index}].method must be one of ${[...METHODS].join(", ")}`);
    }
    if (typeof url !== "string" || !url.startsWith("/services/data/")) {
      throw apiError(
        400,
        "INVALID_INPUT",
        `compositeRequest[${index}].url must start with /services/data/vXX.X/`,
      );
    }
    if (typeof referenceId !== "string" || !/^[A-Za-z0-9][A-Za-z0-9_]*$/.test(referenceId)) {
      throw apiError(
        400,
        "INVALID_INPUT",
        `Provided referenceId ('${String(referenceId)}') must start with a letter or a number, and it can contain only letters, numbers and underscores ('_').`,
      );
    }
    if (seen.has(referenceId))
      throw apiError(400, "INVALID_INPUT", `Duplicate referenceId provided in the request: ${referenceId}`);
    seen.add(referenceId);
    if (/\/(query|queryAll)(\/|\?|$)/.test(url)) queries += 1;
    if (queries > MAX_QUERY_SUBREQUESTS) {
      throw apiError(
        400,
        "INVALID_INPUT",
        `A composite request can contain at most ${MAX_QUERY_SUBREQUESTS} query subrequests`,
      );
    }
    const headers: Record<string, string> = {};
    if (httpHeaders !== undefined) {
      if (httpHeaders === null || typeof httpHeaders !== "object" || Array.isArray(httpHeaders)) {
        throw jsonParserError(`compositeRequest[${index}].httpHeaders must be an object`);
      }
      for (const [name, headerValue] of Object.entries(httpHeaders))
        headers[name.toLowerCase()] = String(headerValue);
    }
    return { method: method.toUpperCase(), url, referenceId, body, httpHeaders: headers };
  });
}

function halted(referenceId: string, message: string): SubresponseEntry {
  return {
    body: [{ errorCode: "PROCESSING_HALTED", message }],
    httpHeaders: {},
    httpStatusCode: 400,
    referenceId,
  };
}

/** Substitutes `@{ref.path}` in the URL and body; returns the halting message when a reference has no value. */
function resolveReferences(subrequest: Subrequest, bodies: Map<string, unknown>): Subrequest | string {
  let missing: string | undefined;
  const lookup = (reference: string, path: string): unknown => {
    const found = bodies.has(reference) ? valueAt(bodies.get(reference), path) : undefined;
    if (found === undefined || found === null)
      missing ??= `Invalid reference specified. No value for ${reference}${path} found in ${reference}.`;
    return found;
  };
  const substitute = (text: string): unknown => {
    const whole = /^@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}$/.exec(text);
    if (whole !== null) return lookup(whole[1] ?? "", whole[2] ?? "");
    return text.replace(REFERENCE, (_match, reference: string, path: string) =>
      String(lookup(reference, path) ?? ""),
    );
  };
  const walk = (value: unknown): unknown => {
    if (typeof value === "string") return substitute(value);
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === "object")
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, walk(item)]));
    return value;
  };
  const url = String(
    substitute(subrequest.url.replace(/%40%7B([^%]*)%7D/gi, (_match, inner: string) => `@{${inner}}`)),
  );
  const body = walk(subrequest.body);
  return missing ?? { ...subrequest, url, body };
}

function valueAt(root: unknown, path: string): unknown {
  let current = root;
  for (const step of path.match(/\.[A-Za-z0-9_]+|\[\d+\]/g) ?? []) {
    if (current === null || typeof current !== "object") return undefined;
    const key = step.startsWith("[") ? Number(step.slice(1, -1)) : step.slice(1);
    if (typeof key === "string" && !Array.isArray(current)) {
      const entry =
        Object.entries(current).find(([name]) => name === key) ??
        Object.entries(current).find(([name]) => name.toLowerCase() === key.toLowerCase());
      current = entry?.[1];
    } else {
      current = (current as Record<string | number, unknown>)[key];
    }
  }
  return current;
}

async function runSubrequest(
  parent: ApiRequest,
  services: ApiServices,
  subrequest: Subrequest,
): Promise<ApiResponse> {
  const questionMark = subrequest.url.indexOf("?");
  const path = questionMark === -1 ? subrequest.url : subrequest.url.slice(0, questionMark);
  const search = questionMark === -1 ? "" : subrequest.url.slice(questionMark + 1);
  const parsed = parseDataPath(path);
  if (parsed === undefined)
    return {
      status: 404,
      json: [{ errorCode: "NOT_FOUND", message: "The requested resource does not exist" }],
    };
  let query: URLSearchParams;
  try {
    query = new URLSearchParams(search);
  } catch {
    query = new URLSearchParams();
  }
  return services.dispatch({
    method: subrequest.method,
    segments: parsed.segments,
    query,
    headers: { ...parent.headers, ...subrequest.httpHeaders },
    rawBody: Buffer.alloc(0),
    ...(subrequest.body === undefined ? {} : { parsedBody: subrequest.body }),
    contentType: "application/json",
    user: parent.user,
    version: parsed.version,
  });
}
