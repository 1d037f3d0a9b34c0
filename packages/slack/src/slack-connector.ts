/**
 * `createSlackConnector`: the Slack connector for the linq-connect host (the sync-service) or any
 * other host of the `ConnectorV1` contract.
 *
 * ```ts
 * const slack = createSlackConnector({
 *   botToken: process.env.SLACK_BOT_TOKEN!,
 *   signingSecret: process.env.SLACK_SIGNING_SECRET!,
 *   routes: routing.routes, // for /linq and for routes' settings on Slack → Linq traffic
 * });
 * ```
 */
import {
  CONNECTOR_SPECIFICATION_VERSION,
  ConfigurationError,
  type ConnectorContext,
  type ConnectorJob,
  type ConnectorLogger,
  type ConnectorV1,
  type HealthCheckResult,
  type InboundRoute,
  type LinqEventType,
  type LinqWebhookEvent,
} from "@linq-connect/core";
import { App, type AuthorizeResult, type Logger as BoltLogger, LogLevel } from "@slack/bolt";
import { type Logger as WebApiLogger, type LogLevel as WebApiLogLevel, WebClient } from "@slack/web-api";
import { connectorContextProperty, InboundRequestReceiver } from "./bolt-receiver.ts";
import type { ConnectorServices } from "./connector-services.ts";
import { checkSlackHealth } from "./health-check.ts";
import { LinqToSlack } from "./linq-to-slack.ts";
import { MirrorWriter } from "./mirror-writer.ts";
import { type CrmLinkProvider, ParticipantNames } from "./participant-names.ts";
import { parseConnectorSettings, resolveRouteDefinitions, type SlackRouteDefinition } from "./settings.ts";
import { SlackApi, type SlackRequestCompleteInfo, silentLogger } from "./slack-api.ts";
import { mapSlackError } from "./slack-errors.ts";
import { createSlackPacer, type SlackPacer, type SlackPacingOptions } from "./slack-pacer.ts";
import { SlackToLinq } from "./slack-to-linq.ts";
import { AckAfterStoreSocketModeReceiver } from "./socket-mode-receiver.ts";

export interface SlackConnectorOptions {
  /** The Bot User OAuth Token (`xoxb-…`, SLACK_BOT_TOKEN). Never logged. */
  botToken: string;
  /** The app's signing secret (SLACK_SIGNING_SECRET): Slack → Linq over HTTP (Events API, commands). */
  signingSecret?: string;
  /** An app-level token (`xapp-…`, connections:write) for Socket Mode (SLACK_APP_TOKEN). */
  appToken?: string;
  /** Receive Slack traffic over Socket Mode instead of HTTP. Default: true when only `appToken` is set. */
  socketMode?: boolean;
  /** The Web API base URL, e.g. a simulator's `apiUrl`. Default `https://slack.com/api/`. */
  apiUrl?: string;
  /**
   * Your own WebClient. Build it with `retryConfig: { retries: 0 }` and `rejectRateLimitedCalls: true`:
   * the connector retries itself, knowing which calls are safe to repeat.
   */
  client?: WebClient;
  /** Per-request timeout of the Web API calls. Default 10 000 ms. */
  timeoutMs?: number;
  /** Pacing settings, or a pacer shared with other Slack clients of the process. */
  pacing?: SlackPacingOptions | SlackPacer;
  /**
   * The routes of the routing file (`routing.routes`): the `/linq` command finds its route by
   * channel, and Slack → Linq traffic (which arrives without a route) follows its thread's route.
   */
  routes?: readonly SlackRouteDefinition[];
  /** Looks a participant up in a CRM: its name and record link go into the conversation header. */
  crmLinks?: CrmLinkProvider;
  logger?: ConnectorLogger;
  /** Called after every Slack Web API attempt (metrics). */
  onRequestComplete?: (info: SlackRequestCompleteInfo) => void;
  /** How Linq read receipts show: a reaction on the read message, or not at all. Default "reaction". */
  readReceipts?: "reaction" | "off";
  /** The read receipt's emoji. Default "eyes". */
  readReceiptEmoji?: string;
  /** The reaction that marks a reply that stayed internal. Default "lock"; false: none. */
  internalNoteEmoji?: string | false;
  /** Files larger than this become a link and a note. Default 50 MB. */
  maxAttachmentBytes?: number;
  /** Timeout of a file download. Default 30 000 ms. */
  attachmentTimeoutMs?: number;
  /** How long a looked-up name is trusted before it is looked up again. Default 900 s. */
  contactNameTtlSeconds?: number;
  /** A reply that goes out as several SMS segments waits this long for a Cancel. Default 10 s; 0: no wait. */
  smsCancelWindowSeconds?: number;
  /** The slash command. Default "/linq". */
  command?: string;
  /**
   * How long the receiver waits for a listener after its ack() before answering anyway (≤ 2 900 ms;
   * commands and interactivity, and HTTP events). Default 2 500. Socket Mode acknowledges events
   * only once their job is stored.
   */
  ackTimeoutMs?: number;
  /** The clock. Default `Date.now`. */
  now?: () => number;
}

