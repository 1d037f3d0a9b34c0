import type { Connection } from "jsforce";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { callApi, connect, failure } from "./salesforce-simulator.test-helpers.ts";
import { startSalesforceSimulator } from "./salesforce-simulator.ts";
import type { SalesforceSimulator } from "./simulator-types.ts";

describe("Salesforce simulator: faults and the web page", () => {
  let simulator: SalesforceSimulator;
  let connection: Connection;

  beforeAll(async () => {
    simulator = await startSalesforceSimulator();
    connection = connect(simulator);
  });
  afterAll(async () => {
    await simulator.close();
  });
  afterEach(() => {
    simulator.reset();
  });

  it("server-error, service-unavailable and rate-limit answer once, then the API works", async () => {
    const handle = simulator.faults.inject({ kind: "server-error", times: 1 });
    simulator.faults.inject({ kind: "service-unavailable", retryAfterSeconds: 7, times: 1 });
    simulator.faults.inject({ kind: "rate-limit", retryAfterSeconds: 3, times: 1 });
    const serverError = await callApi(simulator, "GET", "/limits");
    expect(serverError.status).toBe(500);
    expect(serverError.body[0].errorCode).toBe("UNKNOWN_EXCEPTION");
    const unavailable = await callApi(simulator, "GET", "/limits");
    expect([
      unavailable.status,
      unavailable.headers.get("retry-after"),
      unavailable.body[0].errorCode,
    ]).toEqual([503, "7", "SERVER_UNAVAILABLE"]);
    const limited = await callApi(simulator, "GET", "/limits");
    expect([limited.status, limited.headers.get("retry-after")]).toEqual([429, "3"]);
    expect((await callApi(simulator, "GET", "/limits")).status).toBe(200);
    expect(handle.hits).toBe(1);
    expect(simulator.requests.map((request) => request.fault)).toEqual([
      "server-error",
      "service-unavailable",
      "rate-limit",
      null,
    ]);
    expect(simulator.state.apiUsage().used).toBe(1);
  });

  it("matches by method and path, leaving other requests alone", async () => {
    simulator.faults.inject({ kind: "server-error", match: { method: "post", path: /\/sobjects\/Task$/ } });
    await connection.sobject("Contact").create({ LastName: "Fine" });
    expect((await failure(connection.sobject("Task").create({ Subject: "x" }))).errorCode).toBe(
      "UNKNOWN_EXCEPTION",
    );
    expect(simulator.state.records("Task")).toHaveLength(0);
    expect(simulator.state.records("Contact")).toHaveLength(1);
  });

  it("session-expired makes jsforce refresh and retry; request-limit answers 403", async () => {
    const refreshing = connect(simulator, { refresh: true });
    simulator.faults.inject({ kind: "session-expired", times: 1 });
    await refreshing.sobject("Lead").create({ LastName: "Retried", Company: "Acme" });
    expect(simulator.requests.map((request) => request.status)).toEqual([401, 200, 201]);
    simulator.faults.inject({ kind: "request-limit", times: 1 });
    const refused = await failure(
      connection.sobject("Lead").create({ LastName: "Refused", Company: "Acme" }),
    );
    expect([refused.errorCode, refused.message]).toEqual([
      "REQUEST_LIMIT_EXCEEDED",
      "TotalRequests Limit exceeded.",
    ]);
    expect(simulator.state.records("Lead")).toHaveLength(1);
  });

  it("drop-connection loses the request; drop-after-processing loses only the answer", async () => {
    simulator.faults.inject({ kind: "drop-connection", times: 1 });
    await expect(
      callApi(simulator, "POST", "/sobjects/Contact", { body: { LastName: "Lost" } }),
    ).rejects.toThrow();
    expect(simulator.state.records("Contact")).toHaveLength(0);
    simulator.faults.inject({ kind: "drop-after-processing", times: 1 });
    await expect(
      callApi(simulator, "POST", "/sobjects/Contact", { body: { LastName: "Saved" } }),
    ).rejects.toThrow();
    expect(simulator.state.records("Contact").map((record) => record.LastName)).toEqual(["Saved"]);
    expect(simulator.requests.map((request) => [request.fault, request.status])).toEqual([
      ["drop-connection", null],
      ["drop-after-processing", 201],
    ]);
  });

  it("timeout never answers; latency answers late", async () => {
    simulator.faults.inject({ kind: "timeout", times: 1 });
    await expect(
      callApi(simulator, "GET", "/limits", { signal: AbortSignal.timeout(100) }),
    ).rejects.toThrow();
    simulator.faults.inject({ kind: "latency", latencyMs: 80, times: 1 });
    const started = performance.now();
    expect((await callApi(simulator, "GET", "/limits")).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(70);
  });

  it("faults can be removed and cleared, and invalid rules are rejected", async () => {
    const handle = simulator.faults.inject({ kind: "server-error" });
    handle.remove();
    expect((await callApi(simulator, "GET", "/limits")).status).toBe(200);
    simulator.faults.inject({ kind: "server-error" });
    simulator.faults.clear();
    expect((await callApi(simulator, "GET", "/limits")).status).toBe(200);
    expect(() => simulator.faults.inject({ kind: "explode" as never })).toThrow(/Unknown fault kind/);
    expect(() => simulator.faults.inject({ kind: "rate-limit", retryAfterSeconds: 0.5 })).toThrow(
      /whole seconds/,
    );
  });

  it("a hanging request does not keep close() waiting", async () => {
    const hanging = await startSalesforceSimulator();
    hanging.faults.inject({ kind: "timeout" });
    const pending = callApi(hanging, "GET", "/limits").catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 30));
    await hanging.close();
    expect(await pending).toBeInstanceOf(Error);
  });

  it("serves a read-only HTML page of Contacts and Leads with their Tasks, escaped", async () => {
    const contact = await connection.sobject("Contact").create({
      FirstName: "<script>alert(1)</script>",
      LastName: "O'Brien & Sons",
      MobilePhone: "+15551234567",
    });
    await connection.sobject("Task").create({
      Subject: "Text: <b>hi</b>",
      WhoId: contact.id,
      TaskSubtype: "Call",
      Description: "Is my order ready?",
    });
    await connection.sobject("Lead").create({ LastName: "Walker", Company: "Acme" });
    const page = await fetch(`${simulator.instanceUrl}/`);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await page.text();
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt; O&#39;Brien &amp; Sons");
    expect(html).not.toContain("<script>");
    expect(html).toContain("Text: &lt;b&gt;hi&lt;/b&gt;");
    expect(html).toContain("Walker");
    const detail = await (await fetch(`${simulator.instanceUrl}/records/${contact.id}`)).text();
    expect(detail).toContain("<th>MobilePhone</th><td>+15551234567</td>");
    expect(detail).toContain("Is my order ready?");
    expect((await fetch(`${simulator.instanceUrl}/records/nope`)).status).toBe(404);
    expect(simulator.state.apiUsage().used).toBe(3);
  });
});
