import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import { CONTOSO_SEED_ARGS } from '../helpers/e2e.js';
import { CONTOSO, testDir } from '../helpers/migration.js';
import { runMain } from '../helpers/run-main.js';
import { contosoTenant, userId } from '../plan/helpers.js';

const WAVE = 'MFA Migration Wave 2';
const WAVE_ID = '0b7e8c52-0000-4000-8000-0000000000a2';

/** Contoso with the wave group "MFA Migration Wave 2": dave, erin, frank, judy and zoe. */
function waveTenant(): Record<string, unknown> {
  const doc = contosoTenant();
  doc.groups.push({ id: WAVE_ID, displayName: WAVE, members: ['dave', 'erin', 'frank', 'judy', 'zoe'].map((n) => userId(doc, `${n}@contoso.com`)) });
  return doc as unknown as Record<string, unknown>;
}

/** The rows of a --results file: user, outcome and first_error (a CSV cell unquoted). */
const rowsOf = (csv: string) =>
  csv
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.match(/^([^,]*),([^,]*),\d+,\d+,\d+,("(?:[^"]|"")*"|[^,]*),/)!.slice(1, 4).map((c) => c.replace(/^"|"$/g, '').replace(/""/g, '"')).join(' | '));

describe('apply of a wave plan: who left the group, who is left on MFA Server', () => {
  it('the summary and --results name erin (taken out of the group since the plan, not selected) and judy and zoe (left on MFA Server)', async () => {
    const t = testDir('apply-wave-scope');
    const emu = await startEmulator({ port: 0, throttle: 'off', tenant: waveTenant() });
    try {
      const plan = join(t.dir, 'w2.plan');
      const planned = await runMain(['plan', '--source', CONTOSO, ...CONTOSO_SEED_ARGS, '--group', WAVE, '--rollout-group', 'MFA Staged Rollout', '--out', plan, '--graph-url', emu.url]);
      expect(planned.code).toBe(0);
      const erin = userId(contosoTenant(), 'erin@contoso.com');
      expect((await fetch(`${emu.url}/v1.0/groups/${WAVE_ID}/members/${erin}/$ref`, { method: 'DELETE', headers: { Authorization: 'Bearer t' } })).status).toBe(204);
      const results = join(t.dir, 'w2.csv');
      const r = await runMain(['apply', plan, '--graph-url', emu.url, '--state-dir', join(t.dir, 'state'), '--results', results]);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(`Note: 1 user(s) left the group "${WAVE}" since the plan, the plan's scope (plan --group): left out of this run (not selected): nothing is sent to them: erin@contoso.com`);
      expect(r.stdout).toContain(`  left the group "${WAVE}" since the plan (the plan's scope, plan --group): 1 user(s), left out (nothing more sent to them): erin@contoso.com`);
      expect(r.stdout).not.toContain('not selected for this run');
      expect(r.stdout).toContain('  2 user(s) left on MFA Server (no cloud MFA method the policy lets them use, so the plan does not switch them; not-switched): judy@contoso.com, zoe@contoso.com. Migrate or enable a method for them, then plan again');
      const csv = readFileSync(results, 'utf8');
      // No column added: stale_reason stays the last (empty for all of these users).
      expect(csv.split('\n')[0]).toBe('user,outcome,done,failed,skipped,first_error,run_id,plan_hash,final_hash,stale_reason');
      expect(csv.trim().split('\n').slice(1).every((l) => l.endsWith(','))).toBe(true);
      expect(rowsOf(csv)).toEqual([
        'dave@contoso.com | done | ',
        `erin@contoso.com | not-selected | left the group "${WAVE}" since the plan`,
        'frank@contoso.com | done | ',
        expect.stringMatching(/^judy@contoso\.com \| unchanged \| left on MFA Server: not switched to Entra MFA, as they have no cloud MFA method/),
        expect.stringMatching(/^zoe@contoso\.com \| unchanged \| left on MFA Server: /),
      ]);
    } finally {
      await emu.stop();
    }
  });
});
