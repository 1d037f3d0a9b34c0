import { describe, expect, it } from "vitest";
import { ConfigurationError } from "../errors.ts";
import { matchesMethodAndPath, SimulatorFaultRegistry } from "./fault-registry.ts";

interface Rule {
  kind: "boom" | "slow";
  match?: { method?: string; path?: string | RegExp };
  times?: number;
  retryAfterSeconds?: number;
  latencyMs?: number;
}

const registry = () =>
  new SimulatorFaultRegistry<Rule, { method: string; path: string }>({
    kinds: ["boom", "slow"],
    matches: matchesMethodAndPath,
  });

describe("SimulatorFaultRegistry", () => {
  it("applies rules in injection order, each to at most `times` matching requests", () => {
    const faults = registry();
    const first = faults.inject({ kind: "boom", times: 1, match: { method: "post" } });
    faults.inject({ kind: "slow", match: { path: /^\/contacts/ } });
    expect(faults.take({ method: "GET", path: "/other" })).toBeUndefined();
    expect(faults.take({ method: "POST", path: "/contacts" })?.kind).toBe("boom");
    expect(faults.take({ method: "POST", path: "/contacts" })?.kind).toBe("slow");
    expect(first.hits).toBe(1);
  });

  it("stops a removed or cleared rule", () => {
    const faults = registry();
    const handle = faults.inject({ kind: "boom" });
    handle.remove();
    expect(faults.take({ method: "GET", path: "/" })).toBeUndefined();
    faults.inject({ kind: "slow" });
    faults.clear();
    expect(faults.take({ method: "GET", path: "/" })).toBeUndefined();
  });

  it("refuses unknown kinds and bad numbers", () => {
    const faults = registry();
    expect(() => faults.inject({ kind: "nope" as never })).toThrow(
      /Unknown fault kind "nope"; expected one of boom, slow/,
    );
    expect(() => faults.inject({ kind: "boom", times: -1 })).toThrow(ConfigurationError);
    expect(() => faults.inject({ kind: "boom", retryAfterSeconds: 1.5 })).toThrow(/whole seconds/);
    expect(() => faults.inject({ kind: "slow", latencyMs: Number.NaN })).toThrow(/latencyMs/);
  });
});
