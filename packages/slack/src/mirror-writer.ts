/**
 * Posting into Slack exactly once, although the host runs every job at least once and Slack's
 * chat.postMessage is not idempotent.
 *
 * Each post has an operation key (`message:<linq id>`, `thread:<chat id>`, …) that the caller also
 * uses for the mapping it records afterwards. The sequence:
 *
 * 1. the caller checks its mapping (already posted → nothing to do);
 * 2. an attempt marker (`slack.post-attempt`) is written *before* the request;
 * 3. the message is posted with `metadata: { event_type: "linq_connect", event_payload: { key } }`;
 * 4. the caller records the ts in its mapping, then the marker is deleted.
 *
 * When the request fails and Slack provably did nothing (`{ ok: false }`, 429, refused connection)
 * the marker is deleted and the error thrown. When the failure is ambiguous (timeout, dropped
 * connection, 5xx) the marker stays: the next attempt finds it and first looks for the message in
 * the thread (conversations.replies / history with `oldest` = the marker's time, metadata
 * included), adopting it when it is there. That read is the only one the connector ever makes, and
 * only after an ambiguous failure, so Slack's history limits (1 request a minute for some apps) are
 * never on the hot path.
 *
 * Files: the two-step upload (files.getUploadURLExternal, POST to the upload URL,
 * files.completeUploadExternal) keeps the file id in the marker; after an ambiguous completion,
 * files.info tells whether the file is shared in the channel already.
 */
import { type ConnectorContext, LinqConnectError, NetworkError, ServerError } from "@linq-connect/core";
import { mappingKinds } from "./mappings.ts";
import type { SlackApi, SlackResult } from "./slack-api.ts";
import { isAmbiguousFailure, mapSlackError, slackErrorCode } from "./slack-errors.ts";

export const metadataEventType = "linq_connect";

export interface SlackPostInput {
  channel: string;
  threadTs?: string;
  /** The notification / fallback text (always set). */
  text: string;
  blocks?: unknown[];
}

export interface SlackUploadInput {
  channel: string;
  threadTs?: string;
  filename: string;
  title?: string;
  bytes: Buffer;
  /** A line shown with the file. */
  initialComment?: string;
}

interface AttemptMetadata {
  startedAt: number;
  channel: string;
  threadTs?: string;
  fileId?: string;
}

/** How far before the marker's time reconciliation looks (clock skew between us and Slack). */
const reconciliationMarginSeconds = 120;
const maxReconciliationPages = 20;

function slackTime(milliseconds: number): string {
  return Math.max(0, milliseconds / 1000 - reconciliationMarginSeconds).toFixed(6);
}

function payloadKey(message: unknown): string | undefined {
  const metadata = (message as { metadata?: { event_type?: unknown; event_payload?: { key?: unknown } } })
    ?.metadata;
  if (metadata?.event_type !== metadataEventType) return undefined;
  return typeof metadata.event_payload?.key === "string" ? metadata.event_payload.key : undefined;
}

export interface MirrorWriterOptions {
  api: SlackApi;
  now: () => number;
  /** Per-request timeout of the upload POST. */
  uploadTimeoutMs: number;
}

export class MirrorWriter {
  readonly #api: SlackApi;
  readonly #now: () => number;
  readonly #uploadTimeoutMs: number;

  constructor(options: MirrorWriterOptions) {
    this.#api = options.api;
    this.#now = options.now;
    this.#uploadTimeoutMs = options.uploadTimeoutMs;
  }

