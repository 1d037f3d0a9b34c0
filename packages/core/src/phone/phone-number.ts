/**
 * Phone number normalisation for linq-connect.
 *
 * Every phone number that crosses a boundary (Linq, Slack, a CRM) is normalised to
 * E.164 ("+15551234567") first, and CRM records are matched on that form.
 *
 * Acceptance rules (deliberate decisions, see the JSDoc of {@link normalizePhoneNumber}):
 * - A number is accepted when it is *possible* (its length fits its country's numbering
 *   plan), not only when it is *valid* (assigned to a known range). The Linq documentation
 *   and every test use fictional +1 555 numbers, and real but newly assigned ranges
 *   (for example the +1 222 area code the Linq notes use) are reported invalid by the
 *   metadata, so strict validity would reject numbers people really message.
 * - For the North American Numbering Plan (+1) the area code must start with 2–9: no
 *   area code starts with 0 or 1. (The exchange code is not checked although real ones
 *   also start with 2–9: the Linq docs and tests use +1 555 123 4567.)
 * - Extensions are rejected: an extension cannot receive an iMessage, RCS or SMS.
 * - Letters (vanity numbers such as 1-800-FLOWERS) and surrounding text are rejected.
 */
import {
  type CountryCode,
  getCountryCallingCode,
  isSupportedCountry,
  ParseError,
  type PhoneNumber,
  parsePhoneNumberWithError,
  type ValidatePhoneNumberLengthResult,
  validatePhoneNumberLength,
} from "libphonenumber-js/max";
import { ConfigurationError, InvalidPhoneNumberError } from "../errors.ts";

export type { CountryCode } from "libphonenumber-js/max";

/** Options shared by the phone number helpers. */
export interface PhoneNumberOptions {
  /**
   * The region assumed for numbers written without a country calling code, such as
   * "(555) 123-4567". Defaults to "US" (Linq itself assumes +1).
   */
  defaultRegion?: CountryCode;
}

/** Options for {@link formatPhoneNumberForDisplay}. */
export interface DisplayPhoneNumberOptions {
  /**
   * The region of the people reading the number. Numbers that share this region's
   * country calling code are shown in national format, all others in international
   * format. Defaults to "US".
   */
  region?: CountryCode;
}

const DEFAULT_REGION: CountryCode = "US";

/** The longest input worth parsing; E.164 numbers have at most 15 digits. */
const MAX_INPUT_LENGTH = 250;

/** Whitespace and invisible direction marks that copy-pasted numbers often carry around them. */
const SURROUNDING_NOISE =
  /^[\s\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]+|[\s\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]+$/g;

/** An RFC 3966 `tel:` URI prefix. */
const TEL_URI_PREFIX = /^tel:/i;

/** "(+44) 20 …" → "+44 20 …": a calling code written in parentheses. */
const PARENTHESISED_CALLING_CODE = /^\(\s*\+\s*(\d{1,3})\s*\)/;

/** NANP: the area code starts with 2–9 (the exchange is not checked, see the module comment). */
const NANP_NATIONAL_NUMBER = /^[2-9]\d{9}$/;

const EMAIL_HANDLE = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;

/**
 * Whether a Linq chat handle is an email address rather than a phone number
 * (iMessage handles can be Apple ID emails). Surrounding whitespace is ignored.
 */
export function isEmailHandle(value: string): boolean {
  if (typeof value !== "string") return false;
  const trimmed = value.trim();
  return trimmed.length <= 254 && EMAIL_HANDLE.test(trimmed);
}

