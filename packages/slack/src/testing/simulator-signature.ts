/**
 * Slack's request signing (version `v0`): `X-Slack-Signature` is
 * `v0=` + hex HMAC-SHA256 of `v0:<X-Slack-Request-Timestamp>:<raw body>` with
 * the app's signing secret.
 */
import { createHmac } from "node:crypto";

/** The two headers Slack adds to every request it sends to an app. */
export interface SlackSignatureHeaders {
  "x-slack-request-timestamp": string;
  "x-slack-signature": string;
}

/**
 * Signs a body the way Slack does. `timestamp` is in Unix seconds (default: now).
 * Handy to build requests in tests, including deliberately wrong ones.
 */
export function signSlackRequest(options: {
  signingSecret: string;
  body: string;
  timestamp?: number;
}): SlackSignatureHeaders {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const digest = createHmac("sha256", options.signingSecret)
    .update(`v0:${timestamp}:${options.body}`)
    .digest("hex");
  return { "x-slack-request-timestamp": String(timestamp), "x-slack-signature": `v0=${digest}` };
}
