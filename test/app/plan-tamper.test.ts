import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../src/plan/plan-model.js';
import { fakeGraph, type FakeGraph } from '../helpers/graph.js';
import { applyFile, planTo, resumeIn, rollbackIn, runDirs, tempDir } from '../helpers/migration.js';
import { writes, type Snapshot } from '../helpers/tenant-checks.js';

type Line = Record<string, any>;
const parse = (text: string): Line[] => text.trimEnd().split('\n').map((l) => JSON.parse(l) as Line);
const dump = (lines: Line[]) => `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`;

/** Issue 17 item 2: a saved plan (or a run's copy) edited after it was made is never applied. */
describe('an edited plan is refused', () => {
  let g: FakeGraph;
  let tmp: ReturnType<typeof tempDir>;
  let planFile: string;
  let plan: Plan;
  let lines: Line[];
  const userLine = (upn: string) => lines.findIndex((l) => l.t === 'user' && l.user === upn);
  const edited = (name: string, edit: (ls: Line[]) => void) => {
    const copy = structuredClone(lines);
    edit(copy);
    const p = join(tmp.dir, name);
    writeFileSync(p, dump(copy));
    return p;
  };

  beforeAll(async () => {
    tmp = tempDir('tamper');
    g = fakeGraph();
    planFile = join(tmp.dir, 'wave1.plan');
    ({ plan } = await planTo(g, planFile));
    lines = parse(readFileSync(planFile, 'utf8'));
    g.emu.clearRequests();
  });
  afterAll(() => tmp.cleanup());

  it('a phone number changed in the file: refused before any write, naming the line', async () => {
    const at = userLine('bob@contoso.com');
    const p = edited('number.plan', (ls) => {
      const c = ls[at]!.changes.find((x: Line) => x.resource === 'phoneMethods/mobile');
      c.after.phoneNumber = '+1 2065550666';
    });
    await expect(applyFile(g, p, join(tmp.dir, 's1'))).rejects.toThrow(new RegExp(`number\\.plan is not the plan its sources give.*line ${at + 1} \\(bob@contoso\\.com\\): phoneMethods/mobile after is`));
    expect(writes(g.emu.requests())).toEqual([]);
  });

  it('a change added (a delete), or one taken out: refused', async () => {
    const at = userLine('grace@contoso.com');
    const added = edited('added.plan', (ls) => ls[at]!.changes.push({ resource: 'phoneMethods/office', action: 'delete', before: { phoneNumber: '+1 4255550000', phoneType: 'office' }, after: null, rule: 'PHONE-PRUNE', because: 'x', state_fingerprint: 'x' }));
    await expect(applyFile(g, added, join(tmp.dir, 's2'))).rejects.toThrow(/added\.plan is not the plan its sources give.*grace@contoso\.com.*changes, planning gives/);
    const removed = edited('removed.plan', (ls) => ls[at]!.changes.pop());
    await expect(applyFile(g, removed, join(tmp.dir, 's2'))).rejects.toThrow(/removed\.plan is not the plan its sources give/);
    expect(writes(g.emu.requests())).toEqual([]);
  });

  it("bob's line given another plan user's id: refused as a user listed twice", async () => {
    const zoe = (g.emu.snapshot() as Snapshot).users.find((u: Snapshot) => u.userPrincipalName === 'zoe@contoso.com');
    const at = userLine('bob@contoso.com');
    const p = edited('twice.plan', (ls) => {
      ls[at]!.user_id = zoe.id;
      ls[at]!.seen.id = zoe.id;
    });
    await expect(applyFile(g, p, join(tmp.dir, 's3'))).rejects.toThrow(/not a valid plan line: user zoe@contoso\.com appears twice/);
  });

  it("bob's line given the id of a tenant user the plan does not list (and what it saw): the tenant says that id is not bob, so nothing is written to them", async () => {
    const zoe = (g.emu.snapshot() as Snapshot).users.find((u: Snapshot) => u.userPrincipalName === 'helpdesk@contoso.com');
    const at = userLine('bob@contoso.com');
    const p = edited('swapped.plan', (ls) => {
      ls[at]!.user_id = zoe.id;
      ls[at]!.seen.id = zoe.id;
    });
    const before = structuredClone(zoe);
    await expect(applyFile(g, p, join(tmp.dir, 's3'))).rejects.toThrow(/bob@contoso\.com .*no longer in the tenant/);
    const r = await applyFile(g, p, join(tmp.dir, 's3'), { skipStale: true });
    expect(r.results.find((x) => x.user === 'bob@contoso.com')).toMatchObject({ outcome: 'skipped', first_error: 'stale' });
    expect((g.emu.snapshot() as Snapshot).users.find((u: Snapshot) => u.userPrincipalName === 'helpdesk@contoso.com')).toEqual(before);
    g.emu.reset();
  });

  it("a run's plan copy edited with its hash recomputed: resume refuses it; rollback puts back what the journal recorded, not what the copy says", async () => {
    g.emu.reset();
    const stateDir = join(tmp.dir, 's4');
    const first = await applyFile(g, planFile, stateDir, { batchSize: 5, waves: 1 });
    expect(first.outcome.state).toBe('stopped');
    const [runDir] = runDirs(stateDir);
    const copyPath = join(runDir!, 'plan.jsonl');
    const copy = parse(readFileSync(copyPath, 'utf8'));
    // An early user whose mobile the run updated: their `before` (what rollback restores) is rewritten.
    const igor = copy.findIndex((l) => l.t === 'user' && l.user === 'igor@contoso.com');
    const update = copy[igor]!.changes.find((c: Line) => c.resource === 'phoneMethods/mobile');
    expect(update?.action).toBe('update');
    const truth = update.before.phoneNumber;
    update.before.phoneNumber = '+1 2065550999';
    const text = dump(copy);
    writeFileSync(copyPath, text);
    const journalPath = join(runDir!, 'journal.jsonl');
    const journal = readFileSync(journalPath, 'utf8').split('\n');
    const header = JSON.parse(journal[0]!) as Line;
    header.planHash = createHash('sha256').update(text).digest('hex');
    journal[0] = JSON.stringify(header);
    writeFileSync(journalPath, journal.join('\n'));

    await expect(resumeIn(g, stateDir)).rejects.toThrow(/plan\.jsonl is not the plan its sources give/);
    const rolled = await rollbackIn(g, stateDir, first.outcome.runId);
    expect(rolled.outcome.counts.failed).toBe(0);
    const igorNow = (g.emu.snapshot() as Snapshot).users.find((u: Snapshot) => u.userPrincipalName === 'igor@contoso.com');
    expect(igorNow.methods.phone.find((p: Snapshot) => p.phoneType === 'mobile').phoneNumber).toBe(truth);
  });

  it('a state folder others can write is refused (a run planted there is never picked)', async () => {
    const stateDir = join(tmp.dir, 's4');
    chmodSync(stateDir, 0o777);
    try {
      await expect(resumeIn(g, stateDir)).rejects.toThrow(/can be written by others \(mode 777\)/);
      await expect(applyFile(g, planFile, stateDir)).rejects.toThrow(/can be written by others/);
    } finally {
      chmodSync(stateDir, 0o700);
    }
  });

  it('the unedited plan is the plan its sources give', () => {
    expect(plan.users.length).toBeGreaterThan(30);
  });
});
