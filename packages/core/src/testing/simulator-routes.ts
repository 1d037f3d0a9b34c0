/**
 * The 29 operations of the Linq Partner API v2 (see operations.generated.ts),
 * plus `GET /files/{id}` serving uploaded attachments and call recordings.
 *
 * Each handler parses and validates its input, calls the state, and returns the
 * response in the documented envelope and status.
 */
import { type LinqOperationName, linqOperations } from "../generated/operations.generated.ts";
import { isEmailAddress, normalizeChatAddress } from "./simulator-addresses.ts";
import { apiProblem, type ErrorFormat } from "./simulator-errors.ts";
import type {
  ContactInput,
  MessageRecord,
  NewAttachment,
  SimulatorState,
  SubscriptionInput,
} from "./simulator-state.ts";
import { mimeTypeFor, renderReaction } from "./simulator-state.ts";
import type { ReactionType, SimulatorChatMessage } from "./simulator-types.ts";
import { assertValid, type RequestValidators } from "./simulator-validation.ts";

/** What a handler answers. */
export interface SimulatorResponse {
  status: number;
  /** A JSON body; omitted for empty responses. */
  json?: unknown;
  /** A non-JSON body. */
  raw?: { bytes: Uint8Array; contentType: string };
  headers?: Record<string, string>;
}

/** The request as handlers see it. */
export interface RouteRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  /** The raw body. */
  body: Buffer;
  contentType: string;
  /** Lets the handler record what it parsed (for `simulator.requests`). */
  recordBody(body: unknown, idempotencyKey?: string | null): void;
}

/** What handlers may use. */
export interface RouteServices {
  state: SimulatorState;
  validators: RequestValidators;
  /** Throws the 429 when the iMessage availability check is called too often. */
  takeAvailabilityCheck(): void;
}

/** A route of the simulator. */
export interface Route {
  operation: LinqOperationName | "getFile";
  method: string;
  pattern: RegExp;
  parameterNames: string[];
  format: ErrorFormat;
  /** Whether the integration token is required. */
  authenticated: boolean;
  handle(request: RouteRequest, services: RouteServices): Promise<SimulatorResponse> | SimulatorResponse;
}

const DEFAULT_PER_PAGE = 25;
const MAX_PER_PAGE = 100;

type Handler = Route["handle"];