  /**
   * Posts `input` unless an earlier attempt with the same key already did; `record` stores the ts
   * (the caller's mapping) before the attempt marker is removed. Resolves with the message's ts.
   */
  async postOnce(
    context: ConnectorContext,
    key: string,
    input: SlackPostInput,
    record: (ts: string) => Promise<void>,
  ): Promise<string> {
    const { store } = context;
    const previous = await store.findByLinqId(mappingKinds.attempt, key);
    if (previous !== undefined) {
      const metadata = previous.metadata as Partial<AttemptMetadata>;
      const found = await this.#findPosted(context, key, input, metadata.startedAt ?? this.#now());
      if (found !== undefined) {
        context.logger.info(
          { key, ts: found },
          "slack post found after an ambiguous failure: not posting again",
        );
        await record(found);
        await store.deleteMapping(mappingKinds.attempt, key);
        return found;
      }
    } else {
      await store.insertMapping({
        kind: mappingKinds.attempt,
        linqId: key,
        externalId: `attempt:${key}`,
        metadata: {
          startedAt: this.#now(),
          channel: input.channel,
          ...(input.threadTs === undefined ? {} : { threadTs: input.threadTs }),
        } satisfies AttemptMetadata,
      });
    }
    let result: SlackResult;
    try {
      result = await this.#api.call(
        "chat.postMessage",
        {
          channel: input.channel,
          text: input.text,
          ...(input.blocks === undefined ? {} : { blocks: input.blocks }),
          ...(input.threadTs === undefined ? {} : { thread_ts: input.threadTs }),
          unfurl_links: false,
          unfurl_media: false,
          metadata: { event_type: metadataEventType, event_payload: { key } },
        },
        { kind: "create", channel: input.channel, signal: context.signal },
      );
    } catch (error) {
      await this.#afterFailure(context, key, error);
      throw error;
    }
    const ts = typeof result.ts === "string" ? result.ts : undefined;
    if (ts === undefined) {
      throw new ServerError("Slack chat.postMessage answered without a ts", { source: "slack" });
    }
    await record(ts);
    await store.deleteMapping(mappingKinds.attempt, key);
    return ts;
  }

  /**
   * Uploads a file into a channel (thread) unless an earlier attempt with the same key already
   * shared it; `record` stores the file id and the share's ts. Resolves with the file id.
   */
  async uploadOnce(
    context: ConnectorContext,
    key: string,
    input: SlackUploadInput,
    record: (fileId: string, ts: string | undefined) => Promise<void>,
  ): Promise<string> {
    const { store } = context;
    const previous = await store.findByLinqId(mappingKinds.attempt, key);
    let fileId: string | undefined;
    let resumed = false;
    if (previous !== undefined) {
      const metadata = previous.metadata as Partial<AttemptMetadata>;
      if (typeof metadata.fileId === "string") {
        const share = await this.#fileShare(context, metadata.fileId, input.channel);
        if (share.shared) {
          await record(metadata.fileId, share.ts);
          await store.deleteMapping(mappingKinds.attempt, key);
          return metadata.fileId;
        }
        // Uploaded but never completed: complete it now (or upload again when the ticket expired).
        if (share.exists) {
          fileId = metadata.fileId;
          resumed = true;
        }
      }
    } else {
      await store.insertMapping({
        kind: mappingKinds.attempt,
        linqId: key,
        externalId: `attempt:${key}`,
        metadata: { startedAt: this.#now(), channel: input.channel } satisfies AttemptMetadata,
      });
    }
    try {
      if (fileId === undefined) {
        const ticket = await this.#api.call(
          "files.getUploadURLExternal",
          { filename: input.filename, length: input.bytes.byteLength },
          { channel: input.channel, signal: context.signal },
        );
        const uploadUrl = ticket.upload_url;
        const newFileId = ticket.file_id;
        if (typeof uploadUrl !== "string" || typeof newFileId !== "string") {
          throw new ServerError("Slack files.getUploadURLExternal answered without upload_url/file_id", {
            source: "slack",
          });
        }
        await this.#uploadBytes(uploadUrl, input.bytes, context.signal);
        fileId = newFileId;
        await store.updateMetadata(mappingKinds.attempt, key, { fileId });
      }
      // The share's ts is not in the answer (files.info has it); the mapping does not need it.
      await this.#complete(context, fileId, input);
      await record(fileId, undefined);
      await store.deleteMapping(mappingKinds.attempt, key);
      return fileId;
    } catch (error) {
      if (resumed && slackErrorCode(error) === "file_not_found") {
        // The earlier upload ticket is gone (expired): upload again from the start.
        await store.deleteMapping(mappingKinds.attempt, key);
        return this.uploadOnce(context, key, input, record);
      }
      await this.#afterFailure(context, key, error, { keepWhenFileKnown: true });
      throw error;
    }
  }

  async #complete(context: ConnectorContext, fileId: string, input: SlackUploadInput): Promise<void> {
    await this.#api.call(
      "files.completeUploadExternal",
      {
        files: [{ id: fileId, title: input.title ?? input.filename }],
        channel_id: input.channel,
        ...(input.threadTs === undefined ? {} : { thread_ts: input.threadTs }),
        ...(input.initialComment === undefined ? {} : { initial_comment: input.initialComment }),
      },
      { kind: "create", channel: input.channel, signal: context.signal },
    );
  }

  async #uploadBytes(url: string, bytes: Buffer, signal: AbortSignal): Promise<void> {
    let response: Response;
    try {
      response = await fetch(url, {
        method: "POST",
        body: new Uint8Array(bytes),
        headers: { "content-type": "application/octet-stream" },
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.#uploadTimeoutMs)]),
      });
    } catch (error) {
      throw mapSlackError(error, { method: "file upload" });
    }
    const body = await response.text().catch(() => "");
    if (response.status >= 500) {
      throw new ServerError(`Slack file upload failed with HTTP ${response.status}`, {
        source: "slack",
        status: response.status,
      });
    }
    if (!response.ok) {
      throw new NetworkError(`Slack file upload failed with HTTP ${response.status}: ${body.slice(0, 200)}`, {
        source: "slack",
        status: response.status,
      });
    }
  }

  /** Whether a file exists and is shared in `channel`. */
  async #fileShare(
    context: ConnectorContext,
    fileId: string,
    channel: string,
  ): Promise<{ exists: boolean; shared: boolean; ts: string | undefined }> {
    let result: SlackResult;
    try {
      result = await this.#api.call("files.info", { file: fileId }, { channel, signal: context.signal });
    } catch (error) {
      if (slackErrorCode(error) === "file_not_found" || slackErrorCode(error) === "file_deleted") {
        return { exists: false, shared: false, ts: undefined };
      }
      throw error;
    }
    const file = result.file as
      | {
          shares?: Record<string, Record<string, { ts?: string }[]> | undefined>;
          channels?: string[];
          groups?: string[];
        }
      | undefined;
    const inChannel = [
      ...(file?.shares?.public?.[channel] ?? []),
      ...(file?.shares?.private?.[channel] ?? []),
    ];
    const listed = (file?.channels ?? []).includes(channel) || (file?.groups ?? []).includes(channel);
    return { exists: true, shared: inChannel.length > 0 || listed, ts: inChannel[0]?.ts };
  }

  /** Looks for a message posted with `key` after `startedAt` (the reconciliation read). */
  async #findPosted(
    context: ConnectorContext,
    key: string,
    input: SlackPostInput,
    startedAt: number,
  ): Promise<string | undefined> {
    const method = input.threadTs === undefined ? "conversations.history" : "conversations.replies";
    let cursor: string | undefined;
    for (let page = 0; page < maxReconciliationPages; page += 1) {
      let result: SlackResult;
      try {
        result = await this.#api.call(
          method,
          {
            channel: input.channel,
            ...(input.threadTs === undefined ? {} : { ts: input.threadTs }),
            oldest: slackTime(startedAt),
            include_all_metadata: true,
            limit: 200,
            ...(cursor === undefined ? {} : { cursor }),
          },
          { channel: input.channel, signal: context.signal },
        );
      } catch (error) {
        if (slackErrorCode(error) === "thread_not_found") return undefined;
        throw error;
      }
      const messages = Array.isArray(result.messages) ? (result.messages as unknown[]) : [];
      for (const message of messages) {
        if (payloadKey(message) === key) {
          const ts = (message as { ts?: unknown }).ts;
          if (typeof ts === "string") return ts;
        }
      }
      const next = (result.response_metadata as { next_cursor?: unknown } | undefined)?.next_cursor;
      if (typeof next !== "string" || next === "") return undefined;
      cursor = next;
    }
    return undefined;
  }

  async #afterFailure(
    context: ConnectorContext,
    key: string,
    error: unknown,
    options: { keepWhenFileKnown?: boolean } = {},
  ): Promise<void> {
    const mapped = error instanceof LinqConnectError ? error : mapSlackError(error);
    if (isAmbiguousFailure(mapped)) return;
    if (options.keepWhenFileKnown === true) {
      const marker = await context.store.findByLinqId(mappingKinds.attempt, key);
      if (typeof (marker?.metadata as Partial<AttemptMetadata> | undefined)?.fileId === "string") return;
    }
    await context.store.deleteMapping(mappingKinds.attempt, key);
  }
}
