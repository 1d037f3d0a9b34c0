/**
 * Conversations and calls logged in Salesforce as Tasks on the person's Contact or Lead (`WhoId`).
 *
 * - `message.received` / `message.sent` → one Task per message ("per-message"), or one Task per
 *   conversation and day whose Description is rewritten as messages arrive ("daily-digest").
 * - `call.completed` → a call Task (TaskSubtype Call, CallType, CallDurationInSeconds).
 * - The Task goes on the customer's record (for a group chat: the sender of an incoming message, else
 *   the first participant); a number that is not in Salesforce gets a record first unless the route's
 *   `createUnknownContacts` is off (the message is then skipped with a log line).
 * - Idempotent: a message or call with a mapping is never logged again, and the check, the create
 *   and the mapping run under a per-conversation (per-call) lock across replicas. Before creating,
 *   the Task is looked for in Salesforce (the Description's marker line, read in code since a long
 *   text area is not filterable; for calls `CallObject`), so that a create whose answer was lost and
 *   that is retried does not log twice.
 * - A record deleted since its handle was mapped (its Name cannot be read, or the create names the
 *   WhoId invalid) is forgotten and the handle matched again, once. A Lead converted since
 *   (Salesforce refuses a Task naming it: `CANNOT_UPDATE_CONVERTED_LEAD`) is followed to its Contact
 *   (contact-sync.ts relinks the handle) and the Task goes there.
 */
import {
  type CallCompletedEvent,
  type ConnectorContext,
  describeLinqCall,
  describeLinqMessage,
  isLinqConnectError,
  type MessageReceivedEvent,
  type MessageSentEvent,
  ValidationError,
} from "@linq-connect/core";
import {
  callObjectOf,
  callTaskFields,
  dayOf,
  digestLineOf,
  digestMarker,
  digestTaskFields,
  displayHandle,
  hasMarker,
  type LoggedMessage,
  messageMarker,
  messageTaskFields,
  type TaskFormatOptions,
} from "./activity-format.ts";
import type { ConnectorServices } from "./connector-services.ts";
import type { ContactSync } from "./contact-sync.ts";
import type { SalesforceObjectName } from "./field-mapping.ts";
import { CALL_MAPPING, DIGEST_MAPPING, type DigestLine, digestLines, TASK_MAPPING } from "./mappings.ts";
import { escapeSoql } from "./salesforce-api.ts";
import type { SalesforceRouteSettings } from "./settings.ts";

/** How long a record's Name is reused for Subjects. */
const NAME_CACHE_MS = 300_000;
const NAME_CACHE_SIZE = 2_000;
/** A Task created for a message is looked for from this long before the message was sent (clock skew). */
const CREATED_BEFORE_SENT_MS = 3_600_000;

/** The person a Task goes on. */
interface Person {
  id: string;
  objectType: SalesforceObjectName;
  /** The record's Name, else the handle as people read it. */
  name: string;
}

const MISSING_RECORD_CODES = new Set(["INVALID_CROSS_REFERENCE_KEY", "ENTITY_IS_DELETED"]);

/** Whether a failed write says its WhoId is a converted Lead ("cannot reference converted lead"). */
function isConvertedWho(error: unknown): boolean {
  return (
    error instanceof ValidationError &&
    error.fieldErrors.some((fieldError) => fieldError.code === "CANNOT_UPDATE_CONVERTED_LEAD")
  );
}

/** Whether a failed write says its WhoId is no record (deleted since the handle was mapped). */
function isMissingWho(error: unknown): boolean {
  if (!isLinqConnectError(error)) return false;
  if (error.code === "not_found") return true;
  return (
    error instanceof ValidationError &&
    error.fieldErrors.some(
      (fieldError) =>
        (fieldError.field === undefined || fieldError.field === "WhoId") &&
        fieldError.code !== undefined &&
        MISSING_RECORD_CODES.has(fieldError.code),
    )
  );
}

export class ActivityLogger {
  readonly services: ConnectorServices;
  readonly contacts: ContactSync;
  private readonly names = new Map<string, { name: string; expires: number }>();

  constructor(services: ConnectorServices, contacts: ContactSync) {
    this.services = services;
    this.contacts = contacts;
  }

  /** message.received / message.sent. */
  async logMessage(
    event: MessageReceivedEvent | MessageSentEvent,
    settings: SalesforceRouteSettings,
    context: ConnectorContext,
  ): Promise<void> {
    if (settings.activities === "off") return;
    const mapping = { kind: TASK_MAPPING, linqId: `message:${event.data.id}` };
    if ((await context.store.findByLinqId(mapping.kind, mapping.linqId)) !== undefined) return;
    const message = await describeLinqMessage(event, this.services.phoneNumberOptions, context);
    const handle = message?.participants[0];
    if (message === undefined || handle === undefined) {
      context.logger.info(
        { messageId: String(event.data.id) },
        "message without a customer handle: not logged",
      );
      return;
    }
    const chatId = String(event.data.chat_id);
    await this.logOnce(handle, settings, context, {
      mapping,
      lockKey: `salesforce-activity:chat:${chatId}`,
      logFields: { messageId: message.messageId },
      log: async (person) => {
        const options = this.formatOptions(person, settings);
        if (settings.activities === "daily-digest") {
          await this.logInDigest(chatId, message, options, context);
          return;
        }
        const fields = messageTaskFields(message, options);
        const marker = messageMarker(message.messageId);
        const found = await this.findTask(fields, marker, message.sentAt, context);
        const taskId = found ?? (await this.services.api.create("Task", fields, { signal: context.signal }));
        await this.linkMessage(
          message.messageId,
          taskId,
          { found: found !== undefined, whoId: person.id },
          context,
        );
      },
    });
  }

