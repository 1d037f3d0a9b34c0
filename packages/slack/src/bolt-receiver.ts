/**
 * A Bolt `Receiver` for requests the host already received: the host mounts the connector's
 * inbound routes (`POST /slack/events`, `/slack/commands`, `/slack/interactions`) and hands each
 * request over as an `InboundRequest` (raw body, lower-cased headers). For each request it:
 *
 * 1. verifies Slack's signature with Bolt's own `verifySlackRequest` (HMAC-SHA256 over
 *    `v0:timestamp:body`, timestamps older than 5 minutes refused) → 401 on failure;
 * 2. parses JSON (Events API) or form bodies (slash commands; interactivity's `payload` field);
 * 3. answers `url_verification` with its challenge and `ssl_check` with 200;
 * 4. runs `app.processEvent` with `retryNum` / `retryReason` from `X-Slack-Retry-Num` /
 *    `X-Slack-Retry-Reason` and the host's `ConnectorContext` as a custom property;
 * 5. answers with what the listener passed to `ack()` once the listeners are done (they only
 *    enqueue durable jobs, which takes milliseconds), or as soon as `ack()` was called and
 *    `ackTimeoutMs` passed, so Slack always has its answer within 3 s. A listener that failed before
 *    its work was stored answers 500, so Slack delivers the event again (the job's deduplication
 *    key makes the retry one job).
 *
 * `processWithDeferredAck` (step 5) is shared with the Socket Mode receiver
 * (`socket-mode-receiver.ts`), which acknowledges envelopes the same way.
 */
import type { ConnectorContext, ConnectorLogger, InboundRequest, InboundResponse } from "@linq-connect/core";
import {
  type App,
  type Receiver,
  type ReceiverEvent,
  ReceiverMultipleAckError,
  verifySlackRequest,
} from "@slack/bolt";

/** The name of the custom property that carries the host's context to the listeners. */
export const connectorContextProperty = "linqConnectContext";

export interface InboundRequestReceiverOptions {
  signingSecret: string;
  logger: ConnectorLogger;
  /** How long to wait for the listeners after `ack()` before answering anyway. Default 2 500 ms. */
  ackTimeoutMs?: number;
  /** The clock for the timestamp check. Default `Date.now`. */
  now?: () => number;
}

function text(status: number, body: string): InboundResponse {
  return { status, headers: { "content-type": "text/plain; charset=utf-8" }, body };
}

