/**
 * Public types of the Slack simulator (`@linq-connect/slack/testing`).
 *
 * Messages, files, channels, users and views are returned in Slack's own wire
 * shapes (snake_case, as the Web API and the Events API send them), so what a
 * test reads from `simulator.state` looks like what the app reads from Slack.
 */

/** The Web API rate-limit tiers (requests per minute per method per workspace). */
export type SlackRateLimitTier = 1 | 2 | 3 | 4;

/** A channel the simulated workspace starts with (or that `channels.create` adds). */
export interface SlackChannelInput {
  /** A Slack channel id, e.g. `C0SALES`. */
  id: string;
  /** The channel name without `#`, lower case, e.g. `sales`. */
  name: string;
  /** A private channel (`groups:*` scopes apply). Default false. */
  isPrivate?: boolean;
  /** Archived: readable, but posting, reacting and joining fail with `is_archived`. Default false. */
  isArchived?: boolean;
  /** Whether the app's bot user is a member. Default true. */
  botIsMember?: boolean;
  /** Human members (user ids). Default: every configured user. */
  members?: string[];
  topic?: string;
  purpose?: string;
}

/** A human user of the simulated workspace. */
export interface SlackUserInput {
  /** A Slack user id, e.g. `U0ALEX`. */
  id: string;
  /** The handle (`name`), e.g. `alex`. */
  name: string;
  /** The full name. Default: `name`. */
  realName?: string;
  /** Shown in `profile.email` only to tokens with `users:read.email`. */
  email?: string;
  /** IANA time zone. Default `America/Los_Angeles`. */
  tz?: string;
  isAdmin?: boolean;
}

/** Rate limits; see {@link SlackSimulatorOptions.rateLimits}. */
export interface SlackRateLimitOptions {
  /**
   * Requests per minute for each tier (a token bucket per method holding one
   * minute's worth). Defaults: tier 1: 1, tier 2: 20, tier 3: 50, tier 4: 100.
   */
  tiers?: Partial<Record<SlackRateLimitTier, number>>;
  /**
   * chat.postMessage pacing per channel: `perSecond` sustained with `burst` at
   * once. Default `{ perSecond: 1, burst: 3 }`; `false` turns it off.
   */
  postMessagePerChannel?: { perSecond: number; burst?: number } | false;
  /**
   * Per-method overrides (requests per minute, optional burst), or `false` for
   * no limit. Overrides the tier and the Marketplace defaults.
   */
  methods?: Record<string, { perMinute: number; burst?: number } | false>;
}

