/**
 * What every part of the connector shares: the HubSpot API (with the process-wide limiter), the app id
 * (to recognise our own writes in webhooks), phone number options and the clock.
 */
import type { ConnectorContext, ConnectorLogger, PhoneNumberOptions } from "@linq-connect/core";
import { type LinqContactField, linqContactFields } from "./field-mapping.ts";
import type { HubSpotApi } from "./hubspot-api.ts";
import type { HubSpotRouteSettings } from "./settings.ts";

export interface ConnectorServices {
  api: HubSpotApi;
  /** The app id: webhook events with `changeSource: INTEGRATION` and this `sourceId` are our own writes. */
  appId: string | undefined;
  phoneNumberOptions: PhoneNumberOptions;
  now: () => Date;
  /** Used where no context logger exists. */
  logger: ConnectorLogger | undefined;
}

/** The Linq fields a route syncs (those mapped to a property). */
export function syncedFields(settings: HubSpotRouteSettings): LinqContactField[] {
  return linqContactFields.filter((field) => settings.fieldMapping[field] !== null);
}

/** The phone properties searched for a number: phone, mobilephone and the mapped one. */
export function phoneProperties(settings: HubSpotRouteSettings): string[] {
  const mapped = settings.fieldMapping.phone_number;
  return [...new Set(["phone", "mobilephone", ...(mapped === null ? [] : [mapped])])];
}

/** The contact properties the connector reads. */
export function contactProperties(settings: HubSpotRouteSettings): string[] {
  const mapped = syncedFields(settings).map((field) => settings.fieldMapping[field] as string);
  return [
    ...new Set([...mapped, ...phoneProperties(settings), "email", "hubspot_owner_id", "lastmodifieddate"]),
  ];
}

/** The signal of a context, for outbound calls. */
export function signalOf(context: ConnectorContext): AbortSignal {
  return context.signal;
}
