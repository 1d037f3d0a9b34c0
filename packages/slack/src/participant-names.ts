/**
 * Who the participants of a conversation are: the CRM's name and record link when a CRM link
 * provider is configured, otherwise the Linq contact's name (`findContact`), otherwise the name the
 * webhook's chat handle carries. Results are kept in the thread's mapping metadata and looked up
 * again after `ttlMs`, so a renamed contact reaches the header without a lookup per message.
 */
import {
  type ConnectorContext,
  isEmailHandle,
  isRetryableError,
  tryNormalizePhoneNumber,
} from "@linq-connect/core";
import type { ParticipantName } from "./mappings.ts";

/** What a CRM knows about a phone number: a display name and a link to the record. */
export interface CrmLink {
  name?: string;
  url?: string;
  /** The link's label, e.g. "HubSpot contact". Default "CRM record". */
  label?: string;
}

/** Looks a phone number (E.164) or email up in a CRM. */
export type CrmLinkProvider = (
  address: string,
  options: { signal: AbortSignal },
) => Promise<CrmLink | undefined>;

/** An address as the connector keys it: E.164 for phone numbers, trimmed lower-case for emails. */
export function normalizeAddress(address: string): string {
  const trimmed = address.trim();
  if (isEmailHandle(trimmed)) return trimmed.toLowerCase();
  return tryNormalizePhoneNumber(trimmed) ?? trimmed;
}

/** Groups are capped: names are looked up for the first few members only. */
const maxLookupsPerChat = 8;

export interface ParticipantNameOptions {
  crmLinks?: CrmLinkProvider;
  ttlMs: number;
  now: () => number;
}

export class ParticipantNames {
  readonly #options: ParticipantNameOptions;

  constructor(options: ParticipantNameOptions) {
    this.#options = options;
  }

  /**
   * The names of `addresses`, reusing `cached` entries younger than the TTL (unless `force`), with
   * `handleNames` (from the webhook) as the last resort. Lookup failures keep what was known.
   */
  async resolve(
    context: ConnectorContext,
    addresses: readonly string[],
    cached: Readonly<Record<string, ParticipantName>>,
    handleNames: Readonly<Record<string, string>>,
    options: { force?: boolean } = {},
  ): Promise<Record<string, ParticipantName>> {
    const now = this.#options.now();
    const result: Record<string, ParticipantName> = {};
    for (const [index, address] of addresses.entries()) {
      const previous = cached[address];
      const handleName = nonEmpty(handleNames[address]);
      const fresh = previous !== undefined && now - previous.checkedAt < this.#options.ttlMs;
      if (index >= maxLookupsPerChat || (fresh && options.force !== true)) {
        const kept: ParticipantName = previous ?? { source: "none", checkedAt: 0 };
        // A name from the webhook wins over "no name"; a looked-up name wins over the webhook's.
        result[address] =
          handleName !== undefined && (kept.source === "none" || kept.source === "handle")
            ? { ...kept, name: handleName, source: "handle" }
            : kept;
        continue;
      }
      result[address] = await this.#lookUp(context, address, previous, handleName, now);
    }
    return result;
  }

  async #lookUp(
    context: ConnectorContext,
    address: string,
    previous: ParticipantName | undefined,
    handleName: string | undefined,
    now: number,
  ): Promise<ParticipantName> {
    try {
      const crm = await this.#options.crmLinks?.(address, { signal: context.signal });
      const crmName = nonEmpty(crm?.name);
      const url = nonEmpty(crm?.url);
      if (crmName !== undefined) {
        return { name: crmName, ...(url === undefined ? {} : { url }), source: "crm", checkedAt: now };
      }
      const contact = await context.linq.findContact(
        isEmailHandle(address) ? { email: address } : { phoneNumber: address },
        { signal: context.signal },
      );
      const linqName =
        nonEmpty(contact?.full_name) ??
        nonEmpty(
          [contact?.first_name, contact?.last_name].filter((part) => nonEmpty(part) !== undefined).join(" "),
        );
      if (linqName !== undefined) {
        return { name: linqName, ...(url === undefined ? {} : { url }), source: "linq", checkedAt: now };
      }
      if (handleName !== undefined) {
        return { name: handleName, ...(url === undefined ? {} : { url }), source: "handle", checkedAt: now };
      }
      return { ...(url === undefined ? {} : { url }), source: "none", checkedAt: now };
    } catch (error) {
      context.logger.warn(
        {
          address,
          error: error instanceof Error ? error.message : String(error),
          retryable: isRetryableError(error),
        },
        "could not look up a participant's name; keeping the last known one",
      );
      if (previous !== undefined) return previous;
      return handleName === undefined
        ? { source: "none", checkedAt: 0 }
        : { name: handleName, source: "handle", checkedAt: 0 };
    }
  }
}

function nonEmpty(value: string | null | undefined): string | undefined {
  if (value === undefined || value === null) return undefined;
  const trimmed = value.trim();
  return trimmed === "" ? undefined : trimmed;
}
