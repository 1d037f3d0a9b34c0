/**
 * `backfillSalesforce`: every Linq contact (and, optionally, conversation history) into Salesforce,
 * resumable, with sObject Collections (200 records per request) or, for large runs, Bulk API 2.0.
 *
 * Contacts:
 * 1. An index of the Contacts (or Leads) that exist is read with SOQL, one query page at a time:
 *    phone fields normalised to E.164 (Salesforce keeps phones as typed, "(555) 123-4567"), emails
 *    lower case, and the Linq id of the external-id field when one is configured. SOQL reads the
 *    records themselves, so records created a moment ago (by an interrupted run or the live
 *    connector) are found: a rerun never duplicates.
 * 2. Linq contacts (updated since `since`) are read in batches of 200 (10,000 when the run uses
 *    Bulk API 2.0). Each one that is linked already is compared with its last synced values (changed
 *    fields are merged last-writer-wins and updated); each one that matches an indexed record (the
 *    external id, then phone, then email, then a known handle) is linked with a first-link merge;
 *    the rest are created. Mappings are stored right after every write, then the cursor.
 * 3. Creates go through sObject Collections, or through one Bulk API 2.0 ingest job per batch when
 *    the batch has more creates than `bulkThreshold` (upsert on the external-id field when one is
 *    configured, so a retried job cannot duplicate; otherwise insert, results mapped back by values).
 *    A run is sized for Bulk API 2.0 (batches of 10,000) when Linq has more contacts than
 *    `bulkThreshold`. A record Salesforce refuses is counted (`contactsSkipped`) and logged with its
 *    error code; a duplicate rule naming the existing record links that record instead.
 *
 * Messages: for every chat of every Linq number, the messages sent since `since` that are not logged
 * yet become Tasks on the participants' record (created when unknown unless the route says not to),
 * 200 per request; or one digest Task per conversation and day.
 *
 * Progress (the next Linq page, the chats done, the counts) is saved in the store as the cursor
 * `salesforce:backfill`; a run with the same `since` and object continues where the last one stopped
 * (`restart` starts again; linked contacts and logged messages are skipped either way). A run stops
 * with status "interrupted" when `signal` aborts, or when Salesforce answers REQUEST_LIMIT_EXCEEDED
 * (or the API usage reaches `stopAtShare`): progress is saved first and `retryAfterSeconds` says when
 * to run it again. Nothing written is lost: every write's mappings are stored before the next call.
 *
 * Converted Leads (a Lead route): the index reads every Lead; a converted one stands for its Contact
 * (`ConvertedContactId`), so a matching Linq contact is linked to that Contact, and a Linq contact
 * linked to the Lead has its links moved to the Contact first. Such people are read and updated as
 * Contacts; new people still become Leads.
 *
 * Concurrent live traffic: live events take per-person locks, a batch does not; mappings are
 * re-checked right before each create, which leaves a window of one request. Run the backfill before
 * turning live contact sync on, or accept that window.
 */
import {
  AbortError,
  type Chat,
  type ChatMessage,
  type ConnectorLogger,
  type Contact,
  type ContactIdentity,
  canonicalHandle,
  contactIdentity,
  isEchoOfLastSync,
  isEmailHandle,
  type LinqClient,
  type MappingStore,
  mergeFieldsLastWriterWins,
  normalizeEmailAddress,
  tryNormalizePhoneNumber,
} from "@linq-connect/core";
import {
  dayOf,
  digestTaskFields,
  displayHandle,
  type LoggedMessage,
  messageTaskFields,
  type TaskFormatOptions,
} from "./activity-format.ts";
import { type ConnectorServices, phoneFields } from "./connector-services.ts";
import {
  companyIsAccount,
  contactSyncFields,
  handlesOf,
  linqContactFieldKinds,
  objectTypeOfId,
  readFields,
  salesforceValues,
  settingsForObject,
} from "./contact-matching.ts";
import {
  type LinqContactField,
  linqContactToSalesforceFields,
  type SalesforceObjectName,
} from "./field-mapping.ts";
import {
  CONTACT_MAPPING,
  type ContactMappingMetadata,
  contactMetadata,
  DIGEST_MAPPING,
  type DigestLine,
  digestLines,
  HANDLE_MAPPING,
  handleExternalId,
  moveLinksToConvertedContact,
  TASK_MAPPING,
} from "./mappings.ts";
import { escapeSoql, type SalesforceRecord, type SaveResult } from "./salesforce-api.ts";
import { errorCodeOf, SalesforceRequestLimitError } from "./salesforce-errors.ts";
import type { SalesforceRouteSettings } from "./settings.ts";

export const BACKFILL_CURSOR = "salesforce:backfill";
/** Linq's largest page. */
const LINQ_PAGE = 100;
/** sObject Collections' largest request. */
const COLLECTION_BATCH = 200;
/** Records per Bulk API 2.0 ingest job (and Linq contacts per batch of a bulk-sized run). */
const BULK_BATCH = 10_000;
/** Ids per `WHERE Id IN (…)` query (keeps the URL well under Salesforce's 16 KB). */
const IDS_PER_QUERY = 200;

export interface SalesforceBackfillCounts {
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
  /** Bulk API 2.0 ingest jobs run. */
  bulkJobs: number;
}

export interface SalesforceBackfillProgress {
  phase: "indexing Salesforce records" | "contacts" | "messages";
  counts: SalesforceBackfillCounts;
  contactsTotal: number | undefined;
  requests: number;
}

export interface SalesforceBackfillSummary {
  status: "completed" | "interrupted";
  /** Why an interrupted run stopped: the signal, or the org's daily API limit. */
  interruptedBy: "signal" | "request-limit" | undefined;
  /** After a request-limit stop: how long to wait before running again. */
  retryAfterSeconds: number | undefined;
  resumed: boolean;
  since: Date;
  counts: SalesforceBackfillCounts;
  /** Salesforce HTTP requests sent during the run (the API's counter; live traffic in the same process included). */
  requests: number;
  /** "collections" or "bulk" (Bulk API 2.0 above the threshold). */
  method: "collections" | "bulk";
  elapsedMs: number;
}

