import { type Logger, pino } from "pino";

/**
 * Structured logs. Tokens, secrets and signatures never reach a log line: the
 * paths below are censored wherever they appear, and code never logs them on purpose.
 */
export const redactedPaths = [
  "token",
  "secret",
  "*.token",
  "*.secret",
  "*.accessToken",
  "*.refreshToken",
  "*.clientSecret",
  "*.signingSecret",
  "*.webhookSecret",
  "headers.authorization",
  'headers["x-linq-integration-token"]',
  'headers["x-webhook-signature"]',
  'headers["x-slack-signature"]',
  'headers["x-hubspot-signature-v3"]',
];

export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      name: "linq-sync",
      level: options.level ?? process.env.LOG_LEVEL ?? "info",
      redact: { paths: redactedPaths, censor: "[redacted]" },
    },
    options.destination as never,
  );
}
