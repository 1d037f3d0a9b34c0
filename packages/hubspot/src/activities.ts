/**
 * Conversations and calls logged in HubSpot.
 *
 * - `message.received` / `message.sent` → a Communication on each matched contact (and, when the
 *   route says so, the contact's primary company): one per message ("per-message"), or one per
 *   conversation and day, updated as messages arrive ("daily-digest").
 * - `call.completed` → a Call engagement.
 * - A number that is not in HubSpot gets a contact first (unless `createUnknownContacts` is off).
 * - Idempotent: a message or call already logged (its mapping exists) is never logged again. The
 *   check and the create run under a per-conversation lock, so two replicas handling the same event
 *   at once log it once.
 * - A create whose answer was lost (dropped connection, timeout, 5xx: HubSpot has no idempotency
 *   key) is remembered (`pending-create.ts`); its retry first searches the activities of the first
 *   contact at that time (`associations.contact`, `hs_timestamp`) for the body's marker line, adopts
 *   the one it finds, and while search may still lag behind the earlier attempt waits
 *   (`HubSpotIndexLagError`, retryable) instead of logging it twice. Only such a retry searches.
 */
import {
  type CallCompletedEvent,
  type ConnectorContext,
  describeLinqCall,
  describeLinqMessage,
  type MessageReceivedEvent,
  type MessageSentEvent,
  ValidationError,
} from "@linq-connect/core";
import {
  callMarker,
  callProperties,
  dayOf,
  digestCommunicationProperties,
  digestMarker,
  hasMarker,
  type LoggedMessage,
  messageCommunicationProperties,
  messageMarker,
} from "./activity-format.ts";
import type { ConnectorServices } from "./connector-services.ts";
import type { ContactSync } from "./contact-sync.ts";
import { ASSOCIATION_TYPES, type InlineAssociation, type SearchFilter } from "./hubspot-api.ts";
import { ACTIVITY_MAPPING, CALL_MAPPING, DIGEST_MAPPING, type DigestLine, digestLines } from "./mappings.ts";
import { createRemembered, indexLagError, pendingCreate, settlePendingCreate } from "./pending-create.ts";
import type { HubSpotRouteSettings } from "./settings.ts";

const COMPANY_CACHE_MS = 300_000;
/** How far from its time a message's or call's activity is looked for (`hs_timestamp` is that time). */
const SAME_TIME_MS = 1_000;
/** A digest's `hs_timestamp` is its newest line: any instant of the same calendar day (≤ 25 h apart). */
const SAME_DAY_MS = 26 * 3_600_000;
/** Candidates read per search (HubSpot's maximum page). */
const SEARCH_LIMIT = 200;

/** An activity to create at most once (see `ActivityLogger.createOnce`). */
interface ActivityCreate {
  /** The pending-create key: `hubspot-activity:message:<id>`, `…:digest:<chat>:<day>`, `…:call:<id>`. */
  key: string;
  /** For log lines and errors: "message 123". */
  what: string;
  objectType: "communications" | "calls";
  properties: Record<string, string>;
  associations: InlineAssociation[];
  /** The contact whose activities are searched (the first associated one). */
  contactId: string;
  marker: string;
  /** The activity's `hs_timestamp` lies within this distance of `at`. */
  at: string;
  withinMs: number;
}

/** The message as it is logged: direction, the customer handles and our number, from a webhook event. */
export async function describeMessage(
  event: MessageReceivedEvent | MessageSentEvent,
  services: ConnectorServices,
  context: ConnectorContext,
): Promise<LoggedMessage | undefined> {
  return describeLinqMessage(event, services.phoneNumberOptions, context);
}

export class ActivityLogger {
  private readonly services: ConnectorServices;
  private readonly contacts: ContactSync;
  private readonly companies = new Map<string, { companyId: string | undefined; expires: number }>();

  constructor(services: ConnectorServices, contacts: ContactSync) {
    this.services = services;
    this.contacts = contacts;
  }

