/**
 * A read-only web page of the simulated org, for people running the sandbox:
 * `GET /` lists Contacts and Leads with their Tasks, `GET /records/{id}` shows one
 * record with every field. Server-rendered, every value HTML-escaped.
 */
import type { RecordStore, StoredRecord } from "./simulator-store.ts";

export function escapeHtml(value: unknown): string {
  return String(value ?? "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:2rem;color:#181818}table{border-collapse:collapse;margin:.5rem 0 1.5rem}
th,td{border:1px solid #d8dde6;padding:.3rem .6rem;text-align:left;vertical-align:top}th{background:#f3f3f3}
.tasks{margin:.2rem 0 0 1rem;font-size:.9em}.muted{color:#706e6b}`;

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>`;
}

function userName(store: RecordStore, id: unknown): string {
  const user = typeof id === "string" ? store.get(id) : undefined;
  return user === undefined ? "" : String(user.values.Name ?? "");
}

function tasksOf(store: RecordStore, record: StoredRecord): StoredRecord[] {
  return store.all("Task").filter((task) => task.values.WhoId === record.id);
}

function taskList(store: RecordStore, record: StoredRecord): string {
  const tasks = tasksOf(store, record);
  if (tasks.length === 0) return '<span class="muted">No tasks</span>';
  const items = tasks
    .map(
      (task) =>
        `<li><a href="/records/${escapeHtml(task.id)}">${escapeHtml(task.values.Subject ?? "(no subject)")}</a> — ${escapeHtml(task.values.Status)}${task.values.TaskSubtype === null ? "" : ` · ${escapeHtml(task.values.TaskSubtype)}`}${task.values.ActivityDate === null ? "" : ` · ${escapeHtml(task.values.ActivityDate)}`}${task.values.Description === null ? "" : `<br><span class="muted">${escapeHtml(task.values.Description)}</span>`}</li>`,
    )
    .join("");
  return `<ul class="tasks">${items}</ul>`;
}

function peopleTable(store: RecordStore, objectName: "Contact" | "Lead"): string {
  const records = store.all(objectName);
  if (records.length === 0) return `<p class="muted">No ${objectName.toLowerCase()}s.</p>`;
  const extra = objectName === "Lead" ? "<th>Company</th><th>Status</th>" : "";
  const rows = records
    .map((record) => {
      const values = record.values;
      const extraCells =
        objectName === "Lead"
          ? `<td>${escapeHtml(values.Company)}</td><td>${escapeHtml(values.Status)}</td>`
          : "";
      return `<tr><td><a href="/records/${escapeHtml(record.id)}">${escapeHtml(values.Name)}</a></td><td>${escapeHtml(values.Email)}</td><td>${escapeHtml(values.Phone)}</td><td>${escapeHtml(values.MobilePhone)}</td>${extraCells}<td>${escapeHtml(userName(store, values.OwnerId))}</td><td>${escapeHtml(values.LastModifiedDate)}</td><td>${taskList(store, record)}</td></tr>`;
    })
    .join("");
  return `<table><thead><tr><th>Name</th><th>Email</th><th>Phone</th><th>Mobile</th>${extra}<th>Owner</th><th>Last modified</th><th>Tasks</th></tr></thead><tbody>${rows}</tbody></table>`;
}

export function renderHome(store: RecordStore, organizationId: string): string {
  return page(
    "Salesforce simulator",
    `<h1>Salesforce simulator</h1><p class="muted">Org ${escapeHtml(organizationId)} · read-only view</p><h2>Contacts</h2>${peopleTable(store, "Contact")}<h2>Leads</h2>${peopleTable(store, "Lead")}`,
  );
}

export function renderRecord(store: RecordStore, record: StoredRecord): string {
  const rows = record.object.fields
    .map(
      (field) =>
        `<tr><th>${escapeHtml(field.name)}</th><td>${escapeHtml(record.values[field.name])}</td></tr>`,
    )
    .join("");
  const tasks =
    record.object.name === "Contact" || record.object.name === "Lead"
      ? `<h2>Tasks</h2>${taskList(store, record)}`
      : "";
  return page(
    `${record.object.name} ${record.id}`,
    `<p><a href="/">← All records</a></p><h1>${escapeHtml(record.object.label)}: ${escapeHtml(record.values.Name ?? record.values.Subject ?? record.id)}</h1>${record.values.IsDeleted === true ? '<p class="muted">In the recycle bin</p>' : ""}<table>${rows}</table>${tasks}`,
  );
}

export function renderNotFound(): string {
  return page("Not found", '<h1>Not found</h1><p><a href="/">← All records</a></p>');
}
