import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { forceUnlockById } from '../../src/app/force-unlock.js';
import { acquireLock, inspectLock } from '../../src/apply/state-lock.js';

const base = mkdtempSync(join(tmpdir(), 'force-unlock-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('force-unlock LOCK_ID', () => {
  it("refuses a lock whose holder still runs on this host (a second run beside it damaged the journal for good), naming it; removes another host's", async () => {
    const dir = mkdtempSync(join(base, 'state-'));
    const held = await acquireLock(dir, 'apply');
    const shown: string[] = [];
    const err = (await forceUnlockById(held.info.id, dir, (_d, h) => shown.push(h.id)).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(new RegExp(`lock ${held.info.id} of .* is held by apply, pid ${process.pid}, still running on this host: stop it first`));
    expect(shown).toEqual([]);
    expect(inspectLock(dir)).toMatchObject({ kind: 'held', holder: { id: held.info.id } });

    // The same lock as another host's process holds it: that cannot be checked from here, so it goes.
    const path = join(dir, 'lock');
    writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), host: 'another-host.example' }));
    await forceUnlockById(held.info.id, dir, (_d, h) => shown.push(h.id));
    expect(shown).toEqual([held.info.id]);
    expect(inspectLock(dir)).toEqual({ kind: 'free' });
  });
});
