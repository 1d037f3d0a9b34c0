/**
 * The org's data: records of every object, the recycle bin and delete log, with
 * Salesforce's save-time validation (unknown and read-only fields, types, required
 * fields, restricted picklists, references, unique values, duplicate rules) and
 * system fields (Id, CreatedDate/ById, LastModifiedDate/ById, SystemModstamp,
 * IsDeleted, OwnerId) maintained on every write.
 *
 * Writes can be grouped in a savepoint and rolled back (allOrNone collections,
 * composite requests).
 */
import { SalesforceRecordError } from "./simulator-errors.ts";
import { type IdGenerator, normalizeId } from "./simulator-ids.ts";
import {
  type FieldDefinition,
  isRequiredOnCreate,
  type ObjectDefinition,
  type Schema,
} from "./simulator-schema.ts";
import type {
  SalesforceDeletedRecord,
  SalesforceRecord,
  SalesforceSimulatorUser,
} from "./simulator-types.ts";
import {
  coerceValue,
  formatDateTime,
  parseDateTime,
  type StoredValue,
  sameValue,
} from "./simulator-values.ts";

export interface StoredRecord {
  object: ObjectDefinition;
  id: string;
  values: Record<string, StoredValue>;
}

/** Who writes, and how the values arrive. */
export interface WriteContext {
  userId: string;
  /** `json` (REST bodies) or `csv` (Bulk API cells). */
  source: "json" | "csv";
  /** `Sforce-Duplicate-Rule-Header: allowSave=true`. */
  allowDuplicates?: boolean;
}

interface DeleteLogEntry {
  object: string;
  id: string;
  deletedAt: number;
}

type JournalEntry =
  | { kind: "create"; id: string }
  | { kind: "change"; id: string; previous: Record<string, StoredValue> };

/** A savepoint: roll back every write since it was taken, or release it. */
export interface Savepoint {
  rollback(): void;
  release(): void;
}

const CLOSED_TASK_STATUSES = new Set(["completed"]);

/** Lead fields → Account fields on conversion (Salesforce's standard lead field mapping). */
const LEAD_TO_ACCOUNT: Readonly<Record<string, string>> = {
  Company: "Name",
  Phone: "Phone",
  Website: "Website",
  Industry: "Industry",
  Street: "BillingStreet",
  City: "BillingCity",
  State: "BillingState",
  PostalCode: "BillingPostalCode",
  Country: "BillingCountry",
  OwnerId: "OwnerId",
};

/** Lead fields → Contact fields on conversion. */
const LEAD_TO_CONTACT: Readonly<Record<string, string>> = {
  Salutation: "Salutation",
  FirstName: "FirstName",
  LastName: "LastName",
  Title: "Title",
  Email: "Email",
  Phone: "Phone",
  MobilePhone: "MobilePhone",
  Street: "MailingStreet",
  City: "MailingCity",
  State: "MailingState",
  PostalCode: "MailingPostalCode",
  Country: "MailingCountry",
  LeadSource: "LeadSource",
  Description: "Description",
  HasOptedOutOfEmail: "HasOptedOutOfEmail",
  DoNotCall: "DoNotCall",
  OwnerId: "OwnerId",
};

function isConvertedLead(record: StoredRecord): boolean {
  return record.object.name === "Lead" && record.values.IsConverted === true;
}

/** What Salesforce answers to an update of a converted Lead, or a lookup naming one. */
function convertedLeadError(): SalesforceRecordError {
  return new SalesforceRecordError("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead");
}

export class RecordStore {
  private readonly schema: Schema;
  private readonly ids: IdGenerator;
  private readonly now: () => Date;
  private readonly duplicateRules: Record<string, string[]>;
  private readonly apiVersion: string;
  private readonly records = new Map<string, StoredRecord>();
  private readonly order = new Map<string, string[]>();
  private deleteLog: DeleteLogEntry[] = [];
  private journal: JournalEntry[] = [];
  private openSavepoints = 0;
  private lastTimestamp = 0;

