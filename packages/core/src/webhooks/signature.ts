/**
 * Linq webhook signatures: `X-Webhook-Signature: sha256=<hex>` where the hex is
 * HMAC-SHA256(secret, body).
 *
 * The Linq reference says both "use the raw request body exactly as received" and
 * "the signature is computed on the canonical JSON format (with keys sorted
 * recursively)". We verify against the raw bytes first and, when that fails,
 * against the canonical JSON form of the parsed body.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { WebhookSignatureError } from "../errors.ts";

/** The raw request body as received: a string or the bytes. */
export type WebhookRawBody = string | Uint8Array;

export interface VerifyWebhookSignatureOptions {
  /** The request body exactly as received, before any JSON parsing. */
  rawBody: WebhookRawBody;
  /** The value of the `X-Webhook-Signature` header (`sha256=<hex>`). */
  signatureHeader: string | null | undefined;
  /** The webhook subscription's signing secret. */
  secret: string;
  /** Further secrets that are also accepted (secret rotation). */
  additionalSecrets?: readonly string[];
}

export interface SignWebhookOptions {
  /** The exact bytes to sign (a string is encoded as UTF-8). */
  payload: WebhookRawBody;
  secret: string;
}

const SIGNATURE_PREFIX = "sha256=";
const SHA256_BYTE_LENGTH = 32;
const SIGNATURE_PATTERN = /^sha256=([0-9a-f]+)$/i;

/**
 * Returns `sha256=<hex>` = HMAC-SHA256(secret, payload) over the exact bytes of
 * `payload`, the form Linq sends in `X-Webhook-Signature`.
 */
export function signWebhook({ payload, secret }: SignWebhookOptions): string {
  assertRawBody(payload, "signWebhook", "payload");
  return SIGNATURE_PREFIX + hmac(secret, toBytes(payload)).toString("hex");
}

/**
 * Serialises a JSON value in canonical form: object keys sorted recursively (by
 * Unicode code point, i.e. UTF-8 byte order), no insignificant whitespace, arrays
 * in their original order. Values JSON cannot represent are handled like
 * `JSON.stringify` handles them (dropped in objects, `null` in arrays; `toJSON`
 * is honoured). The result does not depend on the order of the input's keys.
 */
export function canonicalizeJson(value: unknown): string {
  return serializeCanonical(value, true) ?? "null";
}

/**
 * Verifies a Linq webhook signature and throws `WebhookSignatureError` when the
 * header is missing, malformed or matches none of the secrets.
 *
 * Throws `TypeError` when `rawBody` is not a string or bytes (for example an
 * already-parsed JSON object): the signature can only be checked on the body as
 * it was received.
 */
export function verifyWebhookSignature(options: VerifyWebhookSignatureOptions): void {
  const { rawBody, signatureHeader, secret, additionalSecrets = [] } = options;
  assertRawBody(rawBody, "verifyWebhookSignature", "rawBody");
  const secrets = [secret, ...additionalSecrets];
  for (const candidate of secrets) {
    if (typeof candidate !== "string" || candidate.length === 0) {
      throw new TypeError("verifyWebhookSignature needs non-empty string secrets");
    }
  }

  if (signatureHeader === undefined || signatureHeader === null) {
    throw new WebhookSignatureError("Missing webhook signature header");
  }
  if (typeof signatureHeader !== "string") {
    throw new WebhookSignatureError("Malformed webhook signature header: expected one sha256=<hex> value");
  }
  if (signatureHeader.trim() === "") throw new WebhookSignatureError("Missing webhook signature header");
  const received = decodeSignatureHeader(signatureHeader);
  if (received === undefined) {
    throw new WebhookSignatureError(
      "Malformed webhook signature header: expected sha256=<64 hex characters>",
    );
  }

  const rawBytes = toBytes(rawBody);
  for (const candidate of secrets) {
    if (signaturesEqual(received, hmac(candidate, rawBytes))) return;
  }
  // Only when the raw bytes match no secret: the reference also describes signing the canonical JSON form.
  const canonicalBytes = canonicalBytesOf(rawBytes);
  if (canonicalBytes !== undefined) {
    for (const candidate of secrets) {
      if (signaturesEqual(received, hmac(candidate, canonicalBytes))) return;
    }
  }
  throw new WebhookSignatureError("Webhook signature does not match");
}

