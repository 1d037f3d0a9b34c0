import { describe, expect, it } from "vitest";
import { createReactionEmojiMap, defaultReactionEmoji, type LinqReactionType } from "./reaction-emoji.ts";

describe("reaction emoji map", () => {
  it("maps every Linq reaction to the documented default emoji and back", () => {
    const map = createReactionEmojiMap();
    expect(map.toSlack("love")).toBe("heart");
    expect(map.toSlack("like")).toBe("+1");
    expect(map.toSlack("dislike")).toBe("-1");
    expect(map.toSlack("laugh")).toBe("joy");
    expect(map.toSlack("emphasize")).toBe("bangbang");
    expect(map.toSlack("question")).toBe("question");
    for (const reaction of Object.keys(defaultReactionEmoji) as LinqReactionType[]) {
      expect(map.toLinq(map.toSlack(reaction))).toBe(reaction);
    }
  });

  it("understands Slack aliases and skin tones", () => {
    const map = createReactionEmojiMap();
    expect(map.toLinq("thumbsup")).toBe("like");
    expect(map.toLinq("+1::skin-tone-3")).toBe("like");
    expect(map.toLinq("thumbsdown")).toBe("dislike");
  });

  it("ignores emoji that are not mapped", () => {
    expect(createReactionEmojiMap().toLinq("tada")).toBeUndefined();
  });

  it("applies a route's overrides in both directions", () => {
    const map = createReactionEmojiMap({ love: "sparkling_heart" });
    expect(map.toSlack("love")).toBe("sparkling_heart");
    expect(map.toLinq("sparkling_heart")).toBe("love");
    expect(map.toLinq("heart")).toBeUndefined();
  });
});
