/**
 * POST /webhooks/linq against the whole service (embedded database in a temporary data directory):
 * every malformed, unsigned, oversized or mistyped request gets its 4xx and stores nothing, the
 * service stays up, and fuzzing never gets a 5xx or an event stored without a valid signature.
 */
import { randomUUID } from "node:crypto";
import { connect } from "node:net";
import { parseWebhookEvent, signWebhook } from "@linq-connect/core";
import fc from "fast-check";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApplication } from "../application.ts";
import { readRecording } from "../test-support/recording-connector.ts";
import {
  countStored,
  createTestEnvironment,
  type StoredCounts,
  startTestApplication,
  type TestEnvironment,
} from "./application.test-helpers.ts";
import {
  messageEventBody,
  signedHeaders,
  uniqueChatId,
  WebhookClient,
  waitFor,
} from "./webhooks.test-helpers.ts";

const maxBodyBytes = 4096;

let environment: TestEnvironment;
let application: RunningApplication;
let client: WebhookClient;
let consumedEventTypes: readonly string[];

beforeAll(async () => {
  environment = await createTestEnvironment({ variables: { WEBHOOK_MAX_BODY_BYTES: String(maxBodyBytes) } });
  const started = await startTestApplication(environment);
  application = started.application;
  consumedEventTypes = started.connector.events;
  client = new WebhookClient({ connections: 8 });
});

afterAll(async () => {
  await client?.close();
  await application?.stop();
  await environment?.dispose();
});

async function stored(): Promise<StoredCounts> {
  return countStored(application.database);
}

async function healthy(): Promise<boolean> {
  const response = await request(`${application.url}/healthz`);
  await response.body.dump();
  return response.statusCode === 200;
}

function validEvent(overrides: { eventId?: string } = {}): { body: string; eventId: string } {
  const eventId = overrides.eventId ?? randomUUID();
  return { body: messageEventBody({ eventId, chatId: uniqueChatId() }), eventId };
}

interface RejectionCase {
  name: string;
  status: number;
  body: string | Buffer;
  headers: Record<string, string>;
}

function rejectionCases(secret: string): RejectionCase[] {
  const { body } = validEvent();
  const signature = signWebhook({ payload: body, secret });
  const truncated = body.slice(0, Math.floor(body.length / 2));
  const other = validEvent().body;
  const notAnEvent = JSON.stringify({ hello: "world" });
  const oversized = messageEventBody({ chatId: uniqueChatId(), targetBytes: maxBodyBytes + 512 });
  return [
    {
      name: "a signature made with another secret",
      status: 401,
      body,
      headers: {
        "content-type": "application/json",
        "x-webhook-signature": signWebhook({ payload: body, secret: "not-the-secret" }),
      },
    },
    {
      name: "a signature of another body (replayed header)",
      status: 401,
      body: other,
      headers: { "content-type": "application/json", "x-webhook-signature": signature },
    },
    {
      name: "no signature header",
      status: 401,
      body,
      headers: { "content-type": "application/json" },
    },
    {
      name: "a malformed signature header",
      status: 401,
      body,
      headers: { "content-type": "application/json", "x-webhook-signature": "sha256=not-hex" },
    },
    {
      name: "a signature without the sha256= prefix",
      status: 401,
      body,
      headers: {
        "content-type": "application/json",
        "x-webhook-signature": signature.slice("sha256=".length),
      },
    },
    {
      name: "a truncated body with the whole body's signature",
      status: 401,
      body: truncated,
      headers: { "content-type": "application/json", "x-webhook-signature": signature },
    },
    {
      name: "a truncated body, signed as it is (malformed JSON)",
      status: 400,
      body: truncated,
      headers: signedHeaders(truncated, secret),
    },
    {
      name: "a signed body that is not JSON",
      status: 400,
      body: "this is not json",
      headers: signedHeaders("this is not json", secret),
    },
    {
      name: "an unsigned body that is not JSON",
      status: 401,
      body: "this is not json",
      headers: { "content-type": "application/json" },
    },
    {
      name: "signed JSON that is not a Linq event",
      status: 400,
      body: notAnEvent,
      headers: signedHeaders(notAnEvent, secret),
    },
    {
      name: "an empty signed body",
      status: 400,
      body: "",
      headers: signedHeaders("", secret),
    },
    {
      name: `a correctly signed body over WEBHOOK_MAX_BODY_BYTES (${maxBodyBytes})`,
      status: 413,
      body: oversized,
      headers: signedHeaders(oversized, secret),
    },
    {
      name: "content type text/plain",
      status: 415,
      body,
      headers: { "content-type": "text/plain", "x-webhook-signature": signature },
    },
    {
      name: "content type application/x-www-form-urlencoded",
      status: 415,
      body,
      headers: { "content-type": "application/x-www-form-urlencoded", "x-webhook-signature": signature },
    },
    {
      name: "no content type",
      status: 415,
      body,
      headers: { "x-webhook-signature": signature },
    },
  ];
}

