/**
 * Matching Linq events to routes.
 *
 * - `linqNumberOfEvent`: which of the organisation's Linq numbers an event concerns.
 * - `conversationKeyOfEvent`: the ordering key; events with the same key are processed one
 *   at a time, in order, across replicas.
 * - `selectRoute`: the first route whose match includes the number wins.
 * - Contact events are organisation-wide: `routesForContactEvents`.
 */
import type { ParsedLinqWebhookEvent, RouteContext } from "@linq-connect/core";
import { type LinqChatHandle, tryNormalizePhoneNumber } from "@linq-connect/core";
import type { Route, RoutingConfig } from "../config/routing.ts";

export type ConnectorName = "slack" | "hubspot" | "salesforce";

function ownNumberOf(handles: readonly LinqChatHandle[] | undefined): string | undefined {
  const own = handles?.find((handle) => handle.is_me === true);
  const identifier = own?.identifier ?? own?.phone_number ?? undefined;
  return identifier === undefined ? undefined : tryNormalizePhoneNumber(identifier);
}

function normalizedOrUndefined(value: string | null | undefined): string | undefined {
  return value === undefined || value === null ? undefined : tryNormalizePhoneNumber(value);
}

/**
 * The organisation's Linq number (E.164) an event concerns, or undefined when the event
 * does not say:
 * - message.*, reaction.*, typing_indicator.*, participant.*: the `is_me` handle of
 *   `data.chat_handles` (for message.sent without handles: `from_phone`, the sender);
 * - call.completed: `to` for an inbound call, `from` for an outbound one;
 * - message.read, contact.* and unknown event types: undefined.
 * A handle that is not a phone number (an iMessage email address) gives undefined.
 */
export function linqNumberOfEvent(event: ParsedLinqWebhookEvent): string | undefined {
  if (!event.known) return undefined;
  switch (event.event_type) {
    case "message.sent":
      return (
        ownNumberOf(event.data.chat_handles ?? event.data.chat?.chat_handles) ??
        normalizedOrUndefined(event.data.from_phone)
      );
    case "message.received":
      return ownNumberOf(event.data.chat_handles ?? event.data.chat?.chat_handles);
    case "reaction.sent":
    case "reaction.received":
    case "typing_indicator.received":
    case "typing_indicator.removed":
    case "participant.added":
    case "participant.removed":
      return ownNumberOf(event.data.chat_handles);
    case "call.completed":
      if (event.data.direction === "inbound") return normalizedOrUndefined(event.data.to);
      if (event.data.direction === "outbound") return normalizedOrUndefined(event.data.from);
      return undefined;
    case "message.read":
    case "contact.created":
    case "contact.updated":
    case "contact.deleted":
      return undefined;
  }
}

/**
 * The ordering key of an event:
 * - `chat:<chat_id>` for message.*, message.read, reaction.*, typing_indicator.*, participant.*
 *   (a reaction without `chat_id` falls back to `message:<chat_message_id>`; a participant
 *   event without `chat_id` has no key);
 * - `contact:<id>` for contact.*;
 * - `call:<E.164 of the other party>` for call.completed (the number as sent when it cannot
 *   be normalised; no key when the direction or the number is missing);
 * - undefined for unknown event types.
 */
export function conversationKeyOfEvent(event: ParsedLinqWebhookEvent): string | undefined {
  if (!event.known) return undefined;
  switch (event.event_type) {
    case "message.sent":
    case "message.received":
    case "message.read":
    case "typing_indicator.received":
    case "typing_indicator.removed":
      return `chat:${event.data.chat_id}`;
    case "reaction.sent":
    case "reaction.received":
      return event.data.chat_id === undefined
        ? `message:${event.data.chat_message_id}`
        : `chat:${event.data.chat_id}`;
    case "participant.added":
    case "participant.removed":
      return event.data.chat_id === undefined ? undefined : `chat:${event.data.chat_id}`;
    case "contact.created":
    case "contact.updated":
    case "contact.deleted":
      return `contact:${event.data.id}`;
    case "call.completed": {
      const otherParty =
        event.data.direction === "inbound"
          ? event.data.from
          : event.data.direction === "outbound"
            ? event.data.to
            : undefined;
      if (otherParty === undefined || otherParty === null || otherParty.trim() === "") return undefined;
      return `call:${tryNormalizePhoneNumber(otherParty) ?? otherParty.trim()}`;
    }
  }
}

