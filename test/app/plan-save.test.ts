import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makePlan, planFileOf, savePlan, type MadePlan } from '../../src/app/plan.js';
import { TEXT_CHUNK } from '../../src/io/text-chunks.js';
import { encodePlanFile, planFileChunks, SavedPlan } from '../../src/plan/plan-file.js';
import type { Plan } from '../../src/plan/plan-model.js';
import { fakeGraph } from '../helpers/graph.js';
import { contosoRequest, testDir } from '../helpers/migration.js';

/** The Contoso plan with its users repeated under new names and ids up to `n`: a saved plan of a few MB. */
function scaled(made: MadePlan, n: number): MadePlan {
  const p = made.built.plan;
  const from = (i: number) => p.users[i % p.users.length]!;
  const name = (i: number) => `u${String(i).padStart(5, '0')}@contoso.com`;
  const id = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  const users = Array.from({ length: n }, (_, i) => ({ ...from(i), user: name(i), user_id: from(i).user_id === null ? null : id(i) }));
  const plan: Plan = {
    ...p,
    users,
    user_changes: users.flatMap((u, i) => p.user_changes.filter((c) => c.user === from(i).user).map((c) => ({ ...c, user: u.user, user_id: u.user_id ?? c.user_id }))),
    findings: users.flatMap((u, i) => p.findings.filter((f) => f.user === from(i).user).map((f) => ({ ...f, user: u.user }))),
  };
  return { ...made, built: { ...made.built, plan } };
}

describe('savePlan (plan --out)', () => {
  it('gives the SHA-256 of the bytes written (the hash apply records), and the file apply reads', async () => {
    const { dir } = testDir('plan-save');
    const made = await makePlan({ ...contosoRequest(), graph: fakeGraph().client({ readOnly: true }) });
    const path = join(dir, 'contoso.plan');
    const hash = await savePlan(path, made);
    const bytes = readFileSync(path);
    expect(hash).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(bytes.equals(encodePlanFile(planFileOf(made)))).toBe(true);
    const saved = await SavedPlan.open(path);
    expect(saved.hash).toBe(hash);
    expect(saved.users.map((u) => u.upn)).toEqual(made.built.plan.users.map((u) => u.user));
  });

  it('writes a large plan a chunk at a time, every line whole and the end line counting them', async () => {
    const { dir } = testDir('plan-save');
    const made = scaled(await makePlan({ ...contosoRequest(), graph: fakeGraph().client({ readOnly: true }) }), 3000);
    const path = join(dir, 'big.plan');
    const hash = await savePlan(path, made);
    const bytes = readFileSync(path);
    expect(hash).toBe(createHash('sha256').update(bytes).digest('hex'));
    const lines = bytes.toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { t?: string; lines?: number });
    expect(lines.filter((l) => l.t === 'user')).toHaveLength(3000);
    expect(lines.at(-1)).toEqual({ t: 'end', lines: lines.length - 1 });
    expect(bytes.at(-1)).toBe(0x0a);
    // Never the whole text in one piece: chunks of about TEXT_CHUNK characters.
    const chunks = [...planFileChunks(planFileOf(made))];
    expect(chunks.join('')).toBe(bytes.toString('utf8'));
    expect(chunks.length).toBeGreaterThan(bytes.length / (2 * TEXT_CHUNK));
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThan(2 * TEXT_CHUNK);
  });
});
