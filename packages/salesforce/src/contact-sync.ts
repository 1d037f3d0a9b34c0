/**
 * Two-way contact sync between Linq and Salesforce Contacts (or Leads, per route).
 *
 * Linq → Salesforce (`contact.created` / `contact.updated`): under the person's lock, the stored
 * `salesforce.contact` mapping first; without one, the record is looked up (the external-id field
 * holding the Linq id when configured, the handle mappings, SOSL on the phone fields, SOQL on the
 * email; see contact-matching.ts) or created. Fields are merged with the values last synced (core
 * `mergeFieldsLastWriterWins`): a field changed on one side goes to the other, a conflict to the later
 * writer (Linq `updated_at` against the record's `LastModifiedDate`: Salesforce has no per-field
 * timestamps without field history), ties to the route's `conflictTieBreaker`.
 *
 * Salesforce → Linq (`salesforce.record-changed` jobs from polling.ts): the record is read now, then
 * under the same lock merged with the linked (or found, or created) Linq contact the same way.
 *
 * Never a duplicate: every path that may create a record for a person (a Linq contact event, a text
 * from an unknown number, the activities) holds the person's lock (`contactLockKey`) while it looks
 * and creates. A create whose answer was lost (dropped connection, timeout, 5xx) may have happened:
 * it is remembered (cursor `salesforce:pending-create:<lock key>`), and the next attempt first reads
 * the records created since then with SOQL (which, unlike the SOSL index, sees them at once). With an
 * external-id field the create is an upsert on the Linq id, which is safe to repeat anyway.
 *
 * Loop prevention: our writes come back (a Linq `contact.updated`, a newer SystemModstamp). The
 * mapping keeps the values both sides held after the last sync; a change equal to them is our own
 * echo and writes nothing. Placeholders we put in required fields (a LastName derived from the first
 * name, email or number; Lead.Company's placeholder) count as "no value" on the Linq side, so they are
 * never copied to Linq.
 *
 * Converted Leads: a Lead converted in Salesforce is read-only; wherever the sync meets one (the
 * linked record, a match, the sender of a message, a polled change) the person is relinked to the
 * Lead's `ConvertedContactId` (the `salesforce.contact` and `salesforce.handle` mappings) and the
 * sync carries on with that Contact. A Lead route keeps creating Leads for new people only, and
 * its polling reads the Contacts it tracks too, so Salesforce edits and deletions of that Contact
 * come back to Linq (`syncSalesforceRecord`).
 */
import {
  type ConnectorContext,
  type Contact,
  type ContactIdentity,
  changedSinceLastSync,
  contactIdentity,
  contactLockKey,
  type FieldDecision,
  isEchoOfLastSync,
  isLinqConnectError,
  type LinqContactEventData,
  type Mapping,
  mergeFieldsLastWriterWins,
  NotFoundError,
  type SyncDirection,
} from "@linq-connect/core";
import type { ConnectorServices } from "./connector-services.ts";
import {
  companyIsAccount,
  contactSyncFields,
  convertedContactIdOf,
  findRecordOfPerson,
  handlesOf,
  identityOfRecord,
  linqContactFieldKinds,
  objectTypeOfId,
  readRecord,
  recentlyCreatedRecordOf,
  salesforceValues,
  searchRecordByExternalId,
  settingsForObject,
} from "./contact-matching.ts";
import {
  type LinqContactField,
  linqContactToSalesforceFields,
  type SalesforceObjectName,
} from "./field-mapping.ts";
import {
  CONTACT_LOCK_NAMESPACE,
  CONTACT_MAPPING,
  type ContactMappingMetadata,
  contactMetadata,
  HANDLE_MAPPING,
  handleExternalId,
  isLinkedRecord,
  moveLinksToConvertedContact,
} from "./mappings.ts";
import type { RecordChangedPayload } from "./polling.ts";
import { escapeSoql, type SalesforceRecord } from "./salesforce-api.ts";
import { SalesforceDuplicateError } from "./salesforce-errors.ts";
import { linqContactFields, type SalesforceRouteSettings } from "./settings.ts";

/** A Linq contact as webhooks and the REST API describe it. */
export type LinqContactLike = Pick<
  LinqContactEventData,
  "first_name" | "last_name" | "email" | "phone_number" | "company" | "title" | "location" | "updated_at"
> & {
  id: number | string | undefined;
};

type FieldValues = Partial<Record<LinqContactField, string>>;

/** How long a lost create is looked for among the records created since (SOQL on CreatedDate). */
const PENDING_CREATE_WINDOW_MS = 15 * 60_000;
/** How far before the failure the created record may be dated (the call's timeout, clock skew). */
const PENDING_CREATE_MARGIN_MS = 5 * 60_000;

const IDENTIFYING_FIELDS: readonly LinqContactField[] = ["phone_number", "email", "first_name", "last_name"];

