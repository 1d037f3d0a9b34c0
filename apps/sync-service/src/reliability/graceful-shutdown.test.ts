/**
 * Graceful shutdown (what SIGTERM runs): stop accepting requests, let the job in flight finish within
 * SHUTDOWN_TIMEOUT_SECONDS or release it to run again after a restart, close the database.
 */

import { randomUUID } from "node:crypto";
import { Agent, request } from "undici";
import { describe, it, type OnTestFinishedHandler } from "vitest";
import type { RunningApplication } from "../application.ts";
import { openDatabase } from "../database/database.ts";
import { readRecording } from "../test-support/recording-connector.ts";
import {
  createTestEnvironment,
  startTestApplication,
  type TestEnvironment,
} from "./application.test-helpers.ts";
import {
  messageEventBody,
  signedHeaders,
  uniqueChatId,
  WebhookClient,
  waitFor,
} from "./webhooks.test-helpers.ts";

/** Per test (the tests run at once): an environment and applications, cleaned up last-in first-out. */
function harness(onTestFinished: (handler: OnTestFinishedHandler) => void) {
  const cleanups: (() => Promise<void>)[] = [];
  onTestFinished(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return {
    async environmentWith(variables: Record<string, string>): Promise<TestEnvironment> {
      const environment = await createTestEnvironment({ variables });
      cleanups.push(() => environment.dispose());
      return environment;
    },
    async started(environment: TestEnvironment, delayMs: number): Promise<RunningApplication> {
      const { application } = await startTestApplication(environment, { connector: { delayMs } });
      cleanups.push(() => application.stop());
      return application;
    },
  };
}

/** Sends one event; returns its id and the answer's status. */
async function sendEvent(
  environment: TestEnvironment,
  application: RunningApplication,
): Promise<{ eventId: string; status: number | undefined }> {
  const eventId = randomUUID();
  const body = messageEventBody({ eventId, chatId: uniqueChatId() });
  const client = new WebhookClient({ connections: 1 });
  try {
    const answer = await client.post(application.url, body, signedHeaders(body, environment.secret));
    return { eventId, status: answer.status };
  } finally {
    await client.close();
  }
}

async function attemptsOf(environment: TestEnvironment, eventId: string) {
  return (await readRecording(environment.recordingDatabase)).attempts.filter(
    (attempt) => attempt.eventId === eventId,
  );
}

/** A request on a new connection: refused once the server stopped listening, or 503 while it closes. */
async function newRequestOutcome(url: string): Promise<string> {
  const agent = new Agent({ connect: { timeout: 2_000 } });
  try {
    const response = await request(`${url}/healthz`, { dispatcher: agent });
    await response.body.dump();
    return String(response.statusCode);
  } catch (error) {
    return (error as { code?: string }).code ?? (error as Error).message;
  } finally {
    await agent.destroy();
  }
}

describe("graceful shutdown", { concurrent: true }, () => {
  it("refuses new requests, lets the job in flight finish, then closes the database", {
    timeout: 60_000,
  }, async ({ expect, onTestFinished }) => {
    const { environmentWith, started } = harness(onTestFinished);
    const environment = await environmentWith({ SHUTDOWN_TIMEOUT_SECONDS: "20" });
    const application = await started(environment, 1_000);
    const { eventId, status } = await sendEvent(environment, application);
    expect(status).toBe(200);
    await waitFor(async () => (await attemptsOf(environment, eventId)).length === 1, {
      what: "the handler to start",
    });

    const stopping = application.stop();
    const outcome = await newRequestOutcome(application.url);
    expect(["ECONNREFUSED", "503"]).toContain(outcome);
    // Still finishing the job: the effect is not there yet.
    expect((await attemptsOf(environment, eventId))[0]?.outcome).toBe("running");
    await stopping;

    const attempts = await attemptsOf(environment, eventId);
    expect(attempts.map((attempt) => attempt.outcome)).toEqual(["effect"]);
    const recording = await readRecording(environment.recordingDatabase);
    expect(recording.effects.filter((effect) => effect.eventId === eventId)).toHaveLength(1);

    // The database is closed, and its data directory free for the next process.
    await expect(application.database.query("SELECT 1")).rejects.toThrow();
    const reopened = await openDatabase({ dataDirectory: environment.dataDirectory });
    try {
      const jobs = await reopened.query<{ state: string }>(
        "SELECT state::text AS state FROM pgboss.job WHERE starts_with(name, 'connector.')",
      );
      expect(jobs.rows.map((row) => row.state)).toEqual(["completed"]);
      const events = await reopened.query<{ status: string }>(
        "SELECT status FROM linq_events WHERE event_id = $1",
        [eventId],
      );
      expect(events.rows.map((row) => row.status)).toEqual(["processed"]);
    } finally {
      await reopened.close();
    }
  });

  it("releases a job that does not finish within the timeout; it completes after a restart", {
    timeout: 60_000,
  }, async ({ expect, onTestFinished }) => {
    const { environmentWith, started } = harness(onTestFinished);
    const environment = await environmentWith({
      SHUTDOWN_TIMEOUT_SECONDS: "1",
      JOB_RETRY_DELAY_SECONDS: "1",
    });
    const first = await started(environment, 30_000);
    const { eventId, status } = await sendEvent(environment, first);
    expect(status).toBe(200);
    await waitFor(async () => (await attemptsOf(environment, eventId)).length === 1, {
      what: "the handler to start",
    });

    const stopStarted = Date.now();
    await first.stop();
    const stopMs = Date.now() - stopStarted;
    expect(stopMs).toBeGreaterThanOrEqual(900);
    expect(stopMs).toBeLessThan(10_000);
    expect((await attemptsOf(environment, eventId)).map((attempt) => attempt.outcome)).toEqual(["aborted"]);
    expect((await readRecording(environment.recordingDatabase)).effects).toEqual([]);

    const second = await started(environment, 0);
    await waitFor(
      async () => (await attemptsOf(environment, eventId)).some((attempt) => attempt.outcome === "effect"),
      {
        timeoutMs: 30_000,
        what: "the released job to complete after the restart",
      },
    );
    expect((await attemptsOf(environment, eventId)).map((attempt) => attempt.outcome)).toEqual([
      "aborted",
      "effect",
    ]);
    const recording = await readRecording(environment.recordingDatabase);
    expect(recording.effects.map((effect) => effect.eventId)).toEqual([eventId]);
    await second.stop();
  });
});
