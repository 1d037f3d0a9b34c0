/**
 * Slack Web API failures as linq-connect errors, so the host decides retries from `isRetryable`:
 *
 * | Slack says                                                              | error                 | retried |
 * | ----------------------------------------------------------------------- | --------------------- | ------- |
 * | HTTP 429 / `ratelimited`                                                | `RateLimitError`      | yes     |
 * | `invalid_auth`, `not_authed`, `token_revoked`, `token_expired`, …       | `AuthenticationError` | no      |
 * | `missing_scope`, `not_in_channel`, `channel_not_found`, `is_archived`, … | `PermissionError`     | no      |
 * | `invalid_blocks`, `msg_too_long`, `no_text`, `invalid_arguments`, …     | `ValidationError`     | no      |
 * | HTTP 5xx, `internal_error`, `fatal_error`, `service_unavailable`, …     | `ServerError`         | yes     |
 * | no answer within the timeout                                            | `TimeoutError`        | yes     |
 * | connection refused / reset                                              | `NetworkError`        | yes     |
 *
 * Every non-retryable message says what to do (a scope to add, `/invite` the bot, `linq-sync doctor`).
 * The bot token never appears in a message.
 */
import {
  ApiError,
  AuthenticationError,
  LinqConnectError,
  type LinqConnectErrorOptions,
  NetworkError,
  PermissionError,
  RateLimitError,
  ServerError,
  TimeoutError,
  ValidationError,
} from "@linq-connect/core";

const doctorHint = "run `linq-sync doctor` to check the Slack app";

const authenticationErrors = new Set([
  "invalid_auth",
  "not_authed",
  "token_revoked",
  "token_expired",
  "account_inactive",
  "no_permission",
  "org_login_required",
  "team_disabled",
  "invalid_token",
]);

const serverErrors = new Set([
  "internal_error",
  "fatal_error",
  "service_unavailable",
  "request_timeout",
  "team_added_to_org",
]);

const validationErrors = new Set([
  "invalid_arguments",
  "invalid_blocks",
  "invalid_blocks_format",
  "invalid_attachments",
  "invalid_metadata_format",
  "invalid_metadata_schema",
  "msg_too_long",
  "no_text",
  "too_many_attachments",
  "invalid_thread_ts",
  "invalid_name",
  "invalid_form_data",
  "invalid_charset",
  "invalid_array_arg",
  "missing_argument",
  "file_upload_size_restricted",
  "alt_txt_too_large",
]);

/** What to do about the non-retryable errors that a person has to fix. */
function permissionAdvice(
  code: string,
  channel: string | undefined,
): { message: string; configuration: boolean } {
  const where = channel === undefined ? "the channel" : `channel ${channel}`;
  switch (code) {
    case "not_in_channel":
      return {
        message: `The Slack bot is not a member of ${where}: invite it with /invite @<bot name> in that channel (${doctorHint})`,
        configuration: false,
      };
    case "channel_not_found":
      return {
        message: `Slack ${where} does not exist or the bot cannot see it (a private channel needs the bot invited): check the route's slack.channel (${doctorHint})`,
        configuration: true,
      };
    case "is_archived":
      return {
        message: `Slack ${where} is archived: unarchive it or point the route's slack.channel at another channel (${doctorHint})`,
        configuration: true,
      };
    case "missing_scope":
      return {
        message: `The Slack app lacks a scope: add it in the app's OAuth & Permissions page (see slack-app-manifest.yaml) and reinstall the app (${doctorHint})`,
        configuration: true,
      };
    case "restricted_action":
    case "restricted_action_read_only_channel":
    case "restricted_action_thread_only_channel":
    case "restricted_action_non_threadable_channel":
    case "ekm_access_denied":
    case "team_access_not_granted":
    case "access_denied":
      return {
        message: `Slack refused the action in ${where} (${code}): a workspace or channel setting prevents the app from posting (${doctorHint})`,
        configuration: false,
      };
    case "cant_update_message":
    case "cant_delete_message":
    case "edit_window_closed":
      return { message: `Slack refused to change the message (${code})`, configuration: false };
    default:
      return { message: `Slack refused the request (${code}) (${doctorHint})`, configuration: false };
  }
}

const permissionErrors = new Set([
  "not_in_channel",
  "channel_not_found",
  "is_archived",
  "missing_scope",
  "restricted_action",
  "restricted_action_read_only_channel",
  "restricted_action_thread_only_channel",
  "restricted_action_non_threadable_channel",
  "ekm_access_denied",
  "team_access_not_granted",
  "access_denied",
  "cant_update_message",
  "cant_delete_message",
  "edit_window_closed",
]);

/** A Slack error code that a person must fix (the job is dead-lettered with this reason). */
export class SlackPermissionError extends PermissionError {
  /** Slack's `error` code, e.g. `not_in_channel`. */
  readonly slackError: string;
  constructor(message: string, slackError: string, options: LinqConnectErrorOptions = {}) {
    super(message, { source: "slack", ...options });
    this.slackError = slackError;
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), slackError: this.slackError };
  }
}

interface SlackErrorShape {
  code?: unknown;
  data?: { error?: unknown; needed?: unknown; response_metadata?: { messages?: unknown } };
  retryAfter?: unknown;
  statusCode?: unknown;
  statusMessage?: unknown;
  original?: unknown;
  name?: unknown;
  message?: unknown;
  cause?: unknown;
}

export interface MapSlackErrorOptions {
  /** The Web API method, named in the message. */
  method?: string;
  /** The channel the call concerned, named in permission messages. */
  channel?: string;
}

