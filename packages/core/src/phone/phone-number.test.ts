import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigurationError, InvalidPhoneNumberError } from "../errors.ts";
import {
  type CountryCode,
  formatPhoneNumberForDisplay,
  isEmailHandle,
  isSamePhoneNumber,
  normalizePhoneNumber,
  phoneNumberSearchVariants,
  tryNormalizePhoneNumber,
} from "./index.ts";

function captureError(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error("expected the action to throw");
}

describe("normalizePhoneNumber: accepted formats (default region US)", () => {
  it.each([
    ["+15551234567", "+15551234567"],
    ["5551234567", "+15551234567"],
    ["15551234567", "+15551234567"],
    ["(555) 123-4567", "+15551234567"],
    ["555-123-4567", "+15551234567"],
    ["555.123.4567", "+15551234567"],
    ["555 123 4567", "+15551234567"],
    ["+1 555 123 4567", "+15551234567"],
    ["+1-555-123-4567", "+15551234567"],
    ["+1 (555) 123-4567", "+15551234567"],
    ["1-555-123-4567", "+15551234567"],
    ["1 (555) 123-4567", "+15551234567"],
    ["tel:+15551234567", "+15551234567"],
    ["tel:+1-555-123-4567", "+15551234567"],
    ["TEL:+15551234567", "+15551234567"],
    ["  +1 555 123 4567\n", "+15551234567"],
    ["\u202a+1 555 123 4567\u202c", "+15551234567"],
    ["+1\u00a0555\u00a0123\u00a04567", "+15551234567"],
    ["+１５５５１２３４５６７", "+15551234567"],
    ["(+1) 555 123 4567", "+15551234567"],
    ["+12223334444", "+12223334444"],
    ["2223334444", "+12223334444"],
    ["+1 555 010 0199", "+15550100199"],
    ["+44 20 7946 0958", "+442079460958"],
    ["+442079460958", "+442079460958"],
    ["(+44) 20 7946 0958", "+442079460958"],
    ["+44 (0) 20 7946 0958", "+442079460958"],
    ["011 44 20 7946 0958", "+442079460958"],
    ["+49 30 123456", "+4930123456"],
    ["+33 6 12 34 56 78", "+33612345678"],
    ["+61 4 1234 5678", "+61412345678"],
  ])("%j → %s", (input, expected) => {
    expect(normalizePhoneNumber(input)).toBe(expected);
  });
});

describe("normalizePhoneNumber: other default regions", () => {
  it.each<[string, CountryCode, string]>([
    ["020 7946 0958", "GB", "+442079460958"],
    ["07911 123456", "GB", "+447911123456"],
    ["0044 20 7946 0958", "GB", "+442079460958"],
    ["030 123456", "DE", "+4930123456"],
    ["0151 12345678", "DE", "+4915112345678"],
    ["06 12 34 56 78", "FR", "+33612345678"],
    ["+1 555 123 4567", "GB", "+15551234567"],
    ["(416) 555-0199", "CA", "+14165550199"],
  ])("%j in %s → %s", (input, defaultRegion, expected) => {
    expect(normalizePhoneNumber(input, { defaultRegion })).toBe(expected);
  });

  it("reads a national number in the default region, so the same digits differ by region", () => {
    expect(tryNormalizePhoneNumber("020 7946 0958")).toBeUndefined();
    expect(normalizePhoneNumber("020 7946 0958", { defaultRegion: "GB" })).toBe("+442079460958");
  });

  it("rejects an unsupported default region with a ConfigurationError", () => {
    const error = captureError(() =>
      normalizePhoneNumber("5551234567", { defaultRegion: "XX" as CountryCode }),
    );
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toContain('"XX"');
    expect(() => tryNormalizePhoneNumber("5551234567", { defaultRegion: "XX" as CountryCode })).toThrow(
      ConfigurationError,
    );
  });
});

