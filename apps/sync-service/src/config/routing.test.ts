// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the routing file's ${ENV_VAR} syntax, not template placeholders
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigurationError } from "@linq-connect/core";
import { afterEach, describe, expect, it } from "vitest";
import { loadSettings } from "./environment.ts";
import {
  defaultRoutingConfig,
  loadRoutingConfig,
  parseRoutingConfig,
  type RoutingConfig,
  RoutingConfigurationError,
  routingCredentialProblems,
  routingJsonSchema,
} from "./routing.ts";

const appRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

function parse(text: string, environment: NodeJS.ProcessEnv = {}): RoutingConfig {
  return parseRoutingConfig(text, { fileName: "linq-sync.yaml", environment });
}

function parseError(text: string, environment: NodeJS.ProcessEnv = {}): RoutingConfigurationError {
  try {
    parse(text, environment);
  } catch (error) {
    expect(error).toBeInstanceOf(RoutingConfigurationError);
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as RoutingConfigurationError;
  }
  throw new Error("expected the routing file to be rejected");
}

/** The error's lines without their positions, e.g. `linq-sync.yaml: routes[1].crm: expected …`. */
function problemLines(error: RoutingConfigurationError): string[] {
  return error.message
    .split("\n")
    .slice(1)
    .map((line) => line.trim().replace(/ \(line \d+, column \d+\)$/, ""));
}

const defaultSlack = {
  internalPrefix: "note:",
  mode: "two-way",
  reactions: {
    love: "heart",
    like: "+1",
    dislike: "-1",
    laugh: "joy",
    emphasize: "bangbang",
    question: "question",
  },
  postTypingIndicators: false,
};

