import { describe, expect, it } from "vitest";
import {
  type ClaimedAttempt,
  type ClaimedJob,
  createCompletionBatcher,
  createQueueDispatcher,
  type DispatcherBackend,
  type QueueDispatcher,
  type QueueDispatcherOptions,
} from "./queue-dispatcher.ts";

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

async function waitFor(condition: () => boolean, timeoutMs = 3_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(2);
  }
}

let jobCounter = 0;

function claimed(overrides: Partial<ClaimedJob> = {}): ClaimedJob {
  jobCounter += 1;
  return {
    id: `job-${jobCounter}`,
    retryCount: 0,
    expireInSeconds: 300,
    heartbeatSeconds: null,
    ...overrides,
  } as ClaimedJob;
}

/** An in-memory stand-in for pg-boss: a list of claimable jobs, and a record of every call. */
class FakeBackend implements DispatcherBackend {
  available: ClaimedJob[] = [];
  fetches: { batchSize: number; returned: number; at: number }[] = [];
  touches: ClaimedAttempt[][] = [];
  releases: { attempts: ClaimedAttempt[]; reason: Record<string, unknown> }[] = [];
  /** Ids the next touches report as no longer active. */
  lost = new Set<string>();
  fetchDelayMs = 0;
  failFetches = false;

  async fetch(batchSize: number): Promise<ClaimedJob[]> {
    if (this.fetchDelayMs > 0) await sleep(this.fetchDelayMs);
    if (this.failFetches) throw new Error("connection refused");
    const jobs = this.available.splice(0, batchSize);
    this.fetches.push({ batchSize, returned: jobs.length, at: performance.now() });
    return jobs;
  }

  async touch(attempts: ClaimedAttempt[]): Promise<readonly string[]> {
    this.touches.push(attempts);
    return attempts.map((attempt) => attempt.id).filter((id) => !this.lost.has(id));
  }

  async release(attempts: ClaimedAttempt[], reason: Record<string, unknown>): Promise<void> {
    this.releases.push({ attempts, reason });
  }
}

interface Harness {
  backend: FakeBackend;
  dispatcher: QueueDispatcher;
  started: { job: ClaimedJob; signal: AbortSignal; finish(): void; fail(error: unknown): void }[];
  logs: { level: string; message: string | undefined }[];
}

/** A dispatcher whose attempts run until the test finishes (or fails) them. */
function harness(overrides: Partial<QueueDispatcherOptions> = {}): Harness {
  const backend = new FakeBackend();
  const started: Harness["started"] = [];
  const logs: Harness["logs"] = [];
  const dispatcher = createQueueDispatcher({
    queue: "connector.test",
    concurrency: 4,
    pollingIntervalMs: 10_000,
    minimumFetchIntervalMs: 0,
    backend,
    logger: {
      warn: (_object, message) => logs.push({ level: "warn", message }),
      error: (_object, message) => logs.push({ level: "error", message }),
    },
    run: (job, signal) =>
      new Promise<void>((resolve, reject) => {
        started.push({ job, signal, finish: resolve, fail: reject });
      }),
    ...overrides,
  });
  return { backend, dispatcher, started, logs };
}