  /** The `salesforce.task` mapping of a logged message, and the log line. */
  private async linkMessage(
    messageId: string,
    taskId: string,
    details: Record<string, unknown>,
    context: ConnectorContext,
  ): Promise<void> {
    const digest = typeof details.digest === "string" ? { digest: details.digest } : {};
    await context.store.insertMapping({
      kind: TASK_MAPPING,
      linqId: `message:${messageId}`,
      externalId: `${taskId}#${messageId}`,
      metadata: { taskId, ...digest },
    });
    context.logger.info({ messageId, taskId, ...details }, "message logged in Salesforce");
  }

  private async logInDigest(
    chatId: string,
    message: LoggedMessage,
    options: TaskFormatOptions,
    context: ConnectorContext,
  ): Promise<void> {
    const day = dayOf(message.sentAt, options.timeZone);
    const digestKey = `${chatId}:${day}`;
    const digest = await context.store.findByLinqId(DIGEST_MAPPING, digestKey);
    const lines: DigestLine[] = digest === undefined ? [] : digestLines(digest);
    if (!lines.some((line) => line.messageId === message.messageId)) lines.push(digestLineOf(message));
    const fields = digestTaskFields(
      { chatId, day, participants: message.participants, linqNumber: message.linqNumber, lines },
      options,
    );
    const changes = { Subject: fields.Subject, Description: fields.Description };
    let taskId = digest?.externalId;
    if (taskId !== undefined) {
      try {
        await this.services.api.update("Task", taskId, changes, { signal: context.signal });
        await context.store.updateMetadata(DIGEST_MAPPING, digestKey, { lines });
      } catch (error) {
        if (!isLinqConnectError(error) || error.code !== "not_found") throw error;
        // Deleted in Salesforce: start the day's digest again.
        await context.store.deleteMapping(DIGEST_MAPPING, digestKey);
        taskId = undefined;
      }
    }
    if (taskId === undefined) {
      const earliest = lines.map((line) => line.at).sort()[0] ?? message.sentAt;
      const found = await this.findTask(fields, digestMarker(chatId, day), earliest, context);
      if (found !== undefined) {
        await this.services.api.update("Task", found, changes, { signal: context.signal });
        taskId = found;
      } else {
        taskId = await this.services.api.create("Task", fields, { signal: context.signal });
      }
      await context.store.insertMapping({
        kind: DIGEST_MAPPING,
        linqId: digestKey,
        externalId: taskId,
        metadata: { lines },
      });
    }
    await this.linkMessage(message.messageId, taskId, { digest: digestKey, lines: lines.length }, context);
  }

  /** call.completed → a call Task. */
  async logCall(
    event: CallCompletedEvent,
    settings: SalesforceRouteSettings,
    context: ConnectorContext,
  ): Promise<void> {
    if (settings.activities === "off") return;
    const mapping = { kind: CALL_MAPPING, linqId: String(event.data.id) };
    if ((await context.store.findByLinqId(mapping.kind, mapping.linqId)) !== undefined) return;
    const described = describeLinqCall(event, this.services.phoneNumberOptions);
    if ("skipped" in described) {
      context.logger.info({ callId: mapping.linqId }, described.skipped);
      return;
    }
    const { call } = described;
    await this.logOnce(call.customer, settings, context, {
      mapping,
      lockKey: `salesforce-activity:call:${call.callId}`,
      logFields: { callId: call.callId },
      log: async (person) => {
        const fields = callTaskFields(call, this.formatOptions(person, settings));
        const [found] = await this.services.api.query(
          `SELECT Id FROM Task WHERE CallObject = '${escapeSoql(callObjectOf(call.callId))}' LIMIT 1`,
          { signal: context.signal },
        );
        const taskId =
          found?.Id ?? (await this.services.api.create("Task", fields, { signal: context.signal }));
        await context.store.insertMapping({ ...mapping, externalId: taskId, metadata: {} });
        context.logger.info(
          { callId: call.callId, taskId, whoId: person.id, found: found !== undefined },
          "call logged in Salesforce",
        );
      },
    });
  }

