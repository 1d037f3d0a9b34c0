import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigurationError } from "../errors.ts";
import {
  calculateSmsSegments,
  isGsm7Character,
  isGsm7Text,
  RECOMMENDED_MAX_SMS_SEGMENTS,
  smsSegmentWarning,
} from "./index.ts";

/** An independent copy of GSM 03.38 (basic set without the escape, then the extension table). */
const GSM_BASIC = [
  ..."@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?",
  ..."¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà",
];
const GSM_EXTENSION = ["\f", "^", "{", "}", "\\", "[", "~", "]", "|", "€"];
const GSM_ALL = new Set([...GSM_BASIC, ...GSM_EXTENSION]);

describe("the GSM-7 alphabet", () => {
  it("has 127 basic characters and 10 extension characters", () => {
    expect(GSM_BASIC).toHaveLength(127);
    for (const character of [...GSM_BASIC, ...GSM_EXTENSION]) expect(isGsm7Character(character)).toBe(true);
  });

  it.each(["\u001b", "ç", "á", "ê", "`", "’", "“", "…", "😀", "\t", "Ä́"])("%j is not GSM-7", (character) => {
    expect(isGsm7Character(character)).toBe(false);
    expect(isGsm7Text(`ok ${character}`)).toBe(false);
  });
});

describe("calculateSmsSegments: GSM-7", () => {
  it("counts empty text as one empty segment", () => {
    expect(calculateSmsSegments("")).toEqual({
      encoding: "GSM-7",
      segments: 1,
      characters: 0,
      perSegment: 160,
      remainingInSegment: 160,
      nonGsmCharacters: [],
    });
  });

  it.each([
    [1, 1, 160, 159],
    [160, 1, 160, 0],
    [161, 2, 153, 145],
    [306, 2, 153, 0],
    [307, 3, 153, 152],
    [459, 3, 153, 0],
    [460, 4, 153, 152],
  ])("%i characters → %i segments (%i per segment, %i left)", (length, segments, perSegment, remaining) => {
    const info = calculateSmsSegments("a".repeat(length));
    expect(info).toEqual({
      encoding: "GSM-7",
      segments,
      characters: length,
      perSegment,
      remainingInSegment: remaining,
      nonGsmCharacters: [],
    });
  });

  it("counts every extension character as 2 septets", () => {
    for (const character of GSM_EXTENSION) {
      const info = calculateSmsSegments(`a${character}`);
      expect(info.encoding).toBe("GSM-7");
      expect(info.characters).toBe(3);
    }
    expect(calculateSmsSegments("€".repeat(80))).toMatchObject({ segments: 1, characters: 160 });
    expect(calculateSmsSegments(`${"€".repeat(80)}a`)).toMatchObject({ segments: 2, characters: 161 });
  });

  it("uses GSM-7 for its own accented letters and Greek capitals, UCS-2 for any other", () => {
    expect(calculateSmsSegments("Ça coûte 5€ à Zürich")).toMatchObject({ encoding: "UCS-2" });
    expect(calculateSmsSegments("Æble og ørred på Ålesund, 3£ — no")).toMatchObject({ encoding: "UCS-2" });
    expect(calculateSmsSegments("Æble og ørred på Ålesund, 3£ ¿¡§ΔΩ")).toMatchObject({
      encoding: "GSM-7",
      characters: 34,
    });
  });

  it("never splits an extension character from its escape code", () => {
    // 152 plain septets then "€" (2 septets) would straddle the 153-septet boundary.
    const info = calculateSmsSegments(`${"a".repeat(152)}€${"a".repeat(10)}`);
    expect(info.characters).toBe(164);
    expect(info.segments).toBe(2);
    // The "€" moved whole to segment 2: 2 + 10 septets used there.
    expect(info.remainingInSegment).toBe(153 - 12);

    const atBoundary = calculateSmsSegments(`${"a".repeat(152)}€${"a".repeat(152)}`);
    expect(atBoundary.characters).toBe(306);
    expect(atBoundary.segments).toBe(3);
  });

  it("counts newlines, carriage returns and form feeds", () => {
    expect(calculateSmsSegments("a\r\nb")).toMatchObject({ encoding: "GSM-7", characters: 4 });
    expect(calculateSmsSegments("a\fb")).toMatchObject({ encoding: "GSM-7", characters: 4 });
  });
});

