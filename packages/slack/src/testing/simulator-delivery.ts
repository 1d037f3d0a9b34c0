/**
 * Requests from "Slack" to the app: every one signed with the signing secret
 * (`X-Slack-Request-Timestamp`, `X-Slack-Signature`), with Slack's user agent.
 *
 * Events go through {@link EventDispatcher}: first attempts one at a time in
 * event order; the app must answer 2xx within `ackTimeoutMs` (3 s), otherwise
 * the attempt fails with `http_timeout` (Slack does not wait for the late
 * answer), `http_error` (non-2xx) or `connection_failed`, and is retried up to 3
 * times with `X-Slack-Retry-Num` / `X-Slack-Retry-Reason` — unless the app
 * answered `X-Slack-No-Retry: 1`. Retries run outside the queue, so a retried
 * event can arrive after later ones, as with Slack.
 */
import { performance } from "node:perf_hooks";
import { ConfigurationError } from "@linq-connect/core";
import { Agent, request } from "undici";
import { signSlackRequest } from "./simulator-signature.ts";
import type { SlackEventDeliveryConfiguration, SlackEventDeliveryRecord } from "./simulator-types.ts";

const USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)";

/** The answer of the app to one request. */
export interface AppResponse {
  status: number | null;
  headers: Record<string, string>;
  body: string;
  /** `http_timeout` / `connection_failed` when there is no status. */
  failure: "http_timeout" | "connection_failed" | null;
  durationMs: number;
}

/** Sends signed requests to the app. */
export class AppTransport {
  private readonly agent = new Agent({ keepAliveTimeout: 1_000, keepAliveMaxTimeout: 1_000 });
  private readonly signingSecret: string;
  private readonly now: () => Date;

  constructor(options: { signingSecret: string; now: () => Date }) {
    this.signingSecret = options.signingSecret;
    this.now = options.now;
  }

  /** POSTs a signed body; never throws. */
  async send(input: {
    url: string;
    body: string;
    contentType: "application/json" | "application/x-www-form-urlencoded";
    timeoutMs: number;
    headers?: Record<string, string>;
    signal?: AbortSignal;
  }): Promise<AppResponse> {
    const started = performance.now();
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), input.timeoutMs);
    const signature = signSlackRequest({
      signingSecret: this.signingSecret,
      body: input.body,
      timestamp: Math.floor(this.now().getTime() / 1000),
    });
    try {
      const response = await request(input.url, {
        method: "POST",
        headers: {
          "content-type": input.contentType,
          "user-agent": USER_AGENT,
          accept: "application/json,*/*",
          ...signature,
          ...input.headers,
        },
        body: input.body,
        dispatcher: this.agent,
        signal: input.signal === undefined ? timeout.signal : AbortSignal.any([timeout.signal, input.signal]),
      });
      const text = await response.body.text();
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(response.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
      }
      return {
        status: response.statusCode,
        headers,
        body: text,
        failure: null,
        durationMs: Math.round(performance.now() - started),
      };
    } catch {
      return {
        status: null,
        headers: {},
        body: "",
        failure: timeout.signal.aborted ? "http_timeout" : "connection_failed",
        durationMs: Math.round(performance.now() - started),
      };
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.agent.destroy();
  }
}

/** An event ready to send. */
export interface OutgoingEvent {
  url: string;
  eventId: string;
  type: string;
  subtype: string | null;
  body: string;
}

const MAX_RETRIES = 3;

/** Delivers Events API requests and records every attempt. */
export class EventDispatcher {
  private readonly transport: AppTransport;
  private readonly now: () => Date;
  private readonly log: (line: string) => void;
  private configuration: Required<SlackEventDeliveryConfiguration>;
  private records: SlackEventDeliveryRecord[] = [];
  private queue: Promise<void> = Promise.resolve();
  private readonly pending = new Set<Promise<void>>();
  private lifetime = new AbortController();
  private closed = false;

  constructor(options: {
    transport: AppTransport;
    now: () => Date;
    log: (line: string) => void;
    configuration?: SlackEventDeliveryConfiguration;
  }) {
    this.transport = options.transport;
    this.now = options.now;
    this.log = options.log;
    this.configuration = {
      retryOnFailure: true,
      ackTimeoutMs: 3_000,
      retryDelaysMs: [0, 1_000, 5_000],
      duplicateProbability: 0,
      random: Math.random,
    };
    if (options.configuration !== undefined) this.configure(options.configuration);
  }

  get deliveries(): SlackEventDeliveryRecord[] {
    return this.records;
  }

  get ackTimeoutMs(): number {
    return this.configuration.ackTimeoutMs;
  }

  /** The current delivery settings (shared with Socket Mode). */
  get settings(): Readonly<Required<SlackEventDeliveryConfiguration>> {
    return this.configuration;
  }

  /** Changes the delivery behaviour; omitted fields keep their value. Throws ConfigurationError. */
  configure(options: SlackEventDeliveryConfiguration): void {
    const next = { ...this.configuration };
    if (options.retryOnFailure !== undefined) next.retryOnFailure = options.retryOnFailure;
    if (options.ackTimeoutMs !== undefined) {
      if (!(Number.isFinite(options.ackTimeoutMs) && options.ackTimeoutMs > 0)) {
        throw new ConfigurationError("ackTimeoutMs must be a positive number");
      }
      next.ackTimeoutMs = options.ackTimeoutMs;
    }
    if (options.retryDelaysMs !== undefined) {
      if (
        options.retryDelaysMs.length === 0 ||
        !options.retryDelaysMs.every((delay) => Number.isFinite(delay) && delay >= 0)
      ) {
        throw new ConfigurationError("retryDelaysMs must be a non-empty list of non-negative numbers");
      }
      next.retryDelaysMs = [...options.retryDelaysMs];
    }
    if (options.duplicateProbability !== undefined) {
      if (!(options.duplicateProbability >= 0 && options.duplicateProbability <= 1)) {
        throw new ConfigurationError("duplicateProbability must be between 0 and 1");
      }
      next.duplicateProbability = options.duplicateProbability;
    }
    if (options.random !== undefined) next.random = options.random;
    this.configuration = next;
  }

