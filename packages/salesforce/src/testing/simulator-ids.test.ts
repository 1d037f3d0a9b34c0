import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IdGenerator, idChecksum, normalizeId, toId18 } from "./simulator-ids.ts";

describe("Salesforce ids", () => {
  it("computes the case-safe suffix", () => {
    expect(toId18("001A0000006Vm9r")).toBe("001A0000006Vm9rIAC");
    expect(idChecksum("003000000000000")).toBe("AAA");
    expect(idChecksum("ABCDEABCDEABCDE")).toBe("555");
  });

  it("normalises 15-character ids and re-cases 18-character ids from their suffix", () => {
    expect(normalizeId("001A0000006Vm9r")).toBe("001A0000006Vm9rIAC");
    expect(normalizeId("001a0000006vm9riac")).toBe("001A0000006Vm9rIAC");
    expect(normalizeId("001A0000006Vm9rIAB")).toBeUndefined();
    expect(normalizeId("not-an-id")).toBeUndefined();
    expect(normalizeId("001A0000006Vm9")).toBeUndefined();
  });

  it("any id survives a case-insensitive round trip (property)", () => {
    const alphanumeric = fc.constantFrom(
      ..."0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".split(""),
    );
    fc.assert(
      fc.property(fc.array(alphanumeric, { minLength: 15, maxLength: 15 }), (characters) => {
        const id18 = toId18(characters.join(""));
        expect(normalizeId(id18.toLowerCase())).toBe(id18);
        expect(normalizeId(id18.toUpperCase())).toBe(id18);
        expect(normalizeId(id18.slice(0, 15))).toBe(id18);
      }),
    );
  });

  it("mints deterministic, distinct ids per key prefix", () => {
    const generator = new IdGenerator();
    const ids = Array.from({ length: 100 }, () => generator.next("003"));
    expect(new Set(ids).size).toBe(100);
    expect(ids.every((id) => id.startsWith("0035g0") && normalizeId(id) === id)).toBe(true);
    expect(generator.next("00Q")).toBe(new IdGenerator().next("00Q"));
  });
});