describe("calculateSmsSegments: UCS-2", () => {
  it.each([
    [70, 1, 70, 0],
    [71, 2, 67, 63],
    [134, 2, 67, 0],
    [135, 3, 67, 66],
  ])("%i units → %i segments (%i per segment, %i left)", (length, segments, perSegment, remaining) => {
    const info = calculateSmsSegments(`ж${"a".repeat(length - 1)}`);
    expect(info).toEqual({
      encoding: "UCS-2",
      segments,
      characters: length,
      perSegment,
      remainingInSegment: remaining,
      nonGsmCharacters: ["ж"],
    });
  });

  it("counts an emoji as 2 code units", () => {
    expect(calculateSmsSegments("😀")).toMatchObject({ encoding: "UCS-2", characters: 2, segments: 1 });
    expect(calculateSmsSegments("😀".repeat(35))).toMatchObject({ characters: 70, segments: 1 });
    expect(calculateSmsSegments(`${"😀".repeat(35)}a`)).toMatchObject({ characters: 71, segments: 2 });
  });

  it("moves a surrogate pair that would straddle a 67-unit boundary to the next segment", () => {
    // 66 units then an emoji: units 67-68 would be split, so the emoji starts segment 2.
    // Without the move, 134 units would fill exactly 2 segments; with it they need 3.
    const straddling = calculateSmsSegments(`${"ж".repeat(66)}😀${"ж".repeat(66)}`);
    expect(straddling.characters).toBe(134);
    expect(straddling.segments).toBe(3);
    expect(straddling.remainingInSegment).toBe(66);

    // Ending exactly on the boundary fits.
    const fitting = calculateSmsSegments(`${"ж".repeat(65)}😀${"ж".repeat(67)}`);
    expect(fitting.characters).toBe(134);
    expect(fitting.segments).toBe(2);
    expect(fitting.remainingInSegment).toBe(0);
  });

  it("switches the whole text to UCS-2 for one non-GSM character and lists it", () => {
    const text = `${"a".repeat(100)}😀`;
    const info = calculateSmsSegments(text);
    expect(info).toMatchObject({ encoding: "UCS-2", characters: 102, segments: 2, nonGsmCharacters: ["😀"] });
    // Extension characters are single UTF-16 units in UCS-2.
    expect(calculateSmsSegments("€😀").characters).toBe(3);
  });

  it("lists the distinct non-GSM characters once each, whole graphemes, in order", () => {
    const info = calculateSmsSegments("Thanks 👍🏽 “great” 👍🏽 ça 👨‍👩‍👧");
    expect(info.nonGsmCharacters).toEqual(["👍🏽", "“", "”", "ç", "👨‍👩‍👧"]);
  });

  it("counts a lone surrogate as one unit", () => {
    expect(calculateSmsSegments("a\ud83d")).toMatchObject({ encoding: "UCS-2", characters: 2 });
  });
});