describe("parseRoutingConfig", () => {
  it("parses the shape from the issue", () => {
    const config = parse(`
routes:
  - name: sales
    match: { linqNumbers: ["+15550001111"] }   # omitted: every number
    slack: { channel: C0SALES }                 # omitted: no Slack mirror
    crm: hubspot                                # hubspot | salesforce | none
    contacts: two-way                           # two-way | linq-to-crm | crm-to-linq | off
    activities: per-message                     # per-message | daily-digest | off
`);
    expect(config).toEqual({
      version: 1,
      source: "file",
      fileName: "linq-sync.yaml",
      warnings: [],
      routes: [
        {
          name: "sales",
          match: { linqNumbers: ["+15550001111"] },
          slack: { channel: "C0SALES", ...defaultSlack },
          crm: "hubspot",
          contacts: "two-way",
          activities: "per-message",
        },
      ],
    });
  });

  it("applies the defaults, which depend on the CRM", () => {
    const config = parse(`
version: 1
routes:
  - name: crm-only
    match: { linqNumbers: ["+15550001111"] }
    crm: salesforce
  - name: slack-only
    slack:
      channel: G0PRIVATE
      internalPrefix: "internal:"
      mode: alerts-only
      reactions: { love: ":sparkling_heart:", question: grey_question }
      postTypingIndicators: true
    hubspot: { pipeline: default }
`);
    expect(config.routes[0]).toEqual({
      name: "crm-only",
      match: { linqNumbers: ["+15550001111"] },
      crm: "salesforce",
      contacts: "two-way",
      activities: "per-message",
    });
    expect(config.routes[1]).toEqual({
      name: "slack-only",
      match: { linqNumbers: [] },
      slack: {
        channel: "G0PRIVATE",
        internalPrefix: "internal:",
        mode: "alerts-only",
        reactions: { ...defaultSlack.reactions, love: "sparkling_heart", question: "grey_question" },
        postTypingIndicators: true,
      },
      crm: "none",
      contacts: "off",
      activities: "off",
      hubspot: { pipeline: "default" },
    });
    expect(config.warnings).toEqual([
      'linq-sync.yaml: routes[1] "slack-only": the hubspot settings are ignored because crm is none',
    ]);
  });

  it("normalises Linq numbers to E.164, also when YAML read them as integers", () => {
    const config = parse(`
routes:
  - name: numbers
    match:
      linqNumbers:
        - "(555) 000-1111"
        - +15550001111
        - +44 20 7946 0958
        - +442079460959
        - 5550002222
`);
    expect(config.routes[0]?.match.linqNumbers).toEqual([
      "+15550001111",
      "+442079460958",
      "+442079460959",
      "+15550002222",
    ]);
  });

  it("names the file, the path and what is wrong, for every problem at once", () => {
    const error = parseError(`
routes:
  - name: sales
    match: { linqNumbers: ["+15550001111", "555-12"] }
    slack: { channel: "#sales", mode: both }
  - name: support
    crm: pipedrive
  - name: sales
    contacts: two-way
    activities: daily-digest
  - match: "every number"
    crm: 7
`);
    expect(error.fileName).toBe("linq-sync.yaml");
    expect(problemLines(error)).toEqual([
      'linq-sync.yaml: routes[0].match.linqNumbers[1]: Invalid phone number "555-12": too short for country calling code +1',
      'linq-sync.yaml: routes[0].slack.channel: expected a Slack channel ID such as C0123ABCD, not a #name (Slack shows it at the bottom of the channel\'s About tab), got "#sales"',
      'linq-sync.yaml: routes[0].slack.mode: expected one of two-way | alerts-only, got "both"',
      'linq-sync.yaml: routes[1].crm: expected one of hubspot | salesforce | none, got "pipedrive"',
      'linq-sync.yaml: routes[2].name: duplicate route name "sales" (routes[0] has it already; names must be unique, case-insensitively)',
      'linq-sync.yaml: routes[2].contacts: "two-way" needs a CRM: set crm to hubspot or salesforce, or contacts to off',
      'linq-sync.yaml: routes[2].activities: "daily-digest" needs a CRM: set crm to hubspot or salesforce, or activities to off',
      "linq-sync.yaml: routes[3].name: required",
      'linq-sync.yaml: routes[3].match: expected a mapping, got "every number"',
      "linq-sync.yaml: routes[3].crm: expected one of hubspot | salesforce | none, got 7",
    ]);
    expect(error.message.split("\n")[0]).toBe("Invalid routing file linq-sync.yaml (10 problems):");
    expect(error.problems[3]).toEqual({
      path: "routes[1].crm",
      message: 'expected one of hubspot | salesforce | none, got "pipedrive"',
      line: 7,
      column: 10,
    });
    // A missing key is located at its mapping.
    expect(error.problems[7]).toMatchObject({ path: "routes[3].name", line: 11, column: 5 });
  });

  it("rejects an empty route list, a missing one, a wrong version and other top-level shapes", () => {
    expect(problemLines(parseError("routes: []\n"))).toEqual([
      "linq-sync.yaml: routes: expected at least one route",
    ]);
    // A missing key is located at the start of its mapping: here the file's first line.
    expect(problemLines(parseError("version: 2\n"))).toEqual([
      "linq-sync.yaml: routes: required",
      "linq-sync.yaml: version: expected 1, got 2",
    ]);
    expect(problemLines(parseError("routes: { name: x }\n"))).toEqual([
      "linq-sync.yaml: routes: expected a list, got a mapping",
    ]);
    expect(problemLines(parseError("- name: x\n"))).toEqual([
      'linq-sync.yaml: expected a mapping with a "routes" list, got a list',
    ]);
    expect(problemLines(parseError("# nothing yet\n"))).toEqual([
      'linq-sync.yaml: the file is empty: expected a mapping with a "routes" list',
    ]);
    expect(
      problemLines(
        parseError("routes:\n  - name: has spaces\n    slack: { channel: C0X, internalPrefix: '' }\n"),
      ),
    ).toEqual([
      'linq-sync.yaml: routes[0].name: expected 1 to 64 letters, digits, "_", "-" or ".", starting with a letter or digit, got "has spaces"',
      'linq-sync.yaml: routes[0].slack.internalPrefix: must not be empty, got ""',
    ]);
  });

  it("rejects unknown keys everywhere, suggesting the closest known key", () => {
    const error = parseError(`
version: 1
rutes: []
routes:
  - name: sales
    crm: hubspot
    contact: two-way
    match: { linqNumber: ["+15550001111"] }
    slack: { chanel: C0SALES, channel: C0SALES, reactions: { heart: red_heart } }
    colour: blue
`);
    expect(problemLines(error)).toEqual([
      'linq-sync.yaml: unknown key "rutes" (did you mean "routes"?)',
      'linq-sync.yaml: routes[0]: unknown key "contact" (did you mean "contacts"?)',
      'linq-sync.yaml: routes[0].match: unknown key "linqNumber" (did you mean "linqNumbers"?)',
      'linq-sync.yaml: routes[0].slack: unknown key "chanel" (did you mean "channel"?)',
      'linq-sync.yaml: routes[0].slack.reactions: unknown key "heart"; allowed here: love, like, dislike, laugh, emphasize, question',
      'linq-sync.yaml: routes[0]: unknown key "colour"; allowed here: name, match, slack, crm, contacts, activities, hubspot, salesforce',
    ]);
    // Located at the unknown key itself.
    expect(error.problems[0]).toMatchObject({ line: 3, column: 1 });
    expect(error.problems[5]).toMatchObject({ line: 10, column: 5 });
  });

  it("suggests the closest value of a choice", () => {
    expect(problemLines(parseError("routes:\n  - name: a\n    crm: hubspt\n"))).toEqual([
      'linq-sync.yaml: routes[0].crm: expected one of hubspot | salesforce | none, got "hubspt" (did you mean "hubspot"?)',
    ]);
  });

  it("reports YAML syntax errors with the line and column", () => {
    const error = parseError("routes:\n  - name: sales\n    crm: [hubspot\n");
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]?.message).toMatch(/^YAML syntax error: /);
    expect(error.problems[0]?.line).toBeTypeOf("number");
    expect(error.problems[0]?.column).toBeTypeOf("number");
    expect(error.message).toMatch(/linq-sync\.yaml: YAML syntax error: .* \(line \d+, column \d+\)/);

    const duplicateKey = parseError("routes:\n  - name: a\n    name: b\n");
    expect(problemLines(duplicateKey)).toEqual([
      "linq-sync.yaml: YAML syntax error: Map keys must be unique",
    ]);
    expect(duplicateKey.problems[0]).toMatchObject({ line: 3, column: 5 });
  });

  it("supports anchors and merge keys, with shared blocks under top-level x- keys", () => {
    const config = parse(`
x-hubspot: &hubspot
  crm: hubspot
  contacts: linq-to-crm
  slack: &slack { channel: C0SALES, mode: alerts-only }
routes:
  - <<: *hubspot
    name: sales
    match: { linqNumbers: ["+15550001111"] }
  - <<: *hubspot
    name: support
    slack: { <<: *slack, channel: C0SUPPORT }
`);
    expect(
      config.routes.map((route) => [
        route.name,
        route.crm,
        route.contacts,
        route.slack?.channel,
        route.slack?.mode,
      ]),
    ).toEqual([
      ["sales", "hubspot", "linq-to-crm", "C0SALES", "alerts-only"],
      ["support", "hubspot", "linq-to-crm", "C0SUPPORT", "alerts-only"],
    ]);
  });
});

