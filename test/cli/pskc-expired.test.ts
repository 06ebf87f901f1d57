import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import { SavedPlan } from '../../src/plan/plan-file.js';
import { runMain } from '../helpers/run-main.js';

// --pskc-expired as the commands that read seed files parse it: validate, plan, apply and shim import.
const dir = mkdtempSync(join(tmpdir(), 'pskc-expired-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const source = join(dir, 'export');
mkdirSync(source);
writeFileSync(join(source, 'users.csv'), 'username,oath_token_serial\nalice@contoso.com,FT-1\n');
const tokens = join(dir, 'feitian.pskc');
writeFileSync(
  tokens,
  `<?xml version="1.0" encoding="UTF-8"?>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">
<KeyPackage><DeviceInfo><Manufacturer>Feitian</Manufacturer><SerialNo>FT-1</SerialNo></DeviceInfo>
<Key Id="k-FT-1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp"><AlgorithmParameters><ResponseFormat Length="6" Encoding="DECIMAL"/></AlgorithmParameters>
<Data><Secret><PlainValue>${Buffer.from('12345678901234567890').toString('base64')}</PlainValue></Secret><TimeInterval><PlainValue>30</PlainValue></TimeInterval></Data>
<Policy><ExpiryDate>2019-03-01T00:00:00Z</ExpiryDate></Policy></Key></KeyPackage>
</KeyContainer>
`,
);
chmodSync(tokens, 0o600);

describe('--pskc-expired', () => {
  it('validate: leave by default (seed-missing, exit 1); take reads the key (exit 0), its date in the JSON and a warning at its line', async () => {
    const left = await runMain(['validate', '--source', source, '--tokens', tokens, '--format', 'json']);
    expect(left.code).toBe(1);
    expect(JSON.parse(left.stdout).errors).toEqual([expect.objectContaining({ code: 'seed-missing', message: expect.stringContaining('--pskc-expired take reads it') })]);
    const taken = await runMain(['validate', '--source', source, '--tokens', tokens, '--pskc-expired', 'take', '--format', 'json']);
    expect(taken.stderr).toBe('');
    expect(taken.code).toBe(0);
    const report = JSON.parse(taken.stdout) as { tokens: { serial: string; user: string; expired_on: string | null }[]; warnings: { code: string; line: number; message: string }[] };
    expect(report.tokens.map((t) => [t.serial, t.user, t.expired_on])).toEqual([['FT-1', 'alice@contoso.com', '2019-03-01T00:00:00Z']]);
    expect(report.warnings).toEqual([expect.objectContaining({ code: 'pskc-policy', line: 6, message: 'token FT-1 (Key Id "k-FT-1") expired on 2019-03-01T00:00:00Z (its ExpiryDate) and is read anyway (--pskc-expired take)' })]);
    const text = await runMain(['validate', '--source', source, '--tokens', tokens, '--pskc-expired', 'take']);
    expect(text.stdout).toContain('1 read past their PSKC ExpiryDate (--pskc-expired take; a warning each)');
  });

  it('a mode other than leave or take is refused before anything is read', async () => {
    const r = await runMain(['validate', '--source', source, '--tokens', tokens, '--pskc-expired', 'yes']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/option '--pskc-expired <mode>' argument 'yes' is invalid\. Allowed choices are leave, take/);
  });

  it('shim import takes the key with take, and stops on the missing seed without it', async () => {
    const env = { MFA_SHIM_KEY: Buffer.alloc(32, 7).toString('base64') };
    const store = join(dir, 'shim.store');
    const left = await runMain(['shim', 'import', '--source', source, '--tokens', tokens, '--store', store, '--json'], { env });
    expect(left.code).not.toBe(0);
    const taken = await runMain(['shim', 'import', '--source', source, '--tokens', tokens, '--store', store, '--json', '--pskc-expired', 'take'], { env });
    expect(taken.stderr).toBe(`mfa-migrate shim: warning: ${tokens}, line 6, KeyPackage[1]/Key/Policy/ExpiryDate, field ExpiryDate: token FT-1 (Key Id "k-FT-1") expired on 2019-03-01T00:00:00Z (its ExpiryDate) and is read anyway (--pskc-expired take) [pskc-policy]\n`);
    expect(taken.code).toBe(0);
    expect(JSON.parse(taken.stdout)).toMatchObject({ tokens: 1, added: 1 });
  });

  it('every command that takes the seed options offers it; apply with a saved plan refuses it as an option that shapes a plan', async () => {
    for (const command of [['validate'], ['plan'], ['apply'], ['shim', 'import']]) {
      const r = await runMain([...command, '--help']);
      expect(r.stdout.replace(/\s+/g, ' '), command.join(' ')).toMatch(/--pskc-expired <mode> PSKC keys past their Policy ExpiryDate: leave = .*take = read them, with a warning per key.* \(choices: "leave", "take", default: "leave"\)/);
    }
    const r = await runMain(['apply', join(dir, 'wave1.plan'), '--pskc-expired', 'take']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--pskc-expired: these options shape a plan: make a new plan');
  });

  it('plan --out records take; apply PLANFILE reads the expired key again by the record and creates the token', async () => {
    const emu = await startEmulator({ port: 0, throttle: 'off' });
    try {
      const planFile = join(dir, 'wave1.plan');
      const plan = await runMain(['plan', '--source', source, '--tokens', tokens, '--pskc-expired', 'take', '--graph-url', emu.url, '--out', planFile]);
      expect(plan.code, plan.stderr).toBe(0);
      expect(plan.stdout).toContain('+ hardwareOathMethods/FT-1');
      expect(plan.stdout).toContain('token FT-1 (Key Id "k-FT-1") expired on 2019-03-01T00:00:00Z (its ExpiryDate) and is read anyway (--pskc-expired take) [pskc-policy, EXPORT-DATA]');
      expect((await SavedPlan.open(planFile)).header.source.pskcExpired).toBe('take');
      // Without the record, the seed read again would lack FT-1 and apply would refuse the plan as not its sources'.
      const apply = await runMain(['apply', planFile, '--graph-url', emu.url, '--state-dir', join(dir, 'state')]);
      expect(apply.code, apply.stderr).toBe(0);
      expect(apply.stdout).toMatch(/completed\. .*\n {2}operations: 3 done, 0 failed/);
    } finally {
      await emu.stop();
    }
  }, 60_000);
});
