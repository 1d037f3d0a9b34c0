/**
 * Framework-agnostic Linq webhook endpoint: verify the signature on the raw
 * body, parse the event, answer.
 *
 * - `handleLinqWebhook` is the core: give it the raw body and the headers, get a
 *   status, a JSON body to send and either the event or the error.
 * - `createNodeWebhookHandler` is a `node:http` (and Express/Fastify raw) handler.
 * - `createFetchWebhookHandler` is a `(Request) => Promise<Response>` handler for
 *   fetch-style runtimes (Next.js route handlers, Hono, Bun, Deno).
 *
 * Linq expects a 200 within 10 seconds and retries otherwise, so `onEvent`
 * should only record the event durably (enqueue it) and return; duplicates
 * happen, dedupe on `event.event_id`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  ConfigurationError,
  type FieldError,
  NetworkError,
  WebhookPayloadError,
  WebhookSignatureError,
} from "../errors.ts";
import { type ParsedLinqWebhookEvent, parseWebhookEvent } from "./events.ts";
import { verifyWebhookSignature, type WebhookRawBody } from "./signature.ts";

/** The header Linq puts the signature in (compared case-insensitively). */
export const LINQ_WEBHOOK_SIGNATURE_HEADER = "x-webhook-signature";

/** The default largest body accepted: 1 MiB. */
export const DEFAULT_WEBHOOK_MAX_BODY_BYTES = 1024 * 1024;

/** Request headers: a fetch `Headers` object or a Node-style record (any name case). */
export type WebhookHeaders = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

export interface HandleLinqWebhookOptions {
  /** The request body exactly as received. */
  rawBody: WebhookRawBody;
  headers: WebhookHeaders;
  /** The webhook subscription's signing secret. */
  secret: string;
  /** Further accepted secrets, while rotating. */
  additionalSecrets?: readonly string[];
  /** Reject (400) events whose `created_at` is older than this. Off by default. */
  maxEventAgeSeconds?: number;
  /** The current time, for `maxEventAgeSeconds` (default: the clock). */
  now?: Date;
}

/**
 * The outcome of one webhook request. `body` is what to send back: for 401 it
 * is always `{"error":"unauthorized"}`, whatever the reason (which is in `error`,
 * for your logs only).
 */
export type HandleLinqWebhookResult =
  | { status: 200; event: ParsedLinqWebhookEvent; body: { received: true } }
  | { status: 401; error: WebhookSignatureError; body: { error: "unauthorized" } }
  | {
      status: 400;
      error: WebhookPayloadError;
      body: { error: "invalid_payload"; issues: readonly FieldError[] };
    };

/**
 * Verifies and parses one webhook request. The signature is checked first, so
 * nothing about the payload is revealed to an unauthenticated sender.
 *
 * Returns 200 with the event, 401 when the signature is missing or wrong, 400
 * when a correctly signed body is not a valid event. Throws only on programming
 * errors (a parsed object instead of the raw body, an empty secret).
 */
export function handleLinqWebhook(options: HandleLinqWebhookOptions): HandleLinqWebhookResult {
  const { rawBody, headers, secret, additionalSecrets, maxEventAgeSeconds, now } = options;
  try {
    verifyWebhookSignature({
      rawBody,
      signatureHeader: readHeader(headers, LINQ_WEBHOOK_SIGNATURE_HEADER),
      secret,
      ...(additionalSecrets === undefined ? {} : { additionalSecrets }),
    });
  } catch (error) {
    if (error instanceof WebhookSignatureError) {
      return { status: 401, error, body: { error: "unauthorized" } };
    }
    throw error;
  }
  try {
    const event = parseWebhookEvent(rawBody, {
      ...(maxEventAgeSeconds === undefined ? {} : { maxEventAgeSeconds }),
      ...(now === undefined ? {} : { now }),
    });
    return { status: 200, event, body: { received: true } };
  } catch (error) {
    if (error instanceof WebhookPayloadError) {
      return { status: 400, error, body: { error: "invalid_payload", issues: error.issues } };
    }
    throw error;
  }
}

