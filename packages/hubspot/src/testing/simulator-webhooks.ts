/**
 * Webhook delivery as HubSpot does it for an app: events are collected for a short window and
 * POSTed to the app's target URL as JSON arrays of up to `batchSize` (100) events, signed with v1
 * and v3 signatures. A request that fails (no 2xx, a connection error, or no answer within the
 * timeout) is retried with the same events and `attemptNumber` incremented, re-signed with a new
 * timestamp. Fault modes: shuffled order, duplicated events (same `eventId`, in a later request).
 *
 * Requests of one window go out one at a time in order; retries run outside that order, so a
 * retried event can arrive after later ones (as on HubSpot).
 */
import { performance } from "node:perf_hooks";
import { ConfigurationError } from "@linq-connect/core";
import { Agent, request } from "undici";
import { signHubSpotWebhookV1, signHubSpotWebhookV3 } from "./simulator-signature.ts";
import type {
  HubSpotWebhookConfiguration,
  HubSpotWebhookDelivery,
  HubSpotWebhookEvent,
} from "./simulator-types.ts";

export interface WebhookDispatcherOptions {
  clientSecret: string;
  timeoutMs: number;
  retries: number;
  retryDelayMs: number;
  targetUrl: string | null;
  now: () => Date;
  log: (line: string) => void;
}

interface Batch {
  url: string;
  events: HubSpotWebhookEvent[];
  duplicate: boolean;
}

const USER_AGENT = "HubSpot Connect 2.0 (http://dev.hubspot.com/) (linq-connect simulator)";
const DEFAULT_REORDER_WINDOW_MS = 50;

export class WebhookDispatcher {
  targetUrl: string | null;
  private readonly options: WebhookDispatcherOptions;
  private readonly agent = new Agent({ keepAliveTimeout: 1_000, keepAliveMaxTimeout: 1_000 });
  private configuration = {
    batchSize: 100,
    delayMs: 0,
    reorder: false,
    duplicateProbability: 0,
    random: Math.random as () => number,
  };
  private recordedEvents: HubSpotWebhookEvent[] = [];
  private recordedDeliveries: HubSpotWebhookDelivery[] = [];
  private pending: HubSpotWebhookEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private readonly inFlight = new Set<Promise<void>>();
  private lifetime = new AbortController();
  private closed = false;

  constructor(options: WebhookDispatcherOptions) {
    assertTargetUrl(options.targetUrl);
    this.options = options;
    this.targetUrl = options.targetUrl;
  }

  get events(): HubSpotWebhookEvent[] {
    return this.recordedEvents;
  }

  get deliveries(): HubSpotWebhookDelivery[] {
    return this.recordedDeliveries;
  }

  /** Applies delivery settings (subscriptions are handled by the simulator). */
  configure(options: HubSpotWebhookConfiguration): void {
    const next = { ...this.configuration };
    if (options.batchSize !== undefined) {
      if (!(Number.isInteger(options.batchSize) && options.batchSize >= 1 && options.batchSize <= 100)) {
        throw new ConfigurationError("batchSize must be an integer from 1 to 100");
      }
      next.batchSize = options.batchSize;
    }
    if (options.delayMs !== undefined) {
      if (!(Number.isFinite(options.delayMs) && options.delayMs >= 0)) {
        throw new ConfigurationError("delayMs must be a non-negative number");
      }
      next.delayMs = options.delayMs;
    }
    if (options.duplicateProbability !== undefined) {
      if (!(options.duplicateProbability >= 0 && options.duplicateProbability <= 1)) {
        throw new ConfigurationError("duplicateProbability must be between 0 and 1");
      }
      next.duplicateProbability = options.duplicateProbability;
    }
    if (options.reorder !== undefined) next.reorder = options.reorder;
    if (options.random !== undefined) next.random = options.random;
    if (options.targetUrl !== undefined) this.setTargetUrl(options.targetUrl);
    this.configuration = next;
  }

  setTargetUrl(url: string | null): void {
    assertTargetUrl(url);
    this.targetUrl = url;
  }

  /** Records an event and, when there is a target, queues it for the next request. */
  enqueue(event: HubSpotWebhookEvent): void {
    if (this.closed) return;
    this.recordedEvents.push(event);
    if (this.targetUrl === null) return;
    this.pending.push(event);
    if (this.timer === undefined) {
      const window =
        this.configuration.reorder && this.configuration.delayMs === 0
          ? DEFAULT_REORDER_WINDOW_MS
          : this.configuration.delayMs;
      this.timer = setTimeout(() => this.release(), window);
    }
  }

  /** Resolves when nothing is collected, in flight or waiting to retry. */
  async flush(): Promise<void> {
    this.release();
    while (this.inFlight.size > 0) {
      await Promise.allSettled([...this.inFlight]);
      this.release();
    }
  }

  /** Drops everything queued or in flight and forgets the recorded events and attempts. */
  reset(): void {
    this.abortAll();
    this.recordedEvents = [];
    this.recordedDeliveries = [];
    this.lifetime = new AbortController();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.abortAll();
    await Promise.allSettled([...this.inFlight]);
    await this.agent.destroy();
  }

