/**
 * Times and durations as the CLI accepts them: `7d`, `12h`, `30m`, `45s`, `2w` for durations, and for
 * dates an ISO 8601 date or time (`2025-01-31`, `2025-01-31T08:00:00Z`) or a duration meaning "that
 * long ago" (`30d`).
 */
import { UsageError } from "./command-context.ts";

const unitMilliseconds = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
} as const;

const durationPattern = /^(\d+)\s*([smhdw])$/;
const isoDatePattern = /^\d{4}-\d{2}-\d{2}$/;
const isoTimePattern = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?$/i;

/** Milliseconds of a duration such as `7d`; a UsageError naming `option` otherwise. */
export function parseDuration(value: string, option: string): number {
  const match = durationPattern.exec(value.trim().toLowerCase());
  const amount = match?.[1] === undefined ? Number.NaN : Number(match[1]);
  const unit = match?.[2] as keyof typeof unitMilliseconds | undefined;
  if (unit === undefined || !Number.isSafeInteger(amount) || amount <= 0) {
    throw new UsageError(
      `${option}: expected a duration such as 7d, 12h, 30m, 45s or 2w, got ${JSON.stringify(value)}`,
    );
  }
  return amount * unitMilliseconds[unit];
}

/** Whether `YYYY-MM-DD` names a day that exists (Date.parse rolls 2025-02-30 over to March). */
function isCalendarDate(text: string): boolean {
  const [year, month, day] = text.split("-").map(Number);
  if (year === undefined || month === undefined || day === undefined) return false;
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * A date: ISO 8601 (a date alone is midnight UTC; a time without an offset is UTC) or a duration ago.
 */
export function parseDateArgument(value: string, option: string, now: () => Date = () => new Date()): Date {
  const text = value.trim();
  if (durationPattern.test(text.toLowerCase()))
    return new Date(now().getTime() - parseDuration(text, option));
  let normalized: string | undefined;
  if (isoDatePattern.test(text)) normalized = `${text}T00:00:00Z`;
  else if (isoTimePattern.test(text)) {
    const withT = text.replace(" ", "T");
    normalized = /(Z|[+-]\d{2}(:?\d{2})?)$/i.test(withT) ? withT : `${withT}Z`;
  }
  const time =
    normalized === undefined || !isCalendarDate(text.slice(0, 10)) ? Number.NaN : Date.parse(normalized);
  if (Number.isNaN(time)) {
    throw new UsageError(
      `${option}: expected a date such as 2025-01-31 or 2025-01-31T08:00:00Z, or a time ago such as 30d, got ${JSON.stringify(value)}`,
    );
  }
  return new Date(time);
}
