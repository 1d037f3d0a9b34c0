/**
 * The CRM search API's query language over the search index: filter groups (OR of groups, AND
 * within a group), the 13 operators, the `associations.<object type>` pseudo-properties (records
 * associated with a given record), one sort, the free-text `query`, `limit` ≤ 200 and `after`
 * paging capped at 10 000 results.
 */
import { validationError } from "./simulator-errors.ts";
import { OBJECT_TYPES, resolveObjectType } from "./simulator-schema.ts";
import type { SearchSnapshot } from "./simulator-store.ts";
import type { HubSpotObjectType, HubSpotSimulatorProperty } from "./simulator-types.ts";
import { parseTime } from "./simulator-values.ts";

export const SEARCH_OPERATORS = [
  "EQ",
  "NEQ",
  "LT",
  "LTE",
  "GT",
  "GTE",
  "BETWEEN",
  "IN",
  "NOT_IN",
  "HAS_PROPERTY",
  "NOT_HAS_PROPERTY",
  "CONTAINS_TOKEN",
  "NOT_CONTAINS_TOKEN",
] as const;

export type SearchOperator = (typeof SEARCH_OPERATORS)[number];

export interface SearchFilter {
  propertyName: string;
  operator: SearchOperator;
  value?: string | undefined;
  values?: string[] | undefined;
  highValue?: string | undefined;
}

export interface SearchSort {
  propertyName: string;
  direction: "ASCENDING" | "DESCENDING";
}

export interface SearchRequest {
  filterGroups: SearchFilter[][];
  sorts: SearchSort[];
  query: string | undefined;
  limit: number;
  offset: number;
}

export const MAX_FILTER_GROUPS = 5;
export const MAX_FILTERS_PER_GROUP = 6;
export const MAX_FILTERS = 18;
export const MAX_SEARCH_LIMIT = 200;
export const DEFAULT_SEARCH_LIMIT = 10;
export const MAX_SEARCH_RESULTS = 10_000;

/** Throws HubSpot's 400 when the filters exceed the documented limits. */
export function assertFilterLimits(filterGroups: readonly (readonly SearchFilter[])[]): void {
  if (filterGroups.length > MAX_FILTER_GROUPS) {
    throw validationError(
      `Too many filter groups (count: ${filterGroups.length}, max allowed: ${MAX_FILTER_GROUPS})`,
    );
  }
  for (const group of filterGroups) {
    if (group.length > MAX_FILTERS_PER_GROUP) {
      throw validationError(
        `Too many filters in a filter group (count: ${group.length}, max allowed: ${MAX_FILTERS_PER_GROUP})`,
      );
    }
  }
  const total = filterGroups.reduce((sum, group) => sum + group.length, 0);
  if (total > MAX_FILTERS) {
    throw validationError(`Too many filters (count: ${total}, max allowed: ${MAX_FILTERS})`);
  }
}

type Comparable = { kind: "number"; value: number } | { kind: "text"; value: string };

/** A value as the property's type compares it (numbers, times and dates numerically, text case-insensitively). */
function comparable(definition: HubSpotSimulatorProperty | undefined, value: string): Comparable {
  const type = definition?.type;
  if (type === "number") {
    const number = Number(value);
    if (value.trim() !== "" && Number.isFinite(number)) return { kind: "number", value: number };
  } else if (type === "datetime" || type === "date") {
    const time = parseTime(value);
    if (time !== undefined) return { kind: "number", value: time };
  }
  return { kind: "text", value: value.toLowerCase() };
}

