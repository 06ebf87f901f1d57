import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fakeGraph } from '../helpers/graph.js';
import { applyFile, contosoRequest, planTo, rollbackIn, testDir } from '../helpers/migration.js';

const ALICE = 'a1f1d87d-05e0-555e-bdb8-de674260eb27';

/** A black-box test: a tenant email method MFA Server's address replaced was planned with no finding, where a replaced phone has one. */
describe("a tenant email method MFA Server's address replaces (--include-email)", () => {
  it('is named in a finding that says rollback restores it (the addresses are the change\'s before and after); and rollback does', async () => {
    const t = testDir('email-replace');
    const source = join(t.dir, 'export');
    mkdirSync(source);
    writeFileSync(join(source, 'users.csv'), 'username,email,phone_country_code,phone\nalice@contoso.com,work@contoso.com,1,4255550101\nbob@contoso.com,BOB@contoso.com,1,4255550102\n');
    const g = fakeGraph();
    const BOB = (await g.raw.get('/v1.0/users/bob@contoso.com')).body.id as string;
    expect((await g.raw.post(`/v1.0/users/${ALICE}/authentication/emailMethods`, { emailAddress: 'personal@example.org' })).status).toBe(201);
    // The same address, case aside: a no-op, said by nothing.
    expect((await g.raw.post(`/v1.0/users/${BOB}/authentication/emailMethods`, { emailAddress: 'bob@contoso.com' })).status).toBe(201);
    const file = join(t.dir, 'replace.plan');
    const { plan } = await planTo(g, file, { ...contosoRequest(source, []), includeEmail: true });
    expect(plan.user_changes.filter((c) => c.resource === 'emailMethods').map((c) => [c.user, c.action, c.before, c.after, c.rule])).toEqual([
      ['alice@contoso.com', 'update', { emailAddress: 'personal@example.org' }, { emailAddress: 'work@contoso.com' }, 'EMAIL-FROM-EXPORT'],
      ['bob@contoso.com', 'no-op', { emailAddress: 'bob@contoso.com' }, { emailAddress: 'bob@contoso.com' }, 'EMAIL-FROM-EXPORT'],
    ]);
    const replaced = plan.findings.filter((f) => f.code === 'email-replaced');
    expect(replaced).toEqual([
      { severity: 'warning', code: 'email-replaced', user: 'alice@contoso.com', rule: 'EMAIL-REPLACE', message: "the tenant's email method is replaced by MFA Server's, another address (the change's before and after); rollback restores the tenant's" },
    ]);

    const email = async () => (await g.raw.get(`/v1.0/users/${ALICE}/authentication/emailMethods`)).body.value[0].emailAddress;
    const { outcome } = await applyFile(g, file, join(t.dir, 'state'));
    expect(await email()).toBe('work@contoso.com');
    expect((await rollbackIn(g, join(t.dir, 'state'), outcome.runId)).outcome.state).toBe('completed');
    expect(await email()).toBe('personal@example.org');
  });
});
