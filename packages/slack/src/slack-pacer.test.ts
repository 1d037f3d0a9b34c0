import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createSlackPacer } from "./slack-pacer.ts";

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** The times (ms) at which each acquire resolved. */
async function acquireTimes(acquire: () => Promise<void>, count: number): Promise<number[]> {
  const times: number[] = [];
  const pending = Array.from({ length: count }, () => acquire().then(() => times.push(Date.now())));
  await vi.runAllTimersAsync();
  await Promise.all(pending);
  return times;
}

describe("createSlackPacer", () => {
  it("lets a burst through, then one message per second per channel, first come first served", async () => {
    const pacer = createSlackPacer({
      perChannelPerSecond: 1,
      perChannelBurst: 3,
      safetyMargin: 0,
      now: Date.now,
    });
    const times = await acquireTimes(() => pacer.acquire("chat.postMessage", "C1"), 6);
    expect(times).toEqual([0, 0, 0, 1000, 2000, 3000]);
  });

  it("paces channels independently", async () => {
    const pacer = createSlackPacer({
      perChannelPerSecond: 1,
      perChannelBurst: 1,
      safetyMargin: 0,
      now: Date.now,
    });
    const first = acquireTimes(() => pacer.acquire("chat.postMessage", "C1"), 2);
    const second = acquireTimes(() => pacer.acquire("chat.postMessage", "C2"), 2);
    expect(await first).toEqual([0, 1000]);
    expect(await second).toEqual([0, 1000]);
  });

  it("keeps a safety margin below the limit", async () => {
    const pacer = createSlackPacer({ perChannelPerSecond: 1, perChannelBurst: 1, now: Date.now });
    expect(await acquireTimes(() => pacer.acquire("chat.postMessage", "C1"), 3)).toEqual([0, 1100, 2200]);
  });

  it("paces methods by their tier (reactions.remove is tier 2: 20 a minute)", async () => {
    const pacer = createSlackPacer({ safetyMargin: 0, now: Date.now });
    const times = await acquireTimes(() => pacer.acquire("reactions.remove", "C1"), 22);
    expect(times.slice(0, 20).every((time) => time === 0)).toBe(true);
    expect(times.slice(20)).toEqual([3000, 6000]);
  });

  it("pauses a method for every caller after a 429 (Retry-After)", async () => {
    const pacer = createSlackPacer({ safetyMargin: 0, now: Date.now });
    pacer.pause("chat.postMessage", 5, "C1");
    expect(pacer.pausedUntil("chat.postMessage", "C2")).toBe(5000);
    const times = await acquireTimes(() => pacer.acquire("chat.postMessage", "C2"), 1);
    expect(times).toEqual([5000]);
    expect(pacer.pausedUntil("chat.postMessage")).toBe(0);
  });

  it("stops waiting when the signal aborts", async () => {
    const pacer = createSlackPacer({ perChannelBurst: 1, safetyMargin: 0, now: Date.now });
    await pacer.acquire("chat.postMessage", "C1");
    const controller = new AbortController();
    const waiting = pacer.acquire("chat.postMessage", "C1", controller.signal);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: "aborted" });
  });

  it("rejects nonsense settings", () => {
    expect(() => createSlackPacer({ perChannelPerSecond: 0 })).toThrow(
      /perChannelPerSecond must be a positive number/,
    );
    expect(() => createSlackPacer({ safetyMargin: 1 })).toThrow(/safetyMargin/);
  });
});
