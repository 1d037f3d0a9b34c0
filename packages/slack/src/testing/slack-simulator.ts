/**
 * The Slack simulator: a faithful, stateful fake of the Slack Web API, Events
 * API, slash commands and interactivity as a real HTTP server (node:http) on
 * 127.0.0.1, for tests and the `linq-sync serve` sandbox.
 *
 * ```ts
 * import { WebClient } from "@slack/web-api";
 * import { startSlackSimulator } from "@linq-connect/slack/testing";
 *
 * const slack = await startSlackSimulator({
 *   channels: [{ id: "C0SALES", name: "sales" }],
 *   eventsUrl: "http://127.0.0.1:3000/slack/events",
 * });
 * const client = new WebClient(slack.botToken, { slackApiUrl: slack.apiUrl });
 * const { ts } = await client.chat.postMessage({ channel: "C0SALES", text: "New chat" });
 * await slack.users.post({ user: "U0ALEX", channel: "C0SALES", threadTs: ts, text: "On it" });
 * await slack.events.flush();                        // the signed events reached the app
 * slack.state.thread("C0SALES", ts!);                // parent + reply
 * slack.faults.inject({ match: { method: "chat.postMessage" }, kind: "rate-limit", times: 1 });
 * await slack.close();
 * ```
 *
 * In short (details on each module): Web API methods under `/api/<method>` with
 * Slack's answers (HTTP 200 `{ ok: false, error }`, 429 `ratelimited` with
 * Retry-After, `missing_scope` with `needed`/`provided`, `x-oauth-scopes`
 * headers); the external upload URL under `/upload/v1/…`; `url_private` files
 * under `/files-pri/…` (bot token required, otherwise a redirect to a sign-in
 * page, as on Slack); response URLs under `/commands/…` and `/actions/…`;
 * Socket Mode WebSockets under `/socket-mode/<ticket>` (URLs from
 * apps.connections.open with the app-level token; see
 * simulator-socket-mode.ts); the read-only HTML page at `/` and
 * `/channels/<id>`. Faults apply before authentication.
 *
 * Socket Mode in short: `new App({ socketMode: true, appToken: slack.appToken,
 * token: slack.botToken, clientOptions: { slackApiUrl: slack.apiUrl } })`
 * connects; from then on events, slash commands and interactions go over the
 * socket instead of HTTP (`slack.socketMode.deliveries`, `.connections()`,
 * `.disconnectAll("refresh_requested")`).
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import type { Duplex } from "node:stream";
import { ConfigurationError } from "@linq-connect/core";
import {
  closeSimulatorServer,
  createSimulatorServer,
  listenSimulatorServer,
  readSimulatorRequestBody,
} from "@linq-connect/core/testing";
import { Arguments, parseApiRequest, SlackApiError } from "./simulator-api-request.ts";
import { AppTransport, EventDispatcher, sleep } from "./simulator-delivery.ts";
import {
  archiveEvent,
  botLeftEvent,
  EVENT_SUBSCRIPTIONS,
  eventEnvelope,
  memberJoinedEvent,
  messageEvent,
  type SimulatorEvent,
  tokensRevokedEvent,
} from "./simulator-events.ts";
import { type AppliedFault, FaultRegistry } from "./simulator-faults.ts";
import { BucketMap } from "./simulator-limits.ts";
import {
  renderChannelPage,
  renderIndexPage,
  renderNotFoundPage,
  renderSignInPage,
} from "./simulator-page.ts";
import { refuseUpgrade, SocketModeHub } from "./simulator-socket-mode.ts";
import { byTs, renderReactions, SlackState } from "./simulator-state.ts";
import type {
  SlackAppConfiguration,
  SlackChannelInput,
  SlackEventDeliveryConfiguration,
  SlackRateLimitOptions,
  SlackRateLimitTier,
  SlackRecordedRequest,
  SlackSimulator,
  SlackSimulatorChannels,
  SlackSimulatorEvents,
  SlackSimulatorFaults,
  SlackSimulatorOptions,
  SlackSimulatorSocketMode,
  SlackSimulatorStateView,
  SlackSimulatorUsers,
  SlackSocketModeConfiguration,
  SlackUserInput,
} from "./simulator-types.ts";
import { UserControls } from "./simulator-users.ts";
import { type MethodDefinition, WEB_API_METHODS, type WebApiServices } from "./simulator-web-api.ts";

/** The scopes a messaging mirror needs; the default grant. */
export const DEFAULT_BOT_SCOPES: readonly string[] = [
  "chat:write",
  "chat:write.customize",
  "channels:read",
  "channels:history",
  "groups:read",
  "groups:history",
  "reactions:read",
  "reactions:write",
  "files:read",
  "files:write",
  "users:read",
  "users:read.email",
  "commands",
  "channels:join",
];

const DEFAULT_TIERS: Record<SlackRateLimitTier, number> = { 1: 1, 2: 20, 3: 50, 4: 100 };
const TRIGGER_LIFETIME_MS = 3_000;
const SLACK_ID = /^[A-Z][A-Z0-9]{2,}$/;

/**
 * Starts a Slack simulator on `host:port` (default 127.0.0.1, an ephemeral
 * port). Close it with `await simulator.close()`. Throws ConfigurationError for
 * invalid options.
 */
export async function startSlackSimulator(options: SlackSimulatorOptions = {}): Promise<SlackSimulator> {
  const simulator = new RunningSlackSimulator(resolveSettings(options));
  await simulator.listen();
  return simulator;
}

interface RateLimitSettings {
  tiers: Record<SlackRateLimitTier, number>;
  postMessagePerChannel: { perSecond: number; burst: number } | false;
  methods: Record<string, { perMinute: number; burst?: number } | false>;
}

