import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import type { Plan } from '../../src/plan/plan-model.js';
import { contosoTenant } from '../plan/helpers.js';
import { runMain } from '../helpers/run-main.js';

// The Contoso tenant's users, with random (valid, odd and wrong) values in every other column of the
// export and in the seed file: plan maps and diffs whatever the export holds, or refuses it with
// the problems that stop it, and never fails otherwise.
const VALUES = ['', ' ', 'x', '\u001b[2J', 'ok\u202eko', 'bell\u0007', '0', '1', '999', '+44', '49', 'GB', 'ZZ', 'true', 'false', 'maybe', 'constructor', '__proto__', 'Phone call', 'Text message', 'Mobile app', 'OATH token', 'phone_call', 'text_message', 'mobile_app', 'oath_token', 'standard', 'pin', 'otp', 'otp_pin', 'one_way', 'two_way', '4255550101', '(206) 555-0199 x12', '+44 20 7946 0958', '030 1234567', '+1 425 555 0101', '12345', 'sha1', 'sha256', 'sha512', 'totp', 'hotp', '6', '8', '30', '60', '45'];

describe('mfa-migrate plan and apply on random exports of the Contoso users', () => {
  let emu: RunningEmulator;
  const dir = mkdtempSync(join(tmpdir(), 'plan-fuzz-'));
  beforeAll(async () => {
    emu = await startEmulator({ port: 0, throttle: 'off' });
  });
  afterAll(async () => {
    await emu?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('plans or refuses with the problems, applies what it planned, never an unexpected error', async () => {
    let seed = 17;
    const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const pick = () => VALUES[Math.floor(rnd() * VALUES.length)]!;
    const cell = (v: string) => (/[",;\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
    const upns = contosoTenant().users.map((u) => u.userPrincipalName);
    const serials = Array.from({ length: 20 }, (_, i) => `F${i}`);
    let planned = 0;
    for (let trial = 0; trial < 10; trial++) {
      const source = join(dir, `t${trial}`);
      mkdirSync(source, { recursive: true });
      // Half the phones valid (so that most users have something to migrate), half anything.
      const phone = (): [string, string] => (rnd() < 0.5 ? [pick(), pick()] : rnd() < 0.5 ? ['1', `425555${String(Math.floor(rnd() * 9000) + 1000)}`] : ['44', `7700 900${String(Math.floor(rnd() * 900) + 100)}`]);
      const users = upns.map((upn) => {
        const cells = [upn, ...Array.from({ length: 16 }, pick), rnd() < 0.5 ? serials[Math.floor(rnd() * serials.length)]! : pick(), pick()];
        [cells[6], cells[7]] = phone();
        [cells[9], cells[10]] = phone();
        return cells.map(cell).join(',');
      });
      writeFileSync(join(source, 'users.csv'), `username,first_name,last_name,email,enabled,user_group,phone_country_code,phone,phone_extension,backup_country_code,backup_phone,backup_extension,default_method,phone_call_mode,text_message_mode,text_message_direction,mobile_app_mode,oath_token_serial,language\n${users.join('\n')}\n`);
      const devices = upns.filter(() => rnd() < 0.3).map((upn) => [upn, pick(), rnd() < 0.5 ? '2025-06-01' : pick(), pick(), rnd() < 0.5 ? 'JBSWY3DPEHPK3PXP' : pick()].map(cell).join(','));
      writeFileSync(join(source, 'devices.csv'), `username,device_name,registered_at,device_token,oath_secret\n${devices.join('\n')}\n`);
      const seeds = serials.map((s) => [s, rnd() < 0.7 ? 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' : pick(), rnd() < 0.5 ? 'base32' : pick(), pick(), pick(), pick(), pick(), '', pick(), pick()].map(cell).join(','));
      writeFileSync(join(source, 'seeds.csv'), `serial,secret,encoding,type,digits,period,algorithm,counter,manufacturer,model\n${seeds.join('\n')}\n`);
      const planFile = join(source, 'wave.plan');
      // Random serials often have no seed: planned anyway, as the admin may choose to.
      const result = await runMain(['plan', '--source', source, '--tokens', join(source, 'seeds.csv'), '--allow-missing-seeds', '--graph-url', emu.url, '--format', 'json', '--out', planFile]);
      expect(result.stderr, `trial ${trial}`).not.toMatch(/unexpected error/);
      expect([0, 1, 2], `trial ${trial}: ${result.stderr}`).toContain(result.code);
      const out = JSON.parse(result.stdout) as Plan & { errors?: { code: string; file: string }[] };
      if (result.code === 1) {
        expect(out.errors?.length, `trial ${trial}`).toBeGreaterThan(0);
      } else {
        planned++;
        expect(Array.isArray(out.user_changes)).toBe(true);
        // The same plan on a terminal: the export's odd characters are shown, never sent to it.
        const shown = await runMain(['plan', '--source', source, '--tokens', join(source, 'seeds.csv'), '--allow-missing-seeds', '--graph-url', emu.url]);
        expect(shown.stdout + shown.stderr, `trial ${trial}`).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
        expect(out.findings.length).toBeGreaterThan(0);
        // What was planned is applied (the tenant changes from trial to trial); every operation succeeds
        // or is reported per user.
        const applied = await runMain(['apply', planFile, '--graph-url', emu.url, '--state-dir', join(source, 'state'), '--results', join(source, 'results.csv')]);
        expect(applied.stderr, `trial ${trial}`).not.toMatch(/unexpected error/);
        expect([0, 3], `trial ${trial}: ${applied.stderr}`).toContain(applied.code);
      }
    }
    expect(planned).toBeGreaterThan(5);
  }, 120_000);
});
