import { describe, expect, it } from "vitest";
import {
  errorFromEntries,
  SalesforceDuplicateError,
  SalesforceRequestLimitError,
  toSalesforceError,
} from "./salesforce-errors.ts";

/** An error shaped like jsforce's HttpApiError. */
function jsforceError(errorCode: string, message: string, data: Record<string, unknown> = {}): Error {
  const error = new Error(message) as Error & { errorCode: string; data: unknown };
  error.name = errorCode;
  error.errorCode = errorCode;
  error.data = { errorCode, message, ...data };
  return error;
}

describe("toSalesforceError", () => {
  it.each([
    ["INVALID_SESSION_ID", 401, "authentication_error", false],
    ["REQUEST_LIMIT_EXCEEDED", 403, "rate_limited", true],
    ["TOO_MANY_REQUESTS", 429, "rate_limited", true],
    ["INSUFFICIENT_ACCESS_OR_READONLY", 400, "permission_error", false],
    ["NOT_FOUND", 404, "not_found", false],
    ["ENTITY_IS_DELETED", 400, "not_found", false],
    ["UNABLE_TO_LOCK_ROW", 400, "server_error", true],
    ["UNKNOWN_EXCEPTION", 500, "server_error", true],
    ["SERVER_UNAVAILABLE", 503, "server_error", true],
    ["REQUIRED_FIELD_MISSING", 400, "validation_error", false],
    ["INVALID_FIELD", 400, "validation_error", false],
    ["DUPLICATES_DETECTED", 400, "conflict", false],
  ])("maps %s (%i) to %s", (code, status, expected, retryable) => {
    const error = toSalesforceError(jsforceError(code, "something"), { status, operation: "create Contact" });
    expect(error.code).toBe(expected);
    expect(error.isRetryable).toBe(retryable);
    expect(error.source).toBe("salesforce");
    expect(error.status).toBe(status);
    expect(error.message).toBe(`Salesforce create Contact failed: ${code}: something`);
  });

  it("gives REQUEST_LIMIT_EXCEEDED the configured wait", () => {
    const error = toSalesforceError(jsforceError("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."), {
      status: 403,
      requestLimitRetrySeconds: 600,
    });
    expect(error).toBeInstanceOf(SalesforceRequestLimitError);
    expect(error.retryAfter).toBe(600);
  });

  it("keeps field errors and duplicate ids", () => {
    const missing = toSalesforceError(
      jsforceError("REQUIRED_FIELD_MISSING", "Required fields are missing: [LastName]", {
        fields: ["LastName"],
      }),
      { status: 400 },
    );
    expect(missing).toMatchObject({ fieldErrors: [{ field: "LastName", code: "REQUIRED_FIELD_MISSING" }] });
    const duplicate = errorFromEntries([
      {
        statusCode: "DUPLICATES_DETECTED",
        message: "Use one of these records?",
        duplicateResult: { matchResults: [{ matchRecords: [{ record: { Id: "003000000000001AAA" } }] }] },
      },
    ]);
    expect(duplicate).toBeInstanceOf(SalesforceDuplicateError);
    expect((duplicate as SalesforceDuplicateError).duplicateIds).toEqual(["003000000000001AAA"]);
  });

  it("maps network failures and refresh failures", () => {
    const reset = new TypeError("fetch failed", {
      cause: Object.assign(new Error("socket"), { code: "ECONNRESET" }),
    });
    expect(toSalesforceError(reset)).toMatchObject({ code: "network_error", isRetryable: true });
    const refresh = new Error("Unable to refresh session due to: expired access/refresh token");
    expect(toSalesforceError(refresh)).toMatchObject({ code: "authentication_error", isRetryable: false });
    const unreachable = new Error("Unable to refresh session due to: fetch failed");
    expect(toSalesforceError(unreachable)).toMatchObject({ code: "network_error", isRetryable: true });
    const abort = new Error("aborted");
    abort.name = "AbortError";
    expect(toSalesforceError(abort).code).toBe("aborted");
  });

  it("never puts a token into the message", () => {
    const error = toSalesforceError(jsforceError("INVALID_SESSION_ID", "Session expired or invalid"), {
      status: 401,
    });
    expect(JSON.stringify(error.toJSON())).not.toMatch(/Bearer/);
  });
});
