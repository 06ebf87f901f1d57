import { describe, expect, it } from 'vitest';
import { BatchItemError, CommitBatcher } from '../../../src/shim/postgres/commit-batcher.js';

/** A batch runner whose batches the test finishes by hand. */
function manualRunner() {
  const batches: { items: string[]; finish: (results?: (string | BatchItemError)[]) => void; fail: (err: Error) => void }[] = [];
  const run = (items: string[]) =>
    new Promise<(string | BatchItemError)[]>((resolve, reject) => {
      batches.push({ items, finish: (results) => resolve(results ?? items.map((i) => `done ${i}`)), fail: reject });
    });
  return { batches, run };
}
const turn = () => new Promise((r) => setImmediate(r));
const keyOf = (item: string) => item.split(':')[0]!;

describe('CommitBatcher (group commit of the PostgreSQL state)', () => {
  it('sends what arrives in one turn as one batch, gathers the rest while batches are in flight, and answers each request', async () => {
    const { batches, run } = manualRunner();
    const batcher = new CommitBatcher(run, keyOf, { maxInFlight: 1 });
    const first = ['a:1', 'b:1', 'c:1'].map((i) => batcher.submit(i));
    await turn();
    expect(batches.map((b) => b.items)).toEqual([['a:1', 'b:1', 'c:1']]);
    const later = ['d:1', 'e:1'].map((i) => batcher.submit(i));
    await turn();
    expect(batches).toHaveLength(1); // one in flight: the next gathers
    expect(batcher.waiting).toBe(2);
    batches[0]!.finish();
    expect(await Promise.all(first)).toEqual(['done a:1', 'done b:1', 'done c:1']);
    await turn();
    expect(batches[1]!.items).toEqual(['d:1', 'e:1']);
    batches[1]!.finish();
    expect(await Promise.all(later)).toEqual(['done d:1', 'done e:1']);
  });

  it('puts one request per key in a batch, the second waiting for the next, in order', async () => {
    const { batches, run } = manualRunner();
    const batcher = new CommitBatcher(run, keyOf, { maxInFlight: 4 });
    const all = ['a:1', 'a:2', 'b:1', 'a:3'].map((i) => batcher.submit(i));
    await turn();
    expect(batches.map((b) => b.items)).toEqual([['a:1', 'b:1'], ['a:2'], ['a:3']]);
    for (const b of batches) b.finish();
    expect(await Promise.all(all)).toEqual(['done a:1', 'done a:2', 'done b:1', 'done a:3']);
  });

  it('caps a batch and the batches in flight', async () => {
    const { batches, run } = manualRunner();
    const batcher = new CommitBatcher(run, keyOf, { maxInFlight: 2, maxBatch: 3 });
    const all = Array.from({ length: 10 }, (_, i) => batcher.submit(`u${i}:1`));
    await turn();
    expect(batches.map((b) => b.items.length)).toEqual([3, 3]);
    batches[0]!.finish();
    await turn();
    expect(batches.map((b) => b.items.length)).toEqual([3, 3, 3]);
    batches[1]!.finish();
    batches[2]!.finish();
    await turn();
    expect(batches.map((b) => b.items.length)).toEqual([3, 3, 3, 1]);
    batches[3]!.finish();
    expect(await Promise.all(all)).toHaveLength(10);
  });

  it('rejects every request of a failed batch, one request alone for a BatchItemError, and goes on', async () => {
    const { batches, run } = manualRunner();
    const batcher = new CommitBatcher(run, keyOf, { maxInFlight: 1 });
    const failed = ['a:1', 'b:1'].map((i) => batcher.submit(i).catch((e: Error) => e.message));
    await turn();
    const next = ['c:1', 'd:1'].map((i) => batcher.submit(i).catch((e: Error) => `refused ${e.message}`));
    batches[0]!.fail(new Error('connection lost'));
    expect(await Promise.all(failed)).toEqual(['connection lost', 'connection lost']);
    await turn();
    batches[1]!.finish(['done c:1', new BatchItemError(new Error('no state for d'))]);
    expect(await Promise.all(next)).toEqual(['done c:1', 'refused no state for d']);
  });

  it('rejects the batch when the runner throws before it returns a promise', async () => {
    const batcher = new CommitBatcher<string, string>(
      () => {
        throw new Error('bad parameters');
      },
      keyOf,
    );
    await expect(batcher.submit('a:1')).rejects.toThrow('bad parameters');
    // Nothing is left in flight: the next request is sent.
    await expect(batcher.submit('b:1')).rejects.toThrow('bad parameters');
  });

  it('rejects the whole batch when the runner answers another number of results than it was given', async () => {
    const batcher = new CommitBatcher<string, string>(async (items) => items.slice(1), keyOf);
    const all = ['a:1', 'b:1'].map((i) => batcher.submit(i).catch((e: Error) => e.message));
    expect(await Promise.all(all)).toEqual(['a batch of 2 was answered with 1 results', 'a batch of 2 was answered with 1 results']);
  });

  it('answers a flood for one key in order, one a batch, beside other keys, without rescanning the queue', async () => {
    let batches = 0;
    const batcher = new CommitBatcher<string, string>(async (items) => (batches++, items), keyOf, { maxInFlight: 1 });
    const flood = Array.from({ length: 20_000 }, (_, i) => batcher.submit(`a:${i}`));
    const others = Array.from({ length: 300 }, (_, i) => batcher.submit(`u${i}:0`));
    expect(await Promise.all(flood)).toEqual(Array.from({ length: 20_000 }, (_, i) => `a:${i}`));
    expect(await Promise.all(others)).toHaveLength(300);
    // The first batch took a:0 and 255 other keys; the second a:1 and the 45 left; then a's alone.
    expect(batches).toBe(20_000);
    expect(batcher.waiting).toBe(0);
  });
});
