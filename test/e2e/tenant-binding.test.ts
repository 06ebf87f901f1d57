import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { CONTOSO_SEED_ARGS, planVia } from '../helpers/e2e.js';
import { CONTOSO, tempDir } from '../helpers/migration.js';
import { runMain } from '../helpers/run-main.js';
import { writes } from '../helpers/tenant-checks.js';

const contoso = () => JSON.parse(readFileSync(join(CONTOSO, 'tenant.json'), 'utf8')) as { tenant: { id: string; displayName?: string }; users: { id: string }[] };

/** A run is bound to its tenant: over HTTP, two emulators that are two tenants. */
describe('a plan and its runs are bound to their tenant', () => {
  let home: RunningEmulator;
  let twin: RunningEmulator;
  let stranger: RunningEmulator;
  /** Another Graph root answering for the same tenant id: a rehearsal emulator loaded with the production tenant, say. */
  let rehearsal: RunningEmulator;
  let tmp: ReturnType<typeof tempDir>;
  let planFile: string;
  const env = () => ({ XDG_STATE_HOME: join(tmp.dir, 'state-home') });

  beforeAll(async () => {
    tmp = tempDir('tenants');
    // The same users (same ids) in another tenant; and a tenant whose users have other ids.
    const twinDoc = { ...contoso(), tenant: { ...contoso().tenant, id: '99999999-1111-4222-8333-444444444444', displayName: 'Fabrikam' } };
    // Every user id replaced throughout (groups and tokens refer to them).
    let strangerText = readFileSync(join(CONTOSO, 'tenant.json'), 'utf8');
    contoso().users.forEach((u, i) => (strangerText = strangerText.replaceAll(u.id, `77777777-0000-4000-8000-${String(i).padStart(12, '0')}`)));
    const strangerDoc = JSON.parse(strangerText) as ReturnType<typeof contoso>;
    strangerDoc.tenant = { ...strangerDoc.tenant, id: '88888888-1111-4222-8333-444444444444', displayName: 'Northwind' };
    [home, twin, stranger, rehearsal] = await Promise.all([
      startEmulator({ port: 0, throttle: 'off' }),
      startEmulator({ port: 0, throttle: 'off', tenant: twinDoc }),
      startEmulator({ port: 0, throttle: 'off', tenant: strangerDoc }),
      startEmulator({ port: 0, throttle: 'off' }),
    ]);
    planFile = join(tmp.dir, 'wave1.plan');
    await planVia(runMain, home.url, planFile);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([home?.stop(), twin?.stop(), stranger?.stop(), rehearsal?.stop()]);
    tmp?.cleanup();
  });

  it('apply against another tenant is refused before any write, even with --skip-stale, naming both tenants', async () => {
    for (const other of [twin, stranger]) {
      other.clearRequests();
      const r = await runMain(['apply', planFile, '--graph-url', other.url, '--skip-stale'], { env: env() });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`the plan is for tenant Contoso \\(${contoso().tenant.id}\\), but ${other.url.replace(/[.]/g, '\\.')} is tenant (Fabrikam|Northwind) \\(`));
      expect(writes(other.requests())).toEqual([]);
    }
    const source = await runMain(['apply', '--source', CONTOSO, ...CONTOSO_SEED_ARGS, '--graph-url', twin.url, '--auto-approve'], { env: env() });
    // Planned and applied against the same (other) tenant: that is its own plan, and it works.
    expect(source.code).toBe(0);
  });

  it('apply PLANFILE goes to the Graph the plan read; resume and rollback to the one the run wrote to, and refuse another tenant', async () => {
    home.reset();
    const applied = await runMain(['apply', planFile, '--batch-size', '5', '--waves', '1'], { env: env() });
    expect(applied.code).toBe(4);
    const runId = /Run (\S+): stopped/.exec(applied.stdout)![1]!;
    expect(applied.stdout).toContain(`Resume with: mfa-migrate resume ${runId}`);
    expect(writes(home.requests()).length).toBeGreaterThan(0);

    twin.clearRequests();
    rehearsal.clearRequests();
    // Another Graph is refused before anything is sent to it, whatever tenant it answers for (found by a black-box test:
    // the rest of a run went to a second root with the same tenant id, and a rollback there marked the run undone).
    for (const other of [twin, rehearsal]) {
      const wrongResume = await runMain(['resume', runId, '--graph-url', other.url], { env: env() });
      expect(wrongResume.code).toBe(1);
      expect(wrongResume.stderr).toContain(`run ${runId} wrote to ${home.url}, not ${other.url}: resume goes to the Graph the run wrote to (leave --graph-url out)`);
    }
    const resumed = await runMain(['resume', runId], { env: env() });
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain(`Run ${runId}: completed`);

    for (const other of [twin, rehearsal]) {
      const wrongRollback = await runMain(['rollback', runId, '--graph-url', other.url], { env: env() });
      expect(wrongRollback.code).toBe(1);
      expect(wrongRollback.stderr).toContain(`run ${runId} wrote to ${home.url}, not ${other.url}: rollback goes to the Graph the run wrote to`);
    }
    expect([...twin.requests(), ...rehearsal.requests()]).toEqual([]);
    const rolledBack = await runMain(['rollback', runId], { env: env() });
    expect(rolledBack.code, rolledBack.stderr).toBe(0);
    const again = await runMain(['rollback', runId], { env: env() });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(new RegExp(`run ${runId} was rolled back already, completely, by run \\S+`));

    const runs = JSON.parse((await runMain(['runs', '--format', 'json'], { env: env() })).stdout) as { id: string; kind: string; tenant: { id: string; displayName: string }; graph: string; rollback_of: string | null; rolled_back_by: string[] }[];
    const apply = runs.find((r) => r.id === runId)!;
    const rollback = runs.find((r) => r.rollback_of === runId)!;
    expect(apply).toMatchObject({ kind: 'apply', tenant: { id: contoso().tenant.id, displayName: 'Contoso' }, graph: home.url, rolled_back_by: [rollback.id] });
    expect(rollback).toMatchObject({ kind: 'rollback', graph: home.url });
  }, 60_000);
});
