import { describe, expect, it } from "vitest";
import type { LinqClient } from "../client/index.ts";
import { type LinqWebhookEvent, parseWebhookEvent } from "../webhooks/index.ts";
import {
  calendarDayIn,
  canonicalHandle,
  describeLinqCall,
  describeLinqMessage,
  safeHttpUrl,
} from "./linq-activity.ts";

function event(eventType: string, data: Record<string, unknown>): LinqWebhookEvent {
  const parsed = parseWebhookEvent({
    api_version: "v2",
    created_at: "2026-01-15T12:00:00Z",
    event_id: `evt-${eventType}`,
    event_type: eventType,
    data,
  });
  if (!parsed.known) throw new Error(`unknown event type ${eventType}`);
  return parsed;
}

const noChat = { linq: {} as LinqClient, signal: new AbortController().signal };

describe("Linq activities as CRMs log them", () => {
  it("reads a group message: the sender first, our number apart, http(s) attachments only", async () => {
    const received = event("message.received", {
      id: 5,
      chat_id: 9,
      text: "hi",
      from_phone: "(555) 222-3333",
      service: "SMS",
      sent_at: "2026-01-15T11:59:00Z",
      chat_handles: [
        { identifier: "+15551234567", is_me: false },
        { identifier: "+15552223333", is_me: false },
        { identifier: "+15550001111", is_me: true },
      ],
      attachments: [{ url: "https://cdn.example.com/a.jpg", filename: "a.jpg" }, { url: "" }],
    });
    if (received.event_type !== "message.received") throw new Error("unexpected");
    expect(await describeLinqMessage(received, {}, noChat)).toEqual({
      messageId: "5",
      direction: "incoming",
      service: "SMS",
      participants: ["+15552223333", "+15551234567"],
      linqNumber: "+15550001111",
      text: "hi",
      sentAt: "2026-01-15T11:59:00.000Z",
      attachments: [{ url: "https://cdn.example.com/a.jpg", filename: "a.jpg" }],
    });
  });

  it("reads the chat's participants from Linq when a sent message carries no handles", async () => {
    const sent = event("message.sent", { id: 6, chat_id: 9, text: "yo", from_phone: "+15550001111" });
    if (sent.event_type !== "message.sent") throw new Error("unexpected");
    const chats: unknown[] = [];
    const linq = {
      getChat: async (chatId: unknown) => {
        chats.push(chatId);
        return { chat_handles: [{ phone_number: "+15550001111" }, { phone_number: "555-123-4567" }] };
      },
    } as unknown as LinqClient;
    const message = await describeLinqMessage(sent, {}, { linq, signal: noChat.signal });
    expect(chats).toEqual([9]);
    expect(message).toMatchObject({
      direction: "outgoing",
      participants: ["+15551234567"],
      linqNumber: "+15550001111",
      sentAt: "2026-01-15T12:00:00.000Z",
    });
  });

  it("reads a call, or says why it cannot be logged", () => {
    const call = (data: Record<string, unknown>) => {
      const parsed = event("call.completed", { id: 3, ...data });
      if (parsed.event_type !== "call.completed") throw new Error("unexpected");
      return describeLinqCall(parsed, {});
    };
    expect(call({ direction: "outbound", from: "+15550001111", to: "555-123-4567", duration: 42 })).toEqual({
      call: {
        callId: "3",
        direction: "outbound",
        from: "+15550001111",
        to: "555-123-4567",
        customer: "+15551234567",
        status: null,
        durationSeconds: 42,
        startedAt: "2026-01-15T12:00:00.000Z",
        recordingUrl: null,
        transcription: null,
        summary: null,
        voicemail: false,
      },
    });
    expect(call({ from: "+15551234567", to: "+15550001111" })).toEqual({
      skipped: "call without a direction or a customer number: not logged",
    });
    expect(call({ direction: "inbound", from: "anonymous", to: "+15550001111" })).toEqual({
      skipped: "withheld or unreadable caller number: call not logged",
    });
  });

  it("canonical handles, calendar days and safe links", () => {
    expect(canonicalHandle(" (555) 123-4567 ")).toBe("+15551234567");
    expect(canonicalHandle("Jane@Example.com")).toBe("jane@example.com");
    expect(canonicalHandle("  ")).toBeUndefined();
    expect(calendarDayIn("2026-01-15T23:30:00Z", "Europe/Paris")).toBe("2026-01-16");
    expect(safeHttpUrl("https://example.com/a b")).toBe("https://example.com/a%20b");
    expect(safeHttpUrl("javascript:alert(1)")).toBeUndefined();
    expect(safeHttpUrl("not a url")).toBeUndefined();
  });
});
