/**
 * A tokenizer and recursive-descent parser for the SOQL subset the simulator
 * executes:
 *
 * ```
 * SELECT COUNT() | field [, field…]          field: Name | Relationship.Name
 * FROM Object
 * [WHERE condition]                          AND / OR / NOT, parentheses; mixing AND and
 *                                            OR without parentheses is rejected, as in Salesforce
 *   comparison: field (= | != | <> | < | <= | > | >= | LIKE) value
 *               field [NOT] IN (value, …)
 *   value: 'string' | number | TRUE | FALSE | NULL | 2026-01-01 | 2026-01-01T00:00:00Z
 *          | TODAY | LAST_N_DAYS:n | THIS_MONTH | …
 * [ORDER BY field [ASC|DESC] [NULLS FIRST|LAST], …]
 * [LIMIT n] [OFFSET n]
 * ```
 *
 * Errors are MALFORMED_QUERY (or the caller's code) with Salesforce's message
 * layout: the query line, a caret, `ERROR at Row:r:Column:c`, then the reason.
 */
import { apiError, type SalesforceApiError } from "./simulator-errors.ts";
import { isDate, parseDateTime } from "./simulator-values.ts";

export type TokenKind = "identifier" | "string" | "number" | "date" | "datetime" | "symbol" | "eof";

export interface Token {
  kind: TokenKind;
  /** The raw text (for strings: the unescaped value). */
  text: string;
  /** 0-based offset in the statement. */
  offset: number;
}

export interface FieldPath {
  parts: string[];
  offset: number;
}

export type Literal =
  | { kind: "string"; value: string; offset: number }
  | { kind: "number"; value: number; offset: number }
  | { kind: "boolean"; value: boolean; offset: number }
  | { kind: "null"; offset: number }
  | { kind: "date"; value: string; offset: number }
  | { kind: "datetime"; value: number; text: string; offset: number }
  | { kind: "dateLiteral"; name: string; amount: number | null; offset: number };

export type ComparisonOperator = "=" | "!=" | "<" | "<=" | ">" | ">=" | "like" | "in" | "not in";

export type Condition =
  | { kind: "and" | "or"; items: Condition[] }
  | { kind: "not"; item: Condition }
  | { kind: "comparison"; field: FieldPath; operator: ComparisonOperator; values: Literal[] };

export interface OrderItem {
  field: FieldPath;
  descending: boolean;
  nullsLast: boolean;
}

export interface SelectQuery {
  count: boolean;
  fields: FieldPath[];
  object: { name: string; offset: number };
  where: Condition | null;
  orderBy: OrderItem[];
  limit: number | null;
  offset: number | null;
}

const SYMBOLS = ["!=", "<>", "<=", ">=", "=", "<", ">", "(", ")", ",", ":"];
const MAX_INTEGER = 2_147_483_647;

/** Formats a Salesforce query error: the offending line, a caret, the position and the reason. */
export function queryError(
  errorCode: string,
  statement: string,
  offset: number,
  reason: string,
): SalesforceApiError {
  const before = statement.slice(0, Math.max(0, offset));
  const row = before.split("\n").length;
  const lineStart = before.lastIndexOf("\n") + 1;
  const lineEnd = statement.indexOf("\n", offset) === -1 ? statement.length : statement.indexOf("\n", offset);
  const line = statement.slice(lineStart, lineEnd);
  const column = offset - lineStart + 1;
  return apiError(
    400,
    errorCode,
    `\n${line}\n${" ".repeat(Math.max(0, column - 1))}^\nERROR at Row:${row}:Column:${column}\n${reason}`,
  );
}

