/**
 * The workspace's humans, driven by tests: they post, edit, delete, react, share
 * files, run slash commands, use shortcuts and submit modals. Each action
 * changes the state like Slack's client would and delivers what Slack would
 * send the app (signed events, command and interaction requests).
 *
 * With Socket Mode on, commands and interactions go to the app as Socket Mode
 * envelopes (`slash_commands`, `interactive`) instead of HTTP requests, and the
 * ack's payload is the app's answer (a slash command's immediate response, a
 * view submission's `response_action`).
 *
 * Response URLs (slash commands and message shortcuts) are served here too:
 * a JSON POST becomes an ephemeral message (the default), a channel message
 * (`response_type: "in_channel"`), or replaces / deletes the previous one; each
 * URL accepts 5 posts within 30 minutes.
 */
import { ConfigurationError } from "@linq-connect/core";
import type { AppResponse, AppTransport } from "./simulator-delivery.ts";
import {
  fileSharedEvent,
  messageChangedEvent,
  messageDeletedEvent,
  messageEvent,
  reactionEvent,
  type SimulatorEvent,
} from "./simulator-events.ts";
import { slackId } from "./simulator-identifiers.ts";
import type { SocketModeAnswer, SocketModeHub } from "./simulator-socket-mode.ts";
import {
  type ChannelRecord,
  type MessageRecord,
  richTextBlocks,
  type SlackState,
  type UserRecord,
} from "./simulator-state.ts";
import type {
  SlackAppAnswer,
  SlackFile,
  SlackMessage,
  SlackResponseUrlPost,
  SlackSimulatorUsers,
  SlackUserFileInput,
} from "./simulator-types.ts";
import { responseUrlBodySchema, validateModalView } from "./simulator-validation.ts";

const RESPONSE_URL_MAX_USES = 5;
const RESPONSE_URL_LIFETIME_MS = 30 * 60 * 1000;

export interface UserControlServices {
  state: SlackState;
  transport: AppTransport;
  /** Socket Mode: when `active`, commands and interactions go over it. */
  socketMode: Pick<SocketModeHub, "active" | "request">;
  verificationToken: string;
  emit(event: SimulatorEvent): void;
  /** The app's current request URLs. */
  app(): { commandsUrl: string | undefined; interactionsUrl: string | undefined };
  /** How long the app has to answer a command or interaction (Slack: 3 s). */
  ackTimeoutMs(): number;
}

/** What the server answers to a POST on a response URL. */
export interface ResponseUrlAnswer {
  status: number;
  json: unknown;
}

export class UserControls {
  private readonly services: UserControlServices;
  private responsesByUrl = new Map<string, SlackResponseUrlPost[]>();

  constructor(services: UserControlServices) {
    this.services = services;
  }

  reset(): void {
    this.responsesByUrl = new Map();
  }

  /** The public controls (`simulator.users`). */
  controls(): SlackSimulatorUsers {
    return {
      post: async (input) => this.post(input),
      edit: async (input) => this.edit(input),
      delete: async (input) => this.delete(input),
      react: async (input) => this.react(input, "reaction_added"),
      unreact: async (input) => this.react(input, "reaction_removed"),
      shareFile: async (input) => {
        const message = this.post({
          user: input.user,
          channel: input.channel,
          text: input.text ?? "",
          files: [input.file],
          ...(input.threadTs === undefined ? {} : { threadTs: input.threadTs }),
        });
        const file = message.files?.[0] as SlackFile;
        return { file, message };
      },
      slashCommand: (input) => this.slashCommand(input),
      shortcut: (input) => this.shortcut(input),
      submitView: (input) => this.submitView(input),
    };
  }

  // ------------------------------------------------------------------ messages

