/**
 * `backfillHubSpot`: every Linq contact (and, optionally, conversation history) into HubSpot with
 * the batch endpoints, 100 records per request, resumable.
 *
 * Contacts:
 * 1. An index of the HubSpot contacts that exist (phone numbers normalised to E.164, emails lower
 *    case) is read with the list endpoint, 100 per request. The list endpoint reads the records, not
 *    the lagging search index, so contacts created a moment ago (by a previous, interrupted run, or
 *    by the live connector) are found: a rerun never duplicates.
 * 2. Linq contacts (updated since `since`) are read 100 at a time. Each one that is linked already is
 *    compared with its last synced values (changed fields are batch-updated); each one that matches
 *    an indexed contact (phone, then email) is linked with a first-link merge (HubSpot values batch
 *    read, winners batch-updated; HubSpot values that win go to Linq one by one); the rest are
 *    batch-created (a 409 on an email adopts the existing contact). Mappings are stored after every
 *    batch, then the cursor.
 *
 * Messages: for every chat of every Linq number, the messages sent since `since` that are not logged
 * yet become Communications (batch create, 100 per request; or one digest per conversation and day),
 * associated with the participants' contacts (created when unknown, unless the route says not to).
 *
 * Every request goes through the same process-wide limiter as the live connector. Progress (the next
 * Linq page, the chats done) is saved in the store as the cursor `hubspot:backfill`; a run with the
 * same `since` continues where the last one stopped (`restart` starts again; already linked
 * contacts and logged messages are skipped either way).
 *
 * Concurrent live traffic: live events take per-person locks, a batch does not; mappings are
 * re-checked right before each batch create, which leaves a window of one request. Run the backfill
 * before turning live contact sync on, or accept that window.
 */
import type { Client } from "@hubspot/api-client";
import {
  AbortError,
  type Chat,
  type ChatMessage,
  type ConnectorLogger,
  type Contact,
  contactIdentity,
  isEchoOfLastSync,
  type LinqClient,
  type MappingStore,
  mergeFieldsLastWriterWins,
  normalizeEmailAddress,
  type PhoneNumberOptions,
  tryNormalizePhoneNumber,
} from "@linq-connect/core";
import {
  dayOf,
  digestCommunicationProperties,
  type LoggedMessage,
  messageCommunicationProperties,
} from "./activity-format.ts";
import { phoneProperties, syncedFields } from "./connector-services.ts";
import { handlesOf } from "./contact-matching.ts";
import { type LinqContactField, linqContactFieldKinds } from "./field-mapping.ts";
import {
  ASSOCIATION_TYPES,
  type BatchCreateInput,
  freezeDecorators,
  HubSpotApi,
  type HubSpotRecord,
} from "./hubspot-api.ts";
import {
  ACTIVITY_MAPPING,
  CONTACT_MAPPING,
  type ContactMappingMetadata,
  contactMetadata,
  DIGEST_MAPPING,
  type DigestLine,
  digestLines,
  HANDLE_MAPPING,
  handleExternalId,
} from "./mappings.ts";
import { sharedHubSpotRateLimiter } from "./rate-limiter.ts";
import {
  type HubSpotRateLimitSettings,
  type HubSpotRouteSettings,
  parseDefaultRouteSettings,
} from "./settings.ts";

export const BACKFILL_CURSOR = "hubspot:backfill";
const BATCH = 100;

export interface HubSpotBackfillCounts {
  contactsRead: number;
  contactsCreated: number;
  contactsLinked: number;
  contactsUpdated: number;
  contactsUnchanged: number;
  contactsSkipped: number;
  messagesRead: number;
  messagesLogged: number;
  messagesAlreadyLogged: number;
  messagesSkipped: number;
  chatsDone: number;
}

export interface HubSpotBackfillProgress {
  phase: "indexing HubSpot contacts" | "contacts" | "messages";
  counts: HubSpotBackfillCounts;
  /** Linq contacts in total, once known. */
  contactsTotal: number | undefined;
  /** HubSpot requests made by this run. */
  requests: number;
}

export interface HubSpotBackfillSummary {
  status: "completed" | "interrupted";
  resumed: boolean;
  since: Date;
  counts: HubSpotBackfillCounts;
  /** HubSpot requests made by this run (429s retried included). */
  requests: number;
  /** 429 answers met (and retried) during the run. */
  rateLimited: number;
  elapsedMs: number;
}

