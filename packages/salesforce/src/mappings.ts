/**
 * What the connector keeps in the host's MappingStore (unique on (kind, linqId) and (kind, externalId)):
 *
 * | kind                  | linqId                          | externalId                  | metadata                                       |
 * | --------------------- | ------------------------------- | --------------------------- | ---------------------------------------------- |
 * | `salesforce.contact`  | Linq contact id                 | Salesforce record id        | object, last synced values, handles, modstamp  |
 * | `salesforce.handle`   | E.164 number or email (a person) | `<record id>#<handle>`      | `{ recordId, objectType }`                     |
 * | `salesforce.task`     | `message:<Linq message id>`     | `<task id>#<message id>`    | `{ taskId }`                                   |
 * | `salesforce.digest`   | `<chat id>:<yyyy-mm-dd>`        | task id                     | the day's lines                                |
 * | `salesforce.call`     | Linq call id                    | task id                     | `{}`                                           |
 *
 * `salesforce.contact` and `salesforce.handle` are the source of truth for "does this person already
 * have a Salesforce record": both are written under the person's lock (`contactLockKey`).
 *
 * Cursors: `salesforce:poll:<Contact|Lead>` (the SystemModstamp and Id the last poll reached) and
 * `salesforce:deleted:<Contact|Lead>` (the end of the last Get Deleted window).
 */
import type { Mapping, MappingStore } from "@linq-connect/core";
import { z } from "zod";
import type { LinqContactField, SalesforceObjectName } from "./field-mapping.ts";

export const CONTACT_MAPPING = "salesforce.contact";
export const HANDLE_MAPPING = "salesforce.handle";
export const TASK_MAPPING = "salesforce.task";
export const DIGEST_MAPPING = "salesforce.digest";
export const CALL_MAPPING = "salesforce.call";

/** The namespace of the per-person lock keys. */
export const CONTACT_LOCK_NAMESPACE = "salesforce-contact";

export const pollCursorName = (objectName: SalesforceObjectName) => `salesforce:poll:${objectName}`;
export const deletedCursorName = (objectName: SalesforceObjectName) => `salesforce:deleted:${objectName}`;

/** Metadata of a `salesforce.contact` mapping. */
export interface ContactMappingMetadata {
  objectType: SalesforceObjectName;
  /** The values both sides held after the last sync (Linq field names). */
  synced: Partial<Record<LinqContactField, string>>;
  /** The person's handles (E.164 / email) with a `salesforce.handle` mapping to this record. */
  handles: string[];
  /** ISO time of the last sync. */
  syncedAt: string;
  /** The record's SystemModstamp after our last write or read ("" when unknown). */
  systemModstamp: string;
}

const contactMetadataSchema = z.object({
  objectType: z.enum(["Contact", "Lead"]).catch("Contact"),
  synced: z.record(z.string(), z.string()).catch({}),
  handles: z.array(z.string()).catch([]),
  syncedAt: z.string().catch(""),
  systemModstamp: z.string().catch(""),
});

export function contactMetadata(mapping: Mapping): ContactMappingMetadata {
  return contactMetadataSchema.parse({
    objectType: mapping.metadata.objectType,
    synced: mapping.metadata.synced,
    handles: mapping.metadata.handles ?? [],
    syncedAt: mapping.metadata.syncedAt ?? "",
    systemModstamp: mapping.metadata.systemModstamp ?? "",
  }) as ContactMappingMetadata;
}

/** One message of a daily digest. */
export interface DigestLine {
  messageId: string;
  /** ISO time the message was sent. */
  at: string;
  direction: "incoming" | "outgoing";
  service: string | null;
  text: string;
  attachments: { url: string; filename: string }[];
}

const digestLineSchema = z.object({
  messageId: z.string(),
  at: z.string(),
  direction: z.enum(["incoming", "outgoing"]),
  service: z.string().nullable(),
  text: z.string(),
  attachments: z.array(z.object({ url: z.string(), filename: z.string() })),
});

export function digestLines(mapping: Mapping): DigestLine[] {
  const parsed = z.array(digestLineSchema).safeParse(mapping.metadata.lines);
  return parsed.success ? parsed.data : [];
}

/**
 * Whether the connector tracks a record: it has a `salesforce.contact` mapping (a Lead route syncs
 * only those of its Contacts: the converted Leads' it followed).
 */
export async function isLinkedRecord(store: MappingStore, recordId: string): Promise<boolean> {
  return (await store.findByExternalId(CONTACT_MAPPING, recordId)) !== undefined;
}

export function handleExternalId(recordId: string, handle: string): string {
  return `${recordId}#${handle}`;
}

/**
 * Moves the links of a converted Lead to its Contact: the Lead's `salesforce.contact` mapping (same
 * Linq contact and last synced values, object Contact) and the `salesforce.handle` mappings that
 * point at the Lead, plus `handles` that have none. `relinked` is false when the Contact was linked
 * to another Linq contact already (that link is kept, the Lead's is dropped). Call it under the
 * person's lock.
 */
export async function moveLinksToConvertedContact(
  store: MappingStore,
  input: { leadId: string; contactId: string; handles?: readonly string[] },
): Promise<{ linqContactId: string | undefined; relinked: boolean }> {
  const { leadId, contactId } = input;
  const mapping = await store.findByExternalId(CONTACT_MAPPING, leadId);
  const handles = new Set(input.handles ?? []);
  let relinked = true;
  if (mapping !== undefined) {
    const metadata = contactMetadata(mapping);
    for (const handle of metadata.handles) handles.add(handle);
    await store.deleteMapping(CONTACT_MAPPING, mapping.linqId);
    const stored = await store.insertMapping({
      kind: CONTACT_MAPPING,
      linqId: mapping.linqId,
      externalId: contactId,
      metadata: { ...metadata, objectType: "Contact", systemModstamp: "" } satisfies ContactMappingMetadata,
    });
    relinked = stored.linqId === mapping.linqId;
  }
  for (const handle of handles) {
    const existing = await store.findByLinqId(HANDLE_MAPPING, handle);
    if (existing !== undefined && existing.metadata.recordId !== leadId) continue;
    if (existing !== undefined) await store.deleteMapping(HANDLE_MAPPING, handle);
    await store.insertMapping({
      kind: HANDLE_MAPPING,
      linqId: handle,
      externalId: handleExternalId(contactId, handle),
      metadata: { recordId: contactId, objectType: "Contact" },
    });
  }
  return { linqContactId: mapping?.linqId, relinked };
}