describe("POST /webhooks/linq rejects bad requests and stores nothing", () => {
  it("answers each bad request with its 4xx, stores nothing and stays up", async () => {
    const cases = rejectionCases(environment.secret);
    for (const badRequest of cases) {
      const before = await stored();
      const answer = await client.post(application.url, badRequest.body, badRequest.headers);
      expect(answer.status, badRequest.name).toBe(badRequest.status);
      expect(await stored(), badRequest.name).toEqual(before);
      expect(await healthy(), badRequest.name).toBe(true);
    }
    const metrics = await (await request(`${application.url}/metrics`)).body.text();
    const rejected = (reason: string) =>
      Number(
        new RegExp(`linq_sync_events_rejected_total\\{source="linq",reason="${reason}"\\} (\\d+)`).exec(
          metrics,
        )?.[1] ?? 0,
      );
    const countOf = (status: number) => cases.filter((badRequest) => badRequest.status === status).length;
    expect(rejected("signature")).toBeGreaterThanOrEqual(countOf(401));
    expect(rejected("payload")).toBeGreaterThanOrEqual(countOf(400));
    expect(rejected("too_large")).toBeGreaterThanOrEqual(countOf(413));
    expect(rejected("content_type")).toBeGreaterThanOrEqual(countOf(415));
  });

  it("answers 405 to other methods, with nothing stored", async () => {
    const before = await stored();
    for (const method of ["GET", "PUT", "DELETE", "PATCH"] as const) {
      const { body, eventId } = validEvent();
      const response = await request(`${application.url}/webhooks/linq`, {
        method,
        ...(method === "GET" ? {} : { body, headers: signedHeaders(body, environment.secret) }),
      });
      await response.body.dump();
      expect(response.statusCode, method).toBe(405);
      expect(response.headers.allow).toBe("POST");
      expect(eventId).toBeTruthy();
    }
    expect(await stored()).toEqual(before);
  });

  it("stores nothing when the client hangs up mid-body, and stays up", async () => {
    const before = await stored();
    const { body } = validEvent();
    const signature = signWebhook({ payload: body, secret: environment.secret });
    const port = Number(new URL(application.url).port);
    await new Promise<void>((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.write(
          "POST /webhooks/linq HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
            `Content-Length: ${Buffer.byteLength(body)}\r\nX-Webhook-Signature: ${signature}\r\n\r\n` +
            body.slice(0, 40),
          () => setTimeout(() => socket.destroy(), 50),
        );
      });
      socket.on("close", () => resolve());
      socket.on("error", reject);
    });
    // A whole request afterwards is answered, so the server has handled the aborted one.
    expect(await healthy()).toBe(true);
    expect(await stored()).toEqual(before);
  });

  it("still accepts, stores and delivers a valid event afterwards", async () => {
    const before = await stored();
    const { body, eventId } = validEvent();
    const answer = await client.post(application.url, body, signedHeaders(body, environment.secret));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ received: true });
    expect(await stored()).toEqual({ events: before.events + 1, jobs: before.jobs + 1 });
    await waitFor(
      async () =>
        (await readRecording(environment.recordingDatabase)).effects.some(
          (effect) => effect.eventId === eventId,
        ),
      { what: "the connector's effect" },
    );
  });

  it("acknowledges a duplicate event_id with 200 and keeps one row, one job, one effect", async () => {
    const before = await stored();
    const { body, eventId } = validEvent();
    const headers = signedHeaders(body, environment.secret);
    const answers = await Promise.all([
      client.post(application.url, body, headers),
      client.post(application.url, body, headers),
    ]);
    const again = await client.post(application.url, body, headers);
    // The same id with another body is the same event (Linq retries with the same id).
    const changed = messageEventBody({ eventId, chatId: uniqueChatId(), text: "changed" });
    const changedAnswer = await client.post(
      application.url,
      changed,
      signedHeaders(changed, environment.secret),
    );
    expect([...answers, again, changedAnswer].map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    expect(
      [...answers, again, changedAnswer].filter((answer) => JSON.parse(answer.body).duplicate === true),
    ).toHaveLength(3);
    expect(await stored()).toEqual({ events: before.events + 1, jobs: before.jobs + 1 });
    await waitFor(
      async () =>
        (await readRecording(environment.recordingDatabase)).effects.some(
          (effect) => effect.eventId === eventId,
        ),
      { what: "the connector's effect" },
    );
    const recording = await readRecording(environment.recordingDatabase);
    expect(recording.attempts.filter((attempt) => attempt.eventId === eventId)).toHaveLength(1);
    expect(recording.effects.filter((effect) => effect.eventId === eventId)).toHaveLength(1);
  });
});

