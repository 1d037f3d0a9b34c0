import { createServer } from "node:net";
import { Readable } from "node:stream";
import { inspect } from "node:util";
import { Agent, MockAgent } from "undici";
import { afterEach, describe, expect, expectTypeOf, it } from "vitest";
import {
  AbortError,
  AuthenticationError,
  ConfigurationError,
  NetworkError,
  NotFoundError,
  RateLimitError,
  ServerError,
  TimeoutError,
  UnexpectedResponseError,
  ValidationError,
} from "../errors.ts";
import { type LinqOperationName, linqOperations } from "../generated/operations.generated.ts";
import { isRepeatableOperation, LinqClient, type LinqClientOptions } from "./linq-client.ts";
import {
  parseMultipart,
  recordingSleep,
  sendJson,
  startTestServer,
  type TestHandler,
  type TestServer,
} from "./test-server.test-helpers.ts";
import type { RequestCompleteInfo } from "./types.ts";

const TOKEN = "tok_live_0123456789abcdef";
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function serve(handler: TestHandler): Promise<TestServer> {
  const server = await startTestServer(handler);
  cleanups.push(() => server.close());
  return server;
}

function makeClient(baseUrl: string, overrides: Partial<LinqClientOptions> = {}) {
  const recorder = recordingSleep();
  const completed: RequestCompleteInfo[] = [];
  const client = new LinqClient({
    token: TOKEN,
    baseUrl,
    rateLimit: false,
    iMessageAvailabilityIntervalMs: 0,
    random: () => 0.5,
    sleep: recorder.sleep,
    onRequestComplete: (info) => completed.push(info),
    ...overrides,
  });
  cleanups.push(() => client.close());
  return { client, delays: recorder.delays, completed };
}

