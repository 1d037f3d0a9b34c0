/**
 * What the connector keeps in the host's MappingStore (never in Slack: reading channel history is
 * limited to one request a minute for most apps). Every kind is unique on both sides, so an insert
 * that loses a race returns the winner's row.
 *
 * | kind                  | linqId                         | externalId                 |
 * | --------------------- | ------------------------------ | -------------------------- |
 * | `slack.thread`        | chat id                        | `channel:thread_ts`        |
 * | `slack.message`       | Linq message id                | `channel:ts`               |
 * | `slack.attachment`    | `message id:attachment index`  | `file:file id`             |
 * | `slack.notice`        | a notice key (call, warning …) | `notice:channel:ts`        |
 * | `slack.post-attempt`  | an operation key               | `attempt:operation key`    |
 * | `slack.linq-reaction` | `message id:reaction`          | `linq-reaction:…`          |
 * | `slack.cancelled`     | `channel:ts` of a Slack reply   | same                       |
 */
import type { Mapping, MappingStore } from "@linq-connect/core";

export const mappingKinds = {
  thread: "slack.thread",
  message: "slack.message",
  attachment: "slack.attachment",
  notice: "slack.notice",
  attempt: "slack.post-attempt",
  linqReaction: "slack.linq-reaction",
  cancelled: "slack.cancelled",
} as const;

/** What we remember about a participant's name (for the header and message authors). */
export interface ParticipantName {
  name?: string;
  url?: string;
  /** Where the name came from. */
  source: "crm" | "linq" | "handle" | "none";
  /** When it was looked up (ms since epoch). */
  checkedAt: number;
}

/** A reply sent from Slack whose Linq echo (message.sent) has not been matched yet. */
export interface PendingSend {
  /** The Slack reply's ts. */
  ts: string;
  text: string;
  /** The Slack user who wrote it. */
  user: string;
  at: number;
}

/** The metadata of a `slack.thread` mapping. */
export interface ThreadMetadata {
  channel: string;
  threadTs: string;
  routeName: string;
  /** Our Linq number in this chat (E.164), when known. */
  linqNumber?: string;
  service?: string;
  group: boolean;
  /** The other participants' addresses (E.164 or email), in chat order. */
  participants: string[];
  displayName?: string;
  names: Record<string, ParticipantName>;
  /** A fingerprint of the header as last posted. */
  headerFingerprint: string;
  /** Slack replies sent to Linq whose message.sent echo may still come (keyed by Slack ts). */
  pendingSends?: Record<string, PendingSend>;
  /** The ts of the "is typing" line, while one shows (null once removed). */
  typingTs?: string | null;
  /** The route's settings when the thread was created or last touched by a routed event. */
  settings?: ThreadRouteSettings;
}

/** What the Slack → Linq side needs of a route, kept with the thread (inbound Slack traffic has no route). */
export interface ThreadRouteSettings {
  internalPrefix: string;
  mode: "two-way" | "alerts-only";
  reactions: Record<string, string>;
  postTypingIndicators: boolean;
}

/** The metadata of a `slack.message` mapping. */
export interface MessageMetadata {
  chatId: string;
  /** inbound: the customer wrote it; outbound: our Linq number sent it. */
  direction: "inbound" | "outbound";
  /** linq: mirrored from a Linq event; slack: a thread reply sent to Linq; command: /linq's first text. */
  origin: "linq" | "slack" | "command";
  /** The Slack user, for replies sent from Slack. */
  slackUser?: string;
}

export function threadKey(channel: string, ts: string): string {
  return `${channel}:${ts}`;
}

export function splitKey(externalId: string): { channel: string; ts: string } {
  const index = externalId.indexOf(":");
  return { channel: externalId.slice(0, index), ts: externalId.slice(index + 1) };
}

export function readThread(mapping: Mapping): ThreadMetadata {
  const metadata = mapping.metadata as Partial<ThreadMetadata>;
  const { channel, ts } = splitKey(mapping.externalId);
  return {
    ...metadata,
    channel: metadata.channel ?? channel,
    threadTs: metadata.threadTs ?? ts,
    routeName: metadata.routeName ?? "",
    group: metadata.group ?? false,
    participants: metadata.participants ?? [],
    names: metadata.names ?? {},
    headerFingerprint: metadata.headerFingerprint ?? "",
  };
}

export async function findThread(store: MappingStore, chatId: string): Promise<ThreadMetadata | undefined> {
  const mapping = await store.findByLinqId(mappingKinds.thread, chatId);
  return mapping === undefined ? undefined : readThread(mapping);
}

/** The chat whose thread a Slack ts starts, if any. */
export async function findThreadByTs(
  store: MappingStore,
  channel: string,
  threadTs: string,
): Promise<{ chatId: string; thread: ThreadMetadata } | undefined> {
  const mapping = await store.findByExternalId(mappingKinds.thread, threadKey(channel, threadTs));
  return mapping === undefined ? undefined : { chatId: mapping.linqId, thread: readThread(mapping) };
}

export function readMessage(
  mapping: Mapping,
): MessageMetadata & { linqMessageId: string; channel: string; ts: string } {
  const metadata = mapping.metadata as Partial<MessageMetadata>;
  const { channel, ts } = splitKey(mapping.externalId);
  return {
    chatId: metadata.chatId ?? "",
    direction: metadata.direction ?? "inbound",
    origin: metadata.origin ?? "linq",
    ...(metadata.slackUser === undefined ? {} : { slackUser: metadata.slackUser }),
    linqMessageId: mapping.linqId,
    channel,
    ts,
  };
}
