/**
 * Two-way contact sync between Linq and HubSpot.
 *
 * Linq → HubSpot (`contact.created` / `contact.updated`): under the person's lock, the stored mapping
 * first; without one, the person's HubSpot contact is looked up (handle mappings, then search by
 * phone, then email) or created; a 409 "Contact already exists. Existing ID: N" adopts N. Then the
 * fields are merged with the last synced values (core `mergeFieldsLastWriterWins`).
 *
 * HubSpot → Linq (webhook jobs and reconciliation): the current HubSpot record is fetched, then under
 * the same lock the linked (or found, or created) Linq contact is merged the same way.
 *
 * Loop prevention: a write we make comes back as a change (a Linq `contact.updated`, HubSpot events
 * with `changeSource: INTEGRATION`). The mapping keeps the values both sides held after our last
 * sync; a change equal to them is our own echo and writes nothing. Conflicts (both sides changed a
 * field since the last sync) go to the later writer by the source timestamps (Linq `updated_at`,
 * HubSpot property history), and every decision is logged (field names and sides, never values).
 */
import {
  type ConnectorContext,
  type ConnectorLogger,
  type Contact,
  type ContactIdentity,
  changedSinceLastSync,
  contactIdentity,
  contactLockKey,
  type FieldDecision,
  isEchoOfLastSync,
  type LinqContactEventData,
  mergeFieldsLastWriterWins,
  NotFoundError,
  normalizeEmailAddress,
  type SyncDirection,
} from "@linq-connect/core";
import {
  type ConnectorServices,
  contactProperties,
  phoneProperties,
  syncedFields,
} from "./connector-services.ts";
import { findContactOfPerson, handlesOf, type MatchOptions } from "./contact-matching.ts";
import { type LinqContactField, linqContactFieldKinds } from "./field-mapping.ts";
import type { HubSpotRecord } from "./hubspot-api.ts";
import { HubSpotContactExistsError } from "./hubspot-errors.ts";
import {
  CONTACT_LOCK_NAMESPACE,
  CONTACT_MAPPING,
  type ContactMappingMetadata,
  contactMetadata,
  HANDLE_MAPPING,
  handleExternalId,
} from "./mappings.ts";
import { createRemembered, indexLagError, pendingCreate } from "./pending-create.ts";
import type { HubSpotRouteSettings } from "./settings.ts";

/** A Linq contact as webhooks and the REST API describe it. */
export type LinqContactLike = Pick<
  LinqContactEventData,
  "first_name" | "last_name" | "email" | "phone_number" | "company" | "title" | "location" | "updated_at"
> & {
  id: number | string | undefined;
  contact_owner?: { email?: string | null | undefined } | null | undefined;
};

const IDENTIFYING_FIELDS: readonly LinqContactField[] = ["phone_number", "email", "first_name", "last_name"];

function linqValues(contact: LinqContactLike, fields: readonly LinqContactField[]) {
  const values: Partial<Record<LinqContactField, string>> = {};
  for (const field of fields) {
    const value = contact[field];
    values[field] = typeof value === "string" ? value.trim() : "";
  }
  return values;
}

function hubSpotValues(
  record: HubSpotRecord,
  settings: HubSpotRouteSettings,
  fields: readonly LinqContactField[],
) {
  const values: Partial<Record<LinqContactField, string>> = {};
  const timestamps: Partial<Record<LinqContactField, number>> = {};
  for (const field of fields) {
    const property = settings.fieldMapping[field];
    if (property === null) continue;
    const value = record.properties[property];
    values[field] = typeof value === "string" ? value.trim() : "";
    const newest = record.history[property]?.[0]?.timestamp;
    if (newest !== undefined && newest > 0) timestamps[field] = newest;
  }
  return { values, timestamps };
}

function epoch(value: string | null | undefined): number | undefined {
  if (typeof value !== "string") return undefined;
  const time = Date.parse(value);
  return Number.isFinite(time) ? time : undefined;
}

