import { describe, expect, it } from 'vitest';
import type { ApplyOutcome } from '../../../src/apply/run-apply.js';
import type { RollbackOutcome } from '../../../src/apply/run-rollback.js';
import { handoffOf } from '../../../src/cli/job.js';
import { renderApplySummary, renderRollbackSummary } from '../../../src/cli/views/apply-summary.js';

const outcome = (done: number, doneBefore: number): ApplyOutcome => ({
  runId: 'r1',
  runDir: '/s/runs/r1',
  planHash: 'a'.repeat(64),
  state: 'completed',
  tenant: { id: 't', displayName: 'Contoso' },
  stale: [],
  users: [],
  userCounts: { done: 0, partial: 0, failed: 0, skipped: 0, unknown: 0, 'not-started': 0 },
  counts: { pending: 0, started: 0, done, failed: 0, skipped: 0 },
  stats: { total: done, waitingForPolicy: 0, waitingForGraph: 0, caughtUp: 0, paced: 0, pacedWaiting: 0, done, doneBefore, failed: 0, skipped: 0, throttled: 0, retried: 0, verified: 0, batches: 0, concurrency: 4, startedAt: Date.now() - 10_000 },
  notSelected: { users: 0, federation: [] },
  federationLeft: [],
  federationDone: [],
  wavesDone: 1,
  waves: 1,
  resumable: false,
  staleUsers: { count: 0, first: [] },
});