/** A port with nothing listening on it (connections are refused). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

const messageResponse = (id: number, text = "hi") => ({ data: { id, text, delivery_status: "pending" } });

describe("LinqClient surface", () => {
  it("has a method for every operation of linqOperations", () => {
    for (const name of Object.keys(linqOperations)) {
      expect(typeof (LinqClient.prototype as unknown as Record<string, unknown>)[name], name).toBe(
        "function",
      );
    }
    expectTypeOf<Exclude<LinqOperationName, keyof LinqClient>>().toEqualTypeOf<never>();
  });

  it("classifies which operations are safe to repeat", () => {
    const unsafe = (Object.keys(linqOperations) as LinqOperationName[]).filter(
      (name) => !isRepeatableOperation(name),
    );
    expect(unsafe.sort()).toEqual(
      [
        "createContact",
        "createWebhookSubscription",
        "reactToMessage",
        "shareContactCard",
        "startTypingIndicator",
      ].sort(),
    );
  });

  it("validates its options", () => {
    expect(() => new LinqClient({ token: "" })).toThrow(ConfigurationError);
    expect(() => new LinqClient({ token: TOKEN, baseUrl: "not a url" })).toThrow(ConfigurationError);
    expect(() => new LinqClient({ token: TOKEN, baseUrl: "ftp://example.com" })).toThrow(ConfigurationError);
    expect(() => new LinqClient({ token: TOKEN, timeoutMs: 0 })).toThrow(ConfigurationError);
    expect(() => new LinqClient({ token: TOKEN, rateLimit: { requestsPerSecond: 0 } })).toThrow(
      ConfigurationError,
    );
  });
});

describe("requests", () => {
  it("builds URLs under a base path (with a trailing slash) and sends the auth and user-agent headers", async () => {
    const server = await serve((_request, response) =>
      sendJson(response, 200, { data: { id: 45, display_name: "A" } }),
    );
    const { client } = makeClient(`${server.baseUrl}/proxy/linq/`);
    const chat = await client.getChat(45);
    expect(chat).toEqual({ id: 45, display_name: "A" });
    const [request] = server.requests;
    expect(request?.method).toBe("GET");
    expect(request?.url).toBe("/proxy/linq/api/partner/v2/chats/45");
    expect(request?.headers["x-linq-integration-token"]).toBe(TOKEN);
    expect(request?.headers.accept).toBe("application/json");
    expect(request?.headers["user-agent"]).toMatch(/^linq-connect\/\S+ node\/\d+\.\d+\.\d+$/);
  });

  it("does not double the API prefix when the base URL already contains it, and honours a custom user agent", async () => {
    const server = await serve((_request, response) => sendJson(response, 200, { phone_numbers: [] }));
    const { client } = makeClient(`${server.baseUrl}/api/partner/v2`, { userAgent: "my-app/1.0" });
    await client.listPhoneNumbers();
    expect(server.requests[0]?.url).toBe("/api/partner/v2/phone_numbers");
    expect(server.requests[0]?.headers["user-agent"]).toBe("my-app/1.0");
  });

  it("explodes phone_numbers[] and percent-encodes + in queries", async () => {
    const server = await serve((_request, response) =>
      sendJson(response, 200, { data: { chat: { id: "9" } } }),
    );
    const { client } = makeClient(server.baseUrl);
    const chat = await client.findChat({
      phoneNumber: "+15550001111",
      phoneNumbers: ["+15551234567", "+15559876543"],
    });
    expect(chat).toEqual({ id: 9 });
    const url = server.requests[0]?.url ?? "";
    expect(url).toBe(
      "/api/partner/v2/chats/find?phone_number=%2B15550001111&phone_numbers[]=%2B15551234567&phone_numbers[]=%2B15559876543",
    );
    const query = new URL(url, "http://x").searchParams;
    expect(query.getAll("phone_numbers[]")).toEqual(["+15551234567", "+15559876543"]);
  });

  it("sends only the given list filters", async () => {
    const server = await serve((_request, response) =>
      sendJson(response, 200, {
        data: [{ id: "1" }],
        meta: { page: 2, per_page: 10, total_pages: 2, total_count: 11 },
      }),
    );
    const { client } = makeClient(server.baseUrl);
    const page = await client.listChatMessages("77", {
      page: 2,
      perPage: 10,
      after: "2025-01-01T00:00:00Z",
      sort: "desc",
    });
    expect(server.requests[0]?.url).toBe(
      "/api/partner/v2/chats/77/chat_messages?page=2&per_page=10&after=2025-01-01T00%3A00%3A00Z&sort=desc",
    );
    expect(page).toEqual({
      items: [{ id: 1 }],
      pagination: { page: 2, perPage: 10, totalPages: 2, totalCount: 11 },
    });
  });

  it("rejects invalid ids and queries before sending anything", async () => {
    const server = await serve((_request, response) => sendJson(response, 200, {}));
    const { client } = makeClient(server.baseUrl);
    await expect(client.getChat("../admin")).rejects.toBeInstanceOf(ValidationError);
    await expect(client.getChat(-1)).rejects.toBeInstanceOf(ValidationError);
    await expect(client.getChat(1.5)).rejects.toBeInstanceOf(ValidationError);
    await expect(client.listChats({ phoneNumber: "+15550001111", perPage: 101 })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(client.listChats({ phoneNumber: "" })).rejects.toBeInstanceOf(ValidationError);
    await expect(client.findContact({})).rejects.toBeInstanceOf(ValidationError);
    await expect(client.findChat({ phoneNumber: "+15550001111", phoneNumbers: [] })).rejects.toBeInstanceOf(
      ValidationError,
    );
    expect(server.requests).toHaveLength(0);
  });

  it("sends JSON bodies: contacts, webhook subscriptions (version 2 by default), phone numbers, reactions, edits", async () => {
    const server = await serve((request, response) => {
      if (request.url.endsWith("/contacts"))
        return sendJson(response, 201, { data: { id: "5", first_name: "Ann" } });
      if (request.url.endsWith("/webhook_subscriptions")) {
        return sendJson(response, 201, {
          webhook_subscription: { id: 3, webhook_url: "https://h.example/x" },
        });
      }
      if (request.url.includes("/phone_numbers/"))
        return sendJson(response, 200, { id: 99, forwarding_number: null });
      if (request.url.includes("/reactions"))
        return sendJson(response, 201, { data: { id: 8, reaction: "love" } });
      return sendJson(response, 200, { message: "Message edited", data: { id: 12, text: "fixed" } });
    });
    const { client } = makeClient(server.baseUrl);
    expect(
      await client.createContact({ contact: { first_name: "Ann" }, user_email: "owner@example.com" }),
    ).toEqual({
      id: 5,
      first_name: "Ann",
    });
    expect(
      await client.createWebhookSubscription({
        webhook_url: "https://h.example/x",
        events: ["message.received"],
      }),
    ).toEqual({ id: 3, webhook_url: "https://h.example/x" });
    expect(await client.updatePhoneNumber(99, { forwarding_number: "" })).toEqual({
      id: 99,
      forwarding_number: null,
    });
    expect(await client.reactToMessage(12, { type: "love", operation: "add" })).toEqual({
      id: 8,
      reaction: "love",
    });
    expect(await client.editMessage(7, 12, { text: "fixed" })).toEqual({ id: 12, text: "fixed" });

    const bodies = server.requests.map((request) => ({
      method: request.method,
      url: request.url,
      type: request.headers["content-type"],
      body: JSON.parse(request.body.toString()),
    }));
    expect(bodies).toEqual([
      {
        method: "POST",
        url: "/api/partner/v2/contacts",
        type: "application/json",
        body: { contact: { first_name: "Ann" }, user_email: "owner@example.com" },
      },
      {
        method: "POST",
        url: "/api/partner/v2/webhook_subscriptions",
        type: "application/json",
        body: {
          webhook_subscription: {
            webhook_url: "https://h.example/x",
            events: ["message.received"],
            version: 2,
          },
        },
      },
      {
        method: "PUT",
        url: "/api/partner/v2/phone_numbers/99",
        type: "application/json",
        body: { forwarding_number: "" },
      },
      {
        method: "POST",
        url: "/api/partner/v2/chat_messages/12/reactions",
        type: "application/json",
        body: { type: "love", operation: "add" },
      },
      {
        method: "POST",
        url: "/api/partner/v2/chats/7/chat_messages/12/edit",
        type: "application/json",
        body: { text: "fixed" },
      },
    ]);
  });

  it("resolves bodiless operations (204) to undefined", async () => {
    const server = await serve((_request, response) => {
      response.statusCode = 204;
      response.end();
    });
    const { client } = makeClient(server.baseUrl);
    await expect(client.markChatAsRead(1)).resolves.toBeUndefined();
    await expect(client.stopTypingIndicator(1)).resolves.toBeUndefined();
    await expect(client.deleteContact(1)).resolves.toBeUndefined();
    expect(server.requests.map((request) => `${request.method} ${request.url}`)).toEqual([
      "PUT /api/partner/v2/chats/1/mark_as_read",
      "DELETE /api/partner/v2/chats/1/stop_typing",
      "DELETE /api/partner/v2/contacts/1",
    ]);
  });

  it("raises UnexpectedResponseError for a 2xx body that is not JSON or not the documented shape", async () => {
    const server = await serve((request, response) => {
      if (request.url.endsWith("/45")) {
        response.writeHead(200, { "content-type": "text/html" });
        response.end("<html>maintenance</html>");
        return;
      }
      sendJson(response, 200, { unexpected: true });
    });
    const { client } = makeClient(server.baseUrl);
    await expect(client.getChat(45)).rejects.toBeInstanceOf(UnexpectedResponseError);
    await expect(client.listPhoneNumbers()).rejects.toBeInstanceOf(UnexpectedResponseError);
    expect(server.requests).toHaveLength(2);
  });
});

describe("sendMessage and createChat", () => {
  it("sends multipart with the documented fields, files from a Buffer, a Blob and a stream", async () => {
    const server = await serve((_request, response) => sendJson(response, 201, messageResponse(700)));
    const { client } = makeClient(server.baseUrl);
    const message = await client.sendMessage(31, {
      text: "See attached",
      attachments: [
        { data: Buffer.from("%PDF-1.4"), filename: "quote.pdf", contentType: "application/pdf" },
        { data: new Blob([new Uint8Array([137, 80, 78, 71])], { type: "image/png" }), filename: "logo.png" },
        { data: Readable.from([Buffer.from("line 1\n"), Buffer.from("line 2\n")]), filename: "notes.txt" },
      ],
      attachmentUrls: ["https://cdn.example.com/a.jpg"],
    });
    expect(message).toEqual({ id: 700, text: "hi", delivery_status: "pending" });

    const [request] = server.requests;
    expect(request?.method).toBe("POST");
    expect(request?.url).toBe("/api/partner/v2/chats/31/chat_messages");
    expect(request?.headers["content-type"]).toMatch(/^multipart\/form-data; boundary=/);
    const form = await parseMultipart(request!);
    expect(form.get("message[text]")).toBe("See attached");
    expect(form.get("message[idempotency_key]")).toMatch(UUID_PATTERN);
    expect(form.getAll("message[attachment_urls][]")).toEqual(["https://cdn.example.com/a.jpg"]);
    const files = form.getAll("message[attachments][]") as File[];
    expect(files.map((file) => [file.name, file.type, file.size])).toEqual([
      ["quote.pdf", "application/pdf", 8],
      ["logo.png", "image/png", 4],
      ["notes.txt", "application/octet-stream", 14],
    ]);
    expect(await files[2]?.text()).toBe("line 1\nline 2\n");
  });

  it("uses the caller's idempotency key (from the input or the options) and the injected generator", async () => {
    const server = await serve((_request, response) => sendJson(response, 200, messageResponse(1)));
    let counter = 0;
    const { client } = makeClient(server.baseUrl, { generateIdempotencyKey: () => `generated_${++counter}` });
    await client.sendMessage(1, { text: "a", idempotencyKey: "order-42_confirmation" });
    await client.sendMessage(1, { text: "b" }, { idempotencyKey: "from-options" });
    await client.sendMessage(1, { text: "c" });
    const keys = await Promise.all(
      server.requests.map(async (request) => (await parseMultipart(request)).get("message[idempotency_key]")),
    );
    expect(keys).toEqual(["order-42_confirmation", "from-options", "generated_1"]);
  });

  it("rejects an invalid caller idempotency key before sending", async () => {
    const server = await serve((_request, response) => sendJson(response, 201, messageResponse(1)));
    const { client } = makeClient(server.baseUrl);
    await expect(client.sendMessage(1, { text: "a", idempotencyKey: "has space" })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(client.sendMessage(1, { text: "a", idempotencyKey: "" })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(
      client.createChat({
        sendFrom: "+1555",
        phoneNumbers: ["+1556"],
        message: { text: "x" },
        idempotencyKey: "a/b",
      }),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(
      client.sendMessage(1, { text: "a", idempotencyKey: "one" }, { idempotencyKey: "two" }),
    ).rejects.toBeInstanceOf(ValidationError);
    const bad = makeClient(server.baseUrl, { generateIdempotencyKey: () => "not valid!" }).client;
    await expect(bad.sendMessage(1, { text: "a" })).rejects.toBeInstanceOf(ValidationError);
    expect(server.requests).toHaveLength(0);
  });

  it("refuses attachments over maxUploadBytes without sending", async () => {
    const server = await serve((_request, response) => sendJson(response, 201, messageResponse(1)));
    const { client } = makeClient(server.baseUrl, { maxUploadBytes: 10 });
    await expect(
      client.sendMessage(1, { text: "a", attachments: [{ data: Buffer.alloc(11), filename: "big.bin" }] }),
    ).rejects.toBeInstanceOf(ValidationError);
    expect(server.requests).toHaveLength(0);
  });

  it("creates a chat with the reference body and reads the quick-start response shape", async () => {
    const server = await serve((_request, response) =>
      sendJson(response, 200, {
        data: {
          chat: { id: 12345, display_name: "+1 (555) 123-4567", service: "iMessage", message_count: 1 },
          message: { id: 67890, text: "Hello!", delivery_status: "delivered" },
        },
      }),
    );
    const { client } = makeClient(server.baseUrl, { generateIdempotencyKey: () => "key-1" });
    const result = await client.createChat({
      sendFrom: "+19998887777",
      phoneNumbers: ["+15551234567"],
      displayName: "Deal",
      message: { text: "Hello!", attachmentUrls: ["https://cdn.example.com/a.jpg"] },
    });
    expect(result).toEqual({
      chat: { id: 12345, display_name: "+1 (555) 123-4567", service: "iMessage", message_count: 1 },
      message: { id: 67890, text: "Hello!", delivery_status: "delivered" },
    });
    expect(JSON.parse(server.requests[0]?.body.toString() ?? "")).toEqual({
      send_from: "+19998887777",
      chat: { phone_numbers: ["+15551234567"], display_name: "Deal" },
      message: {
        text: "Hello!",
        idempotency_key: "key-1",
        attachment_urls: ["https://cdn.example.com/a.jpg"],
      },
    });
  });
});

describe("retries", () => {
  it("retries a send on 503 with growing jittered back-off, reusing the same key and bytes", async () => {
    const server = await serve((_request, response, index) => {
      if (index < 2)
        return sendJson(response, 503, { errors: [{ status: 503, code: "unavailable", detail: "busy" }] });
      sendJson(response, 201, messageResponse(5));
    });
    const { client, delays, completed } = makeClient(server.baseUrl, { random: () => 0.5 });
    const message = await client.sendMessage(9, { text: "once only" });
    expect(message.id).toBe(5);
    expect(server.requests).toHaveLength(3);
    expect(delays).toEqual([250, 500]); // 0.5 * 500, 0.5 * 1000
    const bodies = server.requests.map((request) => request.body.toString("latin1"));
    expect(new Set(bodies).size).toBe(1);
    const keys = await Promise.all(
      server.requests.map(async (request) => (await parseMultipart(request)).get("message[idempotency_key]")),
    );
    expect(new Set(keys).size).toBe(1);
    expect(completed.map((info) => [info.attempt, info.status, info.error?.constructor.name])).toEqual([
      [1, 503, "ServerError"],
      [2, 503, "ServerError"],
      [3, 201, undefined],
    ]);
    expect(completed[0]).toMatchObject({
      operation: "sendMessage",
      method: "POST",
      path: "/api/partner/v2/chats/{chat_id}/chat_messages",
    });
  });

  it("honours Retry-After in seconds", async () => {
    const server = await serve((_request, response, index) => {
      if (index === 0)
        return sendJson(response, 429, { errors: [{ code: "rate_limited" }] }, { "retry-after": "3" });
      sendJson(response, 200, { data: { id: 1 } });
    });
    const { client, delays } = makeClient(server.baseUrl);
    await client.getChat(1);
    expect(delays).toEqual([3_000]);
  });

  it("honours Retry-After as an HTTP date against the injected clock", async () => {
    const now = Date.parse("2025-06-01T10:00:00Z");
    const server = await serve((_request, response, index) => {
      if (index === 0) {
        return sendJson(response, 503, {}, { "retry-after": new Date(now + 5_000).toUTCString() });
      }
      sendJson(response, 200, { data: { id: 1 } });
    });
    const { client, delays } = makeClient(server.baseUrl, { now: () => now });
    await client.getChat(1);
    expect(delays).toEqual([5_000]);
  });

  it("gives up with RateLimitError carrying retryAfter when Retry-After exceeds the cap", async () => {
    const server = await serve((_request, response) => sendJson(response, 429, {}, { "retry-after": "120" }));
    const { client, delays } = makeClient(server.baseUrl);
    const error = await client.getChat(1).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).retryAfter).toBe(120);
    expect(server.requests).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it("throws the last error after maxRetries", async () => {
    const server = await serve((_request, response) => sendJson(response, 502, "bad gateway"));
    const { client, delays } = makeClient(server.baseUrl, { retry: { maxRetries: 2, initialDelayMs: 100 } });
    await expect(client.listPhoneNumbers()).rejects.toBeInstanceOf(ServerError);
    expect(server.requests).toHaveLength(3);
    expect(delays).toEqual([50, 100]);
  });

  it("does not retry non-idempotent POSTs on 5xx", async () => {
    const server = await serve((_request, response) =>
      sendJson(response, 500, { errors: [{ detail: "boom" }] }),
    );
    const { client } = makeClient(server.baseUrl);
    await expect(client.reactToMessage(1, { type: "like", operation: "add" })).rejects.toBeInstanceOf(
      ServerError,
    );
    await expect(client.createContact({ contact: { first_name: "A" } })).rejects.toBeInstanceOf(ServerError);
    await expect(client.startTypingIndicator(1)).rejects.toBeInstanceOf(ServerError);
    await expect(client.shareContactCard(1)).rejects.toBeInstanceOf(ServerError);
    await expect(
      client.createWebhookSubscription({ webhook_url: "https://x.example", events: ["message.sent"] }),
    ).rejects.toBeInstanceOf(ServerError);
    expect(server.requests).toHaveLength(5);
  });

  it("retries non-idempotent POSTs on 429", async () => {
    const server = await serve((_request, response, index) => {
      if (index === 0) return sendJson(response, 429, {}, { "retry-after": "0" });
      response.statusCode = 201;
      response.end();
    });
    const { client, delays } = makeClient(server.baseUrl);
    await client.startTypingIndicator(4);
    expect(server.requests).toHaveLength(2);
    expect(delays).toEqual([0]);
  });

  it("does not retry 4xx errors", async () => {
    const server = await serve((_request, response) =>
      sendJson(response, 404, { errors: [{ status: 404, code: "not_found", detail: "Chat not found" }] }),
    );
    const { client } = makeClient(server.baseUrl);
    const error = await client.getChat(404).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).message).toBe(
      "Linq getChat failed with HTTP 404 Not Found: Chat not found [not_found]",
    );
    expect(server.requests).toHaveLength(1);
  });

  it("retries even an unsafe POST when the connection was refused (never sent)", async () => {
    const port = await closedPort();
    const { client, delays, completed } = makeClient(`http://127.0.0.1:${port}`);
    const error = await client
      .createContact({ contact: { first_name: "A" } })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).message).toContain("ECONNREFUSED");
    expect(completed).toHaveLength(4);
    expect(delays).toHaveLength(3);
  });

  it("retries a reset connection for an idempotent request but not for an unsafe POST", async () => {
    const server = await serve((request, response, index) => {
      if (request.method === "POST" || index === 0) {
        response.socket?.destroy();
        return;
      }
      sendJson(response, 200, { data: { id: 1 } });
    });
    const { client } = makeClient(server.baseUrl);
    await expect(client.getChat(1)).resolves.toEqual({ id: 1 });
    expect(server.requests).toHaveLength(2);
    await expect(client.shareContactCard(1)).rejects.toBeInstanceOf(NetworkError);
    expect(server.requests).toHaveLength(3);
  });
});

describe("timeouts and aborts", () => {
  it("turns a hung response into TimeoutError, retrying only repeatable requests", async () => {
    const server = await serve(() => {
      // Never answers.
    });
    const { client } = makeClient(server.baseUrl, {
      timeoutMs: 40,
      retry: { maxRetries: 1, initialDelayMs: 1 },
    });
    const error = await client.getChat(1).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).message).toBe("Linq getChat got no complete response within 40 ms");
    expect(server.requests).toHaveLength(2);
    await expect(client.startTypingIndicator(1, { timeoutMs: 30 })).rejects.toBeInstanceOf(TimeoutError);
    expect(server.requests).toHaveLength(3);
  });

  it("times out a body that stops half-way", async () => {
    const server = await serve((_request, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.write('{"data": {"id": ');
    });
    const { client } = makeClient(server.baseUrl, { timeoutMs: 40, retry: false });
    await expect(client.getChat(1)).rejects.toBeInstanceOf(TimeoutError);
  });

  it("aborts an in-flight request with AbortError, without retrying", async () => {
    const server = await serve(() => {
      // Never answers.
    });
    const { client, completed } = makeClient(server.baseUrl);
    const controller = new AbortController();
    const pending = client.getChat(1, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toBeInstanceOf(AbortError);
    expect(server.requests).toHaveLength(1);
    expect(completed.map((info) => info.error?.code)).toEqual(["aborted"]);
  });

  it("aborts during a back-off sleep", async () => {
    const server = await serve((_request, response) => sendJson(response, 503, {}));
    const controller = new AbortController();
    const client = new LinqClient({
      token: TOKEN,
      baseUrl: server.baseUrl,
      rateLimit: false,
      retry: { initialDelayMs: 60_000 },
      random: () => 1,
      onRequestComplete: () => setTimeout(() => controller.abort(), 10),
    });
    cleanups.push(() => client.close());
    const started = Date.now();
    await expect(client.getChat(1, { signal: controller.signal })).rejects.toBeInstanceOf(AbortError);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(server.requests).toHaveLength(1);
  });

  it("does nothing for an already aborted signal", async () => {
    const server = await serve((_request, response) => sendJson(response, 200, {}));
    const { client } = makeClient(server.baseUrl);
    await expect(client.getChat(1, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
    await expect(
      client.sendMessage(1, { text: "x" }, { signal: AbortSignal.abort() }),
    ).rejects.toBeInstanceOf(AbortError);
    expect(server.requests).toHaveLength(0);
  });
});

describe("rate limiting", () => {
  function fakeClock() {
    const clock = { time: 0, sleeps: [] as number[] };
    return {
      clock,
      now: () => clock.time,
      sleep: async (ms: number) => {
        clock.sleeps.push(ms);
        clock.time += ms;
      },
    };
  }

  it("spaces requests through the client token bucket", async () => {
    const server = await serve((_request, response) => sendJson(response, 200, { phone_numbers: [] }));
    const { clock, now, sleep } = fakeClock();
    const { client } = makeClient(server.baseUrl, {
      rateLimit: { requestsPerSecond: 2, burst: 1 },
      now,
      sleep,
    });
    await client.listPhoneNumbers();
    await client.listPhoneNumbers();
    await client.listPhoneNumbers();
    expect(clock.sleeps).toEqual([500, 500]);
    expect(server.requests).toHaveLength(3);
  });

  it("makes iMessage availability checks wait 10 s for their turn instead of hitting 429", async () => {
    const server = await serve((request, response) => {
      if (request.method !== "POST") return sendJson(response, 200, { data: { id: 1 } });
      const { phone_number: phoneNumber } = JSON.parse(request.body.toString()) as { phone_number: string };
      sendJson(response, 200, { available: phoneNumber.endsWith("1"), phone_number: phoneNumber });
    });
    const { clock, now, sleep } = fakeClock();
    const { client } = makeClient(server.baseUrl, { iMessageAvailabilityIntervalMs: 10_000, now, sleep });
    expect(await client.checkIMessageAvailability("+15550000001")).toEqual({
      available: true,
      phone_number: "+15550000001",
    });
    expect(await client.checkIMessageAvailability("+15550000002")).toEqual({
      available: false,
      phone_number: "+15550000002",
    });
    await client.getChat(1); // other operations are not spaced
    expect(clock.sleeps).toEqual([10_000]);
    expect(server.requests[0]?.url).toBe("/api/partner/v2/i_message_availability/check");
  });

  it("lets a caller abort the wait for an iMessage check", async () => {
    const server = await serve((_request, response) =>
      sendJson(response, 200, { available: true, phone_number: "x" }),
    );
    const client = new LinqClient({ token: TOKEN, baseUrl: server.baseUrl });
    cleanups.push(() => client.close());
    await client.checkIMessageAvailability("+15550000001");
    const controller = new AbortController();
    const waiting = client.checkIMessageAvailability("+15550000002", { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(waiting).rejects.toBeInstanceOf(AbortError);
    expect(server.requests).toHaveLength(1);
  });
});

describe("secrets", () => {
  it("never puts the token in error messages, JSON or inspection output", async () => {
    const server = await serve((_request, response) =>
      sendJson(response, 401, { errors: [{ code: "unauthorized", detail: `Token ${TOKEN} is invalid` }] }),
    );
    const { client } = makeClient(server.baseUrl);
    const error = await client.getChat(1).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AuthenticationError);
    const authenticationError = error as AuthenticationError;
    expect(authenticationError.message).not.toContain(TOKEN);
    expect(authenticationError.stack ?? "").not.toContain(TOKEN);
    expect(JSON.stringify(authenticationError)).not.toContain(TOKEN);
    expect(JSON.stringify(authenticationError.body)).not.toContain(TOKEN);
    expect(inspect(client, { depth: 5 })).not.toContain(TOKEN);

    const port = await closedPort();
    const offline = makeClient(`http://127.0.0.1:${port}`, { retry: false }).client;
    const networkError = (await offline.getChat(1).then(
      () => undefined,
      (caught: unknown) => caught,
    )) as NetworkError;
    expect(networkError).toBeInstanceOf(NetworkError);
    expect(`${networkError.message} ${JSON.stringify(networkError)}`).not.toContain(TOKEN);
  });
});

describe("pagination", () => {
  it("iterates chats and messages over every page (data/meta)", async () => {
    const server = await serve((request, response) => {
      const url = new URL(request.url, "http://x");
      const page = Number(url.searchParams.get("page"));
      sendJson(response, 200, {
        data: [{ id: page * 10 + 1 }, { id: page * 10 + 2 }].slice(0, page === 3 ? 1 : 2),
        meta: { page, per_page: 2, total_pages: 3, total_count: 5 },
      });
    });
    const { client } = makeClient(server.baseUrl);
    const chats = [];
    for await (const chat of client.iterateChats({ phoneNumber: "+15550001111", perPage: 2 }))
      chats.push(chat.id);
    expect(chats).toEqual([11, 12, 21, 22, 31]);
    expect(server.requests.map((request) => request.url)).toEqual([
      "/api/partner/v2/chats?phone_number=%2B15550001111&page=1&per_page=2",
      "/api/partner/v2/chats?phone_number=%2B15550001111&page=2&per_page=2",
      "/api/partner/v2/chats?phone_number=%2B15550001111&page=3&per_page=2",
    ]);
    const messages = [];
    for await (const message of client.iterateChatMessages(5, { sort: "desc" })) messages.push(message.id);
    expect(messages).toEqual([11, 12, 21, 22, 31]);
  });

  it("iterates contacts (contacts/pagination) and stops on an empty page", async () => {
    const server = await serve((request, response) => {
      const page = Number(new URL(request.url, "http://x").searchParams.get("page"));
      sendJson(response, 200, {
        contacts: page === 1 ? [{ id: 1 }, { id: 2 }] : [],
        pagination: { current_page: page, per_page: 2, total_pages: 99, total_count: 198 },
      });
    });
    const { client } = makeClient(server.baseUrl);
    const ids = [];
    for await (const contact of client.iterateContacts({ perPage: 2 })) ids.push(contact.id);
    expect(ids).toEqual([1, 2]);
    expect(server.requests).toHaveLength(2);
  });
});

describe("transport ownership", () => {
  it("closes its own dispatcher and refuses calls afterwards", async () => {
    const server = await serve((_request, response) => sendJson(response, 200, { phone_numbers: [] }));
    const client = new LinqClient({ token: TOKEN, baseUrl: server.baseUrl });
    await client.listPhoneNumbers();
    await client.close();
    await client.close();
    await expect(client.listPhoneNumbers()).rejects.toBeInstanceOf(ConfigurationError);
  });

  it("leaves an injected dispatcher open", async () => {
    const server = await serve((_request, response) => sendJson(response, 200, { phone_numbers: [] }));
    const agent = new Agent();
    cleanups.push(() => agent.close());
    const client = new LinqClient({ token: TOKEN, baseUrl: server.baseUrl, dispatcher: agent });
    await client.listPhoneNumbers();
    await client.close();
    expect(agent.closed).toBe(false);
  });

  it("works over an injected undici MockAgent", async () => {
    const mockAgent = new MockAgent();
    mockAgent.disableNetConnect();
    cleanups.push(() => mockAgent.close());
    const pool = mockAgent.get("https://api.linqapp.com");
    pool
      .intercept({
        path: "/api/partner/v2/webhook_subscriptions",
        method: "GET",
        headers: { "x-linq-integration-token": TOKEN },
      })
      .reply(200, { webhook_subscriptions: [{ id: "3", version: "2", events: ["message.sent"] }] });
    pool
      .intercept({ path: "/api/partner/v2/contacts/find?email=a%40b.c", method: "GET" })
      .reply(200, { contact: null });
    const client = new LinqClient({ token: TOKEN, dispatcher: mockAgent, rateLimit: false });
    expect(await client.listWebhookSubscriptions()).toEqual([
      { id: 3, version: 2, events: ["message.sent"] },
    ]);
    expect(await client.findContact({ email: "a@b.c" })).toBeNull();
    mockAgent.assertNoPendingInterceptors();
  });

  it("ignores a metrics hook that throws", async () => {
    const server = await serve((_request, response) =>
      sendJson(response, 200, { phone_numbers: [{ id: 1 }] }),
    );
    const { client } = makeClient(server.baseUrl, {
      onRequestComplete: () => {
        throw new Error("metrics down");
      },
    });
    await expect(client.listPhoneNumbers()).resolves.toEqual([{ id: 1 }]);
  });
});
