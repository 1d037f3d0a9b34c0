/**
 * Takes the jobs of one pg-boss queue for the local slots of one process: ONE fetcher per queue
 * that claims a batch (up to the free slots) and hands each job to a slot, instead of one pg-boss
 * worker per slot.
 *
 * Why: on the embedded database every statement runs on the service's one connection (and thread),
 * and pg-boss's `key_strict_fifo` fetch is its costliest statement (a few ms, growing with the
 * backlog). With a worker per slot, every new job woke every idle worker (LISTEN/NOTIFY wakes a
 * queue's workers all at once) and each fetched, so a job cost about `concurrency + 1` fetches, and
 * the ingest's transactions queued behind them. Here wake-ups only mark the queue as worth a fetch:
 * however many arrive (a NOTIFY per new job, a local job settling, the poll), at most one fetch is in
 * flight, at most one per `minimumFetchIntervalMs`, and it claims as many jobs as there are free
 * slots.
 *
 * Order and exclusivity are the policy's: a `key_strict_fifo` fetch returns only the head of each
 * ordering key, and only when no job of that key is active, retrying or failed (in any replica), so
 * a batch never holds two jobs of one key and a key's next job is claimable only once this one is
 * settled. A job that ends here wakes the fetcher, since its successor may have just become
 * claimable.
 *
 * What pg-boss's own workers did for a claimed job is done here for every held job: a heartbeat
 * (one `touch` for all held jobs of the queue; a job the heartbeat finds reclaimed gets its signal
 * aborted), the `expireInSeconds` limit (the attempt is aborted and released, and its slot freed)
 * and the release of unfinished jobs when the queue stops (failed back to `retry`, so they run
 * again: never lost).
 */
import { performance } from "node:perf_hooks";
import type { JobWithMetadata } from "pg-boss";

export type ClaimedJob = JobWithMetadata<unknown>;

/** The attempt a claim names: pg-boss fences settling calls to it. */
export interface ClaimedAttempt {
  id: string;
  retryCount: number;
}

/** The pg-boss calls the dispatcher makes, on one queue. */
export interface DispatcherBackend {
  /** Claims up to `batchSize` jobs (their state becomes `active`). */
  fetch(batchSize: number): Promise<ClaimedJob[]>;
  /** Refreshes the heartbeat of the attempts; returns the ids it refreshed (the others are lost). */
  touch(attempts: ClaimedAttempt[]): Promise<readonly string[] | undefined>;
  /** Fails the attempts back to `retry` (fenced to them), so that they run again. */
  release(attempts: ClaimedAttempt[], reason: Record<string, unknown>): Promise<void>;
}

export interface DispatcherLogger {
  warn(object: Record<string, unknown>, message?: string): void;
  error(object: Record<string, unknown>, message?: string): void;
}

export interface QueueDispatcherOptions {
  /** The pg-boss queue (for logs). */
  queue: string;
  /** Jobs held (running) at once. */
  concurrency: number;
  /** An idle dispatcher fetches this often even without a wake-up (delayed jobs, retries, missed NOTIFYs). */
  pollingIntervalMs: number;
  /** Least time between the starts of two fetches; wake-ups in between are served by one fetch. */
  minimumFetchIntervalMs: number;
  /**
   * Longest share of the time fetches may take (0 < share ≤ 1): after a fetch that took `d` ms the
   * next starts no sooner than `d / share` ms after it began. A `key_strict_fifo` fetch costs more
   * as the backlog grows; on the embedded database that time is taken from the ingest. Default 1.
   */
  maximumFetchShare?: number;
  /** Called after each fetch (statistics, maintenance triggers). */
  onFetched?(info: { durationMs: number; jobs: number; batchSize: number }): void;
  backend: DispatcherBackend;
  /**
   * Runs one attempt of a claimed job and settles it (complete, retry, dead letter). `signal` is
   * aborted when the attempt no longer owns the job. A rejection releases the job.
   */
  run(job: ClaimedJob, signal: AbortSignal): Promise<void>;
  logger: DispatcherLogger;
}

export interface DispatcherStatistics {
  fetches: number;
  jobsFetched: number;
  /** Jobs held now. */
  held: number;
}