const handlers: Record<LinqOperationName, Handler> = {
  // ------------------------------------------------------------------ chats
  listChats({ query }, { state }) {
    const address = requiredPhoneQuery(query, "phone_number");
    const { page, perPage } = pagination(query);
    const chats = state.chatsInvolving(address);
    const { items, meta } = paginate(chats, page, perPage);
    return { status: 200, json: { data: items.map((chat) => state.renderChat(chat)), meta } };
  },

  createChat(request, { state, validators }) {
    const body = parseJsonObject(request);
    const quickStart =
      !("send_from" in body) && !("chat" in body) && ("phone_numbers" in body || "phone_number" in body);
    assertValid(quickStart ? validators.createChatQuickStart : validators.createChat, body);
    const input = body as {
      send_from?: string;
      phone_number?: string;
      phone_numbers?: string[];
      chat?: { display_name?: string; phone_numbers: string[] };
      message: { text: string; idempotency_key?: string; attachments?: string[]; attachment_urls?: string[] };
    };
    request.recordBody(body, input.message.idempotency_key ?? null);
    if (input.message.attachments !== undefined) {
      throw apiProblem(
        422,
        "invalid_params",
        "message.attachments cannot be uploaded in a JSON body: use message.attachment_urls, or send the files with Send Message (multipart/form-data)",
      );
    }
    const sendFrom = requireLinqNumber(state, (quickStart ? input.phone_number : input.send_from) ?? "");
    const participants = normalizeParticipants(
      (quickStart ? input.phone_numbers : input.chat?.phone_numbers) ?? [],
    ).filter((address) => address !== sendFrom);
    if (participants.length === 0) throw apiProblem(422, "invalid_params", "Phone number is required");
    const attachments = attachmentUrls(input.message.attachment_urls);
    if (input.message.text.trim() === "" && attachments.length === 0) {
      throw apiProblem(422, "invalid_params", "Message text or attachments are required");
    }
    const { chat, created } = state.findOrCreateChat(
      sendFrom,
      participants,
      input.chat?.display_name ?? null,
    );
    let message: MessageRecord | undefined;
    if (created) {
      message = state.sendMessage(chat.id, {
        text: input.message.text,
        idempotencyKey: input.message.idempotency_key,
        attachments,
      }).message;
    } else if (input.message.idempotency_key !== undefined) {
      const existingId = chat.idempotencyKeys.get(input.message.idempotency_key);
      message = existingId === undefined ? undefined : state.getMessage(existingId);
    }
    const rendered = state.renderChat(chat);
    const renderedMessage: SimulatorChatMessage | null =
      message === undefined ? null : state.renderMessage(message);
    if (quickStart) return { status: 200, json: { data: { chat: rendered, message: renderedMessage } } };
    return { status: 200, json: { data: { ...rendered, chat_messages: renderedMessage } } };
  },

  getChat({ params }, { state }) {
    const chat = state.requireChat(idParameter(params.chat_id, "Chat"));
    return { status: 200, json: { data: state.renderChat(chat) } };
  },

  findChat({ query }, { state }) {
    const linqNumber = requiredPhoneQuery(query, "phone_number");
    const participants = query.getAll("phone_numbers[]");
    if (participants.length === 0 || participants.every((value) => value.trim() === "")) {
      throw apiProblem(400, "missing_phone", "Missing required parameter: phone_numbers[]");
    }
    const chat = state.findChat(linqNumber, normalizeParticipants(participants));
    if (chat === undefined) return { status: 200, json: { data: { chat: null, messages: [] } } };
    return { status: 200, json: { data: { chat: state.renderChat(chat) } } };
  },

  markChatAsRead({ params }, { state }) {
    state.markChatRead(idParameter(params.chat_id, "Chat"));
    return { status: 204 };
  },

  startTypingIndicator({ params }, { state }) {
    state.startTyping(idParameter(params.chat_id, "Chat"));
    return { status: 201 };
  },

  stopTypingIndicator({ params }, { state }) {
    state.stopTyping(idParameter(params.chat_id, "Chat"));
    return { status: 204 };
  },

  shareContactCard({ params }, { state }) {
    state.shareContactCard(idParameter(params.chat_id, "Chat"));
    return { status: 201 };
  },

  // ------------------------------------------------------------------ messages
  listChatMessages({ params, query }, { state }) {
    const chat = state.requireChat(idParameter(params.chat_id, "Chat"));
    const { page, perPage } = pagination(query);
    const before = timeQuery(query, "before");
    const after = timeQuery(query, "after");
    const sort = query.get("sort") ?? "asc";
    if (sort !== "asc" && sort !== "desc")
      throw apiProblem(422, "invalid_params", "sort must be one of: asc, desc");
    let messages = state
      .messagesOf(chat.id)
      .filter(
        (message) =>
          (before === undefined || message.sentAt.getTime() < before) &&
          (after === undefined || message.sentAt.getTime() > after),
      );
    if (sort === "desc") messages = messages.reverse();
    const { items, meta } = paginate(messages, page, perPage);
    return { status: 200, json: { data: items.map((message) => state.renderMessage(message)), meta } };
  },

  async sendMessage(request, { state, validators }) {
    const chat = state.requireChat(idParameter(request.params.chat_id, "Chat"));
    const input = await parseSendMessage(request, validators);
    const { message, created } = state.sendMessage(chat.id, input);
    return { status: created ? 201 : 200, json: { data: state.renderMessage(message) } };
  },

  getChatMessage({ params }, { state }) {
    const chatId = idParameter(params.chat_id, "Chat");
    state.requireChat(chatId);
    const message = state.requireMessage(chatId, idParameter(params.id, "Message"));
    return { status: 200, json: { data: state.renderMessage(message) } };
  },

  deleteMessage({ params }, { state }) {
    const chatId = idParameter(params.chat_id, "Chat");
    state.requireChat(chatId);
    state.deleteMessage(chatId, idParameter(params.id, "Message"));
    return { status: 200, json: { message: "Message deleted successfully" } };
  },

  editMessage(request, { state, validators }) {
    const chatId = idParameter(request.params.chat_id, "Chat");
    state.requireChat(chatId);
    const messageId = idParameter(request.params.id, "Message");
    state.requireMessage(chatId, messageId);
    const body = parseJsonObject(request);
    request.recordBody(body);
    assertValid(validators.editMessage, body);
    const message = state.editMessage(chatId, messageId, (body as { text: string }).text);
    return {
      status: 200,
      json: { message: "Message edited successfully", data: { id: message.id, text: message.text } },
    };
  },

  reactToMessage(request, { state, validators }) {
    const messageId = idParameter(request.params.chat_message_id, "Message");
    state.requireMessageById(messageId);
    const body = parseJsonObject(request);
    request.recordBody(body);
    assertValid(validators.reactToMessage, body);
    const input = body as { type: ReactionType; operation: "add" | "remove" };
    const reaction = state.react(messageId, { reaction: input.type, operation: input.operation, from: null });
    return { status: 201, json: { data: renderReaction(reaction) } };
  },

  getChatMessageReaction({ params }, { state }) {
    const reaction = state.requireReaction(idParameter(params.reaction_id, "Reaction"));
    return { status: 200, json: { data: renderReaction(reaction) } };
  },

  // ------------------------------------------------------------------ contacts
  listContacts({ query }, { state }) {
    const { page, perPage } = pagination(query, "validation_error");
    const { items, meta } = paginate(state.allContacts(), page, perPage);
    return {
      status: 200,
      json: {
        contacts: items.map((contact) => state.renderContact(contact)),
        pagination: {
          current_page: meta.page,
          per_page: meta.per_page,
          total_pages: meta.total_pages,
          total_count: meta.total_count,
        },
      },
    };
  },

  createContact(request, { state, validators }) {
    const body = parseJsonObject(request);
    request.recordBody(body);
    assertValid(validators.contactInput, body);
    const contact = state.createContact(body as unknown as ContactInput);
    return { status: 201, json: { data: state.renderContact(contact) } };
  },

  getContact({ params }, { state }) {
    const contact = state.requireContact(idParameter(params.id, "Contact"));
    return { status: 200, json: { data: state.renderContact(contact) } };
  },

  updateContact: updateContactHandler,
  partiallyUpdateContact: updateContactHandler,

  deleteContact({ params }, { state }) {
    state.deleteContact(idParameter(params.id, "Contact"));
    return { status: 204 };
  },

  findContact({ query }, { state }) {
    const contact = state.findContact({
      email: query.get("email") ?? undefined,
      phoneNumber: query.get("phone_number") ?? undefined,
    });
    if (contact === undefined) return { status: 200, json: { contact: null } };
    return { status: 200, json: state.renderContact(contact) };
  },

  // ------------------------------------------------------------------ phone numbers
  listPhoneNumbers(_request, { state }) {
    return {
      status: 200,
      json: { phone_numbers: state.phoneNumbers.map((record) => state.renderPhoneNumber(record)) },
    };
  },

  updatePhoneNumber(request, { state, validators }) {
    const id = Number(request.params.id);
    const body = parseJsonObject(request);
    request.recordBody(body);
    assertValid(validators.updatePhoneNumber, body);
    const forwarding = (body as { forwarding_number?: string | null }).forwarding_number;
    const record = state.updateForwardingNumber(Number.isSafeInteger(id) ? id : -1, forwarding);
    return { status: 200, json: state.renderPhoneNumber(record) };
  },

  // ------------------------------------------------------------------ webhook subscriptions
  listWebhookSubscriptions(_request, { state }) {
    return {
      status: 200,
      json: {
        webhook_subscriptions: state
          .allSubscriptions()
          .map((subscription) => state.renderSubscription(subscription)),
      },
    };
  },

  createWebhookSubscription(request, { state, validators }) {
    const input = parseSubscription(request, validators);
    const subscription = state.createSubscription(input);
    return { status: 201, json: { webhook_subscription: state.renderSubscription(subscription) } };
  },

  updateWebhookSubscription(request, { state, validators }) {
    const id = idParameter(request.params.webhook_subscription_id, "Webhook subscription");
    state.requireSubscription(id);
    const input = parseSubscription(request, validators);
    const subscription = state.updateSubscription(id, input);
    return { status: 200, json: { webhook_subscription: state.renderSubscription(subscription) } };
  },

  deleteWebhookSubscription({ params }, { state }) {
    state.deleteSubscription(idParameter(params.webhook_subscription_id, "Webhook subscription"));
    return { status: 204 };
  },

  // ------------------------------------------------------------------ utilities
  checkIMessageAvailability(request, services) {
    services.takeAvailabilityCheck();
    const body = parseJsonObject(request);
    request.recordBody(body);
    assertValid(services.validators.checkIMessageAvailability, body);
    const input = (body as { phone_number: string }).phone_number;
    const address = normalizeChatAddress(input);
    if (address === undefined) throw apiProblem(422, "invalid_params", `Invalid phone number: ${input}`);
    return {
      status: 200,
      json: { available: services.state.serviceOf(address) === "iMessage", phone_number: address },
    };
  },
};

