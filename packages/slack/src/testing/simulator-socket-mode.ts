/**
 * Socket Mode, as Slack speaks it: apps.connections.open issues a single-use
 * WebSocket URL (`ws://HOST/socket-mode/<ticket>`, valid for a minute); the
 * connection gets a `hello` (`num_connections`, `debug_info`,
 * `connection_info.app_id`), WebSocket pings, and envelopes
 * `{ envelope_id, payload, type, accepts_response_payload }` (events_api ones
 * also carry `retry_attempt` and `retry_reason`) that the app acknowledges with
 * `{ envelope_id, payload? }`.
 *
 * With several connections open, each envelope goes to one of them, picked at
 * random. An events_api envelope not acked within the ack timeout (3 s) is sent
 * again as a new envelope (new envelope_id, same event_id) with `retry_attempt`
 * 1..3 and `retry_reason: "timeout"`, after the Events API retry delays — also
 * when no connection was open (the app was reconnecting). Slash commands and
 * interactions are sent once: without an ack in time the user sees
 * `operation_timeout`.
 *
 * Connections are refreshed like Slack's: after `approximate_connection_time`
 * (3 600 s, or 360 s with `debug_reconnects=true` on the URL) a `warning`
 * disconnect, then `refresh_requested`; the app should connect again (Bolt
 * does). A connection told to go away gets no more envelopes and is closed by
 * the server after a grace period if the app does not close it.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { performance } from "node:perf_hooks";
import type { Duplex } from "node:stream";
import { ConfigurationError } from "@linq-connect/core";
import { type RawData, type WebSocket, WebSocketServer } from "ws";
import { sleep } from "./simulator-delivery.ts";
import type {
  SlackEventDeliveryConfiguration,
  SlackSocketModeConfiguration,
  SlackSocketModeConnection,
  SlackSocketModeDeliveryRecord,
  SlackSocketModeDisconnectReason,
} from "./simulator-types.ts";

/** The Socket Mode envelope types. */
export type SocketModeEnvelopeType = SlackSocketModeDeliveryRecord["type"];

/** The answer to a command or interaction sent over Socket Mode. */
export interface SocketModeAnswer {
  acked: boolean;
  /** The ack's `payload`, if any. */
  payload: unknown;
  failure: "timeout" | "no_connection" | null;
  envelopeId: string;
}

const TICKET_LIFETIME_MS = 60_000;
const DEBUG_RECONNECTS_LIFETIME_SECONDS = 360;
const MAX_EVENT_RETRIES = 3;
const BUILD_NUMBER = 1;

interface ConnectionRecord {
  id: string;
  socket: WebSocket;
  host: string;
  openedAt: Date;
  state: "open" | "disconnecting";
  disconnectReason: SlackSocketModeDisconnectReason | null;
  debugReconnects: boolean;
  envelopesSent: number;
  acksReceived: number;
  timers: Set<NodeJS.Timeout>;
}

interface PendingAck {
  settle(ack: { payload: unknown } | undefined): void;
}

interface Envelope {
  type: SocketModeEnvelopeType;
  payload: Record<string, unknown>;
  acceptsResponsePayload: boolean;
  eventId: string | null;
  name: string;
  subtype: string | null;
  duplicate: boolean;
}

interface SendOutcome {
  acked: boolean;
  aborted: boolean;
  payload: unknown;
  failure: "timeout" | "no_connection" | null;
  envelopeId: string;
}

/** An event for the app, in its `event_callback` envelope. */
export interface SocketModeEvent {
  eventId: string;
  type: string;
  subtype: string | null;
  payload: Record<string, unknown>;
}