function linqValues(contact: LinqContactLike, fields: readonly LinqContactField[]): FieldValues {
  return Object.fromEntries(
    fields.map((field) => [field, typeof contact[field] === "string" ? contact[field].trim() : ""]),
  );
}

function nonEmpty(values: FieldValues): FieldValues {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== ""));
}

function epoch(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const time = Date.parse(value);
  return Number.isFinite(time) ? time : undefined;
}

/** The LastName `linqContactToSalesforceFields` derives for a contact without one. */
function derivedLastName(values: Partial<Record<LinqContactField, string | null | undefined>>): string {
  const person = {
    first_name: values.first_name ?? null,
    email: values.email ?? null,
    phone_number: values.phone_number ?? null,
  };
  return linqContactToSalesforceFields("Contact", person).LastName ?? "";
}

function writesToSalesforce(settings: SalesforceRouteSettings): boolean {
  return settings.contacts === "two-way" || settings.contacts === "linq-to-crm";
}

function readsFromSalesforce(settings: SalesforceRouteSettings): boolean {
  return settings.contacts === "two-way" || settings.contacts === "crm-to-linq";
}

/** The merge direction of a route's contact sync (callers have checked it is not "off"). */
function directionOf(settings: SalesforceRouteSettings): SyncDirection {
  return settings.contacts === "off" ? "two-way" : settings.contacts;
}

function logDecisions(
  context: ConnectorContext,
  decisions: readonly FieldDecision<LinqContactField>[],
  ids: { linqContactId: string; salesforceRecordId: string },
): void {
  for (const { field, outcome, winner, linqTimestamp, crmTimestamp, reason } of decisions) {
    const entry = {
      ...ids,
      field,
      outcome,
      winner: winner === "crm" ? "salesforce" : winner,
      linqTimestamp: linqTimestamp === undefined ? undefined : new Date(linqTimestamp).toISOString(),
      salesforceTimestamp: crmTimestamp === undefined ? undefined : new Date(crmTimestamp).toISOString(),
      reason: reason.replaceAll("the CRM", "Salesforce"),
    };
    if (outcome === "conflict") context.logger.info(entry, "contact field conflict: last writer wins");
    else context.logger.debug(entry, "contact field synced");
  }
}

/**
 * Linq wants one of first_name, last_name, email or phone_number in every contact write: a write of
 * other fields carries the contact's current value of one of them, unchanged.
 */
function withIdentifyingField(values: FieldValues, contact: LinqContactLike): FieldValues {
  if (IDENTIFYING_FIELDS.some((field) => field in values)) return values;
  const field = IDENTIFYING_FIELDS.find((name) => (contact[name]?.trim() ?? "") !== "");
  return field === undefined ? values : { ...values, [field]: contact[field]?.trim() ?? "" };
}

export class ContactSync {
  readonly services: ConnectorServices;

  constructor(services: ConnectorServices) {
    this.services = services;
  }

  private identityOfLinq(contact: Pick<LinqContactLike, "phone_number" | "email">): ContactIdentity {
    return contactIdentity(
      { phoneNumber: contact.phone_number, email: contact.email },
      this.services.phoneNumberOptions,
    );
  }

  private lockKey(identity: ContactIdentity, fallback: string): string {
    return contactLockKey(CONTACT_LOCK_NAMESPACE, identity, fallback);
  }

  /**
   * The record's values as Linq would see them: a LastName that is only the placeholder derived from
   * the other fields (of the record, the Linq contact or the last sync: its first name, email's local
   * part or number) and Lead.Company's placeholder count as empty. (A person whose last name is their
   * first name loses it on the way to Linq: the price of never leaking placeholders.)
   */
  private salesforceSide(
    record: SalesforceRecord,
    settings: SalesforceRouteSettings,
    references: readonly FieldValues[],
  ): FieldValues {
    const values = salesforceValues(record, settings);
    const lastName = values.last_name ?? "";
    // What a LastName is derived from: the first name, the email's local part, the number.
    const sources = [values.first_name, values.email?.split("@")[0], values.phone_number];
    if (
      lastName !== "" &&
      settings.fieldMapping.last_name === "LastName" &&
      (sources.some((source) => source?.trim() === lastName) ||
        references.some((reference) => derivedLastName(reference) === lastName))
    ) {
      values.last_name = "";
    }
    // Lead.Company's placeholder (or the Account a converted Lead's placeholder became).
    if (values.company === settings.companyPlaceholder) values.company = "";
    return values;
  }

