import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateExport } from '../../fixtures/generate-export.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import type { Plan } from '../../src/plan/plan-model.js';
import { runMain } from '../helpers/run-main.js';
import { tempDir } from '../helpers/migration.js';
import { runPlan } from '../plan/helpers.js';

const userLines = (out: string) => out.split('\n').filter((l) => /^ {2}user\d{6}@bench\.contoso\.com$/.test(l)).length;

/**
 * A large plan in the terminal: the first users with changes and each finding code grouped, as
 * `plan` and `show` alike print it; `--all` prints everything, as the JSON holds it.
 */
describe('plan and show of a generated export of 400 users in the terminal', () => {
  let tmp: ReturnType<typeof tempDir>;
  let emu: RunningEmulator;
  const args = () => ['--source', tmp.dir, '--tokens', join(tmp.dir, 'tokens', 'seeds.pskc'), '--no-color'];
  beforeAll(async () => {
    tmp = tempDir('plan-scale');
    await generateExport({ out: tmp.dir, users: 400, tokenShare: 0.5, deviceShare: 0.1, backupShare: 0.3, tenantMethodShare: 0.2, seed: 3, tenant: true });
    emu = await startEmulator({ port: 0, tenant: join(tmp.dir, 'tenant.json'), throttle: 'off' });
  }, 60_000);
  afterAll(async () => {
    await emu?.stop();
    tmp?.cleanup();
  });

  it('shows 200 users with changes and one line per crowded finding code; --all and the JSON have every one; show prints as plan did', async () => {
    const planFile = join(tmp.dir, 'wave.plan');
    const capped = await runPlan(emu.url, [...args(), '--out', planFile]);
    expect(capped.code, capped.stderr).toBe(0);
    const all = await runPlan(emu.url, [...args(), '--all', '--out', join(tmp.dir, 'again.plan')]);
    const json = JSON.parse((await runPlan(emu.url, [...args(), '--format', 'json'])).stdout) as Plan;
    const withChanges = json.users.filter((u) => u.status === 'changes').length;
    expect(withChanges).toBeGreaterThan(300);

    expect(userLines(capped.stdout)).toBe(200);
    expect(capped.stdout).toContain(`\n  ... and ${withChanges - 200} more user(s) with changes (plan --all or show PLANFILE --all prints them here; --report FILE and --format json hold them all)\n`);
    const phoneOnly = json.findings.filter((f) => f.code === 'phone-only-after-retirement');
    expect(phoneOnly.length).toBeGreaterThan(50);
    // The banner at the top, then one line of findings for them all.
    expect(capped.stdout.split('\n').filter((l) => l.includes('phone-only-after-retirement'))).toEqual([
      `${phoneOnly.length} user(s) left with SMS and voice only: from 2027-02-01, when Microsoft-provided SMS and voice retire, a blocking passkey registration prompt stops their sign-in (findings phone-only-after-retirement).`,
      expect.stringMatching(new RegExp(`^ {4}phone-only-after-retirement \\(${phoneOnly.length}\\): (user\\d{6}@bench\\.contoso\\.com, ){4}user\\d{6}@bench\\.contoso\\.com and ${phoneOnly.length - 5} more: SMS/voice only: `)),
    ]);

    expect(userLines(all.stdout)).toBe(withChanges);
    expect(all.stdout.split('\n').filter((l) => l.includes('[phone-only-after-retirement, CUTOVER-PHONE-DEADLINE]'))).toHaveLength(phoneOnly.length);
    // The summary is the same either way.
    const summary = (s: string) => s.slice(s.indexOf('\nPlan: '));
    expect(summary(capped.stdout)).toBe(summary(all.stdout));

    // show prints the saved plan as plan printed it, capped or with --all.
    const shown = await runMain(['show', planFile, '--no-color']);
    expect(shown.stdout).toBe(capped.stdout);
    const shownAll = await runMain(['show', planFile, '--all', '--no-color']);
    expect(userLines(shownAll.stdout)).toBe(withChanges);
    expect(summary(shownAll.stdout)).toBe(summary(capped.stdout));
  }, 60_000);
});
