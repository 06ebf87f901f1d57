import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPlanSources } from '../../src/app/plan-check.js';
import { showPlan } from '../../src/app/show.js';
import { SavedPlan } from '../../src/plan/plan-file.js';
import { planJsonChunks } from '../../src/plan/plan-json.js';
import type { Plan } from '../../src/plan/plan-model.js';
import { firstDifference } from '../../src/plan/rederive.js';
import { renderReportHtml, renderReportMarkdown } from '../helpers/report-text.js';
import { renderPlanTerminal } from '../../src/plan/render-terminal.js';
import { fakeGraph } from '../helpers/graph.js';
import { planTo, testDir } from '../helpers/migration.js';
import { contosoTenant, type ContosoTenant } from './helpers.js';

/**
 * A forced federation over a large tenant: 2,284 tenant users of contoso.com outside the export have
 * no cloud MFA method (admin@, helpdesk@ and 2,282 more). The federation-forced finding names the
 * first 20; the plan JSON, the saved plan and the reports must hold every one, for an approver to see
 * each user the step leaves with nothing to sign in with (plan-format.md: they hold everything).
 */

const FINAL = { rolloutGroups: ['MFA Staged Rollout'], federatedMfa: 'reject' as const, forceFederation: true };
const ADDED = 2282;
/** A name whose characters both report formats escape (`'` in HTML, `_` in Markdown). */
const ODD = "o'brien_x@contoso.com";

function largeTenant(): { tenant: ContosoTenant; methodless: string[] } {
  const tenant = contosoTenant();
  const added = Array.from({ length: ADDED - 1 }, (_, i) => `outsider${String(i).padStart(4, '0')}@contoso.com`).concat(ODD);
  added.forEach((upn, i) => tenant.users.push({ id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, userPrincipalName: upn, displayName: upn } as ContosoTenant['users'][number]));
  return { tenant, methodless: ['admin@contoso.com', 'helpdesk@contoso.com', ...added].sort() };
}

const rederived = async (file: string) => {
  const saved = await SavedPlan.open(file);
  return (await firstDifference(saved, await readPlanSources(saved)))?.where;
};

