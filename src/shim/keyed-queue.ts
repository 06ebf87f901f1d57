const ignore = (): void => {};

/**
 * Runs the tasks of one key one after another (each starts once the one before has settled, in the
 * order they came), the tasks of different keys side by side. The verifier runs one user's
 * verifications so: each reads the state the one before it wrote, so a node's verifications never
 * fail one another's compare-and-set (9 requests at once for one user used to exhaust the retries
 * and be answered as lost state).
 */
export class KeyedQueue {
  /** The last task of each key with one queued or running. */
  readonly #tails = new Map<string, Promise<void>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const before = this.#tails.get(key);
    const result = before ? before.then(task) : task();
    const tail = result.then(ignore, ignore);
    this.#tails.set(key, tail);
    // Forgotten once the last task of the key is done, so memory follows the keys in use.
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }
}