describe("environment variables in the routing file", () => {
  it("replaces ${NAME} and ${NAME:-default} in string values, and $${ stays literal", () => {
    const config = parse(
      `
routes:
  - name: \${ROUTE_NAME}
    slack: { channel: "\${SALES_CHANNEL:-C0FALLBACK}" }
    crm: hubspot
    hubspot:
      token: \${HUBSPOT_TOKEN}
      note: "cost $5, literal $\${NOT_A_VARIABLE}"
      region: "\${EMPTY:-eu1}"
      nested: ["\${HUBSPOT_TOKEN}-suffix"]
`,
      { ROUTE_NAME: "sales", HUBSPOT_TOKEN: "pat-123", EMPTY: "" },
    );
    const route = config.routes[0];
    expect(route?.name).toBe("sales");
    expect(route?.slack?.channel).toBe("C0FALLBACK");
    expect(route?.hubspot).toEqual({
      token: "pat-123",
      note: "cost $5, literal ${NOT_A_VARIABLE}",
      region: "eu1",
      nested: ["pat-123-suffix"],
    });
  });

  it("names the file, the path and the variable when a variable is not set", () => {
    const error = parseError(`
routes:
  - name: sales
    crm: hubspot
    hubspot: { token: "\${HUBSPOT_TOKEN}" }
    slack: { channel: "\${SALES_CHANNEL}" }
`);
    expect(problemLines(error)).toEqual([
      "linq-sync.yaml: routes[0].hubspot.token: environment variable HUBSPOT_TOKEN is not set (write ${HUBSPOT_TOKEN:-default} for a default)",
      "linq-sync.yaml: routes[0].slack.channel: environment variable SALES_CHANNEL is not set (write ${SALES_CHANNEL:-default} for a default)",
    ]);
    expect(error.problems[0]).toMatchObject({ line: 5, column: 23 });
  });

  it("rejects malformed references", () => {
    expect(
      problemLines(parseError('routes:\n  - name: a\n    hubspot: { x: "${1BAD}", y: "${OPEN" }\n')),
    ).toEqual([
      'linq-sync.yaml: routes[0].hubspot.x: invalid reference "${1BAD}": expected ${NAME} or ${NAME:-default} with NAME made of letters, digits and _',
      'linq-sync.yaml: routes[0].hubspot.y: unterminated "${" (write "$${" for a literal "${")',
    ]);
  });

  it("never echoes an interpolated value in an error", () => {
    const error = parseError(
      'routes:\n  - name: a\n    crm: "${CRM}"\n    slack: { channel: "${CHANNEL}" }\n',
      {
        CRM: "SECRET-CRM",
        CHANNEL: "SECRET-CHANNEL",
      },
    );
    expect(error.message).not.toContain("SECRET");
    expect(problemLines(error)).toEqual([
      "linq-sync.yaml: routes[0].crm: expected one of hubspot | salesforce | none, got the value of ${CRM}",
      expect.stringMatching(
        /^linq-sync\.yaml: routes\[0\]\.slack\.channel: expected a Slack channel ID .*, got the value of \$\{CHANNEL\}$/,
      ),
    ]);
  });
});

