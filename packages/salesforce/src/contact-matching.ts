/**
 * Finding the Salesforce Contact or Lead of a person, and reading records as the contact sync sees them.
 *
 * Matching order (after the stored `salesforce.contact` mapping, which the callers check first):
 * the `salesforce.handle` mappings (what we created or linked ourselves; verified to be live), the
 * external-id field holding the Linq id (when configured), then the phone number, then the email.
 * Salesforce keeps phone numbers as typed ("(555) 123-4567"), so phones are found with SOSL
 * `IN PHONE FIELDS` (Salesforce indexes phone fields by their digits) and every answer is verified by
 * normalising what Salesforce stored (core `matchesPhoneNumber`); never an exact SOQL string match.
 * Emails are a SOQL equality (case-insensitive in Salesforce), verified too. Among several matches the
 * oldest record wins, so that every path picks the same one.
 *
 * A converted Lead is followed to its Contact (`ConvertedContactId`): on a Lead route a person who
 * is on a Contact stays there, read and written with `settingsForObject` (the Contact fields that
 * Salesforce's conversion fills from the mapped Lead fields).
 */
import {
  type ConnectorContext,
  type ContactFieldKind,
  type ContactIdentity,
  contactIdentity,
  matchesEmailAddress,
  matchesPhoneNumber,
  type PhoneNumberOptions,
  phoneNumberSearchVariants,
} from "@linq-connect/core";
import { type ConnectorServices, phoneFields, recordFields } from "./connector-services.ts";
import {
  defaultSalesforceFieldMappings,
  type LinqContactField,
  type SalesforceFieldMapping,
  type SalesforceObjectName,
} from "./field-mapping.ts";
import { HANDLE_MAPPING } from "./mappings.ts";
import { escapeSoql, escapeSosl, type SalesforceRecord } from "./salesforce-api.ts";
import { type SalesforceRouteSettings, syncedFields } from "./settings.ts";

/** How the Linq contact fields compare (the rest are text). */
export const linqContactFieldKinds: Readonly<Partial<Record<LinqContactField, ContactFieldKind>>> = {
  email: "email",
  phone_number: "phone",
};

/** Whether a Contact's company is its Account (found or created by Name) rather than a text field. */
export function companyIsAccount(settings: SalesforceRouteSettings): boolean {
  return settings.objectType === "Contact" && settings.linkAccounts && settings.fieldMapping.company === null;
}

/** The Linq fields a route syncs: the mapped ones, plus `company` when it is the Contact's Account. */
export function contactSyncFields(settings: SalesforceRouteSettings): LinqContactField[] {
  const fields = syncedFields(settings);
  return companyIsAccount(settings) && !fields.includes("company") ? [...fields, "company"] : fields;
}

/** The fields read on a Contact / Lead: `recordFields`, CreatedDate, and the Account's Name. */
export function readFields(settings: SalesforceRouteSettings, services: ConnectorServices): string[] {
  return [
    ...recordFields(settings, services),
    "CreatedDate",
    ...(companyIsAccount(settings) ? ["Account.Name"] : []),
  ];
}

/** The Contact field Salesforce's lead conversion copies each standard Lead field into (Company: the Account). */
const convertedLeadFields: Readonly<Record<string, string | null>> = {
  FirstName: "FirstName",
  LastName: "LastName",
  Email: "Email",
  Phone: "Phone",
  MobilePhone: "MobilePhone",
  Title: "Title",
  City: "MailingCity",
  Street: "MailingStreet",
  State: "MailingState",
  PostalCode: "MailingPostalCode",
  Country: "MailingCountry",
  Description: "Description",
  Company: null,
};

/**
 * The settings a record of `objectType` is read and written with on this route: the route's own, or
 * for a Contact on a Lead route (a converted Lead's) the Contact fields the conversion fills from the
 * mapped Lead fields (a custom Lead field, whose conversion mapping is the org's, maps to the Contact's
 * default field).
 */
export function settingsForObject(
  settings: SalesforceRouteSettings,
  objectType: SalesforceObjectName,
): SalesforceRouteSettings {
  if (objectType === settings.objectType) return settings;
  const defaults = defaultSalesforceFieldMappings[objectType];
  const fieldMapping = Object.fromEntries(
    (Object.entries(settings.fieldMapping) as [LinqContactField, string | null][]).map(([field, target]) => [
      field,
      target === null
        ? null
        : settings.objectType === "Lead" && target in convertedLeadFields
          ? (convertedLeadFields[target] ?? null)
          : defaults[field],
    ]),
  ) as SalesforceFieldMapping;
  return { ...settings, objectType, fieldMapping };
}

