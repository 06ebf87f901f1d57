import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { userKey, type ShimUser } from '../../src/shim/store-model.js';
import { requestUnlock, unlockDirOf, UnlockRequestDir } from '../../src/shim/unlock-requests.js';
import { tempDir } from './helpers.js';

const KEY = Buffer.alloc(32, 5);
const STORE_ID = '0123456789abcdef';
const user = (name: string): ShimUser => ({ username: name, key: userKey(name), tokens: [], fails: 1, lockedAt: null, sources: {}, version: 0 });

describe('unlock requests: take (asked at a verification of a user with failures)', () => {
  const dirs: (() => void)[] = [];
  afterEach(() => {
    for (const cleanup of dirs.splice(0)) cleanup();
  });
  const store = (): string => {
    const t = tempDir('unlock-requests-');
    dirs.push(t.cleanup);
    return t.path('s.store');
  };

  it('finds nothing when there is no request, with or without the folder', () => {
    const s = store();
    const requests = new UnlockRequestDir(s, KEY, STORE_ID);
    expect(requests.take(user('ivan@contoso.com'))).toBeUndefined();
    mkdirSync(unlockDirOf(s));
    expect(requests.take(user('ivan@contoso.com'))).toBeUndefined();
  });

  it("consumes the user's request (under the name `shim unlock` has always given it) and hands back when it was made", async () => {
    const s = store();
    const file = await requestUnlock(s, 'Ivan@contoso.com', KEY, STORE_ID, 1_765_000_000_000);
    expect(basename(file)).toBe(`${createHash('sha256').update('ivan@contoso.com').digest('hex').slice(0, 32)}.json`);
    const requests = new UnlockRequestDir(s, KEY, STORE_ID);
    expect(requests.take(user('someone@contoso.com'))).toBeUndefined();
    expect(existsSync(file)).toBe(true);
    expect(requests.take(user('ivan@contoso.com'))).toBe(1_765_000_000_000);
    expect(existsSync(file)).toBe(false);
    expect(requests.take(user('ivan@contoso.com'))).toBeUndefined();
  });

  it('drops a request made without the store key, and one that is not JSON, reporting the forged one', async () => {
    const s = store();
    const forged: string[] = [];
    const requests = new UnlockRequestDir(s, KEY, STORE_ID, undefined, (f) => forged.push(f));
    const planted = await requestUnlock(s, 'ivan@contoso.com', Buffer.alloc(32, 1), STORE_ID, 1_765_000_000_000);
    expect(requests.take(user('ivan@contoso.com'))).toBeUndefined();
    expect(forged).toEqual([planted]);
    expect(existsSync(planted)).toBe(false);
    writeFileSync(planted, '{"user":');
    expect(requests.take(user('ivan@contoso.com'))).toBeUndefined();
    expect(forged).toHaveLength(1);
  });
});