describe("queue dispatcher", () => {
  it("claims at most the free slots in one fetch and fetches again as slots free up", async () => {
    const { backend, dispatcher, started } = harness();
    backend.available = Array.from({ length: 10 }, () => claimed());
    dispatcher.start();
    await waitFor(() => started.length === 4, 3_000, "the first batch");
    expect(backend.fetches[0]).toMatchObject({ batchSize: 4, returned: 4 });
    expect(dispatcher.statistics().held).toBe(4);
    started[0]?.finish();
    started[1]?.finish();
    await waitFor(() => started.length === 6, 3_000, "two more jobs");
    expect(dispatcher.statistics().held).toBe(4);
    expect(backend.fetches.every((fetch) => fetch.batchSize <= 4)).toBe(true);
    for (const attempt of started) attempt.finish();
    await waitFor(() => started.length === 10, 3_000, "every job");
    for (const attempt of started) attempt.finish();
    await dispatcher.stop({ graceful: true, deadline: performance.now() + 1_000 });
    expect(backend.releases).toEqual([]);
  });

  it("serves many wake-ups that arrive during a fetch with one more fetch", async () => {
    const { backend, dispatcher } = harness();
    backend.fetchDelayMs = 30;
    dispatcher.start();
    await sleep(5);
    for (let wake = 0; wake < 20; wake += 1) dispatcher.wake();
    await sleep(100);
    // The first fetch, then one for all 20 wake-ups; then nothing until the 10 s poll.
    expect(backend.fetches).toHaveLength(2);
    await dispatcher.stop({ graceful: false, deadline: performance.now() });
  });

  it("keeps the minimum interval between the starts of two fetches", async () => {
    const { backend, dispatcher } = harness({ minimumFetchIntervalMs: 60 });
    dispatcher.start();
    await waitFor(() => backend.fetches.length === 1, 1_000, "the first fetch");
    for (let round = 0; round < 4; round += 1) {
      dispatcher.wake();
      await sleep(10);
    }
    await waitFor(() => backend.fetches.length === 2, 1_000, "the second fetch");
    await sleep(30);
    expect(backend.fetches).toHaveLength(2);
    const [first, second] = backend.fetches;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(55);
    await dispatcher.stop({ graceful: false, deadline: performance.now() });
  });

  it("spaces fetches out after a slow one, so that they take at most their share of the time", async () => {
    const { backend, dispatcher } = harness({ maximumFetchShare: 0.25 });
    backend.fetchDelayMs = 40;
    dispatcher.start();
    await waitFor(() => backend.fetches.length === 1, 1_000, "the first fetch");
    dispatcher.wake();
    await waitFor(() => backend.fetches.length === 2, 1_000, "the second fetch");
    const [first, second] = backend.fetches;
    // The first took ~40 ms: the second began no sooner than ~160 ms after the first began.
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(150);
    await dispatcher.stop({ graceful: false, deadline: performance.now() });
  });

  it("fetches again at once after a full batch, and polls when idle", async () => {
    const { backend, dispatcher, started } = harness({ pollingIntervalMs: 80, concurrency: 2 });
    backend.available = [claimed(), claimed()];
    dispatcher.start();
    await waitFor(() => started.length === 2, 1_000, "a full batch");
    for (const attempt of started) attempt.finish();
    // Slots free: the full batch suggested more, so the dispatcher looks again without a wake-up.
    await waitFor(() => backend.fetches.length >= 2, 1_000, "the next fetch");
    const afterFull = backend.fetches.length;
    backend.available = [claimed()];
    // No wake-up for this one: the poll finds it.
    await waitFor(() => started.length === 3, 1_000, "the polled job");
    expect(backend.fetches.length).toBeGreaterThan(afterFull);
    started[2]?.finish();
    await dispatcher.stop({ graceful: true, deadline: performance.now() + 500 });
  });

  it("retries a failed fetch at the next poll without spinning", async () => {
    const { backend, dispatcher, logs } = harness({ pollingIntervalMs: 50 });
    backend.failFetches = true;
    dispatcher.start();
    await sleep(130);
    await dispatcher.stop({ graceful: false, deadline: performance.now() });
    expect(logs.filter((log) => log.message === "job queue fetch failed").length).toBeGreaterThanOrEqual(2);
    expect(logs.filter((log) => log.message === "job queue fetch failed").length).toBeLessThanOrEqual(4);
  });

  it("refreshes the heartbeat of held jobs and aborts the attempts whose claim is gone", async () => {
    const { backend, dispatcher, started } = harness();
    // 0.1 s heartbeats: refreshed every 50 ms.
    backend.available = [claimed({ heartbeatSeconds: 0.1 }), claimed({ heartbeatSeconds: 0.1 })];
    dispatcher.start();
    await waitFor(() => started.length === 2, 1_000, "both jobs");
    await waitFor(() => backend.touches.length >= 1, 1_000, "a heartbeat");
    expect(backend.touches[0]?.map((attempt) => attempt.id).sort()).toEqual(
      started.map((attempt) => attempt.job.id).sort(),
    );
    const [kept, lost] = started;
    backend.lost.add(lost?.job.id ?? "");
    await waitFor(() => lost?.signal.aborted === true, 1_000, "the lost claim's abort");
    expect(kept?.signal.aborted).toBe(false);
    expect(String((lost?.signal.reason as Error | undefined)?.message)).toMatch(/no longer active/);
    kept?.finish();
    lost?.finish();
    await dispatcher.stop({ graceful: true, deadline: performance.now() + 500 });
  });

  it("aborts and releases an attempt that runs past its expiry, and frees its slot", async () => {
    const { backend, dispatcher, started } = harness({ concurrency: 1 });
    backend.available = [claimed({ expireInSeconds: 0.08 }), claimed()];
    dispatcher.start();
    await waitFor(() => started.length === 1, 1_000, "the first job");
    await waitFor(() => started[0]?.signal.aborted === true, 1_000, "the expiry");
    await waitFor(() => backend.releases.length === 1, 1_000, "the release");
    expect(backend.releases[0]?.attempts).toEqual([{ id: started[0]?.job.id, retryCount: 0 }]);
    expect(backend.releases[0]?.reason).toMatchObject({ error: { name: "JobExpiredError" } });
    // Its slot is free even though its handler has not returned.
    await waitFor(() => started.length === 2, 1_000, "the next job");
    started[1]?.finish();
    started[0]?.finish();
    await dispatcher.stop({ graceful: true, deadline: performance.now() + 500 });
  });

  it("releases a job whose attempt could not be settled", async () => {
    const { backend, dispatcher, started, logs } = harness();
    backend.available = [claimed()];
    dispatcher.start();
    await waitFor(() => started.length === 1, 1_000, "the job");
    started[0]?.fail(new Error("the database went away"));
    await waitFor(() => backend.releases.length === 1, 1_000, "the release");
    expect(backend.releases[0]?.reason).toMatchObject({ error: { name: "JobSettlementError" } });
    expect(logs.some((log) => log.level === "error")).toBe(true);
    await dispatcher.stop({ graceful: true, deadline: performance.now() + 500 });
  });

  it("a graceful stop lets held jobs finish until the deadline, then releases the rest", async () => {
    const { backend, dispatcher, started } = harness();
    backend.available = [claimed(), claimed()];
    dispatcher.start();
    await waitFor(() => started.length === 2, 1_000, "both jobs");
    const [quick, stuck] = started;
    const stopping = dispatcher.stop({ graceful: true, deadline: performance.now() + 150 });
    await sleep(20);
    quick?.finish();
    backend.available = [claimed()];
    await stopping;
    // No fetch after the stop began; the finished job was not released, the stuck one was.
    expect(started).toHaveLength(2);
    expect(backend.releases).toHaveLength(1);
    expect(backend.releases[0]?.attempts.map((attempt) => attempt.id)).toEqual([stuck?.job.id]);
    expect(backend.releases[0]?.reason).toMatchObject({ error: { name: "QueueStoppedError" } });
    expect(stuck?.signal.aborted).toBe(true);
    expect(quick?.signal.aborted).toBe(false);
    stuck?.finish();
  });

  it("a stop without grace releases every held job at once and aborts their signals", async () => {
    const { backend, dispatcher, started } = harness();
    backend.available = [claimed(), claimed(), claimed()];
    dispatcher.start();
    await waitFor(() => started.length === 3, 1_000, "the jobs");
    await dispatcher.stop({ graceful: false, deadline: performance.now() + 10_000 });
    expect(backend.releases).toHaveLength(1);
    expect(backend.releases[0]?.attempts).toHaveLength(3);
    expect(started.every((attempt) => attempt.signal.aborted)).toBe(true);
    expect(dispatcher.statistics().held).toBe(0);
    for (const attempt of started) attempt.finish();
  });
});

