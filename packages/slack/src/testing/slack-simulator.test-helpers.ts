/**
 * Helpers for the simulator's own tests (not exported from the package): a real
 * WebClient pointed at the simulator, a raw Web API caller for what the SDK
 * never sends, a Bolt app on 127.0.0.1:0 (HTTP receiver) or over Socket Mode,
 * a bare app server that records what Slack sends it, and a raw Socket Mode
 * client that records what arrives on the WebSocket.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { App, type Authorize, HTTPReceiver, SocketModeReceiver } from "@slack/bolt";
import { type Logger, LogLevel, WebClient, type WebClientOptions } from "@slack/web-api";
import WebSocket from "ws";
import type { SlackSimulator } from "./simulator-types.ts";

/** A logger that drops everything (the SDK logs Slack's `response_metadata.messages` as errors). */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => LogLevel.ERROR,
  setName: () => {},
};

/** A WebClient for the simulator's bot token, without retries unless asked, and silent. */
export function webClient(
  simulator: SlackSimulator,
  options: WebClientOptions = {},
  token?: string,
): WebClient {
  return new WebClient(token ?? simulator.botToken, {
    slackApiUrl: simulator.apiUrl,
    logger: silentLogger,
    retryConfig: { retries: 0 },
    ...options,
  });
}

/** A parsed raw response. */
export interface RawResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: bodies of every method, asserted field by field
  body: any;
}

/**
 * Calls a Web API method without the SDK. `params` go as a form unless `json`
 * is set; the token goes as a Bearer header unless `token` is null (none) or
 * `tokenAs: "argument"`.
 */