  constructor(options: {
    schema: Schema;
    ids: IdGenerator;
    now: () => Date;
    duplicateRules: Record<string, string[]>;
    apiVersion: string;
  }) {
    this.apiVersion = options.apiVersion;
    this.schema = options.schema;
    this.ids = options.ids;
    this.now = options.now;
    this.duplicateRules = options.duplicateRules;
  }

  /** Seeds the users (after construction and after every reset). */
  seedUsers(users: SalesforceSimulatorUser[]): void {
    const userObject = this.requireObject("User");
    const creator = users[0]?.id ?? "";
    const stamp = this.timestamp();
    for (const user of users) {
      const [first, ...rest] = user.name.split(" ");
      const lastName = rest.length > 0 ? rest.join(" ") : (first ?? user.username);
      const firstName = rest.length > 0 ? (first ?? null) : null;
      const values: Record<string, StoredValue> = this.emptyValues(userObject);
      Object.assign(values, {
        Id: user.id,
        IsDeleted: false,
        CreatedDate: stamp,
        CreatedById: creator,
        LastModifiedDate: stamp,
        LastModifiedById: creator,
        SystemModstamp: stamp,
        Username: user.username,
        FirstName: firstName,
        LastName: lastName,
        Name: user.name,
        Email: user.email,
        Alias: user.username
          .replace(/[^A-Za-z0-9]/g, "")
          .slice(0, 8)
          .toLowerCase(),
        IsActive: true,
      });
      this.insert({ object: userObject, id: user.id, values });
    }
  }

  clear(): void {
    this.records.clear();
    this.order.clear();
    this.deleteLog = [];
    this.journal = [];
    this.openSavepoints = 0;
    this.lastTimestamp = 0;
  }

  // ------------------------------------------------------------------ reads

  get(id: string): StoredRecord | undefined {
    const normalized = normalizeId(id);
    return normalized === undefined ? undefined : this.records.get(normalized);
  }

  /** Records of an object in creation order. */
  all(objectName: string, options: { includeDeleted?: boolean } = {}): StoredRecord[] {
    const object = this.schema.object(objectName);
    if (object === undefined) return [];
    const result: StoredRecord[] = [];
    for (const id of this.order.get(object.name) ?? []) {
      const record = this.records.get(id);
      if (record !== undefined && (options.includeDeleted === true || record.values.IsDeleted !== true))
        result.push(record);
    }
    return result;
  }

  deletedLog(objectName: string): DeleteLogEntry[] {
    const object = this.schema.object(objectName);
    return this.deleteLog.filter((entry) => entry.object === object?.name);
  }

  /** A live record of the expected object, or the REST error Salesforce answers. */
  requireLive(object: ObjectDefinition, id: string): StoredRecord {
    const normalized = normalizeId(id);
    if (normalized === undefined)
      throw new SalesforceRecordError("MALFORMED_ID", `malformed id ${id}`, [], { status: 400 });
    const record = this.records.get(normalized);
    if (record === undefined || record.object !== object) {
      throw new SalesforceRecordError("NOT_FOUND", "The requested resource does not exist");
    }
    if (record.values.IsDeleted === true)
      throw new SalesforceRecordError("ENTITY_IS_DELETED", "entity is deleted");
    return record;
  }

  // ------------------------------------------------------------------ writes

