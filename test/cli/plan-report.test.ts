import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  let plan: Plan;
  const file = (name: string) => join(dir, name);
  const read = (name: string) => readFileSync(file(name), 'utf8');

  beforeAll(async () => {
    emu = await startEmulator({ port: 0, throttle: 'off' });
    dir = mkdtempSync(join(tmpdir(), 'plan-report-'));
    let againMd: CliResult;
    [json, text, shown, again, againMd] = await Promise.all([
      runPlan(emu.url, [...CONTOSO, '--format', 'json', '--report', file('a.html'), '--out', file('contoso.plan')]),
      runPlan(emu.url, [...CONTOSO, '--report', file('a.md')]),
      runPlan(emu.url, [...CONTOSO, '--show-phone-numbers', '--report', file('shown.html')]),
      // The same plans again, for determinism; the extension (any case) picks the format.
      runPlan(emu.url, [...CONTOSO, '--report', file('b.html')]),
      runPlan(emu.url, [...CONTOSO, '--report', file('b.MD')]),
    ]);
    for (const r of [json, text, shown, again, againMd]) {
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
    expect(json.stderr).toContain(`Mapping report written to ${file('a.html')}`);
  });

  it('masks phone numbers in the terminal and the reports unless --show-phone-numbers', () => {
    const numbers = [...new Set(plan.user_changes.flatMap((c) => [c.before, c.after]).flatMap((v) => (v && typeof v.phoneNumber === 'string' ? [v.phoneNumber] : [])))];
    expect(numbers).toContain('+1 4255550132');
    const masked = [text.stdout, read('a.html'), read('a.md')];
    for (const n of numbers) {
      const national = n.replace(/^\+\d+ /, '').replace(/x\d+$/, '');
      for (const out of masked) expect(out).not.toContain(national);
    }
    for (const out of masked) {
      expect(out).toContain('+1 425***0132');
      expect(out).toContain('+1 425***0103x***');
    }
    // Shown on purpose: the full numbers, extensions included.
    for (const out of [shown.stdout, read('shown.html')]) {
      expect(out).toContain('+1 4255550999');
      expect(out).toContain('+1 4255550132');
      expect(out).toContain('+1 4255550103x1234');
      expect(out).not.toContain('425***');
    }
    // The JSON plan and the saved plan hold the numbers: apply needs them.
    expect(json.stdout).toContain('"phoneNumber": "+1 4255550132"');
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

  it("holds the auditors' tables: summary, settings, every user change with rule and reason, findings, campaign, rules", () => {
    const md = read('a.md');
    const s = plan.summary;
    expect(md).toContain(`| Tenant | ${plan.tenant.id} |`);
    expect(md).toContain(`| Source fingerprint | ${plan.source_fingerprint} |`);
    expect(md).toContain(`| Changes | ${s.create} to add, ${s.update} to change, ${s.delete} to destroy, ${s.no_op} unchanged |`);
    expect(md).toContain(`## Settings mapping (${plan.policy_changes.length + plan.findings.filter((f) => f.rule === 'POL-MANUAL').length})`);
    expect(md).toContain(`## User changes (${plan.user_changes.length})`);
    expect(md).toContain(`## Findings (${plan.findings.length})`);
    expect(md).toContain(`## Registration campaign (${plan.registration_campaign.length})`);
    expect(md).toContain('| igor@contoso.com | phoneMethods/mobile | update | {phoneNumber: +1 425***0999, phoneType: "mobile"} | {phoneNumber: +1 425***0132, phoneType: "mobile"} | PHONE-PRIMARY-MOBILE | primary phone has no extension |');
    expect(md).toContain('| userPortal.allowOneTimeBypass: true, oneTimeBypassSeconds: 300 | authenticationMethodConfigurations/TemporaryAccessPass.isUsableOnce | false | true | POL-TAP | a bypass is one-time |');
    // One table row per user change, and every rule used is explained.
    const userRows = md.split('## User changes')[1]!.split('## Findings')[0]!.split('\n').filter((l) => /^\| [^-|]/.test(l) && !l.startsWith('| User |'));
    expect(userRows).toHaveLength(plan.user_changes.length);
    const rules = new Set([...plan.policy_changes, ...plan.user_changes, ...plan.findings].map((x) => x.rule));
    const rulesSection = md.split('## Rules applied')[1]!;
    for (const r of rules) expect(rulesSection).toContain(`| ${r} |`);

    const html = read('a.html');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain(`<h2>User changes (${plan.user_changes.length})</h2>`);
    expect((html.match(/<tr class="(create|update|delete|no-op)">/g) ?? []).length).toBe(plan.user_changes.length);
    // Self-contained: nothing is fetched from anywhere.
    expect(html).not.toMatch(/<(script|link|img|iframe)\b/i);
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import|url\(/i);
  });
});
