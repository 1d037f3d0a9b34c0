// biome-ignore-all lint/suspicious/noTemplateCurlyInString: messages quote the file's ${ENV_VAR} syntax
/**
 * The routing file (YAML): which conversations go to which Slack channel and CRM.
 *
 * ```yaml
 * routes:
 *   - name: sales
 *     match: { linqNumbers: ["+15550001111"] }   # omitted: every number
 *     slack: { channel: C0SALES }                 # omitted: no Slack mirror
 *     crm: hubspot                                # hubspot | salesforce | none
 *     contacts: two-way                           # two-way | linq-to-crm | crm-to-linq | off
 *     activities: per-message                     # per-message | daily-digest | off
 * ```
 *
 * Top-level keys starting with `x-` are ignored: they hold blocks shared with YAML anchors
 * and merge keys (`x-hubspot: &hubspot {…}`, then `- <<: *hubspot`).
 *
 * Loading: YAML parse (syntax errors name the line and column) → `${ENV_VAR}` and
 * `${ENV_VAR:-default}` interpolation in string values → zod validation plus the rules
 * between fields → defaults. Every problem is reported at once, each naming the file,
 * the path in it (`routes[1].match.linqNumbers[0]`), what is wrong and where
 * (line, column). The first matching route wins (see src/routing/router.ts).
 *
 * Without a routing file at the default path, one route named "default" is built from
 * SLACK_DEFAULT_CHANNEL and CRM_PROVIDER.
 */
import { readFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import {
  ConfigurationError,
  InvalidPhoneNumberError,
  type LinqReactionType,
  linqReactionTypes,
  normalizePhoneNumber,
} from "@linq-connect/core";
import { type Document, isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { z } from "zod";
import {
  type CrmProvider,
  crmProviders,
  type ServiceSettings,
  slackChannelIdHint,
  slackChannelIdPattern,
} from "./environment.ts";
import { didYouMean } from "./suggestions.ts";

export type ContactSyncMode = "two-way" | "linq-to-crm" | "crm-to-linq" | "off";
export type ActivitySyncMode = "per-message" | "daily-digest" | "off";
export type SlackRouteMode = "two-way" | "alerts-only";

export const contactSyncModes = [
  "two-way",
  "linq-to-crm",
  "crm-to-linq",
  "off",
] as const satisfies readonly ContactSyncMode[];
export const activitySyncModes = [
  "per-message",
  "daily-digest",
  "off",
] as const satisfies readonly ActivitySyncMode[];
export const slackRouteModes = ["two-way", "alerts-only"] as const satisfies readonly SlackRouteMode[];

/** The Slack emoji each Linq reaction becomes unless a route says otherwise. */
export const defaultSlackReactions: Readonly<Record<LinqReactionType, string>> = {
  love: "heart",
  like: "+1",
  dislike: "-1",
  laugh: "joy",
  emphasize: "bangbang",
  question: "question",
};

export const defaultSlackInternalPrefix = "note:";

export interface SlackRouteSettings {
  /** Slack channel ID the conversations are mirrored to. */
  channel: string;
  /** Replies in the Slack thread starting with this stay internal (not sent to the customer). */
  internalPrefix: string;
  /** "two-way": replies in Slack are sent as texts; "alerts-only": Slack only shows the conversation. */
  mode: SlackRouteMode;
  /** Linq reaction → Slack emoji name (without colons), defaults merged in. */
  reactions: Record<LinqReactionType, string>;
  /** Whether Linq typing indicators are posted to Slack. */
  postTypingIndicators: boolean;
}

export interface Route {
  name: string;
  match: {
    /** E.164 Linq numbers this route handles; empty: every number. */
    linqNumbers: string[];
  };
  /** Absent: no Slack mirror. */
  slack?: SlackRouteSettings;
  crm: CrmProvider;
  contacts: ContactSyncMode;
  activities: ActivitySyncMode;
  /** Connector-specific settings, free-form until the HubSpot connector defines them. */
  hubspot?: Record<string, unknown>;
  /** Connector-specific settings, free-form until the Salesforce connector defines them. */
  salesforce?: Record<string, unknown>;
}

export interface RoutingConfig {
  version: 1;
  /** In file order: the first matching route wins. */
  routes: Route[];
  /** "file": read from `fileName`; "environment": the default route built from SLACK_DEFAULT_CHANNEL and CRM_PROVIDER. */
  source: "file" | "environment";
  fileName?: string;
  /** Things that are valid but probably not what was meant (an unreachable route, …). */
  warnings: string[];
}

// ---------------------------------------------------------------------------------------------
// The file schema (input side: the JSON Schema for editors is generated from it)

const routeNamePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const emojiNamePattern = /^:?[a-z0-9_+'-]+:?$/;

const emojiSchema = z
  .string()
  .regex(emojiNamePattern, {
    error: 'expected a Slack emoji name such as "heart" or ":+1:" (lower-case letters, digits, _ + - \')',
  })
  .transform((value) => value.replace(/^:|:$/g, ""));

function reactionEmoji(reaction: LinqReactionType) {
  return emojiSchema
    .optional()
    .describe(`Slack emoji for a "${reaction}" reaction (default ${defaultSlackReactions[reaction]}).`);
}

const reactionsSchema = z
  .strictObject({
    love: reactionEmoji("love"),
    like: reactionEmoji("like"),
    dislike: reactionEmoji("dislike"),
    laugh: reactionEmoji("laugh"),
    emphasize: reactionEmoji("emphasize"),
    question: reactionEmoji("question"),
  } satisfies Record<LinqReactionType, unknown>)
  .describe("Linq reaction → Slack emoji name; unlisted reactions keep their defaults.");

const slackSchema = z
  .strictObject({
    channel: z
      .string()
      .regex(slackChannelIdPattern, { error: `expected ${slackChannelIdHint}` })
      .describe("Slack channel ID (C…/G…) the conversations are mirrored to, one thread per chat."),
    internalPrefix: z
      .string()
      .min(1, { error: "must not be empty" })
      .default(defaultSlackInternalPrefix)
      .describe("Thread replies starting with this stay internal and are not texted to the customer."),
    mode: z
      .enum(slackRouteModes)
      .default("two-way")
      .describe("two-way: thread replies are sent as texts; alerts-only: Slack only shows the conversation."),
    reactions: reactionsSchema.optional(),
    postTypingIndicators: z
      .boolean()
      .default(false)
      .describe("Post the customer's typing indicators to the Slack thread."),
  })
  .describe("Mirror the conversations to Slack. Omitted: no Slack mirror.");

const linqNumberSchema = z
  .string()
  .transform((value, context) => {
    try {
      return normalizePhoneNumber(value);
    } catch (error) {
      if (!(error instanceof InvalidPhoneNumberError)) throw error;
      context.addIssue({ code: "custom", message: error.message });
      return z.NEVER;
    }
  })
  .describe("A Linq number of your organisation, normalised to E.164 (+15550001111).");

const matchSchema = z
  .strictObject({
    linqNumbers: z
      .array(linqNumberSchema)
      .optional()
      .describe("The Linq numbers whose conversations this route handles. Omitted or empty: every number."),
  })
  .describe("Which conversations the route handles. Omitted: every conversation.");

const connectorSettingsSchema = z.record(z.string(), z.unknown());

const routeSchema = z
  .strictObject({
    name: z
      .string()
      .regex(routeNamePattern, {
        error: 'expected 1 to 64 letters, digits, "_", "-" or ".", starting with a letter or digit',
      })
      .describe("Unique name of the route (logs, metrics, `linq-sync doctor`)."),
    match: matchSchema.optional(),
    slack: slackSchema.optional(),
    crm: z.enum(crmProviders).default("none").describe("The CRM of these conversations."),
    contacts: z
      .enum(contactSyncModes)
      .optional()
      .describe("Contact sync between Linq and the CRM. Default: two-way with a CRM, else off."),
    activities: z
      .enum(activitySyncModes)
      .optional()
      .describe("Messages and calls logged on the CRM record. Default: per-message with a CRM, else off."),
    hubspot: connectorSettingsSchema.optional().describe("HubSpot connector settings for this route."),
    salesforce: connectorSettingsSchema.optional().describe("Salesforce connector settings for this route."),
  })
  .describe("A route: conversations it matches and where they go. The first matching route wins.");

/** The routing file as written (before defaults). */
export const routingFileSchema = z
  .strictObject({
    version: z.literal(1).default(1).describe("Version of the routing file format."),
    routes: z
      .array(routeSchema)
      .min(1, { error: "expected at least one route" })
      .describe("Routes in order: the first route matching a conversation handles it."),
  })
  .meta({
    title: "linq-sync routing file",
    description:
      "Routes Linq conversations to Slack channels and CRMs. String values may use ${ENV_VAR} or ${ENV_VAR:-default}.",
  });

type ParsedRoutingFile = z.output<typeof routingFileSchema>;
type ParsedRoute = ParsedRoutingFile["routes"][number];

/** A string holding a `${ENV_VAR}` reference, replaced when the file is loaded. */
const interpolationJsonSchema = {
  type: "string",
  pattern: "\\$\\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\\}",
};

/**
 * The JSON Schema (draft-07) of the routing file for editors, from the zod schema
 * (before defaults). Constrained strings also accept `${ENV_VAR}` references.
 */
export function routingJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(routingFileSchema, {
    io: "input",
    target: "draft-7",
    override: (context) => {
      const json = context.jsonSchema as Record<string, unknown>;
      if (context.zodSchema === routingFileSchema) {
        json.patternProperties = { [extensionKeyPattern.source]: {} };
        return;
      }
      const constrainedString =
        json.type === "string" && (typeof json.pattern === "string" || Array.isArray(json.enum));
      if (!constrainedString) return;
      const { description, default: defaultValue, title, ...constraint } = json;
      for (const key of Object.keys(json)) delete json[key];
      if (title !== undefined) json.title = title;
      if (description !== undefined) json.description = description;
      if (defaultValue !== undefined) json.default = defaultValue;
      json.anyOf = [constraint, interpolationJsonSchema];
    },
  }) as Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------
// Errors

export interface RoutingProblem {
  /** The path in the file, e.g. "routes[1].match.linqNumbers[0]"; "" for the whole file. */
  path: string;
  message: string;
  /** 1-based position in the file, when known. */
  line?: number;
  column?: number;
}

/** An unusable routing file: every problem at once, each naming the file, the path and what is wrong. */
export class RoutingConfigurationError extends ConfigurationError {
  readonly fileName: string;
  readonly problems: readonly RoutingProblem[];

  constructor(fileName: string, problems: readonly RoutingProblem[]) {
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    super(
      `Invalid routing file ${fileName} (${count}):\n${problems
        .map((problem) => `  ${formatRoutingProblem(fileName, problem)}`)
        .join("\n")}`,
    );
    this.fileName = fileName;
    this.problems = problems;
  }
}

/** `linq-sync.yaml: routes[1].crm: expected one of … (line 9, column 10)`. */
export function formatRoutingProblem(fileName: string, problem: RoutingProblem): string {
  const where = problem.path === "" ? "" : `${problem.path}: `;
  const position =
    problem.line === undefined
      ? ""
      : ` (line ${problem.line}${problem.column === undefined ? "" : `, column ${problem.column}`})`;
  return `${fileName}: ${where}${problem.message}${position}`;
}

type PathSegment = string | number;

/** Top-level keys ignored by validation: blocks shared with YAML anchors (`x-defaults: &defaults`). */
const extensionKeyPattern = /^x-/;

/** ["routes", 1, "match"] → "routes[1].match". */
export function formatPath(path: readonly PropertyKey[]): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else if (typeof segment === "string" && /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(segment)) {
      text += text === "" ? segment : `.${segment}`;
    } else text += `[${JSON.stringify(String(segment))}]`;
  }
  return text;
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string")
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return String(value);
}

const expectedTypeNames: Record<string, string> = {
  object: "a mapping",
  array: "a list",
  string: "a string",
  boolean: "true or false",
  number: "a number",
  record: "a mapping",
};

// ---------------------------------------------------------------------------------------------
// YAML: positions and source text

class YamlSource {
  readonly document: Document.Parsed;
  readonly lineCounter: LineCounter;

  constructor(document: Document.Parsed, lineCounter: LineCounter) {
    this.document = document;
    this.lineCounter = lineCounter;
  }

  /** The node at `path`, or the deepest ancestor that exists. `key: true` gives a map key's node. */
  nodeAt(path: readonly PathSegment[], options: { key?: string } = {}): Node | undefined {
    let node: unknown = this.document.contents;
    for (const segment of options.key === undefined ? path : [...path, options.key]) {
      const isLast = options.key !== undefined && segment === options.key;
      if (isAlias(node)) node = node.resolve(this.document);
      if (isMap(node)) {
        const pair = node.items.find(
          (item) => isScalar(item.key) && String(item.key.value) === String(segment),
        );
        if (pair === undefined) break;
        node = isLast ? pair.key : (pair.value ?? pair.key);
      } else if (isSeq(node) && typeof segment === "number") {
        const item = node.items[segment];
        if (item === undefined) break;
        node = item;
      } else break;
    }
    return node as Node | undefined;
  }

  position(path: readonly PathSegment[], options: { key?: string } = {}): { line?: number; column?: number } {
    const range = this.nodeAt(path, options)?.range;
    if (range === undefined || range === null) return {};
    const { line, col } = this.lineCounter.linePos(range[0]);
    return { line, column: col };
  }

  /** The scalar's text as written (for a number written where text was meant, e.g. +15550001111). */
  sourceText(path: readonly PathSegment[]): string | undefined {
    const node = this.nodeAt(path);
    return isScalar(node) && typeof node.source === "string" ? node.source : undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Interpolation

const variableNamePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;

interface InterpolationResult {
  value: unknown;
  problems: { path: PathSegment[]; message: string }[];
  /** Path text → the variables its value came from (their values are never echoed in errors). */
  interpolatedPaths: Map<string, string[]>;
}

function interpolateString(
  text: string,
  environment: NodeJS.ProcessEnv,
): { value: string; variables: string[]; problems: string[] } {
  const variables: string[] = [];
  const problems: string[] = [];
  let output = "";
  let index = 0;
  while (index < text.length) {
    const dollar = text.indexOf("$", index);
    if (dollar === -1) {
      output += text.slice(index);
      break;
    }
    output += text.slice(index, dollar);
    if (text.startsWith("$${", dollar)) {
      output += "${";
      index = dollar + 3;
      continue;
    }
    if (!text.startsWith("${", dollar)) {
      output += "$";
      index = dollar + 1;
      continue;
    }
    const end = text.indexOf("}", dollar + 2);
    if (end === -1) {
      problems.push(`unterminated "\${" (write "$\${" for a literal "\${")`);
      output += text.slice(dollar);
      break;
    }
    const reference = text.slice(dollar + 2, end);
    const separator = reference.indexOf(":-");
    const name = separator === -1 ? reference : reference.slice(0, separator);
    const fallback = separator === -1 ? undefined : reference.slice(separator + 2);
    if (!variableNamePattern.test(name)) {
      problems.push(
        `invalid reference "\${${reference}}": expected \${NAME} or \${NAME:-default} with NAME made of letters, digits and _`,
      );
    } else {
      variables.push(name);
      const value = environment[name];
      if (fallback !== undefined && (value === undefined || value === "")) output += fallback;
      else if (value === undefined) {
        problems.push(`environment variable ${name} is not set (write \${${name}:-default} for a default)`);
      } else output += value;
    }
    index = end + 1;
  }
  return { value: output, variables, problems };
}

function interpolate(root: unknown, environment: NodeJS.ProcessEnv): InterpolationResult {
  const result: InterpolationResult = { value: undefined, problems: [], interpolatedPaths: new Map() };
  const visit = (value: unknown, path: PathSegment[]): unknown => {
    if (typeof value === "string") {
      if (!value.includes("$")) return value;
      const interpolated = interpolateString(value, environment);
      for (const message of interpolated.problems) result.problems.push({ path, message });
      if (interpolated.variables.length > 0)
        result.interpolatedPaths.set(formatPath(path), interpolated.variables);
      return interpolated.value;
    }
    if (Array.isArray(value)) return value.map((item, index) => visit(item, [...path, index]));
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(
        Object.entries(value).map(([key, item]) => [key, visit(item, [...path, key])]),
      );
    }
    return value;
  };
  result.value = visit(root, []);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Validation

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const segment of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The keys a strict object accepts at `path` of the file schema (for "did you mean"). */
function knownKeysAt(path: readonly PropertyKey[]): string[] {
  let schema: z.ZodType = routingFileSchema;
  const unwrap = (candidate: z.ZodType): z.ZodType => {
    let current = candidate;
    for (;;) {
      if (current instanceof z.ZodOptional || current instanceof z.ZodDefault) {
        current = current.unwrap() as z.ZodType;
      } else if (current instanceof z.ZodPipe) {
        current = current.in as z.ZodType;
      } else return current;
    }
  };
  for (const segment of path) {
    schema = unwrap(schema);
    if (schema instanceof z.ZodObject && typeof segment === "string") {
      const next = (schema.shape as Record<string, z.ZodType>)[segment];
      if (next === undefined) return [];
      schema = next;
    } else if (schema instanceof z.ZodArray && typeof segment === "number") {
      schema = schema.element as z.ZodType;
    } else return [];
  }
  schema = unwrap(schema);
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

interface PendingProblem {
  path: PathSegment[];
  message: string;
  /** For an unknown key: position at the key rather than at the mapping. */
  key?: string;
}

function schemaProblems(
  issues: readonly z.core.$ZodIssue[],
  document: unknown,
  interpolatedPaths: Map<string, string[]>,
): PendingProblem[] {
  const problems: PendingProblem[] = [];
  for (const issue of issues) {
    const path = issue.path.filter(
      (segment): segment is PathSegment => typeof segment === "string" || typeof segment === "number",
    );
    const value = valueAt(document, path);
    const variables = interpolatedPaths.get(formatPath(path));
    const got =
      variables === undefined
        ? `got ${describeValue(value)}`
        : `got the value of ${variables.map((name) => `\${${name}}`).join(", ")}`;
    switch (issue.code) {
      case "invalid_type":
        problems.push({
          path,
          message:
            value === undefined
              ? "required"
              : `expected ${expectedTypeNames[issue.expected] ?? issue.expected}, ${got}`,
        });
        break;
      case "invalid_value": {
        const choices = issue.values.map((choice) => String(choice));
        const expected = choices.length === 1 ? choices[0] : `one of ${choices.join(" | ")}`;
        const suggestion = typeof value === "string" ? didYouMean(value, choices) : "";
        problems.push({ path, message: `expected ${expected}, ${got}${suggestion}` });
        break;
      }
      case "unrecognized_keys": {
        const known = knownKeysAt(path);
        for (const key of issue.keys) {
          const suggestion = didYouMean(key, known);
          problems.push({
            path,
            key,
            message:
              suggestion !== ""
                ? `unknown key ${JSON.stringify(key)}${suggestion}`
                : `unknown key ${JSON.stringify(key)}; allowed here: ${known.join(", ")}`,
          });
        }
        break;
      }
      case "invalid_format":
      case "too_big":
      case "too_small":
        problems.push({
          path,
          message: typeof value === "string" ? `${issue.message}, ${got}` : issue.message,
        });
        break;
      default:
        problems.push({ path, message: issue.message });
    }
  }
  return problems;
}

/** The rules between fields, checked on the raw document so that they are reported with everything else. */
function crossFieldProblems(document: unknown): PendingProblem[] {
  const problems: PendingProblem[] = [];
  if (!isRecord(document) || !Array.isArray(document.routes)) return problems;
  const seenNames = new Map<string, number>();
  document.routes.forEach((route: unknown, index) => {
    if (!isRecord(route)) return;
    if (typeof route.name === "string") {
      const folded = route.name.toLowerCase();
      const first = seenNames.get(folded);
      if (first === undefined) seenNames.set(folded, index);
      else {
        problems.push({
          path: ["routes", index, "name"],
          message: `duplicate route name ${JSON.stringify(route.name)} (routes[${first}] has it already; names must be unique, case-insensitively)`,
        });
      }
    }
    if (route.crm === undefined || route.crm === "none") {
      for (const field of ["contacts", "activities"] as const) {
        const mode = route[field];
        if (typeof mode === "string" && mode !== "off") {
          problems.push({
            path: ["routes", index, field],
            message: `${JSON.stringify(mode)} needs a CRM: set crm to hubspot or salesforce, or ${field} to off`,
          });
        }
      }
    }
  });
  return problems;
}

/** Numbers written unquoted (+15550001111) are YAML integers: take their text as written. */
function restoreNumberText(document: unknown, source: YamlSource): void {
  if (!isRecord(document) || !Array.isArray(document.routes)) return;
  document.routes.forEach((route: unknown, routeIndex) => {
    if (!isRecord(route) || !isRecord(route.match) || !Array.isArray(route.match.linqNumbers)) return;
    const numbers = route.match.linqNumbers as unknown[];
    numbers.forEach((value, numberIndex) => {
      if (typeof value !== "number") return;
      const text = source.sourceText(["routes", routeIndex, "match", "linqNumbers", numberIndex]);
      numbers[numberIndex] = text ?? String(value);
    });
  });
}

function comparePaths(first: readonly PathSegment[], second: readonly PathSegment[]): number {
  for (let index = 0; index < Math.min(first.length, second.length); index += 1) {
    const a = first[index];
    const b = second[index];
    if (a === b) continue;
    if (typeof a === "number" && typeof b === "number") return a - b;
    return 0;
  }
  return first.length - second.length;
}

function toRoute(parsed: ParsedRoute): Route {
  const crm = parsed.crm;
  const route: Route = {
    name: parsed.name,
    match: { linqNumbers: [...new Set(parsed.match?.linqNumbers ?? [])] },
    crm,
    contacts: parsed.contacts ?? (crm === "none" ? "off" : "two-way"),
    activities: parsed.activities ?? (crm === "none" ? "off" : "per-message"),
  };
  if (parsed.slack !== undefined) {
    const reactions = { ...defaultSlackReactions };
    for (const reaction of linqReactionTypes) {
      const emoji = parsed.slack.reactions?.[reaction];
      if (emoji !== undefined) reactions[reaction] = emoji;
    }
    route.slack = {
      channel: parsed.slack.channel,
      internalPrefix: parsed.slack.internalPrefix,
      mode: parsed.slack.mode,
      reactions,
      postTypingIndicators: parsed.slack.postTypingIndicators,
    };
  }
  if (parsed.hubspot !== undefined) route.hubspot = parsed.hubspot;
  if (parsed.salesforce !== undefined) route.salesforce = parsed.salesforce;
  return route;
}

/** Valid but suspicious: routes that can never match a conversation, settings for another CRM. */
export function routingWarnings(routes: readonly Route[]): string[] {
  const warnings: string[] = [];
  const label = (index: number) => `routes[${index}] ${JSON.stringify(routes[index]?.name)}`;
  const claimedBy = new Map<string, number>();
  let catchAll: number | undefined;
  routes.forEach((route, index) => {
    if (catchAll !== undefined) {
      warnings.push(
        `${label(index)} never handles a conversation: ${label(catchAll)} before it matches every number`,
      );
    } else if (route.match.linqNumbers.length === 0) {
      catchAll = index;
    } else {
      for (const number of route.match.linqNumbers) {
        const earlier = claimedBy.get(number);
        if (earlier === undefined) claimedBy.set(number, index);
        else warnings.push(`${label(index)}: ${number} is already handled by ${label(earlier)}`);
      }
    }
    for (const provider of ["hubspot", "salesforce"] as const) {
      if (route[provider] !== undefined && route.crm !== provider) {
        warnings.push(`${label(index)}: the ${provider} settings are ignored because crm is ${route.crm}`);
      }
    }
  });
  return warnings;
}

export interface ParseRoutingConfigOptions {
  /** Named in every error message. */
  fileName: string;
  /** For `${ENV_VAR}` interpolation (default: process.env). */
  environment?: NodeJS.ProcessEnv;
}

/**
 * Parses and validates the text of a routing file.
 *
 * @throws RoutingConfigurationError (a ConfigurationError) listing every problem.
 */
export function parseRoutingConfig(text: string, options: ParseRoutingConfigOptions): RoutingConfig {
  const { fileName } = options;
  const environment = options.environment ?? process.env;
  const content = text.replace(/^\uFEFF/, "");
  const lineCounter = new LineCounter();
  const document = parseDocument(content, {
    lineCounter,
    merge: true,
    prettyErrors: false,
    uniqueKeys: true,
  });
  const position = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  if (document.errors.length > 0) {
    const lines = content.split(/\r?\n/);
    throw new RoutingConfigurationError(
      fileName,
      dedupe(
        document.errors.map((error) => {
          const at = position(error.pos[0]);
          const hint = /[[{].*\$\{/.test(lines[at.line - 1] ?? "")
            ? ' (inside { } or [ ], quote a value holding ${…}: "${NAME}")'
            : "";
          return {
            path: "",
            message: `YAML syntax error: ${error.message.split("\n")[0]?.replace(/ at line \d+, column \d+:?$/, "")}${hint}`,
            ...at,
          };
        }),
      ),
    );
  }
  const source = new YamlSource(document, lineCounter);
  let raw: unknown;
  try {
    raw = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new RoutingConfigurationError(fileName, [
      { path: "", message: `YAML error: ${error instanceof Error ? error.message : String(error)}` },
    ]);
  }
  if (raw === null || raw === undefined) {
    throw new RoutingConfigurationError(fileName, [
      { path: "", message: 'the file is empty: expected a mapping with a "routes" list' },
    ]);
  }
  if (!isRecord(raw)) {
    throw new RoutingConfigurationError(fileName, [
      {
        path: "",
        message: `expected a mapping with a "routes" list, got ${describeValue(raw)}`,
        ...source.position([]),
      },
    ]);
  }
  restoreNumberText(raw, source);
  // Top-level x- keys hold shared blocks for YAML anchors (as in compose files); they are not settings.
  const settingsOnly = Object.fromEntries(
    Object.entries(raw).filter(([key]) => !extensionKeyPattern.test(key)),
  );
  const interpolated = interpolate(settingsOnly, environment);
  const pending: PendingProblem[] = [...interpolated.problems];
  const result = routingFileSchema.safeParse(interpolated.value);
  if (!result.success) {
    pending.push(...schemaProblems(result.error.issues, interpolated.value, interpolated.interpolatedPaths));
  }
  pending.push(...crossFieldProblems(interpolated.value));
  if (pending.length > 0 || !result.success) {
    // A value whose interpolation failed is not validated further: one problem per mistake.
    const failedInterpolations = new Set(interpolated.problems.map((problem) => formatPath(problem.path)));
    const located = pending
      .filter(
        (problem) =>
          interpolated.problems.includes(problem) || !failedInterpolations.has(formatPath(problem.path)),
      )
      .map((problem) => ({
        segments: problem.path,
        problem: {
          path: formatPath(problem.path),
          message: problem.message,
          ...source.position(problem.path, problem.key === undefined ? {} : { key: problem.key }),
        } satisfies RoutingProblem,
      }));
    located.sort(
      (first, second) =>
        (first.problem.line ?? 0) - (second.problem.line ?? 0) ||
        (first.problem.column ?? 0) - (second.problem.column ?? 0) ||
        comparePaths(first.segments, second.segments),
    );
    throw new RoutingConfigurationError(fileName, dedupe(located.map((entry) => entry.problem)));
  }
  const routes = result.data.routes.map(toRoute);
  return {
    version: result.data.version,
    routes,
    source: "file",
    fileName,
    warnings: [
      ...document.warnings.map((warning) => `${fileName}: ${warning.message.split("\n")[0]}`),
      ...routingWarnings(routes).map((warning) => `${fileName}: ${warning}`),
    ],
  };
}

function dedupe(problems: RoutingProblem[]): RoutingProblem[] {
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const key = `${problem.path}\u0000${problem.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The settings the default route and the file lookup need. */
export interface RoutingSettings {
  routingFile: ServiceSettings["routingFile"];
  slack: Pick<ServiceSettings["slack"], "defaultChannel">;
  crmProvider: CrmProvider;
}

/** One route named "default" for every number, from SLACK_DEFAULT_CHANNEL and CRM_PROVIDER. */
export function defaultRoutingConfig(settings: Omit<RoutingSettings, "routingFile">): RoutingConfig {
  const crm = settings.crmProvider;
  const route: Route = {
    name: "default",
    match: { linqNumbers: [] },
    crm,
    contacts: crm === "none" ? "off" : "two-way",
    activities: crm === "none" ? "off" : "per-message",
  };
  if (settings.slack.defaultChannel !== undefined) {
    route.slack = {
      channel: settings.slack.defaultChannel,
      internalPrefix: defaultSlackInternalPrefix,
      mode: "two-way",
      reactions: { ...defaultSlackReactions },
      postTypingIndicators: false,
    };
  }
  const warnings =
    route.slack === undefined && crm === "none"
      ? [
          "no routing file, SLACK_DEFAULT_CHANNEL or CRM_PROVIDER: events are stored but not forwarded anywhere",
        ]
      : [];
  return { version: 1, routes: [route], source: "environment", warnings };
}

export interface LoadRoutingConfigOptions {
  settings: RoutingSettings;
  /**
   * The routing file, overriding `settings.routingFile.path`. A path given here is
   * explicit: a missing file is an error (e.g. `linq-sync config validate --file x.yaml`).
   */
  path?: string;
  /** For `${ENV_VAR}` interpolation (default: process.env). */
  environment?: NodeJS.ProcessEnv;
  /** Relative paths are resolved against it (default: process.cwd()). */
  workingDirectory?: string;
}

/**
 * Loads the routing file. Without a file at the default path (SYNC_CONFIG unset), builds
 * the default route from the environment.
 *
 * @throws RoutingConfigurationError for an invalid file; ConfigurationError for an explicitly
 *   configured file that does not exist or cannot be read.
 */
export async function loadRoutingConfig(options: LoadRoutingConfigOptions): Promise<RoutingConfig> {
  const path = options.path ?? options.settings.routingFile.path;
  const isExplicit = options.path !== undefined || options.settings.routingFile.isExplicit;
  const absolutePath = isAbsolute(path) ? path : resolve(options.workingDirectory ?? process.cwd(), path);
  let text: string;
  try {
    text = await readFile(absolutePath, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && !isExplicit) return defaultRoutingConfig(options.settings);
    const origin = options.path !== undefined ? "" : " (SYNC_CONFIG)";
    const reason =
      code === "ENOENT"
        ? "does not exist"
        : code === "EISDIR"
          ? "is a directory"
          : `cannot be read (${code ?? String(error)})`;
    throw new ConfigurationError(`The routing file ${path}${origin} ${reason} (looked at ${absolutePath})`, {
      cause: error,
    });
  }
  const config = parseRoutingConfig(text, {
    fileName: path,
    ...(options.environment === undefined ? {} : { environment: options.environment }),
  });
  return config;
}

/**
 * What the routes need that the settings lack, in production (the sandbox uses simulators):
 * a Slack bot token for a Slack mirror, a way to receive Slack replies for two-way routes,
 * HubSpot and Salesforce credentials for their routes. Empty when everything is there.
 */
export function routingCredentialProblems(config: RoutingConfig, settings: ServiceSettings): string[] {
  if (settings.mode === "sandbox") return [];
  const problems: string[] = [];
  const routesWith = (predicate: (route: Route) => boolean) =>
    config.routes
      .filter(predicate)
      .map((route) => JSON.stringify(route.name))
      .join(", ");
  const slackRoutes = routesWith((route) => route.slack !== undefined);
  if (slackRoutes !== "" && settings.slack.botToken === undefined) {
    problems.push(`SLACK_BOT_TOKEN is required: route ${slackRoutes} mirrors to Slack`);
  }
  const twoWaySlackRoutes = routesWith((route) => route.slack?.mode === "two-way");
  if (
    twoWaySlackRoutes !== "" &&
    settings.slack.signingSecret === undefined &&
    settings.slack.appToken === undefined
  ) {
    problems.push(
      `SLACK_SIGNING_SECRET (HTTP events) or SLACK_APP_TOKEN (Socket Mode) is required: route ${twoWaySlackRoutes} sends Slack replies as texts`,
    );
  }
  const hubspotRoutes = routesWith((route) => route.crm === "hubspot");
  if (hubspotRoutes !== "" && settings.hubspot.accessToken === undefined) {
    problems.push(`HUBSPOT_ACCESS_TOKEN is required: route ${hubspotRoutes} uses HubSpot`);
  }
  const salesforceRoutes = routesWith((route) => route.crm === "salesforce");
  const salesforce = settings.salesforce;
  const canAuthenticate =
    salesforce.accessToken !== undefined ||
    salesforce.refreshToken !== undefined ||
    (salesforce.privateKey !== undefined && salesforce.username !== undefined);
  if (salesforceRoutes !== "" && !canAuthenticate) {
    problems.push(
      `Salesforce credentials are required: route ${salesforceRoutes} uses Salesforce (SALESFORCE_ACCESS_TOKEN, SALESFORCE_REFRESH_TOKEN or the JWT bearer flow)`,
    );
  }
  return problems;
}
