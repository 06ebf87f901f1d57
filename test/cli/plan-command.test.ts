import { SavedPlan } from '../../src/plan/plan-file.js';
import { runMain } from '../helpers/run-main.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import type { Plan, UserChange } from '../../src/plan/plan-model.js';
import { ROOT, type CliResult } from '../helpers/run-cli.js';
import { spawnCli } from '../helpers/e2e.js';
import { CONTOSO, CONTOSO_SEEDS, contosoSecret, contosoTenant, operations, planJson, runPlan, userId, writesIn, type ContosoTenant } from '../plan/helpers.js';

const tenant: ContosoTenant = contosoTenant();
const exportUsers = readFileSync(join(ROOT, 'fixtures/contoso/users.csv'), 'utf8').trim().split('\n').length - 1;

const changesOf = (plan: Plan, user: string) => plan.user_changes.filter((c) => c.user === user);
const change = (plan: Plan, user: string, resource: string): UserChange | undefined => plan.user_changes.find((c) => c.user === user && c.resource === resource);
const findingsOf = (plan: Plan, user: string) => plan.findings.filter((f) => f.user === user).map((f) => `${f.severity} ${f.code} ${f.rule}`);
const fingerprint = (secret: Buffer) => createHash('sha256').update(secret).digest('hex').slice(0, 16);
const phone = (phoneNumber: string, phoneType: string) => ({ phoneNumber, phoneType });
const preference = (m: string | null) => ({ userPreferredMethodForSecondaryAuthentication: m });