export interface BackfillHubSpotOptions {
  /** The connector's HubSpot API (pacing shared with it); or give `client`. */
  api?: HubSpotApi;
  /** A `@hubspot/api-client` Client (used through the same process-wide limiter as the connector). */
  client?: Client;
  rateLimit?: Partial<HubSpotRateLimitSettings>;
  linq: LinqClient;
  store: MappingStore;
  /** Contacts updated and messages sent at or after this time. */
  since: Date;
  contacts: boolean;
  messages: boolean;
  /** The route's HubSpot settings (field mapping, channel type, digest…). Default: the defaults. */
  settings?: HubSpotRouteSettings;
  /** "per-message" (default: the settings' activities, per-message when off) or "daily-digest". */
  activities?: "per-message" | "daily-digest";
  phoneNumberOptions?: PhoneNumberOptions;
  /** Forget the saved progress. */
  restart?: boolean;
  onProgress?: (progress: HubSpotBackfillProgress) => void;
  signal?: AbortSignal;
  logger?: ConnectorLogger;
}

interface BackfillState {
  version: 1;
  since: string;
  contactsNextPage: number;
  contactsFinished: boolean;
  chatsDone: number[];
  counts: HubSpotBackfillCounts;
}

function emptyCounts(): HubSpotBackfillCounts {
  return {
    contactsRead: 0,
    contactsCreated: 0,
    contactsLinked: 0,
    contactsUpdated: 0,
    contactsUnchanged: 0,
    contactsSkipped: 0,
    messagesRead: 0,
    messagesLogged: 0,
    messagesAlreadyLogged: 0,
    messagesSkipped: 0,
    chatsDone: 0,
  };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let index = 0; index < items.length; index += size) result.push(items.slice(index, index + size));
  return result;
}

function linqValues(
  contact: Contact,
  fields: readonly LinqContactField[],
): Partial<Record<LinqContactField, string>> {
  const values: Partial<Record<LinqContactField, string>> = {};
  for (const field of fields) {
    const value = contact[field];
    values[field] = typeof value === "string" ? value.trim() : "";
  }
  return values;
}

function toProperties(settings: HubSpotRouteSettings, values: Partial<Record<LinqContactField, string>>) {
  const properties: Record<string, string> = {};
  for (const [field, value] of Object.entries(values) as [LinqContactField, string][]) {
    const property = settings.fieldMapping[field];
    if (property !== null) properties[property] = value;
  }
  return properties;
}

/** Contacts of HubSpot by normalised phone and email (the oldest contact wins). */
class ContactIndex {
  readonly byPhone = new Map<string, string>();
  readonly byEmail = new Map<string, string>();

  add(record: HubSpotRecord, phoneNames: readonly string[], options: PhoneNumberOptions): void {
    for (const name of phoneNames) {
      const value = record.properties[name];
      if (typeof value !== "string" || value.trim() === "") continue;
      const e164 = tryNormalizePhoneNumber(value, options);
      if (e164 !== undefined && !this.byPhone.has(e164)) this.byPhone.set(e164, record.id);
    }
    const email = normalizeEmailAddress(record.properties.email);
    if (email !== undefined && !this.byEmail.has(email)) this.byEmail.set(email, record.id);
  }

  find(identity: { phoneNumber?: string; email?: string }): string | undefined {
    if (identity.phoneNumber !== undefined) {
      const byPhone = this.byPhone.get(identity.phoneNumber);
      if (byPhone !== undefined) return byPhone;
    }
    return identity.email === undefined ? undefined : this.byEmail.get(identity.email);
  }
}

export async function backfillHubSpot(options: BackfillHubSpotOptions): Promise<HubSpotBackfillSummary> {
  const started = Date.now();
  const settings = options.settings ?? parseDefaultRouteSettings(undefined);
  const phoneNumberOptions = options.phoneNumberOptions ?? {};
  let api = options.api;
  if (api === undefined) {
    if (options.client === undefined) throw new TypeError("backfillHubSpot needs api or client");
    freezeDecorators(options.client);
    api = new HubSpotApi({
      client: options.client,
      limiter: sharedHubSpotRateLimiter(
        { accessToken: options.client.config.accessToken, baseUrl: options.client.config.basePath },
        {
          requestsPer10Seconds: options.rateLimit?.requestsPer10Seconds ?? 100,
          searchPerSecond: options.rateLimit?.searchPerSecond ?? 5,
        },
      ),
      timeoutMs: 30_000,
      maxRateLimitRetries: 10,
      maxServerErrorRetries: 3,
      logger: options.logger,
    });
  }
  const run = new BackfillRun(api, options, settings, phoneNumberOptions);
  return run.execute(started);
}

