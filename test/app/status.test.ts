import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cutoverStatus } from '../../src/app/status.js';
import { renderStatus } from '../../src/cli/views/status-table.js';
import { fakeGraph } from '../helpers/graph.js';
import { CONTOSO } from '../helpers/migration.js';
import { ROOT } from '../helpers/run-cli.js';

// Every read permission status could want, as an application: what Graph still refuses an app is staged rollout.
const APP = {
  appId: '11111111-2222-3333-4444-555555555555',
  appDisplayName: 'status app',
  roles: ['Organization.Read.All', 'User.Read.All', 'Policy.Read.All', 'Policy.Read.AuthenticationMethod', 'UserAuthenticationMethod.Read.All', 'GroupMember.Read.All', 'Group.Read.All', 'Domain.Read.All', 'Directory.Read.All'],
};

const contoso = () => JSON.parse(readFileSync(join(ROOT, 'fixtures/contoso/tenant.json'), 'utf8')) as Record<string, unknown>;

describe('cutoverStatus', () => {
  /** A black-box test: status under an app-only sign-in stopped at the rollout policies' 403, while doctor called it ready. */
  it('an application, which Graph lets read no staged rollout, is told the rest, and why no user shows switched by a rollout group', async () => {
    const g = fakeGraph({ tenant: { ...contoso(), identity: APP } });
    const s = await cutoverStatus({ source: CONTOSO, graph: g.client({ readOnly: true }), concurrency: 4 });
    expect(g.operations().some((o) => o.path.includes('featureRolloutPolicies') && o.status === 403)).toBe(true);
    expect(s.rollout_policy).toBeNull();
    expect(s.rollout_unread).toMatch(/^Graph refused to list the staged rollout policies \(403\): .*Policy\.Read\.HybridAuthentication.*no user is shown as switched by a rollout group/);
    expect(s.read_as).toBe('status app');
    expect(s.counts.users).toBe(40);
    expect(s.federation).toEqual([{ domain: 'contoso.com', federatedIdpMfaBehavior: 'acceptIfMfaDoneByFederatedIdp' }]);
    expect(renderStatus(s)).toMatch(/^ {2}staged rollout \(multiFactorAuthentication\): not read: Graph refused to list/m);
    // An admin signed in reads it: nothing to say.
    const admin = await cutoverStatus({ source: CONTOSO, graph: fakeGraph().client({ readOnly: true }), concurrency: 4 });
    expect(admin.rollout_unread).toBeNull();
    expect(renderStatus(admin)).toMatch(/^ {2}staged rollout \(multiFactorAuthentication\): no policy$/m);
  });
});
