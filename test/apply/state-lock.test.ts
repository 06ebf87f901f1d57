import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Journal } from '../../src/apply/journal.js';
import { acquireLock, LockHeldError, readLock, type LockInfo } from '../../src/apply/state-lock.js';
import { runsIn } from '../../src/app/runs.js';
import { renderRunsTable } from '../../src/cli/views/runs-table.js';
import { fakeGraph } from '../helpers/graph.js';
import { applyFile, planTo, resumeIn, tempDir, planOfUntouched } from '../helpers/migration.js';

/** The pid of a process that has exited (for a lock whose holder died). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => child.on('exit', r));
  return child.pid!;
}

function writeLock(stateDir: string, info: Partial<LockInfo>): LockInfo {
  mkdirSync(stateDir, { recursive: true });
  const lock: LockInfo = { id: 'held-lock', operation: 'apply', pid: process.pid, host: hostname(), user: 'someone', started: '2026-11-27T08:00:00.000Z', ...info };
  writeFileSync(join(stateDir, 'lock'), `${JSON.stringify(lock)}\n`);
  return lock;
}

describe('state directory lock', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(() => {
    tmp = tempDir('lock');
  });
  afterAll(() => tmp.cleanup());

  it('is refused while a live process holds it, naming the owner, host and start time; free again once released', async () => {
    const dir = join(tmp.dir, 'live');
    const held = await acquireLock(dir, 'apply');
    const err = await acquireLock(dir, 'resume').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockHeldError);
    expect((err as LockHeldError).holder).toEqual(held.info);
    expect((err as Error).message).toContain(`pid ${process.pid}`);
    expect((err as Error).message).toContain(hostname());
    expect((err as Error).message).toContain(held.info.started);
    await held.release();
    expect(existsSync(join(dir, 'lock'))).toBe(false);
    const again = await acquireLock(dir, 'resume');
    expect(again.tookOver).toBeUndefined();
    await again.release();
  });

  it('takes over the lock of a process that died on this host', async () => {
    const dir = join(tmp.dir, 'dead');
    const stale = writeLock(dir, { pid: await deadPid() });
    const lock = await acquireLock(dir, 'resume');
    expect(lock.tookOver).toEqual(stale);
    expect(await readLock(join(dir, 'lock'))).toEqual(lock.info);
    await lock.release();
  });

  it('does not take over a lock held on another host (its process cannot be checked from here)', async () => {
    const dir = join(tmp.dir, 'remote');
    writeLock(dir, { pid: await deadPid(), host: `not-${hostname()}` });
    await expect(acquireLock(dir, 'apply')).rejects.toThrow(LockHeldError);
  });
});

describe('runs: which run is running', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(() => {
    tmp = tempDir('lock-runs');
  });
  afterAll(() => tmp.cleanup());

  /** Two unfinished runs, as a crash leaves them: a header and no end. */
  async function twoInterruptedRuns(stateDir: string): Promise<void> {
    for (const [id, created] of [['20261127T080000Z-aaaaaaaa', '2026-11-27T08:00:00.000Z'], ['20261127T090000Z-bbbbbbbb', '2026-11-27T09:00:00.000Z']] as const) {
      const j = await Journal.create(join(stateDir, 'runs', id), { t: 'run', id, kind: 'apply', created, planHash: 'x', options: {}, totalOps: 3 });
      await j.close();
    }
  }
  const states = async (stateDir: string) => Object.fromEntries((await runsIn(stateDir)).runs.map((r) => [r.id, r.state]));

  it('marks the run the live lock names, not whichever run is unfinished', async () => {
    const dir = join(tmp.dir, 'named');
    await twoInterruptedRuns(dir);
    // A live holder (this test process) resuming the older run.
    writeLock(dir, { operation: 'resume', runId: '20261127T080000Z-aaaaaaaa' });
    expect(await states(dir)).toEqual({ '20261127T090000Z-bbbbbbbb': 'interrupted', '20261127T080000Z-aaaaaaaa': 'running' });
  });

  it('marks none while the holder is still preparing its run, and says the directory is in use', async () => {
    const dir = join(tmp.dir, 'preparing');
    await twoInterruptedRuns(dir);
    writeLock(dir, { operation: 'apply' });
    expect(Object.values(await states(dir))).toEqual(['interrupted', 'interrupted']);
    expect(renderRunsTable([await runsIn(dir)])).toMatch(new RegExp(`in use by apply \\(pid ${process.pid} of someone@`));
  });

  it('marks none when the holder is dead', async () => {
    const dir = join(tmp.dir, 'dead-holder');
    await twoInterruptedRuns(dir);
    writeLock(dir, { pid: await deadPid(), runId: '20261127T090000Z-bbbbbbbb' });
    expect(Object.values(await states(dir))).toEqual(['interrupted', 'interrupted']);
  });

  it('lists the runs of a folder whose lock is a symbolic link (a review: one such folder made `runs` fail for every tenant); taking that lock is refused, naming it', async () => {
    const dir = join(tmp.dir, 'linked');
    await twoInterruptedRuns(dir);
    symlinkSync(join(tmp.dir, 'nowhere'), join(dir, 'lock'));
    expect(Object.values(await states(dir))).toEqual(['interrupted', 'interrupted']);
    await expect(acquireLock(dir, 'apply')).rejects.toThrow(`${join(dir, 'lock')} is a symbolic link, not a lock`);
  });
});