export interface BackfillSalesforceOptions {
  services: ConnectorServices;
  settings: SalesforceRouteSettings;
  linq: LinqClient;
  store: MappingStore;
  /** Contacts updated and messages sent at or after this time. */
  since: Date;
  contacts: boolean;
  messages: boolean;
  /** "per-message" (default: the settings' activities, per-message when off) or "daily-digest". */
  activities?: "per-message" | "daily-digest";
  /** Forget the saved progress. */
  restart?: boolean;
  onProgress?: (progress: SalesforceBackfillProgress) => void;
  signal?: AbortSignal;
  logger?: ConnectorLogger;
}

interface BackfillState {
  version: 1;
  since: string;
  objectType: string;
  /** How the run is sized, decided from Linq's total at the first page. */
  method: "collections" | "bulk" | undefined;
  contactsNextPage: number;
  contactsFinished: boolean;
  chatsDone: number[];
  counts: SalesforceBackfillCounts;
}

type LinqValues = Partial<Record<LinqContactField, string>>;

interface PendingCreate {
  contact: Contact;
  linqId: string;
  fields: Record<string, string>;
}

interface MessageTask {
  kind: "message";
  chatId: string;
  /** The customer's handle: the Task goes on their record. */
  handle: string;
  message: LoggedMessage;
}

interface DigestTask {
  kind: "digest";
  chatId: string;
  handle: string;
  day: string;
  digestKey: string;
  /** The day's Task when it exists already (updated), else undefined (created). */
  taskId: string | undefined;
  participants: string[];
  linqNumber: string;
  /** Every line of the day (earlier runs' and this run's). */
  lines: DigestLine[];
  /** This run's messages of the day. */
  messages: LoggedMessage[];
}

type PendingTask = MessageTask | DigestTask;

interface PendingPair {
  contact: Contact;
  recordId: string;
  /** The last synced values; undefined for a first link. */
  synced: LinqValues | undefined;
}

function emptyCounts(): SalesforceBackfillCounts {
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
    bulkJobs: 0,
  };
}

function textOf(value: unknown): string {
  return typeof value === "string" ? value.trim() : "";
}

/** The error code at the start of a Bulk API `sf__Error` ("REQUIRED_FIELD_MISSING:Required fields…"). */
function bulkErrorCode(error: string): string {
  return /^([A-Z_]+)(:|$)/.exec(error)?.[1] ?? "UNKNOWN";
}

/** Records of the org by normalised phone, email and Linq id (the first record read wins). */
class RecordIndex {
  private readonly byPhone = new Map<string, string>();
  private readonly byEmail = new Map<string, string>();
  private readonly byLinqId = new Map<string, string>();
  /** Converted Lead id → its Contact id. */
  readonly converted = new Map<string, string>();

  add(entry: { id: string; phones: unknown[]; email: unknown; linqId: unknown }, run: BackfillRun): void {
    for (const phone of entry.phones) {
      const e164 = textOf(phone) === "" ? undefined : run.normalizePhone(textOf(phone));
      if (e164 !== undefined && !this.byPhone.has(e164)) this.byPhone.set(e164, entry.id);
    }
    const email = normalizeEmailAddress(textOf(entry.email));
    if (email !== undefined && !this.byEmail.has(email)) this.byEmail.set(email, entry.id);
    const linqId = textOf(entry.linqId);
    if (linqId !== "" && !this.byLinqId.has(linqId)) this.byLinqId.set(linqId, entry.id);
  }

  find(linqId: string | undefined, identity: ContactIdentity): string | undefined {
    const byLinqId = linqId === undefined ? undefined : this.byLinqId.get(linqId);
    if (byLinqId !== undefined) return byLinqId;
    const byPhone = identity.phoneNumber === undefined ? undefined : this.byPhone.get(identity.phoneNumber);
    if (byPhone !== undefined) return byPhone;
    return identity.email === undefined ? undefined : this.byEmail.get(identity.email);
  }
}

export async function backfillSalesforce(
  options: BackfillSalesforceOptions,
): Promise<SalesforceBackfillSummary> {
  return new BackfillRun(options).execute();
}

class BackfillRun {
  private readonly options: BackfillSalesforceOptions;
  private readonly services: ConnectorServices;
  private readonly settings: SalesforceRouteSettings;
  private readonly fields: LinqContactField[];
  private readonly logger: ConnectorLogger | undefined;
  private readonly index = new RecordIndex();
  private readonly accounts = new Map<string, string>();
  private readonly requestsAtStart: number;
  private indexed = false;
  private state: BackfillState;
  private contactsTotal: number | undefined;
  private phase: SalesforceBackfillProgress["phase"] = "indexing Salesforce records";

  constructor(options: BackfillSalesforceOptions) {
    this.options = options;
    this.services = options.services;
    this.settings = options.settings;
    this.fields = contactSyncFields(options.settings);
    this.logger = options.logger ?? options.services.logger;
    this.requestsAtStart = options.services.api.requestsSent;
    this.state = {
      version: 1,
      since: options.since.toISOString(),
      objectType: options.settings.objectType,
      method: undefined,
      contactsNextPage: 1,
      contactsFinished: false,
      chatsDone: [],
      counts: emptyCounts(),
    };
  }

  normalizePhone(value: string): string | undefined {
    return tryNormalizePhoneNumber(value, this.services.phoneNumberOptions);
  }

  private get signal(): AbortSignal | undefined {
    return this.options.signal;
  }

  private get call() {
    return { signal: this.signal };
  }

  private get requests(): number {
    return this.services.api.requestsSent - this.requestsAtStart;
  }

  private get objectType() {
    return this.settings.objectType;
  }

  private get externalIdField(): string | undefined {
    return this.services.externalIdFields[this.objectType];
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
    if (this.signal?.aborted === true) throw new AbortError("Backfill stopped", { source: "salesforce" });
  }

  private async resume(): Promise<boolean> {
    if (this.options.restart === true) return false;
    const saved = await this.options.store.getCursor(BACKFILL_CURSOR);
    if (saved === undefined) return false;
    try {
      const previous = JSON.parse(saved) as BackfillState;
      if (
        previous.version !== 1 ||
        previous.since !== this.state.since ||
        previous.objectType !== this.state.objectType
      ) {
        return false;
      }
      this.state = { ...previous, counts: { ...emptyCounts(), ...previous.counts } };
      return true;
    } catch {
      return false; // unreadable progress: start again
    }
  }