export interface WebhookHandlerOptions {
  secret: string;
  additionalSecrets?: readonly string[];
  /**
   * Called with each verified, parsed event before the 200 is sent; when it
   * throws (or rejects) the answer is 500 and Linq retries. Keep it short:
   * enqueue the event and return.
   */
  onEvent(event: ParsedLinqWebhookEvent): Promise<void> | void;
  /** Larger bodies are answered with 413. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Reject (400) events whose `created_at` is older than this. Off by default. */
  maxEventAgeSeconds?: number;
  /**
   * Called with the reason whenever the answer is not 200 (a `WebhookSignatureError`
   * for 401, a `WebhookPayloadError` for 400, the thrown value for 500), for logging.
   * Never include the secret in logs; these errors do not contain it.
   */
  onError?(error: unknown): void;
}

/** A plain answer, independent of the HTTP framework. */
interface WebhookAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/**
 * Creates a `node:http` request listener for Linq webhooks. It reads the raw
 * body itself (or uses `request.rawBody` / a Buffer or string `request.body`
 * left by a raw body parser), and answers 405 for methods other than POST,
 * 415 for a content type that is not JSON, 413 for a body over `maxBodyBytes`,
 * 401 / 400 / 200 as `handleLinqWebhook` decides, and 500 when `onEvent` throws.
 */
export function createNodeWebhookHandler(
  options: WebhookHandlerOptions,
): (request: IncomingMessage, response: ServerResponse) => Promise<void> {
  const settings = validateHandlerOptions(options);
  return async (request, response) => {
    let answer: WebhookAnswer;
    try {
      answer = await answerNodeRequest(request, settings);
    } catch (error) {
      reportError(settings, error);
      answer = INTERNAL_ERROR;
    }
    sendNodeAnswer(response, answer);
  };
}

/**
 * Creates a fetch-style handler `(request: Request) => Promise<Response>` for
 * Linq webhooks with the same answers as `createNodeWebhookHandler`.
 */
export function createFetchWebhookHandler(
  options: WebhookHandlerOptions,
): (request: Request) => Promise<Response> {
  const settings = validateHandlerOptions(options);
  return async (request) => {
    let answer: WebhookAnswer;
    try {
      answer = await answerFetchRequest(request, settings);
    } catch (error) {
      reportError(settings, error);
      answer = INTERNAL_ERROR;
    }
    return new Response(JSON.stringify(answer.body), {
      status: answer.status,
      headers: { "content-type": "application/json; charset=utf-8", ...answer.headers },
    });
  };
}

interface HandlerSettings extends WebhookHandlerOptions {
  maxBodyBytes: number;
}

function validateHandlerOptions(options: WebhookHandlerOptions): HandlerSettings {
  if (typeof options.secret !== "string" || options.secret === "") {
    throw new ConfigurationError("The Linq webhook handler needs the webhook secret (a non-empty string)");
  }
  for (const secret of options.additionalSecrets ?? []) {
    if (typeof secret !== "string" || secret === "") {
      throw new ConfigurationError("additionalSecrets must be non-empty strings");
    }
  }
  if (typeof options.onEvent !== "function") {
    throw new ConfigurationError("The Linq webhook handler needs an onEvent function");
  }
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_WEBHOOK_MAX_BODY_BYTES;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    throw new ConfigurationError("maxBodyBytes must be a positive integer");
  }
  const maxEventAgeSeconds = options.maxEventAgeSeconds;
  if (maxEventAgeSeconds !== undefined && !(Number.isFinite(maxEventAgeSeconds) && maxEventAgeSeconds > 0)) {
    throw new ConfigurationError("maxEventAgeSeconds must be a positive number of seconds");
  }
  return { ...options, maxBodyBytes };
}

