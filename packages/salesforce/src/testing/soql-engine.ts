/**
 * Executes parsed SOQL against the record store: resolves fields and
 * relationships (one level: `Account.Name`, `Who.Name`, `Owner.Email`),
 * type-checks filter values the way Salesforce does, filters, sorts, pages and
 * renders records in the query shape (`attributes`, then the selected fields in
 * order, relationship fields nested under the relationship name).
 */
import { apiError, type SalesforceApiError } from "./simulator-errors.ts";
import { normalizeId } from "./simulator-ids.ts";
import type { FieldDefinition, ObjectDefinition, Schema } from "./simulator-schema.ts";
import { type RecordStore, recordUrl, type StoredRecord } from "./simulator-store.ts";
import { dateToMilliseconds, parseDateTime, type StoredValue } from "./simulator-values.ts";
import {
  type Condition,
  type FieldPath,
  type Literal,
  type OrderItem,
  parseSoql,
  queryError,
  type SelectQuery,
} from "./soql-parser.ts";

/** A field path resolved against the schema. */
export interface ResolvedPath {
  /** The field of the queried object (the reference field for relationship paths). */
  field: FieldDefinition;
  /** For `Relationship.Field`: the relationship name as written in describe, and the field name on the target. */
  relationship: { name: string; targets: ObjectDefinition[]; fieldName: string } | null;
  /** Type of the value (the target field's, or `string` for a polymorphic `Type`). */
  valueField: FieldDefinition;
}

export interface QueryContext {
  schema: Schema;
  store: RecordStore;
  now: () => Date;
  apiVersion: string;
}

/** The outcome of a query before paging. */
export interface QueryOutcome {
  count: boolean;
  totalSize: number;
  records: Record<string, unknown>[];
}

const NO_SUCH_COLUMN_HINT =
  "If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.";
const NO_SUCH_RELATIONSHIP_HINT =
  "If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.";

/** Parses and runs a SOQL statement. */
export function runSoql(
  statement: string,
  context: QueryContext,
  options: { includeDeleted: boolean },
): QueryOutcome {
  const query = parseSoql(statement);
  const object = context.schema.object(query.object.name);
  if (object === undefined) {
    throw queryError(
      "INVALID_TYPE",
      statement,
      query.object.offset,
      `sObject type '${query.object.name}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`,
    );
  }
  const fields = resolveSelectList(statement, context.schema, object, query.fields);
  const filter = query.where === null ? null : compileCondition(statement, object, query.where, context);
  const order = query.orderBy.map((item) => compileOrder(statement, context.schema, object, item));
  let records = context.store.all(object.name, { includeDeleted: options.includeDeleted });
  if (filter !== null) records = records.filter((record) => filter(record));
  records = sortRecords(records, order, context.store);
  const start = query.offset ?? 0;
  const end = query.limit === null ? undefined : start + query.limit;
  records = records.slice(start, end);
  if (query.count) return { count: true, totalSize: records.length, records: [] };
  return {
    count: false,
    totalSize: records.length,
    records: records.map((record) => renderQueryRecord(record, fields, context)),
  };
}

/** Resolves the SELECT list, rejecting duplicates as Salesforce does. */
export function resolveSelectList(
  statement: string,
  schema: Schema,
  object: ObjectDefinition,
  paths: FieldPath[],
): ResolvedPath[] {
  const seen = new Set<string>();
  const resolved: ResolvedPath[] = [];
  for (const path of paths) {
    const field = resolvePath(statement, schema, object, path);
    const key = path.parts.join(".").toLowerCase();
    if (seen.has(key))
      throw queryError(
        "MALFORMED_QUERY",
        statement,
        path.offset,
        `duplicate field selected: ${path.parts.join(".")}`,
      );
    seen.add(key);
    resolved.push(field);
  }
  return resolved;
}

