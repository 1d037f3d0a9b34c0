/**
 * The simulator's in-memory store: chats, handles, messages, reactions,
 * contacts, Linq numbers, webhook subscriptions, calls and uploaded files, with
 * the business rules of the Linq Partner API v2 and the REST renderings.
 *
 * Every state change the real service reports by webhook calls `emit` with the
 * event (see simulator-events.ts for the payloads). Domain failures throw
 * `apiProblem(...)` errors that the server renders in the endpoint's format.
 */
import { randomUUID } from "node:crypto";
import { ConfigurationError } from "../errors.ts";
import { isEmailAddress, normalizeChatAddress, normalizeLenientPhoneNumber } from "./simulator-addresses.ts";
import { apiProblem } from "./simulator-errors.ts";
import {
  callEvent,
  contactDeletedEvent,
  contactEvent,
  type EventNaming,
  messageEvent,
  messageReadEvent,
  participantEvent,
  reactionEvent,
  type SimulatorEvent,
  typingEvent,
} from "./simulator-events.ts";
import type {
  CallRecord,
  DeliveryStatus,
  MessagingService,
  ReactionType,
  SimulatorAttachment,
  SimulatorChat,
  SimulatorChatHandle,
  SimulatorChatMessage,
  SimulatorContact,
  SimulatorOrganizationUser,
  SimulatorPhoneNumber,
  SimulatorReaction,
  SimulatorTypingState,
  SimulatorWebhookSubscription,
} from "./simulator-types.ts";

/** How long a typing indicator started through the API lasts (documented default). */
export const TYPING_TIMEOUT_MS = 60_000;

export interface UserRecord {
  id: number;
  email: string;
  firstName: string | null;
  lastName: string | null;
}

export interface PhoneNumberRecord {
  id: number;
  phoneNumber: string;
  forwardingNumber: string | null;
  ownerId: number;
}

export interface HandleRecord {
  id: number;
  address: string;
  service: MessagingService;
  joinedAt: Date;
  isMe: boolean;
}

export interface ChatRecord {
  id: number;
  linqNumber: string;
  /** A display name set when the chat was created, else null (the name is then derived from participants). */
  displayName: string | null;
  /** Active handles: participants, then our own. */
  handles: HandleRecord[];
  createdAt: Date;
  typingMeUntil: Date | null;
  typingParticipants: Set<string>;
  sharedContactCards: number;
  /** Idempotency key → message id. */
  idempotencyKeys: Map<string, number>;
}

export interface AttachmentRecord {
  id: string;
  url: string;
  filename: string;
  mimeType: string;
  fileSize: number | undefined;
}

export interface MessageRecord {
  id: number;
  chatId: number;
  direction: "outbound" | "inbound";
  text: string;
  sentAt: Date;
  deliveredAt: Date | null;
  deliveryStatus: DeliveryStatus;
  editedAt: Date | null;
  isRead: boolean;
  readAt: Date | null;
  sentFrom: string;
  chatHandleId: number;
  attachments: AttachmentRecord[];
  idempotencyKey: string | null;
  service: MessagingService;
}

export interface ReactionRecord {
  id: number;
  messageId: number;
  reaction: ReactionType;
  isFromMe: boolean;
  fromPhone: string;
  handleId: number;
  sentAt: Date;
  createdAt: Date;
  updatedAt: Date;
}

