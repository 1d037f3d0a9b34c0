/**
 * Client-side pacing to HubSpot's private app limits, shared by everything in the process that uses
 * the same app (the connector's events, jobs, reconciliation and a backfill alike).
 *
 * HubSpot counts requests in a rolling 10-second window (100 by default, up to 190 with the API
 * add-on) and CRM searches separately at 5 per second (a search also counts in the 10-second
 * window). The limiter keeps the time of every request it let through and makes the next one wait
 * until the window has room: a sliding log, which never exceeds the limit in any window the server
 * may draw, unlike a token bucket. Two safety margins absorb the difference between when we send and
 * when HubSpot counts (`marginMs`). After a 429 `pause` stops every caller until the server's window
 * has drained.
 *
 * Waiters are served in arrival order (a FIFO chain), so a busy backfill cannot starve live events
 * beyond their turn.
 */
import { createHash } from "node:crypto";
import { AbortError } from "@linq-connect/core";
import type { HubSpotRateLimitSettings } from "./settings.ts";

const WINDOW_MS = 10_000;
const SEARCH_WINDOW_MS = 1_000;

export interface RateLimiterOptions extends HubSpotRateLimitSettings {
  /** The burst window. Default 10 000 ms (HubSpot's); shorter only in tests. */
  windowMs?: number;
  /** Added to each window to absorb network delay between our clock and HubSpot's counting. Default 150 ms. */
  marginMs?: number;
  now?: () => number;
}

/** Counters for benchmarks and logs. */
export interface RateLimiterStatistics {
  granted: number;
  searches: number;
  /** Total milliseconds callers waited for room. */
  waitedMs: number;
  pauses: number;
}

function sleep(milliseconds: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(new AbortError("Aborted while waiting for the HubSpot rate limit", { source: "hubspot" }));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, milliseconds);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortError("Aborted while waiting for the HubSpot rate limit", { source: "hubspot" }));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export class HubSpotRateLimiter {
  readonly settings: HubSpotRateLimitSettings;
  private readonly marginMs: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly granted: number[] = [];
  private readonly searches: number[] = [];
  private pausedUntil = 0;
  private chain: Promise<void> = Promise.resolve();
  private readonly statistics: RateLimiterStatistics = { granted: 0, searches: 0, waitedMs: 0, pauses: 0 };

  constructor(options: RateLimiterOptions) {
    this.settings = {
      requestsPer10Seconds: options.requestsPer10Seconds,
      searchPerSecond: options.searchPerSecond,
    };
    this.marginMs = options.marginMs ?? 150;
    this.windowMs = options.windowMs ?? WINDOW_MS;
    this.now = options.now ?? Date.now;
  }

  /** Waits until one request (a search when `search`) may be sent, and counts it; returns its slot. */
  acquire(search: boolean, signal?: AbortSignal): Promise<number> {
    const turn = this.chain.then(() => this.waitForRoom(search, signal));
    // The next caller waits for this one's turn, whether it got room or was aborted.
    this.chain = turn.then(
      () => undefined,
      () => undefined,
    );
    return turn;
  }

  /** Un-counts a request HubSpot refused (a 429 is not counted by HubSpot either). */
  refund(slot: number, search: boolean): void {
    const index = this.granted.indexOf(slot);
    if (index !== -1) this.granted.splice(index, 1);
    if (search) {
      const searchIndex = this.searches.indexOf(slot);
      if (searchIndex !== -1) this.searches.splice(searchIndex, 1);
    }
  }

  /** After a 429: nobody is let through for `milliseconds`. */
  pause(milliseconds: number): void {
    const until = this.now() + milliseconds;
    if (until > this.pausedUntil) {
      this.pausedUntil = until;
      this.statistics.pauses += 1;
    }
  }

  /** How long the server's 10-second window needs to drain the requests we sent (for a 429 pause). */
  drainMilliseconds(): number {
    const oldest = this.granted[0];
    if (oldest === undefined) return 1_000;
    return Math.max(Math.min(1_000, this.windowMs), oldest + this.windowMs + this.marginMs - this.now());
  }

  stats(): RateLimiterStatistics {
    return { ...this.statistics };
  }

  private prune(now: number): void {
    while (this.granted.length > 0 && (this.granted[0] ?? 0) <= now - this.windowMs - this.marginMs) {
      this.granted.shift();
    }
    while (this.searches.length > 0 && (this.searches[0] ?? 0) <= now - SEARCH_WINDOW_MS - this.marginMs) {
      this.searches.shift();
    }
  }

  private async waitForRoom(search: boolean, signal: AbortSignal | undefined): Promise<number> {
    const started = this.now();
    for (;;) {
      const now = this.now();
      this.prune(now);
      let wait = Math.max(0, this.pausedUntil - now);
      if (this.granted.length >= this.settings.requestsPer10Seconds) {
        const index = this.granted.length - this.settings.requestsPer10Seconds;
        wait = Math.max(wait, (this.granted[index] ?? now) + this.windowMs + this.marginMs - now);
      }
      if (search && this.searches.length >= this.settings.searchPerSecond) {
        const index = this.searches.length - this.settings.searchPerSecond;
        wait = Math.max(wait, (this.searches[index] ?? now) + SEARCH_WINDOW_MS + this.marginMs - now);
      }
      if (wait <= 0) {
        this.granted.push(now);
        this.statistics.granted += 1;
        if (search) {
          this.searches.push(now);
          this.statistics.searches += 1;
        }
        this.statistics.waitedMs += now - started;
        return now;
      }
      await sleep(Math.ceil(wait), signal);
    }
  }
}

const shared = new Map<string, HubSpotRateLimiter>();

/**
 * The process-wide limiter of one private app (keyed by its access token and API host): every
 * connector instance, job and backfill of that app in this process waits in the same line. The first
 * caller's settings are kept; later callers with other settings get the existing limiter.
 */
export function sharedHubSpotRateLimiter(
  credentials: { accessToken: string | undefined; baseUrl: string | undefined },
  settings: HubSpotRateLimitSettings,
): HubSpotRateLimiter {
  const key = createHash("sha256")
    .update(
      `${credentials.baseUrl ?? "https://api.hubapi.com"}\n${credentials.accessToken ?? "(injected client)"}`,
    )
    .digest("hex");
  let limiter = shared.get(key);
  if (limiter === undefined) {
    limiter = new HubSpotRateLimiter(settings);
    shared.set(key, limiter);
  }
  return limiter;
}
