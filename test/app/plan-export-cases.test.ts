import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fakeGraph } from '../helpers/graph.js';
import { makePlan } from '../../src/app/plan.js';
import { applyFile, CONTOSO, CONTOSO_TOKENS, contosoRequest, planTo, testDir } from '../helpers/migration.js';

const HEADER = 'username,enabled,phone_country_code,phone,phone_extension,backup_country_code,backup_phone,backup_extension,default_method';
const ALICE = 'a1f1d87d-05e0-555e-bdb8-de674260eb27'; // a mobile, +1 4255550101, in the tenant


describe('--prune and a backup phone with no primary', () => {
  it('the backup becomes the mobile in place of the pruned one: no alternateMobile is left without a mobile, and apply succeeds', async () => {
    const t = testDir('prune');
    const source = join(t.dir, 'export');
    mkdirSync(source);
    writeFileSync(join(source, 'users.csv'), `${HEADER}\nalice@contoso.com,1,,,,1,2065550111,,phone_call\n`);
    const g = fakeGraph();
    const file = join(t.dir, 'prune.plan');
    const { plan } = await planTo(g, file, { ...contosoRequest(source, []), prune: true });
    const phones = plan.user_changes.filter((c) => c.user === 'alice@contoso.com' && c.resource.startsWith('phoneMethods/') && c.action !== 'no-op');
    expect(phones).toEqual([expect.objectContaining({ resource: 'phoneMethods/mobile', action: 'update', rule: 'PHONE-BACKUP-AS-MOBILE', after: expect.objectContaining({ phoneNumber: '+1 2065550111' }) })]);

    const applied = await applyFile(g, file, join(t.dir, 'state'));
    expect(applied.outcome.counts.failed).toBe(0);
    const after = await g.raw.get(`/v1.0/users/${ALICE}/authentication/phoneMethods`);
    expect(after.body.value.map((p: { phoneType: string; phoneNumber: string }) => `${p.phoneType} ${p.phoneNumber}`)).toEqual(['mobile +1 2065550111']);
  });
});

describe('--prune and a tenant phone behind the default method', () => {
  async function setUp(defaultMethod: 'if-unset' | 'always') {
    const t = testDir('prune-default');
    const source = join(t.dir, 'export');
    mkdirSync(source);
    writeFileSync(join(source, 'users.csv'), `${HEADER}\nalice@contoso.com,1,1,4255550101,,,,,phone_call\n`);
    const g = fakeGraph();
    // An office phone MFA Server does not have, and the user's default rings it.
    expect((await g.raw.post(`/v1.0/users/${ALICE}/authentication/phoneMethods`, { phoneNumber: '+1 4255550000x12', phoneType: 'office' })).status).toBe(201);
    expect((await g.raw.patch(`/beta/users/${ALICE}/authentication/signInPreferences`, { userPreferredMethodForSecondaryAuthentication: 'voiceOffice' })).status).toBe(204);
    const file = join(t.dir, 'prune.plan');
    const { plan } = await planTo(g, file, { ...contosoRequest(source, []), prune: true, defaultMethod });
    const applied = await applyFile(g, file, join(t.dir, 'state'));
    const phones = (await g.raw.get(`/v1.0/users/${ALICE}/authentication/phoneMethods`)).body.value.map((p: { phoneType: string }) => p.phoneType);
    return { plan, applied, phones };
  }

  it('the plan keeping the default: the phone is kept, with a finding that says why, and apply succeeds', async () => {
    const { plan, applied, phones } = await setUp('if-unset');
    const office = plan.user_changes.find((c) => c.user === 'alice@contoso.com' && c.resource === 'phoneMethods/office');
    expect(office).toMatchObject({ action: 'no-op', rule: 'PHONE-PRUNE-KEPT' });
    const findings = plan.findings.filter((f) => f.user === 'alice@contoso.com');
    expect(findings).toContainEqual(expect.objectContaining({ code: 'prune-kept', rule: 'PHONE-PRUNE-KEPT', message: expect.stringMatching(/office phone .*default method voiceOffice, which the plan does not move/) }));
    // The default is judged with the phone there (the user has it; office phones are off in this tenant's policy).
    expect(findings.filter((f) => /will not have that method/.test(f.message))).toEqual([]);
    expect(applied.outcome.counts.failed).toBe(0);
    expect(phones).toEqual(['mobile', 'office']);
  });

  it('the plan moving the default: the phone is deleted after the default moved, and apply succeeds', async () => {
    const { plan, applied, phones } = await setUp('always');
    const mine = plan.user_changes.filter((c) => c.user === 'alice@contoso.com' && c.action !== 'no-op');
    expect(mine.map((c) => `${c.action} ${c.resource} ${c.rule}`)).toEqual(['delete phoneMethods/office PHONE-PRUNE', 'update signInPreferences DEFAULT-FROM-SERVER']);
    expect(applied.outcome.counts.failed).toBe(0);
    expect(phones).toEqual(['mobile']);
  });
});

