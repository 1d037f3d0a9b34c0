/**
 * HubSpot's webhook request signatures, for the simulator and for tests of receivers.
 *
 * - v3 (`X-HubSpot-Signature-v3` + `X-HubSpot-Request-Timestamp`): base64 of HMAC-SHA256 keyed with
 *   the app's client secret over `method + uri + body + timestamp` (UTF-8), where the URI has the
 *   characters HubSpot lists decoded (`%3A` → `:`, `%2F` → `/`, `%3F` → `?`, `%40` → `@`, `%21` → `!`,
 *   `%24` → `$`, `%27` → `'`, `%28` → `(`, `%29` → `)`, `%2A` → `*`, `%2C` → `,`, `%3B` → `;`).
 *   Receivers reject timestamps older than 5 minutes.
 * - v1 (`X-HubSpot-Signature` with `X-HubSpot-Signature-Version: v1`, sent with CRM webhooks for
 *   backwards compatibility): hex SHA-256 of `clientSecret + body`.
 */
import { createHash, createHmac } from "node:crypto";

const DECODED: Record<string, string> = {
  "%3A": ":",
  "%2F": "/",
  "%3F": "?",
  "%40": "@",
  "%21": "!",
  "%24": "$",
  "%27": "'",
  "%28": "(",
  "%29": ")",
  "%2A": "*",
  "%2C": ",",
  "%3B": ";",
};

/** The URI as HubSpot signs it: the listed percent-encodings decoded (case-insensitively). */
export function hubSpotSignatureUri(uri: string): string {
  return uri.replace(
    /%(?:3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi,
    (match) => DECODED[match.toUpperCase()] ?? match,
  );
}

/** `X-HubSpot-Signature-v3` of a request. `timestamp` is the `X-HubSpot-Request-Timestamp` value (epoch ms). */
export function signHubSpotWebhookV3(input: {
  clientSecret: string;
  method: string;
  uri: string;
  body: string;
  timestamp: string | number;
}): string {
  return createHmac("sha256", input.clientSecret)
    .update(
      `${input.method.toUpperCase()}${hubSpotSignatureUri(input.uri)}${input.body}${input.timestamp}`,
      "utf8",
    )
    .digest("base64");
}

/** `X-HubSpot-Signature` (v1) of a request body. */
export function signHubSpotWebhookV1(input: { clientSecret: string; body: string }): string {
  return createHash("sha256").update(`${input.clientSecret}${input.body}`, "utf8").digest("hex");
}
