import { describe, expect, it } from "vitest";
import {
  callMarker,
  callProperties,
  dayOf,
  digestCommunicationProperties,
  digestMarker,
  escapeHtml,
  hasMarker,
  type LoggedMessage,
  messageCommunicationProperties,
  messageMarker,
} from "./activity-format.ts";
import { validateHubSpotRouteSettings } from "./settings.ts";

const settings = validateHubSpotRouteSettings({ name: "default", settings: {} });

const message: LoggedMessage = {
  messageId: "1",
  direction: "incoming",
  service: "RCS",
  participants: ["+15551234567"],
  linqNumber: "+15550001111",
  text: 'Hello <b>"there"</b>\nsecond line',
  sentAt: "2026-01-15T23:30:00.000Z",
  attachments: [
    { url: "https://cdn.example.com/a.jpg", filename: "a<1>.jpg" },
    { url: "javascript:alert(1)", filename: "evil" },
  ],
};

describe("activity properties", () => {
  it("escapes the text, keeps line breaks, links only http(s) attachments", () => {
    const properties = messageCommunicationProperties(message, settings, {});
    expect(properties).toMatchObject({
      hs_communication_channel_type: "SMS",
      hs_communication_logged_from: "CRM",
      hs_timestamp: "2026-01-15T23:30:00.000Z",
    });
    const body = properties.hs_communication_body ?? "";
    expect(body).toContain("RCS received from (555) 123-4567 to Linq number (555) 000-1111");
    expect(body).toContain("Hello &lt;b&gt;&quot;there&quot;&lt;/b&gt;<br>second line");
    expect(body).toContain('<a href="https://cdn.example.com/a.jpg">a&lt;1&gt;.jpg</a>');
    expect(body).not.toContain("javascript:");
    expect(escapeHtml(`&<>"'`)).toBe("&amp;&lt;&gt;&quot;&#39;");
  });

  it("groups digests by the calendar day of the configured time zone and keeps the newest lines that fit", () => {
    expect(dayOf("2026-01-15T23:30:00Z", "UTC")).toBe("2026-01-15");
    expect(dayOf("2026-01-15T23:30:00Z", "Europe/Paris")).toBe("2026-01-16");
    expect(dayOf("2026-01-16T03:00:00Z", "America/Chicago")).toBe("2026-01-15");
    const lines = Array.from({ length: 300 }, (_, index) => ({
      messageId: String(index),
      at: new Date(Date.UTC(2026, 0, 15, 0, index)).toISOString(),
      direction: index % 2 === 0 ? ("incoming" as const) : ("outgoing" as const),
      service: "SMS",
      text: `line ${index} ${"x".repeat(400)}`,
      attachments: [],
    }));
    const properties = digestCommunicationProperties(
      { chatId: "7", day: "2026-01-15", participants: ["+15551234567"], linqNumber: "+15550001111", lines },
      settings,
      {},
    );
    const body = properties.hs_communication_body ?? "";
    expect(body.length).toBeLessThanOrEqual(60_000);
    expect(body).toContain("300 messages");
    expect(body).toMatch(/\(\d+ earlier messages not shown\)/);
    expect(body).toContain("line 299 ");
    expect(hasMarker(body, digestMarker("7", "2026-01-15"))).toBe(true);
    expect(properties.hs_timestamp).toBe(lines.at(-1)?.at);
  });

  it("maps a call: direction, duration in ms, numbers, status and recording", () => {
    const properties = callProperties(
      {
        callId: "1",
        direction: "outbound",
        from: "+15550001111",
        to: "+15551234567",
        status: "no-answer",
        durationSeconds: 12.5,
        startedAt: "2026-01-15T12:00:00Z",
        recordingUrl: "https://cdn.example.com/r.mp3",
        transcription: null,
        summary: "Left a voicemail",
        voicemail: true,
      },
      {},
    );
    expect(properties).toMatchObject({
      hs_call_direction: "OUTBOUND",
      hs_call_duration: "12500",
      hs_call_status: "NO_ANSWER",
      hs_call_to_number: "+15551234567",
      hs_call_recording_url: "https://cdn.example.com/r.mp3",
      hs_call_title: "Outbound call to (555) 123-4567",
    });
    expect(properties.hs_call_body).toContain("Left a voicemail");
  });
  it("ends every body with a marker that finds the activity again, read as text", () => {
    const body = messageCommunicationProperties(message, settings, {}).hs_communication_body ?? "";
    expect(body.endsWith("<p>Linq message id: 1</p>")).toBe(true);
    expect(hasMarker(body, messageMarker("1"))).toBe(true);
    expect(hasMarker(body, messageMarker("12"))).toBe(false);
    // However HubSpot re-renders the HTML (attributes, line breaks, entities), the text still counts.
    expect(
      hasMarker(
        '<p style="margin:0">Linq conversation: a&amp;b, 2026-01-15</p>',
        digestMarker("a&b", "2026-01-15"),
      ),
    ).toBe(true);
    expect(hasMarker("<p>Hello<br>Linq message id: 1<br>bye</p>", messageMarker("1"))).toBe(true);
    expect(hasMarker("<p>not Linq message id: 1</p>", messageMarker("1"))).toBe(false);
    expect(hasMarker(null, messageMarker("1"))).toBe(false);
    const call = callProperties(
      {
        callId: "9",
        direction: "inbound",
        from: "+15551234567",
        to: "+15550001111",
        status: null,
        durationSeconds: null,
        startedAt: "2026-01-15T12:00:00Z",
        recordingUrl: null,
        transcription: null,
        summary: null,
        voicemail: false,
      },
      {},
    );
    expect(hasMarker(call.hs_call_body, callMarker("9"))).toBe(true);
  });
});