function json(status: number, body: unknown): InboundResponse {
  return { status, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

/** The ack body as Bolt's HTTP receiver would send it. */
function ackResponse(body: unknown): InboundResponse {
  if (body === undefined || body === null || body === "") return { status: 200, body: "" };
  if (typeof body === "string") return text(200, body);
  return json(200, body);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function parseBody(request: InboundRequest): Record<string, unknown> | undefined {
  const contentType = (request.headers["content-type"] ?? "").toLowerCase();
  const raw = request.rawBody.toString("utf8");
  try {
    if (contentType.startsWith("application/x-www-form-urlencoded")) {
      const form = new URLSearchParams(raw);
      const payload = form.get("payload");
      if (payload !== null) return JSON.parse(payload) as Record<string, unknown>;
      return Object.fromEntries(form.entries());
    }
    const parsed: unknown = JSON.parse(raw);
    return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export class InboundRequestReceiver implements Receiver {
  readonly #signingSecret: string;
  readonly #logger: ConnectorLogger;
  readonly #ackTimeoutMs: number;
  readonly #now: () => number;
  #app: App | undefined;

  constructor(options: InboundRequestReceiverOptions) {
    this.#signingSecret = options.signingSecret;
    this.#logger = options.logger;
    this.#ackTimeoutMs = options.ackTimeoutMs ?? 2500;
    this.#now = options.now ?? Date.now;
  }

  init(app: App): void {
    this.#app = app;
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  /** Handles one request from Slack. */
  async handle(request: InboundRequest, context: ConnectorContext): Promise<InboundResponse> {
    if (request.method !== "POST") return { ...text(405, "Method Not Allowed"), headers: { allow: "POST" } };
    const timestamp = Number(request.headers["x-slack-request-timestamp"]);
    const signature = request.headers["x-slack-signature"] ?? "";
    try {
      verifySlackRequest({
        signingSecret: this.#signingSecret,
        body: request.rawBody.toString("utf8"),
        headers: { "x-slack-signature": signature, "x-slack-request-timestamp": timestamp },
        nowMilliseconds: this.#now(),
      });
      if (Number.isNaN(timestamp) || timestamp * 1000 > this.#now() + 5 * 60_000) {
        throw new Error("x-slack-request-timestamp is missing or in the future");
      }
    } catch (error) {
      context.logger.warn(
        { reason: errorMessage(error) },
        "rejected a Slack request: signature verification failed",
      );
      return text(401, "invalid signature");
    }
    const body = parseBody(request);
    if (body === undefined) return text(400, "malformed body");
    if (body.ssl_check !== undefined) return { status: 200, body: "" };
    if (body.type === "url_verification") return json(200, { challenge: body.challenge });
    const app = this.#app;
    if (app === undefined) return text(503, "not ready");

    const retryHeader = request.headers["x-slack-retry-num"];
    const retryNum = retryHeader === undefined ? undefined : Number.parseInt(retryHeader, 10);
    const retryReason = request.headers["x-slack-retry-reason"];
    const outcome = await processWithDeferredAck(
      app,
      {
        body,
        ...(retryNum === undefined || Number.isNaN(retryNum) ? {} : { retryNum }),
        ...(retryReason === undefined ? {} : { retryReason }),
        customProperties: { [connectorContextProperty]: context },
      },
      { ackTimeoutMs: this.#ackTimeoutMs },
    );
    if (outcome.kind === "answer") return ackResponse(outcome.body);
    if (outcome.kind === "expired") {
      this.#logger.error({}, "a Slack listener neither acknowledged nor finished in time");
      return text(500, "listener timed out");
    }
    this.#logger.error(
      { error: errorMessage(outcome.error) },
      "a Slack listener failed: answering 500 so that Slack delivers the request again",
    );
    return text(500, "listener failed");
  }
}

/** What to do with a Slack request once Bolt's listeners ran (or ran out of time). */
export type DeferredAckOutcome =
  /** Acknowledge now, with what the listener passed to `ack()`. */
  | { kind: "answer"; body: unknown }
  /** A listener failed before the request was answered: do not acknowledge, so Slack delivers it again. */
  | { kind: "failed"; error: unknown }
  /** No listener acknowledged or finished within `ackTimeoutMs` + 300 ms. */
  | { kind: "expired" };

export interface DeferredAckOptions {
  /** How long to wait for the listeners after `ack()` before answering anyway. */
  ackTimeoutMs: number;
  /**
   * Answer only once the listeners are done, however long that takes (no deadline): for Events
   * API deliveries, which Bolt acknowledges before its listeners run and Slack delivers again when
   * no answer came in time.
   */
  waitForListeners?: boolean;
}

/**
 * Runs Bolt's listeners for one request with an `ack()` that only records the listener's answer,
 * and says when and how to answer Slack: once the listeners are done (the work they enqueue is
 * stored), or, unless `waitForListeners`, as soon as `ack()` was called and `ackTimeoutMs` passed
 * (a command or interaction whose listener keeps working after `ack()` is answered within Slack's
 * 3 s). A listener that fails before the request was answered gives `failed`.
 */
export async function processWithDeferredAck(
  app: Pick<App, "processEvent">,
  event: Omit<ReceiverEvent, "ack">,
  options: DeferredAckOptions,
): Promise<DeferredAckOutcome> {
  let acked = false;
  let ackBody: unknown;
  let signalAck: () => void = () => undefined;
  const ackCalled = new Promise<void>((resolve) => {
    signalAck = resolve;
  });
  const processing = app
    .processEvent({
      ...event,
      ack: async (response?: unknown) => {
        if (acked) throw new ReceiverMultipleAckError();
        acked = true;
        ackBody = response;
        signalAck();
      },
    })
    .then(
      () => ({ failed: false as const }),
      (error: unknown) => ({ failed: true as const, error }),
    );
  if (options.waitForListeners === true) {
    const done = await processing;
    return done.failed ? { kind: "failed", error: done.error } : { kind: "answer", body: ackBody };
  }
  // Answer when the listeners are done, or once acked and the deadline passed.
  const timers: NodeJS.Timeout[] = [];
  const after = <T>(milliseconds: number, value: T) =>
    new Promise<T>((resolve) => {
      timers.push(setTimeout(() => resolve(value), milliseconds));
    });
  const deadline = after(options.ackTimeoutMs, "deadline" as const);
  const first = await Promise.race([
    processing,
    ackCalled.then(() => deadline),
    after(options.ackTimeoutMs + 300, "expired" as const),
  ]);
  for (const timer of timers) clearTimeout(timer);
  if (first === "deadline") return { kind: "answer", body: ackBody };
  if (first === "expired") return acked ? { kind: "answer", body: ackBody } : { kind: "expired" };
  if (first.failed) return { kind: "failed", error: first.error };
  return { kind: "answer", body: ackBody };
}