describe("smsSegmentWarning", () => {
  it("is silent within the limit", () => {
    expect(smsSegmentWarning("Hello")).toBeUndefined();
    expect(smsSegmentWarning("a".repeat(160))).toBeUndefined();
    expect(smsSegmentWarning("a".repeat(306), { maxSegments: 2 })).toBeUndefined();
  });

  it("describes a long GSM-7 text", () => {
    expect(smsSegmentWarning("a".repeat(161))).toBe(
      "This SMS will be sent as 2 segments (GSM-7: 161 characters)",
    );
  });

  it("names the characters that forced UCS-2", () => {
    expect(smsSegmentWarning(`${"a".repeat(140)}😀`)).toBe(
      "This SMS will be sent as 3 segments (UCS-2: contains 😀)",
    );
    expect(smsSegmentWarning(`${"a".repeat(70)}😀ж“”çé\u200b`)).toBe(
      "This SMS will be sent as 2 segments (UCS-2: contains 😀, ж, “, ”, ç and 1 more)",
    );
    expect(smsSegmentWarning(`${"a".repeat(70)}\u200b`)).toBe(
      "This SMS will be sent as 2 segments (UCS-2: contains U+200B)",
    );
  });

  it("adds a carrier warning above the recommended maximum", () => {
    const sevenSegments = "a".repeat(153 * RECOMMENDED_MAX_SMS_SEGMENTS + 1);
    const warning = smsSegmentWarning(sevenSegments, { maxSegments: RECOMMENDED_MAX_SMS_SEGMENTS });
    expect(warning).toBe(
      "This SMS will be sent as 7 segments (GSM-7: 919 characters); messages over 6 segments are often rejected or filtered by carriers",
    );
    expect(
      smsSegmentWarning("a".repeat(153 * RECOMMENDED_MAX_SMS_SEGMENTS), {
        maxSegments: RECOMMENDED_MAX_SMS_SEGMENTS,
      }),
    ).toBeUndefined();
  });

  it.each([0, -1, 1.5, Number.NaN])("rejects maxSegments %s", (maxSegments) => {
    expect(() => smsSegmentWarning("Hello", { maxSegments })).toThrow(ConfigurationError);
  });
});

/** Characters that exercise every branch: basic GSM, extension, BMP non-GSM and astral. */
const smsCharacter = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...GSM_BASIC) },
  { weight: 2, arbitrary: fc.constantFrom(...GSM_EXTENSION) },
  { weight: 1, arbitrary: fc.constantFrom("ж", "ç", "“", "é", "\t", "\u001b") },
  { weight: 1, arbitrary: fc.constantFrom("😀", "👍🏽", "𝄞") },
);
const smsText = fc.array(smsCharacter, { maxLength: 400 }).map((characters) => characters.join(""));

describe("properties", () => {
  it("segments never decrease as characters are appended", () => {
    fc.assert(
      fc.property(smsText, fc.array(smsCharacter, { minLength: 1, maxLength: 20 }), (text, appended) => {
        let previous = calculateSmsSegments(text).segments;
        let current = text;
        for (const character of appended) {
          current += character;
          const next = calculateSmsSegments(current).segments;
          expect(next).toBeGreaterThanOrEqual(previous);
          previous = next;
        }
      }),
      { numRuns: 200 },
    );
  });

  it("uses GSM-7 exactly when every character is in the GSM-7 alphabet", () => {
    fc.assert(
      fc.property(fc.oneof(smsText, fc.string({ unit: "binary", maxLength: 200 })), (text) => {
        const allGsm = [...text].every((character) => GSM_ALL.has(character));
        expect(calculateSmsSegments(text).encoding).toBe(allGsm ? "GSM-7" : "UCS-2");
      }),
      { numRuns: 300 },
    );
  });

  it("segments hold the counted characters", () => {
    fc.assert(
      fc.property(smsText, (text) => {
        const info = calculateSmsSegments(text);
        const expectedCharacters =
          info.encoding === "UCS-2"
            ? text.length
            : [...text].reduce((sum, character) => sum + (GSM_EXTENSION.includes(character) ? 2 : 1), 0);
        expect(info.characters).toBe(expectedCharacters);
        expect(info.remainingInSegment).toBeGreaterThanOrEqual(0);
        expect(info.remainingInSegment).toBeLessThan(info.perSegment + (info.characters === 0 ? 1 : 0));
        expect(info.segments * info.perSegment).toBeGreaterThanOrEqual(info.characters);
        expect(info.segments).toBeGreaterThanOrEqual(
          Math.max(1, Math.ceil(info.characters / info.perSegment)),
        );
        if (info.segments > 1) {
          // Every full segment carries at least perSegment - 1 units (a pair may move on whole).
          expect(info.characters).toBeGreaterThan(info.encoding === "GSM-7" ? 160 : 70);
          expect(info.characters).toBeGreaterThan((info.segments - 1) * (info.perSegment - 1));
        }
      }),
      { numRuns: 300 },
    );
  });
});