describe("normalizePhoneNumber: rejected inputs", () => {
  it.each([
    ["", "empty"],
    ["   ", "empty"],
    ["\n\t", "empty"],
    ["abc", "not a number (contains letters"],
    ["+", "not a number"],
    ["++15551234567", "not a number"],
    ["call 555-123-4567", "not a number (contains letters"],
    ["1 555 123 4567 a", "not a number (contains letters"],
    ["+1 800 FLOWERS", "not a number (contains letters"],
    ["555123", "too short for country calling code +1"],
    ["12345", "too short"],
    ["+1 555 123 456", "too short"],
    ["+1555123456789", "too long for country calling code +1"],
    ["+1 555 1234 5678", "too long"],
    ["020 7946 0958", "too long"],
    ["1".repeat(300), "too long"],
    ["1234567890123456789012", "too long"],
    ["+999 1234567", "invalid country calling code"],
    ["+0 5551234567", "invalid country calling code"],
    ["+1 055 123 4567", "the area code must start with 2-9"],
    ["(155) 123-4567", "the area code must start with 2-9"],
    ["+1 555 123 4567 ext. 12", "extension"],
    ["5551234567x12", "extension"],
    ["+15551234567;ext=1", "extension"],
    ["alice@example.com", "an email address"],
  ])("%j is rejected: %s", (input, reason) => {
    const error = captureError(() => normalizePhoneNumber(input));
    expect(error).toBeInstanceOf(InvalidPhoneNumberError);
    const invalid = error as InvalidPhoneNumberError;
    expect(invalid.input).toBe(input);
    expect(invalid.code).toBe("invalid_phone_number");
    expect(invalid.isRetryable).toBe(false);
    expect(invalid.message).toContain(JSON.stringify(input));
    expect(invalid.message).toContain(reason);
    expect(tryNormalizePhoneNumber(input)).toBeUndefined();
  });

  it("rejects non-string input at runtime without crashing", () => {
    const error = captureError(() => normalizePhoneNumber(15551234567 as unknown as string));
    expect(error).toBeInstanceOf(InvalidPhoneNumberError);
    expect((error as Error).message).toContain("not a string");
  });
});

describe("isEmailHandle", () => {
  it.each([
    ["alice@example.com", true],
    ["  Alice.Smith+linq@Example.co.uk ", true],
    ["+15551234567", false],
    ["5551234567", false],
    ["alice@", false],
    ["@example.com", false],
    ["alice@example", false],
    ["alice @example.com", false],
    ["", false],
    [`${"a".repeat(250)}@example.com`, false],
  ])("%j → %s", (value, expected) => {
    expect(isEmailHandle(value)).toBe(expected);
  });

  it("is false for non-strings", () => {
    expect(isEmailHandle(undefined as unknown as string)).toBe(false);
  });
});

describe("isSamePhoneNumber", () => {
  it("compares normalised forms", () => {
    expect(isSamePhoneNumber("(555) 123-4567", "+1 555 123 4567")).toBe(true);
    expect(isSamePhoneNumber("tel:+15551234567", "1-555-123-4567")).toBe(true);
    expect(isSamePhoneNumber("+15551234567", "+15551234568")).toBe(false);
    expect(isSamePhoneNumber("020 7946 0958", "+44 20 7946 0958", { defaultRegion: "GB" })).toBe(true);
    expect(isSamePhoneNumber("020 7946 0958", "+44 20 7946 0958")).toBe(false);
  });

  it("is false when either side is invalid or an email handle", () => {
    expect(isSamePhoneNumber("", "")).toBe(false);
    expect(isSamePhoneNumber("abc", "abc")).toBe(false);
    expect(isSamePhoneNumber("+15551234567", "abc")).toBe(false);
    expect(isSamePhoneNumber("alice@example.com", "alice@example.com")).toBe(false);
    expect(isSamePhoneNumber("alice@example.com", "+15551234567")).toBe(false);
  });
});

describe("formatPhoneNumberForDisplay", () => {
  it.each([
    ["+15551234567", "(555) 123-4567"],
    ["5551234567", "(555) 123-4567"],
    ["+14165550199", "(416) 555-0199"],
    ["+442079460958", "+44 20 7946 0958"],
    ["+33612345678", "+33 6 12 34 56 78"],
  ])("%j → %j", (input, expected) => {
    expect(formatPhoneNumberForDisplay(input)).toBe(expected);
  });

  it("uses the national format of the reader's region", () => {
    expect(formatPhoneNumberForDisplay("+442079460958", { region: "GB" })).toBe("020 7946 0958");
    expect(formatPhoneNumberForDisplay("+15551234567", { region: "GB" })).toBe("+1 555 123 4567");
  });

  it("returns email handles and unparseable input unchanged instead of throwing", () => {
    expect(formatPhoneNumberForDisplay(" alice@example.com ")).toBe("alice@example.com");
    expect(formatPhoneNumberForDisplay("not a number")).toBe("not a number");
    expect(formatPhoneNumberForDisplay("")).toBe("");
  });
});

