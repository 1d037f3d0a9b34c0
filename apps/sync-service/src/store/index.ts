export {
  type BackfillProgress,
  type BackfillProgressStore,
  createBackfillProgressStore,
} from "./backfill-progress.ts";
export {
  createDeadLetterStore,
  type DeadLetter,
  type DeadLetterStore,
  type ListDeadLettersOptions,
  type NewDeadLetter,
  type PurgeDeadLettersOptions,
} from "./dead-letter-store.ts";
export {
  createEventStore,
  type DeliveryStatus,
  deliveryStatuses,
  type EventDelivery,
  type EventStatus,
  type EventStore,
  eventStatuses,
  type MarkDeliveryOptions,
  pruneSettledEvents,
  type RecordEventInput,
  type SetEventStatusOptions,
  type StoredEvent,
  type StoredEventWithDeliveries,
} from "./event-store.ts";
export { pruneInboundReceipts, recordInboundReceipt } from "./inbound-receipts.ts";
export { createMappingStore, mappingLockPrefix } from "./mapping-store.ts";
