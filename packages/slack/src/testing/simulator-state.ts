/**
 * The simulated workspace in memory: channels, users, messages (with threads and
 * reactions), files and uploads, ephemeral messages, modals, trigger ids and
 * response URLs; and how each renders on the wire.
 *
 * The state knows nothing about HTTP or events: the Web API handlers and the
 * user controls change it and then emit events themselves.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { compareTs, TimestampClock, triggerId } from "./simulator-identifiers.ts";
import type {
  SimulatorChannel,
  SimulatorEphemeralMessage,
  SimulatorView,
  SlackBotProfile,
  SlackChannelInput,
  SlackConversation,
  SlackFile,
  SlackFileShare,
  SlackMessage,
  SlackReaction,
  SlackUser,
  SlackUserInput,
} from "./simulator-types.ts";

/** Who the app is and which workspace it is installed in. */
export interface WorkspaceIdentity {
  teamId: string;
  teamName: string;
  teamDomain: string;
  botUserId: string;
  botId: string;
  appId: string;
  botName: string;
}

/** Who wrote a message: a human, or the app's bot (optionally with a customised name or icon). */
export type MessageAuthor =
  | { kind: "user"; userId: string }
  | { kind: "bot"; username?: string; iconEmoji?: string; iconUrl?: string };

/** What kind of message it is (its Slack subtype follows from it and from the author). */
export type MessageKind = "normal" | "file_share" | "thread_broadcast" | "channel_join" | "tombstone";

export interface MessageRecord {
  channel: string;
  ts: string;
  /** The parent's ts, for thread replies. */
  threadTs: string | undefined;
  author: MessageAuthor;
  kind: MessageKind;
  text: string;
  blocks: unknown[] | undefined;
  /** Blocks given by the poster (kept by chat.update unless replaced) rather than generated from the text. */
  blocksExplicit: boolean;
  attachments: unknown[] | undefined;
  fileIds: string[];
  /** Whether the files were uploaded with this message (`upload: true`). */
  upload: boolean;
  reactions: { name: string; users: string[] }[];
  edited: { user: string; ts: string } | undefined;
  metadata: { event_type: string; event_payload: Record<string, unknown> } | undefined;
  clientMessageId: string | undefined;
  /** The ts of the replies, for thread parents. */
  replies: string[];
  /** Who invited the member, for `channel_join` messages. */
  inviter: string | undefined;
}

export interface ChannelRecord {
  id: string;
  name: string;
  isPrivate: boolean;
  isArchived: boolean;
  botIsMember: boolean;
  /** Human members. */
  members: string[];
  created: number;
  creator: string;
  topic: string;
  purpose: string;
  /** Every message (top level and replies) in ts order. */
  messages: MessageRecord[];
  byTs: Map<string, MessageRecord>;
}

export interface UserRecord {
  id: string;
  name: string;
  realName: string;
  email: string | undefined;
  tz: string;
  isAdmin: boolean;
}

export interface FileRecord {
  id: string;
  name: string;
  title: string;
  mimetype: string;
  filetype: string;
  prettyType: string;
  /** The declared length (uploads) or the real size. */
  size: number;
  bytes: Buffer | undefined;
  /** The uploader: a user id or the bot user id. */
  user: string;
  created: number;
  altText: string | undefined;
  /** The secret part of the upload URL (app uploads only). */
  uploadToken: string | undefined;
  completed: boolean;
  shares: { channel: string; ts: string; threadTs: string | undefined }[];
}

export interface TriggerRecord {
  user: string;
  channel: string | undefined;
  createdAt: number;
  used: boolean;
}

export interface ResponseUrlRecord {
  channel: string;
  user: string;
  createdAt: number;
  uses: number;
  /** The message the last post created (replace_original / delete_original act on it). */
  lastMessage: { kind: "ephemeral" | "in_channel"; ts: string } | undefined;
  /** The message a message shortcut was invoked on (its "original"). */
  original: { channel: string; ts: string } | undefined;
}

const BOT_ICONS = {
  image_36: "https://a.slack-edge.com/80588/img/plugins/app/bot_36.png",
  image_48: "https://a.slack-edge.com/80588/img/plugins/app/bot_48.png",
  image_72: "https://a.slack-edge.com/80588/img/plugins/app/service_72.png",
};

