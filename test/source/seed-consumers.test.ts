import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RFC6238_SHA256_SECRET, VENDOR_KEYS } from '../../fixtures/make-vendor-seeds.js';
import { writePskc } from '../../fixtures/pskc-writer.js';
import { sampleSeedArgs } from '../../src/cli/demo-command.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { secretFingerprint } from '../../src/model/secret.js';
import { fingerprintFiles } from '../../src/plan/fingerprint.js';
import { DEFAULT_RULES } from '../../src/shim/rules.js';
import { startShimService } from '../../src/shim/shim-service.js';
import { ROOT } from '../helpers/run-cli.js';
import { runMain } from '../helpers/run-main.js';
import { verify } from '../shim/http-client.js';
import { RFC4226_DECIMAL } from './seeds/otp-vectors.js';

/**
 * The seed readers as their consumers see them: validate, plan, apply and shim import all read the
 * seed files through the same readers and the same cross-file checks, so what the readers refuse,
 * every command refuses.
 */

const SHIM_KEY = Buffer.alloc(32, 7);
const SHIM_KEY_B64 = SHIM_KEY.toString('base64');

/** A copy of fixtures/contoso in a temporary folder, to be altered by a test. */
function contosoCopy(dir: string): string {
  const copy = join(dir, 'contoso');
  cpSync(join(ROOT, 'fixtures', 'contoso'), copy, { recursive: true });
  return copy;
}

/** Puts the secret of token `from` in place of token `to`'s, in a plain PSKC file. */
function copySecret(pskc: string, from: string, to: string): void {
  const xml = readFileSync(pskc, 'utf8');
  const packages = [...xml.matchAll(/<KeyPackage>[\s\S]*?<\/KeyPackage>/g)].map((m) => m[0]);
  const secretOf = (serial: string): string => /<Secret>[\s\S]*?<\/Secret>/.exec(packages.find((p) => p.includes(`<SerialNo>${serial}</SerialNo>`))!)![0];
  const target = packages.find((p) => p.includes(`<SerialNo>${to}</SerialNo>`))!;
  writeFileSync(pskc, xml.replace(target, target.replace(secretOf(to), secretOf(from))));
}

describe('issue 17 item 5: two serials with one secret stop validate, plan, apply and shim import', () => {
  let dir: string;
  let emu: RunningEmulator;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'seed-consumers-'));
    emu = await startEmulator({ port: 0, throttle: 'off' });
  });
  afterAll(async () => {
    await emu?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('validate and plan refuse; shim import writes nothing', async () => {
    const source = contosoCopy(join(dir, 'a'));
    // 20019999 is in no user's row: grace's seed under it changes no planned token, only the file.
    copySecret(join(source, 'tokens', 'seeds.pskc'), '20010001', '20019999');
    const seedArgs = sampleSeedArgs(source);

    const validate = await runMain(['validate', '--source', source, ...seedArgs, '--format', 'json']);
    expect(validate.code).toBe(1);
    const report = JSON.parse(validate.stdout) as { errors: { code: string; message: string }[] };
    expect(report.errors.map((e) => e.code)).toEqual(['secret-duplicate']);
    expect(report.errors[0]!.message).toMatch(/token 20019999 has the same secret as token 20010001/);

    const plan = await runMain(['plan', '--source', source, ...seedArgs, '--graph-url', emu.url, '--out', join(dir, 'a.plan')]);
    expect(plan.code).toBe(1);
    expect(plan.stderr).toMatch(/\[secret-duplicate\]/);

    const store = join(dir, 'a.store');
    const shim = await runMain(['shim', 'import', '--source', source, ...seedArgs, '--store', store], { env: { MFA_SHIM_KEY: SHIM_KEY_B64 } });
    expect(shim.code).not.toBe(0);
    expect(shim.stderr).toMatch(/\[secret-duplicate\]/);
    expect(shim.stderr).toMatch(/nothing was written/);
  }, 60_000);

  it('apply refuses sources holding a copied secret, before any write, even when their fingerprint is the plan\'s', async () => {
    const source = contosoCopy(join(dir, 'b'));
    const planFile = join(dir, 'b.plan');
    const planned = await runMain(['plan', '--source', source, ...sampleSeedArgs(source), '--graph-url', emu.url, '--out', planFile]);
    expect(planned.code, planned.stderr).toBe(0);
    copySecret(join(source, 'tokens', 'seeds.pskc'), '20010001', '20019999');
    // A plan whose sources were never checked for this (one made before the check existed): the
    // fingerprint it records is the sources' as they are now, so only the readers' check can stop it.
    const tokens = sampleSeedArgs(source).filter((_, i, a) => a[i - 1] === '--tokens');
    const exportFiles = ['users.csv', 'devices.csv', 'settings.json'].filter((f) => existsSync(join(source, f))).map((f) => ({ name: f, path: join(source, f) }));
    const fingerprint = await fingerprintFiles([...exportFiles, ...tokens.map((t) => ({ name: relative(source, t), path: t }))]);
    const [header, ...rest] = readFileSync(planFile, 'utf8').split('\n');
    writeFileSync(planFile, [JSON.stringify({ ...JSON.parse(header!), source_fingerprint: fingerprint }), ...rest].join('\n'));
    const before = JSON.stringify(emu.snapshot());
    const applied = await runMain(['apply', planFile, '--graph-url', emu.url, '--state-dir', join(dir, 'b-state')]);
    expect(applied.code).not.toBe(0);
    expect(applied.stderr).toMatch(/\[secret-duplicate\]/);
    expect(JSON.stringify(emu.snapshot())).toBe(before);
  }, 60_000);
});

