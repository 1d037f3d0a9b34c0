/**
 * Helpers for the simulator's own tests (not exported from the package): jsforce
 * connections to a simulator and a raw HTTP caller for what jsforce hides.
 */
import { Connection } from "jsforce";
import type { SalesforceSimulator } from "./simulator-types.ts";

/** A jsforce connection with an access token (and, with `refresh`, a refresh token and the OAuth client). */
export function connect(
  simulator: SalesforceSimulator,
  options: { user?: string; refresh?: boolean } = {},
): Connection {
  const accessToken = simulator.issueAccessToken(options.user);
  if (options.refresh !== true) {
    return new Connection({ instanceUrl: simulator.instanceUrl, accessToken, version: simulator.apiVersion });
  }
  return new Connection({
    oauth2: {
      clientId: simulator.clientId,
      clientSecret: simulator.clientSecret,
      loginUrl: simulator.loginUrl,
    },
    instanceUrl: simulator.instanceUrl,
    accessToken,
    refreshToken: simulator.issueRefreshToken(options.user),
    version: simulator.apiVersion,
  });
}

export interface RawResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: bodies of every resource, asserted field by field in the tests
  body: any;
  text: string;
}

/** Calls the simulator over HTTP; paths without a leading `/services` are relative to `/services/data/v62.0`. */
export async function callApi(
  simulator: SalesforceSimulator,
  method: string,
  path: string,
  options: {
    body?: unknown;
    token?: string | null;
    headers?: Record<string, string>;
    signal?: AbortSignal;
  } = {},
): Promise<RawResponse> {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined ? simulator.issueAccessToken() : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (typeof options.body === "string") body = options.body;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const url =
    path.startsWith("/services") || path === "/" || path.startsWith("/records")
      ? `${simulator.instanceUrl}${path}`
      : `${simulator.instanceUrl}/services/data/v${simulator.apiVersion}${path}`;
  const response = await fetch(url, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  const text = await response.text();
  let parsed: unknown = null;
  if (text !== "") {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}

/** The error a rejected jsforce promise carries (name = errorCode, data = the Salesforce error entry). */
export async function failure(
  promise: PromiseLike<unknown>,
): Promise<{ name: string; errorCode: string; message: string; data: unknown }> {
  try {
    await promise;
  } catch (error) {
    return error as { name: string; errorCode: string; message: string; data: unknown };
  }
  throw new Error("expected the call to fail");
}

/** A controllable clock for the simulator. */
export function manualClock(start = "2026-03-02T10:00:00Z"): {
  now: () => Date;
  advance(milliseconds: number): void;
  set(iso: string): void;
} {
  let current = Date.parse(start);
  return {
    now: () => new Date(current),
    advance: (milliseconds) => {
      current += milliseconds;
    },
    set: (iso) => {
      current = Date.parse(iso);
    },
  };
}
