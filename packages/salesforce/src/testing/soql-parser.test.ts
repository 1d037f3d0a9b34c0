import { describe, expect, it } from "vitest";
import { likeMatches } from "./soql-engine.ts";
import { parseSoql, tokenize } from "./soql-parser.ts";

describe("SOQL parser", () => {
  it("parses fields, relationships, conditions, ordering and paging", () => {
    const query = parseSoql(
      "select Id, Account.Name FROM Contact WHERE (Email != null OR MobilePhone LIKE '%555%') AND NOT LastName IN ('a', 'b') AND CreatedDate >= LAST_N_DAYS:7 ORDER BY LastName DESC NULLS FIRST, Id LIMIT 10 OFFSET 5",
    );
    expect(query.fields.map((field) => field.parts)).toEqual([["Id"], ["Account", "Name"]]);
    expect(query.object.name).toBe("Contact");
    expect(query.where?.kind).toBe("and");
    expect(query.orderBy).toEqual([
      { field: { parts: ["LastName"], offset: expect.any(Number) }, descending: true, nullsLast: false },
      { field: { parts: ["Id"], offset: expect.any(Number) }, descending: false, nullsLast: false },
    ]);
    expect([query.limit, query.offset]).toEqual([10, 5]);
    expect(parseSoql("SELECT COUNT() FROM Lead").count).toBe(true);
  });

  it("tokenizes literals: escaped strings, dates, date-times, negative numbers", () => {
    const tokens = tokenize(
      "x = 'O\\'Neil' AND d = 2026-01-02 AND t > 2026-01-02T03:04:05.000+0000 AND n < -1.5",
    );
    expect(
      tokens
        .filter((token) => token.kind !== "identifier" && token.kind !== "symbol")
        .map((token) => [token.kind, token.text]),
    ).toEqual([
      ["string", "O'Neil"],
      ["date", "2026-01-02"],
      ["datetime", "2026-01-02T03:04:05.000+0000"],
      ["number", "-1.5"],
      ["eof", "<EOF>"],
    ]);
  });

  it("rejects what Salesforce rejects", () => {
    expect(() => parseSoql("SELECT Id FROM Contact WHERE a = 1 AND b = 2 OR c = 3")).toThrow(
      /unexpected token: 'OR'/,
    );
    expect(() => parseSoql("SELECT Id FROM Contact WHERE a = 'x")).toThrow(/mismatched character/);
    expect(() => parseSoql("SELECT FROM Contact")).toThrow(/unexpected token: 'FROM'/);
    expect(() => parseSoql("SELECT Id FROM Contact OFFSET 2001")).toThrow(
      /Maximum SOQL offset allowed is 2000/,
    );
    expect(() => parseSoql("SELECT Id FROM Contact LIMIT 99999999999")).toThrow(/numeric value out of range/);
    expect(() => parseSoql("SELECT Id, (SELECT Id FROM Tasks) FROM Contact")).toThrow(
      /Subqueries are not supported/,
    );
  });
});

describe("LIKE", () => {
  it("matches % and _ wildcards case-insensitively, with escapes", () => {
    expect(likeMatches("Acme Corp", "acme%")).toBe(true);
    expect(likeMatches("Acme Corp", "%CORP")).toBe(true);
    expect(likeMatches("Acme", "A_me")).toBe(true);
    expect(likeMatches("Acme", "A_e")).toBe(false);
    expect(likeMatches("100%", "100\\%")).toBe(true);
    expect(likeMatches("1000", "100\\%")).toBe(false);
    expect(likeMatches("", "%")).toBe(true);
    expect(
      likeMatches(
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
        "%a%a%a%a%a%a%a%a%a%a%a%a%c",
      ),
    ).toBe(false);
  });
});