  create(objectName: string, input: unknown, context: WriteContext): StoredRecord {
    const object = this.requireObject(objectName);
    if (!object.createable) {
      throw new SalesforceRecordError(
        "INVALID_TYPE_FOR_OPERATION",
        `entity type cannot be inserted: ${object.name}`,
      );
    }
    const changes = this.prepare(object, input, "create", undefined, context);
    const values = this.emptyValues(object);
    for (const definition of object.fields) {
      const picklistDefault = definition.picklist?.defaultValue ?? null;
      if (definition.type === "boolean") values[definition.name] = false;
      else if (definition.defaultedOnCreate && picklistDefault !== null)
        values[definition.name] = picklistDefault;
    }
    Object.assign(values, changes);
    const stamp = this.timestamp();
    const id = this.ids.next(object.keyPrefix);
    Object.assign(values, {
      Id: id,
      IsDeleted: false,
      CreatedDate: stamp,
      CreatedById: context.userId,
      LastModifiedDate: stamp,
      LastModifiedById: context.userId,
      SystemModstamp: stamp,
    });
    if (object.field("OwnerId") !== undefined && values.OwnerId === null) values.OwnerId = context.userId;
    this.checkRequired(object, values);
    this.checkUnique(object, values, changes, undefined);
    this.checkDuplicates(object, values, undefined, context);
    const record: StoredRecord = { object, id, values };
    this.derive(record);
    this.insert(record);
    if (this.openSavepoints > 0) this.journal.push({ kind: "create", id });
    return record;
  }

  update(objectName: string, id: string, input: unknown, context: WriteContext): StoredRecord {
    const object = this.requireObject(objectName);
    const record = this.requireLive(object, id);
    if (!object.updateable) {
      throw new SalesforceRecordError(
        "INVALID_TYPE_FOR_OPERATION",
        `entity type cannot be updated: ${object.name}`,
      );
    }
    if (isConvertedLead(record)) throw convertedLeadError();
    const changes = this.prepare(object, input, "update", record, context);
    const values = { ...record.values, ...changes };
    this.checkRequired(object, values);
    this.checkUnique(object, values, changes, record.id);
    this.checkDuplicates(object, values, record.id, context);
    const stamp = this.timestamp();
    this.remember(record);
    Object.assign(record.values, changes, {
      LastModifiedDate: stamp,
      LastModifiedById: context.userId,
      SystemModstamp: stamp,
    });
    this.derive(record);
    return record;
  }

  /** Upsert by external id (or `Id`): updates the single match, creates when none, 300 for several. */
  upsert(
    objectName: string,
    fieldName: string,
    key: string,
    input: unknown,
    context: WriteContext,
  ): { record: StoredRecord; created: boolean } {
    const object = this.requireObject(objectName);
    const keyField = object.field(fieldName);
    if (keyField === undefined || !(keyField.externalId || keyField.type === "id")) {
      throw new SalesforceRecordError(
        "NOT_FOUND",
        `Provided external ID field does not exist or is not accessible: ${fieldName}`,
      );
    }
    if (keyField.type === "id") {
      const existing = this.get(key);
      if (existing === undefined || existing.object !== object) {
        if (normalizeId(key) === undefined)
          throw new SalesforceRecordError("MALFORMED_ID", `malformed id ${key}`);
        throw new SalesforceRecordError("NOT_FOUND", "The requested resource does not exist");
      }
      return { record: this.update(object.name, existing.id, input, context), created: false };
    }
    const body = asObject(input);
    for (const [name, value] of Object.entries(body)) {
      if (name.toLowerCase() === keyField.name.toLowerCase() && value !== key) {
        throw new SalesforceRecordError(
          "INVALID_FIELD",
          `The value of the external ID field in the URL (${key}) doesn't match the value in the request body (${String(value)})`,
          [keyField.name],
        );
      }
    }
    const matches = this.findByField(object, keyField, key);
    if (matches.length > 1) {
      throw new SalesforceRecordError("MULTIPLE_CHOICES", "Multiple records found", [], {
        status: 300,
        extra: { urls: matches.map((match) => recordUrl(this.apiVersion, object.name, match.id)) },
      });
    }
    const existing = matches[0];
    if (existing !== undefined) {
      const withoutKey = Object.fromEntries(
        Object.entries(body).filter(([name]) => name.toLowerCase() !== keyField.name.toLowerCase()),
      );
      return { record: this.update(object.name, existing.id, withoutKey, context), created: false };
    }
    return { record: this.create(object.name, { ...body, [keyField.name]: key }, context), created: true };
  }