function updateContactHandler(
  request: RouteRequest,
  { state, validators }: RouteServices,
): SimulatorResponse {
  const id = idParameter(request.params.id, "Contact");
  state.requireContact(id);
  const body = parseJsonObject(request);
  request.recordBody(body);
  assertValid(validators.contactInput, body);
  const contact = state.updateContact(id, body as unknown as ContactInput);
  return { status: 200, json: { data: state.renderContact(contact) } };
}

/** Builds the route table from the generated operations table (so all 29 are served), plus the file route. */
export function buildRoutes(): Route[] {
  const routes = (Object.keys(linqOperations) as LinqOperationName[]).map((operation): Route => {
    const { method, path } = linqOperations[operation];
    const parameterNames: string[] = [];
    const source = path.replace(/\{([a-z_]+)\}/g, (_match, name: string) => {
      parameterNames.push(name);
      return "([^/]+)";
    });
    return {
      operation,
      method,
      pattern: new RegExp(`^${source}/?$`),
      parameterNames,
      format: errorFormatForPath(path),
      authenticated: true,
      handle: handlers[operation],
    };
  });
  // Literal paths (`/chats/find`, `/contacts/find`) must win over `/{id}` patterns.
  routes.sort((left, right) => left.parameterNames.length - right.parameterNames.length);
  routes.push({
    operation: "getFile",
    method: "GET",
    pattern: /^\/files\/([0-9a-f-]+)$/,
    parameterNames: ["id"],
    format: "error",
    authenticated: false,
    handle({ params }, { state }) {
      const file = state.getFile(params.id ?? "");
      if (file === undefined) throw apiProblem(404, "not_found", "File not found");
      return {
        status: 200,
        raw: { bytes: file.bytes, contentType: file.mimeType },
        headers: { "content-disposition": `inline; filename="${file.filename.replace(/["\\\r\n]/g, "_")}"` },
      };
    },
  });
  return routes;
}

