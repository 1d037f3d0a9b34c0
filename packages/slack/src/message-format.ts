/**
 * What the connector posts, in Block Kit, always with a plain `text` fallback (notifications,
 * screen readers, clients without blocks). Customer text is escaped (`&`, `<`, `>`) so that nobody
 * can ping @channel or forge links by texting in; sections stay under Slack's 3 000 characters.
 */
import { formatPhoneNumberForDisplay } from "@linq-connect/core";

/** Slack's limit for a section's text. */
export const sectionTextLimit = 3000;
/** What the connector puts in one message at most (Slack allows 40 000 characters). */
const maxMessageCharacters = 30_000;
/** Slack's limit for a context element's text. */
const contextTextLimit = 2000;

export interface SlackMessageContent {
  text: string;
  blocks: unknown[];
}

/** Escapes the three characters Slack's mrkdwn gives a meaning to. */
export function escapeMrkdwn(value: string): string {
  return value.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/** Splits text into parts of at most `limit` characters, at a line break or space when there is one. */
export function splitText(value: string, limit = sectionTextLimit): string[] {
  const parts: string[] = [];
  let rest = value;
  while (rest.length > limit) {
    let cut = rest.lastIndexOf("\n", limit);
    if (cut < limit / 2) cut = rest.lastIndexOf(" ", limit);
    if (cut < limit / 2) cut = limit;
    // Never split a surrogate pair.
    const code = rest.charCodeAt(cut - 1);
    if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
    parts.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^[\n ]/, "");
  }
  if (rest.length > 0 || parts.length === 0) parts.push(rest);
  return parts;
}

/** Cuts text to `limit` characters, ending with "…" when it was longer. */
export function truncate(value: string, limit: number): string {
  if (value.length <= limit) return value;
  let cut = limit - 1;
  const code = value.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
  return `${value.slice(0, cut)}…`;
}

/** `<!date^…>`: Slack shows the time in each reader's time zone; the fallback is UTC. */
export function slackDate(iso: string | null | undefined): string | undefined {
  if (iso === undefined || iso === null) return undefined;
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return undefined;
  const fallback = `${new Date(time).toISOString().slice(0, 16).replace("T", " ")} UTC`;
  return `<!date^${Math.floor(time / 1000)}^{date_short_pretty} {time}|${fallback}>`;
}

