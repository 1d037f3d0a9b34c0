import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IdRanges, idRangesSchema } from "./id-ranges.ts";

describe("IdRanges", () => {
  it("merges adjacent and overlapping ids into sorted ranges", () => {
    const ranges = new IdRanges();
    for (const id of [5, 3, 4, 10, 1, 11, 12, 4]) ranges.add(id);
    expect(ranges.toJSON()).toEqual([
      [1, 1],
      [3, 5],
      [10, 12],
    ]);
    expect(ranges.size).toBe(7);
    expect([1, 2, 3, 5, 6, 9, 10, 12, 13].map((id) => ranges.has(id))).toEqual([
      true,
      false,
      true,
      true,
      false,
      false,
      true,
      true,
      false,
    ]);
    ranges.add(2);
    expect(ranges.toJSON()).toEqual([
      [1, 5],
      [10, 12],
    ]);
  });

  it("holds exactly the ids added, in any order, and survives a JSON round trip", () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 300 }), { maxLength: 200 }), fc.nat({ max: 300 }), (ids, probe) => {
        const ranges = new IdRanges();
        for (const id of ids) ranges.add(id);
        const restored = new IdRanges(idRangesSchema.parse(JSON.parse(JSON.stringify(ranges))));
        const expected = new Set(ids);
        expect(restored.size).toBe(expected.size);
        expect(restored.has(probe)).toBe(expected.has(probe));
        for (const id of expected) expect(restored.has(id)).toBe(true);
        const json = restored.toJSON();
        for (let index = 1; index < json.length; index += 1) {
          expect((json[index]?.[0] ?? 0) - (json[index - 1]?.[1] ?? 0)).toBeGreaterThan(1);
        }
      }),
    );
  });

  it("refuses ids that are not non-negative integers and malformed saved ranges", () => {
    expect(() => new IdRanges().add(-1)).toThrow(RangeError);
    expect(() => new IdRanges().add(1.5)).toThrow(RangeError);
    expect(idRangesSchema.safeParse([[5, 3]]).success).toBe(false);
  });
});
