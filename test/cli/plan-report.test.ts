import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import type { Plan } from '../../src/plan/plan-model.js';
import { ROOT, type CliResult } from '../helpers/run-cli.js';
import { base32, CONTOSO, contosoSecret, contosoSecretStrings, contosoTenant, leakedSecrets, runPlan } from '../plan/helpers.js';

/**
 * Secrets, phone numbers and determinism of everything a plan writes: stdout, stderr, the JSON
 * plan, the saved plan file and the auditors' HTML and Markdown reports.
 */
describe('mfa-migrate plan: outputs and reports', () => {
  let emu: RunningEmulator;
  let dir: string;
  const secrets = contosoSecretStrings();
  let json: CliResult;
  let text: CliResult;
  let shown: CliResult;
  let again: CliResult;
  let masked: CliResult;
  let plan: Plan;
  const file = (name: string) => join(dir, name);
  const read = (name: string) => readFileSync(file(name), 'utf8');

  beforeAll(async () => {
    emu = await startEmulator({ port: 0, throttle: 'off' });
    dir = mkdtempSync(join(tmpdir(), 'plan-report-'));
    let againMd: CliResult;
    [json, text, shown, again, againMd, masked] = await Promise.all([
      runPlan(emu.url, [...CONTOSO, '--format', 'json', '--show-phone-numbers', '--out', file('contoso.plan')]),
      runPlan(emu.url, [...CONTOSO, '--report', file('a.md')]),
      runPlan(emu.url, [...CONTOSO, '--show-phone-numbers', '--report', file('shown.html')]),
      // The same plans again, for determinism; the extension (any case) picks the format.
      runPlan(emu.url, [...CONTOSO, '--report', file('b.html')]),
      runPlan(emu.url, [...CONTOSO, '--report', file('b.MD')]),
      runPlan(emu.url, [...CONTOSO, '--format', 'json', '--report', file('a.html')]),
    ]);
    for (const r of [json, text, shown, again, againMd, masked]) {
      if (r.code !== 0) throw new Error(`plan exited ${r.code}: ${r.stderr}`);
    }
    plan = JSON.parse(json.stdout) as Plan;
  });
  afterAll(async () => {
    await emu?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('computes the Contoso secrets by the CASES.md rule (checked against the fixtures) and finds them where they are', () => {
    // Hana's token is in the tenant file with its Base32 secret; diana's is in the Entra upload CSV.
    const hana = (contosoTenant() as unknown as { hardwareOathDevices: { serialNumber: string; secretKey: string }[] }).hardwareOathDevices.find((d) => d.serialNumber === '20010011')!;
    expect(hana.secretKey).toBe(base32(contosoSecret('20010011', 20)));
    expect(readFileSync(join(ROOT, 'fixtures/contoso/tokens/entra-upload.csv'), 'utf8')).toContain(base32(contosoSecret('20010007', 20)));
    expect(leakedSecrets(readFileSync(join(ROOT, 'fixtures/contoso/tokens/generic-seeds.csv'), 'utf8'), secrets).length).toBeGreaterThanOrEqual(3);
    expect(leakedSecrets(readFileSync(join(ROOT, 'fixtures/contoso/tokens/seeds.pskc'), 'utf8'), secrets).length).toBeGreaterThanOrEqual(8);
  });

  it('never shows a seed, a device secret, the PSKC key or password in any output', () => {
    const outputs: [string, string][] = [
      ['json stdout', json.stdout],
      ['json stderr', json.stderr],
      ['masked json stdout', masked.stdout],
      ['text stdout', text.stdout],
      ['text stderr', text.stderr],
      ['shown stdout', shown.stdout],
      ['saved plan', read('contoso.plan')],
      ['HTML report', read('a.html')],
      ['Markdown report', read('a.md')],
      ['HTML report with numbers', read('shown.html')],
    ];
    for (const [name, content] of outputs) expect(leakedSecrets(content, secrets), name).toEqual([]);
    // The plan carries fingerprints instead.
    expect(read('contoso.plan')).toMatch(/"secretFingerprint": ?"[0-9a-f]{16}"/);
  });

  it('writes the saved plan and the reports with mode 0600', () => {
    for (const name of ['contoso.plan', 'a.html', 'a.md', 'shown.html']) expect(statSync(file(name)).mode & 0o777, name).toBe(0o600);
    expect(masked.stderr).toContain(`Mapping report written to ${file('a.html')}`);
  });

  it('masks phone numbers in the terminal and the reports unless --show-phone-numbers', () => {
    const numbers = [...new Set(plan.user_changes.flatMap((c) => [c.before, c.after]).flatMap((v) => (v && typeof v.phoneNumber === 'string' ? [v.phoneNumber] : [])))];
    expect(numbers).toContain('+1 4255550132');
    const masked = [text.stdout, read('a.html'), read('a.md')];
    for (const n of numbers) {
      const national = n.replace(/^\+\d+ /, '').replace(/x\d+$/, '');
      for (const out of masked) expect(out).not.toContain(national);
    }
    // Markdown shows the same mask with its stars escaped (they would be emphasis).
    for (const out of [...masked.slice(0, 2), read('a.md').replace(/\\\*/g, '*')]) {
      expect(out).toContain('+1 ********32');
      expect(out).toContain('+1 ********03x***');
    }
    // Shown on purpose: the full numbers, extensions included.
    for (const out of [shown.stdout, read('shown.html')]) {
      expect(out).toContain('+1 4255550999');
      expect(out).toContain('+1 4255550132');
      expect(out).toContain('+1 4255550103x1234');
      expect(out).not.toContain('********');
    }
    // Each report says at its head which it is (an auditor found no mark on one with numbers in full).
    expect(read('shown.html')).toContain('SHOWN IN FULL (--show-phone-numbers): handle this report as personal data');
    expect(read('a.html')).toContain('masked (--show-phone-numbers shows them)');
    expect(read('a.md')).toContain('masked (--show-phone-numbers shows them)');
    // Asked for, the JSON plan shows them; the saved plan always holds them (apply needs them).
    expect(json.stdout).toContain('"phoneNumber": "+1 4255550132"');
    expect(read('contoso.plan')).toContain('"phoneNumber":"+1 4255550132"');
  });

  it('masks phone numbers in plan --format json unless --show-phone-numbers (issue 17 item 16)', () => {
    expect(masked.code).toBe(0);
    const maskedPlan = JSON.parse(masked.stdout) as Plan;
    const numbers = plan.user_changes.flatMap((c) => [c.before, c.after]).flatMap((v) => (v && typeof v.phoneNumber === 'string' ? [v.phoneNumber] : []));
    expect(numbers.length).toBeGreaterThan(30);
    for (const n of numbers) expect(masked.stdout).not.toContain(n.replace(/^\+\d+ /, '').replace(/x\d+$/, ''));
    // The same plan otherwise: only the numbers differ, each masked to its country code and last two digits.
    const igor = (p: Plan) => p.user_changes.find((c) => c.user === 'igor@contoso.com' && c.resource === 'phoneMethods/mobile')!;
    expect(igor(maskedPlan).before).toEqual({ phoneNumber: '+1 ********99', phoneType: 'mobile' });
    expect(igor(maskedPlan).after).toEqual({ phoneNumber: '+1 ********32', phoneType: 'mobile' });
    expect(maskedPlan.user_changes.map((c) => [c.user, c.resource, c.action])).toEqual(plan.user_changes.map((c) => [c.user, c.resource, c.action]));
  });

  it('renders the same report byte for byte apart from its timestamp', () => {
    const stamp = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g;
    const [a, b] = [read('a.html'), read('b.html')];
    expect(a.match(stamp)).toHaveLength(1);
    expect(a).not.toBe(b); // the timestamps differ...
    expect(a.replace(stamp, 'T')).toBe(b.replace(stamp, 'T')); // ...and nothing else
    const [ma, mb] = [read('a.md'), read('b.MD')];
    expect(ma.match(stamp)).toHaveLength(1);
    expect(ma.replace(stamp, 'T')).toBe(mb.replace(stamp, 'T'));
  });

  it('carries a header to sign off: tenant name and id, Graph (a loopback one marked as a rehearsal), who, tool, plan hash, inputs, options', () => {
    const md = read('a.md');
    expect(md).toContain(`| Tenant | ${plan.tenant.displayName} (${plan.tenant.id}) |`);
    expect(md).toMatch(/\| Graph \| http\\:\/\/127\.0\.0\.1:\d+ \(emulator \/ rehearsal\) \|/);
    expect(md).toContain(`| Signed in as | ${plan.identity!.upn} |`);
    expect(md).toContain(`| Tool version | mfa-migrate ${plan.tool_version} |`);
    expect(md).toMatch(/\| Plan created \| \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \|/);
    // Without --out there is no file to hash, and the report says so; with --out (below, show) it is the file's.
    expect(md).toMatch(/\| Plan SHA-256 \| not saved/);
    expect(md).toContain(`| Source fingerprint | ${plan.source_fingerprint} |`);
    for (const f of plan.inputs!) expect(md).toContain(`| ${f.role} | ${f.path} | ${f.sha256} | ${f.bytes} |`);
    for (const who of ['Prepared by', 'Reviewed by', 'Approved by']) expect(md).toContain(`| ${who} | | | |`);
    const html = read('a.html');
    expect(html).toContain(`<span class="rehearsal">emulator / rehearsal</span>`);
    expect(html).toContain(`<tr><th>Tenant</th><td class="mono">${plan.tenant.displayName} (${plan.tenant.id})</td></tr>`);
    expect(html).toContain('<table class="signoff">');
  });

  it('lists every in-scope user exactly once (zoe too), with the MFA Server record beside the cloud state, no-usable-method users first', () => {
    const md = read('a.md');
    const html = read('a.html');
    const users = plan.users.map((u) => u.user);
    expect(users).toContain('zoe@contoso.com');
    for (const u of users) {
      const escaped = u.replace(/[\\`*_[\]|~]/g, (c) => `\\${c}`);
      expect(md.split(`\n### <a id="user-`).filter((section) => section.split('\n')[0]!.includes(`</a>${escaped}:`)), u).toHaveLength(1);
      expect(html.match(new RegExp(`class="entry[^"]*" id="user-[^"]+" data-user="${u.toLowerCase().replace(/[.]/g, '\\.')}"`, 'g')) ?? [], u).toHaveLength(1);
    }
    expect(html.match(/class="entry[^"]*" id="user-/g)).toHaveLength(users.length);
    expect(md).toContain(`## Users (${users.length})`);
    // Unchanged users are listed as such (collapsed in HTML); users left with no usable method come first.
    const unchanged = plan.users.find((u) => u.status === 'unchanged' && (u.methods_after?.length ?? 0) > 0)!;
    expect(html).toMatch(new RegExp(`<details class="entry" id="user-[^"]+" data-user="${unchanged.user.toLowerCase().replace(/[.]/g, '\\.')}"[^>]*><summary>[^<]+<span class="badge unchanged">already matches</span>`));
    const none = plan.users.filter((u) => u.methods_after?.length === 0);
    expect(none.length).toBeGreaterThan(0);
    const first = md.split(`## Users left with no usable method (${none.length})`)[1]!.split('## Settings mapping')[0]!;
    for (const u of none) expect(first).toContain(`#user-${u.user.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`);
    expect(md.indexOf('## Users left with no usable method')).toBeLessThan(md.indexOf('## Users ('));
    // The German number: the cell as exported beside Entra's form (masked here, digit for digit).
    const aaron = md.split('</a>aaron@contoso.com:')[1]!.split('\n### ')[0]!;
    expect(aaron).toContain('| Primary phone | country code 49 · \\*\\*\\* \\*\\*\\*\\*\\*67 · no extension | +49 \\*\\*\\*\\*\\*\\*\\*67 |');
    expect(read('shown.html')).toContain('country code 49 · 030 1234567 · no extension<br>→ +49 301234567');
  });

  it('counts by one rule in the terminal, the JSON and the report, and the counts add up', () => {
    const s = plan.summary;
    // Unchanged users left with nothing (judy, zoe) have nothing to migrate: they do not "already match".
    const nothing = plan.users.filter((u) => u.status === 'unchanged' && u.methods_after?.length === 0).length;
    expect(nothing).toBe(2);
    const lines = [
      `Plan: ${s.create} to add, ${s.update} to change, ${s.delete} to destroy, ${s.no_op} unchanged.`,
      `${s.user_changes!.total} user resource(s): ${s.user_changes!.create} to add, ${s.user_changes!.update} to change, ${s.user_changes!.delete} to destroy, ${s.user_changes!.no_op} unchanged`,
      `${s.policy!.targets} policy setting(s) to change (${s.policy!.changes} properties), counted apart from user changes`,
      `${s.users} user(s) in scope: ${s.user_status!.changes} with changes, ${s.user_status!.unchanged - nothing} already match, ${nothing} with nothing to migrate, ${s.user_status!.not_in_tenant} not in the tenant, ${s.user_status!.disabled} disabled; ${s.user_status!.no_usable_method} left with no usable method`,
    ];
    for (const l of lines) {
      expect(text.stdout).toContain(l);
      expect(read('a.md')).toContain(`- ${l}`);
      expect(read('a.html')).toContain(`<li>${l}</li>`);
    }
    expect(s.user_changes!.create + s.user_changes!.update + s.user_changes!.delete + s.user_changes!.no_op).toBe(plan.user_changes.length);
    expect(s.user_status!.changes + s.user_status!.unchanged + s.user_status!.not_in_tenant + s.user_status!.disabled).toBe(plan.users.length);
    expect(s.create + s.update + s.delete + s.no_op).toBe(plan.user_changes.length + s.policy!.targets);
  });

  it('links every rule id to the glossary, and lists settings, findings and the campaign', () => {
    const md = read('a.md');
    const html = read('a.html');
    const rules = new Set([...plan.policy_changes, ...plan.user_changes, ...plan.findings].map((x) => x.rule));
    for (const r of rules) {
      expect(html).toContain(`<a class="mono" href="#rule-${r.toLowerCase()}">${r}</a>`);
      expect(html).toContain(`<tr id="rule-${r.toLowerCase()}"><td class="mono">${r}</td><td>yes</td>`);
      expect(md).toContain(`[${r}](#rule-${r.toLowerCase()})`);
      expect(md).toContain(`| <a id="rule-${r.toLowerCase()}"></a>${r} | yes |`);
    }
    expect(md).toContain(`## Settings mapping (${plan.policy_changes.length + plan.findings.filter((f) => f.rule === 'POL-MANUAL').length})`);
    expect(md).toContain(`## Registration campaign (${plan.registration_campaign.length})`);
    // Every change row once: each user's changes in their section.
    const changeRows = md.split('\n').filter((l) => /^\| (phoneMethods|emailMethods|hardwareOathMethods|signInPreferences)/.test(l));
    expect(changeRows).toHaveLength(plan.user_changes.length);
    // Every finding once: per user, or among the other findings.
    const findingRows = md.split('## Settings mapping')[1]!.split('\n').filter((l) => /^\| (error|warning|info) \|/.test(l));
    expect(findingRows).toHaveLength(plan.findings.filter((f) => f.rule !== 'POL-MANUAL').length);
  });

  it('is one self-contained page whose Content-Security-Policy allows only its own inline style and script, by hash', () => {
    const html = read('a.html');
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)![1]!;
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
    const hash = (t: string) => `'sha256-${createHash('sha256').update(t).digest('base64')}'`;
    expect(csp.split('; ')).toEqual([`default-src 'none'`, `style-src ${hash(style)}`, `script-src ${hash(script)}`, `img-src 'none'`, `base-uri 'none'`, `form-action 'none'`]);
    expect(html.match(/<script\b/g)).toHaveLength(1);
    expect(html.match(/<style\b/g)).toHaveLength(1);
    expect(html).not.toMatch(/\sstyle="|\son[a-z]+="/i);
    expect(html).not.toMatch(/<(link|img|iframe|object|embed)\b/i);
    // Links go to anchors of the page only.
    expect(html).not.toMatch(/\b(src|href)\s*=\s*(?!["']?#)/i);
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?[^"'#\s>]/i);
    expect(html).not.toMatch(/@import|url\(/i);
    expect(html).toContain('<input type="search" id="search"');
  });
});