  /** Live records whose field equals the value (text case-insensitively). */
  findByField(object: ObjectDefinition, definition: FieldDefinition, value: StoredValue): StoredRecord[] {
    return this.all(object.name).filter((record) => sameValue(record.values[definition.name] ?? null, value));
  }

  /** Moves a record (and the records that cascade with it) to the recycle bin, writing the delete log. */
  delete(objectName: string | undefined, id: string, context: WriteContext): StoredRecord {
    const normalized = normalizeId(id);
    if (normalized === undefined)
      throw new SalesforceRecordError("MALFORMED_ID", `malformed id ${id}`, [], { status: 400 });
    const found = this.records.get(normalized);
    const object = objectName === undefined ? found?.object : this.requireObject(objectName);
    if (object === undefined)
      throw new SalesforceRecordError("NOT_FOUND", "The requested resource does not exist");
    const record = this.requireLive(object, normalized);
    if (!object.deletable) {
      throw new SalesforceRecordError(
        "INVALID_TYPE_FOR_OPERATION",
        `entity type cannot be deleted: ${object.name}`,
      );
    }
    this.cascadeDelete(record, context);
    return record;
  }

  private cascadeDelete(record: StoredRecord, context: WriteContext): void {
    const stamp = this.timestamp();
    this.remember(record);
    Object.assign(record.values, {
      IsDeleted: true,
      LastModifiedDate: stamp,
      LastModifiedById: context.userId,
      SystemModstamp: stamp,
    });
    this.deleteLog.push({ object: record.object.name, id: record.id, deletedAt: parseDateTime(stamp) ?? 0 });
    const dependents: StoredRecord[] = [];
    if (record.object.name === "Account")
      dependents.push(...this.all("Contact").filter((contact) => contact.values.AccountId === record.id));
    if (["Account", "Contact", "Lead"].includes(record.object.name)) {
      dependents.push(
        ...this.all("Task").filter(
          (task) => task.values.WhoId === record.id || task.values.WhatId === record.id,
        ),
      );
    }
    for (const dependent of dependents) {
      if (dependent.values.IsDeleted !== true) this.cascadeDelete(dependent, context);
    }
  }

  /**
   * Converts a Lead as Salesforce's "Convert" button does (without an Opportunity): the Account (the
   * given one, the given Contact's, or a new one named after Lead.Company) and the Contact (the given
   * one, whose blank fields the Lead fills, or a new one) are saved, the Lead becomes read-only
   * (IsConverted, Converted*Id, ConvertedDate, the converted Status) and its Tasks move to the Contact.
   * All or nothing.
   */
  convertLead(
    leadId: string,
    options: { contactId?: string | undefined; accountId?: string | undefined },
    context: WriteContext,
  ): { leadId: string; contactId: string; accountId: string } {
    const leadObject = this.requireObject("Lead");
    const lead = this.requireLive(leadObject, leadId);
    if (isConvertedLead(lead)) throw convertedLeadError();
    const savepoint = this.savepoint();
    try {
      const existingContact =
        options.contactId === undefined
          ? undefined
          : this.requireLive(this.requireObject("Contact"), options.contactId);
      const accountId =
        options.accountId ??
        (typeof existingContact?.values.AccountId === "string"
          ? existingContact.values.AccountId
          : undefined);
      const account =
        accountId === undefined
          ? this.create("Account", this.convertedValues(lead, LEAD_TO_ACCOUNT), context)
          : this.requireLive(this.requireObject("Account"), accountId);
      const contactValues = { ...this.convertedValues(lead, LEAD_TO_CONTACT), AccountId: account.id };
      const contact =
        existingContact === undefined
          ? this.create("Contact", contactValues, context)
          : this.update(
              "Contact",
              existingContact.id,
              Object.fromEntries(
                Object.entries(contactValues).filter(([name]) => {
                  const current = existingContact.values[name];
                  return current === null || current === undefined || current === "";
                }),
              ),
              context,
            );
      const stamp = this.timestamp();
      this.remember(lead);
      const status = leadObject
        .field("Status")
        ?.picklist?.values.find((value) => /converted/i.test(value) && !/not converted/i.test(value));
      Object.assign(lead.values, {
        IsConverted: true,
        ConvertedContactId: contact.id,
        ConvertedAccountId: account.id,
        ConvertedDate: stamp.slice(0, 10),
        ...(status === undefined ? {} : { Status: status }),
        LastModifiedDate: stamp,
        LastModifiedById: context.userId,
        SystemModstamp: stamp,
      });
      for (const task of this.all("Task").filter((candidate) => candidate.values.WhoId === lead.id)) {
        this.remember(task);
        Object.assign(task.values, {
          WhoId: contact.id,
          LastModifiedDate: stamp,
          LastModifiedById: context.userId,
          SystemModstamp: stamp,
        });
        this.derive(task);
      }
      savepoint.release();
      return { leadId: lead.id, contactId: contact.id, accountId: account.id };
    } catch (error) {
      savepoint.rollback();
      throw error;
    }
  }

