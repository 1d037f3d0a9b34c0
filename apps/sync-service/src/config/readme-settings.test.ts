import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { environmentVariablesMarkdown } from "./environment.ts";

describe("the README's settings table", () => {
  it("is the table generated from the settings schema (update README.md when a variable changes)", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    expect(readme).toContain(environmentVariablesMarkdown().trim());
  });
});