  async execute(): Promise<SalesforceBackfillSummary> {
    const started = Date.now();
    const resumed = await this.resume();
    let interruptedBy: SalesforceBackfillSummary["interruptedBy"];
    let retryAfterSeconds: number | undefined;
    try {
      if (this.options.contacts && !this.state.contactsFinished) await this.backfillContacts();
      if (this.options.messages) await this.backfillMessages();
    } catch (error) {
      if (error instanceof SalesforceRequestLimitError) {
        interruptedBy = "request-limit";
        retryAfterSeconds = error.retryAfter;
        this.logger?.warn(
          { retryAfterSeconds, requests: this.requests },
          "backfill: Salesforce's daily API limit is reached; progress saved, run it again later",
        );
      } else if (error instanceof AbortError || (error as Error | undefined)?.name === "AbortError") {
        interruptedBy = "signal";
      } else {
        await this.save();
        throw error;
      }
    }
    await this.save();
    this.progress();
    return {
      status: interruptedBy === undefined ? "completed" : "interrupted",
      interruptedBy,
      retryAfterSeconds,
      resumed,
      since: this.options.since,
      counts: { ...this.state.counts },
      requests: this.requests,
      method: this.state.method ?? "collections",
      elapsedMs: Date.now() - started,
    };
  }

  // ------------------------------------------------------------------ Salesforce index

  private async buildIndex(): Promise<void> {
    if (this.indexed) return;
    this.phase = "indexing Salesforce records";
    const phones = phoneFields(this.settings);
    const external = this.externalIdField;
    const select = [
      ...new Set([
        "Id",
        ...phones,
        "Email",
        ...(external === undefined ? [] : [external]),
        ...(this.objectType === "Lead" ? ["IsConverted", "ConvertedContactId"] : []),
      ]),
    ];
    let page: { soql: string } | { nextRecordsUrl: string } | undefined = {
      soql: `SELECT ${select.join(", ")} FROM ${this.objectType}`,
    };
    while (page !== undefined) {
      this.checkAborted();
      const result: { records: SalesforceRecord[]; nextRecordsUrl: string | undefined } =
        await this.services.api.queryPage(page, this.call);
      for (const record of result.records) {
        // A converted Lead stands for its Contact.
        const contactId = record.IsConverted === true ? textOf(record.ConvertedContactId) : "";
        if (contactId !== "") this.index.converted.set(record.Id, contactId);
        this.index.add(
          {
            id: contactId === "" ? record.Id : contactId,
            phones: phones.map((name) => record[name]),
            email: record.Email,
            linqId: external === undefined ? undefined : record[external],
          },
          this,
        );
      }
      page = result.nextRecordsUrl === undefined ? undefined : { nextRecordsUrl: result.nextRecordsUrl };
      this.progress();
    }
    this.indexed = true;
  }

  // ------------------------------------------------------------------ contacts

  private async backfillContacts(): Promise<void> {
    await this.buildIndex();
    this.phase = "contacts";
    const since = this.options.since.getTime();
    for (;;) {
      const batch: Contact[] = [];
      let pagesRead = 0;
      let last = false;
      // A batch is several Linq pages: 200 contacts (one collection request), or 10,000 (one Bulk job).
      do {
        this.checkAborted();
        const page = await this.options.linq.listContacts(
          { page: this.state.contactsNextPage + pagesRead, perPage: LINQ_PAGE },
          this.signal === undefined ? undefined : { signal: this.signal },
        );
        pagesRead += 1;
        this.contactsTotal = page.pagination.totalCount;
        this.state.method ??=
          page.pagination.totalCount > this.services.bulkThreshold ? "bulk" : "collections";
        for (const contact of page.items) {
          const updated = Date.parse(contact.updated_at ?? "");
          if (!Number.isFinite(updated) || updated >= since) batch.push(contact);
          else this.state.counts.contactsSkipped += 1;
        }
        last = page.items.length === 0 || page.pagination.page >= page.pagination.totalPages;
      } while (!last && pagesRead * LINQ_PAGE < this.batchSize());
      this.state.counts.contactsRead += batch.length;
      if (batch.length > 0) await this.contactBatch(batch);
      this.state.contactsNextPage += pagesRead;
      if (last) this.state.contactsFinished = true;
      await this.save();
      this.progress();
      if (last) return;
    }
  }

  private batchSize(): number {
    return this.state.method === "bulk" ? BULK_BATCH : COLLECTION_BATCH;
  }

  private async contactBatch(contacts: Contact[]): Promise<void> {
    const { store } = this.options;
    const toCreate: (PendingCreate & { key: string })[] = [];
    const toLink: PendingPair[] = [];
    const toUpdate: PendingPair[] = [];
    const claimed = new Set<string>();
    for (const contact of contacts) {
      if (contact.id === undefined) continue;
      const linqId = String(contact.id);
      let mapping = await store.findByLinqId(CONTACT_MAPPING, linqId);
      const convertedContactId = this.index.converted.get(mapping?.externalId ?? "");
      if (mapping !== undefined && convertedContactId !== undefined) {
        await moveLinksToConvertedContact(store, {
          leadId: mapping.externalId,
          contactId: convertedContactId,
        });
        mapping = await store.findByLinqId(CONTACT_MAPPING, linqId);
      }
      if (mapping !== undefined) {
        const synced = contactMetadata(mapping).synced;
        const echo = isEchoOfLastSync({
          fields: this.fields,
          kinds: linqContactFieldKinds,
          current: this.linqValues(contact),
          lastSynced: synced,
          phoneNumberOptions: this.services.phoneNumberOptions,
        });
        if (echo) this.state.counts.contactsUnchanged += 1;
        else toUpdate.push({ contact, recordId: mapping.externalId, synced });
        continue;
      }
      const identity = this.identityOf(contact);
      const recordId = this.index.find(linqId, identity) ?? (await this.knownHandle(identity));
      if (recordId !== undefined) {
        if (
          claimed.has(recordId) ||
          (await store.findByExternalId(CONTACT_MAPPING, recordId)) !== undefined
        ) {
          this.state.counts.contactsSkipped += 1; // another Linq contact has this record
          continue;
        }
        claimed.add(recordId);
        toLink.push({ contact, recordId, synced: undefined });
        continue;
      }
      const key = handlesOf(identity)[0] ?? `linq:${linqId}`;
      if (toCreate.some((entry) => entry.key === key)) {
        this.state.counts.contactsSkipped += 1; // the same person twice in Linq: one record
        continue;
      }
      toCreate.push({ contact, linqId, key, fields: this.createFields(contact) });
    }
    await this.createRecords(toCreate, toLink, claimed);
    await this.mergePairs(toLink);
    await this.mergePairs(toUpdate);
  }

