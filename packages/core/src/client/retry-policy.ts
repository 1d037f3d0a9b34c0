/**
 * When and how long the client waits before repeating a failed request.
 *
 * A request is repeated only when repeating it cannot cause a second effect:
 * - "repeatable" requests (GET, PUT, PATCH, DELETE, the edit POST, the iMessage
 *   check, and sendMessage/createChat, which always carry an idempotency key)
 *   are retried on 408, 429, 500, 502, 503, 504, timeouts and network errors;
 * - other POSTs (react, start typing, share contact card, create contact, create
 *   webhook subscription) only on 429 and on connection failures that prove the
 *   request never left (connection refused, connect timeout, DNS failure).
 */
import { ConfigurationError, type LinqConnectError, NetworkError, RateLimitError } from "../errors.ts";

export interface RetryOptions {
  /** Retries after the first attempt. Default 3. */
  maxRetries?: number | undefined;
  /** Upper bound of the first back-off. Default 500 ms. */
  initialDelayMs?: number | undefined;
  /** Upper bound of any back-off. Default 30 000 ms. */
  maxDelayMs?: number | undefined;
  /** Growth of the bound per retry. Default 2. */
  factor?: number | undefined;
  /**
   * The longest Retry-After the client honours by waiting; a longer one ends the
   * call with the error (carrying `retryAfter`). Default max(60 000, maxDelayMs).
   */
  maxRetryAfterMs?: number | undefined;
}

export interface RetryPolicy {
  maxRetries: number;
  initialDelayMs: number;
  maxDelayMs: number;
  factor: number;
  maxRetryAfterMs: number;
}

/** HTTP statuses worth repeating for a repeatable request. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

/** How a failed attempt ended, as the retry decision needs it. */
export interface AttemptFailure {
  error: LinqConnectError;
  /** True only when the connection failed before any byte of the request could be sent. */
  neverSent: boolean;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new ConfigurationError(`retry.${name} must be a finite number >= 0, got ${value}`);
  }
  return value;
}

/** Applies the defaults; `false` disables retries. */
export function resolveRetryPolicy(options: RetryOptions | false | undefined): RetryPolicy {
  const given = options === false ? { maxRetries: 0 } : (options ?? {});
  const maxRetries = nonNegative("maxRetries", given.maxRetries ?? 3);
  if (!Number.isInteger(maxRetries)) throw new ConfigurationError("retry.maxRetries must be an integer");
  const maxDelayMs = nonNegative("maxDelayMs", given.maxDelayMs ?? 30_000);
  const factor = nonNegative("factor", given.factor ?? 2);
  if (factor < 1) throw new ConfigurationError("retry.factor must be >= 1");
  return {
    maxRetries,
    initialDelayMs: nonNegative("initialDelayMs", given.initialDelayMs ?? 500),
    maxDelayMs,
    factor,
    maxRetryAfterMs: nonNegative("maxRetryAfterMs", given.maxRetryAfterMs ?? Math.max(60_000, maxDelayMs)),
  };
}

/**
 * Exponential back-off with full jitter: `random() * min(maxDelay, initial * factor^retryIndex)`,
 * where `retryIndex` is 0 before the first retry.
 */
export function backoffDelay(policy: RetryPolicy, retryIndex: number, random: () => number): number {
  const bound = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** retryIndex);
  const fraction = Math.min(1, Math.max(0, random()));
  return Math.floor(fraction * bound);
}

/** Whether this failure may be repeated at all, given whether the request is repeatable. */
export function isRetryableFailure(failure: AttemptFailure, repeatable: boolean): boolean {
  const { error } = failure;
  if (error instanceof RateLimitError) return true;
  if (error instanceof NetworkError && failure.neverSent) return true;
  if (!repeatable || !error.isRetryable) return false;
  if (error.status !== undefined) return RETRYABLE_STATUSES.has(error.status);
  return true;
}

/**
 * The delay before the next attempt, or undefined to give up. `attempt` is the
 * 1-based number of the attempt that just failed. A Retry-After from the server
 * is honoured exactly (no jitter) up to `maxRetryAfterMs`; beyond that the call
 * gives up so the caller can reschedule from `error.retryAfter`.
 */
export function retryDelay(
  policy: RetryPolicy,
  failure: AttemptFailure,
  attempt: number,
  repeatable: boolean,
  random: () => number,
): number | undefined {
  if (attempt > policy.maxRetries) return undefined;
  if (!isRetryableFailure(failure, repeatable)) return undefined;
  const { retryAfter } = failure.error;
  if (retryAfter !== undefined) {
    const retryAfterMs = Math.ceil(retryAfter * 1000);
    return retryAfterMs > policy.maxRetryAfterMs ? undefined : retryAfterMs;
  }
  return backoffDelay(policy, attempt - 1, random);
}