export interface QueueDispatcher {
  /** Begins fetching. */
  start(): void;
  /** There may be claimable jobs (a NOTIFY, a listener reconnect): fetch soon. */
  wake(): void;
  /**
   * Stops fetching; with `graceful`, waits for held jobs until `deadline` (performance.now() time),
   * then releases the jobs still held (their signals are aborted). Resolves once released.
   */
  stop(options: { graceful: boolean; deadline: number }): Promise<void>;
  /** Attempts whose `run` has not returned yet (including released ones still unwinding). */
  running(): Promise<void>[];
  statistics(): DispatcherStatistics;
}

interface HeldJob {
  job: ClaimedJob;
  attempt: ClaimedAttempt;
  controller: AbortController;
  expiry: NodeJS.Timeout | undefined;
}

/** Error summaries stored as a released attempt's output. */
function reasonOf(name: string, message: string): Record<string, unknown> {
  return { error: { name, message } };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function createQueueDispatcher(options: QueueDispatcherOptions): QueueDispatcher {
  const { backend, logger, queue, concurrency } = options;
  const held = new Map<string, HeldJob>();
  const running = new Set<Promise<void>>();
  let state: "created" | "running" | "stopping" | "stopped" = "created";
  /** Whether a fetch may find something (a wake-up came, or the last fetch was full). */
  let wanted = true;
  let fetching: Promise<void> | undefined;
  let lastFetchStartedAt = Number.NEGATIVE_INFINITY;
  /** Least time from the start of the last fetch to the start of the next. */
  let fetchSpacingMs = options.minimumFetchIntervalMs;
  const maximumFetchShare = Math.min(1, Math.max(0.01, options.maximumFetchShare ?? 1));
  let timer: NodeJS.Timeout | undefined;
  let timerDueAt = Number.POSITIVE_INFINITY;
  let heartbeatTimer: NodeJS.Timeout | undefined;
  let heartbeatDueAt = Number.POSITIVE_INFINITY;
  let heartbeatRunning = false;
  const statistics = { fetches: 0, jobsFetched: 0 };

  function clearTimer(): void {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    timerDueAt = Number.POSITIVE_INFINITY;
  }

  /** Runs `schedule` after `delayMs`, unless a timer is already due sooner. */
  function armTimer(delayMs: number): void {
    const dueAt = performance.now() + delayMs;
    if (timer !== undefined && timerDueAt <= dueAt) return;
    clearTimer();
    timerDueAt = dueAt;
    timer = setTimeout(() => {
      timer = undefined;
      timerDueAt = Number.POSITIVE_INFINITY;
      if (!wanted && held.size < concurrency) wanted = true; // the poll
      schedule();
    }, delayMs);
  }

  /** Fetches now, later, or not at all, depending on free slots, wake-ups and the fetch interval. */
  function schedule(): void {
    if (state !== "running" || fetching !== undefined) return;
    const free = concurrency - held.size;
    if (free <= 0) {
      // A settling job frees a slot and schedules again; nothing to poll for meanwhile.
      clearTimer();
      return;
    }
    if (!wanted) {
      armTimer(Math.max(0, lastFetchStartedAt + options.pollingIntervalMs - performance.now()));
      return;
    }
    const wait = lastFetchStartedAt + fetchSpacingMs - performance.now();
    if (wait > 0) {
      armTimer(wait);
      return;
    }
    clearTimer();
    fetching = fetchBatch(free).finally(() => {
      fetching = undefined;
      schedule();
    });
  }

  async function fetchBatch(batchSize: number): Promise<void> {
    wanted = false;
    lastFetchStartedAt = performance.now();
    statistics.fetches += 1;
    let jobs: ClaimedJob[];
    try {
      jobs = await backend.fetch(batchSize);
    } catch (error) {
      // The next poll tries again (a database blip must not spin the fetcher).
      logger.error({ queue, message: messageOf(error) }, "job queue fetch failed");
      return;
    }
    const durationMs = performance.now() - lastFetchStartedAt;
    fetchSpacingMs = Math.max(options.minimumFetchIntervalMs, durationMs / maximumFetchShare);
    statistics.jobsFetched += jobs.length;
    try {
      options.onFetched?.({ durationMs, jobs: jobs.length, batchSize });
    } catch (error) {
      logger.warn({ queue, message: messageOf(error) }, "a fetch listener threw");
    }
    // A full batch suggests more are waiting: fetch again as soon as slots and the interval allow.
    if (jobs.length >= batchSize) wanted = true;
    for (const job of jobs) hold(job);
  }

  function hold(job: ClaimedJob): void {
    const entry: HeldJob = {
      job,
      attempt: { id: job.id, retryCount: job.retryCount },
      controller: new AbortController(),
      expiry: undefined,
    };
    held.set(job.id, entry);
    const expireInSeconds = Number(job.expireInSeconds);
    if (Number.isFinite(expireInSeconds) && expireInSeconds > 0) {
      entry.expiry = setTimeout(() => expire(entry, expireInSeconds), expireInSeconds * 1000);
    }
    armHeartbeat();
    const run = runHeld(entry);
    running.add(run);
    void run.finally(() => running.delete(run));
  }

  async function runHeld(entry: HeldJob): Promise<void> {
    try {
      await options.run(entry.job, entry.controller.signal);
    } catch (error) {
      logger.error(
        { queue, jobId: entry.job.id, message: messageOf(error) },
        "a job attempt could not be settled; it is released to run again",
      );
      if (held.get(entry.job.id) === entry) {
        await releaseQuietly([entry], reasonOf("JobSettlementError", messageOf(error)));
      }
    } finally {
      letGo(entry);
    }
  }

  /** The slot of `entry` is free again (its attempt settled, expired or was released). */
  function letGo(entry: HeldJob): void {
    if (entry.expiry !== undefined) clearTimeout(entry.expiry);
    entry.expiry = undefined;
    if (held.get(entry.job.id) !== entry) return;
    held.delete(entry.job.id);
    if (held.size === 0) clearHeartbeat();
    // Its key's next job may be claimable now, and a slot is free.
    wanted = true;
    schedule();
  }

  function expire(entry: HeldJob, seconds: number): void {
    entry.expiry = undefined;
    if (held.get(entry.job.id) !== entry) return;
    const reason = reasonOf("JobExpiredError", `handler execution exceeded ${seconds}s`);
    entry.controller.abort(new Error(`handler execution exceeded ${seconds}s`));
    void releaseQuietly([entry], reason).finally(() => letGo(entry));
  }

  async function releaseQuietly(entries: HeldJob[], reason: Record<string, unknown>): Promise<void> {
    if (entries.length === 0) return;
    try {
      await backend.release(
        entries.map((entry) => entry.attempt),
        reason,
      );
    } catch (error) {
      // Not lost: the supervisor (of any replica) retries them once their heartbeat or expiry lapses.
      logger.error(
        { queue, jobs: entries.length, message: messageOf(error) },
        "could not release jobs; the supervisor will retry them",
      );
    }
  }

  function clearHeartbeat(): void {
    if (heartbeatTimer !== undefined) clearTimeout(heartbeatTimer);
    heartbeatTimer = undefined;
    heartbeatDueAt = Number.POSITIVE_INFINITY;
  }

  /** Half the shortest heartbeat among the held jobs, as pg-boss's workers refresh it. */
  function heartbeatPeriodMs(): number | undefined {
    let shortest = Number.POSITIVE_INFINITY;
    for (const entry of held.values()) {
      const seconds = Number(entry.job.heartbeatSeconds ?? 0);
      if (seconds > 0 && seconds < shortest) shortest = seconds;
    }
    return Number.isFinite(shortest) ? (shortest * 1000) / 2 : undefined;
  }

  function armHeartbeat(): void {
    if (heartbeatRunning) return; // re-armed when the running beat ends
    const period = heartbeatPeriodMs();
    if (period === undefined) return;
    const dueAt = performance.now() + period;
    if (heartbeatTimer !== undefined && heartbeatDueAt <= dueAt) return;
    clearHeartbeat();
    heartbeatDueAt = dueAt;
    heartbeatTimer = setTimeout(() => {
      heartbeatTimer = undefined;
      heartbeatDueAt = Number.POSITIVE_INFINITY;
      void beat();
    }, period);
  }

  async function beat(): Promise<void> {
    const entries = [...held.values()].filter(
      (entry) => Number(entry.job.heartbeatSeconds ?? 0) > 0 && !entry.controller.signal.aborted,
    );
    if (entries.length > 0) {
      heartbeatRunning = true;
      try {
        const refreshed = await backend.touch(entries.map((entry) => entry.attempt));
        // Without the ids it refreshed, a heartbeat cannot tell which job went missing: abort nothing.
        if (refreshed !== undefined) {
          const alive = new Set(refreshed);
          for (const entry of entries) {
            if (!alive.has(entry.job.id) && held.get(entry.job.id) === entry) {
              entry.controller.abort(
                new Error(`job ${entry.job.id} is no longer active under this worker's claim`),
              );
            }
          }
        }
      } catch (error) {
        // A heartbeat that could not run says nothing about the claims: abort nothing.
        logger.warn({ queue, message: messageOf(error) }, "job heartbeat failed");
      } finally {
        heartbeatRunning = false;
      }
    }
    if (held.size > 0) armHeartbeat();
  }

  function delay(milliseconds: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, Math.max(0, milliseconds)).unref());
  }

  return {
    start() {
      if (state !== "created") return;
      state = "running";
      schedule();
    },

    wake() {
      if (state !== "running") return;
      wanted = true;
      schedule();
    },

    async stop({ graceful, deadline }) {
      if (state === "stopped" || state === "stopping") return;
      state = "stopping";
      clearTimer();
      // Jobs a fetch in flight claims are held like the others (and released below if need be).
      await fetching;
      if (graceful && running.size > 0) {
        await Promise.race([Promise.allSettled([...running]), delay(deadline - performance.now())]);
      }
      const unfinished = [...held.values()];
      // Released before their signals are aborted, so that an attempt finishing in between finds its
      // job no longer active and settles nothing (pg-boss's own workers do the same).
      await releaseQuietly(
        unfinished,
        reasonOf("QueueStoppedError", "the queue stopped while the job was running"),
      );
      for (const entry of unfinished) {
        entry.controller.abort(new Error("the job queue is stopping"));
        if (entry.expiry !== undefined) clearTimeout(entry.expiry);
        entry.expiry = undefined;
        held.delete(entry.job.id);
      }
      clearHeartbeat();
      state = "stopped";
    },

    running() {
      return [...running];
    },

    statistics() {
      return { ...statistics, held: held.size };
    },
  };
}

