import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { networkInterfaces } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hotpCode } from '../../src/otp/hotp.js';
import { DEFAULT_RULES } from '../../src/shim/rules.js';
import { ShimConfigError, isLoopbackHost, type ShimService, type ShimServiceOptions } from '../../src/shim/shim-service.js';
import { runImportStore, runUnlock } from '../../src/shim/shim-operations.js';
import { call, verify } from './http-client.js';
import { MemorySink, RFC_SEED_SHA1, RFC_SEED_SHA512, TEST_KEY, TestClock, haveOpenssl, seed, tempDir, token , startTestService } from './helpers.js';
import { AuditLog } from '../../src/shim/audit-log.js';
import { createShimServer } from '../../src/shim/http-server.js';
import { ShimMetrics } from '../../src/shim/metrics.js';
import { RateLimiter } from '../../src/shim/rate-limiter.js';
import { Verifier, type StateBackend } from '../../src/shim/verifier.js';
import { VerifyGate } from '../../src/shim/verify-gate.js';
import { SourceBudget } from '../../src/shim/source-budget.js';
import type { ShimUser } from '../../src/shim/store-model.js';

const T0 = 1_700_000_000_000;
const H = (c: number): string => hotpCode(RFC_SEED_SHA1, 'sha1', c, 6);
const totp512 = (ms: number): string => hotpCode(RFC_SEED_SHA512, 'sha512', Math.floor(ms / 30_000), 8);

let tmp: ReturnType<typeof tempDir>;
let store: string;
let service: ShimService | undefined;
let clock: TestClock;

async function start(extra: Partial<ShimServiceOptions> = {}): Promise<ShimService> {
  service = await startTestService(store, clock, extra);
  return service;
}

beforeEach(async () => {
  tmp = tempDir();
  store = tmp.path('shim.store');
  clock = new TestClock(T0);
  await runImportStore({
    store,
    key: TEST_KEY,
    input: {
      users: [
        { username: 'Ivan@Contoso.com', enabled: true },
        { username: 'mallory@contoso.com', enabled: true },
        { username: 'zoe@contoso.com', enabled: true },
      ],
      tokens: [
        { seed: seed({ serial: '20010003', secret: RFC_SEED_SHA1, type: 'hotp' }), user: 'ivan@contoso.com' },
        { seed: seed({ serial: '20010005', secret: RFC_SEED_SHA512, algorithm: 'sha512', digits: 8 }), user: 'mallory@contoso.com' },
      ],
    },
  });
});

afterEach(async () => {
  await service?.close();
  service = undefined;
  tmp.cleanup();
});

