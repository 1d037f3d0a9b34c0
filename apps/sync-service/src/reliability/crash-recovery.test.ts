/**
 * kill -9 during a burst. The service runs as a real child process; a burst of signed events (one
 * request at a time per chat, many chats at once) is sent to it and, once about a third is
 * acknowledged, the process is killed with SIGKILL while requests and jobs are in flight. A new
 * process on the same database receives what was not acknowledged again (as Linq retries) plus some
 * duplicates of what was. Every event must then take effect exactly once, in send order per chat.
 *
 * On PostgreSQL (DATABASE_URL) and on the embedded database (a PGlite data directory: the harder
 * case, since the database itself dies with the process).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLinqSimulator } from "@linq-connect/core/testing";
import { describe, it, type OnTestFinishedHandler } from "vitest";
import { openDatabase } from "../database/database.ts";
import type { Database } from "../database/database-types.ts";
import { createTestDatabase } from "../test-support/index.ts";
import { countEffects, type Recording, readRecording } from "../test-support/recording-connector.ts";
import { type ServiceProcess, startServiceProcess } from "./service-launcher.test-helpers.ts";
import {
  type DeliveryResult,
  groupBy,
  type PlannedEvent,
  planBurst,
  sendInChatOrder,
  WebhookClient,
  waitFor,
} from "./webhooks.test-helpers.ts";

const chats = 30;
const perChat = 10;
const senders = 10;
const jobConcurrency = 4;

interface Backend {
  name: string;
  /** DATABASE_URL or LINQ_SYNC_DATA_DIR; cleans up when the test finishes. */
  variables(onTestFinished: (cleanup: OnTestFinishedHandler) => void): Promise<Record<string, string>>;
  /** What the recording connector wrote, while no service process runs. */
  readStopped(): Promise<Recording>;
  /** What the recording connector wrote, with `service` running on the database. */
  readRunning(service: ServiceProcess): Promise<Recording>;
  countRunning(service: ServiceProcess): Promise<number>;
  /** linq_events by status and pg-boss jobs by state, with `service` running. */
  settled(
    service: ServiceProcess,
  ): Promise<{ events: Record<string, number>; jobs: Record<string, number> } | undefined>;
}

function postgresBackend(): Backend {
  let url = "";
  let database: Database | undefined;
  const open = async () => {
    database ??= await openDatabase({ url, poolSize: 2 });
    return database;
  };
  return {
    name: "PostgreSQL",
    async variables(onTestFinished) {
      const testDatabase = await createTestDatabase();
      onTestFinished(async () => {
        await database?.close();
        await testDatabase.drop();
      });
      url = testDatabase.url;
      return { DATABASE_URL: url };
    },
    async readStopped() {
      return readRecording(await open());
    },
    async readRunning() {
      return readRecording(await open());
    },
    async countRunning() {
      return countEffects(await open());
    },
    async settled() {
      const executor = await open();
      const events = await executor.query<{ status: string; count: number }>(
        "SELECT status, count(*)::integer AS count FROM linq_events GROUP BY status",
      );
      const jobs = await executor.query<{ state: string; count: number }>(
        "SELECT state::text AS state, count(*)::integer AS count FROM pgboss.job WHERE starts_with(name, 'connector.') GROUP BY state",
      );
      return {
        events: Object.fromEntries(events.rows.map((row) => [row.status, Number(row.count)])),
        jobs: Object.fromEntries(jobs.rows.map((row) => [row.state, Number(row.count)])),
      };
    },
  };
}

function pgliteBackend(): Backend {
  let dataDirectory = "";
  return {
    name: "PGlite data directory",
    async variables(onTestFinished) {
      dataDirectory = mkdtempSync(join(tmpdir(), "linq-sync-crash-"));
      onTestFinished(() => rmSync(dataDirectory, { recursive: true, force: true }));
      return { LINQ_SYNC_DATA_DIR: dataDirectory };
    },
    async readStopped() {
      // The killed process's lock file is stale: this takes it over, reads, and lets it go.
      const database = await openDatabase({ dataDirectory });
      try {
        return await readRecording(database);
      } finally {
        await database.close();
      }
    },
    readRunning: (service) => service.recording(),
    countRunning: (service) => service.effectCount(),
    // The data directory belongs to the running process; its bookkeeping is checked on PostgreSQL.
    settled: async () => undefined,
  };
}

