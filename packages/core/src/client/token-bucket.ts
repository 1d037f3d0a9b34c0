import { ConfigurationError } from "../errors.ts";
import { abortableSleep, abortErrorFor, defaultSleep, type SleepFunction } from "./sleep.ts";

export interface TokenBucketOptions {
  /** Tokens added per second (may be fractional: 0.1 is one token every 10 s). */
  ratePerSecond: number;
  /** Capacity: how many tokens can be spent at once after a quiet period. Default max(1, ratePerSecond). */
  burst?: number | undefined;
  /** Clock in milliseconds; default Date.now. */
  now?: (() => number) | undefined;
  /** Sleep used while waiting for a token; default a timer. */
  sleep?: SleepFunction | undefined;
}

/**
 * A token bucket rate limiter. `take()` resolves when a token is available,
 * serving callers in arrival order: each caller reserves the next token
 * immediately (the balance may go negative) and sleeps until it has been
 * earned, so concurrent callers never exceed the rate. An aborted wait gives
 * its reservation back.
 *
 * @example
 * const bucket = new TokenBucket({ ratePerSecond: 10, burst: 20 });
 * await bucket.take(signal);
 */
export class TokenBucket {
  readonly ratePerSecond: number;
  readonly burst: number;
  #tokens: number;
  #updatedAt: number;
  readonly #now: () => number;
  readonly #sleep: SleepFunction;

  constructor(options: TokenBucketOptions) {
    const { ratePerSecond } = options;
    if (!Number.isFinite(ratePerSecond) || ratePerSecond <= 0) {
      throw new ConfigurationError(
        `TokenBucket ratePerSecond must be a positive number, got ${ratePerSecond}`,
      );
    }
    const burst = options.burst ?? Math.max(1, ratePerSecond);
    if (!Number.isFinite(burst) || burst < 1) {
      throw new ConfigurationError(`TokenBucket burst must be a number >= 1, got ${burst}`);
    }
    this.ratePerSecond = ratePerSecond;
    this.burst = burst;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#tokens = burst;
    this.#updatedAt = this.#now();
  }

  /** Tokens available right now (negative when callers are queued). */
  get available(): number {
    this.#refill();
    return this.#tokens;
  }

  /** Takes a token when one is available now; never waits. */
  tryTake(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /**
   * Waits until a token is available and takes it. Rejects with an AbortError
   * when `signal` aborts first (the reserved token is returned).
   */
  async take(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw abortErrorFor("Waiting for a rate-limit token", signal, "internal");
    this.#refill();
    this.#tokens -= 1;
    if (this.#tokens >= 0) return;
    const waitMs = Math.ceil((-this.#tokens / this.ratePerSecond) * 1000);
    try {
      await abortableSleep(this.#sleep, waitMs, signal, "Waiting for a rate-limit token", "internal");
    } catch (error) {
      this.#refill();
      this.#tokens = Math.min(this.burst, this.#tokens + 1);
      throw error;
    }
  }

  #refill(): void {
    const now = this.#now();
    const elapsedMs = Math.max(0, now - this.#updatedAt);
    this.#updatedAt = Math.max(now, this.#updatedAt);
    this.#tokens = Math.min(this.burst, this.#tokens + (elapsedMs / 1000) * this.ratePerSecond);
  }
}