  /** message.received / message.sent. */
  async logMessage(
    event: MessageReceivedEvent | MessageSentEvent,
    settings: HubSpotRouteSettings,
    context: ConnectorContext,
  ): Promise<void> {
    if (settings.activities === "off") return;
    const activityKey = `message:${event.data.id}`;
    if ((await context.store.findByLinqId(ACTIVITY_MAPPING, activityKey)) !== undefined) return;
    const message = await describeMessage(event, this.services, context);
    if (message === undefined) {
      context.logger.info(
        { messageId: String(event.data.id) },
        "message without a customer handle: not logged",
      );
      return;
    }
    await this.withContacts(message.participants, settings, context, async (contactIds) => {
      if (contactIds.length === 0) {
        context.logger.info(
          { messageId: message.messageId },
          "no HubSpot contact for this conversation: message not logged",
        );
        return;
      }
      const associations = await this.associations(contactIds, settings, context, "communication");
      const contactId = contactIds[0] as string;
      await context.store.withLock(`hubspot-activity:chat:${event.data.chat_id}`, async () => {
        if ((await context.store.findByLinqId(ACTIVITY_MAPPING, activityKey)) !== undefined) return;
        if (settings.activities === "daily-digest") {
          const chatId = String(event.data.chat_id);
          await this.logInDigest(chatId, message, { associations, contactId }, settings, context);
          return;
        }
        const communication = await this.createOnce(
          {
            key: `hubspot-activity:message:${message.messageId}`,
            what: `message ${message.messageId}`,
            objectType: "communications",
            properties: messageCommunicationProperties(message, settings, this.services.phoneNumberOptions),
            associations,
            contactId,
            marker: messageMarker(message.messageId),
            at: message.sentAt,
            withinMs: SAME_TIME_MS,
          },
          context,
        );
        await context.store.insertMapping({
          kind: ACTIVITY_MAPPING,
          linqId: activityKey,
          externalId: `${communication.id}#${message.messageId}`,
          metadata: { communicationId: communication.id },
        });
        context.logger.info(
          {
            messageId: message.messageId,
            communicationId: communication.id,
            contacts: contactIds,
            found: communication.found,
          },
          "message logged in HubSpot",
        );
      });
    });
  }

  private async logInDigest(
    chatId: string,
    message: LoggedMessage,
    target: { associations: InlineAssociation[]; contactId: string },
    settings: HubSpotRouteSettings,
    context: ConnectorContext,
  ): Promise<void> {
    const day = dayOf(message.sentAt, settings.digestTimeZone);
    const digestKey = `${chatId}:${day}`;
    const digest = await context.store.findByLinqId(DIGEST_MAPPING, digestKey);
    const lines: DigestLine[] = digest === undefined ? [] : digestLines(digest);
    if (!lines.some((line) => line.messageId === message.messageId)) {
      lines.push({
        messageId: message.messageId,
        at: message.sentAt,
        direction: message.direction,
        service: message.service,
        text: message.text,
        attachments: message.attachments,
      });
    }
    const properties = digestCommunicationProperties(
      { chatId, day, participants: message.participants, linqNumber: message.linqNumber, lines },
      settings,
      this.services.phoneNumberOptions,
    );
    let communicationId = digest?.externalId;
    if (communicationId !== undefined) {
      const updated = await this.services.api.updateCommunication(
        communicationId,
        properties,
        context.signal,
      );
      if (updated === undefined) {
        // Deleted in HubSpot: start the day's digest again.
        await context.store.deleteMapping(DIGEST_MAPPING, digestKey);
        communicationId = undefined;
      } else {
        await context.store.updateMetadata(DIGEST_MAPPING, digestKey, { lines });
      }
    }
    if (communicationId === undefined) {
      const created = await this.createOnce(
        {
          key: `hubspot-activity:digest:${digestKey}`,
          what: `the digest of conversation ${chatId} on ${day}`,
          objectType: "communications",
          properties,
          ...target,
          marker: digestMarker(chatId, day),
          at: message.sentAt,
          withinMs: SAME_DAY_MS,
        },
        context,
      );
      // Found: an earlier attempt created it with the lines it had; it gets today's lines.
      if (created.found) await this.services.api.updateCommunication(created.id, properties, context.signal);
      communicationId = created.id;
      await context.store.insertMapping({
        kind: DIGEST_MAPPING,
        linqId: digestKey,
        externalId: communicationId,
        metadata: { lines },
      });
    }
    await context.store.insertMapping({
      kind: ACTIVITY_MAPPING,
      linqId: `message:${message.messageId}`,
      externalId: `${communicationId}#${message.messageId}`,
      metadata: { communicationId, digest: digestKey },
    });
    context.logger.info(
      { messageId: message.messageId, communicationId, digest: digestKey, lines: lines.length },
      "message added to the daily digest in HubSpot",
    );
  }

