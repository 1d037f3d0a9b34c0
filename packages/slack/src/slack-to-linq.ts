/**
 * Slack → Linq. Bolt listeners only decide and enqueue durable jobs (so Slack gets its answer
 * within 3 s); the jobs do the work, in order per chat (`orderingKey: chat:<id>`), once per Slack
 * event (`deduplicationKey`, so Slack's retries with `X-Slack-Retry-Num` and duplicate deliveries
 * are one job), and idempotently (the Linq idempotency key derives from the Slack message).
 *
 * Loop prevention by design: a listener acts only on a human's message in a mirrored thread (no
 * `bot_id`, not the app's bot user, no subtype other than `file_share` / `thread_broadcast`), on a
 * human's edit or deletion of such a reply, and on a human's reaction to a mirrored customer
 * message. Everything the app posts itself (headers, mirrored messages, notices, reactions) comes
 * back as events with the bot's ids and is dropped before any job exists.
 */
import {
  AbortError,
  type ChatMessage,
  ConfigurationError,
  type ConnectorContext,
  type ConnectorJob,
  calculateSmsSegments,
  isRetryableError,
  NetworkError,
  NotFoundError,
  smsSegmentWarning,
  ValidationError,
} from "@linq-connect/core";
import type { App } from "@slack/bolt";
import { z } from "zod";
import { connectorContextProperty } from "./bolt-receiver.ts";
import { type ConnectorServices, threadSettings } from "./connector-services.ts";
import { downloadFile } from "./file-transfer.ts";
import type { LinqToSlack } from "./linq-to-slack.ts";
import {
  findThread,
  findThreadByTs,
  type MessageMetadata,
  mappingKinds,
  readMessage,
  threadKey,
} from "./mappings.ts";
import { escapeMrkdwn, renderNotice, renderWarning } from "./message-format.ts";
import { ReplyNotSentYetError, slackErrorCode } from "./slack-errors.ts";
import {
  newConversationShortcutId,
  newConversationView,
  newConversationViewId,
  parseStartCommand,
  readNewConversationValues,
} from "./start-conversation.ts";

export const slackJobTypes = {
  reply: "slack.reply",
  edit: "slack.edit",
  delete: "slack.delete",
  reaction: "slack.reaction",
  internalNote: "slack.internal-note",
  smsWarning: "slack.sms-warning",
  startConversation: "slack.start-conversation",
} as const;

export const cancelSendActionId = "linq_cancel_send";

const fileSchema = z.looseObject({
  id: z.string(),
  name: z.string().nullish(),
  title: z.string().nullish(),
  mimetype: z.string().nullish(),
  size: z.number().nullish(),
  url_private_download: z.string().nullish(),
  url_private: z.string().nullish(),
  file_access: z.string().nullish(),
});

const innerMessageSchema = z.looseObject({
  ts: z.string(),
  text: z.string().nullish(),
  user: z.string().nullish(),
  bot_id: z.string().nullish(),
  subtype: z.string().nullish(),
  thread_ts: z.string().nullish(),
});

const messageEventSchema = z.looseObject({
  type: z.literal("message"),
  subtype: z.string().nullish(),
  channel: z.string(),
  user: z.string().nullish(),
  bot_id: z.string().nullish(),
  text: z.string().nullish(),
  ts: z.string().optional(),
  thread_ts: z.string().nullish(),
  files: z.array(fileSchema).nullish(),
  message: innerMessageSchema.nullish(),
  previous_message: innerMessageSchema.nullish(),
  deleted_ts: z.string().nullish(),
});

const reactionEventSchema = z.looseObject({
  type: z.enum(["reaction_added", "reaction_removed"]),
  user: z.string(),
  reaction: z.string(),
  item: z.looseObject({ type: z.string(), channel: z.string().optional(), ts: z.string().optional() }),
});

const replyPayloadSchema = z.object({
  chatId: z.string(),
  channel: z.string(),
  ts: z.string(),
  threadTs: z.string(),
  user: z.string(),
  text: z.string(),
  files: z.array(fileSchema).default([]),
  /** Seconds to wait for a Cancel before sending (a multi-segment SMS). */
  holdSeconds: z.number().min(0).max(60).default(0),
});