  private post(input: {
    user: string;
    channel: string;
    text: string;
    threadTs?: string;
    files?: SlackUserFileInput[];
    broadcast?: boolean;
  }): SlackMessage {
    const { state } = this.services;
    const user = this.requireUser(input.user);
    const channel = this.requireChannel(input.channel, { writable: true });
    this.requireMember(channel, user);
    let threadTs: string | undefined;
    if (input.threadTs !== undefined) {
      const parent = channel.byTs.get(input.threadTs);
      if (parent === undefined) {
        throw new ConfigurationError(`No message ${input.threadTs} in ${channel.id} to reply to`);
      }
      threadTs = parent.threadTs ?? parent.ts;
    }
    const files = (input.files ?? []).map((file) =>
      state.createUserFile({
        user: user.id,
        name: file.name,
        bytes:
          typeof file.content === "string" ? Buffer.from(file.content, "utf8") : Buffer.from(file.content),
        ...(file.title === undefined ? {} : { title: file.title }),
        ...(file.mimetype === undefined ? {} : { mimetype: file.mimetype }),
      }),
    );
    const message = state.addMessage(channel, {
      author: { kind: "user", userId: user.id },
      text: input.text,
      kind:
        files.length > 0
          ? "file_share"
          : input.broadcast === true && threadTs !== undefined
            ? "thread_broadcast"
            : "normal",
      threadTs,
      fileIds: files.map((file) => file.id),
      upload: files.length > 0,
    });
    for (const file of files) file.shares.push({ channel: channel.id, ts: message.ts, threadTs });
    this.services.emit(messageEvent(state, channel, message));
    for (const file of files) {
      this.services.emit(
        fileSharedEvent({ channel, fileId: file.id, user: user.id, eventTs: state.nextTs() }),
      );
    }
    return state.renderMessage(message);
  }

  private edit(input: { user: string; channel: string; ts: string; text: string }): SlackMessage {
    const { state } = this.services;
    const user = this.requireUser(input.user);
    const channel = this.requireChannel(input.channel, { writable: true });
    const message = this.requireMessage(channel, input.ts);
    if (message.author.kind !== "user" || message.author.userId !== user.id) {
      throw new ConfigurationError(`${user.id} can only edit their own messages`);
    }
    const previous = state.renderMessage(message);
    message.text = input.text;
    if (!message.blocksExplicit) message.blocks = input.text === "" ? undefined : richTextBlocks(input.text);
    const editTs = state.nextTs();
    message.edited = { user: user.id, ts: editTs };
    const current = state.renderMessage(message);
    this.services.emit(messageChangedEvent(channel, current, previous, editTs));
    return current;
  }

  private delete(input: { user: string; channel: string; ts: string }): void {
    const { state } = this.services;
    const user = this.requireUser(input.user);
    const channel = this.requireChannel(input.channel, { writable: false });
    const message = this.requireMessage(channel, input.ts);
    const own = message.author.kind === "user" && message.author.userId === user.id;
    if (!own && !user.isAdmin) {
      throw new ConfigurationError(`${user.id} can only delete their own messages (admins can delete any)`);
    }
    const previous = state.renderMessage(message);
    state.deleteMessage(channel, message);
    const eventTs = state.nextTs();
    if (message.kind === "tombstone") {
      this.services.emit(messageChangedEvent(channel, state.renderMessage(message), previous, eventTs));
    } else {
      this.services.emit(messageDeletedEvent(channel, previous, eventTs));
    }
  }

  private react(
    input: { user: string; channel: string; ts: string; name: string },
    type: "reaction_added" | "reaction_removed",
  ): void {
    const { state } = this.services;
    const user = this.requireUser(input.user);
    const channel = this.requireChannel(input.channel, { writable: true });
    const message = this.requireMessage(channel, input.ts);
    const name = input.name.replace(/^:|:$/g, "");
    const existing = message.reactions.find((reaction) => reaction.name === name);
    if (type === "reaction_added") {
      if (existing?.users.includes(user.id) === true) return;
      if (existing === undefined) message.reactions.push({ name, users: [user.id] });
      else existing.users.push(user.id);
    } else {
      if (existing === undefined || !existing.users.includes(user.id)) return;
      existing.users = existing.users.filter((id) => id !== user.id);
      if (existing.users.length === 0)
        message.reactions = message.reactions.filter((item) => item !== existing);
    }
    this.services.emit(
      reactionEvent({
        type,
        state,
        channel,
        message,
        user: user.id,
        reaction: name,
        eventTs: state.nextTs(),
      }),
    );
  }

  // ------------------------------------------------------------------ commands and interactions

