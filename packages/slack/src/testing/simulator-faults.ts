/**
 * Fault injection of the Slack simulator: rules that make matching Web API methods fail the ways real
 * infrastructure does (429, 5xx, latency, dropped connections, timeouts), on the shared registry of
 * `@linq-connect/core/testing`. Faults apply before authentication.
 */
import { SimulatorFaultRegistry } from "@linq-connect/core/testing";
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

/** `match.method`: a Web API method name, or a RegExp tested against it. */
function matchesMethod(rule: SlackFaultRule, method: string): boolean {
  const wanted = rule.match?.method;
  if (wanted === undefined) return true;
  if (typeof wanted === "string") return wanted === method;
  wanted.lastIndex = 0;
  return wanted.test(method);
}

export class FaultRegistry {
  private readonly registry = new SimulatorFaultRegistry<SlackFaultRule, string>({
    kinds: FAULT_KINDS,
    matches: matchesMethod,
  });

  /** Adds a fault. Throws ConfigurationError for an invalid rule. */
  inject(rule: SlackFaultRule): SlackFaultHandle {
    return this.registry.inject(rule);
  }

  clear(): void {
    this.registry.clear();
  }

  /** The first fault matching `method` with uses left (using one), if any. */
  take(method: string): AppliedFault | undefined {
    const rule = this.registry.take(method);
    if (rule === undefined) return undefined;
    return {
      kind: rule.kind,
      retryAfterSeconds: rule.retryAfterSeconds ?? 1,
      latencyMs: rule.latencyMs ?? 500,
    };
  }
}