/** The Slack connector: a `ConnectorV1` plus its Bolt app, Web API client and pacer. */
export interface SlackConnector extends ConnectorV1 {
  readonly bolt: App;
  readonly client: WebClient;
  readonly pacer: SlackPacer;
  /** HTTP (inbound routes), Socket Mode (started in `start`) or none (no signing secret / app token). */
  readonly transport: "http" | "socket-mode" | "none";
  /** Connects Socket Mode (HTTP mode has nothing to start); the host calls it once it is ready. */
  start(context: ConnectorContext): Promise<void>;
  close(): Promise<void>;
}

/** The Linq events the connector mirrors. */
export const slackConnectorEvents: readonly LinqEventType[] = [
  "message.received",
  "message.sent",
  "message.read",
  "reaction.received",
  "reaction.sent",
  "call.completed",
  "participant.added",
  "participant.removed",
  "typing_indicator.received",
  "typing_indicator.removed",
];

function boltLogger(logger: ConnectorLogger): BoltLogger & WebApiLogger {
  let level: LogLevel = LogLevel.WARN;
  const format = (messages: unknown[]) =>
    messages.map((message) => (message instanceof Error ? message.message : String(message))).join(" ");
  return {
    debug: (...messages: unknown[]) => logger.debug({ source: "slack-sdk" }, format(messages)),
    info: (...messages: unknown[]) => logger.debug({ source: "slack-sdk" }, format(messages)),
    warn: (...messages: unknown[]) => logger.warn({ source: "slack-sdk" }, format(messages)),
    error: (...messages: unknown[]) => logger.error({ source: "slack-sdk" }, format(messages)),
    setLevel: (value: LogLevel | WebApiLogLevel) => {
      level = value as LogLevel;
    },
    getLevel: () => level,
    setName: () => undefined,
  } as BoltLogger & WebApiLogger;
}

function isPacer(value: SlackPacingOptions | SlackPacer | undefined): value is SlackPacer {
  return value !== undefined && typeof (value as SlackPacer).acquire === "function";
}

