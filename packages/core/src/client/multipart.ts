/**
 * The multipart/form-data body of Send Message, built once in memory so that a
 * retry resends exactly the same bytes (same boundary, same files).
 */
import { FormData, Response } from "undici";
import { ValidationError } from "../errors.ts";
import { abortErrorFor } from "./sleep.ts";
import type { AttachmentData, AttachmentUpload } from "./types.ts";

/** Default cap on the total size of the files of one message: 100 MB. */
export const DEFAULT_MAX_UPLOAD_BYTES = 100 * 1024 * 1024;

/** A serialised request body and its content type. */
export interface EncodedBody {
  bytes: Buffer;
  contentType: string;
}

export interface SendMessageFormInput {
  text: string;
  idempotencyKey: string;
  attachments?: readonly AttachmentUpload[] | undefined;
  attachmentUrls?: readonly string[] | undefined;
}

function tooLarge(operation: string, limit: number): ValidationError {
  return new ValidationError(
    `Linq ${operation}: the attachments exceed the upload limit of ${limit} bytes; nothing was sent`,
    { source: "internal", fieldErrors: [{ field: "attachments", message: `larger than ${limit} bytes` }] },
  );
}

function isWebReadableStream(value: unknown): value is ReadableStream<Uint8Array> {
  return (
    typeof value === "object" && value !== null && typeof (value as ReadableStream).getReader === "function"
  );
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function"
  );
}

function chunkToBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === "string") return Buffer.from(chunk, "utf8");
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  throw new ValidationError("An attachment stream produced a chunk that is not bytes or a string", {
    source: "internal",
  });
}

interface ReadContext {
  operation: string;
  limit: number;
  /** Bytes already taken by earlier attachments of the same message. */
  used: number;
  signal: AbortSignal | undefined;
}

async function readStream(
  stream: ReadableStream<Uint8Array> | AsyncIterable<unknown>,
  context: ReadContext,
): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const accept = (chunk: unknown): void => {
    if (context.signal?.aborted) throw abortErrorFor(`Linq ${context.operation}`, context.signal, "linq");
    const bytes = chunkToBytes(chunk);
    size += bytes.byteLength;
    if (context.used + size > context.limit) throw tooLarge(context.operation, context.limit);
    chunks.push(bytes);
  };

  if (isWebReadableStream(stream)) {
    const reader = stream.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        accept(value);
      }
    } catch (error) {
      await reader.cancel(error).catch(() => undefined);
      throw error;
    } finally {
      reader.releaseLock();
    }
  } else {
    try {
      for await (const chunk of stream) accept(chunk);
    } catch (error) {
      const destroyable = stream as { destroy?: (error?: Error) => void };
      if (typeof destroyable.destroy === "function") destroyable.destroy();
      throw error;
    }
  }
  return Buffer.concat(chunks, size);
}

/** Reads an attachment's data into a Blob, enforcing the size limit. */
async function toBlob(
  data: AttachmentData,
  contentType: string | undefined,
  context: ReadContext,
): Promise<Blob> {
  const type =
    contentType ?? (data instanceof Blob && data.type !== "" ? data.type : "application/octet-stream");
  if (data instanceof Blob) {
    if (context.used + data.size > context.limit) throw tooLarge(context.operation, context.limit);
    return contentType === undefined || contentType === data.type ? data : new Blob([data], { type });
  }
  if (data instanceof Uint8Array) {
    if (context.used + data.byteLength > context.limit) throw tooLarge(context.operation, context.limit);
    return new Blob([data], { type });
  }
  if (isWebReadableStream(data) || isAsyncIterable(data)) {
    const bytes = await readStream(data, context);
    return new Blob([bytes], { type });
  }
  throw new ValidationError(
    `Linq ${context.operation}: an attachment's data must be a Buffer, Uint8Array, Blob or readable stream`,
    { source: "internal", fieldErrors: [{ field: "attachments", message: "unsupported data type" }] },
  );
}

/**
 * Builds the Send Message multipart body: `message[text]`,
 * `message[idempotency_key]`, one `message[attachments][]` part per file and one
 * `message[attachment_urls][]` part per URL. Streams are read once; the total
 * size of the files is limited to `maxUploadBytes` (ValidationError otherwise,
 * before anything is sent).
 */
export async function encodeSendMessageForm(
  input: SendMessageFormInput,
  options: { operation: string; maxUploadBytes: number; signal?: AbortSignal | undefined },
): Promise<EncodedBody> {
  const form = new FormData();
  form.append("message[text]", input.text);
  form.append("message[idempotency_key]", input.idempotencyKey);
  const context: ReadContext = {
    operation: options.operation,
    limit: options.maxUploadBytes,
    used: 0,
    signal: options.signal,
  };
  for (const [index, attachment] of (input.attachments ?? []).entries()) {
    if (typeof attachment.filename !== "string" || attachment.filename.trim() === "") {
      throw new ValidationError(`Linq ${options.operation}: attachment ${index} needs a filename`, {
        source: "internal",
        fieldErrors: [{ field: `attachments[${index}].filename`, message: "is required" }],
      });
    }
    const blob = await toBlob(attachment.data, attachment.contentType, context);
    context.used += blob.size;
    form.append("message[attachments][]", blob, attachment.filename);
  }
  for (const url of input.attachmentUrls ?? []) form.append("message[attachment_urls][]", url);

  const serialised = new Response(form);
  const contentType = serialised.headers.get("content-type");
  if (contentType === null) throw new Error("undici did not produce a multipart content type");
  return { bytes: Buffer.from(await serialised.arrayBuffer()), contentType };
}