/** The route and its parameters for a method and path, if any. */
export function matchRoute(
  routes: readonly Route[],
  method: string,
  path: string,
): { route: Route; params: Record<string, string> } | undefined {
  for (const route of routes) {
    if (route.method !== method) continue;
    const match = route.pattern.exec(path);
    if (match === null) continue;
    const params: Record<string, string> = {};
    route.parameterNames.forEach((name, index) => {
      params[name] = safeDecode(match[index + 1] ?? "");
    });
    return { route, params };
  }
  return undefined;
}

/** Decodes a path segment; a malformed escape is kept as is (and then matches nothing). */
function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The error format of the endpoint family a path belongs to (for faults and 404s). */
export function errorFormatForPath(path: string): ErrorFormat {
  return path.startsWith("/api/partner/v2/contacts") ||
    path.startsWith("/api/partner/v2/webhook_subscriptions")
    ? "standard"
    : "error";
}

// ---------------------------------------------------------------------- parsing helpers

function parseJsonObject(request: RouteRequest): Record<string, unknown> {
  if (request.body.byteLength === 0) return {};
  const contentType = request.contentType.toLowerCase();
  if (contentType !== "" && !contentType.includes("json")) {
    throw apiProblem(
      400,
      "bad_request",
      `Unsupported Content-Type ${request.contentType}: send application/json`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(request.body.toString("utf8"));
  } catch {
    throw apiProblem(400, "bad_request", "The request body is not valid JSON");
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw apiProblem(400, "bad_request", "The request body must be a JSON object");
  }
  return parsed as Record<string, unknown>;
}

function parseSubscription(request: RouteRequest, validators: RequestValidators): SubscriptionInput {
  const body = parseJsonObject(request);
  request.recordBody(redactSecret(body));
  if ("webhook_subscription" in body) {
    assertValid(validators.webhookSubscription, body);
    return body.webhook_subscription as SubscriptionInput;
  }
  assertValid(validators.webhookSubscriptionBare, body);
  return body as unknown as SubscriptionInput;
}

function redactSecret(body: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(body);
  const target = (
    typeof copy.webhook_subscription === "object" && copy.webhook_subscription !== null
      ? copy.webhook_subscription
      : copy
  ) as Record<string, unknown>;
  if (typeof target.secret === "string") target.secret = "[redacted]";
  return copy;
}

/** Send message input from multipart/urlencoded fields or JSON (nested or quick-start). */
async function parseSendMessage(
  request: RouteRequest,
  validators: RequestValidators,
): Promise<{ text: string; idempotencyKey?: string; attachments: NewAttachment[] }> {
  const contentType = request.contentType.toLowerCase();
  if (
    contentType.startsWith("multipart/form-data") ||
    contentType.startsWith("application/x-www-form-urlencoded")
  ) {
    let form: FormData;
    try {
      form = await new Response(new Uint8Array(request.body), {
        headers: { "content-type": request.contentType },
      }).formData();
    } catch {
      throw apiProblem(400, "bad_request", "The multipart/form-data body could not be parsed");
    }
    const { fields, recorded } = formFields(form);
    const idempotencyKey =
      typeof fields["message[idempotency_key]"] === "string" ? fields["message[idempotency_key]"] : null;
    request.recordBody(recorded, idempotencyKey);
    assertValid(validators.sendMessageForm, fields);
    const uploads = form.getAll("message[attachments][]");
    const attachments: NewAttachment[] = [];
    for (const upload of uploads) {
      if (typeof upload === "string") {
        throw apiProblem(
          422,
          "invalid_params",
          "message[attachments][] must be file uploads (use message[attachment_urls][] for URLs)",
        );
      }
      const bytes = new Uint8Array(await upload.arrayBuffer());
      const filename = upload.name === "" ? "attachment" : upload.name;
      attachments.push({ kind: "file", filename, mimeType: upload.type || mimeTypeFor(filename), bytes });
    }
    attachments.push(...attachmentUrls(fields["message[attachment_urls][]"] as string[] | undefined));
    return {
      text: fields["message[text]"] as string,
      ...(idempotencyKey === null ? {} : { idempotencyKey }),
      attachments,
    };
  }
  const body = parseJsonObject(request);
  if ("message" in body) {
    const nested = body.message as { text?: unknown; idempotency_key?: unknown } | null;
    const key = typeof nested?.idempotency_key === "string" ? nested.idempotency_key : null;
    request.recordBody(body, key);
    assertValid(validators.sendMessageJson, body);
    const message = body.message as { text: string; idempotency_key?: string; attachment_urls?: string[] };
    return {
      text: message.text,
      ...(message.idempotency_key === undefined ? {} : { idempotencyKey: message.idempotency_key }),
      attachments: attachmentUrls(message.attachment_urls),
    };
  }
  request.recordBody(body);
  assertValid(validators.sendMessageQuickStart, body);
  const quick = body as { text: string; attachment_urls?: string[] };
  return { text: quick.text, attachments: attachmentUrls(quick.attachment_urls) };
}

/**
 * Turns form data into the object validated against the multipart schema:
 * `…[]` keys become arrays, other repeated keys keep the last value (like Rack),
 * files become their file name (a file in a text field is a type error).
 */
function formFields(form: FormData): { fields: Record<string, unknown>; recorded: Record<string, unknown> } {
  const fields: Record<string, unknown> = {};
  const recorded: Record<string, unknown> = {};
  for (const key of new Set(form.keys())) {
    const values = form.getAll(key);
    const asField = (value: string | File): unknown =>
      typeof value === "string" ? value : key.endsWith("[]") ? value.name : { file: value.name };
    const asRecord = (value: string | File): unknown =>
      typeof value === "string"
        ? value
        : { filename: value.name, mime_type: value.type, file_size: value.size };
    if (key.endsWith("[]")) {
      fields[key] = values.map(asField);
      recorded[key] = values.map(asRecord);
    } else {
      const last = values[values.length - 1];
      if (last === undefined) continue;
      fields[key] = asField(last);
      recorded[key] = asRecord(last);
    }
  }
  return { fields, recorded };
}

function attachmentUrls(urls: readonly string[] | undefined): NewAttachment[] {
  if (urls === undefined) return [];
  const invalid = urls.filter((url) => {
    try {
      const parsed = new URL(url);
      return parsed.protocol !== "http:" && parsed.protocol !== "https:";
    } catch {
      return true;
    }
  });
  if (invalid.length > 0) {
    throw apiProblem(
      422,
      "invalid_params",
      invalid.map((url) => `attachment_urls must be absolute http(s) URLs: ${url}`),
    );
  }
  return urls.map((url) => ({ kind: "url", url }));
}

function idParameter(value: string | undefined, resource: string): number {
  if (value === undefined || !/^\d+$/.test(value))
    throw apiProblem(404, "not_found", `${resource} not found`);
  const id = Number(value);
  if (!Number.isSafeInteger(id)) throw apiProblem(404, "not_found", `${resource} not found`);
  return id;
}

function requireLinqNumber(state: SimulatorState, input: string): string {
  const address = normalizeChatAddress(input);
  if (address === undefined || isEmailAddress(address)) {
    throw apiProblem(422, "invalid_params", `Invalid phone number: ${input}`);
  }
  if (!state.isLinqNumber(address)) {
    throw apiProblem(403, "forbidden", `${address} is not one of your organization's phone numbers`);
  }
  return address;
}

function normalizeParticipants(inputs: readonly string[]): string[] {
  const invalid: string[] = [];
  const addresses: string[] = [];
  for (const input of inputs) {
    const address = normalizeChatAddress(input);
    if (address === undefined) invalid.push(input);
    else if (!addresses.includes(address)) addresses.push(address);
  }
  if (invalid.length > 0) {
    throw apiProblem(
      422,
      "invalid_params",
      invalid.map((input) => `Invalid phone number: ${input} (use +12223334444 or 2223334444)`),
    );
  }
  return addresses;
}

function requiredPhoneQuery(query: URLSearchParams, name: string): string {
  const value = query.get(name);
  if (value === null || value.trim() === "")
    throw apiProblem(400, "missing_phone", `Missing required parameter: ${name}`);
  const address = normalizeChatAddress(value);
  if (address === undefined) throw apiProblem(422, "invalid_params", `Invalid phone number: ${value}`);
  return address;
}

/** `page` (default 1) and `per_page` (default 25, at most 100: larger is rejected with 422, not clamped). */
function pagination(query: URLSearchParams, code = "invalid_params"): { page: number; perPage: number } {
  const page = integerQuery(query, "page", 1, code);
  const perPage = integerQuery(query, "per_page", DEFAULT_PER_PAGE, code);
  if (page < 1) throw apiProblem(422, code, "page must be greater than or equal to 1");
  if (perPage < 1) throw apiProblem(422, code, "per_page must be greater than or equal to 1");
  if (perPage > MAX_PER_PAGE)
    throw apiProblem(422, code, `per_page must be less than or equal to ${MAX_PER_PAGE}`);
  return { page, perPage };
}

function integerQuery(query: URLSearchParams, name: string, fallback: number, code: string): number {
  const value = query.get(name);
  if (value === null || value === "") return fallback;
  if (!/^-?\d+$/.test(value)) throw apiProblem(422, code, `${name} must be an integer`);
  return Number(value);
}

function timeQuery(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null || value === "") return undefined;
  const time = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) || Number.isNaN(time)) {
    throw apiProblem(422, "invalid_params", `${name} must be an ISO 8601 date-time`);
  }
  return time;
}

function paginate<T>(
  items: readonly T[],
  page: number,
  perPage: number,
): { items: T[]; meta: { page: number; total_pages: number; total_count: number; per_page: number } } {
  const start = (page - 1) * perPage;
  return {
    items: items.slice(start, start + perPage),
    meta: {
      page,
      total_pages: Math.ceil(items.length / perPage),
      total_count: items.length,
      per_page: perPage,
    },
  };
}