function identityOfLinq(contact: LinqContactLike, services: ConnectorServices): ContactIdentity {
  return contactIdentity(
    { phoneNumber: contact.phone_number, email: contact.email },
    services.phoneNumberOptions,
  );
}

/** The person's identity from a HubSpot record: the mapped phone property, then the others, and the email. */
export function identityOfHubSpot(
  record: HubSpotRecord,
  settings: HubSpotRouteSettings,
  services: ConnectorServices,
): ContactIdentity {
  for (const property of phoneProperties(settings)) {
    const identity = contactIdentity(
      { phoneNumber: record.properties[property], email: record.properties.email },
      services.phoneNumberOptions,
    );
    if (identity.phoneNumber !== undefined) return identity;
  }
  return contactIdentity({ email: record.properties.email }, services.phoneNumberOptions);
}

function logDecisions(
  logger: ConnectorLogger,
  decisions: readonly FieldDecision<LinqContactField>[],
  ids: { linqContactId: string; hubSpotContactId: string },
): void {
  for (const decision of decisions) {
    const entry = {
      ...ids,
      field: decision.field,
      outcome: decision.outcome,
      winner: decision.winner === "crm" ? "hubspot" : decision.winner,
      linqTimestamp:
        decision.linqTimestamp === undefined ? undefined : new Date(decision.linqTimestamp).toISOString(),
      hubSpotTimestamp:
        decision.crmTimestamp === undefined ? undefined : new Date(decision.crmTimestamp).toISOString(),
      reason: decision.reason.replaceAll("the CRM", "HubSpot"),
    };
    if (decision.outcome === "conflict") logger.info(entry, "contact field conflict: last writer wins");
    else logger.debug(entry, "contact field synced");
  }
}

function hubSpotProperties(
  settings: HubSpotRouteSettings,
  values: Partial<Record<LinqContactField, string>>,
): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const [field, value] of Object.entries(values) as [LinqContactField, string][]) {
    const property = settings.fieldMapping[field];
    if (property !== null) properties[property] = value;
  }
  return properties;
}

export class ContactSync {
  private readonly services: ConnectorServices;

  constructor(services: ConnectorServices) {
    this.services = services;
  }

  private matchOptions(settings: HubSpotRouteSettings, context: ConnectorContext): MatchOptions {
    return {
      properties: contactProperties(settings),
      phoneProperties: phoneProperties(settings),
      phoneNumberOptions: this.services.phoneNumberOptions,
      signal: context.signal,
    };
  }

  /**
   * Creates a HubSpot contact under a person's lock without ever creating it twice. A create whose
   * answer was lost (dropped connection, timeout, 5xx) may have happened: it is remembered (cursor
   * `hubspot:pending-create:<lock key>`), and for the next minute a retry that cannot find the
   * person (search lags behind) waits and tries again later instead of creating a second contact.
   */
  private async createGuarded<T>(
    lockKey: string,
    context: ConnectorContext,
    create: () => Promise<T>,
  ): Promise<T> {
    const now = this.services.now().getTime();
    const pending = await pendingCreate(context, lockKey, now);
    if (pending?.mayLag === true) throw indexLagError("this HubSpot contact");
    return createRemembered(context, lockKey, { now, pending }, create);
  }

  private async readContact(id: string, settings: HubSpotRouteSettings, context: ConnectorContext) {
    const fields = syncedFields(settings);
    return this.services.api.getContact(id, {
      properties: contactProperties(settings),
      propertiesWithHistory: fields.map((field) => settings.fieldMapping[field] as string),
      signal: context.signal,
    });
  }

  // ------------------------------------------------------------------ Linq → HubSpot

