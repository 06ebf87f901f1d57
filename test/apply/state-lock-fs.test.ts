import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireLock } from '../../src/apply/state-lock.js';
import { UserError } from '../../src/model/user-error.js';
import { tempDir } from '../helpers/migration.js';
import { mountTmpfs } from '../helpers/tmpfs.js';

const tmp = tempDir('lockfs');
const mounted: string[] = [];

/** A tmpfs, remembered to be unmounted (helpers/tmpfs.ts). */
function mountHere(dir: string, size: string): string | undefined {
  const cannot = mountTmpfs(dir, size);
  if (cannot === undefined) mounted.push(dir);
  return cannot;
}

const readOnly = join(tmp.dir, 'ro');
const full = join(tmp.dir, 'full');
const cannot = mountHere(readOnly, '64k') ?? mountHere(full, '8k');
if (cannot) process.stderr.write(`state-lock file-system test skipped: cannot mount a tmpfs (${cannot})\n`);

afterAll(() => {
  for (const dir of mounted) execFileSync('umount', [dir]);
  tmp.cleanup();
});

/** Found by a black-box test: resume and rollback on a read-only state folder ended in "unexpected error" and a stack. */
describe.skipIf(cannot !== undefined)('the state folder lock on a file system that refuses writes', () => {
  it('a read-only state folder is a clear error naming it', async () => {
    execFileSync('mount', ['-o', 'remount,ro', readOnly]);
    const err = (await acquireLock(readOnly, 'resume').catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toBe(`cannot lock the state folder ${readOnly}: it is on a read-only file system`);
  });

  it('a full disk is a clear error, and leaves no empty temporary file behind', async () => {
    // Fill it up to the last byte.
    let n = 0;
    try {
      for (;; n++) writeFileSync(join(full, `fill-${n}`), Buffer.alloc(1024, 1));
    } catch {
      // full
    }
    const before = readdirSync(full).length;
    const err = (await acquireLock(full, 'apply').catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(/cannot lock the state folder .*: the disk is full/);
    expect(readdirSync(full).filter((f) => f.startsWith('lock'))).toEqual([]);
    expect(readdirSync(full)).toHaveLength(before);
  });
});
