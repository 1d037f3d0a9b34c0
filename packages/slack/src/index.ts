export {
  createReactionEmojiMap,
  defaultReactionEmoji,
  type LinqReactionType,
  type ReactionEmojiMap,
} from "./reaction-emoji.ts";