export async function callApi(
  simulator: SlackSimulator,
  method: string,
  params: Record<string, unknown> = {},
  options: {
    token?: string | null;
    tokenAs?: "header" | "argument";
    json?: boolean;
    contentType?: string;
    body?: string;
    httpMethod?: "GET" | "POST";
  } = {},
): Promise<RawResponse> {
  const token = options.token === undefined ? simulator.botToken : options.token;
  const headers: Record<string, string> = {};
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    form.set(key, typeof value === "string" ? value : JSON.stringify(value));
  }
  if (token !== null) {
    if (options.tokenAs === "argument") form.set("token", token);
    else headers.authorization = `Bearer ${token}`;
  }
  let body: string | undefined;
  let url = `${simulator.apiUrl}${method}`;
  if (options.httpMethod === "GET") {
    url += `?${form.toString()}`;
  } else if (options.body !== undefined) {
    body = options.body;
    if (options.contentType !== undefined) headers["content-type"] = options.contentType;
  } else if (options.json === true) {
    body = JSON.stringify(params);
    headers["content-type"] = options.contentType ?? "application/json; charset=utf-8";
  } else {
    body = form.toString();
    headers["content-type"] = options.contentType ?? "application/x-www-form-urlencoded";
  }
  const response = await fetch(url, {
    method: options.httpMethod ?? "POST",
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

/** One request the bare app received. */
export interface ReceivedRequest {
  headers: IncomingMessage["headers"];
  rawBody: string;
  // biome-ignore lint/suspicious/noExplicitAny: payloads of every event type, asserted field by field
  body: any;
  /** Whether X-Slack-Signature verifies with the signing secret. */
  signatureValid: boolean;
}

/** A bare app server; `respond` decides each answer (default 200 with an empty body). */
export interface BareApp {
  url: string;
  received: ReceivedRequest[];
  respond: (
    request: ReceivedRequest,
    index: number,
  ) => { status: number; delayMs?: number; body?: string; headers?: Record<string, string> };
  /** The event payloads received (envelopes of event_callback requests). */
  // biome-ignore lint/suspicious/noExplicitAny: event envelopes
  events(): any[];
  close(): Promise<void>;
}

export async function startBareApp(signingSecret: string): Promise<BareApp> {
  const timers = new Set<NodeJS.Timeout>();
  const app: BareApp = {
    url: "",
    received: [],
    respond: () => ({ status: 200 }),
    events: () =>
      app.received
        .filter((request) => request.body?.type === "event_callback")
        .map((request) => request.body),
    close: async () => {},
  };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const rawBody = Buffer.concat(chunks).toString("utf8");
      let body: unknown = rawBody;
      const contentType = request.headers["content-type"] ?? "";
      try {
        if (contentType === "application/json") body = JSON.parse(rawBody);
        else if (contentType === "application/x-www-form-urlencoded") {
          const form = new URLSearchParams(rawBody);
          const payload = form.get("payload");
          body = payload === null ? Object.fromEntries(form) : JSON.parse(payload);
        }
      } catch {
        // keep the text
      }
      const received: ReceivedRequest = {
        headers: request.headers,
        rawBody,
        body,
        signatureValid: verify(signingSecret, request.headers, rawBody),
      };
      const index = app.received.length;
      app.received.push(received);
      const answer = app.respond(received, index);
      const send = (): void => {
        if (response.destroyed) return;
        response.writeHead(answer.status, answer.headers ?? {});
        response.end(answer.body ?? "");
      };
      if ((answer.delayMs ?? 0) === 0) send();
      else {
        const timer = setTimeout(() => {
          timers.delete(timer);
          send();
        }, answer.delayMs);
        timers.add(timer);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  app.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  app.close = () =>
    new Promise<void>((resolve) => {
      for (const timer of timers) clearTimeout(timer);
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return app;
}

function verify(signingSecret: string, headers: IncomingMessage["headers"], rawBody: string): boolean {
  const timestamp = headers["x-slack-request-timestamp"];
  const signature = headers["x-slack-signature"];
  if (typeof timestamp !== "string" || typeof signature !== "string") return false;
  const expected = `v0=${createHmac("sha256", signingSecret).update(`v0:${timestamp}:${rawBody}`).digest("hex")}`;
  return (
    expected.length === signature.length && timingSafeEqual(Buffer.from(expected), Buffer.from(signature))
  );
}

/** A Bolt app (HTTP receiver) on 127.0.0.1:0 talking to the simulator. */
export interface BoltHarness {
  app: App;
  url: string;
  errors: unknown[];
  close(): Promise<void>;
}

export async function startBoltApp(
  simulator: SlackSimulator,
  options: { processBeforeResponse?: boolean; ignoreSelf?: boolean } = {},
): Promise<BoltHarness> {
  const errors: unknown[] = [];
  const receiver = new HTTPReceiver({
    signingSecret: simulator.signingSecret,
    processBeforeResponse: options.processBeforeResponse ?? false,
    logger: silentLogger,
  });
  const app = new App({
    token: simulator.botToken,
    receiver,
    ignoreSelf: options.ignoreSelf ?? true,
    logger: silentLogger,
    clientOptions: { slackApiUrl: simulator.apiUrl, retryConfig: { retries: 0 }, logger: silentLogger },
  });
  // Record listener errors and let Bolt handle them as it would without a handler (a 500 before the ack).
  app.error(async (error) => {
    errors.push(error);
    throw error;
  });
  const server = (await app.start({ port: 0, host: "127.0.0.1" })) as unknown as {
    address(): AddressInfo;
  };
  return {
    app,
    url: `http://127.0.0.1:${server.address().port}/slack/events`,
    errors,
    close: () => app.stop() as Promise<void>,
  };
}

/** Waits until `check` stops throwing (polling), or rethrows its last error after `timeoutMs`. */
export async function eventually(check: () => void | Promise<void>, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

/** A Bolt app over Socket Mode, connected to the simulator. */
export interface SocketModeBoltHarness {
  app: App;
  errors: unknown[];
  close(): Promise<void>;
}

/**
 * Starts `new App({ socketMode: true, appToken, token, clientOptions: { slackApiUrl } })`
 * against the simulator and resolves once Slack's `hello` arrived. With
 * `clientPingTimeoutMs` (or `authorize`) the receiver is built explicitly, as
 * `App` has no option for the Socket Mode client's ping timeout, which is also
 * its reconnect delay.
 */
export async function startSocketModeBoltApp(
  simulator: SlackSimulator,
  options: { clientPingTimeoutMs?: number; authorize?: Authorize<boolean> } = {},
): Promise<SocketModeBoltHarness> {
  const errors: unknown[] = [];
  const clientOptions = { slackApiUrl: simulator.apiUrl, retryConfig: { retries: 0 } };
  const receiver =
    options.clientPingTimeoutMs === undefined
      ? undefined
      : new SocketModeReceiver({
          appToken: simulator.appToken,
          clientPingTimeout: options.clientPingTimeoutMs,
          installerOptions: { clientOptions },
          logger: silentLogger,
        });
  const app = new App({
    socketMode: true,
    appToken: simulator.appToken,
    ...(options.authorize === undefined ? { token: simulator.botToken } : { authorize: options.authorize }),
    ...(receiver === undefined ? {} : { receiver }),
    logger: silentLogger,
    clientOptions,
  });
  app.error(async (error) => {
    errors.push(error);
  });
  await app.start();
  return { app, errors, close: () => app.stop() as Promise<void> };
}

/** A raw Socket Mode client: every message Slack sends, and helpers to answer. */
export interface RawSocketModeClient {
  url: string;
  socket: WebSocket;
  // biome-ignore lint/suspicious/noExplicitAny: Socket Mode messages, asserted field by field
  messages: any[];
  pings: number;
  // biome-ignore lint/suspicious/noExplicitAny: the hello message
  hello: any;
  /** Envelopes (messages with an envelope_id) received so far. */
  // biome-ignore lint/suspicious/noExplicitAny: envelopes
  envelopes(): any[];
  ack(envelopeId: string, payload?: unknown): void;
  close(): Promise<void>;
}

/** Calls apps.connections.open with the app-level token and connects; resolves after `hello`. */
export async function connectRawSocketMode(
  simulator: SlackSimulator,
  options: { urlSuffix?: string } = {},
): Promise<RawSocketModeClient> {
  const client = webClient(simulator, {}, simulator.appToken);
  const { url } = await client.apps.connections.open();
  const fullUrl = `${url as string}${options.urlSuffix ?? ""}`;
  const socket = new WebSocket(fullUrl);
  const raw: RawSocketModeClient = {
    url: fullUrl,
    socket,
    messages: [],
    pings: 0,
    hello: undefined,
    envelopes: () => raw.messages.filter((message) => typeof message.envelope_id === "string"),
    ack: (envelopeId, payload) =>
      socket.send(
        JSON.stringify(
          payload === undefined ? { envelope_id: envelopeId } : { envelope_id: envelopeId, payload },
        ),
      ),
    close: () =>
      new Promise<void>((resolve) => {
        if (socket.readyState === WebSocket.CLOSED) {
          resolve();
          return;
        }
        socket.once("close", () => resolve());
        socket.close(1000);
      }),
  };
  socket.on("ping", () => {
    raw.pings += 1;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.on("message", (data) => {
      const message = JSON.parse(String(data));
      raw.messages.push(message);
      if (message.type === "hello") {
        raw.hello = message;
        resolve();
      }
    });
  });
  return raw;
}

/** Opens a WebSocket to `url` and resolves with the HTTP status of a refused upgrade (or 101). */
export function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.once("unexpected-response", (_request, response) => {
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
    socket.once("open", () => {
      resolve(101);
      socket.terminate();
    });
    socket.once("error", (error) => {
      if (socket.readyState !== WebSocket.CLOSED) reject(error);
    });
  });
}
