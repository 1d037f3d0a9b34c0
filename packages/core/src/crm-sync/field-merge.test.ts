import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  changedSinceLastSync,
  isEchoOfLastSync,
  type MergeFieldsInput,
  mergeFieldsLastWriterWins,
  type SyncSide,
} from "./field-merge.ts";
import { sameFieldValue } from "./field-values.ts";

type Field = "first_name" | "email" | "phone_number";
const fields: readonly Field[] = ["first_name", "email", "phone_number"];
const kinds = { email: "email", phone_number: "phone" } as const;

const t1 = Date.parse("2026-01-15T12:00:00Z");
const t2 = t1 + 60_000;

describe("mergeFieldsLastWriterWins", () => {
  it("writes a change made on one side to the other, clearing included", () => {
    const result = mergeFieldsLastWriterWins<Field>({
      fields,
      kinds,
      lastSynced: { first_name: "Jane", email: "jane@example.com", phone_number: "+15551234567" },
      linq: { values: { first_name: "Janet", email: "jane@example.com", phone_number: "+15551234567" } },
      crm: { values: { first_name: "Jane", email: "", phone_number: "(555) 123-4567" } },
    });
    expect(result.toCrm).toEqual({ first_name: "Janet" });
    expect(result.toLinq).toEqual({ email: "" });
    expect(result.synced).toEqual({ first_name: "Janet", email: "", phone_number: "+15551234567" });
    expect(result.decisions.map((decision) => [decision.field, decision.outcome, decision.winner])).toEqual([
      ["first_name", "linq-changed", "linq"],
      ["email", "crm-changed", "crm"],
    ]);
  });

  it("gives a conflict to the later writer per field, and logs why", () => {
    const result = mergeFieldsLastWriterWins<Field>({
      fields,
      kinds,
      lastSynced: { first_name: "Jane", email: "jane@example.com" },
      linq: { values: { first_name: "Janet", email: "j1@example.com" }, updatedAt: t2 },
      crm: {
        values: { first_name: "Jenny", email: "j2@example.com" },
        fieldTimestamps: { first_name: t1, email: t2 + 1 },
      },
    });
    expect(result.toCrm).toEqual({ first_name: "Janet" });
    expect(result.toLinq).toEqual({ email: "j2@example.com" });
    const [first, email] = result.decisions;
    expect(first).toMatchObject({ outcome: "conflict", winner: "linq", linqTimestamp: t2, crmTimestamp: t1 });
    expect(first?.reason).toContain("Linq wrote later");
    expect(email).toMatchObject({ outcome: "conflict", winner: "crm" });
  });

  it("breaks ties and unknown timestamps with the tie breaker", () => {
    const input: MergeFieldsInput<Field> = {
      fields: ["first_name"],
      lastSynced: { first_name: "Jane" },
      linq: { values: { first_name: "Janet" }, updatedAt: t1 },
      crm: { values: { first_name: "Jenny" } },
    };
    expect(mergeFieldsLastWriterWins(input).toLinq).toEqual({ first_name: "Jenny" });
    expect(mergeFieldsLastWriterWins({ ...input, tieBreaker: "linq" }).toCrm).toEqual({
      first_name: "Janet",
    });
    expect(mergeFieldsLastWriterWins(input).decisions[0]?.reason).toContain("a timestamp is unknown");
  });

  it("on the first link fills empty sides and resolves differences by time", () => {
    const result = mergeFieldsLastWriterWins<Field>({
      fields,
      kinds,
      lastSynced: undefined,
      linq: { values: { first_name: "Jane", email: "", phone_number: "+15551234567" }, updatedAt: t1 },
      crm: {
        values: { first_name: "Janet", email: "jane@example.com", phone_number: "555-123-4567" },
        updatedAt: t2,
      },
    });
    expect(result.toLinq).toEqual({ first_name: "Janet", email: "jane@example.com" });
    expect(result.toCrm).toEqual({});
    expect(result.decisions.map((decision) => decision.outcome)).toEqual(["conflict", "first-link"]);
  });

  it("in one-way modes writes only in its direction", () => {
    const base = {
      fields,
      kinds,
      lastSynced: { first_name: "Jane", email: "jane@example.com" },
      linq: { values: { first_name: "Janet", email: "jane@example.com" }, updatedAt: t1 },
      crm: { values: { first_name: "Jane", email: "new@example.com" }, updatedAt: t2 },
    } satisfies MergeFieldsInput<Field>;
    const toCrm = mergeFieldsLastWriterWins<Field>({ ...base, direction: "linq-to-crm" });
    expect(toCrm.toCrm).toEqual({ first_name: "Janet" });
    expect(toCrm.toLinq).toEqual({});
    expect(toCrm.synced.email).toBe("jane@example.com"); // the old baseline: the CRM change stays unsynced
    expect(toCrm.decisions.find((decision) => decision.field === "email")?.outcome).toBe("ignored");
    const toLinq = mergeFieldsLastWriterWins<Field>({ ...base, direction: "crm-to-linq" });
    expect(toLinq.toLinq).toEqual({ email: "new@example.com" });
    expect(toLinq.toCrm).toEqual({});
  });

  it("writes nothing when both sides agree after normalisation", () => {
    const result = mergeFieldsLastWriterWins<Field>({
      fields,
      kinds,
      lastSynced: undefined,
      linq: { values: { email: "jane@example.com", phone_number: "+15551234567" } },
      crm: { values: { email: "JANE@example.com", phone_number: "(555) 123-4567" } },
    });
    expect(result).toMatchObject({ toCrm: {}, toLinq: {}, decisions: [] });
    expect(result.synced).toEqual({
      first_name: "",
      email: "jane@example.com",
      phone_number: "+15551234567",
    });
  });
});

