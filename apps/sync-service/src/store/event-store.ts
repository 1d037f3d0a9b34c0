/**
 * Every accepted Linq webhook, and the deliveries it was routed to. The primary key on `event_id`
 * is the deduplication: a retried webhook is recorded once, so it has one effect.
 */
import { NotFoundError } from "@linq-connect/core";
import type { Database, SqlExecutor } from "../database/database-types.ts";
import { toDate, toJsonParameter, toOptionalDate } from "./json.ts";

export const eventStatuses = ["received", "queued", "skipped", "processed", "failed"] as const;
export type EventStatus = (typeof eventStatuses)[number];

export const deliveryStatuses = ["queued", "processed", "dead"] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

export interface RecordEventInput {
  eventId: string;
  eventType: string;
  /** Whether the event type is one this release understands. */
  known: boolean;
  /** The key whose events are processed one at a time, in order (the chat). */
  conversationKey?: string | null | undefined;
  linqNumber?: string | null | undefined;
  routeName?: string | null | undefined;
  status: EventStatus;
  /** The parsed raw JSON of the webhook. */
  payload: unknown;
  /** When Linq created the event (a Date or an ISO 8601 string). */
  eventCreatedAt?: Date | string | null | undefined;
  skipReason?: string | null | undefined;
}

export interface EventDelivery {
  connector: string;
  status: DeliveryStatus;
  attempts: number;
  lastError: unknown;
  updatedAt: Date;
}

export interface StoredEvent {
  eventId: string;
  eventType: string;
  known: boolean;
  conversationKey: string | undefined;
  linqNumber: string | undefined;
  routeName: string | undefined;
  status: EventStatus;
  payload: unknown;
  eventCreatedAt: Date | undefined;
  receivedAt: Date;
  processedAt: Date | undefined;
  skipReason: string | undefined;
}

export interface StoredEventWithDeliveries extends StoredEvent {
  deliveries: EventDelivery[];
}

export interface MarkDeliveryOptions {
  attempts?: number | undefined;
  /** A JSON-safe error summary (e.g. `LinqConnectError#toJSON()`); null clears it, undefined keeps it. */
  error?: unknown;
}

export interface SetEventStatusOptions {
  routeName?: string | null | undefined;
  skipReason?: string | null | undefined;
}

export interface EventStore {
  /** Inserts the event unless its `eventId` is known; a duplicate is `{ inserted: false }` and changes nothing. */
  recordEvent(executor: SqlExecutor, input: RecordEventInput): Promise<{ inserted: boolean }>;
  /**
   * Records that the event was routed to `connectors` (status 'queued') and moves the event from
   * 'received' to 'queued'. Idempotent: an existing delivery is left as it is. Returns how many were new.
   */
  recordDeliveries(executor: SqlExecutor, eventId: string, connectors: readonly string[]): Promise<number>;
  /** Sets the event's status (e.g. 'skipped' with a reason when no route matched). */
  setEventStatus(
    executor: SqlExecutor,
    eventId: string,
    status: EventStatus,
    options?: SetEventStatusOptions,
  ): Promise<void>;
  /**
   * Records the outcome of one delivery and settles the event: 'processed' when every delivery was
   * processed, 'failed' when all are done and one is dead, 'queued' while one is still queued.
   * Returns the event's status afterwards.
   */
  markDelivery(
    eventId: string,
    connector: string,
    status: DeliveryStatus,
    options?: MarkDeliveryOptions,
    /** Write inside the caller's transaction (e.g. the queue's settling one) instead of a new one. */
    executor?: SqlExecutor,
  ): Promise<{ eventStatus: EventStatus }>;
  getEvent(eventId: string): Promise<StoredEventWithDeliveries | undefined>;
  /** Newest first. */
  listEvents(options: { status?: EventStatus | undefined; limit: number }): Promise<StoredEvent[]>;
  /** Events still 'received' after `olderThanSeconds` (acknowledged but never queued): oldest first. */
  findUnqueued(options: { olderThanSeconds: number; limit?: number | undefined }): Promise<StoredEvent[]>;
  countByStatus(): Promise<Record<EventStatus, number>>;
  /** The Linq number of the conversation's latest event that named one (events like message.read do not). */
  findLinqNumberForConversation(conversationKey: string): Promise<string | undefined>;
}

interface EventRow extends Record<string, unknown> {
  event_id: string;
  event_type: string;
  known: boolean;
  conversation_key: string | null;
  linq_number: string | null;
  route_name: string | null;
  status: EventStatus;
  payload: unknown;
  event_created_at: Date | string | null;
  received_at: Date | string;
  processed_at: Date | string | null;
  skip_reason: string | null;
}

