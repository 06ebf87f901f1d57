import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hotpCode } from '../../src/otp/hotp.js';
import { AuditLog } from '../../src/shim/audit-log.js';
import type { JournalRecord } from '../../src/shim/state-journal.js';
import { ShimMetrics } from '../../src/shim/metrics.js';
import { DEFAULT_RULES } from '../../src/shim/rules.js';
import { SourceBudget } from '../../src/shim/source-budget.js';
import { Verifier, type StateBackend, type StateView } from '../../src/shim/verifier.js';
import { VerifyGate, type GateOutcome } from '../../src/shim/verify-gate.js';
import { MemorySink, RFC_SEED_SHA1, TestClock, tempDir, token } from './helpers.js';

const T0 = 1_700_000_000_000;
const H = (c: number): string => hotpCode(RFC_SEED_SHA1, 'sha1', c, 6);
const USERS = Array.from({ length: 7 }, (_, i) => `user${i}@contoso.com`);

/** State made durable a few milliseconds after a change, as a disk's or a database's: verifications overlap. */
class SlowSink extends MemorySink {
  protected override persist(_record: JournalRecord): Promise<void> {
    return new Promise((r) => setTimeout(r, 5));
  }
}

/** The sink's state as it was when asked, answered a moment later, as a database's: verifications read side by side decide from the same version. */
const slowReads = (sink: SlowSink): StateBackend => ({
  read: (user) => {
    const view = sink.read(user);
    return new Promise<StateView>((r) => setTimeout(() => r(view), 1));
  },
  accept: (...args) => sink.accept(...args),
  updateUser: (...args) => sink.updateUser(...args),
});

let tmp: ReturnType<typeof tempDir>;
let audit: AuditLog;

beforeEach(async () => {
  tmp = tempDir();
  audit = await AuditLog.open(tmp.path('audit.jsonl'), () => undefined);
});
afterEach(async () => {
  await audit.close();
  tmp.cleanup();
});

function gate(): { gate: VerifyGate; sink: SlowSink } {
  const sink = new SlowSink();
  for (const [i, user] of USERS.entries()) sink.addUser(user, [token({ serial: `H${i}`, secret: RFC_SEED_SHA1, type: 'hotp' })]);
  return { gate: new VerifyGate(new Verifier(sink, slowReads(sink), DEFAULT_RULES, new TestClock(T0).now), new ShimMetrics(), audit, () => true), sink };
}

const kinds = (outcomes: GateOutcome[]): Record<string, number> => {
  const counted: Record<string, number> = {};
  for (const o of outcomes) {
    const k = o.kind === 'verdict' ? o.verdict.reason : o.kind;
    counted[k] = (counted[k] ?? 0) + 1;
  }
  return counted;
};

describe('the source budget under parallel requests (a black-box test: 60 wrong codes at once were all verified)', () => {
  it('60 wrong codes at once from one source over 7 users: the budget (30) is verified, the rest refused', async () => {
    const { gate: g } = gate();
    const budget = new SourceBudget({ maxFails: 30, windowMs: 15 * 60_000, slowDownMs: 0 });
    const outcomes = await Promise.all(
      Array.from({ length: 60 }, (_, i) => g.verify({ user: USERS[i % USERS.length]!, code: '000000', who: { source: '198.51.100.7', authenticated: true }, client: 'test', budget })),
    );
    expect(kinds(outcomes)).toEqual({ wrong_code: 30, refused: 30 });
    await audit.close();
    const lines = readFileSync(tmp.path('audit.jsonl'), 'utf8').trim().split('\n');
    expect(lines.filter((l) => l.includes('"reason":"wrong_code"'))).toHaveLength(30);
    // Another source is not held back by this one.
    expect(budget.reserve('203.0.113.9')).toMatchObject({ kind: 'ok' });
  });

  it('a budget of 4: 5 parallel guesses get 4 checked', async () => {
    const { gate: g } = gate();
    const budget = new SourceBudget({ maxFails: 4, windowMs: 15 * 60_000, slowDownMs: 0 });
    const outcomes = await Promise.all(USERS.slice(0, 5).map((user) => g.verify({ user, code: '000000', who: { source: 's', authenticated: true }, client: 'test', budget })));
    expect(kinds(outcomes)).toEqual({ wrong_code: 4, refused: 1 });
  });

  it('right codes sent at once from one source beyond its budget wait their turn instead of being refused', async () => {
    const { gate: g, sink } = gate();
    const budget = new SourceBudget({ maxFails: 2, windowMs: 15 * 60_000, slowDownMs: 0 });
    // 7 users behind one address, all at once through a budget of 2: none of them a failure.
    const outcomes = await Promise.all(USERS.map((user) => g.verify({ user, code: H(0), who: { source: 'nat', authenticated: true }, client: 'test', budget })));
    expect(kinds(outcomes)).toEqual({ ok: 7 });
    for (const user of USERS) expect(sink.users.get(user)!.tokens[0]!.counter).toBe(1n);
  });
});