/** Like `verifyWebhookSignature`, but returns whether the signature is valid instead of throwing. */
export function isValidWebhookSignature(options: VerifyWebhookSignatureOptions): boolean {
  try {
    verifyWebhookSignature(options);
    return true;
  } catch (error) {
    if (error instanceof WebhookSignatureError) return false;
    throw error;
  }
}

function decodeSignatureHeader(header: string): Buffer | undefined {
  const match = SIGNATURE_PATTERN.exec(header.trim());
  const hex = match?.[1];
  if (hex === undefined || hex.length % 2 !== 0) return undefined;
  return Buffer.from(hex, "hex");
}

function signaturesEqual(received: Buffer, expected: Buffer): boolean {
  // timingSafeEqual throws on different lengths; a wrong length is simply a mismatch.
  if (received.length !== SHA256_BYTE_LENGTH || received.length !== expected.length) return false;
  return timingSafeEqual(received, expected);
}

function hmac(secret: string, bytes: Uint8Array): Buffer {
  return createHmac("sha256", secret).update(bytes).digest();
}

function toBytes(body: WebhookRawBody): Uint8Array {
  return typeof body === "string" ? Buffer.from(body, "utf8") : body;
}

/** The canonical JSON bytes of a body, or undefined when it is not JSON. */
function canonicalBytesOf(rawBytes: Uint8Array): Uint8Array | undefined {
  try {
    const parsed: unknown = JSON.parse(
      Buffer.from(rawBytes.buffer, rawBytes.byteOffset, rawBytes.byteLength).toString("utf8"),
    );
    return Buffer.from(canonicalizeJson(parsed), "utf8");
  } catch {
    // Not JSON, or nested too deeply to canonicalise: only the raw form can match.
    return undefined;
  }
}

/**
 * Builds the canonical text by hand rather than via JSON.stringify of a sorted
 * object, because JavaScript always enumerates integer-like keys ("2", "10")
 * first and in numeric order, which is not the sorted order.
 */
function serializeCanonical(value: unknown, inArray: boolean): string | undefined {
  let current = value;
  if (
    current !== null &&
    typeof current === "object" &&
    typeof (current as { toJSON?: unknown }).toJSON === "function"
  ) {
    current = (current as { toJSON: () => unknown }).toJSON();
  }
  if (
    current === null ||
    typeof current === "boolean" ||
    typeof current === "number" ||
    typeof current === "string"
  ) {
    return JSON.stringify(current);
  }
  if (typeof current === "bigint") {
    throw new TypeError("canonicalizeJson cannot serialise a BigInt");
  }
  if (Array.isArray(current)) {
    return `[${current.map((item) => serializeCanonical(item, true) ?? "null").join(",")}]`;
  }
  if (typeof current === "object") {
    const record = current as Record<string, unknown>;
    const members: string[] = [];
    for (const key of Object.keys(record).sort(compareCodePoints)) {
      const serialized = serializeCanonical(record[key], false);
      if (serialized !== undefined) members.push(`${JSON.stringify(key)}:${serialized}`);
    }
    return `{${members.join(",")}}`;
  }
  // undefined, functions and symbols: omitted in objects, null in arrays (like JSON.stringify).
  return inArray ? "null" : undefined;
}

function compareCodePoints(left: string, right: string): number {
  const leftCodePoints = Array.from(left, (character) => character.codePointAt(0) ?? 0);
  const rightCodePoints = Array.from(right, (character) => character.codePointAt(0) ?? 0);
  const length = Math.min(leftCodePoints.length, rightCodePoints.length);
  for (let index = 0; index < length; index += 1) {
    const difference = (leftCodePoints[index] ?? 0) - (rightCodePoints[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return leftCodePoints.length - rightCodePoints.length;
}

function assertRawBody(
  body: unknown,
  functionName: string,
  parameterName: string,
): asserts body is WebhookRawBody {
  if (typeof body === "string" || body instanceof Uint8Array) return;
  if (body !== null && typeof body === "object") {
    throw new TypeError(
      `${functionName} needs the raw request body (string or Buffer) as "${parameterName}", but you passed a parsed object; ` +
        "read the body before JSON parsing, e.g. express.raw() / request.text()",
    );
  }
  throw new TypeError(
    `${functionName} needs the raw request body (string or Buffer) as "${parameterName}", but got ${body === null ? "null" : typeof body}`,
  );
}
