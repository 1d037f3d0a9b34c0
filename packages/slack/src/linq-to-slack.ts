/**
 * Linq → Slack: every Linq event of a mirrored conversation, into that conversation's thread.
 *
 * - The first event of a chat creates the thread: a header (who, numbers, service, members, CRM
 *   link) as the parent message, under a cross-replica lock (`slack-thread:<chat id>`) and the
 *   store's unique mapping, so two replicas never create two threads.
 * - message.received / message.sent → a reply with author and time; attachments uploaded into the
 *   thread (two-step upload), or a link and the reason when too large or unreachable. A
 *   message.sent that echoes a reply sent from Slack is recognised and not posted again.
 * - reaction.* → the mapped emoji on the mirrored message; message.read → a reaction (`eyes`);
 *   a sent message whose delivery_status is service_unavailable / paused → a warning reply.
 * - call.completed → a reply (or a channel message when no chat exists) with direction, duration,
 *   who answered, voicemail, recording, summary and transcript (the full transcript as a file
 *   when too long).
 * - participant.* → a line in the thread and the header updated; typing indicators → a transient
 *   line, only when the route asks for it.
 *
 * Every post goes through the MirrorWriter (exactly once) and is recorded in the MappingStore.
 */
import {
  type CallCompletedEvent,
  type Chat,
  ConfigurationError,
  type ConnectorContext,
  isRetryableError,
  type LinqChatHandle,
  type LinqWebhookEvent,
  linqReactionTypes,
  type Mapping,
  type MessageReadEvent,
  type MessageReceivedEvent,
  type MessageSentEvent,
  NotFoundError,
  type ParticipantAddedEvent,
  type ParticipantRemovedEvent,
  type ReactionReceivedEvent,
  type ReactionSentEvent,
  type TypingIndicatorReceivedEvent,
  type TypingIndicatorRemovedEvent,
} from "@linq-connect/core";
import { type ConnectorServices, snapshotSettings, threadSettings } from "./connector-services.ts";
import { downloadWithRetries } from "./file-transfer.ts";
import {
  findThread,
  type MessageMetadata,
  mappingKinds,
  type ParticipantName,
  readMessage,
  readThread,
  splitKey,
  type ThreadMetadata,
  threadKey,
} from "./mappings.ts";
import {
  type HeaderFields,
  headerFingerprint,
  isTranscriptTruncated,
  personLabel,
  renderAttachmentFallback,
  renderCall,
  renderHeader,
  renderMessage,
  renderNotice,
  renderWarning,
} from "./message-format.ts";
import { normalizeAddress } from "./participant-names.ts";
import { type ResolvedSlackRoute, resolveRouteContext } from "./settings.ts";
import { slackErrorCode } from "./slack-errors.ts";

/** What a webhook tells about the chat when the thread has to be created. */
export interface ChatHints {
  handles?: readonly LinqChatHandle[] | undefined;
  service?: string | null | undefined;
  /** Our Linq number, when the event says (message.sent's sender, a call's number). */
  linqNumber?: string | null | undefined;
}

interface ChatInfo {
  linqNumber: string | undefined;
  participants: string[];
  service: string | undefined;
  group: boolean;
  displayName: string | undefined;
  handleNames: Record<string, string>;
}

const deliveryProblems: Readonly<Record<string, string>> = {
  service_unavailable:
    "the recipient cannot be reached on this service right now (Linq reports service_unavailable)",
  paused:
    "sending from this Linq number is paused (Linq reports paused): check the number in Linq's dashboard",
  rate_limit_exceeded: "Linq's sending limit for this number was exceeded (rate_limit_exceeded)",
};

/** The message id, or undefined: the read receipt event may omit it. */
function optionalId(value: number | undefined): string | undefined {
  return value === undefined ? undefined : String(value);
}

function handleNamesOf(handles: readonly LinqChatHandle[] | undefined): Record<string, string> {
  const names: Record<string, string> = {};
  for (const handle of handles ?? []) {
    const address = handle.identifier ?? handle.phone_number ?? undefined;
    const name = handle.display_name ?? undefined;
    if (address === undefined || name === undefined || name.trim() === "" || handle.is_me === true) continue;
    const key = normalizeAddress(address);
    // Linq puts the number itself as display name when it has no name.
    if (normalizeAddress(name) !== key) names[key] = name.trim();
  }
  return names;
}