  /**
   * Salesforce fields for Linq values ("" clears): a cleared last name becomes the derived LastName
   * (required), a cleared Lead company the placeholder, a Contact's company its Account.
   */
  private async salesforceFields(
    values: FieldValues,
    contact: LinqContactLike,
    settings: SalesforceRouteSettings,
    context: ConnectorContext,
  ): Promise<Record<string, string | null>> {
    const fields: Record<string, string | null> = {};
    for (const [field, value] of Object.entries(values) as [LinqContactField, string][]) {
      const target = settings.fieldMapping[field];
      if (field === "company" && companyIsAccount(settings)) {
        fields.AccountId = value === "" ? null : await this.accountIdFor(value, settings, context);
      } else if (target !== null && value !== "") {
        fields[target] = value;
      } else if (target !== null) {
        const required = linqContactToSalesforceFields(
          settings.objectType,
          { ...linqValues(contact, linqContactFields), [field]: "" },
          { mapping: settings.fieldMapping, companyPlaceholder: settings.companyPlaceholder },
        )[target];
        fields[target] = required ?? null;
      }
    }
    return fields;
  }

  /** The Account named `name` (SOQL, escaped), created when there is none; under a lock per name. */
  private async accountIdFor(
    name: string,
    settings: SalesforceRouteSettings,
    context: ConnectorContext,
  ): Promise<string> {
    return context.store.withLock(`salesforce-account:${name.toLowerCase()}`, async () => {
      const [existing] = await this.services.api.query(
        `SELECT Id FROM Account WHERE Name = '${escapeSoql(name)}' ORDER BY CreatedDate LIMIT 1`,
        { signal: context.signal },
      );
      if (existing !== undefined) return existing.Id;
      const id = await this.services.api.create(
        "Account",
        { Name: name, ...(settings.ownerId === undefined ? {} : { OwnerId: settings.ownerId }) },
        { signal: context.signal },
      );
      context.logger.info({ accountId: id }, "Salesforce Account created");
      return id;
    });
  }

  /**
   * Creates a record under a person's lock without ever creating it twice: after a create whose
   * answer was lost, the records created since are read (SOQL) and the person's is adopted. A
   * duplicate rule naming the existing record adopts it too.
   */
  private async createGuarded(
    input: { lockKey: string; identity: ContactIdentity; settings: SalesforceRouteSettings },
    context: ConnectorContext,
    create: () => Promise<string>,
  ): Promise<{ id: string; record: SalesforceRecord | undefined; created: boolean }> {
    const marker = `salesforce:pending-create:${input.lockKey}`;
    const pending = Number(await context.store.getCursor(marker));
    const now = this.services.now().getTime();
    const isPending = Number.isFinite(pending) && pending > 0 && now - pending < PENDING_CREATE_WINDOW_MS;
    if (isPending) {
      const record = await recentlyCreatedRecordOf(
        this.services,
        input.settings,
        input.identity,
        new Date(pending - PENDING_CREATE_MARGIN_MS),
        context.signal,
      );
      if (record !== undefined) {
        context.logger.info(
          { salesforceRecordId: record.Id },
          "an earlier create whose answer was lost did create the record: using it",
        );
        await context.store.setCursor(marker, "");
        return { id: record.Id, record, created: false };
      }
    }
    try {
      const id = await create();
      if (isPending) await context.store.setCursor(marker, "");
      return { id, record: undefined, created: true };
    } catch (error) {
      const prefix = input.settings.objectType === "Lead" ? "00Q" : "003";
      const duplicate =
        error instanceof SalesforceDuplicateError
          ? error.duplicateIds.find((id) => id.startsWith(prefix))
          : undefined;
      if (duplicate !== undefined) {
        context.logger.info(
          { salesforceRecordId: duplicate },
          "a Salesforce duplicate rule named the person's record: using it",
        );
        return { id: duplicate, record: undefined, created: false };
      }
      if (isLinqConnectError(error) && ["network_error", "timeout", "server_error"].includes(error.code)) {
        await context.store.setCursor(marker, String(now));
      }
      throw error;
    }
  }

  /** Stores `salesforce.handle` mappings for a person's handles (kept when one exists already). */
  private async rememberHandles(
    recordId: string,
    objectType: SalesforceObjectName,
    handles: readonly string[],
    context: ConnectorContext,
  ): Promise<void> {
    for (const handle of handles) {
      if ((await context.store.findByLinqId(HANDLE_MAPPING, handle)) !== undefined) continue;
      await context.store.insertMapping({
        kind: HANDLE_MAPPING,
        linqId: handle,
        externalId: handleExternalId(recordId, handle),
        metadata: { recordId, objectType },
      });
    }
  }

  /** Forgets a contact mapping and the handle mappings that point at its record. */
  private async forgetLink(mapping: Mapping, context: ConnectorContext): Promise<void> {
    for (const handle of contactMetadata(mapping).handles) {
      const handleMapping = await context.store.findByLinqId(HANDLE_MAPPING, handle);
      if (handleMapping?.metadata.recordId === mapping.externalId) {
        await context.store.deleteMapping(HANDLE_MAPPING, handle);
      }
    }
    await context.store.deleteMapping(CONTACT_MAPPING, mapping.linqId);
  }