/**
 * Normalises a phone number to E.164 ("+15551234567").
 *
 * Accepts the usual ways people and CRMs write numbers: "+15551234567", "5551234567",
 * "(555) 123-4567", "555-123-4567", "555.123.4567", "+1 555 123 4567", "1-555-123-4567",
 * "tel:+1-555-123-4567", "+44 20 7946 0958", "(+44) 20 7946 0958", "0044 20 7946 0958",
 * "011 44 20 7946 0958" and full-width digits. Numbers without a country calling code are
 * read in `options.defaultRegion` (default "US").
 *
 * Acceptance is length-based (libphonenumber's `isPossible()`) plus the NANP rule that area
 * codes start with 2–9, not `isValid()`: fictional +1 555 numbers used by the
 * Linq docs and tests, and newly assigned ranges, must be accepted.
 *
 * @throws InvalidPhoneNumberError naming the input and the reason: empty, an email address,
 *   not a number (letters or other text), an invalid country calling code, too short,
 *   too long, an extension (extensions cannot receive messages) or an North American number whose area code starts with 0 or 1.
 * @throws ConfigurationError when `options.defaultRegion` is not a supported region.
 */
export function normalizePhoneNumber(input: string, options: PhoneNumberOptions = {}): string {
  return parsePossiblePhoneNumber(input, resolveRegion(options.defaultRegion)).number;
}

/**
 * Like {@link normalizePhoneNumber} but returns undefined instead of throwing for a number
 * that cannot be normalised. A bad `defaultRegion` still throws ConfigurationError.
 */
export function tryNormalizePhoneNumber(input: string, options: PhoneNumberOptions = {}): string | undefined {
  const region = resolveRegion(options.defaultRegion);
  try {
    return parsePossiblePhoneNumber(input, region).number;
  } catch (error) {
    if (error instanceof InvalidPhoneNumberError) return undefined;
    throw error;
  }
}

/**
 * Whether two inputs are the same phone number once normalised to E.164.
 * False when either cannot be normalised (including email handles).
 */
export function isSamePhoneNumber(a: string, b: string, options: PhoneNumberOptions = {}): boolean {
  const first = tryNormalizePhoneNumber(a, options);
  if (first === undefined) return false;
  return first === tryNormalizePhoneNumber(b, options);
}

/**
 * Formats a phone number for people to read: national format when it shares the reader's
 * country calling code (`options.region`, default "US"), international format otherwise.
 * "+15551234567" → "(555) 123-4567"; "+442079460958" → "+44 20 7946 0958".
 *
 * Input without a country calling code is read in `options.region`.
 *
 * Display must never break a message, so an email handle or anything else that cannot be
 * normalised is returned unchanged (trimmed).
 *
 * @throws ConfigurationError when `options.region` is not a supported region.
 */
export function formatPhoneNumberForDisplay(
  phoneNumber: string,
  options: DisplayPhoneNumberOptions = {},
): string {
  const region = resolveRegion(options.region);
  let parsed: PhoneNumber;
  try {
    parsed = parsePossiblePhoneNumber(phoneNumber, region);
  } catch (error) {
    if (error instanceof InvalidPhoneNumberError)
      return typeof phoneNumber === "string" ? phoneNumber.trim() : "";
    throw error;
  }
  return parsed.countryCallingCode === getCountryCallingCode(region)
    ? parsed.formatNational()
    : parsed.formatInternational();
}

/**
 * The distinct ways a CRM might store a phone number as someone typed it, for searching
 * CRM records by phone. E.164 comes first. For a +1 number ("+15551234567"):
 * "+15551234567", "15551234567", "5551234567", "(555) 123-4567", "555-123-4567",
 * "555.123.4567", "555 123 4567", "1-555-123-4567", "1 (555) 123-4567", "+1 555-123-4567",
 * "+1 (555) 123-4567", "+1 555 123 4567", "+1-555-123-4567".
 * For other countries: E.164, its digits, the international and national formats and the
 * national digits (with and without the national prefix).
 *
 * An email handle yields just itself (trimmed), so callers can pass any chat handle.
 *
 * @throws InvalidPhoneNumberError when the input is neither a phone number nor an email.
 * @throws ConfigurationError when `options.defaultRegion` is not a supported region.
 */
