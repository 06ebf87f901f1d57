import { chmodSync, chownSync, readdirSync, readFileSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../src/plan/plan-model.js';
import { fakeGraph, type FakeGraph } from '../helpers/graph.js';
import { applyFile, planTo, resumeIn, rollbackIn, runDirs, tempDir, planOfUntouched } from '../helpers/migration.js';
import { writes, type Snapshot } from '../helpers/tenant-checks.js';
import { SavedPlan } from '../../src/plan/plan-file.js';
import { readPlanSources } from '../../src/app/plan-check.js';
import { firstDifference } from '../../src/plan/rederive.js';
import { stateFingerprint } from '../../src/plan/fingerprint.js';
import { setDefaultMethod } from '../../src/graph/calls/user-methods.js';
import { StalePlanError } from '../../src/apply/run-apply.js';
import { CONTOSO } from '../helpers/migration.js';

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
  /** A copy of `base` (the plan's lines by default) edited and written to `name`. */
  const edited = (name: string, edit: (ls: Line[]) => void, base: Line[] = lines) => {
    const copy = structuredClone(base);
    edit(copy);
    const p = join(tmp.dir, name);
    writeFileSync(p, dump(copy));
    return p;
  };

  beforeAll(async () => {
    tmp = tempDir('tamper');
    planFile = join(tmp.dir, 'wave1.plan');
    ({ g, plan } = await planOfUntouched(planFile));
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
    const refusal = await applyFile(g, p, join(tmp.dir, 's1')).then(
      () => '',
      (err: Error) => err.message,
    );
    expect(refusal).toMatch(new RegExp(`number\\.plan is not the plan its sources give.*line ${at + 1} \\(bob@contoso\\.com\\): phoneMethods/mobile after is`));
    // Both numbers masked, as in every output (the message is printed and may be logged).
    expect(refusal).toContain('"+1 ********66"');
    expect(refusal).not.toMatch(/2065550666|4255550102/);
    expect(writes(g.emu.requests())).toEqual([]);
    // An edit the mask hides is still named as one.
    const hidden = edited('hidden.plan', (ls) => {
      const c = ls[at]!.changes.find((x: Line) => x.resource === 'phoneMethods/mobile');
      c.after.phoneNumber = c.after.phoneNumber.replace(/\d(\d{2})$/, (d: string, last: string) => `${(Number(d[0]) + 1) % 10}${last}`);
    });
    await expect(applyFile(g, hidden, join(tmp.dir, 's1h'))).rejects.toThrow(/phoneMethods\/mobile after is .* \(phone numbers masked: they differ in digits the mask hides\)/);
  });

  it('a change added (a delete), or one taken out: refused', async () => {
    const at = userLine('grace@contoso.com');
    const added = edited('added.plan', (ls) => ls[at]!.changes.push({ resource: 'phoneMethods/office', action: 'delete', before: { phoneNumber: '+1 4255550000', phoneType: 'office' }, after: null, rule: 'PHONE-PRUNE', because: 'x', state_fingerprint: 'x' }));
    await expect(applyFile(g, added, join(tmp.dir, 's2'))).rejects.toThrow(/added\.plan is not the plan its sources give.*grace@contoso\.com.*changes, planning gives/);
    const removed = edited('removed.plan', (ls) => ls[at]!.changes.pop());
    await expect(applyFile(g, removed, join(tmp.dir, 's2'))).rejects.toThrow(/removed\.plan is not the plan its sources give/);
    expect(writes(g.emu.requests())).toEqual([]);
  });

  /** Found by an auditor's black-box test: a user's line taken out, with the counts made to match, was applied. */
  it('a user\'s line taken out, with its findings and the counts made to match: refused, from a plan of the whole export and from one of --users', async () => {
    const cut = (name: string, base: Line[], upn: string) =>
      edited(
        name,
        (ls) => {
          const at = ls.findIndex((l) => l.t === 'user' && l.user === upn);
          const status = ls[at]!.status.status as string;
          ls.splice(at, 1);
          for (let i = ls.length - 1; i >= 0; i--) {
            if (ls[i]!.t !== 'finding' || ls[i]!.user !== upn) continue;
            ls[0]!.summary.findings[ls[i]!.severity]--;
            ls.splice(i, 1);
          }
          ls[0]!.summary.users--;
          ls[0]!.summary.user_status[status]--;
          ls.at(-1)!.lines = ls.length - 1;
        },
        base,
      );
    const whole = cut('whole-cut.plan', lines, 'rupert@contoso.com');
    await expect(applyFile(g, whole, join(tmp.dir, 's-cut1'))).rejects.toThrow(/whole-cut\.plan is not the plan its sources give.*the plan lists \d+ users; planning gives \d+/);

    const usersFile = join(tmp.dir, 'scope.txt');
    writeFileSync(usersFile, 'alice@contoso.com\nbob@contoso.com\nrupert@contoso.com\n');
    const scopedFile = join(tmp.dir, 'scoped.plan');
    await planTo(g, scopedFile, { users: usersFile });
    const scoped = parse(readFileSync(scopedFile, 'utf8'));
    expect(scoped[0]!.options.scope_users).toEqual({ count: 3, fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(lines[0]!.options.scope_users).toBeNull();
    // The summary made to be what planning the two users left gives: only the scope's record shows the cut.
    const twoFile = join(tmp.dir, 'two.txt');
    writeFileSync(twoFile, 'alice@contoso.com\nbob@contoso.com\n');
    await planTo(g, join(tmp.dir, 'two.plan'), { users: twoFile });
    const two = parse(readFileSync(join(tmp.dir, 'two.plan'), 'utf8'));
    const part = edited('scoped-cut.plan', (ls) => (ls[0]!.summary = two[0]!.summary), parse(readFileSync(cut('scoped-cut.plan', scoped, 'rupert@contoso.com'), 'utf8')));
    await expect(applyFile(g, part, join(tmp.dir, 's-cut2'))).rejects.toThrow(/scoped-cut\.plan is not the plan its sources give.*the plan's options is not what planning gives/);
    expect(writes(g.emu.requests())).toEqual([]);
    // The unedited narrower plan is the plan its sources give.
    expect((await applyFile(g, scopedFile, join(tmp.dir, 's-cut3'), { maxUsers: 1 })).outcome.state).toBe('completed');
    g.emu.reset();
    g.emu.clearRequests();
  });

  it('a plan of an older format that this version plans differently is refused as such (make a new plan), not called edited', async () => {
    const at = userLine('bob@contoso.com');
    // What an earlier version's rules could have given: another phone for bob, in a 2.2 file.
    const older = edited('older.plan', (ls) => {
      ls[0]!.format_version = '2.2';
      ls[at]!.changes.find((x: Line) => x.resource === 'phoneMethods/mobile').after.phoneNumber = '+1 2065550666';
    });
    await expect(applyFile(g, older, join(tmp.dir, 's-older'))).rejects.toThrow(/older\.plan is a plan of format 2\.2, made by an earlier version of mfa-migrate, or edited since: this version plans its sources differently \(line \d+ \(bob@contoso\.com\).*\), as the earlier version's rules, since changed, may have planned it, or as an edit after it was made would give\. Make a new plan/);
    // 2.3 plans were made before the rules of 2.4 (SMS for MFA only, ...): one this version plans otherwise is an earlier version's too.
    const before24 = edited('before-2.4.plan', (ls) => {
      ls[0]!.format_version = '2.3';
      ls[at]!.changes.find((x: Line) => x.resource === 'phoneMethods/mobile').after.phoneNumber = '+1 2065550666';
    });
    await expect(applyFile(g, before24, join(tmp.dir, 's-before24'))).rejects.toThrow(/before-2\.4\.plan is a plan of format 2\.3, made by an earlier version of mfa-migrate/);
    expect(writes(g.emu.requests())).toEqual([]);
  });

  it('a plan of an older format edited in a way no rules give (a state_fingerprint not its before state\'s) is called edited; one of a newer format is refused as a newer version\'s (a black-box test: a plan relabelled 2.99 was applied)', async () => {
    const at = userLine('bob@contoso.com');
    const forged = edited('older-forged.plan', (ls) => {
      ls[0]!.format_version = '2.12';
      ls[at]!.changes.find((x: Line) => x.resource === 'phoneMethods/mobile').state_fingerprint = '0000000000000000';
    });
    await expect(applyFile(g, forged, join(tmp.dir, 's-older-forged'))).rejects.toThrow(new RegExp(`older-forged\\.plan is not the plan its sources give, so it was changed after it was made: line ${at + 1} \\(bob@contoso\\.com\\): phoneMethods/mobile state_fingerprint is not its before state's`));
    const newer = edited('newer.plan', (ls) => (ls[0]!.format_version = '2.99'));
    await expect(applyFile(g, newer, join(tmp.dir, 's-newer'))).rejects.toThrow(/newer\.plan is a plan of format 2\.99, and this mfa-migrate \(\S+\) reads plan formats up to 2\.\d+: made by a later one .*Use an mfa-migrate that reads plan format 2\.99/);
    expect(writes(g.emu.requests())).toEqual([]);
  });

  it('a 2.8 plan, made before a text message OTP + PIN mode was said, is an earlier version\'s: not called edited', async () => {
    // As 2.8 wrote it for the Contoso export: no pin-mode finding for yusuf, none of POL-MANUAL for text messages (the company default is OTP).
    const said = (l: Line) => l.t === 'finding' && (l.rule === 'USER-SMS-PIN-MODE' || (l.rule === 'POL-MANUAL' && String(l.message).startsWith('text message (OTP + PIN)')));
    expect(lines.filter(said).map((l) => [l.severity, l.code, l.user ?? null])).toEqual([
      ['info', 'pin-mode', null],
      ['info', 'pin-mode', 'yusuf@contoso.com'],
    ]);
    const as28 = (name: string) =>
      edited(name, (ls) => {
        ls[0]!.format_version = '2.8';
        for (let i = ls.length - 1; i >= 0; i--) {
          if (!said(ls[i]!)) continue;
          ls[0]!.summary.findings[ls[i]!.severity]--;
          ls.splice(i, 1);
        }
        ls.at(-1)!.lines = ls.length - 1;
      });
    await expect(applyFile(g, as28('before-2.9.plan'), join(tmp.dir, 's-before29'))).rejects.toThrow(/before-2\.9\.plan is a plan of format 2\.8, made by an earlier version of mfa-migrate, or edited since: this version plans its sources differently \(the plan's summary is not what planning gives\)/);
    expect(writes(g.emu.requests())).toEqual([]);
  });

  it("a run begun from a plan of an older format is resumed without planning its copy again: its hash is the journal's", async () => {
    const older = edited('older-run.plan', (ls) => (ls[0]!.format_version = '2.2'));
    const stateDir = join(tmp.dir, 's-older-run');
    // A tenant of its own: the other cases here read the untouched one.
    const own = fakeGraph();
    const first = await applyFile(own, older, stateDir, { batchSize: 5, waves: 1 });
    expect(first.outcome.state).toBe('stopped');
    const notes: string[] = [];
    const resumed = await resumeIn(own, stateDir, { log: (l) => notes.push(l) });
    expect(resumed.outcome.state).toBe('completed');
    expect(notes).toContainEqual(expect.stringMatching(/run's plan copy is of format 2\.2 .* not planned again/));
  });

  it('an older run copy edited, with the journal made to match and its hash chain stripped, is planned again and refused', async () => {
    // 2.1: the last format written before journals were chained (a journal without hashes beside a later copy is an edit).
    const older = edited('older-tampered.plan', (ls) => (ls[0]!.format_version = '2.1'));
    const stateDir = join(tmp.dir, 's-older-tampered');
    const own = fakeGraph();
    expect((await applyFile(own, older, stateDir, { batchSize: 5, waves: 1 })).outcome.state).toBe('stopped');
    const runDir = runDirs(stateDir)[0]!;
    const copy = parse(readFileSync(join(runDir, 'plan.jsonl'), 'utf8'));
    const at = copy.findIndex((l) => l.t === 'user' && l.user === 'bob@contoso.com');
    copy[at]!.changes.find((x: Line) => x.resource === 'phoneMethods/mobile').after.phoneNumber = '+1 2065550666';
    writeFileSync(join(runDir, 'plan.jsonl'), dump(copy));
    const hash = createHash('sha256').update(readFileSync(join(runDir, 'plan.jsonl'))).digest('hex');
    // A journal as written before the hash chain: no hash on any line.
    const journal = parse(readFileSync(join(runDir, 'journal.jsonl'), 'utf8')).map(({ hash: _h, ...rest }) => rest);
    journal[0]!.planHash = hash;
    writeFileSync(join(runDir, 'journal.jsonl'), dump(journal));
    await expect(resumeIn(own, stateDir)).rejects.toThrow(/plan\.jsonl is a plan of format 2\.1, made by an earlier version .*bob@contoso\.com/);
    // What to do says this run, not "runs already started go on with resume" (this is that resume).
    const runId = basename(runDir);
    await expect(resumeIn(own, stateDir)).rejects.toThrow(
      `Run ${runId}'s journal is from before journals were hash-chained, so nothing shows this copy is the plan the run started with, and it is not taken on trust: finish the run with the version of mfa-migrate that started it, or undo it with mfa-migrate rollback ${runId} (which plans nothing again), then make a new plan.`,
    );
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

  it("a run's plan copy edited with its hash recomputed in the journal: resume refuses the copy, rollback the journal", async () => {
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
    // The journal's header was rewritten: its hash chain no longer holds, and rollback acts on nothing it says.
    g.emu.clearRequests();
    await expect(rollbackIn(g, stateDir, first.outcome.runId)).rejects.toThrow(new RegExp(`the journal of run ${first.outcome.runId} was edited or damaged \\(line 1: `));
    expect(writes(g.emu.requests())).toEqual([]);
  });

  it('the plan file edited while the run is under way: the run applies the plan it checked, read from its own copy', async () => {
    const file = join(tmp.dir, 'during.plan');
    const { g: g2, plan: p2 } = await planOfUntouched(file);
    const original = readFileSync(file);
    const all = parse(original.toString('utf8'));
    const target = all.filter((l) => l.t === 'user' && l.changes.some((c: Line) => c.resource === 'phoneMethods/mobile' && c.action === 'create')).at(-1)!;
    const planned = target.changes.find((c: Line) => c.resource === 'phoneMethods/mobile').after.phoneNumber as string;
    const stateDir = join(tmp.dir, 's-during');
    let editedAt: number | undefined;
    const applied = await applyFile(g2, file, stateDir, {
      batchSize: 4,
      onProgress: (e) => {
        if (e.phase !== 'wave' || editedAt !== undefined) return;
        editedAt = e.wave;
        target.changes.find((c: Line) => c.resource === 'phoneMethods/mobile').after.phoneNumber = '+1 2065550666';
        writeFileSync(file, dump(all));
      },
    });
    expect(editedAt).toBe(1);
    expect(applied.outcome.state).toBe('completed');
    expect(p2.users.findIndex((u) => u.user === target.user)).toBeGreaterThan(8);
    const now = (g2.emu.snapshot() as Snapshot).users.find((u: Snapshot) => u.userPrincipalName === target.user);
    expect(now.methods.phone.find((x: Snapshot) => x.phoneType === 'mobile').phoneNumber).toBe(planned);
    // The run keeps the bytes it checked; the private copy it read is gone from the state folder.
    const [runDir] = runDirs(stateDir);
    expect(readFileSync(join(runDir!, 'plan.jsonl')).equals(original)).toBe(true);
    expect(readdirSync(stateDir).filter((f) => f.startsWith('.plan-'))).toEqual([]);
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

  it("a run's own files are checked like its folder: a journal others can write, another user's, or a symbolic link is refused (found by a black-box test)", async () => {
    const file = join(tmp.dir, 'own-files.plan');
    const { g } = await planOfUntouched(file);
    const stateDir = join(tmp.dir, 's6');
    const { outcome } = await applyFile(g, file, stateDir, { batchSize: 5, waves: 1 });
    expect(outcome.state).toBe('stopped');
    const journal = join(runDirs(stateDir)[0]!, 'journal.jsonl');
    const outside = join(tmp.dir, 'journal-elsewhere.jsonl');
    const cases: [string, () => void, () => void, RegExp][] = [
      ['writable', () => chmodSync(journal, 0o666), () => chmodSync(journal, 0o600), /journal\.jsonl can be written by others \(mode 666\): refusing to use it; chmod 600 it/],
      ['foreign', () => chownSync(journal, 4242, 4242), () => chownSync(journal, process.getuid!(), process.getgid!()), /journal\.jsonl belongs to another user \(uid 4242\)/],
      ['symlink', () => (renameSync(journal, outside), symlinkSync(outside, journal)), () => (unlinkSync(journal), renameSync(outside, journal)), /journal\.jsonl is a symbolic link/],
    ];
    for (const [name, spoil, mend, message] of cases) {
      if (name === 'foreign' && process.getuid?.() !== 0) continue;
      spoil();
      try {
        await expect(resumeIn(g, stateDir), name).rejects.toThrow(message);
        await expect(rollbackIn(g, stateDir, outcome.runId), name).rejects.toThrow(message);
      } finally {
        mend();
      }
    }
    expect((await resumeIn(g, stateDir)).outcome.state).toBe('completed');
  });

  it('a cutover edited (a domain federated without waiting for its switches; a group read as emptier than it was): refused before any write', async () => {
    const cutFile = join(tmp.dir, 'cutover.plan');
    await planTo(g, cutFile, { rolloutGroups: ['MFA Staged Rollout'], federatedMfa: 'reject', forceFederation: true });
    const cut = parse(readFileSync(cutFile, 'utf8'));
    const write = (name: string, edit: (ls: Line[]) => void) => edited(name, edit, cut);
    g.emu.clearRequests();
    const noWait = write('nowait.plan', (ls) => {
      ls.find((l) => l.t === 'cutover' && l.target.startsWith('domains/'))!.switches = 0;
    });
    await expect(applyFile(g, noWait, join(tmp.dir, 's5'))).rejects.toThrow(/nowait\.plan is not the plan its sources give.*: cutover change 3 \(update domains\/contoso\.com\/federationConfiguration\)/);
    const seen = write('seen.plan', (ls) => {
      ls[0]!.cutover_seen.groups[0].users = 150;
    });
    await expect(applyFile(g, seen, join(tmp.dir, 's5'))).rejects.toThrow(/seen\.plan is not the plan its sources give.*: cutover change 2/);
    const dropped = write('dropped.plan', (ls) => {
      ls.splice(ls.findIndex((l) => l.t === 'cutover' && l.target.startsWith('domains/')), 1);
      ls.at(-1)!.lines = ls.length - 1;
    });
    await expect(applyFile(g, dropped, join(tmp.dir, 's5'))).rejects.toThrow(/dropped\.plan is not the plan its sources give.*: cutover change 3 \(missing\)/);
    expect(writes(g.emu.requests())).toEqual([]);
  });

  it('a rollout member outside the plan read as having no method (the plan would switch them with nothing to sign in with): refused as planning refuses it, before any write', async () => {
    const own = fakeGraph();
    const s = own.emu.snapshot() as Snapshot;
    const group = s.groups.find((x: Snapshot) => x.displayName === 'MFA Staged Rollout').id;
    const alice = s.users.find((u: Snapshot) => u.userPrincipalName === 'alice@contoso.com').id;
    expect((await own.raw.post(`/v1.0/groups/${group}/members/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${alice}` })).status).toBe(204);
    const users = join(tmp.dir, 'bob-only.txt');
    writeFileSync(users, 'bob@contoso.com\n');
    const file = join(tmp.dir, 'member.plan');
    await planTo(own, file, { users, rolloutGroups: ['MFA Staged Rollout'] });
    const methodless = edited('methodless.plan', (ls) => {
      const member = ls[0]!.cutover_seen.rolloutMembers.find((m: Line) => m.userPrincipalName === 'alice@contoso.com');
      member.phones = [];
    }, parse(readFileSync(file, 'utf8')));
    own.emu.clearRequests();
    await expect(applyFile(own, methodless, join(tmp.dir, 's5m'))).rejects.toThrow(/methodless\.plan is not the plan its sources give.*planning its users refuses it: the rollout group "MFA Staged Rollout": creating the staged rollout policy for it switches 1 member\(s\) .*: alice@contoso\.com\./);
    expect(writes(own.emu.requests())).toEqual([]);
  });

  it('a plan saved before the cutover (format 2.0: no cutover, no phone-only count) is still the plan its sources give', async () => {
    const old = join(tmp.dir, 'v20.plan');
    const copy = structuredClone(lines);
    const { cutover: _c, ...header } = copy[0]!;
    const { phone_only_after_retirement: _p, ...summary } = header.summary;
    const { rollout_groups: _r, federated_mfa: _f, force_federation: _ff, campaign_group: _cg, scope_group: _s, ...options } = header.options;
    // The 2.0 rules counted one phone-only finding per user and no passkey finding.
    copy[0] = { ...header, format_version: '2.0', summary: { ...summary, findings: { ...summary.findings, warning: summary.findings.warning - 1 } }, options };
    for (const l of copy) if (l.t === 'user' && l.seen) delete l.seen.userType;
    writeFileSync(old, dump(copy));
    g.emu.reset();
    g.emu.clearRequests();
    const r = await applyFile(g, old, join(tmp.dir, 's6'), { maxUsers: 1 });
    expect(r.outcome.state).toBe('completed');
  });

  it('a plan saved before 2.14 (no summary.rollback_cannot_undo) is still the plan its sources give; a 2.14 one without it is refused', async () => {
    const copy = structuredClone(lines);
    delete copy[0]!.summary.rollback_cannot_undo;
    writeFileSync(join(tmp.dir, 'v213.plan'), dump([{ ...copy[0]!, format_version: '2.13' }, ...copy.slice(1)]));
    writeFileSync(join(tmp.dir, 'v214.plan'), dump(copy));
    g.emu.reset();
    await expect(applyFile(g, join(tmp.dir, 'v214.plan'), join(tmp.dir, 's214'))).rejects.toThrow(/v214\.plan is not the plan its sources give.*the plan's summary is not what planning gives/);
    const r = await applyFile(g, join(tmp.dir, 'v213.plan'), join(tmp.dir, 's213'), { maxUsers: 1 });
    expect(r.outcome.state).toBe('completed');
  });

  it('the unedited plan is the plan its sources give', () => {
    expect(plan.users.length).toBeGreaterThan(30);
  });
});

/**
 * The tenant state a plan recorded is data in the file too: an edit to it, with every change made to
 * match it (as planning the faked state would), must not pass either (found by a review).
 */
describe('an edited plan whose recorded tenant state was edited to match its changes is refused', () => {
  const tmp = tempDir('tamper-seen');
  afterAll(() => tmp.cleanup());

  /** Quinn's tenant default is voice (kept under if-unset); the file says she had none, and asks for SMS. */
  async function fakedDefault(g: FakeGraph): Promise<{ lines: Line[]; quinnId: string }> {
    const quinnId = (g.emu.snapshot() as Snapshot).users.find((u: { userPrincipalName: string }) => u.userPrincipalName === 'quinn@contoso.com')!.id as string;
    await g.client().request(setDefaultMethod(quinnId, 'voiceMobile'));
    const honest = join(tmp.dir, `honest-${quinnId.slice(0, 4)}-${Math.random().toString(16).slice(2)}.plan`);
    await planTo(g, honest);
    const lines = parse(readFileSync(honest, 'utf8'));
    const q = lines.find((l) => l.t === 'user' && l.user === 'quinn@contoso.com')!;
    expect(q.status).toBe('unchanged');
    q.seen.defaultMethod = null;
    q.status = 'changes';
    const s = lines[0]!.summary;
    s.update++;
    s.no_op--;
    s.user_changes.update++;
    s.user_changes.no_op--;
    s.user_status.changes++;
    s.user_status.unchanged--;
    // A default set where the faked state has none: one more change a rollback cannot undo.
    s.rollback_cannot_undo.changes++;
    s.rollback_cannot_undo.default_methods++;
    // What planning the faked state gives, taken from the re-derivation's own answers, as an attacker could.
    const p = join(tmp.dir, 'probe.plan');
    for (let k = 0; k < 12; k++) {
      writeFileSync(p, dump(lines));
      const saved = await SavedPlan.open(p);
      const where = (await firstDifference(saved, await readPlanSources(saved)))?.where;
      const m = where && /\((.+?)\): (\S+) (\w+) is .* in the file, planning its sources gives (.*)$/.exec(where);
      if (!m) break;
      lines.find((l) => l.t === 'user' && l.user === m[1])!.changes.find((c: Line) => c.resource === m[2])[m[3]!] = JSON.parse(m[4]!);
    }
    const change = q.changes.find((c: Line) => c.resource === 'signInPreferences');
    expect(change).toMatchObject({ action: 'update', after: { userPreferredMethodForSecondaryAuthentication: 'sms' } });
    return { lines, quinnId };
  }

  it('with the state fingerprints left as they were: refused by the re-derivation, nothing written', async () => {
    const g = fakeGraph();
    const { lines } = await fakedDefault(g);
    const p = join(tmp.dir, 'kept-fingerprint.plan');
    writeFileSync(p, dump(lines));
    g.emu.clearRequests();
    await expect(applyFile(g, p, join(tmp.dir, 's-kept'))).rejects.toThrow(/kept-fingerprint\.plan is not the plan its sources give.*quinn@contoso\.com\): signInPreferences state_fingerprint is not its before state's/);
    expect(writes(g.emu.requests())).toEqual([]);
  });

  it('with the fingerprints made to match the edited state: refused as stale by the pre-flight, nothing written', async () => {
    const g = fakeGraph();
    const { lines, quinnId } = await fakedDefault(g);
    const q = lines.find((l) => l.t === 'user' && l.user === 'quinn@contoso.com')!;
    for (const c of q.changes) c.state_fingerprint = stateFingerprint(c.before);
    const p = join(tmp.dir, 'new-fingerprint.plan');
    writeFileSync(p, dump(lines));
    g.emu.clearRequests();
    await expect(applyFile(g, p, join(tmp.dir, 's-new'))).rejects.toThrow(StalePlanError);
    expect(writes(g.emu.requests())).toEqual([]);
    const now = (g.emu.snapshot() as Snapshot).users.find((u: { id: string }) => u.id === quinnId)!;
    expect(JSON.stringify(now)).toContain('voiceMobile');
  });

  it('with the recorded policy removed from the header, or a user\'s recorded state: refused, nothing written', async () => {
    const honest = join(tmp.dir, 'plain.plan');
    const { g } = await planOfUntouched(honest);
    const lines = parse(readFileSync(honest, 'utf8'));
    const noPolicy = structuredClone(lines);
    delete noPolicy[0]!.policy_seen;
    writeFileSync(join(tmp.dir, 'no-policy-seen.plan'), dump(noPolicy));
    await expect(applyFile(g, join(tmp.dir, 'no-policy-seen.plan'), join(tmp.dir, 's-np'))).rejects.toThrow(/no-policy-seen\.plan: this plan \(format 2\.\d+\) records no tenant state, so an edit to it could not be detected/);
    const noSeen = structuredClone(lines);
    const at = noSeen.findIndex((l) => l.t === 'user');
    delete noSeen[at]!.seen;
    writeFileSync(join(tmp.dir, 'no-seen.plan'), dump(noSeen));
    await expect(applyFile(g, join(tmp.dir, 'no-seen.plan'), join(tmp.dir, 's-ns'))).rejects.toThrow(new RegExp(`no-seen\\.plan is not the plan its sources give.*line ${at + 1} `));
    expect(writes(g.emu.requests())).toEqual([]);
  });

  it('a 1.x plan (no tenant state recorded) is not applied: it could not be checked', async () => {
    const { g, plan } = await planOfUntouched(join(tmp.dir, 'for-v1.plan'));
    const v1 = { kind: 'mfa-migrate-plan', format_version: '1.0', created: plan.created, source_fingerprint: plan.source_fingerprint, tenant: { id: plan.tenant.id }, options: plan.options, summary: plan.summary, policy_changes: plan.policy_changes.map((c) => ({ ...c, state_fingerprint: stateFingerprint(c.before) })), user_changes: plan.user_changes.map((c) => ({ ...c, state_fingerprint: stateFingerprint(c.before) })), findings: plan.findings, registration_campaign: plan.registration_campaign, source: { dir: CONTOSO, tokens: [], pskcMac: 'fail' } };
    const p = join(tmp.dir, 'v1.plan');
    writeFileSync(p, JSON.stringify(v1));
    g.emu.clearRequests();
    await expect(applyFile(g, p, join(tmp.dir, 's-v1'))).rejects.toThrow(/v1\.plan: this plan \(format 1\.0\) records no tenant state/);
    expect(writes(g.emu.requests())).toEqual([]);
  });
});

/** The approved plan, by its hash: the report an auditor signs shows the file's SHA-256, and apply can insist on it. */
describe('apply --plan-hash', () => {
  const tmp = tempDir('plan-hash');
  afterAll(() => tmp.cleanup());

  it('refuses any other file before anything is sent, and applies the file with that hash (any case)', async () => {
    const planFile = join(tmp.dir, 'approved.plan');
    const { g } = await planOfUntouched(planFile);
    const hash = createHash('sha256').update(readFileSync(planFile)).digest('hex');
    expect((await SavedPlan.open(planFile)).hash).toBe(hash);
    const other = join(tmp.dir, 'other.plan');
    await planTo(g, other, { includeEmail: true });
    g.emu.clearRequests();
    await expect(applyFile(g, other, join(tmp.dir, 's1'), { planHash: hash })).rejects.toThrow(new RegExp(`other\\.plan is not the approved plan: its SHA-256 is [0-9a-f]{64}, --plan-hash gives ${hash}; nothing was sent`));
    expect(g.emu.requests()).toEqual([]);
    const applied = await applyFile(g, planFile, join(tmp.dir, 's2'), { planHash: hash.toUpperCase() });
    expect(applied.outcome.state).toBe('completed');
  });
});
