import { describe, expect, it } from "vitest";
import { closestMatch, didYouMean, editDistance } from "./suggestions.ts";

describe("editDistance", () => {
  it("counts insertions, deletions and substitutions", () => {
    expect(editDistance("channel", "channel")).toBe(0);
    expect(editDistance("chanel", "channel")).toBe(1);
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("abc", "")).toBe(3);
  });
});

describe("closestMatch", () => {
  const keys = ["name", "match", "slack", "crm", "contacts", "activities"];

  it("suggests a near miss, case-insensitively", () => {
    expect(closestMatch("contact", keys)).toBe("contacts");
    expect(closestMatch("Slack", keys)).toBe("slack");
    expect(closestMatch("activites", keys)).toBe("activities");
  });

  it("suggests nothing for an unrelated word or a too distant short one", () => {
    expect(closestMatch("colour", keys)).toBeUndefined();
    expect(closestMatch("xyz", keys)).toBeUndefined();
  });

  it("words the suggestion", () => {
    expect(didYouMean("hubspt", ["hubspot", "salesforce", "none"])).toBe(' (did you mean "hubspot"?)');
    expect(didYouMean("pipedrive", ["hubspot", "salesforce", "none"])).toBe("");
  });
});