describe("phoneNumberSearchVariants", () => {
  it("lists the ways a +1 number is typed, E.164 first, without duplicates", () => {
    const variants = phoneNumberSearchVariants("+15551234567");
    expect(variants[0]).toBe("+15551234567");
    expect(variants).toEqual(
      expect.arrayContaining([
        "+15551234567",
        "15551234567",
        "5551234567",
        "(555) 123-4567",
        "555-123-4567",
        "1-555-123-4567",
        "+1 555-123-4567",
        "+1 (555) 123-4567",
        "555.123.4567",
        "+1 555 123 4567",
      ]),
    );
    expect(new Set(variants).size).toBe(variants.length);
  });

  it("accepts any input format and gives the same variants", () => {
    expect(phoneNumberSearchVariants("(555) 123-4567")).toEqual(phoneNumberSearchVariants("+15551234567"));
  });

  it.each<[string, CountryCode]>([
    ["+442079460958", "GB"],
    ["+4930123456", "DE"],
    ["+33612345678", "FR"],
    ["+61412345678", "AU"],
  ])("lists international and national forms of %s, each normalising back in %s", (e164, region) => {
    const variants = phoneNumberSearchVariants(e164);
    expect(variants[0]).toBe(e164);
    expect(variants).toContain(e164.slice(1));
    expect(new Set(variants).size).toBe(variants.length);
    for (const variant of variants) {
      expect(normalizePhoneNumber(variant, { defaultRegion: region })).toBe(e164);
    }
  });

  it("gives GB numbers their usual national spellings", () => {
    expect(phoneNumberSearchVariants("+442079460958")).toEqual([
      "+442079460958",
      "442079460958",
      "+44 20 7946 0958",
      "020 7946 0958",
      "02079460958",
      "2079460958",
    ]);
  });

  it("returns an email handle as its only variant", () => {
    expect(phoneNumberSearchVariants(" alice@example.com ")).toEqual(["alice@example.com"]);
  });

  it("throws InvalidPhoneNumberError for anything else", () => {
    expect(() => phoneNumberSearchVariants("nope")).toThrow(InvalidPhoneNumberError);
  });
});

/** 10-digit NANP numbers: area code and exchange 2-9xx. */
const nanpNumber = fc
  .tuple(
    fc.integer({ min: 200, max: 999 }),
    fc.integer({ min: 200, max: 999 }),
    fc.integer({ min: 0, max: 9999 }),
  )
  .map(([area, exchange, line]) => `${area}${exchange}${String(line).padStart(4, "0")}`);

describe("properties", () => {
  it("every search variant of a US number normalises back to the same E.164", () => {
    fc.assert(
      fc.property(nanpNumber, (national) => {
        const e164 = `+1${national}`;
        const variants = phoneNumberSearchVariants(e164);
        expect(variants[0]).toBe(e164);
        expect(variants.length).toBeGreaterThanOrEqual(9);
        for (const variant of variants) {
          expect(normalizePhoneNumber(variant)).toBe(e164);
        }
      }),
    );
  });

  it("normalisation is idempotent", () => {
    fc.assert(
      fc.property(nanpNumber, (national) => {
        const once = normalizePhoneNumber(
          `(${national.slice(0, 3)}) ${national.slice(3, 6)}-${national.slice(6)}`,
        );
        expect(normalizePhoneNumber(once)).toBe(once);
      }),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), (input) => {
        const once = tryNormalizePhoneNumber(input);
        if (once !== undefined) expect(normalizePhoneNumber(once)).toBe(once);
      }),
    );
  });

  it("display format normalises back to the same number", () => {
    fc.assert(
      fc.property(nanpNumber, (national) => {
        const e164 = `+1${national}`;
        expect(normalizePhoneNumber(formatPhoneNumberForDisplay(e164))).toBe(e164);
      }),
    );
  });

  it("never throws anything but InvalidPhoneNumberError for arbitrary strings", () => {
    const phoneLike = fc
      .array(fc.constantFrom(..."+0123456789 ()-.xX#;=tel:@ａ１\u00a0"), { maxLength: 25 })
      .map((characters) => characters.join(""));
    // Separate runs rather than fc.oneof, whose generation is needlessly slow here.
    for (const strings of [fc.string(), fc.string({ unit: "binary" }), phoneLike]) {
      fc.assert(
        fc.property(strings, (input) => {
          let result: string | undefined;
          try {
            result = normalizePhoneNumber(input);
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidPhoneNumberError);
            expect((error as InvalidPhoneNumberError).input).toBe(input);
            return;
          }
          expect(result).toMatch(/^\+[1-9]\d{6,14}$/);
        }),
        { numRuns: 400 },
      );
    }
  });
});
