/**
 * Settings of the Slack connector, validated with zod. A bad setting is a ConfigurationError that
 * names it and says what is expected; a token is never echoed.
 *
 * - `parseConnectorSettings`: the factory's scalar options (tokens, timeouts, limits);
 * - `parseRouteSettings`: a route's `slack` block (`context.route.settings` from the host, or a
 *   route passed to the factory), with the routing file's defaults.
 */
import { ConfigurationError, type RouteContext } from "@linq-connect/core";
import { z } from "zod";
import { createReactionEmojiMap, type LinqReactionType, type ReactionEmojiMap } from "./reaction-emoji.ts";

export type SlackRouteMode = "two-way" | "alerts-only";

/** A route's Slack settings after defaults. */
export interface SlackRouteSettings {
  /** The channel ID (C…/G…) conversations are mirrored to. */
  channel: string;
  /** Thread replies starting with this (case-insensitive) stay internal. Default "note:". */
  internalPrefix: string;
  /** "two-way": thread replies are texted to the customer; "alerts-only": never. */
  mode: SlackRouteMode;
  /** Linq reaction → Slack emoji, defaults merged in. */
  reactions: Partial<Record<LinqReactionType, string>>;
  /** Whether Linq typing indicators show in the thread. Default false. */
  postTypingIndicators: boolean;
}

/** A route as the routing file describes it (the host's `Route` has this shape). */
export interface SlackRouteDefinition {
  name: string;
  match: { linqNumbers: readonly string[] };
  /** Absent: the route does not mirror to Slack. */
  slack?: Partial<SlackRouteSettings> & { channel: string };
}

/** A resolved route: its name, numbers and Slack settings. */
export interface ResolvedSlackRoute {
  name: string;
  linqNumbers: readonly string[];
  settings: SlackRouteSettings;
  emoji: ReactionEmojiMap;
}

const channelPattern = /^[CGD][A-Z0-9]{2,}$/;
const emojiPattern = /^:?[a-z0-9_+'-]+(::skin-tone-[2-6])?:?$/;

const emojiName = z
  .string()
  .regex(emojiPattern, { error: 'expected a Slack emoji name such as "heart" or ":+1:"' })
  .transform((value) => value.replace(/^:|:$/g, ""));

const routeSettingsSchema = z.looseObject({
  channel: z.string().regex(channelPattern, {
    error: "expected a Slack channel ID such as C0123ABCD (public) or G0123ABCD (private), not a #name",
  }),
  internalPrefix: z.string().min(1, { error: "must not be empty" }).default("note:"),
  mode: z.enum(["two-way", "alerts-only"]).default("two-way"),
  reactions: z
    .object({
      love: emojiName.optional(),
      like: emojiName.optional(),
      dislike: emojiName.optional(),
      laugh: emojiName.optional(),
      emphasize: emojiName.optional(),
      question: emojiName.optional(),
    })
    .default({}),
  postTypingIndicators: z.boolean().default(false),
});

function describeIssues(error: z.ZodError, prefix: string): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const path = [prefix, ...issue.path.map(String)].filter((part) => part !== "").join(".");
      return `${path}: ${issue.message}`;
    })
    .join("; ");
}

/** Validates a route's Slack settings (`context.route.settings`). */
export function parseRouteSettings(settings: unknown, routeName: string): SlackRouteSettings {
  const result = routeSettingsSchema.safeParse(settings ?? {});
  if (!result.success) {
    throw new ConfigurationError(
      `Route ${JSON.stringify(routeName)} has invalid Slack settings: ${describeIssues(result.error, "slack")}`,
    );
  }
  const { channel, internalPrefix, mode, reactions, postTypingIndicators } = result.data;
  const overrides: Partial<Record<LinqReactionType, string>> = {};
  for (const [reaction, emoji] of Object.entries(reactions)) {
    if (emoji !== undefined) overrides[reaction as LinqReactionType] = emoji;
  }
  return { channel, internalPrefix, mode, reactions: overrides, postTypingIndicators };
}