  private abortAll(): void {
    this.lifetime.abort();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
    this.chain = Promise.resolve();
  }

  /** Turns the collected events into requests and queues them. */
  private release(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const url = this.targetUrl;
    const events = this.pending;
    this.pending = [];
    if (events.length === 0 || url === null) return;
    const { random, batchSize, reorder, duplicateProbability } = this.configuration;
    if (reorder) shuffle(events, random);
    const batches: Batch[] = [];
    for (let start = 0; start < events.length; start += batchSize) {
      batches.push({ url, events: events.slice(start, start + batchSize), duplicate: false });
    }
    const duplicates = duplicateProbability > 0 ? events.filter(() => random() < duplicateProbability) : [];
    for (let start = 0; start < duplicates.length; start += batchSize) {
      batches.push({ url, events: duplicates.slice(start, start + batchSize), duplicate: true });
    }
    if (reorder) shuffle(batches, random);
    for (const batch of batches) this.dispatch(batch);
  }

  private dispatch(batch: Batch): void {
    const signal = this.lifetime.signal;
    const first = this.chain.then(() => this.attempt(batch, 0, signal));
    this.chain = first.then(() => undefined);
    const lifecycle = first.then((ok) => (ok ? undefined : this.retry(batch, signal)));
    this.inFlight.add(lifecycle);
    void lifecycle.finally(() => this.inFlight.delete(lifecycle));
  }

  private async retry(batch: Batch, signal: AbortSignal): Promise<void> {
    for (let attemptNumber = 1; attemptNumber <= this.options.retries; attemptNumber += 1) {
      await sleepUntilAborted(this.options.retryDelayMs * 2 ** (attemptNumber - 1), signal);
      if (signal.aborted) return;
      if (await this.attempt(batch, attemptNumber, signal)) return;
    }
  }

  /** One POST; records it and reports whether the receiver answered 2xx. Never throws. */
  private async attempt(batch: Batch, attemptNumber: number, lifetime: AbortSignal): Promise<boolean> {
    if (lifetime.aborted) return false;
    const events = batch.events.map((event) => ({ ...event, attemptNumber }));
    const body = JSON.stringify(events);
    const startedAt = this.options.now();
    const timestamp = String(startedAt.getTime());
    const signatureV3 = signHubSpotWebhookV3({
      clientSecret: this.options.clientSecret,
      method: "POST",
      uri: batch.url,
      body,
      timestamp,
    });
    const signatureV1 = signHubSpotWebhookV1({ clientSecret: this.options.clientSecret, body });
    const started = performance.now();
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.options.timeoutMs);
    let status: number | null = null;
    let error: string | null = null;
    try {
      const response = await request(batch.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": USER_AGENT,
          "x-hubspot-signature": signatureV1,
          "x-hubspot-signature-version": "v1",
          "x-hubspot-signature-v3": signatureV3,
          "x-hubspot-request-timestamp": timestamp,
        },
        body,
        dispatcher: this.agent,
        signal: AbortSignal.any([timeout.signal, lifetime]),
      });
      await response.body.dump();
      status = response.statusCode;
    } catch (caught) {
      error = timeout.signal.aborted ? `timeout after ${this.options.timeoutMs} ms` : describeFailure(caught);
    } finally {
      clearTimeout(timer);
    }
    if (lifetime.aborted) return false;
    const ok = status !== null && status >= 200 && status < 300;
    this.recordedDeliveries.push({
      url: batch.url,
      events,
      body,
      attemptNumber,
      status,
      error,
      ok,
      duplicate: batch.duplicate,
      signatureV3,
      timestamp,
      signatureV1,
      at: startedAt.toISOString(),
      durationMs: Math.round(performance.now() - started),
    });
    this.options.log(
      `webhook ${events.length} event(s)${batch.duplicate ? " (duplicates)" : ""} → ${batch.url} attempt ${attemptNumber}: ${status ?? error}`,
    );
    return ok;
  }
}

/** Throws ConfigurationError unless `url` is null or an http(s) URL. */
export function assertTargetUrl(url: string | null): void {
  if (url === null) return;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigurationError(`The webhook target URL ${JSON.stringify(url)} is not a URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new ConfigurationError("The webhook target URL must be http or https");
  }
}

function shuffle<T>(items: T[], random: () => number): void {
  for (let index = items.length - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    const current = items[index];
    const swapped = items[other];
    if (current === undefined || swapped === undefined) continue;
    items[index] = swapped;
    items[other] = current;
  }
}

function describeFailure(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const causeCode = (error.cause as { code?: unknown } | undefined)?.code;
    const label = typeof causeCode === "string" ? causeCode : typeof code === "string" ? code : error.name;
    return `${label}: ${error.message}`;
  }
  return String(error);
}

/** Resolves after `milliseconds`, or at once when `signal` aborts (never rejects). */
export function sleepUntilAborted(milliseconds: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, milliseconds);
    signal.addEventListener("abort", done, { once: true });
  });
}