/** Options of {@link startSlackSimulator}. Every field is optional. */
export interface SlackSimulatorOptions {
  /** TCP port. Default 0 (an ephemeral port). */
  port?: number;
  /** Interface. Default `127.0.0.1`. */
  host?: string;
  /** Default `T0SIM`. */
  teamId?: string;
  /** Default `Simulated Workspace`. */
  teamName?: string;
  /** Default `simulated` (as in `simulated.slack.com`). */
  teamDomain?: string;
  /** The bot token the Web API accepts. Default `xoxb-sim-0000000001-simulator-bot-token`. */
  botToken?: string;
  /** The bot user's id. Default `U0SIMBOT`. */
  botUserId?: string;
  /** The bot's id (`bot_id` on its messages). Default `B0SIMBOT`. */
  botId?: string;
  /** The app's id (`api_app_id`). Default `A0SIMAPP`. */
  appId?: string;
  /** The bot user's name. Default `linq-connect`. */
  botName?: string;
  /**
   * The app-level token (`xapp-…`) that apps.connections.open accepts (Socket
   * Mode). Default `xapp-1-<appId>-0000000001-simulator-app-level-token`.
   */
  appToken?: string;
  /** The scopes of the app-level token. Default `["connections:write"]`. */
  appTokenScopes?: string[];
  /** The app's signing secret. Default `sim-signing-secret-0123456789abcdef`. */
  signingSecret?: string;
  /** The (deprecated) verification token carried in payloads. Default `simVerificationToken0001`. */
  verificationToken?: string;
  /**
   * The bot scopes granted at install. Default: chat:write, chat:write.customize,
   * channels:read, channels:history, groups:read, groups:history, reactions:read,
   * reactions:write, files:read, files:write, users:read, users:read.email,
   * commands, channels:join.
   */
  scopes?: string[];
  /** The workspace's channels. Default `[{ id: "C0GENERAL", name: "general" }]`. */
  channels?: SlackChannelInput[];
  /** The workspace's humans. Default one user `U0ALEX` (`alex@example.com`). */
  users?: SlackUserInput[];
  /** The app's Events API request URL. Without it (and without Socket Mode) no event is delivered. */
  eventsUrl?: string;
  /** The request URL of the app's slash commands. */
  commandsUrl?: string;
  /** The app's interactivity request URL (shortcuts, view submissions). */
  interactionsUrl?: string;
  /**
   * The app's event subscriptions (`message.channels`, `message.groups`,
   * `reaction_added`, `reaction_removed`, `file_shared`, `member_joined_channel`,
   * `channel_left`, `channel_archive`, `group_archive`, `tokens_revoked`).
   * Default: all of them.
   */
  eventSubscriptions?: string[];
  /**
   * Whether the app is approved for the Slack Marketplace. Default false: as for
   * every non-Marketplace app since 2025, conversations.history and
   * conversations.replies allow 1 request per minute and at most 15 messages per
   * page. true: tier 3 and up to 999 messages.
   */
  marketplaceApp?: boolean;
  /** Rate limits; `false` turns every limit off. */
  rateLimits?: SlackRateLimitOptions | false;
  /** Initial event delivery behaviour; see {@link SlackEventDeliveryConfiguration}. */
  eventDelivery?: SlackEventDeliveryConfiguration;
  /**
   * The app's "Enable Socket Mode" toggle. `true`: events, slash commands and
   * interactions only go over Socket Mode connections (never to the request
   * URLs). `false`: only over HTTP; connections are told `link_disabled`.
   * Omitted (the default): HTTP until the app first connects over Socket Mode,
   * then Socket Mode (until `configureApp({ socketMode: false })`).
   */
  socketMode?: boolean;
  /** Socket Mode connection behaviour; see {@link SlackSocketModeConfiguration}. */
  socketModeConnection?: SlackSocketModeConfiguration;
  /** The largest request body (and file) accepted, in bytes. Default 50 MB. */
  maxUploadBytes?: number;
  /**
   * The clock for ts values, event times, signatures, trigger and response URL
   * expiry, and rate limits. Default `() => new Date()`. Requests to the app are
   * signed with this clock's time, so an app that checks the timestamp against
   * its own clock (Bolt allows 5 minutes) rejects them when the two differ.
   */
  now?: () => Date;
  /** Receives one line per request and per delivery attempt. Silent by default. */
  logger?: (line: string) => void;
}

/** A reaction on a message, as Slack renders it. */
export interface SlackReaction {
  name: string;
  users: string[];
  count: number;
}

/** The bot profile Slack attaches to bot messages. */
export interface SlackBotProfile {
  id: string;
  app_id: string;
  user_id: string;
  name: string;
  icons: { image_36: string; image_48: string; image_72: string };
  deleted: boolean;
  updated: number;
  team_id: string;
}

/** One share of a file in a conversation. */
export interface SlackFileShare {
  reply_users: string[];
  reply_users_count: number;
  reply_count: number;
  ts: string;
  thread_ts?: string;
  channel_name: string;
  team_id: string;
  share_user_id: string;
  source: string;
  is_silent_share: boolean;
}