export class SocketModeHub {
  private readonly appId: string;
  private readonly now: () => Date;
  private readonly log: (line: string) => void;
  private readonly delivery: () => Readonly<Required<SlackEventDeliveryConfiguration>>;
  private configuration: Required<SlackSocketModeConfiguration>;
  private readonly server = new WebSocketServer({ noServer: true, clientTracking: false });
  private readonly connectionsById = new Map<string, ConnectionRecord>();
  private readonly tickets = new Map<string, { createdAt: number; used: boolean }>();
  private readonly pendingAcks = new Map<string, PendingAck>();
  private readonly timedOut = new Map<string, SlackSocketModeDeliveryRecord>();
  private readonly pending = new Set<Promise<void>>();
  private readonly hangingSockets = new Set<Duplex>();
  private records: SlackSocketModeDeliveryRecord[] = [];
  private lifetime = new AbortController();
  private setting: boolean | undefined;
  private everConnected = false;
  private connectionCount = 0;
  private closed = false;

  constructor(options: {
    appId: string;
    now: () => Date;
    log: (line: string) => void;
    delivery: () => Readonly<Required<SlackEventDeliveryConfiguration>>;
    enabled: boolean | undefined;
    configuration?: SlackSocketModeConfiguration;
  }) {
    this.appId = options.appId;
    this.now = options.now;
    this.log = options.log;
    this.delivery = options.delivery;
    this.setting = options.enabled;
    this.configuration = {
      pingIntervalMs: 10_000,
      connectionLifetimeSeconds: 3_600,
      warningLeadMs: 10_000,
      disconnectGraceMs: 10_000,
    };
    if (options.configuration !== undefined) this.configure(options.configuration);
  }

  /** Whether events, commands and interactions go over Socket Mode. */
  get active(): boolean {
    return this.setting === true || (this.setting === undefined && this.everConnected);
  }

  get deliveries(): SlackSocketModeDeliveryRecord[] {
    return this.records;
  }

  /** Changes the settings; omitted fields keep their value. Throws ConfigurationError. */
  configure(options: SlackSocketModeConfiguration): void {
    const next = { ...this.configuration };
    const positive = (value: number, name: string): number => {
      if (!(Number.isFinite(value) && value > 0))
        throw new ConfigurationError(`${name} must be a positive number`);
      return value;
    };
    if (options.pingIntervalMs !== undefined)
      next.pingIntervalMs = positive(options.pingIntervalMs, "pingIntervalMs");
    if (options.connectionLifetimeSeconds !== undefined) {
      next.connectionLifetimeSeconds =
        options.connectionLifetimeSeconds === false
          ? false
          : positive(options.connectionLifetimeSeconds, "connectionLifetimeSeconds");
    }
    if (options.warningLeadMs !== undefined)
      next.warningLeadMs = positive(options.warningLeadMs, "warningLeadMs");
    if (options.disconnectGraceMs !== undefined) {
      next.disconnectGraceMs = positive(options.disconnectGraceMs, "disconnectGraceMs");
    }
    this.configuration = next;
  }

  /** The "Enable Socket Mode" toggle; turning it off tells every connection `link_disabled`. */
  setEnabled(enabled: boolean): void {
    this.setting = enabled;
    if (!enabled) this.disconnectAll("link_disabled");
  }

  /** Issues a single-use WebSocket URL (apps.connections.open). */
  issueUrl(httpBaseUrl: string): string {
    const ticket = randomUUID();
    this.tickets.set(ticket, { createdAt: this.now().getTime(), used: false });
    return `${httpBaseUrl.replace(/^http/, "ws")}/socket-mode/${ticket}`;
  }

  /** Whether an upgrade request is for Socket Mode. */
  static matches(path: string): boolean {
    return /^\/socket-mode\/[^/]+$/.test(path);
  }