/** Resolves `Field` or `Relationship.Field` against an object. */
export function resolvePath(
  statement: string,
  schema: Schema,
  object: ObjectDefinition,
  path: FieldPath,
  errorCode = "INVALID_FIELD",
): ResolvedPath {
  const [first, second, ...rest] = path.parts;
  if (first === undefined) throw queryError("MALFORMED_QUERY", statement, path.offset, "unexpected token");
  if (second === undefined) {
    const field = object.field(first);
    if (field === undefined) {
      throw queryError(
        errorCode,
        statement,
        path.offset,
        `No such column '${first}' on entity '${object.name}'. ${NO_SUCH_COLUMN_HINT}`,
      );
    }
    return { field, relationship: null, valueField: field };
  }
  if (rest.length > 0) {
    throw queryError(
      "MALFORMED_QUERY",
      statement,
      path.offset,
      "Relationship paths deeper than one level are not supported by the Salesforce simulator",
    );
  }
  const reference = object.relationship(first);
  if (reference === undefined) {
    throw queryError(
      errorCode,
      statement,
      path.offset,
      `Didn't understand relationship '${first}' in field path. ${NO_SUCH_RELATIONSHIP_HINT}`,
    );
  }
  const schemaTargets = reference.referenceTo
    .map((name) => schema.object(name))
    .filter((value): value is ObjectDefinition => value !== undefined);
  if (second.toLowerCase() === "type" && schemaTargets.length > 1) {
    return {
      field: reference,
      relationship: { name: reference.relationshipName ?? first, targets: schemaTargets, fieldName: "Type" },
      valueField: POLYMORPHIC_TYPE_FIELD,
    };
  }
  for (const target of schemaTargets) {
    const targetField = target.field(second);
    if (targetField !== undefined) {
      return {
        field: reference,
        relationship: {
          name: reference.relationshipName ?? first,
          targets: schemaTargets,
          fieldName: targetField.name,
        },
        valueField: targetField,
      };
    }
  }
  const entity = schemaTargets.length === 1 ? (schemaTargets[0]?.name ?? first) : "Name";
  throw queryError(
    errorCode,
    statement,
    path.offset,
    `No such column '${second}' on entity '${entity}'. ${NO_SUCH_COLUMN_HINT}`,
  );
}

const POLYMORPHIC_TYPE_FIELD: FieldDefinition = {
  name: "Type",
  label: "Type",
  type: "picklist",
  length: 255,
  nillable: true,
  createable: false,
  updateable: false,
  defaultedOnCreate: false,
  externalId: false,
  unique: false,
  custom: false,
  idLookup: false,
  nameField: false,
  calculated: true,
  filterable: true,
  sortable: true,
  referenceTo: [],
  relationshipName: null,
  picklist: null,
  precision: 0,
  scale: 0,
  nameSearch: false,
};

/** The value of a resolved path on a record (null through a missing or deleted parent). */
export function pathValue(record: StoredRecord, path: ResolvedPath, store: RecordStore): StoredValue {
  if (path.relationship === null) return record.values[path.field.name] ?? null;
  const parent = parentOf(record, path, store);
  if (parent === undefined) return null;
  if (path.relationship.fieldName === "Type") return parent.object.name;
  return parent.values[path.relationship.fieldName] ?? null;
}

function parentOf(record: StoredRecord, path: ResolvedPath, store: RecordStore): StoredRecord | undefined {
  const id = record.values[path.field.name];
  if (typeof id !== "string") return undefined;
  const parent = store.get(id);
  return parent === undefined || parent.values.IsDeleted === true ? undefined : parent;
}

/** Renders a record with the selected fields, relationship fields nested. */
export function renderQueryRecord(
  record: StoredRecord,
  paths: ResolvedPath[],
  context: QueryContext,
): Record<string, unknown> {
  const rendered: Record<string, unknown> = {
    attributes: {
      type: record.object.name,
      url: recordUrl(context.apiVersion, record.object.name, record.id),
    },
  };
  for (const path of paths) {
    if (path.relationship === null) {
      rendered[path.field.name] = record.values[path.field.name] ?? null;
      continue;
    }
    const name = path.relationship.name;
    const parent = parentOf(record, path, context.store);
    if (parent === undefined) {
      rendered[name] = null;
      continue;
    }
    const existing = rendered[name];
    const nested =
      existing !== null && typeof existing === "object"
        ? (existing as Record<string, unknown>)
        : {
            attributes: {
              type: parent.object.name,
              url: recordUrl(context.apiVersion, parent.object.name, parent.id),
            },
          };
    const fieldName = path.relationship.fieldName;
    nested[fieldName] =
      fieldName === "Type"
        ? parent.object.name
        : (parent.values[fieldName] ?? (parent.object.field(fieldName) === undefined ? undefined : null));
    if (nested[fieldName] === undefined) delete nested[fieldName];
    rendered[name] = nested;
  }
  return rendered;
}