  private async slashCommand(input: { user: string; channel: string; command: string; text?: string }) {
    const { state } = this.services;
    const user = this.requireUser(input.user);
    const channel = this.requireChannel(input.channel, { writable: false });
    if (!input.command.startsWith("/")) throw new ConfigurationError("A slash command starts with /");
    const target = this.target(this.services.app().commandsUrl, "commandsUrl");
    const triggerId = state.issueTrigger(user.id, channel.id);
    const responseUrl = state.issueResponseUrl({ channel: channel.id, user: user.id, kind: "commands" });
    const responses = this.responsesFor(responseUrl);
    const fields: Record<string, string> = {
      token: this.services.verificationToken,
      team_id: state.identity.teamId,
      team_domain: state.identity.teamDomain,
      channel_id: channel.id,
      channel_name: channel.isPrivate ? "privategroup" : channel.name,
      user_id: user.id,
      user_name: user.name,
      command: input.command,
      text: input.text ?? "",
      api_app_id: state.identity.appId,
      is_enterprise_install: "false",
      response_url: responseUrl,
      trigger_id: triggerId,
    };
    const answer = await this.ask(target, {
      form: new URLSearchParams(fields).toString(),
      type: "slash_commands",
      payload: fields,
      acceptsResponsePayload: true,
      name: input.command,
    });
    if (answer.status !== null && answer.status >= 200 && answer.status < 300 && answer.body.trim() !== "") {
      // An immediate answer: JSON like a response URL message, or plain text (ephemeral).
      const message: Record<string, unknown> =
        answer.json !== null && typeof answer.json === "object" && !Array.isArray(answer.json)
          ? (answer.json as Record<string, unknown>)
          : { text: answer.body };
      if (hasMessageContent(message)) {
        this.deliverResponse(responseUrl, message, { source: "command_response", countUse: false });
      }
    }
    return { ...answer, responseUrl, triggerId, responses };
  }

  private async shortcut(input: { user: string; callbackId: string; channel?: string; messageTs?: string }) {
    const { state } = this.services;
    const user = this.requireUser(input.user);
    const target = this.target(this.services.app().interactionsUrl, "interactionsUrl");
    const common = {
      token: this.services.verificationToken,
      action_ts: `${state.nowSeconds()}.${String(state.nowMilliseconds() % 1000).padStart(3, "0")}000`,
      team: { id: state.identity.teamId, domain: state.identity.teamDomain },
      user: { id: user.id, username: user.name, team_id: state.identity.teamId },
      is_enterprise_install: false,
      enterprise: null,
      callback_id: input.callbackId,
    };
    let payload: Record<string, unknown>;
    let responseUrl: string | null = null;
    let triggerId: string;
    if (input.messageTs !== undefined) {
      if (input.channel === undefined) throw new ConfigurationError("A message shortcut needs the channel");
      const channel = this.requireChannel(input.channel, { writable: false });
      const message = this.requireMessage(channel, input.messageTs);
      triggerId = state.issueTrigger(user.id, channel.id);
      responseUrl = state.issueResponseUrl({
        channel: channel.id,
        user: user.id,
        kind: "actions",
        original: { channel: channel.id, ts: message.ts },
      });
      payload = {
        type: "message_action",
        ...common,
        trigger_id: triggerId,
        message_ts: message.ts,
        message: state.renderMessage(message),
        channel: { id: channel.id, name: channel.name },
        response_url: responseUrl,
      };
    } else {
      triggerId = state.issueTrigger(user.id, undefined);
      payload = { type: "shortcut", ...common, trigger_id: triggerId };
    }
    const answer = await this.ask(target, {
      form: new URLSearchParams({ payload: JSON.stringify(payload) }).toString(),
      type: "interactive",
      payload,
      acceptsResponsePayload: false,
      name: String(payload.type),
    });
    return {
      ...answer,
      triggerId,
      responseUrl,
      responses: responseUrl === null ? [] : this.responsesFor(responseUrl),
    };
  }