const METHOD_NOT_ALLOWED: WebhookAnswer = {
  status: 405,
  body: { error: "method_not_allowed" },
  headers: { allow: "POST" },
};
const UNSUPPORTED_MEDIA_TYPE: WebhookAnswer = { status: 415, body: { error: "unsupported_media_type" } };
const PAYLOAD_TOO_LARGE: WebhookAnswer = {
  status: 413,
  body: { error: "payload_too_large" },
  // The rest of the body is not read; closing the connection keeps it from being reused mid-body.
  headers: { connection: "close" },
};
const INTERNAL_ERROR: WebhookAnswer = { status: 500, body: { error: "internal_error" } };
const BAD_REQUEST: WebhookAnswer = { status: 400, body: { error: "bad_request" } };

async function answerNodeRequest(
  request: IncomingMessage,
  settings: HandlerSettings,
): Promise<WebhookAnswer> {
  const precheck = precheckRequest(request.method, request.headers, settings.maxBodyBytes);
  if (precheck !== undefined) return precheck;

  let rawBody: WebhookRawBody;
  const preread = prereadBody(request);
  if (preread !== undefined) {
    rawBody = preread;
  } else if (request.readableEnded) {
    const error = new ConfigurationError(
      "The request body was already consumed (and parsed) before the Linq webhook handler ran; " +
        "signatures need the raw body: mount the handler before any JSON body parser, or use express.raw()",
    );
    reportError(settings, error);
    return INTERNAL_ERROR;
  } else {
    let body: Buffer | undefined;
    try {
      body = await readNodeBody(request, settings.maxBodyBytes);
    } catch (error) {
      reportError(settings, error);
      return BAD_REQUEST;
    }
    if (body === undefined) return PAYLOAD_TOO_LARGE;
    rawBody = body;
  }
  const size = typeof rawBody === "string" ? Buffer.byteLength(rawBody) : rawBody.byteLength;
  if (size > settings.maxBodyBytes) return PAYLOAD_TOO_LARGE;
  return answerRawBody(rawBody, request.headers, settings);
}

async function answerFetchRequest(request: Request, settings: HandlerSettings): Promise<WebhookAnswer> {
  const precheck = precheckRequest(request.method, request.headers, settings.maxBodyBytes);
  if (precheck !== undefined) return precheck;
  let body: Uint8Array | undefined;
  try {
    body = await readStreamBody(request.body, settings.maxBodyBytes);
  } catch (error) {
    reportError(settings, error);
    return BAD_REQUEST;
  }
  if (body === undefined) return PAYLOAD_TOO_LARGE;
  return answerRawBody(body, request.headers, settings);
}

/** The checks that need no body: method, content type, declared length. */
function precheckRequest(
  method: string | undefined,
  headers: WebhookHeaders,
  maxBodyBytes: number,
): WebhookAnswer | undefined {
  if (method?.toUpperCase() !== "POST") return METHOD_NOT_ALLOWED;
  const contentType = readHeader(headers, "content-type");
  if (contentType !== undefined && !isJsonContentType(contentType)) return UNSUPPORTED_MEDIA_TYPE;
  const contentLength = readHeader(headers, "content-length");
  if (
    contentLength !== undefined &&
    /^\d+$/.test(contentLength.trim()) &&
    Number(contentLength) > maxBodyBytes
  ) {
    return PAYLOAD_TOO_LARGE;
  }
  return undefined;
}

async function answerRawBody(
  rawBody: WebhookRawBody,
  headers: WebhookHeaders,
  settings: HandlerSettings,
): Promise<WebhookAnswer> {
  const result = handleLinqWebhook({
    rawBody,
    headers,
    secret: settings.secret,
    ...(settings.additionalSecrets === undefined ? {} : { additionalSecrets: settings.additionalSecrets }),
    ...(settings.maxEventAgeSeconds === undefined ? {} : { maxEventAgeSeconds: settings.maxEventAgeSeconds }),
  });
  if (result.status !== 200) {
    reportError(settings, result.error);
    return { status: result.status, body: result.body };
  }
  try {
    await settings.onEvent(result.event);
  } catch (error) {
    reportError(settings, error);
    return INTERNAL_ERROR;
  }
  return { status: 200, body: result.body };
}