  /** `contact.created` / `contact.updated`: upsert the HubSpot contact. */
  async syncLinqContact(
    contact: LinqContactLike,
    settings: HubSpotRouteSettings,
    context: ConnectorContext,
  ): Promise<void> {
    if (settings.contacts !== "two-way" && settings.contacts !== "linq-to-crm") return;
    if (contact.id === undefined) return;
    const linqId = String(contact.id);
    const identity = identityOfLinq(contact, this.services);
    const logger = context.logger.child({ linqContactId: linqId });
    await context.store.withLock(
      contactLockKey(CONTACT_LOCK_NAMESPACE, identity, `linq:${linqId}`),
      async () => {
        const fields = syncedFields(settings);
        const mapping = await context.store.findByLinqId(CONTACT_MAPPING, linqId);
        if (mapping !== undefined) {
          const metadata = contactMetadata(mapping);
          const ownerEmail = ownerEmailOf(contact, settings, metadata);
          const changed = changedSinceLastSync({
            fields,
            kinds: linqContactFieldKinds,
            current: linqValues(contact, fields),
            lastSynced: metadata.synced,
            phoneNumberOptions: this.services.phoneNumberOptions,
          });
          const ownerChanged = ownerEmail !== metadata.ownerEmail;
          if (changed.length === 0 && !ownerChanged) {
            logger.debug(
              { hubSpotContactId: mapping.externalId },
              "Linq contact unchanged since the last sync (our own echo or a no-op)",
            );
            return;
          }
          const record = await this.readContact(mapping.externalId, settings, context);
          if (record !== undefined) {
            await this.mergeLinked({ contact, record, metadata, settings, context });
            return;
          }
          logger.info(
            { hubSpotContactId: mapping.externalId },
            "the linked HubSpot contact is gone: matching again",
          );
          await context.store.deleteMapping(CONTACT_MAPPING, linqId);
        }
        let record = await findContactOfPerson(
          this.services.api,
          context,
          identity,
          this.matchOptions(settings, context),
        );
        if (record !== undefined) {
          const linked = await context.store.findByExternalId(CONTACT_MAPPING, record.id);
          if (linked !== undefined && linked.linqId !== linqId) {
            logger.warn(
              { hubSpotContactId: record.id, linkedLinqContactId: linked.linqId },
              "the matching HubSpot contact is already linked to another Linq contact: not linking a second one",
            );
            return;
          }
          record = (await this.readContact(record.id, settings, context)) ?? record;
          await this.link({ contact, record, settings, context, created: false });
          return;
        }
        const created = await this.createFromLinq(contact, settings, context);
        await this.link({ contact, record: created.record, settings, context, created: created.created });
      },
    );
  }

  /** Creates the HubSpot contact of a Linq contact; a 409 on the email adopts the existing one. */
  private async createFromLinq(
    contact: LinqContactLike,
    settings: HubSpotRouteSettings,
    context: ConnectorContext,
  ): Promise<{ record: HubSpotRecord; created: boolean }> {
    const fields = syncedFields(settings);
    const properties = hubSpotProperties(
      settings,
      Object.fromEntries(
        Object.entries(linqValues(contact, fields)).filter(([, value]) => value !== ""),
      ) as Partial<Record<LinqContactField, string>>,
    );
    const ownerId = await this.ownerIdOf(contact, settings, context);
    if (ownerId !== undefined) properties.hubspot_owner_id = ownerId;
    const identity = identityOfLinq(contact, this.services);
    const lockKey = contactLockKey(CONTACT_LOCK_NAMESPACE, identity, `linq:${String(contact.id)}`);
    try {
      const record = await this.createGuarded(lockKey, context, () =>
        this.services.api.createContact(properties, context.signal),
      );
      context.logger.info(
        { linqContactId: String(contact.id), hubSpotContactId: record.id },
        "HubSpot contact created",
      );
      return { record, created: true };
    } catch (error) {
      if (!(error instanceof HubSpotContactExistsError)) throw error;
      context.logger.info(
        { linqContactId: String(contact.id), hubSpotContactId: error.existingId },
        "a HubSpot contact has this email already: linking it",
      );
      const existing = await this.readContact(error.existingId, settings, context);
      if (existing === undefined) throw error;
      return { record: existing, created: false };
    }
  }