describe('users MFA Server may keep out are never migrated on a guess', () => {
  function exportWith(csv: string): string {
    const t = testDir('export-cases');
    writeFileSync(join(t.dir, 'users.csv'), csv);
    return t.dir;
  }

  it('an unreadable enabled value: the user is skipped as disabled, nothing planned for them, and the plan says why', async () => {
    const g = fakeGraph();
    const source = exportWith(`${HEADER}\ncarol@contoso.com,locked,1,4255550103,,,,,phone_call\nbob@contoso.com,1,1,4255550102,,,,,phone_call\n`);
    const plan = (await makePlan({ ...contosoRequest(source, []), graph: g.client({ readOnly: true }) })).built.plan;
    expect(plan.users.find((u) => u.user === 'carol@contoso.com')?.status).toBe('disabled');
    expect(plan.user_changes.filter((c) => c.user === 'carol@contoso.com' && c.action !== 'no-op')).toEqual([]);
    expect(plan.findings.filter((f) => f.user === 'carol@contoso.com').map((f) => `${f.severity}:${f.code}`).sort()).toEqual(['error:value-invalid', 'warning:user-disabled']);
    expect(plan.users.find((u) => u.user === 'bob@contoso.com')?.status).toBe('changes');
  });

  it('a column the reader does not know, such as Status, is a warning of the plan, not only of validate', async () => {
    const g = fakeGraph();
    const source = exportWith('username,Status,phone_country_code,phone,default_method\ncarol@contoso.com,Disabled,1,4255550103,phone_call\n');
    const plan = (await makePlan({ ...contosoRequest(source, []), graph: g.client({ readOnly: true }) })).built.plan;
    const [unknown] = plan.findings.filter((f) => f.code === 'column-unknown');
    expect(unknown).toMatchObject({ severity: 'warning', rule: 'EXPORT-DATA' });
    expect(unknown!.message).toMatch(/users\.csv: unknown column "Status" is ignored: if it says which users are disabled, name it "enabled"/);
  });
});

describe('a seed file refused for a column named as an OATH parameter the reader does not know', () => {
  it('stops the plan naming the file and the column, even with --allow-missing-seeds (its tokens would otherwise be skipped as if they had no seed)', async () => {
    const t = testDir('param-column');
    writeFileSync(join(t.dir, 'users.csv'), `${HEADER},oath_token_serial\nalice@contoso.com,1,1,4255550101,,,,,phone_call,20019998\n`);
    const seeds = join(t.dir, 'seeds.csv');
    writeFileSync(seeds, 'serial,secret,Time Step (s)\n20019998,JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP,60\n');
    const g = fakeGraph();
    for (const allowMissingSeeds of [false, true]) {
      const err = await makePlan({ ...contosoRequest(t.dir, [seeds]), allowMissingSeeds, graph: g.client({ readOnly: true }) }).then(() => undefined, (e: unknown) => e);
      expect(err, `allowMissingSeeds ${allowMissingSeeds}`).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(/cannot be trusted[\s\S]*seeds\.csv, line 1, field Time Step \(s\): .*looks like an OATH parameter .*\[column-unknown\]/);
    }
  });
});

