import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigurationError, WebhookPayloadError } from "../errors.ts";
import {
  isLinqEventType,
  type LinqEventType,
  linqEventTypes,
  type ParsedLinqWebhookEvent,
  parseWebhookEvent,
  safeParseWebhookEvent,
} from "./events.ts";
import {
  callCompletedExample,
  contactCreatedExample,
  exampleEventsByType,
  messageReceivedExample,
  quickStartMessageReceivedExample,
  reactionReceivedExample,
} from "./example-events.test-helpers.ts";
import { canonicalizeJson } from "./signature.ts";

function expectPayloadError(run: () => unknown): WebhookPayloadError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(WebhookPayloadError);
    return error as WebhookPayloadError;
  }
  throw new Error("expected a WebhookPayloadError");
}

function issueFields(error: WebhookPayloadError): (string | undefined)[] {
  return error.issues.map((issue) => issue.field);
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** A summary that only compiles when narrowing on `known` and `event_type` works. */
function describeEvent(event: ParsedLinqWebhookEvent): string {
  if (!event.known) return `unknown ${event.event_type}`;
  switch (event.event_type) {
    case "message.sent":
    case "message.received":
      return `message ${event.data.id} in chat ${event.data.chat_id}`;
    case "message.read":
      return `read chat ${event.data.chat_id}`;
    case "call.completed":
      return `call ${event.data.id} lasted ${event.data.duration ?? "?"}s`;
    case "reaction.sent":
    case "reaction.received":
      return `${event.data.reaction} on message ${event.data.chat_message_id}`;
    case "typing_indicator.received":
    case "typing_indicator.removed":
      return `typing in chat ${event.data.chat_id}`;
    case "contact.created":
    case "contact.updated":
      return `contact ${event.data.id} ${event.data.full_name ?? ""}`;
    case "contact.deleted":
      return `contact ${event.data.id} deleted`;
    case "participant.added":
    case "participant.removed":
      return `participant change in chat ${event.data.chat_id ?? "?"}`;
    default: {
      const exhaustive: never = event;
      return exhaustive;
    }
  }
}

const expectedSummaries: Record<LinqEventType, string> = {
  "message.sent": "message 27799380 in chat 324324",
  "message.received": "message 27799380 in chat 324324",
  "message.read": "read chat 67890",
  "call.completed": "call 12345 lasted 330s",
  "reaction.sent": "like on message 67891",
  "reaction.received": "like on message 67891",
  "typing_indicator.received": "typing in chat 11111",
  "typing_indicator.removed": "typing in chat 11111",
  "contact.created": "contact 123 John Doe",
  "contact.updated": "contact 123 John Doe",
  "contact.deleted": "contact 123 deleted",
  "participant.added": "participant change in chat 11111",
  "participant.removed": "participant change in chat 11111",
};

describe("linqEventTypes", () => {
  it("lists the 13 documented event types", () => {
    expect(linqEventTypes).toHaveLength(13);
    expect(new Set(linqEventTypes).size).toBe(13);
    expect(Object.keys(exampleEventsByType).sort()).toEqual([...linqEventTypes].sort());
    expect(isLinqEventType("message.received")).toBe(true);
    expect(isLinqEventType("message.deleted")).toBe(false);
    expect(isLinqEventType(42)).toBe(false);
  });
});

describe("parseWebhookEvent with the documented examples", () => {
  it.each(linqEventTypes)("parses the %s example from a string, a Buffer and parsed JSON", (eventType) => {
    const example = exampleEventsByType[eventType];
    const body = JSON.stringify(example);
    for (const input of [body, Buffer.from(body), new Uint8Array(Buffer.from(body)), clone(example)]) {
      const event = parseWebhookEvent(input);
      expect(event.known).toBe(true);
      expect(event.event_type).toBe(eventType);
      expect(event.event_id).toBe(example.event_id);
      expect(event.api_version).toBe("v2");
      expect(event.created_at).toBe(new Date(example.created_at).toISOString());
      expect(event.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(event.raw).toEqual(example);
      expect(describeEvent(event)).toBe(expectedSummaries[eventType]);
    }
  });

  it("normalises a message event", () => {
    const event = parseWebhookEvent(JSON.stringify(messageReceivedExample));
    if (!event.known || event.event_type !== "message.received") throw new Error("expected message.received");
    expect(event.created_at).toBe("2025-05-21T21:30:00.000Z");
    expect(event.data).toEqual({
      id: 27799380,
      chat_id: 324324,
      text: "Hello, how are you?",
      sent_at: "2025-05-21T21:30:00.000Z",
      is_read: false,
      from_phone: "+15551234567",
      service: "iMessage",
      reaction_id: null,
      chat_handles: [
        { identifier: "+15551234567", display_name: "John Doe", is_me: false },
        { identifier: "+15559876543", display_name: "Your Linq Number", is_me: true },
      ],
      attachments: [
        {
          id: "abc12345-1234-5678-9abc-def012345678",
          url: "https://storage.googleapis.com/linq-files/attachments/abc123.pdf",
          filename: "document.pdf",
          mime_type: "application/pdf",
        },
      ],
    });
    // raw is the body as received, ids and times untouched.
    expect((event.raw.data as Record<string, unknown>).id).toBe("27799380");
  });

  it("normalises message.read", () => {
    const event = parseWebhookEvent(exampleEventsByType["message.read"]);
    expect(event.data).toEqual({ id: 12345, chat_id: 67890, read_at: "2025-05-21T21:35:00.000Z" });
  });

  it("normalises call.completed", () => {
    const event = parseWebhookEvent(JSON.stringify(callCompletedExample));
    if (!event.known || event.event_type !== "call.completed") throw new Error("expected call.completed");
    expect(event.data.id).toBe(12345);
    expect(event.data.start_time).toBe("2025-05-21T21:00:00.000Z");
    expect(event.data.end_time).toBe("2025-05-21T21:05:30.000Z");
    expect(event.data.duration).toBe(330);
    expect(event.data.forwarded_from).toBeNull();
    expect(event.data.direction).toBe("inbound");
    expect(event.data.recording_data).toEqual({
      ...callCompletedExample.data.recording_data,
      id: 67890,
    });
  });

  it("normalises contact.created and contact.deleted", () => {
    const created = parseWebhookEvent(JSON.stringify(contactCreatedExample));
    if (!created.known || created.event_type !== "contact.created")
      throw new Error("expected contact.created");
    expect(created.data).toEqual({
      ...contactCreatedExample.data,
      created_at: "2025-07-30T16:00:00.000Z",
      updated_at: "2025-07-30T16:00:00.000Z",
    });
    expect(created.data.contact_owner?.id).toBe(456);
    const deleted = parseWebhookEvent(
      JSON.stringify({ ...exampleEventsByType["contact.deleted"], data: { id: "123" } }),
    );
    expect(deleted.data).toEqual({ id: 123 });
  });

  it("normalises reactions", () => {
    const event = parseWebhookEvent(JSON.stringify(reactionReceivedExample));
    if (!event.known || event.event_type !== "reaction.received")
      throw new Error("expected reaction.received");
    expect(event.data).toMatchObject({
      id: 12346,
      chat_message_id: 67891,
      chat_id: 11111,
      reaction: "like",
      is_from_me: false,
      sent_at: "2025-07-10T21:31:00.000Z",
      created_at: "2025-07-10T21:31:00.000Z",
      chat_handle: { id: 22223, identifier: "+15551234567" },
      associated_message: {
        id: 67891,
        text: "I'm doing great, thanks!",
        sent_at: "2025-07-10T21:30:30.000Z",
      },
    });
    const sent = parseWebhookEvent(exampleEventsByType["reaction.sent"]);
    expect(sent.event_type).toBe("reaction.sent");
    expect(sent.data.is_from_me).toBe(true);
  });

  it("normalises typing indicators", () => {
    const received = parseWebhookEvent(exampleEventsByType["typing_indicator.received"]);
    expect(received.data).toMatchObject({
      chat_id: 11111,
      display: true,
      timestamp: "2025-07-10T21:32:00.000Z",
    });
    const removed = parseWebhookEvent(exampleEventsByType["typing_indicator.removed"]);
    expect(removed.data).toMatchObject({ chat_id: 11111, display: false });
  });

  it("accepts any object for the undocumented participant events", () => {
    const event = parseWebhookEvent(exampleEventsByType["participant.added"]);
    expect(event.data).toEqual({
      chat_id: 11111,
      chat_handle: { id: 22224, identifier: "+15557654321", display_name: "Alex Roe", is_me: false },
    });
    const odd = parseWebhookEvent({
      ...exampleEventsByType["participant.removed"],
      data: { chat_id: "not-a-number", handle: 42, something: { nested: [1, 2] } },
    });
    expect(odd.known).toBe(true);
    expect(odd.data).toEqual({ something: { nested: [1, 2] } });
    expect((odd.raw.data as Record<string, unknown>).chat_id).toBe("not-a-number");
  });
});

describe("parseWebhookEvent with the quick-start envelope", () => {
  it("flattens {message, chat} into the reference message shape", () => {
    const event = parseWebhookEvent(JSON.stringify(quickStartMessageReceivedExample));
    if (!event.known || event.event_type !== "message.received") throw new Error("expected message.received");
    expect(event.api_version).toBe("v2");
    expect(event.created_at).toBe("2025-10-22T10:31:00.000Z");
    expect(event.data).toMatchObject({
      id: 67891,
      chat_id: 12345,
      text: "Thanks! This is my reply.",
      sent_at: "2025-10-22T10:31:00.000Z",
      from_phone: "+15551234567",
      sent_from: "+15551234567",
      service: "iMessage",
      chat: { id: 12345, display_name: "+1 (555) 123-4567", service: "iMessage" },
    });
    expect(event.raw).toEqual(quickStartMessageReceivedExample);
  });

  it("derives a deterministic event id from the canonical body, equal for duplicate deliveries", () => {
    const body = JSON.stringify(quickStartMessageReceivedExample);
    const expected = `derived-${createHash("sha256").update(canonicalizeJson(quickStartMessageReceivedExample)).digest("hex")}`;
    const first = parseWebhookEvent(body);
    expect(first.event_id).toBe(expected);
    const reordered = `{"timestamp":"2025-10-22T10:31:00Z", "data": ${JSON.stringify(quickStartMessageReceivedExample.data, null, 2)}, "event":"message.received"}`;
    expect(parseWebhookEvent(reordered).event_id).toBe(expected);
    const other = clone(quickStartMessageReceivedExample);
    other.data.message.id = 67892;
    expect(parseWebhookEvent(other).event_id).not.toBe(expected);
  });

  it("takes chat_id from the chat when the message has none and keeps a given event_id", () => {
    const body = clone(quickStartMessageReceivedExample) as Record<string, unknown> &
      typeof quickStartMessageReceivedExample;
    delete (body.data.message as Partial<typeof body.data.message>).chat_id;
    body.event_id = "evt_1";
    const event = parseWebhookEvent(body);
    expect(event.event_id).toBe("evt_1");
    expect(event.data.chat_id).toBe(12345);
  });

  it("reports quick-start envelope problems by their own field names", () => {
    const error = expectPayloadError(() => parseWebhookEvent({ event: "message.received", data: {} }));
    expect(issueFields(error)).toContain("timestamp");
    const invalid = expectPayloadError(() =>
      parseWebhookEvent({ ...quickStartMessageReceivedExample, data: { message: { text: "no ids" } } }),
    );
    expect(issueFields(invalid)).toEqual(expect.arrayContaining(["data.id", "data.chat_id"]));
  });
});

describe("parseWebhookEvent leniency", () => {
  it("preserves unknown event types instead of rejecting them", () => {
    const body = {
      api_version: "v2",
      created_at: "2025-08-01 12:00:00 +0000",
      data: { chat_id: "55", anything: ["goes", { here: true }] },
      event_id: "evt_new",
      event_type: "chat.archived",
    };
    const event = parseWebhookEvent(JSON.stringify(body));
    expect(event).toEqual({
      known: false,
      event_id: "evt_new",
      event_type: "chat.archived",
      api_version: "v2",
      created_at: "2025-08-01T12:00:00.000Z",
      data: body.data,
      raw: body,
    });
    expect(describeEvent(event)).toBe("unknown chat.archived");
  });

  it("preserves undocumented fields at every level", () => {
    const body = clone(messageReceivedExample) as typeof messageReceivedExample & { extra_envelope: number };
    const data = body.data as Record<string, unknown>;
    data.new_field = { nested: ["value"] };
    data.delivery_status = "carrier_filtered";
    (data.chat_handles as Record<string, unknown>[])[0]!.avatar_url = "https://example.com/a.png";
    (data.attachments as Record<string, unknown>[])[0]!.width = 640;
    body.extra_envelope = 1;
    const event = parseWebhookEvent(body);
    expect(event.data).toMatchObject({
      new_field: { nested: ["value"] },
      delivery_status: "carrier_filtered",
      chat_handles: [expect.objectContaining({ avatar_url: "https://example.com/a.png" }), expect.anything()],
      attachments: [expect.objectContaining({ width: 640 })],
    });
    expect(event.raw.extra_envelope).toBe(1);
  });

  it("accepts integer ids as numbers, REST-style", () => {
    const body = clone(messageReceivedExample);
    const event = parseWebhookEvent({ ...body, data: { ...body.data, id: 27799380, chat_id: 324324 } });
    expect(event.data).toMatchObject({ id: 27799380, chat_id: 324324 });
  });

  it("accepts a UTF-8 byte order mark", () => {
    const event = parseWebhookEvent(`\uFEFF${JSON.stringify(messageReceivedExample)}`);
    expect(event.event_type).toBe("message.received");
  });
});

describe("parseWebhookEvent errors", () => {
  it("rejects bodies that are not JSON", () => {
    for (const input of ["", "not json", "{", Buffer.from("{'a':1}")]) {
      const error = expectPayloadError(() => parseWebhookEvent(input));
      expect(error.issues[0]?.code).toBe("invalid_json");
      expect(error.status).toBe(400);
      expect(error.isRetryable).toBe(false);
    }
  });

  it("rejects bytes that are not UTF-8", () => {
    const error = expectPayloadError(() => parseWebhookEvent(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])));
    expect(error.issues[0]?.code).toBe("invalid_encoding");
  });

  it("rejects JSON that is not an object", () => {
    for (const input of ["[]", "null", "42", '"text"', [messageReceivedExample], null, 7]) {
      const error = expectPayloadError(() => parseWebhookEvent(input));
      expect(error.message).toMatch(/JSON object/);
    }
  });

  it("names every missing envelope field", () => {
    const error = expectPayloadError(() => parseWebhookEvent({ api_version: "v2" }));
    expect(issueFields(error).sort()).toEqual(["created_at", "data", "event_id", "event_type"]);
    const wrongTypes = expectPayloadError(() =>
      parseWebhookEvent({ event_type: "", event_id: true, created_at: "soon", data: [], api_version: {} }),
    );
    expect(issueFields(wrongTypes).sort()).toEqual([
      "api_version",
      "created_at",
      "data",
      "event_id",
      "event_type",
    ]);
  });

  it("names the invalid fields of a documented event's data", () => {
    const body = clone(messageReceivedExample);
    const data = body.data as Record<string, unknown>;
    data.id = "abc";
    data.sent_at = "last tuesday";
    (data.chat_handles as Record<string, unknown>[])[1]!.is_me = "yes";
    delete data.chat_id;
    const error = expectPayloadError(() => parseWebhookEvent(JSON.stringify(body)));
    expect(issueFields(error).sort()).toEqual([
      "data.chat_handles.1.is_me",
      "data.chat_id",
      "data.id",
      "data.sent_at",
    ]);
    expect(error.message).toContain("message.received");
    expect(error.message).toContain("data.id");
  });

  it("rejects ids that are not safe integers", () => {
    for (const id of ["12.5", "-3", "99999999999999999999", "", " ", 1.5, true]) {
      const body = { ...exampleEventsByType["contact.deleted"], data: { id } };
      expect(issueFields(expectPayloadError(() => parseWebhookEvent(body)))).toEqual(["data.id"]);
    }
  });

  it("requires the reaction of reaction events", () => {
    const body = clone(reactionReceivedExample) as { data: Record<string, unknown> };
    delete body.data.reaction;
    expect(issueFields(expectPayloadError(() => parseWebhookEvent(body)))).toEqual(["data.reaction"]);
  });

  it("safeParseWebhookEvent returns the error instead of throwing", () => {
    const failure = safeParseWebhookEvent("nope");
    expect(failure.success).toBe(false);
    if (!failure.success) expect(failure.error).toBeInstanceOf(WebhookPayloadError);
    const success = safeParseWebhookEvent(JSON.stringify(messageReceivedExample));
    expect(success.success).toBe(true);
    if (success.success) expect(success.event.event_type).toBe("message.received");
  });
});

