/**
 * Contract tests: the client end-to-end against the Linq simulator
 * (src/testing), asserting on the simulator's state, not only on responses.
 */
import { Readable } from "node:stream";
import fc from "fast-check";
import { Agent, type Dispatcher } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  AuthenticationError,
  NotFoundError,
  PermissionError,
  RateLimitError,
  ValidationError,
} from "../errors.ts";
import { type LinqOperationName, linqOperations } from "../generated/operations.generated.ts";
import { type FaultKind, type LinqSimulator, startLinqSimulator } from "../testing/index.ts";
import { LinqClient, type LinqClientOptions } from "./linq-client.ts";
import { recordingSleep } from "./test-server.test-helpers.ts";

const LINQ_NUMBER = "+15550001111";
const SECOND_LINQ_NUMBER = "+15550002222";
const CUSTOMER = "+15551234567";
const SMS_CUSTOMER = "+15553330000";
const OWNER_EMAIL = "rep@example.com";

/** Operations that completed with a 2xx through any client of this file. */
const exercised = new Set<LinqOperationName>();

let simulator: LinqSimulator;
const clients: LinqClient[] = [];

beforeAll(async () => {
  simulator = await startLinqSimulator({
    phoneNumbers: [LINQ_NUMBER, SECOND_LINQ_NUMBER],
    handles: { [SMS_CUSTOMER]: "SMS" },
    organizationUsers: [
      { email: "admin@example.com" },
      { email: OWNER_EMAIL, first_name: "Rita", last_name: "Rep" },
    ],
  });
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await simulator.close();
});

afterEach(() => {
  simulator.reset();
});