const editPayloadSchema = z.object({
  chatId: z.string(),
  channel: z.string(),
  ts: z.string(),
  text: z.string(),
});
const deletePayloadSchema = z.object({ chatId: z.string(), channel: z.string(), ts: z.string() });
const reactionPayloadSchema = z.object({
  chatId: z.string(),
  linqMessageId: z.string(),
  channel: z.string(),
  ts: z.string(),
  emoji: z.string(),
  reaction: z.enum(["love", "like", "dislike", "laugh", "emphasize", "question"]),
  operation: z.enum(["add", "remove"]),
});
const notePayloadSchema = z.object({ channel: z.string(), ts: z.string() });
const smsWarningPayloadSchema = z.object({
  channel: z.string(),
  threadTs: z.string(),
  ts: z.string(),
  user: z.string(),
  warning: z.string(),
  cancellable: z.boolean(),
});
const startPayloadSchema = z.object({
  routeName: z.string(),
  user: z.string(),
  phoneNumbers: z.array(z.string()).min(1),
  text: z.string().min(1),
  requestKey: z.string(),
  responseUrl: z.string().optional(),
});

type MessageEvent = z.output<typeof messageEventSchema>;

function holdFor(milliseconds: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new AbortError("Stopped while waiting for a Cancel", { source: "internal" }));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortError("Stopped while waiting for a Cancel", { source: "internal" }));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, milliseconds);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** `slack-<channel>-<ts>` with everything but letters, digits, `_` and `-` replaced: Linq's key alphabet. */
export function replyIdempotencyKey(channel: string, ts: string): string {
  return `slack-${channel}-${ts}`.replace(/[^a-zA-Z0-9_-]/g, "_");
}

/** Whether a reply stays internal (starts with the prefix, case-insensitively). */
export function isInternalNote(text: string, prefix: string): boolean {
  return text.trimStart().toLowerCase().startsWith(prefix.trim().toLowerCase());
}

function parsePayload<T>(schema: z.ZodType<T>, job: ConnectorJob): T {
  const result = schema.safeParse(job.payload);
  if (!result.success) {
    throw new ValidationError(
      `Job ${job.type} has an invalid payload: ${result.error.issues[0]?.message ?? "?"}`,
      {
        source: "internal",
      },
    );
  }
  return result.data;
}

export interface SlackToLinqOptions {
  services: ConnectorServices;
  linqToSlack: LinqToSlack;
  /** The context given to `start()` (Socket Mode events carry no host context). */
  fallbackContext: () => ConnectorContext | undefined;
}

export class SlackToLinq {
  readonly #services: ConnectorServices;
  readonly #linqToSlack: LinqToSlack;
  readonly #fallbackContext: () => ConnectorContext | undefined;
  #botUser: Promise<string | undefined> | undefined;

  constructor(options: SlackToLinqOptions) {
    this.#services = options.services;
    this.#linqToSlack = options.linqToSlack;
    this.#fallbackContext = options.fallbackContext;
  }