/** The Contact a Lead was converted into, or undefined for a record that is not a converted Lead. */
export function convertedContactIdOf(record: SalesforceRecord): string | undefined {
  if (record.IsConverted !== true) return undefined;
  return typeof record.ConvertedContactId === "string" && record.ConvertedContactId !== ""
    ? record.ConvertedContactId
    : undefined;
}

/** A record's object, from its id's key prefix. */
export function objectTypeOfId(id: string): SalesforceObjectName {
  return id.startsWith("00Q") ? "Lead" : "Contact";
}

function text(value: unknown): string {
  return typeof value === "string" ? value.trim() : "";
}

/** The Linq-side value of each synced field as the record holds it (company: the Account's Name). */
export function salesforceValues(
  record: SalesforceRecord,
  settings: SalesforceRouteSettings,
): Partial<Record<LinqContactField, string>> {
  const values: Partial<Record<LinqContactField, string>> = {};
  for (const field of contactSyncFields(settings)) {
    const target = settings.fieldMapping[field];
    if (field === "company" && target === null) {
      const account = record.Account as { Name?: unknown } | null | undefined;
      values.company = text(account?.Name);
    } else if (field === "phone_number") {
      // The mapped phone field, else the first phone the record has (a number typed in Phone is the
      // person's number; it is not copied into MobilePhone).
      const candidates = [target, ...phoneFields(settings)].filter((name): name is string => name !== null);
      values.phone_number = candidates.map((name) => text(record[name])).find((value) => value !== "") ?? "";
    } else if (target !== null) {
      values[field] = text(record[target]);
    }
  }
  return values;
}

/** The person's identity from a record: its phone fields (mapped first), then the email. */
export function identityOfRecord(
  record: SalesforceRecord,
  settings: SalesforceRouteSettings,
  phoneNumberOptions: PhoneNumberOptions,
): ContactIdentity {
  const email = text(record[settings.fieldMapping.email ?? "Email"]) || text(record.Email);
  const mapped = settings.fieldMapping.phone_number;
  for (const name of [...(mapped === null ? [] : [mapped]), ...phoneFields(settings)]) {
    const identity = contactIdentity({ phoneNumber: text(record[name]), email }, phoneNumberOptions);
    if (identity.phoneNumber !== undefined) return identity;
  }
  return contactIdentity({ email }, phoneNumberOptions);
}

/** The handles (E.164 number, email) of an identity, phone first. */
export function handlesOf(identity: ContactIdentity): string[] {
  return [identity.phoneNumber, identity.email].filter((handle): handle is string => handle !== undefined);
}

function oldest(records: SalesforceRecord[]): SalesforceRecord | undefined {
  const key = (record: SalesforceRecord) => `${text(record.CreatedDate)}\u0000${record.Id}`;
  return [...records].sort((left, right) => (key(left) < key(right) ? -1 : 1))[0];
}

/** SOSL `FIND {national digits} IN PHONE FIELDS`, verified by normalising every phone field. */
export async function searchRecordByPhone(
  services: ConnectorServices,
  settings: SalesforceRouteSettings,
  e164: string,
  signal: AbortSignal | undefined,
): Promise<SalesforceRecord | undefined> {
  // Salesforce indexes phone fields by their digits; the national digits find "(555) 123-4567" and
  // "+1 555 123 4567" alike. The shortest all-digit variant is the national number.
  const digits = phoneNumberSearchVariants(e164, services.phoneNumberOptions)
    .filter((variant) => /^\d+$/.test(variant))
    .sort((left, right) => left.length - right.length)[0];
  if (digits === undefined) return undefined;
  const fields = readFields(settings, services);
  const found = await services.api.search(
    `FIND {${escapeSosl(digits)}} IN PHONE FIELDS RETURNING ${settings.objectType}(${fields.join(", ")} ORDER BY CreatedDate LIMIT 50)`,
    { signal },
  );
  return oldest(
    found.filter(
      (record) =>
        attributesType(record) === settings.objectType &&
        matchesPhoneNumber(
          phoneFields(settings).map((name) => text(record[name])),
          e164,
          services.phoneNumberOptions,
        ),
    ),
  );
}

function attributesType(record: SalesforceRecord): string | undefined {
  const attributes = record.attributes as { type?: unknown } | undefined;
  return typeof attributes?.type === "string" ? attributes.type : undefined;
}