  /**
   * Answers a WebSocket upgrade on `/socket-mode/<ticket>`: accepts a valid,
   * unused ticket (101) or refuses it (401; 404 for other paths). Returns the
   * status.
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): number {
    if (this.closed) {
      socket.destroy();
      return 503;
    }
    const url = new URL(request.url ?? "/", "http://simulator.invalid");
    const segment = /^\/socket-mode\/([^/]+)$/.exec(url.pathname)?.[1];
    if (segment === undefined) return refuseUpgrade(socket, 404, "Not Found");
    // Slack's docs say to append `&debug_reconnects=true` to the URL.
    const [ticketId = "", ...extra] = decodeURIComponent(segment).split("&");
    const parameters = new URLSearchParams(url.search);
    for (const pair of extra) {
      const [name = "", value = ""] = pair.split("=");
      parameters.set(name, value);
    }
    const ticket = this.tickets.get(ticketId);
    if (ticket === undefined || ticket.used || this.now().getTime() - ticket.createdAt > TICKET_LIFETIME_MS) {
      this.log(`socket mode: refused ticket ${ticketId} (unknown, used or expired)`);
      return refuseUpgrade(socket, 401, "invalid_ticket");
    }
    if (request.headers.upgrade?.toLowerCase() !== "websocket") {
      return refuseUpgrade(socket, 400, "Expected a WebSocket upgrade");
    }
    ticket.used = true;
    this.server.handleUpgrade(request, socket, head, (webSocket) =>
      this.accept(webSocket, parameters.get("debug_reconnects") === "true"),
    );
    return 101;
  }

  /** Keeps a socket an injected `timeout` fault left unanswered, to destroy it on close. */
  holdHanging(socket: Duplex): void {
    this.hangingSockets.add(socket);
    socket.once("close", () => this.hangingSockets.delete(socket));
  }

  connections(): SlackSocketModeConnection[] {
    return [...this.connectionsById.values()].map((connection) => ({
      id: connection.id,
      openedAt: connection.openedAt.toISOString(),
      state: connection.state,
      disconnectReason: connection.disconnectReason,
      debugReconnects: connection.debugReconnects,
      host: connection.host,
      envelopesSent: connection.envelopesSent,
      acksReceived: connection.acksReceived,
    }));
  }

  disconnectAll(reason: SlackSocketModeDisconnectReason): number {
    let told = 0;
    for (const connection of this.connectionsById.values()) {
      if (connection.state !== "open") continue;
      this.disconnect(connection, reason);
      told += 1;
    }
    return told;
  }

  /** Sends an event (with retries); never blocks the caller. */
  enqueueEvent(event: SocketModeEvent): void {
    if (this.closed) return;
    const envelope = (duplicate: boolean): Envelope => ({
      type: "events_api",
      payload: event.payload,
      acceptsResponsePayload: false,
      eventId: event.eventId,
      name: event.type,
      subtype: event.subtype,
      duplicate,
    });
    this.track(this.runEvent(envelope(false), this.lifetime.signal));
    const { duplicateProbability, random } = this.delivery();
    if (duplicateProbability > 0 && random() < duplicateProbability) {
      this.track(this.runEvent(envelope(true), this.lifetime.signal));
    }
  }

