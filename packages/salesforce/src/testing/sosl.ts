/**
 * The SOSL subset the simulator executes:
 *
 * ```
 * FIND {search expression}
 * [IN ALL FIELDS | NAME FIELDS | EMAIL FIELDS | PHONE FIELDS]
 * [RETURNING Object [(field, … [WHERE condition] [ORDER BY …] [LIMIT n] [OFFSET n])], …]
 * [LIMIT n]
 * ```
 *
 * The search expression: words (implicitly ANDed), `"quoted phrases"`, `OR`,
 * `AND NOT`, the wildcards `*` and `?`, backslash escapes of reserved characters.
 * Matching is case-insensitive on whole tokens of the searched fields.
 *
 * Phone numbers: Salesforce indexes phone fields by their digits, so
 * `FIND {4155551212} IN PHONE FIELDS` finds "(415) 555-1212" (the documented
 * search example). An expression that is a phone number (digits with `+ ( ) - .`
 * and spaces, at least 7 digits) matches a phone field when the digits are equal,
 * or when one is the other with up to three leading digits more (a country code
 * such as the `1` of "+1 415 555 1212").
 */
import { apiError, type SalesforceApiError } from "./simulator-errors.ts";
import type { FieldDefinition, ObjectDefinition } from "./simulator-schema.ts";
import type { StoredRecord } from "./simulator-store.ts";
import {
  compileCondition,
  compileOrder,
  type QueryContext,
  renderQueryRecord,
  resolveSelectList,
  sortRecords,
} from "./soql-engine.ts";
import {
  type Condition,
  type FieldPath,
  type OrderItem,
  parseCondition,
  TokenCursor,
  tokenize,
} from "./soql-parser.ts";

type SearchGroup = "ALL" | "NAME" | "EMAIL" | "PHONE";

interface ReturningSpec {
  objectName: string;
  offset: number;
  fields: FieldPath[];
  where: Condition | null;
  orderBy: OrderItem[];
  limit: number | null;
  skip: number | null;
}

interface SearchTerm {
  /** Lower-cased sub-tokens of the term (a phrase or a punctuated word has several). */
  tokens: string[];
  negated: boolean;
}

const DEFAULT_OBJECTS = ["Account", "Contact", "Lead", "Task", "User"];
const PHONE_EXPRESSION = /^[+\d\s().-]+$/;

function searchError(message: string): SalesforceApiError {
  return apiError(400, "MALFORMED_SEARCH", message);
}

