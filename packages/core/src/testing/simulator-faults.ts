/**
 * Fault injection: rules that make matching requests fail the ways real
 * infrastructure does (429, 500, 502, latency, dropped connections, timeouts).
 */
import { ConfigurationError } from "../errors.ts";
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

interface ActiveFault {
  rule: FaultRule;
  remaining: number;
  hits: number;
  removed: boolean;
}

/** The injected faults, checked in the order they were injected. */
export class FaultRegistry {
  private faults: ActiveFault[] = [];

  /** Adds a fault; see {@link FaultRule}. Throws ConfigurationError for an invalid rule. */
  inject(rule: FaultRule): FaultHandle {
    validateRule(rule);
    const fault: ActiveFault = {
      rule,
      remaining: rule.times ?? Number.POSITIVE_INFINITY,
      hits: 0,
      removed: false,
    };
    this.faults.push(fault);
    return {
      get hits() {
        return fault.hits;
      },
      remove: () => {
        fault.removed = true;
        this.faults = this.faults.filter((candidate) => candidate !== fault);
      },
    };
  }

  clear(): void {
    for (const fault of this.faults) fault.removed = true;
    this.faults = [];
  }

  /** The first fault matching the request that has uses left (and uses one), if any. */
  take(method: string, path: string): AppliedFault | undefined {
    for (const fault of this.faults) {
      if (fault.removed || fault.remaining <= 0 || !matches(fault.rule, method, path)) continue;
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

function matches(rule: FaultRule, method: string, path: string): boolean {
  const match = rule.match;
  if (match === undefined) return true;
  if (match.method !== undefined && match.method.toUpperCase() !== method.toUpperCase()) return false;
  if (match.path === undefined) return true;
  if (typeof match.path === "string") return match.path === path;
  match.path.lastIndex = 0;
  return match.path.test(path);
}

function validateRule(rule: FaultRule): void {
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