describe('mfa-migrate plan: the Contoso sample against the emulator over HTTP', () => {
  let emu: RunningEmulator;
  let before: Record<string, unknown>;
  let plan: Plan;
  let json: CliResult;
  let text: CliResult;

  beforeAll(async () => {
    emu = await startEmulator({ port: 0, throttle: 'off' });
    before = emu.snapshot();
    // Both runs at once: the suite stays quick on a busy two-core machine.
    [{ plan, result: json }, text] = await Promise.all([planJson(emu.url), runPlan(emu.url, CONTOSO)]);
  });
  afterAll(async () => {
    await emu?.stop();
  });

  it('prints the plan format of docs/plan-format.md, tied to the export and to the tenant read through GET /organization', () => {
    expect(json.code).toBe(0);
    expect(Object.keys(plan)).toEqual(['format_version', 'created', 'source_fingerprint', 'tenant', 'graph', 'identity', 'tool_version', 'inputs', 'options', 'summary', 'policy_changes', 'cutover_changes', 'user_changes', 'not_applicable', 'users', 'findings', 'registration_campaign', 'cutover']);
    expect(plan.format_version).toBe('1.10');
    // The sample signs in as admin@contoso.com, no user of its export: nothing is left to another sign-in.
    expect(plan.identity).toEqual({ appId: expect.any(String), upn: 'admin@contoso.com', objectId: expect.any(String) });
    expect(plan.not_applicable).toEqual([]);
    expect(plan.graph).toBe(emu.url);
    expect(plan.users.map((u) => u.user).sort()).toEqual([...new Set(plan.users.map((u) => u.user))].sort());
    expect(Math.abs(Date.parse(plan.created) - Date.now())).toBeLessThan(120_000);
    expect(plan.source_fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(plan.tenant).toEqual({ id: tenant.tenant.id, displayName: expect.any(String) });
    expect(operations(emu.requests()).some((r) => r.method === 'GET' && r.path.startsWith('/v1.0/organization'))).toBe(true);
    expect(plan.options).toEqual({
      include_email: false,
      default_method: 'if-unset',
      prune: false,
      target_group: { id: 'all_users', displayName: 'all users' },
      rollout_groups: [],
      federated_mfa: null,
      force_federation: false,
      campaign_group: null,
      scope_group: null,
      scope_users: null,
      match_by: ['upn', 'on-premises'],
    });
    // No cutover asked for: nothing to switch, but the SMS/voice retirement is still counted.
    expect(plan.cutover_changes).toEqual([]);
    expect(plan.cutover!.rollout_groups).toEqual([]);
    for (const c of plan.user_changes) {
      expect(Object.keys(c)).toEqual(['user', 'user_id', 'resource', 'action', 'before', 'after', 'rule', 'because']);
      expect(c.user_id).toBe(userId(tenant, c.user));
      expect(c.resource).toMatch(/^(phoneMethods\/(mobile|alternateMobile|office)|emailMethods|hardwareOathMethods\/.+|signInPreferences)$/);
      expect(c.because.length).toBeGreaterThan(0);
    }
    for (const f of plan.findings) expect(['error', 'warning', 'info']).toContain(f.severity);
  });

  it('has summary counts that agree with the arrays', () => {
    const count = (a: UserChange['action']) => plan.user_changes.filter((c) => c.action === a).length;
    const policyTargets = new Set(plan.policy_changes.map((c) => c.target)).size;
    const severities = (s: string) => plan.findings.filter((f) => f.severity === s).length;
    // Counted here by hand: defaults set where the user had none, and the phones created that they use.
    const firstDefaults = plan.user_changes.filter((c) => c.resource === 'signInPreferences' && c.action === 'update' && c.before?.userPreferredMethodForSecondaryAuthentication === null);
    const behind: Record<string, string> = { sms: 'mobile', voiceMobile: 'mobile', voiceAlternateMobile: 'alternateMobile', voiceOffice: 'office' };
    const keptPhones = plan.user_changes.filter((c) => c.action === 'create' && firstDefaults.some((d) => d.user_id === c.user_id && c.resource === `phoneMethods/${behind[String(d.after?.userPreferredMethodForSecondaryAuthentication)]}`));
    expect(firstDefaults.length).toBeGreaterThan(0);
    expect(keptPhones.length).toBeGreaterThan(0);
    expect(plan.summary).toEqual({
      phone_only_after_retirement: plan.findings.filter((f) => f.code === 'phone-only-after-retirement').length,
      users: exportUsers,
      create: count('create'),
      update: count('update') + policyTargets,
      delete: count('delete'),
      no_op: count('no-op'),
      findings: { error: severities('error'), warning: severities('warning'), info: severities('info') },
      user_changes: { create: count('create'), update: count('update'), delete: count('delete'), no_op: count('no-op'), total: plan.user_changes.length },
      policy: { targets: policyTargets, changes: plan.policy_changes.length },
      cutover: { create: 0, update: 0 },
      user_status: expect.objectContaining({ changes: plan.users.filter((u) => u.status === 'changes').length }),
      rollback_cannot_undo: { changes: firstDefaults.length + keptPhones.length, default_methods: firstDefaults.length, phones: keptPhones.length },
    });
    // Sorted by severity, then user.
    const order = { error: 0, warning: 1, info: 2 };
    const keys = plan.findings.map((f) => [order[f.severity], f.user ?? ''] as const);
    for (let i = 1; i < keys.length; i++) {
      const [a, b] = [keys[i - 1]!, keys[i]!];
      expect(a[0] < b[0] || (a[0] === b[0] && a[1].localeCompare(b[1]) <= 0)).toBe(true);
    }
    expect(plan.summary.delete).toBe(0); // nothing is deleted without --prune
    expect(plan.summary.findings.error).toBe(0);
  });

  const SMS_ALL_USERS = (isUsableForSignIn: boolean) => ({ id: 'all_users', targetType: 'group', isRegistrationRequired: false, isUsableForSignIn });
  it('changes the authentication methods policy as the Contoso settings and users need, property by property', () => {
    const rows = plan.policy_changes.map((c) => [c.target, c.property, c.before, c.after, c.rule]);
    expect(rows).toEqual([
      ['authenticationMethodConfigurations/Voice', 'state', 'disabled', 'enabled', 'POL-VOICE'],
      ['authenticationMethodConfigurations/Voice', 'isOfficePhoneAllowed', false, true, 'POL-VOICE-OFFICE'],
      ['authenticationMethodConfigurations/Sms', 'state', 'disabled', 'enabled', 'POL-SMS'],
      // SMS turned on for MFA only: the default all_users target's sign-in goes off.
      ['authenticationMethodConfigurations/Sms', 'includeTargets', [SMS_ALL_USERS(true)], [SMS_ALL_USERS(false)], 'POL-SMS-SIGN-IN'],
      ['authenticationMethodConfigurations/HardwareOath', 'state', 'disabled', 'enabled', 'POL-HARDWARE-OATH'],
      ['authenticationMethodConfigurations/MicrosoftAuthenticator', 'isSoftwareOathEnabled', false, true, 'POL-AUTHENTICATOR-OTP'],
      ['authenticationMethodConfigurations/TemporaryAccessPass', 'state', 'disabled', 'enabled', 'POL-TAP'],
      ['authenticationMethodConfigurations/TemporaryAccessPass', 'minimumLifetimeInMinutes', 60, 10, 'POL-TAP'],
      ['authenticationMethodConfigurations/TemporaryAccessPass', 'defaultLifetimeInMinutes', 60, 10, 'POL-TAP'],
      ['authenticationMethodConfigurations/TemporaryAccessPass', 'isUsableOnce', false, true, 'POL-TAP'],
      ['registrationEnforcement/authenticationMethodsRegistrationCampaign', 'state', 'default', 'enabled', 'POL-CAMPAIGN'],
      ['reportSuspiciousActivitySettings', 'state', 'default', 'enabled', 'POL-REPORT-SUSPICIOUS'],
    ]);
    // carol, erin, frank and uma will have office phones.
    expect(plan.policy_changes.find((c) => c.property === 'isOfficePhoneAllowed')!.because).toBe('4 migrating user(s) will have an office phone');
    for (const c of plan.policy_changes) expect(c.setting.length).toBeGreaterThan(0);
  });

  it('creates what is missing, updates what differs and leaves alone what the tenant already has', () => {
    // alice: the tenant already has her mobile -> no-op; her default is unset -> voiceMobile.
    expect(change(plan, 'alice@contoso.com', 'phoneMethods/mobile')).toMatchObject({ action: 'no-op', before: phone('+1 4255550101', 'mobile'), after: phone('+1 4255550101', 'mobile'), rule: 'PHONE-PRIMARY-MOBILE' });
    expect(change(plan, 'alice@contoso.com', 'signInPreferences')).toMatchObject({ action: 'update', before: preference(null), after: preference('voiceMobile'), rule: 'DEFAULT-FROM-SERVER' });
    // igor: a different mobile in the tenant -> updated in place.
    expect(change(plan, 'igor@contoso.com', 'phoneMethods/mobile')).toMatchObject({ action: 'update', before: phone('+1 4255550999', 'mobile'), after: phone('+1 4255550132', 'mobile'), rule: 'PHONE-PRIMARY-MOBILE' });
    // hana: token 20010011 assigned to her and activated -> no-op, never created again.
    const hana = userId(tenant, 'hana@contoso.com');
    const device = tenant.hardwareOathDevices.find((d) => d.serialNumber === '20010011')!;
    const hanaToken = { id: device.id, serialNumber: '20010011', status: 'activated', assignedTo: hana };
    expect(change(plan, 'hana@contoso.com', 'hardwareOathMethods/20010011')).toMatchObject({ action: 'no-op', before: hanaToken, after: hanaToken, rule: 'OATH-EXISTS' });
    expect(changesOf(plan, 'hana@contoso.com').filter((c) => c.resource.startsWith('hardwareOathMethods/'))).toHaveLength(1);
    // quinn: same mobile, a cloud-only alternate (kept), and an sms default already set (kept).
    expect(change(plan, 'quinn@contoso.com', 'phoneMethods/mobile')).toMatchObject({ action: 'no-op', rule: 'PHONE-PRIMARY-MOBILE' });
    expect(change(plan, 'quinn@contoso.com', 'phoneMethods/alternateMobile')).toMatchObject({ action: 'no-op', before: phone('+1 4255550940', 'alternateMobile'), rule: 'PHONE-KEEP-CLOUD' });
    expect(change(plan, 'quinn@contoso.com', 'signInPreferences')).toMatchObject({ action: 'no-op', before: preference('sms'), after: preference('sms'), rule: 'DEFAULT-IF-UNSET' });
    // bob: nothing in the tenant -> both phones created, mobile first.
    expect(changesOf(plan, 'bob@contoso.com').map((c) => [c.resource, c.action, c.after, c.rule])).toEqual([
      ['phoneMethods/mobile', 'create', phone('+1 4255550102', 'mobile'), 'PHONE-PRIMARY-MOBILE'],
      ['phoneMethods/alternateMobile', 'create', phone('+1 2065550102', 'alternateMobile'), 'PHONE-BACKUP-ALTERNATE'],
      ['signInPreferences', 'update', preference('sms'), 'DEFAULT-FROM-SERVER'],
    ]);
    for (const c of plan.user_changes.filter((x) => x.action === 'create')) expect(c.before).toBeNull();
    for (const c of plan.user_changes.filter((x) => x.action === 'no-op')) expect(c.after).toEqual(c.before);
  });

  it('maps phones by the migration utility rules (extensions, backups, national formats)', () => {
    const phones = (user: string) => changesOf(plan, user).filter((c) => c.resource.startsWith('phoneMethods/')).map((c) => [c.resource, (c.after as { phoneNumber: string }).phoneNumber, c.rule]);
    expect(phones('carol@contoso.com')).toEqual([['phoneMethods/office', '+1 4255550103x1234', 'PHONE-PRIMARY-OFFICE']]);
    expect(change(plan, 'carol@contoso.com', 'signInPreferences')!.after).toEqual(preference('voiceOffice'));
    expect(phones('dave@contoso.com')).toEqual([['phoneMethods/mobile', '+1 4255550104', 'PHONE-PRIMARY-SMS-DROP-EXT']]);
    expect(phones('erin@contoso.com')).toEqual([['phoneMethods/office', '+1 4255550105x12', 'PHONE-PRIMARY-OFFICE']]);
    expect(phones('frank@contoso.com')).toEqual([
      ['phoneMethods/mobile', '+1 4255550106', 'PHONE-PRIMARY-MOBILE'],
      ['phoneMethods/office', '+1 4255550166x560', 'PHONE-BACKUP-OFFICE'],
    ]);
    expect(phones('kai@contoso.com')).toEqual([['phoneMethods/mobile', '+1 4255550134', 'PHONE-BACKUP-AS-MOBILE']]);
    expect(phones('trent@contoso.com')).toEqual([['phoneMethods/mobile', '+44 2079460958', 'PHONE-PRIMARY-MOBILE']]);
    expect(phones('uma@contoso.com')).toEqual([['phoneMethods/office', '+1 4255550123x45', 'PHONE-PRIMARY-OFFICE']]);
    expect(phones('aaron@contoso.com')).toEqual([['phoneMethods/mobile', '+49 301234567', 'PHONE-PRIMARY-MOBILE']]);
    expect(phones('beth@contoso.com')).toEqual([['phoneMethods/mobile', '+91 9876543210', 'PHONE-PRIMARY-MOBILE']]);
    expect(phones('mario@contoso.com')).toEqual([['phoneMethods/mobile', '+1 2065550199', 'PHONE-PRIMARY-MOBILE']]);
    // The export's mixed-case UPN is matched case-insensitively and reported as written.
    expect(phones('Nora.Smith@Contoso.com')).toEqual([['phoneMethods/mobile', '+1 4255550137', 'PHONE-PRIMARY-MOBILE']]);
    expect(change(plan, 'Nora.Smith@Contoso.com', 'phoneMethods/mobile')!.user_id).toBe(userId(tenant, 'nora.smith@contoso.com'));
  });

  it('creates hardware OATH tokens with the seed fingerprint, never the seed', () => {
    const tokens = plan.user_changes.filter((c) => c.resource.startsWith('hardwareOathMethods/') && c.action === 'create');
    const expected: [string, string, number, 'hmacsha1' | 'hmacsha256', 30 | 60][] = [
      ['grace@contoso.com', '20010001', 20, 'hmacsha1', 30],
      ['heidi@contoso.com', '20010002', 32, 'hmacsha256', 60],
      ['chen@contoso.com', '20010006', 10, 'hmacsha1', 30],
      ['diana@contoso.com', '20010007', 20, 'hmacsha1', 60],
      ['edgar@contoso.com', '20010008', 32, 'hmacsha256', 30],
      ['fatima@contoso.com', '20010009', 20, 'hmacsha1', 30],
      ['george@contoso.com', '20010010', 20, 'hmacsha1', 30],
      ['priya@contoso.com', '20010014', 20, 'hmacsha1', 30],
    ];
    expect(tokens.map((c) => [c.user, c.resource, c.after, c.rule])).toEqual(
      expected.map(([user, serial, length, hashFunction, timeIntervalInSeconds]) => [
        user,
        `hardwareOathMethods/${serial}`,
        { serialNumber: serial, hashFunction, timeIntervalInSeconds, secretFingerprint: fingerprint(contosoSecret(serial, length)), status: 'activated' },
        'OATH-HARDWARE',
      ]),
    );
    for (const user of ['grace', 'heidi', 'chen', 'diana', 'edgar', 'fatima', 'george', 'priya', 'hana']) {
      expect(change(plan, `${user}@contoso.com`, 'signInPreferences')!.after).toEqual(preference('oath'));
    }
  });

  it('reports every CASES.md row with its rule', () => {
    const has = (user: string, ...expected: string[]) => expect(findingsOf(plan, user)).toEqual(expect.arrayContaining(expected));
    has('dave@contoso.com', 'warning extension-dropped PHONE-PRIMARY-SMS-DROP-EXT');
    expect(plan.findings.find((f) => f.code === 'extension-dropped')!.message).not.toContain('77');
    has('erin@contoso.com', 'warning backup-phone-skipped PHONE-BACKUP-SKIPPED');
    expect(change(plan, 'erin@contoso.com', 'phoneMethods/alternateMobile')).toBeUndefined();
    has('ivan@contoso.com', 'warning hotp-unsupported OATH-HOTP-UNSUPPORTED', 'info default-method-fallback DEFAULT-POLICY-FALLBACK');
    expect(change(plan, 'ivan@contoso.com', 'hardwareOathMethods/20010003')).toBeUndefined();
    expect(change(plan, 'ivan@contoso.com', 'signInPreferences')!.after).toEqual(preference('sms'));
    has('judy@contoso.com', 'warning token-unsupported OATH-UNSUPPORTED', 'warning default-method-unset DEFAULT-POLICY-FALLBACK');
    expect(plan.findings.find((f) => f.user === 'judy@contoso.com' && f.code === 'token-unsupported')!.message).toContain('8 digits');
    expect(changesOf(plan, 'judy@contoso.com')).toEqual([]);
    has('mallory@contoso.com', 'warning token-unsupported OATH-UNSUPPORTED');
    expect(plan.findings.find((f) => f.user === 'mallory@contoso.com' && f.code === 'token-unsupported')!.message).toContain('SHA512');
    has('niaj@contoso.com', 'info mobile-app-reregistration APP-REREGISTER');
    expect(change(plan, 'niaj@contoso.com', 'signInPreferences')).toMatchObject({ after: preference('push'), rule: 'DEFAULT-FROM-SERVER' });
    has('olivia@contoso.com', 'warning mobile-app-reregistration APP-REREGISTER', 'info default-method-fallback DEFAULT-PUSH-NEEDS-APP');
    has('peggy@contoso.com', 'warning mobile-app-reregistration APP-REREGISTER');
    expect(plan.findings.find((f) => f.user === 'peggy@contoso.com' && f.code === 'mobile-app-reregistration')!.message).toMatch(/^6 MFA Server mobile app device/);
    expect(plan.registration_campaign).toEqual(['olivia@contoso.com', 'peggy@contoso.com', 'xena@contoso.com']);
    has('rupert@contoso.com', 'info user-disabled USER-DISABLED');
    has('ravi@contoso.com', 'info user-disabled USER-DISABLED');
    has('sybil@contoso.com', 'warning user-not-found USER-NOT-FOUND');
    for (const skipped of ['rupert@contoso.com', 'ravi@contoso.com', 'sybil@contoso.com']) expect(changesOf(plan, skipped)).toEqual([]);
    has('victor@contoso.com', 'info pin-mode USER-PIN-MODE');
    has('walter@contoso.com', 'info two-way-sms USER-TWO-WAY-SMS');
    has('xena@contoso.com', 'info pin-mode USER-PIN-MODE', 'warning mobile-app-reregistration APP-REREGISTER');
    // Text message OTP + PIN is said per user too (an auditor found yusuf's dropped without a word).
    has('yusuf@contoso.com', 'info pin-mode USER-SMS-PIN-MODE');
    expect(plan.findings.find((f) => f.rule === 'POL-MANUAL' && f.message.startsWith('text message (OTP + PIN) mode'))!.message).toContain('(1 user(s))');
    has('kai@contoso.com', 'info backup-phone-as-mobile PHONE-BACKUP-AS-MOBILE', 'warning phone-only-after-retirement CUTOVER-PHONE-DEADLINE');
    has('chen@contoso.com', 'warning secret-short EXPORT-DATA');
    expect(plan.findings.find((f) => f.user === 'chen@contoso.com' && f.code === 'secret-short')!.message).toContain('10 bytes');
    has('julia@contoso.com', 'warning device-limit OATH-DEVICE-LIMIT', 'info default-method-fallback DEFAULT-POLICY-FALLBACK');
    expect(change(plan, 'julia@contoso.com', 'hardwareOathMethods/20010012')).toBeUndefined();
    expect(change(plan, 'julia@contoso.com', 'signInPreferences')!.after).toEqual(preference('push'));
    // Phones only: warned, with the day SMS and voice retire. A token, an Authenticator or nothing at all: not.
    for (const u of ['alice', 'bob', 'carol', 'igor', 'quinn', 'mario']) has(`${u}@contoso.com`, 'warning phone-only-after-retirement CUTOVER-PHONE-DEADLINE');
    for (const u of ['grace', 'hana', 'niaj', 'julia', 'zoe']) expect(findingsOf(plan, `${u}@contoso.com`)).not.toContain('warning phone-only-after-retirement CUTOVER-PHONE-DEADLINE');
    expect(plan.findings.find((f) => f.user === 'alice@contoso.com' && f.code === 'phone-only-after-retirement')!.message).toMatch(/from 2027-02-01 .*blocking passkey registration prompt/);
    expect(plan.summary.phone_only_after_retirement).toBe(24);
    // Passkeys are off in a fresh tenant: the prompt's passkey cannot be registered.
    expect(plan.cutover!.passkeys).toEqual({ state: 'disabled', include_targets: ['all_users'], allowed_for_phone_only: 'none' });
    expect(plan.findings.filter((f) => f.code === 'passkeys-disabled').map((f) => f.severity)).toEqual(['warning']);
    expect(changesOf(plan, 'zoe@contoso.com')).toEqual([]);
    // Settings without a cloud equivalent, with the manual step.
    const manual = plan.findings.filter((f) => f.rule === 'POL-MANUAL').map((f) => f.code);
    expect(manual).toEqual(expect.arrayContaining(['pin-mode', 'fraud-block', 'trusted-ips', 'device-limit', 'two-way-sms', 'lockout', 'security-questions', 'user-portal', 'account-name', 'language']));
    expect(plan.findings.find((f) => f.code === 'trusted-ips')!.message).toContain('10.0.0.0/8');
  });

  it('prints the same plan for people: Terraform symbols, masked phones and the summary line', () => {
    expect(text.code).toBe(0);
    const out = text.stdout;
    const s = plan.summary;
    expect(out).toContain(`Plan for tenant Contoso (${tenant.tenant.id})`);
    expect(out).toMatch(/^ {2}source [0-9a-f]{64}; default method if-unset; prune no; include email no; target all users; match by upn,on-premises$/m);
    expect(out).toContain(`Plan: ${s.create} to add, ${s.update} to change, ${s.delete} to destroy, ${s.no_op} unchanged.`);
    expect(out).toMatch(/~ authenticationMethodConfigurations\/Voice\n\s+state: "disabled" -> "enabled"\s+\[POL-VOICE\]/);
    // A user change shows its rule and its reason, as a policy change does.
    expect(out).toMatch(/igor@contoso\.com\n\s+~ phoneMethods\/mobile\s+phoneNumber: "\+1 \*{8}99" -> "\+1 \*{8}32" {2}\[PHONE-PRIMARY-MOBILE\] primary phone has no extension$/m);
    expect(out).toMatch(/bob@contoso\.com\n\s+\+ phoneMethods\/mobile\s+phoneNumber="\+1 \*{8}02"/);
    expect(out).toContain('+1 ********03x***'); // carol's extension is masked too
    // No full number of the export or the tenant appears.
    const numbers = plan.user_changes.flatMap((c) => [c.before, c.after]).flatMap((v) => (v && typeof v.phoneNumber === 'string' ? [v.phoneNumber.replace(/^\+\d+ /, '')] : []));
    expect(numbers.length).toBeGreaterThan(30);
    for (const n of numbers) {
      expect(out).not.toContain(n);
      expect(text.stderr).not.toContain(n);
    }
    // No-ops are not listed as changes; the findings are, with code and rule.
    expect(out).not.toMatch(/alice@contoso\.com\n\s+= /);
    expect(out).toContain('sybil@contoso.com: no tenant user has the UPN sybil@contoso.com: skipped [user-not-found, USER-NOT-FOUND]');
    // Progress goes to stderr, never into the plan on stdout.
    expect(text.stderr).toMatch(/Reading tenant users: 37\/37/);
    expect(json.stdout.trimStart().startsWith('{')).toBe(true);
  });

  it('only reads: GETs and $batch requests of GETs, and the tenant is unchanged', () => {
    const log = emu.requests();
    expect(log.length).toBeGreaterThan(0);
    expect(writesIn(log)).toEqual([]);
    for (const e of log) expect(e.method === 'GET' || (e.method === 'POST' && /\/\$batch$/.test(e.path))).toBe(true);
    // Each of the 37 tenant users (two runs) had its methods and sign-in preferences read.
    const ops = operations(log);
    expect(ops.filter((o) => /\/authentication\/methods$/.test(o.path))).toHaveLength(2 * 37);
    expect(ops.filter((o) => /\/authentication\/signInPreferences$/.test(o.path))).toHaveLength(2 * 37);
    expect(ops.every((o) => o.status === 200 || o.status === 404)).toBe(true);
    expect(emu.snapshot()).toEqual(before);
  });
});

describe('mfa-migrate plan --detailed-exitcode, --out, then apply and plan again', () => {
  let emu: RunningEmulator;
  let dir: string;
  beforeAll(async () => {
    emu = await startEmulator({ port: 0, throttle: 'off' });
    dir = mkdtempSync(join(tmpdir(), 'plan-apply-'));
  });
  afterAll(async () => {
    await emu?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('saves the plan before it prints it: a reader that closes the output early (| head) does not cost the plan file (a review)', async () => {
    const planFile = join(dir, 'cut.plan');
    const { child, exit } = spawnCli(['plan', ...CONTOSO, '--graph-url', emu.url, '--format', 'json', '--out', planFile]);
    child.stdout!.once('data', () => child.stdout!.destroy());
    await exit;
    expect((await SavedPlan.open(planFile)).header.kind).toBe('mfa-migrate-plan');
  });

  it('exits 2 with changes, saves the plan 0600, and after the apply plans nothing to do (exit 0)', async () => {
    const planFile = join(dir, 'contoso.plan');
    const first = await runPlan(emu.url, [...CONTOSO, '--detailed-exitcode', '--out', planFile]);
    expect(first.stderr).not.toMatch(/unexpected error/);
    expect(first.code).toBe(2);
    expect(first.stderr).toContain(`Saved the plan to ${planFile}. To perform exactly these actions: mfa-migrate apply ${planFile}`);
    expect(statSync(planFile).mode & 0o777).toBe(0o600);
    const file = await SavedPlan.open(planFile);
    expect(file.header.kind).toBe('mfa-migrate-plan');
    expect(file.header.format_version).toBe('2.21');
    // Absolute paths, so that apply and resume find the seed files from any working folder.
    expect(file.header.source).toMatchObject({ dir: resolve(ROOT, 'fixtures/contoso'), pskcKeyFile: resolve(ROOT, 'fixtures/contoso/tokens/psk.hex'), pskcPasswordFile: resolve(ROOT, 'fixtures/contoso/tokens/pskc-password.txt') });
    const lines = readFileSync(planFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const saved = {
      source_fingerprint: file.header.source_fingerprint,
      user_changes: lines.filter((l) => l.t === 'user').flatMap((l) => (l.changes as (UserChange & { state_fingerprint: string })[]).map((c) => ({ ...c, user: l.user as string, user_id: l.user_id as string }))),
    };
    for (const c of saved.user_changes) expect(c.state_fingerprint).toBe(createHash('sha256').update(canonical(c.before)).digest('hex').slice(0, 16));

    const applied = await runMain(['apply', planFile, '--graph-url', emu.url, '--state-dir', join(dir, 'state')]);
    expect(applied.stderr + applied.stdout).not.toMatch(/unexpected error/);
    expect(applied.code).toBe(0);

    const again = await runPlan(emu.url, [...CONTOSO, '--detailed-exitcode']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/Plan: 0 to add, 0 to change, 0 to destroy, \d+ unchanged\./);

    const { plan: replan, result } = await planJson(emu.url, [...CONTOSO, '--detailed-exitcode']);
    expect(result.code).toBe(0);
    expect(replan.policy_changes).toEqual([]);
    expect(replan.user_changes.filter((c) => c.action !== 'no-op')).toEqual([]);
    // Every resource the first plan touched is now in place, as planned (tokens: assigned and activated).
    expect(replan.user_changes.map((c) => `${c.user} ${c.resource}`).sort()).toEqual(saved.user_changes.map((c) => `${c.user} ${c.resource}`).sort());
    for (const c of replan.user_changes.filter((x) => !x.resource.startsWith('hardwareOathMethods/'))) {
      const was = saved.user_changes.find((s) => s.user === c.user && s.resource === c.resource)!;
      expect(c.before).toEqual(was.action === 'no-op' ? was.before : was.after);
    }
    const tokens = replan.user_changes.filter((c) => c.resource.startsWith('hardwareOathMethods/'));
    expect(tokens.length).toBe(9);
    for (const t of tokens) expect(t).toMatchObject({ action: 'no-op', rule: 'OATH-EXISTS', before: { status: 'activated', assignedTo: t.user_id } });
    expect(replan.source_fingerprint).toBe(saved.source_fingerprint);
  });
});

describe('mfa-migrate plan: export problems', () => {
  let emu: RunningEmulator;
  let dir: string;
  beforeAll(async () => {
    emu = await startEmulator({ port: 0, throttle: 'off' });
    dir = mkdtempSync(join(tmpdir(), 'plan-export-'));
  });
  afterAll(async () => {
    await emu?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops on an export that cannot be trusted (a duplicate user): exit 1, the problems listed, Graph never called', async () => {
    emu.clearRequests();
    const [textRun, jsonRun] = await Promise.all([
      runPlan(emu.url, ['--source', 'fixtures/contoso-with-errors', '--tokens', 'fixtures/contoso/tokens/seeds.pskc']),
      runPlan(emu.url, ['--source', 'fixtures/contoso-with-errors', '--tokens', 'fixtures/contoso/tokens/seeds.pskc', '--format', 'json', '--detailed-exitcode']),
    ]);
    for (const r of [textRun, jsonRun]) {
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('the export cannot be trusted');
      expect(r.stderr).toMatch(/users\.csv, line 4, field username: username ALICE@contoso\.com already appears on line 2 .*\[duplicate-user\]/);
      expect(r.stderr).not.toMatch(/unexpected error/);
    }
    expect(textRun.stdout).not.toMatch(/Plan:/);
    const errors = (JSON.parse(jsonRun.stdout) as { errors: { code: string; file: string; line?: number }[] }).errors;
    expect(errors).toContainEqual(expect.objectContaining({ code: 'duplicate-user', file: 'users.csv', line: 4 }));
    expect(errors.every((e) => e.code === 'duplicate-user' || e.code === 'settings-invalid')).toBe(true);
    expect(emu.requests()).toEqual([]);
  });

  it('plans around a per-user problem: an invalid phone becomes a phone-invalid finding and is never sent', async () => {
    const source = join(dir, 'export');
    cpSync(join(ROOT, 'fixtures/contoso'), source, { recursive: true });
    const users = readFileSync(join(source, 'users.csv'), 'utf8');
    // bob's primary phone becomes a number that is not valid in the US.
    const broken = users.replace(/^(bob@contoso\.com,Bob,Brown,bob@contoso\.com,true,Finance,1,)4255550102,/m, '$1555-123-4567,');
    expect(broken).not.toBe(users);
    writeFileSync(join(source, 'users.csv'), broken);
    const { plan, result } = await planJson(emu.url, ['--source', source, ...CONTOSO_SEEDS]);
    expect(result.code).toBe(0);
    expect(plan.findings).toContainEqual({ severity: 'warning', code: 'phone-invalid', user: 'bob@contoso.com', rule: 'PHONE-INVALID', message: expect.stringContaining('primary phone not migrated') });
    // The backup becomes the mobile (Entra needs a mobile first); the bad number is nowhere.
    expect(changesOf(plan, 'bob@contoso.com').filter((c) => c.resource.startsWith('phoneMethods/')).map((c) => [c.resource, c.after, c.rule])).toEqual([
      ['phoneMethods/mobile', phone('+1 2065550102', 'mobile'), 'PHONE-BACKUP-AS-MOBILE'],
    ]);
    // Only the MFA Server record shows the cell as exported (asked for in full here); no change carries it.
    expect(JSON.stringify(plan.user_changes) + result.stderr).not.toMatch(/5551234567|555-123-4567/);
    expect(plan.users.find((u) => u.user === 'bob@contoso.com')!.server!.phone).toEqual({ country_code: '1', number: '555-123-4567', extension: null, entra: null });
    // Everyone else is planned as usual, and the changed export has another fingerprint.
    expect(change(plan, 'igor@contoso.com', 'phoneMethods/mobile')).toMatchObject({ action: 'update' });
    expect(plan.summary.users).toBe(exportUsers);
  });
});

describe('mfa-migrate plan: Graph unreachable', () => {
  it('exits 1 at once with the reason, not after minutes of retries', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r()));
    const r = await runPlan(`http://127.0.0.1:${port}`, CONTOSO);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`mfa-migrate: cannot reach Graph at http://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(r.stdout).toBe('');
  }, 20_000);

  /** Found by a black-box test: `bad port` with no word of why, and a raw OpenSSL error, each after half a minute of retries. */
  it('says why at once when nothing can ever be sent there: a port fetch refuses, TLS to a plain-HTTP server', async () => {
    const blocked = await runPlan('http://127.0.0.1:1', CONTOSO);
    expect([blocked.code, blocked.stdout]).toEqual([1, '']);
    // (The sample's seed files' modes are warned about first, as ever.)
    const errors = (stderr: string) => stderr.split('\n').filter((l) => !l.startsWith('warning: ') && l !== '');
    expect(errors(blocked.stderr)).toEqual(["mfa-migrate: cannot reach Graph at http://127.0.0.1:1: port 1 is one Node's fetch refuses to connect to (a blocked port, as in browsers): use another port"]);

    const server = createHttpServer((_req, res) => res.end('{}'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      const tls = await runPlan(`https://127.0.0.1:${port}`, CONTOSO);
      expect([tls.code, tls.stdout]).toEqual([1, '']);
      expect(errors(tls.stderr)).toEqual([`mfa-migrate: cannot reach Graph at https://127.0.0.1:${port}: the server did not answer TLS (is it http://?)`]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  }, 20_000);
});

/** The canonical JSON of docs/plan-format.md's state_fingerprint: keys sorted, no whitespace. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const o = value as Record<string, unknown>;
  return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
}