/** Splits a SOQL statement (or a SOSL clause) into tokens. */
export function tokenize(statement: string, errorCode = "MALFORMED_QUERY"): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < statement.length) {
    const character = statement.charAt(index);
    if (/\s/.test(character)) {
      index += 1;
      continue;
    }
    const start = index;
    if (character === "'") {
      let value = "";
      index += 1;
      let closed = false;
      while (index < statement.length) {
        const current = statement.charAt(index);
        if (current === "\\") {
          const next = statement.charAt(index + 1);
          const escapes: Record<string, string> = {
            n: "\n",
            r: "\r",
            t: "\t",
            b: "\b",
            f: "\f",
            '"': '"',
            "'": "'",
            "\\": "\\",
          };
          if (next === "_" || next === "%") value += `\\${next}`;
          else if (next in escapes) value += escapes[next];
          else
            throw queryError(
              errorCode,
              statement,
              index,
              `Invalid string literal '${statement.slice(start + 1, index + 2)}'. Illegal character sequence '\\${next}' in string literal.`,
            );
          index += 2;
          continue;
        }
        if (current === "'") {
          closed = true;
          index += 1;
          break;
        }
        value += current;
        index += 1;
      }
      if (!closed)
        throw queryError(
          errorCode,
          statement,
          start,
          `line 1:${start} mismatched character '<EOF>' expecting '''`,
        );
      tokens.push({ kind: "string", text: value, offset: start });
      continue;
    }
    const dateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2})/.exec(
      statement.slice(index),
    );
    if (dateTime !== null) {
      tokens.push({ kind: "datetime", text: dateTime[0], offset: start });
      index += dateTime[0].length;
      continue;
    }
    const date = /^\d{4}-\d{2}-\d{2}(?![\d:T])/.exec(statement.slice(index));
    if (date !== null) {
      tokens.push({ kind: "date", text: date[0], offset: start });
      index += date[0].length;
      continue;
    }
    const number = /^[-+]?\d+(?:\.\d+)?/.exec(statement.slice(index));
    if (number !== null && (/\d/.test(character) || /\d/.test(statement.charAt(index + 1)))) {
      tokens.push({ kind: "number", text: number[0], offset: start });
      index += number[0].length;
      continue;
    }
    const identifier = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(statement.slice(index));
    if (identifier !== null) {
      tokens.push({ kind: "identifier", text: identifier[0], offset: start });
      index += identifier[0].length;
      continue;
    }
    const symbol = SYMBOLS.find((candidate) => statement.startsWith(candidate, index));
    if (symbol !== undefined) {
      tokens.push({ kind: "symbol", text: symbol, offset: start });
      index += symbol.length;
      continue;
    }
    throw queryError(
      errorCode,
      statement,
      start,
      `line 1:${start} no viable alternative at character '${character}'`,
    );
  }
  tokens.push({ kind: "eof", text: "<EOF>", offset: statement.length });
  return tokens;
}

/** A cursor over tokens with the helpers both parsers share. */
export class TokenCursor {
  private readonly tokens: Token[];
  private position = 0;
  readonly statement: string;
  readonly errorCode: string;

  constructor(statement: string, tokens: Token[], errorCode: string) {
    this.statement = statement;
    this.tokens = tokens;
    this.errorCode = errorCode;
  }

  peek(ahead = 0): Token {
    return this.tokens[Math.min(this.position + ahead, this.tokens.length - 1)] as Token;
  }

  next(): Token {
    const token = this.peek();
    if (this.position < this.tokens.length - 1) this.position += 1;
    return token;
  }

  /** Whether the next token is the keyword (case-insensitive identifier). */
  isKeyword(keyword: string, ahead = 0): boolean {
    const token = this.peek(ahead);
    return token.kind === "identifier" && token.text.toUpperCase() === keyword;
  }

  isSymbol(symbol: string): boolean {
    const token = this.peek();
    return token.kind === "symbol" && token.text === symbol;
  }

  acceptKeyword(keyword: string): boolean {
    if (!this.isKeyword(keyword)) return false;
    this.next();
    return true;
  }

  expectKeyword(keyword: string): Token {
    if (!this.isKeyword(keyword)) throw this.unexpected();
    return this.next();
  }

  expectSymbol(symbol: string): Token {
    if (!this.isSymbol(symbol)) throw this.unexpected();
    return this.next();
  }

  expectIdentifier(): Token {
    if (this.peek().kind !== "identifier") throw this.unexpected();
    return this.next();
  }

  unexpected(token: Token = this.peek()): SalesforceApiError {
    const shown =
      token.kind === "eof" ? "<EOF>" : token.kind === "string" ? `'${token.text}'` : `'${token.text}'`;
    return queryError(this.errorCode, this.statement, token.offset, `unexpected token: ${shown}`);
  }

  error(token: Token, reason: string): SalesforceApiError {
    return queryError(this.errorCode, this.statement, token.offset, reason);
  }
}

const RESERVED = new Set([
  "AND",
  "OR",
  "NOT",
  "FROM",
  "WHERE",
  "ORDER",
  "BY",
  "LIMIT",
  "OFFSET",
  "SELECT",
  "IN",
  "LIKE",
  "NULL",
  "TRUE",
  "FALSE",
  "NULLS",
  "ASC",
  "DESC",
  "GROUP",
  "HAVING",
  "WITH",
  "FOR",
  "USING",
]);

const UNSUPPORTED_CLAUSES = ["GROUP", "HAVING", "WITH", "FOR", "USING", "TYPEOF"];