describe("warnings", () => {
  it("warns about routes that can never handle a conversation", () => {
    const config = parse(`
routes:
  - name: sales
    match: { linqNumbers: ["+15550001111"] }
  - name: duplicate-number
    match: { linqNumbers: ["(555) 000-1111", "+15550003333"] }
  - name: catch-all
  - name: after-catch-all
    match: { linqNumbers: ["+15550004444"] }
`);
    expect(config.warnings).toEqual([
      'linq-sync.yaml: routes[1] "duplicate-number": +15550001111 is already handled by routes[0] "sales"',
      'linq-sync.yaml: routes[3] "after-catch-all" never handles a conversation: routes[2] "catch-all" before it matches every number',
    ]);
  });
});

describe("routingJsonSchema", () => {
  it("matches the committed linq-sync.schema.json (run `node scripts/generate-routing-schema.ts`)", async () => {
    const committed: unknown = JSON.parse(await readFile(join(appRoot, "linq-sync.schema.json"), "utf8"));
    expect(committed).toEqual(routingJsonSchema());
  });

  it("describes the file for editors and lets constrained strings hold ${ENV_VAR}", () => {
    const schema = routingJsonSchema() as {
      $schema: string;
      required: string[];
      properties: { routes: { items: { properties: Record<string, Record<string, unknown>> } } };
    };
    expect(schema.$schema).toBe("http://json-schema.org/draft-07/schema#");
    expect(schema.required).toEqual(["routes"]);
    const route = schema.properties.routes.items.properties;
    expect(Object.keys(route)).toEqual([
      "name",
      "match",
      "slack",
      "crm",
      "contacts",
      "activities",
      "hubspot",
      "salesforce",
    ]);
    expect(route.crm).toMatchObject({
      default: "none",
      anyOf: [{ type: "string", enum: ["hubspot", "salesforce", "none"] }, { type: "string" }],
    });
    const alternatives = (route.crm?.anyOf ?? []) as { pattern?: string }[];
    const interpolation = new RegExp(alternatives[1]?.pattern ?? "^$");
    expect(interpolation.test("${CRM_PROVIDER}")).toBe(true);
    expect(interpolation.test("${CRM:-hubspot}")).toBe(true);
    expect(interpolation.test("hubspot")).toBe(false);
  });
});