  private async ownerIdOf(
    contact: LinqContactLike,
    settings: HubSpotRouteSettings,
    context: ConnectorContext,
  ): Promise<string | undefined> {
    if (!settings.syncOwner) return undefined;
    const email = normalizeEmailAddress(contact.contact_owner?.email);
    if (email === undefined) return undefined;
    return this.services.api.ownerIdByEmail(email, context.signal);
  }

  /** Links a Linq contact to a HubSpot contact for the first time: merge, write, store the mapping. */
  private async link(input: {
    contact: LinqContactLike;
    record: HubSpotRecord;
    settings: HubSpotRouteSettings;
    context: ConnectorContext;
    created: boolean;
  }): Promise<void> {
    const { contact, record, settings, context } = input;
    const linqId = String(contact.id);
    const synced = input.created
      ? await this.syncedAfterCreate(contact, settings)
      : await this.writeMerge({
          contact,
          record,
          lastSynced: undefined,
          settings,
          context,
          direction: directionOf(settings),
          ownerChanged: true,
        });
    const identity = identityOfLinq({ ...contact, ...synced.linqAfter }, this.services);
    const handles = handlesOf(identity);
    const metadata: ContactMappingMetadata = {
      synced: synced.values,
      ownerEmail: settings.syncOwner ? (normalizeEmailAddress(contact.contact_owner?.email) ?? null) : null,
      handles,
      syncedAt: this.services.now().toISOString(),
    };
    const stored = await context.store.insertMapping({
      kind: CONTACT_MAPPING,
      linqId,
      externalId: record.id,
      metadata: { ...metadata },
    });
    if (stored.linqId !== linqId || stored.externalId !== record.id) {
      context.logger.warn(
        {
          linqContactId: linqId,
          hubSpotContactId: record.id,
          existing: { linqId: stored.linqId, externalId: stored.externalId },
        },
        "another link was stored first: keeping it",
      );
      return;
    }
    await this.rememberHandles(record.id, handles, context);
  }

  private async syncedAfterCreate(contact: LinqContactLike, settings: HubSpotRouteSettings) {
    const values = linqValues(contact, syncedFields(settings));
    return { values, linqAfter: {} as Partial<Record<LinqContactField, string>> };
  }

  /** Stores `hubspot.handle` mappings for a person's handles (ignored when one exists already). */
  async rememberHandles(
    contactId: string,
    handles: readonly string[],
    context: ConnectorContext,
  ): Promise<void> {
    for (const handle of handles) {
      const existing = await context.store.findByLinqId(HANDLE_MAPPING, handle);
      if (existing !== undefined) continue;
      await context.store.insertMapping({
        kind: HANDLE_MAPPING,
        linqId: handle,
        externalId: handleExternalId(contactId, handle),
        metadata: { contactId },
      });
    }
  }

  /** An already linked pair: merge from the last synced values, write, store the new baseline. */
  private async mergeLinked(input: {
    contact: LinqContactLike;
    record: HubSpotRecord;
    metadata: ContactMappingMetadata;
    settings: HubSpotRouteSettings;
    context: ConnectorContext;
  }): Promise<void> {
    const { contact, record, metadata, settings, context } = input;
    const ownerEmail = ownerEmailOf(contact, settings, metadata);
    const result = await this.writeMerge({
      contact,
      record,
      lastSynced: metadata.synced,
      settings,
      context,
      direction: directionOf(settings),
      ownerChanged: ownerEmail !== metadata.ownerEmail,
    });
    const identity = identityOfLinq({ ...contact, ...result.linqAfter }, this.services);
    const handles = [...new Set([...metadata.handles, ...handlesOf(identity)])];
    await this.rememberHandles(
      record.id,
      handles.filter((handle) => !metadata.handles.includes(handle)),
      context,
    );
    await context.store.updateMetadata(CONTACT_MAPPING, String(contact.id), {
      synced: result.values,
      ownerEmail,
      handles,
      syncedAt: this.services.now().toISOString(),
    });
  }

