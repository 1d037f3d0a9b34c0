import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AbortError, ConfigurationError } from "../errors.ts";
import { TokenBucket } from "./token-bucket.ts";

/** A fake clock whose sleep advances the clock instead of waiting. */
function fakeClock(start = 1_000_000) {
  const clock = {
    time: start,
    sleeps: [] as number[],
    now: () => clock.time,
    sleep: async (ms: number, signal?: AbortSignal) => {
      if (signal?.aborted) throw signal.reason;
      clock.sleeps.push(ms);
      clock.time += ms;
    },
  };
  return clock;
}

describe("TokenBucket", () => {
  it("lets a burst through at once, then spaces callers by 1/rate", async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ ratePerSecond: 10, burst: 3, now: clock.now, sleep: clock.sleep });
    for (let index = 0; index < 3; index += 1) await bucket.take();
    expect(clock.sleeps).toEqual([]);
    await bucket.take();
    expect(clock.sleeps).toEqual([100]);
    await bucket.take();
    expect(clock.sleeps).toEqual([100, 100]);
  });

  it("refills with elapsed time, capped at the burst", async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ ratePerSecond: 2, burst: 4, now: clock.now, sleep: clock.sleep });
    for (let index = 0; index < 4; index += 1) expect(bucket.tryTake()).toBe(true);
    expect(bucket.tryTake()).toBe(false);
    clock.time += 1_000; // two tokens earned
    expect(bucket.available).toBeCloseTo(2);
    clock.time += 60_000; // capped
    expect(bucket.available).toBe(4);
  });

  it("queues concurrent callers in order without exceeding the rate", async () => {
    const clock = { time: 0 };
    const waits: number[] = [];
    const bucket = new TokenBucket({
      ratePerSecond: 1,
      burst: 1,
      now: () => clock.time,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    await Promise.all([bucket.take(), bucket.take(), bucket.take()]);
    // The first goes now, the next two reserve the tokens of t=1s and t=2s.
    expect(waits).toEqual([1_000, 2_000]);
    expect(bucket.available).toBe(-2);
  });

  it("never grants more than burst + rate * elapsed tokens (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.double({ min: 0.1, max: 50, noNaN: true }),
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.integer({ min: 0, max: 2_000 }), { minLength: 1, maxLength: 40 }),
        async (rate, burst, gaps) => {
          const clock = fakeClock(0);
          const bucket = new TokenBucket({ ratePerSecond: rate, burst, now: clock.now, sleep: clock.sleep });
          for (const gap of gaps) {
            clock.time += gap;
            await bucket.take();
          }
          const allowed = burst + (clock.time / 1000) * rate;
          expect(gaps.length).toBeLessThanOrEqual(allowed + 1e-6);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("spaces a 1-per-10-s limiter by 10 s", async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ ratePerSecond: 0.1, burst: 1, now: clock.now, sleep: clock.sleep });
    await bucket.take();
    await bucket.take();
    await bucket.take();
    expect(clock.sleeps).toEqual([10_000, 10_000]);
  });

  it("rejects with AbortError when aborted while waiting, and gives the token back", async () => {
    const clock = { time: 0 };
    const bucket = new TokenBucket({ ratePerSecond: 1, burst: 1, now: () => clock.time });
    await bucket.take();
    const controller = new AbortController();
    const waiting = bucket.take(controller.signal);
    controller.abort(new Error("stop"));
    await expect(waiting).rejects.toBeInstanceOf(AbortError);
    expect(bucket.available).toBe(0);
  });

  it("rejects immediately when the signal is already aborted", async () => {
    const bucket = new TokenBucket({ ratePerSecond: 1 });
    await expect(bucket.take(AbortSignal.abort())).rejects.toBeInstanceOf(AbortError);
    expect(bucket.available).toBe(1);
  });

  it("validates its options", () => {
    expect(() => new TokenBucket({ ratePerSecond: 0 })).toThrow(ConfigurationError);
    expect(() => new TokenBucket({ ratePerSecond: Number.NaN })).toThrow(ConfigurationError);
    expect(() => new TokenBucket({ ratePerSecond: 1, burst: 0.5 })).toThrow(ConfigurationError);
  });
});