interface DeliveryRow extends Record<string, unknown> {
  connector: string;
  status: DeliveryStatus;
  attempts: number;
  last_error: unknown;
  updated_at: Date | string;
}

const eventColumns =
  "event_id, event_type, known, conversation_key, linq_number, route_name, status, payload, " +
  "event_created_at, received_at, processed_at, skip_reason";

function toStoredEvent(row: EventRow): StoredEvent {
  return {
    eventId: row.event_id,
    eventType: row.event_type,
    known: row.known,
    conversationKey: row.conversation_key ?? undefined,
    linqNumber: row.linq_number ?? undefined,
    routeName: row.route_name ?? undefined,
    status: row.status,
    payload: row.payload,
    eventCreatedAt: toOptionalDate(row.event_created_at),
    receivedAt: toDate(row.received_at),
    processedAt: toOptionalDate(row.processed_at),
    skipReason: row.skip_reason ?? undefined,
  };
}

function assertLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`A limit must be a positive integer, not ${limit}`);
  return limit;
}

export function createEventStore(database: Database): EventStore {
  return {
    async recordEvent(executor, input) {
      const result = await executor.query(
        `INSERT INTO linq_events (event_id, event_type, known, conversation_key, linq_number, route_name,
                                  status, payload, event_created_at, skip_reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10)
         ON CONFLICT (event_id) DO NOTHING
         RETURNING event_id`,
        [
          input.eventId,
          input.eventType,
          input.known,
          input.conversationKey ?? null,
          input.linqNumber ?? null,
          input.routeName ?? null,
          input.status,
          toJsonParameter(input.payload),
          input.eventCreatedAt ?? null,
          input.skipReason ?? null,
        ],
      );
      return { inserted: result.rows.length > 0 };
    },

    async recordDeliveries(executor, eventId, connectors) {
      if (connectors.length === 0) return 0;
      const inserted = await executor.query(
        `INSERT INTO event_deliveries (event_id, connector, status)
         SELECT $1, connector, 'queued' FROM unnest($2::text[]) AS connector
         ON CONFLICT (event_id, connector) DO NOTHING
         RETURNING connector`,
        [eventId, [...new Set(connectors)]],
      );
      await executor.query(
        "UPDATE linq_events SET status = 'queued' WHERE event_id = $1 AND status = 'received'",
        [eventId],
      );
      return inserted.rows.length;
    },

    async setEventStatus(executor, eventId, status, options = {}) {
      const settled = status === "processed" || status === "failed" || status === "skipped";
      const result = await executor.query(
        `UPDATE linq_events SET
           status = $2,
           route_name = CASE WHEN $3::boolean THEN $4 ELSE route_name END,
           skip_reason = CASE WHEN $5::boolean THEN $6 ELSE skip_reason END,
           processed_at = CASE WHEN $7::boolean THEN coalesce(processed_at, now()) ELSE NULL END
         WHERE event_id = $1`,
        [
          eventId,
          status,
          options.routeName !== undefined,
          options.routeName ?? null,
          options.skipReason !== undefined,
          options.skipReason ?? null,
          settled,
        ],
      );
      if (result.rowCount === 0) {
        throw new NotFoundError(`There is no Linq event ${eventId}`, { source: "internal" });
      }
    },

    markDelivery(eventId, connector, status, options = {}, executor = undefined) {
      const settle = async (transaction: SqlExecutor) => {
        // Locking the event row serialises the deliveries of one event, so the last one to finish
        // always sees the others' outcomes and settles the event.
        const event = await transaction.query<{ status: EventStatus }>(
          "SELECT status FROM linq_events WHERE event_id = $1 FOR UPDATE",
          [eventId],
        );
        if (event.rows[0] === undefined) {
          throw new NotFoundError(`There is no Linq event ${eventId}`, { source: "internal" });
        }
        const hasError = options.error !== undefined;
        await transaction.query(
          `INSERT INTO event_deliveries (event_id, connector, status, attempts, last_error)
           VALUES ($1, $2, $3, coalesce($4::integer, 0), $6::jsonb)
           ON CONFLICT (event_id, connector) DO UPDATE SET
             status = EXCLUDED.status,
             attempts = coalesce($4::integer, event_deliveries.attempts),
             last_error = CASE WHEN $5::boolean THEN $6::jsonb ELSE event_deliveries.last_error END,
             updated_at = now()`,
          [
            eventId,
            connector,
            status,
            options.attempts ?? null,
            hasError,
            hasError && options.error !== null ? toJsonParameter(options.error) : null,
          ],
        );
        const counts = await transaction.query<{ queued: number; dead: number }>(
          `SELECT count(*) FILTER (WHERE status = 'queued')::integer AS queued,
                  count(*) FILTER (WHERE status = 'dead')::integer AS dead
           FROM event_deliveries WHERE event_id = $1`,
          [eventId],
        );
        const queued = Number(counts.rows[0]?.queued ?? 0);
        const dead = Number(counts.rows[0]?.dead ?? 0);
        const eventStatus: EventStatus = queued > 0 ? "queued" : dead > 0 ? "failed" : "processed";
        await transaction.query(
          `UPDATE linq_events SET status = $2,
             processed_at = CASE WHEN $2 = 'queued' THEN NULL ELSE now() END
           WHERE event_id = $1`,
          [eventId, eventStatus],
        );
        return { eventStatus };
      };
      return executor === undefined ? database.transaction(settle) : settle(executor);
    },

    async getEvent(eventId) {
      const event = await database.query<EventRow>(
        `SELECT ${eventColumns} FROM linq_events WHERE event_id = $1`,
        [eventId],
      );
      if (event.rows[0] === undefined) return undefined;
      const deliveries = await database.query<DeliveryRow>(
        `SELECT connector, status, attempts, last_error, updated_at
         FROM event_deliveries WHERE event_id = $1 ORDER BY connector`,
        [eventId],
      );
      return {
        ...toStoredEvent(event.rows[0]),
        deliveries: deliveries.rows.map((row) => ({
          connector: row.connector,
          status: row.status,
          attempts: Number(row.attempts),
          lastError: row.last_error ?? undefined,
          updatedAt: toDate(row.updated_at),
        })),
      };
    },

    async listEvents({ status, limit }) {
      const { rows } = await database.query<EventRow>(
        `SELECT ${eventColumns} FROM linq_events
         WHERE $1::text IS NULL OR status = $1
         ORDER BY received_at DESC, event_id DESC
         LIMIT $2`,
        [status ?? null, assertLimit(limit)],
      );
      return rows.map(toStoredEvent);
    },

    async findUnqueued({ olderThanSeconds, limit = 500 }) {
      if (!(olderThanSeconds >= 0)) throw new RangeError("olderThanSeconds must not be negative");
      const { rows } = await database.query<EventRow>(
        `SELECT ${eventColumns} FROM linq_events
         WHERE status = 'received' AND received_at <= now() - make_interval(secs => $1)
         ORDER BY received_at, event_id
         LIMIT $2`,
        [olderThanSeconds, assertLimit(limit)],
      );
      return rows.map(toStoredEvent);
    },

    async findLinqNumberForConversation(conversationKey) {
      const { rows } = await database.query<{ linq_number: string }>(
        `SELECT linq_number FROM linq_events
         WHERE conversation_key = $1 AND linq_number IS NOT NULL
         ORDER BY received_at DESC
         LIMIT 1`,
        [conversationKey],
      );
      return rows[0]?.linq_number;
    },

    async countByStatus() {
      const { rows } = await database.query<{ status: EventStatus; count: number }>(
        "SELECT status, count(*)::integer AS count FROM linq_events GROUP BY status",
      );
      const counts = Object.fromEntries(eventStatuses.map((status) => [status, 0])) as Record<
        EventStatus,
        number
      >;
      for (const row of rows) counts[row.status] = Number(row.count);
      return counts;
    },
  };
}

/**
 * Deletes up to `limit` Linq events received before `olderThan` that are settled: processed or skipped,
 * with every delivery processed (an event still queued, or dead-lettered and waiting for a replay, is
 * kept: its job reads it). Their deliveries go with them (ON DELETE CASCADE). Returns how many.
 */
export async function pruneSettledEvents(
  executor: SqlExecutor,
  olderThan: Date,
  limit: number,
): Promise<number> {
  const result = await executor.query(
    `DELETE FROM linq_events WHERE event_id IN (
       SELECT event.event_id FROM linq_events event
       WHERE event.received_at < $1
         AND event.status IN ('processed', 'skipped')
         AND NOT EXISTS (
           SELECT 1 FROM event_deliveries delivery
           WHERE delivery.event_id = event.event_id AND delivery.status <> 'processed'
         )
       LIMIT $2
     )`,
    [olderThan, limit],
  );
  return result.rowCount;
}