  /** Sends a slash command or an interaction once and waits for the ack. */
  async request(input: {
    type: "slash_commands" | "interactive";
    payload: Record<string, unknown>;
    acceptsResponsePayload: boolean;
    name: string;
  }): Promise<SocketModeAnswer> {
    const outcome = await this.send(
      { ...input, eventId: null, subtype: null, duplicate: false },
      { retryAttempt: 0, retryReason: "" },
      this.lifetime.signal,
    );
    return {
      acked: outcome.acked,
      payload: outcome.payload,
      failure: outcome.aborted ? "timeout" : outcome.failure,
      envelopeId: outcome.envelopeId,
    };
  }

  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Forgets deliveries and abandons pending envelopes; keeps connections and the toggle. */
  reset(): void {
    this.lifetime.abort();
    this.lifetime = new AbortController();
    this.records = [];
    this.timedOut.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.lifetime.abort();
    await Promise.allSettled([...this.pending]);
    for (const connection of this.connectionsById.values()) {
      this.clearTimers(connection);
      connection.socket.terminate();
    }
    this.connectionsById.clear();
    for (const socket of this.hangingSockets) socket.destroy();
    this.hangingSockets.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ------------------------------------------------------------------ connections

  private accept(socket: WebSocket, debugReconnects: boolean): void {
    if (this.closed) {
      socket.terminate();
      return;
    }
    this.connectionCount += 1;
    const connection: ConnectionRecord = {
      id: `SM${this.connectionCount}`,
      socket,
      host: `applink-simulator-${this.connectionCount}`,
      openedAt: this.now(),
      state: "open",
      disconnectReason: null,
      debugReconnects,
      envelopesSent: 0,
      acksReceived: 0,
      timers: new Set(),
    };
    this.connectionsById.set(connection.id, connection);
    if (this.setting !== false) this.everConnected = true;
    socket.on("message", (data, isBinary) => this.receive(connection, data, isBinary));
    socket.on("error", (error) => this.log(`socket mode: ${connection.id} error: ${error.message}`));
    socket.on("close", (code) => {
      this.clearTimers(connection);
      this.connectionsById.delete(connection.id);
      this.log(`socket mode: ${connection.id} closed (${code})`);
    });
    const lifetimeSeconds = debugReconnects
      ? DEBUG_RECONNECTS_LIFETIME_SECONDS
      : this.configuration.connectionLifetimeSeconds;
    this.write(connection, {
      type: "hello",
      num_connections: this.connectionsById.size,
      debug_info: {
        host: connection.host,
        started: connection.openedAt.toISOString().replace("T", " ").replace("Z", ""),
        build_number: BUILD_NUMBER,
        approximate_connection_time: lifetimeSeconds === false ? 0 : Math.round(lifetimeSeconds),
      },
      connection_info: { app_id: this.appId },
    });
    this.log(`socket mode: ${connection.id} connected (${this.connectionsById.size} open)`);
    const ping = setInterval(() => {
      if (socket.readyState === socket.OPEN) socket.ping(Buffer.from(`ping ${Date.now()}`));
    }, this.configuration.pingIntervalMs);
    connection.timers.add(ping);
    if (lifetimeSeconds !== false) {
      const lifetimeMs = lifetimeSeconds * 1000;
      const { warningLeadMs } = this.configuration;
      if (lifetimeMs > warningLeadMs) {
        this.schedule(connection, lifetimeMs - warningLeadMs, () => {
          if (connection.state === "open") this.sendDisconnect(connection, "warning");
        });
      }
      this.schedule(connection, lifetimeMs, () => {
        if (connection.state === "open") this.disconnect(connection, "refresh_requested");
      });
    }
    if (this.setting === false) this.disconnect(connection, "link_disabled");
  }

  private disconnect(connection: ConnectionRecord, reason: SlackSocketModeDisconnectReason): void {
    this.sendDisconnect(connection, reason);
    if (reason === "warning") {
      this.schedule(connection, this.configuration.warningLeadMs, () => {
        if (connection.state === "open") this.disconnect(connection, "refresh_requested");
      });
      return;
    }
    connection.state = "disconnecting";
    this.schedule(connection, this.configuration.disconnectGraceMs, () => {
      if (connection.socket.readyState === connection.socket.OPEN) connection.socket.close(1000);
    });
  }

  private sendDisconnect(connection: ConnectionRecord, reason: SlackSocketModeDisconnectReason): void {
    connection.disconnectReason = reason;
    this.write(connection, { type: "disconnect", reason, debug_info: { host: connection.host } });
    this.log(`socket mode: ${connection.id} told disconnect (${reason})`);
  }

  private receive(connection: ConnectionRecord, data: RawData, isBinary: boolean): void {
    if (isBinary) {
      this.log(`socket mode: ${connection.id} sent a binary message (ignored)`);
      return;
    }
    const text = Array.isArray(data)
      ? Buffer.concat(data).toString("utf8")
      : data instanceof ArrayBuffer
        ? Buffer.from(new Uint8Array(data)).toString("utf8")
        : data.toString("utf8");
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      this.log(`socket mode: ${connection.id} sent a message that is not JSON (ignored)`);
      return;
    }
    const envelopeId =
      message !== null && typeof message === "object" && !Array.isArray(message)
        ? (message as { envelope_id?: unknown }).envelope_id
        : undefined;
    if (typeof envelopeId !== "string") {
      this.log(`socket mode: ${connection.id} sent a message without envelope_id (ignored)`);
      return;
    }
    const payload = (message as { payload?: unknown }).payload;
    const pending = this.pendingAcks.get(envelopeId);
    if (pending !== undefined) {
      connection.acksReceived += 1;
      pending.settle({ payload });
      return;
    }
    const late = this.timedOut.get(envelopeId);
    if (late !== undefined) {
      connection.acksReceived += 1;
      late.acknowledgedLate = true;
      this.log(`socket mode: late ack for ${envelopeId} (ignored)`);
      return;
    }
    this.log(`socket mode: ack for unknown envelope ${envelopeId} (ignored)`);
  }