  /**
   * Logs one activity of a handle's person: resolves the record (see `withPerson`), then, under the
   * lock and unless the activity's mapping exists by then, runs `log`. No record (and
   * `createUnknownContacts` off): a log line, nothing logged.
   */
  private async logOnce(
    handle: string,
    settings: SalesforceRouteSettings,
    context: ConnectorContext,
    activity: {
      mapping: { kind: string; linqId: string };
      lockKey: string;
      logFields: Record<string, unknown>;
      log: (person: Person) => Promise<void>;
    },
  ): Promise<void> {
    await this.withPerson(handle, settings, context, async (person) => {
      if (person === undefined) {
        context.logger.info(activity.logFields, "no Salesforce record for this person: activity not logged");
        return;
      }
      await context.store.withLock(activity.lockKey, async () => {
        const { kind, linqId } = activity.mapping;
        if ((await context.store.findByLinqId(kind, linqId)) !== undefined) return;
        await activity.log(person);
      });
    });
  }

  private formatOptions(person: Person, settings: SalesforceRouteSettings): TaskFormatOptions {
    return {
      whoId: person.id,
      name: person.name,
      timeZone: settings.digestTimeZone,
      ownerId: settings.ownerId,
      phoneNumberOptions: this.services.phoneNumberOptions,
    };
  }

  /**
   * A Task we created earlier for the same message (or digest) whose answer was lost: same WhoId,
   * ActivityDate and TaskSubtype, created since shortly before the message, with the marker line.
   */
  private async findTask(
    fields: Record<string, unknown>,
    marker: string,
    sentAt: string,
    context: ConnectorContext,
  ): Promise<string | undefined> {
    const sent = Date.parse(sentAt);
    const since = new Date(
      (Number.isNaN(sent) ? this.services.now().getTime() : sent) - CREATED_BEFORE_SENT_MS,
    );
    const candidates = await this.services.api.query(
      [
        "SELECT Id, Description FROM Task",
        `WHERE WhoId = '${escapeSoql(String(fields.WhoId))}'`,
        `AND ActivityDate = ${String(fields.ActivityDate)}`,
        `AND TaskSubtype = '${escapeSoql(String(fields.TaskSubtype))}'`,
        `AND CreatedDate >= ${since.toISOString().replace(/\.\d{3}Z$/, "Z")}`,
        "ORDER BY CreatedDate DESC LIMIT 200",
      ].join(" "),
      { signal: context.signal },
    );
    return candidates.find((candidate) => hasMarker(candidate.Description, marker))?.Id;
  }

  /**
   * Resolves the record of a handle and runs `work` with it. A record that turns out to be gone (its
   * Name cannot be read, or `work` fails because Salesforce says the WhoId is no record) is
   * forgotten, the handle is matched again (verified) and `work` runs once more.
   */
  private async withPerson(
    handle: string,
    settings: SalesforceRouteSettings,
    context: ConnectorContext,
    work: (person: Person | undefined) => Promise<void>,
  ): Promise<void> {
    const resolve = async (verify: boolean) => {
      const record = await this.contacts.recordForHandle(handle, settings, context, {
        create: settings.createUnknownContacts,
        verify,
      });
      if (record === undefined) return { person: undefined, goneId: undefined };
      const name = await this.nameOf(record.id, record.objectType, handle, context);
      return name === undefined
        ? { person: undefined, goneId: record.id }
        : { person: { ...record, name }, goneId: undefined };
    };
    const rematch = async (recordId: string, reason: string): Promise<Person | undefined> => {
      context.logger.info({ recordId }, reason);
      this.names.delete(recordId);
      await this.contacts.forgetHandle(handle, context);
      return (await resolve(true)).person;
    };
    let { person, goneId } = await resolve(false);
    if (goneId !== undefined) {
      person = await rematch(
        goneId,
        "the mapped Salesforce record no longer exists: matching the handle again",
      );
    }
    try {
      await work(person);
    } catch (error) {
      if (person !== undefined && isConvertedWho(error)) {
        // The handle stays: matching it again (verified) follows the Lead to its Contact.
        context.logger.info({ recordId: person.id }, "the Lead was converted: logging on its Contact");
        this.names.delete(person.id);
        await work((await resolve(true)).person);
        return;
      }
      if (person === undefined || !isMissingWho(error)) throw error;
      await work(await rematch(person.id, "Salesforce refused the Task's WhoId: matching the handle again"));
    }
  }

  /** The record's Name (cached a few minutes), the handle when it has none; undefined when the record is gone. */
  private async nameOf(
    recordId: string,
    objectType: SalesforceObjectName,
    handle: string,
    context: ConnectorContext,
  ): Promise<string | undefined> {
    const now = this.services.now().getTime();
    const cached = this.names.get(recordId);
    if (cached !== undefined && cached.expires > now) return cached.name;
    const record = await this.services.api.retrieve(objectType, recordId, ["Name"], {
      signal: context.signal,
    });
    if (record === undefined) {
      this.names.delete(recordId);
      return undefined;
    }
    const stored = typeof record.Name === "string" ? record.Name.trim() : "";
    const name = stored === "" ? displayHandle(handle, this.services.phoneNumberOptions) : stored;
    if (this.names.size >= NAME_CACHE_SIZE) {
      const oldest = this.names.keys().next().value;
      if (oldest !== undefined) this.names.delete(oldest);
    }
    this.names.set(recordId, { name, expires: now + NAME_CACHE_MS });
    return name;
  }
}
