/**
 * The Web API methods the simulator implements, each with its scopes, rate-limit
 * tier, accepted content types and Slack's answers: `{ ok: true, ... }` on
 * success and HTTP 200 `{ ok: false, error }` with the documented error codes.
 *
 * Access rules, as Slack applies them to a bot token: a private channel the bot
 * is not in does not exist for it (`channel_not_found`); a public one it is not
 * in can be read (`conversations.info`) but not posted to or read from
 * (`not_in_channel`) unless it has `chat:write.public` (posting only); an
 * archived channel answers `is_archived` to writes; the bot may only change its
 * own messages (`cant_update_message` / `cant_delete_message`).
 */
import { type Arguments, argumentsError, missingField, SlackApiError } from "./simulator-api-request.ts";
import {
  fileSharedEvent,
  memberJoinedEvent,
  messageChangedEvent,
  messageDeletedEvent,
  messageEvent,
  reactionEvent,
  type SimulatorEvent,
} from "./simulator-events.ts";
import { compareTs, slackId, TS_PATTERN } from "./simulator-identifiers.ts";
import {
  type ChannelRecord,
  type MessageAuthor,
  type MessageRecord,
  richTextBlocks,
  type SlackState,
} from "./simulator-state.ts";
import type { SimulatorEphemeralMessage, SimulatorView } from "./simulator-types.ts";
import {
  completeUploadFilesSchema,
  messageMetadataSchema,
  validateBlocks,
  validateModalView,
} from "./simulator-validation.ts";

/** What a method may use. */
export interface WebApiServices {
  state: SlackState;
  scopes: ReadonlySet<string>;
  marketplaceApp: boolean;
  maxUploadBytes: number;
  /** How long a trigger id stays valid. */
  triggerLifetimeMs: number;
  emit(event: SimulatorEvent): void;
  /** Throws `ratelimited` when chat.postMessage posts too fast in a channel. */
  takePostMessageSlot(channelId: string): void;
  /** Issues a single-use Socket Mode WebSocket URL. */
  issueSocketModeUrl(): string;
}

/** One call of a method. */
export interface MethodCall {
  args: Arguments;
  services: WebApiServices;
  /** Warnings for `warning` and `response_metadata.warnings`. */
  warnings: string[];
}

export type RateLimitTier = 1 | 2 | 3 | 4 | "special";

export interface MethodDefinition {
  tier: RateLimitTier;
  /**
   * The token type the method takes: `bot` (the default) or `app` (an
   * app-level token, checked against the app-level token's scopes).
   */
  tokenType?: "bot" | "app";
  /** Methods that answer `insecure_request` unless called with POST. */
  postOnly?: boolean;
  /** The scopes that grant access (any of them); empty for methods without scopes. */
  scopes: readonly string[];
  /** Whether the method reads `application/json` bodies. */
  acceptsJson: boolean;
  handle(call: MethodCall): Record<string, unknown>;
}

// ------------------------------------------------------------------ shared rules

function requireScope(call: MethodCall, scope: string): void {
  if (!call.services.scopes.has(scope)) {
    throw new SlackApiError("missing_scope", {
      needed: scope,
      provided: [...call.services.scopes].join(","),
    });
  }
}

/** The channel as the bot sees it: unknown, and private ones it is not in, are `channel_not_found`. */
function visibleChannel(
  call: MethodCall,
  value: string | undefined,
  options: { byName?: boolean } = {},
): ChannelRecord {
  if (value === undefined) throw new SlackApiError("channel_not_found");
  const { state } = call.services;
  const channel = options.byName === true ? state.channelByIdOrName(value) : state.channel(value);
  if (channel === undefined || (channel.isPrivate && !channel.botIsMember)) {
    throw new SlackApiError("channel_not_found");
  }
  return channel;
}

function requireMember(channel: ChannelRecord): void {
  if (!channel.botIsMember) throw new SlackApiError("not_in_channel");
}

function requireNotArchived(channel: ChannelRecord): void {
  if (channel.isArchived) throw new SlackApiError("is_archived");
}

/** Posting: not archived, and a member (or `chat:write.public` in a public channel). */
function requirePostAccess(call: MethodCall, channel: ChannelRecord): void {
  requireNotArchived(channel);
  if (!channel.botIsMember && !(call.services.scopes.has("chat:write.public") && !channel.isPrivate)) {
    throw new SlackApiError("not_in_channel");
  }
}

/** The read scope for a conversation's type. */
function requireReadScope(call: MethodCall, channel: ChannelRecord, kind: "read" | "history"): void {
  requireScope(call, `${channel.isPrivate ? "groups" : "channels"}:${kind}`);
}