describe("maxEventAgeSeconds", () => {
  const createdAt = Date.parse(messageReceivedExample.created_at);

  it("accepts events younger than the limit and any event when unset", () => {
    const now = new Date(createdAt + 299_000);
    expect(parseWebhookEvent(messageReceivedExample, { maxEventAgeSeconds: 300, now }).event_type).toBe(
      "message.received",
    );
    expect(parseWebhookEvent(messageReceivedExample, { now: new Date(createdAt + 10 ** 12) }).known).toBe(
      true,
    );
    // Clock skew: an event from the near future is not "old".
    expect(
      parseWebhookEvent(messageReceivedExample, {
        maxEventAgeSeconds: 300,
        now: new Date(createdAt - 60_000),
      }).known,
    ).toBe(true);
  });

  it("rejects older events", () => {
    const error = expectPayloadError(() =>
      parseWebhookEvent(messageReceivedExample, {
        maxEventAgeSeconds: 300,
        now: new Date(createdAt + 301_000),
      }),
    );
    expect(error.issues).toEqual([expect.objectContaining({ field: "created_at", code: "event_too_old" })]);
    const quickStart = expectPayloadError(() =>
      parseWebhookEvent(quickStartMessageReceivedExample, {
        maxEventAgeSeconds: 1,
        now: new Date("2026-01-01T00:00:00Z"),
      }),
    );
    expect(issueFields(quickStart)).toEqual(["timestamp"]);
  });

  it("refuses a meaningless limit", () => {
    for (const maxEventAgeSeconds of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => parseWebhookEvent(messageReceivedExample, { maxEventAgeSeconds })).toThrow(
        ConfigurationError,
      );
    }
  });
});

