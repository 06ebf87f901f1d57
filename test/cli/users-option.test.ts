import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { CONTOSO } from '../helpers/migration.js';
import { runMain } from '../helpers/run-main.js';

/** No raw C0/C1 control character (an ESC would recolour or clear the admin's terminal). */
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;

/**
 * --users FILE as an admin types it, on every command that takes it (plan, status, apply): names the
 * export does not have are said the same way, once, shown escaped. A black-box test saw plan print a
 * raw ESC from the file and status drop such names without a word; apply --source refused them
 * once its plan was shown. A line `a, b` was planned as `a`.
 */
describe('--users FILE on plan, status and apply', () => {
  let emu: RunningEmulator;
  let dir: string;
  let wave: string;
  const source = ['--source', CONTOSO, '--allow-missing-seeds'];
  const NOTE = /^Note: --users \S+wave\.txt: 1 name\(s\) no row of the export has: evil\\u001b\[31mred@contoso\.com \(.*\); they are ignored$/m;
  beforeAll(async () => {
    emu = await startEmulator({ port: 0, throttle: 'off' });
    dir = mkdtempSync(join(tmpdir(), 'users-option-'));
    wave = join(dir, 'wave.txt');
    writeFileSync(wave, 'alice@contoso.com\nevil\x1b[31mred@contoso.com\n');
  });
  afterAll(async () => {
    await emu?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('plan and status name the names no export row has once, escaped, and go on with the rest', async () => {
    const plan = await runMain(['plan', ...source, '--graph-url', emu.url, '--users', wave, '--format', 'json']);
    expect(plan.code, plan.stderr).toBe(0);
    const status = await runMain(['status', '--source', CONTOSO, '--graph-url', emu.url, '--users', wave, '--format', 'json']);
    expect(status.code, status.stderr).toBe(0);
    expect((JSON.parse(status.stdout) as { users: { user: string }[] }).users.map((u) => u.user)).toEqual(['alice@contoso.com']);
    for (const r of [plan, status]) {
      expect(r.stderr).not.toMatch(RAW_CONTROL);
      expect(r.stderr).toMatch(NOTE);
      expect(r.stderr.match(/no row of the export has/g)).toHaveLength(1);
    }
  });

  it('apply --source says them as plan does and applies the rest, rather than refusing them after the plan is shown', async () => {
    const r = await runMain(['apply', ...source, '--graph-url', emu.url, '--users', wave, '--auto-approve', '--state-dir', join(dir, 'state')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(RAW_CONTROL);
    expect(r.stderr).toMatch(NOTE);
    expect(r.stderr.match(/no row of the export has/g)).toHaveLength(1);
    expect(r.stderr).not.toMatch(/not in the plan/);
    expect(r.stdout).toMatch(/Run \S+: completed\./);
    emu.reset();
  }, 60_000);

  it('apply PLANFILE refuses a name the plan does not have, shown escaped', async () => {
    const planFile = join(dir, 'w.plan');
    const alice = join(dir, 'alice.txt');
    writeFileSync(alice, 'alice@contoso.com\n');
    expect((await runMain(['plan', ...source, '--graph-url', emu.url, '--users', alice, '--out', planFile])).code).toBe(0);
    const r = await runMain(['apply', planFile, '--graph-url', emu.url, '--users', wave, '--state-dir', join(dir, 'state2')]);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(RAW_CONTROL);
    expect(r.stderr).toMatch(/not in the plan: evil\\u001b\[31mred@contoso\.com \(--users selects among the plan's users\)/);
  }, 60_000);

  it('every command refuses a line holding "," or ";" before reading the tenant, rather than taking its first name', async () => {
    const list = join(dir, 'list.txt');
    writeFileSync(list, 'alice@contoso.com, bob@contoso.com\n');
    emu.clearRequests();
    for (const args of [['plan', ...source], ['status', '--source', CONTOSO], ['apply', ...source, '--auto-approve', '--state-dir', join(dir, 'state3')]]) {
      const r = await runMain([...args, '--graph-url', emu.url, '--users', list]);
      expect(r.code, args[0]).toBe(1);
      expect(r.stderr).toMatch(/--users \S+list\.txt: line 1 holds "," or ";"/);
    }
    expect(emu.requests()).toEqual([]);
  }, 60_000);
});
