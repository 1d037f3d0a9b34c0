/**
 * Comparing contact field values the way two systems that store them differently agree on them.
 *
 * A CRM keeps what people typed ("(555) 123-4567", "Jane@Example.com ", "  Acme"); Linq keeps E.164
 * numbers and trimmed text. Two values are the same when they are equal after normalisation:
 * phone numbers by E.164 (as typed when they cannot be parsed), emails case-insensitively, text
 * trimmed. An empty string, null and undefined are all "no value".
 */
import { type PhoneNumberOptions, tryNormalizePhoneNumber } from "../phone/phone-number.ts";

/** How a field's values compare. */
export type ContactFieldKind = "text" | "email" | "phone";

/** A field value as either side reports it: empty strings, null and undefined mean "no value". */
export type ContactFieldValue = string | null | undefined;

/** Trimmed and lower-cased; undefined when empty. */
export function normalizeEmailAddress(value: ContactFieldValue): string | undefined {
  if (typeof value !== "string") return undefined;
  const trimmed = value.trim().toLowerCase();
  return trimmed === "" ? undefined : trimmed;
}

/**
 * The comparable form of a value: "" for no value, E.164 for a phone number that parses (the
 * trimmed input with whitespace collapsed otherwise), lower case for an email, trimmed text else.
 */
export function comparableFieldValue(
  kind: ContactFieldKind,
  value: ContactFieldValue,
  options: PhoneNumberOptions = {},
): string {
  if (typeof value !== "string") return "";
  const trimmed = value.trim();
  if (trimmed === "") return "";
  if (kind === "email") return trimmed.toLowerCase();
  if (kind === "phone") return tryNormalizePhoneNumber(trimmed, options) ?? trimmed.replace(/\s+/g, " ");
  return trimmed;
}

/** Whether two values of a field are the same once normalised (see {@link comparableFieldValue}). */
export function sameFieldValue(
  kind: ContactFieldKind,
  left: ContactFieldValue,
  right: ContactFieldValue,
  options: PhoneNumberOptions = {},
): boolean {
  return comparableFieldValue(kind, left, options) === comparableFieldValue(kind, right, options);
}

/** Whether `value` holds something (not empty once trimmed). */
export function hasFieldValue(value: ContactFieldValue): value is string {
  return typeof value === "string" && value.trim() !== "";
}

/**
 * Whether any of `candidates` (phone numbers as a CRM stores them) is the E.164 number `e164`.
 * Candidates that cannot be parsed never match.
 */
export function matchesPhoneNumber(
  candidates: readonly ContactFieldValue[],
  e164: string,
  options: PhoneNumberOptions = {},
): boolean {
  const wanted = tryNormalizePhoneNumber(e164, options);
  if (wanted === undefined) return false;
  return candidates.some(
    (candidate) => hasFieldValue(candidate) && tryNormalizePhoneNumber(candidate, options) === wanted,
  );
}

/** Whether any of `candidates` is the email address `email` (case-insensitively). */
export function matchesEmailAddress(candidates: readonly ContactFieldValue[], email: string): boolean {
  const wanted = normalizeEmailAddress(email);
  if (wanted === undefined) return false;
  return candidates.some((candidate) => normalizeEmailAddress(candidate) === wanted);
}