/** Completes attempts; one call may carry several. */
export type CompleteMany = (attempts: ClaimedAttempt[]) => Promise<readonly string[]>;

export interface CompletionBatcher {
  /** Completes the attempt (fenced to it); false when the attempt no longer owned its job. */
  complete(attempt: ClaimedAttempt): Promise<boolean>;
}

/**
 * Group completion: while one completion statement runs, the attempts that finish meanwhile wait and
 * are then completed together by the next one. A lone completion goes out at once (no added
 * latency); under load, one statement settles many jobs, which on the embedded database spares its
 * one connection a statement per job.
 */
export function createCompletionBatcher(completeMany: CompleteMany, maximumBatch = 100): CompletionBatcher {
  let waiting: { attempt: ClaimedAttempt; resolve(settled: boolean): void; reject(error: unknown): void }[] =
    [];
  let flushing = false;

  async function flush(): Promise<void> {
    flushing = true;
    try {
      while (waiting.length > 0) {
        const batch = waiting.slice(0, maximumBatch);
        waiting = waiting.slice(batch.length);
        try {
          const completed = new Set(await completeMany(batch.map((entry) => entry.attempt)));
          for (const entry of batch) entry.resolve(completed.has(entry.attempt.id));
        } catch (error) {
          for (const entry of batch) entry.reject(error);
        }
      }
    } finally {
      flushing = false;
    }
  }

  return {
    complete(attempt) {
      return new Promise<boolean>((resolve, reject) => {
        waiting.push({ attempt, resolve, reject });
        if (!flushing) void flush();
      });
    },
  };
}
