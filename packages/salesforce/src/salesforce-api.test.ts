import { generateKeyPairSync } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createSalesforceConnection, SalesforceApi, type SalesforceRequestInfo } from "./salesforce-api.ts";
import { SalesforceDuplicateError, SalesforceRequestLimitError } from "./salesforce-errors.ts";
import { parseConnectorOptions } from "./settings.ts";
import { startSalesforceSimulator } from "./testing/salesforce-simulator.ts";
import type { SalesforceSimulator } from "./testing/simulator-types.ts";

const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
const publicKeyPem = keys.publicKey.export({ type: "spki", format: "pem" }).toString();
const privateKeyPem = keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString();

describe("SalesforceApi against the simulator", () => {
  let simulator: SalesforceSimulator;
  const infos: SalesforceRequestInfo[] = [];
  const waits: number[] = [];

  beforeAll(async () => {
    simulator = await startSalesforceSimulator({
      dailyApiLimit: 1000,
      users: [{ username: "integration@example.com", publicKeyPem }],
    });
  });
  afterEach(() => {
    simulator.reset();
    infos.length = 0;
    waits.length = 0;
  });
  afterAll(async () => {
    await simulator.close();
  });

  function apiWith(
    options: Record<string, unknown>,
    extra: Partial<ConstructorParameters<typeof SalesforceApi>[0]> = {},
  ): SalesforceApi {
    const parsed = parseConnectorOptions({ apiVersion: simulator.apiVersion, ...options }, false);
    return new SalesforceApi({
      connection: createSalesforceConnection(parsed),
      timeoutMs: parsed.timeoutMs,
      maxRetries: parsed.maxRetries,
      slowDownAtShare: parsed.slowDownAtShare,
      stopAtShare: parsed.stopAtShare,
      requestLimitRetrySeconds: parsed.requestLimitRetrySeconds,
      onRequestComplete: (info) => infos.push(info),
      wait: async (milliseconds) => {
        waits.push(milliseconds);
      },
      ...extra,
    });
  }

  const refreshing = () =>
    apiWith({
      refreshToken: simulator.issueRefreshToken(),
      clientId: simulator.clientId,
      clientSecret: simulator.clientSecret,
      loginUrl: simulator.loginUrl,
      instanceUrl: simulator.instanceUrl,
      accessToken: simulator.issueAccessToken(),
    });

  it("creates, reads, updates and deletes with an access token", async () => {
    const api = apiWith({ accessToken: simulator.issueAccessToken(), instanceUrl: simulator.instanceUrl });
    const id = await api.create("Contact", { LastName: "Doe", Phone: "(555) 123-4567" });
    await api.update("Contact", id, { FirstName: "Jane" });
    const record = await api.retrieve("Contact", id, ["FirstName", "LastName", "Phone"]);
    expect(record).toMatchObject({ FirstName: "Jane", LastName: "Doe", Phone: "(555) 123-4567" });
    const found = await api.search("FIND {+15551234567} IN PHONE FIELDS RETURNING Contact(Id)");
    expect(found.map((row) => row.Id)).toEqual([id]);
    await api.delete("Contact", id);
    await api.delete("Contact", id);
    expect(await api.retrieve("Contact", id, ["Id"])).toBeUndefined();
    expect(simulator.state.records("Contact")).toHaveLength(0);
    expect(api.apiUsage?.limit).toBe(1000);
    expect(infos.every((info) => info.status !== undefined)).toBe(true);
  });

  it("refreshes an expired session with the refresh token and loses nothing", async () => {
    const api = refreshing();
    await api.create("Contact", { LastName: "One" });
    simulator.expireAllTokens();
    await api.create("Contact", { LastName: "Two" });
    expect(
      simulator.state
        .records("Contact")
        .map((record) => record.LastName)
        .sort(),
    ).toEqual(["One", "Two"]);
  });

  it("gets a session with the JWT bearer flow, and a new one when it expires", async () => {
    const api = apiWith({
      jwt: { clientId: simulator.clientId, username: "integration@example.com", privateKey: privateKeyPem },
      loginUrl: simulator.loginUrl,
      instanceUrl: simulator.instanceUrl,
    });
    await api.create("Contact", { LastName: "Jwt" });
    simulator.expireAllTokens();
    const rows = await api.query<{ Id: string; LastName: string }>("SELECT Id, LastName FROM Contact");
    expect(rows.map((row) => row.LastName)).toEqual(["Jwt"]);
  });

  it("gets the first session before the first call when only a refresh token or a JWT key is given", async () => {
    const refreshOnly = apiWith({
      refreshToken: simulator.issueRefreshToken(),
      clientId: simulator.clientId,
      clientSecret: simulator.clientSecret,
      loginUrl: simulator.loginUrl,
    });
    await refreshOnly.create("Contact", { LastName: "Refreshed" });
    const jwtOnly = apiWith({
      jwt: { clientId: simulator.clientId, username: "integration@example.com", privateKey: privateKeyPem },
      loginUrl: simulator.loginUrl,
    });
    await Promise.all([
      jwtOnly.create("Contact", { LastName: "Jwt 1" }),
      jwtOnly.create("Contact", { LastName: "Jwt 2" }),
    ]);
    expect(jwtOnly.instanceUrl).toBe(simulator.instanceUrl);
    expect(
      simulator.state
        .records("Contact")
        .map((record) => record.LastName)
        .sort(),
    ).toEqual(["Jwt 1", "Jwt 2", "Refreshed"]);
  });

  it("keeps the requests and API usage of two API objects over one jsforce connection apart", async () => {
    const parsed = parseConnectorOptions(
      {
        apiVersion: simulator.apiVersion,
        accessToken: simulator.issueAccessToken(),
        instanceUrl: simulator.instanceUrl,
      },
      false,
    );
    const connection = createSalesforceConnection(parsed);
    const options = {
      connection,
      timeoutMs: 5_000,
      maxRetries: 0,
      slowDownAtShare: 0.8,
      stopAtShare: 0.95,
      requestLimitRetrySeconds: 60,
    };
    const first = new SalesforceApi(options);
    const second = new SalesforceApi(options);
    await first.query("SELECT Id FROM Contact");
    await first.query("SELECT Id FROM Contact");
    await second.query("SELECT Id FROM Contact");
    expect([first.requestsSent, second.requestsSent]).toEqual([2, 1]);
    expect(second.apiUsage?.limit).toBe(1000);
    simulator.faults.inject({ kind: "server-error", times: 1 });
    await expect(second.create("Contact", { LastName: "X" })).rejects.toMatchObject({ status: 500 });
  });

  it("maps a revoked refresh token to an AuthenticationError", async () => {
    const api = apiWith({
      refreshToken: "not-a-refresh-token",
      clientId: simulator.clientId,
      clientSecret: simulator.clientSecret,
      loginUrl: simulator.loginUrl,
      instanceUrl: simulator.instanceUrl,
    });
    const error = await api.query("SELECT Id FROM Contact").catch((thrown) => thrown);
    expect(error).toMatchObject({ code: "authentication_error", isRetryable: false });
    expect(error.message).not.toContain("not-a-refresh-token");
  });

  it("maps an expired access token without refresh to an AuthenticationError", async () => {
    const api = apiWith({ accessToken: simulator.issueAccessToken(), instanceUrl: simulator.instanceUrl });
    simulator.expireAllTokens();
    await expect(api.create("Contact", { LastName: "X" })).rejects.toMatchObject({
      code: "authentication_error",
      status: 401,
      isRetryable: false,
    });
  });

  it("maps unknown fields and missing required fields to ValidationError with field errors", async () => {
    const api = refreshing();
    const error = await api.create("Contact", { LastName: "X", Shoe_Size__c: 9 }).catch((thrown) => thrown);
    expect(error).toMatchObject({ code: "validation_error", status: 400 });
    const missing = await api.create("Contact", { FirstName: "X" }).catch((thrown) => thrown);
    expect(missing.fieldErrors).toEqual([
      expect.objectContaining({ field: "LastName", code: "REQUIRED_FIELD_MISSING" }),
    ]);
  });

  it("retries an idempotent call after a 503 and never repeats a create", async () => {
    const api = refreshing();
    const id = await api.create("Contact", { LastName: "Doe" });
    simulator.faults.inject({ kind: "service-unavailable", times: 1, match: { method: "PATCH" } });
    await api.update("Contact", id, { FirstName: "Again" });
    expect(simulator.state.records("Contact")[0]?.FirstName).toBe("Again");
    simulator.faults.inject({ kind: "server-error", times: 1, match: { method: "POST" } });
    await expect(api.create("Contact", { LastName: "Never" })).rejects.toMatchObject({
      code: "server_error",
      status: 500,
      isRetryable: true,
    });
    expect(simulator.state.records("Contact")).toHaveLength(1);
  });

  it("turns a dropped connection into a retryable NetworkError", async () => {
    const api = refreshing();
    simulator.faults.inject({ kind: "drop-connection", times: 1, match: { method: "POST" } });
    await expect(api.create("Contact", { LastName: "Doe" })).rejects.toMatchObject({
      code: "network_error",
      isRetryable: true,
    });
  });

  it("times out a call that gets no answer", async () => {
    const api = apiWith({
      accessToken: simulator.issueAccessToken(),
      instanceUrl: simulator.instanceUrl,
      timeoutMs: 300,
      maxRetries: 0,
    });
    simulator.faults.inject({ kind: "timeout", times: 1 });
    await expect(api.query("SELECT Id FROM Contact")).rejects.toMatchObject({
      code: "timeout",
      isRetryable: true,
    });
  });

  it("REQUEST_LIMIT_EXCEEDED makes work wait instead of calling again", async () => {
    const api = refreshing();
    await api.query("SELECT Id FROM Contact");
    simulator.faults.inject({ kind: "request-limit", times: 1 });
    const error = await api.create("Contact", { LastName: "Doe" }).catch((thrown) => thrown);
    expect(error).toBeInstanceOf(SalesforceRequestLimitError);
    expect(error).toMatchObject({ code: "rate_limited", isRetryable: true, retryAfter: 900 });
    const before = simulator.requests.length;
    await expect(api.query("SELECT Id FROM Contact")).rejects.toBeInstanceOf(SalesforceRequestLimitError);
    expect(simulator.requests.length).toBe(before);
  });

  it("slows down above the configured share of the daily limit", async () => {
    const api = apiWith({
      refreshToken: simulator.issueRefreshToken(),
      clientId: simulator.clientId,
      clientSecret: simulator.clientSecret,
      loginUrl: simulator.loginUrl,
      instanceUrl: simulator.instanceUrl,
      slowDownAtShare: 0.0001,
      stopAtShare: 0.9,
    });
    await api.query("SELECT Id FROM Contact");
    await api.query("SELECT Id FROM Contact");
    expect(waits.length).toBeGreaterThan(0);
    expect(api.apiUsage?.used).toBeGreaterThan(0);
  });

  it("writes collections of 200 with per-record results and reports duplicates", async () => {
    const api = refreshing();
    const records = Array.from({ length: 250 }, (_, index) => ({ LastName: `Person ${index}` }));
    const results = await api.collection("create", "Contact", records);
    expect(results).toHaveLength(250);
    expect(results.every((result) => result.success)).toBe(true);
    expect(simulator.state.records("Contact")).toHaveLength(250);
    expect(infos.filter((info) => info.path.endsWith("/composite/sobjects"))).toHaveLength(2);
    expect(SalesforceDuplicateError.name).toBe("SalesforceDuplicateError");
  });

  it("ingests with Bulk API 2.0", async () => {
    const api = refreshing();
    const records = Array.from({ length: 30 }, (_, index) => ({
      LastName: `Bulk ${index}`,
      Email: `b${index}@example.com`,
    }));
    const result = await api.bulkIngest("Contact", "insert", records, { pollIntervalMs: 50 });
    expect(result.successful).toHaveLength(30);
    expect(result.failed).toHaveLength(0);
    expect(simulator.state.records("Contact")).toHaveLength(30);
  });
});
