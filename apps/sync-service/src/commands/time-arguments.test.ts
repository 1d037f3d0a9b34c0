import { describe, expect, it } from "vitest";
import { UsageError } from "./command-context.ts";
import { parseDateArgument, parseDuration } from "./time-arguments.ts";

describe("CLI durations and dates", () => {
  it("parses durations in seconds, minutes, hours, days and weeks", () => {
    expect(parseDuration("45s", "--x")).toBe(45_000);
    expect(parseDuration("30m", "--x")).toBe(1_800_000);
    expect(parseDuration("12h", "--x")).toBe(43_200_000);
    expect(parseDuration("7d", "--x")).toBe(604_800_000);
    expect(parseDuration("2W", "--x")).toBe(1_209_600_000);
  });

  it("refuses other durations with a usage error naming the option", () => {
    for (const value of ["", "7", "d", "0d", "-1d", "1.5h", "7 days", "1y"]) {
      expect(() => parseDuration(value, "--older-than")).toThrow(UsageError);
      expect(() => parseDuration(value, "--older-than")).toThrow(/--older-than: expected a duration/);
    }
  });

  it("parses ISO dates (UTC midnight), times (UTC without offset) and durations ago", () => {
    const now = () => new Date("2025-03-10T12:00:00Z");
    expect(parseDateArgument("2025-01-31", "--since").toISOString()).toBe("2025-01-31T00:00:00.000Z");
    expect(parseDateArgument("2025-01-31T08:30:00Z", "--since").toISOString()).toBe(
      "2025-01-31T08:30:00.000Z",
    );
    expect(parseDateArgument("2025-01-31T08:30", "--since").toISOString()).toBe("2025-01-31T08:30:00.000Z");
    expect(parseDateArgument("2025-01-31 08:30:00+02:00", "--since").toISOString()).toBe(
      "2025-01-31T06:30:00.000Z",
    );
    expect(parseDateArgument("3d", "--since", now).toISOString()).toBe("2025-03-07T12:00:00.000Z");
  });

  it("refuses dates it cannot read", () => {
    for (const value of ["yesterday", "31/01/2025", "2025-13-01", "2025-02-30T00:00:00Z", ""]) {
      expect(() => parseDateArgument(value, "--until")).toThrow(/--until: expected a date/);
    }
  });
});
