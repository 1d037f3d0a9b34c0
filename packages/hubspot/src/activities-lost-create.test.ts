import { afterEach, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "./connector-harness.test-helpers.ts";
import { ACTIVITY_MAPPING, CALL_MAPPING, DIGEST_MAPPING } from "./mappings.ts";

/** The outcomes of the runner's attempts at the Linq events of one type. */
function outcomes(harness: Harness, eventType: string): string[] {
  return harness.runner.handled
    .filter((entry) => entry.item.kind === "event" && entry.item.event.event_type === eventType)
    .map((entry) => entry.outcome);
}

function requestsTo(harness: Harness, method: string, path: RegExp): number {
  return harness.hubspot.requests.filter((request) => request.method === method && path.test(request.path))
    .length;
}

const COMMUNICATION_CREATE = /\/crm\/v3\/objects\/communications$/;
const COMMUNICATION_SEARCH = /\/crm\/v3\/objects\/communications\/search$/;
const CALL_CREATE = /\/crm\/v3\/objects\/calls$/;

describe("an activity create whose answer was lost (HubSpot has no idempotency key)", () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it.each([
    { lag: "no search lag", searchIndexLagMs: 0 },
    { lag: "search lagging 2.5 s", searchIndexLagMs: 2_500 },
  ])(
    "a message's Communication processed but its answer dropped is found again, not logged twice ($lag)",
    async ({ searchIndexLagMs }) => {
      harness = await startHarness({ hubspot: { searchIndexLagMs } });
      const { hubspot, linqSimulator } = harness;
      // The normal path: one create, no search.
      await linqSimulator.inbound.text({ from: "+15551234567", text: "First" });
      await harness.settle();
      expect(requestsTo(harness, "POST", COMMUNICATION_CREATE)).toBe(1);
      expect(requestsTo(harness, "POST", COMMUNICATION_SEARCH)).toBe(0);

      hubspot.faults.inject({
        match: { method: "POST", path: COMMUNICATION_CREATE },
        kind: "drop-after-processing",
        times: 1,
      });
      await linqSimulator.inbound.text({ from: "+15551234567", text: "Is my order ready?" });
      await harness.settle();

      const communications = hubspot.state.communications();
      expect(communications).toHaveLength(2);
      const second = communications[1];
      expect(second?.properties.hs_communication_body).toContain("Is my order ready?");
      // One create for it (the dropped one): the retry searched and adopted it.
      expect(requestsTo(harness, "POST", COMMUNICATION_CREATE)).toBe(2);
      expect(requestsTo(harness, "POST", COMMUNICATION_SEARCH)).toBeGreaterThanOrEqual(1);
      const [contact] = hubspot.state.contacts();
      expect(hubspot.state.associations("contacts", contact?.id ?? "", "communications")).toHaveLength(2);
      const mappings = harness.store.all(ACTIVITY_MAPPING);
      expect(mappings).toHaveLength(2);
      expect(mappings.map((mapping) => mapping.metadata.communicationId)).toContain(second?.id);
      const attempts = outcomes(harness, "message.received");
      expect(attempts.slice(0, 2)).toEqual(["ok", "retry"]);
      expect(attempts.at(-1)).toBe("ok");
      if (searchIndexLagMs > 0)
        expect(attempts.filter((outcome) => outcome === "retry").length).toBeGreaterThan(1);
      expect(harness.runner.deadLetters).toEqual([]);
    },
    20_000,
  );

  it("a plain 500 before processing: the retry waits out the search lag window, then logs it once", async () => {
    let offset = 0;
    harness = await startHarness({ connector: { now: () => new Date(Date.now() + offset) } });
    const { hubspot, linqSimulator } = harness;
    hubspot.faults.inject({
      match: { method: "POST", path: COMMUNICATION_CREATE },
      kind: "server-error",
      times: 1,
    });
    await linqSimulator.inbound.text({ from: "+15551234567", text: "Hello" });
    // The 500 may have created it: while search could still lag, nothing is created again…
    while (outcomes(harness, "message.received").length < 3)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(hubspot.state.communications()).toHaveLength(0);
    expect(requestsTo(harness, "POST", COMMUNICATION_CREATE)).toBe(1);
    expect(requestsTo(harness, "POST", COMMUNICATION_SEARCH)).toBeGreaterThanOrEqual(2);
    // …and once a minute has passed without search showing it, the retry creates it.
    offset = 61_000;
    await harness.settle();
    expect(hubspot.state.communications()).toHaveLength(1);
    expect(requestsTo(harness, "POST", COMMUNICATION_CREATE)).toBe(2);
    expect(harness.store.all(ACTIVITY_MAPPING)).toHaveLength(1);
    expect(outcomes(harness, "message.received").at(-1)).toBe("ok");
    // The remembered failure is forgotten: the next message is a plain create again.
    const searches = requestsTo(harness, "POST", COMMUNICATION_SEARCH);
    await linqSimulator.inbound.text({ from: "+15551234567", text: "Again" });
    await harness.settle();
    expect(hubspot.state.communications()).toHaveLength(2);
    expect(requestsTo(harness, "POST", COMMUNICATION_SEARCH)).toBe(searches);
  }, 20_000);

  it("a call's Call engagement processed but its answer dropped, with search lagging: one Call", async () => {
    harness = await startHarness({ hubspot: { searchIndexLagMs: 2_500 } });
    const { hubspot, linqSimulator } = harness;
    hubspot.faults.inject({
      match: { method: "POST", path: CALL_CREATE },
      kind: "drop-after-processing",
      times: 1,
    });
    await linqSimulator.inbound.call({ from: "+15551234567", durationSeconds: 42 });
    await harness.settle();
    const calls = hubspot.state.calls();
    expect(calls).toHaveLength(1);
    expect(calls[0]?.properties.hs_call_duration).toBe("42000");
    expect(requestsTo(harness, "POST", CALL_CREATE)).toBe(1);
    expect(harness.store.all(CALL_MAPPING).map((mapping) => mapping.externalId)).toEqual([calls[0]?.id]);
    const [contact] = hubspot.state.contacts();
    expect(hubspot.state.associations("contacts", contact?.id ?? "", "calls")).toHaveLength(1);
    expect(outcomes(harness, "call.completed")[0]).toBe("retry");
    expect(outcomes(harness, "call.completed").at(-1)).toBe("ok");
  }, 20_000);

  it("daily-digest: a digest processed but its answer dropped is adopted and updated, not duplicated", async () => {
    harness = await startHarness({
      route: { activities: "daily-digest" },
      hubspot: { searchIndexLagMs: 1_000 },
    });
    const { hubspot, linqSimulator, linq } = harness;
    hubspot.faults.inject({
      match: { method: "POST", path: COMMUNICATION_CREATE },
      kind: "drop-after-processing",
      times: 1,
    });
    const { chat } = await linqSimulator.inbound.text({ from: "+15551234567", text: "First" });
    await harness.settle();
    await linq.sendMessage(chat.id, { text: "Second" });
    await harness.settle();
    const communications = hubspot.state.communications();
    expect(communications).toHaveLength(1);
    const body = communications[0]?.properties.hs_communication_body ?? "";
    expect(body).toContain("2 messages");
    expect(body).toContain("First");
    expect(body).toContain("Second");
    expect(requestsTo(harness, "POST", COMMUNICATION_CREATE)).toBe(1);
    expect(harness.store.all(DIGEST_MAPPING).map((mapping) => mapping.externalId)).toEqual([
      communications[0]?.id,
    ]);
    expect(harness.store.all(ACTIVITY_MAPPING)).toHaveLength(2);
  }, 20_000);
});