describe('one user verified many times at once (a black-box test: 9 at once on a PostgreSQL node gave 2 "unavailable")', () => {
  it('30 wrong codes at once for one user from 3 sources: each is decided, none is unavailable; the lock-out comes at 10 as one by one', async () => {
    const { gate: g } = gate();
    const budget = new SourceBudget({ maxFails: 0, windowMs: 1, slowDownMs: 0 });
    const outcomes = await Promise.all(
      Array.from({ length: 30 }, (_, i) => g.verify({ user: USERS[0]!, code: '000000', who: { source: `10.0.0.${i % 3}`, authenticated: true }, client: 'test', budget })),
    );
    expect(kinds(outcomes)).toEqual({ wrong_code: 10, locked_out: 20 });
  });

  it('a compare-and-set that keeps failing (other nodes) is answered and audited busy: not lost state, not an internal error, no failure counted', async () => {
    const { sink } = gate();
    // Another node changes the user's state before every write of this one.
    const contended: StateBackend = { read: (user) => sink.read(user), accept: () => Promise.resolve(false), updateUser: () => Promise.resolve(false) };
    const metrics = new ShimMetrics();
    const g = new VerifyGate(new Verifier(sink, contended, DEFAULT_RULES, new TestClock(T0).now), metrics, audit, () => true);
    const budget = new SourceBudget({ maxFails: 1, windowMs: 60_000, slowDownMs: 0 });
    const who = { source: '198.51.100.7', authenticated: true };
    expect(await g.verify({ user: USERS[1]!, code: H(0), who, client: 'test', budget })).toEqual({ kind: 'busy' });
    // Its place in the budget was given back (a budget of 1 would otherwise be spent).
    expect(await g.verify({ user: USERS[1]!, code: '000000', who, client: 'test', budget })).toEqual({ kind: 'busy' });
    const text = metrics.render({ users: 7, tokens: { hotp: 7 }, lockedUsers: 0, healthy: true });
    expect(text).toMatch(/^mfa_shim_busy_total 2$/m);
    expect(text).toMatch(/^mfa_shim_internal_errors_total 0$/m);
    await audit.close();
    const lines = readFileSync(tmp.path('audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([0, 1].map(() => expect.objectContaining({ event: 'verify', user: USERS[1], result: 'reject', reason: 'busy' })));
  });
});

describe('an outage answered alike for every name over RADIUS (a review told real users from made-up ones by "unavailable")', () => {
  it('while an outage is open (on trial), an unknown user and one without a token get "unavailable" as a real user does, with nothing counted; with the reasons, or after, they are answered as before', async () => {
    const sink = new SlowSink();
    sink.addUser(USERS[0]!, [token({ serial: 'H0', secret: RFC_SEED_SHA1, type: 'hotp' })]);
    sink.addUser('zoe@contoso.com', []);
    let down = true;
    // The database refuses the statements of a real user's verification; the outage is on trial (requests let through).
    const failing: StateBackend = {
      read: (user) => (down ? Promise.reject(new Error('disk full')) : sink.read(user)),
      accept: (...args) => sink.accept(...args),
      updateUser: (...args) => sink.updateUser(...args),
    };
    const metrics = new ShimMetrics();
    const g = new VerifyGate(new Verifier(sink, failing, DEFAULT_RULES, new TestClock(T0).now), metrics, audit, () => !down, { accepting: () => true, inOutage: () => down });
    const budget = new SourceBudget({ maxFails: 100, windowMs: 60_000, slowDownMs: 0 });
    const ask = (user: string, conceal = true) => g.verify({ user, code: '000000', who: { source: '198.51.100.7', authenticated: true }, client: 'vpn', budget, conceal });
    for (let i = 0; i < 12; i++) {
      for (const user of [USERS[0]!, 'nobody@contoso.com', 'zoe@contoso.com']) expect(await ask(user)).toEqual({ kind: 'unavailable' });
    }
    // The reasons asked for (HTTP, reasons=detailed): the name is told apart anyway.
    expect(await ask('nobody@contoso.com', false)).toMatchObject({ kind: 'verdict', verdict: { reason: 'unknown_user' } });
    // Back: the twelve tries counted nothing towards the made-up name's lock-out, as none did for the real user's.
    down = false;
    expect(await ask('nobody@contoso.com')).toMatchObject({ kind: 'verdict', verdict: { reason: 'unknown_user', failure: true } });
    expect(await ask('zoe@contoso.com')).toMatchObject({ kind: 'verdict', verdict: { reason: 'no_token', failure: true } });
    expect(await ask(USERS[0]!)).toMatchObject({ kind: 'verdict', verdict: { reason: 'wrong_code', failure: true } });
    expect(metrics.render({ users: 2, tokens: { hotp: 1 }, lockedUsers: 0, healthy: true })).toMatch(/^mfa_shim_internal_errors_total 36$/m);
    await audit.close();
    const lines = readFileSync(tmp.path('audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l.reason === 'state_unavailable').map((l) => l.user)).toEqual(Array.from({ length: 12 }, () => [USERS[0], 'nobody@contoso.com', 'zoe@contoso.com']).flat());
  });
});
