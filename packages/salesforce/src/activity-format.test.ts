import { describe, expect, it } from "vitest";
import {
  callObjectOf,
  callTaskFields,
  dayOf,
  digestMarker,
  digestTaskFields,
  displayHandle,
  hasMarker,
  type LoggedMessage,
  MAX_DESCRIPTION_CHARACTERS,
  messageMarker,
  messageTaskFields,
  type TaskFormatOptions,
} from "./activity-format.ts";

const options: TaskFormatOptions = {
  whoId: "003000000000001AAA",
  name: "Jane Doe",
  timeZone: "Europe/Paris",
  ownerId: undefined,
};

const message: LoggedMessage = {
  messageId: "41",
  direction: "incoming",
  service: "iMessage",
  participants: ["+15551234567"],
  linqNumber: "+15550001111",
  text: "Is my order ready?\r\nThanks",
  sentAt: "2026-01-15T23:30:00.000Z",
  attachments: [
    { url: "https://cdn.example.com/a.jpg", filename: "a.jpg" },
    { url: "javascript:alert(1)", filename: "evil" },
  ],
};

describe("message Task fields", () => {
  it("says service, direction and person; text, links and the marker in the Description", () => {
    const fields = messageTaskFields(message, options);
    expect(fields).toEqual({
      WhoId: "003000000000001AAA",
      Subject: "iMessage from Jane Doe",
      ActivityDate: "2026-01-16",
      Status: "Completed",
      Priority: "Normal",
      TaskSubtype: "Task",
      Description: [
        "Inbound iMessage from Jane Doe ((555) 123-4567) to Linq number (555) 000-1111",
        "Sent: 2026-01-15T23:30:00.000Z",
        "",
        "Is my order ready?\nThanks",
        "",
        "Attachments:",
        "- a.jpg: https://cdn.example.com/a.jpg",
        "",
        "Linq message id: 41",
      ].join("\n"),
    });
    const outgoing = messageTaskFields(
      { ...message, direction: "outgoing", service: "SMS", attachments: [] },
      { ...options, name: "(555) 123-4567", ownerId: "005000000000001AAA", timeZone: "UTC" },
    );
    expect(outgoing).toMatchObject({
      Subject: "SMS to (555) 123-4567",
      ActivityDate: "2026-01-15",
      OwnerId: "005000000000001AAA",
    });
    expect(outgoing.Description).toMatch(
      /^Outbound SMS from Linq number \(555\) 000-1111 to \(555\) 123-4567\n/,
    );
    expect(hasMarker(outgoing.Description, messageMarker("41"))).toBe(true);
    expect(hasMarker(outgoing.Description, messageMarker("4"))).toBe(false);
    expect(messageTaskFields({ ...message, service: null }, options).Subject).toBe("Message from Jane Doe");
  });

  it("truncates a long text with a note, keeps the marker, and clips the Subject to 255", () => {
    const fields = messageTaskFields(
      { ...message, text: "x".repeat(40_000) },
      { ...options, name: "N".repeat(300) },
    );
    const description = String(fields.Description);
    expect(description.length).toBeLessThanOrEqual(MAX_DESCRIPTION_CHARACTERS);
    expect(description).toMatch(/… \(truncated: \d+ more characters not shown\)\n\nLinq message id: 41$/);
    expect(String(fields.Subject)).toHaveLength(255);
  });

  it("formats handles for display and finds a day in a time zone", () => {
    expect(displayHandle("+15551234567")).toBe("(555) 123-4567");
    expect(displayHandle("jane@example.com")).toBe("jane@example.com");
    expect(dayOf("2026-01-15T23:30:00Z", "UTC")).toBe("2026-01-15");
    expect(dayOf("2026-01-16T03:00:00Z", "America/Chicago")).toBe("2026-01-15");
  });
});