describe("parseWebhookEvent properties", () => {
  const examples = Object.values(exampleEventsByType).concat([quickStartMessageReceivedExample as never]);

  function onlyPayloadErrors(input: unknown): boolean {
    try {
      const event = parseWebhookEvent(input);
      return typeof event.event_type === "string" && typeof event.created_at === "string";
    } catch (error) {
      if (error instanceof WebhookPayloadError) return error.issues.length > 0;
      throw error;
    }
  }

  /** Every path to a value inside `value`. */
  function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
    const result: (string | number)[][] = [prefix];
    if (Array.isArray(value)) {
      for (const [index, item] of value.entries()) result.push(...paths(item, [...prefix, index]));
    } else if (value !== null && typeof value === "object") {
      for (const [key, item] of Object.entries(value)) result.push(...paths(item, [...prefix, key]));
    }
    return result;
  }

  function replaceAt(
    root: unknown,
    path: (string | number)[],
    replacement: unknown,
    remove: boolean,
  ): unknown {
    if (path.length === 0) return replacement;
    const copy = clone(root) as Record<string | number, unknown>;
    let parent = copy;
    for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
    const last = path[path.length - 1] as string | number;
    if (remove && !Array.isArray(parent)) delete parent[last];
    else parent[last] = replacement;
    return copy;
  }

  it("only ever throws WebhookPayloadError for arbitrary bytes", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), onlyPayloadErrors));
  });

  it("only ever throws WebhookPayloadError for arbitrary strings", () => {
    fc.assert(fc.property(fc.string({ maxLength: 512 }), onlyPayloadErrors));
  });

  it("only ever throws WebhookPayloadError for arbitrary JSON, as text or parsed", () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        (value) => onlyPayloadErrors(value) && onlyPayloadErrors(JSON.stringify(value)),
      ),
    );
  });

  it("only ever throws WebhookPayloadError for arbitrary envelopes", () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            api_version: fc.jsonValue(),
            created_at: fc.oneof(fc.jsonValue(), fc.constant("2025-05-21 15:30:00 -0600")),
            data: fc.oneof(fc.jsonValue(), fc.dictionary(fc.string(), fc.jsonValue())),
            event_id: fc.jsonValue(),
            event_type: fc.oneof(fc.constantFrom(...linqEventTypes), fc.string()),
            event: fc.jsonValue(),
            timestamp: fc.jsonValue(),
          },
          { requiredKeys: [] },
        ),
        (body) => onlyPayloadErrors(body) && onlyPayloadErrors(JSON.stringify(body)),
      ),
    );
  });

  it("only ever throws WebhookPayloadError for mutated documented events", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...examples),
        fc.nat(),
        fc.oneof(fc.jsonValue(), fc.constantFrom("", "12", "2025-05-21 15:30:00 -0600", null, -1, 1e21)),
        fc.boolean(),
        (example, pathIndex, replacement, remove) => {
          const allPaths = paths(example);
          const path = allPaths[pathIndex % allPaths.length] ?? [];
          const mutated = replaceAt(example, path, replacement, remove);
          return onlyPayloadErrors(mutated) && onlyPayloadErrors(JSON.stringify(mutated));
        },
      ),
    );
  });

  it("only ever throws WebhookPayloadError for extremely deep nesting", () => {
    const deep = `{"event":"message.received","timestamp":"2025-10-22T10:31:00Z","data":{"x":${"[".repeat(100_000)}${"]".repeat(100_000)}}}`;
    expect(onlyPayloadErrors(deep)).toBe(true);
  });
});
