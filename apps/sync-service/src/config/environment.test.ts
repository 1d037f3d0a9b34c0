import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigurationError } from "@linq-connect/core";
import { afterEach, describe, expect, it } from "vitest";
import {
  environmentVariableNames,
  environmentVariables,
  environmentVariablesMarkdown,
  InvalidSettingsError,
  loadSettings,
  redactDatabaseUrl,
  requirePublicUrl,
  settingsSummary,
} from "./environment.ts";

const production = { LINQ_API_TOKEN: "linq-token-123", LINQ_WEBHOOK_SECRET: "whsec" };

function settingsError(environment: NodeJS.ProcessEnv): InvalidSettingsError {
  try {
    loadSettings(environment);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidSettingsError);
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as InvalidSettingsError;
  }
  throw new Error("expected loadSettings to throw");
}

function problemOf(error: InvalidSettingsError, variable: string): string {
  const problem = error.problems.find((each) => each.variable === variable);
  expect(problem, `a problem for ${variable} in ${error.message}`).toBeDefined();
  return problem?.message ?? "";
}

const pem = generateKeyPairSync("rsa", { modulusLength: 1024 })
  .privateKey.export({ type: "pkcs8", format: "pem" })
  .toString();

const temporaryDirectories: string[] = [];
afterEach(() => {
  for (const directory of temporaryDirectories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

describe("loadSettings defaults", () => {
  it("runs the sandbox with documented defaults when nothing is set", () => {
    const settings = loadSettings({});
    expect(settings).toEqual({
      mode: "sandbox",
      logLevel: "info",
      server: { port: 3000, host: "127.0.0.1", publicUrl: undefined },
      database: { url: undefined, dataDirectory: "./data" },
      routingFile: { path: "./linq-sync.yaml", isExplicit: false },
      linq: {
        apiToken: undefined,
        apiBaseUrl: "https://api.linqapp.com",
        webhookSecret: undefined,
        previousWebhookSecrets: [],
      },
      webhooks: { maxBodyBytes: 1_048_576, maxEventAgeSeconds: undefined },
      slack: {
        botToken: undefined,
        signingSecret: undefined,
        appToken: undefined,
        apiUrl: "https://slack.com/api/",
        defaultChannel: undefined,
      },
      hubspot: {
        accessToken: undefined,
        clientSecret: undefined,
        baseUrl: "https://api.hubapi.com",
        appId: undefined,
        webhookUrl: undefined,
      },
      salesforce: {
        instanceUrl: undefined,
        loginUrl: "https://login.salesforce.com",
        accessToken: undefined,
        refreshToken: undefined,
        clientId: undefined,
        clientSecret: undefined,
        username: undefined,
        privateKey: undefined,
        privateKeyFile: undefined,
        pollIntervalSeconds: 60,
      },
      crmProvider: "none",
      crmProviderIsExplicit: false,
      queue: { concurrency: 4, retryLimit: 8, retryDelaySeconds: 2 },
      shutdownTimeoutSeconds: 20,
      eventRetentionDays: 30,
    });
  });

  it("is production with a Linq token, listening on every interface", () => {
    const settings = loadSettings(production);
    expect(settings.mode).toBe("production");
    expect(settings.server.host).toBe("0.0.0.0");
    expect(settings.linq.apiToken).toBe("linq-token-123");
    expect(settings.linq.webhookSecret).toBe("whsec");
  });

  it("treats an empty or blank token as unset: sandbox", () => {
    expect(loadSettings({ LINQ_API_TOKEN: "" }).mode).toBe("sandbox");
    expect(loadSettings({ LINQ_API_TOKEN: "   ", PORT: "" }).server.port).toBe(3000);
  });

  it("reads every variable into the nested settings", () => {
    const settings = loadSettings({
      ...production,
      PORT: " 8080 ",
      HOST: "::",
      PUBLIC_URL: "https://sync.example.com/base/",
      DATABASE_URL: "postgresql://linq:pw@db.internal:5432/linq",
      LINQ_SYNC_DATA_DIR: "/var/lib/linq-sync",
      SYNC_CONFIG: "/etc/linq-sync.yaml",
      LOG_LEVEL: "DEBUG",
      LINQ_API_BASE_URL: "http://127.0.0.1:4010",
      LINQ_WEBHOOK_SECRET_PREVIOUS: "old-1, old-2,,",
      WEBHOOK_MAX_BODY_BYTES: "2048",
      WEBHOOK_MAX_EVENT_AGE_SECONDS: "300",
      SLACK_BOT_TOKEN: "xoxb-1",
      SLACK_SIGNING_SECRET: "signing",
      SLACK_APP_TOKEN: "xapp-1",
      SLACK_API_URL: "https://slack-gov.com/api/",
      SLACK_DEFAULT_CHANNEL: "C0GENERAL",
      HUBSPOT_ACCESS_TOKEN: "pat-na1-1",
      HUBSPOT_CLIENT_SECRET: "hs-secret",
      HUBSPOT_BASE_URL: "http://127.0.0.1:4020",
      HUBSPOT_APP_ID: " 1234567 ",
      HUBSPOT_WEBHOOK_URL: "https://hooks.example.com/hubspot",
      SALESFORCE_INSTANCE_URL: "https://acme.my.salesforce.com",
      SALESFORCE_LOGIN_URL: "https://test.salesforce.com",
      SALESFORCE_ACCESS_TOKEN: "00D!token",
      SALESFORCE_REFRESH_TOKEN: "refresh",
      SALESFORCE_CLIENT_ID: "consumer-key",
      SALESFORCE_CLIENT_SECRET: "consumer-secret",
      SALESFORCE_POLL_INTERVAL_SECONDS: "30",
      CRM_PROVIDER: "HubSpot",
      JOB_CONCURRENCY: "16",
      JOB_RETRY_LIMIT: "0",
      JOB_RETRY_DELAY_SECONDS: "5",
      SHUTDOWN_TIMEOUT_SECONDS: "45",
    });
    expect(settings.server).toEqual({ port: 8080, host: "::", publicUrl: "https://sync.example.com/base" });
    expect(settings.database).toEqual({
      url: "postgresql://linq:pw@db.internal:5432/linq",
      dataDirectory: "/var/lib/linq-sync",
    });
    expect(settings.routingFile).toEqual({ path: "/etc/linq-sync.yaml", isExplicit: true });
    expect(settings.logLevel).toBe("debug");
    expect(settings.linq.apiBaseUrl).toBe("http://127.0.0.1:4010");
    expect(settings.linq.previousWebhookSecrets).toEqual(["old-1", "old-2"]);
    expect(settings.webhooks).toEqual({ maxBodyBytes: 2048, maxEventAgeSeconds: 300 });
    expect(settings.slack).toEqual({
      botToken: "xoxb-1",
      signingSecret: "signing",
      appToken: "xapp-1",
      apiUrl: "https://slack-gov.com/api/",
      defaultChannel: "C0GENERAL",
    });
    expect(settings.hubspot).toEqual({
      accessToken: "pat-na1-1",
      clientSecret: "hs-secret",
      baseUrl: "http://127.0.0.1:4020",
      appId: "1234567",
      webhookUrl: "https://hooks.example.com/hubspot",
    });
    expect(settings.salesforce).toMatchObject({
      instanceUrl: "https://acme.my.salesforce.com",
      loginUrl: "https://test.salesforce.com",
      accessToken: "00D!token",
      refreshToken: "refresh",
      clientId: "consumer-key",
      clientSecret: "consumer-secret",
      pollIntervalSeconds: 30,
    });
    expect(settings.crmProvider).toBe("hubspot");
    expect(settings.crmProviderIsExplicit).toBe(true);
    expect(settings.queue).toEqual({ concurrency: 16, retryLimit: 0, retryDelaySeconds: 5 });
    expect(settings.shutdownTimeoutSeconds).toBe(45);
  });

  it("keeps secrets exactly as given while trimming other values", () => {
    const settings = loadSettings({ ...production, LINQ_WEBHOOK_SECRET: " spaced secret ", PORT: " 4000\n" });
    expect(settings.linq.webhookSecret).toBe(" spaced secret ");
    expect(settings.server.port).toBe(4000);
  });

  it("lets HOST override the mode's default", () => {
    expect(loadSettings({ HOST: "0.0.0.0" }).server.host).toBe("0.0.0.0");
    expect(loadSettings({ ...production, HOST: "127.0.0.1" }).server.host).toBe("127.0.0.1");
  });
});

describe("loadSettings validation", () => {
  it("lists every bad variable at once, in documentation order", () => {
    const error = settingsError({
      PORT: "abc",
      LOG_LEVEL: "verbose",
      LINQ_API_TOKEN: "token",
      LINQ_API_BASE_URL: "ftp://files.example.com",
      WEBHOOK_MAX_BODY_BYTES: "12",
      SLACK_API_URL: "not a url",
      SLACK_DEFAULT_CHANNEL: "#sales",
      CRM_PROVIDER: "hubspt",
      JOB_CONCURRENCY: "0",
      JOB_RETRY_DELAY_SECONDS: "1.5",
      SHUTDOWN_TIMEOUT_SECONDS: "-1",
    });
    expect(error.problems.map((problem) => problem.variable)).toEqual([
      "PORT",
      "LOG_LEVEL",
      "LINQ_API_BASE_URL",
      "LINQ_WEBHOOK_SECRET",
      "WEBHOOK_MAX_BODY_BYTES",
      "SLACK_API_URL",
      "SLACK_DEFAULT_CHANNEL",
      "CRM_PROVIDER",
      "JOB_CONCURRENCY",
      "JOB_RETRY_DELAY_SECONDS",
      "SHUTDOWN_TIMEOUT_SECONDS",
    ]);
    expect(error.message).toContain("11 problems");
    expect(error.message).toContain('PORT: expected a whole number from 0 to 65535, got "abc"');
    expect(problemOf(error, "LOG_LEVEL")).toBe(
      'expected one of fatal | error | warn | info | debug | trace | silent, got "verbose"',
    );
    expect(problemOf(error, "LINQ_API_BASE_URL")).toBe(
      'expected an http:// or https:// URL, not ftp://, got "ftp://files.example.com"',
    );
    expect(problemOf(error, "LINQ_WEBHOOK_SECRET")).toMatch(/^required when LINQ_API_TOKEN is set/);
    expect(problemOf(error, "SLACK_API_URL")).toBe('expected an http:// or https:// URL, got "not a url"');
    expect(problemOf(error, "SLACK_DEFAULT_CHANNEL")).toMatch(/^expected a Slack channel ID .*got "#sales"$/);
    expect(problemOf(error, "CRM_PROVIDER")).toBe(
      'expected one of hubspot | salesforce | none (did you mean "hubspot"?), got "hubspt"',
    );
    expect(problemOf(error, "JOB_CONCURRENCY")).toBe('expected a whole number from 1 to 1000, got "0"');
  });

  it("defaults the HubSpot webhook URL to PUBLIC_URL/webhooks/hubspot and checks the app id", () => {
    expect(loadSettings({ PUBLIC_URL: "https://sync.example.com/" }).hubspot.webhookUrl).toBe(
      "https://sync.example.com/webhooks/hubspot",
    );
    expect(
      loadSettings({
        PUBLIC_URL: "https://sync.example.com",
        HUBSPOT_WEBHOOK_URL: "https://proxy.example.com/hs",
      }).hubspot.webhookUrl,
    ).toBe("https://proxy.example.com/hs");
    expect(loadSettings({}).hubspot.webhookUrl).toBeUndefined();
    expect(problemOf(settingsError({ HUBSPOT_APP_ID: "my-app" }), "HUBSPOT_APP_ID")).toBe(
      'expected the numeric id of a HubSpot app, got "my-app"',
    );
    expect(
      problemOf(settingsError({ HUBSPOT_WEBHOOK_URL: "/webhooks/hubspot" }), "HUBSPOT_WEBHOOK_URL"),
    ).toMatch(/^expected an http:\/\/ or https:\/\/ URL/);
  });

  it("validates every base URL as http(s)", () => {
    const urlVariables = [
      "LINQ_API_BASE_URL",
      "SLACK_API_URL",
      "HUBSPOT_BASE_URL",
      "SALESFORCE_INSTANCE_URL",
      "SALESFORCE_LOGIN_URL",
      "PUBLIC_URL",
    ];
    const error = settingsError(
      Object.fromEntries(urlVariables.map((name) => [name, "acme.my.salesforce.com"])),
    );
    expect(error.problems.map((problem) => problem.variable)).toEqual(expect.arrayContaining(urlVariables));
    expect(error.problems).toHaveLength(urlVariables.length);
    expect(settingsError({ LINQ_API_BASE_URL: "javascript:alert(1)" }).problems[0]?.message).toMatch(
      /^expected an http:\/\/ or https:\/\/ URL, not javascript:\/\//,
    );
    expect(loadSettings({ SALESFORCE_LOGIN_URL: "http://127.0.0.1:9999/" }).salesforce.loginUrl).toBe(
      "http://127.0.0.1:9999/",
    );
  });

  it("wants PUBLIC_URL as a base URL and strips its trailing slash", () => {
    expect(loadSettings({ PUBLIC_URL: "https://sync.example.com/" }).server.publicUrl).toBe(
      "https://sync.example.com",
    );
    expect(problemOf(settingsError({ PUBLIC_URL: "https://sync.example.com/?x=1" }), "PUBLIC_URL")).toMatch(
      /without a query or fragment/,
    );
  });

  it("accepts only postgres URLs for DATABASE_URL", () => {
    expect(loadSettings({ DATABASE_URL: "postgres://localhost/linq" }).database.url).toBe(
      "postgres://localhost/linq",
    );
    expect(problemOf(settingsError({ DATABASE_URL: "mysql://root@localhost/linq" }), "DATABASE_URL")).toMatch(
      /^expected a postgres:\/\/ or postgresql:\/\/ URL, not mysql:\/\//,
    );
  });

  it("checks the rules between variables", () => {
    const error = settingsError({
      SLACK_APP_TOKEN: "xapp-1",
      SALESFORCE_PRIVATE_KEY: pem,
      SALESFORCE_PRIVATE_KEY_FILE: "/nonexistent/key.pem",
      SALESFORCE_ACCESS_TOKEN: "00D!token",
    });
    expect(problemOf(error, "SLACK_BOT_TOKEN")).toMatch(/required when SLACK_APP_TOKEN is set/);
    expect(error.problems.filter((problem) => problem.variable === "SALESFORCE_PRIVATE_KEY_FILE")).toEqual([
      {
        variable: "SALESFORCE_PRIVATE_KEY_FILE",
        message: 'the file does not exist, got "/nonexistent/key.pem"',
      },
      {
        variable: "SALESFORCE_PRIVATE_KEY_FILE",
        message: "set either SALESFORCE_PRIVATE_KEY or SALESFORCE_PRIVATE_KEY_FILE, not both",
      },
    ]);
    expect(problemOf(error, "SALESFORCE_USERNAME")).toMatch(/JWT bearer flow/);
    expect(problemOf(error, "SALESFORCE_CLIENT_ID")).toMatch(/JWT bearer flow/);
    // The JWT flow gives the instance URL: an access token does not need it here.
    expect(error.problems.some((problem) => problem.variable === "SALESFORCE_INSTANCE_URL")).toBe(false);

    expect(problemOf(settingsError({ SALESFORCE_ACCESS_TOKEN: "00D!t" }), "SALESFORCE_INSTANCE_URL")).toMatch(
      /required with SALESFORCE_ACCESS_TOKEN alone/,
    );
    expect(problemOf(settingsError({ SALESFORCE_REFRESH_TOKEN: "refresh" }), "SALESFORCE_CLIENT_ID")).toMatch(
      /required when SALESFORCE_REFRESH_TOKEN is set/,
    );
    expect(
      problemOf(settingsError({ SALESFORCE_USERNAME: "ops@acme.com" }), "SALESFORCE_PRIVATE_KEY"),
    ).toMatch(/also needs SALESFORCE_PRIVATE_KEY or SALESFORCE_PRIVATE_KEY_FILE/);
  });

  it("reads the Salesforce private key from the variable (with \\n escapes) or from a file", () => {
    const escaped = pem.trim().replace(/\n/g, "\\n");
    const fromVariable = loadSettings({
      SALESFORCE_PRIVATE_KEY: escaped,
      SALESFORCE_USERNAME: "ops@acme.com",
      SALESFORCE_CLIENT_ID: "consumer-key",
    });
    expect(fromVariable.salesforce.privateKey).toBe(pem.trim());
    expect(fromVariable.salesforce.privateKeyFile).toBeUndefined();

    const directory = mkdtempSync(join(tmpdir(), "linq-sync-settings-"));
    temporaryDirectories.push(directory);
    const keyFile = join(directory, "key.pem");
    writeFileSync(keyFile, pem);
    const fromFile = loadSettings({
      SALESFORCE_PRIVATE_KEY_FILE: keyFile,
      SALESFORCE_USERNAME: "ops@acme.com",
      SALESFORCE_CLIENT_ID: "consumer-key",
    });
    expect(fromFile.salesforce.privateKey).toBe(pem);
    expect(fromFile.salesforce.privateKeyFile).toBe(keyFile);

    const notAKeyFile = join(directory, "not-a-key.pem");
    writeFileSync(notAKeyFile, "hello");
    expect(
      problemOf(
        settingsError({
          SALESFORCE_PRIVATE_KEY_FILE: notAKeyFile,
          SALESFORCE_USERNAME: "ops@acme.com",
          SALESFORCE_CLIENT_ID: "consumer-key",
        }),
        "SALESFORCE_PRIVATE_KEY_FILE",
      ),
    ).toMatch(/^the file's content is not a PEM private key/);
  });

  it("never shows a secret's value in an error", () => {
    const secrets = {
      LINQ_API_TOKEN: "linq token SECRET-1",
      LINQ_WEBHOOK_SECRET_PREVIOUS: " , ,",
      DATABASE_URL: "mysql://root:SECRET-2@db/linq",
      SLACK_BOT_TOKEN: "xoxb-SECRET-3\n",
      SLACK_APP_TOKEN: "xapp SECRET-4",
      HUBSPOT_ACCESS_TOKEN: "pat\tSECRET-5",
      SALESFORCE_ACCESS_TOKEN: "00D SECRET-6",
      SALESFORCE_REFRESH_TOKEN: "refresh SECRET-7",
      SALESFORCE_PRIVATE_KEY: "-----BEGIN PRIVATE KEY-----SECRET-8-----END PRIVATE KEY-----",
      LINQ_API_BASE_URL: "https://user:SECRET-9@api.example.com",
    };
    const error = settingsError({ ...secrets, LINQ_WEBHOOK_SECRET: "whsec" });
    for (const variable of Object.keys(secrets)) problemOf(error, variable);
    const everything = `${error.message}\n${JSON.stringify(error.problems)}\n${JSON.stringify(error)}`;
    expect(everything).not.toMatch(/SECRET-\d/);
    expect(problemOf(error, "LINQ_API_TOKEN")).toMatch(/no spaces or line breaks \(the value is not shown\)/);
    expect(problemOf(error, "LINQ_API_BASE_URL")).toBe("must not contain a user name or password");
  });

  it("does not echo an unparseable DATABASE_URL (it may hold a password)", () => {
    const error = settingsError({ DATABASE_URL: "postgres://user:SECRET-10@[bad" });
    expect(error.message).not.toContain("SECRET-10");
    expect(problemOf(error, "DATABASE_URL")).toMatch(/the value is not shown/);
  });
});

describe("settingsSummary", () => {
  it("shows secrets only as configured flags and the database without credentials", () => {
    const settings = loadSettings({
      ...production,
      LINQ_API_TOKEN: "SECRET-A",
      LINQ_WEBHOOK_SECRET: "SECRET-B",
      LINQ_WEBHOOK_SECRET_PREVIOUS: "SECRET-C",
      DATABASE_URL: "postgres://linq:SECRET-D@db:5432/linq?sslpassword=SECRET-E",
      SLACK_BOT_TOKEN: "SECRET-F",
      SLACK_SIGNING_SECRET: "SECRET-G",
      SLACK_APP_TOKEN: "SECRET-H",
      HUBSPOT_ACCESS_TOKEN: "SECRET-I",
      HUBSPOT_CLIENT_SECRET: "SECRET-J",
      SALESFORCE_ACCESS_TOKEN: "SECRET-K",
      SALESFORCE_REFRESH_TOKEN: "SECRET-L",
      SALESFORCE_CLIENT_ID: "consumer-key",
      SALESFORCE_CLIENT_SECRET: "SECRET-M",
      SALESFORCE_USERNAME: "ops@acme.com",
      SALESFORCE_PRIVATE_KEY: pem,
    });
    const summary = settingsSummary(settings);
    const text = JSON.stringify(summary);
    expect(text).not.toMatch(/SECRET-[A-Z]/);
    expect(text).not.toContain("PRIVATE KEY");
    expect(summary).toMatchObject({
      mode: "production",
      database: { embedded: false, url: "postgres://linq@db:5432/linq" },
      linq: { apiTokenConfigured: true, webhookSecretConfigured: true, previousWebhookSecretCount: 1 },
      slack: { botTokenConfigured: true, signingSecretConfigured: true, appTokenConfigured: true },
      hubspot: { accessTokenConfigured: true, clientSecretConfigured: true, appId: undefined },
      salesforce: {
        accessTokenConfigured: true,
        refreshTokenConfigured: true,
        clientSecretConfigured: true,
        privateKeyConfigured: true,
        clientId: "consumer-key",
      },
    });
    expect(settingsSummary(loadSettings({})).slack).toMatchObject({ botTokenConfigured: false });
  });

  it("redacts database URLs", () => {
    expect(redactDatabaseUrl("postgresql://user:pw@host/db?password=x")).toBe("postgresql://user@host/db");
    expect(redactDatabaseUrl("postgres:///db")).toBe("postgres:///db");
    expect(redactDatabaseUrl("::::")).toBe("[unparseable]");
  });
});

describe("documentation and helpers", () => {
  it("documents exactly the variables it reads", () => {
    expect(environmentVariables.map((entry) => entry.name).sort()).toEqual(
      [...environmentVariableNames].sort(),
    );
    for (const entry of environmentVariables) expect(entry.description).toMatch(/^\S.{5,}\.$/);
    const secrets = environmentVariables.filter((entry) => entry.secret).map((entry) => entry.name);
    expect(secrets).toEqual(
      expect.arrayContaining([
        "LINQ_API_TOKEN",
        "LINQ_WEBHOOK_SECRET",
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "HUBSPOT_ACCESS_TOKEN",
        "SALESFORCE_PRIVATE_KEY",
        "DATABASE_URL",
      ]),
    );
  });

  it("documents the defaults loadSettings applies", () => {
    const settings = loadSettings({});
    const documented = new Map(environmentVariables.map((entry) => [entry.name, entry.default]));
    expect(documented.get("PORT")).toBe(String(settings.server.port));
    expect(documented.get("LINQ_SYNC_DATA_DIR")).toBe(settings.database.dataDirectory);
    expect(documented.get("SYNC_CONFIG")).toBe(settings.routingFile.path);
    expect(documented.get("LOG_LEVEL")).toBe(settings.logLevel);
    expect(documented.get("LINQ_API_BASE_URL")).toBe(settings.linq.apiBaseUrl);
    expect(documented.get("WEBHOOK_MAX_BODY_BYTES")).toBe(String(settings.webhooks.maxBodyBytes));
    expect(documented.get("SLACK_API_URL")).toBe(settings.slack.apiUrl);
    expect(documented.get("HUBSPOT_BASE_URL")).toBe(settings.hubspot.baseUrl);
    expect(documented.get("SALESFORCE_LOGIN_URL")).toBe(settings.salesforce.loginUrl);
    expect(documented.get("SALESFORCE_POLL_INTERVAL_SECONDS")).toBe(
      String(settings.salesforce.pollIntervalSeconds),
    );
    expect(documented.get("CRM_PROVIDER")).toBe(settings.crmProvider);
    expect(documented.get("JOB_CONCURRENCY")).toBe(String(settings.queue.concurrency));
    expect(documented.get("JOB_RETRY_LIMIT")).toBe(String(settings.queue.retryLimit));
    expect(documented.get("JOB_RETRY_DELAY_SECONDS")).toBe(String(settings.queue.retryDelaySeconds));
    expect(documented.get("SHUTDOWN_TIMEOUT_SECONDS")).toBe(String(settings.shutdownTimeoutSeconds));
  });

  it("renders the settings table as Markdown", () => {
    const table = environmentVariablesMarkdown().split("\n");
    expect(table[0]).toBe("| variable | default | meaning |");
    expect(table).toHaveLength(environmentVariables.length + 2);
    expect(table).toContain("| `PORT` | 3000 | HTTP port. |");
  });

  it("requires PUBLIC_URL where a command needs it", () => {
    expect(() => requirePublicUrl(loadSettings({}), "to subscribe to Linq webhooks")).toThrow(
      /PUBLIC_URL is required to subscribe to Linq webhooks/,
    );
    expect(requirePublicUrl(loadSettings({ PUBLIC_URL: "https://x.example.com/" }), "for x")).toBe(
      "https://x.example.com",
    );
  });
});
