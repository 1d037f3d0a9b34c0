/**
 * A Bolt `Receiver` for Socket Mode that acknowledges an envelope only once the connector's
 * listeners stored their work.
 *
 * Bolt's own `SocketModeReceiver` hands `App.processEvent` an `ack()` that writes the
 * acknowledgement to the WebSocket at once, and `App.processEvent` calls it for every Events API
 * delivery before any listener runs (`processBeforeResponse` exists for the HTTP receivers only).
 * A listener that then failed to enqueue its job lost the event: Slack had its ack and does not
 * deliver it again. This receiver keeps Bolt's `SocketModeReceiver` for the connection (connect,
 * reconnect, envelopes, `retry_attempt` / `retry_reason` as `retryNum` / `retryReason`) and takes
 * over `processEvent`: Bolt's listeners run with an `ack()` that only records the answer
 * (`processWithDeferredAck`, as the HTTP receiver does), and the envelope is acknowledged:
 *
 * - Events API envelopes: once the listeners are done, i.e. once `context.enqueue(...)` resolved.
 *   A listener that failed leaves the envelope unacknowledged: Slack sends it again
 *   (`retry_attempt` 1..3, `retry_reason: "timeout"`), and the job's deduplication key makes the
 *   redelivery, or a redelivery of an event whose ack came too late, one job.
 * - Slash commands and interactivity: once the listeners are done, or as soon as the listener
 *   called `ack()` and `ackTimeoutMs` passed (the user sees an error after 3 s), with the
 *   listener's `ack()` payload. A listener that failed without answering leaves it unacknowledged.
 */
import type { ConnectorLogger } from "@linq-connect/core";
import {
  type App,
  type Logger as BoltLogger,
  type Receiver,
  type ReceiverEvent,
  SocketModeReceiver,
} from "@slack/bolt";
import { processWithDeferredAck } from "./bolt-receiver.ts";

export interface AckAfterStoreSocketModeReceiverOptions {
  /** The app-level token (`xapp-…`, connections:write). */
  appToken: string;
  /** The connector's logger (what happened to an envelope). */
  logger: ConnectorLogger;
  /** The Slack SDK's logger (the WebSocket client's own messages). */
  sdkLogger: BoltLogger;
  /** The Web API base URL for apps.connections.open, ending with `/`. */
  apiUrl?: string;
  /** The custom properties every envelope's listeners get in their `context`. */
  customProperties: () => Record<string, unknown>;
  /** How long to wait for a command's or interaction's listeners after `ack()`. Default 2 500 ms. */
  ackTimeoutMs?: number;
}

export class AckAfterStoreSocketModeReceiver implements Receiver {
  readonly #socketMode: SocketModeReceiver;
  readonly #logger: ConnectorLogger;
  readonly #ackTimeoutMs: number;

  constructor(options: AckAfterStoreSocketModeReceiverOptions) {
    this.#logger = options.logger;
    this.#ackTimeoutMs = options.ackTimeoutMs ?? 2500;
    this.#socketMode = new SocketModeReceiver({
      appToken: options.appToken,
      logger: options.sdkLogger,
      customPropertiesExtractor: () => options.customProperties(),
      // `#process` never throws; should it, the envelope stays unacknowledged (the default acks
      // some errors, and an ack is what loses an event).
      processEventErrorHandler: async () => false,
      ...(options.apiUrl === undefined
        ? {}
        : { installerOptions: { clientOptions: { slackApiUrl: options.apiUrl } } }),
    });
  }

  init(app: App): void {
    // SocketModeReceiver only ever calls `processEvent` on the app it was given: hand it ours.
    const dispatcher: Pick<App, "processEvent"> = { processEvent: (event) => this.#process(app, event) };
    this.#socketMode.init(dispatcher as App);
  }

  start(): Promise<unknown> {
    return this.#socketMode.start();
  }

  stop(): Promise<unknown> {
    return this.#socketMode.stop();
  }

  async #process(app: App, event: ReceiverEvent): Promise<void> {
    const { ack, ...rest } = event;
    const body = event.body as { type?: unknown; event_id?: unknown };
    const eventsApi = body.type === "event_callback";
    const outcome = await processWithDeferredAck(app, rest, {
      ackTimeoutMs: this.#ackTimeoutMs,
      waitForListeners: eventsApi,
    });
    const about = {
      ...(typeof body.type === "string" ? { type: body.type } : {}),
      ...(typeof body.event_id === "string" ? { eventId: body.event_id } : {}),
      ...(event.retryNum === undefined ? {} : { retryNum: event.retryNum }),
    };
    if (outcome.kind === "expired") {
      this.#logger.error(about, "a Slack listener neither acknowledged nor finished in time");
      return;
    }
    if (outcome.kind === "failed") {
      this.#logger.error(
        { ...about, error: outcome.error instanceof Error ? outcome.error.message : String(outcome.error) },
        eventsApi
          ? "a Slack listener failed: the envelope is not acknowledged, so that Slack delivers it again"
          : "a Slack listener failed before answering: the envelope is not acknowledged",
      );
      return;
    }
    try {
      await ack(outcome.body);
    } catch (error) {
      // The connection dropped: Slack delivers the envelope again, and its job is deduplicated.
      this.#logger.warn(
        { ...about, error: error instanceof Error ? error.message : String(error) },
        "could not acknowledge a Slack envelope",
      );
    }
  }
}
