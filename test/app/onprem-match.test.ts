import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cutoverStatus } from '../../src/app/status.js';
import { CutoverRefusedError, makePlan, type PlanRequest } from '../../src/app/plan.js';
import { showPlan } from '../../src/app/show.js';
import { renderPlanTerminal } from '../../src/plan/render-terminal.js';
import { renderReportHtml, renderReportMarkdown } from '../helpers/report-text.js';
import { planJsonChunks } from '../../src/plan/plan-json.js';
import type { Plan } from '../../src/plan/plan-model.js';
import { fakeGraph, type FakeGraph } from '../helpers/graph.js';
import type { RecordedRequest } from '../../src/emulator/index.js';
import { loadContract } from '../contract/contract-checker.js';
import { applyFile, CONTOSO, contosoRequest, planTo, rollbackIn, testDir } from '../helpers/migration.js';
import { runReport } from '../../src/app/report.js';
import { renderRunReportMarkdown } from '../../src/report/render-run-report.js';
import { SavedPlan } from '../../src/plan/plan-file.js';
import { readPlanSources } from '../../src/app/plan-check.js';
import { firstDifference } from '../../src/plan/rederive.js';

type Doc = { tenant: Record<string, unknown>; users: Record<string, any>[]; [k: string]: unknown };
const contoso = () => JSON.parse(readFileSync(join(CONTOSO, 'tenant.json'), 'utf8')) as Doc;

const JDOE = '0b7e8c52-0000-4000-8000-000000000001';
const MARY = '0b7e8c52-0000-4000-8000-000000000002';
const SAM_CORP = '0b7e8c52-0000-4000-8000-000000000003';
const SAM_EMEA = '0b7e8c52-0000-4000-8000-000000000004';
const PAT = '0b7e8c52-0000-4000-8000-000000000005';
/** Contoso's empty assigned group "MFA Staged Rollout". */
const ROLLOUT_GROUP = 'c1454b73-4610-5b76-8c1f-369a14e89526';

/**
 * Contoso's tenant with synced users whose MFA Server usernames are not their UPNs: jdoe (CORP\jdoe),
 * mary (alternate login ID: on-premises UPN mary@corp.local), two users with the sAMAccountName sam1
 * (corp and emea), and pat, whose domain's first label is not its NetBIOS name.
 */
function tenantDoc(extra: Record<string, any>[] = []): Doc {
  const doc = contoso();
  const synced = (id: string, upn: string, sam: string, domain: string, onPremUpn = `${sam}@${domain}`) => ({
    id,
    userPrincipalName: upn,
    displayName: upn,
    onPremisesSyncEnabled: true,
    onPremisesSamAccountName: sam,
    onPremisesDomainName: domain,
    onPremisesUserPrincipalName: onPremUpn,
  });
  doc.users.push(
    synced(JDOE, 'jdoe@contoso.com', 'jdoe', 'corp.contoso.com'),
    synced(MARY, 'mary@contoso.com', 'mary', 'corp.contoso.com', 'mary@corp.local'),
    synced(SAM_CORP, 'sam1@contoso.com', 'sam1', 'corp.contoso.com'),
    synced(SAM_EMEA, 'sam1@contoso.onmicrosoft.com', 'sam1', 'emea.contoso.com'),
    synced(PAT, 'pat@contoso.com', 'pat', 'ad.contoso.com'),
    ...extra,
  );
  return doc;
}

const HEADER = 'username,enabled,phone_country_code,phone,default_method';

function exportOf(dir: string, rows: string[]): string {
  const source = join(dir, 'export');
  mkdirSync(source, { recursive: true });
  writeFileSync(join(source, 'users.csv'), `${HEADER}\n${rows.join('\n')}\n`);
  return source;
}

const request = (source: string) => contosoRequest(source, []);
const userOf = (plan: Plan, name: string) => plan.users.find((u) => u.user === name)!;
/** A user's findings of the user rules (the export's own warning of a name that is no UPN, EXPORT-DATA, aside). */
const findingsOf = (plan: Plan, name: string) => plan.findings.filter((f) => f.user === name && f.rule.startsWith('USER-')).map((f) => [f.severity, f.code, f.rule]);
const phonesOf = async (g: FakeGraph, id: string) => ((await g.raw.get(`/v1.0/users/${id}/authentication/phoneMethods`)).body.value as { phoneType: string; phoneNumber: string }[]).map((p) => `${p.phoneType} ${p.phoneNumber}`);
/** Where a saved plan differs from planning it again (apply's check that it was not edited): undefined when it does not. */
const rederived = async (file: string) => {
  const saved = await SavedPlan.open(file);
  return (await firstDifference(saved, await readPlanSources(saved)))?.where;
};
/** The lookups by on-premises name (a user read by UPN selects onPremisesUserPrincipalName too: not one). */
const onPremisesReads = (g: FakeGraph) => g.operations().filter((o) => /\$filter=onPremises(UserPrincipalName|SamAccountName)/.test(decodeURIComponent(o.path)));