class BackfillRun {
  private readonly api: HubSpotApi;
  private readonly options: BackfillHubSpotOptions;
  private readonly settings: HubSpotRouteSettings;
  private readonly phoneNumberOptions: PhoneNumberOptions;
  private readonly fields: LinqContactField[];
  private readonly index = new ContactIndex();
  private indexed = false;
  private state: BackfillState;
  private requests = 0;
  private rateLimited = 0;
  private contactsTotal: number | undefined;
  private phase: HubSpotBackfillProgress["phase"] = "indexing HubSpot contacts";

  constructor(
    api: HubSpotApi,
    options: BackfillHubSpotOptions,
    settings: HubSpotRouteSettings,
    phoneNumberOptions: PhoneNumberOptions,
  ) {
    // This run's own requests (every attempt), next to whatever else the shared API reports.
    this.api = api.observed((info) => {
      this.requests += 1;
      if (info.status === 429) this.rateLimited += 1;
    });
    this.options = options;
    this.settings = settings;
    this.phoneNumberOptions = phoneNumberOptions;
    this.fields = syncedFields(settings);
    this.state = {
      version: 1,
      since: options.since.toISOString(),
      contactsNextPage: 1,
      contactsFinished: false,
      chatsDone: [],
      counts: emptyCounts(),
    };
  }

  private get signal(): AbortSignal | undefined {
    return this.options.signal;
  }

  private progress(): void {
    this.options.onProgress?.({
      phase: this.phase,
      counts: { ...this.state.counts },
      contactsTotal: this.contactsTotal,
      requests: this.requests,
    });
  }

  private async save(): Promise<void> {
    await this.options.store.setCursor(BACKFILL_CURSOR, JSON.stringify(this.state));
  }

  private checkAborted(): void {
    if (this.signal?.aborted === true) throw new AbortError("Backfill stopped", { source: "hubspot" });
  }

  async execute(started: number): Promise<HubSpotBackfillSummary> {
    let resumed = false;
    if (this.options.restart !== true) {
      const saved = await this.options.store.getCursor(BACKFILL_CURSOR);
      if (saved !== undefined) {
        try {
          const previous = JSON.parse(saved) as BackfillState;
          if (previous.version === 1 && previous.since === this.state.since) {
            this.state = { ...previous, counts: { ...emptyCounts(), ...previous.counts } };
            resumed = true;
          }
        } catch {
          // unreadable progress: start again
        }
      }
    }
    let status: HubSpotBackfillSummary["status"] = "completed";
    try {
      if (this.options.contacts && !this.state.contactsFinished) await this.backfillContacts();
      if (this.options.messages) await this.backfillMessages();
      await this.save();
    } catch (error) {
      if (!(error instanceof AbortError) && (error as Error | undefined)?.name !== "AbortError") throw error;
      status = "interrupted";
      await this.save();
    }
    return {
      status,
      resumed,
      since: this.options.since,
      counts: { ...this.state.counts },
      requests: this.requests,
      rateLimited: this.rateLimited,
      elapsedMs: Date.now() - started,
    };
  }

  // ------------------------------------------------------------------ HubSpot index

  private async buildIndex(): Promise<void> {
    if (this.indexed) return;
    this.phase = "indexing HubSpot contacts";
    const names = phoneProperties(this.settings);
    let after: string | undefined;
    do {
      this.checkAborted();
      const page = await this.api.listContacts(
        { after, properties: [...names, "email"], limit: 100 },
        this.signal,
      );
      for (const record of page.results) this.index.add(record, names, this.phoneNumberOptions);
      after = page.after;
      this.progress();
    } while (after !== undefined);
    this.indexed = true;
  }

  // ------------------------------------------------------------------ contacts