const MIME_TYPES: Record<string, [mimetype: string, prettyType: string]> = {
  txt: ["text/plain", "Plain Text"],
  csv: ["text/csv", "CSV"],
  html: ["text/html", "HTML"],
  json: ["application/json", "JSON"],
  pdf: ["application/pdf", "PDF"],
  png: ["image/png", "PNG"],
  jpg: ["image/jpeg", "JPEG"],
  jpeg: ["image/jpeg", "JPEG"],
  gif: ["image/gif", "GIF"],
  heic: ["image/heic", "HEIC"],
  webp: ["image/webp", "WebP"],
  mp4: ["video/mp4", "MPEG 4 Video"],
  mov: ["video/quicktime", "QuickTime Movie"],
  mp3: ["audio/mpeg", "MP3"],
  m4a: ["audio/mp4", "M4A"],
  vcf: ["text/vcard", "vCard"],
  zip: ["application/zip", "Zip"],
  docx: ["application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word Document"],
};

/** The mimetype, Slack filetype and pretty type for a file name. */
export function fileTypeFor(name: string): { mimetype: string; filetype: string; prettyType: string } {
  const extension = /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase();
  const known = extension === undefined ? undefined : MIME_TYPES[extension];
  if (known === undefined || extension === undefined) {
    return { mimetype: "application/octet-stream", filetype: "binary", prettyType: "Binary" };
  }
  return { mimetype: known[0], filetype: extension === "jpeg" ? "jpg" : extension, prettyType: known[1] };
}

/** The rich_text block Slack generates for a plain-text message. */
export function richTextBlocks(text: string): unknown[] {
  return [
    {
      type: "rich_text",
      block_id: randomBytes(3).toString("base64url").slice(0, 4),
      elements: [{ type: "rich_text_section", elements: [{ type: "text", text }] }],
    },
  ];
}

export class SlackState {
  readonly identity: WorkspaceIdentity;
  /** The simulator's base URL (set once listening); file and permalink URLs start with it. */
  baseUrl = "";
  private readonly now: () => Date;
  private readonly clock: TimestampClock;
  private readonly initialChannels: readonly SlackChannelInput[];
  private readonly initialUsers: readonly SlackUserInput[];
  private channelMap = new Map<string, ChannelRecord>();
  private userMap = new Map<string, UserRecord>();
  private fileMap = new Map<string, FileRecord>();
  private ephemeralMessages: SimulatorEphemeralMessage[] = [];
  private viewMap = new Map<string, SimulatorView>();
  private triggers = new Map<string, TriggerRecord>();
  private responseUrls = new Map<string, ResponseUrlRecord>();
  private readonly createdAt: number;

  constructor(options: {
    identity: WorkspaceIdentity;
    channels: readonly SlackChannelInput[];
    users: readonly SlackUserInput[];
    now: () => Date;
  }) {
    this.identity = options.identity;
    this.now = options.now;
    this.clock = new TimestampClock(options.now);
    this.initialChannels = options.channels;
    this.initialUsers = options.users;
    this.createdAt = Math.floor(options.now().getTime() / 1000);
    this.reset();
  }

  /** Back to the initial channels and users; everything else is forgotten. */
  reset(): void {
    this.userMap = new Map(this.initialUsers.map((user) => [user.id, toUserRecord(user)]));
    this.channelMap = new Map();
    for (const channel of this.initialChannels) this.addChannel(channel);
    this.fileMap = new Map();
    this.ephemeralMessages = [];
    this.viewMap = new Map();
    this.triggers = new Map();
    this.responseUrls = new Map();
    this.clock.reset();
  }

  nowSeconds(): number {
    return Math.floor(this.now().getTime() / 1000);
  }

  nowMilliseconds(): number {
    return this.now().getTime();
  }

  nextTs(): string {
    return this.clock.next();
  }

  // ------------------------------------------------------------------ channels and users

  addChannel(input: SlackChannelInput): ChannelRecord {
    const channel: ChannelRecord = {
      id: input.id,
      name: input.name,
      isPrivate: input.isPrivate ?? false,
      isArchived: input.isArchived ?? false,
      botIsMember: input.botIsMember ?? true,
      members: [...(input.members ?? this.initialUsers.map((user) => user.id))],
      created: this.createdAt,
      creator: input.members?.[0] ?? this.initialUsers[0]?.id ?? this.identity.botUserId,
      topic: input.topic ?? "",
      purpose: input.purpose ?? "",
      messages: [],
      byTs: new Map(),
    };
    this.channelMap.set(channel.id, channel);
    return channel;
  }