  /** The non-blank values of a Lead under the field names of the record it converts into. */
  private convertedValues(
    lead: StoredRecord,
    fields: Readonly<Record<string, string>>,
  ): Record<string, StoredValue> {
    const values: Record<string, StoredValue> = {};
    for (const [from, to] of Object.entries(fields)) {
      const value = lead.values[from];
      if (value !== null && value !== undefined && value !== "") values[to] = value;
    }
    return values;
  }

  /** Opens a savepoint: writes after it can be rolled back. */
  savepoint(): Savepoint {
    const mark = this.journal.length;
    const deleteLogLength = this.deleteLog.length;
    this.openSavepoints += 1;
    let open = true;
    const close = (): void => {
      if (!open) return;
      open = false;
      this.openSavepoints -= 1;
      if (this.openSavepoints === 0) this.journal = [];
    };
    return {
      rollback: () => {
        if (!open) return;
        for (const entry of this.journal.splice(mark).reverse()) {
          if (entry.kind === "create") {
            this.records.delete(entry.id);
            const record = entry.id;
            for (const ids of this.order.values()) {
              const index = ids.lastIndexOf(record);
              if (index >= 0) ids.splice(index, 1);
            }
          } else {
            const record = this.records.get(entry.id);
            if (record !== undefined) record.values = entry.previous;
          }
        }
        this.deleteLog.length = deleteLogLength;
        close();
      },
      release: close,
    };
  }

  // ------------------------------------------------------------------ rendering

  /** The REST rendering of a record: `attributes`, then every field in describe order. */
  render(record: StoredRecord, apiVersion: string): SalesforceRecord {
    const rendered: SalesforceRecord = {
      attributes: { type: record.object.name, url: recordUrl(apiVersion, record.object.name, record.id) },
      Id: record.id,
    };
    for (const definition of record.object.fields)
      rendered[definition.name] = record.values[definition.name] ?? null;
    return rendered;
  }

  renderDeleted(entry: DeleteLogEntry): SalesforceDeletedRecord {
    return { id: entry.id, deletedDate: formatDateTime(entry.deletedAt) };
  }

  /** The current time as Salesforce stores it, never earlier than a previous write. */
  timestamp(): string {
    const now = Math.floor(this.now().getTime() / 1000) * 1000;
    this.lastTimestamp = Math.max(this.lastTimestamp, now);
    return formatDateTime(this.lastTimestamp);
  }

  // ------------------------------------------------------------------ validation

