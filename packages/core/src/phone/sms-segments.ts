/**
 * SMS segment calculator.
 *
 * Linq falls back iMessage → RCS → SMS automatically, and an SMS is billed and delivered
 * in segments: 160 GSM-7 septets (153 per segment once concatenated, the rest is the
 * concatenation header), or 70 UCS-2 code units (67 concatenated) as soon as a single
 * character is outside the GSM-7 alphabet. Long messages fail more often, so the
 * connectors warn before sending.
 */
import { ConfigurationError } from "../errors.ts";

/** How an SMS body is encoded on the wire. */
export type SmsEncoding = "GSM-7" | "UCS-2";

/** The result of {@link calculateSmsSegments}. */
export interface SmsSegmentInfo {
  encoding: SmsEncoding;
  /** How many SMS segments the text needs (at least 1, see {@link calculateSmsSegments}). */
  segments: number;
  /**
   * Length as counted for billing: GSM-7 septets (extension-table characters count 2)
   * or UCS-2 16-bit code units (a character outside the Basic Multilingual Plane, such as
   * most emoji, counts 2).
   */
  characters: number;
  /** Capacity of one segment in this encoding: 160 / 70 for one segment, 153 / 67 when concatenated. */
  perSegment: number;
  /** Septets or code units still free in the last segment. */
  remainingInSegment: number;
  /** The distinct characters (as people see them) that forced UCS-2, in order of appearance. */
  nonGsmCharacters: string[];
}

/** Options for {@link smsSegmentWarning}. */
export interface SmsSegmentWarningOptions {
  /** Warn when the text needs more segments than this. Defaults to 1. */
  maxSegments?: number;
}

/**
 * Above this many segments carriers often fail or filter the message (the Linq notes say
 * more than 6–10 segments fail often).
 */
export const RECOMMENDED_MAX_SMS_SEGMENTS = 6;

const GSM_7_SINGLE_SEGMENT = 160;
const GSM_7_CONCATENATED_SEGMENT = 153;
const UCS_2_SINGLE_SEGMENT = 70;
const UCS_2_CONCATENATED_SEGMENT = 67;

/**
 * The GSM 03.38 basic character set (3GPP TS 23.038), without the escape code 0x1B.
 * Position 0x09 is mapped to U+00C7 "Ç" as in the Unicode consortium's mapping.
 */
const GSM_7_BASIC_CHARACTERS =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/** The GSM 03.38 extension table: each is sent as the escape code plus one septet. */
const GSM_7_EXTENSION_CHARACTERS = "\f^{}\\[~]|€";

const GSM_7_BASIC_SET: ReadonlySet<string> = new Set(GSM_7_BASIC_CHARACTERS);
const GSM_7_EXTENSION_SET: ReadonlySet<string> = new Set(GSM_7_EXTENSION_CHARACTERS);

/** Whether a single character is in the GSM-7 alphabet (basic set or extension table). */
export function isGsm7Character(character: string): boolean {
  return GSM_7_BASIC_SET.has(character) || GSM_7_EXTENSION_SET.has(character);
}

/** Whether a whole text can be sent in GSM-7. */
export function isGsm7Text(text: string): boolean {
  for (const character of text) {
    if (!isGsm7Character(character)) return false;
  }
  return true;
}

/**
 * Counts the SMS segments a text needs.
 *
 * GSM-7 is used when every character is in the GSM-7 basic set or extension table
 * (the extension characters `\f ^ { } \ [ ] ~ | €` count 2 septets); otherwise UCS-2,
 * counted in UTF-16 code units. Up to 160 septets (70 units) fit one segment; longer
 * texts are split into 153-septet (67-unit) segments. An extension character is never
 * split from its escape code and a surrogate pair (an emoji) is never split across
 * segments: when one would straddle a boundary it moves whole to the next segment, which
 * can add a segment beyond a plain `ceil(characters / perSegment)`.
 *
 * Empty text is reported as 1 segment with 0 characters: a message that is sent at all
 * occupies (and is billed as) one SMS.
 */