interface Settings {
  port: number;
  host: string;
  teamId: string;
  teamName: string;
  teamDomain: string;
  botToken: string;
  appToken: string;
  appTokenScopes: Set<string>;
  botUserId: string;
  botId: string;
  appId: string;
  botName: string;
  signingSecret: string;
  verificationToken: string;
  scopes: Set<string>;
  channels: SlackChannelInput[];
  users: SlackUserInput[];
  app: AppSettings;
  marketplaceApp: boolean;
  rateLimits: RateLimitSettings | false;
  eventDelivery: SlackEventDeliveryConfiguration | undefined;
  socketMode: boolean | undefined;
  socketModeConnection: SlackSocketModeConfiguration | undefined;
  maxUploadBytes: number;
  now: () => Date;
  log: (line: string) => void;
}

interface AppSettings {
  eventsUrl: string | undefined;
  commandsUrl: string | undefined;
  interactionsUrl: string | undefined;
  eventSubscriptions: Set<string>;
}

function nonEmpty(value: string | undefined, fallback: string, name: string): string {
  const resolved = value ?? fallback;
  if (typeof resolved !== "string" || resolved.trim() === "") {
    throw new ConfigurationError(`${name} must be a non-empty string`);
  }
  return resolved;
}

function slackIdOption(value: string | undefined, fallback: string, name: string): string {
  const resolved = nonEmpty(value, fallback, name);
  if (!SLACK_ID.test(resolved))
    throw new ConfigurationError(`${name} must look like a Slack id (e.g. ${fallback})`);
  return resolved;
}

