/**
 * The Events API payloads the simulator sends: the inner events (message and its
 * subtypes, reactions, files, membership, archiving, token revocation), which
 * subscription and scope each needs, and the `event_callback` envelope.
 *
 * Slack only delivers an event when the app subscribes to it, holds the scope
 * the subscription needs and — for conversation events — its bot user is a
 * member of the conversation.
 */
import { slackId } from "./simulator-identifiers.ts";
import type { ChannelRecord, MessageRecord, SlackState, WorkspaceIdentity } from "./simulator-state.ts";
import type { SlackMessage } from "./simulator-types.ts";

/** Every subscription the simulator can deliver. */
export const EVENT_SUBSCRIPTIONS = [
  "message.channels",
  "message.groups",
  "reaction_added",
  "reaction_removed",
  "file_shared",
  "member_joined_channel",
  "channel_left",
  "group_left",
  "channel_archive",
  "group_archive",
  "tokens_revoked",
] as const;

/** An event on its way to the app. */
export interface SimulatorEvent {
  /** The subscription that delivers it (`message.channels`, `reaction_added`…). */
  subscription: string;
  /** The scope the subscription needs, if any. */
  scope: string | undefined;
  /** The conversation the bot must be a member of, if any. */
  channelId: string | undefined;
  /** The inner `event`. */
  event: Record<string, unknown> & { type: string };
}

function channelType(channel: ChannelRecord): "channel" | "group" {
  return channel.isPrivate ? "group" : "channel";
}

function messageSubscription(
  channel: ChannelRecord,
): Pick<SimulatorEvent, "subscription" | "scope" | "channelId"> {
  return channel.isPrivate
    ? { subscription: "message.groups", scope: "groups:history", channelId: channel.id }
    : { subscription: "message.channels", scope: "channels:history", channelId: channel.id };
}

/** A new message (any author): `message`, with the message's own subtype if it has one. */
export function messageEvent(
  state: SlackState,
  channel: ChannelRecord,
  message: MessageRecord,
): SimulatorEvent {
  const rendered = state.renderMessage(message);
  const event: Record<string, unknown> & { type: string } = {
    ...rendered,
    channel: channel.id,
    event_ts: message.ts,
    channel_type: channelType(channel),
  };
  if (message.kind === "thread_broadcast" && message.threadTs !== undefined) {
    const parent = channel.byTs.get(message.threadTs);
    if (parent !== undefined) event.root = state.renderMessage(parent);
  }
  return { ...messageSubscription(channel), event };
}

/** `message_changed`: the message after and before the change. */
export function messageChangedEvent(
  channel: ChannelRecord,
  current: SlackMessage,
  previous: SlackMessage,
  eventTs: string,
): SimulatorEvent {
  return {
    ...messageSubscription(channel),
    event: {
      type: "message",
      subtype: "message_changed",
      message: current,
      previous_message: previous,
      channel: channel.id,
      hidden: true,
      ts: eventTs,
      event_ts: eventTs,
      channel_type: channelType(channel),
    },
  };
}

/** `message_deleted`. */
export function messageDeletedEvent(
  channel: ChannelRecord,
  previous: SlackMessage,
  eventTs: string,
): SimulatorEvent {
  return {
    ...messageSubscription(channel),
    event: {
      type: "message",
      subtype: "message_deleted",
      previous_message: previous,
      channel: channel.id,
      hidden: true,
      deleted_ts: previous.ts,
      event_ts: eventTs,
      ts: eventTs,
      channel_type: channelType(channel),
    },
  };
}

/** `reaction_added` / `reaction_removed` on a message. */
export function reactionEvent(input: {
  type: "reaction_added" | "reaction_removed";
  state: SlackState;
  channel: ChannelRecord;
  message: MessageRecord;
  user: string;
  reaction: string;
  eventTs: string;
}): SimulatorEvent {
  return {
    subscription: input.type,
    scope: "reactions:read",
    channelId: input.channel.id,
    event: {
      type: input.type,
      user: input.user,
      reaction: input.reaction,
      item: { type: "message", channel: input.channel.id, ts: input.message.ts },
      item_user: input.state.authorId(input.message),
      event_ts: input.eventTs,
    },
  };
}

