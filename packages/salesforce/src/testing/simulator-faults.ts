/**
 * Fault injection: rules that make matching requests fail the ways Salesforce
 * and the network do, checked in the order they were injected.
 */
import { ConfigurationError } from "@linq-connect/core";
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

interface ActiveFault {
  rule: SalesforceFaultRule;
  remaining: number;
  hits: number;
}

export class FaultRegistry {
  private faults: ActiveFault[] = [];

  inject(rule: SalesforceFaultRule): SalesforceFaultHandle {
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

  take(method: string, path: string): AppliedFault | undefined {
    for (const fault of this.faults) {
      if (fault.remaining <= 0 || !matches(fault.rule, method, path)) continue;
      fault.remaining -= 1;
      fault.hits += 1;
      if (fault.remaining <= 0) this.faults = this.faults.filter((candidate) => candidate !== fault);
      return {
        kind: fault.rule.kind,
        retryAfterSeconds: fault.rule.retryAfterSeconds ?? 1,
        latencyMs: fault.rule.latencyMs ?? 500,
      };
    }
    return undefined;
  }
}

function matches(rule: SalesforceFaultRule, method: string, path: string): boolean {
  const match = rule.match;
  if (match === undefined) return true;
  if (match.method !== undefined && match.method.toUpperCase() !== method.toUpperCase()) return false;
  if (match.path === undefined) return true;
  if (typeof match.path === "string") return match.path === path;
  match.path.lastIndex = 0;
  return match.path.test(path);
}

function validateRule(rule: SalesforceFaultRule): void {
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
      "Fault retryAfterSeconds must be a non-negative integer (HTTP Retry-After is whole seconds)",
    );
  }
  if (rule.latencyMs !== undefined && !(Number.isFinite(rule.latencyMs) && rule.latencyMs >= 0)) {
    throw new ConfigurationError("Fault latencyMs must be a non-negative number");
  }
}
