import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fakeGraph } from '../helpers/graph.js';
import { applyFile, contosoRequest, planTo, rollbackIn, testDir } from '../helpers/migration.js';

const ALICE = 'a1f1d87d-05e0-555e-bdb8-de674260eb27'; // a mobile, +1 4255550101, in the tenant

describe("a tenant phone MFA Server's number replaces", () => {
  it('is named in a finding that says rollback restores it (the numbers are the change\'s before and after); and rollback does', async () => {
    const t = testDir('phone-replace');
    const source = join(t.dir, 'export');
    mkdirSync(source);
    writeFileSync(join(source, 'users.csv'), 'username,enabled,phone_country_code,phone,default_method\nalice@contoso.com,1,1,4255550199,phone_call\n');
    const g = fakeGraph();
    const file = join(t.dir, 'replace.plan');
    const { plan } = await planTo(g, file, contosoRequest(source, []));
    expect(plan.user_changes.find((c) => c.resource === 'phoneMethods/mobile')).toMatchObject({ action: 'update', rule: 'PHONE-PRIMARY-MOBILE' });
    const [replaced] = plan.findings.filter((f) => f.code === 'phone-replaced');
    expect(replaced).toMatchObject({ severity: 'warning', user: 'alice@contoso.com', rule: 'PHONE-REPLACE' });
    expect(replaced!.message).toBe("the tenant's mobile phone is replaced by MFA Server's, another number (the change's before and after); rollback restores the tenant's");
    expect(plan.user_changes.find((c) => c.resource === 'phoneMethods/mobile')).toMatchObject({ before: { phoneNumber: '+1 4255550101' }, after: { phoneNumber: '+1 4255550199' } });

    const mobile = async () => (await g.raw.get(`/v1.0/users/${ALICE}/authentication/phoneMethods`)).body.value.find((p: { phoneType: string }) => p.phoneType === 'mobile').phoneNumber;
    const { outcome } = await applyFile(g, file, join(t.dir, 'state'));
    expect(await mobile()).toBe('+1 4255550199');
    expect((await rollbackIn(g, join(t.dir, 'state'), outcome.runId)).outcome.state).toBe('completed');
    expect(await mobile()).toBe('+1 4255550101');
  });
});
