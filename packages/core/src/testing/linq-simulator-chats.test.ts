import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ConfigurationError } from "../errors.ts";
import { callApi, createChat } from "./linq-simulator.test-helpers.ts";
import { startLinqSimulator } from "./linq-simulator.ts";
import type { LinqSimulator } from "./simulator-types.ts";

const LINQ_NUMBER = "+15550001111";

describe("Linq simulator: server, authentication and chats", () => {
  let simulator: LinqSimulator;

  beforeAll(async () => {
    simulator = await startLinqSimulator({
      phoneNumbers: [LINQ_NUMBER, "+15550002222"],
      handles: { "+15553330000": "SMS" },
    });
  });
  afterAll(async () => {
    await simulator.close();
  });
  afterEach(() => {
    simulator.reset();
  });

  it("listens on 127.0.0.1 with an ephemeral port and exposes the default token", () => {
    expect(simulator.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(simulator.token).toBe("linq-simulator-token");
  });

  it("answers 401 in the Error format for a wrong or missing token, with an x-request-id", async () => {
    for (const token of ["wrong-token", null]) {
      const response = await callApi(
        simulator,
        "GET",
        `/chats?phone_number=${encodeURIComponent(LINQ_NUMBER)}`,
        { token },
      );
      expect(response.status).toBe(401);
      expect(response.body).toEqual({
        errors: [
          {
            status: 401,
            code: "unauthorized",
            title: "Unauthorized",
            detail: "Invalid or missing authentication token",
          },
        ],
      });
      expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    }
    // Contacts use the StandardError format for their own errors, but a 401 is always the Error format.
    const contacts = await callApi(simulator, "GET", "/contacts", { token: "wrong" });
    expect(contacts.status).toBe(401);
    expect(contacts.body.errors[0].code).toBe("unauthorized");
  });

  it("answers 404 in the Error format for an unknown route", async () => {
    const response = await callApi(simulator, "GET", "/unknown");
    expect(response.status).toBe(404);
    expect(response.body.errors[0]).toMatchObject({ status: 404, code: "not_found" });
  });

  it("records every request with method, path, query, status, idempotency key and time", async () => {
    await createChat(simulator, "+15551234567", "Hi", { idempotency_key: "record-me" });
    await callApi(simulator, "GET", "/chats?phone_number=%2B15550001111&page=1");
    expect(simulator.requests).toHaveLength(2);
    const [create, list] = simulator.requests;
    expect(create).toMatchObject({
      method: "POST",
      path: "/api/partner/v2/chats",
      status: 200,
      idempotencyKey: "record-me",
    });
    expect(create?.body).toMatchObject({ send_from: LINQ_NUMBER });
    expect(list).toMatchObject({
      method: "GET",
      query: { phone_number: "+15550001111", page: "1" },
      status: 200,
    });
    expect(Date.parse(list?.at ?? "")).not.toBeNaN();
  });

  describe("create chat", () => {
    it("creates a chat with the initial message (200, reference shape)", async () => {
      const response = await callApi(simulator, "POST", "/chats", {
        body: {
          send_from: LINQ_NUMBER,
          chat: { display_name: "Sample Chat", phone_numbers: ["3343284472"] },
          message: { text: "Hello! This is a sample message.", idempotency_key: "msg-2024_01-23_abc123" },
        },
      });
      expect(response.status).toBe(200);
      const data = response.body.data;
      expect(data).toMatchObject({
        display_name: "Sample Chat",
        service: "iMessage",
        group: false,
        message_count: 1,
      });
      expect(Number.isInteger(data.id)).toBe(true);
      expect(data.chat_handles.map((handle: { phone_number: string }) => handle.phone_number)).toEqual([
        "+13343284472",
        LINQ_NUMBER,
      ]);
      expect(data.chat_handles[0]).toMatchObject({ service: "iMessage" });
      expect(Number.isInteger(data.chat_handles[0].id)).toBe(true);
      expect(Date.parse(data.chat_handles[0].joined_at)).not.toBeNaN();
      expect(data.chat_messages).toMatchObject({
        text: "Hello! This is a sample message.",
        delivery_status: "delivered",
        is_read: false,
        attachments: [],
      });
      expect(simulator.state.messages(data.id)).toHaveLength(1);
    });

    it("is find-or-create: the same participants return the same chat and do not send the initial message again", async () => {
      const first = await createChat(simulator, "+15551234567", "first");
      const second = await callApi(simulator, "POST", "/chats", {
        body: {
          send_from: LINQ_NUMBER,
          chat: { phone_numbers: ["+1 555 123 4567".replace(/ /g, "")] },
          message: { text: "second" },
        },
      });
      expect(second.status).toBe(200);
      expect(second.body.data.id).toBe(first.id);
      expect(second.body.data.chat_messages).toBeNull();
      expect(second.body.data.message_count).toBe(1);
      expect(simulator.state.messages(first.id).map((message) => message.text)).toEqual(["first"]);
      expect(simulator.state.chats()).toHaveLength(1);
    });

    it("returns the message of a retried create with the same idempotency key", async () => {
      const first = await createChat(simulator, "+15551234567", "first", { idempotency_key: "create-1" });
      const retry = await callApi(simulator, "POST", "/chats", {
        body: {
          send_from: LINQ_NUMBER,
          chat: { phone_numbers: ["+15551234567"] },
          message: { text: "first", idempotency_key: "create-1" },
        },
      });
      expect(retry.body.data.chat_messages!.id).toBe(first.chat_messages!.id);
      expect(simulator.state.messages(first.id)).toHaveLength(1);
    });

    it("creates a group chat for several participants, ignoring our own number in phone_numbers", async () => {
      const response = await callApi(simulator, "POST", "/chats", {
        body: {
          send_from: LINQ_NUMBER,
          chat: { phone_numbers: ["+15551234567", "+15559876543", LINQ_NUMBER] },
          message: { text: "group" },
        },
      });
      expect(response.body.data.group).toBe(true);
      expect(response.body.data.chat_handles).toHaveLength(3);
    });

    it("uses the service configured for a participant (SMS-only number)", async () => {
      const chat = await createChat(simulator, "+15553330000", "sms");
      expect(chat.service).toBe("SMS");
      expect(chat.chat_handles[0]?.service).toBe("SMS");
    });

    it("accepts the quick-start body and answers with the quick-start shape", async () => {
      const response = await callApi(simulator, "POST", "/chats", {
        body: {
          phone_numbers: ["+15551234567"],
          message: { text: "Hello from the quick start" },
          phone_number: LINQ_NUMBER,
        },
      });
      expect(response.status).toBe(200);
      expect(response.body.data.chat).toMatchObject({ service: "iMessage", group: false, message_count: 1 });
      expect(response.body.data.message).toMatchObject({
        text: "Hello from the quick start",
        delivery_status: "delivered",
      });
    });

    it("answers 403 when send_from is not one of the organisation's numbers", async () => {
      const response = await callApi(simulator, "POST", "/chats", {
        body: {
          send_from: "+15557770000",
          chat: { phone_numbers: ["+15551234567"] },
          message: { text: "x" },
        },
      });
      expect(response.status).toBe(403);
      expect(response.body.errors[0]).toMatchObject({ status: 403, code: "forbidden" });
    });

    it("answers 400 missing_phone when send_from is missing", async () => {
      const response = await callApi(simulator, "POST", "/chats", {
        body: { chat: { phone_numbers: ["+15551234567"] }, message: { text: "x" } },
      });
      expect(response.status).toBe(400);
      expect(response.body).toEqual({
        errors: [
          {
            status: 400,
            code: "missing_phone",
            title: "Missing Phone",
            detail: "Missing required parameter: send_from",
          },
        ],
      });
    });

    it("answers 422 for an empty phone list, a bad idempotency key, an unknown property or a badly formatted number", async () => {
      const cases: [unknown, RegExp][] = [
        [
          { send_from: LINQ_NUMBER, chat: { phone_numbers: [] }, message: { text: "x" } },
          /fewer than 1 items/,
        ],
        [
          {
            send_from: LINQ_NUMBER,
            chat: { phone_numbers: ["+15551234567"] },
            message: { text: "x", idempotency_key: "not ok!" },
          },
          /idempotency_key must be alphanumeric/,
        ],
        [
          {
            send_from: LINQ_NUMBER,
            chat: { phone_numbers: ["+15551234567"] },
            message: { text: "x" },
            surprise: 1,
          },
          /Unknown parameter: surprise/,
        ],
        [
          { send_from: LINQ_NUMBER, chat: { phone_numbers: ["555-123-4567"] }, message: { text: "x" } },
          /Invalid phone number/,
        ],
      ];
      for (const [body, detail] of cases) {
        const response = await callApi(simulator, "POST", "/chats", { body });
        expect(response.status).toBe(422);
        expect(response.body.errors[0]).toMatchObject({
          status: 422,
          code: "invalid_params",
          title: "Invalid Params",
        });
        expect(response.body.errors.map((error: { detail: string }) => error.detail).join("\n")).toMatch(
          detail,
        );
      }
      expect(simulator.state.chats()).toHaveLength(0);
    });

    it("answers 400 for a body that is not JSON", async () => {
      const response = await callApi(simulator, "POST", "/chats", {
        body: "{not json",
        headers: { "content-type": "application/json" },
      });
      expect(response.status).toBe(400);
      expect(response.body.errors[0].code).toBe("bad_request");
    });
  });

  describe("list, get and find chats", () => {
    it("lists chats involving a number with data/meta pagination (newest first)", async () => {
      for (let index = 0; index < 3; index += 1) await createChat(simulator, `+1555123456${index}`);
      const page1 = await callApi(
        simulator,
        "GET",
        `/chats?phone_number=${encodeURIComponent(LINQ_NUMBER)}&per_page=2`,
      );
      expect(page1.status).toBe(200);
      expect(page1.body.meta).toEqual({ page: 1, total_pages: 2, total_count: 3, per_page: 2 });
      expect(page1.body.data).toHaveLength(2);
      expect(page1.body.data[0].id).toBeGreaterThan(page1.body.data[1].id);
      expect(page1.body.data[0]).toHaveProperty("message_count", 1);
      const page2 = await callApi(simulator, "GET", `/chats?phone_number=15550001111&per_page=2&page=2`);
      expect(page2.body.data).toHaveLength(1);
      const byParticipant = await callApi(simulator, "GET", "/chats?phone_number=5551234561");
      expect(byParticipant.body.meta.total_count).toBe(1);
    });

    it("requires phone_number (400) and rejects per_page above 100 (422)", async () => {
      const missing = await callApi(simulator, "GET", "/chats");
      expect(missing.status).toBe(400);
      expect(missing.body.errors[0].detail).toBe("Missing required parameter: phone_number");
      const tooMany = await callApi(
        simulator,
        "GET",
        `/chats?phone_number=${encodeURIComponent(LINQ_NUMBER)}&per_page=101`,
      );
      expect(tooMany.status).toBe(422);
      expect(tooMany.body.errors[0].detail).toMatch(/per_page must be less than or equal to 100/);
    });

    it("gets a chat by id and answers 404 for an unknown one", async () => {
      const chat = await createChat(simulator);
      const found = await callApi(simulator, "GET", `/chats/${chat.id}`);
      expect(found.status).toBe(200);
      expect(found.body.data).toEqual(simulator.state.chat(chat.id));
      const missing = await callApi(simulator, "GET", "/chats/999999");
      expect(missing.status).toBe(404);
      expect(missing.body.errors[0]).toMatchObject({
        status: 404,
        code: "not_found",
        detail: "Chat not found",
      });
    });

    it("finds a chat by our number and participants, or answers chat null with no messages", async () => {
      const chat = await createChat(simulator, "+15551234567");
      const found = await callApi(
        simulator,
        "GET",
        `/chats/find?phone_number=${encodeURIComponent(LINQ_NUMBER)}&phone_numbers[]=5551234567`,
      );
      expect(found.status).toBe(200);
      expect(found.body.data.chat.id).toBe(chat.id);
      const other = await callApi(
        simulator,
        "GET",
        `/chats/find?phone_number=15550002222&phone_numbers[]=5551234567`,
      );
      expect(other.body).toEqual({ data: { chat: null, messages: [] } });
      const missing = await callApi(simulator, "GET", `/chats/find?phone_number=15550001111`);
      expect(missing.status).toBe(400);
      expect(missing.body.errors[0].detail).toBe("Missing required parameter: phone_numbers[]");
    });
  });

  describe("read, typing and contact card", () => {
    it("marks received messages read (204, no body)", async () => {
      const { chat, message } = await simulator.inbound.text({ from: "+15551234567", text: "hi" });
      expect(message.is_read).toBe(false);
      const response = await callApi(simulator, "PUT", `/chats/${chat.id}/mark_as_read`);
      expect(response.status).toBe(204);
      expect(response.body).toBeNull();
      expect(simulator.state.message(message.id)?.is_read).toBe(true);
      expect((await callApi(simulator, "PUT", "/chats/1/mark_as_read")).status).toBe(404);
    });

    it("starts (201) and stops (204) our typing indicator; sending a message ends it", async () => {
      const chat = await createChat(simulator);
      expect((await callApi(simulator, "POST", `/chats/${chat.id}/start_typing`)).status).toBe(201);
      expect(simulator.state.typing(chat.id)).toEqual({ me: true, participants: [] });
      expect((await callApi(simulator, "DELETE", `/chats/${chat.id}/stop_typing`)).status).toBe(204);
      expect(simulator.state.typing(chat.id)?.me).toBe(false);
      await callApi(simulator, "POST", `/chats/${chat.id}/start_typing`);
      await callApi(simulator, "POST", `/chats/${chat.id}/chat_messages`, { body: { text: "done typing" } });
      expect(simulator.state.typing(chat.id)?.me).toBe(false);
      expect((await callApi(simulator, "POST", "/chats/42/start_typing")).status).toBe(404);
      expect((await callApi(simulator, "DELETE", "/chats/42/stop_typing")).status).toBe(404);
    });

    it("expires our typing indicator after 60 s of the simulator clock", async () => {
      let now = new Date("2025-05-21T15:30:00Z");
      const clocked = await startLinqSimulator({ now: () => now });
      try {
        const chat = await createChat(clocked);
        await callApi(clocked, "POST", `/chats/${chat.id}/start_typing`);
        expect(clocked.state.typing(chat.id)?.me).toBe(true);
        now = new Date(now.getTime() + 60_001);
        expect(clocked.state.typing(chat.id)?.me).toBe(false);
      } finally {
        await clocked.close();
      }
    });

    it("shares the contact card (201)", async () => {
      const chat = await createChat(simulator);
      const response = await callApi(simulator, "POST", `/chats/${chat.id}/share_contact`);
      expect(response.status).toBe(201);
      expect(simulator.state.sharedContactCards(chat.id)).toBe(1);
      expect((await callApi(simulator, "POST", "/chats/42/share_contact")).status).toBe(404);
    });
  });

  describe("options and lifecycle", () => {
    it("rejects invalid options with ConfigurationError", async () => {
      await expect(startLinqSimulator({ phoneNumbers: ["not a number"] })).rejects.toBeInstanceOf(
        ConfigurationError,
      );
      await expect(startLinqSimulator({ token: "" })).rejects.toBeInstanceOf(ConfigurationError);
      await expect(startLinqSimulator({ rateLimit: { requestsPerSecond: 0 } })).rejects.toBeInstanceOf(
        ConfigurationError,
      );
    });

    it("uses a custom token and the injected clock for timestamps", async () => {
      const fixed = new Date("2025-05-21T15:30:00.000Z");
      const custom = await startLinqSimulator({ token: "secret-token", now: () => fixed });
      try {
        expect(
          (await callApi(custom, "GET", "/phone_numbers", { token: "linq-simulator-token" })).status,
        ).toBe(401);
        const chat = await createChat(custom);
        expect(chat.chat_messages!.sent_at).toBe("2025-05-21T15:30:00.000Z");
      } finally {
        await custom.close();
      }
    });

    it("reset() clears the state but keeps the numbers and the token", async () => {
      await createChat(simulator);
      simulator.reset();
      expect(simulator.state.chats()).toEqual([]);
      expect(simulator.requests).toEqual([]);
      expect(simulator.state.phoneNumbers().map((number) => number.phone_number)).toEqual([
        LINQ_NUMBER,
        "+15550002222",
      ]);
      expect((await callApi(simulator, "GET", "/phone_numbers")).status).toBe(200);
    });

    it("close() is idempotent and stops the server", async () => {
      const temporary = await startLinqSimulator();
      const url = temporary.baseUrl;
      await temporary.close();
      await temporary.close();
      await expect(fetch(`${url}/api/partner/v2/phone_numbers`)).rejects.toThrow();
    });
  });
});
