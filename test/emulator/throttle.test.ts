import { afterEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { announcedWaitMs, resourceUnitCost, retryAfterHeader, Throttle } from '../../src/emulator/throttle.js';
import { GraphClient, start } from './helpers.js';

const TENANT = 'dbbd10f0-5660-5dab-b8f4-72fdf8c76612';
const q = (s: string) => new URLSearchParams(s);

describe('throttle model (documented limits, simulated clock)', () => {
  const throttle = (size: 'S' | 'M' | 'L', timeScale = 1) => new Throttle(TENANT, Throttle.limitsFor(size), timeScale, (ms) => announcedWaitMs(ms, timeScale));

  it('allows 3,500 / 5,000 / 8,000 resource units per 10 s by tenant size', () => {
    for (const [size, limit] of [['S', 3500], ['M', 5000], ['L', 8000]] as const) {
      const t = throttle(size);
      let allowed = 0;
      while (t.check('app', 2, false, 1000).allowed) allowed++;
      expect(allowed).toBe(limit / 2);
      const refused = t.check('app', 1, false, 1000);
      expect(refused).toMatchObject({ allowed: false, reason: 'ResourceUnitLimitExceeded', scope: `Tenant_Application/ReadWrite/app/${TENANT}`, retryAfterMs: 10_000 });
      expect(t.check('app', 2, false, 1000 + 10_000).allowed).toBe(true);
    }
  });

  it('keeps separate budgets per application', () => {
    const t = throttle('S');
    while (t.check('a', 5, false, 0).allowed);
    expect(t.check('b', 5, false, 0).allowed).toBe(true);
  });

  it('refuses a retry before Retry-After has passed, even when the window has reopened', () => {
    const t = throttle('S');
    t.check('app', 3500, false, 0);
    const refused = t.check('app', 1, false, 7_700);
    // 2.3 s left in the window, announced as 3 whole seconds.
    expect(refused).toMatchObject({ allowed: false, retryAfterMs: 3000 });
    // The window reopened at 10 s, but the app was told to wait until 10.7 s.
    const early = t.check('app', 1, false, 10_200);
    expect(early).toMatchObject({ allowed: false, reason: 'ResourceUnitLimitExceeded' });
    expect((early as { retryAfterMs: number }).retryAfterMs).toBe(500);
    expect(t.check('app', 1, false, 10_700).allowed).toBe(true);
  });

  it('limits writes to 3,000 per 150 s per app, separately from resource units', () => {
    const t = throttle('L');
    let now = 0;
    for (let i = 0; i < 3000; i++) {
      now += 4; // 3,000 writes in 12 s: resource units never run out
      expect(t.check('app', 1, true, now).allowed).toBe(true);
    }
    const refused = t.check('app', 1, true, now);
    expect(refused).toMatchObject({ allowed: false, reason: 'WriteLimitExceeded', scope: `Tenant_Application/Write/app/${TENANT}` });
    const wait = (refused as { retryAfterMs: number }).retryAfterMs;
    // The write window opened with the first write (at 4 ms) and closes 150 s later; announced in whole seconds.
    expect(wait).toBe(Math.ceil((4 + 150_000 - now) / 1000) * 1000);
    // Reads go on.
    expect(t.check('app', 1, false, now).allowed).toBe(true);
    // The window reopened at 150.004 s, but the app was told to wait until now + wait.
    expect(t.check('app', 1, true, 4 + 150_000).allowed).toBe(false);
    expect(t.check('app', 1, true, now + wait).allowed).toBe(true);
  });

  it('limits writes to 18,000 per 5 min per tenant across applications', () => {
    const t = throttle('L');
    let now = 0;
    for (let app = 0; app < 6; app++) {
      for (let i = 0; i < 3000; i++) expect(t.check(`app${app}`, 1, true, (now += 1)).allowed).toBe(true);
    }
    expect(t.check('app6', 1, true, now)).toMatchObject({ allowed: false, reason: 'WriteLimitExceeded', scope: `Tenant/Write/app6/${TENANT}` });
  });

  it('divides windows and Retry-After by the time scale', () => {
    const t = throttle('S', 100);
    t.check('app', 3500, false, 0);
    expect(t.check('app', 1, false, 20)).toMatchObject({ allowed: false, retryAfterMs: 80 });
    expect(t.check('app', 1, false, 100).allowed).toBe(true);
  });

  it('reports the attempted load above 80 % of the budget, over 1.0 once requests are refused (capped at 1.8)', () => {
    const t = throttle('S');
    expect(t.check('app', 2800, false, 0)).toEqual({ allowed: true });
    expect(t.check('app', 1, false, 0)).toEqual({ allowed: true, limitPercentage: 0.8 });
    expect(t.check('app', 699, false, 0)).toEqual({ allowed: true, limitPercentage: 1 });
    // 3,850 RU attempted against 3,500: "1.1" although only 3,500 were admitted.
    expect(t.check('app', 350, false, 1)).toMatchObject({ allowed: false, limitPercentage: 1.1 });
    expect(t.check('app', 700, false, 2)).toMatchObject({ allowed: false, limitPercentage: 1.3 });
    expect(t.check('app', 10_000, false, 3)).toMatchObject({ allowed: false, limitPercentage: 1.8 });
    // A new window starts the count again.
    expect(t.check('app', 1, false, 10_001)).toEqual({ allowed: true });
    expect(t.check('other', 1, false, 10_001)).toEqual({ allowed: true });
  });

  it("costs requests as Graph's table says", () => {
    expect(resourceUnitCost('GET', 2, q(''))).toBe(2); // GET users
    expect(resourceUnitCost('GET', 2, q('$select=id'))).toBe(1);
    expect(resourceUnitCost('GET', 2, q('$top=5'))).toBe(1);
    expect(resourceUnitCost('GET', 2, q('$top=50'))).toBe(2);
    expect(resourceUnitCost('GET', 2, q('$top=5&$select=id'))).toBe(1); // never below 1
    expect(resourceUnitCost('GET', 3, q('$select=id'))).toBe(2); // members
    expect(resourceUnitCost('GET', 5, q(''))).toBe(5); // transitiveMembers
    expect(resourceUnitCost('GET', undefined, q('$expand=device'))).toBe(2);
    expect(resourceUnitCost('GET', undefined, q(''))).toBe(1);
    expect(resourceUnitCost('PATCH', undefined, q(''))).toBe(1);
  });

  it('sends Retry-After as whole seconds at scale 1 and exact milliseconds otherwise', () => {
    expect(retryAfterHeader(2300, 1)).toBe('3');
    expect(retryAfterHeader(0.2, 1)).toBe('1');
    expect(retryAfterHeader(123.4, 10)).toBe('0.124');
    expect(retryAfterHeader(0.01, 10)).toBe('0.001');
  });
});

describe('throttling over HTTP', () => {
  let emu: RunningEmulator | undefined;
  afterEach(async () => {
    await emu?.stop();
    emu = undefined;
  });

  /** A JWT-shaped token whose appid claim names the application (the signature is not checked). */
  const jwt = (appid: string) => `eyJhbGciOiJub25lIn0.${Buffer.from(JSON.stringify({ appid })).toString('base64url')}.sig`;
  const APP = '9a3d526c-b3c1-4479-ba74-197b5c5751ae';

  it('answers 429 with Retry-After and the throttle headers, re-throttles an early retry, and recovers after Retry-After', async () => {
    ({ emu } = await start({ throttle: 'S', timeScale: 5, throttleLimits: { resourceUnits: 6 } }));
    const graph = new GraphClient(emu.url, jwt(APP));
    const ok = await graph.get('/v1.0/users');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-ms-resource-unit')).toBe('2');
    await graph.get('/v1.0/users');
    expect((await graph.get('/v1.0/users')).headers.get('x-ms-throttle-limit-percentage')).toBe('1.0');
    const throttled = await graph.get('/v1.0/users');
    expect(throttled.status).toBe(429);
    // 8 RU attempted against a budget of 6.
    expect(throttled.headers.get('x-ms-throttle-limit-percentage')).toBe('1.3');
    expect(throttled.body.error.code).toBe('TooManyRequests');
    expect(throttled.headers.get('x-ms-throttle-scope')).toBe(`Tenant_Application/ReadWrite/${APP}/${TENANT}`);
    expect(throttled.headers.get('x-ms-throttle-information')).toBe('ResourceUnitLimitExceeded');
    const retryAfter = Number(throttled.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(2); // 10 s / 5
    // Even a cheaper request is refused before Retry-After has passed.
    const early = await graph.get('/v1.0/users/alice@contoso.com');
    expect(early.status).toBe(429);
    expect(Number(early.headers.get('retry-after'))).toBeLessThanOrEqual(retryAfter);
    // Another application has its own budget.
    expect((await new GraphClient(emu.url, jwt('other-app')).get('/v1.0/users')).status).toBe(200);
    await new Promise((r) => setTimeout(r, Number(early.headers.get('retry-after')) * 1000));
    expect((await graph.get('/v1.0/users')).status).toBe(200);
  });

  it('throttles writes on their own quota while reads go on', async () => {
    ({ emu } = await start({ throttle: 'S', timeScale: 5, throttleLimits: { appWrites: 2 } }));
    const graph = new GraphClient(emu.url, jwt(APP));
    const email = (upn: string) => graph.post(`/v1.0/users/${upn}/authentication/emailMethods`, { emailAddress: `${upn.split('@')[0]}@example.com` });
    expect((await email('bob@contoso.com')).status).toBe(201);
    expect((await email('carol@contoso.com')).status).toBe(201);
    const refused = await email('dave@contoso.com');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('x-ms-throttle-information')).toBe('WriteLimitExceeded');
    expect(refused.headers.get('x-ms-throttle-scope')).toBe(`Tenant_Application/Write/${APP}/${TENANT}`);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(30); // 150 s / 5
    expect((await graph.get('/v1.0/users/dave@contoso.com/authentication/emailMethods')).body.value).toEqual([]);
    expect((await graph.get('/v1.0/users?$top=1')).status).toBe(200);
  });

  it('throttles writes on the tenant quota across applications', async () => {
    ({ emu } = await start({ throttle: 'S', timeScale: 5, throttleLimits: { appWrites: 2, tenantWrites: 3 } }));
    const a = new GraphClient(emu.url, jwt('app-a'));
    const b = new GraphClient(emu.url, jwt('app-b'));
    const patch = (c: GraphClient, upn: string) =>
      c.patch(`/beta/users/${upn}/authentication/signInPreferences`, { isSystemPreferredAuthenticationMethodEnabled: true });
    expect((await patch(a, 'alice@contoso.com')).status).toBe(204);
    expect((await patch(a, 'bob@contoso.com')).status).toBe(204);
    expect((await patch(b, 'carol@contoso.com')).status).toBe(204);
    const refused = await patch(b, 'dave@contoso.com');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('x-ms-throttle-scope')).toBe(`Tenant/Write/app-b/${TENANT}`);
  });

  it('throttles each $batch item on its own inside a 200', async () => {
    ({ emu } = await start({ throttle: 'S', timeScale: 5, throttleLimits: { resourceUnits: 5 } }));
    const graph = new GraphClient(emu.url, 'plain-token');
    const requests = Array.from({ length: 8 }, (_, i) => ({ id: `${i}`, method: 'GET', url: '/users/alice@contoso.com' }));
    const r = await graph.post('/v1.0/$batch', { requests });
    expect(r.status).toBe(200);
    const statuses = r.body.responses.map((x: { status: number }) => x.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
    for (const item of r.body.responses.filter((x: { status: number }) => x.status === 429)) {
      expect(Number(item.headers['Retry-After'])).toBeGreaterThan(0);
      expect(item.headers['x-ms-throttle-information']).toBe('ResourceUnitLimitExceeded');
      expect(item.body.error.code).toBe('TooManyRequests');
    }
    // A plain (non-JWT) token is an application of its own, named by a GUID derived from it.
    const scope = r.body.responses.find((x: { status: number }) => x.status === 429).headers['x-ms-throttle-scope'];
    expect(scope).toMatch(/^Tenant_Application\/ReadWrite\/[0-9a-f-]{36}\//);
    expect(scope).not.toContain('plain-token');
  });

  it('uses the tenant size by default and none with throttle off', async () => {
    ({ emu } = await start({ throttle: 'tenant' }));
    expect((await new GraphClient(emu.url).get('/v1.0/users')).headers.get('x-ms-resource-unit')).toBe('2');
  });
});