  /**
   * Follows a converted Lead to its Contact: the Lead's `salesforce.contact` mapping and the handle
   * mappings pointing at it (and `handles`) move to the Contact, keeping the last synced values (the
   * conversion copied them). Returns the Contact and the settings it is synced with (`relinked`
   * false when the Contact was linked to another Linq contact already: the Lead's link is dropped);
   * undefined when the Contact is gone. Call it under the person's lock.
   */
  private async followConversion(
    lead: SalesforceRecord,
    settings: SalesforceRouteSettings,
    context: ConnectorContext,
    handles: readonly string[] = [],
  ): Promise<{ record: SalesforceRecord; settings: SalesforceRouteSettings; relinked: boolean } | undefined> {
    const contactId = convertedContactIdOf(lead) ?? "";
    const ids = { salesforceRecordId: lead.Id, convertedContactId: contactId };
    const record = await readRecord(this.services, settings, "Contact", contactId, context.signal);
    if (record === undefined) {
      context.logger.info(ids, "the Lead was converted and its Contact is gone: nothing to sync");
      return undefined;
    }
    const { linqContactId, relinked } = await moveLinksToConvertedContact(context.store, {
      leadId: lead.Id,
      contactId: record.Id,
      handles,
    });
    if (relinked) {
      context.logger.info(
        { ...ids, linqContactId },
        "the Lead was converted: the person now syncs with its Contact",
      );
    } else {
      context.logger.warn(
        { ...ids, linqContactId },
        "the converted Lead's Contact is linked to another Linq contact already: keeping that link",
      );
    }
    return { record, settings: settingsForObject(settings, "Contact"), relinked };
  }

  // ------------------------------------------------------------------ Linq → Salesforce

  /** `contact.created` / `contact.updated`: upsert the Salesforce Contact or Lead. */
  async syncLinqContact(
    contact: LinqContactLike,
    settings: SalesforceRouteSettings,
    context: ConnectorContext,
  ): Promise<void> {
    if (!writesToSalesforce(settings) || contact.id === undefined) return;
    const linqId = String(contact.id);
    const identity = this.identityOfLinq(contact);
    const logger = context.logger.child({ linqContactId: linqId });
    const lockKey = this.lockKey(identity, `linq:${linqId}`);
    await context.store.withLock(lockKey, async () => {
      const fields = contactSyncFields(settings);
      const mapping = await context.store.findByLinqId(CONTACT_MAPPING, linqId);
      if (mapping !== undefined) {
        const metadata = contactMetadata(mapping);
        // On a Lead route a person linked to a Contact (a converted Lead's) stays on it.
        if (metadata.objectType === settings.objectType || settings.objectType === "Lead") {
          const changed = changedSinceLastSync({
            fields,
            kinds: linqContactFieldKinds,
            current: linqValues(contact, fields),
            lastSynced: metadata.synced,
            phoneNumberOptions: this.services.phoneNumberOptions,
          });
          if (changed.length === 0) {
            logger.debug(
              { salesforceRecordId: mapping.externalId },
              "Linq contact unchanged since the last sync (our own echo or a no-op)",
            );
            return;
          }
          const read = await readRecord(
            this.services,
            settings,
            metadata.objectType,
            mapping.externalId,
            context.signal,
          );
          const linked =
            read === undefined || convertedContactIdOf(read) === undefined
              ? read && {
                  record: read,
                  settings: settingsForObject(settings, metadata.objectType),
                  relinked: true,
                }
              : await this.followConversion(read, settings, context);
          if (linked?.relinked === false) return;
          if (linked !== undefined) {
            await this.mergeLinked({
              contact,
              record: linked.record,
              metadata,
              settings: linked.settings,
              context,
            });
            return;
          }
          logger.info(
            { salesforceRecordId: mapping.externalId },
            "the linked Salesforce record is gone: matching again",
          );
        } else {
          logger.info(
            { salesforceRecordId: mapping.externalId, objectType: settings.objectType },
            "the route syncs another object type now: matching again",
          );
        }
        await this.forgetLink(mapping, context);
      }
      const match =
        (await searchRecordByExternalId(this.services, settings, linqId, context.signal)) ??
        (await findRecordOfPerson(this.services, settings, context, identity));
      if (match !== undefined) {
        // A converted Lead: the person is its Contact's (never a second record).
        const found =
          convertedContactIdOf(match) === undefined
            ? { record: match, settings: settingsForObject(settings, objectTypeOfId(match.Id)) }
            : await this.followConversion(match, settings, context);
        if (found === undefined) return;
        const linked = await context.store.findByExternalId(CONTACT_MAPPING, found.record.Id);
        if (linked !== undefined && linked.linqId !== linqId) {
          logger.warn(
            { salesforceRecordId: found.record.Id, linkedLinqContactId: linked.linqId },
            "the matching Salesforce record is already linked to another Linq contact: not linking a second one",
          );
          return;
        }
        await this.link({ contact, record: found.record, settings: found.settings, context });
        return;
      }
      const created = await this.createFromLinq(contact, settings, context, { lockKey, identity });
      await this.link({ contact, ...created, settings, context });
    });
  }

