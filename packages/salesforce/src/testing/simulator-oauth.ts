/**
 * The OAuth 2.0 token endpoint (`POST /services/oauth2/token`) and session
 * checking of API requests.
 *
 * - `grant_type=refresh_token` (client_id, client_secret, refresh_token) → a new
 *   access token `{ access_token, signature, scope, instance_url, id, token_type, issued_at }`.
 * - `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` with an RS256
 *   `assertion` (iss = consumer key, sub = username, aud = the login URL, exp in
 *   the future), verified with the user's public key → an access token (no
 *   refresh token, as Salesforce).
 * - Errors: `{ error, error_description }` with status 400 — `invalid_client_id`,
 *   `invalid_client`, `invalid_grant` (expired access/refresh token, audience is
 *   invalid, expired authorization code, invalid assertion, user hasn't approved
 *   this consumer), `unsupported_grant_type`.
 *
 * Access tokens expire after `accessTokenTtlSeconds` (or `expireAllTokens()`);
 * an API call with an expired or unknown token answers 401 INVALID_SESSION_ID.
 */
import { createHmac, createPublicKey, randomBytes, verify } from "node:crypto";
import { OAuthError, sessionExpired } from "./simulator-errors.ts";
import type { SalesforceSimulatorUser } from "./simulator-types.ts";

const JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";

interface AccessTokenEntry {
  userId: string;
  expiresAt: number;
  refreshToken: string | null;
}

export class OAuthServer {
  private readonly clientId: string;
  private readonly clientSecret: string;
  private readonly users: SalesforceSimulatorUser[];
  private readonly now: () => Date;
  private readonly ttlMilliseconds: number;
  private readonly organizationId: string;
  private readonly accessTokens = new Map<string, AccessTokenEntry>();
  private readonly refreshTokens = new Map<string, { userId: string }>();
  /** Set once the server listens. */
  baseUrl = "";

  constructor(options: {
    clientId: string;
    clientSecret: string;
    users: SalesforceSimulatorUser[];
    now: () => Date;
    accessTokenTtlSeconds: number;
    organizationId: string;
  }) {
    this.clientId = options.clientId;
    this.clientSecret = options.clientSecret;
    this.users = options.users;
    this.now = options.now;
    this.ttlMilliseconds = options.accessTokenTtlSeconds * 1000;
    this.organizationId = options.organizationId;
  }

  issueAccessToken(userId: string, refreshToken: string | null = null): string {
    const token = `${this.organizationId.slice(0, 15)}!AQ${randomBytes(48).toString("base64url")}`;
    this.accessTokens.set(token, {
      userId,
      expiresAt: this.now().getTime() + this.ttlMilliseconds,
      refreshToken,
    });
    return token;
  }

  issueRefreshToken(userId: string): string {
    const token = `5Aep861${randomBytes(42).toString("base64url")}`;
    this.refreshTokens.set(token, { userId });
    return token;
  }

  expireAll(): void {
    for (const entry of this.accessTokens.values()) entry.expiresAt = Number.NEGATIVE_INFINITY;
  }

  revokeAll(): void {
    this.refreshTokens.clear();
    this.accessTokens.clear();
  }

  /** The user of an `Authorization: Bearer …` (or legacy `OAuth …`) header, or the 401 to answer. */
  authenticate(header: string | undefined): SalesforceSimulatorUser {
    const match = /^(?:Bearer|OAuth)\s+(\S+)\s*$/i.exec(header ?? "");
    const entry = match?.[1] === undefined ? undefined : this.accessTokens.get(match[1]);
    if (entry === undefined || entry.expiresAt <= this.now().getTime()) throw sessionExpired();
    const user = this.users.find((candidate) => candidate.id === entry.userId);
    if (user === undefined) throw sessionExpired();
    return user;
  }

  identityUrl(userId: string): string {
    return `${this.baseUrl}/id/${this.organizationId}/${userId}`;
  }

  /** `POST /services/oauth2/token` with the form fields. */
  token(form: URLSearchParams): Record<string, string> {
    const grantType = form.get("grant_type");
    if (grantType === "refresh_token") return this.refresh(form);
    if (grantType === JWT_GRANT) return this.jwtBearer(form);
    throw new OAuthError("unsupported_grant_type", "grant type not supported");
  }

