/**
 * Helpers for the simulator's own tests (not exported from the package): the real SDK pointed at
 * the simulator, a raw API caller, and a webhook receiver on 127.0.0.1:0 that records what it gets.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { Client } from "@hubspot/api-client";
import type { HubSpotSimulator } from "./simulator-types.ts";

/** `@hubspot/api-client` against the simulator (no retries unless asked). */
export function sdkClient(
  simulator: HubSpotSimulator,
  options: { accessToken?: string; numberOfApiCallRetries?: number } = {},
): Client {
  return new Client({
    accessToken: options.accessToken ?? simulator.accessToken,
    basePath: simulator.baseUrl,
    numberOfApiCallRetries: options.numberOfApiCallRetries ?? 0,
  });
}

/** What an SDK call threw: its HTTP code and body. */
export interface SdkFailure {
  code: number;
  // biome-ignore lint/suspicious/noExplicitAny: error bodies of every endpoint, asserted field by field
  body: any;
  headers: Record<string, string>;
}

/** Runs an SDK call that must fail with an HTTP error, and returns the failure. */
export async function sdkFailure(call: Promise<unknown>): Promise<SdkFailure> {
  try {
    await call;
  } catch (error) {
    const failure = error as { code?: unknown; body?: unknown; headers?: unknown };
    if (typeof failure.code !== "number") throw error;
    return {
      code: failure.code,
      body: failure.body,
      headers: (failure.headers ?? {}) as Record<string, string>,
    };
  }
  throw new Error("The call succeeded but a failure was expected");
}

/** A parsed raw response. */
export interface RawResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: bodies of every endpoint, asserted field by field
  body: any;
  text: string;
}

/** Calls the simulator without the SDK; objects are sent as JSON. `token: null` sends no Authorization. */
export async function callApi(
  simulator: HubSpotSimulator,
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
  const token = options.token === undefined ? simulator.accessToken : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (typeof options.body === "string") body = options.body;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const response = await fetch(`${simulator.baseUrl}${path}`, {
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

/** One webhook request the receiver got. */
export interface ReceivedWebhook {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  rawBody: string;
  // biome-ignore lint/suspicious/noExplicitAny: event arrays, asserted field by field
  body: any;
}

/** A webhook receiver; `respond` decides each answer (default 204 at once). */
export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  respond: (index: number) => { status: number; delayMs?: number };
  close(): Promise<void>;
}

export async function startWebhookReceiver(path = "/webhooks/hubspot"): Promise<WebhookReceiver> {
  const receiver: WebhookReceiver = {
    url: "",
    received: [],
    respond: () => ({ status: 204 }),
    close: async () => {},
  };
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const rawBody = Buffer.concat(chunks).toString("utf8");
      const index = receiver.received.length;
      let body: unknown = rawBody;
      try {
        body = JSON.parse(rawBody);
      } catch {
        // kept as text
      }
      receiver.received.push({
        method: request.method ?? "",
        url: request.url ?? "",
        headers: request.headers,
        rawBody,
        body,
      });
      const { status, delayMs = 0 } = receiver.respond(index);
      const answer = (): void => {
        if (!response.destroyed) response.writeHead(status).end();
      };
      if (delayMs === 0) answer();
      else {
        const timer = setTimeout(() => {
          timers.delete(timer);
          answer();
        }, delayMs);
        timers.add(timer);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      for (const timer of timers) clearTimeout(timer);
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return receiver;
}

/** A controllable clock for the simulator's `now` option. */
export interface TestClock {
  now: () => Date;
  advance(milliseconds: number): void;
}

export function testClock(start = Date.UTC(2026, 0, 15, 12, 0, 0)): TestClock {
  let current = start;
  return {
    now: () => new Date(current),
    advance: (milliseconds) => {
      current += milliseconds;
    },
  };
}
