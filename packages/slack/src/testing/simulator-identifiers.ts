/**
 * Slack-shaped identifiers: message timestamps (`1732198734.000200`, unique and
 * increasing), object ids (`F…`, `V…`, `Ev…`) and trigger ids.
 */
import { randomBytes } from "node:crypto";

const ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** `prefix` + `length` random upper-case alphanumerics, e.g. `F07ABCD1234`. */
export function slackId(prefix: string, length = 10): string {
  const bytes = randomBytes(length);
  let id = prefix;
  for (const byte of bytes) id += ID_ALPHABET[byte % ID_ALPHABET.length];
  return id;
}

/** A trigger id in Slack's shape: `<digits>.<digits>.<hex>`. */
export function triggerId(): string {
  const first = String(1_000_000_000 + (randomBytes(4).readUInt32BE(0) % 9_000_000_000));
  const second = String(randomBytes(4).readUInt32BE(0));
  return `${first}.${second}.${randomBytes(16).toString("hex")}`;
}

/** A well-formed Slack ts: Unix seconds, a dot, six digits. */
export const TS_PATTERN = /^\d{9,10}\.\d{6}$/;

/** Issues message timestamps from a clock: microsecond resolution, strictly increasing. */
export class TimestampClock {
  private readonly now: () => Date;
  private lastMicroseconds = 0;

  constructor(now: () => Date) {
    this.now = now;
  }

  next(): string {
    const candidate = this.now().getTime() * 1000;
    this.lastMicroseconds = candidate > this.lastMicroseconds ? candidate : this.lastMicroseconds + 1;
    return formatTs(this.lastMicroseconds);
  }

  reset(): void {
    this.lastMicroseconds = 0;
  }
}

function formatTs(microseconds: number): string {
  const seconds = Math.floor(microseconds / 1_000_000);
  const fraction = microseconds - seconds * 1_000_000;
  return `${seconds}.${String(fraction).padStart(6, "0")}`;
}

/** Compares two ts values numerically (they are fixed-point decimals). */
export function compareTs(left: string, right: string): number {
  const [leftSeconds = "0", leftFraction = "0"] = left.split(".");
  const [rightSeconds = "0", rightFraction = "0"] = right.split(".");
  const seconds = Number(leftSeconds) - Number(rightSeconds);
  if (seconds !== 0) return seconds;
  return Number(leftFraction.padEnd(6, "0")) - Number(rightFraction.padEnd(6, "0"));
}
