import { type ParsedLinqWebhookEvent, parseWebhookEvent } from "@linq-connect/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Route, RoutingConfig } from "../config/routing.ts";
import {
  connectorsForRoute,
  conversationKeyOfEvent,
  linqNumberOfEvent,
  routeContextFor,
  routeEvent,
  routeMatchesNumber,
  routesForContactEvents,
  selectRoute,
} from "./router.ts";

// Fixtures in the shapes of the Linq webhook reference (and the simulator).
const ownNumber = "+15559876543";
const customer = "+15551234567";
const chatHandles = [
  { identifier: customer, display_name: "John Doe", is_me: false },
  { identifier: ownNumber, display_name: "Your Linq Number", is_me: true },
];

function event(eventType: string, data: Record<string, unknown>): ParsedLinqWebhookEvent {
  return parseWebhookEvent(
    JSON.stringify({
      api_version: "v2",
      created_at: "2025-05-21T15:30:00-06:00",
      event_id: `evt-${eventType}`,
      event_type: eventType,
      data,
    }),
  );
}

const message = {
  id: "27799380",
  chat_id: "324324",
  text: "Hello",
  sent_at: "2025-05-21 15:30:00 -0600",
  from_phone: customer,
  service: "iMessage",
  chat_handles: chatHandles,
};
const reaction = {
  id: "12346",
  chat_message_id: "67891",
  chat_id: "11111",
  reaction: "like",
  is_from_me: false,
  chat_handle: { id: "22223", identifier: customer },
  chat_handles: chatHandles,
};
const typing = { chat_id: "11111", display: true, chat_handles: chatHandles };
const call = {
  id: "12345",
  to: ownNumber,
  from: customer,
  status: "completed",
  direction: "inbound",
  duration: 330,
};
const contact = { id: 123, first_name: "John", phone_number: customer };
const participant = {
  chat_id: "11111",
  chat_handle: { id: "22224", identifier: "+15557654321" },
  chat_handles: chatHandles,
};

const cases: [string, ParsedLinqWebhookEvent, string | undefined, string | undefined][] = [
  ["message.received", event("message.received", message), ownNumber, "chat:324324"],
  ["message.sent", event("message.sent", { ...message, from_phone: ownNumber }), ownNumber, "chat:324324"],
  [
    "message.sent without chat_handles (the sender is our number)",
    event("message.sent", { ...message, from_phone: "(555) 987-6543", chat_handles: undefined }),
    ownNumber,
    "chat:324324",
  ],
  [
    "message.received without chat_handles",
    event("message.received", { ...message, chat_handles: undefined }),
    undefined,
    "chat:324324",
  ],
  [
    "message.received whose own handle is an email address",
    event("message.received", {
      ...message,
      chat_handles: [chatHandles[0], { identifier: "team@example.com", is_me: true }],
    }),
    undefined,
    "chat:324324",
  ],
  [
    "message.read",
    event("message.read", { id: "12345", chat_id: "67890", read_at: "2025-05-21T15:35:00-06:00" }),
    undefined,
    "chat:67890",
  ],
  ["reaction.received", event("reaction.received", reaction), ownNumber, "chat:11111"],
  ["reaction.sent", event("reaction.sent", { ...reaction, is_from_me: true }), ownNumber, "chat:11111"],
  [
    "reaction without chat_id",
    event("reaction.received", { ...reaction, chat_id: undefined }),
    ownNumber,
    "message:67891",
  ],
  ["typing_indicator.received", event("typing_indicator.received", typing), ownNumber, "chat:11111"],
  [
    "typing_indicator.removed",
    event("typing_indicator.removed", { ...typing, display: false }),
    ownNumber,
    "chat:11111",
  ],
  ["call.completed inbound", event("call.completed", call), ownNumber, `call:${customer}`],
  [
    "call.completed outbound",
    event("call.completed", { ...call, direction: "outbound", to: "555-123-4567", from: ownNumber }),
    ownNumber,
    `call:${customer}`,
  ],
  [
    "call.completed without a direction",
    event("call.completed", { ...call, direction: null }),
    undefined,
    undefined,
  ],
  [
    "call.completed from a withheld number",
    event("call.completed", { ...call, from: "Anonymous" }),
    ownNumber,
    "call:Anonymous",
  ],
  ["contact.created", event("contact.created", contact), undefined, "contact:123"],
  ["contact.updated", event("contact.updated", contact), undefined, "contact:123"],
  ["contact.deleted", event("contact.deleted", { id: 123 }), undefined, "contact:123"],
  ["participant.added", event("participant.added", participant), ownNumber, "chat:11111"],
  [
    "participant.removed without chat_handles",
    event("participant.removed", { ...participant, chat_handles: undefined }),
    undefined,
    "chat:11111",
  ],
  ["participant event without chat_id", event("participant.added", {}), undefined, undefined],
  [
    "the quick-start envelope",
    parseWebhookEvent({
      event: "message.received",
      timestamp: "2025-10-22T10:31:00Z",
      data: {
        message: { id: 67891, text: "Thanks!", sent_from: customer, chat_id: 12345 },
        chat: { id: 12345, service: "iMessage", chat_handles: chatHandles },
      },
    }),
    ownNumber,
    "chat:12345",
  ],
  [
    "an unknown event type",
    event("chat.archived", { chat_id: "1", chat_handles: chatHandles }),
    undefined,
    undefined,
  ],
];

