import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ConfigurationError,
  NetworkError,
  NotFoundError,
  RateLimitError,
  ServerError,
  TimeoutError,
  ValidationError,
} from "../errors.ts";
import { backoffDelay, isRetryableFailure, resolveRetryPolicy, retryDelay } from "./retry-policy.ts";

const policy = resolveRetryPolicy({ maxRetries: 5, initialDelayMs: 500, maxDelayMs: 30_000, factor: 2 });

describe("resolveRetryPolicy", () => {
  it("applies the defaults", () => {
    expect(resolveRetryPolicy(undefined)).toEqual({
      maxRetries: 3,
      initialDelayMs: 500,
      maxDelayMs: 30_000,
      factor: 2,
      maxRetryAfterMs: 60_000,
    });
  });

  it("disables retries with false", () => {
    expect(resolveRetryPolicy(false).maxRetries).toBe(0);
  });

  it("rejects invalid settings", () => {
    expect(() => resolveRetryPolicy({ maxRetries: -1 })).toThrow(ConfigurationError);
    expect(() => resolveRetryPolicy({ maxRetries: 1.5 })).toThrow(ConfigurationError);
    expect(() => resolveRetryPolicy({ factor: 0.5 })).toThrow(ConfigurationError);
    expect(() => resolveRetryPolicy({ initialDelayMs: Number.POSITIVE_INFINITY })).toThrow(
      ConfigurationError,
    );
  });
});

describe("backoffDelay", () => {
  it("grows exponentially at the top of the jitter range and is capped", () => {
    const top = () => 0.999999;
    const delays = [0, 1, 2, 3, 4, 5, 6, 7].map((index) => backoffDelay(policy, index, top));
    expect(delays).toEqual([499, 999, 1_999, 3_999, 7_999, 15_999, 29_999, 29_999]);
  });

  it("is 0 at the bottom of the jitter range (full jitter)", () => {
    expect(backoffDelay(policy, 3, () => 0)).toBe(0);
  });

  it("always lies in [0, min(maxDelay, initial * factor^n)] (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 }),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        fc.integer({ min: 1, max: 5_000 }),
        fc.integer({ min: 1, max: 120_000 }),
        (retryIndex, random, initialDelayMs, maxDelayMs) => {
          const custom = resolveRetryPolicy({ initialDelayMs, maxDelayMs, factor: 2 });
          const delay = backoffDelay(custom, retryIndex, () => random);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThanOrEqual(Math.min(maxDelayMs, initialDelayMs * 2 ** retryIndex));
        },
      ),
    );
  });
});

describe("isRetryableFailure", () => {
  const serverError = (status: number) => new ServerError("x", { status });

  it("retries 429 for every request, repeatable or not", () => {
    const error = new RateLimitError("x", { status: 429 });
    expect(isRetryableFailure({ error, neverSent: false }, true)).toBe(true);
    expect(isRetryableFailure({ error, neverSent: false }, false)).toBe(true);
  });

  it("retries 5xx, timeouts and network errors only for repeatable requests", () => {
    for (const status of [500, 502, 503, 504]) {
      expect(isRetryableFailure({ error: serverError(status), neverSent: false }, true)).toBe(true);
      expect(isRetryableFailure({ error: serverError(status), neverSent: false }, false)).toBe(false);
    }
    const timeout = new TimeoutError("x");
    expect(isRetryableFailure({ error: timeout, neverSent: false }, true)).toBe(true);
    expect(isRetryableFailure({ error: timeout, neverSent: false }, false)).toBe(false);
    const reset = new NetworkError("ECONNRESET");
    expect(isRetryableFailure({ error: reset, neverSent: false }, true)).toBe(true);
    expect(isRetryableFailure({ error: reset, neverSent: false }, false)).toBe(false);
  });

  it("retries a connection that provably never sent the request, even for unsafe POSTs", () => {
    expect(isRetryableFailure({ error: new NetworkError("ECONNREFUSED"), neverSent: true }, false)).toBe(
      true,
    );
  });

  it("does not retry 501, 4xx or unknown statuses", () => {
    expect(isRetryableFailure({ error: serverError(501), neverSent: false }, true)).toBe(false);
    expect(
      isRetryableFailure({ error: new NotFoundError("x", { status: 404 }), neverSent: false }, true),
    ).toBe(false);
    expect(
      isRetryableFailure({ error: new ValidationError("x", { status: 422 }), neverSent: false }, true),
    ).toBe(false);
  });
});

describe("retryDelay", () => {
  const random = () => 0.5;

  it("gives up after maxRetries", () => {
    const failure = { error: new ServerError("x", { status: 503 }), neverSent: false };
    expect(retryDelay(policy, failure, 5, true, random)).toBe(4_000); // 0.5 * 500 * 2^4
    expect(retryDelay(policy, failure, 6, true, random)).toBeUndefined();
  });

  it("honours Retry-After exactly, even above maxDelayMs, up to maxRetryAfterMs", () => {
    const short = resolveRetryPolicy({ maxDelayMs: 1_000 });
    const failure = (retryAfter: number) => ({
      error: new RateLimitError("x", { status: 429, retryAfter }),
      neverSent: false,
    });
    expect(retryDelay(short, failure(2), 1, false, random)).toBe(2_000);
    expect(retryDelay(short, failure(0), 1, false, random)).toBe(0);
    expect(retryDelay(short, failure(60), 1, false, random)).toBe(60_000);
    expect(retryDelay(short, failure(61), 1, false, random)).toBeUndefined();
  });
});