  private async backfillContacts(): Promise<void> {
    await this.buildIndex();
    this.phase = "contacts";
    const since = this.options.since.getTime();
    for (;;) {
      this.checkAborted();
      const page = await this.options.linq.listContacts(
        { page: this.state.contactsNextPage, perPage: BATCH },
        this.signal === undefined ? undefined : { signal: this.signal },
      );
      this.contactsTotal = page.pagination.totalCount;
      const wanted = page.items.filter((contact) => {
        const updated = Date.parse(contact.updated_at ?? "");
        return !Number.isFinite(updated) || updated >= since;
      });
      this.state.counts.contactsRead += wanted.length;
      this.state.counts.contactsSkipped += page.items.length - wanted.length;
      if (wanted.length > 0) await this.contactBatch(wanted);
      this.state.contactsNextPage += 1;
      const last = page.items.length === 0 || page.pagination.page >= page.pagination.totalPages;
      if (last) this.state.contactsFinished = true;
      await this.save();
      this.progress();
      if (last) return;
    }
  }

  private async contactBatch(contacts: Contact[]): Promise<void> {
    const { store } = this.options;
    const toCreate: { contact: Contact; key: string }[] = [];
    const toLink: { contact: Contact; hubSpotId: string }[] = [];
    const toUpdate: { contact: Contact; hubSpotId: string; synced: ContactMappingMetadata["synced"] }[] = [];
    const claimed = new Set<string>();
    for (const contact of contacts) {
      if (contact.id === undefined) continue;
      const linqId = String(contact.id);
      const mapping = await store.findByLinqId(CONTACT_MAPPING, linqId);
      if (mapping !== undefined) {
        const synced = contactMetadata(mapping).synced;
        const echo = isEchoOfLastSync({
          fields: this.fields,
          kinds: linqContactFieldKinds,
          current: linqValues(contact, this.fields),
          lastSynced: synced,
          phoneNumberOptions: this.phoneNumberOptions,
        });
        if (echo) this.state.counts.contactsUnchanged += 1;
        else toUpdate.push({ contact, hubSpotId: mapping.externalId, synced });
        continue;
      }
      const identity = contactIdentity(
        { phoneNumber: contact.phone_number, email: contact.email },
        this.phoneNumberOptions,
      );
      const key = handlesOf(identity)[0] ?? `linq:${linqId}`;
      let hubSpotId = this.index.find(identity);
      if (hubSpotId === undefined) {
        for (const handle of handlesOf(identity)) {
          const known = await store.findByLinqId(HANDLE_MAPPING, handle);
          if (typeof known?.metadata.contactId === "string") {
            hubSpotId = known.metadata.contactId;
            break;
          }
        }
      }
      if (hubSpotId !== undefined) {
        if (
          claimed.has(hubSpotId) ||
          (await store.findByExternalId(CONTACT_MAPPING, hubSpotId)) !== undefined
        ) {
          this.state.counts.contactsSkipped += 1; // another Linq contact has this HubSpot contact
          continue;
        }
        claimed.add(hubSpotId);
        toLink.push({ contact, hubSpotId });
        continue;
      }
      if (toCreate.some((entry) => entry.key === key)) {
        this.state.counts.contactsSkipped += 1; // the same person twice in Linq: one HubSpot contact
        continue;
      }
      toCreate.push({ contact, key });
    }
    await this.createContacts(toCreate, toLink);
    await this.linkContacts(toLink);
    await this.updateLinked(toUpdate);
  }