describe('a forced federation lists every tenant user outside the export it moves with no cloud method', () => {
  it('in the plan JSON, the saved plan, show and both reports; the finding and the terminal keep their cap', async () => {
    const t = testDir('fed-forced-list');
    const { tenant, methodless } = largeTenant();
    expect(methodless).toHaveLength(2284);
    const file = join(t.dir, 'final.plan');
    const { plan } = await planTo(fakeGraph({ tenant }), file, FINAL);

    // The JSON (1.9 on): every one, sorted, next to outside_export.
    const json = JSON.parse([...planJsonChunks(plan, { showPhoneNumbers: false })].join('')) as Plan;
    expect(json.format_version).toBe('1.10');
    const fed = json.cutover!.federation.find((f) => f.domain === 'contoso.com')!;
    expect(fed.outside_without_method).toEqual(methodless);
    // (1.10: the users of the domain in scope not switched, whom the same forced step moves, follow.)
    expect(Object.keys(fed).slice(-3)).toEqual(['outside_export', 'outside_without_method', 'unswitched_users']);

    // The finding names the first 20 and says where the rest are; the terminal shows it so.
    const forced = plan.findings.filter((f) => f.code === 'federation-forced' && f.message.includes('outside the export')).map((f) => f.message);
    expect(forced).toEqual([
      `contoso.com: --force-federation: 2284 tenant user(s) of the domain outside the export have no cloud MFA method they can use and will meet Entra MFA when it applies, with nothing to sign in with: ${methodless.slice(0, 20).join(', ')} and 2264 more (every one is in plan --format json's cutover.federation[].outside_without_method and in the plan report)`,
    ]);
    expect(renderPlanTerminal(plan, { color: false, showPhoneNumbers: false })).not.toContain(methodless[20]!);

    // The saved plan (2.19 on) records them in its header's cutover; it plans again as it was made, and show prints the same JSON.
    const saved = await SavedPlan.open(file);
    expect(saved.header.format_version).toBe('2.21');
    expect(saved.header.cutover!.federation.find((f) => f.domain === 'contoso.com')!.outside_without_method).toEqual(methodless);
    expect(await rederived(file)).toBeUndefined();
    const shown = await showPlan(file);
    expect(shown.cutover).toEqual(plan.cutover);

    // Both reports list every one, escaped as every other value.
    const md = renderReportMarkdown(shown, { showPhoneNumbers: false });
    expect(md).toContain('\n### Tenant users of contoso.com outside the export moved to Entra MFA with no cloud method (2284)\n');
    expect(md).toContain('; 2284 of them with no cloud MFA method they can use (--force-federation), every one listed below |');
    // Up to the next section: (1.10) judy and zoe, in scope and not switched, are listed under a heading of their own.
    const mdStart = md.indexOf('\n### Tenant users of contoso.com outside the export');
    const mdSection = md.slice(mdStart, md.indexOf('\n### ', mdStart + 1));
    expect(md).toContain('\n### Users of contoso.com in scope not switched (2)\n');
    const mdList = mdSection.split('\n').filter((l) => l.startsWith('- '));
    expect(mdList).toEqual(methodless.map((u) => `- ${u.replace('_', '\\_')}`));
    const html = renderReportHtml(shown, { showPhoneNumbers: false });
    expect(html).toContain('<h3>Tenant users of contoso.com outside the export moved to Entra MFA with no cloud method (2284)</h3>');
    const htmlStart = html.indexOf('<h3>Tenant users of contoso.com outside the export');
    const htmlSection = html.slice(htmlStart, html.indexOf('<h3>', htmlStart + 1));
    const htmlList = [...htmlSection.matchAll(/<li>([^<]*)<\/li>/g)].map((m) => m[1]);
    expect(htmlList).toEqual(methodless.map((u) => u.replace("'", '&#39;')));
  }, 120_000);

  it('a plan with none leaves the field out; a 2.18 plan (without it) plans again and shows as JSON 1.8; a 2.19 one with it taken out does not', async () => {
    const t = testDir('fed-forced-list-old');
    const { tenant } = largeTenant();
    tenant.users.splice(tenant.users.length - ADDED, ADDED);
    const file = join(t.dir, 'final.plan');
    const { plan } = await planTo(fakeGraph({ tenant }), file, FINAL);
    const fed = plan.cutover!.federation.find((f) => f.domain === 'contoso.com')!;
    expect(fed.outside_without_method).toEqual(['admin@contoso.com', 'helpdesk@contoso.com']);
    // A 2.18 file recorded no such list: read and planned again without it, shown in its own JSON format.
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const header = JSON.parse(lines[0]!) as { format_version: string; cutover: { federation: { outside_without_method?: string[]; unchecked_names?: string[]; out_of_scope_users?: string[]; unswitched_users?: string[] }[] } };
    // Nor (2.20) the other lists of the forced step.
    for (const f of header.cutover.federation) {
      delete f.outside_without_method;
      delete f.unchecked_names;
      delete f.out_of_scope_users;
      delete f.unswitched_users;
    }
    const old = join(t.dir, 'v2.18.plan');
    writeFileSync(old, `${[JSON.stringify({ ...header, format_version: '2.18' }), ...lines.slice(1)].join('\n')}\n`);
    expect(await rederived(old)).toBeUndefined();
    const shown = await showPlan(old);
    expect(shown.format_version).toBe('1.8');
    expect(shown.cutover!.federation.find((f) => f.domain === 'contoso.com')!.outside_without_method).toBeUndefined();
    expect(renderReportMarkdown(shown, { showPhoneNumbers: false })).not.toContain('outside the export moved to Entra MFA with no cloud method');
    // A file of this format (2.19 on) with the list taken out is not the plan its sources give.
    const edited = join(t.dir, 'edited.plan');
    writeFileSync(edited, `${[JSON.stringify(header), ...lines.slice(1)].join('\n')}\n`);
    expect(await rederived(edited)).toBe("the plan's cutover is not what planning gives");
    // No user outside without a method: no field.
    const { plan: none } = await planTo(fakeGraph({ tenant }), join(t.dir, 'plain.plan'), { rolloutGroups: ['MFA Staged Rollout'] });
    expect(none.cutover!.federation.every((f) => !('outside_without_method' in f))).toBe(true);
  });
});
