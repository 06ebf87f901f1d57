import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import { testDir } from '../helpers/migration.js';
import { BOB, JDOE, MARY, ONPREM_GROUP, onPremisesExport, onPremisesGroupTenant } from '../helpers/onprem-tenant.js';
import { runMain } from '../helpers/run-main.js';

const rowsOf = (csv: string) => csv.trim().split('\n').slice(1).map((l) => l.split(',').slice(0, 2).join(' '));

describe('apply --source --group', () => {
  it('applies every user the plan it shows took: those matched to a member by on-premises name, and one ambiguous among members', async () => {
    const t = testDir('apply-source-group');
    const emu = await startEmulator({ port: 0, throttle: 'off', tenant: onPremisesGroupTenant() as unknown as Record<string, unknown> });
    try {
      const results = join(t.dir, 'results.csv');
      const r = await runMain(['apply', '--source', onPremisesExport(t.dir), '--group', ONPREM_GROUP, '--graph-url', emu.url, '--state-dir', join(t.dir, 'state'), '--auto-approve', '--results', results]);
      expect(r.stdout).toContain('4 user(s) in scope');
      expect(r.stdout).not.toContain('not selected for this run');
      expect(r.code).toBe(0);
      // sam1 (two members have the name) is in the plan's scope with nothing written: so in the results too.
      expect(rowsOf(readFileSync(results, 'utf8'))).toEqual(['CORP\\jdoe done', 'mary done', 'sam1 not-in-tenant', 'alice@contoso.com done']);
      const phones = (id: string) => ((emu.snapshot().users as { id: string; methods?: { phone?: { phoneNumber: string }[] } }[]).find((u) => u.id === id)?.methods?.phone ?? []).map((p) => p.phoneNumber);
      expect(phones(JDOE)).toEqual(['+1 4255550201']);
      expect(phones(MARY)).toEqual(['+1 4255550202']);
      // bob@contoso.com is bob1234's on-premises UPN, but the UPN of bob, who is no member: never written to, and said.
      expect(phones(BOB)).not.toContain('+1 4255550192');
      expect(r.stderr).toContain('left out of the scope, matched to a tenant user who is not a member: bob@contoso.com');
    } finally {
      await emu.stop();
    }
  });
});