describe('POST /v1/verify', () => {
  it('answers accept/reject with exactly result and reason', async () => {
    const { url } = await start();
    const ok = await verify(url, 'IVAN@contoso.com', H(0));
    expect(ok.status).toBe(200);
    expect(ok.headers['content-type']).toBe('application/json');
    expect(ok.json).toEqual({ result: 'accept', reason: 'ok' });
    expect((await verify(url, 'ivan@contoso.com', H(0))).json).toEqual({ result: 'reject', reason: 'replayed' });
    expect((await verify(url, 'ivan@contoso.com', '000000')).json).toEqual({ result: 'reject', reason: 'wrong_code' });
    expect((await verify(url, 'ivan@contoso.com', '12345')).json).toEqual({ result: 'reject', reason: 'wrong_code' });
    expect((await verify(url, 'nobody@contoso.com', '123456')).json).toEqual({ result: 'reject', reason: 'unknown_user' });
    expect((await verify(url, 'zoe@contoso.com', '123456')).json).toEqual({ result: 'reject', reason: 'no_token' });
    expect((await verify(url, 'mallory@contoso.com', totp512(T0))).json).toEqual({ result: 'accept', reason: 'ok' });
  });

  /** Found by a black-box test: on a full disk, accepts were answered and never reached the audit log. */
  it('verifies nothing while the audit log cannot be written, and resumes once it can, the held-back lines written whole', async () => {
    const auditDir = tmp.path('audit');
    mkdirSync(auditDir);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', auditDir], { stdio: 'pipe' });
    } catch (err) {
      process.stderr.write(`audit-down check skipped: cannot mount a tmpfs (${(err as Error).message.split('\n')[0]})\n`);
      return;
    }
    try {
      const { url } = await start({ auditLog: `${auditDir}/a.jsonl` });
      try {
        writeFileSync(`${auditDir}/filler`, Buffer.alloc(1 << 20));
      } catch {
        // ENOSPC: full, as wanted
      }
      // The first write to find the disk full (the start line, or this answer's, held back) takes the log down;
      // an accept whose own line failed is answered 503 too, its code used up.
      const first = await verify(url, 'ivan@contoso.com', H(0));
      const used = first.status === 200 ? 1 : 0;
      if (used === 0) expect([first.status, first.json]).toEqual([503, { error: 'audit_unavailable' }]);
      else expect(first.json).toEqual({ result: 'accept', reason: 'ok' });
      const refused = await verify(url, 'ivan@contoso.com', H(used));
      expect([refused.status, refused.json]).toEqual([503, { error: 'audit_unavailable' }]);
      expect((await call(`${url}/healthz`)).json).toEqual({ status: 'failing', error: 'audit_unavailable' });
      rmSync(`${auditDir}/filler`);
      await new Promise((r) => setTimeout(r, 1300));
      expect((await verify(url, 'ivan@contoso.com', H(used + 1))).json).toEqual({ result: 'accept', reason: 'ok' });
      await service?.close();
      service = undefined;
      const lines = readFileSync(`${auditDir}/a.jsonl`, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { event: string; result?: string });
      expect(lines.filter((l) => l.event === 'verify' && l.result === 'accept')).toHaveLength(used + 1);
    } finally {
      await service?.close();
      service = undefined;
      execFileSync('umount', [auditDir]);
    }
  });

  it('gives exactly one accept for the same code sent concurrently', async () => {
    // Replays count as failures; raise the lock-out threshold so every loser is reported as a replay.
    const { url } = await start({ rules: { ...DEFAULT_RULES, maxFails: 100 } });
    const agent = new Agent({ keepAlive: true, maxSockets: 32 });
    try {
      for (const code of [H(0), H(5)]) {
        const replies = await Promise.all(Array.from({ length: 32 }, () => verify(url, 'ivan@contoso.com', code, { agent })));
        const reasons = replies.map((r) => (r.json as { reason: string }).reason);
        expect(reasons.filter((r) => r === 'ok')).toHaveLength(1);
        expect(reasons.filter((r) => r !== 'ok').every((r) => r === 'replayed')).toBe(true);
        // The failures the replays counted are reset by the next success: send a fresh code to keep going.
        expect((await verify(url, 'ivan@contoso.com', code === H(0) ? H(1) : H(6), { agent })).json).toEqual({ result: 'accept', reason: 'ok' });
      }
      const totp = await Promise.all(Array.from({ length: 16 }, () => verify(url, 'mallory@contoso.com', totp512(T0), { agent })));
      expect(totp.filter((r) => (r.json as { result: string }).result === 'accept')).toHaveLength(1);
    } finally {
      agent.destroy();
    }
  });

  it('answers 400 malformed to bad bodies and keeps serving', async () => {
    const { url } = await start();
    const v = `${url}/v1/verify`;
    const bad: Parameters<typeof call>[1][] = [
      { body: '{"user": "ivan@contoso.com", "code": ' }, // bad JSON
      { body: 'null' },
      { body: '[]' },
      { body: '"ivan@contoso.com"' },
      { body: {} },
      { body: { user: 'ivan@contoso.com' } },
      { body: { code: '123456' } },
      { body: { user: 'ivan@contoso.com', code: 123456 } },
      { body: { user: ['ivan@contoso.com'], code: '123456' } },
      { body: { user: 'ivan@contoso.com', code: null } },
      { body: { user: '', code: '123456' } },
      { body: { user: 'ivan@contoso.com', code: '' } },
      { body: { user: 'ivan@contoso.com', code: '1'.repeat(17) } },
      { body: { user: 'x'.repeat(257), code: '123456' } },
      { body: '' },
      { body: Buffer.from([0xff, 0xfe, 0x00]) },
      { body: { user: 'ivan@contoso.com', code: '123456', pad: 'x'.repeat(5000) } }, // over the 4 KiB limit
      { chunks: [Buffer.from('{"user":"ivan@contoso.com","code":"'), Buffer.alloc(8192, 0x31), Buffer.from('"}')] }, // chunked, oversized
    ];
    for (const [i, opts] of bad.entries()) {
      const reply = await call(v, { method: 'POST', ...opts });
      expect(reply.status, `case ${i}`).toBe(400);
      expect(reply.json, `case ${i}`).toEqual({ result: 'reject', reason: 'malformed' });
    }
    // None of that touched the user's fail counter, and the server still answers.
    expect(service!.db.users.get('ivan@contoso.com')!.fails).toBe(0);
    expect((await verify(url, 'ivan@contoso.com', H(0))).json).toEqual({ result: 'accept', reason: 'ok' });
    // Each one is in the audit log, with the client address and no user.
    const path = service!.auditPath;
    await service!.close();
    service = undefined;
    const malformed = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.reason === 'malformed');
    expect(malformed).toHaveLength(bad.length);
    expect(malformed[0]).toMatchObject({ event: 'verify', client: '127.0.0.1', result: 'reject', serial: null });
    expect(malformed[0]).not.toHaveProperty('user');
  });

  it('answers 415 unless the body is sent as application/json (a browser posts text/plain cross-origin without a preflight), audited and counted as malformed', async () => {
    const { url } = await start();
    const body = JSON.stringify({ user: 'ivan@contoso.com', code: H(0) });
    for (const type of ['text/plain', 'text/plain;charset=UTF-8', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json-patch+json', 'application/jsonp', '']) {
      const reply = await call(`${url}/v1/verify`, { body, headers: { 'content-type': type } });
      expect(reply.status, type).toBe(415);
      expect(reply.json, type).toEqual({ error: 'unsupported_media_type' });
    }
    // No Content-Type at all (curl -d sends a form's; a raw request none).
    const none = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${url}/v1/verify`, { method: 'POST' }, (res) => (res.resume(), resolve(res.statusCode ?? 0)));
      req.on('error', reject);
      req.end(body);
    });
    expect(none).toBe(415);
    // The code was not checked: still the next one, and the user has no failure counted.
    expect(service!.db.users.get('ivan@contoso.com')!.fails).toBe(0);
    for (const type of ['application/json; charset=utf-8', 'Application/JSON', ' application/json ']) {
      expect((await call(`${url}/v1/verify`, { body: { user: 'zoe@contoso.com', code: '000000' }, headers: { 'content-type': type } })).json, type).toEqual({ result: 'reject', reason: 'no_token' });
    }
    expect((await verify(url, 'ivan@contoso.com', H(0))).json).toEqual({ result: 'accept', reason: 'ok' });
    expect((await call(`${url}/metrics`)).text).toMatch(/^mfa_shim_verify_requests_total\{result="reject",reason="malformed"\} 9$/m);
    const path = service!.auditPath;
    await service!.close();
    service = undefined;
    const refused = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.reason === 'malformed');
    expect(refused).toHaveLength(9);
    expect(refused[0]).toEqual(expect.objectContaining({ event: 'verify', client: '127.0.0.1', result: 'reject', serial: null, detail: 'Content-Type text/plain is not application/json' }));
    expect(refused.at(-1)!.detail).toBe('no Content-Type (application/json required)');
  });

  it('answers 405 to other methods and 404 elsewhere', async () => {
    const { url } = await start();
    const get = await call(`${url}/v1/verify`);
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
    expect((await call(`${url}/v2/verify`, { body: {} })).status).toBe(404);
  });

  it('locks out over HTTP and clears after 15 minutes (injected clock)', async () => {
    const { url } = await start();
    for (let i = 0; i < 10; i++) expect(((await verify(url, 'ivan@contoso.com', '000000')).json as { reason: string }).reason).toBe('wrong_code');
    expect((await verify(url, 'ivan@contoso.com', H(0))).json).toEqual({ result: 'reject', reason: 'locked_out' });
    expect((await call(`${url}/metrics`)).text).toMatch(/^mfa_shim_locked_users 1$/m);
    clock.advance(15 * 60);
    // Run out: no longer counted as locked, though cleared only at the user's next attempt.
    expect((await call(`${url}/metrics`)).text).toMatch(/^mfa_shim_locked_users 0$/m);
    expect((await verify(url, 'ivan@contoso.com', H(0))).json).toEqual({ result: 'accept', reason: 'ok' });
  });

  it('hands `shim unlock` to the running server through an unlock request', async () => {
    const { url } = await start();
    for (let i = 0; i < 10; i++) await verify(url, 'ivan@contoso.com', '000000');
    expect((await verify(url, 'ivan@contoso.com', H(0))).json).toEqual({ result: 'reject', reason: 'locked_out' });
    clock.advance(1);
    const outcome = await runUnlock({ store, key: TEST_KEY, rules: DEFAULT_RULES, user: 'IVAN@contoso.com' });
    expect(outcome.status).toBe('requested');
    expect((await verify(url, 'ivan@contoso.com', H(0))).json).toEqual({ result: 'accept', reason: 'ok' });
    const path = service!.auditPath;
    await service!.close();
    service = undefined;
    const events = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string; reason?: string; user?: string });
    expect(events.slice(-4).map((e) => [e.event, e.reason])).toEqual([
      ['verify', 'locked_out'],
      ['unlock', 'unlocked'],
      ['verify', 'ok'],
      ['stop', undefined],
    ]);
  });
});

describe('unlock requests (issue 17 item 13)', () => {
  it("an unlock handed to the running server refuses --audit-log, which would never get the line (the server's own log does), and leaves no request (a black-box test)", async () => {
    await start();
    const { unlockDirOf } = await import('../../src/shim/unlock-requests.js');
    const auditLog = tmp.path('ops.audit.jsonl');
    await expect(runUnlock({ store, key: TEST_KEY, rules: DEFAULT_RULES, user: 'ivan@contoso.com', auditLog })).rejects.toThrow(
      `an unlock is handed to it, and it writes the unlock's audit line to its own audit log (the one it was started with), never to --audit-log ${auditLog}; run the unlock again without --audit-log`,
    );
    expect(existsSync(unlockDirOf(store)) ? readdirSync(unlockDirOf(store)) : []).toEqual([]);
    expect(existsSync(auditLog)).toBe(false);
    expect((await runUnlock({ store, key: TEST_KEY, rules: DEFAULT_RULES, user: 'ivan@contoso.com' })).status).toBe('requested');
  });

  it('a request for a user with nothing to clear, applied by the sweep, is audited as nothing_to_clear, not as a reset (a black-box test saw no line at all)', async () => {
    await start();
    const storeId = service!.db.storeId;
    await service!.close();
    service = undefined;
    const { requestUnlock, unlockDirOf } = await import('../../src/shim/unlock-requests.js');
    await requestUnlock(store, 'ivan@contoso.com', TEST_KEY, storeId, Date.now());
    // The sweep at start takes it.
    await start();
    expect(readdirSync(unlockDirOf(store))).toEqual([]);
    const path = service!.auditPath;
    await service!.close();
    service = undefined;
    const events = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string });
    // Named as the store has the user (its own case).
    expect(events.filter((e) => e.event === 'unlock')).toEqual([expect.objectContaining({ user: 'Ivan@Contoso.com', result: 'accept', reason: 'nothing_to_clear' })]);
  });

  it('`shim unlock` with no server running audits what it found too: nothing_to_clear for a user with no failures (it wrote fail_counter_reset)', async () => {
    await start();
    const path = service!.auditPath;
    await service!.close();
    service = undefined;
    expect(await runUnlock({ store, key: TEST_KEY, rules: DEFAULT_RULES, user: 'ivan@contoso.com' })).toMatchObject({ status: 'unlocked', wasLocked: false });
    const events = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string; reason?: string });
    expect(events.filter((e) => e.event === 'unlock').map((e) => e.reason)).toEqual(['nothing_to_clear']);
  });

  it('a request for a user who has failures but is not locked out yet resets them at their next attempt (a black-box test: taken only once they were locked, it was dropped as older than the lock-out)', async () => {
    const { url } = await start();
    for (let i = 0; i < 5; i++) await verify(url, 'ivan@contoso.com', '000000');
    clock.advance(1);
    expect((await runUnlock({ store, key: TEST_KEY, rules: DEFAULT_RULES, user: 'ivan@contoso.com' })).status).toBe('requested');
    // The five failures before it are gone: ten more are needed for a lock-out.
    const answers = [];
    for (let i = 0; i < 11; i++) answers.push(((await verify(url, 'ivan@contoso.com', '000000')).json as { reason: string }).reason);
    expect(answers).toEqual([...Array(10).fill('wrong_code'), 'locked_out']);
    const path = service!.auditPath;
    await service!.close();
    service = undefined;
    const events = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string; reason?: string });
    expect(events.filter((e) => e.event === 'unlock').map((e) => e.reason)).toEqual(['fail_counter_reset']);
  });

  it('issue 17 item 13: a request without the store key\'s MAC unlocks nobody; one from `shim unlock` does', async () => {
    const { url } = await start();
    for (let i = 0; i < 10; i++) await verify(url, 'ivan@contoso.com', '000000');
    expect((await verify(url, 'ivan@contoso.com', H(0))).json).toEqual({ result: 'reject', reason: 'locked_out' });
    // Someone who can write the store's folder, but has no store key, plants requests.
    const { requestUnlock, unlockDirOf } = await import('../../src/shim/unlock-requests.js');
    const planted = await requestUnlock(store, 'ivan@contoso.com', Buffer.alloc(32, 1), service!.db.storeId, Date.now());
    expect((await verify(url, 'ivan@contoso.com', H(0))).json).toEqual({ result: 'reject', reason: 'locked_out' });
    writeFileSync(planted, JSON.stringify({ user: 'ivan@contoso.com', requestedAt: Date.now() }));
    expect((await verify(url, 'ivan@contoso.com', H(0))).json).toEqual({ result: 'reject', reason: 'locked_out' });
    expect(readdirSync(unlockDirOf(store))).toEqual([]);
    // A request for another store (its own key, another id) does not count either.
    await requestUnlock(store, 'ivan@contoso.com', TEST_KEY, '0123456789abcdef', Date.now());
    expect((await verify(url, 'ivan@contoso.com', H(0))).json).toEqual({ result: 'reject', reason: 'locked_out' });
    expect(service!.db.users.get('ivan@contoso.com')!.lockedAt).not.toBeNull();
    expect((await runUnlock({ store, key: TEST_KEY, rules: DEFAULT_RULES, user: 'ivan@contoso.com' })).status).toBe('requested');
    expect((await verify(url, 'ivan@contoso.com', H(0))).json).toEqual({ result: 'accept', reason: 'ok' });
    expect((await runUnlock({ store, key: TEST_KEY, rules: DEFAULT_RULES, user: 'nobody@contoso.com' })).status).toBe('unknown_user');
    const path = service!.auditPath;
    await service!.close();
    service = undefined;
    expect(readFileSync(path, 'utf8').match(/"reason":"forged_request"/g)).toHaveLength(3);
  });
});

