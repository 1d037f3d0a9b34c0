/**
 * Deterministic job ids. pg-boss ignores a job whose id already exists in its queue, so a job id
 * derived from what the job is about makes enqueueing idempotent: the same Linq event routed twice
 * to one connector (a retried webhook, a replica racing another) is one job.
 *
 * The ids are name-based UUIDs (RFC 9562 version 5: SHA-1 of a namespace and a name), so they fit
 * pg-boss's `uuid` column and never collide with the random (version 4) ids of other jobs.
 */
import { createHash } from "node:crypto";

/** The namespace of Linq event deliveries: name = `${connector}:${eventId}`. */
export const eventJobNamespace = "3cbcff2a-2ae5-400a-a572-fe2604284a38";
/** The namespace of connector-requested jobs: name = `${connector}:${deduplicationKey}`. */
export const connectorJobNamespace = "c7546d97-4caa-4618-be57-0457686526dc";

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` is a UUID in its canonical hyphenated form (any version). */
export function isUuid(value: string): boolean {
  return uuidPattern.test(value);
}

/** A version 5 (SHA-1, name-based) UUID of `name` in `namespace`. */
export function nameBasedUuid(namespace: string, name: string): string {
  if (!isUuid(namespace))
    throw new TypeError(`A UUID namespace must be a UUID, not ${JSON.stringify(namespace)}`);
  const hash = createHash("sha1")
    .update(Buffer.from(namespace.replaceAll("-", ""), "hex"))
    .update(name, "utf8")
    .digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function requireText(value: string, what: string): void {
  if (typeof value !== "string" || value === "") throw new TypeError(`${what} must be a non-empty string`);
}

/** The id of the job that delivers one Linq event to one connector: the same inputs, the same id. */
export function eventJobId(eventId: string, connector: string): string {
  requireText(eventId, "An event id");
  requireText(connector, "A connector name");
  return nameBasedUuid(eventJobNamespace, `${connector}:${eventId}`);
}

/**
 * The id of a job a connector asked for with a deduplication key (`ConnectorJobRequest.deduplicationKey`):
 * the same key for the same connector is one job.
 */
export function connectorJobId(connector: string, deduplicationKey: string): string {
  requireText(connector, "A connector name");
  requireText(deduplicationKey, "A deduplication key");
  return nameBasedUuid(connectorJobNamespace, `${connector}:${deduplicationKey}`);
}