describe("linqNumberOfEvent and conversationKeyOfEvent", () => {
  it.each(cases)("%s", (_name, parsed, expectedNumber, expectedKey) => {
    expect(linqNumberOfEvent(parsed)).toBe(expectedNumber);
    expect(conversationKeyOfEvent(parsed)).toBe(expectedKey);
  });

  it("covers every documented event type", () => {
    const covered = new Set(cases.map(([, parsed]) => parsed.event_type));
    for (const eventType of [
      "message.sent",
      "message.received",
      "message.read",
      "call.completed",
      "reaction.sent",
      "reaction.received",
      "typing_indicator.received",
      "typing_indicator.removed",
      "contact.created",
      "contact.updated",
      "contact.deleted",
      "participant.added",
      "participant.removed",
    ]) {
      expect(covered).toContain(eventType);
    }
  });
});

function route(name: string, overrides: Partial<Route> = {}): Route {
  return {
    name,
    match: { linqNumbers: [] },
    crm: "none",
    contacts: "off",
    activities: "off",
    ...overrides,
  };
}

function config(...routes: Route[]): RoutingConfig {
  return { version: 1, routes, source: "file", fileName: "linq-sync.yaml", warnings: [] };
}

const slackSettings = {
  channel: "C0SALES",
  internalPrefix: "note:",
  mode: "two-way" as const,
  reactions: {
    love: "heart",
    like: "+1",
    dislike: "-1",
    laugh: "joy",
    emphasize: "bangbang",
    question: "question",
  },
  postTypingIndicators: false,
};

