/**
 * Property values: how HubSpot checks and stores each property type. Every value is stored as a
 * string; an empty string clears the property. Phone numbers are stored as typed.
 */
import type { PropertyIssue } from "./simulator-errors.ts";
import type { HubSpotSimulatorProperty } from "./simulator-types.ts";

/** A checked value: the string to store (null clears the property), or why it was refused. */
export type CheckedValue = { ok: true; value: string | null } | { ok: false; issue: PropertyIssue };

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const EPOCH_MILLIS = /^-?\d{1,15}$/;
const ISO_DATE_TIME =
  /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:?\d{2})?)?$/;
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Java `Instant.toString()` at millisecond precision (no fraction when the milliseconds are zero), as HubSpot renders times. */
export function formatInstant(milliseconds: number): string {
  const iso = new Date(milliseconds).toISOString();
  return iso.endsWith(".000Z") ? `${iso.slice(0, -5)}Z` : iso;
}

/** Epoch milliseconds of an ISO 8601 time (a value without offset is UTC; a bare date is midnight UTC) or of a millisecond string. */
export function parseTime(value: string): number | undefined {
  const trimmed = value.trim();
  if (EPOCH_MILLIS.test(trimmed)) return Number(trimmed);
  if (!ISO_DATE_TIME.test(trimmed)) return undefined;
  let normalised = trimmed.replace(" ", "T");
  if (normalised.length > 10 && !/(?:[Zz]|[+-]\d{2}:?\d{2})$/.test(normalised)) normalised += "Z";
  const parsed = Date.parse(normalised.length === 10 ? `${normalised}T00:00:00Z` : normalised);
  return Number.isNaN(parsed) ? undefined : parsed;
}

/** HubSpot's text for the options of an enumeration (as its INVALID_OPTION messages print them). */
function optionsText(definition: HubSpotSimulatorProperty): string {
  const items = definition.options.map(
    (option) =>
      `label: "${option.label}"\nvalue: "${option.value}"\ndisplay_order: ${option.displayOrder}\nhidden: ${option.hidden}\nread_only: false\n`,
  );
  return `[${items.join(", ")}]`;
}

function refuse(
  definition: HubSpotSimulatorProperty,
  value: string,
  code: string,
  message: string,
): CheckedValue {
  return { ok: false, issue: { name: definition.name, value, code, message } };
}

/**
 * Checks and normalises one value for `definition`. `ownerIds` are the valid `hubspot_owner_id`
 * values. Datetimes are stored as ISO instants, dates as `YYYY-MM-DD`, booleans lower-case.
 */
export function checkPropertyValue(
  definition: HubSpotSimulatorProperty,
  value: string,
  ownerIds: ReadonlySet<string>,
): CheckedValue {
  if (definition.modificationMetadata.readOnlyValue) {
    return refuse(
      definition,
      value,
      "READ_ONLY_VALUE",
      `"${definition.name}" is a read only property; its value cannot be set.`,
    );
  }
  if (value === "") return { ok: true, value: null };
  switch (definition.type) {
    case "number": {
      const trimmed = value.trim();
      if (!DECIMAL.test(trimmed) || !Number.isFinite(Number(trimmed))) {
        return refuse(definition, value, "INVALID_DOUBLE", `${value} was not a valid double.`);
      }
      return { ok: true, value: trimmed };
    }
    case "datetime": {
      const time = parseTime(value);
      if (time === undefined) {
        return refuse(definition, value, "INVALID_LONG", `${value} was not a valid long.`);
      }
      return { ok: true, value: formatInstant(time) };
    }
    case "date": {
      const time = parseTime(value);
      if (time === undefined)
        return refuse(definition, value, "INVALID_DATE", `${value} was not a valid date.`);
      if (time % 86_400_000 !== 0) {
        return refuse(
          definition,
          value,
          "INVALID_DATE",
          `${value} is at ${formatInstant(time)} UTC but date values must be at midnight UTC`,
        );
      }
      return { ok: true, value: formatInstant(time).slice(0, 10) };
    }
    case "bool": {
      const lower = value.trim().toLowerCase();
      if (lower !== "true" && lower !== "false") {
        return refuse(definition, value, "INVALID_BOOLEAN", `${value} was not a valid boolean.`);
      }
      return { ok: true, value: lower };
    }
    case "enumeration": {
      if (definition.name === "hubspot_owner_id") {
        if (!ownerIds.has(value.trim())) {
          return refuse(definition, value, "INVALID_OWNER_ID", `${value} is not a valid owner id`);
        }
        return { ok: true, value: value.trim() };
      }
      const allowed = new Set(definition.options.map((option) => option.value));
      const parts = definition.fieldType === "checkbox" ? value.split(";") : [value];
      const invalid = parts.find((part) => !allowed.has(part));
      if (invalid !== undefined) {
        return refuse(
          definition,
          value,
          "INVALID_OPTION",
          `${invalid} was not one of the allowed options: ${optionsText(definition)}`,
        );
      }
      return { ok: true, value };
    }
    default: {
      if (definition.name === "email" && !EMAIL.test(value.trim())) {
        return refuse(definition, value, "INVALID_EMAIL", `Email address ${value} is invalid`);
      }
      return { ok: true, value };
    }
  }
}

/** The text of a JSON property value (numbers and booleans as HubSpot's binder reads them), or undefined when it is not a scalar. */
export function propertyValueText(value: unknown): string | null | undefined {
  if (value === null) return null;
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  return undefined;
}
