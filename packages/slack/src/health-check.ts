/**
 * `linq-sync doctor` for Slack: the token works, the app has the scopes the connector needs, and
 * every routed channel exists, is not archived and has the bot as a member. Each failed check says
 * how to fix it.
 */
import type { HealthCheckResult } from "@linq-connect/core";
import type { ResolvedSlackRoute } from "./settings.ts";
import type { SlackApi } from "./slack-api.ts";
import { slackErrorCode } from "./slack-errors.ts";

/** The bot scopes the connector uses (see slack-app-manifest.yaml). */
export const requiredBotScopes = [
  "chat:write",
  "channels:read",
  "groups:read",
  "channels:history",
  "groups:history",
  "reactions:read",
  "reactions:write",
  "files:read",
  "files:write",
  "commands",
] as const;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function checkSlackHealth(
  api: SlackApi,
  routes: readonly ResolvedSlackRoute[],
  signal: AbortSignal,
): Promise<HealthCheckResult[]> {
  const results: HealthCheckResult[] = [];
  let scopes: string[] | undefined;
  try {
    const auth = await api.call("auth.test", {}, { signal });
    scopes = (auth.response_metadata as { scopes?: string[] } | undefined)?.scopes;
    results.push({
      name: "slack: token",
      ok: true,
      detail: `bot ${String(auth.user ?? auth.user_id ?? "?")} in workspace ${String(auth.team ?? auth.team_id ?? "?")}`,
    });
  } catch (error) {
    results.push({
      name: "slack: token",
      ok: false,
      detail: describe(error),
      fix: "Set SLACK_BOT_TOKEN to the app's Bot User OAuth Token (OAuth & Permissions page, xoxb-…); reinstall the app if it was revoked",
    });
    return results;
  }
  if (scopes !== undefined) {
    const missing = requiredBotScopes.filter((scope) => !scopes.includes(scope));
    results.push(
      missing.length === 0
        ? { name: "slack: scopes", ok: true, detail: `all ${requiredBotScopes.length} needed scopes granted` }
        : {
            name: "slack: scopes",
            ok: false,
            detail: `missing ${missing.join(", ")}`,
            fix: "Add the scopes in the app's OAuth & Permissions page (or update it from packages/slack/slack-app-manifest.yaml) and reinstall the app",
          },
    );
  }
  const channels = new Map<string, string[]>();
  for (const route of routes) {
    channels.set(route.settings.channel, [...(channels.get(route.settings.channel) ?? []), route.name]);
  }
  for (const [channel, names] of channels) {
    const name = `slack: channel ${channel} (route ${names.join(", ")})`;
    try {
      const result = await api.call("conversations.info", { channel }, { channel, signal });
      const info = result.channel as
        | { name?: string; is_archived?: boolean; is_member?: boolean }
        | undefined;
      if (info?.is_archived === true) {
        results.push({
          name,
          ok: false,
          detail: `#${info.name ?? channel} is archived`,
          fix: "Unarchive the channel or point the route's slack.channel at another one",
        });
      } else if (info?.is_member === false) {
        results.push({
          name,
          ok: false,
          detail: `the bot is not a member of #${info.name ?? channel}`,
          fix: `Invite the bot: /invite @<bot name> in #${info.name ?? channel}`,
        });
      } else {
        results.push({ name, ok: true, detail: `#${info?.name ?? channel}: the bot is a member` });
      }
    } catch (error) {
      const code = slackErrorCode(error);
      results.push({
        name,
        ok: false,
        detail:
          code === "channel_not_found"
            ? "the channel does not exist or is private without the bot"
            : describe(error),
        fix:
          code === "channel_not_found"
            ? "Check the channel ID (channel details → About → Channel ID); for a private channel, invite the bot first"
            : "Check the app's scopes (channels:read, groups:read) and the token",
      });
    }
  }
  return results;
}
