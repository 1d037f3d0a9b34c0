/**
 * The simulator's read-only web page: `GET /` lists the channels with their
 * threads, `GET /channels/<id>` shows one channel — every parent message with its
 * replies (author, time, text), files (name, size, link) and reactions (emoji
 * name and count). Server-rendered HTML, no JavaScript; every value is escaped.
 */
import type { ChannelRecord, MessageRecord, SlackState } from "./simulator-state.ts";

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(value: string): string {
  return value
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d1c1d;background:#f8f8f8}
header{background:#3f0e40;color:#fff;padding:12px 24px}
header a{color:#fff;text-decoration:none}
main{max-width:880px;margin:0 auto;padding:16px 24px}
h1{font-size:20px;margin:0}h2{font-size:18px;margin:24px 0 8px}
.muted{color:#616061;font-size:13px}
ul.channels{list-style:none;padding:0}
ul.channels>li{background:#fff;border:1px solid #ddd;border-radius:6px;margin:8px 0;padding:10px 14px}
ul.threads{margin:6px 0 0;padding-left:18px}
.badge{display:inline-block;font-size:11px;border:1px solid #bbb;border-radius:10px;padding:0 6px;margin-left:6px;color:#555}
article.message{background:#fff;border:1px solid #ddd;border-radius:6px;margin:12px 0;padding:10px 14px}
.replies{border-left:3px solid #e8e8e8;margin:8px 0 0 4px;padding-left:12px}
.replies article.message{border:none;border-radius:0;margin:0;padding:6px 0}
.author{font-weight:700}.time{color:#616061;font-size:12px;margin-left:8px}
.text{white-space:pre-wrap;margin:4px 0}
ul.files{margin:4px 0;padding-left:18px}
.reactions span{display:inline-block;background:#f1f1f1;border:1px solid #ddd;border-radius:12px;padding:0 8px;margin:2px 4px 0 0;font-size:13px}
`;

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1><a href="/">${escapeHtml(title)}</a></h1></header>
<main>
${body}
</main>
</body>
</html>
`;
}

function formatTime(ts: string): string {
  const date = new Date(Math.floor(Number(ts) * 1000));
  return `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function channelLabel(channel: ChannelRecord): string {
  return `${channel.isPrivate ? "🔒" : "#"}${channel.name}`;
}

/** `GET /`: the channels and their threads. */
export function renderIndexPage(state: SlackState): string {
  const { identity } = state;
  const items = state.allChannels().map((channel) => {
    const topLevel = state.topLevel(channel);
    const threads = topLevel.filter((message) => message.replies.length > 0);
    const badges = [
      channel.isPrivate ? '<span class="badge">private</span>' : "",
      channel.isArchived ? '<span class="badge">archived</span>' : "",
      channel.botIsMember
        ? '<span class="badge">app is a member</span>'
        : '<span class="badge">app not in channel</span>',
    ].join("");
    const threadList =
      threads.length === 0
        ? ""
        : `<ul class="threads">${threads
            .map(
              (message) =>
                `<li><a href="/channels/${encodeURIComponent(channel.id)}#m${escapeHtml(message.ts)}">${escapeHtml(
                  preview(message.text || fileNames(state, message) || "(no text)"),
                )}</a> <span class="muted">${message.replies.length} ${message.replies.length === 1 ? "reply" : "replies"}</span></li>`,
            )
            .join("")}</ul>`;
    return `<li><a href="/channels/${encodeURIComponent(channel.id)}"><strong>${escapeHtml(channelLabel(channel))}</strong></a>${badges}
<div class="muted">${escapeHtml(channel.id)} · ${topLevel.length} ${topLevel.length === 1 ? "message" : "messages"} · ${threads.length} ${threads.length === 1 ? "thread" : "threads"}</div>${threadList}</li>`;
  });
  const body = `<p class="muted">Simulated Slack workspace ${escapeHtml(identity.teamName)} (${escapeHtml(identity.teamId)}) · app ${escapeHtml(identity.botName)} (${escapeHtml(identity.botUserId)}). This page is read-only.</p>
<h2>Channels</h2>
<ul class="channels">
${items.join("\n")}
</ul>`;
  return layout(`${identity.teamName} — Slack simulator`, body);
}

/** `GET /channels/<id>`: the channel's messages with threads, files and reactions. */
export function renderChannelPage(state: SlackState, channel: ChannelRecord): string {
  const topLevel = state.topLevel(channel);
  const messages =
    topLevel.length === 0
      ? '<p class="muted">No messages yet.</p>'
      : topLevel
          .map((message) => {
            const replies =
              message.threadTs === undefined ? state.threadOf(channel, message.ts).slice(1) : [];
            const replyHtml =
              replies.length === 0
                ? ""
                : `<section class="replies" aria-label="replies">${replies.map((reply) => renderMessage(state, reply)).join("\n")}</section>`;
            return renderMessage(state, message, replyHtml);
          })
          .join("\n");
  const body = `<p><a href="/">← All channels</a></p>
<h2>${escapeHtml(channelLabel(channel))}${channel.isArchived ? ' <span class="badge">archived</span>' : ""}</h2>
<p class="muted">${escapeHtml(channel.id)}${channel.topic === "" ? "" : ` · ${escapeHtml(channel.topic)}`}</p>
${messages}`;
  return layout(`${channelLabel(channel)} — Slack simulator`, body);
}

function renderMessage(state: SlackState, message: MessageRecord, inner = ""): string {
  const author = message.kind === "tombstone" ? "(deleted)" : state.authorName(message.author);
  const botBadge = message.author.kind === "bot" ? '<span class="badge">APP</span>' : "";
  const edited = message.edited === undefined ? "" : ' <span class="muted">(edited)</span>';
  const broadcast =
    message.kind === "thread_broadcast" ? ' <span class="muted">(also sent to the channel)</span>' : "";
  const files = message.fileIds.flatMap((id) => {
    const file = state.file(id);
    if (file === undefined) return [];
    const rendered = state.renderFile(file);
    return [
      `<li class="file"><a href="${escapeHtml(new URL(rendered.permalink).pathname)}">${escapeHtml(file.name)}</a> <span class="muted">${escapeHtml(file.prettyType)}, ${formatSize(file.size)}</span></li>`,
    ];
  });
  const reactions = message.reactions.map(
    (reaction) =>
      `<span class="reaction" title="${escapeHtml(reaction.users.join(", "))}">:${escapeHtml(reaction.name)}: ${reaction.users.length}</span>`,
  );
  return `<article class="message" id="m${escapeHtml(message.ts)}">
<div><span class="author">${escapeHtml(author)}</span>${botBadge}<time class="time" datetime="${new Date(Math.floor(Number(message.ts) * 1000)).toISOString()}">${formatTime(message.ts)}</time>${edited}${broadcast}</div>
${message.text === "" ? "" : `<div class="text">${escapeHtml(message.text)}</div>`}
${files.length === 0 ? "" : `<ul class="files">${files.join("")}</ul>`}
${reactions.length === 0 ? "" : `<div class="reactions">${reactions.join("")}</div>`}
${inner}
</article>`;
}

function preview(text: string): string {
  const line = text.split("\n")[0] ?? "";
  return line.length > 80 ? `${line.slice(0, 79)}…` : line;
}

function fileNames(state: SlackState, message: MessageRecord): string {
  return message.fileIds
    .map((id) => state.file(id)?.name)
    .filter((name) => name !== undefined)
    .join(", ");
}

/** The "sign in" page unauthenticated file downloads are redirected to, as on Slack. */
export function renderSignInPage(state: SlackState): string {
  return layout(
    `Sign in to ${state.identity.teamName}`,
    `<h2>Sign in to ${escapeHtml(state.identity.teamName)}</h2>
<p>This file needs authentication: send <code>Authorization: Bearer &lt;token&gt;</code> with a token that has <code>files:read</code>.</p>`,
  );
}

export function renderNotFoundPage(what: string): string {
  return layout(
    "Not found — Slack simulator",
    `<p>${escapeHtml(what)} was not found.</p><p><a href="/">All channels</a></p>`,
  );
}
