import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ConfigurationError } from "../errors.ts";
import { callApi, createChat } from "./linq-simulator.test-helpers.ts";
import { startLinqSimulator } from "./linq-simulator.ts";
import type { LinqSimulator } from "./simulator-types.ts";

describe("Linq simulator: fault injection", () => {
  let simulator: LinqSimulator;

  beforeAll(async () => {
    simulator = await startLinqSimulator();
  });
  afterAll(async () => {
    await simulator.close();
  });
  afterEach(() => {
    simulator.reset();
  });

  it("rate-limit: 429 with Retry-After in the endpoint's error format, honouring times", async () => {
    const handle = simulator.faults.inject({ kind: "rate-limit", retryAfterSeconds: 7, times: 2 });
    const first = await callApi(simulator, "GET", "/phone_numbers");
    expect(first.status).toBe(429);
    expect(first.headers.get("retry-after")).toBe("7");
    expect(first.body.errors[0]).toMatchObject({ status: 429, code: "rate_limited" });
    const contacts = await callApi(simulator, "GET", "/contacts");
    expect(contacts.status).toBe(429);
    expect(contacts.body).toMatchObject({ status: "429", error_code: "rate_limited" });
    expect((await callApi(simulator, "GET", "/phone_numbers")).status).toBe(200);
    expect(handle.hits).toBe(2);
    expect(simulator.requests.map((request) => request.fault)).toEqual(["rate-limit", "rate-limit", null]);
  });

  it("rate-limit defaults to Retry-After: 1 and applies before authentication", async () => {
    simulator.faults.inject({ kind: "rate-limit", times: 1 });
    const response = await callApi(simulator, "GET", "/phone_numbers", { token: "wrong" });
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("1");
  });

  it("server-error: 500; bad-gateway: 502 with an HTML body", async () => {
    simulator.faults.inject({ kind: "server-error", times: 1 });
    simulator.faults.inject({ kind: "bad-gateway", times: 1 });
    const serverError = await callApi(simulator, "GET", "/phone_numbers");
    expect(serverError.status).toBe(500);
    expect(serverError.body.errors[0]).toMatchObject({ status: 500, code: "internal_server_error" });
    const badGateway = await callApi(simulator, "GET", "/phone_numbers");
    expect(badGateway.status).toBe(502);
    expect(badGateway.headers.get("content-type")).toBe("text/html");
    expect(String(badGateway.body)).toContain("502 Bad Gateway");
    expect((await callApi(simulator, "GET", "/phone_numbers")).status).toBe(200);
  });

  it("matches by method and path (string or RegExp), and does not touch other requests", async () => {
    const chat = await createChat(simulator);
    simulator.faults.inject({ kind: "server-error", match: { method: "post", path: /\/chat_messages$/ } });
    simulator.faults.inject({ kind: "bad-gateway", match: { path: "/api/partner/v2/contacts" } });
    expect((await callApi(simulator, "GET", `/chats/${chat.id}/chat_messages`)).status).toBe(200);
    expect(
      (await callApi(simulator, "POST", `/chats/${chat.id}/chat_messages`, { body: { text: "x" } })).status,
    ).toBe(500);
    expect((await callApi(simulator, "GET", "/contacts?page=1")).status).toBe(502);
    expect((await callApi(simulator, "GET", "/contacts/find?email=a%40b.co")).status).toBe(200);
    expect(simulator.state.messages(chat.id)).toHaveLength(1);
  });

  it("latency: delays the answer, then answers normally", async () => {
    simulator.faults.inject({ kind: "latency", latencyMs: 120, times: 1 });
    const started = performance.now();
    const response = await callApi(simulator, "GET", "/phone_numbers");
    expect(response.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(100);
    expect(simulator.requests[0]?.fault).toBe("latency");
  });

  it("drop-connection: destroys the socket without processing", async () => {
    const chat = await createChat(simulator);
    simulator.faults.inject({ kind: "drop-connection", times: 1 });
    await expect(
      callApi(simulator, "POST", `/chats/${chat.id}/chat_messages`, { body: { text: "lost" } }),
    ).rejects.toThrow();
    expect(simulator.state.messages(chat.id)).toHaveLength(1);
    expect(simulator.requests.at(-1)).toMatchObject({ fault: "drop-connection", status: null });
  });

  it("drop-after-processing: the state changes but the client gets no answer; an idempotent retry returns the message", async () => {
    const chat = await createChat(simulator);
    simulator.faults.inject({ kind: "drop-after-processing", times: 1, match: { method: "POST" } });
    const send = () =>
      callApi(simulator, "POST", `/chats/${chat.id}/chat_messages`, {
        body: { message: { text: "exactly once", idempotency_key: "k-1" } },
      });
    await expect(send()).rejects.toThrow();
    const stored = simulator.state.messages(chat.id).filter((message) => message.text === "exactly once");
    expect(stored).toHaveLength(1);
    expect(simulator.requests.at(-1)).toMatchObject({ fault: "drop-after-processing", status: 201 });
    const retry = await send();
    expect(retry.status).toBe(200);
    expect(retry.body.data.id).toBe(stored[0]?.id);
    expect(
      simulator.state.messages(chat.id).filter((message) => message.text === "exactly once"),
    ).toHaveLength(1);
  });

  it("timeout: never answers until the client gives up", async () => {
    simulator.faults.inject({ kind: "timeout", times: 1 });
    await expect(
      callApi(simulator, "GET", "/phone_numbers", { signal: AbortSignal.timeout(100) }),
    ).rejects.toThrow();
    expect(simulator.requests[0]).toMatchObject({ fault: "timeout", status: null });
    expect((await callApi(simulator, "GET", "/phone_numbers")).status).toBe(200);
  });

  it("a timed-out request does not keep close() waiting", async () => {
    const hanging = await startLinqSimulator();
    hanging.faults.inject({ kind: "timeout" });
    const request = callApi(hanging, "GET", "/phone_numbers").catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 30));
    await hanging.close();
    expect(await request).toBeInstanceOf(Error);
  });

  it("remove() and clear() stop faults; times: 0 never fires", async () => {
    const removed = simulator.faults.inject({ kind: "server-error" });
    removed.remove();
    simulator.faults.inject({ kind: "server-error", times: 0 });
    expect((await callApi(simulator, "GET", "/phone_numbers")).status).toBe(200);
    simulator.faults.inject({ kind: "bad-gateway" });
    expect((await callApi(simulator, "GET", "/phone_numbers")).status).toBe(502);
    simulator.faults.clear();
    expect((await callApi(simulator, "GET", "/phone_numbers")).status).toBe(200);
  });

  it("rejects invalid fault rules", () => {
    expect(() => simulator.faults.inject({ kind: "rate-limit", retryAfterSeconds: 1.5 })).toThrow(
      ConfigurationError,
    );
    expect(() => simulator.faults.inject({ kind: "latency", latencyMs: -1 })).toThrow(ConfigurationError);
    expect(() => simulator.faults.inject({ kind: "explode" as never })).toThrow(ConfigurationError);
    expect(() => simulator.faults.inject({ kind: "server-error", times: -2 })).toThrow(ConfigurationError);
  });
});
