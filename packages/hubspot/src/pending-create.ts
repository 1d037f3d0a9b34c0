/**
 * Creates whose answer may have been lost. HubSpot has no idempotency key: a create that fails with
 * no answer (dropped connection, timeout) or a 5xx may have happened. Such a failure is remembered in
 * the cursor `hubspot:pending-create:<key>` (the time it failed). The retry then looks for what the
 * earlier attempt may have created before creating again, and while HubSpot search may still not
 * show it (a minute), it waits (`HubSpotIndexLagError`, retryable) rather than create a duplicate.
 * The normal path reads one cursor and sends no extra request.
 */
import { type ConnectorContext, isLinqConnectError } from "@linq-connect/core";
import { HubSpotIndexLagError } from "./hubspot-errors.ts";

/** How long after an ambiguous create failure search may still not show its result. */
export const PENDING_CREATE_WINDOW_MS = 60_000;
const PENDING_CREATE_RETRY_SECONDS = 10;
const AMBIGUOUS_CODES = new Set(["network_error", "timeout", "server_error"]);

/** An earlier attempt whose create failed ambiguously. */
export interface PendingCreate {
  /** Epoch ms of the failure. */
  failedAt: number;
  /** Whether search may still not show what that attempt created. */
  mayLag: boolean;
}

function cursorOf(key: string): string {
  return `hubspot:pending-create:${key}`;
}

/** The earlier ambiguous failure of the create behind `key`, if one is remembered. */
export async function pendingCreate(
  context: ConnectorContext,
  key: string,
  now: number,
): Promise<PendingCreate | undefined> {
  const failedAt = Number(await context.store.getCursor(cursorOf(key)));
  if (!Number.isFinite(failedAt) || failedAt <= 0) return undefined;
  return { failedAt, mayLag: now - failedAt < PENDING_CREATE_WINDOW_MS };
}

/** The retryable error of a retry that cannot see yet what an earlier attempt may have created. */
export function indexLagError(what: string): HubSpotIndexLagError {
  return new HubSpotIndexLagError(
    `An earlier attempt to create ${what} may have succeeded; waiting for HubSpot search to show it`,
    { source: "hubspot", retryAfter: PENDING_CREATE_RETRY_SECONDS },
  );
}

/** Forgets the earlier failure (what it may have created was found, or created now). */
export async function settlePendingCreate(context: ConnectorContext, key: string): Promise<void> {
  await context.store.setCursor(cursorOf(key), "");
}

/**
 * Runs a create: an ambiguous failure (network error, timeout, 5xx) is remembered for the retry;
 * a success forgets an earlier one.
 */
export async function createRemembered<T>(
  context: ConnectorContext,
  key: string,
  options: { now: number; pending: PendingCreate | undefined },
  create: () => Promise<T>,
): Promise<T> {
  try {
    const result = await create();
    if (options.pending !== undefined) await settlePendingCreate(context, key);
    return result;
  } catch (error) {
    if (isLinqConnectError(error) && AMBIGUOUS_CODES.has(error.code)) {
      await context.store.setCursor(cursorOf(key), String(options.now));
    }
    throw error;
  }
}
