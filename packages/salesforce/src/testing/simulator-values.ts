/**
 * Field values: how Salesforce deserializes what clients send (JSON bodies and
 * Bulk API CSV cells) into typed values, and how it renders them back.
 *
 * Stored forms: text as given (phone numbers are never normalised), booleans,
 * numbers, dates as `YYYY-MM-DD`, date-times as `YYYY-MM-DDTHH:mm:ss.000+0000`
 * (UTC, whole seconds, as Salesforce stores them), ids in their 18-character form.
 */
import { SalesforceRecordError } from "./simulator-errors.ts";
import { normalizeId } from "./simulator-ids.ts";
import type { FieldDefinition } from "./simulator-schema.ts";

export type StoredValue = string | number | boolean | null;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/;
const EMAIL =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

/** `2026-01-02T03:04:05.000+0000`, truncated to the second. */
export function formatDateTime(date: Date | number): string {
  const milliseconds = typeof date === "number" ? date : date.getTime();
  const iso = new Date(Math.floor(milliseconds / 1000) * 1000).toISOString();
  return `${iso.slice(0, 19)}.000+0000`;
}

/** Milliseconds of a stored or client date-time (`Z`, `+0000`, `+00:00` offsets; seconds and fractions optional), or undefined. */
export function parseDateTime(value: string): number | undefined {
  const match = DATE_TIME.exec(value);
  if (match === null) return undefined;
  const [, year, month, day, hour, minute, second = "00", fraction = "0", zone = "Z"] = match;
  if (!validCalendarDate(Number(year), Number(month), Number(day))) return undefined;
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) return undefined;
  let offsetMinutes = 0;
  if (zone !== "Z") {
    const digits = zone.replace(":", "");
    const sign = digits.startsWith("-") ? -1 : 1;
    offsetMinutes = sign * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5)));
  }
  const utc = Date.UTC(
    Number(year),
    Number(month) - 1,
    Number(day),
    Number(hour),
    Number(minute),
    Number(second),
  );
  return utc + Math.round(Number(`0.${fraction}`) * 1000) - offsetMinutes * 60_000;
}

/** Whether a string is a valid `YYYY-MM-DD` date. */
export function isDate(value: string): boolean {
  const match = DATE.exec(value);
  return match !== null && validCalendarDate(Number(match[1]), Number(match[2]), Number(match[3]));
}

/** Midnight UTC of a `YYYY-MM-DD` date, in milliseconds. */
export function dateToMilliseconds(value: string): number {
  return Date.parse(`${value}T00:00:00Z`);
}

function validCalendarDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export function isEmail(value: string): boolean {
  return value.length <= 320 && EMAIL.test(value);
}

function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return "START_ARRAY value [";
  if (value !== null && typeof value === "object") return "START_OBJECT value {";
  if (typeof value === "string") return `VALUE_STRING value ${value}`;
  if (typeof value === "boolean") return `VALUE_${value ? "TRUE" : "FALSE"} value ${value}`;
  return `VALUE_NUMBER_INT value ${String(value)}`;
}

function cannotDeserialize(typeName: string, value: unknown): SalesforceRecordError {
  return new SalesforceRecordError(
    "JSON_PARSER_ERROR",
    `Cannot deserialize instance of ${typeName} from ${jsonKind(value)} or request may be missing a required field`,
  );
}

/**
 * Deserializes a client value for a field. `source` is `json` for REST bodies
 * (typed JSON values) and `csv` for Bulk API cells (text; `#N/A` means null and is
 * handled by the caller). Throws a {@link SalesforceRecordError} shaped like Salesforce's.
 */
export function coerceValue(definition: FieldDefinition, raw: unknown, source: "json" | "csv"): StoredValue {
  if (raw === null || raw === undefined) return null;
  switch (definition.type) {
    case "boolean": {
      if (typeof raw === "boolean") return raw;
      if (source === "csv" && typeof raw === "string") {
        const lowered = raw.trim().toLowerCase();
        if (lowered === "true" || lowered === "1" || lowered === "yes") return true;
        if (lowered === "false" || lowered === "0" || lowered === "no") return false;
      }
      throw cannotDeserialize("boolean", raw);
    }
    case "int":
    case "double":
    case "currency": {
      const number =
        typeof raw === "number"
          ? raw
          : typeof raw === "string" && raw.trim() !== ""
            ? Number(raw)
            : Number.NaN;
      if (!Number.isFinite(number))
        throw cannotDeserialize(definition.type === "int" ? "int" : "double", raw);
      if (definition.type === "int" && !Number.isInteger(number)) throw cannotDeserialize("int", raw);
      return definition.scale > 0
        ? Math.round(number * 10 ** definition.scale) / 10 ** definition.scale
        : number;
    }
    case "date": {
      if (typeof raw !== "string" || !isDate(raw)) throw cannotDeserialize("date", raw);
      return raw;
    }
    case "datetime": {
      if (typeof raw !== "string") throw cannotDeserialize("datetime", raw);
      const milliseconds = isDate(raw) ? dateToMilliseconds(raw) : parseDateTime(raw);
      if (milliseconds === undefined) throw cannotDeserialize("datetime", raw);
      return formatDateTime(milliseconds);
    }
    case "id":
    case "reference": {
      if (typeof raw !== "string") throw cannotDeserialize("id", raw);
      if (raw === "") return null;
      const id = normalizeId(raw);
      if (id === undefined) {
        throw new SalesforceRecordError(
          "MALFORMED_ID",
          `${definition.label}: id value of incorrect type: ${raw}`,
          [definition.name],
        );
      }
      return id;
    }
    default: {
      if (typeof raw === "object") throw cannotDeserialize("string", raw);
      const text = typeof raw === "string" ? raw : String(raw);
      if (source === "csv" && text === "") return null;
      if (text.length > definition.length && definition.length > 0) {
        throw new SalesforceRecordError(
          "STRING_TOO_LONG",
          `${definition.label}: data value too large: ${text.slice(0, 200)} (max length=${definition.length})`,
          [definition.name],
        );
      }
      if (definition.type === "email" && text !== "" && !isEmail(text)) {
        throw new SalesforceRecordError(
          "INVALID_EMAIL_ADDRESS",
          `${definition.label}: invalid email address: ${text}`,
          [definition.name],
        );
      }
      return text === "" && definition.type !== "string" && definition.type !== "textarea" ? null : text;
    }
  }
}

/** Whether two stored values are equal the way Salesforce compares text (case-insensitively). */
export function sameValue(left: StoredValue, right: StoredValue): boolean {
  if (typeof left === "string" && typeof right === "string")
    return left.toLowerCase() === right.toLowerCase();
  return left === right;
}
