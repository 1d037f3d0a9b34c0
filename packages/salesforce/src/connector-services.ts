/**
 * What every part of the Salesforce connector shares: the API (pacing, retries, errors), the
 * connector-wide options (external id fields, bulk threshold), phone number options and the clock.
 */
import type { ConnectorLogger, PhoneNumberOptions } from "@linq-connect/core";
import type { SalesforceObjectName } from "./field-mapping.ts";
import type { SalesforceApi } from "./salesforce-api.ts";
import type { SalesforceRouteSettings } from "./settings.ts";
import { syncedFields } from "./settings.ts";

export interface ConnectorServices {
  api: SalesforceApi;
  /** The external-id field holding the Linq contact id, per object (only when configured). */
  externalIdFields: Partial<Record<SalesforceObjectName, string>>;
  /** A backfill above this many records uses Bulk API 2.0. */
  bulkThreshold: number;
  phoneNumberOptions: PhoneNumberOptions;
  now: () => Date;
  /** Used where no context logger exists. */
  logger: ConnectorLogger | undefined;
}

/** The standard phone fields of each object (SOSL `IN PHONE FIELDS` searches all of them). */
export const standardPhoneFields: Readonly<Record<SalesforceObjectName, readonly string[]>> = {
  Contact: ["Phone", "MobilePhone", "HomePhone", "OtherPhone", "AssistantPhone"],
  Lead: ["Phone", "MobilePhone"],
};

/** The phone fields read for matching: the standard ones and the mapped one. */
export function phoneFields(settings: SalesforceRouteSettings): string[] {
  const mapped = settings.fieldMapping.phone_number;
  return [...new Set([...standardPhoneFields[settings.objectType], ...(mapped === null ? [] : [mapped])])];
}

/** The fields of a Contact / Lead the connector reads. */
export function recordFields(settings: SalesforceRouteSettings, services: ConnectorServices): string[] {
  const mapped = syncedFields(settings).map((field) => settings.fieldMapping[field] as string);
  const externalId = services.externalIdFields[settings.objectType];
  return [
    ...new Set([
      "Id",
      ...mapped,
      ...phoneFields(settings),
      "Email",
      "FirstName",
      "LastName",
      ...(settings.objectType === "Contact"
        ? ["AccountId"]
        : ["Company", "IsConverted", "ConvertedContactId"]),
      ...(externalId === undefined ? [] : [externalId]),
      "LastModifiedDate",
      "SystemModstamp",
    ]),
  ];
}
