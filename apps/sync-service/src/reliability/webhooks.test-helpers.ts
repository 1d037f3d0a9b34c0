/**
 * Signed Linq webhooks for the reliability tests and the benchmark: event bodies, a catch-all routing
 * file that sends message events to the connector named "slack", and a sender that delivers a burst
 * the way Linq does — one conversation's events one after another (the next only once the previous
 * was acknowledged), many conversations at once, stopping a conversation at its first failure so
 * that a later retry keeps its order.
 */
import { randomInt, randomUUID } from "node:crypto";
import { signWebhook } from "@linq-connect/core";
import { Pool } from "undici";
import { parseRoutingConfig, type RoutingConfig } from "../config/routing.ts";

export const testLinqNumber = "+15550001111";
export const testCustomerNumber = "+15551234567";
export const testSlackChannel = "C0TEST";

/** One catch-all route mirrored to Slack: every message event goes to the connector named "slack". */
export const catchAllRoutingYaml = `routes:
  - name: everything
    slack: { channel: ${testSlackChannel} }
    crm: none
`;

export function catchAllRouting(): RoutingConfig {
  return parseRoutingConfig(catchAllRoutingYaml, { fileName: "reliability-routing.yaml" });
}

export interface MessageEventInput {
  eventId?: string;
  /** Linq ids are integers (digits in webhooks). */
  chatId: string;
  text?: string;
  /** Pads the text so that the serialised body is about this many bytes. */
  targetBytes?: number;
  eventType?: "message.received" | "message.sent";
}

/** A `message.received` webhook body (the reference envelope) as it goes on the wire. */
export function messageEventBody(input: MessageEventInput): string {
  const event = {
    api_version: "v2",
    created_at: new Date().toISOString(),
    data: {
      id: String(randomInt(1, 2 ** 47)),
      chat_id: input.chatId,
      text: input.text ?? "Hello from the reliability tests",
      sent_at: new Date().toISOString(),
      is_read: false,
      from_phone: testCustomerNumber,
      service: "iMessage",
      reaction_id: null,
      chat_handles: [
        { identifier: testCustomerNumber, display_name: "Customer", is_me: false },
        { identifier: testLinqNumber, display_name: "Linq number", is_me: true },
      ],
      attachments: [],
    },
    event_id: input.eventId ?? randomUUID(),
    event_type: input.eventType ?? "message.received",
  };
  if (input.targetBytes !== undefined) {
    const size = Buffer.byteLength(JSON.stringify(event));
    event.data.text += "x".repeat(Math.max(0, input.targetBytes - size));
  }
  return JSON.stringify(event);
}

export function signedHeaders(body: string | Buffer, secret: string): Record<string, string> {
  return {
    "content-type": "application/json",
    "x-webhook-signature": signWebhook({ payload: body, secret }),
  };
}

export interface PlannedEvent {
  eventId: string;
  chatId: string;
  /** Position in its chat: the order the chat's events are sent (and must take effect) in. */
  indexInChat: number;
  /** Position in the whole burst. */
  index: number;
  body: string;
  headers: Record<string, string>;
}

/** A chat id no other test uses (Linq chat ids are integers). */
export function uniqueChatId(): string {
  return String(randomInt(1, 2 ** 40) * 1000);
}

/** `chats × perChat` signed events, interleaved across chats (chat 0 #0, chat 1 #0, …, chat 0 #1, …). */
export function planBurst(options: {
  chats: number;
  perChat: number;
  secret: string;
  targetBytes?: number;
}): PlannedEvent[] {
  const firstChat = randomInt(1, 2 ** 40) * 1000;
  const events: PlannedEvent[] = [];
  for (let indexInChat = 0; indexInChat < options.perChat; indexInChat += 1) {
    for (let chat = 0; chat < options.chats; chat += 1) {
      const eventId = randomUUID();
      const chatId = String(firstChat + chat);
      const body = messageEventBody({
        eventId,
        chatId,
        text: `${chatId} #${indexInChat}`,
        ...(options.targetBytes === undefined ? {} : { targetBytes: options.targetBytes }),
      });
      events.push({
        eventId,
        chatId,
        indexInChat,
        index: events.length,
        body,
        headers: signedHeaders(body, options.secret),
      });
    }
  }
  return events;
}

export interface DeliveryResult {
  event: PlannedEvent;
  /** The HTTP status, or undefined when no answer came (connection refused or reset). */
  status: number | undefined;
  /** The answer's body (JSON text), empty without an answer. */
  body: string;
  error: string | undefined;
  target: string;
  startedAtMs: number;
  finishedAtMs: number;
}

/** Keep-alive connection pools to the service instances, one per base URL. */
export class WebhookClient {
  readonly #pools = new Map<string, Pool>();
  readonly #connections: number;

  constructor(options: { connections?: number } = {}) {
    this.#connections = options.connections ?? 16;
  }

