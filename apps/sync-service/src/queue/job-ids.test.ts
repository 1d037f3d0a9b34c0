import { describe, expect, it } from "vitest";
import { connectorJobId, eventJobId, isUuid, nameBasedUuid } from "./job-ids.ts";

const dnsNamespace = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";

describe("nameBasedUuid", () => {
  it("matches the RFC 9562 version 5 algorithm (Python's uuid5(NAMESPACE_DNS, 'python.org'))", () => {
    expect(nameBasedUuid(dnsNamespace, "python.org")).toBe("886313e1-3b8a-5372-9b90-0c9aee199e5d");
  });

  it("sets the version and variant bits", () => {
    const id = nameBasedUuid(dnsNamespace, "anything");
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("rejects a namespace that is not a UUID", () => {
    expect(() => nameBasedUuid("not-a-uuid", "x")).toThrow(TypeError);
  });
});

describe("eventJobId", () => {
  it("is the same for the same event and connector, and a UUID", () => {
    const first = eventJobId("evt_123", "slack");
    expect(eventJobId("evt_123", "slack")).toBe(first);
    expect(isUuid(first)).toBe(true);
  });

  it("differs per connector and per event", () => {
    expect(eventJobId("evt_123", "slack")).not.toBe(eventJobId("evt_123", "hubspot"));
    expect(eventJobId("evt_123", "slack")).not.toBe(eventJobId("evt_124", "slack"));
  });

  it("never equals a connector job id built from the same strings", () => {
    expect(eventJobId("evt_123", "slack")).not.toBe(connectorJobId("slack", "evt_123"));
  });

  it("rejects empty parts", () => {
    expect(() => eventJobId("", "slack")).toThrow(TypeError);
    expect(() => eventJobId("evt_1", "")).toThrow(TypeError);
  });
});

describe("connectorJobId", () => {
  it("is deterministic per connector and deduplication key", () => {
    expect(connectorJobId("hubspot", "contact:42")).toBe(connectorJobId("hubspot", "contact:42"));
    expect(connectorJobId("hubspot", "contact:42")).not.toBe(connectorJobId("salesforce", "contact:42"));
    expect(() => connectorJobId("hubspot", "")).toThrow(TypeError);
  });
});