// ---------------------------------------------------------------------------------------------
// Fuzzing

type SignatureMode =
  | "right"
  | "right-upper-case"
  | "wrong-secret"
  | "absent"
  | "garbage"
  | "duplicated-header"
  | "of-original";

interface ContentType {
  value: string | undefined;
  /** A JSON media type the endpoint accepts. */
  json: boolean;
  /** Read by the server before the route refuses it (so an oversized body is a 413 first). */
  parsed: boolean;
}

const contentTypes: ContentType[] = [
  { value: "application/json", json: true, parsed: true },
  { value: "application/json; charset=utf-8", json: true, parsed: true },
  { value: "application/json;charset=UTF-8", json: true, parsed: true },
  { value: undefined, json: false, parsed: false },
  { value: "text/plain", json: false, parsed: false },
  { value: "application/octet-stream", json: false, parsed: false },
  { value: "multipart/form-data; boundary=xyz", json: false, parsed: false },
  { value: "application/x-www-form-urlencoded", json: false, parsed: true },
];

interface FuzzRequest {
  description: string;
  body: Buffer;
  headers: string[];
  /** Answers that are correct for this request. */
  expected: number[];
}

interface BodyCandidate {
  kind: string;
  body: Buffer;
  /** When the signature is made over other bytes (a mutated body keeps the original's signature). */
  signedBytes?: Buffer;
}

const fuzzRun = randomUUID().slice(0, 8);

function expectedAnswers(
  contentType: ContentType,
  body: Buffer,
  signatureValid: boolean,
): { statuses: number[]; description: string } {
  if (!contentType.json) {
    return contentType.parsed && body.length > maxBodyBytes
      ? { statuses: [413], description: "oversized, unsupported content type" }
      : { statuses: [415], description: "unsupported content type" };
  }
  if (body.length > maxBodyBytes) return { statuses: [413], description: "oversized" };
  if (!signatureValid) return { statuses: [401], description: "not correctly signed" };
  try {
    parseWebhookEvent(body);
    return { statuses: [200], description: "a valid, correctly signed event" };
  } catch {
    return { statuses: [400], description: "correctly signed, not a valid event" };
  }
}

