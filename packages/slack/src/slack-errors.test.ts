import {
  ApiError,
  AuthenticationError,
  NetworkError,
  RateLimitError,
  ServerError,
  TimeoutError,
  ValidationError,
} from "@linq-connect/core";
import {
  ErrorCode,
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
} from "@slack/web-api";
import { describe, expect, it } from "vitest";
import { isAmbiguousFailure, mapSlackError, SlackPermissionError, slackErrorCode } from "./slack-errors.ts";

function platform(error: string, extra: Record<string, unknown> = {}) {
  return new WebAPIPlatformError({ ok: false, error, ...extra });
}

describe("mapSlackError", () => {
  it("maps rate limits with their Retry-After", () => {
    const mapped = mapSlackError(new WebAPIRateLimitedError(7), { method: "chat.postMessage" });
    expect(mapped).toBeInstanceOf(RateLimitError);
    expect(mapped.retryAfter).toBe(7);
    expect(mapped.isRetryable).toBe(true);
    expect(mapped.source).toBe("slack");
    expect(mapSlackError(platform("ratelimited"))).toBeInstanceOf(RateLimitError);
  });

  it.each(["invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"])(
    "maps %s to a non-retryable AuthenticationError with a doctor hint",
    (code) => {
      const mapped = mapSlackError(platform(code), { method: "chat.postMessage" });
      expect(mapped).toBeInstanceOf(AuthenticationError);
      expect(mapped.isRetryable).toBe(false);
      expect(mapped.message).toContain(code);
      expect(mapped.message).toContain("linq-sync doctor");
    },
  );

  it.each([
    ["not_in_channel", /invite it with \/invite/],
    ["channel_not_found", /does not exist or the bot cannot see it/],
    ["is_archived", /is archived: unarchive it/],
    ["missing_scope", /lacks a scope.*\(needed: reactions:write\)/],
  ])("maps %s to a SlackPermissionError that says what to do", (code, message) => {
    const mapped = mapSlackError(platform(code, { needed: "reactions:write" }), { channel: "C0SALES" });
    expect(mapped).toBeInstanceOf(SlackPermissionError);
    expect(mapped.isRetryable).toBe(false);
    expect(mapped.message).toMatch(message);
    expect(slackErrorCode(mapped)).toBe(code);
  });

  it("maps request validation errors and unknown codes as not retryable", () => {
    const invalid = mapSlackError(
      platform("invalid_blocks", {
        response_metadata: { messages: ["[ERROR] must be more than 0 characters"] },
      }),
    );
    expect(invalid).toBeInstanceOf(ValidationError);
    expect(invalid.message).toContain("must be more than 0 characters");
    expect(mapSlackError(platform("some_new_error"))).toBeInstanceOf(ApiError);
  });

  it("maps server-side failures, timeouts and network errors as retryable", () => {
    expect(mapSlackError(platform("internal_error"))).toBeInstanceOf(ServerError);
    expect(mapSlackError(new WebAPIHTTPError(503, "Service Unavailable", {}, ""))).toBeInstanceOf(
      ServerError,
    );
    const timeout = new DOMException("The operation was aborted due to timeout", "TimeoutError");
    expect(mapSlackError(new WebAPIRequestError(timeout as unknown as Error))).toBeInstanceOf(TimeoutError);
    const refused = Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } });
    const network = mapSlackError(new WebAPIRequestError(refused));
    expect(network).toBeInstanceOf(NetworkError);
    expect(network.message).toContain("ECONNREFUSED");
  });

  it("knows which failures may have been carried out anyway", () => {
    expect(isAmbiguousFailure(mapSlackError(platform("internal_error")))).toBe(true);
    const reset = Object.assign(new TypeError("fetch failed"), { cause: { code: "UND_ERR_SOCKET" } });
    expect(isAmbiguousFailure(mapSlackError(new WebAPIRequestError(reset)))).toBe(true);
    const refused = Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } });
    expect(isAmbiguousFailure(mapSlackError(new WebAPIRequestError(refused)))).toBe(false);
    expect(isAmbiguousFailure(mapSlackError(new WebAPIRateLimitedError(1)))).toBe(false);
    expect(isAmbiguousFailure(mapSlackError(platform("not_in_channel")))).toBe(false);
  });

  it("keeps errors that already are linq-connect errors", () => {
    const error = new RateLimitError("x", { source: "linq" });
    expect(mapSlackError(error)).toBe(error);
    expect(ErrorCode.PlatformError).toBe("slack_webapi_platform_error");
  });
});
