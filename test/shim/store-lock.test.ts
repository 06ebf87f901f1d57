import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { StoreLock, liveHolder, stateOptionFor } from '../../src/shim/store-lock.js';
import { parseStateUrl } from '../../src/shim/postgres/state-url.js';
import { tempDir } from './helpers.js';

/**
 * A server on PostgreSQL state records its --state URL in the store lock, so a command refused
 * beside it is told the one to paste (a black-box review: `--state postgres://...`, elided though
 * the URL holds no password).
 */
describe('stateOptionFor', () => {
  it("gives the URL the holder recorded, query included, shell-quoted where needed", async () => {
    const tmp = tempDir();
    try {
      const store = tmp.path('shim.store');
      const url = parseStateUrl('postgres://mfa_shim@db.contoso.com:5432/mfa_shim?sslmode=verify-full&application_name=shim');
      const lock = await StoreLock.acquire(store, 'shim serve', true, url);
      try {
        const holder = await liveHolder(store);
        expect(holder).toMatchObject({ sharedState: true, stateUrl: url.href });
        expect(stateOptionFor(holder!)).toBe("--state 'postgres://mfa_shim@db.contoso.com:5432/mfa_shim?sslmode=verify-full&application_name=shim'");
      } finally {
        await lock.release();
      }
      const plain = await StoreLock.acquire(store, 'shim serve', true, parseStateUrl('postgres://mfa_shim@db:5432/mfa_shim'));
      try {
        expect(stateOptionFor((await liveHolder(store))!)).toBe('--state postgres://mfa_shim@db:5432/mfa_shim');
      } finally {
        await plain.release();
      }
    } finally {
      tmp.cleanup();
    }
  });

  it('gives the form only for a lock with no URL (an older version) or one holding a password (never shown)', () => {
    const holder = { id: 'x', pid: 1, host: 'h', command: 'shim serve', startedAt: '', sharedState: true };
    expect(stateOptionFor(holder)).toBe('--state postgres://...');
    for (const stateUrl of ['postgres://shim:hunter2@db/mfa', 'postgres://shim@db/mfa?password=hunter2', 'postgres://shim@db/mfa?sslpassword=hunter2', 'host=db password=hunter2', 'postgres://shim%3Ahunter2@db/mfa']) {
      const said = stateOptionFor({ ...holder, stateUrl });
      expect(said, stateUrl).toBe('--state postgres://...');
    }
  });
});

describe('a store lock that cannot be made', () => {
  it('on a full disk says so as the other files do ("the disk is full"), not only ENOSPC (a black-box test)', async ({ skip }) => {
    const tmp = tempDir();
    const dir = tmp.path('full');
    mkdirSync(dir);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', dir], { stdio: 'pipe' });
    } catch (err) {
      tmp.cleanup();
      return skip(`cannot mount a tmpfs: ${(err as Error).message.split('\n')[0]}`);
    }
    try {
      try {
        writeFileSync(`${dir}/filler`, Buffer.alloc(1024 * 1024));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      }
      await expect(StoreLock.acquire(`${dir}/s.store`, 'shim serve')).rejects.toThrow(`${dir}/s.store.lock: cannot create the lock file: the disk is full`);
    } finally {
      execFileSync('umount', ['-l', dir]);
      tmp.cleanup();
    }
  });
});
