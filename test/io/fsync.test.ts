import { closeSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src/io/atomic-file.js';
import { appendSynced, openForSyncedWrites, syncDirectory, syncFile, writeAtSynced, writeFileSynced, writeFileSyncedSync } from '../../src/io/fsync.js';

const dir = mkdtempSync(join(tmpdir(), 'fsync-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const modeOf = (path: string): number => statSync(path).mode & 0o777;

describe('writeFileSynced', () => {
  it('writes the whole content with the given mode, whatever mode the file had', async () => {
    const path = join(dir, 'a');
    writeFileSync(path, 'old content that is longer', { mode: 0o644 });
    await writeFileSynced(path, 'new', { mode: 0o600 });
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(modeOf(path)).toBe(0o600);
    const big = Buffer.alloc(3 * 1024 * 1024, 7);
    await writeFileSynced(path, big);
    expect(readFileSync(path).equals(big)).toBe(true);
  });

  it('exclusive: refuses an existing file and leaves it as it was', async () => {
    const path = join(dir, 'b');
    writeFileSync(path, 'theirs');
    await expect(writeFileSynced(path, 'mine', { exclusive: true })).rejects.toMatchObject({ code: 'EEXIST' });
    expect(() => writeFileSyncedSync(path, 'mine', { exclusive: true })).toThrow(/EEXIST/);
    expect(readFileSync(path, 'utf8')).toBe('theirs');
    writeFileSyncedSync(join(dir, 'b2'), 'mine', { exclusive: true, mode: 0o640 });
    expect(readFileSync(join(dir, 'b2'), 'utf8')).toBe('mine');
    expect(modeOf(join(dir, 'b2'))).toBe(0o640);
  });
});

describe('syncFile, syncDirectory', () => {
  it('set the mode and succeed on a file and a folder; fail on a missing one', async () => {
    const path = join(dir, 'c');
    writeFileSync(path, 'x', { mode: 0o644 });
    await syncFile(path, 0o600);
    expect(modeOf(path)).toBe(0o600);
    await syncDirectory(dir);
    await expect(syncDirectory(join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('appendSynced', () => {
  it('appends every byte after what is there, call after call', async () => {
    const path = join(dir, 'journal');
    writeFileSync(path, 'line 0\n');
    const handle = await open(path, 'a');
    const long = `${'x'.repeat(1_000_000)}\n`;
    for (let i = 1; i <= 3; i++) await appendSynced(handle, `line ${i}\n`);
    await appendSynced(handle, long);
    await handle.close();
    expect(readFileSync(path, 'utf8')).toBe(`line 0\nline 1\nline 2\nline 3\n${long}`);
  });
});

describe('writeAtSynced', () => {
  it('writes in place at the position, leaving the bytes around it and the size alone', () => {
    const path = join(dir, 'prealloc');
    writeFileSync(path, Buffer.alloc(64));
    const fd = openForSyncedWrites(path);
    try {
      writeAtSynced(fd, Buffer.from('hello'), 10);
      writeAtSynced(fd, Buffer.from('!'), 15);
    } finally {
      closeSync(fd);
    }
    const bytes = readFileSync(path);
    expect(bytes.length).toBe(64);
    expect(bytes.subarray(10, 16).toString()).toBe('hello!');
    expect(bytes.subarray(0, 10).every((b) => b === 0) && bytes.subarray(16).every((b) => b === 0)).toBe(true);
  });
});

describe('writeFileAtomic', () => {
  it('replaces the file with the new content and mode, and leaves no temporary file', async () => {
    const sub = join(dir, 'atomic');
    (await import('node:fs')).mkdirSync(sub);
    const path = join(sub, 'store');
    writeFileSync(path, 'old', { mode: 0o644 });
    await writeFileAtomic(path, 'new');
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(modeOf(path)).toBe(0o600);
    expect(readdirSync(sub)).toEqual(['store']);
  });

  it('on failure leaves the old file and no temporary file', async () => {
    const sub = join(dir, 'atomic-fail');
    (await import('node:fs')).mkdirSync(join(sub, 'store'), { recursive: true });
    // The target is a non-empty folder: the rename fails after the temporary file was written.
    writeFileSync(join(sub, 'store', 'inside'), 'x');
    await expect(writeFileAtomic(join(sub, 'store'), 'new')).rejects.toThrow();
    expect(readdirSync(sub)).toEqual(['store']);
  });
});
