/**
 * Helpers for the simulator's own tests (not exported from the package): a tiny
 * API caller and a webhook receiver on 127.0.0.1:0 that records what it gets.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type {
  LinqSimulator,
  SimulatorChat,
  SimulatorChatMessage,
  SimulatorWebhookSubscription,
} from "./simulator-types.ts";

export const API = "/api/partner/v2";

/** A parsed response. */
export interface ApiResponse {
  status: number;
  headers: Headers;
  /** The parsed JSON body, the text when it is not JSON, or null when empty. */
  // biome-ignore lint/suspicious/noExplicitAny: bodies of every endpoint, asserted field by field in the tests
  body: any;
}

/** Calls the simulator with its token (unless `token` overrides it); objects are sent as JSON. */
export async function callApi(
  simulator: LinqSimulator,
  method: string,
  path: string,
  options: {
    body?: unknown;
    token?: string | null;
    headers?: Record<string, string>;
    signal?: AbortSignal;
  } = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined ? simulator.token : options.token;
  if (token !== null) headers["X-LINQ-INTEGRATION-TOKEN"] = token;
  let body: RequestInit["body"];
  if (
    options.body instanceof FormData ||
    options.body instanceof URLSearchParams ||
    typeof options.body === "string"
  ) {
    body = options.body;
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const response = await fetch(`${simulator.baseUrl}${path.startsWith("/files") ? "" : API}${path}`, {
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
  return { status: response.status, headers: response.headers, body: parsed };
}

/** The `data` of a create-chat response. */
export type CreatedChat = SimulatorChat & { chat_messages: SimulatorChatMessage | null };

/** Creates a 1:1 chat (reference body) and returns the response body's `data`. */
export async function createChat(
  simulator: LinqSimulator,
  participant = "+15551234567",
  text = "Hello",
  extra: Record<string, unknown> = {},
): Promise<CreatedChat> {
  const response = await callApi(simulator, "POST", "/chats", {
    body: { send_from: "+15550001111", chat: { phone_numbers: [participant] }, message: { text, ...extra } },
  });
  if (response.status !== 200)
    throw new Error(`createChat failed: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.data;
}

/** One webhook request the receiver got. */
export interface ReceivedWebhook {
  headers: IncomingMessage["headers"];
  rawBody: string;
  // biome-ignore lint/suspicious/noExplicitAny: payloads of every event type, asserted field by field in the tests
  body: any;
}

/** A webhook receiver; `respond` decides each answer (default 200 at once). */
export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  respond: (index: number) => { status: number; delayMs?: number };
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const receiver: WebhookReceiver = {
    url: "",
    received: [],
    respond: () => ({ status: 200 }),
    close: async () => {},
  };
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const rawBody = Buffer.concat(chunks).toString("utf8");
      const index = receiver.received.length;
      let body: unknown = null;
      try {
        body = JSON.parse(rawBody);
      } catch {
        body = rawBody;
      }
      receiver.received.push({ headers: request.headers, rawBody, body });
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
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/linq`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      for (const timer of timers) clearTimeout(timer);
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return receiver;
}

/** Subscribes a receiver through the API and returns the subscription. */
export async function subscribe(
  simulator: LinqSimulator,
  url: string,
  events: string[],
  extra: Record<string, unknown> = {},
): Promise<SimulatorWebhookSubscription> {
  const response = await callApi(simulator, "POST", "/webhook_subscriptions", {
    body: { webhook_subscription: { webhook_url: url, events, version: 2, ...extra } },
  });
  if (response.status !== 201)
    throw new Error(`subscribe failed: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.webhook_subscription;
}
