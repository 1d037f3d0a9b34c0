/**
 * HubSpot webhooks at `POST /webhooks/hubspot`: verified with the v3 signature, acknowledged at once,
 * processed as jobs.
 *
 * Verification (HubSpot's "Validating requests", v3): `X-HubSpot-Signature-v3` is the base64
 * HMAC-SHA256, keyed with the app's client secret, of `method + URI + body + timestamp`, where URI is
 * the full URL HubSpot called (scheme, host, path and query, with `%3A %2F %3F %40 %21 %24 %27 %28
 * %29 %2A %2C %3B` decoded) and timestamp is `X-HubSpot-Request-Timestamp` (epoch ms). A request
 * older than 5 minutes is rejected (a replay), and so is one from more than 5 minutes in the future.
 * The comparison is constant-time. Behind a proxy the URL HubSpot called is not the one the service
 * sees: set `webhookUrl` to the target URL configured in the app; otherwise it is rebuilt from
 * `X-Forwarded-Proto` / `X-Forwarded-Host` / `Host`.
 *
 * Events arrive in batches (up to 100), out of order, sometimes twice. The handler keeps the contact
 * events, drops those that are only our own writes (`changeSource: INTEGRATION` with our app id),
 * groups the rest by contact, orders each group by `occurredAt`, and enqueues one job per contact
 * (ordering key `hubspot-contact:<id>`: one at a time per contact; the deduplication key is made of
 * the event ids, so a redelivered request is one job). The job fetches the contact's current record
 * before writing anything.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { ConnectorContext, InboundRequest, InboundResponse } from "@linq-connect/core";
import { z } from "zod";

/** The characters HubSpot decodes in the URI it signs. */
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

