import { describe, expect, it } from 'vitest';
import { applyPlanFile } from '../../src/app/apply.js';
import { connectGraph } from '../../src/graph/connect.js';
import { applyFile, resumeIn } from '../helpers/migration.js';
import { CHEN, DEVICES, plannedContoso, SERIAL, uploadToZoe, ZOE } from '../helpers/stale-chen.js';
import { writes } from '../helpers/tenant-checks.js';

/**
 * A black-box test: chen's token (serial 20010006, which the plan creates) uploaded to zoe's name after
 * the plan. Apply neither flagged it nor stopped: the bulk create left the serial out, chen's
 * assign-and-activate was refused ("assigned to another user"), taken for the policy's propagation
 * for 20 minutes, then offered to a resume forever (404 once zoe's token was deleted).
 */
describe("apply: a plan's token uploaded to another user since the plan", () => {
  const t = plannedContoso('held-elsewhere');

  /** The admin takes zoe's token off her and out of the inventory. */
  async function deleteZoes(id: string): Promise<void> {
    expect((await t.g.raw.delete(`/beta/users/${ZOE}/authentication/hardwareOathMethods/${id}`)).status).toBe(204);
    expect((await t.g.raw.delete(`${DEVICES}/${id}`)).status).toBe(204);
  }

  const chensActivations = () => t.g.operations().filter((o) => o.path.includes(CHEN) && /assignAndActivate/i.test(o.path));

  it('the pre-flight refuses the run, naming the serial and the holder, before any write; --skip-stale leaves chen out', async () => {
    await uploadToZoe(t.g);
    t.g.emu.clearRequests();
    const dir = t.stateDir();
    const err = (await applyFile(t.g, t.planFile, dir, { tokenPath: 'bulk' }).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(new RegExp(`chen@contoso\\.com hardwareOathMethods/${SERIAL}: the token with serial ${SERIAL} is assigned to another user \\(${ZOE}\\).*plan again`));
    expect(err.message).not.toMatch(/JBSWY3DP/);
    expect(writes(t.g.emu.requests())).toEqual([]);

    const r = await applyFile(t.g, t.planFile, dir, { tokenPath: 'bulk', skipStale: true });
    expect(r.outcome.stale).toEqual([expect.objectContaining({ user: 'chen@contoso.com', target: `hardwareOathMethods/${SERIAL}` })]);
    expect(r.results.find((x) => x.user === 'chen@contoso.com')).toMatchObject({ outcome: 'skipped', first_error: 'stale' });
    expect(chensActivations()).toEqual([]);
  }, 60_000);

  it("a wave's re-read (a resume) leaves chen out when the upload came after the run began", async () => {
    const dir = t.stateDir();
    // Chen is some twenty users in: in a later wave than the first five.
    const first = await applyFile(t.g, t.planFile, dir, { tokenPath: 'bulk', batchSize: 5, waves: 1 });
    expect(first.outcome.state).toBe('stopped');
    expect(first.results.find((x) => x.user === 'chen@contoso.com')?.outcome).toBe('not-started');
    await uploadToZoe(t.g);
    t.g.emu.clearRequests();
    const r = await resumeIn(t.g, dir);
    expect(r.outcome.stale).toEqual([expect.objectContaining({ user: 'chen@contoso.com', target: `hardwareOathMethods/${SERIAL}`, reason: expect.stringMatching(/assigned to another user.*plan again/) })]);
    expect(r.outcome.staleUsers.first).toEqual(['chen@contoso.com']);
    expect(chensActivations()).toEqual([]);
  }, 60_000);

  /**
   * Zoe's token uploaded right after the pre-flight (on the run's first write): the bulk create
   * leaves the serial out, and chen's assign-and-activate is refused.
   */
  async function racedRun(dir: string): Promise<{ outcome: Awaited<ReturnType<typeof applyPlanFile>>['outcome']; zoes: string }> {
    let armed = false;
    let zoes: string | undefined;
    const fetch: typeof t.g.emu.fetch = async (input, init) => {
      const write = init?.method !== undefined && init.method !== 'GET' && !/"method":"GET"/.test(String(init.body ?? ''));
      if (armed && write && zoes === undefined) zoes = await uploadToZoe(t.g);
      return t.g.emu.fetch(input, init);
    };
    const graph = connectGraph({ graphUrl: t.g.emu.url, fetch, readOnly: false, concurrency: 4, retry: { capMs: 300 } });
    // A short propagation wait: without the fix the refusal was retried through all of it.
    const r = await applyPlanFile(t.planFile, { graph, stateDir: dir, batchSize: 500, skipStale: false, concurrency: 4, tokenPath: 'bulk', policyPropagationWait: 0.05, onRun: () => (armed = true) });
    expect(zoes).toBeDefined();
    return { outcome: r.outcome, zoes: zoes! };
  }

  it('an assign-and-activate refused as assigned to another user fails at once, saying to plan again, and no resume is offered for it', async () => {
    const { outcome } = await racedRun(t.stateDir());
    const chen = outcome.users.find((u) => u.upn === 'chen@contoso.com');
    expect(chen).toMatchObject({ outcome: 'partial', error: expect.stringMatching(new RegExp(`serial ${SERIAL} is assigned to another user.*not a wait for the policy; no resume mends this: plan again`)) });
    // Sent once: not tried again while the policy propagates.
    expect(chensActivations()).toHaveLength(1);
    expect(outcome.stats.waitingForPolicy).toBe(0);
    expect(outcome.users.filter((u) => u.outcome !== 'done' && u.upn !== 'chen@contoso.com')).toEqual([]);
    expect(outcome.resumable).toBe(false);
  }, 60_000);

  it('a resume after it leaves chen out as stale: zoe holds the token still, or it is gone (the run never created it)', async () => {
    const held = t.stateDir();
    await racedRun(held);
    t.g.emu.clearRequests();
    const again = await resumeIn(t.g, held);
    expect(again.outcome.stale).toEqual([expect.objectContaining({ user: 'chen@contoso.com', reason: expect.stringMatching(new RegExp(`assigned to another user \\(${ZOE}\\).*plan again`)) })]);
    expect(chensActivations()).toEqual([]);
    expect(again.outcome.resumable).toBe(false);

    t.g.emu.reset();
    const gone = t.stateDir();
    const { zoes } = await racedRun(gone);
    await deleteZoes(zoes);
    t.g.emu.clearRequests();
    const r = await resumeIn(t.g, gone);
    expect(r.outcome.stale).toEqual([expect.objectContaining({ user: 'chen@contoso.com', target: `hardwareOathMethods/${SERIAL}`, reason: expect.stringMatching(/no longer in the inventory: this run cannot create it now; plan again/) })]);
    // Nothing sent for chen (a 404 every time, before), and nothing left to resume.
    expect(chensActivations()).toEqual([]);
    expect(r.outcome.resumable).toBe(false);
    expect(r.outcome.staleUsers.first).toEqual(['chen@contoso.com']);
  }, 60_000);
});