  /** call.completed → a Call engagement. */
  async logCall(
    event: CallCompletedEvent,
    settings: HubSpotRouteSettings,
    context: ConnectorContext,
  ): Promise<void> {
    if (settings.activities === "off") return;
    const callId = String(event.data.id);
    if ((await context.store.findByLinqId(CALL_MAPPING, callId)) !== undefined) return;
    const described = describeLinqCall(event, this.services.phoneNumberOptions);
    if ("skipped" in described) {
      context.logger.info({ callId }, described.skipped);
      return;
    }
    const { call } = described;
    await this.withContacts([call.customer], settings, context, async (contactIds) => {
      if (contactIds.length === 0) {
        context.logger.info({ callId }, "no HubSpot contact for this number: call not logged");
        return;
      }
      const associations = await this.associations(contactIds, settings, context, "call");
      await context.store.withLock(`hubspot-activity:call:${callId}`, async () => {
        if ((await context.store.findByLinqId(CALL_MAPPING, callId)) !== undefined) return;
        const created = await this.createOnce(
          {
            key: `hubspot-activity:call:${callId}`,
            what: `call ${callId}`,
            objectType: "calls",
            properties: callProperties(call, this.services.phoneNumberOptions),
            associations,
            contactId: contactIds[0] as string,
            marker: callMarker(call.callId),
            at: call.startedAt,
            withinMs: SAME_TIME_MS,
          },
          context,
        );
        await context.store.insertMapping({
          kind: CALL_MAPPING,
          linqId: callId,
          externalId: created.id,
          metadata: {},
        });
        context.logger.info(
          { callId, hubSpotCallId: created.id, contacts: contactIds, found: created.found },
          "call logged in HubSpot",
        );
      });
    });
  }

  /**
   * Creates a Communication or Call at most once. Normally: the create, nothing else. When an earlier
   * attempt's create failed without a clear answer (it may have happened), the activity is looked for
   * first and adopted when found; not found while search may still lag behind that attempt, the
   * retry waits (`HubSpotIndexLagError`); later, it is created.
   */
  private async createOnce(
    activity: ActivityCreate,
    context: ConnectorContext,
  ): Promise<{ id: string; found: boolean }> {
    const now = this.services.now().getTime();
    const pending = await pendingCreate(context, activity.key, now);
    if (pending !== undefined) {
      const found = await this.findActivity(activity, context);
      if (found !== undefined) {
        await settlePendingCreate(context, activity.key);
        context.logger.info(
          { activity: activity.what, id: found },
          "found the HubSpot activity an earlier attempt created: not logging it again",
        );
        return { id: found, found: true };
      }
      if (pending.mayLag) throw indexLagError(`the HubSpot activity of ${activity.what}`);
    }
    const created = await createRemembered(context, activity.key, { now, pending }, () =>
      activity.objectType === "calls"
        ? this.services.api.createCall(activity.properties, activity.associations, context.signal)
        : this.services.api.createCommunication(activity.properties, activity.associations, context.signal),
    );
    return { id: created.id, found: false };
  }