export interface ContactRecord {
  id: number;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  phoneNumber: string | null;
  company: string | null;
  title: string | null;
  location: string | null;
  ownerId: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface SubscriptionRecord {
  id: number;
  webhookUrl: string;
  version: number;
  events: string[];
  active: boolean;
  secret: string | null;
  lastDeliveredAt: Date | null;
  deliveryAttempts: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface StoredFile {
  id: string;
  bytes: Uint8Array;
  filename: string;
  mimeType: string;
}

type ContactFieldName =
  | "first_name"
  | "last_name"
  | "email"
  | "phone_number"
  | "company"
  | "title"
  | "location";
type ContactFieldChanges = Partial<Record<ContactFieldName, string | null>>;

/** The fields of a contact write (`{contact:{…}, user_email?}`), already schema-validated. */
export interface ContactInput {
  contact: Partial<Record<ContactFieldName, string>>;
  user_email?: string;
}

/** The fields of a subscription write, already schema-validated. */
export interface SubscriptionInput {
  webhook_url: string;
  version: number;
  events: string[];
  secret?: string;
  active?: boolean;
}

/** A new attachment for an outbound message. */
export type NewAttachment =
  | { kind: "file"; filename: string; mimeType: string; bytes: Uint8Array }
  | { kind: "url"; url: string }
  | { kind: "reference"; url: string; filename: string; mimeType: string; fileSize?: number };

export interface SimulatorStateOptions {
  phoneNumbers: readonly string[];
  users: readonly SimulatorOrganizationUser[];
  handles: Readonly<Record<string, MessagingService>>;
  deliveryDelayMs: number;
  now: () => Date;
  emit: (event: SimulatorEvent) => void;
}

const SERVICE_RANK: Record<MessagingService, number> = { SMS: 0, RCS: 1, iMessage: 2 };

const FIRST_IDS = {
  chat: 1000,
  handle: 2000,
  contact: 3000,
  message: 50_000,
  reaction: 70_000,
  call: 90_000,
  recording: 95_000,
  subscription: 1,
} as const;

/** The simulator's state and rules. */
export class SimulatorState implements EventNaming {
  /** Set by the server once it listens; used for the URLs of uploaded files. */
  baseUrl = "http://127.0.0.1";
  readonly users: readonly UserRecord[];
  readonly phoneNumbers: readonly PhoneNumberRecord[];
  private readonly handleServices: Map<string, MessagingService>;
  private readonly deliveryDelayMs: number;
  private readonly now: () => Date;
  private readonly emit: (event: SimulatorEvent) => void;
  private readonly deliveryTimers = new Set<NodeJS.Timeout>();

  private nextIds: Record<keyof typeof FIRST_IDS, number> = { ...FIRST_IDS };
  private chats = new Map<number, ChatRecord>();
  private messages = new Map<number, MessageRecord>();
  private reactions = new Map<number, ReactionRecord>();
  private contacts = new Map<number, ContactRecord>();
  private subscriptions = new Map<number, SubscriptionRecord>();
  private calls: CallRecord[] = [];
  private files = new Map<string, StoredFile>();
  /** Indexes, so that benchmark-sized states stay fast. */
  private messagesByChat = new Map<number, MessageRecord[]>();
  private reactionsByMessage = new Map<number, ReactionRecord[]>();
  /** `linqNumber|sorted participants` → chat ids (ascending). */
  private chatsByParticipants = new Map<string, number[]>();
  /** Address → contact name; rebuilt after contact writes. */
  private contactNames: Map<string, string> | undefined;

  constructor(options: SimulatorStateOptions) {
    this.now = options.now;
    this.emit = options.emit;
    this.deliveryDelayMs = options.deliveryDelayMs;
    if (options.users.length === 0)
      throw new ConfigurationError("The simulator needs at least one organization user");
    this.users = options.users.map((user, index) => {
      if (!isEmailAddress(user.email))
        throw new ConfigurationError(`Invalid organization user email ${user.email}`);
      return {
        id: 100 + index,
        email: user.email,
        firstName: user.first_name ?? null,
        lastName: user.last_name ?? null,
      };
    });
    if (options.phoneNumbers.length === 0)
      throw new ConfigurationError("The simulator needs at least one Linq number");
    const admin = this.admin();
    this.phoneNumbers = options.phoneNumbers.map((input, index) => {
      const phoneNumber = normalizeLenientPhoneNumber(input);
      if (phoneNumber === undefined)
        throw new ConfigurationError(`Invalid Linq number ${JSON.stringify(input)}`);
      return { id: 1 + index, phoneNumber, forwardingNumber: null, ownerId: admin.id };
    });
    this.handleServices = new Map();
    for (const [address, service] of Object.entries(options.handles)) {
      const normalized = normalizeLenientPhoneNumber(address) ?? normalizeChatAddress(address);
      if (normalized === undefined)
        throw new ConfigurationError(`Invalid handle address ${JSON.stringify(address)}`);
      this.handleServices.set(normalized, service);
    }
  }

  // ---------------------------------------------------------------- lifecycle

  /** Clears everything but the configuration; forwarding numbers are cleared too. */
  reset(): void {
    this.dispose();
    this.nextIds = { ...FIRST_IDS };
    this.chats = new Map();
    this.messages = new Map();
    this.reactions = new Map();
    this.contacts = new Map();
    this.subscriptions = new Map();
    this.calls = [];
    this.files = new Map();
    this.messagesByChat = new Map();
    this.reactionsByMessage = new Map();
    this.chatsByParticipants = new Map();
    this.contactNames = undefined;
    for (const phoneNumber of this.phoneNumbers) phoneNumber.forwardingNumber = null;
  }

  /** Cancels the pending → delivered timers. */
  dispose(): void {
    for (const timer of this.deliveryTimers) clearTimeout(timer);
    this.deliveryTimers.clear();
  }

  // ---------------------------------------------------------------- organisation

  admin(): UserRecord {
    const admin = this.users[0];
    if (admin === undefined) throw new ConfigurationError("The simulator has no organization user");
    return admin;
  }

  /** Whether an address is one of the organisation's Linq numbers. */
  isLinqNumber(address: string): boolean {
    return this.phoneNumbers.some((record) => record.phoneNumber === address);
  }

  /** The default Linq number (the first). */
  defaultLinqNumber(): string {
    const first = this.phoneNumbers[0];
    if (first === undefined) throw new ConfigurationError("The simulator has no Linq number");
    return first.phoneNumber;
  }

  /** The service a participant address uses. */
  serviceOf(address: string): MessagingService {
    return this.handleServices.get(address) ?? "iMessage";
  }

  // ---------------------------------------------------------------- chats

  /** The chat between a Linq number and exactly these participants, if any. */
  findChat(linqNumber: string, participants: readonly string[]): ChatRecord | undefined {
    const ids = this.chatsByParticipants.get(participantsKey(linqNumber, participants));
    const id = ids?.[0];
    return id === undefined ? undefined : this.chats.get(id);
  }

  /** Finds the chat with these participants or creates it (without a message). */
  findOrCreateChat(
    linqNumber: string,
    participants: readonly string[],
    displayName: string | null = null,
  ): { chat: ChatRecord; created: boolean } {
    const others = [...new Set(participants)].filter((address) => address !== linqNumber);
    if (others.length === 0) throw apiProblem(422, "invalid_params", "Phone number is required");
    const existing = this.findChat(linqNumber, others);
    if (existing !== undefined) return { chat: existing, created: false };
    const now = this.now();
    const handles: HandleRecord[] = others.map((address) => ({
      id: this.nextId("handle"),
      address,
      service: this.serviceOf(address),
      joinedAt: now,
      isMe: false,
    }));
    handles.push({
      id: this.nextId("handle"),
      address: linqNumber,
      service: "iMessage",
      joinedAt: now,
      isMe: true,
    });
    const chat: ChatRecord = {
      id: this.nextId("chat"),
      linqNumber,
      displayName: displayName === null || displayName.trim() === "" ? null : displayName,
      handles,
      createdAt: now,
      typingMeUntil: null,
      typingParticipants: new Set(),
      sharedContactCards: 0,
      idempotencyKeys: new Map(),
    };
    this.chats.set(chat.id, chat);
    this.indexChat(chat);
    return { chat, created: true };
  }

  /** The chat or a 404. */
  requireChat(chatId: number): ChatRecord {
    const chat = this.chats.get(chatId);
    if (chat === undefined) throw apiProblem(404, "not_found", "Chat not found");
    return chat;
  }

  getChat(chatId: number): ChatRecord | undefined {
    return this.chats.get(chatId);
  }

  allChats(): ChatRecord[] {
    return [...this.chats.values()].sort((left, right) => left.id - right.id);
  }

  /** Chats involving an address (as the Linq number or a participant), newest first. */
  chatsInvolving(address: string): ChatRecord[] {
    return [...this.chats.values()]
      .filter((chat) => chat.handles.some((handle) => handle.address === address))
      .sort((left, right) => right.id - left.id);
  }

  participantsOf(chat: ChatRecord): HandleRecord[] {
    return chat.handles.filter((handle) => !handle.isMe);
  }

  /** The chat's service: the least capable service among participants (SMS < RCS < iMessage). */
  chatService(chat: ChatRecord): MessagingService {
    let service: MessagingService = "iMessage";
    for (const handle of this.participantsOf(chat)) {
      if (SERVICE_RANK[handle.service] < SERVICE_RANK[service]) service = handle.service;
    }
    return service;
  }

  /** The set display name, or the participants' names (contact name, else address) joined by commas. */
  chatDisplayName(chat: ChatRecord): string {
    if (chat.displayName !== null) return chat.displayName;
    return this.participantsOf(chat)
      .map((handle) => this.participantName(handle.address))
      .join(", ");
  }

  messageCount(chatId: number): number {
    return this.messagesByChat.get(chatId)?.length ?? 0;
  }

  /** Marks every received message of the chat read (`PUT …/mark_as_read`). */
  markChatRead(chatId: number): void {
    this.requireChat(chatId);
    const now = this.now();
    for (const message of this.messagesOf(chatId)) {
      if (message.direction === "inbound" && !message.isRead) {
        message.isRead = true;
        message.readAt = now;
      }
    }
  }

  startTyping(chatId: number): void {
    const chat = this.requireChat(chatId);
    chat.typingMeUntil = new Date(this.now().getTime() + TYPING_TIMEOUT_MS);
  }

  stopTyping(chatId: number): void {
    this.requireChat(chatId).typingMeUntil = null;
  }

  shareContactCard(chatId: number): void {
    this.requireChat(chatId).sharedContactCards += 1;
  }

  typingState(chatId: number): SimulatorTypingState | undefined {
    const chat = this.chats.get(chatId);
    if (chat === undefined) return undefined;
    const me = chat.typingMeUntil !== null && this.now().getTime() < chat.typingMeUntil.getTime();
    return { me, participants: [...chat.typingParticipants] };
  }

  /** A participant starts or stops typing; fires typing_indicator.received / removed. */
  participantTyping(chatId: number, address: string, display: boolean): void {
    const chat = this.requireChat(chatId);
    this.requireParticipant(chat, address);
    if (display) chat.typingParticipants.add(address);
    else chat.typingParticipants.delete(address);
    this.emit(typingEvent(this, chat, display, this.now()));
  }

  /** Adds a participant to a chat; fires participant.added. */
  addParticipant(chatId: number, address: string): void {
    const chat = this.requireChat(chatId);
    if (address === chat.linqNumber || chat.handles.some((handle) => handle.address === address)) {
      throw new ConfigurationError(`${address} is already in chat ${chatId}`);
    }
    const handle: HandleRecord = {
      id: this.nextId("handle"),
      address,
      service: this.serviceOf(address),
      joinedAt: this.now(),
      isMe: false,
    };
    this.unindexChat(chat);
    const meIndex = chat.handles.findIndex((candidate) => candidate.isMe);
    chat.handles.splice(meIndex === -1 ? chat.handles.length : meIndex, 0, handle);
    this.indexChat(chat);
    this.emit(participantEvent(this, "participant.added", chat, handle, this.now()));
  }

  /** Removes a participant from a chat; fires participant.removed. */
  removeParticipant(chatId: number, address: string): void {
    const chat = this.requireChat(chatId);
    const handle = this.requireParticipant(chat, address);
    this.unindexChat(chat);
    chat.handles = chat.handles.filter((candidate) => candidate !== handle);
    this.indexChat(chat);
    chat.typingParticipants.delete(address);
    this.emit(participantEvent(this, "participant.removed", chat, handle, this.now()));
  }

  // ---------------------------------------------------------------- messages

  /**
   * Sends a message from the chat's Linq number. With an idempotency key already
   * used in this chat, returns the existing message (`created: false`) and changes
   * nothing. Fires message.sent for a new message and ends our typing indicator.
   */
  sendMessage(
    chatId: number,
    input: { text: string; idempotencyKey?: string | undefined; attachments?: readonly NewAttachment[] },
  ): { message: MessageRecord; created: boolean } {
    const chat = this.requireChat(chatId);
    if (input.idempotencyKey !== undefined) {
      const existingId = chat.idempotencyKeys.get(input.idempotencyKey);
      const existing = existingId === undefined ? undefined : this.messages.get(existingId);
      if (existing !== undefined) return { message: existing, created: false };
    }
    const attachments = (input.attachments ?? []).map((attachment) => this.createAttachment(attachment));
    if (input.text.trim() === "" && attachments.length === 0) {
      throw apiProblem(422, "invalid_params", "Message text or attachments are required");
    }
    const me = chat.handles.find((handle) => handle.isMe);
    const now = this.now();
    const delayed = this.deliveryDelayMs > 0;
    const message: MessageRecord = {
      id: this.nextId("message"),
      chatId,
      direction: "outbound",
      text: input.text,
      sentAt: now,
      deliveredAt: delayed ? null : now,
      deliveryStatus: delayed ? "pending" : "delivered",
      editedAt: null,
      isRead: false,
      readAt: null,
      sentFrom: chat.linqNumber,
      chatHandleId: me?.id ?? 0,
      attachments,
      idempotencyKey: input.idempotencyKey ?? null,
      service: this.chatService(chat),
    };
    this.storeMessage(message);
    if (input.idempotencyKey !== undefined) chat.idempotencyKeys.set(input.idempotencyKey, message.id);
    chat.typingMeUntil = null;
    if (delayed) this.scheduleDelivery(message.id);
    this.emit(messageEvent(this, "message.sent", message, chat));
    return { message, created: true };
  }

  /** Stores a message received from a participant; fires message.received. */
  receiveMessage(
    chatId: number,
    from: string,
    text: string,
    attachments: readonly NewAttachment[] = [],
    service?: MessagingService,
  ): MessageRecord {
    const chat = this.requireChat(chatId);
    const handle = this.requireParticipant(chat, from);
    if (service !== undefined) handle.service = service;
    const now = this.now();
    const message: MessageRecord = {
      id: this.nextId("message"),
      chatId,
      direction: "inbound",
      text,
      sentAt: now,
      deliveredAt: now,
      deliveryStatus: "delivered",
      editedAt: null,
      isRead: false,
      readAt: null,
      sentFrom: from,
      chatHandleId: handle.id,
      attachments: attachments.map((attachment) => this.createAttachment(attachment)),
      idempotencyKey: null,
      service: handle.service,
    };
    this.storeMessage(message);
    chat.typingParticipants.delete(from);
    this.emit(messageEvent(this, "message.received", message, chat));
    return message;
  }

  /** The message in that chat, or a 404. */
  requireMessage(chatId: number, messageId: number): MessageRecord {
    const message = this.messages.get(messageId);
    if (message === undefined || message.chatId !== chatId)
      throw apiProblem(404, "not_found", "Message not found");
    return message;
  }

  requireMessageById(messageId: number): MessageRecord {
    const message = this.messages.get(messageId);
    if (message === undefined) throw apiProblem(404, "not_found", "Message not found");
    return message;
  }

  getMessage(messageId: number): MessageRecord | undefined {
    return this.messages.get(messageId);
  }

  /** The messages of a chat, oldest first (by time, then id). */
  messagesOf(chatId: number): MessageRecord[] {
    // Kept in insertion order, which is chronological unless the injected clock went backwards.
    return [...(this.messagesByChat.get(chatId) ?? [])].sort(
      (left, right) => left.sentAt.getTime() - right.sentAt.getTime() || left.id - right.id,
    );
  }

  /** Edits one of our messages (sets edited_at). Received messages cannot be edited (422). */
  editMessage(chatId: number, messageId: number, text: string): MessageRecord {
    const message = this.requireMessage(chatId, messageId);
    if (message.direction !== "outbound") {
      throw apiProblem(422, "invalid_params", "Only messages sent from your Linq number can be edited");
    }
    message.text = text;
    message.editedAt = this.now();
    return message;
  }

  /** Deletes (unsends) one of our messages with its reactions. Received messages cannot be deleted (422). */
  deleteMessage(chatId: number, messageId: number): void {
    const message = this.requireMessage(chatId, messageId);
    if (message.direction !== "outbound") {
      throw apiProblem(422, "invalid_params", "Only messages sent from your Linq number can be deleted");
    }
    this.messages.delete(messageId);
    const remaining = (this.messagesByChat.get(chatId) ?? []).filter(
      (candidate) => candidate.id !== messageId,
    );
    this.messagesByChat.set(chatId, remaining);
    for (const reaction of this.reactionsByMessage.get(messageId) ?? []) this.reactions.delete(reaction.id);
    this.reactionsByMessage.delete(messageId);
  }

  /** The recipient read our messages up to `messageId` (or all); fires message.read per newly read message. */
  readOutbound(chatId: number, messageId?: number): MessageRecord[] {
    const chat = this.requireChat(chatId);
    const outbound = this.messagesOf(chatId).filter((message) => message.direction === "outbound");
    let upTo = outbound.length;
    if (messageId !== undefined) {
      upTo = outbound.findIndex((message) => message.id === messageId) + 1;
      if (upTo === 0)
        throw apiProblem(
          404,
          "not_found",
          `Message ${messageId} is not one of our messages in chat ${chatId}`,
        );
    }
    const now = this.now();
    const read: MessageRecord[] = [];
    for (const message of outbound.slice(0, upTo)) {
      if (message.isRead) continue;
      message.isRead = true;
      message.readAt = now;
      read.push(message);
      this.emit(messageReadEvent(message, chat, now));
    }
    return read;
  }

  /** Sets one of our messages' delivery status. */
  setDeliveryStatus(messageId: number, status: DeliveryStatus): MessageRecord {
    const message = this.requireMessageById(messageId);
    if (message.direction !== "outbound") {
      throw new ConfigurationError(
        `Message ${messageId} was received, not sent: it has no delivery status to change`,
      );
    }
    message.deliveryStatus = status;
    message.deliveredAt = status === "delivered" ? (message.deliveredAt ?? this.now()) : null;
    return message;
  }

  // ---------------------------------------------------------------- reactions

  /**
   * Adds or removes a reaction. Adding the same reaction from the same sender
   * twice returns the existing one; removing one that does not exist is a 404.
   * `add` fires reaction.sent (from us) or reaction.received (from a participant).
   */
  react(
    messageId: number,
    input: { reaction: ReactionType; operation: "add" | "remove"; from: string | null },
  ): ReactionRecord {
    const message = this.requireMessageById(messageId);
    const chat = this.requireChat(message.chatId);
    const isFromMe = input.from === null;
    const handle = isFromMe
      ? chat.handles.find((candidate) => candidate.isMe)
      : this.requireParticipant(chat, input.from ?? "");
    const fromPhone = isFromMe ? chat.linqNumber : (input.from ?? "");
    const existing = (this.reactionsByMessage.get(messageId) ?? []).find(
      (reaction) =>
        reaction.messageId === messageId &&
        reaction.reaction === input.reaction &&
        reaction.isFromMe === isFromMe &&
        reaction.fromPhone === fromPhone,
    );
    if (input.operation === "remove") {
      if (existing === undefined) throw apiProblem(404, "not_found", "Reaction not found");
      this.reactions.delete(existing.id);
      this.reactionsByMessage.set(
        messageId,
        (this.reactionsByMessage.get(messageId) ?? []).filter((candidate) => candidate !== existing),
      );
      return existing;
    }
    if (existing !== undefined) return existing;
    const now = this.now();
    const reaction: ReactionRecord = {
      id: this.nextId("reaction"),
      messageId,
      reaction: input.reaction,
      isFromMe,
      fromPhone,
      handleId: handle?.id ?? 0,
      sentAt: now,
      createdAt: now,
      updatedAt: now,
    };
    this.reactions.set(reaction.id, reaction);
    const onMessage = this.reactionsByMessage.get(messageId);
    if (onMessage === undefined) this.reactionsByMessage.set(messageId, [reaction]);
    else onMessage.push(reaction);
    this.emit(reactionEvent(this, isFromMe ? "reaction.sent" : "reaction.received", reaction, message, chat));
    return reaction;
  }

  requireReaction(reactionId: number): ReactionRecord {
    const reaction = this.reactions.get(reactionId);
    if (reaction === undefined) throw apiProblem(404, "not_found", "Reaction not found");
    return reaction;
  }

  getReaction(reactionId: number): ReactionRecord | undefined {
    return this.reactions.get(reactionId);
  }

  reactionsOf(messageId: number): ReactionRecord[] {
    return [...(this.reactionsByMessage.get(messageId) ?? [])];
  }

  // ---------------------------------------------------------------- contacts

  /** Creates a contact; fires contact.created. */
  createContact(input: ContactInput): ContactRecord {
    const fields = this.contactFields(input, true);
    const owner = this.ownerFor(input.user_email);
    const now = this.now();
    const contact: ContactRecord = {
      id: this.nextId("contact"),
      firstName: fields.first_name ?? null,
      lastName: fields.last_name ?? null,
      email: fields.email ?? null,
      phoneNumber: fields.phone_number ?? null,
      company: fields.company ?? null,
      title: fields.title ?? null,
      location: fields.location ?? null,
      ownerId: owner.id,
      createdAt: now,
      updatedAt: now,
    };
    this.contacts.set(contact.id, contact);
    this.contactNames = undefined;
    this.emit(contactEvent(this, "contact.created", contact));
    return contact;
  }

  /** Updates the provided fields (PUT and PATCH alike); fires contact.updated. */
  updateContact(contactId: number, input: ContactInput): ContactRecord {
    const contact = this.requireContact(contactId);
    const fields = this.contactFields(input, false);
    const owner = input.user_email === undefined ? undefined : this.ownerFor(input.user_email);
    if (fields.first_name !== undefined) contact.firstName = fields.first_name;
    if (fields.last_name !== undefined) contact.lastName = fields.last_name;
    if (fields.email !== undefined) contact.email = fields.email;
    if (fields.phone_number !== undefined) contact.phoneNumber = fields.phone_number;
    if (fields.company !== undefined) contact.company = fields.company;
    if (fields.title !== undefined) contact.title = fields.title;
    if (fields.location !== undefined) contact.location = fields.location;
    if (owner !== undefined) contact.ownerId = owner.id;
    contact.updatedAt = this.now();
    this.contactNames = undefined;
    this.emit(contactEvent(this, "contact.updated", contact));
    return contact;
  }

  /** Deletes a contact; fires contact.deleted. */
  deleteContact(contactId: number): void {
    this.requireContact(contactId);
    this.contacts.delete(contactId);
    this.contactNames = undefined;
    this.emit(contactDeletedEvent(contactId));
  }

  requireContact(contactId: number): ContactRecord {
    const contact = this.contacts.get(contactId);
    if (contact === undefined) throw apiProblem(404, "not_found", "Contact not found");
    return contact;
  }

  getContact(contactId: number): ContactRecord | undefined {
    return this.contacts.get(contactId);
  }

  allContacts(): ContactRecord[] {
    return [...this.contacts.values()].sort((left, right) => left.id - right.id);
  }

  /** The first contact (by id) whose email OR normalised phone number matches. */
  findContact(query: {
    email?: string | undefined;
    phoneNumber?: string | undefined;
  }): ContactRecord | undefined {
    const hasEmail = query.email !== undefined && query.email.trim() !== "";
    const hasPhone = query.phoneNumber !== undefined && query.phoneNumber.trim() !== "";
    if (!hasEmail && !hasPhone) {
      throw apiProblem(
        400,
        "bad_request",
        "At least one search parameter is required: email or phone_number",
      );
    }
    const problems: string[] = [];
    const email = hasEmail ? (query.email ?? "").trim().toLowerCase() : undefined;
    if (email !== undefined && !isEmailAddress(email)) problems.push("Email is invalid");
    const phone = hasPhone ? normalizeLenientPhoneNumber(query.phoneNumber ?? "") : undefined;
    if (hasPhone && phone === undefined) problems.push("Phone number is invalid");
    if (problems.length > 0) throw apiProblem(422, "validation_error", problems);
    return this.allContacts().find(
      (contact) =>
        (email !== undefined && contact.email?.toLowerCase() === email) ||
        (phone !== undefined && contact.phoneNumber === phone),
    );
  }

  // ---------------------------------------------------------------- phone numbers

  /** Sets or clears (`""` or null) a Linq number's forwarding number. Another organisation's id → 403. */
  updateForwardingNumber(
    phoneNumberId: number,
    forwardingNumber: string | null | undefined,
  ): PhoneNumberRecord {
    const record = this.phoneNumbers.find((candidate) => candidate.id === phoneNumberId);
    if (record === undefined) {
      throw apiProblem(403, "forbidden", "Phone number doesn't belong to your organization");
    }
    if (forwardingNumber === undefined) {
      throw apiProblem(
        422,
        "invalid_params",
        "forwarding_number is required (pass an empty string to clear it)",
      );
    }
    if (forwardingNumber === null || forwardingNumber.trim() === "") {
      record.forwardingNumber = null;
      return record;
    }
    const normalized = normalizeLenientPhoneNumber(forwardingNumber);
    if (normalized === undefined) throw apiProblem(422, "invalid_params", "Invalid forwarding number");
    record.forwardingNumber = normalized;
    return record;
  }

  // ---------------------------------------------------------------- webhook subscriptions

  createSubscription(input: SubscriptionInput): SubscriptionRecord {
    this.validateSubscription(input);
    const now = this.now();
    const subscription: SubscriptionRecord = {
      id: this.nextId("subscription"),
      webhookUrl: input.webhook_url,
      version: input.version,
      events: [...new Set(input.events)],
      active: input.active ?? true,
      secret: input.secret === undefined || input.secret === "" ? null : input.secret,
      lastDeliveredAt: null,
      deliveryAttempts: 0,
      createdAt: now,
      updatedAt: now,
    };
    this.subscriptions.set(subscription.id, subscription);
    return subscription;
  }

  /** Replaces URL, events and version; `active` and `secret` change only when given (`""` clears the secret). */
  updateSubscription(subscriptionId: number, input: SubscriptionInput): SubscriptionRecord {
    const subscription = this.requireSubscription(subscriptionId);
    this.validateSubscription(input);
    subscription.webhookUrl = input.webhook_url;
    subscription.version = input.version;
    subscription.events = [...new Set(input.events)];
    if (input.active !== undefined) subscription.active = input.active;
    if (input.secret !== undefined) subscription.secret = input.secret === "" ? null : input.secret;
    subscription.updatedAt = this.now();
    return subscription;
  }

  deleteSubscription(subscriptionId: number): void {
    this.requireSubscription(subscriptionId);
    this.subscriptions.delete(subscriptionId);
  }

  requireSubscription(subscriptionId: number): SubscriptionRecord {
    const subscription = this.subscriptions.get(subscriptionId);
    if (subscription === undefined) throw apiProblem(404, "not_found", "Webhook subscription not found");
    return subscription;
  }

  getSubscription(subscriptionId: number): SubscriptionRecord | undefined {
    return this.subscriptions.get(subscriptionId);
  }

  allSubscriptions(): SubscriptionRecord[] {
    return [...this.subscriptions.values()].sort((left, right) => left.id - right.id);
  }

  // ---------------------------------------------------------------- calls

  /** Records a completed call; fires call.completed. */
  recordCall(input: {
    from: string;
    to: string;
    direction: "inbound" | "outbound";
    durationSeconds: number;
    answeredBy: string | null;
    voicemail: boolean;
    recording: { transcription?: string; summary?: string } | null;
  }): CallRecord {
    const end = this.now();
    const start = new Date(end.getTime() - input.durationSeconds * 1000);
    let recordingData: CallRecord["recording_data"] = null;
    if (input.recording !== null) {
      const file = this.storeFile(
        silentWav(Math.min(input.durationSeconds, 1)),
        "recording.wav",
        "audio/wav",
      );
      recordingData = {
        id: this.nextId("recording"),
        url: this.fileUrl(file.id),
        duration: input.durationSeconds,
        transcribed: input.recording.transcription !== undefined,
        transcript_available: input.recording.transcription !== undefined,
        transcription: input.recording.transcription ?? null,
        summary: input.recording.summary ?? null,
      };
    }
    const call: CallRecord = {
      id: this.nextId("call"),
      to: input.to,
      from: input.from,
      status: "completed",
      direction: input.direction,
      start_time: start.toISOString(),
      end_time: end.toISOString(),
      duration: input.durationSeconds,
      call_type: "normal",
      forwarded_from: null,
      answered_by: input.answeredBy,
      voicemail: input.voicemail,
      has_recording: recordingData !== null,
      recording_data: recordingData,
    };
    this.calls.push(call);
    this.emit(callEvent(call));
    return call;
  }

  allCalls(): CallRecord[] {
    return this.calls;
  }

  // ---------------------------------------------------------------- files

  storeFile(bytes: Uint8Array, filename: string, mimeType: string): StoredFile {
    const file: StoredFile = { id: randomUUID(), bytes, filename, mimeType };
    this.files.set(file.id, file);
    return file;
  }

  getFile(fileId: string): StoredFile | undefined {
    return this.files.get(fileId);
  }

  fileUrl(fileId: string): string {
    return `${this.baseUrl}/files/${fileId}`;
  }

  // ---------------------------------------------------------------- naming (EventNaming)

  /** A participant's name: the matching contact's full name (the oldest contact wins), else the address itself. */
  participantName(address: string): string {
    if (this.contactNames === undefined) {
      const names = new Map<string, string>();
      for (const contact of this.allContacts()) {
        const name = fullName(contact.firstName, contact.lastName);
        if (name === null) continue;
        for (const key of [contact.phoneNumber, contact.email?.toLowerCase()]) {
          if (key !== null && key !== undefined && !names.has(key)) names.set(key, name);
        }
      }
      this.contactNames = names;
    }
    return this.contactNames.get(address) ?? address;
  }

  /** A Linq number's name: its owner's name, else the number. */
  linqNumberName(linqNumber: string): string {
    const record = this.phoneNumbers.find((candidate) => candidate.phoneNumber === linqNumber);
    const owner = record === undefined ? undefined : this.users.find((user) => user.id === record.ownerId);
    return (owner === undefined ? null : fullName(owner.firstName, owner.lastName)) ?? linqNumber;
  }

  // ---------------------------------------------------------------- REST renderings

  renderChat(chat: ChatRecord): SimulatorChat {
    const service = this.chatService(chat);
    return {
      id: chat.id,
      display_name: this.chatDisplayName(chat),
      service,
      group: this.participantsOf(chat).length > 1,
      message_count: this.messageCount(chat.id),
      chat_handles: chat.handles.map((handle) => renderHandle(handle, service)),
    };
  }

  renderMessage(message: MessageRecord): SimulatorChatMessage {
    return {
      id: message.id,
      text: message.text,
      sent_at: message.sentAt.toISOString(),
      delivered_at: message.deliveredAt?.toISOString() ?? null,
      delivery_status: message.deliveryStatus,
      edited_at: message.editedAt?.toISOString() ?? null,
      is_read: message.isRead,
      sent_from: message.sentFrom,
      chat_handle_id: message.chatHandleId,
      attachments: message.attachments.map(renderAttachment),
      reactions: this.reactionsOf(message.id).map(renderReaction),
    };
  }

  renderContact(contact: ContactRecord): SimulatorContact {
    const owner = this.users.find((user) => user.id === contact.ownerId);
    return {
      id: contact.id,
      first_name: contact.firstName,
      last_name: contact.lastName,
      full_name: fullName(contact.firstName, contact.lastName),
      email: contact.email,
      phone_number: contact.phoneNumber,
      company: contact.company,
      title: contact.title,
      location: contact.location,
      image_url: null,
      created_at: contact.createdAt.toISOString(),
      updated_at: contact.updatedAt.toISOString(),
      contact_owner:
        owner === undefined
          ? null
          : {
              id: owner.id,
              email: owner.email,
              first_name: owner.firstName,
              last_name: owner.lastName,
              name: fullName(owner.firstName, owner.lastName) ?? owner.email,
            },
    };
  }

  renderPhoneNumber(record: PhoneNumberRecord): SimulatorPhoneNumber {
    const owner = this.users.find((user) => user.id === record.ownerId) ?? this.admin();
    return {
      id: record.id,
      phone_number: record.phoneNumber,
      forwarding_number: record.forwardingNumber,
      response_rate: 75,
      user: {
        id: owner.id,
        name: fullName(owner.firstName, owner.lastName) ?? owner.email,
        email: owner.email,
      },
    };
  }

  renderSubscription(subscription: SubscriptionRecord): SimulatorWebhookSubscription {
    return {
      id: subscription.id,
      webhook_url: subscription.webhookUrl,
      version: subscription.version,
      events: [...subscription.events],
      active: subscription.active,
      secret_configured: subscription.secret !== null,
      last_delivered_at: subscription.lastDeliveredAt?.toISOString() ?? null,
      delivery_attempts: subscription.deliveryAttempts,
      created_at: subscription.createdAt.toISOString(),
      updated_at: subscription.updatedAt.toISOString(),
    };
  }

  // ---------------------------------------------------------------- internals

  private nextId(kind: keyof typeof FIRST_IDS): number {
    const id = this.nextIds[kind];
    this.nextIds[kind] = id + 1;
    return id;
  }

  private storeMessage(message: MessageRecord): void {
    this.messages.set(message.id, message);
    const list = this.messagesByChat.get(message.chatId);
    if (list === undefined) this.messagesByChat.set(message.chatId, [message]);
    else list.push(message);
  }

  private indexChat(chat: ChatRecord): void {
    const key = participantsKey(
      chat.linqNumber,
      this.participantsOf(chat).map((handle) => handle.address),
    );
    const ids = this.chatsByParticipants.get(key) ?? [];
    ids.push(chat.id);
    ids.sort((left, right) => left - right);
    this.chatsByParticipants.set(key, ids);
  }

  private unindexChat(chat: ChatRecord): void {
    const key = participantsKey(
      chat.linqNumber,
      this.participantsOf(chat).map((handle) => handle.address),
    );
    const ids = (this.chatsByParticipants.get(key) ?? []).filter((id) => id !== chat.id);
    if (ids.length === 0) this.chatsByParticipants.delete(key);
    else this.chatsByParticipants.set(key, ids);
  }

  private requireParticipant(chat: ChatRecord, address: string): HandleRecord {
    const handle = this.participantsOf(chat).find((candidate) => candidate.address === address);
    if (handle === undefined)
      throw new ConfigurationError(`${address} is not a participant of chat ${chat.id}`);
    return handle;
  }

  private createAttachment(attachment: NewAttachment): AttachmentRecord {
    if (attachment.kind === "file") {
      const file = this.storeFile(attachment.bytes, attachment.filename, attachment.mimeType);
      return {
        id: file.id,
        url: this.fileUrl(file.id),
        filename: attachment.filename,
        mimeType: attachment.mimeType,
        fileSize: attachment.bytes.byteLength,
      };
    }
    if (attachment.kind === "reference") {
      return {
        id: randomUUID(),
        url: attachment.url,
        filename: attachment.filename,
        mimeType: attachment.mimeType,
        fileSize: attachment.fileSize,
      };
    }
    const filename = filenameFromUrl(attachment.url);
    return {
      id: randomUUID(),
      url: attachment.url,
      filename,
      mimeType: mimeTypeFor(filename),
      fileSize: undefined,
    };
  }

  private scheduleDelivery(messageId: number): void {
    const timer = setTimeout(() => {
      this.deliveryTimers.delete(timer);
      const message = this.messages.get(messageId);
      if (message === undefined || message.deliveryStatus !== "pending") return;
      message.deliveryStatus = "delivered";
      message.deliveredAt = this.now();
    }, this.deliveryDelayMs);
    timer.unref();
    this.deliveryTimers.add(timer);
  }

  /**
   * Validates a contact write (emails, phones, the at-least-one rule) and returns
   * the fields to set: a string to set, null to clear (an empty string on update).
   */
  private contactFields(input: ContactInput, creating: boolean): ContactFieldChanges {
    const fields: ContactFieldChanges = {};
    const problems: string[] = [];
    for (const [key, value] of Object.entries(input.contact) as [ContactFieldName, string][]) {
      const trimmed = value.trim();
      if (trimmed === "") {
        if (!creating) fields[key] = null;
        continue;
      }
      if (key === "email") {
        if (isEmailAddress(trimmed)) fields.email = trimmed;
        else problems.push("Email is invalid");
      } else if (key === "phone_number") {
        const normalized = normalizeLenientPhoneNumber(trimmed);
        if (normalized === undefined) problems.push("Phone number is invalid");
        else fields.phone_number = normalized;
      } else {
        fields[key] = trimmed;
      }
    }
    const identifying = ["first_name", "last_name", "email", "phone_number"] as const;
    const provided = creating
      ? identifying.some((key) => typeof fields[key] === "string")
      : identifying.some((key) => key in input.contact);
    if (!provided && problems.length === 0) {
      problems.push("At least one of first_name, last_name, email or phone_number must be provided");
    }
    if (problems.length > 0) throw apiProblem(422, "validation_error", problems);
    return fields;
  }

  private ownerFor(userEmail: string | undefined): UserRecord {
    if (userEmail === undefined) return this.admin();
    const owner = this.users.find((user) => user.email.toLowerCase() === userEmail.trim().toLowerCase());
    if (owner === undefined) throw apiProblem(422, "validation_error", `User not found: ${userEmail}`);
    return owner;
  }

  private validateSubscription(input: SubscriptionInput): void {
    const problems: string[] = [];
    let url: URL | undefined;
    try {
      url = new URL(input.webhook_url);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
      problems.push("Webhook url must be an absolute http(s) URL");
    }
    if (input.version !== 2) problems.push("Version must be 2");
    if (input.events.length === 0) problems.push("Events can't be blank");
    if (problems.length > 0) throw apiProblem(422, "validation_error", problems);
  }
}

/** The identity of a chat for find-or-create: the Linq number and the set of other participants. */
function participantsKey(linqNumber: string, participants: readonly string[]): string {
  const others = [...new Set(participants)].filter((address) => address !== linqNumber).sort();
  return `${linqNumber}|${others.join(",")}`;
}

function renderHandle(handle: HandleRecord, chatService: MessagingService): SimulatorChatHandle {
  return {
    id: handle.id,
    phone_number: handle.address,
    service: handle.isMe ? chatService : handle.service,
    joined_at: handle.joinedAt.toISOString(),
  };
}

/** The REST attachment shape. */
export function renderAttachment(attachment: AttachmentRecord): SimulatorAttachment {
  return {
    id: attachment.id,
    url: attachment.url,
    filename: attachment.filename,
    mime_type: attachment.mimeType,
    ...(attachment.fileSize === undefined ? {} : { file_size: attachment.fileSize }),
  };
}

/** The REST reaction shape. */
export function renderReaction(reaction: ReactionRecord): SimulatorReaction {
  return {
    id: reaction.id,
    chat_message_id: reaction.messageId,
    reaction: reaction.reaction,
    is_from_me: reaction.isFromMe,
    from_phone: reaction.fromPhone,
    sent_at: reaction.sentAt.toISOString(),
    created_at: reaction.createdAt.toISOString(),
    updated_at: reaction.updatedAt.toISOString(),
  };
}

function fullName(firstName: string | null, lastName: string | null): string | null {
  const name = [firstName, lastName].filter((part) => part !== null && part !== "").join(" ");
  return name === "" ? null : name;
}

function filenameFromUrl(url: string): string {
  try {
    const last = new URL(url).pathname
      .split("/")
      .filter((segment) => segment !== "")
      .pop();
    return last === undefined ? "attachment" : decodeURIComponent(last);
  } catch {
    return "attachment";
  }
}

const MIME_TYPES: Record<string, string> = {
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  png: "image/png",
  gif: "image/gif",
  heic: "image/heic",
  webp: "image/webp",
  mp4: "video/mp4",
  mov: "video/quicktime",
  mp3: "audio/mpeg",
  m4a: "audio/mp4",
  wav: "audio/wav",
  pdf: "application/pdf",
  docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  txt: "text/plain",
  vcf: "text/vcard",
};

/** A MIME type from a file name's extension (application/octet-stream when unknown). */
export function mimeTypeFor(filename: string): string {
  const extension = /\.([a-z0-9]+)$/i.exec(filename)?.[1]?.toLowerCase();
  return (extension === undefined ? undefined : MIME_TYPES[extension]) ?? "application/octet-stream";
}

/** A valid 8 kHz mono 8-bit WAV of silence, served as a call recording. */
function silentWav(seconds: number): Uint8Array {
  const sampleRate = 8000;
  const samples = Math.max(1, Math.round(sampleRate * seconds));
  const buffer = Buffer.alloc(44 + samples, 128);
  buffer.write("RIFF", 0, "ascii");
  buffer.writeUInt32LE(36 + samples, 4);
  buffer.write("WAVE", 8, "ascii");
  buffer.write("fmt ", 12, "ascii");
  buffer.writeUInt32LE(16, 16);
  buffer.writeUInt16LE(1, 20);
  buffer.writeUInt16LE(1, 22);
  buffer.writeUInt32LE(sampleRate, 24);
  buffer.writeUInt32LE(sampleRate, 28);
  buffer.writeUInt16LE(1, 32);
  buffer.writeUInt16LE(8, 34);
  buffer.write("data", 36, "ascii");
  buffer.writeUInt32LE(samples, 40);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