  private async submitView(input: {
    user: string;
    viewId: string;
    values?: Record<string, Record<string, unknown>>;
  }) {
    const { state } = this.services;
    const user = this.requireUser(input.user);
    const target = this.target(this.services.app().interactionsUrl, "interactionsUrl");
    const record = state.view(input.viewId);
    if (record === undefined || !record.isOpen) throw new ConfigurationError(`No open view ${input.viewId}`);
    if (record.user !== user.id)
      throw new ConfigurationError(`View ${input.viewId} was opened for ${record.user}`);
    record.view = { ...record.view, state: { values: structuredClone(input.values ?? {}) } };
    const payload = {
      type: "view_submission",
      team: { id: state.identity.teamId, domain: state.identity.teamDomain },
      user: { id: user.id, username: user.name, name: user.name, team_id: state.identity.teamId },
      api_app_id: state.identity.appId,
      token: this.services.verificationToken,
      trigger_id: state.issueTrigger(user.id, undefined),
      view: structuredClone(record.view),
      response_urls: [],
      is_enterprise_install: false,
      enterprise: null,
    };
    const answer = await this.ask(target, {
      form: new URLSearchParams({ payload: JSON.stringify(payload) }).toString(),
      type: "interactive",
      payload,
      acceptsResponsePayload: true,
      name: payload.type,
    });
    let responseAction: string | null = null;
    let errors: Record<string, string> | null = null;
    if (answer.status !== null && answer.status >= 200 && answer.status < 300) {
      const json = answer.json as { response_action?: unknown; errors?: unknown; view?: unknown } | null;
      responseAction = typeof json?.response_action === "string" ? json.response_action : null;
      switch (responseAction) {
        case "errors":
          errors = (json?.errors ?? {}) as Record<string, string>;
          break;
        case "update":
        case "push": {
          const problems = validateModalView(json?.view);
          if (problems.length > 0) break; // Slack shows an error in the modal; it stays as it was.
          const view = json?.view as Record<string, unknown>;
          const id = responseAction === "update" ? record.view.id : slackId("V", 10);
          const rendered = {
            ...record.view,
            id,
            blocks: structuredClone(view.blocks),
            title: structuredClone(view.title),
            submit: view.submit === undefined ? null : structuredClone(view.submit),
            close: view.close === undefined ? null : structuredClone(view.close),
            callback_id: typeof view.callback_id === "string" ? view.callback_id : "",
            private_metadata: typeof view.private_metadata === "string" ? view.private_metadata : "",
            state: { values: {} },
            hash: `${state.nowSeconds()}.${slackId("", 8).toLowerCase()}`,
            previous_view_id: responseAction === "push" ? record.view.id : null,
          };
          if (responseAction === "update") record.view = rendered;
          else state.addView({ user: user.id, isOpen: true, view: rendered });
          break;
        }
        case "clear":
          for (const view of state.allViews()) if (view.user === user.id) view.isOpen = false;
          break;
        default:
          record.isOpen = false;
      }
    }
    return { ...answer, responseAction, errors, viewIsOpen: state.view(input.viewId)?.isOpen ?? false };
  }

  // ------------------------------------------------------------------ response URLs

  /** Handles a POST to a response URL (`path` without the leading slash). */
  handleResponseUrl(path: string, body: Buffer, contentType: string | undefined): ResponseUrlAnswer {
    const { state } = this.services;
    const record = state.responseUrl(path);
    if (record === undefined) return { status: 404, json: { ok: false, error: "no_service" } };
    const responses = this.responsesFor(`${state.baseUrl}/${path}`);
    const reject = (status: number, error: string): ResponseUrlAnswer => {
      responses.push({ body: parseLoosely(body), status, outcome: "rejected" });
      return { status, json: { ok: false, error } };
    };
    if (state.nowMilliseconds() - record.createdAt > RESPONSE_URL_LIFETIME_MS)
      return reject(404, "expired_url");
    if (record.uses >= RESPONSE_URL_MAX_USES) return reject(404, "used_url");
    let parsed: unknown;
    try {
      const text = body.toString("utf8");
      parsed = (contentType ?? "").includes("application/x-www-form-urlencoded")
        ? JSON.parse(new URLSearchParams(text).get("payload") ?? "")
        : JSON.parse(text);
    } catch {
      return reject(400, "invalid_payload");
    }
    const message = responseUrlBodySchema.safeParse(parsed);
    if (!message.success) return reject(400, "invalid_payload");
    const isDelete = message.data.delete_original === true || message.data.delete_original === "true";
    if (!isDelete && !hasMessageContent(message.data)) return reject(400, "no_text");
    this.deliverResponse(`${state.baseUrl}/${path}`, parsed as Record<string, unknown>, {
      source: "response_url",
      countUse: true,
    });
    return { status: 200, json: { ok: true } };
  }

