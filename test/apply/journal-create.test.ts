import { mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal, listRuns, readRun, type RunHeader } from '../../src/apply/journal.js';
import { tempDir } from '../helpers/migration.js';

const header = (id: string): RunHeader => ({ t: 'run', id, kind: 'apply', created: '2026-12-05T00:00:00.000Z', planHash: 'a'.repeat(64), options: {}, totalOps: 3 });

/** A run folder appears whole or not at all: a kill while it is being made must not leave a run `runs` cannot read. */
describe('Journal.create', () => {
  let tmp: ReturnType<typeof tempDir> | undefined;
  afterEach(() => tmp?.cleanup());

  it('makes the run folder with what fill put in it and the header, leaving nothing hidden beside it', async () => {
    tmp = tempDir('jcreate');
    const runsDir = join(tmp.dir, 'state', 'runs');
    const runDir = join(runsDir, 'r1');
    const j = await Journal.create(runDir, header('r1'), async (dir) => writeFileSync(join(dir, 'plan.jsonl'), 'plan\n'));
    await j.ops([{ op: 'o1', state: 'done' }]);
    await j.close();
    expect(readdirSync(runsDir)).toEqual(['r1']);
    expect(statSync(runDir).mode & 0o777).toBe(0o700);
    expect(readFileSync(join(runDir, 'plan.jsonl'), 'utf8')).toBe('plan\n');
    const view = await readRun(runDir);
    expect(view.header.id).toBe('r1');
    expect(view.ops.get('o1')?.state).toBe('done');
  });

  it('closes its file when a step before the executor takes it over fails, and closing twice is harmless: no handle left to the garbage collector', async () => {
    tmp = tempDir('jcreate');
    const runDir = join(tmp.dir, 'state', 'runs', 'r1');
    const j = await Journal.create(runDir, header('r1'));
    const file = join(runDir, 'journal.jsonl');
    const open = () => readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === file;
      } catch {
        return false;
      }
    }).length;
    expect(open()).toBe(1);
    await expect(j.beforeHandOver(() => Promise.reject(new Error('the policy read failed')))).rejects.toThrow('the policy read failed');
    expect(open()).toBe(0);
    await j.close();
    // Steps that succeed leave it open, for the executor.
    const again = await Journal.append(runDir);
    expect(await again.beforeHandOver(async () => 7)).toBe(7);
    expect(open()).toBe(1);
    await again.close();
    expect(open()).toBe(0);
  });

  it("replays an operation's records into its last outcome: a done after a failed attempt keeps no error, a started keeps the before of its first send", async () => {
    tmp = tempDir('jcreate');
    const runDir = join(tmp.dir, 'state', 'runs', 'r2');
    const j = await Journal.create(runDir, header('r2'));
    await j.ops([{ op: 'o1', state: 'started', before: { present: ['A'] } }]);
    await j.ops([{ op: 'o1', state: 'failed', error: 'answered 503; outcome unknown' }]);
    await j.ops([{ op: 'o1', state: 'done', result: { id: 'x' } }]);
    await j.close();
    expect((await readRun(runDir)).ops.get('o1')).toEqual({ op: 'o1', state: 'done', before: { present: ['A'] }, result: { id: 'x' } });
  });

  it('leaves no run and no hidden folder when filling fails', async () => {
    tmp = tempDir('jcreate');
    const runsDir = join(tmp.dir, 'runs');
    await expect(Journal.create(join(runsDir, 'r2'), header('r2'), () => Promise.reject(new Error('disk full')))).rejects.toThrow('disk full');
    expect(readdirSync(runsDir)).toEqual([]);
    expect(await listRuns(tmp.dir)).toEqual([]);
  });

  it('does not list a folder a crash left half made, and the next run removes it', async () => {
    tmp = tempDir('jcreate');
    const runsDir = join(tmp.dir, 'runs');
    // What a kill between the plan copy and the journal header leaves.
    mkdirSync(join(runsDir, '.r0.new'), { recursive: true, mode: 0o700 });
    writeFileSync(join(runsDir, '.r0.new', 'plan.jsonl'), 'plan\n');
    expect(await listRuns(tmp.dir)).toEqual([]);
    const j = await Journal.create(join(runsDir, 'r3'), header('r3'));
    await j.close();
    expect(readdirSync(runsDir)).toEqual(['r3']);
    expect((await listRuns(tmp.dir)).map((r) => [r.id, r.state])).toEqual([['r3', 'interrupted']]);
  });
});