  channel(id: string): ChannelRecord | undefined {
    return this.channelMap.get(id);
  }

  /** A channel by id, or by name (`sales` or `#sales`) as chat.postMessage accepts. */
  channelByIdOrName(value: string): ChannelRecord | undefined {
    const byId = this.channelMap.get(value);
    if (byId !== undefined) return byId;
    const name = value.startsWith("#") ? value.slice(1) : value;
    for (const channel of this.channelMap.values()) if (channel.name === name) return channel;
    return undefined;
  }

  allChannels(): ChannelRecord[] {
    return [...this.channelMap.values()];
  }

  user(id: string): UserRecord | undefined {
    return this.userMap.get(id);
  }

  userByEmail(email: string): UserRecord | undefined {
    const wanted = email.trim().toLowerCase();
    for (const user of this.userMap.values()) if (user.email?.toLowerCase() === wanted) return user;
    return undefined;
  }

  /** A display name for the page: the user's real name, the bot's (custom) name, or the id. */
  authorName(author: MessageAuthor): string {
    if (author.kind === "bot") return author.username ?? this.identity.botName;
    return this.userMap.get(author.userId)?.realName ?? author.userId;
  }

  // ------------------------------------------------------------------ messages

  /** Appends a message to a channel (and to its thread); returns it. */
  addMessage(
    channel: ChannelRecord,
    input: {
      author: MessageAuthor;
      text: string;
      kind?: MessageKind;
      threadTs?: string | undefined;
      blocks?: unknown[] | undefined;
      attachments?: unknown[] | undefined;
      fileIds?: string[];
      upload?: boolean;
      metadata?: MessageRecord["metadata"];
      inviter?: string;
    },
  ): MessageRecord {
    const ts = this.nextTs();
    const blocksExplicit = input.blocks !== undefined;
    const message: MessageRecord = {
      channel: channel.id,
      ts,
      threadTs: input.threadTs,
      author: input.author,
      kind: input.kind ?? "normal",
      text: input.text,
      blocks: input.blocks ?? (input.text === "" ? undefined : richTextBlocks(input.text)),
      blocksExplicit,
      attachments: input.attachments,
      fileIds: input.fileIds ?? [],
      upload: input.upload ?? false,
      reactions: [],
      edited: undefined,
      metadata: input.metadata,
      clientMessageId: input.author.kind === "user" ? randomUUID() : undefined,
      replies: [],
      inviter: input.inviter,
    };
    channel.messages.push(message);
    channel.byTs.set(ts, message);
    if (input.threadTs !== undefined) channel.byTs.get(input.threadTs)?.replies.push(ts);
    return message;
  }

  message(channelId: string, ts: string): MessageRecord | undefined {
    return this.channelMap.get(channelId)?.byTs.get(ts);
  }

  /**
   * Deletes a message. A thread parent with replies becomes a tombstone ("This
   * message was deleted."), as in Slack; anything else disappears.
   */
  deleteMessage(channel: ChannelRecord, message: MessageRecord): void {
    if (message.threadTs === undefined && message.replies.length > 0) {
      message.kind = "tombstone";
      message.text = "This message was deleted.";
      message.blocks = undefined;
      message.attachments = undefined;
      message.fileIds = [];
      message.reactions = [];
      message.author = { kind: "user", userId: "USLACKBOT" };
      return;
    }
    channel.messages = channel.messages.filter((candidate) => candidate !== message);
    channel.byTs.delete(message.ts);
    if (message.threadTs !== undefined) {
      const parent = channel.byTs.get(message.threadTs);
      if (parent !== undefined) {
        parent.replies = parent.replies.filter((ts) => ts !== message.ts);
        // A tombstone whose last reply is gone disappears too.
        if (parent.kind === "tombstone" && parent.replies.length === 0) {
          channel.messages = channel.messages.filter((candidate) => candidate !== parent);
          channel.byTs.delete(parent.ts);
        }
      }
    }
  }

  /** Messages shown in the channel itself: unthreaded messages, thread parents and broadcasts. */
  topLevel(channel: ChannelRecord): MessageRecord[] {
    return channel.messages.filter(
      (message) => message.threadTs === undefined || message.kind === "thread_broadcast",
    );
  }