  /** Creates the record of a Linq contact (an upsert on the external-id field when configured). */
  private async createFromLinq(
    contact: LinqContactLike,
    settings: SalesforceRouteSettings,
    context: ConnectorContext,
    guard: { lockKey: string; identity: ContactIdentity },
  ): Promise<{ id: string; record: SalesforceRecord | undefined; created: boolean }> {
    const { objectType } = settings;
    const values = nonEmpty(linqValues(contact, contactSyncFields(settings)));
    const fields: Record<string, string | null> = {
      ...linqContactToSalesforceFields(objectType, values, {
        mapping: settings.fieldMapping,
        companyPlaceholder: settings.companyPlaceholder,
      }),
      ...(values.company !== undefined && companyIsAccount(settings)
        ? { AccountId: await this.accountIdFor(values.company, settings, context) }
        : {}),
      ...(settings.ownerId === undefined ? {} : { OwnerId: settings.ownerId }),
    };
    const linqId = String(contact.id);
    const externalIdField = this.services.externalIdFields[objectType];
    const result =
      externalIdField === undefined
        ? await this.createGuarded({ ...guard, settings }, context, () =>
            this.services.api.create(objectType, fields, { signal: context.signal }),
          )
        : {
            ...(await this.services.api.upsertByExternalId(objectType, externalIdField, linqId, fields, {
              signal: context.signal,
            })),
            record: undefined,
          };
    context.logger.info(
      { linqContactId: linqId, salesforceRecordId: result.id, objectType, created: result.created },
      result.created ? `Salesforce ${objectType} created` : `Salesforce ${objectType} found`,
    );
    if (result.created || result.record !== undefined) return result;
    // An upsert or a duplicate rule that found an existing record: merge with what it holds.
    const record = await readRecord(this.services, settings, objectType, result.id, context.signal);
    return { ...result, record };
  }

  /**
   * Links a Linq contact to a record for the first time: merge (a record we just created holds the
   * Linq values already), write, store the mapping and the handles.
   */
  private async link(input: {
    contact: LinqContactLike;
    record: SalesforceRecord | undefined;
    id?: string;
    created?: boolean;
    settings: SalesforceRouteSettings;
    context: ConnectorContext;
  }): Promise<void> {
    const { contact, record, settings, context } = input;
    const linqId = String(contact.id);
    const recordId = record?.Id ?? input.id ?? "";
    const merged =
      record === undefined || input.created === true
        ? { values: linqValues(contact, contactSyncFields(settings)), linqAfter: {} }
        : await this.writeMerge({ contact, record, lastSynced: undefined, settings, context });
    const handles = handlesOf(this.identityOfLinq({ ...contact, ...merged.linqAfter }));
    const metadata: ContactMappingMetadata = {
      objectType: settings.objectType,
      synced: merged.values,
      handles,
      syncedAt: this.services.now().toISOString(),
      systemModstamp: typeof record?.SystemModstamp === "string" ? record.SystemModstamp : "",
    };
    const stored = await context.store.insertMapping({
      kind: CONTACT_MAPPING,
      linqId,
      externalId: recordId,
      metadata: { ...metadata },
    });
    if (stored.linqId !== linqId || stored.externalId !== recordId) {
      context.logger.warn(
        {
          linqContactId: linqId,
          salesforceRecordId: recordId,
          existing: { linqId: stored.linqId, externalId: stored.externalId },
        },
        "another link was stored first: keeping it",
      );
      return;
    }
    await this.rememberHandles(recordId, settings.objectType, handles, context);
  }

  /** An already linked pair: merge from the last synced values, write, store the new baseline. */
  private async mergeLinked(input: {
    contact: LinqContactLike;
    record: SalesforceRecord;
    metadata: ContactMappingMetadata;
    settings: SalesforceRouteSettings;
    context: ConnectorContext;
  }): Promise<void> {
    const { contact, record, metadata, settings, context } = input;
    const result = await this.writeMerge({ contact, record, lastSynced: metadata.synced, settings, context });
    const added = handlesOf(this.identityOfLinq({ ...contact, ...result.linqAfter })).filter(
      (handle) => !metadata.handles.includes(handle),
    );
    await this.rememberHandles(record.Id, settings.objectType, added, context);
    await context.store.updateMetadata(CONTACT_MAPPING, String(contact.id), {
      objectType: settings.objectType,
      synced: result.values,
      handles: [...metadata.handles, ...added],
      syncedAt: this.services.now().toISOString(),
      systemModstamp: typeof record.SystemModstamp === "string" ? record.SystemModstamp : "",
    } satisfies ContactMappingMetadata);
  }