function isOwnMessage(message: MessageRecord): boolean {
  return (
    message.author.kind === "bot" &&
    (message.kind === "normal" || message.kind === "thread_broadcast" || message.kind === "file_share")
  );
}

/** The thread a `thread_ts` designates: a reply's ts means its parent's thread. */
function resolveThreadTs(channel: ChannelRecord, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!TS_PATTERN.test(value)) {
    throw argumentsError("invalid_thread_ts", [`[ERROR] ${value} is not a valid thread_ts`]);
  }
  const target = channel.byTs.get(value);
  if (target?.threadTs !== undefined) return target.threadTs;
  // A parent, or a ts no message has: Slack accepts the reply, which then shows nowhere.
  return value;
}

interface MessageContent {
  text: string;
  blocks: unknown[] | undefined;
  attachments: unknown[] | undefined;
}

const MAX_TEXT_LENGTH = 40_000;

/** text / blocks / attachments of a message, validated. */
function messageContent(call: MethodCall, options: { requireSomething: boolean }): MessageContent {
  const { args } = call;
  let blocks: unknown[] | undefined;
  const blocksArgument = args.json("blocks");
  if (blocksArgument.present) {
    if (!blocksArgument.valid || !Array.isArray(blocksArgument.value))
      throw new SlackApiError("invalid_blocks_format");
    if (blocksArgument.value.length > 0) {
      const problems = validateBlocks(blocksArgument.value, { pointer: "/blocks", surface: "message" });
      if (problems.length > 0) throw argumentsError("invalid_blocks", problems);
      blocks = blocksArgument.value;
    }
  }
  let attachments: unknown[] | undefined;
  const attachmentsArgument = args.json("attachments");
  if (attachmentsArgument.present) {
    if (!attachmentsArgument.valid || !Array.isArray(attachmentsArgument.value)) {
      throw new SlackApiError("invalid_attachments");
    }
    if (attachmentsArgument.value.length > 100) throw new SlackApiError("too_many_attachments");
    if (attachmentsArgument.value.length > 0) {
      attachments = attachmentsArgument.value.map((attachment, index) =>
        attachment !== null && typeof attachment === "object" ? { id: index + 1, ...attachment } : attachment,
      );
    }
  }
  const text = args.string("text") ?? "";
  if (options.requireSomething && text.trim() === "" && blocks === undefined && attachments === undefined) {
    throw new SlackApiError("no_text");
  }
  if (text.length > MAX_TEXT_LENGTH) throw new SlackApiError("msg_too_long");
  return { text, blocks, attachments };
}

function messageMetadata(call: MethodCall): MessageRecord["metadata"] {
  const argument = call.args.json("metadata");
  if (!argument.present) return undefined;
  if (!argument.valid) throw new SlackApiError("invalid_metadata_format");
  const parsed = messageMetadataSchema.safeParse(argument.value);
  if (!parsed.success) throw new SlackApiError("invalid_metadata_format");
  return { event_type: parsed.data.event_type, event_payload: parsed.data.event_payload };
}

/** The bot as author, with chat:write.customize's username and icon when granted (ignored otherwise). */
function botAuthor(call: MethodCall): MessageAuthor {
  if (!call.services.scopes.has("chat:write.customize")) return { kind: "bot" };
  const username = call.args.string("username");
  const iconEmoji = call.args.string("icon_emoji");
  const iconUrl = call.args.string("icon_url");
  return {
    kind: "bot",
    ...(username === undefined ? {} : { username }),
    ...(iconEmoji === undefined
      ? {}
      : { iconEmoji: iconEmoji.startsWith(":") ? iconEmoji : `:${iconEmoji}:` }),
    ...(iconUrl === undefined || iconEmoji !== undefined ? {} : { iconUrl }),
  };
}

/** The message a `ts` designates, or `message_not_found`. */
function existingMessage(
  channel: ChannelRecord,
  ts: string | undefined,
  code = "message_not_found",
): MessageRecord {
  const message = ts === undefined ? undefined : channel.byTs.get(ts);
  if (message === undefined || message.kind === "tombstone") throw new SlackApiError(code);
  return message;
}

