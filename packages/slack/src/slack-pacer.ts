/**
 * Client-side pacing of Slack Web API calls, so the connector stays under Slack's limits instead of
 * collecting 429s:
 *
 * - **per channel**: messages (chat.postMessage and files.completeUploadExternal, which posts one) at
 *   about one per second per channel with a short burst, as Slack asks;
 * - **per method**: the method's rate-limit tier (tier 2: 20/min, tier 3: 50/min, tier 4: 100/min)
 *   with a burst of a minute's worth, as Slack's tiers allow;
 * - **pauses**: a 429's `Retry-After` pauses the method (and, for messages, that channel) for every
 *   caller of this pacer, i.e. across the process.
 *
 * Reservations are first come, first served (GCRA: each caller reserves its slot and sleeps until
 * it), so messages of one channel leave in the order they asked.
 */
import { AbortError } from "@linq-connect/core";

/** Slack's rate-limit tiers in requests per minute. */
export const slackTierRequestsPerMinute = { 1: 1, 2: 20, 3: 50, 4: 100 } as const;

/** The tier of each method the connector calls (methods not listed are not paced per method). */
export const slackMethodTiers: Readonly<Record<string, 1 | 2 | 3 | 4>> = {
  "chat.update": 3,
  "chat.delete": 3,
  "chat.postEphemeral": 4,
  "reactions.add": 3,
  "reactions.remove": 2,
  "files.getUploadURLExternal": 4,
  "files.completeUploadExternal": 4,
  "files.info": 4,
  "conversations.info": 3,
  "conversations.history": 3,
  "conversations.replies": 3,
  "users.info": 4,
  "views.open": 4,
};

/** The methods that post a message into a channel (paced per channel). */
export const slackPostingMethods: ReadonlySet<string> = new Set([
  "chat.postMessage",
  "files.completeUploadExternal",
]);

export interface SlackPacingOptions {
  /** Messages per second per channel. Default 1. */
  perChannelPerSecond?: number;
  /** Messages a channel may receive at once before pacing starts. Default 3. */
  perChannelBurst?: number;
  /**
   * How much slower than the limits to go (0.1: 10 % slower), so that network jitter between our
   * clock and Slack's never turns into a 429. Default 0.1.
   */
  safetyMargin?: number;
  /** Requests per minute per tier, overriding Slack's (e.g. `{ 3: 100 }`). */
  tiers?: Partial<Record<1 | 2 | 3 | 4, number>>;
  /** Per-method requests per minute, overriding the tier. */
  methods?: Record<string, number>;
  /** The clock. Default `Date.now`. */
  now?: () => number;
}

/** A pacer shared by everything that calls Slack with one token. */
export interface SlackPacer {
  /** Waits until `method` may be called (for `channel`, when it posts there). */
  acquire(method: string, channel?: string, signal?: AbortSignal): Promise<void>;
  /** Pauses `method` (and `channel` for posting methods) for `seconds`, after a 429. */
  pause(method: string, seconds: number, channel?: string): void;
  /** Until when (ms since epoch) `method` is paused; 0 when it is not. */
  pausedUntil(method: string, channel?: string): number;
}

/** A generic cell rate algorithm bucket: `rate` per second with `burst` at once. */
class ReservationBucket {
  readonly #intervalMs: number;
  readonly #toleranceMs: number;
  #theoreticalArrival = 0;

  constructor(ratePerSecond: number, burst: number) {
    this.#intervalMs = 1000 / ratePerSecond;
    this.#toleranceMs = Math.max(0, burst - 1) * this.#intervalMs;
  }

  /** Reserves the next slot; returns how long to wait for it (0: now). */
  reserve(now: number): number {
    const arrival = Math.max(this.#theoreticalArrival, now);
    const allowedAt = arrival - this.#toleranceMs;
    this.#theoreticalArrival = arrival + this.#intervalMs;
    return Math.max(0, allowedAt - now);
  }
}

function sleep(milliseconds: number, signal: AbortSignal | undefined): Promise<void> {
  if (milliseconds <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortError("Slack call aborted while pacing", { source: "slack" }));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortError("Slack call aborted while pacing", { source: "slack" }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, milliseconds);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number`);
  return value;
}

/** Creates a pacer; share one per bot token and process. */
export function createSlackPacer(options: SlackPacingOptions = {}): SlackPacer {
  const now = options.now ?? Date.now;
  const perChannelPerSecond = positive(options.perChannelPerSecond, 1, "pacing.perChannelPerSecond");
  const perChannelBurst = Math.floor(positive(options.perChannelBurst, 3, "pacing.perChannelBurst"));
  const margin = options.safetyMargin ?? 0.1;
  if (!Number.isFinite(margin) || margin < 0 || margin >= 1) {
    throw new RangeError("pacing.safetyMargin must be at least 0 and below 1");
  }
  const slower = 1 / (1 + margin);
  const channelBuckets = new Map<string, ReservationBucket>();
  const methodBuckets = new Map<string, ReservationBucket | null>();
  const pauses = new Map<string, number>();

  const perMinuteOf = (method: string): number | undefined => {
    const override = options.methods?.[method];
    if (override !== undefined) return positive(override, 1, `pacing.methods.${method}`);
    const tier = slackMethodTiers[method];
    if (tier === undefined) return undefined;
    return options.tiers?.[tier] ?? slackTierRequestsPerMinute[tier];
  };
  const methodBucket = (method: string): ReservationBucket | null => {
    let bucket = methodBuckets.get(method);
    if (bucket === undefined) {
      const perMinute = perMinuteOf(method);
      bucket =
        perMinute === undefined
          ? null
          : new ReservationBucket((perMinute / 60) * slower, Math.max(1, perMinute));
      methodBuckets.set(method, bucket);
    }
    return bucket;
  };
  const channelBucket = (channel: string): ReservationBucket => {
    let bucket = channelBuckets.get(channel);
    if (bucket === undefined) {
      bucket = new ReservationBucket(perChannelPerSecond * slower, perChannelBurst);
      channelBuckets.set(channel, bucket);
    }
    return bucket;
  };
  const pauseKeys = (method: string, channel: string | undefined): string[] =>
    channel !== undefined && slackPostingMethods.has(method) ? [method, `channel:${channel}`] : [method];
  const pausedUntil = (method: string, channel?: string): number => {
    let until = 0;
    for (const key of pauseKeys(method, channel)) until = Math.max(until, pauses.get(key) ?? 0);
    return until > now() ? until : 0;
  };

  return {
    async acquire(method, channel, signal) {
      for (let until = pausedUntil(method, channel); until > 0; until = pausedUntil(method, channel)) {
        await sleep(until - now(), signal);
      }
      const waits = [methodBucket(method)?.reserve(now()) ?? 0];
      if (channel !== undefined && slackPostingMethods.has(method))
        waits.push(channelBucket(channel).reserve(now()));
      await sleep(Math.max(...waits), signal);
    },
    pause(method, seconds, channel) {
      const until = now() + Math.max(0, seconds) * 1000;
      for (const key of pauseKeys(method, channel)) pauses.set(key, Math.max(pauses.get(key) ?? 0, until));
    },
    pausedUntil,
  };
}
