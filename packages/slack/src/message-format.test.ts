import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  escapeMrkdwn,
  formatDuration,
  headerFingerprint,
  renderCall,
  renderHeader,
  renderMessage,
  sectionTextLimit,
  slackDate,
  splitText,
  truncate,
} from "./message-format.ts";

function sectionTexts(blocks: unknown[]): string[] {
  return blocks
    .map((block) => (block as { text?: { text?: string } }).text?.text)
    .filter((text): text is string => text !== undefined);
}

describe("text helpers", () => {
  it("escapes the characters mrkdwn interprets", () => {
    expect(escapeMrkdwn("<@U1> & <!here>")).toBe("&lt;@U1&gt; &amp; &lt;!here&gt;");
  });

  it("splits long text at line breaks into parts under the section limit, losing nothing but the break", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12_000 }), (value) => {
        const parts = splitText(value, 3000);
        expect(parts.every((part) => part.length <= 3000)).toBe(true);
        expect(parts.join("").replace(/[\n ]/g, "")).toBe(value.replace(/[\n ]/g, ""));
      }),
    );
    const lines = Array.from({ length: 100 }, (_, index) => `line ${index} ${"x".repeat(50)}`).join("\n");
    const parts = splitText(lines, 3000);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts[0]?.endsWith("x")).toBe(true);
  });

  it("never cuts a surrogate pair", () => {
    expect(truncate("ab😀cd", 4)).toBe("ab…");
    expect(splitText("😀".repeat(2000), 3001).every((part) => !/[\ud800-\udbff]$/.test(part))).toBe(true);
  });

  it("formats durations as m:ss and h:mm:ss", () => {
    expect(formatDuration(0)).toBe("0:00");
    expect(formatDuration(205)).toBe("3:25");
    expect(formatDuration(3725)).toBe("1:02:05");
    expect(formatDuration(null)).toBe("0:00");
  });

  it("renders times for each reader's time zone with a UTC fallback", () => {
    expect(slackDate("2025-05-21T21:30:00Z")).toBe(
      "<!date^1747863000^{date_short_pretty} {time}|2025-05-21 21:30 UTC>",
    );
    expect(slackDate("not a date")).toBeUndefined();
  });
});

describe("renderHeader", () => {
  it("shows the customer, number, service, our number and CRM links", () => {
    const content = renderHeader({
      members: [{ address: "+15551234567", name: "Jane Doe" }],
      group: false,
      service: "SMS",
      linqNumber: "+15550001111",
      links: [{ label: "CRM record", url: "https://crm.example/42" }],
    });
    expect(content.text).toBe("Conversation with Jane Doe ((555) 123-4567) · SMS");
    const json = JSON.stringify(content.blocks);
    expect(json).toContain("*Jane Doe*");
    expect(json).toContain("via (555) 000-1111");
    expect(json).toContain("<https://crm.example/42|CRM record>");
  });

  it("lists a group's members and changes its fingerprint when they change", () => {
    const fields = {
      members: [{ address: "+15551234567", name: "Jane" }, { address: "+15557654321" }],
      group: true,
      service: "iMessage",
      links: [],
    };
    const content = renderHeader(fields);
    expect(content.text).toContain("Jane, (555) 765-4321");
    expect(JSON.stringify(content.blocks)).toContain("*Members:* Jane ((555) 123-4567), (555) 765-4321");
    expect(headerFingerprint(fields)).not.toBe(
      headerFingerprint({ ...fields, members: fields.members.slice(0, 1) }),
    );
  });
});

describe("renderMessage", () => {
  it("keeps every section under Slack's limit for very long texts", () => {
    const content = renderMessage({
      direction: "inbound",
      authorLabel: "Jane",
      sentAt: "2025-05-21T21:30:00Z",
      text: "word ".repeat(5000),
      attachmentCount: 2,
      service: "iMessage",
    });
    expect(sectionTexts(content.blocks).every((text) => text.length <= sectionTextLimit)).toBe(true);
    expect(content.blocks.length).toBeLessThanOrEqual(50);
    expect(JSON.stringify(content.blocks)).toContain(":paperclip: 2 attachments");
    expect(content.text.length).toBeLessThanOrEqual(4000);
  });

  it("has a fallback text for an attachment-only message", () => {
    const content = renderMessage({
      direction: "inbound",
      authorLabel: "Jane",
      text: "",
      attachmentCount: 1,
    });
    expect(content.text).toBe("Jane: [1 attachment(s)]");
  });
});

describe("renderCall", () => {
  it("summarises a call and truncates the transcript to fit a section", () => {
    const content = renderCall({
      direction: "outbound",
      counterpart: "+15551234567",
      counterpartName: "Jane",
      durationSeconds: 61,
      answeredBy: "Jane",
      recordingUrl: "https://recordings.example/1.mp3",
      summary: "Agreed on Tuesday",
      transcript: "a ".repeat(4000),
    });
    expect(content.text).toBe("Outbound call to Jane ((555) 123-4567), 1:01: Agreed on Tuesday");
    const json = JSON.stringify(content.blocks);
    expect(json).toContain("answered by Jane");
    expect(json).toContain("<https://recordings.example/1.mp3|Recording>");
    expect(json).toContain("Transcript truncated");
    expect(sectionTexts(content.blocks).every((text) => text.length <= sectionTextLimit)).toBe(true);
  });

  it("says when nobody answered", () => {
    const content = renderCall({ direction: "inbound", counterpart: "+15551234567", durationSeconds: 0 });
    expect(JSON.stringify(content.blocks)).toContain("not answered");
  });
});