/** Found by a black-box test: the same --tokens file twice gave a seed-duplicate warning per token, each pointing at itself. */
describe('a seed file given twice is read once by plan and shim import, with one warning', () => {
  let dir: string;
  let emu: RunningEmulator;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'seed-file-twice-'));
    emu = await startEmulator({ port: 0, throttle: 'off' });
  });
  afterAll(async () => {
    await emu?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('plan records it once; shim import imports it once; each says so once, naming --tokens', async () => {
    const source = contosoCopy(dir);
    const seedArgs = sampleSeedArgs(source);
    // The second time by a symbolic link to it: the same file.
    symlinkSync(join(source, 'tokens', 'seeds.pskc'), join(source, 'link.pskc'));
    const twice = [...seedArgs, '--tokens', join(source, 'link.pskc')];
    const message = '--tokens gives this seed file twice (as tokens/seeds.pskc, link.pskc): it is read once';
    const repeated = (text: string) => text.split('\n').filter((l) => /seed-duplicate|seed-file-repeated/.test(l));

    const planFile = join(dir, 'twice.plan');
    const plan = await runMain(['plan', '--source', source, ...twice, '--graph-url', emu.url, '--out', planFile]);
    expect(plan.code, plan.stderr).toBe(0);
    const [header, ...lines] = readFileSync(planFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect((header!.source as { tokens: string[] }).tokens).toEqual(seedArgs.filter((_, i, a) => a[i - 1] === '--tokens'));
    expect((header!.inputs as { role: string }[]).filter((i) => i.role === 'seeds')).toHaveLength(5);
    // A finding of the whole plan, once.
    expect(lines.filter((l) => JSON.stringify(l).includes('seed-file-repeated'))).toEqual([expect.objectContaining({ severity: 'warning', code: 'seed-file-repeated', message: `tokens/seeds.pskc: ${message}` })]);
    expect(repeated(plan.stdout)).toEqual([expect.stringContaining(`tokens/seeds.pskc: ${message}`)]);

    const env = { MFA_SHIM_KEY: SHIM_KEY_B64 };
    const once = await runMain(['shim', 'import', '--source', source, ...seedArgs, '--store', join(dir, 'once.store'), '--json'], { env });
    const shim = await runMain(['shim', 'import', '--source', source, ...twice, '--store', join(dir, 'twice.store'), '--json'], { env });
    expect([shim.code, JSON.parse(shim.stdout).tokens]).toEqual([once.code, JSON.parse(once.stdout).tokens]);
    expect(repeated(shim.stderr)).toEqual([`mfa-migrate shim: warning: tokens/seeds.pskc: ${message} [seed-file-repeated]`]);
  }, 60_000);
});

/** Issue 18: the shim and apply read every new format through the same readers. */
describe('issue 18: tokens from the new formats reach the shim and Entra', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'seed-formats-e2e-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A key file as --pskc-key-file takes it (hex), 0600. */
  function keyFile(name: string, key: Buffer): string {
    const path = join(dir, name);
    writeFileSync(path, `${key.toString('hex')}\n`, { mode: 0o600 });
    return path;
  }

  it('a pre-RFC HOTP token (ActivIdentity container, AES with a container IV) verifies in the shim, with RFC 4226 codes', async () => {
    const source = join(dir, 'pre-rfc');
    mkdirSync(source);
    writeFileSync(join(source, 'users.csv'), 'username,enabled,oath_token_serial\nivan@contoso.com,true,0950380001\n');
    const store = join(dir, 'pre-rfc.store');
    const imported = await runMain(
      ['shim', 'import', '--source', source, '--tokens', join(ROOT, 'fixtures/seeds/formats/draft-hoyer-actividentity-aes128.pskc'), '--pskc-key-file', keyFile('activ.hex', VENDOR_KEYS.activIdentity), '--store', store],
      { env: { MFA_SHIM_KEY: SHIM_KEY_B64 } },
    );
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/ivan@contoso\.com +0950380001 \(HOTP SHA1 8, shim only\)/);
    const service = await startShimService({ store, key: SHIM_KEY, host: '127.0.0.1', port: 0, rules: DEFAULT_RULES, rateLimit: { perSecond: 0, burst: 1 } });
    try {
      // RFC 4226 Appendix D in 8 digits: counter 0, then counter 1.
      const at = (c: number): string => String(RFC4226_DECIMAL[c]! % 1e8).padStart(8, '0');
      expect((await verify(service.url, 'ivan@contoso.com', at(0))).json).toEqual({ result: 'accept', reason: 'ok' });
      expect((await verify(service.url, 'ivan@contoso.com', at(0))).json).toEqual({ result: 'reject', reason: 'replayed' });
      expect((await verify(service.url, 'ivan@contoso.com', at(1))).json).toEqual({ result: 'accept', reason: 'ok' });
    } finally {
      await service.close();
    }
  }, 60_000);

  it('a key-wrapped (AES-256 key wrap) TOTP token is planned, created and activated against the emulator', async () => {
    const emu = await startEmulator({ port: 0, throttle: 'off' });
    try {
      const source = contosoCopy(join(dir, 'kw'));
      const kw = join(dir, 'grace-kw.pskc');
      writeFileSync(
        kw,
        writePskc({
          comment: "grace's token under AES-256 key wrap",
          keys: [{ serial: '20010001', type: 'totp', secret: RFC6238_SHA256_SECRET, suite: 'HMAC-SHA256', period: 30, manufacturer: 'Vendor', model: 'KW-1', userId: 'grace@contoso.com' }],
          encryption: { cipher: 'kw-aes256', key: VENDOR_KEYS.aes256, mac: null },
        }),
      );
      const seedArgs = ['--tokens', kw, '--pskc-key-file', keyFile('kw256.hex', VENDOR_KEYS.aes256)];
      const planFile = join(dir, 'kw.plan');
      // Only grace's seed is given: the other users' tokens are left for later.
      const planned = await runMain(['plan', '--source', source, ...seedArgs, '--allow-missing-seeds', '--graph-url', emu.url, '--out', planFile]);
      expect(planned.code, planned.stderr).toBe(0);
      const applied = await runMain(['apply', planFile, '--graph-url', emu.url, '--state-dir', join(dir, 'kw-state')]);
      expect(applied.stderr).not.toMatch(/unexpected error/);
      const state = emu.snapshot() as { users: { id: string; userPrincipalName: string }[]; hardwareOathDevices: { serialNumber: string; status: string; secretFingerprint: string; hashFunction: string; assignedTo?: { id: string } }[] };
      const grace = state.users.find((u) => u.userPrincipalName === 'grace@contoso.com')!;
      const device = state.hardwareOathDevices.find((d) => d.serialNumber === '20010001');
      // Activation needs a current code from the seed: it proves the unwrapped secret is the right one.
      expect(device).toMatchObject({ status: 'activated', hashFunction: 'hmacsha256', assignedTo: { id: grace.id } });
      expect(device!.secretFingerprint).toBe(secretFingerprint(RFC6238_SHA256_SECRET));
    } finally {
      await emu.stop();
    }
  }, 120_000);
});
