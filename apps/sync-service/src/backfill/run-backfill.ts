/**
 * A generic backfill: replays Linq history through the same pipeline as live webhooks, for ONE
 * connector, so it works for any connector without connector-specific code.
 *
 * Messages: for each Linq number of the organisation whose route sends to the connector, every chat,
 * every message sent in the window (oldest first) becomes the message.sent / message.received event
 * Linq would have delivered (src/backfill/synthesize.ts), is routed like a live event and, when the
 * route gives it to this connector, is recorded and queued for this connector only
 * (`acceptEvent` in add-missing-deliveries mode). Contacts: every contact updated in the window becomes a
 * contact.updated event.
 *
 * It only enqueues: the service's workers do the connector work. Event ids are deterministic, so
 * running it again records nothing twice. Progress is saved after every chat (and every few
 * contacts); a new run with the same options continues where the last one stopped. The Linq client's
 * rate limiter paces the requests.
 */
import {
  AbortError,
  type Chat,
  ConfigurationError,
  type ConnectorV1,
  type LinqClient,
  parseWebhookEvent,
  tryNormalizePhoneNumber,
} from "@linq-connect/core";
import type { RoutingConfig } from "../config/routing.ts";
import type { Database } from "../database/database-types.ts";
import { acceptEvent, createEventRouter } from "../pipeline/accept-event.ts";
import type { JobQueue } from "../queue/index.ts";
import { connectorsForRoute, routesForContactEvents, selectRoute } from "../routing/router.ts";
import type { BackfillProgressStore } from "../store/backfill-progress.ts";
import type { EventStore } from "../store/event-store.ts";
import {
  addCounts,
  type BackfillCounts,
  type BackfillState,
  backfillProgressName,
  backfillStateSchema,
  emptyCounts,
} from "./backfill-state.ts";
import { IdRanges } from "./id-ranges.ts";
import { type SynthesizedEvent, synthesizeContactEvent, synthesizeMessageEvent } from "./synthesize.ts";

export interface RunBackfillOptions {
  connector: string;
  /** Messages sent at or after this time (and contacts updated at or after it). */
  since: Date;
  /** Before this time; default: when the first run of this backfill started. */
  until?: Date | undefined;
  messages: boolean;
  contacts: boolean;
  /** Forget saved progress and start again. */
  restart?: boolean | undefined;
  linq: LinqClient;
  database: Database;
  eventStore: EventStore;
  queue: JobQueue;
  progressStore: BackfillProgressStore;
  routing: RoutingConfig;
  /** The configured connectors (the target must be one of them). */
  connectors: ReadonlyMap<string, ConnectorV1>;
  /** Stops the run at the next safe point (progress is saved after every chat). */
  signal?: AbortSignal | undefined;
  /** Called after every message, chat and contact. */
  onProgress?: ((progress: BackfillProgress) => void) | undefined;
  /** Things worth telling (a skipped number, a resumed run). */
  onNotice?: ((line: string) => void) | undefined;
  /** Contacts saved per progress write. Default 25. */
  contactsPerSave?: number | undefined;
  now?: (() => Date) | undefined;
}

export type BackfillPhase = "listing chats" | "messages" | "contacts";

export interface BackfillProgress {
  phase: BackfillPhase;
  chatsDone: number;
  /** Known once the chats are listed. */
  chatsTotal: number | undefined;
  /** Counted over every run of this backfill. */
  counts: BackfillCounts;
  /** Counted in this run only (for a rate). */
  thisRun: BackfillCounts;
}

export interface SkippedNumber {
  number: string;
  reason: string;
}

export interface BackfillSummary {
  connector: string;
  status: "completed" | "interrupted";
  /** Whether this run continued an earlier one. */
  resumed: boolean;
  since: Date;
  until: Date;
  /** Over every run of this backfill (up to the last saved point for an interrupted one). */
  counts: BackfillCounts;
  thisRun: BackfillCounts;
  numbers: string[];
  skippedNumbers: SkippedNumber[];
  chatsTotal: number;
  elapsedMs: number;
}

