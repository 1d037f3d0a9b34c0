import { describe, expect, it } from "vitest";
import { isEmailAddress, normalizeChatAddress, normalizeLenientPhoneNumber } from "./simulator-addresses.ts";

describe("simulator address normalisation (Linq's rules)", () => {
  it("accepts +E.164 and 10-digit US numbers for chats, assuming +1", () => {
    expect(normalizeChatAddress("+12223334444")).toBe("+12223334444");
    expect(normalizeChatAddress("2223334444")).toBe("+12223334444");
    expect(normalizeChatAddress("12223334444")).toBe("+12223334444");
    expect(normalizeChatAddress("+447700900123")).toBe("+447700900123");
    expect(normalizeChatAddress("+15550001111")).toBe("+15550001111");
  });

  it("rejects formatted or malformed numbers for chats", () => {
    for (const input of ["555-123-4567", "(555) 123-4567", "12345", "+1222333444", "+0123456789", "abc"]) {
      expect(normalizeChatAddress(input), input).toBeUndefined();
    }
  });

  it("accepts email handles for chats (lower-cased)", () => {
    expect(normalizeChatAddress("John@Example.com")).toBe("john@example.com");
    expect(isEmailAddress("john@example.com")).toBe(true);
    expect(isEmailAddress("john@example")).toBe(false);
  });

  it("accepts common formats for contacts", () => {
    expect(normalizeLenientPhoneNumber("(555) 123-4567")).toBe("+15551234567");
    expect(normalizeLenientPhoneNumber("555.123.4567")).toBe("+15551234567");
    expect(normalizeLenientPhoneNumber("+1 555 123 4567")).toBe("+15551234567");
    expect(normalizeLenientPhoneNumber("call me")).toBeUndefined();
  });
});
