import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { planCopyPath, removeAbandonedPlanCopies } from '../../src/app/plan-copy.js';
import { ownIdentity } from '../../src/io/process-start.js';
import { tempDir } from '../helpers/migration.js';

/** A killed apply's private plan copy (about 100 MB at 100,000 users) must not stay in the state folder for good. */
describe('private plan copies', () => {
  let tmp: ReturnType<typeof tempDir> | undefined;
  afterEach(() => tmp?.cleanup());

  it('removes the copies of processes gone from this host and keeps every other file', async () => {
    tmp = tempDir('plancopy');
    const dir = tmp.dir;
    const me = ownIdentity();
    // A process that has ended (its pid is not running), and this pid reused by a later process (another start).
    const ended = spawnSync(process.execPath, ['-e', '0']).pid!;
    const files = {
      mine: planCopyPath(dir),
      ended: planCopyPath(dir, { pid: ended, host: hostname() }),
      reused: planCopyPath(dir, { pid: process.pid, host: hostname(), processStart: 'another-boot:1' }),
      otherHost: planCopyPath(dir, { pid: ended, host: `${hostname()}-not-this-one` }),
      older: join(dir, '.plan-0123456789ab.jsonl'),
      other: join(dir, 'lock'),
    };
    for (const f of Object.values(files)) writeFileSync(f, 'x');
    expect(me.pid).toBe(process.pid);
    expect(await removeAbandonedPlanCopies(dir)).toBe(me.processStart ? 2 : 1);
    const left = readdirSync(dir);
    expect(left).not.toContain(basename(files.ended));
    for (const kept of [files.mine, files.otherHost, files.older, files.other]) expect(left).toContain(basename(kept));
    if (me.processStart) expect(left).not.toContain(basename(files.reused));
  });
});
