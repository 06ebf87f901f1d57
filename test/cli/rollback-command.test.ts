import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { runCli } from '../helpers/run-cli.js';
import { CONTOSO_SEEDS } from '../plan/helpers.js';

const SEEDS = CONTOSO_SEEDS;

/** The state with the times Graph stamps on writes left out. */
function comparable(snapshot: Record<string, unknown>): unknown {
  return JSON.parse(JSON.stringify(snapshot, (k, v) => (/DateTime$/.test(k) ? undefined : v)));
}

describe('mfa-migrate rollback', () => {
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await startEmulator({ port: 0, throttle: 'off' });
  });
  afterAll(async () => {
    await emu.stop();
  });

  it('returns the tenant to its starting state after a full apply', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollback-'));
    const before = comparable(emu.snapshot());
    const plan = await runCli(['plan', '--source', 'fixtures/contoso', ...SEEDS, '--graph-url', emu.url, '--out', join(dir, 'p.plan')]);
    expect(plan.code).toBe(0);
    const apply = await runCli(['apply', join(dir, 'p.plan'), '--graph-url', emu.url, '--state-dir', join(dir, 'state')]);
    expect(apply.code).toBe(0);
    expect(comparable(emu.snapshot())).not.toEqual(before);

    const runs = JSON.parse((await runCli(['runs', '--state-dir', join(dir, 'state'), '--format', 'json'])).stdout) as { id: string; kind: string; state: string }[];
    expect(runs).toEqual([expect.objectContaining({ kind: 'apply', state: 'completed' })]);
    const rollback = await runCli(['rollback', runs[0]!.id, '--graph-url', emu.url, '--state-dir', join(dir, 'state')]);
    expect(rollback.stderr).toBe('');
    expect(rollback.code).toBe(0);
    expect(rollback.stdout).toMatch(/: completed\./);
    expect(comparable(emu.snapshot())).toEqual(before);

    const after = JSON.parse((await runCli(['runs', '--state-dir', join(dir, 'state'), '--format', 'json'])).stdout) as { kind: string; state: string }[];
    expect(after.map((r) => `${r.kind}:${r.state}`)).toEqual(['rollback:completed', 'apply:completed']);
  });

  it('leaves alone what changed since the run and reports it (exit 3)', async () => {
    emu.reset();
    const dir = mkdtempSync(join(tmpdir(), 'rollback-changed-'));
    await runCli(['plan', '--source', 'fixtures/contoso', ...SEEDS, '--graph-url', emu.url, '--out', join(dir, 'p.plan')]);
    expect((await runCli(['apply', join(dir, 'p.plan'), '--graph-url', emu.url, '--state-dir', join(dir, 'state')])).code).toBe(0);
    // Someone changes bob's mobile after the migration.
    const bob = (await (await fetch(`${emu.url}/v1.0/users/bob@contoso.com`, { headers: { Authorization: 'Bearer t' } })).json()) as { id: string };
    const res = await fetch(`${emu.url}/v1.0/users/${bob.id}/authentication/phoneMethods/3179e48a-750b-4051-897c-87b9720928f7`, {
      method: 'PATCH',
      headers: { Authorization: 'Bearer t', 'Content-Type': 'application/json' },
      body: JSON.stringify({ phoneNumber: '+1 2065550777', phoneType: 'mobile' }),
    });
    expect(res.status).toBe(204);
    const [run] = JSON.parse((await runCli(['runs', '--state-dir', join(dir, 'state'), '--format', 'json'])).stdout) as { id: string }[];
    const r = await runCli(['rollback', run!.id, '--graph-url', emu.url, '--state-dir', join(dir, 'state')]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/left alone \(changed since the run\): bob@contoso.com phoneMethods\/mobile/);
    const phones = (await (await fetch(`${emu.url}/v1.0/users/${bob.id}/authentication/phoneMethods`, { headers: { Authorization: 'Bearer t' } })).json()) as { value: { phoneType: string; phoneNumber: string }[] };
    expect(phones.value.find((p) => p.phoneType === 'mobile')?.phoneNumber).toBe('+1 2065550777');
  });
});