// The two run at once: most of each is waiting for the killed process's jobs to be reclaimed.
describe("kill -9 during a burst", { concurrent: true }, () => {
  for (const makeBackend of [postgresBackend, pgliteBackend]) {
    const backend = makeBackend();

    it(`on ${backend.name}: every acknowledged event takes effect once, in order per chat`, {
      timeout: 120_000,
    }, async ({ expect, onTestFinished }) => {
      const secret = `whsec_${randomBytes(16).toString("hex")}`;
      const simulator = await startLinqSimulator();
      const client = new WebhookClient({ connections: senders });
      const processes: ServiceProcess[] = [];
      onTestFinished(async () => {
        await client.close();
        await Promise.all(processes.map((service) => service.kill()));
        await simulator.close();
      });
      const environment = {
        ...(await backend.variables(onTestFinished)),
        LINQ_API_TOKEN: simulator.token,
        LINQ_API_BASE_URL: simulator.baseUrl,
        LINQ_WEBHOOK_SECRET: secret,
        PORT: "0",
        HOST: "127.0.0.1",
        LOG_LEVEL: "warn",
        JOB_CONCURRENCY: String(jobConcurrency),
        JOB_RETRY_DELAY_SECONDS: "1",
        RECORDING_DELAY_MS: "15",
        RECORDING_DELAY_JITTER_MS: "10",
        QUEUE_HEARTBEAT_SECONDS: "10",
        QUEUE_SUPERVISE_INTERVAL_SECONDS: "1",
        QUEUE_POLLING_INTERVAL_SECONDS: "0.5",
      };
      const failWith = (service: ServiceProcess, error: unknown): never => {
        throw new Error(`${(error as Error).message}\n--- ${service.name} logs ---\n${service.logs()}`);
      };

      // Phase 1: a burst, killed once a third is acknowledged.
      const first = await startServiceProcess({ environment, name: "first" });
      processes.push(first);
      const events = planBurst({ chats, perChat, secret });
      const killAfter = Math.floor(events.length / 3);
      let acknowledged = 0;
      let killing: Promise<unknown> | undefined;
      let killTask: Promise<unknown> | undefined;
      // Once a third is acknowledged, kill as soon as a job is mid-flight (the scenario under test:
      // a worker dies holding work), while the senders keep sending (requests in flight die too).
      const killMidJob = async (): Promise<unknown> => {
        const deadline = Date.now() + 5_000;
        while (Date.now() < deadline) {
          const recording = await backend.readRunning(first).catch(() => undefined);
          if (recording?.attempts.some((attempt) => attempt.outcome === "running")) break;
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
        killing = first.kill();
        return killing;
      };
      const phase1 = await sendInChatOrder(events, {
        client,
        targetFor: () => first.url,
        concurrency: senders,
        shouldStop: () => killing !== undefined,
        onResult: (result) => {
          if (result.status === 200) acknowledged += 1;
          if (acknowledged >= killAfter && killTask === undefined) killTask = killMidJob();
        },
      });
      expect(await killTask).toEqual({ code: null, signal: "SIGKILL" });
      await client.forget(first.url);
      const acknowledgedFirst = phase1.results.filter((result) => result.status === 200);
      const failedInFlight = phase1.results.filter((result) => result.status === undefined);
      expect(phase1.results.every((result) => result.status === 200 || result.status === undefined)).toBe(
        true,
      );
      // The kill hit requests in flight, and left acknowledged work unfinished.
      expect(failedInFlight.length).toBeGreaterThan(0);
      const atKill = await backend.readStopped();
      expect(atKill.effects.length).toBeLessThan(acknowledgedFirst.length);
      const unfinishedAtKill = atKill.attempts.filter((attempt) => attempt.outcome === "running");
      expect(unfinishedAtKill.length).toBeGreaterThan(0);
      expect(unfinishedAtKill.every((attempt) => attempt.processId === first.pid)).toBe(true);

      // Phase 2: a new process; what was not acknowledged is sent again, plus duplicates.
      const second = await startServiceProcess({ environment, name: "second" });
      processes.push(second);
      const duplicates = acknowledgedFirst
        .filter((_, index) => index % 4 === 0)
        .map((result) => result.event);
      const resend: PlannedEvent[] = [...phase1.unsent, ...duplicates].sort(
        (left, right) => left.index - right.index,
      );
      expect(phase1.unsent.length).toBe(events.length - acknowledgedFirst.length);
      const phase2 = await sendInChatOrder(resend, {
        client,
        targetFor: () => second.url,
        concurrency: senders,
      });
      expect(phase2.unsent).toEqual([]);
      const notAcknowledged = phase2.results.filter((result) => result.status !== 200);
      if (notAcknowledged.length > 0)
        failWith(second, new Error(`${notAcknowledged.length} resent events were not acknowledged`));
      const duplicateIds = new Set(duplicates.map((event) => event.eventId));
      const answerOf = (result: DeliveryResult) => JSON.parse(result.body) as { duplicate?: boolean };
      expect(
        phase2.results
          .filter((result) => duplicateIds.has(result.event.eventId))
          .every((result) => answerOf(result).duplicate === true),
      ).toBe(true);

      // Every event was acknowledged once or more: each must take effect exactly once.
      try {
        await waitFor(async () => (await backend.countRunning(second)) >= events.length, {
          timeoutMs: 60_000,
          intervalMs: 250,
          what: `${events.length} effects`,
        });
      } catch (error) {
        failWith(second, error);
      }
      const recording = await backend.readRunning(second);
      const effectIds = recording.effects.map((effect) => effect.eventId);
      expect(new Set(effectIds).size).toBe(effectIds.length);
      expect(new Set(effectIds)).toEqual(new Set(events.map((event) => event.eventId)));

      // In send order per chat, across the crash.
      const plannedById = new Map(events.map((event) => [event.eventId, event]));
      for (const [chatId, chatEffects] of groupBy(
        recording.effects,
        (effect) => effect.conversationKey ?? "",
      )) {
        const order = chatEffects.map((effect) => plannedById.get(effect.eventId)?.indexInChat);
        expect(order, chatId).toEqual(Array.from({ length: perChat }, (_, index) => index));
      }

      // Handled again only jobs the killed process had not completed (at-least-once: at most one per
      // worker), and never twice in effect.
      const attemptsByEvent = groupBy(recording.attempts, (attempt) => attempt.eventId);
      const handledAgain = [...attemptsByEvent].filter(([, attempts]) => attempts.length > 1);
      expect(handledAgain.length).toBeLessThanOrEqual(jobConcurrency);
      for (const [eventId, attempts] of handledAgain) {
        const [killed, ...later] = attempts;
        expect(killed?.processId, eventId).toBe(first.pid);
        expect(
          later.every((attempt) => attempt.processId === second.pid),
          eventId,
        ).toBe(true);
        if (killed?.outcome === "effect") {
          // It wrote the effect but its job was not completed: the re-run finds the effect.
          expect(
            later.map((attempt) => attempt.outcome),
            eventId,
          ).toEqual(later.map(() => "repeat"));
        } else {
          // Killed mid-handling (it may or may not have written the effect): one later attempt wrote
          // it or found it written.
          expect(killed?.outcome, eventId).toBe("running");
          expect(later.filter((attempt) => attempt.outcome === "effect").length, eventId).toBeLessThanOrEqual(
            1,
          );
          expect(["effect", "repeat"], eventId).toContain(later.at(-1)?.outcome);
        }
      }
      expect(recording.overlaps).toEqual([]);
      const processIds = new Set(recording.effects.map((effect) => effect.processId));
      expect(processIds).toEqual(new Set([first.pid, second.pid]));

      // The service's own bookkeeping settled too: every job completed, every event processed.
      if ((await backend.settled(second)) !== undefined) {
        await waitFor(async () => (await backend.settled(second))?.jobs.completed === events.length, {
          timeoutMs: 10_000,
          what: "every job completed",
        });
        expect((await backend.settled(second))?.jobs).toEqual({ completed: events.length });
        await waitFor(async () => (await backend.settled(second))?.events.processed === events.length, {
          timeoutMs: 10_000,
          what: "every event marked processed",
        }).catch(async () => {
          throw new Error(
            `Every job completed, but not every event is marked processed: ${JSON.stringify((await backend.settled(second))?.events)}. ` +
              "The delivery is marked by a listener that runs after the job's completion is committed, so a kill between the two loses it.",
          );
        });
      }
      expect(await second.stop()).toEqual({ code: 0, signal: null });
    });
  }
});