describe('rate limit', () => {
  it('answers 429 with Retry-After past the burst, keeping the verdict shape, without touching the user', async () => {
    // The test's clock moves the limiter's intervals too (by default monotonic).
    const { url } = await start({ rateLimit: { perSecond: 1, burst: 3 }, elapsed: clock.now });
    for (let i = 0; i < 3; i++) expect((await verify(url, 'ivan@contoso.com', '000000')).status).toBe(200);
    const limited = await verify(url, 'ivan@contoso.com', H(0));
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('1');
    expect(limited.json).toEqual({ result: 'reject', reason: 'locked_out' });
    expect(service!.db.users.get('ivan@contoso.com')!.fails).toBe(3);
    expect(service!.db.tokens.get('20010003')!.counter).toBe(0n);
    clock.advance(1);
    expect((await verify(url, 'ivan@contoso.com', H(0))).json).toEqual({ result: 'accept', reason: 'ok' });
    const metrics = await call(`${url}/metrics`);
    expect(metrics.text).toMatch(/^mfa_shim_rate_limited_total 1$/m);
  });

  it('a wall-clock step back refuses no one: the limit goes by the monotonic clock (a black-box test: after a -120 s step every known caller got 429, retry-after 137)', async () => {
    const { url } = await start({ rateLimit: { perSecond: 50, burst: 100 } });
    expect((await verify(url, 'ivan@contoso.com', '000000')).status).toBe(200);
    clock.advance(-120);
    for (let i = 0; i < 3; i++) expect((await verify(url, 'zoe@contoso.com', '000000')).status).toBe(200);
    expect((await call(`${url}/metrics`)).text).toMatch(/^mfa_shim_rate_limited_total 0$/m);
  });
});

