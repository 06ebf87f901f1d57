import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPlanFromMemory, loadApplyPlan } from '../../src/apply/apply-plan.js';
import { streamJsonObject } from '../../src/apply/plan-stream.js';
import type { PlanFile } from '../../src/plan/plan-file.js';
import { tempDir } from './helpers.js';

describe('streamJsonObject', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(() => {
    tmp = tempDir('stream');
  });
  afterAll(() => tmp.cleanup());

  async function read(text: string) {
    const path = join(tmp.dir, `doc-${createHash('md5').update(text).digest('hex')}.json`);
    writeFileSync(path, text);
    const elements: unknown[] = [];
    const r = await streamJsonObject(path, 'items', new Set(['skipped']), (v) => elements.push(v));
    return { ...r, elements, hash: createHash('sha256').update(text).digest('hex') };
  }

  it('hands each element of the streamed array over parsed, keeps the other values, skips the skipped', async () => {
    const doc = {
      'a"b': 'x,}]\\"',
      n: -1.5e3,
      items: [1, 's,]', { k: [1, { z: '}"' }] }, null, 'é ✓ 😀', [[]]],
      t: true,
      skipped: { q: [']', '{'] },
      z: null,
      nested: { items: ['not the streamed one'] },
    };
    for (const text of [JSON.stringify(doc), JSON.stringify(doc, null, 2), ` \r\n${JSON.stringify(doc, null, '\t')}\n\n`]) {
      const r = await read(text);
      expect(r.elements).toEqual(doc.items);
      const { items: _i, skipped: _s, ...rest } = doc;
      expect(r.rest).toEqual(rest);
      expect(r.sha256).toBe(r.hash);
    }
  });

  it('reads values that span its read chunks', async () => {
    const big = { head: 'h'.repeat(200_000), items: Array.from({ length: 3000 }, (_, i) => ({ i, s: `v${'é'.repeat(i % 50)}` })), tail: ['t'.repeat(100_000)] };
    const r = await read(JSON.stringify(big));
    expect(r.elements).toEqual(big.items);
    expect(r.rest).toEqual({ head: big.head, tail: big.tail });
  });

  it('refuses what is not one JSON object, naming the byte', async () => {
    await expect(read('{"items":[1,,2]}')).rejects.toThrow(/byte 13 .*empty element/);
    await expect(read('{"a":1')).rejects.toThrow(/ends early/);
    await expect(read('[1]')).rejects.toThrow(/not an object/);
    await expect(read('{"a":1}x')).rejects.toThrow(/after the end/);
    await expect(read('{"items":{}}')).rejects.toThrow(/"items" is not an array/);
    await expect(read('{"items":[{"a":}]}')).rejects.toThrow(/items\[0\]/);
  });
});

describe('loadApplyPlan', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(() => {
    tmp = tempDir('applyplan');
  });
  afterAll(() => tmp.cleanup());

  const change = (user: string, id: string, resource: string, action = 'create') => ({
    user,
    user_id: id,
    resource,
    action,
    before: null,
    after: { v: `${user}/${resource}` },
    rule: 'R',
    because: 'b',
    state_fingerprint: 'f',
  });
  const plan = {
    kind: 'mfa-migrate-plan',
    format_version: '1.0',
    policy_changes: [{ target: 'authenticationMethodConfigurations/Sms', property: 'state', before: 'disabled', after: 'enabled', state_fingerprint: 'p' }],
    user_changes: [
      change('a@x', '1', 'phoneMethods/mobile'),
      change('a@x', '1', 'signInPreferences', 'update'),
      change('b@x', '2', 'phoneMethods/mobile', 'no-op'),
      change('c@x', '3', 'hardwareOathMethods/42'),
      // a user met again after another one: still one user, in first-seen order
      change('a@x', '1', 'emailMethods'),
    ],
    findings: [{ severity: 'info', message: 'x' }],
    source: { dir: 'src', tokens: ['t.pskc'], pskcMac: 'fail' },
  };

  it('keeps the users with changes in plan order, their changes, the policy and the source; hashes the bytes', async () => {
    const path = join(tmp.dir, 'p.plan');
    const text = JSON.stringify(plan, null, 2);
    writeFileSync(path, text);
    const p = await loadApplyPlan(path);
    expect(p.hash).toBe(createHash('sha256').update(text).digest('hex'));
    expect(p.source).toEqual(plan.source);
    expect(p.policyChanges).toEqual(plan.policy_changes);
    expect(p.hasTokenChanges).toBe(true);
    const users = [...p.users];
    expect(users.map((u) => u.upn)).toEqual(['a@x', 'c@x']);
    expect(users[0]!.changes.map((c) => c.resource)).toEqual(['phoneMethods/mobile', 'signInPreferences', 'emailMethods']);
    expect(users[0]!.changes[1]).toEqual({ resource: 'signInPreferences', action: 'update', before: null, after: { v: 'a@x/signInPreferences' }, state_fingerprint: 'f' });
    expect([...p.users.select((u) => u === 'c@x')].map((u) => u.userId)).toEqual(['3']);
    expect(p.users.select(undefined, 1).length).toBe(1);
    // The same view from a plan in memory.
    const mem = applyPlanFromMemory(plan as unknown as PlanFile, Buffer.from(text));
    expect([...mem.users]).toEqual(users);
    expect(mem.hash).toBe(p.hash);
  });

  it('refuses a file that is not a plan', async () => {
    const path = join(tmp.dir, 'not.plan');
    writeFileSync(path, JSON.stringify({ kind: 'something', user_changes: [] }));
    await expect(loadApplyPlan(path)).rejects.toThrow(/not a plan file/);
    writeFileSync(path, JSON.stringify({ ...plan, format_version: '2.0' }));
    await expect(loadApplyPlan(path)).rejects.toThrow(/format 2\.0 is not supported/);
    writeFileSync(path, '{"kind":"mfa-migrate-plan",');
    await expect(loadApplyPlan(path)).rejects.toThrow(/not a plan file/);
  });
});
