/**
 * Token buckets for the simulator's rate limits. They read the simulator's clock
 * (`options.now`), so a test with a controllable clock can move past a limit
 * without waiting.
 */

/** A token bucket: `perSecond` sustained, `burst` at once. */
export class TokenBucket {
  private readonly perSecond: number;
  private readonly burst: number;
  private readonly now: () => Date;
  private tokens: number;
  private refilledAt: number;

  constructor(options: { perSecond: number; burst: number; now: () => Date }) {
    this.perSecond = options.perSecond;
    this.burst = options.burst;
    this.now = options.now;
    this.tokens = options.burst;
    this.refilledAt = options.now().getTime();
  }

  /** Takes a token; returns undefined when allowed, else the whole seconds to wait (at least 1). */
  take(): number | undefined {
    const now = this.now().getTime();
    const elapsedSeconds = Math.max(0, now - this.refilledAt) / 1000;
    this.tokens = Math.min(this.burst, this.tokens + elapsedSeconds * this.perSecond);
    this.refilledAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil((1 - this.tokens) / this.perSecond));
  }
}

/** Buckets created on first use, one per key. */
export class BucketMap {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly now: () => Date;

  constructor(now: () => Date) {
    this.now = now;
  }

  take(key: string, limit: { perSecond: number; burst: number }): number | undefined {
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = new TokenBucket({ ...limit, now: this.now });
      this.buckets.set(key, bucket);
    }
    return bucket.take();
  }

  clear(): void {
    this.buckets.clear();
  }
}