  /**
   * Merges one Linq contact and one HubSpot contact and writes the winners to each side. Returns the
   * new baseline and what was written to Linq.
   */
  private async writeMerge(input: {
    contact: LinqContactLike;
    record: HubSpotRecord;
    lastSynced: Partial<Record<LinqContactField, string>> | undefined;
    settings: HubSpotRouteSettings;
    context: ConnectorContext;
    direction: SyncDirection;
    ownerChanged: boolean;
  }): Promise<{
    values: Partial<Record<LinqContactField, string>>;
    linqAfter: Partial<Record<LinqContactField, string>>;
  }> {
    const { contact, record, settings, context } = input;
    const fields = syncedFields(settings);
    const hub = hubSpotValues(record, settings, fields);
    const result = mergeFieldsLastWriterWins<LinqContactField>({
      fields,
      kinds: linqContactFieldKinds,
      lastSynced: input.lastSynced,
      linq: { values: linqValues(contact, fields), updatedAt: epoch(contact.updated_at) },
      crm: { values: hub.values, fieldTimestamps: hub.timestamps, updatedAt: record.updatedAt },
      direction: input.direction,
      tieBreaker: settings.conflictTieBreaker === "linq" ? "linq" : "crm",
      phoneNumberOptions: this.services.phoneNumberOptions,
    });
    const ids = { linqContactId: String(contact.id), hubSpotContactId: record.id };
    logDecisions(context.logger, result.decisions, ids);
    const properties = hubSpotProperties(settings, result.toCrm);
    // The Linq owner becomes the HubSpot owner when it changes in Linq; on a first link only when the
    // HubSpot contact has no owner yet (an owner chosen in HubSpot is not overwritten by a default).
    const firstLink = input.lastSynced === undefined;
    const currentOwner = record.properties.hubspot_owner_id ?? "";
    if (input.ownerChanged && input.direction !== "crm-to-linq" && (!firstLink || currentOwner === "")) {
      const ownerId = await this.ownerIdOf(contact, settings, context);
      if (ownerId !== undefined && currentOwner !== ownerId) properties.hubspot_owner_id = ownerId;
    }
    if (Object.keys(properties).length > 0) {
      await this.updateHubSpot(record.id, properties, settings, context, result);
      context.logger.info(
        { ...ids, properties: Object.keys(properties) },
        "HubSpot contact updated from Linq",
      );
    }
    const linqAfter = { ...result.toLinq };
    if (Object.keys(result.toLinq).length > 0 && contact.id !== undefined) {
      await context.linq.updateContact(
        contact.id,
        { contact: withIdentifyingField(result.toLinq, contact) },
        { signal: context.signal },
      );
      context.logger.info(
        { ...ids, fields: Object.keys(result.toLinq) },
        "Linq contact updated from HubSpot",
      );
    }
    return { values: result.synced, linqAfter };
  }

  /** PATCHes HubSpot; an email another contact holds (409) is left out, and the decision logged. */
  private async updateHubSpot(
    id: string,
    properties: Record<string, string>,
    settings: HubSpotRouteSettings,
    context: ConnectorContext,
    result: { synced: Partial<Record<LinqContactField, string>> },
  ): Promise<void> {
    try {
      await this.services.api.updateContact(id, properties, context.signal);
    } catch (error) {
      const emailProperty = settings.fieldMapping.email;
      if (
        !(error instanceof HubSpotContactExistsError) ||
        emailProperty === null ||
        !(emailProperty in properties)
      ) {
        throw error;
      }
      context.logger.warn(
        { hubSpotContactId: id, otherHubSpotContactId: error.existingId },
        "another HubSpot contact has this email: the email is not synced",
      );
      const { [emailProperty]: _email, ...rest } = properties;
      delete result.synced.email;
      if (Object.keys(rest).length > 0) await this.services.api.updateContact(id, rest, context.signal);
    }
  }

