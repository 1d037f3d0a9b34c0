import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normalizeLinqTimestamp, parseLinqTimestamp } from "./timestamps.ts";

describe("parseLinqTimestamp", () => {
  it.each([
    ["2025-05-21T15:30:00-06:00", "2025-05-21T21:30:00.000Z"],
    ["2025-05-21T21:30:00Z", "2025-05-21T21:30:00.000Z"],
    ["2025-05-21T21:30:00z", "2025-05-21T21:30:00.000Z"],
    ["2025-10-22T10:31:00.123Z", "2025-10-22T10:31:00.123Z"],
    ["2025-10-22T10:31:00.123456789+02:00", "2025-10-22T08:31:00.123Z"],
    ["2025-10-22T10:31:00.5Z", "2025-10-22T10:31:00.500Z"],
    ["2025-05-21 15:30:00 -0600", "2025-05-21T21:30:00.000Z"],
    ["2025-05-21 15:30:00 +0530", "2025-05-21T10:00:00.000Z"],
    ["2025-05-21 15:30:00 UTC", "2025-05-21T15:30:00.000Z"],
    ["2025-05-21 15:30:00-06:00", "2025-05-21T21:30:00.000Z"],
    ["2025-05-21T15:30+01", "2025-05-21T14:30:00.000Z"],
    ["  2025-05-21T15:30:00Z \n", "2025-05-21T15:30:00.000Z"],
    ["2024-02-29T00:00:00Z", "2024-02-29T00:00:00.000Z"],
    ["2025-01-01 00:30:00 +0100", "2024-12-31T23:30:00.000Z"],
    ["0099-01-01T00:00:00Z", "0099-01-01T00:00:00.000Z"],
  ])("parses %j", (input, expected) => {
    expect(parseLinqTimestamp(input)?.toISOString()).toBe(expected);
    expect(normalizeLinqTimestamp(input)).toBe(expected);
  });

  it.each([
    "",
    "yesterday",
    "2025-05-21",
    "2025-05-21T15:30:00",
    "2025-05-21 15:30:00",
    "2025-13-01T00:00:00Z",
    "2025-02-29T00:00:00Z",
    "2025-04-31T00:00:00Z",
    "2025-05-21T24:00:00Z",
    "2025-05-21T23:60:00Z",
    "2025-05-21T23:59:60Z",
    "2025-05-21T15:30:00+2400",
    "2025-05-21T15:30:00+01:60",
    "2025-05-21T15:30:00 EST",
    "1747863000",
    "2025-05-21T15:30:00Z garbage",
  ])("rejects %j", (input) => {
    expect(parseLinqTimestamp(input)).toBeUndefined();
    expect(normalizeLinqTimestamp(input)).toBeUndefined();
  });

  it("rejects non-strings without throwing", () => {
    expect(parseLinqTimestamp(1_747_863_000 as never)).toBeUndefined();
    expect(parseLinqTimestamp(null as never)).toBeUndefined();
  });

  it("round-trips every ISO string and agrees with Ruby's Time#to_s form", () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date("1970-01-01T00:00:00Z"),
          max: new Date("2199-12-31T23:59:59Z"),
          noInvalidDate: true,
        }),
        fc.integer({ min: -12 * 60, max: 14 * 60 }),
        (date, offsetMinutes) => {
          expect(normalizeLinqTimestamp(date.toISOString())).toBe(date.toISOString());
          const local = new Date(date.getTime() + offsetMinutes * 60_000);
          const pad = (value: number, length = 2) => String(Math.abs(value)).padStart(length, "0");
          const sign = offsetMinutes < 0 ? "-" : "+";
          const rubyForm = `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())} ${pad(
            local.getUTCHours(),
          )}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())} ${sign}${pad(Math.trunc(offsetMinutes / 60))}${pad(
            offsetMinutes % 60,
          )}`;
          const expected = new Date(Math.floor(date.getTime() / 1000) * 1000).toISOString();
          expect(normalizeLinqTimestamp(rubyForm)).toBe(expected);
        },
      ),
    );
  });
});