  /** Applies a response (immediate command answer or response URL post); returns its outcome and records it. */
  private deliverResponse(
    url: string,
    body: Record<string, unknown>,
    options: { source: "command_response" | "response_url"; countUse: boolean },
  ): SlackResponseUrlPost["outcome"] {
    const { state } = this.services;
    const path = url.slice(state.baseUrl.length + 1);
    const record = state.responseUrl(path);
    const responses = this.responsesFor(url);
    if (record === undefined) return "rejected";
    if (options.countUse) record.uses += 1;
    const channel = state.channel(record.channel);
    const text = typeof body.text === "string" ? body.text : "";
    const blocks = Array.isArray(body.blocks) && body.blocks.length > 0 ? body.blocks : undefined;
    const attachments =
      Array.isArray(body.attachments) && body.attachments.length > 0 ? body.attachments : undefined;
    const threadTs = typeof body.thread_ts === "string" ? body.thread_ts : undefined;
    const flag = (value: unknown): boolean => value === true || value === "true";
    let outcome: SlackResponseUrlPost["outcome"];
    const target =
      record.lastMessage ??
      (record.original === undefined ? undefined : { kind: "in_channel" as const, ts: record.original.ts });
    const replacing = flag(body.replace_original) && !flag(body.delete_original);
    if (flag(body.delete_original) || (replacing && target !== undefined)) {
      const replace = replacing;
      if (!replace) record.lastMessage = undefined;
      if (target === undefined || channel === undefined) {
        // Nothing was posted through this URL yet: there is nothing to delete.
        outcome = "rejected";
      } else if (target.kind === "ephemeral") {
        const existing = state.ephemeral().find((message) => message.ts === target.ts);
        state.replaceEphemeral(
          target.ts,
          replace && existing !== undefined
            ? {
                ...existing,
                text,
                ...(blocks === undefined ? {} : { blocks }),
                ...(attachments === undefined ? {} : { attachments }),
              }
            : undefined,
        );
        outcome = replace ? "replaced" : "deleted";
      } else {
        outcome = this.changeChannelMessage(
          channel,
          target.ts,
          replace ? { text, blocks, attachments } : undefined,
        );
      }
    } else if (body.response_type === "in_channel" && channel !== undefined) {
      const message = state.addMessage(channel, {
        author: { kind: "bot" },
        text,
        threadTs: threadTs === undefined ? undefined : (channel.byTs.get(threadTs)?.threadTs ?? threadTs),
        blocks,
        attachments,
      });
      record.lastMessage = { kind: "in_channel", ts: message.ts };
      this.services.emit(messageEvent(state, channel, message));
      outcome = "in_channel";
    } else {
      const ts = state.nextTs();
      state.addEphemeral({
        channel: record.channel,
        user: record.user,
        ts,
        text,
        source: options.source,
        ...(blocks === undefined ? {} : { blocks }),
        ...(attachments === undefined ? {} : { attachments }),
        ...(threadTs === undefined ? {} : { thread_ts: threadTs }),
      });
      record.lastMessage = { kind: "ephemeral", ts };
      outcome = "ephemeral";
    }
    responses.push({ body: structuredClone(body), status: 200, outcome });
    return outcome;
  }

  /** Replaces or deletes a channel message through a response URL (only the app's own messages). */
  private changeChannelMessage(
    channel: ChannelRecord,
    ts: string,
    replacement:
      | { text: string; blocks: unknown[] | undefined; attachments: unknown[] | undefined }
      | undefined,
  ): SlackResponseUrlPost["outcome"] {
    const { state } = this.services;
    const message = channel.byTs.get(ts);
    if (message === undefined || message.author.kind !== "bot") return "rejected";
    const previous = state.renderMessage(message);
    const eventTs = state.nextTs();
    if (replacement === undefined) {
      state.deleteMessage(channel, message);
      this.services.emit(messageDeletedEvent(channel, previous, eventTs));
      return "deleted";
    }
    message.text = replacement.text;
    message.blocks =
      replacement.blocks ?? (replacement.text === "" ? undefined : richTextBlocks(replacement.text));
    message.blocksExplicit = replacement.blocks !== undefined;
    message.attachments = replacement.attachments;
    message.edited = { user: state.identity.botUserId, ts: eventTs };
    this.services.emit(messageChangedEvent(channel, state.renderMessage(message), previous, eventTs));
    return "replaced";
  }