function buildRequest(
  candidate: BodyCandidate,
  contentType: ContentType,
  signatureMode: SignatureMode,
  extraHeaders: [string, string][],
  garbage: string,
  secret: string,
): FuzzRequest {
  const signature = signWebhook({ payload: candidate.body, secret });
  const mode: SignatureMode =
    signatureMode === "of-original" && candidate.signedBytes === undefined ? "right" : signatureMode;
  const headerValues: string[] = [];
  let signatureValid = false;
  switch (mode) {
    case "right":
      headerValues.push(signature);
      signatureValid = true;
      break;
    case "right-upper-case":
      headerValues.push(`SHA256=${signature.slice("sha256=".length).toUpperCase()}`);
      signatureValid = true;
      break;
    case "wrong-secret":
      headerValues.push(signWebhook({ payload: candidate.body, secret: `${secret}-rotated-away` }));
      break;
    case "absent":
      break;
    case "garbage":
      headerValues.push(garbage);
      break;
    case "duplicated-header":
      // Two values (even equal ones) are not one signature.
      headerValues.push(signature, signature);
      break;
    case "of-original":
      headerValues.push(signWebhook({ payload: candidate.signedBytes ?? candidate.body, secret }));
      break;
  }
  const headers: string[] = [];
  if (contentType.value !== undefined) headers.push("content-type", contentType.value);
  for (const value of headerValues) headers.push("x-webhook-signature", value);
  for (const [name, value] of extraHeaders) headers.push(name, value);
  const expected = expectedAnswers(contentType, candidate.body, signatureValid);
  return {
    description: `${candidate.kind} body (${candidate.body.length} bytes), ${contentType.value ?? "no content type"}, signature ${mode}: ${expected.description}`,
    body: candidate.body,
    headers,
    expected: expected.statuses,
  };
}

function bodyArbitrary(): fc.Arbitrary<BodyCandidate> {
  const eventArbitrary = fc.record({
    // A small pool of ids, so some accepted events are duplicates.
    idIndex: fc.nat(24),
    chat: fc.integer({ min: 1, max: 5 }),
    text: fc.string({ unit: "grapheme", maxLength: 120 }),
    eventType: fc.constantFrom("message.received", "message.sent", "message.future_type"),
  });
  const validEventBody = eventArbitrary.map(({ idIndex, chat, text, eventType }) =>
    messageEventBody({ eventId: `fuzz-${fuzzRun}-${idIndex}`, chatId: String(chat), text }).replace(
      '"event_type":"message.received"',
      `"event_type":${JSON.stringify(eventType)}`,
    ),
  );
  const mutation = fc.constantFrom(
    (event: Record<string, unknown>) => {
      delete event.event_id;
    },
    (event: Record<string, unknown>) => {
      event.event_type = 42;
    },
    (event: Record<string, unknown>) => {
      (event.data as Record<string, unknown>).chat_id = { nested: true };
    },
    (event: Record<string, unknown>) => {
      (event.data as Record<string, unknown>).id = "not-a-number";
    },
    (event: Record<string, unknown>) => {
      event.data = null;
    },
    (event: Record<string, unknown>) => {
      event.created_at = "yesterday-ish";
    },
    (event: Record<string, unknown>) => {
      event.event_id = "";
    },
  );
  return fc.oneof(
    {
      weight: 2,
      arbitrary: fc.uint8Array({ maxLength: maxBodyBytes + 800 }).map((bytes) => ({
        kind: "arbitrary bytes",
        body: Buffer.from(bytes),
      })),
    },
    {
      weight: 2,
      arbitrary: fc
        .json({ maxDepth: 4 })
        .map((text) => ({ kind: "arbitrary JSON", body: Buffer.from(text) })),
    },
    {
      weight: 5,
      arbitrary: validEventBody.map((text) => ({ kind: "valid event", body: Buffer.from(text) })),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(validEventBody, mutation).map(([text, mutate]) => {
        const event = JSON.parse(text) as Record<string, unknown>;
        mutate(event);
        return { kind: "invalid event", body: Buffer.from(JSON.stringify(event)) };
      }),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(validEventBody, fc.nat(), fc.integer({ min: 1, max: 255 }))
        .map(([text, position, delta]) => {
          const original = Buffer.from(text);
          const mutated = Buffer.from(original);
          const index = position % mutated.length;
          mutated[index] = ((mutated[index] ?? 0) + delta) % 256;
          return { kind: "mutated valid event", body: mutated, signedBytes: original };
        }),
    },
    {
      weight: 1,
      arbitrary: fc.integer({ min: maxBodyBytes + 1, max: maxBodyBytes * 2 }).map((targetBytes) => ({
        kind: "oversized valid event",
        body: Buffer.from(messageEventBody({ chatId: "7", targetBytes })),
      })),
    },
  );
}

