/**
 * The Task fields of logged messages and calls (pure functions; the activity logger and the backfill
 * share them).
 *
 * - A message: `Subject` "iMessage from Jane Doe" / "SMS to Jane Doe" (the service that carried it,
 *   the direction, the person's name or handle), a plain-text `Description` (direction and numbers,
 *   the text, attachment links, and a last line "Linq message id: <id>" that finds the Task again
 *   when a create's answer was lost), `ActivityDate` = the message's day in the route's time zone,
 *   `Status` Completed, `Priority` Normal, `TaskSubtype` Task.
 * - A daily digest: one Task per conversation and day listing every message, newest kept when the
 *   Description would pass Salesforce's 32,000 characters.
 * - A call: `TaskSubtype` Call, `CallType` Inbound/Outbound, `CallDurationInSeconds`, `CallObject`
 *   "linq:<call id>" (filterable, so a lost create is found by SOQL), `CallDisposition` = the status,
 *   the recording link, summary and transcript in the Description.
 *
 * Task has no direction field other than `CallType`: a message's direction is in its Subject and
 * Description. Description is a long text area: not filterable in SOQL, so markers are read in code.
 */
import {
  calendarDayIn,
  formatPhoneNumberForDisplay,
  isEmailHandle,
  type LinqCallActivity,
  type LinqMessageActivity,
  type PhoneNumberOptions,
  safeHttpUrl,
} from "@linq-connect/core";
import type { DigestLine } from "./mappings.ts";

/** One message as it is logged. */
export type LoggedMessage = LinqMessageActivity;
/** A completed call as it is logged. */
export type LoggedCall = LinqCallActivity;

/** Task.Description holds at most 32,000 characters. */
export const MAX_DESCRIPTION_CHARACTERS = 32_000;
/** Task.Subject holds at most 255 characters. */
export const MAX_SUBJECT_CHARACTERS = 255;

/** The calendar day (yyyy-mm-dd) of an instant in a time zone: a Task's ActivityDate, a digest's day. */
export const dayOf = calendarDayIn;

/** What every Task of one person shares. */
export interface TaskFormatOptions {
  /** The Contact or Lead the Task is on. */
  whoId: string;
  /** The person as the Subject names them: the record's Name, else their handle (see `displayHandle`). */
  name: string;
  /** The route's `digestTimeZone`: the ActivityDate is the day in this zone. */
  timeZone: string;
  /** OwnerId of the Task (the route's `ownerId`); undefined: the connected user. */
  ownerId: string | undefined;
  phoneNumberOptions?: PhoneNumberOptions | undefined;
}

/** A handle as people read it: "(555) 123-4567", "+44 20 7946 0958", an email as is. */
export function displayHandle(handle: string, options: PhoneNumberOptions = {}): string {
  if (isEmailHandle(handle)) return handle;
  return formatPhoneNumberForDisplay(
    handle,
    options.defaultRegion === undefined ? {} : { region: options.defaultRegion },
  );
}

/** The last line of a message Task's Description: finds the Task of a message again. */
export function messageMarker(messageId: string): string {
  return `Linq message id: ${messageId}`;
}

/** The last line of a digest Task's Description: finds the Task of a conversation's day again. */
export function digestMarker(chatId: string, day: string): string {
  return `Linq conversation: ${chatId}, ${day}`;
}

/** The CallObject of a call Task (a call identifier, as telephony integrations set it). */
export function callObjectOf(callId: string): string {
  return `linq:${callId}`;
}