export function calculateSmsSegments(text: string): SmsSegmentInfo {
  const weights: number[] = [];
  let encoding: SmsEncoding = "GSM-7";
  for (const character of text) {
    if (GSM_7_BASIC_SET.has(character)) {
      weights.push(1);
    } else if (GSM_7_EXTENSION_SET.has(character)) {
      weights.push(2);
    } else {
      encoding = "UCS-2";
      break;
    }
  }

  if (encoding === "UCS-2") {
    weights.length = 0;
    // A code point outside the Basic Multilingual Plane is a surrogate pair: 2 units.
    for (const character of text) weights.push(character.length);
  }

  const characters = weights.reduce((sum, weight) => sum + weight, 0);
  const singleLimit = encoding === "GSM-7" ? GSM_7_SINGLE_SEGMENT : UCS_2_SINGLE_SEGMENT;
  const concatenatedLimit = encoding === "GSM-7" ? GSM_7_CONCATENATED_SEGMENT : UCS_2_CONCATENATED_SEGMENT;
  const nonGsmCharacters = encoding === "UCS-2" ? findNonGsmCharacters(text) : [];

  if (characters <= singleLimit) {
    return {
      encoding,
      segments: 1,
      characters,
      perSegment: singleLimit,
      remainingInSegment: singleLimit - characters,
      nonGsmCharacters,
    };
  }

  let segments = 1;
  let used = 0;
  for (const weight of weights) {
    if (used + weight > concatenatedLimit) {
      segments += 1;
      used = 0;
    }
    used += weight;
  }
  return {
    encoding,
    segments,
    characters,
    perSegment: concatenatedLimit,
    remainingInSegment: concatenatedLimit - used,
    nonGsmCharacters,
  };
}

/**
 * A human warning when a text needs more than `maxSegments` SMS segments (default 1),
 * for example "This SMS will be sent as 3 segments (UCS-2: contains 😀)". Adds a carrier
 * warning above {@link RECOMMENDED_MAX_SMS_SEGMENTS}. Undefined when within the limit.
 *
 * @throws ConfigurationError when `maxSegments` is not a positive integer.
 */
export function smsSegmentWarning(text: string, options: SmsSegmentWarningOptions = {}): string | undefined {
  const maxSegments = options.maxSegments ?? 1;
  if (!Number.isInteger(maxSegments) || maxSegments < 1) {
    throw new ConfigurationError(`maxSegments must be a positive integer, got ${String(maxSegments)}`);
  }
  const info = calculateSmsSegments(text);
  if (info.segments <= maxSegments) return undefined;

  const detail =
    info.encoding === "UCS-2"
      ? `UCS-2: contains ${listCharacters(info.nonGsmCharacters)}`
      : `GSM-7: ${info.characters} characters`;
  let warning = `This SMS will be sent as ${info.segments} segments (${detail})`;
  if (info.segments > RECOMMENDED_MAX_SMS_SEGMENTS) {
    warning += `; messages over ${RECOMMENDED_MAX_SMS_SEGMENTS} segments are often rejected or filtered by carriers`;
  }
  return warning;
}

const MAX_LISTED_CHARACTERS = 5;

function listCharacters(characters: readonly string[]): string {
  const shown = characters.slice(0, MAX_LISTED_CHARACTERS).map(describeCharacter);
  const more = characters.length - shown.length;
  return more > 0 ? `${shown.join(", ")} and ${more} more` : shown.join(", ");
}

/** Invisible or control characters are shown as their code point so the warning stays readable. */
function describeCharacter(character: string): string {
  if (/^[\p{C}\p{Z}\p{M}]+$/u.test(character)) {
    return [...character]
      .map((codePoint) => `U+${codePoint.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`)
      .join(" ");
  }
  return character;
}

const graphemeSegmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/**
 * The distinct user-perceived characters (grapheme clusters) that contain at least one
 * code point outside GSM-7, so "👍🏽" or "👨‍👩‍👧" is reported whole.
 */
function findNonGsmCharacters(text: string): string[] {
  const found = new Set<string>();
  for (const { segment } of graphemeSegmenter.segment(text)) {
    if (!isGsm7Text(segment)) found.add(segment);
  }
  return [...found];
}