  /** Linq `contact.deleted`: ignore (forget the link), archive the HubSpot contact, or set a property. */
  async deleteLinqContact(
    linqId: string,
    settings: HubSpotRouteSettings,
    context: ConnectorContext,
  ): Promise<void> {
    if (settings.contacts !== "two-way" && settings.contacts !== "linq-to-crm") return;
    const mapping = await context.store.findByLinqId(CONTACT_MAPPING, linqId);
    if (mapping === undefined) return;
    const metadata = contactMetadata(mapping);
    const identity = contactIdentity(
      {
        phoneNumber: metadata.handles.find((handle) => handle.startsWith("+")),
        email: metadata.handles.find((handle) => handle.includes("@")),
      },
      this.services.phoneNumberOptions,
    );
    await context.store.withLock(
      contactLockKey(CONTACT_LOCK_NAMESPACE, identity, `linq:${linqId}`),
      async () => {
        const current = await context.store.findByLinqId(CONTACT_MAPPING, linqId);
        if (current === undefined) return;
        const action = settings.contactDeleted;
        if (action === "archive") {
          await this.services.api.archiveContact(current.externalId, context.signal);
          for (const handle of metadata.handles) await context.store.deleteMapping(HANDLE_MAPPING, handle);
          context.logger.info(
            { linqContactId: linqId, hubSpotContactId: current.externalId },
            "HubSpot contact archived",
          );
        } else if (action !== "ignore") {
          try {
            await this.services.api.updateContact(
              current.externalId,
              { [action.setProperty.name]: action.setProperty.value },
              context.signal,
            );
          } catch (error) {
            if (!(error instanceof NotFoundError)) throw error;
          }
          context.logger.info(
            {
              linqContactId: linqId,
              hubSpotContactId: current.externalId,
              property: action.setProperty.name,
            },
            "Linq contact deleted: property set on the HubSpot contact",
          );
        }
        await context.store.deleteMapping(CONTACT_MAPPING, linqId);
      },
    );
  }

  // ------------------------------------------------------------------ people who text or call

  /**
   * The HubSpot contact id of a handle (a phone number or an iMessage email) that texted or called:
   * the handle mapping (trusted without a read unless `verify`), else search, else, with `create`, a
   * new contact holding only the number (or email). Under the person's lock, so that a Linq
   * `contact.created` for the same person and this path never both create one.
   */
  async contactIdForHandle(
    handle: string,
    settings: HubSpotRouteSettings,
    context: ConnectorContext,
    options: { create: boolean; verify: boolean },
  ): Promise<string | undefined> {
    const identity = contactIdentity({ phoneNumber: handle }, this.services.phoneNumberOptions);
    const key = handlesOf(identity)[0];
    if (key === undefined) return undefined;
    if (!options.verify) {
      const known = await context.store.findByLinqId(HANDLE_MAPPING, key);
      if (typeof known?.metadata.contactId === "string") return known.metadata.contactId;
    }
    return context.store.withLock(
      contactLockKey(CONTACT_LOCK_NAMESPACE, identity, `handle:${key}`),
      async () => {
        const found = await findContactOfPerson(
          this.services.api,
          context,
          identity,
          this.matchOptions(settings, context),
        );
        if (found !== undefined) {
          await this.rememberHandles(found.id, [key], context);
          return found.id;
        }
        if (!options.create) return undefined;
        const properties: Record<string, string> =
          identity.phoneNumber !== undefined
            ? { [settings.fieldMapping.phone_number ?? "phone"]: identity.phoneNumber }
            : { [settings.fieldMapping.email ?? "email"]: identity.email ?? key };
        let contactId: string;
        try {
          const lockKey = contactLockKey(CONTACT_LOCK_NAMESPACE, identity, `handle:${key}`);
          contactId = (
            await this.createGuarded(lockKey, context, () =>
              this.services.api.createContact(properties, context.signal),
            )
          ).id;
          context.logger.info(
            { hubSpotContactId: contactId },
            "HubSpot contact created for an unknown sender",
          );
        } catch (error) {
          if (!(error instanceof HubSpotContactExistsError)) throw error;
          contactId = error.existingId;
        }
        await this.rememberHandles(contactId, [key], context);
        return contactId;
      },
    );
  }