  private write(connection: ConnectionRecord, message: Record<string, unknown>): boolean {
    if (connection.socket.readyState !== connection.socket.OPEN) return false;
    connection.socket.send(JSON.stringify(message), (error) => {
      if (error !== undefined && error !== null) {
        this.log(`socket mode: ${connection.id} send failed: ${error.message}`);
      }
    });
    return true;
  }

  private schedule(connection: ConnectionRecord, delayMs: number, action: () => void): void {
    const timer = setTimeout(() => {
      connection.timers.delete(timer);
      action();
    }, delayMs);
    connection.timers.add(timer);
  }

  private clearTimers(connection: ConnectionRecord): void {
    for (const timer of connection.timers) clearTimeout(timer);
    connection.timers.clear();
  }

  // ------------------------------------------------------------------ envelopes

  private track(lifecycle: Promise<void>): void {
    this.pending.add(lifecycle);
    void lifecycle.finally(() => this.pending.delete(lifecycle));
  }

  private async runEvent(envelope: Envelope, signal: AbortSignal): Promise<void> {
    let outcome = await this.send(envelope, { retryAttempt: 0, retryReason: "" }, signal);
    for (let retryAttempt = 1; retryAttempt <= MAX_EVENT_RETRIES; retryAttempt += 1) {
      if (outcome.acked || outcome.aborted || !this.delivery().retryOnFailure) return;
      const delays = this.delivery().retryDelaysMs;
      await sleep(delays[retryAttempt - 1] ?? delays.at(-1) ?? 0, signal);
      if (signal.aborted) return;
      outcome = await this.send(envelope, { retryAttempt, retryReason: "timeout" }, signal);
    }
  }

  private pick(): ConnectionRecord | undefined {
    const ready = [...this.connectionsById.values()].filter(
      (connection) => connection.state === "open" && connection.socket.readyState === connection.socket.OPEN,
    );
    if (ready.length <= 1) return ready[0];
    const index = Math.min(ready.length - 1, Math.floor(this.delivery().random() * ready.length));
    return ready[index];
  }