  private identityOf(contact: Contact): ContactIdentity {
    return contactIdentity(
      { phoneNumber: contact.phone_number, email: contact.email },
      this.services.phoneNumberOptions,
    );
  }

  /** The record a handle mapping names (on a Lead route a Contact's counts: a converted Lead's). */
  private async knownHandle(identity: ContactIdentity): Promise<string | undefined> {
    for (const handle of handlesOf(identity)) {
      const known = await this.options.store.findByLinqId(HANDLE_MAPPING, handle);
      if (
        known !== undefined &&
        (known.metadata.objectType === this.objectType || this.objectType === "Lead")
      ) {
        const recordId = known.metadata.recordId;
        if (typeof recordId === "string") return this.index.converted.get(recordId) ?? recordId;
      }
    }
    return undefined;
  }

  private linqValues(contact: Contact): LinqValues {
    const values: LinqValues = {};
    for (const field of this.fields) values[field] = textOf(contact[field]);
    return values;
  }

  private recordOptions() {
    return { mapping: this.settings.fieldMapping, companyPlaceholder: this.settings.companyPlaceholder };
  }

  private createFields(contact: Contact): Record<string, string> {
    const fields = linqContactToSalesforceFields(
      this.objectType,
      this.linqValues(contact),
      this.recordOptions(),
    );
    const external = this.externalIdField;
    if (external !== undefined && contact.id !== undefined) fields[external] = String(contact.id);
    if (this.settings.ownerId !== undefined) fields.OwnerId = this.settings.ownerId;
    return fields;
  }

  /**
   * The Account ids of company names (case-insensitive): found by Name or created, 100 names per
   * query and 200 Accounts per create, cached for the run. A name whose Account cannot be created is
   * left out (logged).
   */
  private async accountIds(companies: readonly string[]): Promise<Map<string, string>> {
    const wanted = [
      ...new Set(companies.filter((name) => name !== "" && !this.accounts.has(name.toLowerCase()))),
    ];
    for (let start = 0; start < wanted.length; start += 100) {
      const names = wanted.slice(start, start + 100);
      const found = await this.services.api.query(
        `SELECT Id, Name FROM Account WHERE Name IN (${names.map((name) => `'${escapeSoql(name)}'`).join(", ")}) ORDER BY CreatedDate`,
        this.call,
      );
      for (const account of found) {
        const name = textOf(account.Name).toLowerCase();
        if (!this.accounts.has(name)) this.accounts.set(name, account.Id);
      }
    }
    const missing = [...new Map(wanted.map((name) => [name.toLowerCase(), name])).values()].filter(
      (name) => !this.accounts.has(name.toLowerCase()),
    );
    if (missing.length > 0) {
      const owner = this.settings.ownerId === undefined ? {} : { OwnerId: this.settings.ownerId };
      const results = await this.services.api.collection(
        "create",
        "Account",
        missing.map((name) => ({ Name: name, ...owner })),
        this.call,
      );
      missing.forEach((name, position) => {
        const result = results[position];
        if (result?.success === true && result.id !== null) this.accounts.set(name.toLowerCase(), result.id);
        else this.logFailure("Account not created", undefined, result);
      });
    }
    return this.accounts;
  }

  /** New Contacts get the Account of their company (when the company is the Account). */
  private async linkAccounts(entries: PendingCreate[]): Promise<void> {
    if (!companyIsAccount(this.settings)) return;
    const companyOf = (entry: PendingCreate) => textOf(entry.contact.company);
    const accounts = await this.accountIds(entries.map(companyOf));
    for (const entry of entries) {
      const accountId = accounts.get(companyOf(entry).toLowerCase());
      if (accountId !== undefined) entry.fields.AccountId = accountId;
    }
  }

  private logFailure(message: string, linqContactId: string | undefined, result: SaveResult | undefined) {
    const entry = result?.errors[0];
    this.logger?.warn(
      {
        ...(linqContactId === undefined ? {} : { linqContactId }),
        code: entry === undefined ? "UNKNOWN" : errorCodeOf(entry),
        fields: entry?.fields,
      },
      `backfill: ${message}`,
    );
  }

  private async createRecords(
    entries: PendingCreate[],
    toLink: PendingPair[],
    claimed: Set<string>,
  ): Promise<void> {
    if (entries.length === 0) return;
    // Re-check right before creating: the live connector may have linked some meanwhile.
    const stillNew: PendingCreate[] = [];
    for (const entry of entries) {
      if ((await this.options.store.findByLinqId(CONTACT_MAPPING, entry.linqId)) === undefined) {
        stillNew.push(entry);
      }
    }
    if (stillNew.length === 0) return;
    await this.linkAccounts(stillNew);
    if (stillNew.length > this.services.bulkThreshold) {
      await this.createWithBulk(stillNew);
      return;
    }
    // One request per 200, its mappings stored before the next: a stop in between loses nothing.
    for (let start = 0; start < stillNew.length; start += COLLECTION_BATCH) {
      const chunk = stillNew.slice(start, start + COLLECTION_BATCH);
      const results = await this.services.api.collection(
        "create",
        this.objectType,
        chunk.map((entry) => entry.fields),
        this.call,
      );
      for (const [position, entry] of chunk.entries()) {
        await this.createResult(entry, results[position], toLink, claimed);
      }
    }
  }