function urlOption(value: string | undefined | null, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigurationError(`${name} must be an absolute http(s) URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new ConfigurationError(`${name} must be an absolute http(s) URL`);
  }
  return value;
}

function subscriptionsOption(value: readonly string[] | undefined): Set<string> {
  if (value === undefined) return new Set(EVENT_SUBSCRIPTIONS);
  for (const subscription of value) {
    if (!(EVENT_SUBSCRIPTIONS as readonly string[]).includes(subscription)) {
      throw new ConfigurationError(
        `Unknown event subscription ${JSON.stringify(subscription)}; the simulator delivers ${EVENT_SUBSCRIPTIONS.join(", ")}`,
      );
    }
  }
  return new Set(value);
}

function resolveRateLimits(options: SlackRateLimitOptions | false | undefined): RateLimitSettings | false {
  if (options === false) return false;
  const positive = (value: number, name: string): number => {
    if (!(Number.isFinite(value) && value > 0))
      throw new ConfigurationError(`${name} must be a positive number`);
    return value;
  };
  const tiers = { ...DEFAULT_TIERS };
  for (const [tier, perMinute] of Object.entries(options?.tiers ?? {})) {
    if (perMinute !== undefined)
      tiers[Number(tier) as SlackRateLimitTier] = positive(perMinute, `rateLimits.tiers.${tier}`);
  }
  let postMessagePerChannel: RateLimitSettings["postMessagePerChannel"] = { perSecond: 1, burst: 3 };
  const pacing = options?.postMessagePerChannel;
  if (pacing === false) postMessagePerChannel = false;
  else if (pacing !== undefined) {
    const burst = pacing.burst ?? 1;
    if (!(Number.isInteger(burst) && burst >= 1)) {
      throw new ConfigurationError("rateLimits.postMessagePerChannel.burst must be a positive integer");
    }
    postMessagePerChannel = {
      perSecond: positive(pacing.perSecond, "rateLimits.postMessagePerChannel.perSecond"),
      burst,
    };
  }
  const methods: RateLimitSettings["methods"] = {};
  for (const [method, limit] of Object.entries(options?.methods ?? {})) {
    if (limit === false) methods[method] = false;
    else {
      positive(limit.perMinute, `rateLimits.methods.${method}.perMinute`);
      if (limit.burst !== undefined && !(Number.isInteger(limit.burst) && limit.burst >= 1)) {
        throw new ConfigurationError(`rateLimits.methods.${method}.burst must be a positive integer`);
      }
      methods[method] = { ...limit };
    }
  }
  return { tiers, postMessagePerChannel, methods };
}

function resolveSettings(options: SlackSimulatorOptions): Settings {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new ConfigurationError("port must be 0..65535");
  const botToken = nonEmpty(options.botToken, "xoxb-sim-0000000001-simulator-bot-token", "botToken");
  if (!botToken.startsWith("xoxb-")) throw new ConfigurationError("botToken must be a bot token (xoxb-…)");
  const users = options.users ?? [
    { id: "U0ALEX", name: "alex", realName: "Alex Rivera", email: "alex@example.com" },
  ];
  const userIds = new Set<string>();
  for (const user of users) {
    slackIdOption(user.id, "U0ALEX", "users[].id");
    if (userIds.has(user.id)) throw new ConfigurationError(`Duplicate user id ${user.id}`);
    userIds.add(user.id);
    nonEmpty(user.name, "", "users[].name");
  }
  const channels = options.channels ?? [{ id: "C0GENERAL", name: "general" }];
  const channelIds = new Set<string>();
  for (const channel of channels) validateChannel(channel, channelIds, userIds);
  const scopes = new Set(options.scopes ?? DEFAULT_BOT_SCOPES);
  const appId = slackIdOption(options.appId, "A0SIMAPP", "appId");
  const appToken = nonEmpty(
    options.appToken,
    `xapp-1-${appId}-0000000001-simulator-app-level-token`,
    "appToken",
  );
  if (!appToken.startsWith("xapp-"))
    throw new ConfigurationError("appToken must be an app-level token (xapp-…)");
  if (options.socketMode !== undefined && typeof options.socketMode !== "boolean") {
    throw new ConfigurationError("socketMode must be true or false");
  }
  const maxUploadBytes = options.maxUploadBytes ?? 50 * 1024 * 1024;
  if (!(Number.isInteger(maxUploadBytes) && maxUploadBytes > 0)) {
    throw new ConfigurationError("maxUploadBytes must be a positive integer");
  }
  return {
    port,
    host: options.host ?? "127.0.0.1",
    teamId: slackIdOption(options.teamId, "T0SIM", "teamId"),
    teamName: nonEmpty(options.teamName, "Simulated Workspace", "teamName"),
    teamDomain: nonEmpty(options.teamDomain, "simulated", "teamDomain"),
    botToken,
    appToken,
    appTokenScopes: new Set(options.appTokenScopes ?? ["connections:write"]),
    botUserId: slackIdOption(options.botUserId, "U0SIMBOT", "botUserId"),
    botId: slackIdOption(options.botId, "B0SIMBOT", "botId"),
    appId,
    botName: nonEmpty(options.botName, "linq-connect", "botName"),
    signingSecret: nonEmpty(options.signingSecret, "sim-signing-secret-0123456789abcdef", "signingSecret"),
    verificationToken: nonEmpty(options.verificationToken, "simVerificationToken0001", "verificationToken"),
    scopes,
    channels,
    users,
    app: {
      eventsUrl: urlOption(options.eventsUrl, "eventsUrl"),
      commandsUrl: urlOption(options.commandsUrl, "commandsUrl"),
      interactionsUrl: urlOption(options.interactionsUrl, "interactionsUrl"),
      eventSubscriptions: subscriptionsOption(options.eventSubscriptions),
    },
    marketplaceApp: options.marketplaceApp ?? false,
    rateLimits: resolveRateLimits(options.rateLimits),
    eventDelivery: options.eventDelivery,
    socketMode: options.socketMode,
    socketModeConnection: options.socketModeConnection,
    maxUploadBytes,
    now: options.now ?? (() => new Date()),
    log: options.logger ?? (() => {}),
  };
}

function validateChannel(channel: SlackChannelInput, seen: Set<string>, userIds: ReadonlySet<string>): void {
  slackIdOption(channel.id, "C0SALES", "channels[].id");
  if (seen.has(channel.id)) throw new ConfigurationError(`Duplicate channel id ${channel.id}`);
  seen.add(channel.id);
  if (!/^[a-z0-9][a-z0-9_-]{0,79}$/.test(channel.name ?? "")) {
    throw new ConfigurationError(
      `Channel name ${JSON.stringify(channel.name)} is not valid: lower case letters, digits, - and _ (at most 80)`,
    );
  }
  for (const member of channel.members ?? []) {
    if (!userIds.has(member))
      throw new ConfigurationError(`Channel ${channel.id} lists unknown member ${member}`);
  }
}

/** What a route answers. */
interface RouteResult {
  status: number;
  headers?: Record<string, string>;
  json?: unknown;
  raw?: { bytes: Uint8Array; contentType: string };
}

type Route =
  | { kind: "api"; method: string }
  | { kind: "upload"; token: string }
  | { kind: "file_download"; fileId: string; download: boolean }
  | { kind: "response_url"; key: string }
  | { kind: "page"; render: () => RouteResult }
  | { kind: "unknown" };

class RunningSlackSimulator implements SlackSimulator {
  readonly botToken: string;
  readonly appToken: string;
  readonly botUserId: string;
  readonly botId: string;
  readonly appId: string;
  readonly teamId: string;
  readonly signingSecret: string;
  readonly verificationToken: string;
  readonly state: SlackSimulatorStateView;
  readonly users: SlackSimulatorUsers;
  readonly channels: SlackSimulatorChannels;
  readonly events: SlackSimulatorEvents;
  readonly faults: SlackSimulatorFaults;
  readonly socketMode: SlackSimulatorSocketMode;
  private address = "";
  private readonly settings: Settings;
  private app: AppSettings;
  private readonly store: SlackState;
  private readonly transport: AppTransport;
  private readonly dispatcher: EventDispatcher;
  private readonly socketHub: SocketModeHub;
  private readonly userControls: UserControls;
  private readonly faultRegistry = new FaultRegistry();
  private readonly methodBuckets: BucketMap;
  private readonly channelBuckets: BucketMap;
  private readonly server: Server;
  private recorded: SlackRecordedRequest[] = [];
  private revoked = false;
  private readonly lifetime = new AbortController();
  private closing: Promise<void> | undefined;

  constructor(settings: Settings) {
    this.settings = settings;
    this.app = { ...settings.app, eventSubscriptions: new Set(settings.app.eventSubscriptions) };
    this.botToken = settings.botToken;
    this.appToken = settings.appToken;
    this.botUserId = settings.botUserId;
    this.botId = settings.botId;
    this.appId = settings.appId;
    this.teamId = settings.teamId;
    this.signingSecret = settings.signingSecret;
    this.verificationToken = settings.verificationToken;
    this.store = new SlackState({
      identity: {
        teamId: settings.teamId,
        teamName: settings.teamName,
        teamDomain: settings.teamDomain,
        botUserId: settings.botUserId,
        botId: settings.botId,
        appId: settings.appId,
        botName: settings.botName,
      },
      channels: settings.channels,
      users: settings.users,
      now: settings.now,
    });
    this.methodBuckets = new BucketMap(settings.now);
    this.channelBuckets = new BucketMap(settings.now);
    this.transport = new AppTransport({ signingSecret: settings.signingSecret, now: settings.now });
    this.dispatcher = new EventDispatcher({
      transport: this.transport,
      now: settings.now,
      log: settings.log,
      ...(settings.eventDelivery === undefined ? {} : { configuration: settings.eventDelivery }),
    });
    this.socketHub = new SocketModeHub({
      appId: settings.appId,
      now: settings.now,
      log: settings.log,
      delivery: () => this.dispatcher.settings,
      enabled: settings.socketMode,
      ...(settings.socketModeConnection === undefined
        ? {}
        : { configuration: settings.socketModeConnection }),
    });
    this.userControls = new UserControls({
      state: this.store,
      transport: this.transport,
      socketMode: this.socketHub,
      verificationToken: settings.verificationToken,
      emit: (event) => this.emit(event),
      app: () => ({ commandsUrl: this.app.commandsUrl, interactionsUrl: this.app.interactionsUrl }),
      ackTimeoutMs: () => this.dispatcher.ackTimeoutMs,
    });
    this.users = this.userControls.controls();
    this.state = this.createStateView();
    this.channels = this.createChannelControls();
    const dispatcher = this.dispatcher;
    this.events = {
      get deliveries() {
        return dispatcher.deliveries;
      },
      configure: (options) => dispatcher.configure(options),
      flush: async () => {
        // Socket Mode retries and HTTP retries do not feed each other, but an event can
        // be queued on either side while the other flushes: loop until both are idle.
        await dispatcher.flush();
        await this.socketHub.flush();
        await dispatcher.flush();
      },
      deliver: (event) => this.deliverArbitraryEvent(event),
    };
    const hub = this.socketHub;
    this.socketMode = {
      get enabled() {
        return hub.active;
      },
      connections: () => hub.connections(),
      disconnectAll: (reason) => {
        if (reason !== "refresh_requested" && reason !== "warning" && reason !== "link_disabled") {
          throw new ConfigurationError(
            `Unknown disconnect reason ${JSON.stringify(reason)}; expected refresh_requested, warning or link_disabled`,
          );
        }
        return hub.disconnectAll(reason);
      },
      get deliveries() {
        return hub.deliveries;
      },
      configure: (options) => hub.configure(options),
    };
    this.faults = {
      inject: (rule) => this.faultRegistry.inject(rule),
      clear: () => this.faultRegistry.clear(),
    };
    this.server = createSimulatorServer(
      (request, response) => this.handleRequest(request, response),
      this.settings.log,
    );
    this.server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.handleUpgrade(request, socket, head).catch((error: unknown) => {
        this.settings.log(
          `simulator failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        );
        socket.destroy();
      });
    });
  }

  get baseUrl(): string {
    return this.address;
  }

  get apiUrl(): string {
    return `${this.address}/api/`;
  }

  get requests(): SlackRecordedRequest[] {
    return this.recorded;
  }

  async listen(): Promise<void> {
    this.address = await listenSimulatorServer(this.server, this.settings.host, this.settings.port);
    this.store.baseUrl = this.address;
  }

  async configureApp(configuration: SlackAppConfiguration): Promise<void> {
    const next: AppSettings = { ...this.app, eventSubscriptions: new Set(this.app.eventSubscriptions) };
    if (configuration.eventsUrl !== undefined)
      next.eventsUrl = urlOption(configuration.eventsUrl, "eventsUrl");
    if (configuration.commandsUrl !== undefined)
      next.commandsUrl = urlOption(configuration.commandsUrl, "commandsUrl");
    if (configuration.interactionsUrl !== undefined) {
      next.interactionsUrl = urlOption(configuration.interactionsUrl, "interactionsUrl");
    }
    if (configuration.eventSubscriptions !== undefined) {
      next.eventSubscriptions = subscriptionsOption(configuration.eventSubscriptions);
    }
    if (configuration.socketMode !== undefined && typeof configuration.socketMode !== "boolean") {
      throw new ConfigurationError("socketMode must be true or false");
    }
    if (configuration.verify === true && next.eventsUrl !== undefined) {
      const result = await this.dispatcher.verifyUrl(next.eventsUrl, this.verificationToken);
      if (!result.verified) {
        throw new ConfigurationError(
          `Your URL didn't respond with the value of the challenge parameter (${next.eventsUrl}): ${result.detail}`,
        );
      }
    }
    this.app = next;
    if (configuration.socketMode !== undefined) this.socketHub.setEnabled(configuration.socketMode);
  }

  revokeToken(): void {
    if (this.revoked) return;
    this.emit(tokensRevokedEvent(this.store.identity, this.store.nextTs()));
    this.revoked = true;
  }

  reset(): void {
    this.store.reset();
    this.dispatcher.reset();
    this.socketHub.reset();
    this.userControls.reset();
    this.faultRegistry.clear();
    this.methodBuckets.clear();
    this.channelBuckets.clear();
    this.recorded = [];
    this.revoked = false;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.lifetime.abort();
      await this.socketHub.close();
      await this.dispatcher.close();
      await this.transport.close();
      await closeSimulatorServer(this.server);
    })();
    return this.closing;
  }

  // ------------------------------------------------------------------ events

  /** Delivers an event if the app subscribes to it, has the scope, and its bot is in the conversation. */
  private emit(event: SimulatorEvent): void {
    if (this.revoked || (this.app.eventsUrl === undefined && !this.socketHub.active)) return;
    if (!this.app.eventSubscriptions.has(event.subscription)) return;
    if (event.scope !== undefined && !this.settings.scopes.has(event.scope)) return;
    if (event.channelId !== undefined && this.store.channel(event.channelId)?.botIsMember !== true) return;
    const { eventId, payload } = eventEnvelope({
      identity: this.store.identity,
      verificationToken: this.verificationToken,
      event: event.event,
      eventTime: this.store.nowSeconds(),
    });
    this.dispatchEvent(eventId, event.event, payload);
  }

  /** Sends an `event_callback` over Socket Mode when it is on, otherwise to the events URL. */
  private dispatchEvent(
    eventId: string,
    event: Record<string, unknown> & { type: string },
    payload: Record<string, unknown>,
  ): void {
    const subtype = typeof event.subtype === "string" ? event.subtype : null;
    if (this.socketHub.active) {
      this.socketHub.enqueueEvent({ eventId, type: event.type, subtype, payload });
      return;
    }
    const url = this.app.eventsUrl;
    if (url === undefined) return;
    this.dispatcher.enqueue({ url, eventId, type: event.type, subtype, body: JSON.stringify(payload) });
  }

  private deliverArbitraryEvent(event: Record<string, unknown> & { type: string }): string {
    if (this.app.eventsUrl === undefined && !this.socketHub.active) {
      throw new ConfigurationError(
        "No eventsUrl: set it with configureApp({ eventsUrl }) or use Socket Mode",
      );
    }
    if (event === null || typeof event !== "object" || typeof event.type !== "string" || event.type === "") {
      throw new ConfigurationError("events.deliver needs an event object with a non-empty type");
    }
    const { eventId, payload } = eventEnvelope({
      identity: this.store.identity,
      verificationToken: this.verificationToken,
      event: structuredClone(event),
      eventTime: this.store.nowSeconds(),
    });
    this.dispatchEvent(eventId, event, payload);
    return eventId;
  }

  // ------------------------------------------------------------------ request pipeline

  private route(httpMethod: string, url: URL): Route {
    const path = url.pathname;
    const api = /^\/api\/([A-Za-z0-9_.]+)$/.exec(path);
    if (api?.[1] !== undefined) return { kind: "api", method: api[1] };
    if (path.startsWith("/api/")) return { kind: "api", method: path.slice(5) };
    const upload = /^\/upload\/v1\/([A-Za-z0-9_-]+)$/.exec(path);
    if (upload?.[1] !== undefined && httpMethod === "POST") return { kind: "upload", token: upload[1] };
    const download = /^\/files-pri\/([A-Z0-9]+)-([A-Z0-9]+)\/(download\/)?[^/]+$/.exec(path);
    if (download?.[2] !== undefined && download[1] === this.teamId && httpMethod === "GET") {
      return { kind: "file_download", fileId: download[2], download: download[3] !== undefined };
    }
    if (/^\/(commands|actions)\/[^/]+\/[^/]+\/[^/]+$/.test(path) && httpMethod === "POST") {
      return { kind: "response_url", key: path.slice(1) };
    }
    if (httpMethod !== "GET" && httpMethod !== "HEAD") return { kind: "unknown" };
    return { kind: "page", render: () => this.renderPage(url) };
  }

  private renderPage(url: URL): RouteResult {
    const path = url.pathname;
    const html = (status: number, text: string): RouteResult => ({
      status,
      raw: { bytes: Buffer.from(text, "utf8"), contentType: "text/html; charset=utf-8" },
    });
    if (path === "/" || path === "/channels" || path === "/channels/")
      return html(200, renderIndexPage(this.store));
    const channelPage = /^\/channels\/([A-Z0-9]+)$/.exec(path);
    if (channelPage?.[1] !== undefined) {
      const channel = this.store.channel(channelPage[1]);
      return channel === undefined
        ? html(404, renderNotFoundPage(`Channel ${channelPage[1]}`))
        : html(200, renderChannelPage(this.store, channel));
    }
    const archive = /^\/archives\/([A-Z0-9]+)\/p(\d{10})(\d{6})$/.exec(path);
    if (archive?.[1] !== undefined) {
      return { status: 302, headers: { location: `/channels/${archive[1]}#m${archive[2]}.${archive[3]}` } };
    }
    const filePage = /^\/files\/[A-Z0-9]+\/([A-Z0-9]+)\/[^/]+$/.exec(path);
    if (filePage?.[1] !== undefined) {
      const file = this.store.file(filePage[1]);
      if (file?.bytes === undefined || !file.completed)
        return html(404, renderNotFoundPage(`File ${filePage[1]}`));
      return { status: 200, raw: { bytes: file.bytes, contentType: file.mimetype } };
    }
    if (path === "/signin") return html(200, renderSignInPage(this.store));
    return html(404, renderNotFoundPage(path));
  }

  /** WebSocket upgrades: Socket Mode connections (`/socket-mode/<ticket>`), recorded as `socket_mode`. */
  private async handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on("error", () => {});
    const started = performance.now();
    const url = new URL(request.url ?? "/", "http://simulator.invalid");
    const record: SlackRecordedRequest = {
      at: this.settings.now().toISOString(),
      httpMethod: (request.method ?? "GET").toUpperCase(),
      path: url.pathname,
      method: SocketModeHub.matches(url.pathname) ? "socket_mode" : "unknown",
      params: Object.fromEntries(url.searchParams),
      contentType: null,
      status: null,
      ok: null,
      error: null,
      fault: null,
    };
    this.recorded.push(record);
    const log = (outcome: string): void =>
      this.settings.log(
        `upgrade ${url.pathname} → ${outcome} (${Math.round(performance.now() - started)} ms)`,
      );
    if (record.method !== "socket_mode") {
      record.status = refuseUpgrade(socket, 404, "Not Found");
      log("404");
      return;
    }
    const fault = this.faultRegistry.take("socket_mode");
    if (fault !== undefined) record.fault = fault.kind;
    if (fault?.kind === "drop-connection" || fault?.kind === "drop-after-processing") {
      socket.destroy();
      log("connection dropped (fault)");
      return;
    }
    if (fault?.kind === "timeout") {
      this.socketHub.holdHanging(socket);
      log("no answer (timeout fault)");
      return;
    }
    if (fault?.kind === "latency") await sleep(fault.latencyMs, this.lifetime.signal);
    if (fault !== undefined && isAnsweringFault(fault)) {
      const status = fault.kind === "rate-limit" ? 429 : fault.kind === "bad-gateway" ? 502 : 500;
      record.status = refuseUpgrade(socket, status, status === 429 ? "ratelimited" : "internal_error", {
        ...(fault.kind === "rate-limit" ? { "Retry-After": String(fault.retryAfterSeconds) } : {}),
      });
      log(`${status} (fault: ${fault.kind})`);
      return;
    }
    record.status = this.socketHub.handleUpgrade(request, socket, head);
    log(String(record.status));
  }

  private async handleRequest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = performance.now();
    const httpMethod = (request.method ?? "GET").toUpperCase();
    const url = new URL(request.url ?? "/", "http://simulator.invalid");
    const route = this.route(httpMethod, url);
    if (route.kind === "page") {
      request.resume();
      writeResponse(response, route.render(), httpMethod === "HEAD");
      return;
    }
    const label = route.kind === "api" ? route.method : route.kind;
    const contentType = request.headers["content-type"];
    const record: SlackRecordedRequest = {
      at: this.settings.now().toISOString(),
      httpMethod,
      path: url.pathname,
      method: label,
      params: {},
      contentType: contentType ?? null,
      status: null,
      ok: null,
      error: null,
      fault: null,
    };
    this.recorded.push(record);
    const log = (outcome: string): void =>
      this.settings.log(
        `${httpMethod} ${url.pathname} → ${outcome} (${Math.round(performance.now() - started)} ms)`,
      );

    const fault = this.faultRegistry.take(label);
    if (fault !== undefined) record.fault = fault.kind;
    if (fault?.kind === "drop-connection") {
      request.socket.destroy();
      log("connection dropped (fault)");
      return;
    }
    if (fault?.kind === "timeout") {
      request.resume();
      log("no answer (timeout fault)");
      return;
    }
    const body = await readSimulatorRequestBody(request, this.settings.maxUploadBytes + 1024 * 1024);
    if (!body.complete) {
      log("client disconnected before sending the whole body");
      return;
    }
    if (fault?.kind === "latency") await sleep(fault.latencyMs, this.lifetime.signal);
    if (this.lifetime.signal.aborted) {
      request.socket.destroy();
      return;
    }
    let result: RouteResult;
    if (fault !== undefined && isAnsweringFault(fault)) {
      result = faultResponse(fault);
      if (route.kind === "api") {
        record.ok = false;
        record.error = fault.kind === "rate-limit" ? "ratelimited" : null;
      }
    } else if (body.tooLarge) {
      result = {
        status: 413,
        raw: { bytes: Buffer.from("Request Entity Too Large"), contentType: "text/plain" },
      };
    } else {
      result = await this.process(route, request, url, body.bytes, record);
    }
    record.status = result.status;
    if (fault?.kind === "drop-after-processing") {
      request.socket.destroy();
      log(`${result.status} processed, then connection dropped (fault)`);
      return;
    }
    writeResponse(response, result, false);
    log(
      `${result.status}${record.error === null ? "" : ` ${record.error}`}${fault === undefined ? "" : ` (fault: ${fault.kind})`}`,
    );
  }

  private async process(
    route: Exclude<Route, { kind: "page" }>,
    request: IncomingMessage,
    url: URL,
    body: Buffer,
    record: SlackRecordedRequest,
  ): Promise<RouteResult> {
    switch (route.kind) {
      case "api":
        return this.processApi(route.method, request, url, body, record);
      case "upload":
        return this.processUpload(route.token, request, body);
      case "file_download":
        return this.processFileDownload(route.fileId, route.download, request, url);
      case "response_url": {
        const answer = this.userControls.handleResponseUrl(route.key, body, request.headers["content-type"]);
        record.params = { body: parseJsonOrText(body) };
        return { status: answer.status, json: answer.json };
      }
      default:
        return { status: 404, raw: { bytes: Buffer.from("Not Found"), contentType: "text/plain" } };
    }
  }

  // ------------------------------------------------------------------ Web API

  private async processApi(
    method: string,
    request: IncomingMessage,
    url: URL,
    body: Buffer,
    record: SlackRecordedRequest,
  ): Promise<RouteResult> {
    const requestId = randomUUID();
    const headers: Record<string, string> = { "x-slack-req-id": requestId };
    const answer = (payload: Record<string, unknown>, status = 200): RouteResult => {
      record.ok = payload.ok === true;
      record.error = typeof payload.error === "string" ? payload.error : null;
      return { status, headers, json: payload };
    };
    const definition: MethodDefinition | undefined = Object.hasOwn(WEB_API_METHODS, method)
      ? WEB_API_METHODS[method]
      : undefined;
    if (definition === undefined)
      return answer({ ok: false, error: "unknown_method", req_method: method }, 404);
    const httpMethod = (request.method ?? "GET").toUpperCase();
    let warnings: string[] = [];
    try {
      const parsed = await parseApiRequest({
        httpMethod,
        query: url.searchParams,
        contentType: request.headers["content-type"],
        authorization: request.headers.authorization,
        body,
        acceptsJson: definition.acceptsJson,
      });
      warnings = parsed.warnings;
      record.params = structuredClone(parsed.args);
      if (parsed.tokenInArguments) record.params.token = "[REDACTED]";
      const granted = definition.tokenType === "app" ? this.settings.appTokenScopes : this.settings.scopes;
      if (definition.tokenType === "app") this.authenticateAppToken(parsed.token, parsed.tokenInArguments);
      else this.authenticate(parsed.token);
      if (definition.postOnly === true && httpMethod !== "POST") throw new SlackApiError("insecure_request");
      headers["x-oauth-scopes"] = [...granted].join(",");
      headers["x-accepted-oauth-scopes"] = definition.scopes.join(",");
      if (definition.scopes.length > 0 && !definition.scopes.some((scope) => granted.has(scope))) {
        throw new SlackApiError("missing_scope", {
          needed: definition.scopes.join(","),
          provided: [...granted].join(","),
        });
      }
      this.takeMethodSlot(method, definition);
      const services: WebApiServices = {
        state: this.store,
        scopes: this.settings.scopes,
        marketplaceApp: this.settings.marketplaceApp,
        maxUploadBytes: this.settings.maxUploadBytes,
        triggerLifetimeMs: TRIGGER_LIFETIME_MS,
        emit: (event) => this.emit(event),
        takePostMessageSlot: (channelId) => this.takePostMessageSlot(channelId),
        issueSocketModeUrl: () => this.socketHub.issueUrl(this.address),
      };
      const result = definition.handle({ args: new Arguments(parsed.args), services, warnings });
      return answer(withWarnings({ ok: true, ...result }, warnings));
    } catch (error) {
      if (!(error instanceof SlackApiError)) throw error;
      if (error.retryAfter !== undefined) headers["retry-after"] = String(error.retryAfter);
      return answer(withWarnings({ ok: false, error: error.code, ...error.extra }, warnings), error.status);
    }
  }

  private authenticate(token: string | undefined): void {
    if (token === undefined) throw new SlackApiError("not_authed");
    if (token.startsWith("xapp-")) throw new SlackApiError("not_allowed_token_type");
    if (token !== this.botToken) throw new SlackApiError("invalid_auth");
    if (this.revoked) throw new SlackApiError("token_revoked");
  }

  /**
   * Methods that take an app-level token: a bot or user token is the wrong type,
   * and the app-level token belongs in the Authorization header (Slack's docs:
   * "send the token in the Authorization header, not as a parameter").
   */
  private authenticateAppToken(token: string | undefined, tokenInArguments: boolean): void {
    if (token === undefined) throw new SlackApiError("not_authed");
    if (!token.startsWith("xapp-")) throw new SlackApiError("not_allowed_token_type");
    if (tokenInArguments) throw new SlackApiError("missing_args");
    if (token !== this.appToken) throw new SlackApiError("invalid_auth");
  }

  private takeMethodSlot(method: string, definition: MethodDefinition): void {
    const limits = this.settings.rateLimits;
    if (limits === false) return;
    let limit: { perSecond: number; burst: number } | undefined;
    const override = limits.methods[method];
    if (override === false) return;
    if (override !== undefined) {
      limit = {
        perSecond: override.perMinute / 60,
        burst: override.burst ?? Math.max(1, Math.floor(override.perMinute)),
      };
    } else if (
      !this.settings.marketplaceApp &&
      (method === "conversations.history" || method === "conversations.replies")
    ) {
      limit = { perSecond: 1 / 60, burst: 1 };
    } else if (definition.tier !== "special") {
      const perMinute = limits.tiers[definition.tier];
      limit = { perSecond: perMinute / 60, burst: Math.max(1, Math.floor(perMinute)) };
    }
    if (limit === undefined) return;
    const retryAfter = this.methodBuckets.take(method, limit);
    if (retryAfter !== undefined) throw new SlackApiError("ratelimited", {}, { status: 429, retryAfter });
  }

  private takePostMessageSlot(channelId: string): void {
    const limits = this.settings.rateLimits;
    if (limits === false || limits.postMessagePerChannel === false) return;
    const retryAfter = this.channelBuckets.take(channelId, limits.postMessagePerChannel);
    if (retryAfter !== undefined) throw new SlackApiError("ratelimited", {}, { status: 429, retryAfter });
  }

  // ------------------------------------------------------------------ uploads and files

  private async processUpload(token: string, request: IncomingMessage, body: Buffer): Promise<RouteResult> {
    const text = (status: number, value: string): RouteResult => ({
      status,
      raw: { bytes: Buffer.from(value, "utf8"), contentType: "text/plain; charset=utf-8" },
    });
    const file = this.store.fileByUploadToken(token);
    if (file === undefined) return text(404, "Not Found");
    if (file.completed) return text(400, "The upload for this file was already completed");
    let bytes = body;
    const contentType = request.headers["content-type"] ?? "";
    if (contentType.toLowerCase().startsWith("multipart/form-data")) {
      let form: FormData;
      try {
        form = await new Response(new Uint8Array(body), {
          headers: { "content-type": contentType },
        }).formData();
      } catch {
        return text(400, "Malformed multipart body");
      }
      const part = [...form.values()].find((value): value is File => typeof value !== "string");
      if (part === undefined) return text(400, "The multipart body has no file part");
      bytes = Buffer.from(await part.arrayBuffer());
    }
    if (bytes.byteLength !== file.size) {
      return text(
        400,
        `The file size does not match the length given to files.getUploadURLExternal: expected ${file.size} bytes, received ${bytes.byteLength}`,
      );
    }
    file.bytes = bytes;
    return text(200, `OK - ${bytes.byteLength}`);
  }

  private processFileDownload(
    fileId: string,
    download: boolean,
    request: IncomingMessage,
    url: URL,
  ): RouteResult {
    const authorization = request.headers.authorization;
    const token = authorization === undefined ? undefined : /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
    const file = this.store.file(fileId);
    const authorized = token === this.botToken && !this.revoked && this.settings.scopes.has("files:read");
    if (!authorized) {
      // Slack answers unauthenticated file requests with its sign-in page, not an error status.
      return {
        status: 302,
        headers: { location: `${this.address}/signin?redir=${encodeURIComponent(url.pathname)}` },
      };
    }
    if (file?.bytes === undefined || !this.store.botCanSeeFile(file)) {
      return { status: 404, raw: { bytes: Buffer.from("Not Found"), contentType: "text/plain" } };
    }
    return {
      status: 200,
      headers: download
        ? { "content-disposition": `attachment; filename="${file.name.replaceAll('"', "")}"` }
        : {},
      raw: { bytes: file.bytes, contentType: file.mimetype },
    };
  }

  // ------------------------------------------------------------------ views and controls

  private createStateView(): SlackSimulatorStateView {
    const store = this.store;
    return {
      channels: () => store.allChannels().map((channel) => store.renderChannel(channel)),
      channel: (id) => {
        const channel = store.channel(id);
        return channel === undefined ? undefined : store.renderChannel(channel);
      },
      messages: (channelId) => {
        const channel = store.channel(channelId);
        return channel === undefined
          ? []
          : store.topLevel(channel).map((message) => store.renderMessage(message));
      },
      thread: (channelId, threadTs) => {
        const channel = store.channel(channelId);
        return channel === undefined
          ? []
          : store.threadOf(channel, threadTs).map((message) => store.renderMessage(message));
      },
      message: (channelId, ts) => {
        const message = store.message(channelId, ts);
        return message === undefined ? undefined : store.renderMessage(message);
      },
      reactions: (channelId, ts) => renderReactions(store.message(channelId, ts)?.reactions ?? []),
      files: () =>
        store
          .allFiles()
          .filter((file) => file.completed)
          .map((file) => store.renderFile(file)),
      fileContent: (fileId) => {
        const bytes = store.file(fileId)?.bytes;
        return bytes === undefined ? undefined : Buffer.from(bytes);
      },
      ephemeral: (channelId) =>
        byTs(store.ephemeral().filter((message) => message.channel === channelId)).map((message) =>
          structuredClone(message),
        ),
      views: () => store.allViews().map((view) => structuredClone(view)),
    };
  }

  private createChannelControls(): SlackSimulatorChannels {
    const store = this.store;
    const requireChannel = (id: string) => {
      const channel = store.channel(id);
      if (channel === undefined) throw new ConfigurationError(`Unknown channel ${id}`);
      return channel;
    };
    const actor = (channel: { members: string[] }): string => channel.members[0] ?? store.identity.botUserId;
    return {
      create: (input) => {
        const known = new Set(store.allChannels().map((channel) => channel.id));
        const userIds = new Set(this.settings.users.map((user) => user.id));
        validateChannel(input, known, userIds);
        return store.renderChannel(store.addChannel(input));
      },
      archive: (id) => {
        const channel = requireChannel(id);
        if (channel.isArchived) return;
        this.emit(archiveEvent({ channel, user: actor(channel), eventTs: store.nextTs() }));
        channel.isArchived = true;
      },
      unarchive: (id) => {
        requireChannel(id).isArchived = false;
      },
      removeBot: (id) => {
        const channel = requireChannel(id);
        if (!channel.botIsMember) return;
        channel.botIsMember = false;
        this.emit(botLeftEvent({ channel, actor: actor(channel), eventTs: store.nextTs() }));
      },
      addBot: (id) => {
        const channel = requireChannel(id);
        if (channel.botIsMember) return;
        channel.botIsMember = true;
        const inviter = actor(channel);
        const joined = store.addMessage(channel, {
          author: { kind: "bot" },
          kind: "channel_join",
          text: `<@${store.identity.botUserId}> has joined the channel`,
          inviter,
        });
        this.emit(
          memberJoinedEvent({
            identity: store.identity,
            channel,
            user: store.identity.botUserId,
            inviter,
            eventTs: joined.ts,
          }),
        );
        this.emit(messageEvent(store, channel, joined));
      },
    };
  }
}