function compare(left: Comparable, right: Comparable): number {
  if (left.kind === "number" && right.kind === "number") return left.value - right.value;
  const a = String(left.value);
  const b = String(right.value);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `*` wildcards; tokens are the whitespace-separated words of the value (and the whole value). */
function containsToken(actual: string, token: string): boolean {
  const pattern = new RegExp(
    `^${token
      .toLowerCase()
      .split("*")
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  );
  const lower = actual.toLowerCase();
  return pattern.test(lower) || lower.split(/\s+/).some((word) => pattern.test(word));
}

const ASSOCIATION_PREFIX = "associations.";

/**
 * `associations.contact` (any name of an object type) EQ / IN an id: the record is associated with
 * that record, as the index saw it (associations reach search with the same lag as properties).
 * NEQ / NOT_IN, HAS_PROPERTY / NOT_HAS_PROPERTY likewise; other operators match nothing.
 */
function matchesAssociationFilter(snapshot: SearchSnapshot, filter: SearchFilter): boolean {
  const objectType = resolveObjectType(filter.propertyName.slice(ASSOCIATION_PREFIX.length));
  const ids = objectType === undefined ? [] : (snapshot.associations?.[objectType] ?? []);
  const wanted =
    filter.operator === "IN" || filter.operator === "NOT_IN" ? (filter.values ?? []) : [filter.value];
  const inside = wanted.some((id) => id !== undefined && ids.includes(String(id).trim()));
  switch (filter.operator) {
    case "EQ":
    case "IN":
      return inside;
    case "NEQ":
    case "NOT_IN":
      return !inside;
    case "HAS_PROPERTY":
      return ids.length > 0;
    case "NOT_HAS_PROPERTY":
      return ids.length === 0;
    default:
      return false;
  }
}

/** Whether one snapshot satisfies one filter. */
export function matchesFilter(
  snapshot: SearchSnapshot,
  filter: SearchFilter,
  definition: HubSpotSimulatorProperty | undefined,
): boolean {
  if (filter.propertyName.toLowerCase().startsWith(ASSOCIATION_PREFIX))
    return matchesAssociationFilter(snapshot, filter);
  const actual = snapshot.properties[filter.propertyName];
  const present = actual !== undefined && actual !== "";
  switch (filter.operator) {
    case "HAS_PROPERTY":
      return present;
    case "NOT_HAS_PROPERTY":
      return !present;
    case "IN":
    case "NOT_IN": {
      const values = filter.values ?? [];
      // The docs: for string properties the searched values must be lower-case (the index holds lower-cased text).
      const stored =
        definition?.type === "string" || definition?.type === undefined ? actual?.toLowerCase() : actual;
      const inside = present && values.some((value) => value === stored);
      return filter.operator === "IN" ? inside : !inside;
    }
    case "CONTAINS_TOKEN":
    case "NOT_CONTAINS_TOKEN": {
      const inside = present && containsToken(actual, filter.value ?? "");
      return filter.operator === "CONTAINS_TOKEN" ? inside : !inside;
    }
    case "EQ":
    case "NEQ": {
      const equal =
        present && compare(comparable(definition, actual), comparable(definition, filter.value ?? "")) === 0;
      return filter.operator === "EQ" ? equal : !equal;
    }
    case "BETWEEN": {
      if (!present) return false;
      const value = comparable(definition, actual);
      return (
        compare(value, comparable(definition, filter.value ?? "")) >= 0 &&
        compare(value, comparable(definition, filter.highValue ?? "")) <= 0
      );
    }
    default: {
      if (!present) return false;
      const difference = compare(comparable(definition, actual), comparable(definition, filter.value ?? ""));
      if (filter.operator === "LT") return difference < 0;
      if (filter.operator === "LTE") return difference <= 0;
      if (filter.operator === "GT") return difference > 0;
      return difference >= 0;
    }
  }
}

/** Runs a search over the snapshots; returns the page and the total number of matches. */
export function runSearch(
  objectType: HubSpotObjectType,
  snapshots: readonly SearchSnapshot[],
  request: SearchRequest,
  definitionOf: (name: string) => HubSpotSimulatorProperty | undefined,
): { total: number; page: SearchSnapshot[]; nextOffset: number | undefined } {
  const searchable = OBJECT_TYPES[objectType].searchableProperties;
  const query = request.query?.trim().toLowerCase();
  const matches = snapshots.filter((snapshot) => {
    if (
      request.filterGroups.length > 0 &&
      !request.filterGroups.some((group) =>
        group.every((filter) => matchesFilter(snapshot, filter, definitionOf(filter.propertyName))),
      )
    ) {
      return false;
    }
    if (query !== undefined && query !== "") {
      return searchable.some((name) => snapshot.properties[name]?.toLowerCase().includes(query) ?? false);
    }
    return true;
  });
  const sort = request.sorts[0];
  if (sort !== undefined) {
    const definition = definitionOf(sort.propertyName);
    const direction = sort.direction === "DESCENDING" ? -1 : 1;
    matches.sort((left, right) => {
      const a = left.properties[sort.propertyName];
      const b = right.properties[sort.propertyName];
      if (a === undefined || b === undefined) {
        if (a === b) return Number(left.id) - Number(right.id);
        return a === undefined ? 1 : -1;
      }
      const order = compare(comparable(definition, a), comparable(definition, b)) * direction;
      return order !== 0 ? order : Number(left.id) - Number(right.id);
    });
  }
  const end = Math.min(request.offset + request.limit, matches.length, MAX_SEARCH_RESULTS);
  const page = matches.slice(request.offset, Math.max(request.offset, end));
  const nextOffset = request.limit > 0 && end < matches.length && end < MAX_SEARCH_RESULTS ? end : undefined;
  return { total: matches.length, page, nextOffset };
}
