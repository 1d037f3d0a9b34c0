import { describe, expect, it } from "vitest";
import { UnexpectedResponseError } from "../errors.ts";
import {
  normalizeChat,
  normalizeChatMessage,
  normalizeContact,
  normalizeCreateChat,
  normalizeFindChat,
  normalizeFindContact,
  normalizePage,
  unwrapResource,
} from "./normalize.ts";

describe("normalizePage", () => {
  it("normalises the data/meta shape of chats and messages", () => {
    const page = normalizePage(
      "listChats",
      { data: [{ id: 45 }], meta: { page: 1, total_pages: 5, total_count: 123, per_page: 25 } },
      ["data"],
      normalizeChat,
      {},
    );
    expect(page).toEqual({
      items: [{ id: 45 }],
      pagination: { page: 1, perPage: 25, totalPages: 5, totalCount: 123 },
    });
  });

  it("normalises the contacts/pagination shape of contacts", () => {
    const page = normalizePage(
      "listContacts",
      {
        contacts: [{ id: "7" }],
        pagination: { current_page: 2, per_page: 1, total_pages: 3, total_count: 3 },
      },
      ["contacts", "data"],
      normalizeContact,
      {},
    );
    expect(page).toEqual({
      items: [{ id: 7 }],
      pagination: { page: 2, perPage: 1, totalPages: 3, totalCount: 3 },
    });
  });

  it("derives missing pagination from the request, treating the page as the last", () => {
    const page = normalizePage("listChats", { data: [{ id: 1 }, { id: 2 }] }, ["data"], normalizeChat, {
      page: 3,
      perPage: 10,
    });
    expect(page.pagination).toEqual({ page: 3, perPage: 10, totalPages: 3, totalCount: 22 });
    const fromCount = normalizePage(
      "listChats",
      { data: [], meta: { total_count: 95, per_page: 10 } },
      ["data"],
      normalizeChat,
      {},
    );
    expect(fromCount.pagination.totalPages).toBe(10);
  });

  it("rejects a body without a list", () => {
    expect(() => normalizePage("listChats", { data: {} }, ["data"], normalizeChat, {})).toThrow(
      UnexpectedResponseError,
    );
    expect(() => normalizePage("listChats", "nope", ["data"], normalizeChat, {})).toThrow(
      UnexpectedResponseError,
    );
  });
});

describe("normalizeCreateChat", () => {
  it("reads the reference shape data:{id, …, chat_messages:{…}}", () => {
    const result = normalizeCreateChat("createChat", {
      data: {
        id: 45,
        display_name: "John Doe",
        service: "iMessage",
        group: false,
        chat_handles: [{ id: "123", phone_number: "+15551234567" }],
        chat_messages: { id: 16470817, text: "Hello", delivery_status: "pending" },
      },
    });
    expect(result.chat).toEqual({
      id: 45,
      display_name: "John Doe",
      service: "iMessage",
      group: false,
      chat_handles: [{ id: 123, phone_number: "+15551234567" }],
    });
    expect(result.message).toEqual({ id: 16470817, text: "Hello", delivery_status: "pending" });
  });

  it("reads the quick-start shape data:{chat, message}", () => {
    const result = normalizeCreateChat("createChat", {
      data: {
        chat: { id: 12345, display_name: "+1 (555) 123-4567", message_count: 1 },
        message: { id: "67890", text: "Hello!", delivery_status: "rate_limit_exceeded" },
      },
    });
    expect(result.chat).toEqual({ id: 12345, display_name: "+1 (555) 123-4567", message_count: 1 });
    expect(result.message).toEqual({ id: 67890, text: "Hello!", delivery_status: "rate_limit_exceeded" });
  });

  it("returns no message for an existing chat without one, and takes the first of an array", () => {
    expect(normalizeCreateChat("createChat", { data: { id: 1 } }).message).toBeUndefined();
    expect(
      normalizeCreateChat("createChat", { data: { id: 1, chat_messages: [{ id: 9 }, { id: 8 }] } }).message,
    ).toEqual({ id: 9 });
  });

  it("rejects a body without a chat", () => {
    expect(() => normalizeCreateChat("createChat", { data: { nothing: true } })).toThrow(
      UnexpectedResponseError,
    );
  });
});

describe("normalizeFindChat / normalizeFindContact", () => {
  it("returns the chat, or null for both documented not-found shapes", () => {
    expect(normalizeFindChat("findChat", { data: { chat: { id: "5" } } })).toEqual({ id: 5 });
    expect(normalizeFindChat("findChat", { data: { chat: null, messages: [] } })).toBeNull();
    expect(normalizeFindChat("findChat", { data: null })).toBeNull();
    expect(normalizeFindChat("findChat", { data: { id: 6 } })).toEqual({ id: 6 });
  });

  it("returns the contact for a bare Contact, {data}, {contact}; null for {contact:null}", () => {
    expect(normalizeFindContact("findContact", { id: 1, email: "a@b.c" })).toEqual({ id: 1, email: "a@b.c" });
    expect(normalizeFindContact("findContact", { data: { id: "2" } })).toEqual({ id: 2 });
    expect(normalizeFindContact("findContact", { contact: { id: 3 } })).toEqual({ id: 3 });
    expect(normalizeFindContact("findContact", { contact: null })).toBeNull();
    expect(normalizeFindContact("findContact", { data: null })).toBeNull();
    expect(normalizeFindContact("findContact", undefined)).toBeNull();
  });
});

describe("coercion", () => {
  it("coerces string ids of messages, attachments and reactions, keeping unknown fields", () => {
    const message = normalizeChatMessage({
      id: "27799380",
      chat_handle_id: "12",
      attachments: [{ id: "abc", file_size: "12345" }],
      reactions: [{ id: "3", chat_message_id: "27799380", reaction: "like" }],
      extra: "kept",
    });
    expect(message).toEqual({
      id: 27799380,
      chat_handle_id: 12,
      attachments: [{ id: "abc", file_size: 12345 }],
      reactions: [{ id: 3, chat_message_id: 27799380, reaction: "like" }],
      extra: "kept",
    });
  });

  it("leaves non-numeric strings alone", () => {
    expect(normalizeChat({ id: "abc" })).toEqual({ id: "abc" });
  });

  it("unwrapResource accepts a wrapper key or the bare resource", () => {
    expect(unwrapResource("getChat", { data: { id: 1 } }, ["data"])).toEqual({ id: 1 });
    expect(unwrapResource("getChat", { id: 1 }, ["data"])).toEqual({ id: 1 });
    expect(() => unwrapResource("getChat", { data: [] }, ["data"])).toThrow(UnexpectedResponseError);
  });
});
