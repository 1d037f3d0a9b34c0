/**
 * CRM-agnostic contact sync logic shared by the HubSpot and Salesforce connectors: comparing field
 * values as two systems store them, a person's identity and lock key, field-level last-writer-wins
 * merging and echo detection against the last synced values.
 */
export {
  type ContactIdentity,
  contactIdentity,
  contactLockKey,
  sameContactIdentity,
} from "./contact-identity.ts";
export {
  changedSinceLastSync,
  type FieldDecision,
  isEchoOfLastSync,
  type MergeFieldsInput,
  type MergeFieldsResult,
  mergeFieldsLastWriterWins,
  type SideSnapshot,
  type SyncDirection,
  type SyncSide,
} from "./field-merge.ts";
export {
  type ContactFieldKind,
  type ContactFieldValue,
  comparableFieldValue,
  hasFieldValue,
  matchesEmailAddress,
  matchesPhoneNumber,
  normalizeEmailAddress,
  sameFieldValue,
} from "./field-values.ts";
export {
  calendarDayIn,
  canonicalHandle,
  describeLinqCall,
  describeLinqMessage,
  type LinqCallActivity,
  type LinqMessageActivity,
  safeHttpUrl,
} from "./linq-activity.ts";
