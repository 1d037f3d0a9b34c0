/**
 * What a backfill saves in the backfill progress store under `backfill:<connector>` after every chat,
 * so that an interrupted run (Ctrl-C, a crash, a failed request) resumes where it stopped.
 */
import { z } from "zod";
import { idRangesSchema } from "./id-ranges.ts";

export const backfillCountsSchema = z.object({
  chatsDone: z.number().int().nonnegative(),
  messagesRead: z.number().int().nonnegative(),
  /** New events recorded and queued for the connector. */
  messagesQueued: z.number().int().nonnegative(),
  /** Events already recorded for the connector (an earlier backfill, or a run interrupted mid-chat). */
  messagesAlreadyQueued: z.number().int().nonnegative(),
  /** Events the connector does not take (e.g. it consumes message.received but not message.sent). */
  messagesSkipped: z.number().int().nonnegative(),
  contactsRead: z.number().int().nonnegative(),
  contactsQueued: z.number().int().nonnegative(),
  contactsAlreadyQueued: z.number().int().nonnegative(),
  contactsSkipped: z.number().int().nonnegative(),
});

export type BackfillCounts = z.infer<typeof backfillCountsSchema>;

export function emptyCounts(): BackfillCounts {
  return {
    chatsDone: 0,
    messagesRead: 0,
    messagesQueued: 0,
    messagesAlreadyQueued: 0,
    messagesSkipped: 0,
    contactsRead: 0,
    contactsQueued: 0,
    contactsAlreadyQueued: 0,
    contactsSkipped: 0,
  };
}

export function addCounts(first: BackfillCounts, second: BackfillCounts): BackfillCounts {
  const sum = emptyCounts();
  for (const key of Object.keys(sum) as (keyof BackfillCounts)[]) sum[key] = first[key] + second[key];
  return sum;
}

export const backfillStateSchema = z.object({
  version: z.literal(1),
  connector: z.string(),
  /** The window, ISO 8601: messages sent at or after `since` and before `until`. */
  since: z.string(),
  until: z.string(),
  /** Whether `until` was given (else it is the first run's start, kept so that a resumed run reads the same window). */
  untilGiven: z.boolean(),
  messages: z.boolean(),
  contacts: z.boolean(),
  startedAt: z.string(),
  runs: z.number().int().positive(),
  /** Per Linq number (E.164): the chats finished. */
  numbers: z.record(
    z.string(),
    z.object({ finishedChats: idRangesSchema, lastFinishedChatId: z.number().int().nullable() }),
  ),
  messagesDone: z.boolean(),
  finishedContacts: idRangesSchema,
  /** Counted over every run, up to the last saved point. */
  counts: backfillCountsSchema,
});

export type BackfillState = z.infer<typeof backfillStateSchema>;

export function backfillProgressName(connector: string): string {
  return `backfill:${connector}`;
}