  #pool(baseUrl: string): Pool {
    let pool = this.#pools.get(baseUrl);
    if (pool === undefined) {
      pool = new Pool(baseUrl, {
        connections: this.#connections,
        pipelining: 1,
        headersTimeout: 15_000,
        bodyTimeout: 15_000,
        connectTimeout: 5_000,
      });
      this.#pools.set(baseUrl, pool);
    }
    return pool;
  }

  /** POSTs to `path` (default /webhooks/linq); never throws for a refused or reset connection. */
  async post(
    baseUrl: string,
    body: string | Buffer,
    /** A record, or flat name/value pairs (to send a header twice). */
    headers: Record<string, string> | string[],
    path = "/webhooks/linq",
  ): Promise<{ status: number | undefined; body: string; error: string | undefined }> {
    try {
      const response = await this.#pool(baseUrl).request({ method: "POST", path, body, headers });
      const text = await response.body.text();
      return { status: response.statusCode, body: text, error: undefined };
    } catch (error) {
      return { status: undefined, body: "", error: (error as Error).message };
    }
  }

  /** Forgets the pool of a base URL (after its process was killed). */
  async forget(baseUrl: string): Promise<void> {
    const pool = this.#pools.get(baseUrl);
    this.#pools.delete(baseUrl);
    await pool?.destroy().catch(() => undefined);
  }

  async close(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((pool) => pool.destroy().catch(() => undefined)));
  }
}

export interface SendInChatOrderOptions {
  client: WebhookClient;
  /** The instance for the n-th request (alternate between replicas, or always one). */
  targetFor: (requestNumber: number) => string;
  /** Requests in flight at once (each of a different chat). */
  concurrency: number;
  /** Stop starting new requests once this returns true (checked before each request). */
  shouldStop?: () => boolean;
  /** Called after every answer (or failure), e.g. to kill the service at the right moment. */
  onResult?: (result: DeliveryResult) => void;
}

/**
 * Sends `events` with at most one request per chat in flight, each chat in its `indexInChat` order,
 * chats interleaved as planned. A chat stops at its first request not answered with 200: its later
 * events are not sent (they are returned as unsent), so a resend keeps the chat's order.
 */
export async function sendInChatOrder(
  events: readonly PlannedEvent[],
  options: SendInChatOrderOptions,
): Promise<{ results: DeliveryResult[]; unsent: PlannedEvent[] }> {
  const pendingByChat = new Map<string, PlannedEvent[]>();
  for (const event of [...events].sort((left, right) => left.index - right.index)) {
    const list = pendingByChat.get(event.chatId) ?? [];
    list.push(event);
    pendingByChat.set(event.chatId, list);
  }
  const busyChats = new Set<string>();
  const stoppedChats = new Set<string>();
  const results: DeliveryResult[] = [];
  let requestNumber = 0;
  const waiters: (() => void)[] = [];

  const nextEvent = (): PlannedEvent | undefined => {
    let best: PlannedEvent | undefined;
    for (const [chatId, pending] of pendingByChat) {
      if (busyChats.has(chatId) || stoppedChats.has(chatId)) continue;
      const candidate = pending[0];
      if (candidate !== undefined && (best === undefined || candidate.index < best.index)) best = candidate;
    }
    return best;
  };
  const hasWork = () =>
    [...pendingByChat].some(([chatId, pending]) => pending.length > 0 && !stoppedChats.has(chatId));

  const worker = async () => {
    for (;;) {
      if (options.shouldStop?.() === true) return;
      const event = nextEvent();
      if (event === undefined) {
        if (!hasWork() || busyChats.size === 0) return;
        // Every chat with work is busy: wait for one to finish.
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
        });
        continue;
      }
      busyChats.add(event.chatId);
      pendingByChat.get(event.chatId)?.shift();
      const target = options.targetFor(requestNumber);
      requestNumber += 1;
      const startedAtMs = Date.now();
      const answer = await options.client.post(target, event.body, event.headers);
      const result: DeliveryResult = {
        event,
        status: answer.status,
        body: answer.body,
        error: answer.error,
        target,
        startedAtMs,
        finishedAtMs: Date.now(),
      };
      results.push(result);
      if (answer.status !== 200) {
        stoppedChats.add(event.chatId);
        pendingByChat.get(event.chatId)?.unshift(event);
      }
      busyChats.delete(event.chatId);
      options.onResult?.(result);
      for (const resume of waiters.splice(0)) resume();
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, () => worker()));
  const unsent = [...pendingByChat.values()].flat().sort((left, right) => left.index - right.index);
  return { results, unsent };
}

export function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${options.what ?? "a condition"}`);
    }
    await sleep(options.intervalMs ?? 50);
  }
}

/** Groups by a key, keeping the input order inside each group. */
export function groupBy<Item>(items: readonly Item[], keyOf: (item: Item) => string): Map<string, Item[]> {
  const groups = new Map<string, Item[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key) ?? [];
    group.push(item);
    groups.set(key, group);
  }
  return groups;
}
