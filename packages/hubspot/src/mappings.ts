/**
 * What the connector keeps in the host's MappingStore (unique on (kind, linqId) and (kind, externalId)):
 *
 * | kind               | linqId                          | externalId                        | metadata                                   |
 * | ------------------ | ------------------------------- | --------------------------------- | ------------------------------------------ |
 * | `hubspot.contact`  | Linq contact id                 | HubSpot contact id                | last synced values, owner email, handles   |
 * | `hubspot.handle`   | E.164 number or email (a person) | `<contact id>#<handle>`           | `{ contactId }`                            |
 * | `hubspot.activity` | `message:<Linq message id>`     | `<communication id>#<message id>` | `{ communicationId }`                      |
 * | `hubspot.digest`   | `<chat id>:<yyyy-mm-dd>`        | communication id                  | the day's lines                            |
 * | `hubspot.call`     | Linq call id                    | HubSpot call id                   | `{}`                                       |
 *
 * `hubspot.contact` and `hubspot.handle` are the source of truth for "does this person already have a
 * HubSpot contact": HubSpot search lags behind writes, the mapping table does not. Both are written
 * under the person's lock (`contactLockKey`).
 */
import type { Mapping } from "@linq-connect/core";
import { z } from "zod";
import type { LinqContactField } from "./field-mapping.ts";

export const CONTACT_MAPPING = "hubspot.contact";
export const HANDLE_MAPPING = "hubspot.handle";
export const ACTIVITY_MAPPING = "hubspot.activity";
export const DIGEST_MAPPING = "hubspot.digest";
export const CALL_MAPPING = "hubspot.call";

/** The namespace of the per-person lock keys. */
export const CONTACT_LOCK_NAMESPACE = "hubspot-contact";

/** Metadata of a `hubspot.contact` mapping. */
export interface ContactMappingMetadata {
  /** The values both sides held after the last sync (Linq field names). */
  synced: Partial<Record<LinqContactField, string>>;
  /** The Linq owner email last written as `hubspot_owner_id` (null: none was). */
  ownerEmail: string | null;
  /** The person's handles (E.164 / email) with a `hubspot.handle` mapping to this contact. */
  handles: string[];
  /** ISO time of the last sync. */
  syncedAt: string;
}

const contactMetadataSchema = z.object({
  synced: z.record(z.string(), z.string()).catch({}),
  ownerEmail: z.string().nullable().catch(null),
  handles: z.array(z.string()).catch([]),
  syncedAt: z.string().catch(""),
});

export function contactMetadata(mapping: Mapping): ContactMappingMetadata {
  const parsed = contactMetadataSchema.parse({
    synced: mapping.metadata.synced,
    ownerEmail: mapping.metadata.ownerEmail ?? null,
    handles: mapping.metadata.handles ?? [],
    syncedAt: mapping.metadata.syncedAt ?? "",
  });
  return parsed as ContactMappingMetadata;
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

export function handleExternalId(contactId: string, handle: string): string {
  return `${contactId}#${handle}`;
}