  /**
   * Merges a Linq contact and a record and writes the winners to each side. Returns the new
   * baseline and what was written to Linq.
   */
  private async writeMerge(input: {
    contact: LinqContactLike;
    record: SalesforceRecord;
    lastSynced: FieldValues | undefined;
    settings: SalesforceRouteSettings;
    context: ConnectorContext;
  }): Promise<{ values: FieldValues; linqAfter: FieldValues }> {
    const { contact, record, settings, context } = input;
    const fields = contactSyncFields(settings);
    const linq = linqValues(contact, fields);
    const result = mergeFieldsLastWriterWins<LinqContactField>({
      fields,
      kinds: linqContactFieldKinds,
      lastSynced: input.lastSynced,
      linq: { values: linq, updatedAt: epoch(contact.updated_at) },
      crm: {
        values: this.salesforceSide(record, settings, [
          linq,
          ...(input.lastSynced ? [input.lastSynced] : []),
        ]),
        updatedAt: epoch(record.LastModifiedDate),
      },
      direction: directionOf(settings),
      tieBreaker: settings.conflictTieBreaker === "linq" ? "linq" : "crm",
      phoneNumberOptions: this.services.phoneNumberOptions,
    });
    const ids = { linqContactId: String(contact.id), salesforceRecordId: record.Id };
    logDecisions(context, result.decisions, ids);
    const update = await this.salesforceFields(result.toCrm, contact, settings, context);
    const externalIdField = this.services.externalIdFields[settings.objectType];
    if (externalIdField !== undefined && record[externalIdField] !== String(contact.id)) {
      update[externalIdField] = String(contact.id);
    }
    if (Object.keys(update).length > 0) {
      await this.services.api.update(settings.objectType, record.Id, update, { signal: context.signal });
      context.logger.info(
        { ...ids, fields: Object.keys(update) },
        `Salesforce ${settings.objectType} updated from Linq`,
      );
    }
    if (Object.keys(result.toLinq).length > 0 && contact.id !== undefined) {
      await context.linq.updateContact(
        contact.id,
        { contact: withIdentifyingField(result.toLinq, contact) },
        { signal: context.signal },
      );
      context.logger.info(
        { ...ids, fields: Object.keys(result.toLinq) },
        "Linq contact updated from Salesforce",
      );
    }
    return { values: result.synced, linqAfter: result.toLinq };
  }

  /** `contact.deleted`: the route's `contactDeleted` action, then the link is forgotten. */
  async deleteLinqContact(
    linqContactId: string,
    settings: SalesforceRouteSettings,
    context: ConnectorContext,
  ): Promise<void> {
    if (!writesToSalesforce(settings)) return;
    const mapping = await context.store.findByLinqId(CONTACT_MAPPING, linqContactId);
    if (mapping === undefined) return;
    const { handles, objectType } = contactMetadata(mapping);
    const identity = contactIdentity(
      {
        phoneNumber: handles.find((handle) => handle.startsWith("+")),
        email: handles.find((handle) => handle.includes("@")),
      },
      this.services.phoneNumberOptions,
    );
    await context.store.withLock(this.lockKey(identity, `linq:${linqContactId}`), async () => {
      const current = await context.store.findByLinqId(CONTACT_MAPPING, linqContactId);
      if (current === undefined) return;
      const ids = { linqContactId, salesforceRecordId: current.externalId };
      const action = settings.contactDeleted;
      if (action === "delete") {
        await this.services.api.delete(objectType, current.externalId, { signal: context.signal });
        context.logger.info(ids, `Salesforce ${objectType} deleted (deleted in Linq)`);
        // The handles pointed at the deleted record.
        for (const handle of handles) await context.store.deleteMapping(HANDLE_MAPPING, handle);
      } else if (action !== "ignore") {
        try {
          await this.services.api.update(
            objectType,
            current.externalId,
            { [action.setField.name]: action.setField.value },
            { signal: context.signal },
          );
        } catch (error) {
          if (!(error instanceof NotFoundError)) throw error;
        }
        context.logger.info(
          { ...ids, field: action.setField.name },
          "Linq contact deleted: field set on the Salesforce record",
        );
      } else {
        context.logger.info(ids, "Linq contact deleted: link forgotten");
      }
      // The handle mappings stay (unless the record was deleted): the number still belongs to the record.
      await context.store.deleteMapping(CONTACT_MAPPING, linqContactId);
    });
  }

  // ------------------------------------------------------------------ people who text or call