/** A route context (from the host) resolved, or undefined when it has no Slack channel. */
export function resolveRouteContext(
  route: RouteContext | undefined,
  known: readonly ResolvedSlackRoute[],
): ResolvedSlackRoute | undefined {
  if (route === undefined) return undefined;
  if (route.settings.channel === undefined) return known.find((candidate) => candidate.name === route.name);
  const settings = parseRouteSettings(route.settings, route.name);
  const definition = known.find((candidate) => candidate.name === route.name);
  return {
    name: route.name,
    linqNumbers: definition?.linqNumbers ?? [],
    settings,
    emoji: createReactionEmojiMap(settings.reactions),
  };
}

/** The factory's routes, validated. */
export function resolveRouteDefinitions(
  routes: readonly SlackRouteDefinition[] | undefined,
): ResolvedSlackRoute[] {
  const resolved: ResolvedSlackRoute[] = [];
  for (const [index, route] of (routes ?? []).entries()) {
    if (route === null || typeof route !== "object" || typeof route.name !== "string") {
      throw new ConfigurationError(`routes[${index}] must be an object with a name`);
    }
    if (route.slack === undefined) continue;
    const settings = parseRouteSettings(route.slack, route.name);
    resolved.push({
      name: route.name,
      linqNumbers: [...(route.match?.linqNumbers ?? [])],
      settings,
      emoji: createReactionEmojiMap(settings.reactions),
    });
  }
  return resolved;
}

const positiveInteger = (name: string) =>
  z
    .number({ error: `${name} must be a number` })
    .int({ error: `${name} must be an integer` })
    .positive({
      error: `${name} must be positive`,
    });

const connectorSettingsSchema = z.object({
  botToken: z
    .string({ error: "botToken is required (SLACK_BOT_TOKEN, a bot token starting with xoxb-)" })
    .regex(/^xox[bpe]-\S+$/, { error: "botToken must be a Slack bot token starting with xoxb-" }),
  signingSecret: z
    .string({ error: "signingSecret must be a string" })
    .regex(/^\S{8,}$/, { error: "signingSecret must be the app's signing secret (Basic Information page)" })
    .optional(),
  appToken: z
    .string({ error: "appToken must be a string" })
    .regex(/^xapp-\S+$/, {
      error: "appToken must be an app-level token starting with xapp- (connections:write)",
    })
    .optional(),
  socketMode: z.boolean({ error: "socketMode must be true or false" }).optional(),
  apiUrl: z
    .url({ error: "apiUrl must be an absolute http(s) URL such as https://slack.com/api/" })
    .optional(),
  timeoutMs: positiveInteger("timeoutMs").optional(),
  maxAttachmentBytes: positiveInteger("maxAttachmentBytes").optional(),
  attachmentTimeoutMs: positiveInteger("attachmentTimeoutMs").optional(),
  contactNameTtlSeconds: z.number().nonnegative({ error: "contactNameTtlSeconds must be ≥ 0" }).optional(),
  smsCancelWindowSeconds: z.number().nonnegative({ error: "smsCancelWindowSeconds must be ≥ 0" }).optional(),
  readReceipts: z.enum(["reaction", "off"], { error: 'readReceipts must be "reaction" or "off"' }).optional(),
  readReceiptEmoji: emojiName.optional(),
  internalNoteEmoji: z.union([emojiName, z.literal(false)]).optional(),
  command: z
    .string()
    .regex(/^\/[a-z0-9_-]{1,31}$/, { error: 'command must look like "/linq"' })
    .optional(),
});

export type ParsedConnectorSettings = z.output<typeof connectorSettingsSchema>;

/** Validates the factory's scalar settings; the ConfigurationError names the setting, never its value. */
export function parseConnectorSettings(input: Record<string, unknown>): ParsedConnectorSettings {
  const result = connectorSettingsSchema.safeParse(input);
  if (!result.success) {
    throw new ConfigurationError(`Invalid Slack connector settings: ${describeIssues(result.error, "")}`);
  }
  const settings = result.data;
  if (settings.socketMode === true && settings.appToken === undefined) {
    throw new ConfigurationError(
      "socketMode needs appToken (SLACK_APP_TOKEN, an app-level token with connections:write)",
    );
  }
  return settings;
}
