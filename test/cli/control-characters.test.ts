import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { ROOT } from '../helpers/run-cli.js';
import { runMain } from '../helpers/run-main.js';

/**
 * A vendor's seed file is input nobody here controls: a serial holding terminal escapes must not
 * reach the admin's terminal raw from any command (it could hide or rewrite the lines of the plan
 * they sign off). A black-box test saw plan's and show's change lines print one.
 */
const SERIAL = '\x1b[31mRED\x1b[0m\r7';

describe('a serial with control characters, through plan, show, apply, runs, report and rollback', () => {
  let dir: string;
  let emu: RunningEmulator;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'control-chars-'));
    cpSync(join(ROOT, 'fixtures', 'contoso'), join(dir, 'contoso'), { recursive: true });
    const users = join(dir, 'contoso', 'users.csv');
    writeFileSync(users, readFileSync(users, 'utf8').replace(',20010001,', `,"${SERIAL}",`));
    writeFileSync(join(dir, 'wave.txt'), 'grace@contoso.com\n');
    writeFileSync(join(dir, 'seeds.csv'), `serial,secret,encoding,type,digits,period\n"${SERIAL}",JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP,base32,totp,6,30\n`);
    emu = await startEmulator({ port: 0, throttle: 'off' });
  });
  afterAll(async () => {
    await emu?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is shown escaped, never sent to the terminal', async () => {
    const plan = join(dir, 'w.plan');
    const state = join(dir, 'state');
    const source = ['--source', join(dir, 'contoso'), '--tokens', join(dir, 'seeds.csv'), '--allow-missing-seeds'];
    const outputs: Record<string, { code: number | null; stdout: string; stderr: string }> = {};
    outputs.plan = await runMain(['plan', ...source, '--graph-url', emu.url, '--users', join(dir, 'wave.txt'), '--out', plan]);
    expect(outputs.plan.code, outputs.plan.stderr).toBe(0);
    expect(outputs.plan.stdout).toContain('hardwareOathMethods/\\u001b[31mRED\\u001b[0m\\u000d7');
    outputs.show = await runMain(['show', plan]);
    outputs.apply = await runMain(['apply', plan, '--graph-url', emu.url, '--state-dir', state]);
    expect(outputs.apply.code, outputs.apply.stderr).toBe(0);
    outputs.runs = await runMain(['runs', '--state-dir', state]);
    const runId = /^ +(\S+) +apply +completed/m.exec(outputs.runs.stdout)?.[1];
    expect(runId).toBeDefined();
    outputs.report = await runMain(['report', runId!, '--state-dir', state]);
    outputs.rollback = await runMain(['rollback', runId!, '--graph-url', emu.url, '--state-dir', state]);
    expect(outputs.rollback.code, outputs.rollback.stderr).toBe(0);
    for (const [command, r] of Object.entries(outputs)) {
      expect(`${r.stdout}${r.stderr}`, command).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
    }
  });
});
