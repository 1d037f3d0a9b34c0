/**
 * The HubSpot properties of logged messages and calls.
 *
 * A message becomes a Communication: `hs_communication_channel_type` (SMS unless the route says
 * otherwise: HubSpot has no iMessage or RCS value), `hs_communication_logged_from: CRM` (required for
 * API-logged messages), `hs_timestamp` = when the message was sent, and an HTML body that says the
 * direction, the service that carried it (iMessage, SMS, RCS), the customer's number and the Linq
 * number, the text, and the attachments as links. A daily digest is one Communication per
 * conversation and day listing every message. A call becomes a Call engagement.
 *
 * Every body ends with a marker paragraph ("Linq message id: 123", "Linq conversation: 7, 2026-01-15",
 * "Linq call id: 9"): HubSpot has no idempotency key, so a retry whose earlier create may have
 * happened finds that activity again by its marker (read in code: a body is not filterable).
 */
import {
  calendarDayIn,
  formatPhoneNumberForDisplay,
  type LinqCallActivity,
  type LinqMessageActivity,
  type PhoneNumberOptions,
  safeHttpUrl,
} from "@linq-connect/core";
import type { DigestLine } from "./mappings.ts";
import type { HubSpotRouteSettings } from "./settings.ts";

export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

function textToHtml(text: string): string {
  return escapeHtml(text).replaceAll(/\r?\n/g, "<br>");
}

function attachmentLinks(attachments: readonly { url: string; filename: string }[]): string {
  const links = attachments
    .map((attachment) => {
      const url = safeHttpUrl(attachment.url);
      if (url === undefined) return undefined;
      return `<a href="${escapeHtml(url)}">${escapeHtml(attachment.filename || "attachment")}</a>`;
    })
    .filter((link): link is string => link !== undefined);
  return links.length === 0 ? "" : `<p>Attachments: ${links.join(", ")}</p>`;
}

function display(handle: string, options: PhoneNumberOptions): string {
  return formatPhoneNumberForDisplay(
    handle,
    options.defaultRegion === undefined ? {} : { region: options.defaultRegion },
  );
}

/** One message as it is logged. */
export type LoggedMessage = LinqMessageActivity;

/** The marker of a message's Communication. */
export function messageMarker(messageId: string): string {
  return `Linq message id: ${messageId}`;
}

/** The marker of a conversation's daily digest. */
export function digestMarker(chatId: string, day: string): string {
  return `Linq conversation: ${chatId}, ${day}`;
}

/** The marker of a call's Call engagement. */
export function callMarker(callId: string): string {
  return `Linq call id: ${callId}`;
}

