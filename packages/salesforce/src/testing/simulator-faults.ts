/**
 * Fault injection of the Salesforce simulator: rules that make matching requests fail the ways
 * Salesforce and the network do (500, 503, 429, REQUEST_LIMIT_EXCEEDED, an expired session, latency,
 * timeouts, dropped connections), checked in the order they were injected, on the shared registry of
 * `@linq-connect/core/testing`.
 */
import { matchesMethodAndPath, SimulatorFaultRegistry } from "@linq-connect/core/testing";
import type { SalesforceFaultHandle, SalesforceFaultKind, SalesforceFaultRule } from "./simulator-types.ts";

const FAULT_KINDS: readonly SalesforceFaultKind[] = [
  "server-error",
  "service-unavailable",
  "rate-limit",
  "request-limit",
  "session-expired",
  "latency",
  "timeout",
  "drop-connection",
  "drop-after-processing",
];

export interface AppliedFault {
  kind: SalesforceFaultKind;
  retryAfterSeconds: number;
  latencyMs: number;
}

export class FaultRegistry {
  private readonly registry = new SimulatorFaultRegistry<
    SalesforceFaultRule,
    { method: string; path: string }
  >({ kinds: FAULT_KINDS, matches: matchesMethodAndPath });

  inject(rule: SalesforceFaultRule): SalesforceFaultHandle {
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
