export {
  connectorContextProperty,
  InboundRequestReceiver,
  type InboundRequestReceiverOptions,
} from "./bolt-receiver.ts";
export { checkSlackHealth, requiredBotScopes } from "./health-check.ts";
export { type MessageMetadata, mappingKinds, type ThreadMetadata } from "./mappings.ts";
export {
  escapeMrkdwn,
  formatDuration,
  renderCall,
  renderHeader,
  renderMessage,
  splitText,
} from "./message-format.ts";
export { type CrmLink, type CrmLinkProvider, normalizeAddress } from "./participant-names.ts";
export {
  createReactionEmojiMap,
  defaultReactionEmoji,
  type LinqReactionType,
  type ReactionEmojiMap,
} from "./reaction-emoji.ts";
export {
  parseRouteSettings,
  type SlackRouteDefinition,
  type SlackRouteMode,
  type SlackRouteSettings,
} from "./settings.ts";
export type { SlackRequestCompleteInfo } from "./slack-api.ts";
export {
  createSlackConnector,
  type SlackConnector,
  type SlackConnectorOptions,
  slackConnectorEvents,
} from "./slack-connector.ts";
export {
  isAmbiguousFailure,
  type MapSlackErrorOptions,
  mapSlackError,
  ReplyNotSentYetError,
  SlackPermissionError,
  slackErrorCode,
} from "./slack-errors.ts";
export {
  createSlackPacer,
  type SlackPacer,
  type SlackPacingOptions,
  slackMethodTiers,
  slackPostingMethods,
} from "./slack-pacer.ts";
export { isInternalNote, replyIdempotencyKey, slackJobTypes } from "./slack-to-linq.ts";
export {
  AckAfterStoreSocketModeReceiver,
  type AckAfterStoreSocketModeReceiverOptions,
} from "./socket-mode-receiver.ts";
export { commandUsage, parseStartCommand, type StartCommand } from "./start-conversation.ts";
