import { describe, expect, it } from "vitest";
import { displayWidth, renderTable, truncate, wrapText } from "./table.ts";

describe("renderTable", () => {
  it("pads columns to their content under a header rule, right-aligning numbers when asked", () => {
    const text = renderTable(
      [{ header: "id", align: "right" }, { header: "connector" }, { header: "error" }],
      [
        ["7", "slack", "rate_limited: slow down"],
        ["12", "hubspot", "validation_error: bad email"],
      ],
    );
    expect(text.split("\n")).toEqual([
      "id  connector  error",
      "──  ─────────  ───────────────────────────",
      " 7  slack      rate_limited: slow down",
      "12  hubspot    validation_error: bad email",
    ]);
  });

  it("shrinks wrapping columns first, balanced, and wraps their text to fit the width", () => {
    const long = "the quick brown fox jumps over the lazy dog and keeps running far away";
    const text = renderTable(
      [{ header: "check" }, { header: "detail", overflow: "wrap" }, { header: "fix", overflow: "wrap" }],
      [["database", long, long]],
      { maxWidth: 60 },
    );
    const lines = text.split("\n");
    for (const line of lines) expect(displayWidth(line)).toBeLessThanOrEqual(60);
    expect(lines.length).toBeGreaterThan(3);
    // Every word is still there, in order, in each wrapped column.
    const detailStart = lines[0]?.indexOf("detail") ?? -1;
    const fixStart = lines[0]?.indexOf("fix") ?? -1;
    const column = (start: number, end?: number) =>
      lines
        .slice(2)
        .map((line) => line.slice(start, end).trim())
        .filter((part) => part !== "")
        .join(" ");
    expect(column(detailStart, fixStart)).toBe(long);
    expect(column(fixStart)).toBe(long);
  });

  it("truncates non-wrapping cells with an ellipsis when the table is too wide", () => {
    const text = renderTable([{ header: "key" }, { header: "value" }], [["a".repeat(50), "b".repeat(50)]], {
      maxWidth: 40,
    });
    for (const line of text.split("\n")) expect(displayWidth(line)).toBeLessThanOrEqual(40);
    expect(text).toContain("…");
  });

  it("keeps a maxWidth per column and turns line breaks of truncated cells into spaces", () => {
    const text = renderTable(
      [{ header: "key", maxWidth: 5 }, { header: "value" }],
      [["abcdefgh", "one\ntwo"]],
    );
    expect(text.split("\n")[2]).toBe("abcd…  one two");
  });
});

describe("text helpers", () => {
  it("truncate and wrapText keep within the width and split long words", () => {
    expect(truncate("abcdef", 4)).toBe("abc…");
    expect(truncate("abc", 4)).toBe("abc");
    expect(wrapText("aa bb cc", 5)).toEqual(["aa bb", "cc"]);
    expect(wrapText("abcdefghij", 4)).toEqual(["abcd", "efgh", "ij"]);
    expect(wrapText("first\nsecond", 20)).toEqual(["first", "second"]);
    expect(displayWidth("✓ ok")).toBe(4);
  });
});