const e164Pattern = /^\+[1-9]\d{6,14}$/;

/** E.164 as routes store it; numbers already in E.164 skip the (slower) parser. */
function canonicalNumber(linqNumber: string): string {
  return e164Pattern.test(linqNumber) ? linqNumber : (tryNormalizePhoneNumber(linqNumber) ?? linqNumber);
}

function matchesCanonical(route: Route, linqNumber: string | undefined): boolean {
  const numbers = route.match.linqNumbers;
  if (numbers.length === 0) return true;
  return linqNumber !== undefined && numbers.includes(linqNumber);
}

/**
 * Whether a route handles conversations of `linqNumber` (any format; compared in E.164).
 * A route without numbers handles every number, also an unknown one (undefined); a route
 * with numbers never handles undefined.
 */
export function routeMatchesNumber(route: Route, linqNumber: string | undefined): boolean {
  return matchesCanonical(route, linqNumber === undefined ? undefined : canonicalNumber(linqNumber));
}

/** The first route that handles `linqNumber`; undefined: the conversation is recorded and skipped. */
export function selectRoute(config: RoutingConfig, linqNumber: string | undefined): Route | undefined {
  const canonical = linqNumber === undefined ? undefined : canonicalNumber(linqNumber);
  return config.routes.find((route) => matchesCanonical(route, canonical));
}

/**
 * The routes that receive contact events (organisation-wide): those whose CRM takes Linq
 * contacts (contacts two-way or linq-to-crm), one per CRM: the first such route of each CRM.
 */
export function routesForContactEvents(config: RoutingConfig): Route[] {
  const byCrm = new Map<string, Route>();
  for (const route of config.routes) {
    if (route.crm === "none" || byCrm.has(route.crm)) continue;
    if (route.contacts === "two-way" || route.contacts === "linq-to-crm") byCrm.set(route.crm, route);
  }
  return [...byCrm.values()];
}

/**
 * The connectors a route feeds: slack when it mirrors to Slack, its CRM unless none.
 * The host still filters by each connector's `events`.
 */
export function connectorsForRoute(route: Route): ConnectorName[] {
  const connectors: ConnectorName[] = [];
  if (route.slack !== undefined) connectors.push("slack");
  if (route.crm !== "none") connectors.push(route.crm);
  return connectors;
}

/**
 * What a connector receives as `context.route`: the route's name and its settings for
 * that connector (Slack: the slack block; a CRM: its block plus contacts and activities).
 */
export function routeContextFor(route: Route, connector: ConnectorName): RouteContext {
  if (connector === "slack") {
    return { name: route.name, settings: route.slack === undefined ? {} : { ...route.slack } };
  }
  return {
    name: route.name,
    settings: { ...(route[connector] ?? {}), contacts: route.contacts, activities: route.activities },
  };
}

export interface RoutingDecision {
  /** The Linq number the event concerns (E.164), when it says. */
  linqNumber: string | undefined;
  /** The ordering key (see `conversationKeyOfEvent`). */
  conversationKey: string | undefined;
  /** The routes that handle the event: none, one, or for contact events one per CRM. */
  routes: Route[];
}

/**
 * Everything the host needs to dispatch one event. Unknown event types get no route (no
 * connector consumes them); contact events get `routesForContactEvents`; any other event the
 * first route handling its Linq number (message.read carries no number: only a catch-all
 * route matches it, so a host that wants it on a number-specific route looks up the chat's
 * earlier route by `conversationKey`).
 */
export function routeEvent(config: RoutingConfig, event: ParsedLinqWebhookEvent): RoutingDecision {
  const linqNumber = linqNumberOfEvent(event);
  const conversationKey = conversationKeyOfEvent(event);
  if (!event.known) return { linqNumber, conversationKey, routes: [] };
  if (event.event_type.startsWith("contact."))
    return { linqNumber, conversationKey, routes: routesForContactEvents(config) };
  const route = selectRoute(config, linqNumber);
  return { linqNumber, conversationKey, routes: route === undefined ? [] : [route] };
}