/** A file object, as files.info and message `files` render it. */
export interface SlackFile {
  id: string;
  created: number;
  timestamp: number;
  name: string;
  title: string;
  mimetype: string;
  filetype: string;
  pretty_type: string;
  user: string;
  user_team: string;
  editable: boolean;
  size: number;
  mode: "hosted";
  is_external: boolean;
  external_type: string;
  is_public: boolean;
  public_url_shared: boolean;
  display_as_bot: boolean;
  username: string;
  url_private: string;
  url_private_download: string;
  media_display_type: string;
  permalink: string;
  permalink_public: string;
  comments_count: number;
  is_starred: boolean;
  shares: { public?: Record<string, SlackFileShare[]>; private?: Record<string, SlackFileShare[]> };
  channels: string[];
  groups: string[];
  ims: string[];
  has_more_shares: boolean;
  has_rich_preview: boolean;
  file_access: string;
  alt_txt?: string;
}

/** A message, as conversations.history / conversations.replies render it (fields appear only when set). */
export interface SlackMessage {
  type: "message";
  ts: string;
  text: string;
  subtype?: string;
  user?: string;
  bot_id?: string;
  app_id?: string;
  username?: string;
  icons?: Record<string, string>;
  bot_profile?: SlackBotProfile;
  team?: string;
  client_msg_id?: string;
  blocks?: unknown[];
  attachments?: unknown[];
  files?: SlackFile[];
  upload?: boolean;
  display_as_bot?: boolean;
  thread_ts?: string;
  parent_user_id?: string;
  reply_count?: number;
  reply_users_count?: number;
  reply_users?: string[];
  latest_reply?: string;
  is_locked?: boolean;
  subscribed?: boolean;
  reactions?: SlackReaction[];
  edited?: { user: string; ts: string };
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
  hidden?: boolean;
  /** For `channel_join` messages of an invited member. */
  inviter?: string;
}

/** A conversation object, as conversations.info renders it. */
export interface SlackConversation {
  id: string;
  name: string;
  is_channel: boolean;
  is_group: boolean;
  is_im: boolean;
  is_mpim: boolean;
  is_private: boolean;
  created: number;
  is_archived: boolean;
  is_general: boolean;
  unlinked: number;
  name_normalized: string;
  is_shared: boolean;
  is_org_shared: boolean;
  is_pending_ext_shared: boolean;
  pending_shared: string[];
  context_team_id: string;
  updated: number;
  parent_conversation: null;
  creator: string;
  is_ext_shared: boolean;
  shared_team_ids: string[];
  pending_connected_team_ids: string[];
  is_member: boolean;
  topic: { value: string; creator: string; last_set: number };
  purpose: { value: string; creator: string; last_set: number };
  previous_names: string[];
  num_members?: number;
}

/** The simulator's view of a channel. */
export interface SimulatorChannel {
  id: string;
  name: string;
  isPrivate: boolean;
  isArchived: boolean;
  botIsMember: boolean;
  /** Human members and, when it is a member, the bot user. */
  members: string[];
}

/** A user object, as users.info renders it. */
export interface SlackUser {
  id: string;
  team_id: string;
  name: string;
  deleted: boolean;
  color: string;
  real_name: string;
  tz: string;
  tz_label: string;
  tz_offset: number;
  profile: Record<string, unknown>;
  is_admin: boolean;
  is_owner: boolean;
  is_primary_owner: boolean;
  is_restricted: boolean;
  is_ultra_restricted: boolean;
  is_bot: boolean;
  is_app_user: boolean;
  updated: number;
  is_email_confirmed: boolean;
}

/** An ephemeral message: shown to one user, never in channel history. */
export interface SimulatorEphemeralMessage {
  channel: string;
  /** The user who sees it. */
  user: string;
  /** The `message_ts` chat.postEphemeral answered (or the simulator's ts for response URL posts). */
  ts: string;
  text: string;
  blocks?: unknown[];
  attachments?: unknown[];
  thread_ts?: string;
  /** Where it came from. */
  source: "chat.postEphemeral" | "command_response" | "response_url";
}