// ---------------------------------------------------------------------------- filters

type Predicate = (record: StoredRecord) => boolean;

const TEXT_TYPES = new Set(["string", "textarea", "email", "phone", "url", "picklist", "combobox"]);

/** Compiles a WHERE condition to a predicate, type-checking every value. */
export function compileCondition(
  statement: string,
  object: ObjectDefinition,
  condition: Condition,
  context: QueryContext,
): Predicate {
  switch (condition.kind) {
    case "and": {
      const items = condition.items.map((item) => compileCondition(statement, object, item, context));
      return (record) => items.every((item) => item(record));
    }
    case "or": {
      const items = condition.items.map((item) => compileCondition(statement, object, item, context));
      return (record) => items.some((item) => item(record));
    }
    case "not": {
      const item = compileCondition(statement, object, condition.item, context);
      return (record) => !item(record);
    }
    case "comparison": {
      const path = resolvePath(statement, context.schema, object, condition.field);
      const field = path.valueField;
      if (!field.filterable) {
        throw queryError(
          "INVALID_FIELD",
          statement,
          condition.field.offset,
          `field '${field.name}' can not be filtered in query call`,
        );
      }
      const operator = condition.operator;
      if (
        operator === "like" &&
        !TEXT_TYPES.has(field.type) &&
        field.type !== "id" &&
        field.type !== "reference"
      ) {
        throw queryError(
          "INVALID_FIELD",
          statement,
          condition.field.offset,
          `invalid operator on ${field.type} field: LIKE`,
        );
      }
      const values = condition.values.map((literal) => checkLiteral(statement, field, literal, operator));
      const now = context.now();
      return (record) => compare(pathValue(record, path, context.store), field, operator, values, now);
    }
  }
}

/** A literal converted to what it is compared with. */
type DateLiteral = Extract<Literal, { kind: "dateLiteral" }>;

type Operand = { kind: "value"; value: StoredValue } | { kind: "range"; literal: DateLiteral };

function typeName(field: FieldDefinition): string {
  switch (field.type) {
    case "datetime":
      return "dateTime";
    case "int":
      return "integer";
    case "double":
    case "currency":
      return "double";
    case "id":
    case "reference":
      return "id";
    default:
      return field.type === "boolean" || field.type === "date" ? field.type : "string";
  }
}

function checkLiteral(
  statement: string,
  field: FieldDefinition,
  literal: Literal,
  operator: string,
): Operand {
  const mismatch = (): SalesforceApiError => {
    const quoted = TEXT_TYPES.has(field.type) || field.type === "id" || field.type === "reference";
    return queryError(
      "INVALID_FIELD",
      statement,
      literal.offset,
      `value of filter criterion for field '${field.name}' must be of type ${typeName(field)} and should ${quoted ? "" : "not "}be enclosed in quotes`,
    );
  };
  if (literal.kind === "null") {
    if (operator !== "=" && operator !== "!=" && operator !== "in" && operator !== "not in") throw mismatch();
    return { kind: "value", value: null };
  }
  switch (field.type) {
    case "id":
    case "reference": {
      if (literal.kind !== "string") throw mismatch();
      if (operator === "like") return { kind: "value", value: literal.value };
      const id = normalizeId(literal.value);
      if (id === undefined) {
        throw queryError(
          "INVALID_QUERY_FILTER_OPERATOR",
          statement,
          literal.offset,
          `invalid ID field: ${literal.value}`,
        );
      }
      return { kind: "value", value: id };
    }
    case "boolean":
      if (literal.kind !== "boolean") throw mismatch();
      return { kind: "value", value: literal.value };
    case "int":
    case "double":
    case "currency":
      if (literal.kind !== "number") throw mismatch();
      return { kind: "value", value: literal.value };
    case "date":
      if (literal.kind === "date") return { kind: "value", value: literal.value };
      if (literal.kind === "dateLiteral") return { kind: "range", literal };
      throw mismatch();
    case "datetime":
      if (literal.kind === "datetime") return { kind: "value", value: literal.value };
      if (literal.kind === "dateLiteral") return { kind: "range", literal };
      throw mismatch();
    default:
      if (literal.kind !== "string") throw mismatch();
      return { kind: "value", value: literal.value };
  }
}

