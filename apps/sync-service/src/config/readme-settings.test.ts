import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { environmentVariablesMarkdown } from "./environment.ts";

/** The settings table's rows (first cell an environment variable) as trimmed cells, whatever the padding. */
function tableRows(markdown: string): string[][] {
  return markdown
    .split("\n")
    .filter((line) => /^\| `[A-Z][A-Z0-9_]*` /.test(line.trim()))
    .map((line) =>
      line
        .trim()
        .slice(1, -1)
        .split("|")
        .map((cell) => cell.trim()),
    );
}

describe("the README's settings table", () => {
  it("lists exactly the settings schema's variables (update README.md when a variable changes)", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const generated = tableRows(environmentVariablesMarkdown());
    expect(generated.length).toBeGreaterThan(20);
    expect(tableRows(readme)).toEqual(generated);
  });
});
