import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../src/plan/plan-model.js';
import { SavedPlan } from '../../src/plan/plan-file.js';
import { fakeGraph, type FakeGraph } from '../helpers/graph.js';
import { applyFile, planTo, tempDir } from '../helpers/migration.js';
import { writes } from '../helpers/tenant-checks.js';

type Line = Record<string, any>;

/**
 * Issue 14: what the plan records for auditors: every in-scope user once with their MFA Server
 * record and the methods they will hold, counts that add up, the input files with their hashes; the
 * saved plan (2.1) holds all of it, and an edit of any of it is refused like any other edit.
 */
describe('the plan as evidence', () => {
  let g: FakeGraph;
  let tmp: ReturnType<typeof tempDir>;
  let planFile: string;
  let plan: Plan;
  let lines: Line[];
  const user = (upn: string) => plan.users.find((u) => u.user === upn)!;
  const edited = (name: string, edit: (ls: Line[]) => void) => {
    const copy = structuredClone(lines);
    edit(copy);
    const p = join(tmp.dir, name);
    writeFileSync(p, `${copy.map((l) => JSON.stringify(l)).join('\n')}\n`);
    return p;
  };

  beforeAll(async () => {
    tmp = tempDir('record');
    g = fakeGraph();
    planFile = join(tmp.dir, 'wave1.plan');
    ({ plan } = await planTo(g, planFile));
    lines = readFileSync(planFile, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Line);
    g.emu.clearRequests();
  });
  afterAll(() => tmp.cleanup());

  it("keeps each user's MFA Server record as exported beside what it normalises to", () => {
    // A German number with its trunk prefix: the cell as written, and Entra's form of it.
    expect(user('aaron@contoso.com').server).toMatchObject({ phone: { country_code: '49', number: '030 1234567', extension: null, entra: '+49 301234567' }, backup_phone: null, default_method: 'phone_call' });
    expect(user('carol@contoso.com').server?.phone).toEqual({ country_code: '1', number: '4255550103', extension: '1234', entra: '+1 4255550103x1234' });
    // A user with no phone at all is still listed, with an empty record.
    expect(user('zoe@contoso.com')).toMatchObject({ status: expect.any(String), server: { phone: null, backup_phone: null, default_method: null, token_serials: [] } });
    const withTokens = plan.users.filter((u) => (u.server?.token_serials.length ?? 0) > 0);
    expect(withTokens.length).toBeGreaterThan(5);
    for (const u of plan.users) expect(u.server?.line, u.user).toBeGreaterThan(1);
  });

  it('names the methods each user holds after the plan, and who is left with none', () => {
    for (const u of plan.users) {
      if (u.status === 'not-in-tenant' || u.status === 'disabled') expect(u.methods_after, u.user).toBeNull();
      else expect(Array.isArray(u.methods_after), u.user).toBe(true);
    }
    // A user whose mobile phone is created holds a mobile phone after the plan.
    const created = plan.user_changes.find((c) => c.resource === 'phoneMethods/mobile' && c.action === 'create')!;
    expect(user(created.user).methods_after).toContain('mobilePhone');
    expect(plan.summary.user_status!.no_usable_method).toBe(plan.users.filter((u) => u.methods_after?.length === 0).length);
  });

  it('has one summary whose numbers add up: users by status, user changes by action, policy apart', () => {
    const s = plan.summary;
    const st = s.user_status!;
    expect(st.changes + st.unchanged + st.not_in_tenant + st.disabled).toBe(s.users);
    expect(s.users).toBe(plan.users.length);
    const uc = s.user_changes!;
    expect(uc.create + uc.update + uc.delete + uc.no_op).toBe(uc.total);
    expect(uc.total).toBe(plan.user_changes.length);
    expect(s.policy).toEqual({ targets: new Set(plan.policy_changes.map((c) => c.target)).size, changes: plan.policy_changes.length });
    // Terraform's totals are the two together: a policy target counts as one resource to change.
    expect([s.create, s.update, s.delete, s.no_op]).toEqual([uc.create, uc.update + s.policy!.targets, uc.delete, uc.no_op]);
    for (const k of ['changes', 'unchanged', 'not_in_tenant', 'disabled'] as const) expect(st[k], k).toBe(plan.users.filter((u) => u.status.replace(/-/g, '_') === k).length);
  });

  it('lists every input file with its SHA-256 and size, never a key or password file', () => {
    const inputs = plan.inputs!;
    expect(inputs.map((f) => f.role)).toEqual(['users', 'devices', 'settings', 'seeds', 'seeds', 'seeds', 'seeds', 'seeds']);
    for (const f of inputs) {
      const bytes = readFileSync(f.path);
      expect(f.bytes).toBe(bytes.length);
      expect(f.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
    // The PSKC key and password files were given too: they are never listed (nor their content).
    expect(inputs.some((f) => /psk\.hex$|pskc-password\.txt$/.test(f.path))).toBe(false);
  });

  it('saves all of it as format 2.3, and reads it back', async () => {
    expect(lines[0]!.format_version).toBe('2.21');
    expect(lines[0]!.inputs).toEqual(plan.inputs);
    const saved = await SavedPlan.open(planFile);
    const read: Line[] = [];
    for await (const chunk of saved.lines()) read.push(...chunk);
    expect(read.map((l) => [l.upn, l.server, l.methods_after])).toEqual(plan.users.map((u) => [u.user, u.server, u.methods_after]));
  });

  it('refuses a saved plan whose MFA Server record, methods or input list was edited', async () => {
    const at = lines.findIndex((l) => l.t === 'user' && l.user === 'aaron@contoso.com');
    const server = edited('server.plan', (ls) => (ls[at]!.server.phone.number = '030 7654321'));
    await expect(applyFile(g, server, join(tmp.dir, 's1'))).rejects.toThrow(new RegExp(`server\\.plan is not the plan its sources give.*line ${at + 1} \\(aaron@contoso\\.com\\): the MFA Server record`));
    const methods = edited('methods.plan', (ls) => (ls[at]!.methods_after = ['microsoftAuthenticator']));
    await expect(applyFile(g, methods, join(tmp.dir, 's2'))).rejects.toThrow(/methods\.plan is not the plan its sources give.*methods_after/);
    const inputs = edited('inputs.plan', (ls) => (ls[0]!.inputs[0].sha256 = '0'.repeat(64)));
    await expect(applyFile(g, inputs, join(tmp.dir, 's3'))).rejects.toThrow(/inputs\.plan is not the plan its sources give.*input files/);
    expect(writes(g.emu.requests())).toEqual([]);
  });
});
