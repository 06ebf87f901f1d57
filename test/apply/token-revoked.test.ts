import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyPlanFile } from '../../src/app/apply.js';
import { credentialTokens } from '../../src/graph/access-token.js';
import { GraphClient } from '../../src/graph/graph-client.js';
import { TokenRefusedError } from '../../src/graph/graph-errors.js';
import { type FakeGraph } from '../helpers/graph.js';
import { resumeIn, testDir, planOfUntouched } from '../helpers/migration.js';
import { expectPlanApplied, type Snapshot } from '../helpers/tenant-checks.js';

/**
 * A review: an access token revoked mid-run (or expired before its time) was kept, and every later
 * user failed with 401 InvalidAuthenticationToken. Now the run fetches a new token and goes on; if
 * Graph refuses that one too, the run stops, to be resumed once sign-in works again.
 */
describe('apply when Graph refuses the access token mid-run', () => {
  /**
   * A client signing in with a credential that hands out tok-1, tok-2, ... in turn, through a Graph
   * that, once it has taken a `$batch` writing users' methods, refuses (401, as Graph does) every token `refused` names.
   */
  function revoking(g: FakeGraph, refused: (token: string) => boolean) {
    let calls = 0;
    let writes = 0;
    let refusals = 0;
    const credential = { getToken: async () => ({ token: `tok-${++calls}`, expiresOnTimestamp: Date.now() + 3_600_000 }) };
    const fetch: typeof g.emu.fetch = async (input, init) => {
      const token = new Headers(init?.headers).get('authorization')?.replace(/^Bearer /, '') ?? '';
      if (writes > 0 && refused(token)) {
        refusals++;
        return Response.json({ error: { code: 'InvalidAuthenticationToken', message: 'Lifetime validation failed, the token is expired.' } }, { status: 401, headers: { 'WWW-Authenticate': 'Bearer realm="", error="invalid_token"' } });
      }
      // A user's method written: the run is under way, its journal kept.
      if (/"method":"(POST|PATCH|DELETE)","url":"[^"]*\/authentication\//.test(String(init?.body ?? ''))) writes++;
      return g.emu.fetch(input, init);
    };
    const client = new GraphClient({ root: g.emu.url, tokens: credentialTokens(credential), readOnly: false, concurrency: 4, fetch, retry: { capMs: 300 } });
    return { client, calls: () => calls, refusals: () => refusals };
  }

  async function planned() {
    const { dir } = testDir('token-revoked');
    const planFile = join(dir, 'contoso.plan');
    const { g, plan } = await planOfUntouched(planFile);
    return { g, plan, planFile, stateDir: join(dir, 'state') };
  }

  it('revoked once writes have begun: one new token, and the run completes with every user done', async () => {
    const { g, plan, planFile, stateDir } = await planned();
    const r = revoking(g, (t) => t === 'tok-1');
    const applied = await applyPlanFile(planFile, { graph: r.client, stateDir, batchSize: 500, skipStale: false, concurrency: 4 });
    expect(r.refusals()).toBeGreaterThan(0);
    expect(r.calls()).toBe(2);
    expect(applied.outcome.state).toBe('completed');
    expect(applied.outcome.counts).toMatchObject({ failed: 0, skipped: 0, pending: 0 });
    expect(applied.results.filter((u) => u.failed > 0 || !['done', 'unchanged', 'disabled', 'not-in-tenant'].includes(u.outcome))).toEqual([]);
    expectPlanApplied(plan, g.emu.snapshot() as Snapshot);
  }, 60_000);

  it('the new token refused as well: the run stops at once (not a failure per user), and a resume finishes it', async () => {
    const { g, plan, planFile, stateDir } = await planned();
    const r = revoking(g, () => true);
    const err = await applyPlanFile(planFile, { graph: r.client, stateDir, batchSize: 500, skipStale: false, concurrency: 4 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenRefusedError);
    // One new token asked for, not one per request refused.
    expect(r.calls()).toBe(2);
    expect(r.refusals()).toBeGreaterThan(0);
    const resumed = await resumeIn(g, stateDir);
    expect(resumed.outcome.state).toBe('completed');
    expect(resumed.outcome.counts).toMatchObject({ failed: 0 });
    expectPlanApplied(plan, g.emu.snapshot() as Snapshot);
  }, 60_000);
});
