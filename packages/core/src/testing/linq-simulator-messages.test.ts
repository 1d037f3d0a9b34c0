import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { callApi, createChat } from "./linq-simulator.test-helpers.ts";
import { startLinqSimulator } from "./linq-simulator.ts";
import type { LinqSimulator } from "./simulator-types.ts";

describe("Linq simulator: chat messages and reactions", () => {
  let simulator: LinqSimulator;
  let chatId: number;

  beforeAll(async () => {
    simulator = await startLinqSimulator({ maxUploadBytes: 64 * 1024 });
  });
  afterAll(async () => {
    await simulator.close();
  });
  afterEach(() => {
    simulator.reset();
  });

  async function newChat(): Promise<number> {
    chatId = (await createChat(simulator, "+15551234567", "opening")).id;
    return chatId;
  }

  describe("send message", () => {
    it("sends a multipart message (201) with the documented fields", async () => {
      await newChat();
      const form = new FormData();
      form.append("message[text]", "Hello over multipart");
      form.append("message[idempotency_key]", "multipart-1");
      const response = await callApi(simulator, "POST", `/chats/${chatId}/chat_messages`, { body: form });
      expect(response.status).toBe(201);
      expect(response.body.data).toMatchObject({
        text: "Hello over multipart",
        delivery_status: "delivered",
        edited_at: null,
        is_read: false,
        sent_from: "+15550001111",
        attachments: [],
        reactions: [],
      });
      expect(simulator.state.chat(chatId)?.message_count).toBe(2);
      expect(simulator.requests.at(-1)?.idempotencyKey).toBe("multipart-1");
    });

    it("is idempotent: the same key in the same chat answers 200 with the existing message", async () => {
      await newChat();
      const send = () => {
        const form = new FormData();
        form.append("message[text]", "only once");
        form.append("message[idempotency_key]", "retry-me_1");
        return callApi(simulator, "POST", `/chats/${chatId}/chat_messages`, { body: form });
      };
      const first = await send();
      const second = await send();
      expect(first.status).toBe(201);
      expect(second.status).toBe(200);
      expect(second.body.data.id).toBe(first.body.data.id);
      expect(simulator.state.messages(chatId).filter((message) => message.text === "only once")).toHaveLength(
        1,
      );
    });

    it("stores uploaded files and serves them back at /files/<uuid>", async () => {
      await newChat();
      const bytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4]);
      const form = new FormData();
      form.append("message[text]", "a picture");
      form.append("message[attachments][]", new Blob([bytes], { type: "image/png" }), "picture.png");
      form.append("message[attachment_urls][]", "https://example.com/files/document.pdf");
      const response = await callApi(simulator, "POST", `/chats/${chatId}/chat_messages`, { body: form });
      expect(response.status).toBe(201);
      const [upload, linked] = response.body.data.attachments;
      expect(upload).toMatchObject({
        filename: "picture.png",
        mime_type: "image/png",
        file_size: bytes.byteLength,
      });
      expect(upload.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(upload.url).toBe(`${simulator.baseUrl}/files/${upload.id}`);
      expect(linked).toMatchObject({
        url: "https://example.com/files/document.pdf",
        filename: "document.pdf",
        mime_type: "application/pdf",
      });
      const file = await fetch(upload.url);
      expect(file.status).toBe(200);
      expect(file.headers.get("content-type")).toBe("image/png");
      expect(new Uint8Array(await file.arrayBuffer())).toEqual(bytes);
      expect(simulator.requests.at(-2)?.body).toMatchObject({
        "message[attachments][]": [{ filename: "picture.png", mime_type: "image/png", file_size: 8 }],
      });
      expect((await fetch(`${simulator.baseUrl}/files/00000000-0000-0000-0000-000000000000`)).status).toBe(
        404,
      );
    });

    it("answers 413 for a body over the upload limit", async () => {
      await newChat();
      const form = new FormData();
      form.append("message[text]", "too big");
      form.append("message[attachments][]", new Blob([new Uint8Array(128 * 1024)]), "big.bin");
      const response = await callApi(simulator, "POST", `/chats/${chatId}/chat_messages`, { body: form });
      expect(response.status).toBe(413);
      expect(response.body.errors[0].code).toBe("payload_too_large");
      expect(simulator.state.messages(chatId)).toHaveLength(1);
    });

    it("accepts the quick-start JSON body, the nested JSON body and urlencoded fields", async () => {
      await newChat();
      const quick = await callApi(simulator, "POST", `/chats/${chatId}/chat_messages`, {
        body: { text: "Check out this image!", attachment_urls: ["https://your-cdn.com/image.jpg"] },
      });
      expect(quick.status).toBe(201);
      expect(quick.body.data.attachments[0]).toMatchObject({
        filename: "image.jpg",
        mime_type: "image/jpeg",
      });
      const nested = await callApi(simulator, "POST", `/chats/${chatId}/chat_messages`, {
        body: { message: { text: "nested", idempotency_key: "json-1" } },
      });
      expect(nested.status).toBe(201);
      expect(simulator.requests.at(-1)?.idempotencyKey).toBe("json-1");
      const urlencoded = await callApi(simulator, "POST", `/chats/${chatId}/chat_messages`, {
        body: new URLSearchParams({ "message[text]": "form-encoded" }),
      });
      expect(urlencoded.status).toBe(201);
      expect(simulator.state.messages(chatId).map((message) => message.text)).toEqual([
        "opening",
        "Check out this image!",
        "nested",
        "form-encoded",
      ]);
    });

    it("validates the multipart fields: missing text (400), unknown field and bad key (422)", async () => {
      await newChat();
      const missing = new FormData();
      missing.append("message[idempotency_key]", "abc");
      const missingResponse = await callApi(simulator, "POST", `/chats/${chatId}/chat_messages`, {
        body: missing,
      });
      expect(missingResponse.status).toBe(400);
      expect(missingResponse.body.errors[0].detail).toBe("Missing required parameter: message[text]");

      const unknown = new FormData();
      unknown.append("message[text]", "x");
      unknown.append("message[subject]", "nope");
      const unknownResponse = await callApi(simulator, "POST", `/chats/${chatId}/chat_messages`, {
        body: unknown,
      });
      expect(unknownResponse.status).toBe(422);
      expect(unknownResponse.body.errors[0].detail).toBe("Unknown parameter: message[subject]");

      const badKey = new FormData();
      badKey.append("message[text]", "x");
      badKey.append("message[idempotency_key]", "has spaces");
      const badKeyResponse = await callApi(simulator, "POST", `/chats/${chatId}/chat_messages`, {
        body: badKey,
      });
      expect(badKeyResponse.status).toBe(422);
      expect(badKeyResponse.body.errors[0].detail).toMatch(/alphanumeric/);

      const badUrl = await callApi(simulator, "POST", `/chats/${chatId}/chat_messages`, {
        body: { text: "x", attachment_urls: ["ftp://example.com/a"] },
      });
      expect(badUrl.status).toBe(422);
      expect(simulator.state.messages(chatId)).toHaveLength(1);
    });

    it("answers 404 for an unknown chat", async () => {
      const response = await callApi(simulator, "POST", "/chats/424242/chat_messages", {
        body: { text: "x" },
      });
      expect(response.status).toBe(404);
      expect(response.body.errors[0].detail).toBe("Chat not found");
    });

    it("reports pending until deliveryDelayMs has passed", async () => {
      const delayed = await startLinqSimulator({ deliveryDelayMs: 30 });
      try {
        const chat = await createChat(delayed);
        expect(chat.chat_messages).toMatchObject({ delivery_status: "pending", delivered_at: null });
        await new Promise((resolve) => setTimeout(resolve, 60));
        expect(delayed.state.message(chat.chat_messages!.id)).toMatchObject({ delivery_status: "delivered" });
        expect(delayed.state.message(chat.chat_messages!.id)?.delivered_at).not.toBeNull();
      } finally {
        await delayed.close();
      }
    });
  });

  describe("list, get, edit and delete", () => {
    it("lists messages with sort, before/after and pagination", async () => {
      let now = new Date("2025-05-21T15:30:00.000Z");
      const clocked = await startLinqSimulator({ now: () => now });
      try {
        const chat = await createChat(clocked, "+15551234567", "m0");
        for (let index = 1; index < 5; index += 1) {
          now = new Date(now.getTime() + 60_000);
          await callApi(clocked, "POST", `/chats/${chat.id}/chat_messages`, { body: { text: `m${index}` } });
        }
        const texts = (body: { data: { text: string }[] }) => body.data.map((message) => message.text);
        const ascending = await callApi(clocked, "GET", `/chats/${chat.id}/chat_messages`);
        expect(texts(ascending.body)).toEqual(["m0", "m1", "m2", "m3", "m4"]);
        expect(ascending.body.meta).toEqual({ page: 1, total_pages: 1, total_count: 5, per_page: 25 });
        const descending = await callApi(
          clocked,
          "GET",
          `/chats/${chat.id}/chat_messages?sort=desc&per_page=2&page=2`,
        );
        expect(texts(descending.body)).toEqual(["m2", "m1"]);
        expect(descending.body.meta).toEqual({ page: 2, total_pages: 3, total_count: 5, per_page: 2 });
        const window = await callApi(
          clocked,
          "GET",
          `/chats/${chat.id}/chat_messages?after=2025-05-21T15:30:00Z&before=2025-05-21T15:33:00.000Z`,
        );
        expect(texts(window.body)).toEqual(["m1", "m2"]);
        expect((await callApi(clocked, "GET", `/chats/${chat.id}/chat_messages?sort=up`)).status).toBe(422);
        expect(
          (await callApi(clocked, "GET", `/chats/${chat.id}/chat_messages?before=yesterday`)).status,
        ).toBe(422);
        expect((await callApi(clocked, "GET", `/chats/${chat.id}/chat_messages?per_page=500`)).status).toBe(
          422,
        );
      } finally {
        await clocked.close();
      }
    });

    it("gets a message, and 404s for a message of another chat", async () => {
      await newChat();
      const messageId = simulator.state.messages(chatId)[0]?.id;
      const found = await callApi(simulator, "GET", `/chats/${chatId}/chat_messages/${messageId}`);
      expect(found.status).toBe(200);
      expect(found.body.data).toEqual(simulator.state.message(messageId ?? 0));
      const other = await createChat(simulator, "+15559876543");
      expect((await callApi(simulator, "GET", `/chats/${other.id}/chat_messages/${messageId}`)).status).toBe(
        404,
      );
    });

    it("edits our message (200 {message, data:{id,text}}) and sets edited_at", async () => {
      await newChat();
      const messageId = simulator.state.messages(chatId)[0]?.id;
      const response = await callApi(simulator, "POST", `/chats/${chatId}/chat_messages/${messageId}/edit`, {
        body: { text: "edited text" },
      });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        message: "Message edited successfully",
        data: { id: messageId, text: "edited text" },
      });
      expect(simulator.state.message(messageId ?? 0)?.edited_at).not.toBeNull();
      const invalid = await callApi(simulator, "POST", `/chats/${chatId}/chat_messages/${messageId}/edit`, {
        body: {},
      });
      expect(invalid.status).toBe(400);
      const { message } = await simulator.inbound.text({ from: "+15551234567", text: "theirs" });
      const theirs = await callApi(simulator, "POST", `/chats/${chatId}/chat_messages/${message.id}/edit`, {
        body: { text: "not mine" },
      });
      expect(theirs.status).toBe(422);
    });

    it("deletes our message (200 {message}) and then 404s", async () => {
      await newChat();
      const messageId = simulator.state.messages(chatId)[0]?.id;
      const response = await callApi(simulator, "DELETE", `/chats/${chatId}/chat_messages/${messageId}`);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ message: "Message deleted successfully" });
      expect(simulator.state.message(messageId ?? 0)).toBeUndefined();
      expect(simulator.state.chat(chatId)?.message_count).toBe(0);
      expect((await callApi(simulator, "DELETE", `/chats/${chatId}/chat_messages/${messageId}`)).status).toBe(
        404,
      );
    });
  });

  describe("reactions", () => {
    it("adds (201), gets and removes a reaction", async () => {
      await newChat();
      const messageId = simulator.state.messages(chatId)[0]?.id;
      const added = await callApi(simulator, "POST", `/chat_messages/${messageId}/reactions`, {
        body: { type: "love", operation: "add" },
      });
      expect(added.status).toBe(201);
      expect(added.body.data).toMatchObject({
        chat_message_id: messageId,
        reaction: "love",
        is_from_me: true,
        from_phone: "+15550001111",
      });
      const reactionId = added.body.data.id;
      const fetched = await callApi(simulator, "GET", `/chat_message_reactions/${reactionId}`);
      expect(fetched.status).toBe(200);
      expect(fetched.body.data).toEqual(added.body.data);
      expect(simulator.state.message(messageId ?? 0)?.reactions).toHaveLength(1);

      const again = await callApi(simulator, "POST", `/chat_messages/${messageId}/reactions`, {
        body: { type: "love", operation: "add" },
      });
      expect(again.body.data.id).toBe(reactionId);

      const removed = await callApi(simulator, "POST", `/chat_messages/${messageId}/reactions`, {
        body: { type: "love", operation: "remove" },
      });
      expect(removed.status).toBe(201);
      expect(simulator.state.reactions(messageId ?? 0)).toEqual([]);
      expect((await callApi(simulator, "GET", `/chat_message_reactions/${reactionId}`)).status).toBe(404);
      const removeMissing = await callApi(simulator, "POST", `/chat_messages/${messageId}/reactions`, {
        body: { type: "love", operation: "remove" },
      });
      expect(removeMissing.status).toBe(404);
    });

    it("validates the reaction body (bad enum 422, missing operation 400) and the message id (404)", async () => {
      await newChat();
      const messageId = simulator.state.messages(chatId)[0]?.id;
      const badEnum = await callApi(simulator, "POST", `/chat_messages/${messageId}/reactions`, {
        body: { type: "heart", operation: "add" },
      });
      expect(badEnum.status).toBe(422);
      expect(badEnum.body.errors[0].detail).toBe(
        "type must be one of: love, like, dislike, laugh, emphasize, question",
      );
      const missing = await callApi(simulator, "POST", `/chat_messages/${messageId}/reactions`, {
        body: { type: "like" },
      });
      expect(missing.status).toBe(400);
      const unknownMessage = await callApi(simulator, "POST", "/chat_messages/1/reactions", {
        body: { type: "like", operation: "add" },
      });
      expect(unknownMessage.status).toBe(404);
    });
  });
});