function makeClient(
  overrides: Partial<LinqClientOptions> = {},
  target: LinqSimulator = simulator,
): LinqClient {
  const { onRequestComplete } = overrides;
  const client = new LinqClient({
    token: target.token,
    baseUrl: target.baseUrl,
    ...overrides,
    onRequestComplete: (info) => {
      if (info.status !== undefined && info.status >= 200 && info.status < 300) exercised.add(info.operation);
      onRequestComplete?.(info);
    },
  });
  clients.push(client);
  return client;
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

async function newChat(client: LinqClient, participant = CUSTOMER, text = "Hello from linq-connect") {
  const { chat, message } = await client.createChat({
    sendFrom: LINQ_NUMBER,
    phoneNumbers: [participant],
    message: { text },
  });
  if (chat.id === undefined) throw new Error("chat without id");
  return { chatId: chat.id, chat, message };
}

describe("chats", () => {
  it("createChat sends the reference body and finds-or-creates, one message per idempotency key", async () => {
    const client = makeClient({ generateIdempotencyKey: () => "create-key-1" });
    const first = await client.createChat({
      sendFrom: LINQ_NUMBER,
      phoneNumbers: [CUSTOMER],
      displayName: "Acme deal",
      message: { text: "Hi there", attachmentUrls: ["https://cdn.example.com/brochure.pdf"] },
    });
    const [stored] = simulator.state.chats();
    expect(simulator.state.chats()).toHaveLength(1);
    expect(first.chat).toEqual(stored);
    expect(stored?.chat_handles.map((handle) => handle.phone_number)).toContain(CUSTOMER);
    const messages = simulator.state.messages(stored!.id);
    expect(messages).toHaveLength(1);
    expect(first.message).toEqual(messages[0]);
    expect(messages[0]?.text).toBe("Hi there");
    expect(messages[0]?.attachments.map((attachment) => attachment.url)).toEqual([
      "https://cdn.example.com/brochure.pdf",
    ]);
    expect(simulator.requests[0]?.idempotencyKey).toBe("create-key-1");
    expect(simulator.requests[0]?.body).toMatchObject({
      send_from: LINQ_NUMBER,
      chat: { phone_numbers: [CUSTOMER], display_name: "Acme deal" },
      message: { text: "Hi there", idempotency_key: "create-key-1" },
    });

    // The same key again: the same chat and message, nothing new is sent.
    const again = await client.createChat({
      sendFrom: LINQ_NUMBER,
      phoneNumbers: [CUSTOMER],
      message: { text: "Hi there" },
    });
    expect(again.chat.id).toBe(stored?.id);
    expect(again.message?.id).toBe(messages[0]?.id);
    // A new key for an existing chat: the chat comes back without a message.
    const other = await client.createChat(
      { sendFrom: LINQ_NUMBER, phoneNumbers: [CUSTOMER], message: { text: "Hi there" } },
      { idempotencyKey: "create-key-2" },
    );
    expect(other.chat.id).toBe(stored?.id);
    expect(other.message).toBeUndefined();
    expect(simulator.state.messages(stored!.id)).toHaveLength(1);
  });

  it("reads the quick-start create-chat response shape (request rewritten by an injected dispatcher)", async () => {
    const agent = new Agent();
    const toQuickStart = agent.compose((dispatch) => (options: Dispatcher.DispatchOptions, handler) => {
      if (
        options.method !== "POST" ||
        !options.path.endsWith("/api/partner/v2/chats") ||
        !Buffer.isBuffer(options.body)
      ) {
        return dispatch(options, handler);
      }
      const reference = JSON.parse(options.body.toString("utf8")) as {
        send_from: string;
        chat: { phone_numbers: string[] };
        message: { text: string };
      };
      const quickStart = {
        phone_numbers: reference.chat.phone_numbers,
        message: { text: reference.message.text },
        phone_number: reference.send_from,
      };
      return dispatch({ ...options, body: Buffer.from(JSON.stringify(quickStart)) }, handler);
    });
    const client = makeClient({ dispatcher: toQuickStart });
    try {
      const result = await client.createChat({
        sendFrom: LINQ_NUMBER,
        phoneNumbers: [CUSTOMER],
        message: { text: "Quick" },
      });
      expect(simulator.requests[0]?.body).toEqual({
        phone_numbers: [CUSTOMER],
        message: { text: "Quick" },
        phone_number: LINQ_NUMBER,
      });
      const [stored] = simulator.state.chats();
      expect(result.chat).toEqual(stored);
      expect(result.message).toEqual(simulator.state.messages(stored!.id)[0]);
      expect(result.message?.text).toBe("Quick");
    } finally {
      await agent.close();
    }
  });

  it("getChat, findChat and listChats return what the simulator stores", async () => {
    const client = makeClient();
    const { chatId } = await newChat(client);
    expect(await client.getChat(chatId)).toEqual(simulator.state.chat(chatId));
    expect(await client.getChat(String(chatId))).toEqual(simulator.state.chat(chatId));
    expect(await client.findChat({ phoneNumber: LINQ_NUMBER, phoneNumbers: [CUSTOMER] })).toEqual(
      simulator.state.chat(chatId),
    );
    expect(await client.findChat({ phoneNumber: LINQ_NUMBER, phoneNumbers: ["+15557778888"] })).toBeNull();
    const page = await client.listChats({ phoneNumber: LINQ_NUMBER });
    expect(page.items).toEqual(simulator.state.chats());
    expect(page.pagination).toEqual({ page: 1, perPage: 25, totalPages: 1, totalCount: 1 });
  });

  it("iterateChats follows every page", async () => {
    const client = makeClient();
    for (let index = 0; index < 5; index += 1) await newChat(client, `+1555100000${index}`);
    const page = await client.listChats({ phoneNumber: LINQ_NUMBER, perPage: 2, page: 2 });
    expect(page.pagination).toEqual({ page: 2, perPage: 2, totalPages: 3, totalCount: 5 });
    const chats = await collect(client.iterateChats({ phoneNumber: LINQ_NUMBER, perPage: 2 }));
    expect(chats.map((chat) => chat.id).sort()).toEqual(
      simulator.state
        .chats()
        .map((chat) => chat.id)
        .sort(),
    );
    const listRequests = simulator.requests.filter(
      (request) => request.method === "GET" && request.path.endsWith("/chats"),
    );
    expect(listRequests.slice(-3).map((request) => request.query.page)).toEqual(["1", "2", "3"]);
  });

  it("markChatAsRead, typing indicators and the contact card change the chat's state", async () => {
    const client = makeClient();
    const { chatId } = await newChat(client);
    await simulator.inbound.text({ from: CUSTOMER, text: "Reply from the customer" });
    const inbound = simulator.state.messages(chatId).find((message) => message.sent_from === CUSTOMER);
    expect(inbound?.is_read).toBe(false);
    await client.markChatAsRead(chatId);
    expect(simulator.state.message(inbound!.id)?.is_read).toBe(true);

    await client.startTypingIndicator(chatId);
    expect(simulator.state.typing(chatId)?.me).toBe(true);
    await client.stopTypingIndicator(chatId);
    expect(simulator.state.typing(chatId)?.me).toBe(false);

    await client.shareContactCard(chatId);
    expect(simulator.state.sharedContactCards(chatId)).toBe(1);
  });
});

describe("messages", () => {
  it("sendMessage uploads Buffer, Blob and stream attachments that the simulator stores byte for byte", async () => {
    const client = makeClient();
    const { chatId } = await newChat(client);
    const pdf = Buffer.from("%PDF-1.4 fake quote");
    const png = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]);
    const notes = ["first line\n", "second line\n"];
    const sent = await client.sendMessage(chatId, {
      text: "Documents attached",
      attachments: [
        { data: pdf, filename: "quote.pdf", contentType: "application/pdf" },
        { data: new Blob([png], { type: "image/png" }), filename: "logo.png" },
        {
          data: Readable.from(notes.map((line) => Buffer.from(line))),
          filename: "notes.txt",
          contentType: "text/plain",
        },
      ],
      attachmentUrls: ["https://cdn.example.com/terms.pdf"],
    });
    const stored = simulator.state.message(sent.id!);
    expect(sent).toEqual(stored);
    expect(stored?.text).toBe("Documents attached");
    expect(
      stored?.attachments.map((attachment) => [
        attachment.filename,
        attachment.mime_type,
        attachment.file_size,
      ]),
    ).toEqual([
      ["quote.pdf", "application/pdf", pdf.byteLength],
      ["logo.png", "image/png", png.byteLength],
      ["notes.txt", "text/plain", notes.join("").length],
      ["terms.pdf", "application/pdf", undefined],
    ]);
    const downloads = await Promise.all(
      (stored?.attachments ?? [])
        .slice(0, 3)
        .map(async (attachment) => Buffer.from(await (await fetch(attachment.url)).arrayBuffer())),
    );
    expect(downloads).toEqual([pdf, Buffer.from(png), Buffer.from(notes.join(""))]);
  });

  it("sendMessage with a repeated idempotency key returns the existing message (200) without a duplicate", async () => {
    const client = makeClient();
    const { chatId } = await newChat(client);
    const first = await client.sendMessage(chatId, { text: "Only once", idempotencyKey: "order-7_receipt" });
    const second = await client.sendMessage(chatId, { text: "Only once", idempotencyKey: "order-7_receipt" });
    expect(second.id).toBe(first.id);
    expect(simulator.state.messages(chatId).filter((message) => message.text === "Only once")).toHaveLength(
      1,
    );
    const sends = simulator.requests.filter((request) => request.path.endsWith("/chat_messages"));
    expect(sends.map((request) => [request.status, request.idempotencyKey])).toEqual([
      [201, "order-7_receipt"],
      [200, "order-7_receipt"],
    ]);
  });

  it("lists, iterates (both orders), gets, edits and deletes messages", async () => {
    const client = makeClient();
    const { chatId } = await newChat(client, CUSTOMER, "message 0");
    for (let index = 1; index < 5; index += 1) await client.sendMessage(chatId, { text: `message ${index}` });
    const storedIds = simulator.state.messages(chatId).map((message) => message.id);
    expect(storedIds).toHaveLength(5);

    const page = await client.listChatMessages(chatId, { perPage: 2 });
    expect(page.items).toEqual(simulator.state.messages(chatId).slice(0, 2));
    expect(page.pagination).toEqual({ page: 1, perPage: 2, totalPages: 3, totalCount: 5 });
    expect(
      (await collect(client.iterateChatMessages(chatId, { perPage: 2 }))).map((message) => message.id),
    ).toEqual(storedIds);
    expect(
      (await collect(client.iterateChatMessages(chatId, { perPage: 2, sort: "desc" }))).map(
        (message) => message.id,
      ),
    ).toEqual([...storedIds].reverse());

    const target = storedIds[2]!;
    expect(await client.getChatMessage(chatId, target)).toEqual(simulator.state.message(target));
    const edited = await client.editMessage(chatId, target, { text: "message 2 (edited)" });
    expect(edited).toEqual({ id: target, text: "message 2 (edited)" });
    expect(simulator.state.message(target)?.text).toBe("message 2 (edited)");
    expect(simulator.state.message(target)?.edited_at).not.toBeNull();

    await client.deleteMessage(chatId, target);
    expect(simulator.state.message(target)).toBeUndefined();
    await expect(client.getChatMessage(chatId, target)).rejects.toBeInstanceOf(NotFoundError);
  });

  it("reacts to a message, reads the reaction back and removes it", async () => {
    const client = makeClient();
    const { message } = await newChat(client);
    const messageId = message!.id!;
    const reaction = await client.reactToMessage(messageId, { type: "love", operation: "add" });
    const stored = simulator.state.reactions(messageId);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.reaction).toBe("love");
    expect(reaction).toEqual(stored[0]);
    expect(await client.getChatMessageReaction(reaction!.id!)).toEqual(
      simulator.state.reaction(reaction!.id!),
    );
    await client.reactToMessage(messageId, { type: "love", operation: "remove" });
    expect(simulator.state.reactions(messageId)).toEqual([]);
  });
});