describe('health, metrics, audit', () => {
  it('reports health and Prometheus metrics by result and reason with a latency histogram', async () => {
    const { url } = await start();
    await verify(url, 'ivan@contoso.com', H(0));
    await verify(url, 'ivan@contoso.com', H(0));
    await verify(url, 'nobody', '123456');
    await call(`${url}/v1/verify`, { body: 'nope' });
    expect((await call(`${url}/healthz`)).json).toEqual({ status: 'ok' });
    const m = await call(`${url}/metrics`);
    expect(m.status).toBe(200);
    expect(m.headers['content-type']).toMatch(/^text\/plain; version=0.0.4/);
    expect(m.text).toMatch(/^mfa_shim_verify_requests_total\{result="accept",reason="ok"\} 1$/m);
    expect(m.text).toMatch(/^mfa_shim_verify_requests_total\{result="reject",reason="replayed"\} 1$/m);
    expect(m.text).toMatch(/^mfa_shim_verify_requests_total\{result="reject",reason="unknown_user"\} 1$/m);
    expect(m.text).toMatch(/^mfa_shim_verify_requests_total\{result="reject",reason="malformed"\} 1$/m);
    expect(m.text).toMatch(/^mfa_shim_verify_duration_seconds_count 4$/m);
    expect(m.text).toMatch(/^mfa_shim_verify_duration_seconds_bucket\{le="\+Inf"\} 4$/m);
    expect(m.text).toMatch(/^mfa_shim_tokens\{type="hotp"\} 1$/m);
    expect(m.text).toMatch(/^mfa_shim_users 3$/m);
  });

  it('writes an audit line per verification with user, client, result, reason and serial, never the code', async () => {
    const { url } = await start();
    await verify(url, 'IVAN@contoso.com', H(0));
    await verify(url, 'ivan@contoso.com', H(0));
    await verify(url, 'ivan@contoso.com', '918273');
    const path = service!.auditPath;
    await service!.close();
    service = undefined;
    const text = readFileSync(path, 'utf8');
    for (const code of [H(0), '918273']) expect(text).not.toContain(code);
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const verifies = lines.filter((l) => l.event === 'verify');
    expect(verifies).toEqual([
      { time: new Date(T0).toISOString(), event: 'verify', user: 'Ivan@Contoso.com', client: '127.0.0.1', result: 'accept', reason: 'ok', serial: '20010003' },
      expect.objectContaining({ result: 'reject', reason: 'replayed', serial: '20010003' }),
      expect.objectContaining({ result: 'reject', reason: 'wrong_code', serial: null }),
    ]);
    expect(lines.map((l) => l.event)).toEqual(['import', 'start', 'verify', 'verify', 'verify', 'stop']);
  });
});