export function phoneNumberSearchVariants(phoneNumber: string, options: PhoneNumberOptions = {}): string[] {
  if (isEmailHandle(phoneNumber)) return [phoneNumber.trim()];
  const parsed = parsePossiblePhoneNumber(phoneNumber, resolveRegion(options.defaultRegion));
  const e164 = parsed.number;
  const variants: string[] = [e164, e164.slice(1)];
  if (parsed.countryCallingCode === "1") {
    const national = parsed.nationalNumber;
    const area = national.slice(0, 3);
    const exchange = national.slice(3, 6);
    const line = national.slice(6);
    variants.push(
      national,
      `(${area}) ${exchange}-${line}`,
      `${area}-${exchange}-${line}`,
      `${area}.${exchange}.${line}`,
      `${area} ${exchange} ${line}`,
      `1-${area}-${exchange}-${line}`,
      `1 (${area}) ${exchange}-${line}`,
      `+1 ${area}-${exchange}-${line}`,
      `+1 (${area}) ${exchange}-${line}`,
      `+1 ${area} ${exchange} ${line}`,
      `+1-${area}-${exchange}-${line}`,
    );
  } else {
    const nationalFormat = parsed.formatNational();
    variants.push(
      parsed.formatInternational(),
      nationalFormat,
      nationalFormat.replace(/\D/g, ""),
      parsed.nationalNumber,
    );
  }
  return [...new Set(variants)];
}

function resolveRegion(region: CountryCode | undefined): CountryCode {
  if (region === undefined) return DEFAULT_REGION;
  if (typeof region !== "string" || !isSupportedCountry(region)) {
    throw new ConfigurationError(`Unsupported phone number region ${JSON.stringify(region)}`);
  }
  return region;
}

/** Parses and checks a number, throwing InvalidPhoneNumberError with a precise reason. */
function parsePossiblePhoneNumber(input: string, region: CountryCode): PhoneNumber {
  if (typeof input !== "string") {
    throw new InvalidPhoneNumberError(String(input), "not a string");
  }
  const cleaned = input
    .replace(SURROUNDING_NOISE, "")
    .replace(TEL_URI_PREFIX, "")
    .replace(PARENTHESISED_CALLING_CODE, "+$1 ");
  if (cleaned === "") throw new InvalidPhoneNumberError(input, "empty");
  if (isEmailHandle(cleaned)) {
    throw new InvalidPhoneNumberError(input, "an email address, not a phone number");
  }
  if (cleaned.length > MAX_INPUT_LENGTH) throw new InvalidPhoneNumberError(input, "too long");

  let parsed: PhoneNumber;
  try {
    parsed = parsePhoneNumberWithError(cleaned, { defaultCountry: region, extract: false });
  } catch (error) {
    if (error instanceof ParseError) {
      throw new InvalidPhoneNumberError(input, describeParseError(error.message, cleaned), { cause: error });
    }
    throw error;
  }

  if (parsed.ext !== undefined) {
    throw new InvalidPhoneNumberError(input, "has an extension; an extension cannot receive messages");
  }
  if (!parsed.isPossible()) {
    throw new InvalidPhoneNumberError(
      input,
      describeLength(validatePhoneNumberLength(parsed.number), parsed),
    );
  }
  if (parsed.countryCallingCode === "1" && !NANP_NATIONAL_NUMBER.test(parsed.nationalNumber)) {
    throw new InvalidPhoneNumberError(
      input,
      "not a possible North American number (the area code must start with 2-9)",
    );
  }
  return parsed;
}

function describeParseError(code: string, cleaned: string): string {
  switch (code) {
    case "INVALID_COUNTRY":
      return "invalid country calling code";
    case "TOO_SHORT":
      return "too short";
    case "TOO_LONG":
      return "too long";
    default:
      return /\p{L}/u.test(cleaned) ? "not a number (contains letters or other text)" : "not a number";
  }
}

function describeLength(result: ValidatePhoneNumberLengthResult | undefined, parsed: PhoneNumber): string {
  const where = `for country calling code +${parsed.countryCallingCode}`;
  switch (result) {
    case "TOO_SHORT":
      return `too short ${where}`;
    case "TOO_LONG":
      return `too long ${where}`;
    case "INVALID_COUNTRY":
      return "invalid country calling code";
    default:
      return `invalid length ${where}`;
  }
}
