/**
 * Linq timestamps come in two forms: ISO 8601 in REST responses and webhook
 * envelopes ("2025-05-21T15:30:00-06:00") and Ruby's `Time#to_s` form inside
 * webhook data ("2025-05-21 15:30:00 -0600", or "... UTC" for UTC times).
 */

const TIMESTAMP_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)? ?(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$/i;

const MILLISECONDS_PER_MINUTE = 60_000;

/**
 * Parses a Linq timestamp into a `Date`, or returns undefined when the value is
 * not a valid timestamp with a time zone.
 *
 * Accepted: ISO 8601 date-times with a `T` or a space between date and time,
 * optional seconds and fractional seconds, and a zone of `Z`, `UTC`, `GMT`,
 * `±HH`, `±HHMM` or `±HH:MM` (optionally separated from the time by one space):
 * "2025-05-21T15:30:00-06:00", "2025-05-21T21:30:00.123Z",
 * "2025-05-21 15:30:00 -0600", "2025-05-21 21:30:00 UTC".
 * Times without a zone are rejected: they would depend on the server's time zone.
 */
export function parseLinqTimestamp(value: string): Date | undefined {
  if (typeof value !== "string") return undefined;
  const match = TIMESTAMP_PATTERN.exec(value.trim());
  if (match === null) return undefined;
  const [, yearText, monthText, dayText, hourText, minuteText, secondText, fractionText, zoneText] = match;
  const year = Number(yearText);
  const month = Number(monthText);
  const day = Number(dayText);
  const hour = Number(hourText);
  const minute = Number(minuteText);
  const second = secondText === undefined ? 0 : Number(secondText);
  const millisecond = fractionText === undefined ? 0 : Number(fractionText.slice(0, 3).padEnd(3, "0"));

  if (month < 1 || month > 12) return undefined;
  if (day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;

  const offsetMinutes = parseZoneOffset(zoneText ?? "");
  if (offsetMinutes === undefined) return undefined;

  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0–99 to 1900–1999.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millisecond);
  const time = date.getTime() - offsetMinutes * MILLISECONDS_PER_MINUTE;
  return Number.isNaN(time) ? undefined : new Date(time);
}

/**
 * Converts a Linq timestamp (either form) to ISO 8601 in UTC
 * (`Date.prototype.toISOString`, e.g. "2025-05-21T21:30:00.000Z"), or returns
 * undefined when it cannot be parsed.
 */
export function normalizeLinqTimestamp(value: string): string | undefined {
  return parseLinqTimestamp(value)?.toISOString();
}

/** The zone's offset from UTC in minutes (east positive), or undefined when invalid. */
function parseZoneOffset(zone: string): number | undefined {
  const upper = zone.toUpperCase();
  if (upper === "Z" || upper === "UTC" || upper === "GMT") return 0;
  const sign = zone.startsWith("-") ? -1 : 1;
  const digits = zone.slice(1).replace(":", "");
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
  if (hours > 23 || minutes > 59) return undefined;
  return sign * (hours * 60 + minutes);
}

function daysInMonth(year: number, month: number): number {
  const isLeapYear = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const lengths = [31, isLeapYear ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return lengths[month - 1] ?? 0;
}