/** Reaction names as Slack stores them: without colons, canonical aliases. */
const REACTION_ALIASES: Record<string, string> = { thumbsup: "+1", thumbsdown: "-1" };
const REACTION_NAME = /^[a-z0-9_+\-']+(::skin-tone-[2-6])?$/;

function reactionName(value: string | undefined): string {
  if (value === undefined) throw new SlackApiError("invalid_name");
  const name = value.replace(/^:/, "").replace(/:$/, "");
  if (!REACTION_NAME.test(name)) throw new SlackApiError("invalid_name");
  return REACTION_ALIASES[name] ?? name;
}

function reactionTarget(call: MethodCall): { channel: ChannelRecord; message: MessageRecord } {
  const channelId = call.args.string("channel");
  const timestamp = call.args.string("timestamp");
  if (channelId === undefined || timestamp === undefined) {
    if (call.args.string("file") !== undefined || call.args.string("file_comment") !== undefined) {
      throw new SlackApiError("not_reactable");
    }
    throw new SlackApiError("no_item_specified");
  }
  const channel = visibleChannel(call, channelId);
  if (!TS_PATTERN.test(timestamp)) throw new SlackApiError("bad_timestamp");
  return { channel, message: existingMessage(channel, timestamp) };
}

function encodeCursor(ts: string): string {
  return Buffer.from(`next_ts:${ts}`).toString("base64");
}

function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const decoded = Buffer.from(cursor, "base64").toString("utf8");
  const match = /^next_ts:(\d+\.\d+)$/.exec(decoded);
  if (match?.[1] === undefined) throw new SlackApiError("invalid_cursor");
  return match[1];
}

function timestampBound(value: string | undefined, code: string): string | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(value)) throw new SlackApiError(code);
  return value.includes(".") ? value : `${value}.000000`;
}

/** `limit` with Slack's default and (silently applied) maximum. */
function pageLimit(call: MethodCall, options: { defaultLimit: number; max: number }): number {
  const limit = call.args.integer("limit");
  if (limit === undefined || Number.isNaN(limit) || limit < 1) return options.defaultLimit;
  return Math.min(limit, options.max);
}

function historyLimits(call: MethodCall, marketplaceDefault: number, marketplaceMax: number) {
  return call.services.marketplaceApp
    ? { defaultLimit: marketplaceDefault, max: marketplaceMax }
    : { defaultLimit: 15, max: 15 };
}

// ------------------------------------------------------------------ the methods

