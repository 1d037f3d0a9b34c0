/**
 * `@linq-connect/slack/testing`: the Slack simulator, a stateful fake of the
 * Slack Web API, Events API, slash commands, interactivity and Socket Mode
 * served over real HTTP and WebSocket, for connector tests and the sandbox. Start one with
 * {@link startSlackSimulator}; drive it with the real `@slack/web-api` and
 * `@slack/bolt`.
 */

export { EVENT_SUBSCRIPTIONS as SLACK_EVENT_SUBSCRIPTIONS } from "./simulator-events.ts";
export { type SlackSignatureHeaders, signSlackRequest } from "./simulator-signature.ts";
export type {
  SimulatorChannel,
  SimulatorEphemeralMessage,
  SimulatorView,
  SlackAppAnswer,
  SlackAppConfiguration,
  SlackBotProfile,
  SlackChannelInput,
  SlackConversation,
  SlackEventDeliveryConfiguration,
  SlackEventDeliveryRecord,
  SlackFaultHandle,
  SlackFaultKind,
  SlackFaultRule,
  SlackFile,
  SlackFileShare,
  SlackMessage,
  SlackRateLimitOptions,
  SlackRateLimitTier,
  SlackReaction,
  SlackRecordedRequest,
  SlackResponseUrlPost,
  SlackShortcutResult,
  SlackSimulator,
  SlackSimulatorChannels,
  SlackSimulatorEvents,
  SlackSimulatorFaults,
  SlackSimulatorOptions,
  SlackSimulatorSocketMode,
  SlackSimulatorStateView,
  SlackSimulatorUsers,
  SlackSlashCommandResult,
  SlackSocketModeConfiguration,
  SlackSocketModeConnection,
  SlackSocketModeDeliveryRecord,
  SlackSocketModeDisconnectReason,
  SlackUser,
  SlackUserFileInput,
  SlackUserInput,
  SlackViewSubmissionResult,
} from "./simulator-types.ts";
export { DEFAULT_BOT_SCOPES, startSlackSimulator } from "./slack-simulator.ts";