  /** The parent (if it exists) and the replies of a thread, oldest first. */
  threadOf(channel: ChannelRecord, threadTs: string): MessageRecord[] {
    const parent = channel.byTs.get(threadTs);
    const replies = channel.messages.filter((message) => message.threadTs === threadTs);
    return parent === undefined ? replies : [parent, ...replies];
  }

  /** The user id a message is attributed to (the bot user for the app's messages). */
  authorId(message: MessageRecord): string {
    return message.author.kind === "user" ? message.author.userId : this.identity.botUserId;
  }

  // ------------------------------------------------------------------ files

  createUpload(input: { name: string; length: number; altText: string | undefined }): FileRecord {
    const type = fileTypeFor(input.name);
    const file: FileRecord = {
      id: `F${randomBytes(8).toString("hex").toUpperCase().slice(0, 10)}`,
      name: input.name,
      title: input.name,
      mimetype: type.mimetype,
      filetype: type.filetype,
      prettyType: type.prettyType,
      size: input.length,
      bytes: undefined,
      user: this.identity.botUserId,
      created: this.nowSeconds(),
      altText: input.altText,
      uploadToken: randomBytes(18).toString("base64url"),
      completed: false,
      shares: [],
    };
    this.fileMap.set(file.id, file);
    return file;
  }

  /** A file a user uploaded through Slack's client (complete at once). */
  createUserFile(input: {
    user: string;
    name: string;
    title?: string;
    mimetype?: string;
    bytes: Buffer;
  }): FileRecord {
    const type = fileTypeFor(input.name);
    const file: FileRecord = {
      id: `F${randomBytes(8).toString("hex").toUpperCase().slice(0, 10)}`,
      name: input.name,
      title: input.title ?? input.name,
      mimetype: input.mimetype ?? type.mimetype,
      filetype: type.filetype,
      prettyType: type.prettyType,
      size: input.bytes.byteLength,
      bytes: input.bytes,
      user: input.user,
      created: this.nowSeconds(),
      altText: undefined,
      uploadToken: undefined,
      completed: true,
      shares: [],
    };
    this.fileMap.set(file.id, file);
    return file;
  }

  file(id: string): FileRecord | undefined {
    return this.fileMap.get(id);
  }

  fileByUploadToken(token: string): FileRecord | undefined {
    for (const file of this.fileMap.values()) if (file.uploadToken === token) return file;
    return undefined;
  }

  allFiles(): FileRecord[] {
    return [...this.fileMap.values()];
  }

  /** Whether the bot can see a file: its own, or shared in a channel it is in (or a public one). */
  botCanSeeFile(file: FileRecord): boolean {
    if (!file.completed) return false;
    if (file.user === this.identity.botUserId) return true;
    return file.shares.some((share) => {
      const channel = this.channelMap.get(share.channel);
      return channel !== undefined && (channel.botIsMember || !channel.isPrivate);
    });
  }

  // ------------------------------------------------------------------ ephemeral, views, triggers, response URLs

  addEphemeral(message: SimulatorEphemeralMessage): void {
    this.ephemeralMessages.push(message);
  }

  ephemeral(): SimulatorEphemeralMessage[] {
    return this.ephemeralMessages;
  }

  replaceEphemeral(ts: string, replacement: SimulatorEphemeralMessage | undefined): void {
    this.ephemeralMessages = this.ephemeralMessages.flatMap((message) =>
      message.ts !== ts ? [message] : replacement === undefined ? [] : [replacement],
    );
  }

  addView(record: SimulatorView): void {
    this.viewMap.set(record.view.id, record);
  }

  view(id: string): SimulatorView | undefined {
    return this.viewMap.get(id);
  }

  viewByExternalId(externalId: string): SimulatorView | undefined {
    for (const record of this.viewMap.values()) if (record.view.external_id === externalId) return record;
    return undefined;
  }

  allViews(): SimulatorView[] {
    return [...this.viewMap.values()];
  }

  issueTrigger(user: string, channel: string | undefined): string {
    const id = triggerId();
    this.triggers.set(id, { user, channel, createdAt: this.nowMilliseconds(), used: false });
    return id;
  }

  trigger(id: string): TriggerRecord | undefined {
    return this.triggers.get(id);
  }

  issueResponseUrl(input: {
    channel: string;
    user: string;
    kind: "commands" | "actions";
    original?: { channel: string; ts: string };
  }): string {
    const key = `${input.kind}/${this.identity.teamId}/${randomBytes(5).readUIntBE(0, 5)}/${randomBytes(12).toString("base64url")}`;
    this.responseUrls.set(key, {
      channel: input.channel,
      user: input.user,
      createdAt: this.nowMilliseconds(),
      uses: 0,
      lastMessage: undefined,
      original: input.original,
    });
    return `${this.baseUrl}/${key}`;
  }

