import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPlanSources } from '../../src/app/plan-check.js';
import { firstDifference } from '../../src/plan/rederive.js';
import { PLAN_FILE_VERSION, planFileChunks, readPlanHeader, SavedPlan, toPlanFile } from '../../src/plan/plan-file.js';
import { toolVersion } from '../../src/io/tool-version.js';
import type { Plan } from '../../src/plan/plan-model.js';
import { fakeGraph } from '../helpers/graph.js';
import { CONTOSO, contosoRequest, planTo, tempDir, testDir } from '../helpers/migration.js';

/** The saved plan's one codec: JSON Lines 2.0 written and read, 1.x still read, anything else refused with its line. */
describe('the saved plan file', () => {
  let tmp: ReturnType<typeof tempDir>;
  let path: string;
  let plan: Plan;
  let text: string;
  beforeAll(async () => {
    tmp = tempDir('planfile');
    path = join(tmp.dir, 'p.plan');
    ({ plan } = await planTo(fakeGraph(), path));
    text = readFileSync(path, 'utf8');
  });
  afterAll(() => tmp.cleanup());
  const write = (name: string, content: string) => {
    const p = join(tmp.dir, name);
    writeFileSync(p, content);
    return p;
  };

  it('is a header, one line per policy change, per in-scope user and per finding, and an end line counting them', async () => {
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ kind: 'mfa-migrate-plan', format_version: PLAN_FILE_VERSION, tenant: plan.tenant, graph: plan.graph });
    expect(lines.filter((l) => l.t === 'policy')).toHaveLength(plan.policy_changes.length);
    expect(lines.filter((l) => l.t === 'user')).toHaveLength(plan.users.length);
    expect(lines.filter((l) => l.t === 'finding')).toHaveLength(plan.findings.length);
    expect(lines.at(-1)).toEqual({ t: 'end', lines: lines.length - 1 });
    const saved = await SavedPlan.open(path);
    expect(saved.format).toBe('2');
    expect(saved.users.map((u) => [u.upn, u.status])).toEqual(plan.users.map((u) => [u.user, u.status]));
    const withChanges = saved.users.map((u, i) => [u, i] as const).filter(([u]) => u.pending > 0);
    const read = await saved.read(withChanges.map(([, i]) => i));
    expect(read.flatMap((u) => u.changes.map((c) => `${u.upn} ${c.resource} ${c.action}`)).sort()).toEqual(
      plan.user_changes.filter((c) => c.action !== 'no-op').map((c) => `${c.user} ${c.resource} ${c.action}`).sort(),
    );
  });

  it('reads the users at any positions in the order asked, each as one read of its line alone would; a file changed since it was opened is refused', async () => {
    const saved = await SavedPlan.open(path);
    // The users the tenant has (the others have no line for apply to read).
    const all = saved.users.flatMap((u, i) => (u.userId !== null ? [i] : []));
    const n = all.length;
    expect(n).toBeGreaterThan(5);
    const alone = new Map(await Promise.all(all.map(async (i) => [i, (await saved.read([i]))[0]!] as const)));
    expect(all.map((i) => alone.get(i)!.upn)).toEqual(all.map((i) => saved.users[i]!.upn));
    // In order, reversed, with gaps, one position twice: lines read together or not, the same users.
    for (const positions of [all, [...all].reverse(), [all[0]!, all[2]!, all[n - 1]!], [all[1]!, all[1]!, all[0]!]]) {
      expect(await saved.read(positions)).toEqual(positions.map((i) => alone.get(i)));
    }
    const changed = join(tmp.dir, 'changed.plan');
    writeFileSync(changed, text);
    const opened = await SavedPlan.open(changed);
    // Cut short: the last user's line is no longer all there.
    writeFileSync(changed, text.slice(0, opened.users[all[n - 1]!]!.offset + 5));
    await expect(opened.read(all)).rejects.toThrow(/the plan file changed while it was being applied/);
    // The same length, another user's id in a line.
    const second = opened.users[all[1]!]!;
    writeFileSync(changed, text.replace(`"user_id":"${second.userId}"`, `"user_id":"${second.userId!.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'))}"`));
    await expect(opened.read(all)).rejects.toThrow(/the plan file changed while it was being applied/);
    await expect(opened.read([all[0]!])).resolves.toHaveLength(1);
  });

  it('the same plan encodes to the same bytes', () => {
    const text = (p: typeof plan) => [...planFileChunks(toPlanFile(p, { dir: '/x', tokens: [], pskcMac: 'fail' }))].join('');
    expect(text(plan)).toBe(text(structuredClone(plan)));
  });

  it("refuses a file that is not a plan without quoting it: a key file given by mistake was printed (found by a black-box test)", async () => {
    for (const [name, secret] of [['psk.hex', 'b6627a32a9d41c0e5f3b8a7c9e2d1f00'], ['seed.txt', 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP'], ['half.plan', '{"format_version":"1.0","k":"JBSWY3DPEHPK3PXP"']] as const) {
      const err = (await SavedPlan.open(write(name, `${secret}\n`)).catch((e: unknown) => e)) as Error;
      expect(err.message).toMatch(/not a plan file/);
      expect(err.message).not.toContain(secret.replace(/^.*"k":"/, '').slice(0, 8));
    }
  });

  it('refuses a cut-off file, an edited line, a line of an unknown type and text after the end, naming the line', async () => {
    const lines = text.trimEnd().split('\n');
    await expect(SavedPlan.open(write('cut.plan', `${lines.slice(0, -3).join('\n')}\n`))).rejects.toThrow(/cut off \(no end line\)/);
    const edited = [...lines];
    const userAt = edited.findIndex((l) => l.includes('"t":"user"') && l.includes('"action":"create"'));
    edited[userAt] = edited[userAt]!.replace('"action":"create"', '"action":"obliterate"');
    await expect(SavedPlan.open(write('edited.plan', `${edited.join('\n')}\n`))).rejects.toThrow(new RegExp(`line ${userAt + 1}: not a valid plan line: changes\\.\\d+\\.action`));
    const odd = [...lines.slice(0, 2), '{"t":"surprise"}', ...lines.slice(2)];
    await expect(SavedPlan.open(write('odd.plan', `${odd.join('\n')}\n`))).rejects.toThrow(/line 3: not a valid plan line: unknown line type "surprise"/);
    await expect(SavedPlan.open(write('after.plan', `${text}{"t":"policy"}\n`))).rejects.toThrow(/text after the end line/);
    const dup = [...lines];
    dup.splice(userAt, 0, lines[userAt]!);
    await expect(SavedPlan.open(write('dup.plan', `${dup.join('\n')}\n`))).rejects.toThrow(/appears twice/);
    // Lines taken out and the end line redone to match: the header's summary still counts them.
    const redone = (keep: (l: string) => boolean) => {
      const body = lines.slice(0, -1).filter((l, i) => i === 0 || keep(l));
      return `${[...body, JSON.stringify({ t: 'end', lines: body.length })].join('\n')}\n`;
    };
    const users = lines.filter((l) => l.startsWith('{"t":"user"')).length;
    expect(users).toBeGreaterThan(5);
    await expect(SavedPlan.open(write('header-only.plan', redone(() => false)))).rejects.toThrow(new RegExp(`the summary counts ${users} users, the file has 0 user lines: the file was edited`));
    let dropped = false;
    const oneUserLess = (l: string) => !(l.startsWith('{"t":"user"') && !dropped && (dropped = true));
    await expect(SavedPlan.open(write('user-less.plan', redone(oneUserLess)))).rejects.toThrow(new RegExp(`the summary counts ${users} users, the file has ${users - 1} user lines`));
    const findings = lines.filter((l) => l.startsWith('{"t":"finding"')).length;
    expect(findings).toBeGreaterThan(0);
    await expect(SavedPlan.open(write('no-findings.plan', redone((l) => !l.startsWith('{"t":"finding"'))))).rejects.toThrow(new RegExp(`the summary counts ${findings} findings, the file has 0 finding lines`));
  });

  it('refuses an unknown major version and what is not a plan; reads its own version, ignoring fields it does not know', async () => {
    const lines = text.trimEnd().split('\n');
    const header = JSON.parse(lines[0]!) as Record<string, unknown>;
    await expect(SavedPlan.open(write('v3.plan', [JSON.stringify({ ...header, format_version: '3.0' }), ...lines.slice(1)].join('\n')))).rejects.toThrow(/plan format 3\.0 is not supported/);
    await expect(SavedPlan.open(write('json.plan', '{"hello":"world"}\n'))).rejects.toThrow(/not a plan file written by mfa-migrate plan --out/);
    await expect(SavedPlan.open(join(tmp.dir, 'missing.plan'))).rejects.toThrow(/cannot read the plan file .*missing\.plan: no such file/);
    const shiny = [JSON.stringify({ ...header, shiny: true }), ...lines.slice(1).map((l) => (l.includes('"t":"user"') ? l.replace('{"t":"user"', '{"t":"user","shiny":1') : l))].join('\n');
    expect((await SavedPlan.open(write('shiny.plan', `${shiny}\n`))).users).toHaveLength(plan.users.length);
  });

  it('refuses a newer minor version than this one writes as a later mfa-migrate\'s, naming both formats and both builds, and saying which to use (a black-box test: a plan relabelled 2.99 was applied)', async () => {
    const lines = text.trimEnd().split('\n');
    const header = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(PLAN_FILE_VERSION).toMatch(/^2\.\d+$/);
    expect(header.tool_version).toEqual(expect.any(String));
    const next = `2.${Number(PLAN_FILE_VERSION.split('.')[1]) + 1}`;
    for (const version of [next, '2.99']) {
      const file = write(`v${version}.plan`, `${[JSON.stringify({ ...header, format_version: version }), ...lines.slice(1)].join('\n')}\n`);
      // The formats decide; the builds are named (every build of 0.1.0 said "0.1.0": an upgrade black-box round).
      const refusal = `${file} is a plan of format ${version}, and this mfa-migrate (${toolVersion()}) reads plan formats up to ${PLAN_FILE_VERSION}: made by a later one (its header names mfa-migrate ${String(header.tool_version)}), it may hold what this one does not know, so it is not used. Use an mfa-migrate that reads plan format ${version} (the one that made it, ${String(header.tool_version)}, or a later one), or make a new plan with this one`;
      await expect(SavedPlan.open(file)).rejects.toThrow(refusal);
      await expect(readPlanHeader(file)).rejects.toThrow(refusal);
    }
    // Without a tool_version, the file's version alone.
    const { tool_version: _t, ...untold } = header;
    await expect(SavedPlan.open(write('untold.plan', `${[JSON.stringify({ ...untold, format_version: '2.99' }), ...lines.slice(1)].join('\n')}\n`))).rejects.toThrow(/untold\.plan is a plan of format 2\.99, and this mfa-migrate \(\S+\) reads plan formats up to 2\.\d+: made by a later one, it may hold .* \(the one that made it or a later one\)/);
  });

  it("a header whose version is not the file's layout says so, not a JSON parse error (a black-box test: a plan relabelled 1.0 gave \"Unexpected non-whitespace character\")", async () => {
    const lines = text.trimEnd().split('\n');
    const header = JSON.parse(lines[0]!) as Record<string, unknown>;
    const v1 = write('relabelled-1.plan', `${[JSON.stringify({ ...header, format_version: '1.0' }), ...lines.slice(1)].join('\n')}\n`);
    const refusal = `${v1}: its header says plan format 1.0, which does not match the file's layout: a 1.x plan is one JSON document, and this file is JSON Lines (the layout of 2.x). The header was edited, or the file is damaged: make a new plan`;
    await expect(SavedPlan.open(v1)).rejects.toThrow(refusal);
    await expect(readPlanHeader(v1)).rejects.toThrow(refusal);
    // One JSON document (over many lines) labelled 2.x: the other way round.
    const doc = write('relabelled-2.plan', JSON.stringify({ ...header, user_changes: [] }, null, 2));
    await expect(SavedPlan.open(doc)).rejects.toThrow(`${doc}: its header says plan format ${PLAN_FILE_VERSION}, which does not match the file's layout: a 2.x plan is JSON Lines, and this file is one JSON document (the layout of 1.x)`);
  });

  it('a plan of many megabytes is read a slab at a time: the hash is of the whole file, every line found where it is', async () => {
    const lines = text.trimEnd().split('\n');
    const userLines = lines.filter((l) => l.includes('"t":"user"'));
    const rest = lines.slice(1).filter((l) => !l.includes('"t":"user"') && !l.startsWith('{"t":"end"'));
    // Copies of the users under new names and ids, so that lines straddle the 1 MiB slabs at many places.
    const many: string[] = [];
    for (let n = 0; many.length < 6000; n++) {
      for (const l of userLines) {
        const u = JSON.parse(l) as { user: string; user_id: string | null };
        many.push(JSON.stringify({ ...JSON.parse(l), user: `c${n}-${u.user}`, user_id: u.user_id === null ? null : `${u.user_id}-${n}` }));
      }
    }
    const header = JSON.parse(lines[0]!) as { summary: { users: number } };
    const body = [JSON.stringify({ ...header, summary: { ...header.summary, users: many.length } }), ...many, ...rest];
    const big = `${[...body, JSON.stringify({ t: 'end', lines: body.length })].join('\n')}\n`;
    expect(big.length).toBeGreaterThan(3 * 1024 * 1024);
    const file = write('big.plan', big);
    const saved = await SavedPlan.open(file);
    expect(saved.hash).toBe(createHash('sha256').update(readFileSync(file)).digest('hex'));
    expect(saved.users.map((u) => u.upn)).toEqual(many.map((l) => (JSON.parse(l) as { user: string }).user));
    const read: string[] = [];
    for await (const chunk of saved.lines(700)) read.push(...chunk.map((u) => `${u.line} ${u.upn} ${u.userId}`));
    expect(read).toEqual(many.map((l, i) => `${i + 2} ${(JSON.parse(l) as { user: string }).user} ${(JSON.parse(l) as { user_id: string | null }).user_id}`));
    // The last line without its newline is still a line.
    expect((await SavedPlan.open(write('no-newline.plan', big.trimEnd()))).users).toHaveLength(many.length);
  });

  it('2.1: holds the cutover, one line per change, and what the plan read of the rollout policy, groups and domains; an invalid cutover line is refused', async () => {
    const cutPath = join(tmp.dir, 'cutover.plan');
    const { plan: cut } = await planTo(fakeGraph(), cutPath, { rolloutGroups: ['MFA Staged Rollout'], federatedMfa: 'reject', forceFederation: true });
    const cutText = readFileSync(cutPath, 'utf8');
    const lines = cutText.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    const cutoverLines = lines.filter((l) => l.t === 'cutover');
    expect(cutoverLines.map((l) => [l.target.replace(/[0-9a-f-]{36}/, '{id}'), l.action])).toEqual([
      ['featureRolloutPolicies/multiFactorAuthentication', 'create'],
      ['featureRolloutPolicies/multiFactorAuthentication/appliesTo/{id}', 'create'],
      ['domains/contoso.com/federationConfiguration', 'update'],
    ]);
    expect(cutoverLines.every((l) => typeof l.state_fingerprint === 'string')).toBe(true);
    expect(lines[0]!.cutover_seen).toMatchObject({ rolloutPolicy: null, groups: [{ displayName: 'MFA Staged Rollout', users: 0, dynamic: false }], federatedDomains: [{ id: 'contoso.com' }] });
    expect(lines[0]!.options).toMatchObject({ rollout_groups: [{ displayName: 'MFA Staged Rollout' }], federated_mfa: 'reject', force_federation: true });
    // Each user line records which of the groups read held the user (none yet).
    expect(lines.filter((l) => l.t === 'user' && l.seen).every((l) => Array.isArray(l.seen.memberOf))).toBe(true);
    const saved = await SavedPlan.open(cutPath);
    expect(saved.cutoverChanges.map((c) => c.target)).toEqual(cut.cutover_changes.map((c) => c.target));
    expect(saved.cutoverChanges[2]!.switches).toBe(cut.cutover!.switched.by_plan);
    expect(saved.header.cutover_seen?.federatedDomains[0]?.federatedIdpMfaBehavior).toBe('acceptIfMfaDoneByFederatedIdp');

    const at = lines.findIndex((l) => l.t === 'cutover');
    const bad = [...cutText.trimEnd().split('\n')];
    bad[at] = bad[at]!.replace('"action":"create"', '"action":"attach"');
    await expect(SavedPlan.open(write('bad-cutover.plan', `${bad.join('\n')}\n`))).rejects.toThrow(new RegExp(`line ${at + 1}: not a valid plan line: action`));
    const badSeen = [JSON.stringify({ ...lines[0], cutover_seen: { ...lines[0]!.cutover_seen, groups: [{ id: 'x' }] } }), ...cutText.trimEnd().split('\n').slice(1)];
    await expect(SavedPlan.open(write('bad-seen.plan', `${badSeen.join('\n')}\n`))).rejects.toThrow(/line 1: invalid plan header: cutover_seen\.groups\.0\.displayName/);
  });

  it('still reads a 1.x plan (one JSON object), as earlier runs hold their copies', async () => {
    const v1 = { kind: 'mfa-migrate-plan', format_version: '1.0', created: plan.created, source_fingerprint: plan.source_fingerprint, tenant: { id: plan.tenant.id }, options: plan.options, summary: plan.summary, policy_changes: plan.policy_changes, user_changes: plan.user_changes.map((c) => ({ ...c, state_fingerprint: 'x' })), findings: plan.findings, registration_campaign: plan.registration_campaign, source: { dir: '/x', tokens: [], pskcMac: 'fail' } };
    const saved = await SavedPlan.open(write('v1.plan', `${JSON.stringify(v1, null, 2)}\n`));
    expect(saved.format).toBe('1');
    expect((await SavedPlan.open(write('v1-one-line.plan', JSON.stringify(v1)))).users).toEqual(saved.users);
    expect(saved.header.tenant).toEqual({ id: plan.tenant.id });
    const pending = new Set(plan.user_changes.filter((c) => c.action !== 'no-op').map((c) => c.user));
    expect(saved.users.map((u) => u.upn).sort()).toEqual([...pending].sort());
    const users = await saved.read(saved.users.map((_, i) => i));
    expect(users.reduce((n, u) => n + u.changes.length, 0)).toBe(plan.user_changes.filter((c) => c.action !== 'no-op').length);
  });
});

/** 2.21: `source.pskcExpired` records --pskc-expired take, so that apply and resume read the seeds as the plan did. */
describe('the saved plan records --pskc-expired', () => {
  /** A Contoso export whose alice has a Feitian token whose key's ExpiryDate passed in 2019. */
  function expiredExport(dir: string): { source: string; tokens: string } {
    for (const f of ['devices.csv', 'settings.json']) copyFileSync(join(CONTOSO, f), join(dir, f));
    const users = readFileSync(join(CONTOSO, 'users.csv'), 'utf8').split('\n');
    const alice = users.findIndex((l) => l.startsWith('alice@contoso.com,'));
    const cells = users[alice]!.split(',');
    cells[17] = 'FT-2019-1';
    users[alice] = cells.join(',');
    writeFileSync(join(dir, 'users.csv'), users.join('\n'));
    const tokens = join(dir, 'feitian.pskc');
    writeFileSync(
      tokens,
      `<?xml version="1.0" encoding="UTF-8"?>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">
<KeyPackage><DeviceInfo><Manufacturer>Feitian</Manufacturer><SerialNo>FT-2019-1</SerialNo></DeviceInfo>
<Key Id="FT-2019-1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp"><AlgorithmParameters><ResponseFormat Length="6" Encoding="DECIMAL"/></AlgorithmParameters>
<Data><Secret><PlainValue>${Buffer.from('feitian-seed-2019-abc').toString('base64')}</PlainValue></Secret><TimeInterval><PlainValue>30</PlainValue></TimeInterval></Data>
<Policy><ExpiryDate>2019-03-01T00:00:00Z</ExpiryDate></Policy></Key></KeyPackage>
</KeyContainer>
`,
      { mode: 0o600 },
    );
    return { source: dir, tokens };
  }
  const rederived = async (file: string) => {
    const saved = await SavedPlan.open(file);
    return (await firstDifference(saved, await readPlanSources(saved)))?.where;
  };

  it('take is recorded and read again so (the plan then plans again as made); leave records nothing; an older or edited record reads as leave, a value not known is refused', async () => {
    const t = testDir('plan-pskc-expired');
    const { source, tokens } = expiredExport(t.dir);
    const request = { ...contosoRequest(source, [tokens]), allowMissingSeeds: true };
    const taken = join(t.dir, 'taken.plan');
    const { plan } = await planTo(fakeGraph(), taken, { ...request, seeds: { pskcMac: 'fail', pskcExpired: 'take' } });
    expect(plan.user_changes.some((c) => c.user === 'alice@contoso.com' && c.resource.startsWith('hardwareOath'))).toBe(true);
    const saved = await SavedPlan.open(taken);
    expect(saved.header.format_version).toBe('2.21');
    expect(saved.header.source.pskcExpired).toBe('take');
    expect((await readPlanSources(saved)).seeds.map((s) => [s.serial, s.expiredOn])).toEqual([['FT-2019-1', '2019-03-01T00:00:00Z']]);
    expect(await rederived(taken)).toBeUndefined();

    // The same file as a 2.20 build made it (no field): the expired key is left out, so it is not the plan its sources give.
    const lines = readFileSync(taken, 'utf8').trimEnd().split('\n');
    const header = JSON.parse(lines[0]!) as { source: Record<string, unknown> };
    const { pskcExpired: _taken, ...older } = header.source;
    const old = join(t.dir, 'v2.20.plan');
    writeFileSync(old, `${[JSON.stringify({ ...header, source: older, format_version: '2.20' }), ...lines.slice(1)].join('\n')}\n`);
    const oldSaved = await SavedPlan.open(old);
    expect(oldSaved.header.source.pskcExpired).toBeUndefined();
    expect((await readPlanSources(oldSaved)).seeds).toEqual([]);
    expect(await rederived(old)).toEqual(expect.any(String));

    const bad = join(t.dir, 'maybe.plan');
    writeFileSync(bad, `${[JSON.stringify({ ...header, source: { ...header.source, pskcExpired: 'maybe' } }), ...lines.slice(1)].join('\n')}\n`);
    await expect(SavedPlan.open(bad)).rejects.toThrow(/pskcExpired/);

    const left = join(t.dir, 'left.plan');
    await planTo(fakeGraph(), left, { ...request, seeds: { pskcMac: 'fail' } });
    expect('pskcExpired' in (await SavedPlan.open(left)).header.source).toBe(false);
  });
});
