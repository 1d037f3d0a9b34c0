/**
 * The private app rate limits: a rolling ten-second window (`TEN_SECONDLY_ROLLING`), the search
 * endpoints' per-second limit (`SECONDLY`) and a daily quota (`DAILY`, reset at midnight UTC). They
 * read the simulator's clock, so a test with a controllable clock can move past a limit without
 * waiting. Rejected requests are not counted.
 */
import type { RateLimitPolicy } from "./simulator-errors.ts";

export interface RateLimitSettings {
  requestsPer10Seconds: number;
  searchRequestsPerSecond: number;
  dailyLimit: number;
}

const INTERVAL_MS = 10_000;
const DAY_MS = 86_400_000;

/** The outcome of counting one request: the policy that refused it (if any) and the headers to send. */
export interface RateLimitDecision {
  policy: RateLimitPolicy | undefined;
  headers: Record<string, string>;
}

export class RateLimiter {
  private readonly settings: RateLimitSettings;
  private readonly now: () => Date;
  private recent: number[] = [];
  private recentSearches: number[] = [];
  private day = -1;
  private dailyCount = 0;

  constructor(settings: RateLimitSettings, now: () => Date) {
    this.settings = settings;
    this.now = now;
  }

  /** Counts a request (unless refused) and returns the decision. */
  take(isSearch: boolean): RateLimitDecision {
    const now = this.now().getTime();
    const day = Math.floor(now / DAY_MS);
    if (day !== this.day) {
      this.day = day;
      this.dailyCount = 0;
    }
    this.recent = this.recent.filter((time) => time > now - INTERVAL_MS);
    this.recentSearches = this.recentSearches.filter((time) => time > now - 1_000);
    let policy: RateLimitPolicy | undefined;
    if (this.dailyCount >= this.settings.dailyLimit) policy = "DAILY";
    else if (this.recent.length >= this.settings.requestsPer10Seconds) policy = "TEN_SECONDLY_ROLLING";
    else if (isSearch && this.recentSearches.length >= this.settings.searchRequestsPerSecond)
      policy = "SECONDLY";
    if (policy === undefined) {
      this.dailyCount += 1;
      this.recent.push(now);
      if (isSearch) this.recentSearches.push(now);
    }
    return { policy, headers: this.headers() };
  }

  private headers(): Record<string, string> {
    return {
      "x-hubspot-ratelimit-daily": String(this.settings.dailyLimit),
      "x-hubspot-ratelimit-daily-remaining": String(Math.max(0, this.settings.dailyLimit - this.dailyCount)),
      "x-hubspot-ratelimit-interval-milliseconds": String(INTERVAL_MS),
      "x-hubspot-ratelimit-max": String(this.settings.requestsPer10Seconds),
      "x-hubspot-ratelimit-remaining": String(
        Math.max(0, this.settings.requestsPer10Seconds - this.recent.length),
      ),
    };
  }
}