/** Adds `warning` and `response_metadata.warnings` as Slack does. */
function withWarnings(
  payload: Record<string, unknown>,
  warnings: readonly string[],
): Record<string, unknown> {
  if (warnings.length === 0) return payload;
  const metadata =
    payload.response_metadata !== null && typeof payload.response_metadata === "object"
      ? (payload.response_metadata as Record<string, unknown>)
      : {};
  return {
    ...payload,
    warning: warnings.join(","),
    response_metadata: { ...metadata, warnings: [...warnings] },
  };
}

function isAnsweringFault(fault: AppliedFault): boolean {
  return fault.kind === "rate-limit" || fault.kind === "server-error" || fault.kind === "bad-gateway";
}

function faultResponse(fault: AppliedFault): RouteResult {
  if (fault.kind === "rate-limit") {
    return {
      status: 429,
      headers: { "retry-after": String(fault.retryAfterSeconds) },
      json: { ok: false, error: "ratelimited" },
    };
  }
  if (fault.kind === "bad-gateway") {
    return {
      status: 502,
      raw: {
        bytes: Buffer.from(
          "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n",
        ),
        contentType: "text/html",
      },
    };
  }
  return { status: 500, json: { ok: false, error: "internal_error" } };
}

function writeResponse(response: ServerResponse, result: RouteResult, headOnly: boolean): void {
  const headers: Record<string, string | number> = { ...result.headers };
  let bytes: Uint8Array = new Uint8Array(0);
  if (result.json !== undefined) {
    bytes = Buffer.from(JSON.stringify(result.json), "utf8");
    headers["content-type"] = "application/json; charset=utf-8";
  } else if (result.raw !== undefined) {
    bytes = result.raw.bytes;
    headers["content-type"] = result.raw.contentType;
  }
  headers["content-length"] = bytes.byteLength;
  response.writeHead(result.status, headers);
  response.end(headOnly ? undefined : bytes);
}

function parseJsonOrText(bytes: Buffer): unknown {
  const text = bytes.toString("utf8");
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