const DAY = 86_400_000;

function resolveRange(literal: DateLiteral, now: Date): { start: number; end: number } {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const amount = literal.amount ?? 0;
  const weekStart = today - now.getUTCDay() * DAY;
  const month = (offset: number): number => Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1);
  const year = (offset: number): number => Date.UTC(now.getUTCFullYear() + offset, 0, 1);
  switch (literal.name) {
    case "TODAY":
      return { start: today, end: today + DAY };
    case "YESTERDAY":
      return { start: today - DAY, end: today };
    case "TOMORROW":
      return { start: today + DAY, end: today + 2 * DAY };
    case "THIS_WEEK":
      return { start: weekStart, end: weekStart + 7 * DAY };
    case "LAST_WEEK":
      return { start: weekStart - 7 * DAY, end: weekStart };
    case "NEXT_WEEK":
      return { start: weekStart + 7 * DAY, end: weekStart + 14 * DAY };
    case "THIS_MONTH":
      return { start: month(0), end: month(1) };
    case "LAST_MONTH":
      return { start: month(-1), end: month(0) };
    case "NEXT_MONTH":
      return { start: month(1), end: month(2) };
    case "THIS_YEAR":
      return { start: year(0), end: year(1) };
    case "LAST_YEAR":
      return { start: year(-1), end: year(0) };
    case "NEXT_YEAR":
      return { start: year(1), end: year(2) };
    case "LAST_90_DAYS":
      return { start: today - 90 * DAY, end: today + DAY };
    case "NEXT_90_DAYS":
      return { start: today + DAY, end: today + 91 * DAY };
    case "LAST_N_DAYS":
      return { start: today - amount * DAY, end: today + DAY };
    case "NEXT_N_DAYS":
      return { start: today + DAY, end: today + (amount + 1) * DAY };
    case "LAST_N_WEEKS":
      return { start: weekStart - amount * 7 * DAY, end: weekStart };
    case "NEXT_N_WEEKS":
      return { start: weekStart + 7 * DAY, end: weekStart + (amount + 1) * 7 * DAY };
    case "LAST_N_MONTHS":
      return { start: month(-amount), end: month(0) };
    default:
      return { start: month(1), end: month(amount + 1) };
  }
}

/** A comparable number (dates and date-times in milliseconds) or lower-cased text. */
function comparable(value: StoredValue, field: FieldDefinition): number | string | boolean | null {
  if (value === null) return null;
  if (field.type === "date" && typeof value === "string") return dateToMilliseconds(value);
  if (field.type === "datetime" && typeof value === "string") return parseDateTime(value) ?? null;
  if (typeof value === "string")
    return field.type === "id" || field.type === "reference" ? value : value.toLowerCase();
  return value;
}

