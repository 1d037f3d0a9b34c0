import { ConfigurationError } from "@linq-connect/core";
import {
  ErrorCode,
  type WebAPIHTTPError,
  WebAPIRateLimitedError,
  type WebAPIRequestError,
  WebClientEvent,
} from "@slack/web-api";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { SlackSimulator } from "./simulator-types.ts";
import { callApi, webClient } from "./slack-simulator.test-helpers.ts";
import { startSlackSimulator } from "./slack-simulator.ts";

describe("Slack simulator: rate limits", () => {
  it("chat.postMessage is paced per channel (burst, then 429 ratelimited with Retry-After); other channels are not affected", async () => {
    let now = new Date("2026-03-01T12:00:00Z");
    const simulator = await startSlackSimulator({
      now: () => now,
      channels: [
        { id: "C0SALES", name: "sales" },
        { id: "C0SUPPORT", name: "support" },
      ],
    });
    try {
      const client = webClient(simulator, { rejectRateLimitedCalls: true });
      for (let index = 0; index < 3; index += 1)
        await client.chat.postMessage({ channel: "C0SALES", text: `m${index}` });
      const limited = await client.chat
        .postMessage({ channel: "C0SALES", text: "too fast" })
        .catch((error: unknown) => error);
      expect(limited).toBeInstanceOf(WebAPIRateLimitedError);
      expect((limited as WebAPIRateLimitedError).retryAfter).toBe(1);
      expect((await client.chat.postMessage({ channel: "C0SUPPORT", text: "elsewhere" })).ok).toBe(true);
      const raw = await callApi(simulator, "chat.postMessage", { channel: "C0SALES", text: "raw" });
      expect(raw.status).toBe(429);
      expect(raw.headers.get("retry-after")).toBe("1");
      expect(raw.body).toEqual({ ok: false, error: "ratelimited" });
      now = new Date(now.getTime() + 1_000);
      expect((await client.chat.postMessage({ channel: "C0SALES", text: "after a second" })).ok).toBe(true);
      expect(simulator.state.messages("C0SALES").map((message) => message.text)).toEqual([
        "m0",
        "m1",
        "m2",
        "after a second",
      ]);
    } finally {
      await simulator.close();
    }
  });

  it("@slack/web-api's own retry honours Retry-After and the post lands once", async () => {
    const simulator = await startSlackSimulator({
      rateLimits: { postMessagePerChannel: { perSecond: 1, burst: 1 } },
    });
    try {
      const client = webClient(simulator, { retryConfig: { retries: 2, minTimeout: 0, maxTimeout: 10 } });
      const rateLimited: number[] = [];
      client.on(WebClientEvent.RATE_LIMITED, (retryAfter: number) => rateLimited.push(retryAfter));
      await client.chat.postMessage({ channel: "C0GENERAL", text: "first" });
      const started = performance.now();
      const second = await client.chat.postMessage({ channel: "C0GENERAL", text: "second" });
      expect(second.ok).toBe(true);
      expect(rateLimited).toEqual([1]);
      expect(performance.now() - started).toBeGreaterThanOrEqual(950);
      expect(simulator.requests.map((request) => request.status)).toEqual([200, 429, 200]);
      expect(simulator.state.messages("C0GENERAL").map((message) => message.text)).toEqual([
        "first",
        "second",
      ]);
    } finally {
      await simulator.close();
    }
  });

  it("tier limits per method, configurable per tier and per method; rateLimits: false turns them off", async () => {
    const simulator = await startSlackSimulator({
      rateLimits: { tiers: { 4: 2 }, methods: { "auth.test": { perMinute: 1 } } },
    });
    try {
      const users = ["U0ALEX", "U0ALEX", "U0ALEX"];
      const statuses = [];
      for (const user of users) statuses.push((await callApi(simulator, "users.info", { user })).status);
      expect(statuses).toEqual([200, 200, 429]);
      expect((await callApi(simulator, "auth.test")).status).toBe(200);
      expect((await callApi(simulator, "auth.test")).headers.get("retry-after")).toBe("60");
    } finally {
      await simulator.close();
    }
    const unlimited = await startSlackSimulator({ rateLimits: false });
    try {
      const client = webClient(unlimited, { rejectRateLimitedCalls: true });
      for (let index = 0; index < 10; index += 1)
        await client.chat.postMessage({ channel: "C0GENERAL", text: `${index}` });
      for (let index = 0; index < 3; index += 1) await client.conversations.history({ channel: "C0GENERAL" });
      expect(unlimited.requests.every((request) => request.status === 200)).toBe(true);
    } finally {
      await unlimited.close();
    }
  });

  it("rejects invalid rate-limit options", async () => {
    await expect(startSlackSimulator({ rateLimits: { tiers: { 2: 0 } } })).rejects.toThrow(
      ConfigurationError,
    );
    await expect(
      startSlackSimulator({ rateLimits: { postMessagePerChannel: { perSecond: 1, burst: 0 } } }),
    ).rejects.toThrow(ConfigurationError);
  });
});