  private async createContacts(
    toCreate: { contact: Contact; key: string }[],
    toLink: { contact: Contact; hubSpotId: string }[],
  ): Promise<void> {
    if (toCreate.length === 0) return;
    const inputs: BatchCreateInput[] = toCreate.map(({ contact }) => ({
      objectWriteTraceId: String(contact.id),
      properties: toProperties(
        this.settings,
        Object.fromEntries(
          Object.entries(linqValues(contact, this.fields)).filter(([, value]) => value !== ""),
        ) as Partial<Record<LinqContactField, string>>,
      ),
    }));
    for (const input of inputs) {
      const contact = toCreate.find(
        (entry) => String(entry.contact.id) === input.objectWriteTraceId,
      )?.contact;
      const ownerEmail = normalizeEmailAddress(contact?.contact_owner?.email);
      if (this.settings.syncOwner && ownerEmail !== undefined) {
        const ownerId = await this.api.ownerIdByEmail(ownerEmail, this.signal);
        if (ownerId !== undefined) input.properties.hubspot_owner_id = ownerId;
      }
    }
    // Re-check right before creating: the live connector may have linked some meanwhile.
    const stillNew: BatchCreateInput[] = [];
    for (const input of inputs) {
      if ((await this.options.store.findByLinqId(CONTACT_MAPPING, input.objectWriteTraceId)) === undefined) {
        stillNew.push(input);
      }
    }
    if (stillNew.length === 0) return;
    const result = await this.api.batchCreateContacts(stillNew, this.signal);
    for (const error of result.errors) {
      const existing = /Existing ID:\s*(\d+)/i.exec(error.message)?.[1];
      for (const traceId of error.objectWriteTraceIds) {
        const contact = toCreate.find((entry) => String(entry.contact.id) === traceId)?.contact;
        if (contact === undefined) continue;
        if (existing !== undefined && !toLink.some((entry) => entry.hubSpotId === existing)) {
          toLink.push({ contact, hubSpotId: existing });
        } else {
          this.state.counts.contactsSkipped += 1;
          this.options.logger?.warn(
            { linqContactId: traceId, category: error.category },
            "backfill: contact not created",
          );
        }
      }
    }
    for (const { contact } of toCreate) {
      const record = result.created.get(String(contact.id));
      if (record === undefined) continue;
      this.index.add(record, phoneProperties(this.settings), this.phoneNumberOptions);
      await this.storeLink(contact, record.id, linqValues(contact, this.fields));
      this.state.counts.contactsCreated += 1;
    }
  }

  private async storeLink(
    contact: Contact,
    hubSpotId: string,
    synced: Partial<Record<LinqContactField, string>>,
  ) {
    const identity = contactIdentity(
      { phoneNumber: contact.phone_number, email: contact.email },
      this.phoneNumberOptions,
    );
    const handles = handlesOf(identity);
    const linqId = String(contact.id);
    const metadata: ContactMappingMetadata = {
      synced,
      ownerEmail: this.settings.syncOwner
        ? (normalizeEmailAddress(contact.contact_owner?.email) ?? null)
        : null,
      handles,
      syncedAt: new Date().toISOString(),
    };
    const stored = await this.options.store.insertMapping({
      kind: CONTACT_MAPPING,
      linqId,
      externalId: hubSpotId,
      metadata: { ...metadata },
    });
    if (stored.linqId !== linqId) return;
    for (const handle of handles) {
      if ((await this.options.store.findByLinqId(HANDLE_MAPPING, handle)) !== undefined) continue;
      await this.options.store.insertMapping({
        kind: HANDLE_MAPPING,
        linqId: handle,
        externalId: handleExternalId(hubSpotId, handle),
        metadata: { contactId: hubSpotId },
      });
    }
  }

  /** Reads the HubSpot side of pairs (100 per request). */
  private async readHubSpot(ids: string[]): Promise<Map<string, HubSpotRecord>> {
    const records = new Map<string, HubSpotRecord>();
    const properties = [
      ...new Set(
        this.fields.map((field) => this.settings.fieldMapping[field] as string).concat(["hubspot_owner_id"]),
      ),
    ];
    for (const chunk of chunks([...new Set(ids)], BATCH)) {
      const response = await this.api.call(
        "contacts.batchRead",
        { repeatable: true, signal: this.signal },
        () =>
          this.api.client.crm.contacts.batchApi.read({
            inputs: chunk.map((id) => ({ id })),
            properties,
            propertiesWithHistory: [],
          }),
      );
      for (const result of response.results) {
        records.set(String(result.id), {
          id: String(result.id),
          properties: { ...result.properties },
          history: {},
          updatedAt: result.updatedAt instanceof Date ? result.updatedAt.getTime() : undefined,
        });
      }
    }
    return records;
  }