describe("echo detection", () => {
  it("recognises our own last sync coming back", () => {
    const lastSynced = { first_name: "Jane", phone_number: "+15551234567" };
    expect(
      isEchoOfLastSync<Field>({
        fields: ["first_name", "phone_number"],
        kinds,
        current: { first_name: "Jane ", phone_number: "(555) 123-4567" },
        lastSynced,
      }),
    ).toBe(true);
    expect(
      changedSinceLastSync<Field>({
        fields: ["first_name", "phone_number", "email"],
        kinds,
        current: { first_name: "Janet", phone_number: "+15551234567", email: "" },
        lastSynced,
      }),
    ).toEqual(["first_name"]);
    expect(isEchoOfLastSync<Field>({ fields, current: {}, lastSynced: undefined })).toBe(false);
  });
});

// ------------------------------------------------------------------ properties

const valueArbitrary = fc.constantFrom("", "Jane", "Janet", "Jenny", " Jane ");
const timestampArbitrary = fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined });
const sideArbitrary = fc.record({
  value: valueArbitrary,
  timestamp: timestampArbitrary,
});
const scenarioArbitrary = fc.record({
  baseline: fc.option(valueArbitrary, { nil: undefined }),
  linq: sideArbitrary,
  crm: sideArbitrary,
  tieBreaker: fc.constantFrom<SyncSide>("linq", "crm"),
});

interface Scenario {
  baseline: string | undefined;
  linq: { value: string; timestamp: number | undefined };
  crm: { value: string; timestamp: number | undefined };
  tieBreaker: SyncSide;
}

function run(scenario: Scenario) {
  return mergeFieldsLastWriterWins<"name">({
    fields: ["name"],
    lastSynced: scenario.baseline === undefined ? undefined : { name: scenario.baseline },
    linq: { values: { name: scenario.linq.value }, updatedAt: scenario.linq.timestamp },
    crm: { values: { name: scenario.crm.value }, updatedAt: scenario.crm.timestamp },
    tieBreaker: scenario.tieBreaker,
  });
}

describe("mergeFieldsLastWriterWins (properties)", () => {
  it("converges: after the writes both sides hold the new baseline", () => {
    fc.assert(
      fc.property(scenarioArbitrary, (scenario) => {
        const result = run(scenario);
        const linqAfter = result.toLinq.name ?? scenario.linq.value;
        const crmAfter = result.toCrm.name ?? scenario.crm.value;
        expect(sameFieldValue("text", linqAfter, crmAfter)).toBe(true);
        expect(sameFieldValue("text", linqAfter, result.synced.name)).toBe(true);
        // Never writes both ways, and never writes a value a side already has.
        expect(result.toLinq.name !== undefined && result.toCrm.name !== undefined).toBe(false);
        if (result.toLinq.name !== undefined)
          expect(sameFieldValue("text", result.toLinq.name, scenario.linq.value)).toBe(false);
      }),
    );
  });

  it("is idempotent: merging again from the new baseline writes nothing (no echo loop)", () => {
    fc.assert(
      fc.property(scenarioArbitrary, (scenario) => {
        const first = run(scenario);
        const again = mergeFieldsLastWriterWins<"name">({
          fields: ["name"],
          lastSynced: first.synced,
          linq: { values: { name: first.toLinq.name ?? scenario.linq.value } },
          crm: { values: { name: first.toCrm.name ?? scenario.crm.value } },
        });
        expect(again.toLinq).toEqual({});
        expect(again.toCrm).toEqual({});
        expect(again.decisions).toEqual([]);
      }),
    );
  });

  it("is symmetric: swapping the sides swaps the writes", () => {
    fc.assert(
      fc.property(scenarioArbitrary, (scenario) => {
        const forward = run(scenario);
        const swapped = run({
          ...scenario,
          linq: scenario.crm,
          crm: scenario.linq,
          tieBreaker: scenario.tieBreaker === "linq" ? "crm" : "linq",
        });
        expect(swapped.toLinq).toEqual(forward.toCrm);
        expect(swapped.toCrm).toEqual(forward.toLinq);
      }),
    );
  });

  it("lets the later writer win every conflict, and an unchanged side never win against a change", () => {
    fc.assert(
      fc.property(scenarioArbitrary, (scenario) => {
        const result = run(scenario);
        const decision = result.decisions[0];
        if (decision === undefined) return;
        if (decision.outcome === "conflict") {
          const { timestamp: linqTime } = scenario.linq;
          const { timestamp: crmTime } = scenario.crm;
          if (linqTime !== undefined && crmTime !== undefined && linqTime !== crmTime) {
            expect(decision.winner).toBe(linqTime > crmTime ? "linq" : "crm");
          } else {
            expect(decision.winner).toBe(scenario.tieBreaker);
          }
        }
        if (
          scenario.baseline !== undefined &&
          sameFieldValue("text", scenario.crm.value, scenario.baseline)
        ) {
          expect(decision.winner).toBe("linq");
        }
      }),
    );
  });
});
