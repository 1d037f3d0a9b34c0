/**
 * Fault injection of the Linq simulator: rules that make matching requests fail the ways real
 * infrastructure does (429, 500, 502, latency, dropped connections, timeouts), on the shared
 * {@link SimulatorFaultRegistry}.
 */
import { matchesMethodAndPath, SimulatorFaultRegistry } from "./fault-registry.ts";
import type { FaultHandle, FaultKind, FaultRule } from "./simulator-types.ts";

const FAULT_KINDS: readonly FaultKind[] = [
  "rate-limit",
  "server-error",
  "bad-gateway",
  "latency",
  "drop-connection",
  "drop-after-processing",
  "timeout",
];

/** A fault resolved for one request. */
export interface AppliedFault {
  kind: FaultKind;
  retryAfterSeconds: number;
  latencyMs: number;
}

/** The injected faults, checked in the order they were injected. */
export class FaultRegistry {
  private readonly registry = new SimulatorFaultRegistry<FaultRule, { method: string; path: string }>({
    kinds: FAULT_KINDS,
    matches: matchesMethodAndPath,
  });

  /** Adds a fault; see {@link FaultRule}. Throws ConfigurationError for an invalid rule. */
  inject(rule: FaultRule): FaultHandle {
    return this.registry.inject(rule);
  }

  clear(): void {
    this.registry.clear();
  }

  /** The first fault matching the request that has uses left (and uses one), if any. */
  take(method: string, path: string): AppliedFault | undefined {
    const rule = this.registry.take({ method, path });
    if (rule === undefined) return undefined;
    return {
      kind: rule.kind,
      retryAfterSeconds: rule.retryAfterSeconds ?? 1,
      latencyMs: rule.latencyMs ?? 500,
    };
  }
}