function signedUri(uri: string): string {
  return uri.replace(
    /%(?:3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi,
    (match) => DECODED[match.toUpperCase()] ?? match,
  );
}

/** The v3 signature of a request (base64). */
export function hubSpotSignatureV3(input: {
  clientSecret: string;
  method: string;
  uri: string;
  body: string | Buffer;
  timestamp: string;
}): string {
  return createHmac("sha256", input.clientSecret)
    .update(`${input.method.toUpperCase()}${signedUri(input.uri)}`, "utf8")
    .update(typeof input.body === "string" ? Buffer.from(input.body, "utf8") : input.body)
    .update(input.timestamp, "utf8")
    .digest("base64");
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/** The URIs HubSpot may have signed for this request: the configured target URL, else rebuilt from headers. */
export function candidateUris(request: InboundRequest, webhookUrl: string | undefined): string[] {
  const pathAndQuery = request.url.startsWith("/") ? request.url : `/${request.url}`;
  if (webhookUrl !== undefined) {
    const configured = new URL(webhookUrl);
    const candidates = [webhookUrl];
    // The configured URL plus the query HubSpot added, when the configured one has none.
    const query = pathAndQuery.includes("?") ? pathAndQuery.slice(pathAndQuery.indexOf("?")) : "";
    if (configured.search === "" && query !== "")
      candidates.push(`${configured.origin}${configured.pathname}${query}`);
    return candidates;
  }
  const first = (value: string | undefined) => value?.split(",")[0]?.trim();
  const host = first(request.headers["x-forwarded-host"]) ?? request.headers.host;
  if (host === undefined || host === "") return [];
  const forwarded = first(request.headers["x-forwarded-proto"]);
  const schemes = forwarded === undefined ? ["https", "http"] : [forwarded];
  return schemes.map((scheme) => `${scheme}://${host}${pathAndQuery}`);
}

/** Checks `X-HubSpot-Signature-v3` and the timestamp of a request. */
export function verifyHubSpotSignatureV3(input: {
  request: InboundRequest;
  clientSecret: string;
  webhookUrl: string | undefined;
  toleranceSeconds: number;
  now: number;
}): SignatureCheck {
  const { request } = input;
  const signature = request.headers["x-hubspot-signature-v3"];
  const timestamp = request.headers["x-hubspot-request-timestamp"];
  if (signature === undefined || signature === "")
    return { ok: false, reason: "no X-HubSpot-Signature-v3 header" };
  if (timestamp === undefined || !/^\d{1,15}$/.test(timestamp)) {
    return { ok: false, reason: "no valid X-HubSpot-Request-Timestamp header" };
  }
  const age = input.now - Number(timestamp);
  if (age > input.toleranceSeconds * 1000)
    return { ok: false, reason: "the request is older than 5 minutes" };
  if (age < -input.toleranceSeconds * 1000)
    return { ok: false, reason: "the request timestamp is in the future" };
  const given = Buffer.from(signature, "utf8");
  for (const uri of candidateUris(request, input.webhookUrl)) {
    const expected = Buffer.from(
      hubSpotSignatureV3({
        clientSecret: input.clientSecret,
        method: request.method,
        uri,
        body: request.rawBody,
        timestamp,
      }),
      "utf8",
    );
    if (expected.length === given.length && timingSafeEqual(expected, given)) return { ok: true };
  }
  return { ok: false, reason: "the signature does not match" };
}

// ------------------------------------------------------------------ events

const eventSchema = z.looseObject({
  eventId: z.union([z.number(), z.string()]).transform(String),
  subscriptionType: z.string(),
  objectId: z.union([z.number(), z.string()]).transform(String),
  occurredAt: z.number(),
  portalId: z.number().optional(),
  appId: z.union([z.number(), z.string()]).transform(String).optional(),
  attemptNumber: z.number().optional(),
  propertyName: z.string().optional(),
  propertyValue: z.string().optional(),
  changeSource: z.string().optional(),
  sourceId: z.string().optional(),
  changeFlag: z.string().optional(),
});

const eventsSchema = z.array(eventSchema).min(1).max(1000);

export type HubSpotWebhookEvent = z.output<typeof eventSchema>;

/** The part of an event a job keeps. */
export interface ContactEventSummary {
  eventId: string;
  subscriptionType: string;
  occurredAt: number;
  propertyName?: string;
  changeSource?: string;
  sourceId?: string;
}

export const CONTACT_CHANGED_JOB = "hubspot.contact-changed";

export const contactChangedPayloadSchema = z.object({
  objectId: z.string().regex(/^\d+$/),
  /** What triggered the job: webhook events (ordered by occurredAt) or the reconciliation. */
  source: z.enum(["webhook", "reconciliation"]),
  events: z
    .array(
      z.object({
        eventId: z.string(),
        subscriptionType: z.string(),
        occurredAt: z.number(),
        propertyName: z.string().optional(),
        changeSource: z.string().optional(),
        sourceId: z.string().optional(),
      }),
    )
    .default([]),
});

export type ContactChangedPayload = z.output<typeof contactChangedPayloadSchema>;

/** Whether an event is a write this app made (HubSpot reports our API writes as changes too). */
export function isOwnWrite(
  event: { changeSource?: string | undefined; sourceId?: string | undefined },
  appId: string | undefined,
): boolean {
  return appId !== undefined && event.changeSource === "INTEGRATION" && event.sourceId === appId;
}

export interface WebhookHandlerOptions {
  clientSecret: string | undefined;
  webhookUrl: string | undefined;
  appId: string | undefined;
  toleranceSeconds: number;
  now: () => Date;
}

function json(status: number, body: Record<string, unknown>): InboundResponse {
  return { status, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

/** The `POST /webhooks/hubspot` handler. */
export async function handleHubSpotWebhook(
  request: InboundRequest,
  context: ConnectorContext,
  options: WebhookHandlerOptions,
): Promise<InboundResponse> {
  if (options.clientSecret === undefined) {
    context.logger.warn({}, "HubSpot webhook refused: the connector has no clientSecret to verify it");
    return json(401, { error: "unauthorized" });
  }
  const check = verifyHubSpotSignatureV3({
    request,
    clientSecret: options.clientSecret,
    webhookUrl: options.webhookUrl,
    toleranceSeconds: options.toleranceSeconds,
    now: options.now().getTime(),
  });
  if (!check.ok) {
    context.logger.warn({ reason: check.reason }, "HubSpot webhook rejected: signature");
    return json(401, { error: "unauthorized" });
  }
  let events: HubSpotWebhookEvent[];
  try {
    events = eventsSchema.parse(JSON.parse(request.rawBody.toString("utf8")));
  } catch {
    context.logger.warn({}, "HubSpot webhook rejected: the body is not an array of events");
    return json(400, { error: "invalid payload" });
  }
  const groups = new Map<string, HubSpotWebhookEvent[]>();
  let own = 0;
  let other = 0;
  for (const event of events) {
    if (!event.subscriptionType.startsWith("contact.")) {
      other += 1;
      continue;
    }
    let group = groups.get(event.objectId);
    if (group === undefined) {
      group = [];
      groups.set(event.objectId, group);
    }
    group.push(event);
  }
  const byOccurrence = (left: HubSpotWebhookEvent, right: HubSpotWebhookEvent) =>
    left.occurredAt - right.occurredAt || Number(left.eventId) - Number(right.eventId);
  const ordered = [...groups.entries()]
    .map(([objectId, group]) => [objectId, [...group].sort(byOccurrence)] as const)
    .sort(([, left], [, right]) =>
      byOccurrence(left[0] as HubSpotWebhookEvent, right[0] as HubSpotWebhookEvent),
    );
  let enqueued = 0;
  for (const [objectId, group] of ordered) {
    if (group.every((event) => isOwnWrite(event, options.appId))) {
      own += group.length;
      continue;
    }
    const ids = group.map((event) => event.eventId).sort();
    const summaries: ContactEventSummary[] = group.map((event) => ({
      eventId: event.eventId,
      subscriptionType: event.subscriptionType,
      occurredAt: event.occurredAt,
      ...(event.propertyName === undefined ? {} : { propertyName: event.propertyName }),
      ...(event.changeSource === undefined ? {} : { changeSource: event.changeSource }),
      ...(event.sourceId === undefined ? {} : { sourceId: event.sourceId }),
    }));
    await context.enqueue({
      type: CONTACT_CHANGED_JOB,
      payload: { objectId, source: "webhook", events: summaries },
      orderingKey: `hubspot-contact:${objectId}`,
      deduplicationKey: `hubspot-events:${objectId}:${createHash("sha256").update(ids.join(",")).digest("hex").slice(0, 32)}`,
    });
    enqueued += 1;
  }
  context.logger.info(
    { events: events.length, contacts: groups.size, enqueued, ownWrites: own, otherEvents: other },
    "HubSpot webhook accepted",
  );
  return json(200, { received: events.length });
}