  private async createResult(
    entry: PendingCreate,
    result: SaveResult | undefined,
    toLink: PendingPair[],
    claimed: Set<string>,
  ): Promise<void> {
    if (result?.success === true && result.id !== null) {
      await this.created(entry, result.id);
      return;
    }
    // A duplicate rule that names the existing record: link it instead.
    const duplicateOf = result?.errors
      .flatMap((error) => error.duplicateResult?.matchResults ?? [])
      .flatMap((match) => match.matchRecords ?? [])
      .map((match) => match.record?.Id)
      .find((id): id is string => typeof id === "string" && !claimed.has(id));
    if (
      duplicateOf !== undefined &&
      (await this.options.store.findByExternalId(CONTACT_MAPPING, duplicateOf)) === undefined
    ) {
      claimed.add(duplicateOf);
      toLink.push({ contact: entry.contact, recordId: duplicateOf, synced: undefined });
      return;
    }
    this.state.counts.contactsSkipped += 1;
    this.logFailure(`${this.objectType} not created`, entry.linqId, result);
  }

  /**
   * One Bulk API 2.0 job: upsert on the external-id field when configured (results carry the Linq id),
   * otherwise insert (results carry the values sent: rows are matched back by them, in input order
   * among identical rows).
   */
  private async createWithBulk(entries: PendingCreate[]): Promise<void> {
    const columns = [...new Set(entries.flatMap((entry) => Object.keys(entry.fields)))];
    const rows = entries.map((entry) =>
      Object.fromEntries(columns.map((name) => [name, entry.fields[name] ?? ""])),
    );
    const rowKey = (row: Record<string, unknown>) =>
      columns
        .map((name) => (row[name] === undefined || row[name] === null ? "" : String(row[name])))
        .join("\u0000");
    const external = this.externalIdField;
    const waiting = new Map<string, PendingCreate[]>();
    for (const [position, entry] of entries.entries()) {
      const key = external === undefined ? rowKey(rows[position] as Record<string, unknown>) : entry.linqId;
      waiting.set(key, [...(waiting.get(key) ?? []), entry]);
    }
    const take = (row: Record<string, unknown>) => {
      const key = external === undefined ? rowKey(row) : String(row[external] ?? "");
      return waiting.get(key)?.shift();
    };
    this.checkAborted();
    this.state.counts.bulkJobs += 1;
    const result = await this.services.api.bulkIngest(
      this.objectType,
      external === undefined ? "insert" : "upsert",
      rows,
      {
        signal: this.signal,
        ...(external === undefined ? {} : { externalIdFieldName: external }),
      },
    );
    for (const row of result.successful) {
      const entry = take(row.record);
      if (entry !== undefined) await this.created(entry, row.id);
    }
    for (const row of result.failed) {
      const entry = take(row.record);
      this.state.counts.contactsSkipped += 1;
      this.logger?.warn(
        { ...(entry === undefined ? {} : { linqContactId: entry.linqId }), code: bulkErrorCode(row.error) },
        `backfill: ${this.objectType} not created (Bulk API)`,
      );
    }
  }

  private async created(entry: PendingCreate, recordId: string): Promise<void> {
    const phones = phoneFields(this.settings).map((name) => entry.fields[name]);
    this.index.add({ id: recordId, phones, email: entry.fields.Email, linqId: entry.linqId }, this);
    await this.storeLink(entry.contact, recordId, this.linqValues(entry.contact), "");
    this.state.counts.contactsCreated += 1;
  }

  private async storeLink(
    contact: Contact,
    recordId: string,
    synced: LinqValues,
    systemModstamp: string,
  ): Promise<void> {
    const { store } = this.options;
    const handles = handlesOf(this.identityOf(contact));
    const linqId = String(contact.id);
    const objectType = objectTypeOfId(recordId);
    const metadata: ContactMappingMetadata = {
      objectType,
      synced,
      handles,
      syncedAt: this.services.now().toISOString(),
      systemModstamp,
    };
    const stored = await store.insertMapping({
      kind: CONTACT_MAPPING,
      linqId,
      externalId: recordId,
      metadata: { ...metadata },
    });
    if (stored.linqId !== linqId) return;
    for (const handle of handles) {
      if ((await store.findByLinqId(HANDLE_MAPPING, handle)) !== undefined) continue;
      await store.insertMapping({
        kind: HANDLE_MAPPING,
        linqId: handle,
        externalId: handleExternalId(recordId, handle),
        metadata: { recordId, objectType },
      });
    }
  }

  /** The current Salesforce side of records of one object, `IDS_PER_QUERY` ids per query. */
  private async readRecords(
    ids: string[],
    settings: SalesforceRouteSettings,
  ): Promise<Map<string, SalesforceRecord>> {
    const records = new Map<string, SalesforceRecord>();
    const select = readFields(settings, this.services).join(", ");
    const unique = [...new Set(ids)];
    for (let start = 0; start < unique.length; start += IDS_PER_QUERY) {
      const list = unique
        .slice(start, start + IDS_PER_QUERY)
        .map((id) => `'${escapeSoql(id)}'`)
        .join(", ");
      const found = await this.services.api.query(
        `SELECT ${select} FROM ${settings.objectType} WHERE Id IN (${list})`,
        this.call,
      );
      for (const record of found) records.set(record.Id, record);
    }
    return records;
  }

  /**
   * First links (`synced` undefined) and updates of linked contacts: both sides merged last-writer-wins,
   * the winners written (Salesforce in collections of 200, Linq one by one), then the mappings.
   */
  private async mergePairs(pairs: PendingPair[]): Promise<void> {
    // A Lead route's converted people are on Contacts: each object is read and written with its settings.
    for (const objectType of ["Lead", "Contact"] as const) {
      const ofObject = pairs.filter((pair) => objectTypeOfId(pair.recordId) === objectType);
      if (ofObject.length > 0)
        await this.mergeObjectPairs(ofObject, settingsForObject(this.settings, objectType));
    }
  }

