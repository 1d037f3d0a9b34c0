/**
 * Two-way field sync between Linq and a CRM: which side's value each field takes, from the values
 * both sides hold now, the values last synced (the common baseline) and when each side last changed
 * each field.
 *
 * Per field:
 * - both sides equal (after normalisation): in sync, nothing to write;
 * - no baseline yet (the first link): an empty side takes the other's value; two different values
 *   are a conflict;
 * - only one side differs from the baseline: that side changed, the other side takes its value
 *   (clearing included);
 * - both differ from the baseline and from each other: a conflict.
 *
 * A conflict goes to the last writer: the side whose timestamp for the field is later (a side
 * without per-field timestamps uses its record's `updatedAt`); equal or unknown timestamps go to
 * `tieBreaker`. Every field that is not in sync gets a {@link FieldDecision} saying what happened
 * and why, for the log (`reason` never contains the values: they are personal data).
 *
 * One-way modes only ever write in their direction: "linq-to-crm" writes the fields Linq changed to
 * the CRM (Linq wins every conflict) and never writes to Linq; "crm-to-linq" the other way round.
 * A field that is left different keeps its old baseline.
 */
import type { PhoneNumberOptions } from "../phone/phone-number.ts";
import {
  type ContactFieldKind,
  type ContactFieldValue,
  comparableFieldValue,
  hasFieldValue,
} from "./field-values.ts";

/** One of the two systems. */
export type SyncSide = "linq" | "crm";

/** Which directions a sync writes in. */
export type SyncDirection = "two-way" | "linq-to-crm" | "crm-to-linq";

/** What one side holds now. */
export interface SideSnapshot<Field extends string> {
  values: Partial<Record<Field, ContactFieldValue>>;
  /** Epoch milliseconds of each field's last change, when the side records it (CRM property history). */
  fieldTimestamps?: Partial<Record<Field, number | undefined>>;
  /** Epoch milliseconds of the record's last change: the timestamp of fields without their own. */
  updatedAt?: number | undefined;
}

export interface MergeFieldsInput<Field extends string> {
  fields: readonly Field[];
  /** How each field compares; "text" when not listed. */
  kinds?: Partial<Record<Field, ContactFieldKind>>;
  /** The values both sides held after the last sync; undefined before the first one. */
  lastSynced: Partial<Record<Field, ContactFieldValue>> | undefined;
  linq: SideSnapshot<Field>;
  crm: SideSnapshot<Field>;
  /** Default "two-way". */
  direction?: SyncDirection;
  /** Who wins a conflict whose timestamps are equal or unknown. Default "crm". */
  tieBreaker?: SyncSide;
  /** For phone number comparison. */
  phoneNumberOptions?: PhoneNumberOptions;
}

/** What happened to one field that was not in sync. */
export interface FieldDecision<Field extends string> {
  field: Field;
  /**
   * - `linq-changed` / `crm-changed`: only that side moved away from the baseline;
   * - `first-link`: no baseline, one side was empty;
   * - `conflict`: both sides hold different values that both changed (or no baseline);
   * - `ignored`: a one-way sync does not write this change.
   */
  outcome: "linq-changed" | "crm-changed" | "first-link" | "conflict" | "ignored";
  /** The side whose value both sides hold afterwards ("none" when nothing is written). */
  winner: SyncSide | "none";
  linqValue: string;
  crmValue: string;
  lastSyncedValue: string | undefined;
  linqTimestamp: number | undefined;
  crmTimestamp: number | undefined;
  /** Why, in words, for the log. */
  reason: string;
}

export interface MergeFieldsResult<Field extends string> {
  /** Values to write to the CRM ("" clears). */
  toCrm: Partial<Record<Field, string>>;
  /** Values to write to Linq ("" clears). */
  toLinq: Partial<Record<Field, string>>;
  /**
   * The new baseline once the writes are done: the agreed value of every field (the old baseline
   * for a field a one-way sync leaves different). Store it as the last synced values.
   */
  synced: Partial<Record<Field, string>>;
  /** One entry per field that was not in sync. */
  decisions: FieldDecision<Field>[];
}

function raw(value: ContactFieldValue): string {
  return typeof value === "string" ? value.trim() : "";
}

function timestampOf<Field extends string>(side: SideSnapshot<Field>, field: Field): number | undefined {
  const own = side.fieldTimestamps?.[field];
  return typeof own === "number" && Number.isFinite(own) ? own : side.updatedAt;
}