  responseUrl(key: string): ResponseUrlRecord | undefined {
    return this.responseUrls.get(key);
  }

  // ------------------------------------------------------------------ rendering (wire shapes)

  botProfile(): SlackBotProfile {
    return {
      id: this.identity.botId,
      app_id: this.identity.appId,
      user_id: this.identity.botUserId,
      name: this.identity.botName,
      icons: { ...BOT_ICONS },
      deleted: false,
      updated: this.createdAt,
      team_id: this.identity.teamId,
    };
  }

  permalink(channelId: string, ts: string, threadTs: string | undefined): string {
    const base = `${this.baseUrl}/archives/${channelId}/p${ts.replace(".", "")}`;
    return threadTs === undefined || threadTs === ts
      ? base
      : `${base}?thread_ts=${threadTs}&cid=${channelId}`;
  }

  /** A message as conversations.history renders it. */
  renderMessage(message: MessageRecord, options: { includeMetadata?: boolean } = {}): SlackMessage {
    const identity = this.identity;
    if (message.kind === "tombstone") {
      return {
        type: "message",
        subtype: "tombstone",
        text: message.text,
        user: "USLACKBOT",
        hidden: true,
        ts: message.ts,
        ...this.threadFields(message),
      };
    }
    if (message.kind === "channel_join") {
      // Membership messages carry the member, not the app's bot fields.
      return {
        type: "message",
        subtype: "channel_join",
        ts: message.ts,
        user: this.authorId(message),
        text: message.text,
        ...(message.inviter === undefined ? {} : { inviter: message.inviter }),
      };
    }
    const rendered: SlackMessage = { type: "message", ts: message.ts, text: message.text };
    const subtype = this.subtypeOf(message);
    if (subtype !== undefined) rendered.subtype = subtype;
    if (message.author.kind === "user") {
      rendered.user = message.author.userId;
    } else {
      const customized =
        message.author.username !== undefined ||
        message.author.iconEmoji !== undefined ||
        message.author.iconUrl !== undefined;
      if (!customized) rendered.user = identity.botUserId;
      rendered.bot_id = identity.botId;
      rendered.app_id = identity.appId;
      if (message.author.username !== undefined) rendered.username = message.author.username;
      if (message.author.iconEmoji !== undefined) rendered.icons = { emoji: message.author.iconEmoji };
      else if (message.author.iconUrl !== undefined) rendered.icons = { image_48: message.author.iconUrl };
      rendered.bot_profile = this.botProfile();
    }
    rendered.team = identity.teamId;
    if (message.clientMessageId !== undefined) rendered.client_msg_id = message.clientMessageId;
    if (message.blocks !== undefined) rendered.blocks = structuredClone(message.blocks);
    if (message.attachments !== undefined) rendered.attachments = structuredClone(message.attachments);
    if (message.fileIds.length > 0) {
      rendered.files = message.fileIds.flatMap((id) => {
        const file = this.fileMap.get(id);
        return file === undefined ? [] : [this.renderFile(file)];
      });
      rendered.upload = message.upload;
      rendered.display_as_bot = false;
    }
    Object.assign(rendered, this.threadFields(message));
    if (message.reactions.length > 0) rendered.reactions = renderReactions(message.reactions);
    if (message.edited !== undefined) rendered.edited = { ...message.edited };
    if (message.metadata !== undefined && options.includeMetadata !== false) {
      rendered.metadata = structuredClone(message.metadata);
    }
    return rendered;
  }

  private subtypeOf(message: MessageRecord): string | undefined {
    switch (message.kind) {
      case "file_share":
      case "thread_broadcast":
      case "channel_join":
      case "tombstone":
        return message.kind;
      default:
        if (
          message.author.kind === "bot" &&
          (message.author.username !== undefined ||
            message.author.iconEmoji !== undefined ||
            message.author.iconUrl !== undefined)
        ) {
          return "bot_message";
        }
        return undefined;
    }
  }

