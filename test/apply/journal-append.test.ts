import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Journal, readRun, verifyJournal, type OpRecord } from '../../src/apply/journal.js';
import { fakeGraph, type FakeGraph } from '../helpers/graph.js';
import { applyFile, planTo, resumeIn, runDirs, tempDir, testDir, planOfUntouched } from '../helpers/migration.js';

/**
 * Opening a journal to go on with it cuts off only a line torn by a crash. A journal of several MiB
 * (a run of some thousands of users) that ends with a whole line keeps every byte: the walk back
 * for the last newline once went past a newline at the very end into the MiB before it, and
 * truncated there, losing whole waves of an intact journal without breaking its hash chain.
 */
describe('Journal.append on a journal larger than the 1 MiB it reads at a time', () => {
  let g: FakeGraph;
  let tmp: ReturnType<typeof tempDir>;
  let stateDir: string;
  let runDir: string;
  const journal = () => join(runDir, 'journal.jsonl');

  beforeAll(async () => {
    tmp = tempDir('journal-append');
    g = fakeGraph();
    const planFile = join(tmp.dir, 'contoso.plan');
    await planTo(g, planFile);
    stateDir = join(tmp.dir, 'state');
    const first = await applyFile(g, planFile, stateDir, { batchSize: 10, waves: 1 });
    expect(first.outcome.state).toBe('stopped');
    runDir = runDirs(stateDir)[0]!;
    // Grow the journal past 3 MiB with records that change nothing: the ops of its first ops line, again.
    const firstOps = readFileSync(journal(), 'utf8').split('\n').map((l) => (l ? JSON.parse(l) : null)).find((r) => r?.t === 'ops') as { ops: OpRecord[] };
    const j = await Journal.append(runDir);
    // Large records, few of them: each is written and synced on its own.
    const many = Array.from({ length: 50 }, () => firstOps.ops).flat();
    while (statSync(journal()).size < 3.2 * (1 << 20)) await j.ops(many);
    await j.close();
  }, 60_000);
  afterAll(() => tmp?.cleanup());

  it('keeps every byte of a journal that ends with a whole line', async () => {
    const before = readFileSync(journal());
    await (await Journal.append(runDir)).close();
    expect(readFileSync(journal()).equals(before)).toBe(true);
    expect(await verifyJournal(runDir)).toMatchObject({ state: 'verified', lines: before.toString().trimEnd().split('\n').length });
  });

  it('cuts off exactly a torn last line, short or longer than the MiB read at a time', async () => {
    for (const torn of [Buffer.from('{"t":"ops","at":"2026'), Buffer.alloc(1.5 * (1 << 20), 0x61)]) {
      const whole = statSync(journal()).size;
      appendFileSync(journal(), torn);
      await (await Journal.append(runDir)).close();
      expect(statSync(journal()).size).toBe(whole);
    }
    expect((await verifyJournal(runDir)).state).toBe('verified');
  });

  it('a resume of the run goes on from where it was and completes it', async () => {
    const resumed = await resumeIn(g, stateDir);
    expect(resumed.outcome.state).toBe('completed');
    expect(resumed.outcome.counts.failed).toBe(0);
    expect((await verifyJournal(runDir)).state).toBe('verified');
  });
});

/**
 * A whole last record that lost only its newline (a crash, or a full disk, between the record and
 * its newline) is torn like any other: found by a fault-injection test, where the run read it as done,
 * a resume then cut it off and completed the run, and the journal was left with operations still
 * `started` that neither resume (completed) nor rollback (outcome unknown) would take up.
 */