  /** `POST /services/oauth2/revoke`: a refresh token revokes its access tokens too. */
  revoke(form: URLSearchParams): void {
    const token = form.get("token") ?? "";
    if (this.refreshTokens.delete(token)) {
      for (const [accessToken, entry] of this.accessTokens)
        if (entry.refreshToken === token) this.accessTokens.delete(accessToken);
      return;
    }
    if (!this.accessTokens.delete(token))
      throw new OAuthError("unsupported_token_type", "this token type is not supported");
  }

  private checkClient(form: URLSearchParams, requireSecret: boolean): void {
    if (form.get("client_id") !== this.clientId)
      throw new OAuthError("invalid_client_id", "client identifier invalid");
    const secret = form.get("client_secret");
    if ((requireSecret || secret !== null) && secret !== this.clientSecret) {
      throw new OAuthError("invalid_client", "invalid client credentials");
    }
  }

  private refresh(form: URLSearchParams): Record<string, string> {
    this.checkClient(form, true);
    const refreshToken = form.get("refresh_token") ?? "";
    const entry = this.refreshTokens.get(refreshToken);
    if (entry === undefined) throw new OAuthError("invalid_grant", "expired access/refresh token");
    const accessToken = this.issueAccessToken(entry.userId, refreshToken);
    const issuedAt = String(this.now().getTime());
    const id = this.identityUrl(entry.userId);
    return {
      access_token: accessToken,
      signature: createHmac("sha256", this.clientSecret)
        .update(id + issuedAt)
        .digest("base64"),
      scope: "refresh_token api",
      instance_url: this.baseUrl,
      id,
      token_type: "Bearer",
      issued_at: issuedAt,
    };
  }

  private jwtBearer(form: URLSearchParams): Record<string, string> {
    const assertion = form.get("assertion") ?? "";
    const [encodedHeader, encodedPayload, encodedSignature, ...extra] = assertion.split(".");
    if (
      encodedHeader === undefined ||
      encodedPayload === undefined ||
      encodedSignature === undefined ||
      extra.length > 0
    ) {
      throw new OAuthError("invalid_grant", "invalid assertion");
    }
    const header = decodeJson(encodedHeader);
    const payload = decodeJson(encodedPayload);
    if (header === undefined || payload === undefined || header.alg !== "RS256")
      throw new OAuthError("invalid_grant", "invalid assertion");
    if (payload.iss !== this.clientId) throw new OAuthError("invalid_client_id", "client identifier invalid");
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    const accepted = new Set([
      this.baseUrl,
      `${this.baseUrl}/`,
      "https://login.salesforce.com",
      "https://test.salesforce.com",
    ]);
    if (!audiences.some((audience) => typeof audience === "string" && accepted.has(audience))) {
      throw new OAuthError("invalid_grant", "audience is invalid");
    }
    if (typeof payload.exp !== "number" || payload.exp * 1000 <= this.now().getTime()) {
      throw new OAuthError("invalid_grant", "expired authorization code");
    }
    const user = this.users.find(
      (candidate) =>
        typeof payload.sub === "string" && candidate.username.toLowerCase() === payload.sub.toLowerCase(),
    );
    if (user === undefined) throw new OAuthError("invalid_grant", "invalid assertion");
    if (user.publicKeyPem === null)
      throw new OAuthError("invalid_grant", "user hasn't approved this consumer");
    let valid = false;
    try {
      valid = verify(
        "RSA-SHA256",
        Buffer.from(`${encodedHeader}.${encodedPayload}`),
        createPublicKey(user.publicKeyPem),
        Buffer.from(encodedSignature, "base64url"),
      );
    } catch {
      valid = false;
    }
    if (!valid) throw new OAuthError("invalid_grant", "invalid assertion");
    return {
      access_token: this.issueAccessToken(user.id),
      scope: "api",
      instance_url: this.baseUrl,
      id: this.identityUrl(user.id),
      token_type: "Bearer",
    };
  }
}

function decodeJson(segment: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(Buffer.from(segment, "base64url").toString("utf8")) as unknown;
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