  /**
   * The record of a handle (a phone number or an iMessage email) that texted or called: the handle
   * mapping (trusted without a read unless `verify`), else the search, else, with `create`, a new
   * Contact or Lead holding only the number (or email), its LastName derived from it. Under the
   * person's lock, so that a Linq `contact.created` for the same person and this path never both
   * create one.
   */
  async recordForHandle(
    handle: string,
    settings: SalesforceRouteSettings,
    context: ConnectorContext,
    options: { create: boolean; verify: boolean },
  ): Promise<{ id: string; objectType: SalesforceObjectName } | undefined> {
    const identity = contactIdentity({ phoneNumber: handle }, this.services.phoneNumberOptions);
    const key = handlesOf(identity)[0];
    if (key === undefined) return undefined;
    if (!options.verify) {
      const known = await context.store.findByLinqId(HANDLE_MAPPING, key);
      if (typeof known?.metadata.recordId === "string") {
        return {
          id: known.metadata.recordId,
          objectType: known.metadata.objectType === "Lead" ? "Lead" : "Contact",
        };
      }
    }
    const lockKey = this.lockKey(identity, `handle:${key}`);
    return context.store.withLock(lockKey, async () => {
      const found = await findRecordOfPerson(this.services, settings, context, identity);
      if (found !== undefined && convertedContactIdOf(found) !== undefined) {
        const followed = await this.followConversion(found, settings, context, [key]);
        return followed && { id: followed.record.Id, objectType: "Contact" as const };
      }
      if (found !== undefined) {
        const objectType = objectTypeOfId(found.Id);
        await this.rememberHandles(found.Id, objectType, [key], context);
        return { id: found.Id, objectType };
      }
      if (!options.create) return undefined;
      const person = identity.phoneNumber !== undefined ? { phone_number: key } : { email: key };
      const fields: Record<string, string> = {
        ...linqContactToSalesforceFields(settings.objectType, person, {
          mapping: settings.fieldMapping,
          companyPlaceholder: settings.companyPlaceholder,
        }),
        ...(settings.ownerId === undefined ? {} : { OwnerId: settings.ownerId }),
      };
      const { id } = await this.createGuarded({ lockKey, identity, settings }, context, () =>
        this.services.api.create(settings.objectType, fields, { signal: context.signal }),
      );
      context.logger.info(
        { salesforceRecordId: id, objectType: settings.objectType },
        `Salesforce ${settings.objectType} created for an unknown sender`,
      );
      await this.rememberHandles(id, settings.objectType, [key], context);
      return { id, objectType: settings.objectType };
    });
  }

  /** Forgets a handle's mapping (its record turned out to be gone). */
  async forgetHandle(handle: string, context: ConnectorContext): Promise<void> {
    const key = handlesOf(contactIdentity({ phoneNumber: handle }, this.services.phoneNumberOptions))[0];
    if (key !== undefined) await context.store.deleteMapping(HANDLE_MAPPING, key);
  }

  // ------------------------------------------------------------------ Salesforce → Linq

  /**
   * A `salesforce.record-changed` job: the record's current state (read now, never the poll's copy)
   * merged into the linked Linq contact, or a Linq contact matched by phone or email, or a new one;
   * or its deletion.
   *
   * On a Lead route a Contact is synced only while it is tracked (linked by a `salesforce.contact`
   * mapping: a converted Lead's Contact the person moved to): its values are read and merged with
   * the Contact fields of `settingsForObject`, with the same last-writer-wins and echo checks, and
   * its deletion is the route's `salesforceRecordDeleted`. An untracked Contact is never copied to
   * Linq from a Lead route. Other object types are ignored.
   */
  async syncSalesforceRecord(
    payload: RecordChangedPayload,
    settings: SalesforceRouteSettings,
    context: ConnectorContext,
  ): Promise<void> {
    if (!readsFromSalesforce(settings)) return;
    const { recordId, objectType } = payload;
    const logger = context.logger.child({ salesforceRecordId: recordId });
    // Another object than the route's: on a Lead route, a tracked Contact (a converted Lead's).
    const onlyIfTracked = objectType !== settings.objectType;
    if (
      onlyIfTracked &&
      !(settings.objectType === "Lead" && (await isLinkedRecord(context.store, recordId)))
    ) {
      logger.debug({ objectType }, "not a record this route syncs: change ignored");
      return;
    }
    const read = payload.deleted
      ? undefined
      : await readRecord(this.services, settings, objectType, recordId, context.signal);
    if (read === undefined) {
      await this.salesforceRecordGone(recordId, settings, context);
      return;
    }
    const objectSettings = settingsForObject(settings, objectType);
    const lockIdentity = identityOfRecord(read, objectSettings, this.services.phoneNumberOptions);
    await context.store.withLock(this.lockKey(lockIdentity, `salesforce:${recordId}`), async () => {
      // A converted Lead: the person carries on with its Contact.
      const followed =
        convertedContactIdOf(read) === undefined
          ? { record: read, settings: objectSettings }
          : await this.followConversion(read, settings, context);
      if (followed === undefined) return;
      const { record, settings: recordSettings } = followed;
      const identity = identityOfRecord(record, recordSettings, this.services.phoneNumberOptions);
      const fields = contactSyncFields(recordSettings);
      const mapping = await context.store.findByExternalId(CONTACT_MAPPING, record.Id);
      if (mapping === undefined && onlyIfTracked) {
        logger.debug({ objectType }, "the Contact is no longer linked to a Linq contact: change ignored");
        return;
      }
      if (mapping !== undefined) {
        const metadata = contactMetadata(mapping);
        if (
          isEchoOfLastSync({
            fields,
            kinds: linqContactFieldKinds,
            current: this.salesforceSide(record, recordSettings, [metadata.synced]),
            lastSynced: metadata.synced,
            phoneNumberOptions: this.services.phoneNumberOptions,
          })
        ) {
          logger.debug(
            { linqContactId: mapping.linqId },
            "Salesforce record unchanged since the last sync (our own echo or a no-op)",
          );
          await context.store.updateMetadata(CONTACT_MAPPING, mapping.linqId, {
            systemModstamp: typeof record.SystemModstamp === "string" ? record.SystemModstamp : "",
          });
          return;
        }
        const contact = await this.linqContact(mapping.linqId, context);
        if (contact !== undefined) {
          await this.mergeLinked({ contact, record, metadata, settings: recordSettings, context });
          return;
        }
        logger.info({ linqContactId: mapping.linqId }, "the linked Linq contact is gone: matching again");
        await context.store.deleteMapping(CONTACT_MAPPING, mapping.linqId);
      }
      const found = await this.findLinqContact(identity, context);
      if (found !== undefined) {
        const linked = await context.store.findByLinqId(CONTACT_MAPPING, String(found.id));
        if (linked !== undefined && linked.externalId !== record.Id) {
          logger.warn(
            { linqContactId: String(found.id), linkedSalesforceRecordId: linked.externalId },
            "the matching Linq contact is already linked to another Salesforce record: not linking a second one",
          );
          return;
        }
        await this.link({ contact: found, record, settings: recordSettings, context });
        return;
      }
      await this.createLinqContact(record, identity, recordSettings, context);
    });
  }