/** `application/json`, or any `+json` type; parameters such as charset are ignored. */
function isJsonContentType(contentType: string): boolean {
  const mediaType = (contentType.split(";")[0] ?? "").trim().toLowerCase();
  return mediaType === "application/json" || /^[a-z0-9!#$&^_.-]+\/[a-z0-9!#$&^_.+-]+\+json$/.test(mediaType);
}

/** A header's value, by case-insensitive name; undefined when absent or sent more than once with different values. */
function readHeader(headers: WebhookHeaders, name: string): string | undefined {
  // Duck-typed: a Headers from another realm or from the undici package is not `instanceof` the global one.
  if (isHeadersLike(headers)) return headers.get(name) ?? undefined;
  const record = headers;
  const lowerName = name.toLowerCase();
  const values: string[] = [];
  for (const key of Object.keys(record)) {
    if (key.toLowerCase() !== lowerName) continue;
    const value = record[key];
    if (typeof value === "string") values.push(value);
    else if (Array.isArray(value))
      values.push(...value.filter((item): item is string => typeof item === "string"));
  }
  const distinct = new Set(values);
  if (distinct.size !== 1) return distinct.size === 0 ? undefined : values.join(", ");
  return values[0];
}

function isHeadersLike(headers: WebhookHeaders): headers is Headers {
  return (
    typeof (headers as Partial<Headers>).get === "function" &&
    typeof (headers as Partial<Headers>).has === "function"
  );
}

/** A raw body a framework already read (Express `express.raw()`, Firebase `rawBody`, …), if any. */
function prereadBody(request: IncomingMessage): WebhookRawBody | undefined {
  const candidate = request as IncomingMessage & { rawBody?: unknown; body?: unknown };
  for (const value of [candidate.rawBody, candidate.body]) {
    if (typeof value === "string" || value instanceof Uint8Array) return value;
  }
  return undefined;
}

/** Reads the body, or returns undefined as soon as it exceeds `limit` bytes. */
function readNodeBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      request.off("data", onData);
      request.off("end", onEnd);
      request.off("error", onError);
      request.off("close", onClose);
      // The stream may still fail after we stop reading (a reset); without a listener that would crash the process.
      request.on("error", ignoreError);
    };
    const onData = (chunk: Buffer | string) => {
      const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      size += bytes.byteLength;
      if (size > limit) {
        cleanup();
        request.pause();
        resolve(undefined);
        return;
      }
      chunks.push(bytes);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(
        new NetworkError("The webhook request body could not be read", { source: "webhook", cause: error }),
      );
    };
    const onClose = () => {
      cleanup();
      reject(
        new NetworkError("The client closed the connection before sending the whole webhook body", {
          source: "webhook",
        }),
      );
    };
    request.on("data", onData);
    request.on("end", onEnd);
    request.on("error", onError);
    request.on("close", onClose);
  });
}

function ignoreError(): void {}

/** Reads a fetch body stream, or returns undefined (and cancels it) once it exceeds `limit` bytes. */
async function readStreamBody(
  stream: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<Uint8Array | undefined> {
  if (stream === null) return new Uint8Array(0);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}

function sendNodeAnswer(response: ServerResponse, answer: WebhookAnswer): void {
  if (response.headersSent) {
    if (!response.writableEnded) response.end();
    return;
  }
  const text = JSON.stringify(answer.body);
  response.writeHead(answer.status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...answer.headers,
  });
  response.end(text);
}

function reportError(settings: HandlerSettings, error: unknown): void {
  if (settings.onError === undefined) return;
  try {
    settings.onError(error);
  } catch {
    // A failing logger must not change the answer.
  }
}