describe('fail closed', () => {
  /** The HTTP front end in this process over `backend` (ivan's HOTP token), the health `healthy` says. */
  async function serveOver(backend: (sink: MemorySink) => StateBackend, healthy: () => boolean): Promise<{ url: string; close: () => Promise<void> }> {
    const sink = new MemorySink();
    sink.addUser('ivan@contoso.com', [token({ serial: 'H', secret: RFC_SEED_SHA1, type: 'hotp' })]);
    const audit = await AuditLog.open(tmp.path('fail.audit.jsonl'), () => undefined);
    const metrics = new ShimMetrics();
    const server = createShimServer({
      gate: new VerifyGate(new Verifier(sink, backend(sink), DEFAULT_RULES, clock.now), metrics, audit, healthy),
      budget: new SourceBudget({ maxFails: 0, windowMs: 1, slowDownMs: 0 }),
      metrics,
      audit,
      limiter: new RateLimiter(0, 1),
      healthy,
      gauges: () => ({ users: 1, tokens: { hotp: 1 }, lockedUsers: 0 }),
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    return { url, close: async () => (await new Promise<void>((r) => server.close(() => r())), await audit.close()) };
  }

  it('answers 503 and reports unhealthy when a state change cannot be persisted', async () => {
    // The persistence layer refuses every write (as after a disk error); the HTTP layer must never answer accept.
    let failed = false;
    const failing = (sink: MemorySink): StateBackend => ({
      read: (user: ShimUser) => sink.read(user),
      accept: () => ((failed = true), Promise.reject(new Error('disk gone'))),
      updateUser: () => ((failed = true), Promise.reject(new Error('disk gone'))),
    });
    const { url, close } = await serveOver(failing, () => !failed);
    try {
      const first = await verify(url, 'ivan@contoso.com', H(0));
      expect(first.status).toBe(503);
      expect(first.json).toEqual({ error: 'state_unavailable' });
      expect((await verify(url, 'ivan@contoso.com', H(1))).status).toBe(503);
      expect((await call(`${url}/healthz`)).status).toBe(503);
      expect((await call(`${url}/metrics`)).text).toMatch(/^mfa_shim_up 0$/m);
    } finally {
      await close();
    }
  });

  it('answers 503 busy with Retry-After, staying healthy, when other nodes keep changing the user\'s state (not lost state)', async () => {
    const contended = (sink: MemorySink): StateBackend => ({ read: (user: ShimUser) => sink.read(user), accept: () => Promise.resolve(false), updateUser: () => Promise.resolve(false) });
    const { url, close } = await serveOver(contended, () => true);
    try {
      const busy = await verify(url, 'ivan@contoso.com', H(0));
      expect(busy.status).toBe(503);
      expect(busy.json).toEqual({ error: 'busy' });
      expect(busy.headers['retry-after']).toBe('1');
      expect((await call(`${url}/healthz`)).status).toBe(200);
      const metrics = (await call(`${url}/metrics`)).text;
      expect(metrics).toMatch(/^mfa_shim_busy_total 1$/m);
      expect(metrics).toMatch(/^mfa_shim_internal_errors_total 0$/m);
    } finally {
      await close();
    }
  });
});

describe('exposure', () => {
  it('knows loopback addresses', async () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.0.2.2', 'shim.contoso.com', '10.0.0.1']) expect(isLoopbackHost(h), h).toBe(false);
  });

  it('refuses a non-loopback bind without API key and TLS unless --insecure', async () => {
    await expect(start({ host: '0.0.0.0' })).rejects.toThrow(ShimConfigError);
    await expect(start({ host: '0.0.0.0', apiKey: 'k'.repeat(32) })).rejects.toThrow(/requires TLS/);
    // The machine's own interface address, when it has one, counts as exposed too.
    const external = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
    if (external) await expect(start({ host: external })).rejects.toThrow(new RegExp(`binding to ${external.replace(/\./g, '\\.')} \\(not loopback\\)`));
    const insecure = await start({ host: '0.0.0.0', insecure: true });
    expect(insecure.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
  });


  it.skipIf(!haveOpenssl)('serves HTTPS with a Bearer API key on 0.0.0.0', async () => {
    const cert = tmp.path('cert.pem');
    const keyFile = tmp.path('key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', cert,
      '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
    const apiKey = 'test-api-key-0123456789abcdef';
    const s = await start({ host: '0.0.0.0', apiKey, tls: { cert: readFileSync(cert), key: readFileSync(keyFile) } });
    const base = `https://127.0.0.1:${s.address.port}`;
    const ca = readFileSync(cert);
    const none = await verify(base, 'ivan@contoso.com', H(0), { ca });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expect((await verify(base, 'ivan@contoso.com', H(0), { ca, headers: { authorization: 'Bearer wrong-key-0123456789abcdef' } })).status).toBe(401);
    expect(s.db.users.get('ivan@contoso.com')!.fails).toBe(0);
    const ok = await verify(base, 'ivan@contoso.com', H(0), { ca, headers: { authorization: `bearer  ${apiKey}` } }); // the scheme is case-insensitive
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ result: 'accept', reason: 'ok' });
    expect((await call(`${base}/metrics`, { ca })).status).toBe(401);
    expect((await call(`${base}/metrics`, { ca, headers: { authorization: `Bearer ${apiKey}` } })).status).toBe(200);
    expect((await call(`${base}/healthz`, { ca })).status).toBe(200);
    // Plain HTTP to the TLS port gets nowhere.
    await expect(call(`http://127.0.0.1:${s.address.port}/healthz`)).rejects.toThrow();
    await s.close();
    service = undefined;
    const audit = readFileSync(s.auditPath, 'utf8');
    expect(audit.match(/"reason":"unauthorized"/g)).toHaveLength(2);
  });
});
