/**
 * The two error body formats of the Linq Partner API v2, and how simulator
 * handlers raise them.
 *
 * - `Error` (render_error): `{errors:[{status, code, title, detail}]}` — chats,
 *   messages, phone numbers, utilities, and every 401.
 * - `StandardError` (render_standard_error): `{status:"422", error_code, message,
 *   errors:[string]}` — contacts and webhook subscriptions.
 *
 * Handlers throw a `LinqConnectError` (from `errorForStatus`) whose `body` is a
 * format-neutral {@link SimulatorProblem}; the server renders it in the format of
 * the endpoint that failed.
 */
import { errorForStatus, isLinqConnectError, type LinqConnectError } from "../errors.ts";

/** Which error body format an endpoint uses. */
export type ErrorFormat = "error" | "standard";

/** A format-neutral description of an error response. */
export interface SimulatorProblem {
  readonly kind: "simulator-problem";
  /** The machine code, e.g. `invalid_params`. */
  readonly code: string;
  /** One human-readable line per problem. */
  readonly details: readonly string[];
}

/** The `Error` format body. */
export interface ErrorFormatBody {
  errors: { status: number; code: string; title: string; detail: string }[];
}

/** The `StandardError` format body. */
export interface StandardErrorFormatBody {
  status: string;
  error_code: string;
  message: string;
  errors: string[];
}

const STANDARD_ERROR_CODES: Record<number, string> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  413: "payload_too_large",
  422: "validation_error",
  429: "rate_limited",
  500: "internal_server_error",
};

/**
 * Builds the error a handler throws to answer `status` with `code` and one detail
 * line per problem. `retryAfter` (seconds) becomes the `Retry-After` header.
 */
export function apiProblem(
  status: number,
  code: string,
  details: string | readonly string[],
  options: { retryAfter?: number } = {},
): LinqConnectError {
  const lines = typeof details === "string" ? [details] : [...details];
  const problem: SimulatorProblem = { kind: "simulator-problem", code, details: lines };
  return errorForStatus(status, lines.join("; "), {
    source: "linq",
    body: problem,
    ...(options.retryAfter === undefined ? {} : { retryAfter: options.retryAfter }),
  });
}

/** Whether an error was raised by {@link apiProblem}. */
export function isApiProblem(
  error: unknown,
): error is LinqConnectError & { status: number; body: SimulatorProblem } {
  return (
    isLinqConnectError(error) &&
    error.status !== undefined &&
    typeof error.body === "object" &&
    error.body !== null &&
    (error.body as { kind?: unknown }).kind === "simulator-problem"
  );
}

/** Renders a problem in the given format. */
export function renderProblem(
  format: ErrorFormat,
  status: number,
  problem: Pick<SimulatorProblem, "code" | "details">,
): ErrorFormatBody | StandardErrorFormatBody {
  if (format === "standard") {
    return {
      status: String(status),
      error_code: STANDARD_ERROR_CODES[status] ?? problem.code,
      message: problem.details[0] ?? titleFromCode(problem.code),
      errors: [...problem.details],
    };
  }
  const title = titleFromCode(problem.code);
  const details = problem.details.length > 0 ? problem.details : [title];
  return { errors: details.map((detail) => ({ status, code: problem.code, title, detail })) };
}

/** `invalid_params` → `Invalid Params`. */
export function titleFromCode(code: string): string {
  return code
    .split("_")
    .filter((word) => word.length > 0)
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(" ");
}
