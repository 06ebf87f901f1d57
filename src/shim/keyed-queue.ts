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
    // Settles (never rejects) once the task has; forgotten then if it is still the key's last task,
    // so memory follows the keys in use. One reaction, not a tail and a clean-up after it (a request each).
    const settled = (): void => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    };
    const tail: Promise<void> = result.then(settled, settled);
    this.#tails.set(key, tail);
    return result;
  }
}