describe("contacts", () => {
  it("creates, gets, updates (PUT and PATCH), finds and deletes a contact", async () => {
    const client = makeClient();
    const created = await client.createContact({
      contact: { first_name: "Ada", last_name: "Lovelace", email: "ada@example.com", phone_number: CUSTOMER },
      user_email: OWNER_EMAIL,
    });
    const stored = simulator.state.contact(created.id!);
    expect(created).toEqual(stored);
    expect(stored?.contact_owner?.email).toBe(OWNER_EMAIL);

    expect(await client.getContact(created.id!)).toEqual(simulator.state.contact(created.id!));
    // Updates need one of first_name, last_name, email or phone_number too (documented; the simulator enforces it).
    await expect(client.updateContact(created.id!, { contact: { title: "CTO" } })).rejects.toBeInstanceOf(
      ValidationError,
    );
    const updated = await client.updateContact(created.id!, {
      contact: { last_name: "Lovelace", title: "CTO" },
    });
    expect(updated.title).toBe("CTO");
    expect(simulator.state.contact(created.id!)?.title).toBe("CTO");
    const patched = await client.partiallyUpdateContact(created.id!, {
      contact: { first_name: "Ada", company: "Analytical Engines" },
    });
    expect(patched).toEqual(simulator.state.contact(created.id!));
    expect(simulator.state.contact(created.id!)).toMatchObject({
      title: "CTO",
      company: "Analytical Engines",
    });

    expect((await client.findContact({ email: "ada@example.com" }))?.id).toBe(created.id);
    expect((await client.findContact({ phoneNumber: "(555) 123-4567" }))?.id).toBe(created.id);
    expect(await client.findContact({ email: "nobody@example.com" })).toBeNull();

    await client.deleteContact(created.id!);
    expect(simulator.state.contact(created.id!)).toBeUndefined();
    await expect(client.getContact(created.id!)).rejects.toBeInstanceOf(NotFoundError);
  });

  it("iterates contacts over several pages (contacts/pagination shape)", async () => {
    const client = makeClient();
    for (let index = 0; index < 5; index += 1) {
      await client.createContact({
        contact: { first_name: `Person ${index}`, email: `p${index}@example.com` },
      });
    }
    const page = await client.listContacts({ perPage: 2, page: 3 });
    expect(page.pagination).toEqual({ page: 3, perPage: 2, totalPages: 3, totalCount: 5 });
    expect(page.items).toHaveLength(1);
    const contacts = await collect(client.iterateContacts({ perPage: 2 }));
    expect(contacts).toEqual(simulator.state.contacts());
  });

  it("turns the StandardError 422 into a ValidationError with the server's messages", async () => {
    const client = makeClient();
    const error = await client.createContact({ contact: {} }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ValidationError);
    const validationError = error as ValidationError;
    expect(validationError.status).toBe(422);
    expect(validationError.fieldErrors.length).toBeGreaterThan(0);
    expect(validationError.requestId).toBe(simulator.requests[0]?.requestId);
    expect(simulator.state.contacts()).toEqual([]);
  });
});