function markerParagraph(marker: string): string {
  return `<p>${escapeHtml(marker)}</p>`;
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'", nbsp: " " };

/** Whether an HTML body holds the marker as a paragraph or line of its own (tags and entities read as text). */
export function hasMarker(body: unknown, marker: string): boolean {
  if (typeof body !== "string") return false;
  return body
    .replaceAll(/<[^>]*>/g, "\n")
    .replaceAll(/&(amp|lt|gt|quot|#39|nbsp);/g, (_, name: string) => ENTITIES[name] ?? "")
    .split("\n")
    .some((line) => line.trim() === marker);
}

function headline(
  message: LoggedMessage,
  settings: HubSpotRouteSettings,
  options: PhoneNumberOptions,
): string {
  const service = settings.showServiceInBody && message.service !== null ? message.service : "Message";
  const verb = message.direction === "incoming" ? "received" : "sent";
  const customer = message.participants.map((handle) => display(handle, options)).join(", ");
  const linqNumber = message.linqNumber === undefined ? "" : display(message.linqNumber, options);
  const route =
    message.direction === "incoming"
      ? `from ${customer}${linqNumber === "" ? "" : ` to Linq number ${linqNumber}`}`
      : `${linqNumber === "" ? "" : `from Linq number ${linqNumber} `}to ${customer}`;
  return `${service} ${verb} ${route}`.replaceAll(/\s+/g, " ").trim();
}

/** The properties of a per-message Communication. */
export function messageCommunicationProperties(
  message: LoggedMessage,
  settings: HubSpotRouteSettings,
  options: PhoneNumberOptions,
): Record<string, string> {
  const body = [
    `<p><strong>${escapeHtml(headline(message, settings, options))}</strong></p>`,
    message.text === "" ? "" : `<p>${textToHtml(message.text)}</p>`,
    attachmentLinks(message.attachments),
    markerParagraph(messageMarker(message.messageId)),
  ].join("");
  return {
    hs_communication_channel_type: settings.channelType,
    hs_communication_logged_from: "CRM",
    hs_communication_body: body,
    hs_timestamp: message.sentAt,
  };
}

/** HubSpot keeps at most 65 536 characters in a body: the digest keeps the newest lines that fit. */
const MAX_BODY_CHARACTERS = 60_000;

/** The properties of a daily digest Communication, from every line of the day. */
export function digestCommunicationProperties(
  input: {
    chatId: string;
    day: string;
    participants: string[];
    linqNumber: string | undefined;
    lines: readonly DigestLine[];
  },
  settings: HubSpotRouteSettings,
  options: PhoneNumberOptions,
): Record<string, string> {
  const lines = [...input.lines].sort((left, right) => left.at.localeCompare(right.at));
  const timeFormat = new Intl.DateTimeFormat("en-GB", {
    timeZone: settings.digestTimeZone,
    hour: "2-digit",
    minute: "2-digit",
  });
  const customer = input.participants.map((handle) => display(handle, options)).join(", ");
  const linqNumber =
    input.linqNumber === undefined ? "" : ` on Linq number ${display(input.linqNumber, options)}`;
  const header = `<p><strong>${escapeHtml(
    `Conversation with ${customer}${linqNumber}, ${input.day} (${settings.digestTimeZone}): ${lines.length} message${lines.length === 1 ? "" : "s"}`,
  )}</strong></p>`;
  const rendered = lines.map((line) => {
    const arrow = line.direction === "incoming" ? "←" : "→";
    const service = settings.showServiceInBody && line.service !== null ? ` ${line.service}` : "";
    const who = line.direction === "incoming" ? "customer" : "us";
    return `<p>${escapeHtml(`${timeFormat.format(new Date(line.at))} ${arrow} ${who}${service}:`)} ${textToHtml(line.text)}${
      line.attachments.length === 0 ? "" : ` ${attachmentLinks(line.attachments).replace(/^<p>|<\/p>$/g, "")}`
    }</p>`;
  });
  const marker = markerParagraph(digestMarker(input.chatId, input.day));
  let body = header + rendered.join("") + marker;
  let dropped = 0;
  while (body.length > MAX_BODY_CHARACTERS && rendered.length > 1) {
    rendered.shift();
    dropped += 1;
    body = `${header}<p>(${dropped} earlier message${dropped === 1 ? "" : "s"} not shown)</p>${rendered.join("")}${marker}`;
  }
  const last = lines.at(-1);
  return {
    hs_communication_channel_type: settings.channelType,
    hs_communication_logged_from: "CRM",
    hs_communication_body: body,
    hs_timestamp: last?.at ?? new Date().toISOString(),
  };
}

/** The calendar day (yyyy-mm-dd) of an instant in a time zone. */
export const dayOf = calendarDayIn;

/** A completed call as it is logged. */
export type LoggedCall = Omit<LinqCallActivity, "customer">;

const CALL_STATUSES: Record<string, string> = {
  completed: "COMPLETED",
  answered: "COMPLETED",
  busy: "BUSY",
  failed: "FAILED",
  "no-answer": "NO_ANSWER",
  no_answer: "NO_ANSWER",
  missed: "NO_ANSWER",
  canceled: "CANCELED",
  cancelled: "CANCELED",
};

/** The properties of a Call engagement. */
export function callProperties(call: LoggedCall, options: PhoneNumberOptions): Record<string, string> {
  const customer = call.direction === "inbound" ? call.from : call.to;
  const title = `${call.direction === "inbound" ? "Inbound" : "Outbound"} call ${call.direction === "inbound" ? "from" : "to"} ${display(customer, options)}`;
  const body = [
    `<p><strong>${escapeHtml(title)}</strong>${call.voicemail ? " (voicemail)" : ""}</p>`,
    call.summary === null || call.summary === ""
      ? ""
      : `<p><strong>Summary</strong><br>${textToHtml(call.summary)}</p>`,
    call.transcription === null || call.transcription === ""
      ? ""
      : `<p><strong>Transcript</strong><br>${textToHtml(call.transcription)}</p>`,
    markerParagraph(callMarker(call.callId)),
  ].join("");
  const properties: Record<string, string> = {
    hs_timestamp: call.startedAt,
    hs_call_title: title,
    hs_call_body: body,
    hs_call_direction: call.direction === "inbound" ? "INBOUND" : "OUTBOUND",
    hs_call_from_number: call.from,
    hs_call_to_number: call.to,
    hs_call_status: CALL_STATUSES[(call.status ?? "completed").toLowerCase()] ?? "COMPLETED",
  };
  if (call.durationSeconds !== null)
    properties.hs_call_duration = String(Math.round(call.durationSeconds * 1000));
  const recording = call.recordingUrl === null ? undefined : safeHttpUrl(call.recordingUrl);
  if (recording !== undefined) properties.hs_call_recording_url = recording;
  return properties;
}
