/**
 * Salesforce record ids: 15 case-sensitive characters (3-character key prefix,
 * 12-character body) plus, in the 18-character form every API answer uses, a
 * 3-character case-safe checksum suffix.
 *
 * The suffix encodes, for each 5-character chunk of the 15-character id, which
 * characters are upper-case letters (bit i set for position i), as an index into
 * `A-Z0-5`. That lets an 18-character id survive case-insensitive systems: the
 * API accepts either form, and an 18-character id whose body lost its case is
 * re-cased from its suffix.
 */

const SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const ID_SHAPE = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/;

/** The checksum suffix of a 15-character id. */
export function idChecksum(id15: string): string {
  let suffix = "";
  for (let chunk = 0; chunk < 3; chunk += 1) {
    let bits = 0;
    for (let position = 0; position < 5; position += 1) {
      const character = id15.charAt(chunk * 5 + position);
      if (character >= "A" && character <= "Z") bits |= 1 << position;
    }
    suffix += SUFFIX_ALPHABET.charAt(bits);
  }
  return suffix;
}

/** The 18-character form of a 15-character id. */
export function toId18(id15: string): string {
  return `${id15}${idChecksum(id15)}`;
}

/**
 * Normalises an id given by a client: a 15-character id gets its suffix; an
 * 18-character id is accepted when its suffix matches its body, or when its body
 * can be re-cased from its suffix (an id that went through a case-insensitive
 * system). Returns undefined for anything that is not an id.
 */
export function normalizeId(value: string): string | undefined {
  if (!ID_SHAPE.test(value)) return undefined;
  if (value.length === 15) return toId18(value);
  const body = value.slice(0, 15);
  const suffix = value.slice(15).toUpperCase();
  if (idChecksum(body) === suffix) return `${body}${suffix}`;
  const recased = recaseFromSuffix(body, suffix);
  return recased !== undefined && idChecksum(recased) === suffix ? `${recased}${suffix}` : undefined;
}

function recaseFromSuffix(body: string, suffix: string): string | undefined {
  let result = "";
  for (let chunk = 0; chunk < 3; chunk += 1) {
    const bits = SUFFIX_ALPHABET.indexOf(suffix.charAt(chunk));
    if (bits < 0) return undefined;
    for (let position = 0; position < 5; position += 1) {
      const character = body.charAt(chunk * 5 + position);
      result += (bits & (1 << position)) !== 0 ? character.toUpperCase() : character.toLowerCase();
    }
  }
  return result;
}

/** Whether a string has the shape of an id (15 or 18 alphanumerics), valid or not. */
export function looksLikeId(value: string): boolean {
  return ID_SHAPE.test(value);
}

/**
 * Mints ids: `<prefix>5g0<9 base-62 digits>` plus the suffix, counting per key
 * prefix from a start that mixes digits and letters of both cases (so that the
 * case-safe suffix is exercised). Deterministic: the same sequence of creations
 * gives the same ids.
 */
export class IdGenerator {
  private readonly counters = new Map<string, number>();
  private static readonly FIRST = 62 ** 4 * 11 + 62 ** 2 * 37 + 1;

  next(prefix: string): string {
    const count = this.counters.get(prefix) ?? IdGenerator.FIRST;
    this.counters.set(prefix, count + 1);
    return toId18(`${prefix}5g0${base62(count, 9)}`);
  }

  reset(): void {
    this.counters.clear();
  }
}

function base62(value: number, width: number): string {
  let remaining = value;
  let digits = "";
  while (remaining > 0) {
    digits = BASE62.charAt(remaining % 62) + digits;
    remaining = Math.floor(remaining / 62);
  }
  return digits.padStart(width, "0");
}