  private threadFields(message: MessageRecord): Partial<SlackMessage> {
    const channel = this.channelMap.get(message.channel);
    if (message.threadTs !== undefined) {
      const parent = channel?.byTs.get(message.threadTs);
      return {
        thread_ts: message.threadTs,
        ...(parent === undefined ? {} : { parent_user_id: this.authorId(parent) }),
      };
    }
    if (message.replies.length === 0 || channel === undefined) return {};
    const replyAuthors: string[] = [];
    for (const ts of message.replies) {
      const reply = channel.byTs.get(ts);
      if (reply === undefined) continue;
      const author = this.authorId(reply);
      if (!replyAuthors.includes(author)) replyAuthors.push(author);
    }
    return {
      thread_ts: message.ts,
      reply_count: message.replies.length,
      reply_users_count: replyAuthors.length,
      latest_reply: message.replies.at(-1) ?? message.ts,
      reply_users: replyAuthors.slice(0, 5),
      is_locked: false,
      subscribed: false,
    };
  }

  renderFile(file: FileRecord): SlackFile {
    const { teamId } = this.identity;
    const name = encodeURIComponent(file.name);
    const shares: SlackFile["shares"] = {};
    const channels: string[] = [];
    const groups: string[] = [];
    for (const share of file.shares) {
      const channel = this.channelMap.get(share.channel);
      if (channel === undefined) continue;
      const visibility = channel.isPrivate ? "private" : "public";
      const list = channel.isPrivate ? groups : channels;
      if (!list.includes(channel.id)) list.push(channel.id);
      const byChannel = shares[visibility] ?? {};
      shares[visibility] = byChannel;
      const rendered: SlackFileShare = {
        reply_users: [],
        reply_users_count: 0,
        reply_count: 0,
        ts: share.ts,
        channel_name: channel.name,
        team_id: teamId,
        share_user_id: file.user,
        source: "UNKNOWN",
        is_silent_share: false,
      };
      if (share.threadTs !== undefined) rendered.thread_ts = share.threadTs;
      byChannel[channel.id] = [...(byChannel[channel.id] ?? []), rendered];
    }
    const isPublic = channels.length > 0;
    return {
      id: file.id,
      created: file.created,
      timestamp: file.created,
      name: file.name,
      title: file.title,
      mimetype: file.mimetype,
      filetype: file.filetype,
      pretty_type: file.prettyType,
      user: file.user,
      user_team: teamId,
      editable: false,
      size: file.size,
      mode: "hosted",
      is_external: false,
      external_type: "",
      is_public: isPublic,
      public_url_shared: false,
      display_as_bot: false,
      username: "",
      url_private: `${this.baseUrl}/files-pri/${teamId}-${file.id}/${name}`,
      url_private_download: `${this.baseUrl}/files-pri/${teamId}-${file.id}/download/${name}`,
      media_display_type: "unknown",
      permalink: `${this.baseUrl}/files/${file.user}/${file.id}/${name}`,
      permalink_public: `https://slack-files.com/${teamId}-${file.id}-${file.id.slice(1, 7).toLowerCase()}`,
      comments_count: 0,
      is_starred: false,
      shares,
      channels,
      groups,
      ims: [],
      has_more_shares: false,
      has_rich_preview: false,
      file_access: "visible",
      ...(file.altText === undefined ? {} : { alt_txt: file.altText }),
    };
  }

  renderConversation(
    channel: ChannelRecord,
    options: { includeNumMembers?: boolean } = {},
  ): SlackConversation {
    const rendered: SlackConversation = {
      id: channel.id,
      name: channel.name,
      is_channel: true,
      is_group: false,
      is_im: false,
      is_mpim: false,
      is_private: channel.isPrivate,
      created: channel.created,
      is_archived: channel.isArchived,
      is_general: channel.name === "general",
      unlinked: 0,
      name_normalized: channel.name,
      is_shared: false,
      is_org_shared: false,
      is_pending_ext_shared: false,
      pending_shared: [],
      context_team_id: this.identity.teamId,
      updated: channel.created * 1000,
      parent_conversation: null,
      creator: channel.creator,
      is_ext_shared: false,
      shared_team_ids: [this.identity.teamId],
      pending_connected_team_ids: [],
      is_member: channel.botIsMember,
      topic: { value: channel.topic, creator: channel.topic === "" ? "" : channel.creator, last_set: 0 },
      purpose: {
        value: channel.purpose,
        creator: channel.purpose === "" ? "" : channel.creator,
        last_set: 0,
      },
      previous_names: [],
    };
    if (options.includeNumMembers === true) rendered.num_members = this.memberIds(channel).length;
    return rendered;
  }

