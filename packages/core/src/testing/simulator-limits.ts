/**
 * The simulator's rate limiters. Both read the simulator's clock (`options.now`),
 * so a test with a controllable clock can move past a limit without waiting.
 */

/** A token bucket: `requestsPerSecond` sustained, `burst` at once. */
export class TokenBucket {
  private readonly requestsPerSecond: number;
  private readonly burst: number;
  private readonly now: () => Date;
  private tokens: number;
  private refilledAt: number;

  constructor(options: { requestsPerSecond: number; burst: number; now: () => Date }) {
    this.requestsPerSecond = options.requestsPerSecond;
    this.burst = options.burst;
    this.now = options.now;
    this.tokens = options.burst;
    this.refilledAt = options.now().getTime();
  }

  /** Takes a token; returns undefined when allowed, else the whole seconds to wait. */
  take(): number | undefined {
    const now = this.now().getTime();
    const elapsed = Math.max(0, now - this.refilledAt) / 1000;
    this.tokens = Math.min(this.burst, this.tokens + elapsed * this.requestsPerSecond);
    this.refilledAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil((1 - this.tokens) / this.requestsPerSecond));
  }
}

/** At most one accepted call per interval. */
export class IntervalLimiter {
  private readonly intervalMs: number;
  private readonly now: () => Date;
  private lastAcceptedAt: number | undefined;

  constructor(options: { intervalMs: number; now: () => Date }) {
    this.intervalMs = options.intervalMs;
    this.now = options.now;
  }

  /** Returns undefined when allowed (and counts the call), else the whole seconds to wait. */
  take(): number | undefined {
    const now = this.now().getTime();
    if (this.lastAcceptedAt !== undefined) {
      const remaining = this.lastAcceptedAt + this.intervalMs - now;
      if (remaining > 0) return Math.max(1, Math.ceil(remaining / 1000));
    }
    this.lastAcceptedAt = now;
    return undefined;
  }
}
