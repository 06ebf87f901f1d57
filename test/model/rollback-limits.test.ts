import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { changesRollbackCannotUndo, defaultSetWhereNone, phoneKeptBehind } from '../../src/model/rollback-limits.js';
import { renderPlanTerminal } from '../../src/plan/render-terminal.js';
import { renderReportHtml, renderReportMarkdown } from '../helpers/report-text.js';
import { fakeGraph } from '../helpers/graph.js';
import { applyFile, planTo, rollbackIn, tempDir, planOfUntouched } from '../helpers/migration.js';

const change = (user_id: string, resource: string, action: string, before: unknown, after: unknown) => ({ user_id, resource, action, before, after });
const prefs = (m: string | null) => ({ userPreferredMethodForSecondaryAuthentication: m });

describe('what a rollback cannot undo (one rule for the plan and the rollback)', () => {
  it('is a default set where the user had none, and a phone created that it uses; not a default changed, nor another phone', () => {
    expect(defaultSetWhereNone('signInPreferences', prefs(null), prefs('sms'))).toBe('sms');
    expect(defaultSetWhereNone('signInPreferences', prefs('voiceOffice'), prefs('sms'))).toBeUndefined();
    expect(defaultSetWhereNone('phoneMethods/mobile', null, { phoneNumber: '+1 4255550101' })).toBeUndefined();
    expect(['sms', 'voiceMobile', 'voiceAlternateMobile', 'voiceOffice', 'oath', 'push'].map(phoneKeptBehind)).toEqual(['phoneMethods/mobile', 'phoneMethods/mobile', 'phoneMethods/alternateMobile', 'phoneMethods/office', undefined, undefined]);

    const a = [change('a', 'phoneMethods/mobile', 'create', null, {}), change('a', 'phoneMethods/office', 'create', null, {}), change('a', 'signInPreferences', 'update', prefs(null), prefs('sms'))];
    // b's mobile was there: updated (its number is restored), not created.
    const b = [change('b', 'phoneMethods/mobile', 'update', {}, {}), change('b', 'signInPreferences', 'update', prefs(null), prefs('voiceMobile'))];
    // c had a default: it is restored, and so c's phone can go.
    const c = [change('c', 'phoneMethods/office', 'create', null, {}), change('c', 'signInPreferences', 'update', prefs('sms'), prefs('voiceOffice'))];
    // d: a default of oath uses no phone; e's office is another user's concern than a's default.
    const d = [change('d', 'phoneMethods/mobile', 'create', null, {}), change('d', 'signInPreferences', 'update', prefs(null), prefs('oath'))];
    const e = [change('e', 'phoneMethods/office', 'create', null, {})];
    const { defaults, phones } = changesRollbackCannotUndo([...a, ...b, ...c, ...d, ...e]);
    expect(defaults).toEqual([a[2], b[1], d[1]]);
    expect(phones).toEqual([a[0]]);
  });

  it("the plan's count (summary, terminal, report) is what the rollback of its run leaves in place, said before it is applied", async () => {
    const { dir, cleanup } = tempDir('rollback-limits');
    const file = join(dir, 'contoso.plan');
    const { g, plan } = await planOfUntouched(file);
    const counted = plan.summary.rollback_cannot_undo!;
    expect(counted.default_methods).toBeGreaterThan(0);
    expect(counted.phones).toBeGreaterThan(0);
    expect(counted.changes).toBe(counted.default_methods + counted.phones);

    const line = `${counted.changes} change(s) a rollback cannot undo: ${counted.default_methods} default method(s) set where the user had none (Graph cannot unset a default method); ${counted.phones} phone(s) created that such a default uses (Graph will not delete the phone behind the default)`;
    expect(renderPlanTerminal(plan, { color: false, showPhoneNumbers: false })).toContain(`\n  ${line}\n`);
    expect(renderReportMarkdown(plan, { showPhoneNumbers: false })).toContain(`- ${line}\n`);
    expect(renderReportHtml(plan, { showPhoneNumbers: false })).toContain(`<li>${line.replace(/'/g, '&#39;')}</li>`);

    const { outcome } = await applyFile(g, file, join(dir, 'state'));
    expect(outcome.state).toBe('completed');
    const back = await rollbackIn(g, join(dir, 'state'), outcome.runId);
    const left = back.outcome.notReversible.map((x) => `${x.user} ${x.target}`).sort();
    const { defaults, phones } = changesRollbackCannotUndo(plan.user_changes);
    expect(left).toEqual([...defaults, ...phones].map((c) => `${c.user} ${c.resource}`).sort());
    expect(left).toHaveLength(counted.changes);
    cleanup();
  });

  it('says none when there is none', async () => {
    const { dir, cleanup } = tempDir('rollback-limits-none');
    const { plan } = await planTo(fakeGraph(), join(dir, 'never.plan'), { defaultMethod: 'never' });
    cleanup();
    expect(plan.summary.rollback_cannot_undo).toEqual({ changes: 0, default_methods: 0, phones: 0 });
    expect(renderPlanTerminal(plan, { color: false, showPhoneNumbers: false })).toContain('\n  0 changes a rollback cannot undo\n');
  });
});