  memberIds(channel: ChannelRecord): string[] {
    return channel.botIsMember ? [...channel.members, this.identity.botUserId] : [...channel.members];
  }

  renderChannel(channel: ChannelRecord): SimulatorChannel {
    return {
      id: channel.id,
      name: channel.name,
      isPrivate: channel.isPrivate,
      isArchived: channel.isArchived,
      botIsMember: channel.botIsMember,
      members: this.memberIds(channel),
    };
  }

  renderUser(user: UserRecord, options: { includeEmail: boolean }): SlackUser {
    const profile: Record<string, unknown> = {
      title: "",
      phone: "",
      skype: "",
      real_name: user.realName,
      real_name_normalized: user.realName,
      display_name: user.name,
      display_name_normalized: user.name,
      fields: null,
      status_text: "",
      status_emoji: "",
      status_expiration: 0,
      avatar_hash: "g0000000000a",
      first_name: user.realName.split(" ")[0] ?? user.realName,
      last_name: user.realName.split(" ").slice(1).join(" "),
      image_24: "https://a.slack-edge.com/80588/img/avatars/ava_0001-24.png",
      image_32: "https://a.slack-edge.com/80588/img/avatars/ava_0001-32.png",
      image_48: "https://a.slack-edge.com/80588/img/avatars/ava_0001-48.png",
      image_72: "https://a.slack-edge.com/80588/img/avatars/ava_0001-72.png",
      image_192: "https://a.slack-edge.com/80588/img/avatars/ava_0001-192.png",
      image_512: "https://a.slack-edge.com/80588/img/avatars/ava_0001-512.png",
      status_text_canonical: "",
      team: this.identity.teamId,
    };
    if (options.includeEmail && user.email !== undefined) profile.email = user.email;
    return {
      id: user.id,
      team_id: this.identity.teamId,
      name: user.name,
      deleted: false,
      color: "9f69e7",
      real_name: user.realName,
      tz: user.tz,
      tz_label: user.tz === "UTC" ? "Coordinated Universal Time" : "Pacific Standard Time",
      tz_offset: user.tz === "UTC" ? 0 : -28_800,
      profile,
      is_admin: user.isAdmin,
      is_owner: false,
      is_primary_owner: false,
      is_restricted: false,
      is_ultra_restricted: false,
      is_bot: false,
      is_app_user: false,
      updated: this.createdAt,
      is_email_confirmed: user.email !== undefined,
    };
  }

  /** The bot user as users.info renders it. */
  renderBotUser(): SlackUser {
    const { botUserId, botName, botId, appId, teamId } = this.identity;
    return {
      id: botUserId,
      team_id: teamId,
      name: botName,
      deleted: false,
      color: "3c989f",
      real_name: botName,
      tz: "America/Los_Angeles",
      tz_label: "Pacific Standard Time",
      tz_offset: -28_800,
      profile: {
        title: "",
        phone: "",
        skype: "",
        real_name: botName,
        real_name_normalized: botName,
        display_name: "",
        display_name_normalized: "",
        fields: null,
        status_text: "",
        status_emoji: "",
        status_expiration: 0,
        avatar_hash: "g0000000000b",
        api_app_id: appId,
        always_active: false,
        bot_id: botId,
        first_name: botName,
        last_name: "",
        ...BOT_ICONS,
        status_text_canonical: "",
        team: teamId,
      },
      is_admin: false,
      is_owner: false,
      is_primary_owner: false,
      is_restricted: false,
      is_ultra_restricted: false,
      is_bot: true,
      is_app_user: false,
      updated: this.createdAt,
      is_email_confirmed: false,
    };
  }
}

export function renderReactions(reactions: MessageRecord["reactions"]): SlackReaction[] {
  return reactions.map((reaction) => ({
    name: reaction.name,
    users: [...reaction.users],
    count: reaction.users.length,
  }));
}

/** Sorts records by ts (oldest first). */
export function byTs<T extends { ts: string }>(records: T[]): T[] {
  return [...records].sort((left, right) => compareTs(left.ts, right.ts));
}

function toUserRecord(input: SlackUserInput): UserRecord {
  return {
    id: input.id,
    name: input.name,
    realName: input.realName ?? input.name,
    email: input.email,
    tz: input.tz ?? "America/Los_Angeles",
    isAdmin: input.isAdmin ?? false,
  };
}
