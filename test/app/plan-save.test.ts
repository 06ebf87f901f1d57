import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makePlan, planFileOf, savePlan, type MadePlan } from '../../src/app/plan.js';
import { TEXT_CHUNK } from '../../src/io/text-chunks.js';
import { planFileChunks, SavedPlan, type PlanFileContent } from '../../src/plan/plan-file.js';
import type { Plan } from '../../src/plan/plan-model.js';
import { fakeGraph } from '../helpers/graph.js';
import { contosoRequest, testDir } from '../helpers/migration.js';

/**
 * A saved plan's text as docs/plan-format.md lays it out, made here a line at a time and joined
 * whole (not by the writer's chunks, which it checks): the header, the policy, cutover, user and
 * finding lines, then `end` counting the lines before it; every line ends in a line break.
 */
function planText(file: PlanFileContent): string {
  const records: unknown[] = [
    file.header,
    ...file.policy.map((c) => ({ t: 'policy', ...c })),
    ...file.cutover.map((c) => ({ t: 'cutover', ...c })),
    ...[...file.users].map((u) => ({
      t: 'user',
      user: u.upn,
      user_id: u.userId,
      status: u.status,
      ...(u.match ? { match: u.match } : {}),
      changes: u.changes,
      ...(u.server ? { server: u.server } : {}),
      ...(u.methods_after !== undefined ? { methods_after: u.methods_after } : {}),
      ...(u.seen !== undefined ? { seen: u.seen, tokens_seen: u.tokens ?? [] } : {}),
    })),
    ...file.findings.map((f) => ({ t: 'finding', ...f })),
  ];
  return [...records, { t: 'end', lines: records.length }].map((r) => `${JSON.stringify(r)}\n`).join('');
}

/** Bytes as UTF-8 that any writer's bug would break: a pair split between chunks, or cut, is not valid UTF-8. */
const strictUtf8 = (bytes: Buffer): string => new TextDecoder('utf-8', { fatal: true }).decode(bytes);

/**
 * The Contoso plan with its users repeated under new names and ids up to `n`: a saved plan of a few
 * MB, many chunks. Each name has multi-byte characters: two UTF-8 bytes (é), three (→) and a UTF-16
 * surrogate pair (😀, four).
 */
function scaled(made: MadePlan, n: number): MadePlan {
  const p = made.built.plan;
  const from = (i: number) => p.users[i % p.users.length]!;
  const name = (i: number) => `u${String(i).padStart(5, '0')}-é→😀@contoso.com`;
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
    expect(bytes.equals(Buffer.from(planText(planFileOf(made)), 'utf8'))).toBe(true);
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
    // Byte for byte the plan's lines joined whole: no chunk lost, doubled or joined wrong, no character cut.
    const text = strictUtf8(bytes);
    expect(bytes.equals(Buffer.from(planText(planFileOf(made)), 'utf8'))).toBe(true);
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l) as { t?: string; lines?: number; user?: string });
    expect(lines.filter((l) => l.t === 'user').map((l) => l.user)).toEqual(made.built.plan.users.map((u) => u.user));
    expect(lines.at(-1)).toEqual({ t: 'end', lines: lines.length - 1 });
    expect(bytes.at(-1)).toBe(0x0a);
    // Never the whole text in one piece: chunks of about TEXT_CHUNK characters.
    const chunks = [...planFileChunks(planFileOf(made))];
    expect(chunks.join('')).toBe(bytes.toString('utf8'));
    expect(chunks.length).toBeGreaterThan(bytes.length / (2 * TEXT_CHUNK));
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThan(2 * TEXT_CHUNK);
    expect(chunks.filter((c) => /[\uD800-\uDBFF]$/.test(c) || /^[\uDC00-\uDFFF]/.test(c))).toEqual([]);
  });
});
