/**
 * Webhook delivery for the simulator: envelopes, signatures, a serial queue per
 * subscription, per-attempt timeouts, retries with exponential backoff, and the
 * fault modes (duplicates, reordering, the quick-start envelope, signing the
 * canonical JSON instead of the raw body). Every attempt is recorded.
 *
 * Deliveries never block the API response that caused them. First attempts to
 * one subscription go out one at a time, in event order; retries are scheduled
 * outside that queue, so a retried event can arrive after later ones (as with
 * the real service).
 */
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { Agent, request } from "undici";
import { ConfigurationError } from "../errors.ts";
import { canonicalizeJson, signWebhook } from "../webhooks/signature.ts";
import { isoSeconds, type SimulatorEvent } from "./simulator-events.ts";
import type { WebhookDeliveryConfiguration, WebhookDeliveryRecord } from "./simulator-types.ts";

/** Where an event goes. */
export interface WebhookTarget {
  subscriptionId: number;
  url: string;
  secret: string | null;
}

export interface WebhookDispatcherOptions {
  timeoutMs: number;
  retries: number;
  retryDelayMs: number;
  now: () => Date;
  log: (line: string) => void;
  /** Reports each finished attempt (to keep the subscription's counters). */
  onAttempt: (subscriptionId: number, ok: boolean, at: Date) => void;
}

interface Job {
  target: WebhookTarget;
  eventId: string | null;
  eventType: string;
  body: string;
  signature: string | null;
  duplicate: boolean;
}

interface HeldJob {
  job: Job;
  done: () => void;
}

const USER_AGENT = "Linq-Webhooks/2.0 (linq-connect simulator)";

/** Delivers webhook events and records every attempt. */
export class WebhookDispatcher {
  private readonly options: WebhookDispatcherOptions;
  private readonly agent = new Agent({ keepAliveTimeout: 1_000, keepAliveMaxTimeout: 1_000 });
  private records: WebhookDeliveryRecord[] = [];
  private configuration: Required<WebhookDeliveryConfiguration> = {
    duplicateProbability: 0,
    reorder: false,
    reorderWindowMs: 50,
    envelope: "reference",
    signatureForm: "raw",
    random: Math.random,
  };
  private queues = new Map<number, Promise<void>>();
  private readonly pending = new Set<Promise<void>>();
  private held: HeldJob[] = [];
  private holdTimer: NodeJS.Timeout | undefined;
  private lifetime = new AbortController();
  private closed = false;

  constructor(options: WebhookDispatcherOptions) {
    this.options = options;
  }

  /** Every attempt so far, in the order they finished. */
  get deliveries(): WebhookDeliveryRecord[] {
    return this.records;
  }

  /** Changes fault modes and formats; omitted fields keep their current value. */
  configure(options: WebhookDeliveryConfiguration): void {
    const next = { ...this.configuration };
    if (options.duplicateProbability !== undefined) {
      if (!(options.duplicateProbability >= 0 && options.duplicateProbability <= 1)) {
        throw new ConfigurationError("duplicateProbability must be between 0 and 1");
      }
      next.duplicateProbability = options.duplicateProbability;
    }
    if (options.reorder !== undefined) next.reorder = options.reorder;
    if (options.reorderWindowMs !== undefined) next.reorderWindowMs = options.reorderWindowMs;
    if (options.envelope !== undefined) next.envelope = options.envelope;
    if (options.signatureForm !== undefined) next.signatureForm = options.signatureForm;
    if (options.random !== undefined) next.random = options.random;
    this.configuration = next;
    if (!next.reorder) this.releaseHeld();
  }

  /**
   * Queues an event to the targets. The returned promise resolves when every
   * delivery of it (including retries and duplicates) has finished; callers that
   * must not wait simply ignore it.
   */
  enqueue(event: SimulatorEvent, targets: readonly WebhookTarget[]): Promise<void> {
    if (this.closed || targets.length === 0) return Promise.resolve();
    const envelope = this.envelopeFor(event);
    const body = JSON.stringify(envelope.payload);
    const signedBytes =
      this.configuration.signatureForm === "canonical" ? canonicalizeJson(envelope.payload) : body;
    const lifecycles: Promise<void>[] = [];
    for (const target of targets) {
      const job: Job = {
        target,
        eventId: envelope.eventId,
        eventType: event.eventType,
        body,
        signature:
          target.secret === null ? null : signWebhook({ payload: signedBytes, secret: target.secret }),
        duplicate: false,
      };
      lifecycles.push(this.schedule(job));
      if (
        this.configuration.duplicateProbability > 0 &&
        this.configuration.random() < this.configuration.duplicateProbability
      ) {
        lifecycles.push(this.schedule({ ...job, duplicate: true }));
      }
    }
    return Promise.all(lifecycles).then(() => undefined);
  }

