import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makePlan } from '../../src/app/plan.js';
import type { DefaultMethodMode } from '../../src/mapping/default-method-rules.js';
import type { Plan } from '../../src/plan/plan-model.js';
import { renderReportMarkdown } from '../helpers/report-text.js';
import { renderPlanTerminal } from '../../src/plan/render-terminal.js';
import { fakeGraph } from '../helpers/graph.js';
import { contosoRequest, testDir } from '../helpers/migration.js';

const HEADER = 'username,enabled,phone_country_code,phone,phone_extension,backup_country_code,backup_phone,backup_extension,default_method';

/** The Contoso tenant planned against a users.csv of these rows. */
async function planRows(rows: string[], defaultMethod: DefaultMethodMode = 'if-unset'): Promise<Plan> {
  const t = testDir('phone-cases');
  writeFileSync(join(t.dir, 'users.csv'), `${HEADER}\n${rows.join('\n')}\n`);
  const g = fakeGraph();
  return (await makePlan({ ...contosoRequest(t.dir, []), defaultMethod, graph: g.client({ readOnly: true }) })).built.plan;
}

const changesOf = (plan: Plan, user: string) => plan.user_changes.filter((c) => c.user === user && c.action !== 'no-op').map((c) => `${c.action} ${c.resource} ${JSON.stringify(c.after)} ${c.rule}`);
const findingsOf = (plan: Plan, user: string) => plan.findings.filter((f) => f.user === user);

describe('a landline in the mobile slot', () => {
  it("MFA Server's text message default on a UK landline is migrated as sms, and said", async () => {
    const plan = await planRows(['bob@contoso.com,1,44,020 7946 0959,,,,,text_message', 'carol@contoso.com,1,44,07400 123456,,,,,text_message']);
    expect(changesOf(plan, 'bob@contoso.com')).toContain('update signInPreferences {"userPreferredMethodForSecondaryAuthentication":"sms"} DEFAULT-FROM-SERVER');
    expect(findingsOf(plan, 'bob@contoso.com')).toContainEqual(expect.objectContaining({ severity: 'warning', code: 'sms-to-landline', rule: 'DEFAULT-SMS-LANDLINE' }));
    // A UK mobile is no landline.
    expect(findingsOf(plan, 'carol@contoso.com').map((f) => f.code)).not.toContain('sms-to-landline');
  });

  it('a toll-free or premium-rate number with the text message default is said as such (a black-box test saw them planned unsaid)', async () => {
    const plan = await planRows(['bob@contoso.com,1,1,800 555 0100,,,,,text_message', 'carol@contoso.com,1,44,0800 123 4567,,,,,text_message', 'dave@contoso.com,1,1,900 555 0100,,,,,text_message']);
    const said = (u: string) => findingsOf(plan, u).find((f) => f.code === 'sms-to-landline')?.message;
    expect(said('bob@contoso.com')).toMatch(/the mobile phone's number is a toll free number \(libphonenumber: toll free\), which may not receive text messages/);
    expect(said('carol@contoso.com')).toMatch(/is a toll free number/);
    expect(said('dave@contoso.com')).toMatch(/is a premium rate number/);
  });

  it('most-secure-if-unset puts voice before SMS on a landline, and keeps SMS on a mobile', async () => {
    // erin's text messages have the plan enable SMS.
    const rows = ['bob@contoso.com,1,44,020 7946 0959,,,,,phone_call', 'carol@contoso.com,1,44,07400 123456,,,,,phone_call', 'dave@contoso.com,1,1,4255550104,,,,,phone_call', 'erin@contoso.com,1,1,4255550105,,,,,text_message'];
    const plan = await planRows(rows, 'most-secure-if-unset');
    expect(changesOf(plan, 'bob@contoso.com')).toContain('update signInPreferences {"userPreferredMethodForSecondaryAuthentication":"voiceMobile"} DEFAULT-SMS-LANDLINE');
    expect(plan.user_changes.find((c) => c.user === 'bob@contoso.com' && c.resource === 'signInPreferences')!.because).toMatch(/voice before SMS: the mobile number is a landline/);
    expect(findingsOf(plan, 'bob@contoso.com').map((f) => f.code)).not.toContain('sms-to-landline');
    // A UK mobile, and a North American number (FIXED_LINE_OR_MOBILE), still get SMS.
    expect(changesOf(plan, 'carol@contoso.com')).toContain('update signInPreferences {"userPreferredMethodForSecondaryAuthentication":"sms"} DEFAULT-MOST-SECURE');
    expect(changesOf(plan, 'dave@contoso.com')).toContain('update signInPreferences {"userPreferredMethodForSecondaryAuthentication":"sms"} DEFAULT-MOST-SECURE');
  });
});

describe('a user whose every phone is invalid', () => {
  it('is shown as having nothing to migrate because of it, not as already matching', async () => {
    const plan = await planRows(['bob@contoso.com,1,1,555-0100,,1,12345,,phone_call', 'carol@contoso.com,1,1,4255550103,,,,,']);
    const text = renderPlanTerminal(plan, { color: false, showPhoneNumbers: false });
    expect(text).toMatch(/bob@contoso\.com {2}nothing to migrate: the phones are invalid \(see the findings\) {2}no usable method after the plan/);
    // And counted so: not among those who already match.
    expect(text).toContain('2 user(s) in scope: 1 with changes, 0 already match, 1 with nothing to migrate, 0 not in the tenant, 0 disabled; 1 left with no usable method');
    expect(renderReportMarkdown(plan, { showPhoneNumbers: false })).toContain('nothing to migrate: the phones are invalid (see the findings)');
    expect(findingsOf(plan, 'bob@contoso.com').filter((f) => f.code === 'phone-invalid')).toHaveLength(2);
  });
});