/** A modal opened with views.open (and changed by views.update or a submission answer). */
export interface SimulatorView {
  /** The user the modal was opened for. */
  user: string;
  /** Whether it is still open (a submission answered with an empty 200 or `clear` closes it). */
  isOpen: boolean;
  /** The view object as views.open answered it. */
  view: Record<string, unknown> & { id: string; hash: string; type: string };
}

/** Read-only inspection of the workspace; every call returns deep copies. */
export interface SlackSimulatorStateView {
  channels(): SimulatorChannel[];
  channel(id: string): SimulatorChannel | undefined;
  /** Top-level messages of a channel (thread parents, unthreaded messages, broadcasts), oldest first. */
  messages(channelId: string): SlackMessage[];
  /** A thread: the parent (when it exists) followed by its replies, oldest first. */
  thread(channelId: string, threadTs: string): SlackMessage[];
  message(channelId: string, ts: string): SlackMessage | undefined;
  reactions(channelId: string, ts: string): SlackReaction[];
  /** Every completed upload (shared or not). */
  files(): SlackFile[];
  /** The bytes of a file (uploaded by the app or shared by a user). */
  fileContent(fileId: string): Buffer | undefined;
  /** Ephemeral messages in a channel (chat.postEphemeral, slash command answers, response URL posts). */
  ephemeral(channelId: string): SimulatorEphemeralMessage[];
  views(): SimulatorView[];
}

/** The kinds of injected faults. */
export type SlackFaultKind =
  | "rate-limit"
  | "server-error"
  | "bad-gateway"
  | "latency"
  | "timeout"
  | "drop-connection"
  | "drop-after-processing";

/** A fault rule for {@link SlackSimulatorFaults.inject}. */
export interface SlackFaultRule {
  /**
   * Which requests: `method` is the Web API method name (`chat.postMessage`) or a
   * RegExp over it; the other endpoints are named `upload` (the upload URL),
   * `file_download` (url_private), `response_url` and `socket_mode` (the Socket
   * Mode WebSocket upgrade: `rate-limit`, `server-error` and `bad-gateway` refuse
   * it with 429 / 500 / 502, `timeout` leaves it unanswered, both `drop-*`
   * kinds drop it before the ticket is used, `latency` delays it). Omitted:
   * every request.
   */
  match?: { method?: string | RegExp };
  kind: SlackFaultKind;
  /** How many matching requests fail. Default: all of them until removed. */
  times?: number;
  /** The `Retry-After` of `rate-limit`. Default 1. */
  retryAfterSeconds?: number;
  /** The delay of `latency`. Default 500 ms. */
  latencyMs?: number;
}

/** A handle on an injected fault. */
export interface SlackFaultHandle {
  /** How many requests it has failed so far. */
  readonly hits: number;
  remove(): void;
}

export interface SlackSimulatorFaults {
  inject(rule: SlackFaultRule): SlackFaultHandle;
  clear(): void;
}

/** One request the simulator received (page views excepted). */
export interface SlackRecordedRequest {
  at: string;
  httpMethod: string;
  path: string;
  /** The Web API method, or `upload`, `file_download`, `response_url`, `socket_mode` (a WebSocket upgrade), `unknown`. */
  method: string;
  /** The arguments as parsed (form, query or JSON), with `token` redacted. */
  params: Record<string, unknown>;
  contentType: string | null;
  /** The HTTP status answered; null when the connection was dropped or never answered. */
  status: number | null;
  /** For Web API calls: the `ok` of the body. */
  ok: boolean | null;
  /** For Web API calls that failed: the `error` code. */
  error: string | null;
  fault: SlackFaultKind | null;
}

/**
 * How events are delivered; every field optional in {@link SlackSimulatorEvents.configure}.
 * The same settings apply to Socket Mode envelopes (ack timeout, retries, duplicates).
 */
