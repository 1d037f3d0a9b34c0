import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../cli.ts";
import { routingJsonSchema } from "../config/routing.ts";
import {
  captureStream,
  expectNoSecrets,
  type TemporaryDirectory,
  temporaryDirectory,
} from "./command.test-helpers.ts";

const validFile = `
routes:
  - name: sales
    match: { linqNumbers: ["+1 (555) 000-1111"] }
    slack: { channel: C0SALES }
    crm: hubspot
    contacts: two-way
    activities: per-message
  - name: support
    match: { linqNumbers: ["+15550002222"] }
    slack: { channel: C0SUPPORT, mode: alerts-only }
    crm: salesforce
    contacts: linq-to-crm
    activities: daily-digest
  - name: everything-else
    slack: { channel: "\${GENERAL_CHANNEL}" }
  - name: never-reached
    slack: { channel: C0NEVER }
`;

const invalidFile = `
routes:
  - name: sales
    match: { linqNumbers: ["555-12"] }
    slack: { channel: "#sales" }
    crm: zoho
  - name: sales
    contacts: two-way
`;

describe("linq-sync config", () => {
  let directory: TemporaryDirectory;
  const environment: NodeJS.ProcessEnv = {
    LINQ_API_TOKEN: "config-test-token-abcdef",
    LINQ_WEBHOOK_SECRET: "config-test-secret-abcdef",
    HUBSPOT_ACCESS_TOKEN: "hubspot-token-abcdef",
    SLACK_BOT_TOKEN: "xoxb-config-test-abcdef",
    SLACK_SIGNING_SECRET: "slack-secret-abcdef",
    SALESFORCE_ACCESS_TOKEN: "salesforce-token-abcdef",
    SALESFORCE_INSTANCE_URL: "https://example.my.salesforce.com",
    GENERAL_CHANNEL: "C0GENERAL",
  };
  const outputs: string[] = [];

  beforeAll(async () => {
    directory = await temporaryDirectory();
  });
  afterAll(async () => {
    expectNoSecrets(outputs, environment);
    await directory.remove();
  });

  async function cli(argv: string[], env: NodeJS.ProcessEnv = environment) {
    const stdout = captureStream();
    const stderr = captureStream();
    const code = await runCli(argv, { environment: env, stdout, stderr });
    outputs.push(stdout.text, stderr.text);
    return { code, stdout: stdout.text, stderr: stderr.text };
  }

  it("validate: prints the routes as a table and the warnings for a valid file", async () => {
    const file = await directory.file("valid.yaml", validFile);
    const { code, stdout, stderr } = await cli(["config", "validate", "--file", file]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toContain("settings: valid (production mode)");
    expect(stdout).toContain(`routing file ${file}`);
    expect(stdout).toContain("4 routes");
    expect(stdout).toMatch(/^route\s+Linq numbers\s+Slack channel\s+CRM\s+contacts\s+activities$/m);
    expect(stdout).toMatch(/^sales\s+\+15550001111\s+C0SALES\s+hubspot\s+two-way\s+per-message$/m);
    expect(stdout).toMatch(
      /^support\s+\+15550002222\s+C0SUPPORT \(alerts only\)\s+salesforce\s+linq-to-crm\s+daily-digest$/m,
    );
    expect(stdout).toMatch(/^everything-else\s+every number\s+C0GENERAL\s+none\s+off\s+off$/m);
    expect(stdout).toContain("warning: ");
    expect(stdout).toContain('"never-reached" never handles a conversation');
    expect(stdout).toContain("valid: the service can start with this configuration");
  });

  it("validate: lists every problem with the file, the path and the line, exit code 1", async () => {
    const file = await directory.file("invalid.yaml", invalidFile);
    const { code, stdout, stderr } = await cli(["config", "validate", "--file", file]);
    expect(code).toBe(1);
    expect(stdout).not.toContain("valid: the service can start");
    expect(stderr).toMatch(/routing: [5-9] problems/);
    expect(stderr).toContain(`${file}: routes[0].match.linqNumbers[0]:`);
    expect(stderr).toContain(`${file}: routes[0].slack.channel:`);
    expect(stderr).toContain(`${file}: routes[0].crm:`);
    expect(stderr).toContain(`${file}: routes[1].name: duplicate route name`);
    expect(stderr).toContain(`${file}: routes[1].contacts:`);
    expect(stderr).toMatch(/\(line \d+, column \d+\)/);
    expect(stderr).toContain("invalid:");
  });

  it("validate: reports invalid settings and still checks the routing file of SYNC_CONFIG", async () => {
    const file = await directory.file("invalid-too.yaml", invalidFile);
    const { code, stderr } = await cli(["config", "validate"], {
      ...environment,
      PORT: "eighty",
      SYNC_CONFIG: file,
    });
    expect(code).toBe(1);
    expect(stderr).toContain('PORT: expected a whole number from 0 to 65535, got "eighty"');
    expect(stderr).toContain(`${file}: routes[0].crm:`);
  });

  it("validate: names the credentials the routes need but the settings lack", async () => {
    const file = await directory.file("valid-again.yaml", validFile);
    const { HUBSPOT_ACCESS_TOKEN: _hubspot, ...withoutHubspot } = environment;
    const { code, stderr } = await cli(["config", "validate", "--file", file], withoutHubspot);
    expect(code).toBe(1);
    expect(stderr).toContain('HUBSPOT_ACCESS_TOKEN is required: route "sales" uses HubSpot');
  });

  it("validate: an explicit file that does not exist is an error; no file at all is the default route", async () => {
    const missing = await cli(["config", "validate", "--file", join(directory.path, "nope.yaml")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("does not exist");

    const defaults = await cli(["config", "validate"], {
      SYNC_CONFIG: "",
      SLACK_DEFAULT_CHANNEL: "C0DEFAULT",
      LINQ_SYNC_DATA_DIR: directory.path,
    });
    expect(defaults.code).toBe(0);
    expect(defaults.stdout).toContain("one default route from SLACK_DEFAULT_CHANNEL and CRM_PROVIDER");
    expect(defaults.stdout).toMatch(/^default\s+every number\s+C0DEFAULT\s+none\s+off\s+off$/m);
  });

  it("schema: prints the routing file's JSON Schema, or writes it with --output", async () => {
    const printed = await cli(["config", "schema"]);
    expect(printed.code).toBe(0);
    expect(JSON.parse(printed.stdout)).toEqual(routingJsonSchema());

    const path = join(directory.path, "schema.json");
    const written = await cli(["config", "schema", "--output", path]);
    expect(written.code).toBe(0);
    expect(written.stdout).toContain(`wrote the routing file's JSON Schema to ${path}`);
    expect(JSON.parse(await readFile(path, "utf8"))).toEqual(routingJsonSchema());
  });
});
