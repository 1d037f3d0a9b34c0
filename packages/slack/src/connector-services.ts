/**
 * What both directions of the connector share: the paced Slack API, the exactly-once writer, the
 * routes, names and the connector's options.
 */
import type { ConnectorContext } from "@linq-connect/core";
import type { ThreadMetadata, ThreadRouteSettings } from "./mappings.ts";
import type { MirrorWriter } from "./mirror-writer.ts";
import type { ParticipantNames } from "./participant-names.ts";
import { createReactionEmojiMap, type LinqReactionType, type ReactionEmojiMap } from "./reaction-emoji.ts";
import { type ResolvedSlackRoute, resolveRouteContext } from "./settings.ts";
import type { SlackApi } from "./slack-api.ts";

export interface ConnectorBehaviour {
  botToken: string;
  readReceipts: "reaction" | "off";
  readReceiptEmoji: string;
  /** The reaction that marks a reply that stayed internal; false: none. */
  internalNoteEmoji: string | false;
  maxAttachmentBytes: number;
  attachmentTimeoutMs: number;
  smsCancelWindowSeconds: number;
  command: string;
}

export interface ConnectorServices {
  api: SlackApi;
  writer: MirrorWriter;
  names: ParticipantNames;
  routes: readonly ResolvedSlackRoute[];
  behaviour: ConnectorBehaviour;
  now: () => number;
}

/** The settings a thread's Slack → Linq traffic follows. */
export interface EffectiveThreadSettings extends ThreadRouteSettings {
  emoji: ReactionEmojiMap;
}

export function snapshotSettings(route: ResolvedSlackRoute): ThreadRouteSettings {
  return {
    internalPrefix: route.settings.internalPrefix,
    mode: route.settings.mode,
    reactions: { ...route.settings.reactions },
    postTypingIndicators: route.settings.postTypingIndicators,
  };
}

/**
 * The settings for a thread: the event's route when it mirrors to this thread's channel, else the
 * configured route of the same name, else what was recorded with the thread, else the defaults.
 */
export function threadSettings(
  services: ConnectorServices,
  thread: ThreadMetadata,
  context?: ConnectorContext,
): EffectiveThreadSettings {
  const fromEvent = context === undefined ? undefined : resolveRouteContext(context.route, services.routes);
  const route =
    fromEvent !== undefined && fromEvent.settings.channel === thread.channel
      ? fromEvent
      : services.routes.find((candidate) => candidate.name === thread.routeName);
  const settings: ThreadRouteSettings =
    route !== undefined
      ? snapshotSettings(route)
      : (thread.settings ?? {
          internalPrefix: "note:",
          mode: "two-way",
          reactions: {},
          postTypingIndicators: false,
        });
  return {
    ...settings,
    emoji: createReactionEmojiMap(settings.reactions as Partial<Record<LinqReactionType, string>>),
  };
}