  #contextOf(boltContext: Record<string, unknown>): ConnectorContext {
    const context =
      (boltContext[connectorContextProperty] as ConnectorContext | undefined) ?? this.#fallbackContext();
    if (context === undefined) {
      throw new ConfigurationError("A Slack event arrived before the connector was started");
    }
    return context;
  }

  /** Registers the listeners on the Bolt app. */
  register(app: App): void {
    app.event("message", async ({ event, body, context }) => {
      const parsed = messageEventSchema.safeParse(event);
      if (!parsed.success) return;
      const eventId =
        typeof (body as { event_id?: unknown }).event_id === "string"
          ? (body as { event_id: string }).event_id
          : undefined;
      await this.#onMessage(parsed.data, eventId, context as Record<string, unknown>);
    });
    for (const type of ["reaction_added", "reaction_removed"] as const) {
      app.event(type, async ({ event, body, context }) => {
        const parsed = reactionEventSchema.safeParse(event);
        if (!parsed.success) return;
        const eventId = (body as { event_id?: unknown }).event_id;
        await this.#onReaction(
          parsed.data,
          typeof eventId === "string" ? eventId : undefined,
          context as Record<string, unknown>,
        );
      });
    }
    for (const type of [
      "channel_archive",
      "group_archive",
      "channel_left",
      "group_left",
      "tokens_revoked",
      "app_uninstalled",
    ]) {
      app.event(type, async ({ event, context }) => {
        const connectorContext = this.#contextOf(context as Record<string, unknown>);
        connectorContext.logger.warn(
          { type, channel: (event as { channel?: unknown }).channel },
          "Slack reports that the app lost access: mirroring into the affected channel will fail until it is fixed (run `linq-sync doctor`)",
        );
      });
    }
    app.command(this.#services.behaviour.command, async ({ command, ack, context }) => {
      const connectorContext = this.#contextOf(context as Record<string, unknown>);
      const parsed = parseStartCommand(command.text ?? "", this.#services.behaviour.command);
      if (!parsed.ok) {
        await ack({ response_type: "ephemeral", text: parsed.error });
        return;
      }
      const route = this.#services.routes.find(
        (candidate) => candidate.settings.channel === command.channel_id,
      );
      if (route === undefined) {
        await ack({
          response_type: "ephemeral",
          text: `No route mirrors this channel (<#${command.channel_id}>): run ${this.#services.behaviour.command} in a channel that a route's slack.channel names.`,
        });
        return;
      }
      if (route.settings.mode === "alerts-only") {
        await ack({
          response_type: "ephemeral",
          text: `Route ${route.name} is alerts-only: it does not send texts from Slack.`,
        });
        return;
      }
      await connectorContext.enqueue({
        type: slackJobTypes.startConversation,
        deduplicationKey: `slack-command:${command.trigger_id}`,
        payload: {
          routeName: route.name,
          user: command.user_id,
          phoneNumbers: parsed.phoneNumbers,
          text: parsed.text,
          requestKey: command.trigger_id,
          responseUrl: command.response_url,
        },
      });
      await ack({
        response_type: "ephemeral",
        text: `Texting ${parsed.phoneNumbers.join(", ")}… the conversation's thread appears in this channel.`,
      });
    });
    app.shortcut(newConversationShortcutId, async ({ shortcut, ack }) => {
      await ack();
      await this.#services.api.call("views.open", {
        trigger_id: shortcut.trigger_id,
        view: newConversationView(this.#services.routes),
      });
    });
    app.view(newConversationViewId, async ({ view, body, ack, context }) => {
      const connectorContext = this.#contextOf(context as Record<string, unknown>);
      const values = readNewConversationValues(view.state.values);
      const route = this.#services.routes.find((candidate) => candidate.name === values.routeName);
      const parsed = parseStartCommand(
        `${values.phone.replace(/\s+/g, "")} ${values.message}`,
        this.#services.behaviour.command,
      );
      const errors: Record<string, string> = {};
      if (route === undefined) errors.route = "Choose a route";
      if (!parsed.ok)
        errors[values.message.trim() === "" ? "message" : "phone"] = parsed.error.split("\n")[0] ?? "Invalid";
      if (route === undefined || !parsed.ok) {
        await ack({ response_action: "errors", errors });
        return;
      }
      await connectorContext.enqueue({
        type: slackJobTypes.startConversation,
        deduplicationKey: `slack-view:${view.id}:${view.hash}`,
        payload: {
          routeName: route.name,
          user: body.user.id,
          phoneNumbers: parsed.phoneNumbers,
          text: parsed.text,
          requestKey: `${view.id}-${view.hash}`,
        },
      });
      await ack();
    });
    app.action(cancelSendActionId, async ({ action, ack, respond, context }) => {
      await ack();
      const connectorContext = this.#contextOf(context as Record<string, unknown>);
      const value = (action as { value?: unknown }).value;
      const [channel, ts] = typeof value === "string" ? value.split("/") : [];
      if (channel === undefined || ts === undefined) return;
      const sent = await connectorContext.store.findByExternalId(
        mappingKinds.message,
        threadKey(channel, ts),
      );
      if (sent !== undefined) {
        await respond({ replace_original: true, text: "Too late: this reply was already sent." });
        return;
      }
      await this.#cancel(connectorContext, channel, ts);
      await respond({ replace_original: true, text: "Cancelled: this reply was not sent to the customer." });
    });
  }

  async #cancel(context: ConnectorContext, channel: string, ts: string): Promise<void> {
    const key = threadKey(channel, ts);
    await context.store.insertMapping({
      kind: mappingKinds.cancelled,
      linqId: key,
      externalId: key,
      metadata: {},
    });
  }

  #isFromBot(
    event: { user?: string | null | undefined; bot_id?: string | null | undefined },
    context: Record<string, unknown>,
  ): boolean {
    if (event.bot_id !== undefined && event.bot_id !== null) return true;
    if (event.user === undefined || event.user === null) return true;
    return event.user === context.botUserId;
  }

  async #onMessage(
    event: MessageEvent,
    eventId: string | undefined,
    boltContext: Record<string, unknown>,
  ): Promise<void> {
    const subtype = event.subtype ?? undefined;
    if (subtype === undefined || subtype === "file_share" || subtype === "thread_broadcast") {
      await this.#onReply(event, boltContext);
      return;
    }
    if (subtype === "message_changed") {
      await this.#onEdit(event, eventId, boltContext);
      return;
    }
    if (subtype === "message_deleted") await this.#onDelete(event, boltContext);
    // Every other subtype (bot_message, channel_join, …) is not a human reply.
  }

  async #onReply(event: MessageEvent, boltContext: Record<string, unknown>): Promise<void> {
    if (this.#isFromBot(event, boltContext)) return;
    const ts = event.ts;
    const threadTs = event.thread_ts ?? undefined;
    if (ts === undefined || threadTs === undefined || threadTs === ts) return;
    const context = this.#contextOf(boltContext);
    const found = await findThreadByTs(context.store, event.channel, threadTs);
    if (found === undefined) return;
    const { chatId, thread } = found;
    const settings = threadSettings(this.#services, thread);
    const text = event.text ?? "";
    const user = event.user ?? "";
    if (settings.mode === "alerts-only" || isInternalNote(text, settings.internalPrefix)) {
      if (this.#services.behaviour.internalNoteEmoji !== false) {
        await context.enqueue({
          type: slackJobTypes.internalNote,
          deduplicationKey: `slack-note:${event.channel}:${ts}`,
          payload: { channel: event.channel, ts },
        });
      }
      return;
    }
    const segments = thread.service === "SMS" && text.trim() !== "" ? calculateSmsSegments(text).segments : 1;
    const window = this.#services.behaviour.smsCancelWindowSeconds;
    if (segments > 1) {
      await context.enqueue({
        type: slackJobTypes.smsWarning,
        deduplicationKey: `slack-sms-warning:${event.channel}:${ts}`,
        payload: {
          channel: event.channel,
          threadTs,
          ts,
          user,
          warning:
            smsSegmentWarning(text, { maxSegments: 1 }) ?? `This SMS will be sent as ${segments} segments`,
          cancellable: window > 0,
        },
      });
    }
    await context.enqueue({
      type: slackJobTypes.reply,
      orderingKey: `chat:${chatId}`,
      deduplicationKey: `slack-msg:${event.channel}:${ts}`,
      payload: {
        chatId,
        channel: event.channel,
        ts,
        threadTs,
        user,
        text,
        files: (event.files ?? []).map((file) => ({ ...file })),
        holdSeconds: segments > 1 ? window : 0,
      },
    });
  }

  async #onEdit(
    event: MessageEvent,
    eventId: string | undefined,
    boltContext: Record<string, unknown>,
  ): Promise<void> {
    const message = event.message ?? undefined;
    if (message === undefined || this.#isFromBot(message, boltContext)) return;
    const threadTs = message.thread_ts ?? undefined;
    if (threadTs === undefined || threadTs === message.ts) return;
    const text = message.text ?? "";
    if (
      event.previous_message !== undefined &&
      event.previous_message !== null &&
      (event.previous_message.text ?? "") === text
    ) {
      return; // An unfurl or another change that is not an edit of the text.
    }
    const context = this.#contextOf(boltContext);
    const found = await findThreadByTs(context.store, event.channel, threadTs);
    if (found === undefined) return;
    await context.enqueue({
      type: slackJobTypes.edit,
      orderingKey: `chat:${found.chatId}`,
      deduplicationKey: `slack-edit:${eventId ?? `${event.channel}:${message.ts}:${text.length}:${event.ts ?? ""}`}`,
      payload: { chatId: found.chatId, channel: event.channel, ts: message.ts, text },
    });
  }

  async #onDelete(event: MessageEvent, boltContext: Record<string, unknown>): Promise<void> {
    const previous = event.previous_message ?? undefined;
    const deletedTs = event.deleted_ts ?? previous?.ts;
    if (deletedTs === undefined) return;
    if (previous !== undefined && this.#isFromBot(previous, boltContext)) return;
    const threadTs = previous?.thread_ts ?? undefined;
    if (threadTs === undefined || threadTs === deletedTs) return;
    const context = this.#contextOf(boltContext);
    const found = await findThreadByTs(context.store, event.channel, threadTs);
    if (found === undefined) return;
    // Cancels a send that has not happened yet (a delayed multi-segment SMS).
    await this.#cancel(context, event.channel, deletedTs);
    await context.enqueue({
      type: slackJobTypes.delete,
      orderingKey: `chat:${found.chatId}`,
      deduplicationKey: `slack-delete:${event.channel}:${deletedTs}`,
      payload: { chatId: found.chatId, channel: event.channel, ts: deletedTs },
    });
  }

  async #onReaction(
    event: z.output<typeof reactionEventSchema>,
    eventId: string | undefined,
    boltContext: Record<string, unknown>,
  ): Promise<void> {
    if (event.user === boltContext.botUserId) return;
    if (event.item.type !== "message" || event.item.channel === undefined || event.item.ts === undefined)
      return;
    const context = this.#contextOf(boltContext);
    const mapping = await context.store.findByExternalId(
      mappingKinds.message,
      threadKey(event.item.channel, event.item.ts),
    );
    if (mapping === undefined) return;
    const message = readMessage(mapping);
    if (message.direction !== "inbound") return;
    const thread = await findThread(context.store, message.chatId);
    if (thread === undefined) return;
    const settings = threadSettings(this.#services, thread);
    if (settings.mode === "alerts-only") return;
    const reaction = settings.emoji.toLinq(event.reaction);
    if (reaction === undefined) return;
    await context.enqueue({
      type: slackJobTypes.reaction,
      orderingKey: `chat:${message.chatId}`,
      deduplicationKey: `slack-reaction:${eventId ?? `${event.item.channel}:${event.item.ts}:${event.user}:${event.reaction}:${event.type}`}`,
      payload: {
        chatId: message.chatId,
        linqMessageId: message.linqMessageId,
        channel: event.item.channel,
        ts: event.item.ts,
        emoji: event.reaction,
        reaction,
        operation: event.type === "reaction_added" ? "add" : "remove",
      },
    });
  }

  // ---------------------------------------------------------------- jobs

  async handleJob(job: ConnectorJob, context: ConnectorContext): Promise<void> {
    switch (job.type) {
      case slackJobTypes.reply:
        return this.#reply(parsePayload(replyPayloadSchema, job), context);
      case slackJobTypes.edit:
        return this.#edit(parsePayload(editPayloadSchema, job), context);
      case slackJobTypes.delete:
        return this.#delete(parsePayload(deletePayloadSchema, job), context);
      case slackJobTypes.reaction:
        return this.#reaction(parsePayload(reactionPayloadSchema, job), context);
      case slackJobTypes.internalNote:
        return this.#internalNote(parsePayload(notePayloadSchema, job), context);
      case slackJobTypes.smsWarning:
        return this.#smsWarning(parsePayload(smsWarningPayloadSchema, job), context);
      case slackJobTypes.startConversation:
        return this.#startConversation(parsePayload(startPayloadSchema, job), context);
      default:
        throw new ValidationError(`The Slack connector has no job type ${job.type}`, { source: "internal" });
    }
  }

  async #reply(payload: z.output<typeof replyPayloadSchema>, context: ConnectorContext): Promise<void> {
    const { store } = context;
    const key = threadKey(payload.channel, payload.ts);
    if ((await store.findByLinqId(mappingKinds.cancelled, key)) !== undefined) {
      context.logger.info({ channel: payload.channel, ts: payload.ts }, "reply cancelled in Slack: not sent");
      return;
    }
    if ((await store.findByExternalId(mappingKinds.message, key)) !== undefined) return;
    if (payload.holdSeconds > 0) {
      // Held inside the job, so that the chat's later replies and events keep their order.
      await holdFor(payload.holdSeconds * 1000, context.signal);
      if ((await store.findByLinqId(mappingKinds.cancelled, key)) !== undefined) {
        context.logger.info(
          { channel: payload.channel, ts: payload.ts },
          "reply cancelled in Slack: not sent",
        );
        return;
      }
    }
    const thread = await findThread(store, payload.chatId);
    if (thread === undefined) return;
    const settings = threadSettings(this.#services, thread);
    if (settings.mode === "alerts-only" || isInternalNote(payload.text, settings.internalPrefix)) return;

    await store.updateMetadata(mappingKinds.thread, payload.chatId, {
      pendingSends: {
        ...(thread.pendingSends ?? {}),
        [payload.ts]: { ts: payload.ts, text: payload.text, user: payload.user, at: this.#services.now() },
      },
    });
    const attachments: { data: Buffer; filename: string; contentType?: string }[] = [];
    const skipped: string[] = [];
    for (const file of payload.files) {
      const result = await this.#downloadSlackFile(context, file);
      if (result.ok) attachments.push(result.attachment);
      else skipped.push(`${file.name ?? file.id}: ${result.detail}`);
    }
    if (payload.text.trim() === "" && attachments.length === 0) {
      await this.#forgetPending(context, payload.chatId, payload.ts);
      if (skipped.length > 0) {
        await this.#linqToSlack.postNotice(
          context,
          thread,
          `files-skipped:${key}`,
          renderWarning(
            `<@${payload.user}>'s files were not sent to the customer: ${escapeMrkdwn(skipped.join("; "))}`,
          ),
        );
      }
      return;
    }
    let sent: ChatMessage;
    try {
      sent = await context.linq.sendMessage(
        payload.chatId,
        {
          text: payload.text,
          ...(attachments.length === 0 ? {} : { attachments }),
          idempotencyKey: replyIdempotencyKey(payload.channel, payload.ts),
        },
        { signal: context.signal },
      );
    } catch (error) {
      if (!isRetryableError(error)) {
        await this.#forgetPending(context, payload.chatId, payload.ts);
        const reason = error instanceof Error ? error.message : String(error);
        await this.#linqToSlack.postNotice(
          context,
          thread,
          `send-failed:${key}`,
          renderWarning(`<@${payload.user}>'s reply was not sent to the customer: ${escapeMrkdwn(reason)}`),
        );
        await this.#react(context, payload.channel, payload.ts, "warning");
      }
      throw error;
    }
    if (sent.id === undefined) {
      throw new ValidationError("Linq answered a send without a message id", { source: "linq" });
    }
    await store.insertMapping({
      kind: mappingKinds.message,
      linqId: String(sent.id),
      externalId: key,
      metadata: {
        chatId: payload.chatId,
        direction: "outbound",
        origin: "slack",
        slackUser: payload.user,
      } satisfies MessageMetadata,
    });
    await this.#forgetPending(context, payload.chatId, payload.ts);
    if (skipped.length > 0) {
      await this.#linqToSlack.postNotice(
        context,
        thread,
        `files-skipped:${key}`,
        renderWarning(
          `Some of <@${payload.user}>'s files were not sent: ${escapeMrkdwn(skipped.join("; "))}`,
        ),
      );
    }
    await this.#linqToSlack.deliveryWarning(context, thread, String(sent.id), sent.delivery_status);
  }

  async #forgetPending(context: ConnectorContext, chatId: string, ts: string): Promise<void> {
    const thread = await findThread(context.store, chatId);
    if (thread?.pendingSends?.[ts] === undefined) return;
    const rest = { ...thread.pendingSends };
    delete rest[ts];
    await context.store.updateMetadata(mappingKinds.thread, chatId, { pendingSends: rest });
  }

  async #downloadSlackFile(
    context: ConnectorContext,
    file: z.output<typeof fileSchema>,
  ): Promise<
    | { ok: true; attachment: { data: Buffer; filename: string; contentType?: string } }
    | { ok: false; detail: string }
  > {
    let url = file.url_private_download ?? file.url_private ?? undefined;
    let size = file.size ?? undefined;
    let name = file.name ?? file.title ?? `${file.id}`;
    let mimetype = file.mimetype ?? undefined;
    if (url === undefined || file.file_access === "check_file_info") {
      const info = await this.#services.api.call("files.info", { file: file.id }, { signal: context.signal });
      const details = fileSchema.safeParse(info.file);
      if (details.success) {
        url = details.data.url_private_download ?? details.data.url_private ?? url;
        size = details.data.size ?? size;
        name = details.data.name ?? name;
        mimetype = details.data.mimetype ?? mimetype;
      }
    }
    const { behaviour } = this.#services;
    const result = await downloadFile(url, {
      maxBytes: behaviour.maxAttachmentBytes,
      timeoutMs: behaviour.attachmentTimeoutMs,
      declaredBytes: size ?? null,
      headers: { authorization: `Bearer ${behaviour.botToken}` },
      followRedirects: false,
      signal: context.signal,
    });
    if (!result.ok) {
      if (result.reason === "transient") {
        throw new NetworkError(`Downloading Slack file ${file.id} failed: ${result.detail}`, {
          source: "slack",
        });
      }
      return {
        ok: false,
        detail: result.reason === "too_large" ? `too large (${result.detail})` : result.detail,
      };
    }
    return {
      ok: true,
      attachment: {
        data: result.bytes,
        filename: name,
        ...(mimetype === undefined ? {} : { contentType: mimetype }),
      },
    };
  }

  async #edit(payload: z.output<typeof editPayloadSchema>, context: ConnectorContext): Promise<void> {
    const key = threadKey(payload.channel, payload.ts);
    const mapping = await context.store.findByExternalId(mappingKinds.message, key);
    if (mapping === undefined) {
      const thread = await findThread(context.store, payload.chatId);
      if (thread?.pendingSends?.[payload.ts] !== undefined) {
        throw new ReplyNotSentYetError(`The reply ${key} is still being sent: its edit waits`);
      }
      return;
    }
    const message = readMessage(mapping);
    if (message.origin !== "slack") return;
    await context.linq.editMessage(
      message.chatId,
      message.linqMessageId,
      { text: payload.text },
      { signal: context.signal },
    );
  }

  async #delete(payload: z.output<typeof deletePayloadSchema>, context: ConnectorContext): Promise<void> {
    const key = threadKey(payload.channel, payload.ts);
    await this.#cancel(context, payload.channel, payload.ts);
    const mapping = await context.store.findByExternalId(mappingKinds.message, key);
    if (mapping === undefined) return;
    const message = readMessage(mapping);
    if (message.origin !== "slack") return;
    try {
      await context.linq.deleteMessage(message.chatId, message.linqMessageId, { signal: context.signal });
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
    await context.store.deleteMapping(mappingKinds.message, message.linqMessageId);
  }

  async #reaction(payload: z.output<typeof reactionPayloadSchema>, context: ConnectorContext): Promise<void> {
    const reactionKey = `${payload.linqMessageId}:${payload.reaction}`;
    if (payload.operation === "remove" && (await this.#stillReacted(context, payload))) return;
    await context.linq.reactToMessage(
      payload.linqMessageId,
      { type: payload.reaction, operation: payload.operation },
      { signal: context.signal },
    );
    if (payload.operation === "add") {
      await context.store.insertMapping({
        kind: mappingKinds.linqReaction,
        linqId: reactionKey,
        externalId: `linq-reaction:${reactionKey}`,
        metadata: { channel: payload.channel, ts: payload.ts },
      });
    } else {
      await context.store.deleteMapping(mappingKinds.linqReaction, reactionKey);
    }
  }

  /** Whether a human still has the same reaction on the message (then the Linq reaction stays). */
  async #stillReacted(
    context: ConnectorContext,
    payload: z.output<typeof reactionPayloadSchema>,
  ): Promise<boolean> {
    try {
      const result = await this.#services.api.call(
        "reactions.get",
        { channel: payload.channel, timestamp: payload.ts, full: true },
        { channel: payload.channel, signal: context.signal },
      );
      const thread = await findThread(context.store, payload.chatId);
      const emoji = thread === undefined ? undefined : threadSettings(this.#services, thread).emoji;
      const reactions =
        (result.message as { reactions?: { name: string; users?: string[] }[] } | undefined)?.reactions ?? [];
      const botUserId = await this.#botUserId();
      return reactions.some(
        (reaction) =>
          emoji?.toLinq(reaction.name) === payload.reaction &&
          (reaction.users ?? []).some((user) => user !== botUserId),
      );
    } catch (error) {
      context.logger.debug(
        { error: error instanceof Error ? error.message : String(error) },
        "reactions.get failed",
      );
      return false;
    }
  }

  async #botUserId(): Promise<string | undefined> {
    this.#botUser ??= this.#services.api
      .call("auth.test", {})
      .then((result) => (typeof result.user_id === "string" ? result.user_id : undefined))
      .catch(() => {
        this.#botUser = undefined;
        return undefined;
      });
    return this.#botUser;
  }

  async #react(context: ConnectorContext, channel: string, ts: string, name: string): Promise<void> {
    try {
      await this.#services.api.call(
        "reactions.add",
        { channel, timestamp: ts, name },
        { channel, signal: context.signal },
      );
    } catch (error) {
      const code = slackErrorCode(error);
      if (code !== "already_reacted" && code !== "message_not_found") throw error;
    }
  }

  async #internalNote(payload: z.output<typeof notePayloadSchema>, context: ConnectorContext): Promise<void> {
    const emoji = this.#services.behaviour.internalNoteEmoji;
    if (emoji === false) return;
    await this.#react(context, payload.channel, payload.ts, emoji);
  }

  async #smsWarning(
    payload: z.output<typeof smsWarningPayloadSchema>,
    context: ConnectorContext,
  ): Promise<void> {
    const window = this.#services.behaviour.smsCancelWindowSeconds;
    const text = payload.cancellable
      ? `${payload.warning}. It is sent in ${window} s unless you cancel.`
      : `${payload.warning}. It is being sent.`;
    const blocks: unknown[] = [
      { type: "section", text: { type: "mrkdwn", text: `:warning: ${escapeMrkdwn(text)}` } },
    ];
    if (payload.cancellable) {
      blocks.push({
        type: "actions",
        elements: [
          {
            type: "button",
            action_id: cancelSendActionId,
            style: "danger",
            text: { type: "plain_text", text: "Cancel the send" },
            value: `${payload.channel}/${payload.ts}`,
          },
        ],
      });
    }
    try {
      await this.#services.api.call(
        "chat.postEphemeral",
        { channel: payload.channel, user: payload.user, thread_ts: payload.threadTs, text, blocks },
        { channel: payload.channel, signal: context.signal },
      );
    } catch (error) {
      const code = slackErrorCode(error);
      if (code === "user_not_in_channel" || code === "user_not_found") return;
      throw error;
    }
  }

  async #startConversation(
    payload: z.output<typeof startPayloadSchema>,
    context: ConnectorContext,
  ): Promise<void> {
    const route = this.#services.routes.find((candidate) => candidate.name === payload.routeName);
    if (route === undefined) {
      await this.#respond(
        payload.responseUrl,
        `Route ${payload.routeName} no longer exists: nothing was sent.`,
      );
      throw new ConfigurationError(`Route ${payload.routeName} of a /linq command no longer exists`);
    }
    let linqNumber = route.linqNumbers[0];
    if (linqNumber === undefined) {
      const numbers = await context.linq.listPhoneNumbers({ signal: context.signal });
      linqNumber = numbers.find((number) => typeof number.phone_number === "string")?.phone_number;
    }
    if (linqNumber === undefined) {
      await this.#respond(payload.responseUrl, "No Linq number to send from: the organisation has none.");
      throw new ConfigurationError("The organisation has no Linq number to start a conversation from");
    }
    const idempotencyKey = `slack-start-${payload.requestKey}`.replace(/[^a-zA-Z0-9_-]/g, "_").slice(0, 200);
    let chatId: string;
    try {
      const created = await context.linq.createChat(
        {
          sendFrom: linqNumber,
          phoneNumbers: payload.phoneNumbers,
          message: { text: payload.text },
          idempotencyKey,
        },
        { signal: context.signal },
      );
      if (created.chat.id === undefined)
        throw new ValidationError("Linq created a chat without an id", { source: "linq" });
      chatId = String(created.chat.id);
      if (created.message === undefined) {
        await context.linq.sendMessage(
          chatId,
          { text: payload.text, idempotencyKey: `${idempotencyKey}-send` },
          { signal: context.signal },
        );
      }
    } catch (error) {
      if (!isRetryableError(error)) {
        const reason = error instanceof Error ? error.message : String(error);
        await this.#respond(payload.responseUrl, `:warning: The text was not sent: ${reason}`);
      }
      throw error;
    }
    const thread = await this.#linqToSlack.ensureThread(context, chatId, { linqNumber }, route);
    await this.#linqToSlack.postNotice(
      context,
      thread,
      `start:${payload.requestKey}`,
      renderNotice(`:rocket: <@${payload.user}> started this conversation from Slack`),
    );
    let link = "";
    try {
      const permalink = await this.#services.api.call(
        "chat.getPermalink",
        { channel: thread.channel, message_ts: thread.threadTs },
        { signal: context.signal },
      );
      if (typeof permalink.permalink === "string") link = ` <${permalink.permalink}|Open the thread>`;
    } catch {
      // The link is a convenience.
    }
    await this.#respond(payload.responseUrl, `Sent to ${payload.phoneNumbers.join(", ")}.${link}`);
  }

  /** Answers a slash command through its response URL (valid 30 minutes, 5 uses); best effort. */
  async #respond(responseUrl: string | undefined, text: string): Promise<void> {
    if (responseUrl === undefined) return;
    try {
      const response = await fetch(responseUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ response_type: "ephemeral", replace_original: false, text }),
        signal: AbortSignal.timeout(10_000),
      });
      await response.body?.cancel().catch(() => undefined);
    } catch {
      // Nothing else to tell the user with.
    }
  }
}