  private async mergeObjectPairs(pairs: PendingPair[], settings: SalesforceRouteSettings): Promise<void> {
    const records = await this.readRecords(
      pairs.map((pair) => pair.recordId),
      settings,
    );
    const merged: { pair: PendingPair; result: ReturnType<BackfillRun["merge"]>; modstamp: string }[] = [];
    for (const pair of pairs) {
      const record = records.get(pair.recordId);
      if (record === undefined) {
        // Deleted in Salesforce: forget the link; the next run creates it again.
        if (pair.synced !== undefined) {
          await this.options.store.deleteMapping(CONTACT_MAPPING, String(pair.contact.id));
        }
        this.state.counts.contactsSkipped += 1;
        continue;
      }
      merged.push({
        pair,
        result: this.merge(pair.contact, record, pair.synced, settings),
        modstamp: textOf(record.SystemModstamp),
      });
    }
    const accounts = companyIsAccount(settings)
      ? await this.accountIds(merged.map(({ result }) => result.toCrm.company ?? ""))
      : this.accounts;
    const writes: {
      pair: PendingPair;
      fields: Record<string, unknown>;
      synced: LinqValues;
      modstamp: string;
    }[] = [];
    for (const { pair, result, modstamp } of merged) {
      if (Object.keys(result.toLinq).length > 0 && pair.contact.id !== undefined) {
        await this.options.linq.updateContact(
          pair.contact.id,
          { contact: withIdentifyingField(result.toLinq, pair.contact) },
          this.signal === undefined ? undefined : { signal: this.signal },
        );
      }
      writes.push({
        pair,
        fields: this.updateFields(result.toCrm, pair.contact, accounts, settings),
        synced: result.synced,
        modstamp,
      });
    }
    const changed = writes.filter((write) => Object.keys(write.fields).length > 0);
    const results = await this.services.api.collection(
      "update",
      settings.objectType,
      changed.map((write) => ({ Id: write.pair.recordId, ...write.fields })),
      this.call,
    );
    const failed = new Set<PendingPair>();
    changed.forEach((write, position) => {
      const result = results[position];
      if (result?.success === true) return;
      failed.add(write.pair);
      this.state.counts.contactsSkipped += 1;
      this.logFailure(`${settings.objectType} not updated`, String(write.pair.contact.id), result);
    });
    for (const write of writes) {
      if (failed.has(write.pair)) continue;
      // After our own update the modstamp is unknown (""); the values in `synced` tell echoes apart.
      const modstamp = changed.includes(write) ? "" : write.modstamp;
      const linqId = String(write.pair.contact.id);
      if (write.pair.synced === undefined) {
        await this.storeLink(write.pair.contact, write.pair.recordId, write.synced, modstamp);
        this.state.counts.contactsLinked += 1;
      } else {
        await this.options.store.updateMetadata(CONTACT_MAPPING, linqId, {
          synced: write.synced,
          syncedAt: this.services.now().toISOString(),
          systemModstamp: modstamp,
        });
        this.state.counts.contactsUpdated += 1;
      }
    }
  }

  private merge(
    contact: Contact,
    record: SalesforceRecord,
    lastSynced: LinqValues | undefined,
    settings: SalesforceRouteSettings,
  ) {
    const crmValues = salesforceValues(record, settings);
    const linqUpdated = Date.parse(contact.updated_at ?? "");
    const crmUpdated = Date.parse(textOf(record.LastModifiedDate));
    return mergeFieldsLastWriterWins<LinqContactField>({
      fields: contactSyncFields(settings),
      kinds: linqContactFieldKinds,
      lastSynced,
      linq: {
        values: this.linqValues(contact),
        updatedAt: Number.isFinite(linqUpdated) ? linqUpdated : undefined,
      },
      crm: { values: crmValues, updatedAt: Number.isFinite(crmUpdated) ? crmUpdated : undefined },
      direction: this.settings.contacts === "off" ? "linq-to-crm" : this.settings.contacts,
      tieBreaker: this.settings.conflictTieBreaker === "linq" ? "linq" : "crm",
      phoneNumberOptions: this.services.phoneNumberOptions,
    });
  }

  /**
   * Merge winners as Salesforce fields: "" clears (null), except LastName and Lead.Company, which are
   * derived as on create; a company that is the Contact's Account sets AccountId.
   */
  private updateFields(
    values: LinqValues,
    contact: Contact,
    accounts: ReadonlyMap<string, string>,
    settings: SalesforceRouteSettings,
  ): Record<string, unknown> {
    const fields: Record<string, unknown> = {};
    let derived: Record<string, string> | undefined;
    for (const [field, value] of Object.entries(values) as [LinqContactField, string][]) {
      const target = settings.fieldMapping[field];
      if (target === null) {
        if (field === "company" && companyIsAccount(settings)) {
          fields.AccountId = value === "" ? null : (accounts.get(value.toLowerCase()) ?? undefined);
          if (fields.AccountId === undefined) delete fields.AccountId;
        }
        continue;
      }
      if (value !== "") fields[target] = value;
      else if (target === "LastName" || (settings.objectType === "Lead" && target === "Company")) {
        derived ??= linqContactToSalesforceFields(
          settings.objectType,
          { ...this.linqValues(contact), ...values },
          { mapping: settings.fieldMapping, companyPlaceholder: settings.companyPlaceholder },
        );
        fields[target] = derived[target];
      } else fields[target] = null;
    }
    return fields;
  }

  // ------------------------------------------------------------------ messages

  private async backfillMessages(): Promise<void> {
    this.phase = "messages";
    const requestOptions = this.signal === undefined ? undefined : { signal: this.signal };
    const numbers = await this.options.linq.listPhoneNumbers(requestOptions);
    const done = new Set(this.state.chatsDone);
    for (const number of numbers) {
      if (number.phone_number === undefined || number.phone_number === null) continue;
      const ownNumber = canonicalHandle(number.phone_number, this.services.phoneNumberOptions);
      if (ownNumber === undefined) continue;
      for await (const chat of this.options.linq.iterateChats(
        { phoneNumber: ownNumber, perPage: LINQ_PAGE },
        requestOptions,
      )) {
        this.checkAborted();
        if (chat.id === undefined || done.has(chat.id)) continue;
        done.add(chat.id);
        await this.chatMessages(chat, ownNumber);
        this.pending.chats.push(chat.id);
        if (this.pending.tasks.length >= COLLECTION_BATCH) await this.flushTasks();
      }
    }
    await this.flushTasks();
  }

