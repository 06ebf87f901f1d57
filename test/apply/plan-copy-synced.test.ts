import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

/**
 * A power cut (a black-box round: ext4's trigger_fs_error, then e2fsck) kept a run's journal and left
 * its plan.jsonl empty: the plan copy was never fsynced, though the run folder is renamed in "once the
 * plan copy and the journal's first line are on disk". Every fsync goes through io/fsync.ts: the
 * files it synced are recorded (by inode: the run's plan is a hard link of apply's private copy), and
 * when the run's staging folder is synced (just before its rename) its plan must be one of them.
 */
const synced = new Set<number>();
const atStagingSync: { planSynced: boolean; journalLines: number }[] = [];
vi.mock('../../src/io/fsync.js', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../../src/io/fsync.js')>();
  const { statSync: stat, existsSync: exists, readFileSync: read } = await import('node:fs');
  const { join: joinPath, basename: base, dirname: parent } = await import('node:path');
  return {
    ...orig,
    syncFile: async (path: string, mode?: number) => {
      await orig.syncFile(path, mode);
      synced.add(stat(path).ino);
    },
    syncDirectory: async (dir: string) => {
      if (base(parent(dir)) === 'runs' && /^\..*\.new$/.test(base(dir))) {
        const plan = joinPath(dir, 'plan.jsonl');
        const journal = joinPath(dir, 'journal.jsonl');
        atStagingSync.push({ planSynced: exists(plan) && synced.has(stat(plan).ino), journalLines: exists(journal) ? read(journal, 'utf8').split('\n').length - 1 : 0 });
      }
      await orig.syncDirectory(dir);
    },
  };
});

const { fakeGraph } = await import('../helpers/graph.js');
const { applyFile, planTo, runDirs, testDir } = await import('../helpers/migration.js');

describe('the run folder is renamed in only once its plan copy is on disk', () => {
  it('apply PLANFILE: the plan copy the run keeps is fsynced before its folder is', async () => {
    const { dir } = testDir('plan-synced');
    const g = fakeGraph();
    const planFile = join(dir, 'contoso.plan');
    await planTo(g, planFile);
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