/** Parses a SELECT statement. */
export function parseSoql(statement: string): SelectQuery {
  const cursor = new TokenCursor(statement, tokenize(statement), "MALFORMED_QUERY");
  cursor.expectKeyword("SELECT");
  let count = false;
  const fields: FieldPath[] = [];
  if (cursor.isKeyword("COUNT") && cursor.peek(1).text === "(") {
    cursor.next();
    cursor.expectSymbol("(");
    if (!cursor.isSymbol(")")) {
      throw cursor.error(
        cursor.peek(),
        "Aggregate functions other than COUNT() are not supported by the Salesforce simulator",
      );
    }
    cursor.expectSymbol(")");
    count = true;
  } else {
    do {
      if (cursor.isSymbol("("))
        throw cursor.error(cursor.peek(), "Subqueries are not supported by the Salesforce simulator");
      const token = cursor.expectIdentifier();
      if (RESERVED.has(token.text.toUpperCase()) && token.text.toUpperCase() !== "NULL")
        throw cursor.unexpected(token);
      if (cursor.isSymbol("(")) {
        throw cursor.error(
          token,
          `${token.text.toUpperCase()}() is not supported by the Salesforce simulator`,
        );
      }
      fields.push({ parts: token.text.split("."), offset: token.offset });
    } while (cursor.isSymbol(",") && cursor.next());
  }
  cursor.expectKeyword("FROM");
  const objectToken = cursor.expectIdentifier();
  if (objectToken.text.includes(".") || RESERVED.has(objectToken.text.toUpperCase()))
    throw cursor.unexpected(objectToken);
  let where: Condition | null = null;
  if (cursor.acceptKeyword("WHERE")) where = parseCondition(cursor);
  const orderBy: OrderItem[] = [];
  if (cursor.isKeyword("ORDER")) {
    cursor.next();
    cursor.expectKeyword("BY");
    do {
      const token = cursor.expectIdentifier();
      let descending = false;
      if (cursor.acceptKeyword("DESC")) descending = true;
      else cursor.acceptKeyword("ASC");
      let nullsLast = descending;
      if (cursor.acceptKeyword("NULLS")) {
        if (cursor.acceptKeyword("FIRST")) nullsLast = false;
        else {
          cursor.expectKeyword("LAST");
          nullsLast = true;
        }
      }
      orderBy.push({ field: { parts: token.text.split("."), offset: token.offset }, descending, nullsLast });
    } while (cursor.isSymbol(",") && cursor.next());
    if (orderBy.length > 32) throw cursor.error(cursor.peek(), "ORDER BY can contain at most 32 fields");
  }
  let limit: number | null = null;
  let offset: number | null = null;
  if (cursor.acceptKeyword("LIMIT")) limit = parseInteger(cursor);
  if (cursor.acceptKeyword("OFFSET")) {
    const token = cursor.peek();
    offset = parseInteger(cursor);
    if (offset > 2000) throw cursor.error(token, "Maximum SOQL offset allowed is 2000");
  }
  const trailing = cursor.peek();
  if (trailing.kind !== "eof") {
    if (trailing.kind === "identifier" && UNSUPPORTED_CLAUSES.includes(trailing.text.toUpperCase())) {
      throw cursor.error(
        trailing,
        `${trailing.text.toUpperCase()} is not supported by the Salesforce simulator`,
      );
    }
    throw cursor.unexpected(trailing);
  }
  return {
    count,
    fields,
    object: { name: objectToken.text, offset: objectToken.offset },
    where,
    orderBy,
    limit,
    offset,
  };
}

function parseInteger(cursor: TokenCursor): number {
  const token = cursor.peek();
  if (token.kind !== "number" || !/^\d+$/.test(token.text)) throw cursor.unexpected(token);
  cursor.next();
  const value = Number(token.text);
  if (!Number.isSafeInteger(value) || value > MAX_INTEGER) {
    throw cursor.error(token, `numeric value out of range: '${token.text}'`);
  }
  return value;
}

/** condition := term ((AND term)* | (OR term)*) — a chain of one operator only. */
export function parseCondition(cursor: TokenCursor): Condition {
  const first = parseUnary(cursor);
  if (!cursor.isKeyword("AND") && !cursor.isKeyword("OR")) return first;
  const operator = cursor.peek().text.toUpperCase() === "AND" ? "and" : "or";
  const items = [first];
  while (cursor.isKeyword("AND") || cursor.isKeyword("OR")) {
    const token = cursor.peek();
    if (token.text.toLowerCase() !== operator) throw cursor.unexpected(token);
    cursor.next();
    items.push(parseUnary(cursor));
  }
  return { kind: operator, items };
}

function parseUnary(cursor: TokenCursor): Condition {
  if (cursor.acceptKeyword("NOT")) return { kind: "not", item: parseUnary(cursor) };
  if (cursor.isSymbol("(")) {
    cursor.next();
    const inner = parseCondition(cursor);
    cursor.expectSymbol(")");
    return inner;
  }
  return parseComparison(cursor);
}