  /** Tasks waiting for the next collection request, and the chats they complete. */
  private pending: {
    tasks: PendingTask[];
    chats: number[];
    counts: Pick<SalesforceBackfillCounts, "messagesRead" | "messagesAlreadyLogged" | "messagesSkipped">;
  } = { tasks: [], chats: [], counts: { messagesRead: 0, messagesAlreadyLogged: 0, messagesSkipped: 0 } };

  private async chatMessages(chat: Chat, ownNumber: string): Promise<void> {
    const options = this.services.phoneNumberOptions;
    const participants = [
      ...new Set(
        (chat.chat_handles ?? [])
          .map((handle) => canonicalHandle(String(handle.phone_number ?? ""), options))
          .filter((handle): handle is string => handle !== undefined && handle !== ownNumber),
      ),
    ].slice(0, 10);
    const messages: ChatMessage[] = [];
    for await (const message of this.options.linq.iterateChatMessages(
      chat.id as number,
      { after: this.options.since.toISOString(), sort: "asc", perPage: LINQ_PAGE },
      this.signal === undefined ? undefined : { signal: this.signal },
    )) {
      messages.push(message);
    }
    this.pending.counts.messagesRead += messages.length;
    const customer = participants[0];
    if (customer === undefined) {
      this.pending.counts.messagesSkipped += messages.length;
      return;
    }
    const toLog: LoggedMessage[] = [];
    for (const message of messages) {
      if (message.id === undefined) continue;
      if ((await this.options.store.findByLinqId(TASK_MAPPING, `message:${message.id}`)) !== undefined) {
        this.pending.counts.messagesAlreadyLogged += 1;
        continue;
      }
      const sender = canonicalHandle(message.sent_from ?? "", options);
      toLog.push({
        messageId: String(message.id),
        direction: sender === ownNumber ? "outgoing" : "incoming",
        service: chat.service ?? null,
        participants,
        linqNumber: ownNumber,
        text: message.text ?? "",
        sentAt: message.sent_at ?? this.services.now().toISOString(),
        attachments: (message.attachments ?? [])
          .filter((attachment) => typeof attachment.url === "string" && attachment.url !== "")
          .map((attachment) => ({
            url: attachment.url as string,
            filename: attachment.filename ?? "attachment",
          })),
      });
    }
    if (toLog.length === 0) return;
    const chatId = String(chat.id);
    if (!this.digests()) {
      for (const message of toLog)
        this.pending.tasks.push({ kind: "message", chatId, handle: customer, message });
      return;
    }
    const byDay = new Map<string, LoggedMessage[]>();
    for (const message of toLog) {
      const day = dayOf(message.sentAt, this.settings.digestTimeZone);
      byDay.set(day, [...(byDay.get(day) ?? []), message]);
    }
    for (const [day, dayMessages] of byDay) {
      const digestKey = `${chatId}:${day}`;
      const existing = await this.options.store.findByLinqId(DIGEST_MAPPING, digestKey);
      const lines: DigestLine[] = existing === undefined ? [] : digestLines(existing);
      const known = new Set(lines.map((line) => line.messageId));
      lines.push(
        ...dayMessages
          .filter((message) => !known.has(message.messageId))
          .map(({ messageId, sentAt, direction, service, text, attachments }) => ({
            messageId,
            at: sentAt,
            ...{ direction, service, text, attachments },
          })),
      );
      this.pending.tasks.push({
        kind: "digest",
        chatId,
        handle: customer,
        day,
        digestKey,
        taskId: existing?.externalId,
        participants,
        linqNumber: ownNumber,
        lines,
        messages: dayMessages,
      });
    }
  }

  private digests(): boolean {
    const mode = this.options.activities ?? this.settings.activities;
    return mode === "daily-digest";
  }

  /**
   * Writes the waiting Tasks: the people resolved (unknown ones created, 200 per request), their
   * Names read (one query per 200), then new Tasks created and digests updated 200 per request, each
   * request's mappings stored before the next. Then the chats they complete are marked done.
   */
  private async flushTasks(): Promise<void> {
    const { tasks, chats, counts } = this.pending;
    this.pending = {
      tasks: [],
      chats: [],
      counts: { messagesRead: 0, messagesAlreadyLogged: 0, messagesSkipped: 0 },
    };
    if (tasks.length > 0) {
      const people = await this.people([...new Set(tasks.map((task) => task.handle))]);
      const ready: { task: PendingTask; fields: Record<string, unknown> }[] = [];
      for (const task of tasks) {
        const person = people.get(task.handle);
        if (person === undefined) {
          counts.messagesSkipped += task.kind === "message" ? 1 : task.messages.length;
          continue;
        }
        ready.push({ task, fields: this.taskFields(task, person) });
      }
      const creates = ready.filter(
        (entry) => entry.task.kind === "message" || entry.task.taskId === undefined,
      );
      const updates = ready.filter((entry) => !creates.includes(entry));
      for (let start = 0; start < creates.length; start += COLLECTION_BATCH) {
        const chunk = creates.slice(start, start + COLLECTION_BATCH);
        const results = await this.services.api.collection(
          "create",
          "Task",
          chunk.map((entry) => entry.fields),
          this.call,
        );
        for (const [position, entry] of chunk.entries()) {
          const result = results[position];
          if (result?.success === true && result.id !== null) await this.logged(entry.task, result.id, true);
          else {
            counts.messagesSkipped += entry.task.kind === "message" ? 1 : entry.task.messages.length;
            this.logFailure("Task not created", undefined, result);
          }
        }
      }
      if (updates.length > 0) {
        const results = await this.services.api.collection(
          "update",
          "Task",
          updates.map((entry) => ({
            Id: (entry.task as DigestTask).taskId,
            Subject: entry.fields.Subject,
            Description: entry.fields.Description,
          })),
          this.call,
        );
        for (const [position, entry] of updates.entries()) {
          const task = entry.task as DigestTask;
          const result = results[position];
          if (result?.success === true) {
            await this.logged(task, task.taskId as string, false);
            continue;
          }
          // Deleted in Salesforce (or refused): the next run starts the day's digest again.
          await this.options.store.deleteMapping(DIGEST_MAPPING, task.digestKey);
          counts.messagesSkipped += task.messages.length;
          this.logFailure("digest Task not updated", undefined, result);
        }
      }
    }
    this.state.counts.messagesRead += counts.messagesRead;
    this.state.counts.messagesAlreadyLogged += counts.messagesAlreadyLogged;
    this.state.counts.messagesSkipped += counts.messagesSkipped;
    this.state.chatsDone.push(...chats);
    this.state.counts.chatsDone += chats.length;
    await this.save();
    this.progress();
  }