describe("digest Task fields", () => {
  const line = (index: number, text = `line ${index}`) => ({
    messageId: String(index),
    at: new Date(Date.UTC(2026, 0, 15, 8, index)).toISOString(),
    direction: index % 2 === 0 ? ("incoming" as const) : ("outgoing" as const),
    service: "SMS",
    text,
    attachments: index === 1 ? [{ url: "https://cdn.example.com/r.pdf", filename: "r.pdf" }] : [],
  });

  it("lists the day's messages in order under a header, one subject per conversation", () => {
    const fields = digestTaskFields(
      {
        chatId: "7",
        day: "2026-01-15",
        participants: ["+15551234567"],
        linqNumber: "+15550001111",
        lines: [line(1), line(0)],
      },
      { ...options, timeZone: "UTC" },
    );
    expect(fields).toMatchObject({
      Subject: "SMS conversation with Jane Doe",
      ActivityDate: "2026-01-15",
      Status: "Completed",
      TaskSubtype: "Task",
    });
    expect(fields.Description).toBe(
      [
        "Conversation with Jane Doe ((555) 123-4567) on Linq number (555) 000-1111, 2026-01-15 (UTC): 2 messages",
        "",
        "08:00 ← customer (SMS): line 0",
        "08:01 → us (SMS): line 1",
        "  - r.pdf: https://cdn.example.com/r.pdf",
        "",
        digestMarker("7", "2026-01-15"),
      ].join("\n"),
    );
  });

  it("keeps the newest lines that fit in 32,000 characters and says how many went", () => {
    const lines = Array.from({ length: 300 }, (_, index) => line(index, `line ${index} ${"y".repeat(400)}`));
    const fields = digestTaskFields(
      { chatId: "7", day: "2026-01-15", participants: ["+15551234567"], linqNumber: undefined, lines },
      options,
    );
    const description = String(fields.Description);
    expect(description.length).toBeLessThanOrEqual(MAX_DESCRIPTION_CHARACTERS);
    expect(description).toContain("300 messages");
    expect(description).toMatch(/\(\d+ earlier messages not shown\)/);
    expect(description).toContain("line 299 ");
    expect(description).not.toContain("line 0 ");
    expect(hasMarker(description, digestMarker("7", "2026-01-15"))).toBe(true);
  });
});

describe("call Task fields", () => {
  it("maps direction, duration, status, recording, summary and transcript", () => {
    const fields = callTaskFields(
      {
        callId: "9",
        direction: "outbound",
        from: "+15550001111",
        to: "+15551234567",
        customer: "+15551234567",
        status: "completed",
        durationSeconds: 330.4,
        startedAt: "2026-01-15T12:00:00Z",
        recordingUrl: "https://cdn.example.com/r.mp3",
        transcription: "Hello, about the order…",
        summary: "Order question",
        voicemail: false,
      },
      { ...options, ownerId: "005000000000001AAA" },
    );
    expect(fields).toMatchObject({
      WhoId: "003000000000001AAA",
      Subject: "Outbound call to Jane Doe",
      ActivityDate: "2026-01-15",
      Status: "Completed",
      TaskSubtype: "Call",
      CallType: "Outbound",
      CallDurationInSeconds: 330,
      CallDisposition: "completed",
      CallObject: callObjectOf("9"),
      OwnerId: "005000000000001AAA",
    });
    expect(fields.Description).toBe(
      [
        "Outbound call from Linq number (555) 000-1111 to Jane Doe ((555) 123-4567)",
        "Started: 2026-01-15T12:00:00Z",
        "Status: completed · Duration: 5 min 30 s",
        "Recording: https://cdn.example.com/r.mp3",
        "",
        "Summary:",
        "Order question",
        "",
        "Transcript:",
        "Hello, about the order…",
        "",
        "Linq call id: 9",
      ].join("\n"),
    );
    const inbound = callTaskFields(
      {
        callId: "10",
        direction: "inbound",
        from: "+15551234567",
        to: "+15550001111",
        customer: "+15551234567",
        status: null,
        durationSeconds: null,
        startedAt: "2026-01-15T12:00:00Z",
        recordingUrl: "javascript:alert(1)",
        transcription: null,
        summary: null,
        voicemail: true,
      },
      { ...options, name: "(555) 123-4567" },
    );
    expect(inbound).toMatchObject({ Subject: "Inbound call from (555) 123-4567", CallType: "Inbound" });
    expect(inbound).not.toHaveProperty("CallDurationInSeconds");
    expect(inbound).not.toHaveProperty("CallDisposition");
    expect(inbound.Description).toBe(
      [
        "Inbound call from (555) 123-4567 to Linq number (555) 000-1111",
        "Started: 2026-01-15T12:00:00Z",
        "Voicemail",
        "",
        "Linq call id: 10",
      ].join("\n"),
    );
  });
});