  private prepare(
    object: ObjectDefinition,
    input: unknown,
    mode: "create" | "update",
    existing: StoredRecord | undefined,
    context: WriteContext,
  ): Record<string, StoredValue> {
    const body = asObject(input);
    const entries: [FieldDefinition, unknown][] = [];
    for (const [name, value] of Object.entries(body)) {
      if (name === "attributes") continue;
      const definition = object.field(name);
      if (definition === undefined) {
        throw new SalesforceRecordError(
          "INVALID_FIELD",
          `No such column '${name}' on sobject of type ${object.name}`,
        );
      }
      entries.push([definition, value]);
    }
    const changes: Record<string, StoredValue> = {};
    for (const [definition, raw] of entries) {
      if (context.source === "csv" && raw === "#N/A") changes[definition.name] = null;
      else changes[definition.name] = coerceValue(definition, raw, context.source);
    }
    const forbidden: string[] = [];
    for (const [definition] of entries) {
      if (definition.name === "Id" && mode === "update" && changes.Id === existing?.id) {
        delete changes.Id;
        continue;
      }
      if (mode === "create" ? !definition.createable : !definition.updateable)
        forbidden.push(definition.name);
    }
    if (forbidden.length > 0) {
      throw new SalesforceRecordError(
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        `Unable to create/update fields: ${forbidden.join(", ")}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
        forbidden,
      );
    }
    for (const [name, value] of Object.entries(changes)) {
      const definition = object.field(name);
      if (
        definition?.picklist?.restricted === true &&
        value !== null &&
        !definition.picklist.values.includes(String(value))
      ) {
        throw new SalesforceRecordError(
          "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
          `bad value for restricted picklist field: ${String(value)}`,
          [definition.name],
        );
      }
    }
    for (const [name, value] of Object.entries(changes)) {
      const definition = object.field(name);
      if (definition?.type === "reference" && typeof value === "string")
        this.checkReference(definition, value);
    }
    return changes;
  }

  private checkReference(definition: FieldDefinition, id: string): void {
    const target = this.schema.objectForId(id);
    if (target === undefined || !definition.referenceTo.includes(target.name)) {
      throw new SalesforceRecordError(
        "FIELD_INTEGRITY_EXCEPTION",
        `${definition.label}: id value of incorrect type: ${id}`,
        [definition.name],
      );
    }
    const record = this.records.get(id);
    if (record === undefined || record.values.IsDeleted === true) {
      throw new SalesforceRecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [
        definition.name,
      ]);
    }
    // A Task's WhoId (or any lookup) cannot name a converted Lead.
    if (isConvertedLead(record)) throw convertedLeadError();
  }

  private checkRequired(object: ObjectDefinition, values: Record<string, StoredValue>): void {
    const missing = object.fields
      .filter(
        (definition) =>
          isRequiredOnCreate(definition) ||
          (!definition.nillable && definition.createable && definition.type !== "boolean"),
      )
      .filter((definition) => {
        const value = values[definition.name];
        return value === null || value === undefined || (typeof value === "string" && value.trim() === "");
      })
      .map((definition) => definition.name);
    if (missing.length > 0) {
      throw new SalesforceRecordError(
        "REQUIRED_FIELD_MISSING",
        `Required fields are missing: [${missing.join(", ")}]`,
        missing,
      );
    }
  }

  private checkUnique(
    object: ObjectDefinition,
    values: Record<string, StoredValue>,
    changes: Record<string, StoredValue>,
    selfId: string | undefined,
  ): void {
    for (const name of Object.keys(changes)) {
      const definition = object.field(name);
      const value = values[name] ?? null;
      if (definition === undefined || !definition.unique || value === null) continue;
      const clash = this.findByField(object, definition, value).find((record) => record.id !== selfId);
      if (clash !== undefined) {
        throw new SalesforceRecordError(
          "DUPLICATE_VALUE",
          `duplicate value found: ${definition.name} duplicates value on record with id: ${clash.id}`,
          [definition.name],
        );
      }
    }
  }

  private checkDuplicates(
    object: ObjectDefinition,
    values: Record<string, StoredValue>,
    selfId: string | undefined,
    context: WriteContext,
  ): void {
    const ruleFields = this.duplicateRules[object.name];
    if (ruleFields === undefined || ruleFields.length === 0 || context.allowDuplicates === true) return;
    const matches: StoredRecord[] = [];
    for (const name of ruleFields) {
      const definition = object.field(name);
      const value = definition === undefined ? null : (values[definition.name] ?? null);
      if (definition === undefined || value === null || value === "") continue;
      for (const match of this.findByField(object, definition, value)) {
        if (match.id !== selfId && !matches.includes(match)) matches.push(match);
      }
    }
    if (matches.length === 0) return;
    const ruleName = `Standard_${object.name}_Duplicate_Rule`;
    throw new SalesforceRecordError("DUPLICATES_DETECTED", "Use one of these records?", [], {
      extra: {
        duplicateResult: {
          allowSave: true,
          duplicateRule: ruleName,
          duplicateRuleEntityType: object.name,
          errorMessage: "Use one of these records?",
          matchResults: [
            {
              entityType: object.name,
              errors: [],
              matchEngine: "ExactMatchEngine",
              matchRecords: matches.map((match) => ({
                additionalInformation: [],
                fieldDiffs: [],
                matchConfidence: 100,
                record: {
                  attributes: { type: object.name, url: recordUrl(this.apiVersion, object.name, match.id) },
                  Id: match.id,
                },
              })),
              rule: `Standard_Rule_for_${object.name}s_with_Duplicate_${ruleFields.join("_")}`,
              size: matches.length,
              success: true,
            },
          ],
        },
      },
    });
  }

  // ------------------------------------------------------------------ internals

  private derive(record: StoredRecord): void {
    const values = record.values;
    if (record.object.field("FirstName") !== undefined && record.object.field("Name")?.calculated === true) {
      values.Name = [values.FirstName, values.LastName]
        .filter((part) => typeof part === "string" && part !== "")
        .join(" ");
    }
    if (record.object.name === "Task") {
      const closed =
        typeof values.Status === "string" && CLOSED_TASK_STATUSES.has(values.Status.toLowerCase());
      if (closed && values.IsClosed !== true) values.CompletedDateTime = values.LastModifiedDate ?? null;
      if (!closed) values.CompletedDateTime = null;
      values.IsClosed = closed;
      const who = typeof values.WhoId === "string" ? this.records.get(values.WhoId) : undefined;
      const what = typeof values.WhatId === "string" ? this.records.get(values.WhatId) : undefined;
      values.AccountId =
        what?.object.name === "Account"
          ? what.id
          : who?.object.name === "Contact"
            ? (who.values.AccountId ?? null)
            : null;
    }
  }

  private remember(record: StoredRecord): void {
    if (this.openSavepoints > 0)
      this.journal.push({ kind: "change", id: record.id, previous: { ...record.values } });
  }

  private insert(record: StoredRecord): void {
    this.records.set(record.id, record);
    const ids = this.order.get(record.object.name) ?? [];
    ids.push(record.id);
    this.order.set(record.object.name, ids);
  }

  private emptyValues(object: ObjectDefinition): Record<string, StoredValue> {
    return Object.fromEntries(object.fields.map((definition) => [definition.name, null]));
  }

  private requireObject(name: string): ObjectDefinition {
    const object = this.schema.object(name);
    if (object === undefined)
      throw new SalesforceRecordError("INVALID_TYPE", `sObject type '${name}' is not supported.`, [], {
        status: 404,
      });
    return object;
  }
}

/** `/services/data/vXX.X/sobjects/{type}/{id}`. */
export function recordUrl(apiVersion: string, objectName: string, id: string): string {
  return `/services/data/v${apiVersion}/sobjects/${objectName}/${id}`;
}

function asObject(input: unknown): Record<string, unknown> {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw new SalesforceRecordError(
      "JSON_PARSER_ERROR",
      `Cannot deserialize instance of sObject from ${Array.isArray(input) ? "START_ARRAY value [" : "a non-object value"} or request may be missing a required field`,
    );
  }
  return input as Record<string, unknown>;
}
