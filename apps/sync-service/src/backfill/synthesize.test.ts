import { type Chat, type ChatMessage, parseWebhookEvent } from "@linq-connect/core";
import { describe, expect, it } from "vitest";
import { conversationKeyOfEvent, linqNumberOfEvent } from "../routing/router.ts";
import {
  backfillContactEventId,
  backfillMessageEventId,
  synthesizeContactEvent,
  synthesizeMessageEvent,
  webhookChatHandles,
} from "./synthesize.ts";

const chat: Chat = {
  id: 41,
  display_name: "Ada Lovelace",
  service: "iMessage",
  group: false,
  message_count: 2,
  chat_handles: [
    { id: 1, phone_number: "+15551230001", service: "iMessage", joined_at: "2025-01-01T00:00:00Z" },
    { id: 2, phone_number: "+15550001111", service: "iMessage", joined_at: "2025-01-01T00:00:00Z" },
  ],
};

const received: ChatMessage = {
  id: 900,
  text: "Is my order ready?",
  sent_at: "2025-01-01T00:01:00Z",
  delivered_at: "2025-01-01T00:01:01Z",
  delivery_status: "delivered",
  edited_at: null,
  is_read: true,
  sent_from: "+15551230001",
  chat_handle_id: 1,
  attachments: [
    {
      id: "0d8f7a86-58f8-4b4b-8cf4-6a3d35b0f0c1",
      url: "https://files.example/a.jpg",
      filename: "a.jpg",
      mime_type: "image/jpeg",
      file_size: 1234,
    },
  ],
  reactions: [],
};

describe("backfill events", () => {
  it("turns a received message into the message.received webhook the live service would have got", () => {
    const synthesized = synthesizeMessageEvent(chat, received, "+15550001111");
    expect(synthesized.eventId).toBe("backfill-message-900");
    expect(synthesized.eventType).toBe("message.received");
    const event = parseWebhookEvent(synthesized.body);
    expect(event).toMatchObject({
      known: true,
      event_id: "backfill-message-900",
      event_type: "message.received",
      api_version: "v2",
      created_at: "2025-01-01T00:01:00.000Z",
      data: {
        id: 900,
        chat_id: 41,
        text: "Is my order ready?",
        is_read: true,
        from_phone: "+15551230001",
        service: "iMessage",
        delivery_status: "delivered",
        chat_handles: [
          { identifier: "+15551230001", display_name: "Ada Lovelace", is_me: false },
          { identifier: "+15550001111", display_name: null, is_me: true },
        ],
        attachments: [
          {
            id: "0d8f7a86-58f8-4b4b-8cf4-6a3d35b0f0c1",
            filename: "a.jpg",
            mime_type: "image/jpeg",
            file_size: 1234,
          },
        ],
      },
    });
    // It routes exactly as a live event: by our number, ordered by the chat.
    expect(linqNumberOfEvent(event)).toBe("+15550001111");
    expect(conversationKeyOfEvent(event)).toBe("chat:41");
  });

  it("makes a message sent from our number a message.sent, whatever format the number has", () => {
    const sent = { ...received, id: 901, sent_from: "(555) 000-1111" };
    const event = parseWebhookEvent(synthesizeMessageEvent(chat, sent, "+15550001111").body);
    expect(event.event_type).toBe("message.sent");
    expect(linqNumberOfEvent(event)).toBe("+15550001111");
  });

  it("adds our own handle when the chat lists only the participants, and names no one in a group", () => {
    const group: Chat = {
      id: 42,
      group: true,
      display_name: "Ada, Grace",
      chat_handles: [{ phone_number: "+15551230001" }, { phone_number: "+15551230002" }],
    };
    expect(webhookChatHandles(group, "+15550002222")).toEqual([
      { identifier: "+15551230001", display_name: null, is_me: false },
      { identifier: "+15551230002", display_name: null, is_me: false },
      { identifier: "+15550002222", display_name: null, is_me: true },
    ]);
  });

  it("turns a contact into a contact.updated event whose id changes with each version", () => {
    const contact = {
      id: 7,
      first_name: "Ada",
      last_name: "Lovelace",
      phone_number: "+15551230001",
      created_at: "2025-01-01T00:00:00+00:00",
      updated_at: "2025-01-02T03:04:05+00:00",
    };
    const synthesized = synthesizeContactEvent(contact);
    expect(synthesized.eventId).toBe("backfill-contact-7-2025-01-02T03:04:05.000Z");
    const event = parseWebhookEvent(synthesized.body);
    expect(event).toMatchObject({
      event_type: "contact.updated",
      data: { id: 7, first_name: "Ada", phone_number: "+15551230001" },
    });
    expect(conversationKeyOfEvent(event)).toBe("contact:7");
    expect(backfillContactEventId(7, "2025-01-03T00:00:00Z")).not.toBe(synthesized.eventId);
    expect(backfillContactEventId(7, undefined)).toBe("backfill-contact-7");
    expect(backfillMessageEventId("12")).toBe("backfill-message-12");
  });
});