function compare(
  recordValue: StoredValue,
  field: FieldDefinition,
  operator: string,
  operands: Operand[],
  now: Date,
): boolean {
  const left = comparable(recordValue, field);
  const effective = operator === "in" || operator === "not in" ? "=" : operator;
  const matches = (operand: Operand): boolean => {
    if (operand.kind === "range") {
      const { start, end } = resolveRange(operand.literal, now);
      if (left === null || typeof left !== "number") return effective === "!=";
      switch (effective) {
        case "=":
          return left >= start && left < end;
        case "!=":
          return !(left >= start && left < end);
        case "<":
          return left < start;
        case "<=":
          return left < end;
        case ">":
          return left >= end;
        default:
          return left >= start;
      }
    }
    const right = comparable(operand.value, field);
    switch (effective) {
      case "=":
        return left === right;
      case "!=":
        return left !== right;
      case "like":
        return (
          typeof recordValue === "string" &&
          typeof operand.value === "string" &&
          likeMatches(recordValue, operand.value)
        );
      default: {
        if (left === null || right === null) return false;
        if (effective === "<") return left < right;
        if (effective === "<=") return left <= right;
        if (effective === ">") return left > right;
        return left >= right;
      }
    }
  };
  if (operator === "not in") return !operands.some(matches);
  if (operator === "in") return operands.some(matches);
  const [operand] = operands;
  return operand !== undefined && matches(operand);
}

/** SOQL LIKE: `%` any run, `_` one character, `\%` and `\_` literal; case-insensitive. Linear-time matching. */
export function likeMatches(value: string, pattern: string): boolean {
  const tokens: { kind: "any" | "one" | "char"; character: string }[] = [];
  for (let index = 0; index < pattern.length; index += 1) {
    const character = pattern.charAt(index);
    if (character === "\\" && (pattern.charAt(index + 1) === "%" || pattern.charAt(index + 1) === "_")) {
      tokens.push({ kind: "char", character: pattern.charAt(index + 1).toLowerCase() });
      index += 1;
    } else if (character === "%") tokens.push({ kind: "any", character: "" });
    else if (character === "_") tokens.push({ kind: "one", character: "" });
    else tokens.push({ kind: "char", character: character.toLowerCase() });
  }
  const text = value.toLowerCase();
  // Dynamic programming over pattern positions: reachable states after each character.
  let states = closure(new Set([0]), tokens);
  for (const character of text) {
    const next = new Set<number>();
    for (const state of states) {
      const token = tokens[state];
      if (token === undefined) continue;
      if (token.kind === "any") next.add(state);
      else if (token.kind === "one" || token.character === character) next.add(state + 1);
    }
    states = closure(next, tokens);
    if (states.size === 0) return false;
  }
  return states.has(tokens.length);
}

function closure(states: Set<number>, tokens: { kind: string }[]): Set<number> {
  const result = new Set(states);
  for (const state of [...states]) {
    let position = state;
    while (tokens[position]?.kind === "any") {
      position += 1;
      result.add(position);
    }
  }
  return result;
}

// ---------------------------------------------------------------------------- order

interface CompiledOrder {
  path: ResolvedPath;
  descending: boolean;
  nullsLast: boolean;
}

export function compileOrder(
  statement: string,
  schema: Schema,
  object: ObjectDefinition,
  item: OrderItem,
): CompiledOrder {
  const path = resolvePath(statement, schema, object, item.field);
  if (!path.valueField.sortable) {
    throw queryError(
      "INVALID_FIELD",
      statement,
      item.field.offset,
      `field '${path.valueField.name}' can not be sorted in a query call`,
    );
  }
  return { path, descending: item.descending, nullsLast: item.nullsLast };
}

export function sortRecords(
  records: StoredRecord[],
  order: CompiledOrder[],
  store: RecordStore,
): StoredRecord[] {
  if (order.length === 0) return records;
  return [...records].sort((left, right) => {
    for (const item of order) {
      const a = comparable(pathValue(left, item.path, store), item.path.valueField);
      const b = comparable(pathValue(right, item.path, store), item.path.valueField);
      if (a === b) continue;
      if (a === null) return item.nullsLast ? 1 : -1;
      if (b === null) return item.nullsLast ? -1 : 1;
      const result = a < b ? -1 : 1;
      return item.descending ? -result : result;
    }
    return 0;
  });
}

/** A query-level error for a statement that is missing (`q` absent or empty). */
export function missingQuery(): SalesforceApiError {
  return apiError(400, "MALFORMED_QUERY", "A query string has to be specified");
}

export type { SelectQuery };