  private async linkContacts(pairs: { contact: Contact; hubSpotId: string }[]): Promise<void> {
    if (pairs.length === 0) return;
    const records = await this.readHubSpot(pairs.map((pair) => pair.hubSpotId));
    const updates: { id: string; properties: Record<string, string> }[] = [];
    const links: {
      contact: Contact;
      hubSpotId: string;
      synced: Partial<Record<LinqContactField, string>>;
    }[] = [];
    for (const { contact, hubSpotId } of pairs) {
      const record = records.get(hubSpotId);
      if (record === undefined) {
        this.state.counts.contactsSkipped += 1;
        continue;
      }
      const result = this.merge(contact, record, undefined);
      const properties = toProperties(this.settings, result.toCrm);
      if (Object.keys(properties).length > 0) updates.push({ id: hubSpotId, properties });
      if (Object.keys(result.toLinq).length > 0 && contact.id !== undefined) {
        await this.options.linq.updateContact(contact.id, {
          contact: withIdentifying(result.toLinq, contact),
        });
      }
      links.push({ contact, hubSpotId, synced: result.synced });
    }
    for (const chunk of chunks(updates, BATCH)) await this.api.batchUpdateContacts(chunk, this.signal);
    for (const link of links) {
      await this.storeLink(link.contact, link.hubSpotId, link.synced);
      this.state.counts.contactsLinked += 1;
    }
  }

  private async updateLinked(
    entries: { contact: Contact; hubSpotId: string; synced: ContactMappingMetadata["synced"] }[],
  ): Promise<void> {
    if (entries.length === 0) return;
    const records = await this.readHubSpot(entries.map((entry) => entry.hubSpotId));
    const updates: { id: string; properties: Record<string, string> }[] = [];
    for (const entry of entries) {
      const record = records.get(entry.hubSpotId);
      if (record === undefined) {
        // Deleted in HubSpot: forget the link; the next run creates it again.
        await this.options.store.deleteMapping(CONTACT_MAPPING, String(entry.contact.id));
        this.state.counts.contactsSkipped += 1;
        continue;
      }
      const result = this.merge(entry.contact, record, entry.synced);
      const properties = toProperties(this.settings, result.toCrm);
      if (Object.keys(properties).length > 0) updates.push({ id: entry.hubSpotId, properties });
      if (Object.keys(result.toLinq).length > 0 && entry.contact.id !== undefined) {
        await this.options.linq.updateContact(entry.contact.id, {
          contact: withIdentifying(result.toLinq, entry.contact),
        });
      }
      await this.options.store.updateMetadata(CONTACT_MAPPING, String(entry.contact.id), {
        synced: result.synced,
        syncedAt: new Date().toISOString(),
      });
      this.state.counts.contactsUpdated += 1;
    }
    for (const chunk of chunks(updates, BATCH)) await this.api.batchUpdateContacts(chunk, this.signal);
  }

  private merge(
    contact: Contact,
    record: HubSpotRecord,
    lastSynced: ContactMappingMetadata["synced"] | undefined,
  ) {
    const crmValues: Partial<Record<LinqContactField, string>> = {};
    for (const field of this.fields) {
      const value = record.properties[this.settings.fieldMapping[field] as string];
      crmValues[field] = typeof value === "string" ? value.trim() : "";
    }
    const direction = this.settings.contacts === "off" ? "linq-to-crm" : this.settings.contacts;
    const updatedAt = Date.parse(contact.updated_at ?? "");
    return mergeFieldsLastWriterWins<LinqContactField>({
      fields: this.fields,
      kinds: linqContactFieldKinds,
      lastSynced,
      linq: {
        values: linqValues(contact, this.fields),
        updatedAt: Number.isFinite(updatedAt) ? updatedAt : undefined,
      },
      crm: { values: crmValues, updatedAt: record.updatedAt },
      direction,
      tieBreaker: this.settings.conflictTieBreaker === "linq" ? "linq" : "crm",
      phoneNumberOptions: this.phoneNumberOptions,
    });
  }

  // ------------------------------------------------------------------ messages

  private async backfillMessages(): Promise<void> {
    this.phase = "messages";
    const requestOptions = this.signal === undefined ? undefined : { signal: this.signal };
    const numbers = await this.options.linq.listPhoneNumbers(requestOptions);
    const done = new Set(this.state.chatsDone);
    for (const number of numbers) {
      if (number.phone_number === undefined) continue;
      const ownNumber =
        tryNormalizePhoneNumber(number.phone_number, this.phoneNumberOptions) ?? number.phone_number;
      for await (const chat of this.options.linq.iterateChats(
        { phoneNumber: ownNumber, perPage: 100 },
        requestOptions,
      )) {
        this.checkAborted();
        if (chat.id === undefined || done.has(chat.id)) continue;
        await this.chatMessages(chat, ownNumber);
        done.add(chat.id);
        this.state.chatsDone.push(chat.id);
        this.state.counts.chatsDone += 1;
        await this.save();
        this.progress();
      }
    }
  }

