import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateExport } from '../../src/app/validate.js';
import { isEmailAddress } from '../../src/model/email-address.js';
import { fakeGraph } from '../helpers/graph.js';
import { applyFile, contosoRequest, planTo, testDir } from '../helpers/migration.js';

const ALICE = 'a1f1d87d-05e0-555e-bdb8-de674260eb27';
const EMAIL_METHOD = '3ddfcfc8-9383-446f-83cc-3ab9be4be18f';

function exportWith(dir: string, rows: string): string {
  const source = join(dir, 'export');
  mkdirSync(source);
  writeFileSync(join(source, 'users.csv'), `username,email,phone_country_code,phone\n${rows}`);
  return source;
}

/**
 * A black-box test: with --include-email, `not-an-email` was planned silently as the email method
 * (validate and plan said nothing), and apply met the emulator's 400 "emailAddress must be an email
 * address." (exit 3, a resume offered that could never succeed, the user's switch held back).
 */
describe('an email cell that is not an email address, with --include-email', () => {
  it('validate names it; the plan leaves it out with EMAIL-INVALID; apply then completes, every address it sends taken', async () => {
    const t = testDir('plan-email');
    const source = exportWith(t.dir, 'alice@contoso.com,not-an-email,1,4255550101\nbob@contoso.com,bob@contoso.com,1,4255550102\ncarol@contoso.com,carol@localhost,1,4255550103\n');

    const report = await validateExport({ source, tokens: [], seeds: { pskcMac: 'fail' } });
    expect(report.errors).toEqual([]);
    expect(report.warnings.map((e) => [e.file, e.line, e.field, e.code])).toEqual([
      ['users.csv', 2, 'email', 'email-invalid'],
      ['users.csv', 4, 'email', 'email-invalid'],
    ]);

    const g = fakeGraph();
    const file = join(t.dir, 'email.plan');
    const { plan } = await planTo(g, file, { ...contosoRequest(source, []), includeEmail: true, rolloutGroups: ['MFA Staged Rollout'] });
    const emails = plan.user_changes.filter((c) => c.resource === 'emailMethods');
    expect(emails.map((c) => [c.user, c.action, c.after])).toEqual([['bob@contoso.com', 'create', { emailAddress: 'bob@contoso.com' }]]);
    const findings = plan.findings.filter((f) => f.code === 'email-invalid');
    expect(findings.map((f) => [f.user, f.severity, f.rule])).toEqual([
      ['alice@contoso.com', 'warning', 'EMAIL-INVALID'],
      ['carol@contoso.com', 'warning', 'EMAIL-INVALID'],
    ]);
    // Said once, by the mapping: not again as the export's problem (EXPORT-DATA).
    expect(plan.findings.filter((f) => f.rule === 'EXPORT-DATA')).toEqual([]);

    const applied = await applyFile(g, file, join(t.dir, 'state'));
    expect(applied.outcome.state).toBe('completed');
    expect(applied.outcome.counts.failed).toBe(0);
    expect(applied.outcome.resumable).toBe(false);
    // Alice's switch to Entra MFA is not held back by a write Graph refuses.
    expect(applied.results.find((r) => r.user === 'alice@contoso.com')).toMatchObject({ outcome: 'done' });
  });

  it('without --include-email, the plan says nothing of it (no email is migrated for anyone)', async () => {
    const t = testDir('plan-email-off');
    const source = exportWith(t.dir, 'alice@contoso.com,not-an-email,1,4255550101\n');
    const { plan } = await planTo(fakeGraph(), join(t.dir, 'off.plan'), contosoRequest(source, []));
    expect(plan.findings.filter((f) => f.code === 'email-invalid')).toEqual([]);
    expect(plan.user_changes.filter((c) => c.resource === 'emailMethods')).toEqual([]);
  });

  it("the plan's rule is the emulator's: an address is planned exactly when the emulator's email method takes it", async () => {
    const g = fakeGraph();
    const addresses = ['kim@contoso.com', 'kim.o+tag@mail.contoso.co.uk', 'not-an-email', 'kim@localhost', 'kim smith@contoso.com', 'kim@@contoso.com', '@contoso.com', 'kim@contoso.', 'kim@.com', 'kim@contoso.com\t'];
    for (const emailAddress of addresses) {
      const res = await g.raw.post(`/v1.0/users/${ALICE}/authentication/emailMethods`, { emailAddress });
      expect([emailAddress, res.status]).toEqual([emailAddress, isEmailAddress(emailAddress) ? 201 : 400]);
      if (res.status === 201) expect((await g.raw.delete(`/v1.0/users/${ALICE}/authentication/emailMethods/${EMAIL_METHOD}`)).status).toBe(204);
      else expect(res.body.error.message).toBe('emailAddress must be an email address.');
    }
  });
});