/** A one-user export of `name` and a tenant with two synced users of the sAMAccountName `sam`, each in the domain given. */
function twoOfOneSam(dir: string, name: string, sam: string, users: [id: string, upn: string, domain: string][]) {
  const t = testDir(dir);
  const source = exportOf(t.dir, [`${name},true,1,4255550201,phone_call`]);
  const doc = tenantDoc(users.map(([id, upn, domain]) => ({ id, userPrincipalName: upn, displayName: upn, onPremisesSamAccountName: sam, onPremisesDomainName: domain })));
  return { t, source, doc };
}
describe('users whose MFA Server username is not their UPN (USER-MATCH-ONPREM-UPN, USER-MATCH-SAM)', () => {
  it('CORP\\jdoe and mary@corp.local are found by their synced names, planned, applied, shown by status and rolled back, all on the tenant user found', async () => {
    const t = testDir('onprem');
    const source = exportOf(t.dir, ['CORP\\jdoe,true,1,4255550201,phone_call', 'mary@corp.local,true,1,4255550202,text_message', 'alice@contoso.com,true,1,4255550101,phone_call']);
    const g = fakeGraph({ tenant: tenantDoc() });
    const file = join(t.dir, 'onprem.plan');
    // No default method set: Graph cannot unset one, so a rollback could not take their phones back.
    const { plan } = await planTo(g, file, { ...request(source), defaultMethod: 'never', rolloutGroups: ['MFA Staged Rollout'] });

    expect(plan.options.match_by).toEqual(['upn', 'on-premises']);
    expect(userOf(plan, 'CORP\\jdoe')).toMatchObject({
      user_id: JDOE,
      status: 'changes',
      match: { outcome: 'matched', rule: 'USER-MATCH-SAM', by: 'onPremisesSamAccountName', value: 'jdoe', domain: 'CORP', users: [{ id: JDOE, upn: 'jdoe@contoso.com', onPremisesDomainName: 'corp.contoso.com' }] },
    });
    expect(userOf(plan, 'mary@corp.local')).toMatchObject({ user_id: MARY, status: 'changes', match: { outcome: 'matched', rule: 'USER-MATCH-ONPREM-UPN', by: 'onPremisesUserPrincipalName', users: [{ upn: 'mary@contoso.com' }] } });
    // Found by UPN: no match recorded, as before.
    expect(userOf(plan, 'alice@contoso.com').match).toBeUndefined();
    // Every change goes to the tenant user found, and the auditor is told how each was found.
    expect(plan.user_changes.filter((c) => c.user === 'CORP\\jdoe').map((c) => c.user_id)).toEqual(expect.arrayContaining([JDOE]));
    expect(new Set(plan.user_changes.filter((c) => c.user === 'CORP\\jdoe').map((c) => c.user_id))).toEqual(new Set([JDOE]));
    expect(plan.user_changes).toContainEqual(expect.objectContaining({ user: 'mary@corp.local', user_id: MARY, resource: 'phoneMethods/mobile', action: 'create' }));
    expect(findingsOf(plan, 'CORP\\jdoe')).toContainEqual(['info', 'user-matched-on-premises', 'USER-MATCH-SAM']);
    expect(findingsOf(plan, 'mary@corp.local')).toContainEqual(['info', 'user-matched-on-premises', 'USER-MATCH-ONPREM-UPN']);
    expect(plan.findings.find((f) => f.user === 'CORP\\jdoe' && f.code === 'user-matched-on-premises')?.message).toMatch(/matched by onPremisesSamAccountName jdoe in domain CORP .*to jdoe@contoso\.com \(object id 0b7e8c52-0000-4000-8000-000000000001, onPremisesDomainName corp\.contoso\.com\)/);
    expect(plan.findings.some((f) => f.code === 'user-not-found')).toBe(false);
    // Looked up for the two names not found by UPN, one filter each; alice, found by UPN and not synced (her own on-premises
    // UPN is not hers), is asked in mary's filter whether another user has alice@contoso.com as on-premises UPN (none has).
    const lookups = onPremisesReads(g).map((o) => decodeURIComponent(o.path));
    expect(lookups).toHaveLength(2);
    expect(lookups.find((p) => p.includes('onPremisesSamAccountName in'))).toMatch(/onPremisesSamAccountName in \('jdoe'\)&\$count=true/);
    expect(lookups.find((p) => p.includes('onPremisesUserPrincipalName in'))).toMatch(/onPremisesUserPrincipalName in \('mary@corp\.local','alice@contoso\.com'\)/);
    expect(plan.findings.some((f) => f.code === 'user-match-upn-other-on-premises')).toBe(false);

    // The terminal plan shows the Entra UPN beside the username; the saved plan shows the same.
    const text = renderPlanTerminal(plan, { color: false, showPhoneNumbers: false });
    expect(text).toContain('  CORP\\jdoe (Entra jdoe@contoso.com)');
    expect(text).toContain('  mary@corp.local (Entra mary@contoso.com)');
    expect(text).toContain('match by upn,on-premises');
    // So do the auditors' reports, with the rules in the glossary marked applied.
    const md = renderReportMarkdown(plan, { showPhoneNumbers: false });
    expect(md).toContain('CORP\\\\jdoe (Entra jdoe@contoso.com): changes');
    expect(md).toMatch(/\| <a id="rule-user-match-sam"><\/a>USER-MATCH-SAM \| yes \|/);
    expect(md).toMatch(/\| <a id="rule-user-match-ambiguous"><\/a>USER-MATCH-AMBIGUOUS \| {2}\|/);
    expect(renderReportHtml(plan, { showPhoneNumbers: false })).toContain('mary@corp.local (Entra mary@contoso.com)');
    const shown = await showPlan(file);
    expect(shown.format_version).toBe('1.10');
    expect(userOf(shown, 'CORP\\jdoe').match).toEqual(userOf(plan, 'CORP\\jdoe').match);
    expect(JSON.parse([...planJsonChunks(plan, { showPhoneNumbers: false })].join('')).users.find((u: { user: string }) => u.user === 'CORP\\jdoe').match.users[0].upn).toBe('jdoe@contoso.com');

    const before = { jdoe: await phonesOf(g, JDOE), mary: await phonesOf(g, MARY) };
    expect(before).toEqual({ jdoe: [], mary: [] });
    const applied = await applyFile(g, file, join(t.dir, 'state'));
    expect(applied.outcome.state).toBe('completed');
    expect(applied.results.filter((r) => r.user !== 'alice@contoso.com').map((r) => [r.user, r.outcome])).toEqual([
      ['CORP\\jdoe', 'done'],
      ['mary@corp.local', 'done'],
    ]);
    expect(await phonesOf(g, JDOE)).toEqual(['mobile +1 4255550201']);
    expect(await phonesOf(g, MARY)).toEqual(['mobile +1 4255550202']);
    // Switched by staged rollout: the tenant users found are the ones added to the group.
    const members = async () => ((await g.raw.get(`/v1.0/groups/${ROLLOUT_GROUP}/members?$select=id`)).body.value as { id: string }[]).map((m) => m.id).sort();
    expect(await members()).toEqual(['a1f1d87d-05e0-555e-bdb8-de674260eb27', JDOE, MARY].sort());

    const status = await cutoverStatus({ source, graph: g.client({ readOnly: true }), concurrency: 4 });
    expect(status.users.find((u) => u.username === 'CORP\\jdoe')).toMatchObject({ user: 'jdoe@contoso.com', match_rule: 'USER-MATCH-SAM', user_id: JDOE, migrated: true, methods: ['mobile'] });
    expect(status.users.find((u) => u.username === 'mary@corp.local')).toMatchObject({ user: 'mary@contoso.com', match_rule: 'USER-MATCH-ONPREM-UPN', migrated: true });
    // UPN users' rows are as they were.
    expect(status.users.find((u) => u.user === 'alice@contoso.com')).not.toHaveProperty('username');
    // The run's evidence names the Entra account written to, beside the export's username (a black-box test found it nowhere).
    const evidence = await runReport(applied.outcome.runId, join(t.dir, 'state'));
    expect(evidence.users.filter((u) => u.tenant_upn !== undefined).map((u) => [u.user, u.tenant_upn])).toEqual([
      ['CORP\\jdoe', 'jdoe@contoso.com'],
      ['mary@corp.local', 'mary@contoso.com'],
    ]);
    expect(renderRunReportMarkdown(evidence)).toContain('CORP\\\\jdoe (Entra jdoe@contoso.com): done');

    const rolled = await rollbackIn(g, join(t.dir, 'state'), applied.outcome.runId);
    expect(rolled.outcome.state).toBe('completed');
    expect(rolled.outcome.changedSince).toEqual([]);
    expect(await phonesOf(g, JDOE)).toEqual([]);
    expect(await phonesOf(g, MARY)).toEqual([]);
    expect(await members()).toEqual([]);
  }, 60_000);

  it('a sAMAccountName two tenant users have is refused with an error naming them, never guessed; DOMAIN\\ narrows it to one', async () => {
    const t = testDir('onprem-ambiguous');
    const source = exportOf(t.dir, ['sam1,true,1,4255550203,phone_call', 'EMEA\\sam1,true,1,4255550204,phone_call', 'nobody@corp.local,true,1,4255550209,phone_call']);
    const requests: RecordedRequest[] = [];
    const g = fakeGraph({ tenant: tenantDoc(), onRequest: (r) => requests.push(r) });
    const { plan } = await planTo(g, join(t.dir, 'ambiguous.plan'), request(source));
    expect(userOf(plan, 'sam1')).toMatchObject({ user_id: null, status: 'not-in-tenant', match: { outcome: 'ambiguous', rule: 'USER-MATCH-AMBIGUOUS' } });
    expect(userOf(plan, 'sam1').match!.users.map((u) => u.upn)).toEqual(['sam1@contoso.com', 'sam1@contoso.onmicrosoft.com']);
    expect(findingsOf(plan, 'sam1')).toEqual([['error', 'user-match-ambiguous', 'USER-MATCH-AMBIGUOUS']]);
    expect(plan.findings.find((f) => f.code === 'user-match-ambiguous' && f.user === 'sam1')!.message).toMatch(/2 tenant users have onPremisesSamAccountName sam1: sam1@contoso\.com .*, sam1@contoso\.onmicrosoft\.com .*: not matched \(never guessed\)/);
    expect(plan.user_changes.filter((c) => c.user === 'sam1')).toEqual([]);
    expect(plan.summary.findings.error).toBe(2);
    // EMEA told by the first label only is a guess, which corp.contoso.com's sam1 does not rule out: refused too.
    expect(userOf(plan, 'EMEA\\sam1')).toMatchObject({ user_id: null, match: { outcome: 'ambiguous', domain: 'EMEA' } });
    const lookups = requests.filter((r) => /\$filter=onPremises/.test(decodeURIComponent(r.query)));
    // The domain given picks the one in it.
    const told = await planTo(g, join(t.dir, 'told.plan'), { ...request(source), netbiosDomains: new Map([['emea', 'emea.contoso.com']]) });
    expect(userOf(told.plan, 'EMEA\\sam1')).toMatchObject({ user_id: SAM_EMEA, status: 'changes', match: { outcome: 'matched', domain: 'EMEA', dns_domain: 'emea.contoso.com' } });
    expect(userOf(told.plan, 'sam1')).toMatchObject({ user_id: null, match: { outcome: 'ambiguous' } });
    const text = renderPlanTerminal(plan, { color: false, showPhoneNumbers: false });
    expect(text).toContain('sam1  not matched: more than one tenant user has its on-premises name (see the findings)');

    // The lookups are requests of Microsoft's published contract (properties, paths).
    expect(lookups.map((r) => `${r.method} ${r.version} ${r.path} ${r.status}`)).toEqual(['GET v1.0 users 200', 'GET v1.0 users 200']);
    const contract = loadContract();
    expect(lookups.flatMap((r) => contract.check(r))).toEqual([]);

    const status = await cutoverStatus({ source, graph: g.client({ readOnly: true }), concurrency: 4 });
    expect(status.users.find((u) => u.user === 'sam1')).toMatchObject({ user_id: null, blocked: expect.stringMatching(/^not matched: 2 tenant users have onPremisesSamAccountName sam1/) });
  });

  it('a tenant user two export rows match (by UPN and by sAMAccountName) is refused for the on-premises one: MFA Server holds the person twice', async () => {
    const t = testDir('onprem-shared');
    const source = exportOf(t.dir, ['jdoe@contoso.com,true,1,4255550201,phone_call', 'CORP\\jdoe,true,1,4255550299,phone_call']);
    const g = fakeGraph({ tenant: tenantDoc() });
    const { plan } = await planTo(g, join(t.dir, 'shared.plan'), request(source));
    expect(userOf(plan, 'jdoe@contoso.com')).toMatchObject({ user_id: JDOE, status: 'changes' });
    expect(userOf(plan, 'CORP\\jdoe')).toMatchObject({ user_id: null, status: 'not-in-tenant', match: { outcome: 'shared', shared_with: 'jdoe@contoso.com' } });
    expect(findingsOf(plan, 'CORP\\jdoe')).toEqual([['error', 'user-match-shared', 'USER-MATCH-AMBIGUOUS']]);
    expect(new Set(plan.user_changes.map((c) => c.user))).toEqual(new Set(['jdoe@contoso.com']));
  });

  it('two rows of one person (CORP\\jdoe and jdoe) are refused as shared whatever the scope: a wave of either row holds the other, outside it, against it', async () => {
    const t = testDir('onprem-shared-waves');
    const source = exportOf(t.dir, ['CORP\\jdoe,true,1,4255550201,phone_call', 'jdoe,true,1,4255550299,phone_call']);
    const g = fakeGraph({ tenant: tenantDoc() });
    const wave = async (name: string, users?: string) => {
      const list = users === undefined ? {} : { users: join(t.dir, `${name}.txt`) };
      if (users !== undefined) writeFileSync(join(t.dir, `${name}.txt`), `${users}\n`);
      return (await planTo(g, join(t.dir, `${name}.plan`), { ...request(source), ...list })).plan;
    };
    const whole = await wave('whole');
    expect(whole.users.map((u) => [u.user, u.user_id, u.match?.outcome, u.match?.shared_with])).toEqual([
      ['CORP\\jdoe', null, 'shared', 'jdoe'],
      ['jdoe', null, 'shared', 'CORP\\jdoe'],
    ]);
    // Wave 1 of CORP\jdoe alone: the row jdoe outside the scope is matched to the same user, so it is shared as in the whole export.
    const wave1 = await wave('wave1', 'CORP\\jdoe');
    expect(wave1.users.map((u) => [u.user, u.user_id, u.match?.outcome, u.match?.shared_with])).toEqual([['CORP\\jdoe', null, 'shared', 'jdoe']]);
    expect(findingsOf(wave1, 'CORP\\jdoe')).toEqual([['error', 'user-match-shared', 'USER-MATCH-AMBIGUOUS']]);
    expect(wave1.user_changes).toEqual([]);
    const wave2 = await wave('wave2', 'jdoe');
    expect(wave2.users.map((u) => [u.user, u.user_id, u.match?.outcome, u.match?.shared_with])).toEqual([['jdoe', null, 'shared', 'CORP\\jdoe']]);
    expect(wave2.user_changes).toEqual([]);
    // Each saved wave re-derives as planned; applied, it writes nothing to jdoe.
    expect((await applyFile(g, join(t.dir, 'wave2.plan'), join(t.dir, 'state'))).outcome.state).toBe('completed');
    expect(await phonesOf(g, JDOE)).toEqual([]);
    // status judges a name against every row of the export too.
    const users = join(t.dir, 'wave1.txt');
    const status = await cutoverStatus({ source, users, graph: g.client({ readOnly: true }), concurrency: 4 });
    expect(status.users.map((u) => [u.user, u.user_id, u.blocked?.slice(0, 11)])).toEqual([['CORP\\jdoe', null, 'not matched']]);
  });

  it("a row outside the scope whose name is the matched user's on-premises UPN holds them too, unless a tenant user has that name as UPN (then it is that user's)", async () => {
    const t = testDir('onprem-shared-upn');
    const source = exportOf(t.dir, ['CORP\\jdoe,true,1,4255550201,phone_call', 'j.doe@contoso.onmicrosoft.com,true,1,4255550299,phone_call']);
    const users = join(t.dir, 'wave.txt');
    writeFileSync(users, 'CORP\\jdoe\n');
    const doc = (extra: Record<string, any>[] = []) => {
      const d = tenantDoc(extra);
      d.users.find((u) => u.id === JDOE)!.onPremisesUserPrincipalName = 'j.doe@contoso.onmicrosoft.com';
      return d;
    };
    const shared = (await planTo(fakeGraph({ tenant: doc() }), join(t.dir, 'a.plan'), { ...request(source), users })).plan;
    expect(userOf(shared, 'CORP\\jdoe')).toMatchObject({ user_id: null, match: { outcome: 'shared', shared_with: 'j.doe@contoso.onmicrosoft.com' } });
    const other = { id: '0b7e8c52-0000-4000-8000-000000000021', userPrincipalName: 'j.doe@contoso.onmicrosoft.com', displayName: 'Another J. Doe' };
    const own = (await planTo(fakeGraph({ tenant: doc([other]) }), join(t.dir, 'b.plan'), { ...request(source), users })).plan;
    expect(userOf(own, 'CORP\\jdoe')).toMatchObject({ user_id: JDOE, match: { outcome: 'matched' } });
  });

  it('a row disabled in MFA Server counts for shared whether or not the plan reads it (--federated-mfa reject reads the disabled rows): both plans agree', async () => {
    const t = testDir('onprem-shared-disabled');
    const source = exportOf(t.dir, ['CORP\\jdoe,true,1,4255550201,phone_call', 'jdoe,false,1,4255550299,phone_call', 'alice@contoso.com,true,1,4255550101,phone_call']);
    const g = fakeGraph({ tenant: tenantDoc() });
    const plain = (await planTo(g, join(t.dir, 'plain.plan'), request(source))).plan;
    const federated = (await planTo(g, join(t.dir, 'federated.plan'), { ...request(source), federatedMfa: 'reject', forceFederation: true })).plan;
    for (const plan of [plain, federated]) {
      expect(userOf(plan, 'CORP\\jdoe')).toMatchObject({ user_id: null, match: { outcome: 'shared', shared_with: 'jdoe' } });
      expect(plan.user_changes.filter((c) => c.user === 'CORP\\jdoe')).toEqual([]);
    }
  });

  it("a DOMAIN\\sam whose sAMAccountName is only in a domain of another first label is not matched but said; --netbios-domain matches it", async () => {
    const t = testDir('onprem-domain');
    const source = exportOf(t.dir, ['CONTOSO\\pat,true,1,4255550205,phone_call']);
    const g = fakeGraph({ tenant: tenantDoc() });
    const { plan } = await planTo(g, join(t.dir, 'domain.plan'), request(source));
    expect(userOf(plan, 'CONTOSO\\pat')).toMatchObject({ user_id: null, status: 'not-in-tenant', match: { outcome: 'domain-differs', users: [{ upn: 'pat@contoso.com', onPremisesDomainName: 'ad.contoso.com' }] } });
    expect(findingsOf(plan, 'CONTOSO\\pat')).toEqual([['warning', 'user-match-domain-differs', 'USER-MATCH-SAM']]);
    expect(plan.findings.find((f) => f.code === 'user-match-domain-differs')!.message).toMatch(
      /^no tenant user has the UPN CONTOSO\\pat; 1 tenant user\(s\) have onPremisesSamAccountName pat, but none in domain CONTOSO \(told by the first label of onPremisesDomainName\): pat@contoso\.com \(object id \S+, onPremisesDomainName ad\.contoso\.com\): not matched, skipped \(if CONTOSO is the NetBIOS name of one of these domains, plan again with --netbios-domain CONTOSO=<that domain>\)$/,
    );

    const mapped = await planTo(g, join(t.dir, 'mapped.plan'), { ...request(source), netbiosDomains: new Map([['contoso', 'ad.contoso.com']]) });
    expect(mapped.plan.options.netbios_domains).toEqual({ CONTOSO: 'ad.contoso.com' });
    expect(userOf(mapped.plan, 'CONTOSO\\pat')).toMatchObject({ user_id: PAT, status: 'changes', match: { outcome: 'matched', dns_domain: 'ad.contoso.com' } });
    const applied = await applyFile(g, join(t.dir, 'mapped.plan'), join(t.dir, 'state'));
    expect(applied.results.map((r) => [r.user, r.outcome])).toEqual([['CONTOSO\\pat', 'done']]);
    expect(await phonesOf(g, PAT)).toEqual(['mobile +1 4255550205']);
  });

  it('two forests whose domains both begin corp.: the ambiguity names --netbios-domain, which settles it (a black-box test got only "make the username their UPN")', async () => {
    const A = '0b7e8c52-0000-4000-8000-000000000021';
    const { t, source, doc } = twoOfOneSam('onprem-two-corps', 'CORP\\jsmith', 'jsmith', [
      [A, 'jsmith@contoso.com', 'corp.contoso.com'],
      ['0b7e8c52-0000-4000-8000-000000000022', 'jsmith2@contoso.com', 'corp.fabrikam.com'],
    ]);
    const g = fakeGraph({ tenant: doc });
    const guessed = (await planTo(g, join(t.dir, 'guess.plan'), request(source))).plan;
    expect(guessed.findings.find((f) => f.code === 'user-match-ambiguous')!.message).toMatch(/plan again with --netbios-domain CORP=<its DNS domain>/);
    const told = (await planTo(g, join(t.dir, 'told.plan'), { ...request(source), netbiosDomains: new Map([['corp', 'corp.contoso.com']]) })).plan;
    expect(userOf(told, 'CORP\\jsmith')).toMatchObject({ user_id: A, match: { outcome: 'matched' } });
  });

  it("DOMAIN\\sam is never matched to another domain's user by the first-label guess: CORP\\jdoe with the real CORP ad.contoso.com and a jdoe in corp.fabrikam.com", async () => {
    const REAL = '0b7e8c52-0000-4000-8000-000000000011';
    const FAB = '0b7e8c52-0000-4000-8000-000000000012';
    const { t, source, doc } = twoOfOneSam('onprem-netbios', 'CORP\\jdoe', 'jdoe', [
      [REAL, 'john.doe@contoso.com', 'ad.contoso.com'],
      [FAB, 'jdoe@contoso.onmicrosoft.com', 'corp.fabrikam.com'],
    ]);
    doc.users = doc.users.filter((u) => u.id !== JDOE);
    const g = fakeGraph({ tenant: doc });
    const planOf = async (name: string, netbios: [string, string][]) => (await planTo(g, join(t.dir, `${name}.plan`), { ...request(source), netbiosDomains: new Map(netbios) })).plan;
    // No --netbios-domain: the first label picks fabrikam's jdoe, but ad.contoso.com may be CORP's: refused, both named, the option said.
    const guessed = await planOf('guess', []);
    expect(userOf(guessed, 'CORP\\jdoe')).toMatchObject({ user_id: null, match: { outcome: 'ambiguous', users: [{ id: FAB }, { id: REAL }] } });
    expect(guessed.findings.find((f) => f.code === 'user-match-ambiguous')!.message).toMatch(/in domains that may be CORP's .*jdoe@contoso\.onmicrosoft\.com .*corp\.fabrikam\.com.*john\.doe@contoso\.com .*ad\.contoso\.com.*plan again with --netbios-domain CORP=<its DNS domain>/);
    // corp.fabrikam.com given to FABRIKAM: not CORP's by its first label any more; no domain is CORP's, refused with the option to give.
    const fabrikam = await planOf('fabrikam', [['fabrikam', 'corp.fabrikam.com']]);
    expect(userOf(fabrikam, 'CORP\\jdoe')).toMatchObject({ user_id: null, match: { outcome: 'domain-differs' } });
    expect(fabrikam.user_changes).toEqual([]);
    expect(findingsOf(fabrikam, 'CORP\\jdoe')).toEqual([['warning', 'user-match-domain-differs', 'USER-MATCH-SAM']]);
    // Told: the real CORP's user.
    const told = await planOf('told', [['corp', 'ad.contoso.com'], ['fabrikam', 'corp.fabrikam.com']]);
    expect(userOf(told, 'CORP\\jdoe')).toMatchObject({ user_id: REAL, status: 'changes', match: { outcome: 'matched', dns_domain: 'ad.contoso.com' } });
    expect(new Set(told.user_changes.map((c) => c.user_id))).toEqual(new Set([REAL]));
    // Saved, each re-derives as it was planned (apply's check that the file is not edited).
    const applied = await applyFile(g, join(t.dir, 'guess.plan'), join(t.dir, 'state-guess'));
    expect(applied.outcome.state).toBe('completed');
    expect(await phonesOf(g, FAB)).toEqual([]);
  });

  it('--match-by upn leaves them unmatched, as before: user-not-found, and no on-premises lookup sent', async () => {
    const t = testDir('onprem-off');
    const source = exportOf(t.dir, ['CORP\\jdoe,true,1,4255550201,phone_call', 'mary@corp.local,true,1,4255550202,text_message']);
    const g = fakeGraph({ tenant: tenantDoc() });
    const { plan } = await planTo(g, join(t.dir, 'off.plan'), { ...request(source), matchBy: ['upn'] });
    expect(plan.options.match_by).toEqual(['upn']);
    expect(plan.users.map((u) => [u.user, u.status, u.user_id, u.match])).toEqual([
      ['CORP\\jdoe', 'not-in-tenant', null, undefined],
      ['mary@corp.local', 'not-in-tenant', null, undefined],
    ]);
    expect(plan.findings.filter((f) => f.rule.startsWith('USER-')).map((f) => [f.user, f.code, f.message])).toEqual([
      ['CORP\\jdoe', 'user-not-found', 'no tenant user has the UPN CORP\\jdoe: skipped'],
      ['mary@corp.local', 'user-not-found', 'no tenant user has the UPN mary@corp.local: skipped'],
    ]);
    expect(plan.user_changes).toEqual([]);
    expect(onPremisesReads(g)).toEqual([]);
  });

  it('--group holds an export user whose on-premises name is a member\'s: CORP\\jdoe is in a group holding jdoe@contoso.com, CORP\\mary (not a member) is not', async () => {
    const t = testDir('onprem-group');
    const source = exportOf(t.dir, ['CORP\\jdoe,true,1,4255550201,phone_call', 'CORP\\mary,true,1,4255550202,phone_call', 'alice@contoso.com,true,1,4255550101,phone_call']);
    const doc = tenantDoc();
    (doc.groups as { displayName: string; members: string[] }[]).push({ displayName: 'Wave CORP', members: [JDOE, 'a1f1d87d-05e0-555e-bdb8-de674260eb27'] } as never);
    const g = fakeGraph({ tenant: doc });
    const { plan } = await planTo(g, join(t.dir, 'group.plan'), { ...request(source), group: 'Wave CORP' });
    expect(plan.users.map((u) => [u.user, u.user_id])).toEqual([
      ['CORP\\jdoe', JDOE],
      ['alice@contoso.com', 'a1f1d87d-05e0-555e-bdb8-de674260eb27'],
    ]);
    // By UPN alone, the group's members are matched by UPN only, as before.
    const upnOnly = await planTo(g, join(t.dir, 'group-upn.plan'), { ...request(source), group: 'Wave CORP', matchBy: ['upn'] });
    expect(upnOnly.plan.users.map((u) => u.user)).toEqual(['alice@contoso.com']);
  });

  it("the final step planned for a narrower scope judges an out-of-scope user by their Entra UPN's domain, looked up: DOMAIN\\sam and an alternate login ID too", async () => {
    const t = testDir('onprem-federation');
    const source = exportOf(t.dir, ['alice@contoso.com,true,1,4255550101,phone_call', 'CORP\\jdoe,true,1,4255550201,phone_call', 'mary@corp.local,false,1,4255550202,phone_call', 'CORP\\nobody,true,1,4255550209,phone_call']);
    const users = join(t.dir, 'users.txt');
    writeFileSync(users, 'alice@contoso.com\n');
    const g = fakeGraph({ tenant: tenantDoc() });
    const over = { ...request(source), users, rolloutGroups: ['MFA Staged Rollout'], federatedMfa: 'reject' as const };
    const refusal = async (more: Partial<PlanRequest>) => ((await makePlan({ ...over, ...more, graph: g.client({ readOnly: true }) }).catch((e: unknown) => e)) as CutoverRefusedError).reasons;
    // mary@corp.local (disabled in MFA Server, her Entra account enabled) is mary@contoso.com; CORP\nobody matches no one and counts for nothing.
    // The tenant's other contoso.com users, outside this small export and with no method, are a reason of their own (not these two again).
    expect(await refusal({})).toEqual([
      expect.stringMatching(/^--federated-mfa reject: 2 user\(s\) of contoso\.com in the export are outside this plan's scope .*: CORP\\jdoe \(Entra jdoe@contoso\.com\), mary@corp\.local \(Entra mary@contoso\.com\)\. /),
      expect.not.stringMatching(/jdoe@|mary@/),
    ]);
    // Forced: planned and said, and the saved plan (which records what the lookups found) re-derives as planned.
    const file = join(t.dir, 'forced.plan');
    const { plan } = await planTo(g, file, { ...over, forceFederation: true });
    expect(plan.cutover_changes.map((c) => c.target)).toContain('domains/contoso.com/federationConfiguration');
    expect(plan.findings.filter((f) => f.code === 'federation-forced').map((f) => f.message)).toEqual([
      expect.stringMatching(/: CORP\\jdoe \(Entra jdoe@contoso\.com\), mary@corp\.local \(Entra mary@contoso\.com\)$/),
      expect.stringMatching(/^contoso\.com: --force-federation: \d+ tenant user\(s\) of the domain outside the export have no cloud MFA method/),
    ]);
    expect(await rederived(file)).toBeUndefined();
    // By UPN alone the names are nobody's, as before: neither is named.
    expect((await refusal({ matchBy: ['upn'] }))?.some((r) => r.includes('CORP\\jdoe') || r.includes('mary@'))).not.toBe(true);
  });

  it('a plan re-derived from a saved plan of a narrower final step that did not look its out-of-scope users up counts a DOMAIN\\sam for every federated domain, as before', async () => {
    const { mapCutover } = await import('../../src/mapping/cutover-rules.js');
    const cutover = { rolloutPolicy: null, groups: [], federatedDomains: [{ id: 'contoso.com', federationId: 'f', federatedIdpMfaBehavior: 'acceptIfMfaDoneByFederatedIdp' }] };
    const options = { rolloutGroups: [], federatedMfa: 'reject' as const, forceFederation: false, campaignGroup: null };
    const alice = { user: 'alice@contoso.com', tenantUser: { id: 'a', userPrincipalName: 'alice@contoso.com', accountEnabled: true }, methodsAfter: { phones: [], hardwareOath: false, softwareOath: false, authenticator: true, passwordless: false } } as never;
    const refusals = (seen?: { user: string; upns: string[] }[]) =>
      mapCutover({ mappings: [alice], outOfScope: ['CORP\\jdoe'], onPremisesNames: true, cutover: { ...cutover, ...(seen ? { outOfScopeMatches: seen } : {}) }, policy: {}, policyChanges: [], options }).refusals.filter((r) => r.includes('outside'));
    expect(refusals()).toEqual([expect.stringMatching(/contoso\.com \(or whose username, not a UPN, tells no domain\).*: CORP\\jdoe\./)]);
    expect(refusals([])).toEqual([]);
    expect(refusals([{ user: 'CORP\\jdoe', upns: ['jdoe@contoso.com'] }])).toEqual([expect.stringMatching(/: CORP\\jdoe \(Entra jdoe@contoso\.com\)\./)]);
  });

  it('the final step is refused while a name refused as ambiguous has candidates in the domain: sam1 is one of two contoso.com users, neither switched', async () => {
    const t = testDir('onprem-federation-ambiguous');
    const source = exportOf(t.dir, ['alice@contoso.com,true,1,4255550101,phone_call', 'sam1,true,1,4255550203,phone_call']);
    const doc = tenantDoc();
    doc.users.find((u) => u.id === SAM_EMEA)!.userPrincipalName = 'sam1.emea@contoso.com';
    const g = fakeGraph({ tenant: doc });
    const over = { ...request(source), rolloutGroups: ['MFA Staged Rollout'], federatedMfa: 'reject' as const };
    const err = (await makePlan({ ...over, graph: g.client({ readOnly: true }) }).catch((e: unknown) => e)) as CutoverRefusedError;
    expect(err).toBeInstanceOf(CutoverRefusedError);
    // The tenant's other contoso.com users outside the export are a reason of their own; sam1's candidates are not named again there.
    expect(err.reasons).toEqual([
      expect.stringMatching(/^--federated-mfa reject: 1 username\(s\) of the export match no one tenant user alone .*users of contoso\.com are among their candidates.*: sam1 \(sam1\.emea@contoso\.com, sam1@contoso\.com\)\./),
      expect.stringMatching(/^--federated-mfa reject: \d+ tenant user\(s\) of contoso\.com outside the export/),
    ]);
    expect(err.reasons[1]).not.toMatch(/sam1/);
    // Forced: planned, said, and the saved plan re-derives as planned.
    const file = join(t.dir, 'forced.plan');
    const { plan } = await planTo(g, file, { ...over, forceFederation: true });
    expect(plan.cutover_changes.map((c) => c.target)).toContain('domains/contoso.com/federationConfiguration');
    expect(plan.findings.filter((f) => f.code === 'federation-forced').map((f) => f.message)).toEqual([
      expect.stringMatching(/^contoso\.com: --force-federation: 1 username\(s\) .*: sam1 \(sam1\.emea@contoso\.com, sam1@contoso\.com\)$/),
      expect.stringMatching(/^contoso\.com: --force-federation: \d+ tenant user\(s\) of the domain outside the export/),
    ]);
    expect(await rederived(file)).toBeUndefined();
    // A candidate the plan judges through a row of theirs is not held up by the name: CORP\sam1 matched to sam1@contoso.com leaves sam1.emea@contoso.com.
    const both = exportOf(join(t.dir, 'both'), ['alice@contoso.com,true,1,4255550101,phone_call', 'sam1,true,1,4255550203,phone_call', 'CORP\\sam1,true,1,4255550204,phone_call']);
    const again = (await makePlan({ ...over, source: both, netbiosDomains: new Map([['corp', 'corp.contoso.com']]), graph: g.client({ readOnly: true }) }).catch((e: unknown) => e)) as CutoverRefusedError;
    expect(again.reasons.find((r) => r.includes('no one tenant user alone'))).toMatch(/: sam1 \(sam1\.emea@contoso\.com\)\./);
  });

  it("a username found by UPN that another tenant user has as onPremisesUserPrincipalName keeps the UPN's user, with a warning naming the other (Entra Connect's duplicate-attribute handling)", async () => {
    const t = testDir('onprem-upn-other');
    const source = exportOf(t.dir, ['jdoe@contoso.com,true,1,4255550201,phone_call', 'mary@contoso.com,true,1,4255550202,phone_call']);
    const DUP = '0b7e8c52-0000-4000-8000-000000000031';
    const doc = tenantDoc([{ id: DUP, userPrincipalName: 'jdoe1234@contoso.onmicrosoft.com', displayName: 'John Doe (synced)', onPremisesSyncEnabled: true, onPremisesSamAccountName: 'jdoe', onPremisesDomainName: 'corp.contoso.com', onPremisesUserPrincipalName: 'jdoe@contoso.com' }]);
    // jdoe@contoso.com is cloud-only now (no on-premises names); mary is synced with mary@contoso.com as her own on-premises UPN.
    const jdoe = doc.users.find((u) => u.id === JDOE)!;
    for (const k of ['onPremisesSyncEnabled', 'onPremisesSamAccountName', 'onPremisesDomainName', 'onPremisesUserPrincipalName']) delete jdoe[k];
    doc.users.find((u) => u.id === MARY)!.onPremisesUserPrincipalName = 'mary@contoso.com';
    const g = fakeGraph({ tenant: doc });
    const file = join(t.dir, 'upn.plan');
    const { plan } = await planTo(g, file, request(source));
    expect(userOf(plan, 'jdoe@contoso.com')).toMatchObject({ user_id: JDOE, status: 'changes' });
    expect(userOf(plan, 'jdoe@contoso.com').match).toBeUndefined();
    expect(findingsOf(plan, 'jdoe@contoso.com')).toContainEqual(['warning', 'user-match-upn-other-on-premises', 'USER-MATCH']);
    expect(plan.findings.find((f) => f.code === 'user-match-upn-other-on-premises')!.message).toMatch(
      /^matched by UPN to jdoe@contoso\.com \(object id 0b7e8c52-0000-4000-8000-000000000001\), but 1 other tenant user\(s\) have jdoe@contoso\.com as onPremisesUserPrincipalName: jdoe1234@contoso\.onmicrosoft\.com \(object id 0b7e8c52-0000-4000-8000-000000000031, onPremisesDomainName corp\.contoso\.com\)\. The UPN is matched first/,
    );
    // mary's own on-premises UPN is her UPN: not looked up. One filter, for jdoe alone.
    expect(onPremisesReads(g).map((o) => decodeURIComponent(o.path))).toEqual([expect.stringMatching(/onPremisesUserPrincipalName in \('jdoe@contoso\.com'\)/)]);
    expect(findingsOf(plan, 'mary@contoso.com').some(([, code]) => code === 'user-match-upn-other-on-premises')).toBe(false);
    // The saved plan re-derives with the warning (what was seen is on the user's line).
    expect(await rederived(file)).toBeUndefined();
    // By UPN alone nothing is looked up and nothing said, as before.
    const upnOnly = await planTo(g, join(t.dir, 'upn-only.plan'), { ...request(source), matchBy: ['upn'] });
    expect(upnOnly.plan.findings.some((f) => f.code === 'user-match-upn-other-on-premises')).toBe(false);
  });

  it('a scope large enough to list the directory finds the other users with the UPN as on-premises UPN in the listing: no lookup a user', async () => {
    const t = testDir('onprem-upn-other-listed');
    const n = 210;
    const rows = Array.from({ length: n }, (_, i) => `u${i}@contoso.com,true,1,42555${String(10000 + i)},phone_call`);
    const source = exportOf(t.dir, rows);
    const DUP = '0b7e8c52-0000-4000-8000-000000000032';
    const doc = tenantDoc([
      ...Array.from({ length: n }, (_, i) => ({ id: `0b7e8c52-0000-4000-8000-1${String(i).padStart(11, '0')}`, userPrincipalName: `u${i}@contoso.com`, displayName: `U ${i}` })),
      { id: DUP, userPrincipalName: 'u7x@contoso.onmicrosoft.com', displayName: 'U 7 (synced)', onPremisesSamAccountName: 'u7', onPremisesDomainName: 'corp.contoso.com', onPremisesUserPrincipalName: 'U7@contoso.com' },
    ]);
    const g = fakeGraph({ tenant: doc });
    const { plan } = await planTo(g, join(t.dir, 'listed.plan'), request(source));
    expect(plan.findings.filter((f) => f.code === 'user-match-upn-other-on-premises').map((f) => [f.user, /u7x@contoso\.onmicrosoft\.com/.test(f.message)])).toEqual([['u7@contoso.com', true]]);
    expect(onPremisesReads(g)).toEqual([]);
    expect(g.operations().filter((o) => decodeURIComponent(o.path).startsWith('/v1.0/users?$select=id,userPrincipalName,accountEnabled,userType,onPremisesUserPrincipalName&$top=999')).length).toBeGreaterThan(0);
  }, 60_000);

  it('apply refuses a user whose on-premises name no longer matches them alone (a second jdoe synced into CORP since the plan)', async () => {
    const t = testDir('onprem-stale');
    const source = exportOf(t.dir, ['CORP\\jdoe,true,1,4255550201,phone_call']);
    const file = join(t.dir, 'stale.plan');
    await planTo(fakeGraph({ tenant: tenantDoc() }), file, request(source));
    const later = fakeGraph({
      tenant: tenantDoc([{ id: '0b7e8c52-0000-4000-8000-000000000009', userPrincipalName: 'john.doe@contoso.com', displayName: 'John Doe', onPremisesSamAccountName: 'JDOE', onPremisesDomainName: 'corp.contoso.com' }]),
    });
    const err = (await applyFile(later, file, join(t.dir, 'state')).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/CORP\\jdoe .*the user jdoe@contoso\.com is no longer in the tenant, or no longer the one tenant user the on-premises name CORP\\jdoe matches/);
    expect(await phonesOf(later, JDOE)).toEqual([]);
  });

  it('a saved plan edited to send a user matched by on-premises name to another tenant user is refused: that user is not the one the name matches', async () => {
    const t = testDir('onprem-edit');
    const source = exportOf(t.dir, ['CORP\\jdoe,true,1,4255550201,phone_call']);
    const g = fakeGraph({ tenant: tenantDoc() });
    const file = join(t.dir, 'edit.plan');
    await planTo(g, file, request(source));
    const edited = readFileSync(file, 'utf8').replaceAll(JDOE, MARY).replaceAll('jdoe@contoso.com', 'mary@contoso.com');
    writeFileSync(file, edited);
    const err = (await applyFile(g, file, join(t.dir, 'state')).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/the user mary@contoso\.com is no longer in the tenant, or no longer the one tenant user the on-premises name CORP\\jdoe matches/);
    expect(await phonesOf(g, MARY)).toEqual([]);
  });
});
