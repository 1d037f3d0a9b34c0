/**
 * Linq reactions (iMessage tapbacks) and Slack emoji names, both ways.
 * The defaults follow the tapbacks' meaning; routes may override them.
 */
export type LinqReactionType = "love" | "like" | "dislike" | "laugh" | "emphasize" | "question";

export const defaultReactionEmoji: Readonly<Record<LinqReactionType, string>> = {
  love: "heart",
  like: "+1",
  dislike: "-1",
  laugh: "joy",
  emphasize: "bangbang",
  question: "question",
};

/** Slack reports some emoji under other names (aliases, skin tones); these map to the same reaction. */
const slackAliases: Readonly<Record<string, string>> = {
  thumbsup: "+1",
  thumbsdown: "-1",
  heart: "heart",
  red_heart: "heart",
  laughing: "joy",
  grey_question: "question",
  exclamation: "bangbang",
  heavy_exclamation_mark: "bangbang",
};

export interface ReactionEmojiMap {
  toSlack(reaction: LinqReactionType): string;
  /** The Linq reaction for a Slack emoji name, or undefined when the emoji is not mapped (it is then ignored). */
  toLinq(emojiName: string): LinqReactionType | undefined;
}

/** Builds the two-way map from the defaults and a route's overrides (`{ love: "sparkling_heart" }`). */
export function createReactionEmojiMap(
  overrides: Partial<Record<LinqReactionType, string>> = {},
): ReactionEmojiMap {
  const toSlack: Record<LinqReactionType, string> = { ...defaultReactionEmoji, ...overrides };
  const toLinq = new Map<string, LinqReactionType>();
  for (const [reaction, emoji] of Object.entries(toSlack) as [LinqReactionType, string][]) {
    toLinq.set(emoji, reaction);
  }
  return {
    toSlack: (reaction) => toSlack[reaction],
    toLinq: (emojiName) => {
      const base = emojiName.replace(/::skin-tone-\d$/, "");
      return toLinq.get(base) ?? toLinq.get(slackAliases[base] ?? "");
    },
  };
}