  /** Forgets a handle's mapping (its contact turned out to be gone). */
  async forgetHandle(handle: string, context: ConnectorContext): Promise<void> {
    const identity = contactIdentity({ phoneNumber: handle }, this.services.phoneNumberOptions);
    const key = handlesOf(identity)[0];
    if (key !== undefined) await context.store.deleteMapping(HANDLE_MAPPING, key);
  }

  // ------------------------------------------------------------------ HubSpot → Linq

  /**
   * Brings a HubSpot contact's current state to Linq: fetched now (never the webhook's values), then
   * merged with the linked Linq contact, or matched to one by phone/email, or created in Linq.
   */
  async syncHubSpotContact(
    objectId: string,
    settings: HubSpotRouteSettings,
    context: ConnectorContext,
  ): Promise<void> {
    if (settings.contacts !== "two-way" && settings.contacts !== "crm-to-linq") return;
    const logger = context.logger.child({ hubSpotContactId: objectId });
    const record = await this.readContact(objectId, settings, context);
    if (record === undefined) {
      await this.hubSpotContactGone(objectId, settings, context);
      return;
    }
    const identity = identityOfHubSpot(record, settings, this.services);
    await context.store.withLock(
      contactLockKey(CONTACT_LOCK_NAMESPACE, identity, `hubspot:${objectId}`),
      async () => {
        const fields = syncedFields(settings);
        const mapping = await context.store.findByExternalId(CONTACT_MAPPING, objectId);
        if (mapping !== undefined) {
          const metadata = contactMetadata(mapping);
          if (
            isEchoOfLastSync({
              fields,
              kinds: linqContactFieldKinds,
              current: hubSpotValues(record, settings, fields).values,
              lastSynced: metadata.synced,
              phoneNumberOptions: this.services.phoneNumberOptions,
            })
          ) {
            logger.debug(
              { linqContactId: mapping.linqId },
              "HubSpot contact unchanged since the last sync (our own echo or a no-op)",
            );
            return;
          }
          const contact = await this.linqContact(mapping.linqId, context);
          if (contact !== undefined) {
            await this.mergeLinked({
              contact: contact as LinqContactLike,
              record,
              metadata,
              settings,
              context,
            });
            return;
          }
          logger.info({ linqContactId: mapping.linqId }, "the linked Linq contact is gone: matching again");
          await context.store.deleteMapping(CONTACT_MAPPING, mapping.linqId);
        }
        const found = await this.findLinqContact(identity, context);
        if (found !== undefined) {
          const linked = await context.store.findByLinqId(CONTACT_MAPPING, String(found.id));
          if (linked !== undefined && linked.externalId !== objectId) {
            logger.warn(
              { linqContactId: String(found.id), linkedHubSpotContactId: linked.externalId },
              "the matching Linq contact is already linked to another HubSpot contact: not linking a second one",
            );
            return;
          }
          await this.link({ contact: found, record, settings, context, created: false });
          return;
        }
        const values = hubSpotValues(record, settings, fields).values;
        const input = Object.fromEntries(
          Object.entries(values).filter(([, value]) => value !== ""),
        ) as Partial<Record<LinqContactField, string>>;
        // A HubSpot contact with nothing but a number (typically one we created for an unknown
        // sender) is not copied to Linq, which knows the number from the conversation already; it
        // is once someone gives it a name or an email.
        if (input.first_name === undefined && input.last_name === undefined && input.email === undefined) {
          logger.debug({}, "HubSpot contact has no name or email: not created in Linq");
          return;
        }
        const created = await context.linq.createContact({ contact: input }, { signal: context.signal });
        logger.info({ linqContactId: String(created.id) }, "Linq contact created from HubSpot");
        const linqId = String(created.id);
        const handles = handlesOf(identityOfLinq(created as LinqContactLike, this.services));
        const stored = await context.store.insertMapping({
          kind: CONTACT_MAPPING,
          linqId,
          externalId: record.id,
          metadata: {
            synced: linqValues(created as LinqContactLike, fields),
            // Linq gave the new contact its default owner: not a change to write to HubSpot.
            ownerEmail: settings.syncOwner
              ? (normalizeEmailAddress(created.contact_owner?.email) ?? null)
              : null,
            handles,
            syncedAt: this.services.now().toISOString(),
          } satisfies ContactMappingMetadata,
        });
        if (stored.linqId === linqId) await this.rememberHandles(record.id, handles, context);
      },
    );
  }

