import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateExport } from '../../fixtures/generate-export.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { operations, planJson, writesIn } from '../plan/helpers.js';

/**
 * The benchmark's generator (fixtures/generate-export.ts) at a size where the plan lists the whole
 * directory instead of looking users up one by one (over 200 users): its tenant file loads in the
 * emulator and the plan matches its users to the export.
 */
describe('mfa-migrate plan on a generated export of 300 users', () => {
  let dir: string;
  let emu: RunningEmulator;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'plan-generated-'));
    await generateExport({ out: dir, users: 300, tokenShare: 0.5, deviceShare: 0.1, backupShare: 0.3, tenantMethodShare: 0.2, seed: 3, tenant: true });
    emu = await startEmulator({ port: 0, tenant: join(dir, 'tenant.json'), throttle: 'off' });
  });
  afterAll(async () => {
    await emu?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('plans every enabled user, reading the directory by pages and each user once', async () => {
    const rows = readFileSync(join(dir, 'users.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    const enabled = rows.filter((r) => r[4] === 'true').map((r) => r[0]!);
    const { plan, result } = await planJson(emu.url, ['--source', dir, '--tokens', join(dir, 'tokens', 'seeds.pskc')]);
    expect(result.code).toBe(0);
    expect(plan.summary.users).toBe(300);
    expect(plan.findings.filter((f) => f.code === 'user-not-found')).toEqual([]);
    expect(plan.findings.filter((f) => f.code === 'user-disabled')).toHaveLength(300 - enabled.length);
    // Some tenant users already have the export's mobile: no-ops next to creates.
    const phones = plan.user_changes.filter((c) => c.resource === 'phoneMethods/mobile');
    expect(phones.filter((c) => c.action === 'no-op').length).toBeGreaterThan(10);
    expect(phones.filter((c) => c.action === 'create').length).toBeGreaterThan(100);
    expect(plan.user_changes.filter((c) => c.resource.startsWith('hardwareOathMethods/') && c.action === 'create').length).toBeGreaterThan(100);

    const log = emu.requests();
    expect(writesIn(log)).toEqual([]);
    expect(log.filter((e) => e.path.startsWith('/v1.0/users?')).map((e) => e.path)).toEqual([expect.stringContaining('$top=999')]);
    const ops = operations(log);
    expect(ops.filter((o) => o.path.endsWith('/authentication/methods'))).toHaveLength(enabled.length);
    expect(ops.some((o) => /^\/v1\.0\/users\/[^/?]+\?/.test(o.path))).toBe(false);
  });
});