/** Whether a Description ends with the marker (its own line). */
export function hasMarker(description: unknown, marker: string): boolean {
  return typeof description === "string" && description.split(/\r?\n/).includes(marker);
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Line breaks as "\n" (Linq texts may carry "\r\n"). */
function plain(text: string): string {
  return text.replace(/\r\n?/g, "\n");
}

function serviceName(service: string | null): string {
  return service === null || service.trim() === "" ? "Message" : service;
}

/** "iMessage from Jane Doe" / "SMS to Jane Doe". */
export function messageSubject(message: Pick<LoggedMessage, "direction" | "service">, name: string): string {
  return clip(
    `${serviceName(message.service)} ${message.direction === "incoming" ? "from" : "to"} ${name}`,
    MAX_SUBJECT_CHARACTERS,
  );
}

function attachmentLines(attachments: readonly { url: string; filename: string }[]): string[] {
  return attachments.flatMap((attachment) => {
    const url = safeHttpUrl(attachment.url);
    return url === undefined ? [] : [`- ${attachment.filename || "attachment"}: ${url}`];
  });
}

/**
 * The Description from its parts: the body is cut (with a note) so that the whole, marker included,
 * fits in 32,000 characters; the marker always stays the last line.
 */
export function fitDescription(body: string, marker: string): string {
  const tail = `\n\n${marker}`;
  const room = MAX_DESCRIPTION_CHARACTERS - tail.length;
  if (body.length <= room) return body + tail;
  const note = (cut: number) => `\n… (truncated: ${cut} more characters not shown)`;
  let kept = room - note(body.length).length;
  kept = Math.max(0, kept);
  return body.slice(0, kept) + note(body.length - kept) + tail;
}

function customers(participants: readonly string[], options: PhoneNumberOptions): string {
  return participants.map((handle) => displayHandle(handle, options)).join(", ");
}

function headline(message: LoggedMessage, name: string, options: PhoneNumberOptions): string {
  const service = serviceName(message.service);
  const people = customers(message.participants, options);
  const person = name === people || people === "" ? name : `${name} (${people})`;
  const linqNumber =
    message.linqNumber === undefined ? "" : `Linq number ${displayHandle(message.linqNumber, options)}`;
  return message.direction === "incoming"
    ? `Inbound ${service} from ${person}${linqNumber === "" ? "" : ` to ${linqNumber}`}`
    : `Outbound ${service}${linqNumber === "" ? "" : ` from ${linqNumber}`} to ${person}`;
}

function common(options: TaskFormatOptions, day: string): Record<string, unknown> {
  return {
    WhoId: options.whoId,
    ActivityDate: day,
    Status: "Completed",
    Priority: "Normal",
    ...(options.ownerId === undefined ? {} : { OwnerId: options.ownerId }),
  };
}

/** The fields of a per-message Task. */
export function messageTaskFields(
  message: LoggedMessage,
  options: TaskFormatOptions,
): Record<string, unknown> {
  const phone = options.phoneNumberOptions ?? {};
  const attachments = attachmentLines(message.attachments);
  const body = [
    headline(message, options.name, phone),
    `Sent: ${message.sentAt}`,
    ...(message.text === "" ? [] : ["", plain(message.text)]),
    ...(attachments.length === 0 ? [] : ["", "Attachments:", ...attachments]),
  ].join("\n");
  return {
    ...common(options, dayOf(message.sentAt, options.timeZone)),
    Subject: messageSubject(message, options.name),
    Description: fitDescription(body, messageMarker(message.messageId)),
    TaskSubtype: "Task",
  };
}

/** A message as a line of its day's digest. */
export function digestLineOf(message: LoggedMessage): DigestLine {
  const { messageId, sentAt: at, direction, service, text, attachments } = message;
  return { messageId, at, direction, service, text, attachments };
}

/** A conversation's day, as its digest Task shows it. */
export interface DigestInput {
  chatId: string;
  /** yyyy-mm-dd in `options.timeZone`. */
  day: string;
  participants: string[];
  linqNumber: string | undefined;
  lines: readonly DigestLine[];
}

function digestLine(line: DigestLine, time: Intl.DateTimeFormat): string {
  const arrow = line.direction === "incoming" ? "←" : "→";
  const who = line.direction === "incoming" ? "customer" : "us";
  const service = line.service === null ? "" : ` (${line.service})`;
  const attachments = attachmentLines(line.attachments).map((entry) => `  ${entry}`);
  return [
    `${time.format(new Date(line.at))} ${arrow} ${who}${service}: ${plain(line.text)}`,
    ...attachments,
  ].join("\n");
}

/**
 * The fields of a daily digest Task from every line of the day (sorted by time). When the
 * Description would be too long the earliest lines go, with a note saying how many.
 */
export function digestTaskFields(input: DigestInput, options: TaskFormatOptions): Record<string, unknown> {
  const phone = options.phoneNumberOptions ?? {};
  const lines = [...input.lines].sort((left, right) => left.at.localeCompare(right.at));
  const services = [...new Set(lines.map((line) => line.service).filter((service) => service !== null))];
  const service = services.length === 1 ? (services[0] as string) : "Messages";
  const time = new Intl.DateTimeFormat("en-GB", {
    timeZone: options.timeZone,
    hour: "2-digit",
    minute: "2-digit",
  });
  const people = customers(input.participants, phone);
  const linqNumber =
    input.linqNumber === undefined ? "" : ` on Linq number ${displayHandle(input.linqNumber, phone)}`;
  const count = `${lines.length} message${lines.length === 1 ? "" : "s"}`;
  const header = `Conversation with ${options.name}${people === options.name || people === "" ? "" : ` (${people})`}${linqNumber}, ${input.day} (${options.timeZone}): ${count}`;
  const marker = digestMarker(input.chatId, input.day);
  const rendered = lines.map((line) => digestLine(line, time));
  const budget = MAX_DESCRIPTION_CHARACTERS - marker.length - 2;
  const size = (parts: readonly string[]) => parts.reduce((total, part) => total + part.length + 1, 0);
  let dropped = 0;
  const noteOf = (count: number) => `(${count} earlier message${count === 1 ? "" : "s"} not shown)`;
  while (
    rendered.length > 1 &&
    size([header, "", ...(dropped > 0 ? [noteOf(dropped)] : []), ...rendered]) > budget
  ) {
    rendered.shift();
    dropped += 1;
  }
  const body = [header, "", ...(dropped > 0 ? [noteOf(dropped)] : []), ...rendered].join("\n");
  return {
    ...common(options, input.day),
    Subject: clip(`${service} conversation with ${options.name}`, MAX_SUBJECT_CHARACTERS),
    Description: fitDescription(body, marker),
    TaskSubtype: "Task",
  };
}

function duration(seconds: number): string {
  const whole = Math.round(seconds);
  const minutes = Math.floor(whole / 60);
  return minutes === 0 ? `${whole} s` : `${minutes} min ${whole % 60} s`;
}

/** The fields of a call Task. */
export function callTaskFields(call: LoggedCall, options: TaskFormatOptions): Record<string, unknown> {
  const phone = options.phoneNumberOptions ?? {};
  const inbound = call.direction === "inbound";
  const customer = displayHandle(call.customer, phone);
  const person = options.name === customer ? customer : `${options.name} (${customer})`;
  const ours = inbound ? call.to : call.from;
  const linqNumber = ours.trim() === "" ? "" : `Linq number ${displayHandle(ours, phone)}`;
  const title = inbound
    ? `Inbound call from ${person}${linqNumber === "" ? "" : ` to ${linqNumber}`}`
    : `Outbound call${linqNumber === "" ? "" : ` from ${linqNumber}`} to ${person}`;
  const recording = call.recordingUrl === null ? undefined : safeHttpUrl(call.recordingUrl);
  const details = [
    call.status === null ? undefined : `Status: ${call.status}`,
    call.durationSeconds === null ? undefined : `Duration: ${duration(call.durationSeconds)}`,
    call.voicemail ? "Voicemail" : undefined,
  ].filter((part) => part !== undefined);
  const body = [
    title,
    `Started: ${call.startedAt}`,
    ...(details.length === 0 ? [] : [details.join(" · ")]),
    ...(recording === undefined ? [] : [`Recording: ${recording}`]),
    ...(call.summary === null || call.summary === "" ? [] : ["", "Summary:", plain(call.summary)]),
    ...(call.transcription === null || call.transcription === ""
      ? []
      : ["", "Transcript:", plain(call.transcription)]),
  ].join("\n");
  const fields: Record<string, unknown> = {
    ...common(options, dayOf(call.startedAt, options.timeZone)),
    Subject: clip(
      `${inbound ? "Inbound call from" : "Outbound call to"} ${options.name}`,
      MAX_SUBJECT_CHARACTERS,
    ),
    Description: fitDescription(body, `Linq call id: ${call.callId}`),
    TaskSubtype: "Call",
    CallType: inbound ? "Inbound" : "Outbound",
    CallObject: callObjectOf(call.callId),
  };
  if (call.durationSeconds !== null) fields.CallDurationInSeconds = Math.round(call.durationSeconds);
  if (call.status !== null && call.status !== "") fields.CallDisposition = clip(call.status, 255);
  return fields;
}