  private async linqContact(id: string, context: ConnectorContext): Promise<Contact | undefined> {
    try {
      return await context.linq.getContact(id, { signal: context.signal });
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  private async findLinqContact(
    identity: ContactIdentity,
    context: ConnectorContext,
  ): Promise<LinqContactLike | undefined> {
    if (identity.phoneNumber !== undefined) {
      const byPhone = await context.linq.findContact(
        { phoneNumber: identity.phoneNumber },
        { signal: context.signal },
      );
      if (byPhone !== null) return byPhone as LinqContactLike;
    }
    if (identity.email !== undefined) {
      const byEmail = await context.linq.findContact({ email: identity.email }, { signal: context.signal });
      if (byEmail !== null) return byEmail as LinqContactLike;
    }
    return undefined;
  }

  /** A HubSpot contact that no longer exists: forget the link, and delete the Linq contact when configured. */
  async hubSpotContactGone(
    objectId: string,
    settings: HubSpotRouteSettings,
    context: ConnectorContext,
  ): Promise<void> {
    const mapping = await context.store.findByExternalId(CONTACT_MAPPING, objectId);
    if (mapping === undefined) return;
    const metadata = contactMetadata(mapping);
    if (
      settings.hubSpotContactDeleted === "delete" &&
      (settings.contacts === "two-way" || settings.contacts === "crm-to-linq")
    ) {
      try {
        await context.linq.deleteContact(mapping.linqId, { signal: context.signal });
        context.logger.info(
          { hubSpotContactId: objectId, linqContactId: mapping.linqId },
          "Linq contact deleted (deleted in HubSpot)",
        );
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error;
      }
    } else {
      context.logger.info(
        { hubSpotContactId: objectId, linqContactId: mapping.linqId },
        "HubSpot contact deleted: link forgotten",
      );
    }
    for (const handle of metadata.handles) {
      const handleMapping = await context.store.findByLinqId(HANDLE_MAPPING, handle);
      if (handleMapping?.metadata.contactId === objectId)
        await context.store.deleteMapping(HANDLE_MAPPING, handle);
    }
    await context.store.deleteMapping(CONTACT_MAPPING, mapping.linqId);
  }
}

/**
 * The Linq owner email to compare with the last synced one: the contact's owner, or the last synced
 * one when the payload does not say (an event without `contact_owner` is not an owner change).
 */
function ownerEmailOf(
  contact: LinqContactLike,
  settings: HubSpotRouteSettings,
  metadata: ContactMappingMetadata,
): string | null {
  if (!settings.syncOwner || contact.contact_owner === undefined) return metadata.ownerEmail;
  return normalizeEmailAddress(contact.contact_owner?.email) ?? null;
}

/** The merge direction of a route's contact sync (callers have checked it is not "off"). */
function directionOf(settings: HubSpotRouteSettings): SyncDirection {
  return settings.contacts === "off" ? "two-way" : settings.contacts;
}

/**
 * Linq wants at least one of first_name, last_name, email or phone_number in every contact write:
 * a write of other fields carries the contact's current phone number (or email, or name) unchanged.
 */
function withIdentifyingField(
  values: Partial<Record<LinqContactField, string>>,
  contact: LinqContactLike,
): Partial<Record<LinqContactField, string>> {
  if (IDENTIFYING_FIELDS.some((field) => field in values)) return values;
  for (const field of IDENTIFYING_FIELDS) {
    const current = contact[field];
    if (typeof current === "string" && current.trim() !== "") return { ...values, [field]: current.trim() };
  }
  return values;
}
