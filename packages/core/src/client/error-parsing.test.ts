import { describe, expect, it } from "vitest";
import {
  ApiError,
  AuthenticationError,
  ConflictError,
  NotFoundError,
  PermissionError,
  RateLimitError,
  ServerError,
  TimeoutError,
  ValidationError,
} from "../errors.ts";
import { linqErrorFromResponse, parseLinqErrorBody, readHeader, redactSecrets } from "./error-parsing.ts";

const referenceBody = (status: number, code: string, title: string, detail: string) =>
  JSON.stringify({ errors: [{ status, code, title, detail }] });

describe("linqErrorFromResponse", () => {
  it.each([
    [401, AuthenticationError],
    [403, PermissionError],
    [404, NotFoundError],
    [400, ValidationError],
    [422, ValidationError],
    [409, ConflictError],
    [429, RateLimitError],
    [408, TimeoutError],
    [500, ServerError],
    [502, ServerError],
    [503, ServerError],
    [504, ServerError],
    [418, ApiError],
  ])("maps HTTP %i to %o", (status, errorClass) => {
    const error = linqErrorFromResponse({
      status,
      body: referenceBody(status, "some_code", "Title", "Detail"),
    });
    expect(error).toBeInstanceOf(errorClass);
    expect(error.status).toBe(status);
    expect(error.source).toBe("linq");
  });

  it("reads the reference format: message, upstream code, field errors", () => {
    const error = linqErrorFromResponse({
      status: 422,
      operation: "createChat",
      headers: { "x-request-id": "req-123" },
      body: referenceBody(422, "invalid_params", "Invalid Params", "Phone number is required"),
    });
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toBe(
      "Linq createChat failed with HTTP 422 Unprocessable Entity: Phone number is required [invalid_params]",
    );
    expect(error.requestId).toBe("req-123");
    expect((error as ValidationError).fieldErrors).toEqual([
      { message: "Phone number is required", code: "invalid_params" },
    ]);
    expect(error.body).toEqual({
      errors: [
        { status: 422, code: "invalid_params", title: "Invalid Params", detail: "Phone number is required" },
      ],
    });
    expect(error.isRetryable).toBe(false);
  });

  it("reads the standard format used by contacts and webhook subscriptions", () => {
    const error = linqErrorFromResponse({
      status: 422,
      operation: "createContact",
      body: JSON.stringify({
        status: "error",
        error_code: "validation_failed",
        message: "Validation failed",
        errors: ["Email is invalid", "Phone number is invalid"],
      }),
    });
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toContain("Validation failed (Email is invalid; Phone number is invalid)");
    expect(error.message).toContain("[validation_failed]");
    expect((error as ValidationError).fieldErrors).toEqual([
      { message: "Email is invalid" },
      { message: "Phone number is invalid" },
    ]);
  });

  it("reads field names from JSON:API sources and Rails-style error objects", () => {
    expect(
      parseLinqErrorBody(
        JSON.stringify({ errors: [{ detail: "is blank", source: { pointer: "/send_from" } }] }),
      ).fieldErrors,
    ).toEqual([{ field: "/send_from", message: "is blank" }]);
    expect(
      parseLinqErrorBody(JSON.stringify({ errors: { email: ["is invalid", "is taken"] } })).fieldErrors,
    ).toEqual([
      { field: "email", message: "is invalid" },
      { field: "email", message: "is taken" },
    ]);
  });

  it("keeps a short excerpt of non-JSON bodies and the title of HTML pages", () => {
    const text = linqErrorFromResponse({ status: 502, body: "upstream connect error" });
    expect(text).toBeInstanceOf(ServerError);
    expect(text.message).toBe("Linq request failed with HTTP 502 Bad Gateway: upstream connect error");
    const html = linqErrorFromResponse({
      status: 503,
      body: "<html><head><title>503 Service Temporarily Unavailable</title></head><body>nginx</body></html>",
    });
    expect(html.message).toContain(": 503 Service Temporarily Unavailable");
    const long = linqErrorFromResponse({ status: 500, body: "x".repeat(5_000) });
    expect(long.message.length).toBeLessThan(400);
  });

  it("copes with an empty body and with bytes", () => {
    expect(linqErrorFromResponse({ status: 404, body: "" }).message).toBe(
      "Linq request failed with HTTP 404 Not Found",
    );
    const fromBytes = linqErrorFromResponse({
      status: 401,
      body: Buffer.from(
        referenceBody(401, "unauthorized", "Unauthorized", "Invalid or missing authentication token"),
      ),
    });
    expect(fromBytes).toBeInstanceOf(AuthenticationError);
    expect(fromBytes.message).toContain("Invalid or missing authentication token [unauthorized]");
  });

  it("reads Retry-After as seconds and as an HTTP date", () => {
    const seconds = linqErrorFromResponse({ status: 429, headers: { "retry-after": "7" }, body: "" });
    expect(seconds.retryAfter).toBe(7);
    const now = Date.parse("2025-06-01T10:00:00Z");
    const date = linqErrorFromResponse({
      status: 429,
      headers: new Headers({ "Retry-After": "Sun, 01 Jun 2025 10:00:12 GMT" }),
      body: "",
      now,
    });
    expect(date.retryAfter).toBe(12);
  });

  it("never lets the token through, in the message or the kept body", () => {
    const token = "secret-token-abcdef";
    const error = linqErrorFromResponse({
      status: 401,
      body: JSON.stringify({ errors: [{ code: "unauthorized", detail: `Token ${token} is revoked` }] }),
      redact: [token],
    });
    expect(error.message).not.toContain(token);
    expect(error.message).toContain("[REDACTED]");
    expect(JSON.stringify(error.body)).not.toContain(token);
    expect(JSON.stringify(error)).not.toContain(token);
  });
});

describe("helpers", () => {
  it("readHeader is case-insensitive and joins repeated values", () => {
    expect(readHeader({ "X-Request-Id": "a" }, "x-request-id")).toBe("a");
    expect(readHeader({ "set-cookie": ["a", "b"] }, "Set-Cookie")).toBe("a, b");
    expect(readHeader(undefined, "x")).toBeUndefined();
  });

  it("redactSecrets ignores secrets too short to be meaningful", () => {
    expect(redactSecrets("abc abc", ["abc"])).toBe("abc abc");
    expect(redactSecrets("the abcd is here", ["abcd"])).toBe("the [REDACTED] is here");
  });
});
