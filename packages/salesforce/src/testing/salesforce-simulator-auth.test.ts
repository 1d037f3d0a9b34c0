import { createSign, generateKeyPairSync } from "node:crypto";
import { Connection } from "jsforce";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { callApi, connect, failure, manualClock } from "./salesforce-simulator.test-helpers.ts";
import { startSalesforceSimulator } from "./salesforce-simulator.ts";
import type { SalesforceSimulator } from "./simulator-types.ts";

const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
const publicKeyPem = keys.publicKey.export({ type: "spki", format: "pem" }).toString();
const privateKeyPem = keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString();

function signJwt(
  claims: Record<string, unknown>,
  key = privateKeyPem,
  header: Record<string, unknown> = { alg: "RS256" },
): string {
  const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");
  const unsigned = `${encode(header)}.${encode(claims)}`;
  const signature = createSign("RSA-SHA256").update(unsigned).sign(key).toString("base64url");
  return `${unsigned}.${signature}`;
}

describe("Salesforce simulator: OAuth and sessions", () => {
  let simulator: SalesforceSimulator;
  const clock = manualClock();

  beforeAll(async () => {
    simulator = await startSalesforceSimulator({
      now: clock.now,
      accessTokenTtlSeconds: 600,
      users: [
        { username: "integration@acme.example", name: "Integration User", publicKeyPem, privateKeyPem },
        { username: "rep@acme.example", name: "Rita Rep" },
      ],
    });
  });
  afterAll(async () => {
    await simulator.close();
  });
  afterEach(() => {
    simulator.reset();
  });

  it("jsforce refreshes transparently when the tokens expire mid-run, and nothing is lost", async () => {
    const connection = connect(simulator, { refresh: true });
    const refreshed: string[] = [];
    connection.on("refresh", (accessToken: string) => refreshed.push(accessToken));
    const first = await connection
      .sobject("Contact")
      .create({ LastName: "Before", MobilePhone: "+15551230001" });
    simulator.expireAllTokens();
    const second = await connection
      .sobject("Contact")
      .create({ LastName: "After", MobilePhone: "+15551230002" });
    expect(first.success && second.success).toBe(true);
    expect(refreshed).toHaveLength(1);
    expect(connection.accessToken).toBe(refreshed[0]);
    expect(simulator.state.records("Contact").map((record) => record.LastName)).toEqual(["Before", "After"]);
    const attempts = simulator.requests.map(
      (request) => `${request.method} ${request.path} ${request.status}`,
    );
    expect(attempts).toEqual([
      "POST /services/data/v62.0/sobjects/Contact 201",
      "POST /services/data/v62.0/sobjects/Contact 401",
      "POST /services/oauth2/token 200",
      "POST /services/data/v62.0/sobjects/Contact 201",
    ]);
    expect(simulator.requests[2]?.body).toMatchObject({
      grant_type: "refresh_token",
      client_secret: "***",
      refresh_token: "***",
    });
  });

  it("access tokens expire after accessTokenTtlSeconds with 401 INVALID_SESSION_ID", async () => {
    const token = simulator.issueAccessToken();
    expect((await callApi(simulator, "GET", "/limits", { token })).status).toBe(200);
    clock.advance(601_000);
    const expired = await callApi(simulator, "GET", "/limits", { token });
    expect(expired.status).toBe(401);
    expect(expired.body).toEqual([
      { message: "Session expired or invalid", errorCode: "INVALID_SESSION_ID" },
    ]);
    expect(expired.headers.get("sforce-limit-info")).toBeNull();
    expect((await callApi(simulator, "GET", "/limits", { token: null })).status).toBe(401);
    expect((await callApi(simulator, "GET", "/limits", { token: "00Dforged!token" })).status).toBe(401);
    expect(simulator.state.apiUsage().used).toBe(1);
  });

  it("the refresh_token grant answers Salesforce's token response", async () => {
    const refreshToken = simulator.issueRefreshToken("rep@acme.example");
    const response = await fetch(`${simulator.loginUrl}/services/oauth2/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        client_id: simulator.clientId,
        client_secret: simulator.clientSecret,
        refresh_token: refreshToken,
      }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, string>;
    const rep = simulator.users.list()[1];
    expect(body).toMatchObject({
      instance_url: simulator.instanceUrl,
      id: `${simulator.loginUrl}/id/${simulator.organizationId}/${rep?.id}`,
      token_type: "Bearer",
      issued_at: String(clock.now().getTime()),
      scope: "refresh_token api",
    });
    expect(body.signature).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const me = await callApi(simulator, "GET", "/sobjects/Contact", { token: body.access_token ?? "" });
    expect(me.status).toBe(200);
    expect(simulator.requests.at(-1)?.userId).toBe(rep?.id);
  });

  it("refresh errors: unknown client, wrong secret, revoked token, unsupported grant", async () => {
    const refreshToken = simulator.issueRefreshToken();
    const post = async (fields: Record<string, string>) => {
      const response = await fetch(`${simulator.loginUrl}/services/oauth2/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(fields),
      });
      return { status: response.status, body: (await response.json()) as unknown };
    };
    const base = {
      grant_type: "refresh_token",
      client_id: simulator.clientId,
      client_secret: simulator.clientSecret,
      refresh_token: refreshToken,
    };
    expect(await post({ ...base, client_id: "nope" })).toEqual({
      status: 400,
      body: { error: "invalid_client_id", error_description: "client identifier invalid" },
    });
    expect(await post({ ...base, client_secret: "wrong" })).toEqual({
      status: 400,
      body: { error: "invalid_client", error_description: "invalid client credentials" },
    });
    expect(await post({ ...base, grant_type: "password", username: "a", password: "b" })).toEqual({
      status: 400,
      body: { error: "unsupported_grant_type", error_description: "grant type not supported" },
    });
    simulator.revokeAllTokens();
    expect(await post(base)).toEqual({
      status: 400,
      body: { error: "invalid_grant", error_description: "expired access/refresh token" },
    });
  });

  it("a connection whose refresh token was revoked fails with invalid_grant instead of looping", async () => {
    const connection = connect(simulator, { refresh: true });
    simulator.revokeAllTokens();
    const error = await failure(connection.sobject("Contact").create({ LastName: "Lost" }));
    expect(error.message).toContain("expired access/refresh token");
    expect(simulator.state.records("Contact")).toHaveLength(0);
    expect(simulator.requests.filter((request) => request.path === "/services/oauth2/token")).toHaveLength(1);
  });

  it("the revoke endpoint revokes a refresh token and the access tokens it issued", async () => {
    const connection = connect(simulator, { refresh: true });
    simulator.expireAllTokens();
    await connection.sobject("Lead").create({ LastName: "Refreshed", Company: "Acme" });
    const revoked = await fetch(`${simulator.loginUrl}/services/oauth2/revoke`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: connection.refreshToken ?? "" }),
    });
    expect(revoked.status).toBe(200);
    expect((await callApi(simulator, "GET", "/limits", { token: connection.accessToken ?? "" })).status).toBe(
      401,
    );
  });

  it("JWT bearer grant through jsforce's authorize()", async () => {
    const connection = new Connection({
      oauth2: { clientId: simulator.clientId, loginUrl: simulator.loginUrl },
      version: simulator.apiVersion,
    });
    const assertion = signJwt({
      iss: simulator.clientId,
      sub: "integration@acme.example",
      aud: simulator.loginUrl,
      exp: Math.floor(clock.now().getTime() / 1000) + 180,
    });
    const userInfo = await connection.authorize({
      grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
      assertion,
    });
    const integration = simulator.users.list()[0];
    expect(userInfo).toMatchObject({ id: integration?.id, organizationId: simulator.organizationId });
    expect(connection.instanceUrl).toBe(simulator.instanceUrl);
    expect(connection.refreshToken).toBeUndefined();
    const created = await connection.sobject("Task").create({ Subject: "Via JWT" });
    expect(simulator.state.record("Task", String(created.id))?.CreatedById).toBe(integration?.id);
  });

  it("JWT bearer errors: audience, expiry, issuer, signature, user without a key", async () => {
    const exp = Math.floor(clock.now().getTime() / 1000) + 180;
    const good = { iss: simulator.clientId, sub: "integration@acme.example", aud: simulator.loginUrl, exp };
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 })
      .privateKey.export({ type: "pkcs8", format: "pem" })
      .toString();
    const cases: [string, string][] = [
      [signJwt({ ...good, aud: "https://evil.example" }), "invalid_grant/audience is invalid"],
      [signJwt({ ...good, exp: exp - 400 }), "invalid_grant/expired authorization code"],
      [signJwt({ ...good, iss: "someone-else" }), "invalid_client_id/client identifier invalid"],
      [signJwt(good, other), "invalid_grant/invalid assertion"],
      [signJwt(good, privateKeyPem, { alg: "HS256" }), "invalid_grant/invalid assertion"],
      [signJwt({ ...good, sub: "rep@acme.example" }), "invalid_grant/user hasn't approved this consumer"],
      ["not-a-jwt", "invalid_grant/invalid assertion"],
    ];
    for (const [assertion, expected] of cases) {
      const response = await fetch(`${simulator.loginUrl}/services/oauth2/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion }),
      });
      const body = (await response.json()) as { error: string; error_description: string };
      expect(`${response.status} ${body.error}/${body.error_description}`).toBe(`400 ${expected}`);
    }
    expect(
      await fetch(`${simulator.loginUrl}/services/oauth2/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
          assertion: signJwt({ ...good, aud: "https://login.salesforce.com" }),
        }),
      }).then((response) => response.status),
    ).toBe(200);
  });

  it("rejects API versions it does not serve and lists the ones it does", async () => {
    expect((await callApi(simulator, "GET", "/services/data/v63.0/limits")).body).toEqual([
      { errorCode: "NOT_FOUND", message: "The requested resource does not exist" },
    ]);
    expect((await callApi(simulator, "GET", "/services/data/v58.0/limits")).status).toBe(200);
    const versions = await callApi(simulator, "GET", "/services/data/", { token: null });
    expect(versions.status).toBe(200);
    expect(versions.body.at(-1)).toEqual({
      label: "Winter '25",
      url: "/services/data/v62.0",
      version: "62.0",
    });
  });

  it("rejects invalid options", async () => {
    await expect(startSalesforceSimulator({ apiVersion: "sixty" })).rejects.toThrow(/apiVersion/);
    await expect(startSalesforceSimulator({ users: [] })).rejects.toThrow(/users/);
    await expect(
      startSalesforceSimulator({ users: [{ username: "a@b.c" }, { username: "A@b.c" }] }),
    ).rejects.toThrow(/twice/);
    await expect(
      startSalesforceSimulator({ customFields: { Contact: [{ name: "NoSuffix", type: "string" }] } }),
    ).rejects.toThrow(/__c/);
    await expect(startSalesforceSimulator({ picklists: { "Lead.Nope": ["A"] } })).rejects.toThrow(
      /Lead.Nope/,
    );
  });
});
