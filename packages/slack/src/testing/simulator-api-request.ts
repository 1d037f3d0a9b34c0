/**
 * How the Web API reads a request, the way Slack does: arguments from the query
 * string and from a form (`application/x-www-form-urlencoded`, what
 * @slack/web-api sends), `multipart/form-data` or JSON (`application/json`,
 * token only in `Authorization: Bearer`); the token from the header or from a
 * `token` argument; and the request-level errors (`invalid_json`,
 * `invalid_form_data`, `invalid_post_type`, `missing_post_type`,
 * `invalid_charset`, `invalid_arg_name`, `invalid_array_arg`) and the
 * `missing_charset` warning for JSON without a charset.
 */

/** An API error: HTTP 200 `{ ok: false, error, ...extra }` (or 429 with Retry-After for `ratelimited`). */
export class SlackApiError extends Error {
  readonly code: string;
  readonly extra: Record<string, unknown>;
  readonly status: number;
  readonly retryAfter: number | undefined;

  constructor(
    code: string,
    extra: Record<string, unknown> = {},
    options: { status?: number; retryAfter?: number } = {},
  ) {
    super(code);
    this.name = "SlackApiError";
    this.code = code;
    this.extra = extra;
    this.status = options.status ?? 200;
    this.retryAfter = options.retryAfter;
  }
}

/** `invalid_arguments` (or another code) with Slack's `response_metadata.messages` lines. */
export function argumentsError(code: string, messages: readonly string[]): SlackApiError {
  return new SlackApiError(code, { response_metadata: { messages: [...messages] } });
}

/** `[ERROR] missing required field: name` as `invalid_arguments`. */
export function missingField(name: string): SlackApiError {
  return argumentsError("invalid_arguments", [`[ERROR] missing required field: ${name}`]);
}

export interface ParsedApiRequest {
  args: Record<string, unknown>;
  token: string | undefined;
  warnings: string[];
  isJson: boolean;
  /** Whether the token came as a `token` argument (it is then shown redacted in `simulator.requests`). */
  tokenInArguments: boolean;
}

const VALID_CHARSETS = new Set(["utf-8", "utf8", "iso-8859-1"]);
const ARGUMENT_NAME = /^[A-Za-z0-9_]{1,100}$/;

/** Parses a Web API request; throws SlackApiError for malformed requests. */
export async function parseApiRequest(input: {
  httpMethod: string;
  query: URLSearchParams;
  contentType: string | undefined;
  authorization: string | undefined;
  body: Buffer;
  acceptsJson: boolean;
}): Promise<ParsedApiRequest> {
  const warnings: string[] = [];
  const args: Record<string, unknown> = {};
  for (const [key, value] of input.query) if (!(key in args)) args[key] = value;
  let isJson = false;
  if (input.httpMethod === "POST" && input.body.byteLength > 0) {
    if (input.contentType === undefined || input.contentType.trim() === "") {
      throw new SlackApiError("missing_post_type");
    }
    const { type, charset } = parseContentType(input.contentType);
    if (charset !== undefined && !VALID_CHARSETS.has(charset)) throw new SlackApiError("invalid_charset");
    switch (type) {
      case "application/x-www-form-urlencoded":
      case "text/plain": {
        const text = input.body.toString(charset === "iso-8859-1" ? "latin1" : "utf8");
        for (const [key, value] of new URLSearchParams(text)) if (!(key in args)) args[key] = value;
        break;
      }
      case "multipart/form-data": {
        let form: FormData;
        try {
          form = await new Response(new Uint8Array(input.body), {
            headers: { "content-type": input.contentType },
          }).formData();
        } catch {
          throw new SlackApiError("invalid_form_data");
        }
        for (const [key, value] of form) {
          if (typeof value === "string" && !(key in args)) args[key] = value;
        }
        break;
      }
      case "application/json": {
        isJson = true;
        if (charset === undefined) warnings.push("missing_charset");
        let parsed: unknown;
        try {
          parsed = JSON.parse(input.body.toString("utf8"));
        } catch {
          throw new SlackApiError("invalid_json");
        }
        if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
          throw new SlackApiError("invalid_json");
        }
        // Methods documented as form-only do not read JSON bodies: their arguments go unseen.
        if (input.acceptsJson) {
          for (const [key, value] of Object.entries(parsed)) if (key !== "token") args[key] = value;
        }
        break;
      }
      default:
        throw new SlackApiError("invalid_post_type");
    }
  }
  for (const key of Object.keys(args)) {
    if (/\[[^\]]*\]$/.test(key)) throw new SlackApiError("invalid_array_arg");
    if (!ARGUMENT_NAME.test(key)) throw new SlackApiError("invalid_arg_name");
  }
  let token: string | undefined;
  if (input.authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(input.authorization);
    if (match !== null) token = match[1];
  }
  let tokenInArguments = false;
  if (token === undefined && !isJson && typeof args.token === "string" && args.token !== "") {
    token = args.token;
    tokenInArguments = true;
  }
  delete args.token;
  return { args, token, warnings, isJson, tokenInArguments };
}

function parseContentType(header: string): { type: string; charset: string | undefined } {
  const [type = "", ...parameters] = header.split(";");
  let charset: string | undefined;
  for (const parameter of parameters) {
    const [name, value] = parameter.split("=");
    if (name?.trim().toLowerCase() === "charset" && value !== undefined) {
      charset = value.trim().replace(/^"|"$/g, "").toLowerCase();
    }
  }
  return { type: type.trim().toLowerCase(), charset };
}

/** Typed access to the arguments, with Slack's coercions (form values are strings). */
export class Arguments {
  readonly raw: Record<string, unknown>;

  constructor(raw: Record<string, unknown>) {
    this.raw = raw;
  }

  /** The argument as a string; undefined when absent or empty. */
  string(name: string): string | undefined {
    const value = this.raw[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value === "string") return value === "" ? undefined : value;
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    return JSON.stringify(value);
  }

  /** `true`/`1` and `false`/`0` (strings or JSON booleans); undefined when absent. */
  boolean(name: string): boolean | undefined {
    const value = this.raw[name];
    if (value === undefined || value === null || value === "") return undefined;
    if (typeof value === "boolean") return value;
    return value === "true" || value === "1" || value === 1;
  }

  /** An integer argument; NaN when present but not an integer. */
  integer(name: string): number | undefined {
    const value = this.raw[name];
    if (value === undefined || value === null || value === "") return undefined;
    const number = typeof value === "number" ? value : Number(value);
    return Number.isInteger(number) ? number : Number.NaN;
  }

  /**
   * A JSON argument: an object or array given directly (JSON bodies) or as a
   * JSON string (forms). Returns `{ present: false }` when absent and
   * `{ present: true, valid: false }` when the string is not JSON.
   */
  json(
    name: string,
  ): { present: false } | { present: true; valid: false } | { present: true; valid: true; value: unknown } {
    const value = this.raw[name];
    if (value === undefined || value === null || value === "") return { present: false };
    if (typeof value !== "string") return { present: true, valid: true, value };
    try {
      return { present: true, valid: true, value: JSON.parse(value) };
    } catch {
      return { present: true, valid: false };
    }
  }
}