describe("phone numbers and webhook subscriptions", () => {
  it("lists phone numbers and sets then clears a forwarding number", async () => {
    const client = makeClient();
    const numbers = await client.listPhoneNumbers();
    expect(numbers).toEqual(simulator.state.phoneNumbers());
    const first = numbers[0]!;
    const updated = await client.updatePhoneNumber(first.id!, { forwarding_number: "+15559990000" });
    expect(updated.forwarding_number).toBe("+15559990000");
    expect(simulator.state.phoneNumbers()[0]?.forwarding_number).toBe("+15559990000");
    await client.updatePhoneNumber(first.id!, { forwarding_number: "" });
    expect(simulator.state.phoneNumbers()[0]?.forwarding_number).toBeNull();
  });

  it("creates, lists, updates and deletes webhook subscriptions", async () => {
    const client = makeClient();
    const created = await client.createWebhookSubscription({
      webhook_url: "https://hooks.example.com/linq",
      events: ["message.received", "message.sent"],
      secret: "whsec_test_secret",
    });
    const [stored] = simulator.state.subscriptions();
    expect(created).toEqual(stored);
    expect(stored).toMatchObject({ version: 2, secret_configured: true, active: true });
    expect(await client.listWebhookSubscriptions()).toEqual(simulator.state.subscriptions());

    const updated = await client.updateWebhookSubscription(created.id!, {
      webhook_url: "https://hooks.example.com/linq",
      events: ["message.received"],
      active: false,
    });
    expect(updated).toEqual(simulator.state.subscriptions()[0]);
    expect(simulator.state.subscriptions()[0]).toMatchObject({ events: ["message.received"], active: false });

    await client.deleteWebhookSubscription(created.id!);
    expect(simulator.state.subscriptions()).toEqual([]);
  });
});

