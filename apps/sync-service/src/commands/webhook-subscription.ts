/**
 * The Linq webhook subscription of this service: `PUBLIC_URL/webhooks/linq`, every event type (the
 * service records and skips what no route consumes), signed with LINQ_WEBHOOK_SECRET. Shared by
 * `linq-sync subscribe` (which ensures it) and `linq-sync doctor` (which checks it).
 */
import { type LinqEventType, linqEventTypes, type WebhookSubscription } from "@linq-connect/core";

/** The events the service subscribes to: all 13. */
export const subscribedEventTypes: readonly LinqEventType[] = linqEventTypes;

/** The ingest endpoint under the public base URL (which `loadSettings` keeps without a trailing slash). */
export function linqWebhookUrl(publicUrl: string): string {
  return `${publicUrl.replace(/\/+$/, "")}/webhooks/linq`;
}

function createdTime(subscription: WebhookSubscription): number {
  const time = subscription.created_at === undefined ? Number.NaN : Date.parse(subscription.created_at);
  return Number.isNaN(time) ? Number.POSITIVE_INFINITY : time;
}

/** The subscriptions whose URL is exactly `url`, oldest first (by creation time, then id). */
export function subscriptionsFor(
  subscriptions: readonly WebhookSubscription[],
  url: string,
): WebhookSubscription[] {
  return subscriptions
    .filter((subscription) => subscription.webhook_url === url)
    .sort(
      (first, second) =>
        createdTime(first) - createdTime(second) ||
        (first.id ?? Number.MAX_SAFE_INTEGER) - (second.id ?? Number.MAX_SAFE_INTEGER),
    );
}

/** The needed event types a subscription lacks. */
export function missingEventTypes(subscription: WebhookSubscription): LinqEventType[] {
  const events = new Set(subscription.events ?? []);
  return subscribedEventTypes.filter((type) => !events.has(type));
}

/** The subscriptions whose URL differs from `url` only in a trailing slash or the scheme (likely typos). */
export function nearMatches(
  subscriptions: readonly WebhookSubscription[],
  url: string,
): WebhookSubscription[] {
  const normalize = (value: string) =>
    value
      .replace(/^https?:\/\//, "")
      .replace(/\/+$/, "")
      .toLowerCase();
  return subscriptions.filter(
    (subscription) =>
      subscription.webhook_url !== undefined &&
      subscription.webhook_url !== url &&
      normalize(subscription.webhook_url) === normalize(url),
  );
}