export interface SlackEventDeliveryConfiguration {
  /** Retry a failed delivery (non-2xx, timeout, connection failure, no Socket Mode ack) up to 3 times. Default true. */
  retryOnFailure?: boolean;
  /**
   * How long the app has to answer (or ack over Socket Mode) before the attempt
   * counts as `http_timeout` (`timeout`); also the slash command and
   * interaction deadline. Default 3 000 ms.
   */
  ackTimeoutMs?: number;
  /**
   * The delays before retries 1, 2 and 3. Slack waits ~0 s, ~1 min and ~5 min;
   * the simulator defaults to `[0, 1_000, 5_000]`.
   */
  retryDelaysMs?: readonly number[];
  /** The probability that an event is delivered twice (same event_id, no retry headers). Default 0. */
  duplicateProbability?: number;
  /** The random source for duplicates. Default `Math.random`. */
  random?: () => number;
}

/** One delivery attempt of an event to the app's events URL. */
export interface SlackEventDeliveryRecord {
  eventId: string | null;
  /** The inner event type (`message`, `reaction_added`…) or `url_verification`. */
  type: string;
  /** The message subtype, when the event is a message with one. */
  subtype: string | null;
  url: string;
  /** 1 for the first attempt, 2..4 for retries. */
  attempt: number;
  /** `X-Slack-Retry-Num` sent (null on first attempts). */
  retryNum: number | null;
  /** `X-Slack-Retry-Reason` sent (null on first attempts). */
  retryReason: string | null;
  status: number | null;
  ok: boolean;
  /** Why the attempt failed: `http_timeout`, `http_error` or `connection_failed`. */
  failure: string | null;
  /** Whether the app answered `X-Slack-No-Retry: 1`. */
  noRetry: boolean;
  duplicate: boolean;
  body: string;
  at: string;
  durationMs: number;
}

export interface SlackSimulatorEvents {
  /** Every HTTP attempt so far, in the order they finished (Socket Mode ones: `socketMode.deliveries`). */
  readonly deliveries: SlackEventDeliveryRecord[];
  configure(options: SlackEventDeliveryConfiguration): void;
  /** Resolves when no delivery (HTTP or Socket Mode) is queued, in flight or waiting to be retried. */
  flush(): Promise<void>;
  /**
   * Delivers an arbitrary inner event (any type, e.g. `app_mention`) in the
   * `event_callback` envelope, signed, with the usual retries, ignoring
   * subscriptions, scopes and membership (over Socket Mode when it is on).
   * Returns its `event_id`. Throws ConfigurationError when no events URL is set
   * and Socket Mode is off.
   */
  deliver(event: Record<string, unknown> & { type: string }): string;
}

/** Socket Mode connection behaviour; every field optional in {@link SlackSimulatorSocketMode.configure}. */
export interface SlackSocketModeConfiguration {
  /** How often the server pings each connection (WebSocket ping frames). Default 10 000 ms. */
  pingIntervalMs?: number;
  /**
   * How long a connection lives before Slack refreshes it (hello's
   * `debug_info.approximate_connection_time`): a `warning` `warningLeadMs`
   * before the end, then `refresh_requested`. A URL with
   * `debug_reconnects=true` lives 360 s. Default 3 600; `false`: never (hello
   * then says 0).
   */
  connectionLifetimeSeconds?: number | false;
  /** How long before the refresh the `warning` disconnect comes. Default 10 000 ms. */
  warningLeadMs?: number;
  /**
   * After `refresh_requested` or `link_disabled`, how long the server leaves the
   * connection open for the app to close it before closing it itself. Default 10 000 ms.
   */
  disconnectGraceMs?: number;
}

/** Why Slack tells a connection to go away (`disconnect` message `reason`). */
export type SlackSocketModeDisconnectReason = "refresh_requested" | "warning" | "link_disabled";