  private responsesFor(url: string): SlackResponseUrlPost[] {
    let list = this.responsesByUrl.get(url);
    if (list === undefined) {
      list = [];
      this.responsesByUrl.set(url, list);
    }
    return list;
  }

  // ------------------------------------------------------------------ helpers

  /** Where a command or interaction goes: over Socket Mode when it is on, else to the request URL (which must be set). */
  private target(url: string | undefined, name: "commandsUrl" | "interactionsUrl"): AppTarget {
    if (this.services.socketMode.active) return { kind: "socket_mode" };
    if (url === undefined) {
      throw new ConfigurationError(`No ${name}: set it with configureApp({ ${name} }) or use Socket Mode`);
    }
    return { kind: "http", url };
  }

  /** Sends a command or interaction (a signed form POST, or a Socket Mode envelope) and returns the app's answer. */
  private async ask(
    target: AppTarget,
    request: {
      form: string;
      type: "slash_commands" | "interactive";
      payload: Record<string, unknown>;
      acceptsResponsePayload: boolean;
      name: string;
    },
  ): Promise<SlackAppAnswer> {
    if (target.kind === "socket_mode") {
      return socketAnswer(
        await this.services.socketMode.request({
          type: request.type,
          payload: request.payload,
          acceptsResponsePayload: request.acceptsResponsePayload,
          name: request.name,
        }),
      );
    }
    const response = await this.services.transport.send({
      url: target.url,
      body: request.form,
      contentType: "application/x-www-form-urlencoded",
      timeoutMs: this.services.ackTimeoutMs(),
    });
    return toAnswer(response);
  }

  private requireUser(id: string): UserRecord {
    const user = this.services.state.user(id);
    if (user === undefined)
      throw new ConfigurationError(`Unknown user ${id}: add it to the simulator's users`);
    return user;
  }

  private requireChannel(id: string, options: { writable: boolean }): ChannelRecord {
    const channel = this.services.state.channel(id);
    if (channel === undefined) throw new ConfigurationError(`Unknown channel ${id}`);
    if (options.writable && channel.isArchived) throw new ConfigurationError(`Channel ${id} is archived`);
    return channel;
  }

  private requireMember(channel: ChannelRecord, user: UserRecord): void {
    if (!channel.members.includes(user.id)) {
      throw new ConfigurationError(`${user.id} is not a member of ${channel.id}`);
    }
  }

  private requireMessage(channel: ChannelRecord, ts: string): MessageRecord {
    const message = channel.byTs.get(ts);
    if (message === undefined || message.kind === "tombstone") {
      throw new ConfigurationError(`No message ${ts} in ${channel.id}`);
    }
    return message;
  }
}

type AppTarget = { kind: "socket_mode" } | { kind: "http"; url: string };

/** A Socket Mode ack as the app's answer (see SlackAppAnswer). */
function socketAnswer(answer: SocketModeAnswer): SlackAppAnswer {
  if (!answer.acked) {
    return {
      status: null,
      error: answer.failure === "no_connection" ? "connection_failed" : "operation_timeout",
      body: "",
      json: null,
      transport: "socket_mode",
      envelopeId: answer.envelopeId,
    };
  }
  const hasPayload = answer.payload !== undefined && answer.payload !== null;
  return {
    status: 200,
    error: null,
    body: hasPayload ? JSON.stringify(answer.payload) : "",
    json: hasPayload ? structuredClone(answer.payload) : null,
    transport: "socket_mode",
    envelopeId: answer.envelopeId,
  };
}

function toAnswer(response: AppResponse): SlackAppAnswer {
  let json: unknown = null;
  if (response.body !== "") {
    try {
      json = JSON.parse(response.body);
    } catch {
      json = null;
    }
  }
  return {
    status: response.status,
    error: response.failure === "http_timeout" ? "operation_timeout" : response.failure,
    body: response.body,
    json,
    transport: "http",
    envelopeId: null,
  };
}

/** Whether a message has something to show (text, blocks or attachments). */
function hasMessageContent(message: { text?: unknown; blocks?: unknown; attachments?: unknown }): boolean {
  return (
    (typeof message.text === "string" && message.text !== "") ||
    (Array.isArray(message.blocks) && message.blocks.length > 0) ||
    (Array.isArray(message.attachments) && message.attachments.length > 0)
  );
}

function parseLoosely(body: Buffer): unknown {
  const text = body.toString("utf8");
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