/** "Sent from (555) 000-1111", or "Sent by Sam Seller from (555) 000-1111" when Linq names the number's owner. */
function outboundLabel(from: string | undefined, handles: readonly LinqChatHandle[] | undefined): string {
  if (from === undefined) return "Sent from Linq";
  const own = handles?.find((handle) => handle.is_me === true);
  const owner = own?.display_name?.trim();
  const number = personLabel(from, undefined);
  return owner !== undefined && owner !== "" && normalizeAddress(owner) !== from
    ? `Sent by ${owner} from ${number}`
    : `Sent from ${number}`;
}

function ownNumberOf(handles: readonly LinqChatHandle[] | undefined): string | undefined {
  const own = handles?.find((handle) => handle.is_me === true);
  const address = own?.identifier ?? own?.phone_number ?? undefined;
  return address === undefined ? undefined : normalizeAddress(address);
}

function otherAddressesOf(
  handles: readonly LinqChatHandle[] | undefined,
  linqNumber: string | undefined,
): string[] {
  const addresses: string[] = [];
  for (const handle of handles ?? []) {
    if (handle.is_me === true) continue;
    const address = handle.identifier ?? handle.phone_number ?? undefined;
    if (address === undefined || address.trim() === "") continue;
    const normalized = normalizeAddress(address);
    if (normalized !== linqNumber && !addresses.includes(normalized)) addresses.push(normalized);
  }
  return addresses;
}

export class LinqToSlack {
  readonly #services: ConnectorServices;

  constructor(services: ConnectorServices) {
    this.#services = services;
  }

  async handle(event: LinqWebhookEvent, context: ConnectorContext): Promise<void> {
    switch (event.event_type) {
      case "message.received":
      case "message.sent":
        return this.#message(event, context);
      case "reaction.received":
      case "reaction.sent":
        return this.#reaction(event, context);
      case "message.read":
        return this.#read(event, context);
      case "call.completed":
        return this.#call(event, context);
      case "participant.added":
      case "participant.removed":
        return this.#participant(event, context);
      case "typing_indicator.received":
      case "typing_indicator.removed":
        return this.#typing(event, context);
      default:
        return;
    }
  }

  // ---------------------------------------------------------------- threads

  /**
   * The thread of a chat, created when it does not exist yet (in `route`'s channel, else the
   * event's route's). Safe against concurrent callers on any number of replicas.
   */
  async ensureThread(
    context: ConnectorContext,
    chatId: string,
    hints: ChatHints,
    route?: ResolvedSlackRoute,
  ): Promise<ThreadMetadata> {
    const { store } = context;
    const existing = await findThread(store, chatId);
    if (existing !== undefined) return existing;
    const target = route ?? resolveRouteContext(context.route, this.#services.routes);
    if (target === undefined) {
      throw new ConfigurationError(
        `Chat ${chatId} has no Slack thread yet and its event came without a route that names a Slack channel`,
      );
    }
    return store.withLock(`slack-thread:${chatId}`, async () => {
      const again = await findThread(store, chatId);
      if (again !== undefined) return again;
      const info = await this.#chatInfo(context, chatId, hints, target);
      const names = await this.#services.names.resolve(context, info.participants, {}, info.handleNames);
      const fields = this.#headerFields(info, names);
      const content = renderHeader(fields);
      const channel = target.settings.channel;
      const metadata: Omit<ThreadMetadata, "threadTs"> = {
        channel,
        routeName: target.name,
        ...(info.linqNumber === undefined ? {} : { linqNumber: info.linqNumber }),
        ...(info.service === undefined ? {} : { service: info.service }),
        group: info.group,
        participants: info.participants,
        ...(info.displayName === undefined ? {} : { displayName: info.displayName }),
        names,
        headerFingerprint: headerFingerprint(fields),
        settings: snapshotSettings(target),
      };
      let stored: Mapping | undefined;
      const ts = await this.#services.writer.postOnce(
        context,
        `thread:${chatId}`,
        { channel, text: content.text, blocks: content.blocks },
        async (postedTs) => {
          stored = await store.insertMapping({
            kind: mappingKinds.thread,
            linqId: chatId,
            externalId: threadKey(channel, postedTs),
            metadata: { ...metadata, threadTs: postedTs },
          });
        },
      );
      const winner = stored ?? (await store.findByLinqId(mappingKinds.thread, chatId));
      if (winner === undefined)
        throw new NotFoundError(`The thread of chat ${chatId} was not recorded`, { source: "internal" });
      if (splitKey(winner.externalId).ts !== ts) {
        // Another replica created the thread first (only possible when locks do not hold): remove ours.
        context.logger.warn(
          { chatId, ts },
          "another replica created this chat's thread first: deleting the duplicate",
        );
        await this.#services.api
          .call("chat.delete", { channel, ts }, { channel, signal: context.signal })
          .catch(() => undefined);
      }
      context.logger.info(
        { chatId, channel, threadTs: splitKey(winner.externalId).ts },
        "slack thread created",
      );
      return readThread(winner);
    });
  }

