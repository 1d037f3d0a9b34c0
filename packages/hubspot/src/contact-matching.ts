/**
 * Finding the HubSpot contact of a person.
 *
 * Order: the `hubspot.handle` mapping (what we created or linked ourselves: the source of truth while
 * HubSpot search still lags), then CRM search by phone number, then by email. HubSpot stores phone
 * numbers as typed, so the search asks for every usual way of writing the number (`IN` over
 * `phoneNumberSearchVariants`, on `phone`, `mobilephone` and the mapped phone property) and the
 * answers are verified by normalising what HubSpot stored; an email search is `EQ` (case-insensitive
 * on HubSpot) and verified too. Among several matches the oldest contact wins, so that every path
 * picks the same one.
 */
import {
  type ConnectorContext,
  type ContactIdentity,
  matchesEmailAddress,
  matchesPhoneNumber,
  type PhoneNumberOptions,
  phoneNumberSearchVariants,
} from "@linq-connect/core";
import type { HubSpotApi, HubSpotRecord } from "./hubspot-api.ts";
import { HANDLE_MAPPING } from "./mappings.ts";

export interface MatchOptions {
  /** Properties to read on the found contact. */
  properties: string[];
  /** Phone properties to search (phone, mobilephone, the mapped one). */
  phoneProperties: string[];
  phoneNumberOptions: PhoneNumberOptions;
  signal?: AbortSignal | undefined;
}

function oldest(records: HubSpotRecord[]): HubSpotRecord | undefined {
  return [...records].sort((left, right) => Number(left.id) - Number(right.id))[0];
}

/** The live contact whose phone (any phone property) is this E.164 number, via search. */
export async function searchContactByPhone(
  api: HubSpotApi,
  e164: string,
  options: MatchOptions,
): Promise<HubSpotRecord | undefined> {
  const variants = [
    ...new Set(phoneNumberSearchVariants(e164, options.phoneNumberOptions).map((v) => v.toLowerCase())),
  ];
  const page = await api.searchContacts(
    {
      filterGroups: options.phoneProperties.map((propertyName) => [
        { propertyName, operator: "IN", values: variants },
      ]),
      properties: [...new Set([...options.properties, ...options.phoneProperties])],
      sort: "createdate",
      limit: 20,
    },
    options.signal,
  );
  return oldest(
    page.results.filter((record) =>
      matchesPhoneNumber(
        options.phoneProperties.map((name) => record.properties[name]),
        e164,
        options.phoneNumberOptions,
      ),
    ),
  );
}

/** The live contact with this email, via search. */
export async function searchContactByEmail(
  api: HubSpotApi,
  email: string,
  options: MatchOptions,
): Promise<HubSpotRecord | undefined> {
  const page = await api.searchContacts(
    {
      filterGroups: [[{ propertyName: "email", operator: "EQ", value: email }]],
      properties: [...new Set([...options.properties, "email"])],
      limit: 10,
    },
    options.signal,
  );
  return oldest(page.results.filter((record) => matchesEmailAddress([record.properties.email], email)));
}

/** The handles (E.164 number, email) of an identity, phone first. */
export function handlesOf(identity: ContactIdentity): string[] {
  return [identity.phoneNumber, identity.email].filter((handle): handle is string => handle !== undefined);
}

/**
 * The HubSpot contact of a person: the handle mappings first (verified to be live), then search.
 * Call it under the person's lock.
 */
export async function findContactOfPerson(
  api: HubSpotApi,
  context: ConnectorContext,
  identity: ContactIdentity,
  options: MatchOptions,
): Promise<HubSpotRecord | undefined> {
  for (const handle of handlesOf(identity)) {
    const mapping = await context.store.findByLinqId(HANDLE_MAPPING, handle);
    const contactId =
      typeof mapping?.metadata.contactId === "string" ? mapping.metadata.contactId : undefined;
    if (contactId === undefined) continue;
    const record = await api.getContact(contactId, {
      properties: options.properties,
      signal: options.signal,
    });
    if (record !== undefined) return record;
    // The contact was deleted in HubSpot: forget the handle.
    await context.store.deleteMapping(HANDLE_MAPPING, handle);
  }
  if (identity.phoneNumber !== undefined) {
    const byPhone = await searchContactByPhone(api, identity.phoneNumber, options);
    if (byPhone !== undefined) return byPhone;
  }
  if (identity.email !== undefined) return searchContactByEmail(api, identity.email, options);
  return undefined;
}
