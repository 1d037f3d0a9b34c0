/**
 * Fault injection: rules that make matching requests fail the ways real infrastructure does
 * (429, 500, 502, latency, timeouts, dropped connections). Checked in the order they were injected.
 */
import { ConfigurationError } from "@linq-connect/core";
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

interface ActiveFault {
  rule: HubSpotFaultRule;
  remaining: number;
  hits: number;
}

export class FaultRegistry {
  private faults: ActiveFault[] = [];

  /** Adds a fault. Throws ConfigurationError for an invalid rule. */
  inject(rule: HubSpotFaultRule): HubSpotFaultHandle {
    validateRule(rule);
    const fault: ActiveFault = { rule, remaining: rule.times ?? Number.POSITIVE_INFINITY, hits: 0 };
    this.faults.push(fault);
    return {
      get hits() {
        return fault.hits;
      },
      remove: () => {
        this.faults = this.faults.filter((candidate) => candidate !== fault);
      },
    };
  }

  clear(): void {
    this.faults = [];
  }

  /** The first matching fault with uses left (and uses one), if any. */
  take(method: string, path: string): AppliedFault | undefined {
    for (const fault of this.faults) {
      if (fault.remaining <= 0 || !matches(fault.rule, method, path)) continue;
      fault.remaining -= 1;
      fault.hits += 1;
      if (fault.remaining <= 0) this.faults = this.faults.filter((candidate) => candidate !== fault);
      return {
        kind: fault.rule.kind,
        retryAfterSeconds: fault.rule.retryAfterSeconds,
        latencyMs: fault.rule.latencyMs ?? 500,
        policy: fault.rule.policy ?? "TEN_SECONDLY_ROLLING",
      };
    }
    return undefined;
  }
}

function matches(rule: HubSpotFaultRule, method: string, path: string): boolean {
  const match = rule.match;
  if (match === undefined) return true;
  if (match.method !== undefined && match.method.toUpperCase() !== method.toUpperCase()) return false;
  if (match.path === undefined) return true;
  if (typeof match.path === "string") return match.path === path;
  match.path.lastIndex = 0;
  return match.path.test(path);
}

function validateRule(rule: HubSpotFaultRule): void {
  if (!FAULT_KINDS.includes(rule.kind)) {
    throw new ConfigurationError(
      `Unknown fault kind ${JSON.stringify(rule.kind)}; expected one of ${FAULT_KINDS.join(", ")}`,
    );
  }
  if (
    rule.times !== undefined &&
    !(rule.times === Number.POSITIVE_INFINITY || (Number.isInteger(rule.times) && rule.times >= 0))
  ) {
    throw new ConfigurationError("Fault times must be a non-negative integer or Infinity");
  }
  if (
    rule.retryAfterSeconds !== undefined &&
    !(Number.isInteger(rule.retryAfterSeconds) && rule.retryAfterSeconds >= 0)
  ) {
    throw new ConfigurationError(
      "Fault retryAfterSeconds must be a non-negative integer (Retry-After is whole seconds)",
    );
  }
  if (rule.latencyMs !== undefined && !(Number.isFinite(rule.latencyMs) && rule.latencyMs >= 0)) {
    throw new ConfigurationError("Fault latencyMs must be a non-negative number");
  }
  if (rule.policy !== undefined && !POLICIES.includes(rule.policy)) {
    throw new ConfigurationError(`Fault policy must be one of ${POLICIES.join(", ")}`);
  }
}