export const WEB_API_METHODS: Record<string, MethodDefinition> = {
  "auth.test": {
    tier: "special",
    scopes: [],
    acceptsJson: true,
    handle({ services }) {
      const { identity } = services.state;
      return {
        url: `https://${identity.teamDomain}.slack.com/`,
        team: identity.teamName,
        user: identity.botName,
        team_id: identity.teamId,
        user_id: identity.botUserId,
        bot_id: identity.botId,
        is_enterprise_install: false,
      };
    },
  },

  "apps.connections.open": {
    tier: 3,
    tokenType: "app",
    postOnly: true,
    scopes: ["connections:write"],
    acceptsJson: true,
    handle({ services }) {
      return { url: services.issueSocketModeUrl() };
    },
  },

  "chat.postMessage": {
    tier: "special",
    scopes: ["chat:write"],
    acceptsJson: true,
    handle(call) {
      const { args, services } = call;
      const { state } = services;
      const channel = visibleChannel(call, args.string("channel"), { byName: true });
      requirePostAccess(call, channel);
      const content = messageContent(call, { requireSomething: true });
      const metadata = messageMetadata(call);
      const threadTs = resolveThreadTs(channel, args.string("thread_ts"));
      const broadcast = threadTs !== undefined && args.boolean("reply_broadcast") === true;
      services.takePostMessageSlot(channel.id);
      const message = state.addMessage(channel, {
        author: botAuthor(call),
        text: content.text,
        kind: broadcast ? "thread_broadcast" : "normal",
        threadTs,
        blocks: content.blocks,
        attachments: content.attachments,
        metadata,
      });
      services.emit(messageEvent(state, channel, message));
      return { channel: channel.id, ts: message.ts, message: state.renderMessage(message) };
    },
  },

  "chat.update": {
    tier: 3,
    scopes: ["chat:write"],
    acceptsJson: true,
    handle(call) {
      const { args, services } = call;
      const { state } = services;
      const channel = visibleChannel(call, args.string("channel"));
      const message = existingMessage(channel, args.string("ts"));
      requireNotArchived(channel);
      if (!isOwnMessage(message)) throw new SlackApiError("cant_update_message");
      const content = messageContent(call, { requireSomething: true });
      const metadata = messageMetadata(call);
      const previous = state.renderMessage(message);
      const hasText = args.raw.text !== undefined && args.raw.text !== null;
      if (hasText) message.text = content.text;
      if (content.blocks !== undefined) {
        message.blocks = content.blocks;
        message.blocksExplicit = true;
      } else if (!message.blocksExplicit && hasText) {
        message.blocks = content.text === "" ? undefined : richTextBlocks(content.text);
      }
      if (content.attachments !== undefined) message.attachments = content.attachments;
      if (metadata !== undefined) message.metadata = metadata;
      const editTs = state.nextTs();
      message.edited = { user: state.identity.botUserId, ts: editTs };
      const current = state.renderMessage(message);
      services.emit(messageChangedEvent(channel, current, previous, editTs));
      return { channel: channel.id, ts: message.ts, text: message.text, message: current };
    },
  },

  "chat.delete": {
    tier: 3,
    scopes: ["chat:write"],
    acceptsJson: true,
    handle(call) {
      const { args, services } = call;
      const { state } = services;
      const channel = visibleChannel(call, args.string("channel"));
      const message = existingMessage(channel, args.string("ts"));
      requireNotArchived(channel);
      if (!isOwnMessage(message)) throw new SlackApiError("cant_delete_message");
      const previous = state.renderMessage(message);
      state.deleteMessage(channel, message);
      const eventTs = state.nextTs();
      if (message.kind === "tombstone") {
        services.emit(messageChangedEvent(channel, state.renderMessage(message), previous, eventTs));
      } else {
        services.emit(messageDeletedEvent(channel, previous, eventTs));
      }
      return { channel: channel.id, ts: message.ts };
    },
  },

  "chat.postEphemeral": {
    tier: 4,
    scopes: ["chat:write"],
    acceptsJson: true,
    handle(call) {
      const { args, services } = call;
      const { state } = services;
      const channel = visibleChannel(call, args.string("channel"), { byName: true });
      requirePostAccess(call, channel);
      const userId = args.string("user");
      if (userId === undefined || state.user(userId) === undefined) throw new SlackApiError("user_not_found");
      if (!channel.members.includes(userId)) throw new SlackApiError("user_not_in_channel");
      const content = messageContent(call, { requireSomething: true });
      const threadTs = resolveThreadTs(channel, args.string("thread_ts"));
      const ts = state.nextTs();
      const ephemeral: SimulatorEphemeralMessage = {
        channel: channel.id,
        user: userId,
        ts,
        text: content.text,
        source: "chat.postEphemeral",
        ...(content.blocks === undefined ? {} : { blocks: content.blocks }),
        ...(content.attachments === undefined ? {} : { attachments: content.attachments }),
        ...(threadTs === undefined ? {} : { thread_ts: threadTs }),
      };
      state.addEphemeral(ephemeral);
      return { message_ts: ts };
    },
  },

  "chat.getPermalink": {
    tier: "special",
    scopes: [],
    acceptsJson: false,
    handle(call) {
      const { args, services } = call;
      const channel = visibleChannel(call, args.string("channel"));
      const message = existingMessage(channel, args.string("message_ts"));
      return {
        channel: channel.id,
        permalink: services.state.permalink(channel.id, message.ts, message.threadTs),
      };
    },
  },

  "reactions.add": {
    tier: 3,
    scopes: ["reactions:write"],
    acceptsJson: true,
    handle(call) {
      const { services } = call;
      const { state } = services;
      const name = reactionName(call.args.string("name"));
      const { channel, message } = reactionTarget(call);
      requireNotArchived(channel);
      const botUserId = state.identity.botUserId;
      let reaction = message.reactions.find((candidate) => candidate.name === name);
      if (reaction?.users.includes(botUserId) === true) throw new SlackApiError("already_reacted");
      if (reaction === undefined) {
        if (message.reactions.length >= 50) throw new SlackApiError("too_many_emoji");
        reaction = { name, users: [] };
        message.reactions.push(reaction);
      }
      reaction.users.push(botUserId);
      services.emit(
        reactionEvent({
          type: "reaction_added",
          state,
          channel,
          message,
          user: botUserId,
          reaction: name,
          eventTs: state.nextTs(),
        }),
      );
      return {};
    },
  },

  "reactions.remove": {
    tier: 2,
    scopes: ["reactions:write"],
    acceptsJson: true,
    handle(call) {
      const { services } = call;
      const { state } = services;
      const name = reactionName(call.args.string("name"));
      const { channel, message } = reactionTarget(call);
      requireNotArchived(channel);
      const botUserId = state.identity.botUserId;
      const reaction = message.reactions.find((candidate) => candidate.name === name);
      if (reaction === undefined || !reaction.users.includes(botUserId))
        throw new SlackApiError("no_reaction");
      reaction.users = reaction.users.filter((user) => user !== botUserId);
      if (reaction.users.length === 0)
        message.reactions = message.reactions.filter((item) => item !== reaction);
      services.emit(
        reactionEvent({
          type: "reaction_removed",
          state,
          channel,
          message,
          user: botUserId,
          reaction: name,
          eventTs: state.nextTs(),
        }),
      );
      return {};
    },
  },

  "reactions.get": {
    tier: 3,
    scopes: ["reactions:read"],
    acceptsJson: false,
    handle(call) {
      const { state } = call.services;
      const { channel, message } = reactionTarget(call);
      return {
        type: "message",
        message: {
          ...state.renderMessage(message, { includeMetadata: false }),
          permalink: state.permalink(channel.id, message.ts, message.threadTs),
        },
        channel: channel.id,
      };
    },
  },

  "files.getUploadURLExternal": {
    tier: 4,
    scopes: ["files:write"],
    acceptsJson: false,
    handle(call) {
      const { args, services } = call;
      const filename = args.string("filename");
      if (filename === undefined) throw missingField("filename");
      const length = args.integer("length");
      if (length === undefined) throw missingField("length");
      if (Number.isNaN(length) || length < 0) {
        throw argumentsError("invalid_arguments", [
          "[ERROR] must be a positive integer [json-pointer:/length]",
        ]);
      }
      if (length === 0) throw new SlackApiError("missing_argument");
      if (length > services.maxUploadBytes) throw new SlackApiError("file_upload_size_restricted");
      // The reference names it alt_txt; @slack/web-api sends alt_text. Both are read.
      const altText = args.string("alt_txt") ?? args.string("alt_text");
      if (altText !== undefined && altText.length > 1000) throw new SlackApiError("alt_txt_too_large");
      const snippetType = args.string("snippet_type");
      if (snippetType !== undefined && length > 1_048_576) throw new SlackApiError("snippet_too_large");
      const file = services.state.createUpload({ name: filename, length, altText });
      return { upload_url: `${services.state.baseUrl}/upload/v1/${file.uploadToken}`, file_id: file.id };
    },
  },

  "files.completeUploadExternal": {
    tier: 4,
    scopes: ["files:write"],
    acceptsJson: true,
    handle(call) {
      const { args, services } = call;
      const { state } = services;
      const filesArgument = args.json("files");
      if (!filesArgument.present) throw missingField("files");
      const parsed = filesArgument.valid
        ? completeUploadFilesSchema.safeParse(filesArgument.value)
        : undefined;
      if (parsed === undefined || !parsed.success) {
        throw argumentsError("invalid_arguments", [
          "[ERROR] must be a JSON array of {id, title} [json-pointer:/files]",
        ]);
      }
      const uploads = parsed.data.map((entry) => {
        const file = state.file(entry.id);
        // Unknown ids, user files, bytes never uploaded, and tickets already completed.
        if (
          file === undefined ||
          file.uploadToken === undefined ||
          file.bytes === undefined ||
          file.completed
        ) {
          throw new SlackApiError("file_not_found");
        }
        return { file, title: entry.title };
      });
      let channelId = args.string("channel_id");
      const channelsList = args.string("channels");
      if (channelId === undefined && channelsList !== undefined) {
        const ids = channelsList
          .split(",")
          .map((id) => id.trim())
          .filter((id) => id !== "");
        if (ids.length > 100) throw new SlackApiError("channels_limit_exceeded");
        if (ids.length > 1 && args.string("thread_ts") !== undefined) {
          throw argumentsError("invalid_arguments", ["[ERROR] only one channel can be used with thread_ts"]);
        }
        channelId = ids[0];
      }
      let channel: ChannelRecord | undefined;
      let threadTs: string | undefined;
      if (channelId !== undefined) {
        channel = visibleChannel(call, channelId);
        requirePostAccess(call, channel);
        threadTs = resolveThreadTs(channel, args.string("thread_ts"));
      }
      const initialComment = args.string("initial_comment");
      let blocks: unknown[] | undefined;
      const blocksArgument = args.json("blocks");
      if (initialComment === undefined && blocksArgument.present) {
        if (!blocksArgument.valid || !Array.isArray(blocksArgument.value))
          throw new SlackApiError("invalid_blocks");
        const problems = validateBlocks(blocksArgument.value, { pointer: "/blocks", surface: "message" });
        if (problems.length > 0) throw argumentsError("invalid_blocks", problems);
        blocks = blocksArgument.value.length > 0 ? blocksArgument.value : undefined;
      }
      for (const { file, title } of uploads) {
        file.completed = true;
        if (title !== undefined && title !== "") file.title = title;
      }
      if (channel !== undefined) {
        const message = state.addMessage(channel, {
          author: { kind: "bot" },
          text: initialComment ?? "",
          kind: "file_share",
          threadTs,
          blocks,
          fileIds: uploads.map(({ file }) => file.id),
          upload: true,
        });
        for (const { file } of uploads) file.shares.push({ channel: channel.id, ts: message.ts, threadTs });
        services.emit(messageEvent(state, channel, message));
        for (const { file } of uploads) {
          services.emit(
            fileSharedEvent({
              channel,
              fileId: file.id,
              user: state.identity.botUserId,
              eventTs: state.nextTs(),
            }),
          );
        }
      }
      return { files: uploads.map(({ file }) => ({ id: file.id, title: file.title })) };
    },
  },

  "files.info": {
    tier: 4,
    scopes: ["files:read"],
    acceptsJson: false,
    handle(call) {
      const { state } = call.services;
      const id = call.args.string("file");
      const file = id === undefined ? undefined : state.file(id);
      if (file === undefined || !state.botCanSeeFile(file)) throw new SlackApiError("file_not_found");
      return { file: state.renderFile(file), comments: [], response_metadata: { next_cursor: "" } };
    },
  },

  "conversations.info": {
    tier: 3,
    scopes: ["channels:read", "groups:read", "im:read", "mpim:read"],
    acceptsJson: false,
    handle(call) {
      const channel = visibleChannel(call, call.args.string("channel"));
      requireReadScope(call, channel, "read");
      return {
        channel: call.services.state.renderConversation(channel, {
          includeNumMembers: call.args.boolean("include_num_members") === true,
        }),
      };
    },
  },

  "conversations.join": {
    tier: 3,
    scopes: ["channels:join"],
    acceptsJson: true,
    handle(call) {
      const { services, warnings } = call;
      const { state } = services;
      const channel = visibleChannel(call, call.args.string("channel"));
      if (channel.isPrivate) throw new SlackApiError("method_not_supported_for_channel_type");
      requireNotArchived(channel);
      if (channel.botIsMember) {
        warnings.push("already_in_channel");
        return { channel: state.renderConversation(channel) };
      }
      channel.botIsMember = true;
      const botUserId = state.identity.botUserId;
      const joined = state.addMessage(channel, {
        author: { kind: "bot" },
        kind: "channel_join",
        text: `<@${botUserId}> has joined the channel`,
      });
      services.emit(
        memberJoinedEvent({ identity: state.identity, channel, user: botUserId, eventTs: joined.ts }),
      );
      services.emit(messageEvent(state, channel, joined));
      return { channel: state.renderConversation(channel) };
    },
  },

  "conversations.history": {
    tier: 3,
    scopes: ["channels:history", "groups:history", "im:history", "mpim:history"],
    acceptsJson: false,
    handle(call) {
      const { args, services } = call;
      const { state } = services;
      const channel = visibleChannel(call, args.string("channel"));
      requireReadScope(call, channel, "history");
      requireMember(channel);
      const latest = timestampBound(args.string("latest"), "invalid_ts_latest");
      const oldest = timestampBound(args.string("oldest"), "invalid_ts_oldest");
      const inclusive = args.boolean("inclusive") === true;
      const cursor = decodeCursor(args.string("cursor"));
      const limit = pageLimit(call, historyLimits(call, 100, 999));
      const includeMetadata = args.boolean("include_all_metadata") === true;
      const candidates = state
        .topLevel(channel)
        .filter((message) => {
          if (latest !== undefined) {
            const order = compareTs(message.ts, latest);
            if (order > 0 || (order === 0 && !inclusive)) return false;
          }
          if (oldest !== undefined) {
            const order = compareTs(message.ts, oldest);
            if (order < 0 || (order === 0 && !inclusive)) return false;
          }
          return cursor === undefined || compareTs(message.ts, cursor) <= 0;
        })
        .sort((left, right) => compareTs(right.ts, left.ts));
      const page = candidates.slice(0, limit);
      const next = candidates[limit];
      return {
        messages: page.map((message) => state.renderMessage(message, { includeMetadata })),
        has_more: next !== undefined,
        pin_count: 0,
        channel_actions_ts: null,
        channel_actions_count: 0,
        ...(next === undefined ? {} : { response_metadata: { next_cursor: encodeCursor(next.ts) } }),
      };
    },
  },

  "conversations.replies": {
    tier: 3,
    scopes: ["channels:history", "groups:history", "im:history", "mpim:history"],
    acceptsJson: false,
    handle(call) {
      const { args, services } = call;
      const { state } = services;
      const channel = visibleChannel(call, args.string("channel"));
      requireReadScope(call, channel, "history");
      requireMember(channel);
      const ts = args.string("ts");
      if (ts === undefined || !TS_PATTERN.test(ts)) throw new SlackApiError("thread_not_found");
      const target = channel.byTs.get(ts);
      if (target === undefined) throw new SlackApiError("thread_not_found");
      const rootTs = target.threadTs ?? target.ts;
      const latest = timestampBound(args.string("latest"), "invalid_ts_latest");
      const oldest = timestampBound(args.string("oldest"), "invalid_ts_oldest");
      const inclusive = args.boolean("inclusive") === true;
      const cursor = decodeCursor(args.string("cursor"));
      const limit = pageLimit(call, historyLimits(call, 1000, 1000));
      const includeMetadata = args.boolean("include_all_metadata") === true;
      const [root, ...replies] = state.threadOf(channel, rootTs);
      const filtered = replies.filter((message) => {
        if (latest !== undefined) {
          const order = compareTs(message.ts, latest);
          if (order > 0 || (order === 0 && !inclusive)) return false;
        }
        if (oldest !== undefined) {
          const order = compareTs(message.ts, oldest);
          if (order < 0 || (order === 0 && !inclusive)) return false;
        }
        return cursor === undefined || compareTs(message.ts, cursor) >= 0;
      });
      const all = cursor === undefined && root !== undefined ? [root, ...filtered] : filtered;
      const page = all.slice(0, limit);
      const next = all[limit];
      return {
        messages: page.map((message) => state.renderMessage(message, { includeMetadata })),
        has_more: next !== undefined,
        ...(next === undefined ? {} : { response_metadata: { next_cursor: encodeCursor(next.ts) } }),
      };
    },
  },

  "conversations.members": {
    tier: 4,
    scopes: ["channels:read", "groups:read", "im:read", "mpim:read"],
    acceptsJson: false,
    handle(call) {
      const { args, services } = call;
      const channel = visibleChannel(call, args.string("channel"));
      requireReadScope(call, channel, "read");
      const members = services.state.memberIds(channel);
      const cursorValue = args.string("cursor");
      let start = 0;
      if (cursorValue !== undefined) {
        const match = /^member:(\d+)$/.exec(Buffer.from(cursorValue, "base64").toString("utf8"));
        if (match?.[1] === undefined) throw new SlackApiError("invalid_cursor");
        start = Number(match[1]);
      }
      const limit = pageLimit(call, { defaultLimit: 100, max: 1000 });
      const page = members.slice(start, start + limit);
      const nextStart = start + limit;
      return {
        members: page,
        response_metadata: {
          next_cursor:
            nextStart < members.length ? Buffer.from(`member:${nextStart}`).toString("base64") : "",
        },
      };
    },
  },

  "users.info": {
    tier: 4,
    scopes: ["users:read"],
    acceptsJson: false,
    handle(call) {
      const { state } = call.services;
      const id = call.args.string("user");
      if (id !== undefined && id === state.identity.botUserId) return { user: state.renderBotUser() };
      const user = id === undefined ? undefined : state.user(id);
      if (user === undefined) throw new SlackApiError("user_not_found");
      return { user: state.renderUser(user, { includeEmail: call.services.scopes.has("users:read.email") }) };
    },
  },

  "users.lookupByEmail": {
    tier: 3,
    scopes: ["users:read.email"],
    acceptsJson: false,
    handle(call) {
      const { state } = call.services;
      const email = call.args.string("email");
      const user = email === undefined ? undefined : state.userByEmail(email);
      if (user === undefined) throw new SlackApiError("users_not_found");
      return { user: state.renderUser(user, { includeEmail: true }) };
    },
  },

  "bots.info": {
    tier: 3,
    scopes: ["users:read"],
    acceptsJson: false,
    handle(call) {
      const { state } = call.services;
      const { identity } = state;
      const bot = call.args.string("bot");
      if (bot !== identity.botId) throw new SlackApiError("bot_not_found");
      const profile = state.botProfile();
      return {
        bot: {
          id: identity.botId,
          deleted: false,
          name: identity.botName,
          updated: profile.updated,
          app_id: identity.appId,
          user_id: identity.botUserId,
          icons: profile.icons,
        },
      };
    },
  },

  "team.info": {
    tier: 3,
    scopes: ["team:read"],
    acceptsJson: false,
    handle(call) {
      const { identity } = call.services.state;
      return {
        team: {
          id: identity.teamId,
          name: identity.teamName,
          url: `https://${identity.teamDomain}.slack.com/`,
          domain: identity.teamDomain,
          email_domain: "",
          icon: {
            image_default: true,
            image_34: "https://a.slack-edge.com/80588/img/avatars-teams/ava_0001-34.png",
            image_44: "https://a.slack-edge.com/80588/img/avatars-teams/ava_0001-44.png",
            image_68: "https://a.slack-edge.com/80588/img/avatars-teams/ava_0001-68.png",
            image_88: "https://a.slack-edge.com/80588/img/avatars-teams/ava_0001-88.png",
            image_102: "https://a.slack-edge.com/80588/img/avatars-teams/ava_0001-102.png",
            image_132: "https://a.slack-edge.com/80588/img/avatars-teams/ava_0001-132.png",
            image_230: "https://a.slack-edge.com/80588/img/avatars-teams/ava_0001-230.png",
          },
          avatar_base_url: "https://ca.slack-edge.com/",
          is_verified: false,
          lob_sales_home_enabled: false,
          is_sfdc_auto_slack: false,
        },
      };
    },
  },

  "views.open": {
    tier: 4,
    scopes: [],
    acceptsJson: true,
    handle(call) {
      const { args, services } = call;
      const { state } = services;
      const triggerIdValue = args.string("trigger_id");
      if (triggerIdValue === undefined) throw missingField("trigger_id");
      const trigger = state.trigger(triggerIdValue);
      if (trigger === undefined) throw new SlackApiError("invalid_trigger_id");
      if (trigger.used) throw new SlackApiError("exchanged_trigger_id");
      if (state.nowMilliseconds() - trigger.createdAt > services.triggerLifetimeMs) {
        throw new SlackApiError("expired_trigger_id");
      }
      const view = modalArgument(call);
      const externalId = typeof view.external_id === "string" ? view.external_id : "";
      if (externalId !== "" && state.viewByExternalId(externalId) !== undefined) {
        throw new SlackApiError("duplicate_external_id");
      }
      trigger.used = true;
      const id = slackId("V", 10);
      const rendered = renderView(state, view, { id, rootViewId: id, previousViewId: null, externalId });
      state.addView({ user: trigger.user, isOpen: true, view: rendered });
      return { view: structuredClone(rendered) };
    },
  },

  "views.update": {
    tier: 4,
    scopes: [],
    acceptsJson: true,
    handle(call) {
      const { args, services } = call;
      const { state } = services;
      const viewId = args.string("view_id");
      const externalId = args.string("external_id");
      if (viewId === undefined && externalId === undefined) {
        throw argumentsError("invalid_arguments", ["[ERROR] either view_id or external_id is required"]);
      }
      const record: SimulatorView | undefined =
        viewId !== undefined ? state.view(viewId) : state.viewByExternalId(externalId ?? "");
      if (record === undefined || !record.isOpen) throw new SlackApiError("not_found");
      const hash = args.string("hash");
      if (hash !== undefined && hash !== record.view.hash) throw new SlackApiError("hash_conflict");
      const view = modalArgument(call);
      const nextExternalId =
        typeof view.external_id === "string" ? view.external_id : String(record.view.external_id ?? "");
      record.view = renderView(state, view, {
        id: record.view.id,
        rootViewId: String(record.view.root_view_id ?? record.view.id),
        previousViewId: null,
        externalId: nextExternalId,
      });
      return { view: structuredClone(record.view) };
    },
  },
};