describe('apply and resume with the lock held', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(() => {
    tmp = tempDir('lock-app');
  });
  afterAll(() => tmp?.cleanup());

  it('a second apply, or a resume, while one runs is refused with the owner, host and start time', async () => {
    // Slow responses keep the first apply running while the others start.
    const g = fakeGraph({ latencyMs: 100 });
    const planFile = join(tmp.dir, 'contoso.plan');
    await planTo(g, planFile);
    const stateDir = join(tmp.dir, 'busy');
    const stop = new AbortController();
    const first = applyFile(g, planFile, stateDir, { batchSize: 2, signal: stop.signal });
    const runsDir = join(stateDir, 'runs');
    for (let i = 0; i < 400 && !(existsSync(runsDir) && readdirSync(runsDir).some((id) => existsSync(join(runsDir, id, 'journal.jsonl')))); i++) await new Promise((r) => setTimeout(r, 25));
    const holder = (await readLock(join(stateDir, 'lock')))!;
    expect(holder.runId).toBeDefined();
    const second = (await applyFile(g, planFile, stateDir).catch((e: unknown) => e)) as Error;
    const resume = (await resumeIn(g, stateDir).catch((e: unknown) => e)) as Error;
    expect((await runsIn(stateDir)).runs.map((r) => r.state)).toEqual(['running']);
    // Interrupted (as by Ctrl-C): it ends once its batches in flight are journaled, and lets go of the lock.
    stop.abort();
    expect((await first).outcome.state).toBe('interrupted');
    expect((await runsIn(stateDir)).runs.map((r) => r.state)).toEqual(['interrupted']);
    for (const err of [second, resume]) {
      expect(err).toBeInstanceOf(LockHeldError);
      expect(err.message).toContain(`pid ${holder.pid}`);
      expect(err.message).toContain(holder.host);
      expect(err.message).toContain(holder.started);
      // The folder named: force-unlock without it looks only in the state base.
      expect(err.message).toContain(`mfa-migrate force-unlock ${holder.id} --state-dir ${stateDir}`);
    }
    expect(second.message).toMatch(/in use by apply/);
    expect(existsSync(join(stateDir, 'lock'))).toBe(false);
    expect(readdirSync(runsDir)).toHaveLength(1);
  }, 60_000);

  it('takes over a lock left by a dead apply and says so', async () => {
    const planFile = join(tmp.dir, 'orphan.plan');
    const { g } = await planOfUntouched(planFile);
    const stateDir = join(tmp.dir, 'orphan');
    const stale = writeLock(stateDir, { pid: await deadPid() });
    const said: string[] = [];
    const r = await applyFile(g, planFile, stateDir, { log: (l) => said.push(l) });
    expect(r.outcome.state).toBe('completed');
    expect(said.join('\n')).toContain(`pid ${stale.pid}`);
    expect(said.join('\n')).toMatch(/took over/i);
    expect(existsSync(join(stateDir, 'lock'))).toBe(false);
  }, 60_000);
});
