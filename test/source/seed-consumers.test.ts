import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleSeedArgs } from '../../src/cli/demo-command.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { ROOT, runCli } from '../helpers/run-cli.js';

/**
 * The seed readers as their consumers see them: validate, plan, apply and shim import all read the
 * seed files through the same readers and the same cross-file checks, so what the readers refuse,
 * every command refuses.
 */

const SHIM_KEY_B64 = Buffer.alloc(32, 7).toString('base64');

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

    const validate = await runCli(['validate', '--source', source, ...seedArgs, '--format', 'json']);
    expect(validate.code).toBe(1);
    const report = JSON.parse(validate.stdout) as { errors: { code: string; message: string }[] };
    expect(report.errors.map((e) => e.code)).toEqual(['secret-duplicate']);
    expect(report.errors[0]!.message).toMatch(/token 20019999 has the same secret as token 20010001/);

    const plan = await runCli(['plan', '--source', source, ...seedArgs, '--graph-url', emu.url, '--out', join(dir, 'a.plan')]);
    expect(plan.code).toBe(1);
    expect(plan.stderr).toMatch(/\[secret-duplicate\]/);

    const store = join(dir, 'a.store');
    const shim = await runCli(['shim', 'import', '--source', source, ...seedArgs, '--store', store], { env: { MFA_SHIM_KEY: SHIM_KEY_B64 } });
    expect(shim.code).not.toBe(0);
    expect(shim.stderr).toMatch(/\[secret-duplicate\]/);
    expect(shim.stderr).toMatch(/nothing was written/);
  }, 60_000);

  it('apply refuses a plan whose seed files gained a copied secret after planning, before any write', async () => {
    const source = contosoCopy(join(dir, 'b'));
    const planFile = join(dir, 'b.plan');
    const planned = await runCli(['plan', '--source', source, ...sampleSeedArgs(source), '--graph-url', emu.url, '--out', planFile]);
    expect(planned.code, planned.stderr).toBe(0);
    copySecret(join(source, 'tokens', 'seeds.pskc'), '20010001', '20019999');
    const before = JSON.stringify(emu.snapshot());
    const applied = await runCli(['apply', planFile, '--graph-url', emu.url, '--state-dir', join(dir, 'b-state')]);
    expect(applied.code).not.toBe(0);
    expect(applied.stderr).toMatch(/\[secret-duplicate\]/);
    expect(JSON.stringify(emu.snapshot())).toBe(before);
  }, 60_000);
});
