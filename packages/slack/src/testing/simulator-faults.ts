/**
 * Fault injection: rules that make matching requests fail the ways real
 * infrastructure does (429, 5xx, latency, dropped connections, timeouts).
 * Rules are checked in the order they were injected; faults apply before
 * authentication.
 */
import { ConfigurationError } from "@linq-connect/core";
import type { SlackFaultHandle, SlackFaultKind, SlackFaultRule } from "./simulator-types.ts";

const FAULT_KINDS: readonly SlackFaultKind[] = [
  "rate-limit",
  "server-error",
  "bad-gateway",
  "latency",
  "timeout",
  "drop-connection",
  "drop-after-processing",
];

/** A fault resolved for one request. */
export interface AppliedFault {
  kind: SlackFaultKind;
  retryAfterSeconds: number;
  latencyMs: number;
}

interface ActiveFault {
  rule: SlackFaultRule;
  remaining: number;
  hits: number;
}

export class FaultRegistry {
  private faults: ActiveFault[] = [];

  /** Adds a fault. Throws ConfigurationError for an invalid rule. */
  inject(rule: SlackFaultRule): SlackFaultHandle {
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

  /** The first fault matching `method` with uses left (using one), if any. */
  take(method: string): AppliedFault | undefined {
    for (const fault of this.faults) {
      if (fault.remaining <= 0 || !matches(fault.rule, method)) continue;
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

function matches(rule: SlackFaultRule, method: string): boolean {
  const wanted = rule.match?.method;
  if (wanted === undefined) return true;
  if (typeof wanted === "string") return wanted === method;
  wanted.lastIndex = 0;
  return wanted.test(method);
}

function validateRule(rule: SlackFaultRule): void {
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
    throw new ConfigurationError("Fault retryAfterSeconds must be a non-negative integer (whole seconds)");
  }
  if (rule.latencyMs !== undefined && !(Number.isFinite(rule.latencyMs) && rule.latencyMs >= 0)) {
    throw new ConfigurationError("Fault latencyMs must be a non-negative number");
  }
}
