/**
 * A set of integer ids kept as sorted, merged ranges: `[[1, 40], [42, 42]]`. A backfill records the
 * chats (and contacts) it has finished in one, saved after every chat: whatever order Linq lists
 * them in, a resumed run skips exactly the finished ones, and ids that mostly follow each other cost a
 * few bytes however many there are.
 */
import { z } from "zod";

export type IdRange = readonly [first: number, last: number];

export const idRangesSchema = z
  .array(z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]))
  .refine(
    (ranges) => ranges.every(([first, last]) => first <= last),
    "each range must be [first, last] with first <= last",
  );

export class IdRanges {
  #ranges: [number, number][];

  constructor(ranges: readonly IdRange[] = []) {
    this.#ranges = [];
    for (const [first, last] of ranges) this.#insertRange(first, last);
  }

  /** How many ids the set holds. */
  get size(): number {
    return this.#ranges.reduce((sum, [first, last]) => sum + (last - first + 1), 0);
  }

  has(id: number): boolean {
    let low = 0;
    let high = this.#ranges.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const range = this.#ranges[middle];
      if (range === undefined) return false;
      if (id < range[0]) high = middle - 1;
      else if (id > range[1]) low = middle + 1;
      else return true;
    }
    return false;
  }

  add(id: number): void {
    if (!Number.isSafeInteger(id) || id < 0)
      throw new RangeError(`An id must be a non-negative integer, not ${id}`);
    this.#insertRange(id, id);
  }

  #insertRange(first: number, last: number): void {
    const merged: [number, number][] = [];
    let current: [number, number] = [first, last];
    let placed = false;
    for (const range of this.#ranges) {
      if (range[1] + 1 < current[0]) merged.push(range);
      else if (current[1] + 1 < range[0]) {
        if (!placed) {
          merged.push(current);
          placed = true;
        }
        merged.push(range);
      } else current = [Math.min(range[0], current[0]), Math.max(range[1], current[1])];
    }
    if (!placed) merged.push(current);
    this.#ranges = merged;
  }

  toJSON(): [number, number][] {
    return this.#ranges.map(([first, last]) => [first, last]);
  }
}