describe("the example routing file", () => {
  it("declares its schema and parses", async () => {
    const text = await readFile(join(appRoot, "linq-sync.example.yaml"), "utf8");
    expect(text.split("\n")[0]).toBe("# yaml-language-server: $schema=./linq-sync.schema.json");
    const config = parseRoutingConfig(text, { fileName: "linq-sync.example.yaml", environment: {} });
    expect(config.warnings).toEqual([]);
    expect(config.routes.map((route) => [route.name, route.match.linqNumbers, route.crm])).toEqual([
      ["sales", ["+15550001111"], "hubspot"],
      ["support", ["+15550002222"], "salesforce"],
      ["everything-else", [], "none"],
    ]);
    expect(config.routes[0]?.slack?.channel).toBe("C0SALES");
    expect(config.routes[0]?.slack?.reactions.love).toBe("sparkling_heart");
    const withChannel = parseRoutingConfig(text, {
      fileName: "linq-sync.example.yaml",
      environment: { SLACK_SALES_CHANNEL: "C0FROMENV" },
    });
    expect(withChannel.routes[0]?.slack?.channel).toBe("C0FROMENV");
  });
});

describe("loadRoutingConfig", () => {
  const directories: string[] = [];
  afterEach(async () => {
    for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
  });
  async function temporaryDirectory(): Promise<string> {
    const directory = await mkdtemp(join(tmpdir(), "linq-sync-routing-"));
    directories.push(directory);
    return directory;
  }

  it("builds one default route from SLACK_DEFAULT_CHANNEL and CRM_PROVIDER when the default file is absent", async () => {
    const workingDirectory = await temporaryDirectory();
    const settings = loadSettings({ SLACK_DEFAULT_CHANNEL: "C0GENERAL", CRM_PROVIDER: "salesforce" });
    const config = await loadRoutingConfig({ settings, workingDirectory });
    expect(config).toEqual({
      version: 1,
      source: "environment",
      warnings: [],
      routes: [
        {
          name: "default",
          match: { linqNumbers: [] },
          slack: { channel: "C0GENERAL", ...defaultSlack },
          crm: "salesforce",
          contacts: "two-way",
          activities: "per-message",
        },
      ],
    });
  });

  it("builds a default route that forwards nothing, with a warning, from an empty environment", async () => {
    const config = await loadRoutingConfig({
      settings: loadSettings({}),
      workingDirectory: await temporaryDirectory(),
    });
    expect(config.routes).toEqual([
      { name: "default", match: { linqNumbers: [] }, crm: "none", contacts: "off", activities: "off" },
    ]);
    expect(config.warnings).toHaveLength(1);
    expect(
      defaultRoutingConfig({ slack: { defaultChannel: undefined }, crmProvider: "hubspot" }).routes[0],
    ).toEqual({
      name: "default",
      match: { linqNumbers: [] },
      crm: "hubspot",
      contacts: "two-way",
      activities: "per-message",
    });
  });

  it("reads the default file relative to the working directory", async () => {
    const workingDirectory = await temporaryDirectory();
    await writeFile(
      join(workingDirectory, "linq-sync.yaml"),
      "routes:\n  - name: from-file\n    slack:\n      channel: ${CHANNEL}\n",
    );
    const config = await loadRoutingConfig({
      settings: loadSettings({ SLACK_DEFAULT_CHANNEL: "C0IGNORED" }),
      environment: { CHANNEL: "C0FILE" },
      workingDirectory,
    });
    expect(config.source).toBe("file");
    expect(config.fileName).toBe("./linq-sync.yaml");
    expect(config.routes.map((route) => [route.name, route.slack?.channel])).toEqual([
      ["from-file", "C0FILE"],
    ]);
  });

  it("fails when the file SYNC_CONFIG names does not exist", async () => {
    const workingDirectory = await temporaryDirectory();
    const settings = loadSettings({ SYNC_CONFIG: "config/routes.yaml" });
    const attempt = loadRoutingConfig({ settings, workingDirectory });
    await expect(attempt).rejects.toBeInstanceOf(ConfigurationError);
    await expect(attempt).rejects.toThrow(
      `The routing file config/routes.yaml (SYNC_CONFIG) does not exist (looked at ${join(workingDirectory, "config/routes.yaml")})`,
    );
    await expect(
      loadRoutingConfig({ settings: loadSettings({}), path: "other.yaml", workingDirectory }),
    ).rejects.toThrow(/The routing file other\.yaml does not exist/);
    await mkdir(join(workingDirectory, "config", "routes.yaml"), { recursive: true });
    await expect(loadRoutingConfig({ settings, workingDirectory })).rejects.toThrow(/is a directory/);
  });

  it("names the configured path in validation errors", async () => {
    const workingDirectory = await temporaryDirectory();
    await mkdir(join(workingDirectory, "config"));
    await writeFile(
      join(workingDirectory, "config", "routes.yaml"),
      "routes:\n  - name: a\n    crm: pipedrive\n",
    );
    const attempt = loadRoutingConfig({
      settings: loadSettings({ SYNC_CONFIG: "config/routes.yaml" }),
      workingDirectory,
    });
    await expect(attempt).rejects.toBeInstanceOf(RoutingConfigurationError);
    await expect(attempt).rejects.toThrow(
      'config/routes.yaml: routes[0].crm: expected one of hubspot | salesforce | none, got "pipedrive" (line 3, column 10)',
    );
  });
});

