import { AsyncLocalStorage } from "node:async_hooks";

interface Held {
  key: string;
  active: boolean;
  outer: Held | undefined;
}

/**
 * An in-process mutual exclusion per key: `run(key, work)` waits until every earlier `run` with the
 * same key has settled, then runs `work`. Keys nobody waits on are forgotten, so the map stays small.
 *
 * It is not reentrant: `run(key)` from inside the `work` of the same key would wait for itself
 * forever, so it throws instead.
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();
  readonly #held = new AsyncLocalStorage<Held>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    for (let held = this.#held.getStore(); held !== undefined; held = held.outer) {
      if (held.active && held.key === key) {
        throw new Error(`The lock "${key}" is already held by this caller: withLock is not reentrant`);
      }
    }
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => current);
    this.#tails.set(key, tail);
    await previous;
    const held: Held = { key, active: true, outer: this.#held.getStore() };
    try {
      return await this.#held.run(held, work);
    } finally {
      held.active = false;
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }

  /** How many keys are held or awaited (for tests and diagnostics). */
  get size(): number {
    return this.#tails.size;
  }
}