describe("Slack simulator: fault injection", () => {
  let simulator: SlackSimulator;

  beforeAll(async () => {
    simulator = await startSlackSimulator({ rateLimits: false });
  });
  afterAll(async () => {
    await simulator.close();
  });
  afterEach(() => {
    simulator.reset();
  });

  it("rate-limit: 429 ratelimited with the given Retry-After, only for the matching method, `times` times", async () => {
    const handle = simulator.faults.inject({
      match: { method: "chat.postMessage" },
      kind: "rate-limit",
      retryAfterSeconds: 7,
      times: 2,
    });
    const first = await callApi(simulator, "chat.postMessage", { channel: "C0GENERAL", text: "x" });
    expect(first.status).toBe(429);
    expect(first.headers.get("retry-after")).toBe("7");
    expect(first.body).toEqual({ ok: false, error: "ratelimited" });
    expect((await callApi(simulator, "auth.test")).status).toBe(200);
    expect((await callApi(simulator, "chat.postMessage", { channel: "C0GENERAL", text: "x" })).status).toBe(
      429,
    );
    expect((await callApi(simulator, "chat.postMessage", { channel: "C0GENERAL", text: "x" })).status).toBe(
      200,
    );
    expect(handle.hits).toBe(2);
    expect(simulator.requests.map((request) => request.fault)).toEqual([
      "rate-limit",
      null,
      "rate-limit",
      null,
    ]);
    expect(simulator.state.messages("C0GENERAL")).toHaveLength(1);
  });

  it("a rate-limit fault with Retry-After: 0 is retried by the WebClient at once", async () => {
    simulator.faults.inject({
      match: { method: /^chat\./ },
      kind: "rate-limit",
      retryAfterSeconds: 0,
      times: 1,
    });
    const client = webClient(simulator, { retryConfig: { retries: 1, minTimeout: 0, maxTimeout: 1 } });
    expect((await client.chat.postMessage({ channel: "C0GENERAL", text: "eventually" })).ok).toBe(true);
    expect(simulator.requests.map((request) => request.status)).toEqual([429, 200]);
  });

  it("server-error (500 JSON) and bad-gateway (502 HTML) surface as WebAPIHTTPError", async () => {
    simulator.faults.inject({ kind: "server-error", times: 1 });
    simulator.faults.inject({ kind: "bad-gateway", times: 1 });
    const client = webClient(simulator);
    const serverError = (await client.auth.test().catch((error: unknown) => error)) as WebAPIHTTPError;
    expect(serverError.code).toBe(ErrorCode.HTTPError);
    expect(serverError.statusCode).toBe(500);
    const badGateway = (await client.auth.test().catch((error: unknown) => error)) as WebAPIHTTPError;
    expect(badGateway.statusCode).toBe(502);
    expect(String(badGateway.body)).toContain("502 Bad Gateway");
    expect((await client.auth.test()).ok).toBe(true);
  });

  it("drop-connection: nothing is processed; drop-after-processing: posted, but the client sees an error (and a retry double-posts)", async () => {
    simulator.faults.inject({ match: { method: "chat.postMessage" }, kind: "drop-connection", times: 1 });
    const client = webClient(simulator);
    const dropped = (await client.chat
      .postMessage({ channel: "C0GENERAL", text: "lost" })
      .catch((error: unknown) => error)) as WebAPIRequestError;
    expect(dropped.code).toBe(ErrorCode.RequestError);
    expect(simulator.state.messages("C0GENERAL")).toEqual([]);
    simulator.faults.inject({
      match: { method: "chat.postMessage" },
      kind: "drop-after-processing",
      times: 1,
    });
    const retrying = webClient(simulator, { retryConfig: { retries: 1, minTimeout: 0, maxTimeout: 1 } });
    expect((await retrying.chat.postMessage({ channel: "C0GENERAL", text: "twice" })).ok).toBe(true);
    expect(simulator.state.messages("C0GENERAL").map((message) => message.text)).toEqual(["twice", "twice"]);
    expect(simulator.requests.slice(-2)).toMatchObject([
      { fault: "drop-after-processing", status: 200, ok: true },
      { fault: null, status: 200, ok: true },
    ]);
  });

  it("timeout: never answers (the client's timeout fires); latency delays the answer", async () => {
    simulator.faults.inject({ kind: "timeout", times: 1 });
    const client = webClient(simulator, { timeout: 100 });
    const timedOut = (await client.auth.test().catch((error: unknown) => error)) as WebAPIRequestError;
    expect(timedOut.code).toBe(ErrorCode.RequestError);
    expect(simulator.requests[0]).toMatchObject({ fault: "timeout", status: null });
    simulator.faults.inject({ kind: "latency", latencyMs: 120, times: 1 });
    const started = performance.now();
    expect((await webClient(simulator).auth.test()).ok).toBe(true);
    expect(performance.now() - started).toBeGreaterThanOrEqual(100);
  });

  it("faults match the upload URL and file downloads by name", async () => {
    const client = webClient(simulator);
    simulator.faults.inject({ match: { method: "upload" }, kind: "server-error", times: 1 });
    await expect(
      client.filesUploadV2({ channel_id: "C0GENERAL", file: Buffer.from("abc"), filename: "a.txt" }),
    ).rejects.toThrow();
    expect(simulator.requests.map((request) => [request.method, request.status])).toEqual([
      ["files.getUploadURLExternal", 200],
      ["upload", 500],
    ]);
    expect(simulator.state.files()).toEqual([]);
    const { file } = await simulator.users.shareFile({
      user: "U0ALEX",
      channel: "C0GENERAL",
      file: { name: "a.txt", content: "abc" },
    });
    simulator.faults.inject({ match: { method: "file_download" }, kind: "server-error", times: 1 });
    const headers = { authorization: `Bearer ${simulator.botToken}` };
    expect((await fetch(file.url_private, { headers })).status).toBe(500);
    expect(await (await fetch(file.url_private, { headers })).text()).toBe("abc");
  });

  it("a timed-out request does not keep close() waiting", async () => {
    const hanging = await startSlackSimulator();
    hanging.faults.inject({ kind: "timeout" });
    const pending = callApi(hanging, "auth.test").catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 30));
    await hanging.close();
    expect(await pending).toBeInstanceOf(Error);
  });

  it("remove() and clear() stop faults; invalid rules are refused", async () => {
    const removed = simulator.faults.inject({ kind: "server-error" });
    removed.remove();
    expect((await callApi(simulator, "auth.test")).status).toBe(200);
    simulator.faults.inject({ kind: "bad-gateway" });
    expect((await callApi(simulator, "auth.test")).status).toBe(502);
    simulator.faults.clear();
    expect((await callApi(simulator, "auth.test")).status).toBe(200);
    expect(() => simulator.faults.inject({ kind: "explode" as never })).toThrow(ConfigurationError);
    expect(() => simulator.faults.inject({ kind: "rate-limit", retryAfterSeconds: 1.5 })).toThrow(
      ConfigurationError,
    );
    expect(() => simulator.faults.inject({ kind: "server-error", times: -1 })).toThrow(ConfigurationError);
  });
});