const extraHeaderArbitrary = fc.array(
  fc.tuple(
    fc.oneof(
      fc.stringMatching(/^x-[a-z]{1,12}$/),
      fc.constantFrom("authorization", "x-linq-integration-token", "accept", "user-agent", "x-forwarded-for"),
    ),
    fc.stringMatching(/^[\x21-\x7e]{0,60}$/),
  ),
  { maxLength: 4 },
);

describe("fuzzing POST /webhooks/linq", () => {
  it("answers only 200/400/401/413/415 as a model predicts, and stores exactly the accepted events", async () => {
    const before = await stored();
    const accepted = new Map<string, string>();
    const requestArbitrary = fc
      .tuple(
        bodyArbitrary(),
        // Mostly JSON, so that most requests get past the content type check.
        fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom(...contentTypes.filter((type) => type.json)) },
          { weight: 1, arbitrary: fc.constantFrom(...contentTypes.filter((type) => !type.json)) },
        ),
        fc.constantFrom<SignatureMode>(
          "right",
          "right",
          "right",
          "right-upper-case",
          "wrong-secret",
          "absent",
          "garbage",
          "duplicated-header",
          "of-original",
        ),
        extraHeaderArbitrary,
        fc.stringMatching(/^[\x21-\x7e]{0,90}$/),
      )
      .map(([candidate, contentType, mode, extra, garbage]) =>
        buildRequest(candidate, contentType, mode, extra, garbage, environment.secret),
      );
    await fc.assert(
      fc.asyncProperty(requestArbitrary, async (fuzzRequest) => {
        const answer = await client.post(application.url, fuzzRequest.body, fuzzRequest.headers);
        if (answer.status === undefined || !fuzzRequest.expected.includes(answer.status)) {
          throw new Error(
            `${fuzzRequest.description}: expected ${fuzzRequest.expected.join(" or ")}, got ${answer.status ?? answer.error} ${answer.body.slice(0, 200)}`,
          );
        }
        if (answer.status === 200) {
          const event = parseWebhookEvent(fuzzRequest.body);
          if (!accepted.has(event.event_id)) accepted.set(event.event_id, event.event_type);
        }
      }),
      { numRuns: 400, seed: Number(process.env.FUZZ_SEED ?? 20_251_121), endOnFailure: true },
    );
    expect(accepted.size).toBeGreaterThan(0);
    const routed = [...accepted.values()].filter((type) => consumedEventTypes.includes(type)).length;
    expect(await stored()).toEqual({ events: before.events + accepted.size, jobs: before.jobs + routed });
    expect(await healthy()).toBe(true);
    const { body } = validEvent();
    expect((await client.post(application.url, body, signedHeaders(body, environment.secret))).status).toBe(
      200,
    );
  });
});
