import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseCsv, writeCsv } from "./simulator-csv.ts";

describe("Bulk API CSV", () => {
  it("parses quotes, escaped quotes, embedded delimiters and line breaks", () => {
    const parsed = parseCsv('Name,Title\n"Ng, Ada","She said ""hi""\nthen left"\nBob,\n', ",");
    expect(parsed.rows).toEqual([
      ["Name", "Title"],
      ["Ng, Ada", 'She said "hi"\nthen left'],
      ["Bob", ""],
    ]);
    expect([...parsed.lineEndings]).toEqual(["LF"]);
    expect([...parseCsv("a|b\r\n1|2\r\n", "|").lineEndings]).toEqual(["CRLF"]);
  });

  it("writes what it reads (property)", () => {
    const cell = fc.string({ unit: fc.constantFrom("a", "b", ",", '"', "\n", " ", "é", "|") });
    fc.assert(
      fc.property(
        fc.array(fc.array(cell, { minLength: 2, maxLength: 2 }), { minLength: 1, maxLength: 6 }),
        fc.constantFrom(",", "|", "\t"),
        (rows, delimiter) => {
          const text = writeCsv(rows, delimiter, "LF");
          expect(parseCsv(text, delimiter).rows).toEqual(rows);
        },
      ),
    );
  });
});
