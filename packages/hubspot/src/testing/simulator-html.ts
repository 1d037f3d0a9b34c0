/**
 * A read-only web view of the simulated account: `GET /` lists the contacts, `GET /contacts/<id>`
 * shows a contact's properties, companies and timeline (communications and calls, newest first).
 * Server-rendered; every value is HTML-escaped.
 */
import { CALL_STATUSES, COMMUNICATION_CHANNEL_TYPES } from "./simulator-schema.ts";
import type { SimulatorStore, StoredObject } from "./simulator-store.ts";
import { parseTime } from "./simulator-values.ts";

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => ESCAPES[character] ?? character);
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:2rem;color:#213343}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #cbd6e2;padding:.3rem .6rem;text-align:left;vertical-align:top}
th{background:#f5f8fa}.entry{border-left:4px solid #ff7a59;padding:.4rem .8rem;margin:.6rem 0;background:#fafbfc}
.meta{color:#516f90;font-size:.9em}.body{white-space:pre-wrap}`;

function page(title: string, content: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><p class="meta">HubSpot simulator (linq-connect) · read-only</p>${content}</body></html>
`;
}

function value(record: StoredObject, name: string): string {
  return record.properties.get(name) ?? "";
}

function displayName(record: StoredObject): string {
  const name = `${value(record, "firstname")} ${value(record, "lastname")}`.trim();
  return name !== "" ? name : value(record, "email") || value(record, "phone") || `Contact ${record.id}`;
}

/** `GET /`: every live contact. */
export function renderContactList(store: SimulatorStore): string {
  const contacts = store.list("contacts");
  const rows = contacts
    .map(
      (contact) =>
        `<tr><td><a href="/contacts/${escapeHtml(contact.id)}">${escapeHtml(contact.id)}</a></td><td>${escapeHtml(displayName(contact))}</td><td>${escapeHtml(value(contact, "email"))}</td><td>${escapeHtml(value(contact, "phone") || value(contact, "mobilephone"))}</td><td>${escapeHtml(value(contact, "company"))}</td></tr>`,
    )
    .join("\n");
  const table =
    contacts.length === 0
      ? "<p>No contacts yet.</p>"
      : `<table><thead><tr><th>ID</th><th>Name</th><th>Email</th><th>Phone</th><th>Company</th></tr></thead><tbody>\n${rows}\n</tbody></table>`;
  return page("Contacts", `<h1>Contacts (${contacts.length})</h1>${table}`);
}

function labelOf(options: readonly (readonly [string, string])[], raw: string): string {
  return options.find(([optionValue]) => optionValue === raw)?.[1] ?? raw;
}

function timelineEntry(record: StoredObject): { time: number; html: string } {
  const timestamp = value(record, "hs_timestamp");
  const time = parseTime(timestamp) ?? record.createdAt;
  const when = escapeHtml(timestamp || new Date(record.createdAt).toISOString());
  if (record.objectType === "calls") {
    const duration = Number(value(record, "hs_call_duration"));
    const details = [
      value(record, "hs_call_direction") === "INBOUND" ? "Inbound call" : "Outbound call",
      value(record, "hs_call_status") && labelOf(CALL_STATUSES, value(record, "hs_call_status")),
      Number.isFinite(duration) && value(record, "hs_call_duration") !== ""
        ? `${Math.round(duration / 1000)} s`
        : "",
      [value(record, "hs_call_from_number"), value(record, "hs_call_to_number")].filter(Boolean).join(" → "),
    ].filter((part) => part !== "");
    const recording = value(record, "hs_call_recording_url");
    return {
      time,
      html: `<div class="entry"><div class="meta">${when} · ${escapeHtml(details.join(" · "))}</div><strong>${escapeHtml(value(record, "hs_call_title") || "Call")}</strong><div class="body">${escapeHtml(value(record, "hs_call_body"))}</div>${recording === "" ? "" : `<div class="meta">Recording: ${escapeHtml(recording)}</div>`}</div>`,
    };
  }
  const channel = labelOf(COMMUNICATION_CHANNEL_TYPES, value(record, "hs_communication_channel_type"));
  return {
    time,
    html: `<div class="entry"><div class="meta">${when} · ${escapeHtml(channel || "Message")}</div><div class="body">${escapeHtml(value(record, "hs_communication_body"))}</div></div>`,
  };
}

/** `GET /contacts/<id>`: a contact's properties, companies and timeline; undefined when it does not exist. */
export function renderContactPage(store: SimulatorStore, id: string): string | undefined {
  const contact = store.live("contacts", id);
  if (contact === undefined) return undefined;
  const properties = [...contact.properties.entries()]
    .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0))
    .map(([name, text]) => `<tr><th>${escapeHtml(name)}</th><td>${escapeHtml(text)}</td></tr>`)
    .join("\n");
  const companies = store
    .associationsOf("contacts", id, "companies")
    .map((association) => store.live("companies", association.toId))
    .filter((company): company is StoredObject => company !== undefined)
    .map(
      (company) => `<li>${escapeHtml(value(company, "name") || value(company, "domain") || company.id)}</li>`,
    )
    .join("");
  const entries = (["communications", "calls"] as const)
    .flatMap((type) =>
      store
        .associationsOf("contacts", id, type)
        .map((association) => store.live(type, association.toId))
        .filter((record): record is StoredObject => record !== undefined),
    )
    .map(timelineEntry)
    .sort((left, right) => right.time - left.time)
    .map((entry) => entry.html)
    .join("\n");
  const content = `<p><a href="/">← All contacts</a></p><h1>${escapeHtml(displayName(contact))}</h1>
<h2>Properties</h2><table><tbody>${properties}</tbody></table>
<h2>Companies</h2>${companies === "" ? "<p>None.</p>" : `<ul>${companies}</ul>`}
<h2>Timeline</h2>${entries === "" ? "<p>No activity yet.</p>" : entries}`;
  return page(displayName(contact), content);
}

/** The 404 page. */
export function renderNotFoundPage(): string {
  return page("Not found", `<p><a href="/">← All contacts</a></p><h1>Not found</h1>`);
}
