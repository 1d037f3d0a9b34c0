import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { Headers as UndiciHeaders } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigurationError, NetworkError, WebhookPayloadError, WebhookSignatureError } from "../errors.ts";
import type { ParsedLinqWebhookEvent } from "./events.ts";
import { callCompletedExample, messageReceivedExample } from "./example-events.test-helpers.ts";
import {
  createFetchWebhookHandler,
  createNodeWebhookHandler,
  handleLinqWebhook,
  type WebhookHandlerOptions,
} from "./handler.ts";
import { canonicalizeJson, signWebhook } from "./signature.ts";

const secret = "whsec_handler_secret";
const body = JSON.stringify(messageReceivedExample);
const signature = signWebhook({ payload: body, secret });

interface Recorder {
  events: ParsedLinqWebhookEvent[];
  errors: unknown[];
  options: WebhookHandlerOptions;
}

function recorder(overrides: Partial<WebhookHandlerOptions> = {}): Recorder {
  const events: ParsedLinqWebhookEvent[] = [];
  const errors: unknown[] = [];
  return {
    events,
    errors,
    options: {
      secret,
      onEvent: (event) => {
        events.push(event);
      },
      onError: (error) => {
        errors.push(error);
      },
      ...overrides,
    },
  };
}

describe("handleLinqWebhook", () => {
  it("returns 200 with the event for a valid signature (Headers or any-case record)", () => {
    for (const headers of [
      new Headers({ "X-Webhook-Signature": signature }),
      new UndiciHeaders({ "X-Webhook-Signature": signature }),
      { "X-Webhook-Signature": signature },
      { "x-webhook-signature": [signature] },
    ]) {
      const result = handleLinqWebhook({ rawBody: body, headers, secret });
      expect(result.status).toBe(200);
      if (result.status === 200) {
        expect(result.event.event_type).toBe("message.received");
        expect(result.body).toEqual({ received: true });
      }
    }
  });

  it("accepts a rotated secret", () => {
    const headers = { "x-webhook-signature": signWebhook({ payload: body, secret: "next" }) };
    expect(handleLinqWebhook({ rawBody: body, headers, secret }).status).toBe(401);
    expect(handleLinqWebhook({ rawBody: body, headers, secret, additionalSecrets: ["next"] }).status).toBe(
      200,
    );
  });

  it("returns 401 with an opaque body, whatever the reason", () => {
    const cases = [
      {},
      { "x-webhook-signature": "garbage" },
      { "x-webhook-signature": signWebhook({ payload: body, secret: "other" }) },
      { "x-webhook-signature": [signature, signWebhook({ payload: body, secret: "other" })] },
    ];
    for (const headers of cases) {
      const result = handleLinqWebhook({ rawBody: body, headers, secret });
      expect(result.status).toBe(401);
      expect(result.body).toEqual({ error: "unauthorized" });
      if (result.status === 401) expect(result.error).toBeInstanceOf(WebhookSignatureError);
    }
  });

  it("checks the signature before looking at the payload", () => {
    const result = handleLinqWebhook({ rawBody: "not json", headers: {}, secret });
    expect(result.status).toBe(401);
  });

  it("returns 400 with the issues for a signed body that is not a valid event", () => {
    const invalid = JSON.stringify({ ...messageReceivedExample, data: { text: "no ids" } });
    const result = handleLinqWebhook({
      rawBody: Buffer.from(invalid),
      headers: { "x-webhook-signature": signWebhook({ payload: invalid, secret }) },
      secret,
    });
    expect(result.status).toBe(400);
    if (result.status === 400) {
      expect(result.error).toBeInstanceOf(WebhookPayloadError);
      expect(result.body.error).toBe("invalid_payload");
      expect(result.body.issues.map((issue) => issue.field).sort()).toEqual(["data.chat_id", "data.id"]);
    }
  });

  it("applies maxEventAgeSeconds", () => {
    const headers = { "x-webhook-signature": signature };
    const now = new Date(Date.parse(messageReceivedExample.created_at) + 3_600_000);
    expect(handleLinqWebhook({ rawBody: body, headers, secret, maxEventAgeSeconds: 60, now }).status).toBe(
      400,
    );
    expect(handleLinqWebhook({ rawBody: body, headers, secret, maxEventAgeSeconds: 7200, now }).status).toBe(
      200,
    );
  });

  it("refuses a parsed body, which cannot be verified", () => {
    expect(() =>
      handleLinqWebhook({
        rawBody: messageReceivedExample as never,
        headers: { "x-webhook-signature": signature },
        secret,
      }),
    ).toThrow(TypeError);
  });
});

