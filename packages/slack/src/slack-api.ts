/**
 * The connector's only way to call the Slack Web API: every call is paced (see slack-pacer.ts),
 * mapped to linq-connect errors (see slack-errors.ts) and reported to `onRequestComplete`.
 *
 * Retries happen here, not in @slack/web-api (the client is built with `retries: 0` and
 * `rejectRateLimitedCalls: true`), because only the caller knows whether repeating a call is safe:
 *
 * - `safe` calls (reads, chat.update, reactions, chat.delete, getUploadURLExternal) are retried a
 *   few times on 429, 5xx, timeouts and network errors;
 * - `create` calls (chat.postMessage, files.completeUploadExternal) are retried only when Slack
 *   provably did nothing: a 429 or a refused connection. An ambiguous failure (timeout, dropped
 *   connection, 5xx) is thrown to the caller, which records an attempt marker and reconciles before
 *   posting again (see mirror-writer.ts), so a retried post can never show twice.
 */
import { type ConnectorLogger, type LinqConnectError, RateLimitError } from "@linq-connect/core";
import type { WebClient } from "@slack/web-api";
import { isAmbiguousFailure, mapSlackError } from "./slack-errors.ts";
import type { SlackPacer } from "./slack-pacer.ts";

/** What `onRequestComplete` receives after every Slack Web API attempt. */
export interface SlackRequestCompleteInfo {
  method: string;
  ok: boolean;
  durationMs: number;
  /** 1 for the first attempt. */
  attempt: number;
  /** The mapped error of a failed attempt. */
  error?: LinqConnectError;
}

export interface SlackApiOptions {
  client: WebClient;
  pacer: SlackPacer;
  /** Inline retries of a call (after the first attempt). Default 2. */
  maxInlineRetries?: number;
  /** A 429 asking to wait longer than this (seconds) is thrown to the queue instead of waited for. Default 10. */
  maxInlineRetryAfterSeconds?: number;
  onRequestComplete?: (info: SlackRequestCompleteInfo) => void;
}

export interface SlackCallOptions {
  /** `create`: the call posts something (never repeated after an ambiguous failure). Default `safe`. */
  kind?: "safe" | "create";
  /** The channel the call posts to or concerns (pacing, error messages). */
  channel?: string;
  signal?: AbortSignal;
}

export type SlackResult = Record<string, unknown> & { ok?: boolean };

function delay(milliseconds: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, milliseconds);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

export class SlackApi {
  readonly client: WebClient;
  readonly #pacer: SlackPacer;
  readonly #maxInlineRetries: number;
  readonly #maxInlineRetryAfterSeconds: number;
  readonly #onRequestComplete: ((info: SlackRequestCompleteInfo) => void) | undefined;

  constructor(options: SlackApiOptions) {
    this.client = options.client;
    this.#pacer = options.pacer;
    this.#maxInlineRetries = options.maxInlineRetries ?? 2;
    this.#maxInlineRetryAfterSeconds = options.maxInlineRetryAfterSeconds ?? 10;
    this.#onRequestComplete = options.onRequestComplete;
  }

  get pacer(): SlackPacer {
    return this.#pacer;
  }

  /** Calls a Web API method; resolves with the body of an `ok: true` answer. */
  async call(
    method: string,
    args: Record<string, unknown>,
    options: SlackCallOptions = {},
  ): Promise<SlackResult> {
    const kind = options.kind ?? "safe";
    for (let attempt = 1; ; attempt += 1) {
      await this.#pacer.acquire(method, options.channel, options.signal);
      const started = performance.now();
      try {
        const result = (await this.client.apiCall(method, args)) as SlackResult;
        this.#report({ method, ok: true, durationMs: performance.now() - started, attempt });
        return result;
      } catch (error) {
        const mapped = mapSlackError(error, {
          method,
          ...(options.channel === undefined ? {} : { channel: options.channel }),
        });
        this.#report({ method, ok: false, durationMs: performance.now() - started, attempt, error: mapped });
        if (mapped instanceof RateLimitError) {
          const retryAfter = mapped.retryAfter ?? 1;
          this.#pacer.pause(method, retryAfter, options.channel);
          if (attempt <= this.#maxInlineRetries && retryAfter <= this.#maxInlineRetryAfterSeconds) continue;
          throw mapped;
        }
        if (!mapped.isRetryable || attempt > this.#maxInlineRetries || options.signal?.aborted === true) {
          throw mapped;
        }
        if (kind === "create" && isAmbiguousFailure(mapped)) throw mapped;
        await delay(Math.min(2000, 100 * 2 ** attempt), options.signal);
      }
    }
  }

  #report(info: SlackRequestCompleteInfo): void {
    try {
      this.#onRequestComplete?.(info);
    } catch {
      // A metrics hook must never break a call.
    }
  }
}

/** A logger that drops everything (when the host passes none). */
export const silentLogger: ConnectorLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