/** `file_shared`: a file was shared in a conversation (the event carries only its id). */
export function fileSharedEvent(input: {
  channel: ChannelRecord;
  fileId: string;
  user: string;
  eventTs: string;
}): SimulatorEvent {
  return {
    subscription: "file_shared",
    scope: "files:read",
    channelId: input.channel.id,
    event: {
      type: "file_shared",
      channel_id: input.channel.id,
      file_id: input.fileId,
      user_id: input.user,
      file: { id: input.fileId },
      event_ts: input.eventTs,
    },
  };
}

/** `member_joined_channel`. */
export function memberJoinedEvent(input: {
  identity: WorkspaceIdentity;
  channel: ChannelRecord;
  user: string;
  inviter?: string;
  eventTs: string;
}): SimulatorEvent {
  return {
    subscription: "member_joined_channel",
    scope: input.channel.isPrivate ? "groups:read" : "channels:read",
    channelId: input.channel.id,
    event: {
      type: "member_joined_channel",
      user: input.user,
      channel: input.channel.id,
      channel_type: input.channel.isPrivate ? "G" : "C",
      team: input.identity.teamId,
      ...(input.inviter === undefined ? {} : { inviter: input.inviter }),
      event_ts: input.eventTs,
    },
  };
}

/** `channel_left` / `group_left`: the bot user was removed from a conversation. */
export function botLeftEvent(input: {
  channel: ChannelRecord;
  actor: string;
  eventTs: string;
}): SimulatorEvent {
  const type = input.channel.isPrivate ? "group_left" : "channel_left";
  return {
    subscription: type,
    scope: input.channel.isPrivate ? "groups:read" : "channels:read",
    channelId: undefined,
    event: { type, channel: input.channel.id, actor_id: input.actor, event_ts: input.eventTs },
  };
}

/** `channel_archive` / `group_archive`. */
export function archiveEvent(input: {
  channel: ChannelRecord;
  user: string;
  eventTs: string;
}): SimulatorEvent {
  const type = input.channel.isPrivate ? "group_archive" : "channel_archive";
  return {
    subscription: type,
    scope: input.channel.isPrivate ? "groups:read" : "channels:read",
    channelId: input.channel.id,
    event: { type, channel: input.channel.id, user: input.user, event_ts: input.eventTs },
  };
}

/** `tokens_revoked`. */
export function tokensRevokedEvent(identity: WorkspaceIdentity, eventTs: string): SimulatorEvent {
  return {
    subscription: "tokens_revoked",
    scope: undefined,
    channelId: undefined,
    event: { type: "tokens_revoked", tokens: { oauth: [], bot: [identity.botUserId] }, event_ts: eventTs },
  };
}

/** The `event_callback` envelope around an inner event. */
export function eventEnvelope(input: {
  identity: WorkspaceIdentity;
  verificationToken: string;
  event: Record<string, unknown> & { type: string };
  eventTime: number;
}): { eventId: string; payload: Record<string, unknown> } {
  const { identity } = input;
  const eventId = slackId("Ev", 10);
  const channel =
    typeof input.event.channel === "string"
      ? input.event.channel
      : typeof input.event.channel_id === "string"
        ? input.event.channel_id
        : undefined;
  const context = Buffer.from(
    JSON.stringify({
      et: input.event.type,
      tid: identity.teamId,
      aid: identity.appId,
      ...(channel === undefined ? {} : { cid: channel }),
    }),
  ).toString("base64url");
  return {
    eventId,
    payload: {
      token: input.verificationToken,
      team_id: identity.teamId,
      context_team_id: identity.teamId,
      context_enterprise_id: null,
      api_app_id: identity.appId,
      event: input.event,
      type: "event_callback",
      event_id: eventId,
      event_time: input.eventTime,
      authorizations: [
        {
          enterprise_id: null,
          team_id: identity.teamId,
          user_id: identity.botUserId,
          is_bot: true,
          is_enterprise_install: false,
        },
      ],
      is_ext_shared_channel: false,
      event_context: `4-${context}`,
    },
  };
}