describe('a last record without its newline', () => {
  it('is not read, so a resume reads its operations back and no operation is left started', async () => {
    const tmp = testDir('journal-newline');
    const planFile = join(tmp.dir, 'contoso.plan');
    const { g } = await planOfUntouched(planFile);
    const stateDir = join(tmp.dir, 'state');
    expect((await applyFile(g, planFile, stateDir, { batchSize: 10, waves: 1 })).outcome.state).toBe('stopped');
    const runDir = runDirs(stateDir)[0]!;
    const path = join(runDir, 'journal.jsonl');
    const text = readFileSync(path, 'utf8');
    // Cut the journal just after its last record of done operations, and its newline.
    const lines = text.trimEnd().split('\n');
    const at = lines.findLastIndex((l) => l.startsWith('{"t":"ops"') && l.includes('"state":"done"'));
    const doneIds = (JSON.parse(lines[at]!) as { ops: OpRecord[] }).ops.filter((o) => o.state === 'done').map((o) => o.op);
    expect(doneIds.length).toBeGreaterThan(0);
    writeFileSync(path, lines.slice(0, at + 1).join('\n'));
    const read = await readRun(runDir);
    for (const id of doneIds) expect(read.ops.get(id)?.state, id).toBe('started');

    const resumed = await resumeIn(g, stateDir);
    expect(resumed.outcome.state).toBe('completed');
    const after = await readRun(runDir);
    expect([...after.ops.values()].filter((o) => o.state === 'started')).toEqual([]);
    for (const id of doneIds) expect(after.ops.get(id)?.state, id).toBe('done');
    expect((await verifyJournal(runDir)).state).toBe('verified');
  }, 60_000);
});

describe('journals written record by record', () => {
  it('an operation first failed with its outcome unknown, then failed with Graph\'s answer, is no longer of unknown outcome: the later record is its outcome (a review: the mark outlived it, and a rollback would read it back)', async () => {
    const tmp = testDir('journal-records');
    const runDir = join(tmp.dir, 'runs', '20261205T130000Z-aaaaaaaa');
    const j = await Journal.create(runDir, { t: 'run', id: '20261205T130000Z-aaaaaaaa', kind: 'apply', created: '2026-12-05T13:00:00.000Z', planHash: 'a'.repeat(64), options: {}, totalOps: 1 });
    await j.ops([{ op: 'u1/phone', state: 'started' }]);
    await j.ops([{ op: 'u1/phone', state: 'failed', error: 'sent; outcome unknown: 403', outcomeUnknown: true }]);
    await j.ops([{ op: 'u1/phone', state: 'started' }]);
    await j.ops([{ op: 'u1/phone', state: 'failed', error: 'Graph answered 400: invalid phone number' }]);
    await j.close();
    const r = (await readRun(runDir)).ops.get('u1/phone')!;
    expect(r).toEqual({ op: 'u1/phone', state: 'failed', error: 'Graph answered 400: invalid phone number' });
  });

  it('a journal opened to go on with another command in mind names that command when a write fails: a rollback reading back an apply run\'s writes goes on by the rollback, not by a resume of the apply (a review)', async () => {
    const tmp = testDir('journal-go-on');
    const runDir = join(tmp.dir, 'runs', '20261205T130000Z-bbbbbbbb');
    await (await Journal.create(runDir, { t: 'run', id: '20261205T130000Z-bbbbbbbb', kind: 'apply', created: '2026-12-05T13:00:00.000Z', planHash: 'b'.repeat(64), options: {}, totalOps: 1 })).close();
    const plain = await Journal.append(runDir);
    await plain.close();
    await expect(plain.ops([{ op: 'x', state: 'done' }])).rejects.toThrow(`then go on with mfa-migrate resume 20261205T130000Z-bbbbbbbb --state-dir ${tmp.dir}:`);
    const settling = await Journal.append(runDir, ['rollback', '20261205T130000Z-bbbbbbbb', '--state-dir', tmp.dir]);
    await settling.close();
    await expect(settling.ops([{ op: 'x', state: 'done' }])).rejects.toThrow(`then go on with mfa-migrate rollback 20261205T130000Z-bbbbbbbb --state-dir ${tmp.dir}:`);
  });
});