  private async send(
    envelope: Envelope,
    retry: { retryAttempt: number; retryReason: string },
    signal: AbortSignal,
  ): Promise<SendOutcome> {
    const started = performance.now();
    const envelopeId = randomUUID();
    const message: Record<string, unknown> = {
      envelope_id: envelopeId,
      payload: envelope.payload,
      type: envelope.type,
      accepts_response_payload: envelope.acceptsResponsePayload,
    };
    if (envelope.type === "events_api") {
      message.retry_attempt = retry.retryAttempt;
      message.retry_reason = retry.retryReason;
    }
    const body = JSON.stringify(message);
    const connection = this.pick();
    if (signal.aborted) return { acked: false, aborted: true, payload: undefined, failure: null, envelopeId };
    if (connection === undefined) {
      this.record(envelope, retry, {
        envelopeId,
        connectionId: null,
        outcome: "no_connection",
        ackPayload: undefined,
        body,
        durationMs: 0,
      });
      return { acked: false, aborted: false, payload: undefined, failure: "no_connection", envelopeId };
    }
    const ack = await new Promise<{ payload: unknown } | undefined>((resolve) => {
      const finish = (value: { payload: unknown } | undefined): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        this.pendingAcks.delete(envelopeId);
        resolve(value);
      };
      const onAbort = (): void => finish(undefined);
      const timer = setTimeout(() => finish(undefined), this.delivery().ackTimeoutMs);
      this.pendingAcks.set(envelopeId, { settle: finish });
      signal.addEventListener("abort", onAbort, { once: true });
      connection.envelopesSent += 1;
      connection.socket.send(body, (error) => {
        if (error !== undefined && error !== null) {
          this.log(`socket mode: ${connection.id} could not send ${envelopeId}: ${error.message}`);
        }
      });
    });
    if (signal.aborted) return { acked: false, aborted: true, payload: undefined, failure: null, envelopeId };
    const record = this.record(envelope, retry, {
      envelopeId,
      connectionId: connection.id,
      outcome: ack === undefined ? "timeout" : "acked",
      ackPayload: ack?.payload,
      body,
      durationMs: Math.round(performance.now() - started),
    });
    if (ack === undefined) {
      this.timedOut.set(envelopeId, record);
      return { acked: false, aborted: false, payload: undefined, failure: "timeout", envelopeId };
    }
    return { acked: true, aborted: false, payload: ack.payload, failure: null, envelopeId };
  }

  private record(
    envelope: Envelope,
    retry: { retryAttempt: number; retryReason: string },
    result: {
      envelopeId: string;
      connectionId: string | null;
      outcome: SlackSocketModeDeliveryRecord["outcome"];
      ackPayload: unknown;
      body: string;
      durationMs: number;
    },
  ): SlackSocketModeDeliveryRecord {
    const record: SlackSocketModeDeliveryRecord = {
      envelopeId: result.envelopeId,
      type: envelope.type,
      eventId: envelope.eventId,
      name: envelope.name,
      subtype: envelope.subtype,
      connectionId: result.connectionId,
      retryAttempt: retry.retryAttempt,
      retryReason: retry.retryReason,
      acceptsResponsePayload: envelope.acceptsResponsePayload,
      outcome: result.outcome,
      ackPayload: result.ackPayload === undefined ? null : structuredClone(result.ackPayload),
      acknowledgedLate: false,
      duplicate: envelope.duplicate,
      body: result.body,
      at: this.now().toISOString(),
      durationMs: result.durationMs,
    };
    this.records.push(record);
    this.log(
      `socket mode: ${envelope.type} ${envelope.name}${envelope.eventId === null ? "" : ` ${envelope.eventId}`} → ${result.connectionId ?? "no connection"} retry_attempt ${retry.retryAttempt}${envelope.duplicate ? " (duplicate)" : ""}: ${result.outcome}`,
    );
    return record;
  }
}

/** Answers an upgrade request with a plain HTTP error and closes the socket. */
export function refuseUpgrade(
  socket: Duplex,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): number {
  const reasons: Record<number, string> = {
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
  };
  const body = Buffer.from(text, "utf8");
  if (socket.writable) {
    socket.end(
      `HTTP/1.1 ${status} ${reasons[status] ?? "Error"}\r\n${Object.entries(headers)
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join(
          "",
        )}Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.byteLength}\r\nConnection: close\r\n\r\n${text}`,
    );
  } else {
    socket.destroy();
  }
  return status;
}