describe("routingCredentialProblems", () => {
  const config = parse(`
routes:
  - name: sales
    match: { linqNumbers: ["+15550001111"] }
    slack: { channel: C0SALES }
    crm: hubspot
  - name: support
    slack: { channel: C0SUPPORT, mode: alerts-only }
    crm: salesforce
`);

  it("lists the credentials production routes need", () => {
    const settings = loadSettings({ LINQ_API_TOKEN: "t", LINQ_WEBHOOK_SECRET: "s" });
    expect(routingCredentialProblems(config, settings)).toEqual([
      'SLACK_BOT_TOKEN is required: route "sales", "support" mirrors to Slack',
      'SLACK_SIGNING_SECRET (HTTP events) or SLACK_APP_TOKEN (Socket Mode) is required: route "sales" sends Slack replies as texts',
      'HUBSPOT_ACCESS_TOKEN is required: route "sales" uses HubSpot',
      'Salesforce credentials are required: route "support" uses Salesforce (SALESFORCE_ACCESS_TOKEN, SALESFORCE_REFRESH_TOKEN or the JWT bearer flow)',
    ]);
    const complete = loadSettings({
      LINQ_API_TOKEN: "t",
      LINQ_WEBHOOK_SECRET: "s",
      SLACK_BOT_TOKEN: "xoxb-1",
      SLACK_APP_TOKEN: "xapp-1",
      HUBSPOT_ACCESS_TOKEN: "pat-1",
      SALESFORCE_REFRESH_TOKEN: "r",
      SALESFORCE_CLIENT_ID: "c",
    });
    expect(routingCredentialProblems(config, complete)).toEqual([]);
  });

  it("needs nothing in the sandbox, which uses simulators", () => {
    expect(routingCredentialProblems(config, loadSettings({}))).toEqual([]);
  });
});

describe("YAML hints", () => {
  it("explains that ${…} must be quoted inside a flow mapping", () => {
    const error = parseError("routes:\n  - name: a\n    slack: { channel: ${CHANNEL} }\n", {
      CHANNEL: "C0X",
    });
    expect(error.problems[0]?.message).toMatch(/^YAML syntax error: .*quote a value holding \$\{…\}/);
    expect(error.problems[0]?.line).toBe(3);
  });
});