/** Merges the two sides field by field; see the module comment for the rules. */
export function mergeFieldsLastWriterWins<Field extends string>(
  input: MergeFieldsInput<Field>,
): MergeFieldsResult<Field> {
  const direction = input.direction ?? "two-way";
  const tieBreaker = input.tieBreaker ?? "crm";
  const result: MergeFieldsResult<Field> = { toCrm: {}, toLinq: {}, synced: {}, decisions: [] };
  for (const field of input.fields) {
    const kind = input.kinds?.[field] ?? "text";
    const comparable = (value: ContactFieldValue) =>
      comparableFieldValue(kind, value, input.phoneNumberOptions);
    const linqValue = raw(input.linq.values[field]);
    const crmValue = raw(input.crm.values[field]);
    const baselineRaw = input.lastSynced?.[field];
    const hasBaseline = input.lastSynced !== undefined && baselineRaw !== undefined;
    const baseline = hasBaseline ? raw(baselineRaw) : undefined;
    const linqComparable = comparable(linqValue);
    const crmComparable = comparable(crmValue);
    if (linqComparable === crmComparable) {
      // In sync. The baseline keeps Linq's form (both forms compare equal).
      result.synced[field] = linqValue !== "" ? linqValue : crmValue;
      continue;
    }
    const linqTimestamp = timestampOf(input.linq, field);
    const crmTimestamp = timestampOf(input.crm, field);
    let outcome: FieldDecision<Field>["outcome"];
    let winner: SyncSide;
    let reason: string;
    if (baseline === undefined) {
      if (linqComparable === "" || crmComparable === "") {
        outcome = "first-link";
        winner = linqComparable === "" ? "crm" : "linq";
        reason = `first link: ${winner === "linq" ? "the CRM" : "Linq"} had no value`;
      } else {
        outcome = "conflict";
        ({ winner, reason } = lastWriter(linqTimestamp, crmTimestamp, tieBreaker, "first link"));
      }
    } else {
      const baselineComparable = comparable(baseline);
      const linqChanged = linqComparable !== baselineComparable;
      const crmChanged = crmComparable !== baselineComparable;
      if (linqChanged && !crmChanged) {
        outcome = "linq-changed";
        winner = "linq";
        reason = "changed in Linq since the last sync";
      } else if (crmChanged && !linqChanged) {
        outcome = "crm-changed";
        winner = "crm";
        reason = "changed in the CRM since the last sync";
      } else {
        outcome = "conflict";
        ({ winner, reason } = lastWriter(
          linqTimestamp,
          crmTimestamp,
          tieBreaker,
          "both changed since the last sync",
        ));
      }
    }
    // One-way syncs: Linq (or the CRM) is the source; a change on the other side is not written back.
    let effective: SyncSide | "none" = winner;
    if (direction === "linq-to-crm") {
      const linqMoved = baseline === undefined ? linqComparable !== "" : outcome !== "crm-changed";
      effective = linqMoved ? "linq" : "none";
    } else if (direction === "crm-to-linq") {
      const crmMoved = baseline === undefined ? crmComparable !== "" : outcome !== "linq-changed";
      effective = crmMoved ? "crm" : "none";
    }
    if (effective === "none") {
      if (baseline !== undefined) result.synced[field] = baseline;
      result.decisions.push({
        field,
        outcome: "ignored",
        winner: "none",
        linqValue,
        crmValue,
        lastSyncedValue: baseline,
        linqTimestamp,
        crmTimestamp,
        reason: `${reason}; a ${direction} sync does not write it`,
      });
      continue;
    }
    if (effective !== winner) reason = `${reason}; a ${direction} sync keeps the ${effective} value`;
    if (effective === "linq") {
      result.toCrm[field] = linqValue;
      result.synced[field] = linqValue;
    } else {
      result.toLinq[field] = crmValue;
      result.synced[field] = crmValue;
    }
    result.decisions.push({
      field,
      outcome,
      winner: effective,
      linqValue,
      crmValue,
      lastSyncedValue: baseline,
      linqTimestamp,
      crmTimestamp,
      reason,
    });
  }
  return result;
}

function lastWriter(
  linqTimestamp: number | undefined,
  crmTimestamp: number | undefined,
  tieBreaker: SyncSide,
  context: string,
): { winner: SyncSide; reason: string } {
  if (linqTimestamp !== undefined && crmTimestamp !== undefined && linqTimestamp !== crmTimestamp) {
    const winner: SyncSide = linqTimestamp > crmTimestamp ? "linq" : "crm";
    return {
      winner,
      reason: `${context}: last writer wins, ${winner === "linq" ? "Linq" : "the CRM"} wrote later (Linq ${new Date(linqTimestamp).toISOString()}, CRM ${new Date(crmTimestamp).toISOString()})`,
    };
  }
  const why =
    linqTimestamp === undefined || crmTimestamp === undefined ? "a timestamp is unknown" : "same time";
  return {
    winner: tieBreaker,
    reason: `${context}: ${why}, ${tieBreaker === "linq" ? "Linq" : "the CRM"} wins ties`,
  };
}

/** The fields whose current value differs from the last synced one (all fields without a baseline). */
export function changedSinceLastSync<Field extends string>(input: {
  fields: readonly Field[];
  kinds?: Partial<Record<Field, ContactFieldKind>>;
  current: Partial<Record<Field, ContactFieldValue>>;
  lastSynced: Partial<Record<Field, ContactFieldValue>> | undefined;
  phoneNumberOptions?: PhoneNumberOptions;
}): Field[] {
  if (input.lastSynced === undefined) return [...input.fields];
  const baseline = input.lastSynced;
  return input.fields.filter((field) => {
    const kind = input.kinds?.[field] ?? "text";
    if (!(field in baseline)) return hasFieldValue(input.current[field]);
    return (
      comparableFieldValue(kind, input.current[field], input.phoneNumberOptions) !==
      comparableFieldValue(kind, baseline[field], input.phoneNumberOptions)
    );
  });
}

/**
 * Whether what a side reports now is only the echo of our own last sync: every field equals the
 * last synced value. A change we wrote to one side comes back from it as a change (a webhook, a
 * modified record); syncing it again would bounce between the two systems forever.
 */
export function isEchoOfLastSync<Field extends string>(input: {
  fields: readonly Field[];
  kinds?: Partial<Record<Field, ContactFieldKind>>;
  current: Partial<Record<Field, ContactFieldValue>>;
  lastSynced: Partial<Record<Field, ContactFieldValue>> | undefined;
  phoneNumberOptions?: PhoneNumberOptions;
}): boolean {
  return input.lastSynced !== undefined && changedSinceLastSync(input).length === 0;
}