  /** Resolves when nothing is held, queued, in flight or waiting to retry. */
  async flush(): Promise<void> {
    this.releaseHeld();
    while (this.pending.size > 0) {
      await Promise.allSettled([...this.pending]);
      this.releaseHeld();
    }
  }

  /** Drops everything queued or in flight and forgets the recorded attempts. */
  reset(): void {
    this.abortAll();
    this.records = [];
    this.lifetime = new AbortController();
  }

  /** Aborts everything and releases the connections. */
  async close(): Promise<void> {
    this.closed = true;
    this.abortAll();
    await Promise.allSettled([...this.pending]);
    await this.agent.destroy();
  }

  private abortAll(): void {
    this.lifetime.abort();
    if (this.holdTimer !== undefined) clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    for (const held of this.held) held.done();
    this.held = [];
    this.queues = new Map();
  }

  private envelopeFor(event: SimulatorEvent): { payload: Record<string, unknown>; eventId: string | null } {
    const createdAt = this.options.now();
    if (this.configuration.envelope === "quickstart") {
      return {
        eventId: null,
        payload: {
          event: event.eventType,
          data: event.quickstartData ?? event.data,
          timestamp: `${createdAt.toISOString().slice(0, 19)}Z`,
        },
      };
    }
    const eventId = randomUUID();
    return {
      eventId,
      payload: {
        api_version: "v2",
        created_at: isoSeconds(createdAt),
        data: event.data,
        event_id: eventId,
        event_type: event.eventType,
      },
    };
  }

  private schedule(job: Job): Promise<void> {
    if (!this.configuration.reorder) return this.dispatch(job);
    return new Promise<void>((resolve) => {
      this.held.push({ job, done: resolve });
      if (this.holdTimer === undefined) {
        this.holdTimer = setTimeout(() => this.releaseHeld(), this.configuration.reorderWindowMs);
      }
    });
  }

  /** Dispatches the held jobs in shuffled order. */
  private releaseHeld(): void {
    if (this.holdTimer !== undefined) clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    const held = this.held;
    this.held = [];
    const random = this.configuration.random;
    for (let index = held.length - 1; index > 0; index -= 1) {
      const other = Math.floor(random() * (index + 1));
      const current = held[index];
      const swapped = held[other];
      if (current === undefined || swapped === undefined) continue;
      held[index] = swapped;
      held[other] = current;
    }
    for (const { job, done } of held) void this.dispatch(job).then(done);
  }

  /** The first attempt joins the subscription's serial queue; retries run outside it. */
  private dispatch(job: Job): Promise<void> {
    const signal = this.lifetime.signal;
    const previous = this.queues.get(job.target.subscriptionId) ?? Promise.resolve();
    const first = previous.then(() => this.attempt(job, 1, signal));
    this.queues.set(
      job.target.subscriptionId,
      first.then(() => undefined),
    );
    const lifecycle = first.then((ok) => (ok ? undefined : this.retry(job, signal)));
    this.pending.add(lifecycle);
    void lifecycle.finally(() => this.pending.delete(lifecycle));
    return lifecycle;
  }

  private async retry(job: Job, signal: AbortSignal): Promise<void> {
    for (let attempt = 2; attempt <= this.options.retries + 1; attempt += 1) {
      await sleepUntilAborted(this.options.retryDelayMs * 2 ** (attempt - 2), signal);
      if (signal.aborted) return;
      if (await this.attempt(job, attempt, signal)) return;
    }
  }

  /** One POST; records it and reports whether the receiver answered 2xx. Never throws. */
  private async attempt(job: Job, attempt: number, lifetime: AbortSignal): Promise<boolean> {
    if (lifetime.aborted) return false;
    const at = this.options.now();
    const started = performance.now();
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.options.timeoutMs);
    let status: number | null = null;
    let error: string | null = null;
    try {
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
      };
      if (job.signature !== null) headers["x-webhook-signature"] = job.signature;
      const response = await request(job.target.url, {
        method: "POST",
        headers,
        body: job.body,
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
    this.records.push({
      subscriptionId: job.target.subscriptionId,
      url: job.target.url,
      eventId: job.eventId,
      eventType: job.eventType,
      attempt,
      status,
      error,
      ok,
      duplicate: job.duplicate,
      body: job.body,
      signature: job.signature,
      at: at.toISOString(),
      durationMs: Math.round(performance.now() - started),
    });
    this.options.onAttempt(job.target.subscriptionId, ok, at);
    this.options.log(
      `webhook ${job.eventType}${job.duplicate ? " (duplicate)" : ""} → ${job.target.url} attempt ${attempt}: ${status ?? error}`,
    );
    return ok;
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