describe("completion batcher", () => {
  it("completes a lone attempt at once and the ones that finish meanwhile together", async () => {
    const calls: ClaimedAttempt[][] = [];
    let release: () => void = () => {};
    const batcher = createCompletionBatcher(async (attempts) => {
      calls.push(attempts);
      if (calls.length === 1) await new Promise<void>((resolve) => (release = resolve));
      return attempts.filter((attempt) => attempt.id !== "lost").map((attempt) => attempt.id);
    });
    const first = batcher.complete({ id: "a", retryCount: 0 });
    await sleep(5);
    expect(calls).toEqual([[{ id: "a", retryCount: 0 }]]);
    const later = [
      batcher.complete({ id: "b", retryCount: 1 }),
      batcher.complete({ id: "lost", retryCount: 0 }),
      batcher.complete({ id: "c", retryCount: 0 }),
    ];
    release();
    expect(await first).toBe(true);
    expect(await Promise.all(later)).toEqual([true, false, true]);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.map((attempt) => attempt.id)).toEqual(["b", "lost", "c"]);
  });

  it("rejects only the batch whose statement failed, and splits long queues", async () => {
    const calls: number[] = [];
    let fail = true;
    let release: () => void = () => {};
    const batcher = createCompletionBatcher(async (attempts) => {
      calls.push(attempts.length);
      if (calls.length === 1) await new Promise<void>((resolve) => (release = resolve));
      if (fail) {
        fail = false;
        throw new Error("deadlock detected");
      }
      return attempts.map((attempt) => attempt.id);
    }, 2);
    const first = batcher.complete({ id: "a", retryCount: 0 });
    const waiting = ["b", "c", "d"].map((id) => batcher.complete({ id, retryCount: 0 }));
    release();
    await expect(first).rejects.toThrow(/deadlock/);
    expect(await Promise.all(waiting)).toEqual([true, true, true]);
    expect(calls).toEqual([1, 2, 1]);
  });
});
