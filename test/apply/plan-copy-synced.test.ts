import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as fsync from '../../src/io/fsync.js';
import { applyFile, runDirs, testDir, planOfUntouched } from '../helpers/migration.js';

/**
 * A power cut (a black-box round: ext4's trigger_fs_error, then e2fsck) kept a run's journal and left
 * its plan.jsonl empty: the plan copy was never fsynced, though the run folder is renamed in "once the
 * plan copy and the journal's first line are on disk". Every fsync goes through io/fsync.ts: the
 * files it synced are recorded (by inode: the run's plan is a hard link of apply's private copy), and
 * when the run's staging folder is synced (just before its rename) its plan must be one of them.
 */
const synced = new Set<number>();
const atStagingSync: { planSynced: boolean; journalLines: number }[] = [];
// Spied on, not mocked: the file shares a worker with others (vitest.config.ts), so the spies go at its end.
const orig = { syncFile: fsync.syncFile, syncDirectory: fsync.syncDirectory };
beforeAll(() => {
  vi.spyOn(fsync, 'syncFile').mockImplementation(async (path: string, mode?: number) => {
    await orig.syncFile(path, mode);
    synced.add(statSync(path).ino);
  });
  vi.spyOn(fsync, 'syncDirectory').mockImplementation(async (dir: string) => {
    if (basename(dirname(dir)) === 'runs' && /^\..*\.new$/.test(basename(dir))) {
      const plan = join(dir, 'plan.jsonl');
      const journal = join(dir, 'journal.jsonl');
      atStagingSync.push({ planSynced: existsSync(plan) && synced.has(statSync(plan).ino), journalLines: existsSync(journal) ? readFileSync(journal, 'utf8').split('\n').length - 1 : 0 });
    }
    await orig.syncDirectory(dir);
  });
});
afterAll(() => {
  vi.mocked(fsync.syncFile).mockRestore();
  vi.mocked(fsync.syncDirectory).mockRestore();
});

describe('the run folder is renamed in only once its plan copy is on disk', () => {
  it('apply PLANFILE: the plan copy the run keeps is fsynced before its folder is', async () => {
    const { dir } = testDir('plan-synced');
    const planFile = join(dir, 'contoso.plan');
    const { g } = await planOfUntouched(planFile);
    synced.clear();
    atStagingSync.length = 0;
    const stateDir = join(dir, 'state');
    const applied = await applyFile(g, planFile, stateDir);
    expect(applied.outcome.state).toBe('completed');
    expect(atStagingSync).toEqual([{ planSynced: true, journalLines: 1 }]);
    const [run] = runDirs(stateDir);
    expect(readFileSync(join(run!, 'plan.jsonl')).equals(readFileSync(planFile))).toBe(true);
    expect(existsSync(join(dirname(run!), `.${basename(run!)}.new`))).toBe(false);
    expect(statSync(join(run!, 'plan.jsonl')).mode & 0o777).toBe(0o600);
  }, 60_000);
});