  /** Queues an event (and, by chance, a duplicate of it). Never blocks the caller. */
  enqueue(event: OutgoingEvent): void {
    if (this.closed) return;
    this.schedule(event, false);
    const { duplicateProbability, random } = this.configuration;
    if (duplicateProbability > 0 && random() < duplicateProbability) this.schedule(event, true);
  }

  /** Sends Slack's `url_verification` challenge; resolves with whether the app echoed it. */
  async verifyUrl(url: string, token: string): Promise<{ verified: boolean; detail: string }> {
    const challenge = `sim${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
    const body = JSON.stringify({ token, challenge, type: "url_verification" });
    const response = await this.transport.send({
      url,
      body,
      contentType: "application/json",
      timeoutMs: this.configuration.ackTimeoutMs,
    });
    this.record(
      { url, eventId: "", type: "url_verification", subtype: null, body },
      { attempt: 1, duplicate: false, retryNum: null, retryReason: null },
      response,
    );
    if (response.status === null) return { verified: false, detail: response.failure ?? "no answer" };
    let echoed: string | undefined;
    try {
      const parsed = JSON.parse(response.body) as { challenge?: unknown };
      if (typeof parsed.challenge === "string") echoed = parsed.challenge;
    } catch {
      echoed = new URLSearchParams(response.body).get("challenge") ?? response.body.trim();
    }
    const verified = response.status >= 200 && response.status < 300 && echoed === challenge;
    return {
      verified,
      detail: verified
        ? "ok"
        : `HTTP ${response.status} without the challenge (${response.body.slice(0, 200)})`,
    };
  }

  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  reset(): void {
    this.lifetime.abort();
    this.lifetime = new AbortController();
    this.records = [];
    this.queue = Promise.resolve();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.lifetime.abort();
    await Promise.allSettled([...this.pending]);
  }

  private schedule(event: OutgoingEvent, duplicate: boolean): void {
    const signal = this.lifetime.signal;
    const first = this.queue.then(() => this.attempt(event, 1, duplicate, null, signal));
    this.queue = first.then(() => undefined);
    const lifecycle = first.then((outcome) => this.retry(event, duplicate, outcome, signal));
    this.pending.add(lifecycle);
    void lifecycle.finally(() => this.pending.delete(lifecycle));
  }

  private async retry(
    event: OutgoingEvent,
    duplicate: boolean,
    firstOutcome: AttemptOutcome,
    signal: AbortSignal,
  ): Promise<void> {
    let outcome = firstOutcome;
    for (let retryNum = 1; retryNum <= MAX_RETRIES; retryNum += 1) {
      if (outcome.ok || outcome.noRetry || !this.configuration.retryOnFailure || signal.aborted) return;
      const delays = this.configuration.retryDelaysMs;
      await sleep(delays[retryNum - 1] ?? delays.at(-1) ?? 0, signal);
      if (signal.aborted) return;
      outcome = await this.attempt(event, retryNum + 1, duplicate, outcome.failure, signal);
    }
  }

  private async attempt(
    event: OutgoingEvent,
    attempt: number,
    duplicate: boolean,
    retryReason: string | null,
    signal: AbortSignal,
  ): Promise<AttemptOutcome> {
    if (signal.aborted) return { ok: false, noRetry: true, failure: null };
    const retryNum = attempt === 1 ? null : attempt - 1;
    const headers: Record<string, string> = {};
    if (retryNum !== null) {
      headers["x-slack-retry-num"] = String(retryNum);
      headers["x-slack-retry-reason"] = retryReason ?? "unknown_error";
    }
    const response = await this.transport.send({
      url: event.url,
      body: event.body,
      contentType: "application/json",
      timeoutMs: this.configuration.ackTimeoutMs,
      headers,
      signal,
    });
    if (signal.aborted) return { ok: false, noRetry: true, failure: null };
    return this.record(event, { attempt, duplicate, retryNum, retryReason }, response);
  }

  private record(
    event: OutgoingEvent,
    attempt: { attempt: number; duplicate: boolean; retryNum: number | null; retryReason: string | null },
    response: AppResponse,
  ): AttemptOutcome {
    const ok = response.status !== null && response.status >= 200 && response.status < 300;
    const failure = ok ? null : (response.failure ?? "http_error");
    const noRetry = response.headers["x-slack-no-retry"] === "1";
    this.records.push({
      eventId: event.eventId === "" ? null : event.eventId,
      type: event.type,
      subtype: event.subtype,
      url: event.url,
      attempt: attempt.attempt,
      retryNum: attempt.retryNum,
      retryReason: attempt.retryReason,
      status: response.status,
      ok,
      failure,
      noRetry,
      duplicate: attempt.duplicate,
      body: event.body,
      at: this.now().toISOString(),
      durationMs: response.durationMs,
    });
    this.log(
      `event ${event.type}${event.subtype === null ? "" : `/${event.subtype}`} ${event.eventId} → ${event.url} attempt ${attempt.attempt}${attempt.duplicate ? " (duplicate)" : ""}: ${response.status ?? failure}`,
    );
    return { ok, noRetry, failure };
  }
}

interface AttemptOutcome {
  ok: boolean;
  noRetry: boolean;
  failure: string | null;
}

/** Resolves after `milliseconds`, or at once when `signal` aborts (never rejects). */
export function sleep(milliseconds: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || milliseconds <= 0) {
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
