/**
 * Runs `work` on each item with at most `limit` running at once, the next started as one finishes.
 * An item not started yet is only its place in `items`: no promise, closure or queued request of its
 * own. Started all at once, 100,000 users' reads held about 4 KB each (their suspended async calls
 * and queued requests, 400 MB) before the first answer came back.
 *
 * Settles once every item has finished, or rejects with the first failure: no item is started after
 * it, and those still running are left to settle (their own failures are not reported).
 */
export async function feed<T>(items: Iterable<T>, limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const it = items[Symbol.iterator]();
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed) {
      const next = it.next();
      if (next.done) return;
      try {
        await work(next.value);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.floor(limit)) }, worker));
}