/** The `error` code of a Slack platform error (`{ ok: false, error }`), or undefined for other failures. */
export function slackErrorCode(error: unknown): string | undefined {
  if (error instanceof SlackPermissionError) return error.slackError;
  const shape = error as SlackErrorShape | null;
  if (shape === null || typeof shape !== "object") return undefined;
  if (shape.code === "slack_webapi_platform_error" && typeof shape.data?.error === "string") {
    return shape.data.error;
  }
  if (error instanceof LinqConnectError && error.cause !== undefined && error.cause !== error) {
    return slackErrorCode(error.cause);
  }
  return undefined;
}

function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === "object"; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Turns anything @slack/web-api (or a fetch of a Slack URL) throws into a `LinqConnectError` with
 * `source: "slack"`. Errors that already are `LinqConnectError`s are returned as they are.
 */
export function mapSlackError(error: unknown, options: MapSlackErrorOptions = {}): LinqConnectError {
  if (error instanceof LinqConnectError) return error;
  const method = options.method === undefined ? "Slack" : `Slack ${options.method}`;
  const shape = (error ?? {}) as SlackErrorShape;
  const base: LinqConnectErrorOptions = { source: "slack", cause: error };
  switch (shape.code) {
    case "slack_webapi_rate_limited_error": {
      const retryAfter = typeof shape.retryAfter === "number" ? shape.retryAfter : undefined;
      return new RateLimitError(
        `${method} is rate limited${retryAfter === undefined ? "" : `: retry after ${retryAfter} s`}`,
        { ...base, status: 429, ...(retryAfter === undefined ? {} : { retryAfter }) },
      );
    }
    case "slack_webapi_platform_error": {
      const code = typeof shape.data?.error === "string" ? shape.data.error : "unknown_error";
      if (code === "ratelimited" || code === "rate_limited") {
        return new RateLimitError(`${method} is rate limited (${code})`, { ...base, status: 429 });
      }
      if (authenticationErrors.has(code)) {
        return new AuthenticationError(
          `${method} failed: the Slack bot token is not valid (${code}); create a new token or reinstall the app and set SLACK_BOT_TOKEN (${doctorHint})`,
          { ...base, status: 401 },
        );
      }
      if (permissionErrors.has(code)) {
        const advice = permissionAdvice(code, options.channel);
        const needed = typeof shape.data?.needed === "string" ? ` (needed: ${shape.data.needed})` : "";
        return new SlackPermissionError(`${method} failed: ${advice.message}${needed}`, code, {
          ...base,
          status: 403,
        });
      }
      if (serverErrors.has(code)) {
        return new ServerError(`${method} failed on Slack's side (${code})`, { ...base, status: 500 });
      }
      const details = Array.isArray(shape.data?.response_metadata?.messages)
        ? `: ${(shape.data.response_metadata.messages as unknown[]).slice(0, 3).map(String).join("; ")}`
        : "";
      if (validationErrors.has(code)) {
        return new ValidationError(`${method} rejected the request (${code})${details}`, {
          ...base,
          status: 400,
          fieldErrors: [{ message: code, code }],
        });
      }
      return new ApiError(`${method} failed (${code})${details}`, { ...base, status: 400 });
    }
    case "slack_webapi_http_error": {
      const status = typeof shape.statusCode === "number" ? shape.statusCode : 500;
      if (status === 429)
        return new RateLimitError(`${method} is rate limited (HTTP 429)`, { ...base, status });
      if (status >= 500) return new ServerError(`${method} failed with HTTP ${status}`, { ...base, status });
      if (status === 401 || status === 403) {
        return new AuthenticationError(`${method} failed with HTTP ${status} (${doctorHint})`, {
          ...base,
          status,
        });
      }
      return new ApiError(`${method} failed with HTTP ${status}`, { ...base, status });
    }
    default:
      break;
  }
  return mapTransportError(error, method, base);
}

function mapTransportError(error: unknown, method: string, base: LinqConnectErrorOptions): LinqConnectError {
  const original = (error as SlackErrorShape | null)?.original ?? error;
  const name = (original as { name?: unknown } | null)?.name;
  if (name === "TimeoutError") return new TimeoutError(`${method} did not answer in time`, base);
  const code = networkCode(original);
  const message = error instanceof Error ? error.message : String(error);
  return new NetworkError(
    `${method} request failed${code === undefined ? "" : ` (${code})`}: ${message.slice(0, 200)}`,
    base,
  );
}

/**
 * Whether a failed request that creates something (chat.postMessage, files.completeUploadExternal) may
 * have been carried out anyway: a timeout, a dropped connection, or a 5xx / `internal_error` (Slack
 * documents that "some aspect of the operation" may have succeeded). A refused connection, a 429 and
 * every `{ ok: false }` rejection mean that nothing happened.
 */
export function isAmbiguousFailure(error: LinqConnectError): boolean {
  if (error instanceof TimeoutError || error instanceof ServerError) return true;
  if (error instanceof NetworkError) return networkCode(error.cause) !== "ECONNREFUSED";
  return false;
}

/**
 * An edit or delete of a Slack reply whose send to Linq has not finished yet: retried (the send
 * job runs first), never dead-lettered at once.
 */
export class ReplyNotSentYetError extends LinqConnectError {
  readonly code = "reply_not_sent_yet";
  readonly isRetryable = true;
  constructor(message: string, options: LinqConnectErrorOptions = {}) {
    super(message, { source: "slack", retryAfter: 2, ...options });
  }
}