  async #chatInfo(
    context: ConnectorContext,
    chatId: string,
    hints: ChatHints,
    route: ResolvedSlackRoute | undefined,
  ): Promise<ChatInfo> {
    let chat: Chat | undefined;
    try {
      chat = await context.linq.getChat(chatId, { signal: context.signal });
    } catch (error) {
      if (isRetryableError(error)) throw error;
      context.logger.warn(
        { chatId, error: error instanceof Error ? error.message : String(error) },
        "could not read the chat from Linq: building the header from the webhook",
      );
    }
    const routeNumbers = new Set((route?.linqNumbers ?? []).map(normalizeAddress));
    let linqNumber =
      ownNumberOf(hints.handles) ??
      (hints.linqNumber === undefined || hints.linqNumber === null
        ? undefined
        : normalizeAddress(hints.linqNumber));
    const restAddresses = (chat?.chat_handles ?? [])
      .map((handle) => handle.phone_number)
      .filter((address): address is string => address !== undefined && address.trim() !== "")
      .map(normalizeAddress);
    if (linqNumber === undefined) linqNumber = restAddresses.find((address) => routeNumbers.has(address));
    let participants =
      chat === undefined
        ? otherAddressesOf(hints.handles, linqNumber)
        : [
            ...new Set(
              restAddresses.filter((address) => address !== linqNumber && !routeNumbers.has(address)),
            ),
          ];
    if (participants.length === 0) participants = otherAddressesOf(hints.handles, linqNumber);
    const service = chat?.service ?? hints.service ?? undefined;
    const group = chat?.group ?? participants.length > 1;
    const displayName = group ? chat?.display_name : undefined;
    return {
      linqNumber,
      participants,
      service: service ?? undefined,
      group,
      displayName: displayName === undefined || displayName === "" ? undefined : displayName,
      handleNames: handleNamesOf(hints.handles),
    };
  }

  #headerFields(
    info: Pick<ChatInfo, "participants" | "group" | "displayName" | "service" | "linqNumber">,
    names: Record<string, ParticipantName>,
  ): HeaderFields {
    const links = info.participants
      .map((address) => {
        const url = names[address]?.url;
        if (url === undefined) return undefined;
        const label = info.group ? `CRM: ${names[address]?.name ?? address}` : "CRM record";
        return { label, url };
      })
      .filter((link): link is { label: string; url: string } => link !== undefined)
      .slice(0, 5);
    return {
      members: info.participants.map((address) => {
        const name = names[address]?.name;
        return name === undefined ? { address } : { address, name };
      }),
      group: info.group,
      ...(info.displayName === undefined ? {} : { displayName: info.displayName }),
      ...(info.service === undefined ? {} : { service: info.service }),
      ...(info.linqNumber === undefined ? {} : { linqNumber: info.linqNumber }),
      links,
    };
  }

  /**
   * Brings the header up to date: participants changed (`refetch`), a name changed (a webhook
   * handle, or a lookup older than the TTL). chat.update only when what it shows changed.
   */
  async refreshHeader(
    context: ConnectorContext,
    chatId: string,
    thread: ThreadMetadata,
    options: { handles?: readonly LinqChatHandle[] | undefined; refetch?: boolean; lookUpNames?: boolean },
  ): Promise<ThreadMetadata> {
    let participants = thread.participants;
    let service = thread.service;
    let group = thread.group;
    let displayName = thread.displayName;
    const fromEvent = otherAddressesOf(options.handles, thread.linqNumber);
    const changed =
      fromEvent.length > 0 &&
      (fromEvent.length !== participants.length ||
        fromEvent.some((address) => !participants.includes(address)));
    if (options.refetch === true || changed) {
      const info = await this.#chatInfo(
        context,
        chatId,
        { handles: options.handles, service, linqNumber: thread.linqNumber },
        this.#services.routes.find((route) => route.name === thread.routeName),
      );
      participants = info.participants.length > 0 ? info.participants : participants;
      service = info.service ?? service;
      group = info.group;
      displayName = info.displayName;
    }
    const handleNames = handleNamesOf(options.handles);
    const names =
      options.lookUpNames === false
        ? { ...thread.names }
        : await this.#services.names.resolve(context, participants, thread.names, handleNames);
    const fields = this.#headerFields(
      {
        participants,
        group,
        displayName,
        service,
        linqNumber: thread.linqNumber,
      },
      names,
    );
    const fingerprint = headerFingerprint(fields);
    const namesChanged = JSON.stringify(names) !== JSON.stringify(thread.names);
    if (fingerprint === thread.headerFingerprint && !namesChanged && participants === thread.participants) {
      return thread;
    }
    if (fingerprint !== thread.headerFingerprint) {
      const content = renderHeader(fields);
      try {
        await this.#services.api.call(
          "chat.update",
          { channel: thread.channel, ts: thread.threadTs, text: content.text, blocks: content.blocks },
          { channel: thread.channel, signal: context.signal },
        );
      } catch (error) {
        // A deleted header must not stop the conversation from being mirrored.
        if (slackErrorCode(error) !== "message_not_found") throw error;
        context.logger.warn({ chatId }, "the thread's header was deleted in Slack: not updating it");
      }
    }
    const update: Partial<ThreadMetadata> = {
      participants,
      group,
      names,
      headerFingerprint: fingerprint,
      ...(service === undefined ? {} : { service }),
      ...(displayName === undefined ? {} : { displayName }),
    };
    await context.store.updateMetadata(mappingKinds.thread, chatId, update);
    return { ...thread, ...update };
  }

  // ---------------------------------------------------------------- messages

  async #message(event: MessageReceivedEvent | MessageSentEvent, context: ConnectorContext): Promise<void> {
    const { store } = context;
    const data = event.data;
    const chatId = String(data.chat_id);
    const messageId = String(data.id);
    const direction = event.event_type === "message.received" ? "inbound" : "outbound";
    const handles = data.chat_handles ?? data.chat?.chat_handles;
    let thread = await this.ensureThread(context, chatId, {
      handles,
      service: data.service ?? data.chat?.service,
      linqNumber: direction === "outbound" ? data.from_phone : undefined,
    });
    const existing = await store.findByLinqId(mappingKinds.message, messageId);
    let mirrored = existing === undefined ? undefined : readMessage(existing);
    if (mirrored === undefined && direction === "outbound") {
      mirrored = await this.#matchEcho(context, chatId, thread, messageId, data.text ?? "");
    }
    if (mirrored === undefined) {
      thread = await this.refreshHeader(context, chatId, thread, {
        handles,
        lookUpNames: direction === "inbound",
      });
      if (direction === "inbound" && typeof thread.typingTs === "string")
        await this.#clearTyping(context, chatId, thread);
      const from =
        data.from_phone === undefined || data.from_phone === null
          ? undefined
          : normalizeAddress(data.from_phone);
      const authorLabel =
        direction === "inbound"
          ? from === undefined
            ? "Customer"
            : personLabel(from, thread.names[from]?.name)
          : outboundLabel(from, handles);
      const content = renderMessage({
        direction,
        authorLabel,
        sentAt: data.sent_at ?? event.created_at,
        text: data.text ?? "",
        attachmentCount: data.attachments?.length ?? 0,
        service: data.service ?? null,
      });
      const metadata: MessageMetadata = { chatId, direction, origin: "linq" };
      await this.#services.writer.postOnce(
        context,
        `message:${messageId}`,
        { channel: thread.channel, threadTs: thread.threadTs, text: content.text, blocks: content.blocks },
        async (ts) => {
          const stored = await store.insertMapping({
            kind: mappingKinds.message,
            linqId: messageId,
            externalId: threadKey(thread.channel, ts),
            metadata: { ...metadata },
          });
          mirrored = readMessage(stored);
        },
      );
    }
    if (mirrored?.origin === "linq")
      await this.#attachments(context, thread, messageId, data.attachments ?? []);
    if (direction === "outbound") {
      await this.deliveryWarning(context, thread, messageId, data.delivery_status ?? undefined);
    }
  }

  /** A message.sent that is the echo of a reply sent from Slack: link it instead of posting it. */
  async #matchEcho(
    context: ConnectorContext,
    chatId: string,
    thread: ThreadMetadata,
    messageId: string,
    text: string,
  ): Promise<ReturnType<typeof readMessage> | undefined> {
    const pending = Object.values(thread.pendingSends ?? {}).sort((first, second) => first.at - second.at);
    const match = pending.find((entry) => entry.text.trim() === text.trim());
    if (match === undefined) return undefined;
    const stored = await context.store.insertMapping({
      kind: mappingKinds.message,
      linqId: messageId,
      externalId: threadKey(thread.channel, match.ts),
      metadata: {
        chatId,
        direction: "outbound",
        origin: "slack",
        slackUser: match.user,
      } satisfies MessageMetadata,
    });
    if (stored.linqId !== messageId) return undefined;
    const rest = { ...(thread.pendingSends ?? {}) };
    delete rest[match.ts];
    await context.store.updateMetadata(mappingKinds.thread, chatId, { pendingSends: rest });
    context.logger.debug({ chatId, messageId }, "message.sent is the echo of a Slack reply: not posting it");
    return readMessage(stored);
  }

  async #attachments(
    context: ConnectorContext,
    thread: ThreadMetadata,
    messageId: string,
    attachments: readonly {
      url?: string | null | undefined;
      filename?: string | null | undefined;
      file_size?: number | null | undefined;
    }[],
  ): Promise<void> {
    const { store } = context;
    const { behaviour, writer } = this.#services;
    for (const [index, attachment] of attachments.entries()) {
      const key = `${messageId}:${index}`;
      if ((await store.findByLinqId(mappingKinds.attachment, key)) !== undefined) continue;
      const filename = attachment.filename?.trim() || `attachment-${index + 1}`;
      const download = await downloadWithRetries(attachment.url, {
        maxBytes: behaviour.maxAttachmentBytes,
        timeoutMs: behaviour.attachmentTimeoutMs,
        declaredBytes: attachment.file_size ?? null,
        followRedirects: true,
        signal: context.signal,
      });
      const record = (externalId: string, extra: Record<string, unknown>) =>
        store.insertMapping({
          kind: mappingKinds.attachment,
          linqId: key,
          externalId,
          metadata: { messageId, ...extra },
        });
      if (download.ok) {
        await writer.uploadOnce(
          context,
          `attachment:${key}`,
          {
            channel: thread.channel,
            threadTs: thread.threadTs,
            filename,
            title: filename,
            bytes: download.bytes,
          },
          async (fileId) => {
            await record(`file:${fileId}`, {});
          },
        );
        continue;
      }
      const reason =
        download.reason === "too_large" ? `too large: ${download.detail}` : `unreachable: ${download.detail}`;
      context.logger.warn(
        { messageId, filename, reason },
        "attachment not copied into Slack: posting a link",
      );
      const content = renderAttachmentFallback({ filename, url: attachment.url, reason });
      await writer.postOnce(
        context,
        `attachment-link:${key}`,
        { channel: thread.channel, threadTs: thread.threadTs, text: content.text, blocks: content.blocks },
        async (ts) => {
          await record(`link:${thread.channel}:${ts}`, { fallback: download.reason });
        },
      );
    }
  }

  /** A warning reply when Linq reports that a sent message was not delivered. */
  async deliveryWarning(
    context: ConnectorContext,
    thread: ThreadMetadata,
    messageId: string,
    status: string | undefined,
  ): Promise<void> {
    const problem = status === undefined ? undefined : deliveryProblems[status];
    if (problem === undefined) return;
    await this.postNotice(
      context,
      thread,
      `delivery:${messageId}:${status}`,
      renderWarning(`Message not delivered: ${problem}`),
    );
  }

  /** Posts a notice (a line, a warning) once per key into a thread. */
  async postNotice(
    context: ConnectorContext,
    thread: { channel: string; threadTs?: string | undefined },
    key: string,
    content: { text: string; blocks: unknown[] },
  ): Promise<string> {
    const { store } = context;
    const existing = await store.findByLinqId(mappingKinds.notice, key);
    if (existing !== undefined) return existing.externalId.split(":").at(-1) ?? "";
    return this.#services.writer.postOnce(
      context,
      `notice:${key}`,
      {
        channel: thread.channel,
        ...(thread.threadTs === undefined ? {} : { threadTs: thread.threadTs }),
        text: content.text,
        blocks: content.blocks,
      },
      async (ts) => {
        await store.insertMapping({
          kind: mappingKinds.notice,
          linqId: key,
          externalId: `notice:${thread.channel}:${ts}`,
          metadata: {},
        });
      },
    );
  }

  // ---------------------------------------------------------------- reactions and receipts

  async #reaction(
    event: ReactionReceivedEvent | ReactionSentEvent,
    context: ConnectorContext,
  ): Promise<void> {
    const data = event.data;
    const reaction = data.reaction;
    if (!(linqReactionTypes as readonly string[]).includes(reaction)) return;
    const messageId = String(data.chat_message_id);
    const mapping = await context.store.findByLinqId(mappingKinds.message, messageId);
    if (mapping === undefined) {
      context.logger.debug({ messageId }, "reaction on a message that is not mirrored: ignored");
      return;
    }
    if (event.event_type === "reaction.sent") {
      // Our own reaction, sent from Slack: it is already there.
      const fromSlack = await context.store.findByLinqId(
        mappingKinds.linqReaction,
        `${messageId}:${reaction}`,
      );
      if (fromSlack !== undefined) return;
    }
    const message = readMessage(mapping);
    const thread = await findThread(context.store, message.chatId);
    const emoji =
      thread === undefined
        ? undefined
        : threadSettings(this.#services, thread, context).emoji.toSlack(
            reaction as (typeof linqReactionTypes)[number],
          );
    if (emoji === undefined) return;
    await this.#addReaction(context, message.channel, message.ts, emoji);
  }

  async #addReaction(context: ConnectorContext, channel: string, ts: string, name: string): Promise<void> {
    try {
      await this.#services.api.call(
        "reactions.add",
        { channel, timestamp: ts, name },
        { channel, signal: context.signal },
      );
    } catch (error) {
      const code = slackErrorCode(error);
      if (code === "already_reacted") return;
      if (code === "message_not_found") {
        context.logger.info({ channel, ts }, "the mirrored message was deleted in Slack: reaction not shown");
        return;
      }
      throw error;
    }
  }

  async #read(event: MessageReadEvent, context: ConnectorContext): Promise<void> {
    const { behaviour } = this.#services;
    if (behaviour.readReceipts === "off") return;
    const messageId = optionalId(event.data.id);
    if (messageId === undefined) return;
    const mapping = await context.store.findByLinqId(mappingKinds.message, messageId);
    if (mapping === undefined) return;
    const message = readMessage(mapping);
    await this.#addReaction(context, message.channel, message.ts, behaviour.readReceiptEmoji);
  }

  // ---------------------------------------------------------------- calls

  async #call(event: CallCompletedEvent, context: ConnectorContext): Promise<void> {
    const { store } = context;
    const data = event.data;
    const callId = String(data.id);
    const noticeKey = `call:${callId}`;
    const inbound = data.direction !== "outbound";
    const counterpartRaw = (inbound ? data.from : data.to) ?? "";
    const linqNumberRaw = (inbound ? data.to : data.from) ?? undefined;
    if (counterpartRaw.trim() === "") return;
    const counterpart = normalizeAddress(counterpartRaw);
    const linqNumber =
      linqNumberRaw === undefined || linqNumberRaw === null ? undefined : normalizeAddress(linqNumberRaw);
    const route = resolveRouteContext(context.route, this.#services.routes);

    let thread: ThreadMetadata | undefined;
    if (linqNumber !== undefined) {
      let chat: Chat | null = null;
      try {
        chat = await context.linq.findChat(
          { phoneNumber: linqNumber, phoneNumbers: [counterpart] },
          { signal: context.signal },
        );
      } catch (error) {
        if (isRetryableError(error)) throw error;
      }
      if (chat?.id !== undefined) {
        thread = await this.ensureThread(context, String(chat.id), { linqNumber }, route);
      }
    }
    const channel = thread?.channel ?? route?.settings.channel;
    if (channel === undefined) {
      context.logger.info({ callId }, "call without a mirrored chat or a Slack route: not posted");
      return;
    }
    let callTs: string;
    const existing = await store.findByLinqId(mappingKinds.notice, noticeKey);
    if (existing !== undefined) {
      callTs = existing.externalId.split(":").at(-1) ?? "";
    } else {
      const names =
        thread?.names[counterpart] !== undefined
          ? { [counterpart]: thread.names[counterpart] }
          : await this.#services.names.resolve(context, [counterpart], thread?.names ?? {}, {});
      const recording = data.recording_data ?? undefined;
      const callName = names[counterpart]?.name;
      const content = renderCall({
        direction: data.direction ?? null,
        counterpart,
        ...(callName === undefined ? {} : { counterpartName: callName }),
        durationSeconds: data.duration ?? null,
        answeredBy: data.answered_by ?? null,
        voicemail: data.voicemail ?? null,
        startedAt: data.start_time ?? event.created_at,
        recordingUrl: recording?.url ?? null,
        summary: recording?.summary ?? null,
        transcript: recording?.transcription ?? null,
      });
      callTs = await this.postNotice(context, thread ?? { channel }, noticeKey, content);
    }
    const transcript = data.recording_data?.transcription ?? undefined;
    if (
      transcript !== undefined &&
      transcript !== null &&
      isTranscriptTruncated({ counterpart, transcript })
    ) {
      const key = `call-transcript:${callId}`;
      if ((await store.findByLinqId(mappingKinds.attachment, key)) === undefined) {
        await this.#services.writer.uploadOnce(
          context,
          `attachment:${key}`,
          {
            channel,
            threadTs: thread?.threadTs ?? callTs,
            filename: `call-${callId}-transcript.txt`,
            title: "Call transcript",
            bytes: Buffer.from(transcript, "utf8"),
          },
          async (fileId) => {
            await store.insertMapping({
              kind: mappingKinds.attachment,
              linqId: key,
              externalId: `file:${fileId}`,
              metadata: { callId },
            });
          },
        );
      }
    }
  }

  // ---------------------------------------------------------------- participants and typing

  async #participant(
    event: ParticipantAddedEvent | ParticipantRemovedEvent,
    context: ConnectorContext,
  ): Promise<void> {
    const data = event.data;
    if (data.chat_id === undefined) return;
    const chatId = String(data.chat_id);
    const key = `participant:${event.event_id}`;
    let thread = await this.ensureThread(context, chatId, { handles: data.chat_handles });
    if ((await context.store.findByLinqId(mappingKinds.notice, key)) !== undefined) return;
    thread = await this.refreshHeader(context, chatId, thread, { handles: data.chat_handles, refetch: true });
    const handle = data.chat_handle ?? data.handle ?? undefined;
    const address = handle?.identifier ?? handle?.phone_number ?? undefined;
    const who =
      address === undefined
        ? "A participant"
        : personLabel(normalizeAddress(address), thread.names[normalizeAddress(address)]?.name);
    const line =
      event.event_type === "participant.added"
        ? `:heavy_plus_sign: ${who} joined the conversation`
        : `:heavy_minus_sign: ${who} left the conversation`;
    await this.postNotice(context, thread, key, renderNotice(line));
  }

  async #typing(
    event: TypingIndicatorReceivedEvent | TypingIndicatorRemovedEvent,
    context: ConnectorContext,
  ): Promise<void> {
    const chatId = String(event.data.chat_id);
    const thread = await findThread(context.store, chatId);
    if (thread === undefined) return;
    if (!threadSettings(this.#services, thread, context).postTypingIndicators) return;
    if (event.event_type === "typing_indicator.removed") {
      await this.#clearTyping(context, chatId, thread);
      return;
    }
    if (typeof thread.typingTs === "string") return;
    const who = otherAddressesOf(event.data.chat_handles, thread.linqNumber)
      .slice(0, 1)
      .map((address) => personLabel(address, thread.names[address]?.name))[0];
    const ts = await this.postNotice(
      context,
      thread,
      `typing:${event.event_id}`,
      renderNotice(`:writing_hand: ${who ?? "The customer"} is typing…`),
    );
    await context.store.updateMetadata(mappingKinds.thread, chatId, { typingTs: ts });
  }

  async #clearTyping(context: ConnectorContext, chatId: string, thread: ThreadMetadata): Promise<void> {
    if (typeof thread.typingTs !== "string") return;
    try {
      await this.#services.api.call(
        "chat.delete",
        { channel: thread.channel, ts: thread.typingTs },
        { channel: thread.channel, signal: context.signal },
      );
    } catch (error) {
      if (slackErrorCode(error) !== "message_not_found") throw error;
    }
    await context.store.updateMetadata(mappingKinds.thread, chatId, { typingTs: null });
  }
}