/** An open Socket Mode connection. */
export interface SlackSocketModeConnection {
  /** The simulator's id of the connection (`SM1`, `SM2`…). */
  id: string;
  /** When the WebSocket was accepted (ISO 8601). */
  openedAt: string;
  /** `open` receives envelopes; `disconnecting` was told to go away and receives none. */
  state: "open" | "disconnecting";
  /** The last `disconnect` reason sent to it, if any. */
  disconnectReason: SlackSocketModeDisconnectReason | null;
  /** Whether the URL carried `debug_reconnects=true` (a 360 s lifetime). */
  debugReconnects: boolean;
  /** `debug_info.host` of its hello. */
  host: string;
  envelopesSent: number;
  acksReceived: number;
}

/** One envelope sent over Socket Mode (or that could not be sent: no open connection). */
export interface SlackSocketModeDeliveryRecord {
  envelopeId: string;
  type: "events_api" | "slash_commands" | "interactive";
  /** The payload's `event_id` (events_api only). */
  eventId: string | null;
  /** events_api: the inner event type; slash_commands: the command; interactive: the payload type. */
  name: string;
  /** The message subtype of an events_api message, if any. */
  subtype: string | null;
  /** The connection it went over; null when none was open. */
  connectionId: string | null;
  /** `retry_attempt` (0 for the first delivery; events_api only, otherwise 0). */
  retryAttempt: number;
  /** `retry_reason` ("" for the first delivery). */
  retryReason: string;
  acceptsResponsePayload: boolean;
  /** `acked` within the ack timeout, `timeout` (no ack in time), `no_connection`. */
  outcome: "acked" | "timeout" | "no_connection";
  /** The `payload` of the app's ack, if it sent one. */
  ackPayload: unknown;
  /** Whether an ack arrived after the timeout (Slack ignores it; the envelope is redelivered anyway). */
  acknowledgedLate: boolean;
  /** A deliberate duplicate (`duplicateProbability`). */
  duplicate: boolean;
  /** The envelope as sent (JSON). */
  body: string;
  at: string;
  durationMs: number;
}

/**
 * Socket Mode (`simulator.socketMode`). apps.connections.open (app-level token
 * with `connections:write`) answers a single-use `ws://…/socket-mode/<ticket>`
 * URL; the WebSocket receives `hello`, then envelopes the app must ack with
 * `{ envelope_id, payload? }` within the ack timeout (`events.configure({
 * ackTimeoutMs })`, 3 s). An events_api envelope that is not acked is sent again
 * (a new envelope_id, `retry_attempt` 1..3, `retry_reason: "timeout"`) with the
 * Events API retry delays; commands and interactions are not retried (the user
 * sees `operation_timeout`).
 */
export interface SlackSimulatorSocketMode {
  /** Whether events, commands and interactions currently go over Socket Mode. */
  readonly enabled: boolean;
  /** The open connections (copies), oldest first. */
  connections(): SlackSocketModeConnection[];
  /**
   * Sends `{ type: "disconnect", reason, debug_info }` to every open connection;
   * returns how many were told. `refresh_requested` / `link_disabled`: the
   * connection gets no more envelopes and is closed after `disconnectGraceMs`
   * unless the app closes it first. `warning`: `refresh_requested` follows after
   * `warningLeadMs`.
   */
  disconnectAll(reason: SlackSocketModeDisconnectReason): number;
  /** Every envelope so far, in the order their outcome was known. */
  readonly deliveries: SlackSocketModeDeliveryRecord[];
  configure(options: SlackSocketModeConfiguration): void;
}

/** The app's request URLs, as in the app's settings page. */
export interface SlackAppConfiguration {
  /**
   * The "Enable Socket Mode" toggle: `true` routes events, commands and
   * interactions over Socket Mode; `false` back to the request URLs and tells
   * every open connection `disconnect` / `link_disabled`.
   */
  socketMode?: boolean;
  eventsUrl?: string | null;
  commandsUrl?: string | null;
  interactionsUrl?: string | null;
  eventSubscriptions?: string[];
  /**
   * Send Slack's `url_verification` challenge to the new events URL first and
   * refuse the URL (rejecting with ConfigurationError) unless the app echoes the
   * challenge. Default false.
   */
  verify?: boolean;
}