describe('every token and device of the input is accounted for in the plan (an auditor compares the two)', () => {
  function exportOf(): { source: string; seeds: string; usersFile: string } {
    const t = testDir('export-accounted');
    writeFileSync(join(t.dir, 'users.csv'), `${HEADER}\nalice@contoso.com,1,1,4255550101,,,,,phone_call\ncarol@contoso.com,1,1,4255550103,,,,,phone_call\n,1,1,4255550199,,,,,phone_call\n`);
    writeFileSync(join(t.dir, 'devices.csv'), 'username,device_name,registered_at,device_token,oath_secret\nghost@contoso.com,iPhone 15,2025-03-01T10:00:00Z,,\ncarol@contoso.com,,2025-03-01T10:00:00Z,,\n');
    const seeds = join(t.dir, 'seeds.csv');
    writeFileSync(seeds, 'serial,secret,encoding,type,digits,period\n20019998,JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP,base32,totp,6,30\n');
    const usersFile = join(t.dir, 'scope.txt');
    writeFileSync(usersFile, 'alice@contoso.com\n');
    return { source: t.dir, seeds, usersFile };
  }
  const shown = (f: { severity: string; code: string; user?: string; message: string }) => `${f.severity}:${f.code}:${f.user ?? '-'}:${f.message}`;

  it('a seed no user has, a device of someone not in users.csv and a row with no username are findings of every plan, naming file, line and field', async () => {
    const { source, seeds, usersFile } = exportOf();
    for (const scope of [{}, { users: usersFile }]) {
      const plan = (await makePlan({ ...contosoRequest(source, [seeds]), ...scope, graph: fakeGraph().client({ readOnly: true }) })).built.plan;
      const whole = plan.findings.filter((f) => f.rule === 'EXPORT-DATA' && f.user === undefined).map(shown);
      expect(whole).toEqual([
        expect.stringMatching(/^error:username-invalid:-:users\.csv, line 4, field username: /),
        expect.stringMatching(/^warning:device-unknown-user:-:devices\.csv, line 2, field username: ghost@contoso\.com is not in users\.csv; the device is ignored$/),
        expect.stringMatching(/^warning:seed-unassigned:-:seeds\.csv, line 2, field serial: token 20019998 is not assigned: no user in users\.csv has this serial$/),
      ]);
    }
  });

  it('a device\'s problem is its user\'s: in their plan, and left out of a plan whose scope leaves them out', async () => {
    const { source, seeds, usersFile } = exportOf();
    const all = (await makePlan({ ...contosoRequest(source, [seeds]), graph: fakeGraph().client({ readOnly: true }) })).built.plan;
    expect(all.findings.filter((f) => f.user === 'carol@contoso.com' && f.rule === 'EXPORT-DATA').map(shown)).toEqual(['warning:value-invalid:carol@contoso.com:device_name: device name is empty']);
    const scoped = (await makePlan({ ...contosoRequest(source, [seeds]), users: usersFile, graph: fakeGraph().client({ readOnly: true }) })).built.plan;
    expect(scoped.findings.filter((f) => f.code === 'value-invalid')).toEqual([]);
  });
});

describe('a seed file given by a relative path, outside the export folder', () => {
  it('is the same file when apply checks the sources again from its absolute path', async () => {
    const t = testDir('relative-tokens');
    const seeds = join(t.dir, 'generic-seeds.csv');
    copyFileSync(CONTOSO_TOKENS.find((f) => f.endsWith('generic-seeds.csv'))!, seeds);
    const g = fakeGraph();
    const file = join(t.dir, 'relative.plan');
    await planTo(g, file, { ...contosoRequest(CONTOSO, [relative(process.cwd(), seeds)]), allowMissingSeeds: true });
    const applied = await applyFile(g, file, join(t.dir, 'state'));
    expect(applied.outcome.state).toBe('completed');
  });
});

