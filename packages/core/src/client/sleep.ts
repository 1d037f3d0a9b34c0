import { AbortError, type ErrorSource } from "../errors.ts";

/** Waits `ms` milliseconds; rejects with the signal's reason as soon as it aborts. */
export type SleepFunction = (ms: number, signal?: AbortSignal) => Promise<void>;

/** The default sleep: a timer that is cleared when the signal aborts. */
export const defaultSleep: SleepFunction = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener("abort", onAbort, { once: true });
  });

/** Builds the AbortError thrown when a caller's signal aborted `what`. */
export function abortErrorFor(
  what: string,
  signal: AbortSignal | undefined,
  source: ErrorSource,
): AbortError {
  return new AbortError(`${what} was aborted`, { source, cause: signal?.reason });
}

/**
 * Runs `sleep` and turns a rejection caused by `signal` into an AbortError, so
 * callers see one error class whatever the injected sleep rejects with.
 */
export async function abortableSleep(
  sleep: SleepFunction,
  ms: number,
  signal: AbortSignal | undefined,
  what: string,
  source: ErrorSource,
): Promise<void> {
  if (signal?.aborted) throw abortErrorFor(what, signal, source);
  try {
    await sleep(ms, signal);
  } catch (error) {
    if (signal?.aborted) throw abortErrorFor(what, signal, source);
    throw error;
  }
  if (signal?.aborted) throw abortErrorFor(what, signal, source);
}