/** Seconds as m:ss (h:mm:ss from an hour). */
export function formatDuration(seconds: number | null | undefined): string {
  const total = Math.max(0, Math.round(seconds ?? 0));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const rest = String(total % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${rest}` : `${minutes}:${rest}`;
}

/** A phone number as people read it (emails and anything else unchanged). */
export function displayAddress(address: string): string {
  return formatPhoneNumberForDisplay(address);
}

/** "Jane Doe ((555) 123-4567)" or "(555) 123-4567". */
export function personLabel(address: string, name: string | undefined): string {
  const shown = displayAddress(address);
  return name === undefined || name === "" || name === shown ? shown : `${name} (${shown})`;
}

function section(textValue: string): Record<string, unknown> {
  return { type: "section", text: { type: "mrkdwn", text: textValue } };
}

function context(elements: string[]): Record<string, unknown> {
  return {
    type: "context",
    elements: elements.map((element) => ({ type: "mrkdwn", text: truncate(element, contextTextLimit) })),
  };
}

function textSections(value: string): Record<string, unknown>[] {
  const escaped = escapeMrkdwn(truncate(value, maxMessageCharacters));
  return splitText(escaped).map((part) => section(part));
}

// ------------------------------------------------------------------ the conversation header

export interface HeaderMember {
  address: string;
  name?: string;
}

export interface HeaderLink {
  label: string;
  url: string;
}

export interface HeaderFields {
  /** The participants other than us. */
  members: HeaderMember[];
  group: boolean;
  /** The chat's display name (groups). */
  displayName?: string;
  service?: string;
  /** Our Linq number. */
  linqNumber?: string;
  links: HeaderLink[];
}

function headerTitle(fields: HeaderFields): string {
  const [first] = fields.members;
  if (!fields.group && first !== undefined) return first.name ?? displayAddress(first.address);
  if (fields.displayName !== undefined && fields.displayName !== "") return fields.displayName;
  const names = fields.members.slice(0, 3).map((member) => member.name ?? displayAddress(member.address));
  const more = fields.members.length - names.length;
  return `${names.join(", ")}${more > 0 ? ` and ${more} more` : ""}` || "Conversation";
}

/** A stable fingerprint of what the header shows, to know when it must be updated. */
export function headerFingerprint(fields: HeaderFields): string {
  return JSON.stringify([
    fields.members.map((member) => [member.address, member.name ?? ""]),
    fields.group,
    fields.displayName ?? "",
    fields.service ?? "",
    fields.linqNumber ?? "",
    fields.links.map((link) => [link.label, link.url]),
  ]);
}

/** The thread's parent message: who the conversation is with, on which service and number. */
export function renderHeader(fields: HeaderFields): SlackMessageContent {
  const title = headerTitle(fields);
  const numbers = fields.members.map((member) => displayAddress(member.address));
  const lines: string[] = [];
  if (!fields.group) {
    const [first] = fields.members;
    if (first !== undefined && first.name !== undefined)
      lines.push(escapeMrkdwn(displayAddress(first.address)));
  } else {
    lines.push(
      `*Members:* ${fields.members.map((member) => escapeMrkdwn(personLabel(member.address, member.name))).join(", ")}`,
    );
  }
  const details = [
    fields.service === undefined ? undefined : `:speech_balloon: ${escapeMrkdwn(fields.service)}`,
    fields.group ? `${fields.members.length} participants` : undefined,
    fields.linqNumber === undefined ? undefined : `via ${escapeMrkdwn(displayAddress(fields.linqNumber))}`,
    ...fields.links.map((link) => `<${link.url}|${escapeMrkdwn(link.label)}>`),
  ].filter((value): value is string => value !== undefined);
  const blocks: unknown[] = [
    section(
      truncate(
        `:iphone: *${escapeMrkdwn(title)}*${lines.length === 0 ? "" : `\n${lines.join("\n")}`}`,
        sectionTextLimit,
      ),
    ),
  ];
  if (details.length > 0) blocks.push(context([details.join("  ·  ")]));
  const fallback = `Conversation with ${title}${
    numbers.length > 0 && !(numbers.length === 1 && numbers[0] === title) ? ` (${numbers.join(", ")})` : ""
  }${fields.service === undefined ? "" : ` · ${fields.service}`}`;
  return { text: truncate(fallback, 3000), blocks };
}

// ------------------------------------------------------------------ messages

export interface MessageFields {
  direction: "inbound" | "outbound";
  /** inbound: the customer; outbound: who sent it (a Linq number, a Slack user, a label). */
  authorLabel: string;
  sentAt?: string | null;
  text: string;
  attachmentCount: number;
  service?: string | null;
}

/** A message of the conversation, as a thread reply. */
export function renderMessage(fields: MessageFields): SlackMessageContent {
  const when = slackDate(fields.sentAt);
  const author =
    fields.direction === "inbound"
      ? `*${escapeMrkdwn(fields.authorLabel)}*`
      : `:outbox_tray: *${escapeMrkdwn(fields.authorLabel)}*`;
  const extra = [
    when,
    fields.service === undefined || fields.service === null ? undefined : escapeMrkdwn(fields.service),
    fields.attachmentCount > 0
      ? `:paperclip: ${fields.attachmentCount} attachment${fields.attachmentCount === 1 ? "" : "s"}`
      : undefined,
  ].filter((value): value is string => value !== undefined);
  const blocks: unknown[] = [context([[author, ...extra].join("  ·  ")])];
  const body = fields.text.trim();
  if (body !== "") blocks.push(...textSections(body).slice(0, 45));
  const fallbackBody =
    body !== "" ? body : fields.attachmentCount > 0 ? `[${fields.attachmentCount} attachment(s)]` : "";
  return { text: truncate(`${fields.authorLabel}: ${fallbackBody}`, 4000), blocks };
}

/** A one-line notice in the thread (participants, read receipts, typing, warnings). */
export function renderNotice(line: string, options: { fallback?: string } = {}): SlackMessageContent {
  return {
    text: truncate(options.fallback ?? line, 3000),
    blocks: [context([line])],
  };
}

/** A warning reply (a failed send, a delivery problem). */
export function renderWarning(line: string): SlackMessageContent {
  return {
    text: truncate(`Warning: ${line}`, 3000),
    blocks: [section(truncate(`:warning: ${line}`, sectionTextLimit))],
  };
}

/** An attachment that could not be copied into Slack: a link and the reason. */
export function renderAttachmentFallback(input: {
  filename: string;
  url?: string | null | undefined;
  reason: string;
}): SlackMessageContent {
  const name = escapeMrkdwn(input.filename);
  const link =
    input.url === undefined || input.url === null || !/^https?:\/\//.test(input.url)
      ? name
      : `<${input.url}|${name}>`;
  return {
    text: truncate(`Attachment ${input.filename} was not copied into Slack (${input.reason})`, 3000),
    blocks: [
      section(
        truncate(
          `:paperclip: ${link}\n_Not copied into Slack: ${escapeMrkdwn(input.reason)}_`,
          sectionTextLimit,
        ),
      ),
    ],
  };
}

// ------------------------------------------------------------------ calls

export interface CallFields {
  direction?: string | null;
  /** The other party. */
  counterpart: string;
  counterpartName?: string;
  durationSeconds?: number | null;
  answeredBy?: string | null;
  voicemail?: boolean | null;
  startedAt?: string | null;
  recordingUrl?: string | null;
  summary?: string | null;
  transcript?: string | null;
  /** Where the transcript is cut (the rest goes into a file). */
  transcriptLimit?: number;
}

/** Whether a transcript is too long to show whole (it is then attached as a file). */
export function isTranscriptTruncated(fields: CallFields): boolean {
  return (fields.transcript ?? "").length > (fields.transcriptLimit ?? 2500);
}

/** A completed call: direction, duration, who answered, voicemail, recording, summary, transcript. */
export function renderCall(fields: CallFields): SlackMessageContent {
  const who = personLabel(fields.counterpart, fields.counterpartName);
  const direction = fields.direction === "outbound" ? "Outbound call to" : "Inbound call from";
  const outcome =
    fields.voicemail === true
      ? ":mailbox_with_mail: voicemail"
      : fields.answeredBy !== undefined && fields.answeredBy !== null && fields.answeredBy !== ""
        ? `answered by ${escapeMrkdwn(fields.answeredBy)}`
        : (fields.durationSeconds ?? 0) > 0
          ? "answered"
          : "not answered";
  const first = `:telephone_receiver: *${direction} ${escapeMrkdwn(who)}*  ·  ${formatDuration(fields.durationSeconds)}  ·  ${outcome}`;
  const blocks: unknown[] = [section(truncate(first, sectionTextLimit))];
  const when = slackDate(fields.startedAt);
  if (when !== undefined) blocks.push(context([when]));
  if (
    fields.recordingUrl !== undefined &&
    fields.recordingUrl !== null &&
    /^https?:\/\//.test(fields.recordingUrl)
  ) {
    blocks.push(section(`:studio_microphone: <${fields.recordingUrl}|Recording>`));
  }
  if (fields.summary !== undefined && fields.summary !== null && fields.summary.trim() !== "") {
    blocks.push(section(truncate(`*Summary:* ${escapeMrkdwn(fields.summary.trim())}`, sectionTextLimit)));
  }
  const transcript = fields.transcript?.trim();
  if (transcript !== undefined && transcript !== "") {
    const limit = fields.transcriptLimit ?? 2500;
    const shown = transcript.length > limit ? truncate(transcript, limit) : transcript;
    const note =
      transcript.length > limit ? "\n_Transcript truncated: the full transcript is attached below._" : "";
    blocks.push(
      section(
        truncate(`*Transcript:*\n>${escapeMrkdwn(shown).replaceAll("\n", "\n>")}${note}`, sectionTextLimit),
      ),
    );
  }
  const fallback = `${direction} ${who}, ${formatDuration(fields.durationSeconds)}${
    fields.voicemail === true ? ", voicemail" : ""
  }${fields.summary ? `: ${fields.summary}` : ""}`;
  return { text: truncate(fallback, 3000), blocks };
}