/** SOQL on the email field (case-insensitive in Salesforce), verified. */
export async function searchRecordByEmail(
  services: ConnectorServices,
  settings: SalesforceRouteSettings,
  email: string,
  signal: AbortSignal | undefined,
): Promise<SalesforceRecord | undefined> {
  const field = settings.fieldMapping.email ?? "Email";
  const records = await services.api.query(
    `SELECT ${readFields(settings, services).join(", ")} FROM ${settings.objectType} WHERE ${field} = '${escapeSoql(email)}' ORDER BY CreatedDate LIMIT 50`,
    { signal },
  );
  return oldest(records.filter((record) => matchesEmailAddress([text(record[field])], email)));
}

/** The record whose external-id field holds this Linq contact id. */
export async function searchRecordByExternalId(
  services: ConnectorServices,
  settings: SalesforceRouteSettings,
  linqId: string,
  signal: AbortSignal | undefined,
): Promise<SalesforceRecord | undefined> {
  const field = services.externalIdFields[settings.objectType];
  if (field === undefined) return undefined;
  const records = await services.api.query(
    `SELECT ${readFields(settings, services).join(", ")} FROM ${settings.objectType} WHERE ${field} = '${escapeSoql(linqId)}' LIMIT 2`,
    { signal },
  );
  return oldest(records);
}

/** One record with the fields the sync reads (SOQL, so that the Account's Name comes along). */
export async function readRecord(
  services: ConnectorServices,
  settings: SalesforceRouteSettings,
  objectType: SalesforceObjectName,
  id: string,
  signal: AbortSignal | undefined,
): Promise<SalesforceRecord | undefined> {
  const objectSettings = settingsForObject(settings, objectType);
  const records = await services.api.query(
    `SELECT ${readFields(objectSettings, services).join(", ")} FROM ${objectType} WHERE Id = '${escapeSoql(id)}'`,
    { signal },
  );
  return records[0];
}

/**
 * Records created since `since` that belong to the person: after a create whose answer was lost,
 * what a retry reads to find the record that create may have made (SOQL reads the records
 * directly, whereas the SOSL index may lag behind a create).
 */
export async function recentlyCreatedRecordOf(
  services: ConnectorServices,
  settings: SalesforceRouteSettings,
  identity: ContactIdentity,
  since: Date,
  signal: AbortSignal | undefined,
): Promise<SalesforceRecord | undefined> {
  const records = await services.api.query(
    `SELECT ${readFields(settings, services).join(", ")} FROM ${settings.objectType} WHERE CreatedDate >= ${since.toISOString().replace(/\.\d{3}Z$/, "Z")} ORDER BY CreatedDate LIMIT 200`,
    { signal },
  );
  return oldest(
    records.filter(
      (record) =>
        (identity.phoneNumber !== undefined &&
          matchesPhoneNumber(
            phoneFields(settings).map((name) => text(record[name])),
            identity.phoneNumber,
            services.phoneNumberOptions,
          )) ||
        (identity.email !== undefined &&
          matchesEmailAddress([text(record[settings.fieldMapping.email ?? "Email"])], identity.email)),
    ),
  );
}

/**
 * The record of a person: the handle mappings first (verified to be live; on a Lead route a handle
 * of a Contact counts: a converted Lead's), then SOSL by phone, then SOQL by email. Call it under
 * the person's lock. The record may be a converted Lead (see `convertedContactIdOf`).
 */
export async function findRecordOfPerson(
  services: ConnectorServices,
  settings: SalesforceRouteSettings,
  context: ConnectorContext,
  identity: ContactIdentity,
): Promise<SalesforceRecord | undefined> {
  for (const handle of handlesOf(identity)) {
    const mapping = await context.store.findByLinqId(HANDLE_MAPPING, handle);
    const recordId = typeof mapping?.metadata.recordId === "string" ? mapping.metadata.recordId : undefined;
    const objectType = mapping?.metadata.objectType === "Lead" ? "Lead" : "Contact";
    if (recordId === undefined || (objectType !== settings.objectType && settings.objectType !== "Lead")) {
      continue;
    }
    const record = await readRecord(services, settings, objectType, recordId, context.signal);
    if (record !== undefined) return record;
    // Deleted in Salesforce: forget the handle.
    await context.store.deleteMapping(HANDLE_MAPPING, handle);
  }
  if (identity.phoneNumber !== undefined) {
    const byPhone = await searchRecordByPhone(services, settings, identity.phoneNumber, context.signal);
    if (byPhone !== undefined) return byPhone;
  }
  if (identity.email !== undefined) {
    return searchRecordByEmail(services, settings, identity.email, context.signal);
  }
  return undefined;
}
