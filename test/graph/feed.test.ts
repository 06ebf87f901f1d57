import { describe, expect, it } from 'vitest';
import { feed } from '../../src/graph/feed.js';

/** A promise with its resolve and reject, for a test to settle by hand. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('feed', () => {
  it('runs every item, at most `limit` at once, the next started as one finishes', async () => {
    let running = 0;
    let most = 0;
    const seen: number[] = [];
    await feed(
      Array.from({ length: 50 }, (_, i) => i),
      4,
      async (i) => {
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, i % 3));
        seen.push(i);
        running--;
      },
    );
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(most).toBe(4);
  });

  it('takes an item from the iterable only when it starts it', async () => {
    const gates = Array.from({ length: 6 }, deferred);
    let taken = 0;
    function* items(): Generator<number> {
      for (let i = 0; i < gates.length; i++) {
        taken++;
        yield i;
      }
    }
    const done = feed(items(), 2, (i) => gates[i]!.promise);
    await tick();
    expect(taken).toBe(2);
    gates[1]!.resolve();
    await tick();
    expect(taken).toBe(3);
    for (const g of gates) g.resolve();
    await done;
    expect(taken).toBe(6);
  });

  it('rejects with the first failure and starts nothing after it; a later failure of one running is not reported', async () => {
    const gates = Array.from({ length: 10 }, deferred);
    const started: number[] = [];
    const done = feed(
      gates.map((_, i) => i),
      3,
      (i) => {
        started.push(i);
        return gates[i]!.promise;
      },
    );
    await tick();
    gates[1]!.reject(new Error('first'));
    await expect(done).rejects.toThrow('first');
    gates[0]!.reject(new Error('second'));
    gates[2]!.resolve();
    await tick();
    expect(started).toEqual([0, 1, 2]);
  });

  it('settles at once for no items, and runs one at a time for a limit under one', async () => {
    await expect(feed([], 4, () => Promise.reject(new Error('never')))).resolves.toBeUndefined();
    let running = 0;
    let most = 0;
    await feed([1, 2, 3], 0.5, async () => {
      running++;
      most = Math.max(most, running);
      await tick();
      running--;
    });
    expect(most).toBe(1);
  });
});