  /** Creates the Linq contact of a record (one with a name or an email: not a bare number we made). */
  private async createLinqContact(
    record: SalesforceRecord,
    identity: ContactIdentity,
    settings: SalesforceRouteSettings,
    context: ConnectorContext,
  ): Promise<void> {
    const values = nonEmpty(this.salesforceSide(record, settings, []));
    // A record with nothing but a number (typically one made for an unknown sender) is not copied to
    // Linq, which knows the number from the conversation already; it is once someone names it.
    if (values.first_name === undefined && values.last_name === undefined && values.email === undefined) {
      context.logger.debug(
        { salesforceRecordId: record.Id },
        "Salesforce record has no name or email: not created in Linq",
      );
      return;
    }
    if (identity.phoneNumber !== undefined) values.phone_number = identity.phoneNumber;
    const created = await context.linq.createContact({ contact: values }, { signal: context.signal });
    const linqId = String(created.id);
    context.logger.info(
      { salesforceRecordId: record.Id, linqContactId: linqId },
      "Linq contact created from Salesforce",
    );
    const handles = handlesOf(this.identityOfLinq(created));
    const stored = await context.store.insertMapping({
      kind: CONTACT_MAPPING,
      linqId,
      externalId: record.Id,
      metadata: {
        objectType: settings.objectType,
        synced: linqValues(created as LinqContactLike, contactSyncFields(settings)),
        handles,
        syncedAt: this.services.now().toISOString(),
        systemModstamp: typeof record.SystemModstamp === "string" ? record.SystemModstamp : "",
      } satisfies ContactMappingMetadata,
    });
    if (stored.linqId === linqId)
      await this.rememberHandles(record.Id, settings.objectType, handles, context);
  }

  private async linqContact(id: string, context: ConnectorContext): Promise<LinqContactLike | undefined> {
    try {
      return (await context.linq.getContact(id, { signal: context.signal })) as LinqContactLike;
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  /** The Linq contact with the person's number, else their email. */
  private async findLinqContact(
    identity: ContactIdentity,
    context: ConnectorContext,
  ): Promise<LinqContactLike | undefined> {
    const queries = [
      ...(identity.phoneNumber === undefined ? [] : [{ phoneNumber: identity.phoneNumber }]),
      ...(identity.email === undefined ? [] : [{ email: identity.email }]),
    ];
    for (const query of queries) {
      const found: Contact | null = await context.linq.findContact(query, { signal: context.signal });
      if (found !== null) return found as LinqContactLike;
    }
    return undefined;
  }

  /** A record that no longer exists: forget the link, and delete the Linq contact when configured. */
  private async salesforceRecordGone(
    recordId: string,
    settings: SalesforceRouteSettings,
    context: ConnectorContext,
  ): Promise<void> {
    const mapping = await context.store.findByExternalId(CONTACT_MAPPING, recordId);
    if (mapping === undefined) return;
    const ids = { salesforceRecordId: recordId, linqContactId: mapping.linqId };
    if (settings.salesforceRecordDeleted === "delete") {
      try {
        await context.linq.deleteContact(mapping.linqId, { signal: context.signal });
        context.logger.info(ids, "Linq contact deleted (deleted in Salesforce)");
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error;
      }
    } else {
      context.logger.info(ids, "Salesforce record deleted: link forgotten");
    }
    await this.forgetLink(mapping, context);
  }
}