  /** The activity with the marker among the contact's activities around its time, as search shows them. */
  private async findActivity(
    activity: ActivityCreate,
    context: ConnectorContext,
  ): Promise<string | undefined> {
    const bodyProperty = activity.objectType === "calls" ? "hs_call_body" : "hs_communication_body";
    const filters: SearchFilter[] = [
      { propertyName: "associations.contact", operator: "EQ", value: activity.contactId },
    ];
    const at = Date.parse(activity.at);
    if (!Number.isNaN(at)) {
      filters.push(
        { propertyName: "hs_timestamp", operator: "GTE", value: String(at - activity.withinMs) },
        { propertyName: "hs_timestamp", operator: "LTE", value: String(at + activity.withinMs) },
      );
    }
    const page = await this.services.api.searchEngagements(
      activity.objectType,
      { filterGroups: [filters], properties: [bodyProperty], sort: "-hs_timestamp", limit: SEARCH_LIMIT },
      context.signal,
    );
    return page.results.find((record) => hasMarker(record.properties[bodyProperty], activity.marker))?.id;
  }

  /**
   * Resolves the contacts of the handles and runs `work` with them; when HubSpot refuses an
   * association (a contact deleted since we mapped its handle), the handles are resolved again
   * (verified) and `work` runs once more.
   */
  private async withContacts(
    handles: readonly string[],
    settings: HubSpotRouteSettings,
    context: ConnectorContext,
    work: (contactIds: string[]) => Promise<void>,
  ): Promise<void> {
    const resolve = async (verify: boolean) => {
      const ids: string[] = [];
      for (const handle of handles) {
        const id = await this.contacts.contactIdForHandle(handle, settings, context, {
          create: settings.createUnknownContacts,
          verify,
        });
        if (id !== undefined && !ids.includes(id)) ids.push(id);
      }
      return ids;
    };
    try {
      await work(await resolve(false));
    } catch (error) {
      if (!(error instanceof ValidationError) || !/associations? (are|is) invalid/i.test(error.message))
        throw error;
      context.logger.info({}, "a mapped HubSpot contact no longer exists: matching the conversation again");
      for (const handle of handles) await this.contacts.forgetHandle(handle, context);
      const contactIds = await resolve(true);
      this.forgetCompanies(contactIds);
      await work(contactIds);
    }
  }

  private forgetCompanies(contactIds: readonly string[]): void {
    for (const id of contactIds) this.companies.delete(id);
  }

  private async associations(
    contactIds: readonly string[],
    settings: HubSpotRouteSettings,
    context: ConnectorContext,
    kind: "communication" | "call",
  ): Promise<InlineAssociation[]> {
    const toContact =
      kind === "communication" ? ASSOCIATION_TYPES.communicationToContact : ASSOCIATION_TYPES.callToContact;
    const toCompany =
      kind === "communication" ? ASSOCIATION_TYPES.communicationToCompany : ASSOCIATION_TYPES.callToCompany;
    const associations: InlineAssociation[] = contactIds.map((toId) => ({
      toId,
      associationTypeId: toContact,
    }));
    if (!settings.associatePrimaryCompany) return associations;
    const companies = new Set<string>();
    for (const contactId of contactIds) {
      const company = await this.primaryCompany(contactId, context);
      if (company !== undefined) companies.add(company);
    }
    for (const toId of companies) associations.push({ toId, associationTypeId: toCompany });
    return associations;
  }

  private async primaryCompany(contactId: string, context: ConnectorContext): Promise<string | undefined> {
    const cached = this.companies.get(contactId);
    if (cached !== undefined && cached.expires > Date.now()) return cached.companyId;
    const companyId = await this.services.api.primaryCompanyOf(contactId, context.signal);
    this.companies.set(contactId, { companyId, expires: Date.now() + COMPANY_CACHE_MS });
    return companyId;
  }
}