  private async contactIdsOf(participants: string[]): Promise<string[]> {
    const ids: string[] = [];
    const unknown: string[] = [];
    for (const handle of participants) {
      const known = await this.options.store.findByLinqId(HANDLE_MAPPING, handle);
      let id = typeof known?.metadata.contactId === "string" ? known.metadata.contactId : undefined;
      if (id === undefined) {
        await this.buildIndex();
        id = this.index.find(handle.includes("@") ? { email: handle } : { phoneNumber: handle });
        if (id !== undefined) await this.rememberHandle(handle, id);
      }
      if (id === undefined) unknown.push(handle);
      else if (!ids.includes(id)) ids.push(id);
    }
    if (unknown.length > 0 && this.settings.createUnknownContacts) {
      const phoneProperty = this.settings.fieldMapping.phone_number ?? "phone";
      const emailProperty = this.settings.fieldMapping.email ?? "email";
      const result = await this.api.batchCreateContacts(
        unknown.map((handle) => ({
          objectWriteTraceId: handle,
          properties: handle.includes("@") ? { [emailProperty]: handle } : { [phoneProperty]: handle },
        })),
        this.signal,
      );
      for (const handle of unknown) {
        let id = result.created.get(handle)?.id;
        if (id === undefined) {
          const error = result.errors.find((entry) => entry.objectWriteTraceIds.includes(handle));
          id = error === undefined ? undefined : /Existing ID:\s*(\d+)/i.exec(error.message)?.[1];
        }
        if (id === undefined) continue;
        await this.rememberHandle(handle, id);
        if (!ids.includes(id)) ids.push(id);
      }
    }
    return ids;
  }

  private async rememberHandle(handle: string, contactId: string): Promise<void> {
    if ((await this.options.store.findByLinqId(HANDLE_MAPPING, handle)) !== undefined) return;
    await this.options.store.insertMapping({
      kind: HANDLE_MAPPING,
      linqId: handle,
      externalId: handleExternalId(contactId, handle),
      metadata: { contactId },
    });
  }

  private async chatMessages(chat: Chat, ownNumber: string): Promise<void> {
    const participants = [
      ...new Set(
        (chat.chat_handles ?? [])
          .map((handle) => handle.phone_number ?? "")
          .map((value) =>
            value.includes("@")
              ? value.trim().toLowerCase()
              : tryNormalizePhoneNumber(value, this.phoneNumberOptions),
          )
          .filter((value): value is string => value !== undefined && value !== "" && value !== ownNumber),
      ),
    ].slice(0, 10);
    const messages: ChatMessage[] = [];
    const requestOptions = this.signal === undefined ? undefined : { signal: this.signal };
    for await (const message of this.options.linq.iterateChatMessages(
      chat.id as number,
      { after: this.options.since.toISOString(), sort: "asc", perPage: 100 },
      requestOptions,
    )) {
      messages.push(message);
    }
    this.state.counts.messagesRead += messages.length;
    if (messages.length === 0 || participants.length === 0) {
      this.state.counts.messagesSkipped += messages.length;
      return;
    }
    const pending: LoggedMessage[] = [];
    for (const message of messages) {
      if (message.id === undefined) continue;
      if ((await this.options.store.findByLinqId(ACTIVITY_MAPPING, `message:${message.id}`)) !== undefined) {
        this.state.counts.messagesAlreadyLogged += 1;
        continue;
      }
      const sender = message.sent_from ?? "";
      const outgoing =
        (tryNormalizePhoneNumber(sender, this.phoneNumberOptions) ?? sender.trim().toLowerCase()) ===
        ownNumber;
      pending.push({
        messageId: String(message.id),
        direction: outgoing ? "outgoing" : "incoming",
        service: chat.service ?? null,
        participants,
        linqNumber: ownNumber,
        text: message.text ?? "",
        sentAt: message.sent_at ?? new Date().toISOString(),
        attachments: (message.attachments ?? [])
          .filter((attachment) => typeof attachment.url === "string")
          .map((attachment) => ({
            url: attachment.url as string,
            filename: attachment.filename ?? "attachment",
          })),
      });
    }
    if (pending.length === 0) return;
    const contactIds = await this.contactIdsOf(participants);
    if (contactIds.length === 0) {
      this.state.counts.messagesSkipped += pending.length;
      return;
    }
    const associations = contactIds.map((toId) => ({
      toId,
      associationTypeId: ASSOCIATION_TYPES.communicationToContact,
    }));
    const digest =
      (this.options.activities ??
        (this.settings.activities === "daily-digest" ? "daily-digest" : "per-message")) === "daily-digest";
    if (digest) {
      await this.logDigests(String(chat.id), pending, associations);
      return;
    }
    for (const chunk of chunks(pending, BATCH)) {
      const result = await this.api.batchCreateCommunications(
        chunk.map((message) => ({
          objectWriteTraceId: message.messageId,
          properties: messageCommunicationProperties(message, this.settings, this.phoneNumberOptions),
          associations,
        })),
        this.signal,
      );
      for (const message of chunk) {
        const created = result.created.get(message.messageId);
        if (created === undefined) {
          this.state.counts.messagesSkipped += 1;
          continue;
        }
        await this.options.store.insertMapping({
          kind: ACTIVITY_MAPPING,
          linqId: `message:${message.messageId}`,
          externalId: `${created.id}#${message.messageId}`,
          metadata: { communicationId: created.id },
        });
        this.state.counts.messagesLogged += 1;
      }
    }
  }