/** A file a simulated user shares. */
export interface SlackUserFileInput {
  /** The file name, e.g. `photo.png`. */
  name: string;
  content: Buffer | Uint8Array | string;
  title?: string;
  /** Default: from the extension. */
  mimetype?: string;
}

/**
 * What the app answered to a slash command or an interaction. Over Socket Mode
 * the answer is the acknowledgement: `status` 200 when the app acked within
 * 3 s, `body` the ack's `payload` as JSON text ("" without one) and `json` the
 * payload itself.
 */
export interface SlackAppAnswer {
  /**
   * The HTTP status (200 for a Socket Mode ack), or null when the app did not
   * answer within 3 s (`operation_timeout`) or was unreachable.
   */
  status: number | null;
  /** `operation_timeout`, `connection_failed` (HTTP failure, or no open Socket Mode connection) or null. */
  error: string | null;
  /** The response body (or the ack payload) as text. */
  body: string;
  /** The body parsed as JSON, when it is JSON (over Socket Mode: the ack payload). */
  json: unknown;
  /** How the request reached the app. */
  transport: "http" | "socket_mode";
  /** The Socket Mode envelope_id; null over HTTP. */
  envelopeId: string | null;
}

/** The result of {@link SlackSimulatorUsers.slashCommand}. */
export interface SlackSlashCommandResult extends SlackAppAnswer {
  /** The `response_url` sent with the command. */
  responseUrl: string;
  triggerId: string;
  /** Every message the app posted to `response_url` so far (a live array). */
  readonly responses: readonly SlackResponseUrlPost[];
}

/** One POST to a response URL. */
export interface SlackResponseUrlPost {
  body: unknown;
  status: number;
  /** Where it landed: an ephemeral message, a channel message, a replaced or deleted message, or nowhere (rejected). */
  outcome: "ephemeral" | "in_channel" | "replaced" | "deleted" | "rejected";
}

/** The result of {@link SlackSimulatorUsers.shortcut}. */
export interface SlackShortcutResult extends SlackAppAnswer {
  triggerId: string;
  /** Only for message shortcuts. */
  responseUrl: string | null;
  readonly responses: readonly SlackResponseUrlPost[];
}

/** The result of {@link SlackSimulatorUsers.submitView}. */
export interface SlackViewSubmissionResult extends SlackAppAnswer {
  /** `response_action` of the app's answer, if any (`errors`, `update`, `push`, `clear`). */
  responseAction: string | null;
  /** The field errors the app answered with `response_action: "errors"`. */
  errors: Record<string, string> | null;
  /** Whether the modal is still open after the answer. */
  viewIsOpen: boolean;
}

/**
 * Act as the workspace's humans: each call changes the state and delivers the
 * signed event(s) to the app (over Socket Mode when it is on: commands as
 * `slash_commands`, shortcuts and view submissions as `interactive` envelopes).
 */