function modalArgument(call: MethodCall): Record<string, unknown> {
  const argument = call.args.json("view");
  if (!argument.present) throw missingField("view");
  if (!argument.valid)
    throw argumentsError("invalid_arguments", ["[ERROR] must be a JSON object [json-pointer:/view]"]);
  const problems = validateModalView(argument.value);
  if (problems.length > 0) throw argumentsError("invalid_arguments", problems);
  return argument.value as Record<string, unknown>;
}

function renderView(
  state: SlackState,
  view: Record<string, unknown>,
  options: { id: string; rootViewId: string; previousViewId: string | null; externalId: string },
): SimulatorView["view"] {
  const { identity } = state;
  return {
    id: options.id,
    team_id: identity.teamId,
    type: "modal",
    blocks: structuredClone(view.blocks ?? []),
    private_metadata: typeof view.private_metadata === "string" ? view.private_metadata : "",
    callback_id: typeof view.callback_id === "string" ? view.callback_id : "",
    state: { values: {} },
    hash: `${state.nowSeconds()}.${slackId("", 8).toLowerCase()}`,
    title: structuredClone(view.title),
    clear_on_close: view.clear_on_close === true,
    notify_on_close: view.notify_on_close === true,
    close: view.close === undefined ? null : structuredClone(view.close),
    submit: view.submit === undefined ? null : structuredClone(view.submit),
    previous_view_id: options.previousViewId,
    root_view_id: options.rootViewId,
    app_id: identity.appId,
    external_id: options.externalId,
    app_installed_team_id: identity.teamId,
    bot_id: identity.botId,
  };
}
