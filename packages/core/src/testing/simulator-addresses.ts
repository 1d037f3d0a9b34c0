/**
 * Address normalisation as the Linq service does it, not as libphonenumber does.
 *
 * Linq "always normalises to assume a US country code, and appends a +1 where no
 * country code is provided"; chats accept `+12223334444` or `2223334444` and reject
 * `555-123-4567`, while contacts and contact search accept any common format.
 * Fictional `555` numbers are valid (Linq does not check number ranges), which is
 * what tests need. iMessage participants may also be email addresses.
 */

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Whether a string looks like an email address. */
export function isEmailAddress(value: string): boolean {
  return EMAIL_PATTERN.test(value.trim());
}

/**
 * Normalises a chat participant or Linq number the strict way chats do:
 * digits with an optional leading `+`, 10 digits → `+1…`, or an email address
 * (lower-cased). Returns undefined when the value is not acceptable.
 */
export function normalizeChatAddress(input: string): string | undefined {
  const trimmed = input.trim();
  if (isEmailAddress(trimmed)) return trimmed.toLowerCase();
  return normalizeDigits(trimmed);
}

/**
 * Normalises a phone number the lenient way contacts do: spaces, dashes, dots
 * and parentheses are ignored, then the strict rules apply.
 */
export function normalizeLenientPhoneNumber(input: string): string | undefined {
  return normalizeDigits(input.trim().replace(/[\s().-]/g, ""));
}

function normalizeDigits(value: string): string | undefined {
  const match = /^(\+?)(\d+)$/.exec(value);
  if (match === null) return undefined;
  const hasPlus = match[1] === "+";
  const digits = match[2] ?? "";
  if (!hasPlus) {
    if (digits.length === 10 && !digits.startsWith("0") && !digits.startsWith("1")) return `+1${digits}`;
    if (digits.length === 11 && digits.startsWith("1")) return `+${digits}`;
    return undefined;
  }
  if (digits.startsWith("0") || digits.length < 8 || digits.length > 15) return undefined;
  if (digits.startsWith("1") && digits.length !== 11) return undefined;
  return `+${digits}`;
}
