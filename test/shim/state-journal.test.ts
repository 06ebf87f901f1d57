import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createJournal, JournalWriter, readJournal, recordLine, type JournalRecord } from '../../src/shim/state-journal.js';
import { counterJson } from '../../src/shim/store-file.js';

/** How a record's line was written before it was written by hand. */
const stringified = (seq: number, record: JournalRecord): string => JSON.stringify({ seq, ...record }, counterJson);

const records: JournalRecord[] = [
  { token: 'OATH0001', counter: 12n, lastStep: null, drift: 0 },
  { token: 'OATH0001', counter: 0n, lastStep: null, drift: 0 },
  { token: 'T-2', counter: null, lastStep: 58_123_456, drift: -3 },
  { token: 'edge', counter: BigInt(Number.MAX_SAFE_INTEGER), lastStep: null, drift: 0 },
  { token: 'beyond', counter: BigInt(Number.MAX_SAFE_INTEGER) + 1n, lastStep: null, drift: 0 },
  { token: 'last', counter: 2n ** 64n - 1n, lastStep: null, drift: 0 },
  { token: 'quote"back\\slash\u0001é\u2028', counter: 7n, lastStep: null, drift: 2 },
  { user: 'alice@contoso.com', fails: 0, lockedAt: null, sources: {} },
  { user: 'bob@contoso.com', fails: 3, lockedAt: 1_765_000_000_000, sources: { '10.0.0.1': { fails: 2, at: 1_765_000_000_000 }, 'a"b': { fails: 1, at: 5 } } },
  { user: 'carol@contoso.com', fails: 1, lockedAt: null },
  { user: 'dave "d" \u00e9', fails: 1, lockedAt: null, sources: undefined },
];

describe('state journal: record lines', () => {
  it('are byte for byte what JSON.stringify with the counter replacer wrote, for every shape of record', () => {
    for (const [i, record] of records.entries()) expect(recordLine(i + 1, record)).toBe(stringified(i + 1, record));
  });

  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('read back as the records written (counters beyond 2^53 as strings, exact)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-journal-'));
    dirs.push(dir);
    const file = join(dir, 'j');
    const key = Buffer.alloc(32, 9);
    const end = await createJournal(file, key, 'S', 1, 'J');
    const writer = await JournalWriter.open(file, key, 'S', 1, 1, end);
    await Promise.all(records.map((r) => writer.append(r)));
    await writer.close();
    const read = await readJournal(file, key, { storeId: 'S', gen: 1, journalId: 'J' });
    expect(read.status).toBe('current');
    expect(read.nextSeq).toBe(records.length + 1);
    // An absent `sources` is not written (as JSON.stringify leaves out an undefined property).
    expect(read.records).toEqual(records.map((r) => ('sources' in r && r.sources === undefined ? { user: r.user, fails: r.fails, lockedAt: r.lockedAt } : r)));
  });
});
