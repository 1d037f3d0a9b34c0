import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { isApiProblem } from "./simulator-errors.ts";
import { assertValid, loadRequestValidators, locateOpenApiDocument } from "./simulator-validation.ts";

function problemOf(action: () => void): { status: number; code: string; details: readonly string[] } {
  try {
    action();
  } catch (error) {
    if (isApiProblem(error))
      return { status: error.status, code: error.body.code, details: error.body.details };
    throw error;
  }
  throw new Error("expected a validation problem");
}

describe("simulator request validation", () => {
  it("finds the OpenAPI document shipped with the package", async () => {
    const path = await locateOpenApiDocument();
    expect(path.endsWith("openapi/linq-openapi.json")).toBe(true);
    expect(existsSync(path)).toBe(true);
  });

  it("compiles the request bodies from the document and reports every problem", async () => {
    const validators = await loadRequestValidators();
    expect(() =>
      assertValid(validators.createChat, {
        send_from: "+1",
        chat: { phone_numbers: ["+1"] },
        message: { text: "x" },
      }),
    ).not.toThrow();
    expect(
      problemOf(() => assertValid(validators.createChat, { chat: { phone_numbers: ["+1"] }, message: {} })),
    ).toEqual({
      status: 400,
      code: "missing_phone",
      details: ["Missing required parameter: send_from", "Missing required parameter: message.text"],
    });
    const invalid = problemOf(() =>
      assertValid(validators.createChat, {
        send_from: 5,
        chat: { phone_numbers: [], extra: true },
        message: { text: "x", idempotency_key: "a b" },
      }),
    );
    expect(invalid.status).toBe(422);
    expect(invalid.code).toBe("invalid_params");
    expect(invalid.details).toEqual(
      expect.arrayContaining([
        "send_from must be string",
        "Unknown parameter: chat.extra",
        "chat.phone_numbers must NOT have fewer than 1 items",
        "message.idempotency_key must be alphanumeric and may include hyphens and underscores",
      ]),
    );
  });

  it("validates multipart field names from the document", async () => {
    const validators = await loadRequestValidators();
    expect(() =>
      assertValid(validators.sendMessageForm, {
        "message[text]": "hi",
        "message[attachment_urls][]": ["https://x.test/a"],
      }),
    ).not.toThrow();
    expect(
      problemOf(() => assertValid(validators.sendMessageForm, { "message[text]": { file: "a.txt" } }))
        .details,
    ).toEqual(["message[text] must be string"]);
  });
});
