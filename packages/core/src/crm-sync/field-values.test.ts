import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { phoneNumberSearchVariants } from "../phone/phone-number.ts";
import { contactIdentity, contactLockKey, sameContactIdentity } from "./contact-identity.ts";
import {
  comparableFieldValue,
  matchesEmailAddress,
  matchesPhoneNumber,
  normalizeEmailAddress,
  sameFieldValue,
} from "./field-values.ts";

describe("field values", () => {
  it("compares phone numbers by E.164, whatever the CRM stored", () => {
    expect(sameFieldValue("phone", "(555) 123-4567", "+15551234567")).toBe(true);
    expect(sameFieldValue("phone", "555.123.4567", "+1 555 123 4567")).toBe(true);
    expect(sameFieldValue("phone", "(555) 123-4567", "+15551234568")).toBe(false);
    expect(sameFieldValue("phone", "020 7946 0958", "+442079460958", { defaultRegion: "GB" })).toBe(true);
    // Unparseable values compare as typed (whitespace collapsed), never equal to a real number.
    expect(sameFieldValue("phone", "call  me", "call me")).toBe(true);
    expect(sameFieldValue("phone", "call me", "+15551234567")).toBe(false);
  });

  it("compares emails case-insensitively and text trimmed; empty is null is undefined", () => {
    expect(sameFieldValue("email", " Jane@Example.com", "jane@example.com")).toBe(true);
    expect(sameFieldValue("text", "Acme ", "Acme")).toBe(true);
    expect(sameFieldValue("text", "acme", "Acme")).toBe(false);
    expect(sameFieldValue("text", "", null)).toBe(true);
    expect(sameFieldValue("email", undefined, "  ")).toBe(true);
    expect(comparableFieldValue("phone", "  ")).toBe("");
    expect(normalizeEmailAddress("  ")).toBeUndefined();
  });

  it("matches every way a US number may be stored (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2_000_000_000, max: 9_899_999_999 }), (national) => {
        const e164 = `+1${national}`;
        for (const variant of phoneNumberSearchVariants(e164)) {
          expect(matchesPhoneNumber([null, variant], e164)).toBe(true);
          expect(sameFieldValue("phone", variant, e164)).toBe(true);
        }
        expect(matchesPhoneNumber(["not a number", undefined], e164)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it("matches emails among candidates", () => {
    expect(matchesEmailAddress([undefined, "JANE@example.com"], "jane@example.COM ")).toBe(true);
    expect(matchesEmailAddress(["john@example.com"], "jane@example.com")).toBe(false);
    expect(matchesEmailAddress(["x@example.com"], "  ")).toBe(false);
  });
});

describe("contact identity and lock keys", () => {
  it("prefers the E.164 phone number, then the email, then the fallback", () => {
    const both = contactIdentity({ phoneNumber: "(555) 123-4567", email: "Jane@Example.com" });
    expect(both).toEqual({ phoneNumber: "+15551234567", email: "jane@example.com" });
    expect(contactLockKey("hubspot-contact", both, "linq:1")).toBe("hubspot-contact:phone:+15551234567");
    const emailOnly = contactIdentity({ phoneNumber: "not a number", email: "jane@example.com" });
    expect(contactLockKey("hubspot-contact", emailOnly, "linq:1")).toBe(
      "hubspot-contact:email:jane@example.com",
    );
    expect(contactLockKey("hubspot-contact", contactIdentity({}), "linq:1")).toBe("hubspot-contact:linq:1");
  });

  it("treats an iMessage email handle as the email", () => {
    expect(contactIdentity({ phoneNumber: "Jane@iCloud.com" })).toEqual({ email: "jane@icloud.com" });
  });

  it("gives every way of writing the same number the same lock key (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2_000_000_000, max: 9_899_999_999 }),
        fc.boolean(),
        (national, withEmail) => {
          const e164 = `+1${national}`;
          const keys = new Set(
            phoneNumberSearchVariants(e164).map((variant) =>
              contactLockKey(
                "crm",
                contactIdentity({ phoneNumber: variant, email: withEmail ? "a@example.com" : null }),
                "x",
              ),
            ),
          );
          expect([...keys]).toEqual([`crm:phone:${e164}`]);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("says whether two identities are the same person", () => {
    expect(sameContactIdentity({ phoneNumber: "+15551234567" }, { phoneNumber: "+15551234567" })).toBe(true);
    expect(
      sameContactIdentity(
        { phoneNumber: "+15551234567", email: "a@example.com" },
        { phoneNumber: "+15551234568", email: "a@example.com" },
      ),
    ).toBe(false);
    expect(
      sameContactIdentity({ email: "a@example.com" }, { phoneNumber: "+1", email: "a@example.com" }),
    ).toBe(true);
    expect(sameContactIdentity({}, {})).toBe(false);
  });
});
