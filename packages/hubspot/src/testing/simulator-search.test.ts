import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { matchesFilter, SEARCH_OPERATORS, type SearchOperator } from "./simulator-search.ts";
import type { SearchSnapshot } from "./simulator-store.ts";
import type { HubSpotSimulatorProperty } from "./simulator-types.ts";

const NUMBER_PROPERTY = { name: "amount", type: "number" } as HubSpotSimulatorProperty;
const TEXT_PROPERTY = { name: "city", type: "string" } as HubSpotSimulatorProperty;

function snapshot(properties: Record<string, string>): SearchSnapshot {
  return { id: "1", properties, createdAt: 0, updatedAt: 0 };
}

const NEGATIONS: [SearchOperator, SearchOperator][] = [
  ["EQ", "NEQ"],
  ["IN", "NOT_IN"],
  ["HAS_PROPERTY", "NOT_HAS_PROPERTY"],
  ["CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"],
];

describe("search filters", () => {
  it("every NOT_ operator is the complement of its operator", () => {
    fc.assert(
      fc.property(
        fc.option(fc.string({ maxLength: 12 }), { nil: undefined }),
        fc.string({ maxLength: 12 }),
        fc.constantFrom(...NEGATIONS),
        (stored, value, [positive, negative]) => {
          const record = snapshot(stored === undefined ? {} : { city: stored });
          const filter = { propertyName: "city", value, values: [value] };
          expect(matchesFilter(record, { ...filter, operator: positive }, TEXT_PROPERTY)).toBe(
            !matchesFilter(record, { ...filter, operator: negative }, TEXT_PROPERTY),
          );
        },
      ),
    );
  });

  it("numbers compare numerically, not as text", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1e6, max: 1e6 }),
        fc.integer({ min: -1e6, max: 1e6 }),
        (stored, value) => {
          const record = snapshot({ amount: String(stored) });
          const check = (operator: SearchOperator) =>
            matchesFilter(
              record,
              { propertyName: "amount", operator, value: String(value) },
              NUMBER_PROPERTY,
            );
          expect(check("LT")).toBe(stored < value);
          expect(check("LTE")).toBe(stored <= value);
          expect(check("GT")).toBe(stored > value);
          expect(check("GTE")).toBe(stored >= value);
          expect(check("EQ")).toBe(stored === value);
        },
      ),
    );
  });

  it("records without the property match no comparison and no BETWEEN", () => {
    for (const operator of SEARCH_OPERATORS.filter((candidate) =>
      /^(LT|LTE|GT|GTE|BETWEEN|EQ)$/.test(candidate),
    )) {
      expect(
        matchesFilter(
          snapshot({}),
          { propertyName: "amount", operator, value: "1", highValue: "2" },
          NUMBER_PROPERTY,
        ),
      ).toBe(false);
    }
  });

  it("CONTAINS_TOKEN matches words and * wildcards case-insensitively", () => {
    const record = snapshot({ city: "New York City" });
    const contains = (value: string) =>
      matchesFilter(record, { propertyName: "city", operator: "CONTAINS_TOKEN", value }, TEXT_PROPERTY);
    expect(contains("york")).toBe(true);
    expect(contains("Yo*")).toBe(true);
    expect(contains("*city")).toBe(true);
    expect(contains("ork")).toBe(false);
  });
});