export function createSlackConnector(options: SlackConnectorOptions): SlackConnector {
  if (options === null || typeof options !== "object")
    throw new TypeError("createSlackConnector needs options");
  const settings = parseConnectorSettings({
    botToken: options.botToken,
    signingSecret: options.signingSecret,
    appToken: options.appToken,
    socketMode: options.socketMode,
    apiUrl: options.apiUrl,
    timeoutMs: options.timeoutMs,
    maxAttachmentBytes: options.maxAttachmentBytes,
    attachmentTimeoutMs: options.attachmentTimeoutMs,
    contactNameTtlSeconds: options.contactNameTtlSeconds,
    smsCancelWindowSeconds: options.smsCancelWindowSeconds,
    readReceipts: options.readReceipts,
    readReceiptEmoji: options.readReceiptEmoji,
    internalNoteEmoji: options.internalNoteEmoji,
    command: options.command,
  });
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const apiUrl =
    settings.apiUrl === undefined
      ? undefined
      : settings.apiUrl.endsWith("/")
        ? settings.apiUrl
        : `${settings.apiUrl}/`;
  const sdkLogger = boltLogger(logger);
  const client =
    options.client ??
    new WebClient(settings.botToken, {
      ...(apiUrl === undefined ? {} : { slackApiUrl: apiUrl }),
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: settings.timeoutMs ?? 10_000,
      logger: sdkLogger,
    });
  const pacer = isPacer(options.pacing) ? options.pacing : createSlackPacer(options.pacing ?? {});
  const api = new SlackApi({
    client,
    pacer,
    ...(options.onRequestComplete === undefined ? {} : { onRequestComplete: options.onRequestComplete }),
  });
  const routes = resolveRouteDefinitions(options.routes);
  const services: ConnectorServices = {
    api,
    writer: new MirrorWriter({ api, now, uploadTimeoutMs: settings.attachmentTimeoutMs ?? 30_000 }),
    names: new ParticipantNames({
      ...(options.crmLinks === undefined ? {} : { crmLinks: options.crmLinks }),
      ttlMs: (settings.contactNameTtlSeconds ?? 900) * 1000,
      now,
    }),
    routes,
    behaviour: {
      botToken: settings.botToken,
      readReceipts: settings.readReceipts ?? "reaction",
      readReceiptEmoji: settings.readReceiptEmoji ?? "eyes",
      internalNoteEmoji: settings.internalNoteEmoji ?? "lock",
      maxAttachmentBytes: settings.maxAttachmentBytes ?? 50 * 1024 * 1024,
      attachmentTimeoutMs: settings.attachmentTimeoutMs ?? 30_000,
      smsCancelWindowSeconds: settings.smsCancelWindowSeconds ?? 10,
      command: settings.command ?? "/linq",
    },
    now,
  };

  let startContext: ConnectorContext | undefined;
  const socketMode =
    settings.socketMode ?? (settings.appToken !== undefined && settings.signingSecret === undefined);
  const transport: SlackConnector["transport"] = socketMode
    ? "socket-mode"
    : settings.signingSecret !== undefined
      ? "http"
      : "none";
  const ackTimeoutMs = options.ackTimeoutMs === undefined ? undefined : Math.min(2900, options.ackTimeoutMs);
  const httpReceiver = new InboundRequestReceiver({
    signingSecret: settings.signingSecret ?? "",
    logger,
    ...(ackTimeoutMs === undefined ? {} : { ackTimeoutMs }),
    now,
  });
  // Socket Mode acknowledges an envelope once its job is stored (Bolt's own receiver acks events
  // before the listeners run): a failure to store leaves it unacknowledged, and Slack sends it again.
  const receiver =
    transport === "socket-mode" && settings.appToken !== undefined
      ? new AckAfterStoreSocketModeReceiver({
          appToken: settings.appToken,
          logger,
          sdkLogger,
          customProperties: () => ({ [connectorContextProperty]: startContext }),
          ...(ackTimeoutMs === undefined ? {} : { ackTimeoutMs }),
          ...(apiUrl === undefined ? {} : { apiUrl }),
        })
      : httpReceiver;

  let identity: Promise<AuthorizeResult> | undefined;
  const authorize = async (): Promise<AuthorizeResult> => {
    identity ??= api.call("auth.test", {}).then(
      (result) => ({
        botToken: settings.botToken,
        ...(typeof result.bot_id === "string" ? { botId: result.bot_id } : {}),
        ...(typeof result.user_id === "string" ? { botUserId: result.user_id } : {}),
        ...(typeof result.team_id === "string" ? { teamId: result.team_id } : {}),
      }),
      (error: unknown) => {
        identity = undefined;
        throw error;
      },
    );
    return identity;
  };

  const bolt = new App({
    receiver,
    authorize,
    logger: sdkLogger,
    logLevel: LogLevel.WARN,
    ...(apiUrl === undefined ? {} : { clientOptions: { slackApiUrl: apiUrl } }),
    ignoreSelf: true,
  });
  // Errors reach the receiver, which answers 500 (HTTP) or does not acknowledge the envelope (Socket
  // Mode), so that Slack delivers the request again.
  bolt.error(async (error) => {
    throw error;
  });

  const linqToSlack = new LinqToSlack(services);
  const slackToLinq = new SlackToLinq({ services, linqToSlack, fallbackContext: () => startContext });
  slackToLinq.register(bolt);

  const inboundRoutes: InboundRoute[] =
    transport === "http"
      ? ["/slack/events", "/slack/commands", "/slack/interactions"].map((path) => ({
          method: "POST" as const,
          path,
          handle: (request, context) => httpReceiver.handle(request, context),
        }))
      : [];
  if (transport === "none") {
    logger.warn({}, "no SLACK_SIGNING_SECRET or SLACK_APP_TOKEN: Slack replies are not carried back to Linq");
  }
  let started = false;

  return {
    specificationVersion: CONNECTOR_SPECIFICATION_VERSION,
    name: "slack",
    events: slackConnectorEvents,
    bolt,
    client,
    pacer,
    transport,
    inboundRoutes,
    async handleEvent(event: LinqWebhookEvent, context: ConnectorContext): Promise<void> {
      await linqToSlack.handle(event, context);
    },
    async handleJob(job: ConnectorJob, context: ConnectorContext): Promise<void> {
      await slackToLinq.handleJob(job, context);
    },
    async checkHealth(context: ConnectorContext): Promise<HealthCheckResult[]> {
      return checkSlackHealth(api, routes, context.signal);
    },
    async start(context: ConnectorContext): Promise<void> {
      startContext = context;
      if (transport === "socket-mode" && !started) {
        try {
          await bolt.start();
        } catch (error) {
          const mapped = mapSlackError(error, { method: "apps.connections.open" });
          throw new ConfigurationError(
            `Slack Socket Mode could not connect: ${mapped.message} (check SLACK_APP_TOKEN: an app-level token with connections:write, and that Socket Mode is enabled for the app)`,
            { source: "slack", cause: error },
          );
        }
        started = true;
        logger.info({}, "Slack Socket Mode connected");
      }
    },
    async close(): Promise<void> {
      if (started) {
        started = false;
        await bolt.stop();
      }
    },
  };
}