describe('renderApplySummary', () => {
  it('says a run stopped by writes refused for access stopped in its wave, not after it as --waves stops one (a review)', () => {
    const o = { ...outcome(10, 0), state: 'stopped' as const, wavesDone: 1, waves: 3 };
    expect(renderApplySummary(o, '/s', undefined)).toContain('Run r1: stopped after wave 1 of 3. Tenant');
    // The wave it stopped in, as the run recorded it: a resume retrying wave 1's failed writes stops in wave 1, whatever wavesDone says.
    expect(renderApplySummary({ ...o, refusedStop: { reason: '20 writes in a row were refused for access', wave: 2 } }, '/s', undefined)).toContain('Run r1: stopped in wave 2 of 3: writes were refused for access (above). Tenant');
    expect(renderApplySummary({ ...o, wavesDone: 2, refusedStop: { reason: 'r', wave: 1 } }, '/s', undefined)).toContain('Run r1: stopped in wave 1 of 3: writes');
  });

  it('names the first 20 tenant users outside the plan a forced federation moved with no method, then where the rest are', () => {
    const users = Array.from({ length: 22 }, (_, i) => `svc${String(i).padStart(2, '0')}@contoso.com`);
    const o = { ...outcome(1, 0), federationDone: ['contoso.com'], outsidersMovedByFederation: [{ domain: 'contoso.com', users }] };
    const text = renderApplySummary(o, '/s', undefined, '/s');
    expect(text).toContain('federation of contoso.com: done: it rejects the federated IdP\'s MFA now, so its users meet Entra MFA, 22 of them with no cloud MFA method they can use (below)');
    expect(text).toContain(`22 tenant user(s) outside the plan moved to Entra MFA by the federation of contoso.com (--force-federation) with no cloud MFA method they can use, as the plan read them: ${users.slice(0, 20).join(', ')}, and 2 more (mfa-migrate report r1 --state-dir /s --report r1.html lists every one).`);
  });

  it('counts in its rate only what this pass sent (a resume that sent nothing said 181 ops/s)', () => {
    expect(renderApplySummary(outcome(100, 100), '/s', undefined)).toContain('0 batches, 0 throttled, 0 retried, 0 read back; 0.0 ops/s');
    expect(renderApplySummary(outcome(100, 50), '/s', undefined)).toMatch(/; 5\.0 ops\/s/);
  });

  it("says the writes sent again while Graph caught up apart from throttling (a rehearsal read '148 retried' for 2,355 refused defaults)", () => {
    const o = outcome(100, 0);
    expect(renderApplySummary({ ...o, stats: { ...o.stats, throttled: 3, retried: 3, caughtUp: 2355 } }, '/s', undefined)).toContain('3 throttled, 3 retried, 2355 write(s) sent again while Graph caught up');
  });

  it('counts writes sent with no answer (an interrupt) apart from those never sent, and their users apart from those not started', () => {
    const o = outcome(10, 0);
    const text = renderApplySummary({ ...o, state: 'interrupted', counts: { ...o.counts, pending: 7, started: 3 }, userCounts: { ...o.userCounts, unknown: 2, 'not-started': 4 } }, '/s', 'mfa-migrate resume r1');
    expect(text).toContain('operations: 10 done, 0 failed, 0 skipped, 7 pending, 3 sent with outcome unknown');
    expect(text).toContain('0 skipped, 4 not started, 2 sent with outcome unknown');
    expect(renderApplySummary(o, '/s', undefined)).not.toMatch(/outcome unknown/);
  });

  it('names the first 20 users failed or partly done, then counts the rest and says where they are (a scale test saw 20 of 192 and no more said)', () => {
    const users = Array.from({ length: 25 }, (_, i) => ({ upn: `u${i}@contoso.com`, outcome: 'partial' as const, error: 'answered 502' }));
    const text = renderApplySummary({ ...outcome(10, 0), state: 'partial', users: users as unknown as ApplyOutcome['users'] }, '/s', undefined, '/s');
    expect(text.match(/^ {2}u\d+@contoso\.com: answered 502$/gm)).toHaveLength(20);
    expect(text).toContain('  ... and 5 more users failed or partly done (25 in all): mfa-migrate report r1 --state-dir /s --report r1.html lists every one');
  });

  it('counts the rest past 20 and says where they are after the worker handed the outcome over too (a 30,000-user rehearsal read 20 of 120 partial, no more said)', () => {
    const users = Array.from({ length: 300 }, (_, i) => ({ upn: `u${i}@contoso.com`, outcome: i % 2 === 0 ? ('done' as const) : i < 240 ? ('partial' as const) : ('failed' as const), operations: 2, done: 1, failed: i < 240 ? 0 : 1, skipped: 0, error: 'answered 502' }));
    const o = { ...outcome(10, 0), state: 'partial' as const, users, userCounts: { ...outcome(0, 0).userCounts, done: 150, partial: 120, failed: 30 } };
    const handed = handoffOf({ outcome: o, stateDir: '/s', results: [] }, false);
    // Only the first 20 cross to the thread that prints, and their total with them.
    expect(handed.outcome.users).toHaveLength(20);
    const text = renderApplySummary(handed.outcome, handed.stateDir, undefined, '/s');
    expect(text).toContain('users: 150 done, 120 partial, 30 failed');
    expect(text.match(/^ {2}u\d+@contoso\.com: answered 502$/gm)).toHaveLength(20);
    expect(text).toContain('  ... and 130 more users failed or partly done (150 in all): mfa-migrate report r1 --state-dir /s --report r1.html lists every one');
    // What the thread that ran it prints itself is the same.
    expect(renderApplySummary(o, '/s', undefined, '/s')).toBe(text);
  });

  it('says why a user is partly done when no operation of theirs failed (a black-box test read a bare "partial" after an interrupt)', () => {
    const users = [
      { upn: 'a@contoso.com', outcome: 'partial', operations: 4, done: 2, failed: 0, skipped: 0 },
      { upn: 'b@contoso.com', outcome: 'partial', operations: 4, done: 3, failed: 0, skipped: 1 },
      { upn: 'c@contoso.com', outcome: 'failed', operations: 1, done: 0, failed: 1, skipped: 0 },
    ] as ApplyOutcome['users'];
    const text = renderApplySummary({ ...outcome(5, 0), state: 'interrupted', users }, '/s', 'mfa-migrate resume r1');
    expect(text).toContain('  a@contoso.com: partly done (2 of 4 operation(s)): the run stopped before the rest was sent\n');
    expect(text).toContain('  b@contoso.com: partly done (3 of 4 operation(s), 1 skipped)\n');
    expect(text).toContain('  c@contoso.com: failed\n');
  });

  it('says when token activations waited for the activation pace, which no throttled count explains', () => {
    const o = outcome(300, 0);
    // With its rate (a 30,000-user rehearsal read "(--activation-rate a 5 minutes)", the number missing).
    const pace = { activations: 200, windowMs: 300_000, inWindow: 0 };
    expect(renderApplySummary({ ...o, stats: { ...o.stats, paced: 75, activationPace: pace } }, '/s', undefined)).toContain('  75 token activation(s) waited for the activation pace (200 per 5 minutes, --activation-rate)\n');
    expect(renderApplySummary(o, '/s', undefined)).not.toContain('activation pace');
  });

  it('says a domain\'s federation changed, which moves every user of it at once (a black-box test saw only "1 done")', () => {
    expect(renderApplySummary({ ...outcome(1, 0), federationDone: ['contoso.com'] }, '/s', undefined)).toContain(
      "  federation of contoso.com: done: it rejects the federated IdP's MFA now, so every user of the domain meets Entra MFA (allow up to 24 hours)",
    );
    expect(renderApplySummary(outcome(1, 0), '/s', undefined)).not.toContain('federation of');
  });

  it('names the users left out as stale and the way on for them, a new plan (no resume sends them)', () => {
    const o = { ...outcome(10, 0), state: 'partial' as const, staleUsers: { count: 22, first: Array.from({ length: 20 }, (_, i) => `u${i}@contoso.com`) } };
    const text = renderApplySummary(o, '/s', undefined);
    expect(text).toContain('Left out as stale, which no resume sends: 22 user(s): u0@contoso.com, u1@contoso.com');
    expect(text).toContain('u19@contoso.com and 2 more');
    expect(text).toContain('mfa-migrate plan ... --users FILE --out FILE');
    expect(text).not.toContain('Resume with');
    expect(renderApplySummary(outcome(10, 0), '/s', undefined)).not.toContain('Left out as stale');
  });

  it('sends to a new plan of the whole scope, not of the stale users alone, when a staged rollout step is held for good (a black-box test: the run\'s other 31 users were never switched)', () => {
    const held = { op: 'cutover/featureRolloutPolicy/appliesTo/g', doing: 'attaching "Pilot"', error: 'held: 1 member(s) of "Pilot" whose methods this run does not write (1 left out as stale): grace@contoso.com. ...', forGood: true };
    const o = { ...outcome(10, 0), state: 'partial' as const, staleUsers: { count: 1, first: ['grace@contoso.com'] }, switchesHeld: [held] };
    const text = renderApplySummary(o, '/s', undefined);
    expect(text).toContain("Left out as stale, which no resume sends: 1 user(s): grace@contoso.com. A staged rollout step is held for good (above), and every switch of this run waits for it: make a new plan with this plan's options and whole scope");
    expect(text).not.toContain('--users FILE');
    // A hold a resume lifts does not change the advice for the stale users.
    expect(renderApplySummary({ ...o, switchesHeld: [{ ...held, forGood: false }] }, '/s', undefined)).toContain('mfa-migrate plan ... --users FILE --out FILE');
  });
});