interface ListedNumber {
  number: string;
  chats: Chat[];
}

function consumesMessages(connector: ConnectorV1): boolean {
  return connector.events.includes("message.received") || connector.events.includes("message.sent");
}

function isAbort(error: unknown, signal: AbortSignal | undefined): boolean {
  return (
    signal?.aborted === true &&
    (error instanceof AbortError || (error as Error | undefined)?.name === "AbortError")
  );
}

/** The connector named `name`, or a ConfigurationError listing the configured ones. */
export function requireConnector(connectors: ReadonlyMap<string, ConnectorV1>, name: string): ConnectorV1 {
  const connector = connectors.get(name);
  if (connector === undefined) {
    const configured = [...connectors.keys()].sort();
    throw new ConfigurationError(
      `No connector named ${JSON.stringify(name)} is configured; configured: ${configured.length === 0 ? "none" : configured.join(", ")}`,
    );
  }
  return connector;
}

export async function runBackfill(options: RunBackfillOptions): Promise<BackfillSummary> {
  const { connector: name, linq, signal } = options;
  const now = options.now ?? (() => new Date());
  const startedAt = now();
  const connector = requireConnector(options.connectors, name);
  if (!options.messages && !options.contacts)
    throw new ConfigurationError("Nothing to backfill: choose messages, contacts or both");
  if (options.messages && !consumesMessages(connector)) {
    throw new ConfigurationError(
      `The ${name} connector does not consume message events (it consumes ${connector.events.join(", ") || "nothing"}): there are no messages to backfill for it`,
    );
  }
  if (options.contacts && !connector.events.includes("contact.updated")) {
    throw new ConfigurationError(
      `The ${name} connector does not consume contact.updated (it consumes ${connector.events.join(", ") || "nothing"}): there are no contacts to backfill for it`,
    );
  }
  if (options.until !== undefined && options.until.getTime() <= options.since.getTime()) {
    throw new ConfigurationError("The backfill window is empty: --until must be after --since");
  }

  const progressName = backfillProgressName(name);
  if (options.restart === true) await options.progressStore.clearProgress(progressName);
  const saved = await options.progressStore.loadProgress<unknown>(progressName);
  let state: BackfillState;
  let resumed = false;
  if (saved === undefined) {
    state = {
      version: 1,
      connector: name,
      since: options.since.toISOString(),
      until: (options.until ?? startedAt).toISOString(),
      untilGiven: options.until !== undefined,
      messages: options.messages,
      contacts: options.contacts,
      startedAt: startedAt.toISOString(),
      runs: 1,
      numbers: {},
      messagesDone: !options.messages,
      finishedContacts: [],
      counts: emptyCounts(),
    };
  } else {
    const parsed = backfillStateSchema.safeParse(saved.state);
    if (!parsed.success) {
      throw new ConfigurationError(
        `The saved progress of this backfill (${progressName}) cannot be read: run it again with --restart`,
      );
    }
    const previous = parsed.data;
    const sameOptions =
      previous.since === options.since.toISOString() &&
      previous.messages === options.messages &&
      previous.contacts === options.contacts &&
      (options.until === undefined
        ? !previous.untilGiven
        : previous.untilGiven && previous.until === options.until.toISOString());
    if (!sameOptions) {
      const described = `--since ${previous.since}${previous.untilGiven ? ` --until ${previous.until}` : ""}${previous.messages ? " --messages" : ""}${previous.contacts ? " --contacts" : ""}`;
      throw new ConfigurationError(
        `A backfill of ${name} with other options (${described}) stopped before it finished (last saved ${saved.updatedAt.toISOString()}): ` +
          "run it again with those options to resume it, or add --restart to start this one instead",
      );
    }
    state = { ...previous, runs: previous.runs + 1 };
    resumed = true;
    options.onNotice?.(
      `resuming the backfill started ${previous.startedAt}: ${previous.counts.chatsDone} chats and ${previous.counts.contactsRead} contacts already done`,
    );
  }
  // Saved at once: a run stopped before its first chat still fixes the window for the next one.
  await options.progressStore.saveProgress(progressName, state);
  const since = new Date(state.since);
  const until = new Date(state.until);
  let thisRun = emptyCounts();
  const numbers: string[] = [];
  const skippedNumbers: SkippedNumber[] = [];
  let chatsTotal: number | undefined;
  /** While listing: chats listed so far; then: chats finished (by any run) among those listed. */
  let chatsDone = 0;
  let phase: BackfillPhase = "listing chats";

  const progress = () =>
    options.onProgress?.({
      phase,
      chatsDone,
      chatsTotal,
      counts: addCounts(state.counts, pendingCounts),
      thisRun: addCounts(thisRun, pendingCounts),
    });
  // Counts of the chat in progress: added to the state only once the chat is finished and saved.
  let pendingCounts = emptyCounts();
  const save = async () => {
    await options.progressStore.saveProgress(progressName, state);
  };
  const summary = (status: BackfillSummary["status"]): BackfillSummary => ({
    connector: name,
    status,
    resumed,
    since,
    until,
    counts: state.counts,
    thisRun,
    numbers,
    skippedNumbers,
    chatsTotal: chatsTotal ?? 0,
    elapsedMs: now().getTime() - startedAt.getTime(),
  });
  const requestOptions = signal === undefined ? {} : { signal };
  const route = createEventRouter({
    routing: options.routing,
    eventStore: options.eventStore,
    connectors: options.connectors,
  });
  await options.queue.ensureConnectorQueue(name);

  /** Records and queues one synthesised event for this connector; which counter it goes to. */
  const accept = async (synthesized: SynthesizedEvent): Promise<"queued" | "already" | "skipped"> => {
    const event = parseWebhookEvent(synthesized.body);
    const decision = await route(event);
    const targets = decision.targets.filter((target) => target.connector === name);
    if (targets.length === 0) return "skipped";
    const result = await acceptEvent(
      { database: options.database, eventStore: options.eventStore, queue: options.queue },
      event,
      { ...decision, targets },
      { mode: "add-missing-deliveries" },
    );
    return result.enqueued.includes(name) ? "queued" : "already";
  };

  try {
    if (!state.messagesDone) {
      const organisation = await linq.listPhoneNumbers(requestOptions);
      const listed: ListedNumber[] = [];
      for (const entry of organisation) {
        const number =
          entry.phone_number === undefined ? undefined : tryNormalizePhoneNumber(entry.phone_number);
        if (number === undefined) continue;
        const matched = selectRoute(options.routing, number);
        if (matched === undefined) {
          skippedNumbers.push({ number, reason: "no route matches it" });
          continue;
        }
        if (!(connectorsForRoute(matched) as readonly string[]).includes(name)) {
          skippedNumbers.push({
            number,
            reason: `its route ${JSON.stringify(matched.name)} does not send to ${name}`,
          });
          continue;
        }
        numbers.push(number);
        const chats: Chat[] = [];
        for await (const chat of linq.iterateChats({ phoneNumber: number, perPage: 100 }, requestOptions)) {
          if (chat.id === undefined) continue;
          chats.push(chat);
          chatsDone += 1;
          progress();
        }
        listed.push({ number, chats });
      }
      for (const skipped of skippedNumbers)
        options.onNotice?.(`${skipped.number} skipped: ${skipped.reason}`);
      // Chats finished by earlier runs count as done.
      chatsDone = 0;
      for (const { number, chats } of listed) {
        const finished = new IdRanges(state.numbers[number]?.finishedChats ?? []);
        chatsDone += chats.filter((chat) => chat.id !== undefined && finished.has(chat.id)).length;
      }
      chatsTotal = listed.reduce((sum, entry) => sum + entry.chats.length, 0);
      phase = "messages";
      progress();

      // Inclusive since (Linq's `after` is exclusive), exclusive until.
      const after = new Date(since.getTime() - 1).toISOString();
      const before = until.toISOString();
      for (const { number, chats } of listed) {
        const numberState = state.numbers[number] ?? { finishedChats: [], lastFinishedChatId: null };
        state.numbers[number] = numberState;
        const finished = new IdRanges(numberState.finishedChats);
        for (const chat of chats) {
          const chatId = chat.id;
          if (chatId === undefined || finished.has(chatId)) continue;
          if (signal?.aborted === true) return summary("interrupted");
          pendingCounts = emptyCounts();
          for await (const message of linq.iterateChatMessages(
            chatId,
            { after, before, sort: "asc", perPage: 100 },
            requestOptions,
          )) {
            if (message.id === undefined) continue;
            pendingCounts.messagesRead += 1;
            const outcome = await accept(synthesizeMessageEvent(chat, message, number));
            if (outcome === "queued") pendingCounts.messagesQueued += 1;
            else if (outcome === "already") pendingCounts.messagesAlreadyQueued += 1;
            else pendingCounts.messagesSkipped += 1;
            progress();
          }
          pendingCounts.chatsDone = 1;
          finished.add(chatId);
          numberState.finishedChats = finished.toJSON();
          numberState.lastFinishedChatId = chatId;
          state.counts = addCounts(state.counts, pendingCounts);
          thisRun = addCounts(thisRun, pendingCounts);
          pendingCounts = emptyCounts();
          await save();
          chatsDone += 1;
          progress();
        }
      }
      state.messagesDone = true;
      await save();
    }

    if (state.contacts) {
      phase = "contacts";
      const receivesContacts = routesForContactEvents(options.routing).some((contactRoute) =>
        (connectorsForRoute(contactRoute) as readonly string[]).includes(name),
      );
      if (!receivesContacts) {
        options.onNotice?.(
          `contacts skipped: no route gives contact events to ${name} (a route with crm: ${name} and contacts: two-way or linq-to-crm does)`,
        );
      } else {
        const finished = new IdRanges(state.finishedContacts);
        const perSave = Math.max(1, options.contactsPerSave ?? 25);
        let unsaved = 0;
        const flush = async () => {
          state.finishedContacts = finished.toJSON();
          state.counts = addCounts(state.counts, pendingCounts);
          thisRun = addCounts(thisRun, pendingCounts);
          pendingCounts = emptyCounts();
          unsaved = 0;
          await save();
        };
        pendingCounts = emptyCounts();
        for await (const contact of linq.iterateContacts({ perPage: 100 }, requestOptions)) {
          if (contact.id === undefined || finished.has(contact.id)) continue;
          if (signal?.aborted === true) {
            await flush();
            return summary("interrupted");
          }
          const changed = Date.parse(contact.updated_at ?? contact.created_at ?? "");
          finished.add(contact.id);
          unsaved += 1;
          if (Number.isNaN(changed) || (changed >= since.getTime() && changed < until.getTime())) {
            pendingCounts.contactsRead += 1;
            const outcome = await accept(synthesizeContactEvent(contact));
            if (outcome === "queued") pendingCounts.contactsQueued += 1;
            else if (outcome === "already") pendingCounts.contactsAlreadyQueued += 1;
            else pendingCounts.contactsSkipped += 1;
          }
          if (unsaved >= perSave) await flush();
          progress();
        }
        await flush();
      }
    }
  } catch (error) {
    if (isAbort(error, signal)) {
      // The chat in progress is not saved: the next run does it again (its events are already recorded).
      pendingCounts = emptyCounts();
      return summary("interrupted");
    }
    throw error;
  }
  await options.progressStore.clearProgress(progressName);
  return summary("completed");
}