  private async logDigests(
    chatId: string,
    messages: LoggedMessage[],
    associations: { toId: string; associationTypeId: number }[],
  ): Promise<void> {
    const byDay = new Map<string, LoggedMessage[]>();
    for (const message of messages) {
      const day = dayOf(message.sentAt, this.settings.digestTimeZone);
      byDay.set(day, [...(byDay.get(day) ?? []), message]);
    }
    for (const [day, dayMessages] of byDay) {
      const digestKey = `${chatId}:${day}`;
      const existing = await this.options.store.findByLinqId(DIGEST_MAPPING, digestKey);
      const lines: DigestLine[] = existing === undefined ? [] : digestLines(existing);
      for (const message of dayMessages) {
        if (lines.some((line) => line.messageId === message.messageId)) continue;
        lines.push({
          messageId: message.messageId,
          at: message.sentAt,
          direction: message.direction,
          service: message.service,
          text: message.text,
          attachments: message.attachments,
        });
      }
      const first = dayMessages[0] as LoggedMessage;
      const properties = digestCommunicationProperties(
        { chatId, day, participants: first.participants, linqNumber: first.linqNumber, lines },
        this.settings,
        this.phoneNumberOptions,
      );
      let communicationId = existing?.externalId;
      if (communicationId !== undefined) {
        const updated = await this.api.updateCommunication(communicationId, properties, this.signal);
        if (updated === undefined) {
          await this.options.store.deleteMapping(DIGEST_MAPPING, digestKey);
          communicationId = undefined;
        } else await this.options.store.updateMetadata(DIGEST_MAPPING, digestKey, { lines });
      }
      if (communicationId === undefined) {
        communicationId = (await this.api.createCommunication(properties, associations, this.signal)).id;
        await this.options.store.insertMapping({
          kind: DIGEST_MAPPING,
          linqId: digestKey,
          externalId: communicationId,
          metadata: { lines },
        });
      }
      for (const message of dayMessages) {
        await this.options.store.insertMapping({
          kind: ACTIVITY_MAPPING,
          linqId: `message:${message.messageId}`,
          externalId: `${communicationId}#${message.messageId}`,
          metadata: { communicationId, digest: digestKey },
        });
        this.state.counts.messagesLogged += 1;
      }
    }
  }
}

const IDENTIFYING: readonly LinqContactField[] = ["phone_number", "email", "first_name", "last_name"];

function withIdentifying(
  values: Partial<Record<LinqContactField, string>>,
  contact: Contact,
): Partial<Record<LinqContactField, string>> {
  if (IDENTIFYING.some((field) => field in values)) return values;
  for (const field of IDENTIFYING) {
    const current = contact[field];
    if (typeof current === "string" && current.trim() !== "") return { ...values, [field]: current.trim() };
  }
  return values;
}