const rollbackOutcome = (over: Partial<RollbackOutcome>): RollbackOutcome =>
  ({
    runId: 'r2',
    rollbackOf: 'r1',
    state: 'completed',
    tenant: { id: 't-1', displayName: 'Contoso' },
    changedSince: [],
    notReversible: [],
    resumable: false,
    goneAlready: [],
    alreadyAsBefore: [],
    failures: [],
    cutoverUndone: [],
    stillSwitched: [],
    stillSwitchedUsers: [],
    counts: { pending: 0, started: 0, done: 10, failed: 0, skipped: 0 },
    ...over,
  }) as RollbackOutcome;

describe('rollback summary', () => {
  it("says what of the cutover it undid, which moves users back to MFA Server at once (a black-box test found no line)", () => {
    const text = renderRollbackSummary(rollbackOutcome({ cutoverUndone: [{ kind: 'federation-update', target: 'domains/contoso.com/federationConfiguration' }, { kind: 'rollout-detach', target: 'featureRolloutPolicies/multiFactorAuthentication/appliesTo/g-1' }, { kind: 'rollout-policy-delete', target: 'featureRolloutPolicies/multiFactorAuthentication' }] }), '/s', undefined);
    expect(text).toContain("  federation of contoso.com: put back: its users meet the federated IdP's MFA again (allow up to 24 hours)\n");
    expect(text).toContain('  staged rollout: group g-1 detached: its users are back on MFA Server\n');
    expect(text).toContain("  staged rollout policy: deleted (the run created it): its groups' users are back on MFA Server\n");
    expect(renderRollbackSummary(rollbackOutcome({}), '/s', undefined)).not.toContain('staged rollout');
  });

  it('past 20, lists what Graph cannot undo by reason, most first, each on its own line with its count and the first three named (a scale test read one line of ~1,500 characters)', () => {
    const adopted = 'made by another run of the plan, found there when this run sent it: left for that run to undo';
    const kept = 'the user had no default method before the run and Graph cannot unset one: left as sms';
    const notReversible = [
      ...Array.from({ length: 3 }, (_, i) => ({ user: `v${i}@contoso.com`, target: `hardwareOathMethods/S${i}`, reason: adopted })),
      ...Array.from({ length: 22 }, (_, i) => ({ user: `u${i}@contoso.com`, target: 'signInPreferences', reason: kept })),
    ];
    const text = renderRollbackSummary(rollbackOutcome({ notReversible }), '/s', undefined, '/given');
    expect(text).toContain(
      [
        '  not reversible: 25 object(s) Graph cannot undo, by reason (mfa-migrate report r2 --state-dir /given --report r2.html lists every one):',
        // One target for the whole reason is said with it; objects adopted are not lost among defaults Graph cannot unset.
        `    22 user(s) (signInPreferences): ${kept}`,
        '        u0@contoso.com, u1@contoso.com, u2@contoso.com, and 19 more',
        `    3 user(s): ${adopted}`,
        '        v0@contoso.com hardwareOathMethods/S0, v1@contoso.com hardwareOathMethods/S1, v2@contoso.com hardwareOathMethods/S2',
        '',
      ].join('\n'),
    );
    expect(text).not.toMatch(/^ {2}not reversible: \S+@/m);
    expect(Math.max(...text.split('\n').map((l) => l.length))).toBeLessThan(200);
    // Twenty or fewer are named one a line, with no count line.
    const few = renderRollbackSummary(rollbackOutcome({ notReversible: notReversible.slice(5) }), '/s', undefined);
    expect(few.match(/^ {2}not reversible: u\d+@contoso\.com signInPreferences: the user had no default/gm)).toHaveLength(20);
    expect(few).not.toContain('by reason');
  });
});
