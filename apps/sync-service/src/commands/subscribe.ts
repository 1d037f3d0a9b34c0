/**
 * `linq-sync subscribe`: idempotently ensures the Linq webhook subscription of this service.
 *
 * - No subscription for `PUBLIC_URL/webhooks/linq`: one is created (every event type, the secret, active).
 * - One or more: the oldest is updated (PUT) with every event type, active, and the secret, which is
 *   always sent because Linq never returns it (so a rotated LINQ_WEBHOOK_SECRET takes effect).
 *   The others are duplicates that double every delivery: reported, and deleted with `--remove-duplicates`.
 * - `--dry-run` lists what would be done and changes nothing.
 * Subscriptions for other URLs are left as they are.
 */
import type { WebhookSubscription } from "@linq-connect/core";
import { ConfigurationError } from "@linq-connect/core";
import { loadSettings, requirePublicUrl } from "../config/environment.ts";
import { type CommandContext, commandLinqClient, plural, printLine } from "./command-context.ts";
import {
  linqWebhookUrl,
  missingEventTypes,
  nearMatches,
  subscribedEventTypes,
  subscriptionsFor,
} from "./webhook-subscription.ts";

export interface SubscribeOptions {
  dryRun?: boolean | undefined;
  removeDuplicates?: boolean | undefined;
}

export type SubscribeOutcome = "created" | "updated";

export interface SubscribeResult {
  outcome: SubscribeOutcome;
  /** The subscription kept (undefined on a dry run that would create one). */
  subscriptionId: number | undefined;
  /** Other subscriptions with the same URL. */
  duplicateIds: number[];
  /** Those deleted by this run. */
  removedIds: number[];
}

function describeChanges(subscription: WebhookSubscription): string[] {
  const changes: string[] = [];
  if (subscription.active !== true) changes.push("re-activate it");
  const missing = missingEventTypes(subscription);
  if (missing.length > 0) changes.push(`add the events ${missing.join(", ")}`);
  if (subscription.secret_configured !== true) changes.push("set its signing secret (it had none)");
  else changes.push("re-send the signing secret (Linq never shows it, so it is always sent)");
  return changes;
}

export async function runSubscribe(context: CommandContext, options: SubscribeOptions = {}): Promise<number> {
  await subscribe(context, options);
  return 0;
}

export async function subscribe(
  context: CommandContext,
  options: SubscribeOptions = {},
): Promise<SubscribeResult> {
  const settings = loadSettings(context.environment);
  const linq = commandLinqClient(settings, "`linq-sync subscribe`");
  try {
    const url = linqWebhookUrl(requirePublicUrl(settings, "to subscribe to Linq webhooks"));
    const secret = settings.linq.webhookSecret;
    if (secret === undefined) {
      throw new ConfigurationError(
        "LINQ_WEBHOOK_SECRET is not set: choose a long random secret (e.g. `openssl rand -hex 32`) and set it; " +
          "the subscription signs every webhook with it and the service verifies them with it.",
      );
    }
    const dryRun = options.dryRun === true;
    const prefix = dryRun ? "[dry run] would " : "";
    const all = await linq.listWebhookSubscriptions(
      context.signal === undefined ? {} : { signal: context.signal },
    );
    const matching = subscriptionsFor(all, url);
    const body = { webhook_url: url, events: [...subscribedEventTypes], secret, active: true };
    printLine(context, `Linq webhook subscription for ${url}`);

    let outcome: SubscribeOutcome;
    let keptId: number | undefined;
    const kept = matching[0];
    if (kept === undefined) {
      outcome = "created";
      if (dryRun) {
        printLine(
          context,
          `${prefix}create it with all ${subscribedEventTypes.length} event types and the signing secret`,
        );
      } else {
        const created = await linq.createWebhookSubscription(body);
        keptId = created.id;
        printLine(
          context,
          `created subscription ${created.id} with all ${subscribedEventTypes.length} event types, active, signed with LINQ_WEBHOOK_SECRET`,
        );
      }
      for (const near of nearMatches(all, url)) {
        printLine(
          context,
          `note: subscription ${near.id} points at ${near.webhook_url}, which looks like the same service; delete it in Linq if it is`,
        );
      }
    } else {
      outcome = "updated";
      keptId = kept.id;
      if (kept.id === undefined) throw new ConfigurationError("Linq returned a subscription without an id");
      const changes = describeChanges(kept);
      if (dryRun) {
        printLine(context, `${prefix}update subscription ${kept.id}: ${changes.join("; ")}`);
      } else {
        await linq.updateWebhookSubscription(kept.id, body);
        printLine(context, `updated subscription ${kept.id}: ${changes.join("; ")}`);
      }
    }

    const duplicates = matching.slice(1);
    const duplicateIds = duplicates.flatMap((duplicate) =>
      duplicate.id === undefined ? [] : [duplicate.id],
    );
    const removedIds: number[] = [];
    if (duplicateIds.length > 0) {
      if (options.removeDuplicates === true) {
        for (const id of duplicateIds) {
          if (dryRun) printLine(context, `${prefix}delete duplicate subscription ${id}`);
          else {
            await linq.deleteWebhookSubscription(id);
            removedIds.push(id);
            printLine(context, `deleted duplicate subscription ${id}`);
          }
        }
      } else {
        printLine(
          context,
          `warning: ${plural(duplicateIds.length, "more subscription")} for the same URL (${duplicateIds.join(", ")}): ` +
            "every event is delivered once per subscription. Run `linq-sync subscribe --remove-duplicates` to delete " +
            `${duplicateIds.length === 1 ? "it" : "them"} (subscription ${keptId} is kept).`,
        );
      }
    }
    const others = all.length - matching.length;
    if (others > 0) printLine(context, `${plural(others, "subscription")} for other URLs left as they are`);
    if (dryRun) printLine(context, "nothing was changed (dry run)");
    return { outcome, subscriptionId: keptId, duplicateIds, removedIds };
  } finally {
    await linq.close();
  }
}