export interface SlackSimulatorUsers {
  /** A message (or a thread reply with `threadTs`), optionally with files: a `message` event (`file_share` with files). */
  post(input: {
    user: string;
    channel: string;
    text: string;
    threadTs?: string;
    files?: SlackUserFileInput[];
    /** Also send a thread reply to the channel (`thread_broadcast`). */
    broadcast?: boolean;
  }): Promise<SlackMessage>;
  /** Edits the user's own message: `message_changed`. */
  edit(input: { user: string; channel: string; ts: string; text: string }): Promise<SlackMessage>;
  /** Deletes a message (the user's own, or any when the user is an admin): `message_deleted`. */
  delete(input: { user: string; channel: string; ts: string }): Promise<void>;
  /** `reaction_added`. Adding the same reaction twice is ignored, as in Slack's client. */
  react(input: { user: string; channel: string; ts: string; name: string }): Promise<void>;
  /** `reaction_removed`. */
  unreact(input: { user: string; channel: string; ts: string; name: string }): Promise<void>;
  /** A file uploaded by the user and shared (in a thread with `threadTs`): `file_shared` + a `file_share` message. */
  shareFile(input: {
    user: string;
    channel: string;
    file: SlackUserFileInput;
    text?: string;
    threadTs?: string;
  }): Promise<{ file: SlackFile; message: SlackMessage }>;
  /**
   * Runs a slash command: a signed form POST to the commands URL (or a
   * `slash_commands` envelope over Socket Mode); resolves with the app's answer.
   */
  slashCommand(input: {
    user: string;
    channel: string;
    command: string;
    text?: string;
  }): Promise<SlackSlashCommandResult>;
  /** A global shortcut (`shortcut`), or a message shortcut (`message_action`) when `messageTs` is given. */
  shortcut(input: {
    user: string;
    callbackId: string;
    channel?: string;
    messageTs?: string;
  }): Promise<SlackShortcutResult>;
  /**
   * Submits an open modal: a signed `view_submission`. `values` is the modal's
   * `state.values` (`{ block_id: { action_id: { type, value } } }`).
   */
  submitView(input: {
    user: string;
    viewId: string;
    values?: Record<string, Record<string, unknown>>;
  }): Promise<SlackViewSubmissionResult>;
}

/** Changes to the workspace's channels (as an admin would make them), with their events. */
export interface SlackSimulatorChannels {
  /** Adds a channel. */
  create(input: SlackChannelInput): SimulatorChannel;
  /** Archives a channel: `channel_archive` / `group_archive`. */
  archive(id: string): void;
  unarchive(id: string): void;
  /** Removes the bot user from a channel: `channel_left` to the app. */
  removeBot(id: string): void;
  /** Adds the bot user to a channel (as a member inviting it would): `member_joined_channel`. */
  addBot(id: string): void;
}

/** A running Slack simulator. */
export interface SlackSimulator {
  /** `http://127.0.0.1:PORT`. The Web API is under `${baseUrl}/api/`: `new WebClient(token, { slackApiUrl: `${baseUrl}/api/` })`. */
  readonly baseUrl: string;
  /** `${baseUrl}/api/`, ready for `slackApiUrl`. */
  readonly apiUrl: string;
  readonly botToken: string;
  /** The app-level token (`xapp-…`) for apps.connections.open. */
  readonly appToken: string;
  readonly botUserId: string;
  readonly botId: string;
  readonly appId: string;
  readonly teamId: string;
  readonly signingSecret: string;
  readonly verificationToken: string;
  readonly state: SlackSimulatorStateView;
  /** Every request received, in arrival order (cleared by `reset()`). */
  readonly requests: SlackRecordedRequest[];
  readonly users: SlackSimulatorUsers;
  readonly channels: SlackSimulatorChannels;
  readonly events: SlackSimulatorEvents;
  readonly faults: SlackSimulatorFaults;
  /** Socket Mode: the open connections, the envelopes sent over them, and disconnects. */
  readonly socketMode: SlackSimulatorSocketMode;
  /** Changes the app's request URLs and event subscriptions (optionally verifying the events URL). */
  configureApp(configuration: SlackAppConfiguration): Promise<void>;
  /** Revokes the bot token: every Web API call answers `token_revoked`, and `tokens_revoked` is delivered. */
  revokeToken(): void;
  /**
   * Restores the initial channels and users and clears messages, files, views,
   * ephemeral messages, recorded requests, deliveries (HTTP and Socket Mode),
   * pending Socket Mode envelopes, faults, rate-limit counters and the
   * revocation; keeps the options, the app configuration and the open Socket
   * Mode connections.
   */
  reset(): void;
  /** Stops the server, aborts pending deliveries and closes every connection. */
  close(): Promise<void>;
}