describe("iMessage availability", () => {
  it("waits for the documented 1-per-10-s slot instead of being refused (shared fake clock)", async () => {
    let time = Date.parse("2025-06-01T10:00:00Z");
    const limited = await startLinqSimulator({
      phoneNumbers: [LINQ_NUMBER],
      handles: { [SMS_CUSTOMER]: "SMS" },
      now: () => new Date(time),
    });
    try {
      const waits: number[] = [];
      const client = makeClient(
        {
          now: () => time,
          sleep: async (ms) => {
            waits.push(ms);
            time += ms;
          },
        },
        limited,
      );
      expect(await client.checkIMessageAvailability(CUSTOMER)).toEqual({
        available: true,
        phone_number: CUSTOMER,
      });
      expect(await client.checkIMessageAvailability(SMS_CUSTOMER)).toEqual({
        available: false,
        phone_number: SMS_CUSTOMER,
      });
      expect(waits).toEqual([10_000]);
      expect(limited.requests.map((request) => request.status)).toEqual([200, 200]);

      // Without the client-side limiter the simulator refuses the next check with 429 + Retry-After.
      const unlimited = makeClient({ iMessageAvailabilityIntervalMs: 0, retry: false }, limited);
      const error = await unlimited.checkIMessageAvailability(CUSTOMER).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(RateLimitError);
      expect((error as RateLimitError).retryAfter).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  });
});

describe("errors", () => {
  it("maps 401, 403 and 404 answers with the simulator's request id, never leaking the token", async () => {
    const wrongToken = "wrong-token-0123456789";
    const unauthenticated = makeClient({ token: wrongToken });
    const authenticationError = await unauthenticated.listPhoneNumbers().catch((caught: unknown) => caught);
    expect(authenticationError).toBeInstanceOf(AuthenticationError);
    expect((authenticationError as AuthenticationError).message).not.toContain(wrongToken);
    expect(JSON.stringify(authenticationError)).not.toContain(wrongToken);

    const client = makeClient();
    const permissionError = await client
      .createChat({ sendFrom: "+15559998888", phoneNumbers: [CUSTOMER], message: { text: "x" } })
      .catch((caught: unknown) => caught);
    expect(permissionError).toBeInstanceOf(PermissionError);
    const notFound = await client.getChat(987654).catch((caught: unknown) => caught);
    expect(notFound).toBeInstanceOf(NotFoundError);
    expect((notFound as NotFoundError).requestId).toBe(simulator.requests.at(-1)?.requestId);
    expect((notFound as NotFoundError).message).toMatch(/^Linq getChat failed with HTTP 404 Not Found: /);
    expect(simulator.state.chats()).toEqual([]);
  });
});

describe("retry safety under injected faults", () => {
  const RETRIED_FAULTS: readonly FaultKind[] = [
    "drop-after-processing",
    "server-error",
    "bad-gateway",
    "drop-connection",
    "rate-limit",
    "timeout",
  ];
  const faultArbitrary = fc.record({
    kind: fc.constantFrom(...RETRIED_FAULTS),
    retryAfterSeconds: fc.constantFrom(0, 1, 2),
  });
  const faultsArbitrary = fc.array(faultArbitrary, { minLength: 0, maxLength: 4 });

  /** The delay the client must wait after the failure of attempt `index` (0-based) with random() = 0.5. */
  function expectedDelay(fault: { kind: FaultKind; retryAfterSeconds: number }, index: number): number {
    if (fault.kind === "rate-limit") return fault.retryAfterSeconds * 1000;
    return Math.floor(0.5 * Math.min(30_000, 500 * 2 ** index));
  }

  function faultClient() {
    const recorder = recordingSleep();
    const client = makeClient({
      timeoutMs: 250,
      retry: { maxRetries: 6 },
      random: () => 0.5,
      sleep: recorder.sleep,
      rateLimit: false,
    });
    return { client, delays: recorder.delays };
  }

  it("sendMessage never duplicates a message and honours Retry-After, whatever fails first", async () => {
    await fc.assert(
      fc.asyncProperty(faultsArbitrary, async (faults) => {
        simulator.reset();
        const { client, delays } = faultClient();
        const { chatId } = await newChat(client);
        const path = new RegExp(`^/api/partner/v2/chats/${chatId}/chat_messages$`);
        for (const fault of faults) {
          simulator.faults.inject({
            match: { method: "POST", path },
            kind: fault.kind,
            times: 1,
            retryAfterSeconds: fault.retryAfterSeconds,
          });
        }
        delays.length = 0;
        const sent = await client.sendMessage(chatId, { text: "Exactly once" });

        const copies = simulator.state.messages(chatId).filter((message) => message.text === "Exactly once");
        expect(copies).toHaveLength(1);
        expect(copies[0]?.id).toBe(sent.id);
        const sends = simulator.requests.filter((request) => path.test(request.path));
        expect(sends.map((request) => request.fault)).toEqual([...faults.map((fault) => fault.kind), null]);
        expect(
          new Set(sends.map((request) => request.idempotencyKey).filter((key) => key !== null)).size,
        ).toBe(1);
        expect(delays).toEqual(faults.map(expectedDelay));
      }),
      { numRuns: 30 },
    );
  });

  it("createChat never creates a second chat or message, whatever fails first", async () => {
    await fc.assert(
      fc.asyncProperty(faultsArbitrary, async (faults) => {
        simulator.reset();
        const { client, delays } = faultClient();
        for (const fault of faults) {
          simulator.faults.inject({
            match: { method: "POST", path: "/api/partner/v2/chats" },
            kind: fault.kind,
            times: 1,
            retryAfterSeconds: fault.retryAfterSeconds,
          });
        }
        const result = await client.createChat({
          sendFrom: LINQ_NUMBER,
          phoneNumbers: [CUSTOMER],
          message: { text: "First contact" },
        });

        const chats = simulator.state.chats();
        expect(chats).toHaveLength(1);
        expect(result.chat.id).toBe(chats[0]?.id);
        const messages = simulator.state.messages(chats[0]!.id);
        expect(messages).toHaveLength(1);
        expect(result.message?.id).toBe(messages[0]?.id);
        const creates = simulator.requests.filter(
          (request) => request.method === "POST" && request.path === "/api/partner/v2/chats",
        );
        expect(creates.map((request) => request.fault)).toEqual([...faults.map((fault) => fault.kind), null]);
        expect(delays).toEqual(faults.map(expectedDelay));
      }),
      { numRuns: 30 },
    );
  });

  it("does not repeat a non-idempotent POST after the server may have processed it", async () => {
    const { client } = faultClient();
    simulator.faults.inject({
      match: { method: "POST", path: "/api/partner/v2/contacts" },
      kind: "drop-after-processing",
      times: 1,
    });
    await expect(client.createContact({ contact: { first_name: "Once" } })).rejects.toMatchObject({
      code: "network_error",
    });
    expect(simulator.state.contacts()).toHaveLength(1);
    expect(simulator.requests).toHaveLength(1);
  });
});

describe("completeness", () => {
  it("LinqClient has a method for every operation of linqOperations", () => {
    const missing = Object.keys(linqOperations).filter(
      (name) => typeof (LinqClient.prototype as unknown as Record<string, unknown>)[name] !== "function",
    );
    expect(missing).toEqual([]);
  });

  it("every one of the 29 operations succeeded end-to-end against the simulator in this file", () => {
    const all = Object.keys(linqOperations) as LinqOperationName[];
    expect(all).toHaveLength(29);
    expect(all.filter((name) => !exercised.has(name))).toEqual([]);
  });
});