describe("selectRoute", () => {
  const sales = route("sales", { match: { linqNumbers: ["+15550001111", "+15550002222"] } });
  const support = route("support", { match: { linqNumbers: ["+15550003333", "+15550001111"] } });
  const everything = route("everything");

  it("lets the first matching route win", () => {
    const routing = config(sales, support, everything);
    expect(selectRoute(routing, "+15550001111")).toBe(sales);
    expect(selectRoute(routing, "+15550003333")).toBe(support);
    expect(selectRoute(config(support, sales), "+15550001111")).toBe(support);
  });

  it("falls through to a catch-all route, which also takes events without a number", () => {
    const routing = config(sales, everything);
    expect(selectRoute(routing, "+15550009999")).toBe(everything);
    expect(selectRoute(routing, undefined)).toBe(everything);
  });

  it("matches nothing when no route handles the number: the event is skipped", () => {
    expect(selectRoute(config(sales, support), "+15550009999")).toBeUndefined();
    expect(selectRoute(config(sales, support), undefined)).toBeUndefined();
  });

  it("compares numbers in E.164 even when given in another format", () => {
    expect(selectRoute(config(support, sales), "(555) 000-2222")).toBe(sales);
    expect(routeMatchesNumber(sales, "not a number")).toBe(false);
  });

  it("always returns the first route whose match includes the number (property)", () => {
    const pool = ["+15550000001", "+15550000002", "+15550000003", "+15550000004", "+442079460958"];
    const routeArbitrary = fc.record({
      numbers: fc.subarray(pool),
      name: fc.string({ minLength: 1, maxLength: 8 }),
    });
    fc.assert(
      fc.property(
        fc.array(routeArbitrary, { maxLength: 6 }),
        fc.option(fc.constantFrom(...pool), { nil: undefined }),
        (specifications, number) => {
          const routes = specifications.map((specification, index) =>
            route(`${specification.name}-${index}`, { match: { linqNumbers: specification.numbers } }),
          );
          const expected = routes.find(
            (candidate) =>
              candidate.match.linqNumbers.length === 0 ||
              (number !== undefined && candidate.match.linqNumbers.includes(number)),
          );
          expect(selectRoute(config(...routes), number)).toBe(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("routesForContactEvents", () => {
  it("takes the first route per CRM that receives Linq contacts", () => {
    const hubspotOff = route("hubspot-off", { crm: "hubspot", contacts: "off", activities: "per-message" });
    const hubspotFromCrm = route("hubspot-from-crm", { crm: "hubspot", contacts: "crm-to-linq" });
    const hubspotTwoWay = route("hubspot-two-way", { crm: "hubspot", contacts: "two-way" });
    const hubspotLater = route("hubspot-later", { crm: "hubspot", contacts: "linq-to-crm" });
    const salesforce = route("salesforce", {
      crm: "salesforce",
      contacts: "linq-to-crm",
      match: { linqNumbers: ["+15550001111"] },
    });
    const slackOnly = route("slack-only", { slack: slackSettings });
    expect(
      routesForContactEvents(
        config(slackOnly, hubspotOff, hubspotFromCrm, hubspotTwoWay, salesforce, hubspotLater),
      ),
    ).toEqual([hubspotTwoWay, salesforce]);
    expect(routesForContactEvents(config(slackOnly, hubspotOff))).toEqual([]);
  });
});

describe("connectorsForRoute and routeContextFor", () => {
  it("lists Slack when the route mirrors to Slack and the CRM unless none", () => {
    expect(
      connectorsForRoute(route("a", { slack: slackSettings, crm: "hubspot", contacts: "two-way" })),
    ).toEqual(["slack", "hubspot"]);
    expect(connectorsForRoute(route("b", { crm: "salesforce" }))).toEqual(["salesforce"]);
    expect(connectorsForRoute(route("c", { slack: slackSettings }))).toEqual(["slack"]);
    expect(connectorsForRoute(route("d"))).toEqual([]);
  });

  it("gives each connector its part of the route", () => {
    const sales = route("sales", {
      slack: slackSettings,
      crm: "hubspot",
      contacts: "linq-to-crm",
      activities: "daily-digest",
      hubspot: { pipeline: "default" },
    });
    expect(routeContextFor(sales, "slack")).toEqual({ name: "sales", settings: slackSettings });
    expect(routeContextFor(sales, "hubspot")).toEqual({
      name: "sales",
      settings: { pipeline: "default", contacts: "linq-to-crm", activities: "daily-digest" },
    });
  });
});

describe("routeEvent", () => {
  const sales = route("sales", {
    match: { linqNumbers: [ownNumber] },
    slack: slackSettings,
    crm: "hubspot",
    contacts: "two-way",
    activities: "per-message",
  });
  const fallback = route("fallback", { crm: "salesforce", contacts: "two-way", activities: "off" });
  const routing = config(sales, fallback);

  it("routes a conversation event by its Linq number", () => {
    expect(routeEvent(routing, event("message.received", message))).toEqual({
      linqNumber: ownNumber,
      conversationKey: "chat:324324",
      routes: [sales],
    });
    expect(routeEvent(routing, event("message.read", { id: "1", chat_id: "67890" })).routes).toEqual([
      fallback,
    ]);
  });

  it("routes a contact event to every CRM that receives contacts", () => {
    expect(routeEvent(routing, event("contact.updated", contact))).toEqual({
      linqNumber: undefined,
      conversationKey: "contact:123",
      routes: [sales, fallback],
    });
  });

  it("gives an unknown event type no route", () => {
    expect(routeEvent(routing, event("chat.archived", { chat_id: "1" })).routes).toEqual([]);
  });
});