describe('usernames as an export may write them (black-box tests)', () => {
  const MUELLER = '0b7e8c52-0000-4000-8000-0000000000a1';
  const JOERG = '0b7e8c52-0000-4000-8000-0000000000a2';
  /**
   * Contoso with a synced müller@contoso.com and CORP\\jörg: composed, as AD holds names. Entra holds
   * no UPN with ü (Graph refuses it, and so does the emulator): Müller's is mueller@contoso.com, his
   * on-premises UPN müller@contoso.com.
   */
  function tenant() {
    const doc = JSON.parse(readFileSync(join(CONTOSO, 'tenant.json'), 'utf8')) as { users: Record<string, unknown>[] };
    doc.users.push(
      { id: MUELLER, userPrincipalName: 'mueller@contoso.com', displayName: 'M\u00fcller', onPremisesSyncEnabled: true, onPremisesUserPrincipalName: 'm\u00fcller@contoso.com' },
      { id: JOERG, userPrincipalName: 'joerg@contoso.com', displayName: 'J\u00f6rg', onPremisesSyncEnabled: true, onPremisesSamAccountName: 'j\u00f6rg', onPremisesDomainName: 'corp.contoso.com', onPremisesUserPrincipalName: 'j\u00f6rg@corp.contoso.com' },
    );
    return doc;
  }

  it('names written decomposed (u + U+0308) are matched to the tenant by on-premises UPN and by sAMAccountName, and a --users file of either form scopes them', async () => {
    const t = testDir('decomposed');
    writeFileSync(join(t.dir, 'users.csv'), `${HEADER}\nmu\u0308ller@contoso.com,1,1,4255550111,,,,,phone_call\nCORP\\jo\u0308rg,1,1,4255550112,,,,,phone_call\nalice@contoso.com,1,1,4255550101,,,,,phone_call\n`);
    const scope = join(t.dir, 'scope.txt');
    writeFileSync(scope, 'M\u00fcller@contoso.com\nCORP\\jo\u0308rg\n');
    const g = fakeGraph({ tenant: tenant() });
    const plan = (await makePlan({ ...contosoRequest(t.dir, []), users: scope, graph: g.client({ readOnly: true }) })).built.plan;
    expect(plan.users.map((u) => [u.user, u.user_id, u.status])).toEqual([
      ['m\u00fcller@contoso.com', MUELLER, 'changes'],
      ['CORP\\j\u00f6rg', JOERG, 'changes'],
    ]);
    expect(plan.users[0]!.match).toMatchObject({ outcome: 'matched', by: 'onPremisesUserPrincipalName', value: 'm\u00fcller@contoso.com' });
    expect(plan.users[1]!.match).toMatchObject({ outcome: 'matched', by: 'onPremisesSamAccountName', value: 'j\u00f6rg' });
  });

  it('a name holding an invisible character or a ? is not found, and the plan says why at the user, not only that no one has the UPN', async () => {
    const t = testDir('unfindable');
    writeFileSync(join(t.dir, 'users.csv'), `${HEADER}\nalice@contoso.com\u200b,1,1,4255550101,,,,,phone_call\nm?ller@contoso.com,1,1,4255550111,,,,,phone_call\n`);
    const g = fakeGraph({ tenant: tenant() });
    const plan = (await makePlan({ ...contosoRequest(t.dir, []), graph: g.client({ readOnly: true }) })).built.plan;
    expect(plan.users.map((u) => [u.user, u.status])).toEqual([
      ['alice@contoso.com\u200b', 'not-in-tenant'],
      ['m?ller@contoso.com', 'not-in-tenant'],
    ]);
    const of = (user: string) => plan.findings.filter((f) => f.user === user).map((f) => `${f.severity}:${f.code}:${f.message}`);
    expect(of('alice@contoso.com\u200b')).toEqual([
      expect.stringMatching(/^warning:username-invalid:username: username "alice@contoso\.com\\u200b" holds \\u200b, an invisible character .*correct the username$/),
      expect.stringMatching(/^warning:user-not-found:/),
    ]);
    expect(of('m?ller@contoso.com')).toEqual([
      expect.stringMatching(/^error:username-invalid:username: username "m\?ller@contoso\.com" holds "\?", .*ASCII export/),
      expect.stringMatching(/^warning:user-not-found:/),
    ]);
    // Neither is looked up by an on-premises name it cannot be.
    expect(g.operations().filter((o) => /\$filter=onPremises/.test(decodeURIComponent(o.path)))).toEqual([]);
  });
});