/** Runs a SOSL statement: `{ searchRecords }`. */
export function runSosl(
  statement: string,
  context: QueryContext,
): { searchRecords: Record<string, unknown>[] } {
  const trimmedStart = statement.length - statement.trimStart().length;
  const findMatch = /^FIND\s*\{/i.exec(statement.trimStart());
  if (findMatch === null)
    throw searchError(
      `line 1:${trimmedStart} no viable alternative at character '${statement.trimStart().charAt(0)}'`,
    );
  const open = trimmedStart + findMatch[0].length - 1;
  let index = open + 1;
  let expression = "";
  let closed = false;
  while (index < statement.length) {
    const character = statement.charAt(index);
    if (character === "\\") {
      expression += statement.charAt(index + 1);
      index += 2;
      continue;
    }
    if (character === "}") {
      closed = true;
      break;
    }
    expression += character;
    index += 1;
  }
  if (!closed) throw searchError("line 1:0 missing '}' at '<EOF>'");
  // Keep offsets: blank out everything up to the closing brace.
  const rest = " ".repeat(index + 1) + statement.slice(index + 1);
  const cursor = new TokenCursor(rest, tokenize(rest, "MALFORMED_SEARCH"), "MALFORMED_SEARCH");
  let group: SearchGroup = "ALL";
  if (cursor.acceptKeyword("IN")) {
    const token = cursor.expectIdentifier();
    const name = token.text.toUpperCase();
    if (name !== "ALL" && name !== "NAME" && name !== "EMAIL" && name !== "PHONE") {
      throw cursor.error(
        token,
        `${token.text.toUpperCase()} FIELDS is not supported by the Salesforce simulator`,
      );
    }
    group = name;
    cursor.expectKeyword("FIELDS");
  }
  const specs: ReturningSpec[] = [];
  if (cursor.acceptKeyword("RETURNING")) {
    do specs.push(parseReturning(cursor));
    while (cursor.isSymbol(",") && cursor.next());
  }
  let overallLimit = 2000;
  if (cursor.acceptKeyword("LIMIT")) {
    const token = cursor.next();
    if (token.kind !== "number" || !/^\d+$/.test(token.text)) throw cursor.unexpected(token);
    overallLimit = Math.min(2000, Number(token.text));
  }
  if (cursor.peek().kind !== "eof") throw cursor.unexpected();

  const terms = parseExpression(expression);
  const phoneDigits = PHONE_EXPRESSION.test(expression.trim()) ? expression.replace(/\D/g, "") : "";
  const phoneMode = phoneDigits.length >= 7;
  const searchRecords: Record<string, unknown>[] = [];
  const effectiveSpecs: ReturningSpec[] =
    specs.length > 0
      ? specs
      : DEFAULT_OBJECTS.map((objectName) => ({
          objectName,
          offset: 0,
          fields: [],
          where: null,
          orderBy: [],
          limit: null,
          skip: null,
        }));
  for (const spec of effectiveSpecs) {
    const object = context.schema.object(spec.objectName);
    if (object === undefined) {
      throw apiError(400, "INVALID_TYPE", `sObject type '${spec.objectName}' is not supported.`);
    }
    const paths = resolveSelectList(
      rest,
      context.schema,
      object,
      spec.fields.length > 0 ? spec.fields : [{ parts: ["Id"], offset: spec.offset }],
    );
    const filter = spec.where === null ? null : compileCondition(rest, object, spec.where, context);
    const order = spec.orderBy.map((item) => compileOrder(rest, context.schema, object, item));
    const fields = searchableFields(object, group);
    let matches = context.store
      .all(object.name)
      .filter((record) => recordMatches(record, fields, terms, phoneMode ? phoneDigits : null))
      .filter((record) => filter === null || filter(record));
    matches = sortRecords(matches, order, context.store).slice(
      spec.skip ?? 0,
      spec.limit === null ? undefined : (spec.skip ?? 0) + spec.limit,
    );
    for (const record of matches) {
      if (searchRecords.length >= overallLimit) break;
      searchRecords.push(renderQueryRecord(record, paths, context));
    }
  }
  return { searchRecords };
}

function parseReturning(cursor: TokenCursor): ReturningSpec {
  const objectToken = cursor.expectIdentifier();
  const spec: ReturningSpec = {
    objectName: objectToken.text,
    offset: objectToken.offset,
    fields: [],
    where: null,
    orderBy: [],
    limit: null,
    skip: null,
  };
  if (!cursor.isSymbol("(")) return spec;
  cursor.next();
  do {
    const token = cursor.expectIdentifier();
    spec.fields.push({ parts: token.text.split("."), offset: token.offset });
  } while (cursor.isSymbol(",") && cursor.next());
  if (cursor.acceptKeyword("WHERE")) spec.where = parseCondition(cursor);
  if (cursor.acceptKeyword("ORDER")) {
    cursor.expectKeyword("BY");
    do {
      const token = cursor.expectIdentifier();
      let descending = false;
      if (cursor.acceptKeyword("DESC")) descending = true;
      else cursor.acceptKeyword("ASC");
      let nullsLast = descending;
      if (cursor.acceptKeyword("NULLS"))
        if (cursor.acceptKeyword("FIRST")) nullsLast = false;
        else {
          cursor.expectKeyword("LAST");
          nullsLast = true;
        }
      spec.orderBy.push({
        field: { parts: token.text.split("."), offset: token.offset },
        descending,
        nullsLast,
      });
    } while (cursor.isSymbol(",") && cursor.next());
  }
  if (cursor.acceptKeyword("LIMIT")) spec.limit = integer(cursor);
  if (cursor.acceptKeyword("OFFSET")) spec.skip = integer(cursor);
  cursor.expectSymbol(")");
  return spec;
}

function integer(cursor: TokenCursor): number {
  const token = cursor.next();
  if (token.kind !== "number" || !/^\d+$/.test(token.text)) throw cursor.unexpected(token);
  return Number(token.text);
}

/** Splits the search expression into OR-groups of AND-ed (possibly negated) terms. */
function parseExpression(expression: string): SearchTerm[][] {
  const words: { text: string; quoted: boolean }[] = [];
  const pattern = /"([^"]*)"|(\S+)/g;
  for (const match of expression.matchAll(pattern)) {
    if (match[1] !== undefined) words.push({ text: match[1], quoted: true });
    else if (match[2] !== undefined) words.push({ text: match[2], quoted: false });
  }
  const groups: SearchTerm[][] = [[]];
  let negateNext = false;
  for (let index = 0; index < words.length; index += 1) {
    const word = words[index];
    if (word === undefined) continue;
    const upper = word.quoted ? "" : word.text.toUpperCase();
    if (upper === "OR") {
      groups.push([]);
      continue;
    }
    if (upper === "AND") {
      if (words[index + 1]?.text.toUpperCase() === "NOT" && words[index + 1]?.quoted === false) {
        negateNext = true;
        index += 1;
      }
      continue;
    }
    const tokens = tokensOf(word.text, true);
    if (tokens.length === 0) continue;
    groups.at(-1)?.push({ tokens, negated: negateNext });
    negateNext = false;
  }
  const meaningful = expression.replace(/[*?"\s]/g, "");
  if (meaningful.length < 2 || groups.every((group) => group.length === 0)) {
    throw searchError("No search term found. The search term must be at least 2 characters long.");
  }
  return groups.filter((group) => group.length > 0);
}

/** Lower-cased alphanumeric tokens (wildcards kept in search terms). */
function tokensOf(text: string, keepWildcards: boolean): string[] {
  const pattern = keepWildcards ? /[\p{L}\p{N}*?]+/gu : /[\p{L}\p{N}]+/gu;
  return [...text.toLowerCase().matchAll(pattern)].map((match) => match[0]);
}

function searchableFields(object: ObjectDefinition, group: SearchGroup): FieldDefinition[] {
  return object.fields.filter((definition) => {
    if (definition.name === "Id" || (definition.calculated && definition.name !== "Name")) return false;
    switch (group) {
      case "NAME":
        return definition.nameSearch;
      case "EMAIL":
        return definition.type === "email";
      case "PHONE":
        return definition.type === "phone";
      default:
        return ["string", "textarea", "email", "phone", "url", "picklist", "combobox"].includes(
          definition.type,
        );
    }
  });
}

function recordMatches(
  record: StoredRecord,
  fields: FieldDefinition[],
  groups: SearchTerm[][],
  phoneDigits: string | null,
): boolean {
  if (phoneDigits !== null) {
    const phoneFields = fields.filter((definition) => definition.type === "phone");
    if (phoneFields.some((definition) => phoneMatches(record.values[definition.name], phoneDigits)))
      return true;
  }
  return groups.some((group) =>
    group.every((term) => {
      const found = fields.some((definition) =>
        fieldMatches(record.values[definition.name], definition, term),
      );
      return term.negated ? !found : found;
    }),
  );
}

function phoneMatches(value: unknown, searchDigits: string): boolean {
  if (typeof value !== "string") return false;
  const digits = value.replace(/\D/g, "");
  if (digits.length === 0) return false;
  if (digits === searchDigits) return true;
  const [shorter, longer] =
    digits.length < searchDigits.length ? [digits, searchDigits] : [searchDigits, digits];
  return shorter.length >= 7 && longer.length - shorter.length <= 3 && longer.endsWith(shorter);
}

function fieldMatches(value: unknown, definition: FieldDefinition, term: SearchTerm): boolean {
  if (typeof value !== "string" || value === "") return false;
  if (
    definition.type === "email" &&
    term.tokens.join("") === value.toLowerCase().replace(/[^\p{L}\p{N}]/gu, "")
  )
    return true;
  const tokens = tokensOf(value, false);
  const matchers = term.tokens.map(tokenMatcher);
  for (let start = 0; start + matchers.length <= tokens.length; start += 1) {
    if (matchers.every((matcher, offset) => matcher(tokens[start + offset] ?? ""))) return true;
  }
  return false;
}

function tokenMatcher(term: string): (token: string) => boolean {
  if (!term.includes("*") && !term.includes("?")) return (token) => token === term;
  const source = term
    .split("")
    .map((character) =>
      character === "*" ? "[\\p{L}\\p{N}]*" : character === "?" ? "[\\p{L}\\p{N}]" : character,
    )
    .join("");
  const pattern = new RegExp(`^${source}$`, "u");
  return (token) => pattern.test(token);
}