describe("handler options", () => {
  it("refuses unusable settings", () => {
    const onEvent = () => undefined;
    for (const create of [createNodeWebhookHandler, createFetchWebhookHandler]) {
      expect(() => create({ secret: "", onEvent })).toThrow(ConfigurationError);
      expect(() => create({ secret, additionalSecrets: [""], onEvent })).toThrow(ConfigurationError);
      expect(() => create({ secret, onEvent: undefined as never })).toThrow(ConfigurationError);
      expect(() => create({ secret, onEvent, maxBodyBytes: 0 })).toThrow(ConfigurationError);
      expect(() => create({ secret, onEvent, maxEventAgeSeconds: -5 })).toThrow(ConfigurationError);
    }
  });
});

describe("createNodeWebhookHandler over node:http", () => {
  let server: Server | undefined;

  afterEach(async () => {
    const current = server;
    server = undefined;
    if (current === undefined) return;
    current.closeAllConnections();
    await new Promise<void>((resolve) => current.close(() => resolve()));
  });

  async function start(
    handler: (request: IncomingMessage, response: ServerResponse) => Promise<void>,
    before?: (request: IncomingMessage) => Promise<void>,
  ): Promise<string> {
    server = createServer((request, response) => {
      void (async () => {
        if (before !== undefined) await before(request);
        await handler(request, response);
      })();
    });
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/webhooks/linq`;
  }

  function post(
    url: string,
    payload: string | Uint8Array,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    return fetch(url, {
      method: "POST",
      body: payload,
      headers: {
        "content-type": "application/json",
        "x-webhook-signature": signWebhook({ payload, secret }),
        ...headers,
      },
    });
  }

  it("answers 200 and delivers the parsed event to onEvent", async () => {
    const { events, errors, options } = recorder();
    const url = await start(createNodeWebhookHandler(options));
    const response = await post(url, body);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({ received: true });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ known: true, event_type: "message.received", data: { id: 27799380 } });
    expect(errors).toEqual([]);
  });

  it("waits for an async onEvent before answering", async () => {
    const order: string[] = [];
    const url = await start(
      createNodeWebhookHandler({
        secret,
        onEvent: async () => {
          await new Promise((resolve) => setTimeout(resolve, 20));
          order.push("onEvent done");
        },
      }),
    );
    const response = await post(url, body);
    order.push(`answered ${response.status}`);
    expect(order).toEqual(["onEvent done", "answered 200"]);
  });

  it("accepts a canonical-form signature, JSON content types with parameters, and no content type", async () => {
    const { events, options } = recorder();
    const url = await start(createNodeWebhookHandler(options));
    const canonicalSignature = signWebhook({ payload: canonicalizeJson(messageReceivedExample), secret });
    const pretty = JSON.stringify(messageReceivedExample, null, 2);
    expect((await post(url, pretty, { "x-webhook-signature": canonicalSignature })).status).toBe(200);
    expect((await post(url, body, { "content-type": "application/json; charset=utf-8" })).status).toBe(200);
    expect((await post(url, body, { "content-type": "application/vnd.linq.event+json" })).status).toBe(200);
    const withoutContentType = await fetch(url, {
      method: "POST",
      body: new Uint8Array(Buffer.from(body)),
      headers: { "x-webhook-signature": signature },
    });
    expect(withoutContentType.status).toBe(200);
    expect(events).toHaveLength(4);
  });

  it("answers 401 with an opaque body for a missing or wrong signature", async () => {
    const { events, errors, options } = recorder();
    const url = await start(createNodeWebhookHandler(options));
    const missing = await fetch(url, {
      method: "POST",
      body,
      headers: { "content-type": "application/json" },
    });
    const wrong = await post(url, body, {
      "x-webhook-signature": signWebhook({ payload: body, secret: "nope" }),
    });
    const malformed = await post(url, body, { "x-webhook-signature": "sha256=zz" });
    for (const response of [missing, wrong, malformed]) {
      expect(response.status).toBe(401);
      expect(await response.text()).toBe('{"error":"unauthorized"}');
    }
    expect(events).toEqual([]);
    expect(errors).toHaveLength(3);
    expect(errors.every((error) => error instanceof WebhookSignatureError)).toBe(true);
  });

  it("answers 400 for a signed body that is not JSON or not a valid event", async () => {
    const { events, errors, options } = recorder();
    const url = await start(createNodeWebhookHandler(options));
    const notJson = await post(url, "this is not json");
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({
      error: "invalid_payload",
      issues: [{ code: "invalid_json" }],
    });
    const invalid = await post(url, JSON.stringify({ ...callCompletedExample, data: { id: "x" } }));
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ issues: [{ field: "data.id" }] });
    expect(events).toEqual([]);
    expect(errors.every((error) => error instanceof WebhookPayloadError)).toBe(true);
  });

  it("answers 400 for an event older than maxEventAgeSeconds", async () => {
    const { events, options } = recorder({ maxEventAgeSeconds: 60 });
    const url = await start(createNodeWebhookHandler(options));
    const response = await post(url, body);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ issues: [{ field: "created_at", code: "event_too_old" }] });
    expect(events).toEqual([]);
  });

  it("answers 413 for a body over maxBodyBytes, declared or streamed", async () => {
    const { events, options } = recorder({ maxBodyBytes: 1024 });
    const url = await start(createNodeWebhookHandler(options));
    const large = JSON.stringify({ ...messageReceivedExample, padding: "x".repeat(8 * 1024) });
    const declared = await post(url, large);
    expect(declared.status).toBe(413);
    expect(await declared.json()).toEqual({ error: "payload_too_large" });

    // Chunked transfer encoding: no Content-Length, so the limit applies while reading.
    const streamed = await new Promise<{ status: number | undefined; text: string }>((resolve, reject) => {
      const request = httpRequest(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-webhook-signature": signWebhook({ payload: large, secret }),
        },
      });
      request.on("response", (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          text += chunk;
        });
        response.on("end", () => resolve({ status: response.statusCode, text }));
      });
      request.on("error", reject);
      for (let offset = 0; offset < large.length; offset += 512)
        request.write(large.slice(offset, offset + 512));
      request.end();
    });
    expect(streamed.status).toBe(413);
    expect(streamed.text).toBe('{"error":"payload_too_large"}');
    expect(events).toEqual([]);

    // A body exactly at the limit is accepted.
    const { events: exactEvents, options: exactOptions } = recorder({
      maxBodyBytes: Buffer.byteLength(body),
    });
    const exactUrl = await restart(createNodeWebhookHandler(exactOptions));
    expect((await post(exactUrl, body)).status).toBe(200);
    expect(exactEvents).toHaveLength(1);
  });

  async function restart(handler: (request: IncomingMessage, response: ServerResponse) => Promise<void>) {
    const current = server;
    if (current !== undefined) {
      current.closeAllConnections();
      await new Promise<void>((resolve) => current.close(() => resolve()));
    }
    return start(handler);
  }

  it("answers 415 for a content type that is not JSON", async () => {
    const { events, options } = recorder();
    const url = await start(createNodeWebhookHandler(options));
    for (const contentType of [
      "text/plain",
      "application/x-www-form-urlencoded",
      "application/jsonp",
      "multipart/form-data",
    ]) {
      const response = await post(url, body, { "content-type": contentType });
      expect(response.status, contentType).toBe(415);
      expect(await response.json()).toEqual({ error: "unsupported_media_type" });
    }
    expect(events).toEqual([]);
  });

  it("answers 405 for methods other than POST", async () => {
    const { events, options } = recorder();
    const url = await start(createNodeWebhookHandler(options));
    for (const method of ["GET", "PUT", "DELETE"]) {
      const response = await fetch(url, { method, ...(method === "GET" ? {} : { body }) });
      expect(response.status).toBe(405);
      expect(response.headers.get("allow")).toBe("POST");
      expect(await response.json()).toEqual({ error: "method_not_allowed" });
    }
    expect(events).toEqual([]);
  });

  it("answers 500 without details when onEvent throws", async () => {
    const failure = new Error("database down: password=hunter2");
    const { errors, options } = recorder({
      onEvent: async () => {
        throw failure;
      },
    });
    const url = await start(createNodeWebhookHandler(options));
    const response = await post(url, body);
    expect(response.status).toBe(500);
    expect(await response.text()).toBe('{"error":"internal_error"}');
    expect(errors).toEqual([failure]);
  });

  it("keeps answering when onError itself throws", async () => {
    const url = await start(
      createNodeWebhookHandler({
        secret,
        onEvent: () => undefined,
        onError: () => {
          throw new Error("logger broke");
        },
      }),
    );
    expect((await post(url, body, { "x-webhook-signature": "sha256=00" })).status).toBe(401);
  });

  it("reports a client that disconnects mid-body, without crashing or calling onEvent", async () => {
    let onReported: (error: unknown) => void = () => undefined;
    const reported = new Promise<unknown>((resolve) => {
      onReported = resolve;
    });
    const events: ParsedLinqWebhookEvent[] = [];
    const url = await start(
      createNodeWebhookHandler({
        secret,
        onEvent: (event) => {
          events.push(event);
        },
        onError: (error) => onReported(error),
      }),
    );
    const request = httpRequest(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "content-length": "1000",
        "x-webhook-signature": signature,
      },
    });
    request.on("error", () => undefined);
    request.write(body.slice(0, 100));
    await new Promise((resolve) => setTimeout(resolve, 20));
    request.destroy();
    const error = await reported;
    expect(error).toBeInstanceOf(NetworkError);
    expect(events).toEqual([]);
  });

  it("uses a raw body a framework already read (express.raw())", async () => {
    const { events, options } = recorder();
    const url = await start(createNodeWebhookHandler(options), async (request) => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      (request as IncomingMessage & { body?: unknown }).body = Buffer.concat(chunks);
    });
    expect((await post(url, body)).status).toBe(200);
    expect(events).toHaveLength(1);
  });

  it("answers 500 and explains when a JSON parser consumed the body first", async () => {
    const { events, errors, options } = recorder();
    const url = await start(createNodeWebhookHandler(options), async (request) => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      (request as IncomingMessage & { body?: unknown }).body = JSON.parse(
        Buffer.concat(chunks).toString("utf8"),
      );
    });
    const response = await post(url, body);
    expect(response.status).toBe(500);
    expect(events).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ConfigurationError);
    expect((errors[0] as Error).message).toMatch(/raw body/);
  });
});

describe("createFetchWebhookHandler", () => {
  const url = "http://127.0.0.1/webhooks/linq";

  function signedRequest(payload: string, headers: Record<string, string> = {}): Request {
    return new Request(url, {
      method: "POST",
      body: payload,
      headers: {
        "content-type": "application/json",
        "x-webhook-signature": signWebhook({ payload, secret }),
        ...headers,
      },
    });
  }

  it("answers 200 and delivers the parsed event", async () => {
    const { events, options } = recorder();
    const handler = createFetchWebhookHandler(options);
    const response = await handler(signedRequest(body));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({ received: true });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ event_type: "message.received", data: { chat_id: 324324 } });
  });

  it("answers 401 with an opaque body", async () => {
    const { events, errors, options } = recorder();
    const handler = createFetchWebhookHandler(options);
    const missing = await handler(
      new Request(url, { method: "POST", body, headers: { "content-type": "application/json" } }),
    );
    const wrong = await handler(
      signedRequest(body, { "x-webhook-signature": signWebhook({ payload: body, secret: "nope" }) }),
    );
    for (const response of [missing, wrong]) {
      expect(response.status).toBe(401);
      expect(await response.text()).toBe('{"error":"unauthorized"}');
    }
    expect(events).toEqual([]);
    expect(errors.every((error) => error instanceof WebhookSignatureError)).toBe(true);
  });

  it("answers 400 for a signed body that is not JSON", async () => {
    const handler = createFetchWebhookHandler(recorder().options);
    const response = await handler(signedRequest("{nope"));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: "invalid_payload",
      issues: [{ code: "invalid_json" }],
    });
  });

  it("answers 413 for a declared or streamed body over maxBodyBytes", async () => {
    const { events, options } = recorder({ maxBodyBytes: 1024 });
    const handler = createFetchWebhookHandler(options);
    const large = JSON.stringify({ ...messageReceivedExample, padding: "x".repeat(4096) });
    const declared = await handler(signedRequest(large, { "content-length": String(large.length) }));
    expect(declared.status).toBe(413);
    const encoder = new TextEncoder();
    let cancelled = false;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(encoder.encode("x".repeat(512)));
      },
      cancel() {
        cancelled = true;
      },
    });
    const streamed = await handler(
      new Request(url, {
        method: "POST",
        body: stream,
        duplex: "half",
        headers: { "content-type": "application/json", "x-webhook-signature": signature },
      } as RequestInit & { duplex: "half" }),
    );
    expect(streamed.status).toBe(413);
    expect(await streamed.json()).toEqual({ error: "payload_too_large" });
    expect(cancelled).toBe(true);
    expect(events).toEqual([]);
  });

  it("answers 415 for a content type that is not JSON", async () => {
    const handler = createFetchWebhookHandler(recorder().options);
    const response = await handler(signedRequest(body, { "content-type": "text/plain" }));
    expect(response.status).toBe(415);
  });

  it("answers 405 for methods other than POST", async () => {
    const handler = createFetchWebhookHandler(recorder().options);
    const response = await handler(new Request(url, { method: "GET" }));
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("POST");
  });

  it("answers 500 when onEvent throws", async () => {
    const { errors, options } = recorder({
      onEvent: () => {
        throw new Error("queue full");
      },
    });
    const response = await createFetchWebhookHandler(options)(signedRequest(body));
    expect(response.status).toBe(500);
    expect(await response.text()).toBe('{"error":"internal_error"}');
    expect(errors).toHaveLength(1);
  });

  it("answers 400 for an event older than maxEventAgeSeconds", async () => {
    const response = await createFetchWebhookHandler(recorder({ maxEventAgeSeconds: 60 }).options)(
      signedRequest(body),
    );
    expect(response.status).toBe(400);
  });
});