function parseComparison(cursor: TokenCursor): Condition {
  const fieldToken = cursor.expectIdentifier();
  if (RESERVED.has(fieldToken.text.toUpperCase())) throw cursor.unexpected(fieldToken);
  const field: FieldPath = { parts: fieldToken.text.split("."), offset: fieldToken.offset };
  const token = cursor.peek();
  if (token.kind === "symbol" && ["=", "!=", "<>", "<", "<=", ">", ">="].includes(token.text)) {
    cursor.next();
    const operator = (token.text === "<>" ? "!=" : token.text) as ComparisonOperator;
    return { kind: "comparison", field, operator, values: [parseLiteral(cursor)] };
  }
  if (cursor.acceptKeyword("LIKE"))
    return { kind: "comparison", field, operator: "like", values: [parseLiteral(cursor)] };
  let negated = false;
  if (cursor.isKeyword("NOT") && cursor.isKeyword("IN", 1)) {
    cursor.next();
    negated = true;
  }
  if (cursor.acceptKeyword("IN")) {
    cursor.expectSymbol("(");
    if (cursor.isKeyword("SELECT"))
      throw cursor.error(cursor.peek(), "Semi-join subqueries are not supported by the Salesforce simulator");
    const values: Literal[] = [];
    do values.push(parseLiteral(cursor));
    while (cursor.isSymbol(",") && cursor.next());
    cursor.expectSymbol(")");
    return { kind: "comparison", field, operator: negated ? "not in" : "in", values };
  }
  if (cursor.isKeyword("INCLUDES") || cursor.isKeyword("EXCLUDES")) {
    throw cursor.error(cursor.peek(), "INCLUDES and EXCLUDES are not supported by the Salesforce simulator");
  }
  throw cursor.unexpected();
}

const DATE_LITERALS = new Set([
  "TODAY",
  "YESTERDAY",
  "TOMORROW",
  "LAST_WEEK",
  "THIS_WEEK",
  "NEXT_WEEK",
  "LAST_MONTH",
  "THIS_MONTH",
  "NEXT_MONTH",
  "LAST_90_DAYS",
  "NEXT_90_DAYS",
  "THIS_YEAR",
  "LAST_YEAR",
  "NEXT_YEAR",
]);
const DATE_LITERALS_WITH_AMOUNT = new Set([
  "LAST_N_DAYS",
  "NEXT_N_DAYS",
  "LAST_N_WEEKS",
  "NEXT_N_WEEKS",
  "LAST_N_MONTHS",
  "NEXT_N_MONTHS",
]);

/** The date literals (`TODAY`, `LAST_N_DAYS:n`, …) the simulator understands. */
export function isDateLiteralName(name: string): boolean {
  return DATE_LITERALS.has(name) || DATE_LITERALS_WITH_AMOUNT.has(name);
}

export function parseLiteral(cursor: TokenCursor): Literal {
  const token = cursor.next();
  switch (token.kind) {
    case "string":
      if (token.text.length > 4000)
        throw cursor.error(token, "String literal exceeds the maximum length of 4000 characters");
      return { kind: "string", value: token.text, offset: token.offset };
    case "number":
      return { kind: "number", value: Number(token.text), offset: token.offset };
    case "date":
      if (!isDate(token.text))
        throw cursor.error(
          token,
          `line 1:${token.offset} no viable alternative at character '${token.text}'`,
        );
      return { kind: "date", value: token.text, offset: token.offset };
    case "datetime": {
      const value = parseDateTime(token.text);
      if (value === undefined)
        throw cursor.error(
          token,
          `line 1:${token.offset} no viable alternative at character '${token.text}'`,
        );
      return { kind: "datetime", value, text: token.text, offset: token.offset };
    }
    case "identifier": {
      const upper = token.text.toUpperCase();
      if (upper === "NULL") return { kind: "null", offset: token.offset };
      if (upper === "TRUE" || upper === "FALSE")
        return { kind: "boolean", value: upper === "TRUE", offset: token.offset };
      if (DATE_LITERALS.has(upper))
        return { kind: "dateLiteral", name: upper, amount: null, offset: token.offset };
      if (DATE_LITERALS_WITH_AMOUNT.has(upper)) {
        cursor.expectSymbol(":");
        const amountToken = cursor.next();
        if (amountToken.kind !== "number" || !/^\d+$/.test(amountToken.text))
          throw cursor.unexpected(amountToken);
        const amount = Number(amountToken.text);
        if (!Number.isSafeInteger(amount) || amount > MAX_INTEGER) {
          throw cursor.error(amountToken, `numeric value out of range: '${amountToken.text}'`);
        }
        return { kind: "dateLiteral", name: upper, amount, offset: token.offset };
      }
      throw cursor.unexpected(token);
    }
    default:
      throw cursor.unexpected(token);
  }
}
