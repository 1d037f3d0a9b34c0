/**
 * Fault injection of the HubSpot simulator: rules that make matching requests fail the ways real
 * infrastructure does (429 with a policy, 500, 502, latency, timeouts, dropped connections), on the
 * shared registry of `@linq-connect/core/testing`.
 */
import { ConfigurationError } from "@linq-connect/core";
import { matchesMethodAndPath, SimulatorFaultRegistry } from "@linq-connect/core/testing";
import type { HubSpotFaultHandle, HubSpotFaultKind, HubSpotFaultRule } from "./simulator-types.ts";

const FAULT_KINDS: readonly HubSpotFaultKind[] = [
  "rate-limit",
  "server-error",
  "bad-gateway",
  "latency",
  "timeout",
  "drop-connection",
  "drop-after-processing",
];

const POLICIES = ["TEN_SECONDLY_ROLLING", "SECONDLY", "DAILY"] as const;

/** A fault resolved for one request. */
export interface AppliedFault {
  kind: HubSpotFaultKind;
  retryAfterSeconds: number | undefined;
  latencyMs: number;
  policy: (typeof POLICIES)[number];
}

export class FaultRegistry {
  private readonly registry = new SimulatorFaultRegistry<HubSpotFaultRule, { method: string; path: string }>({
    kinds: FAULT_KINDS,
    matches: matchesMethodAndPath,
    validate: (rule) => {
      if (rule.policy !== undefined && !POLICIES.includes(rule.policy)) {
        throw new ConfigurationError(`Fault policy must be one of ${POLICIES.join(", ")}`);
      }
    },
  });

  /** Adds a fault. Throws ConfigurationError for an invalid rule. */
  inject(rule: HubSpotFaultRule): HubSpotFaultHandle {
    return this.registry.inject(rule);
  }

  clear(): void {
    this.registry.clear();
  }

  /** The first matching fault with uses left (and uses one), if any. */
  take(method: string, path: string): AppliedFault | undefined {
    const rule = this.registry.take({ method, path });
    if (rule === undefined) return undefined;
    return {
      kind: rule.kind,
      retryAfterSeconds: rule.retryAfterSeconds,
      latencyMs: rule.latencyMs ?? 500,
      policy: rule.policy ?? "TEN_SECONDLY_ROLLING",
    };
  }
}