  private taskFields(task: PendingTask, person: { id: string; name: string }): Record<string, unknown> {
    const options: TaskFormatOptions = {
      whoId: person.id,
      name: person.name,
      timeZone: this.settings.digestTimeZone,
      ownerId: this.settings.ownerId,
      phoneNumberOptions: this.services.phoneNumberOptions,
    };
    if (task.kind === "message") return messageTaskFields(task.message, options);
    return digestTaskFields(
      {
        chatId: task.chatId,
        day: task.day,
        participants: task.participants,
        linqNumber: task.linqNumber,
        lines: task.lines,
      },
      options,
    );
  }

  private async logged(task: PendingTask, taskId: string, created: boolean): Promise<void> {
    const { store } = this.options;
    if (task.kind === "message") {
      await store.insertMapping({
        kind: TASK_MAPPING,
        linqId: `message:${task.message.messageId}`,
        externalId: `${taskId}#${task.message.messageId}`,
        metadata: { taskId },
      });
      this.state.counts.messagesLogged += 1;
      return;
    }
    if (created) {
      await store.insertMapping({
        kind: DIGEST_MAPPING,
        linqId: task.digestKey,
        externalId: taskId,
        metadata: { lines: task.lines },
      });
    } else await store.updateMetadata(DIGEST_MAPPING, task.digestKey, { lines: task.lines });
    for (const message of task.messages) {
      await store.insertMapping({
        kind: TASK_MAPPING,
        linqId: `message:${message.messageId}`,
        externalId: `${taskId}#${message.messageId}`,
        metadata: { taskId, digest: task.digestKey },
      });
      this.state.counts.messagesLogged += 1;
    }
  }

  /**
   * The record and display name of each handle: its handle mapping, else the index of Salesforce
   * records, else (when the route creates unknown contacts) a new record, 200 per request.
   */
  private async people(handles: string[]): Promise<Map<string, { id: string; name: string }>> {
    const ids = new Map<string, string>();
    const unknown: string[] = [];
    for (const handle of handles) {
      let id = await this.knownHandle(
        contactIdentity(isEmailHandle(handle) ? { email: handle } : { phoneNumber: handle }),
      );
      if (id === undefined) {
        await this.buildIndex();
        this.phase = "messages";
        id = this.index.find(undefined, isEmailHandle(handle) ? { email: handle } : { phoneNumber: handle });
        if (id !== undefined) await this.rememberHandle(handle, id);
      }
      if (id === undefined) unknown.push(handle);
      else ids.set(handle, id);
    }
    if (unknown.length > 0 && this.settings.createUnknownContacts) {
      for (let start = 0; start < unknown.length; start += COLLECTION_BATCH) {
        const chunk = unknown.slice(start, start + COLLECTION_BATCH);
        const results = await this.services.api.collection(
          "create",
          this.objectType,
          chunk.map((handle) => {
            const fields = linqContactToSalesforceFields(
              this.objectType,
              isEmailHandle(handle) ? { email: handle } : { phone_number: handle },
              this.recordOptions(),
            );
            return this.settings.ownerId === undefined
              ? fields
              : { ...fields, OwnerId: this.settings.ownerId };
          }),
          this.call,
        );
        for (const [position, handle] of chunk.entries()) {
          const result = results[position];
          if (result?.success === true && result.id !== null) {
            await this.rememberHandle(handle, result.id);
            ids.set(handle, result.id);
          } else this.logFailure(`${this.objectType} of an unknown sender not created`, undefined, result);
        }
      }
    }
    const names = await this.namesOf([...new Set(ids.values())]);
    const people = new Map<string, { id: string; name: string }>();
    for (const [handle, id] of ids) {
      const name = names.get(id);
      people.set(handle, {
        id,
        name:
          name === undefined || name === "" ? displayHandle(handle, this.services.phoneNumberOptions) : name,
      });
    }
    return people;
  }

  private readonly names = new Map<string, string>();

  /** Records' Names (for Task Subjects), `IDS_PER_QUERY` per query, cached for the run. */
  private async namesOf(ids: string[]): Promise<Map<string, string>> {
    for (const objectType of ["Contact", "Lead"] satisfies SalesforceObjectName[]) {
      const missing = ids.filter((id) => !this.names.has(id) && objectTypeOfId(id) === objectType);
      for (let start = 0; start < missing.length; start += IDS_PER_QUERY) {
        const list = missing
          .slice(start, start + IDS_PER_QUERY)
          .map((id) => `'${escapeSoql(id)}'`)
          .join(", ");
        const found = await this.services.api.query(
          `SELECT Id, Name FROM ${objectType} WHERE Id IN (${list})`,
          this.call,
        );
        for (const record of found) this.names.set(record.Id, textOf(record.Name));
      }
    }
    return this.names;
  }

  private async rememberHandle(handle: string, recordId: string): Promise<void> {
    if ((await this.options.store.findByLinqId(HANDLE_MAPPING, handle)) !== undefined) return;
    await this.options.store.insertMapping({
      kind: HANDLE_MAPPING,
      linqId: handle,
      externalId: handleExternalId(recordId, handle),
      metadata: { recordId, objectType: objectTypeOfId(recordId) },
    });
  }
}

/** Linq refuses an update without one of its identifying fields: add the first one the contact has. */
function withIdentifyingField(values: LinqValues, contact: Contact): LinqValues {
  const identifying: LinqContactField[] = ["phone_number", "email", "first_name", "last_name"];
  if (identifying.some((field) => field in values)) return values;
  const present = identifying.find((field) => textOf(contact[field]) !== "");
  return present === undefined ? values : { ...values, [present]: textOf(contact[present]) };
}
