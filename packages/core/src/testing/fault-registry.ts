/**
 * The fault registry every simulator (Linq, Slack, HubSpot, Salesforce) injects faults into: rules
 * checked in the order they were injected, each affecting up to `times` matching requests, validated on
 * injection (an unknown kind or a bad number is a ConfigurationError naming it). A simulator decides
 * what a request is (`matches`) and what the rule does to it.
 */
import { ConfigurationError } from "../errors.ts";

/** What every simulator's fault rule has. */
export interface BaseFaultRule {
  kind: string;
  /** How many matching requests it affects. Default Infinity. */
  times?: number;
  retryAfterSeconds?: number;
  latencyMs?: number;
}

/** Returned by `faults.inject`. */
export interface InjectedFault {
  /** How many requests the fault has affected so far. */
  readonly hits: number;
  /** Stops the fault. */
  remove(): void;
}

interface ActiveFault<Rule> {
  rule: Rule;
  remaining: number;
  hits: number;
  removed: boolean;
}

export interface SimulatorFaultRegistryOptions<Rule extends BaseFaultRule, Request> {
  /** The kinds this simulator knows. */
  kinds: readonly Rule["kind"][];
  /** Whether a rule applies to a request. */
  matches(rule: Rule, request: Request): boolean;
  /** Extra checks of a rule (throw ConfigurationError). */
  validate?: ((rule: Rule) => void) | undefined;
}

export class SimulatorFaultRegistry<Rule extends BaseFaultRule, Request> {
  private faults: ActiveFault<Rule>[] = [];
  private readonly options: SimulatorFaultRegistryOptions<Rule, Request>;

  constructor(options: SimulatorFaultRegistryOptions<Rule, Request>) {
    this.options = options;
  }

  /** Adds a fault. Throws ConfigurationError for an invalid rule. */
  inject(rule: Rule): InjectedFault {
    validateBaseRule(rule, this.options.kinds);
    this.options.validate?.(rule);
    const fault: ActiveFault<Rule> = {
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

  /** The first rule matching the request that has uses left (and uses one), if any. */
  take(request: Request): Rule | undefined {
    for (const fault of this.faults) {
      if (fault.removed || fault.remaining <= 0 || !this.options.matches(fault.rule, request)) continue;
      fault.remaining -= 1;
      fault.hits += 1;
      if (fault.remaining <= 0) this.faults = this.faults.filter((candidate) => candidate !== fault);
      return fault.rule;
    }
    return undefined;
  }
}

/** `match: { method, path }` as the REST simulators read it (`path` without query; a RegExp is tested). */
export function matchesMethodAndPath(
  rule: { match?: { method?: string; path?: string | RegExp } },
  request: { method: string; path: string },
): boolean {
  const match = rule.match;
  if (match === undefined) return true;
  if (match.method !== undefined && match.method.toUpperCase() !== request.method.toUpperCase()) return false;
  if (match.path === undefined) return true;
  if (typeof match.path === "string") return match.path === request.path;
  match.path.lastIndex = 0;
  return match.path.test(request.path);
}

function validateBaseRule(rule: BaseFaultRule, kinds: readonly string[]): void {
  if (!kinds.includes(rule.kind)) {
    throw new ConfigurationError(
      `Unknown fault kind ${JSON.stringify(rule.kind)}; expected one of ${kinds.join(", ")}`,
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
