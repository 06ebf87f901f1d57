import { describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import { testDir } from '../helpers/migration.js';
import { ONPREM_GROUP, onPremisesExport, onPremisesGroupTenant } from '../helpers/onprem-tenant.js';
import { runMain } from '../helpers/run-main.js';

describe('status --source --group', () => {
  it('counts the users plan --group takes: those matched to a member by on-premises name, and one ambiguous among members', async () => {
    const t = testDir('status-source-group');
    const emu = await startEmulator({ port: 0, throttle: 'off', tenant: onPremisesGroupTenant() as unknown as Record<string, unknown> });
    try {
      const source = onPremisesExport(t.dir);
      const status = await runMain(['status', '--source', source, '--group', ONPREM_GROUP, '--graph-url', emu.url]);
      expect(status.code).toBe(0);
      expect(status.stdout).toContain('4 user(s) in scope');
      expect(status.stdout).toContain('jdoe@contoso.com (CORP\\jdoe)');
      expect(status.stdout).not.toContain('bob@contoso.com');
      expect(status.stderr).toContain('left out of the scope, matched to a tenant user who is not a member: bob@contoso.com');
      const plan = await runMain(['plan', '--source', source, '--group', ONPREM_GROUP, '--graph-url', emu.url, '--format', 'json']);
      const planned = (JSON.parse(plan.stdout) as { users: { user: string }[] }).users.map((u) => u.user);
      const shown = (JSON.parse((await runMain(['status', '--source', source, '--group', ONPREM_GROUP, '--graph-url', emu.url, '--format', 'json'])).stdout) as { users: { user: string; username?: string }[] }).users.map((u) => u.username ?? u.user);
      expect(shown).toEqual(planned);
      expect(shown).toEqual(['CORP\\jdoe', 'mary', 'sam1', 'alice@contoso.com']);
    } finally {
      await emu.stop();
    }
  });
});
