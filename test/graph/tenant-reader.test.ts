import { beforeAll, describe, expect, it } from 'vitest';
import { fakeGraph, type FakeGraph } from '../helpers/graph.js';
import { readTenant } from '../../src/graph/tenant-reader.js';
import type { TenantSnapshot } from '../../src/model/tenant.js';

const TENANT = '7a1b2c3d-0000-4000-8000-00000000abcd';
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const id = (n: number, kind: number) => `${String(kind).padStart(8, '0')}-0000-4000-8000-${String(n).padStart(12, '0')}`;

/**
 * 1,050 users (more than one page of 999 when the directory is listed) with a mix of methods, and
 * 130 hardware tokens (two pages of 100 when the inventory is listed), one serial twice.
 */
function bigTenant(): Record<string, unknown> {
  const users = Array.from({ length: 1050 }, (_, i) => {
    const methods: Record<string, unknown[]> = {};
    const u: Record<string, unknown> = { id: id(i, 1), userPrincipalName: `user${i}@big.example`, displayName: `User ${i}`, methods };
    if (i % 3 === 0) methods.phone = [{ phoneType: 'mobile', phoneNumber: `+1 42555${String(i).padStart(5, '0')}` }];
    if (i % 9 === 0) methods.phone!.push({ phoneType: 'alternateMobile', phoneNumber: `+1 20655${String(i).padStart(5, '0')}` });
    if (i % 5 === 0) methods.email = [{ emailAddress: `user${i}@mail.example` }];
    if (i % 7 === 0) methods.microsoftAuthenticator = [{ displayName: 'iPhone' }];
    if (i % 11 === 0) methods.softwareOath = [{ secretKey: SECRET }];
    if (i < 60) methods.hardwareOath = [id(i, 2)];
    if (i % 6 === 0) u.signInPreferences = { userPreferredMethodForSecondaryAuthentication: 'sms', isSystemPreferredAuthenticationMethodEnabled: false };
    return u;
  });
  const devices = Array.from({ length: 130 }, (_, i) => ({
    id: id(i, 2),
    serialNumber: i === 129 ? 'S0000' : `S${String(i).padStart(4, '0')}`,
    manufacturer: 'Contoso',
    model: 'T6',
    secretKey: SECRET,
    timeIntervalInSeconds: 30,
    hashFunction: 'hmacsha1',
    ...(i < 60 ? { status: i % 2 === 0 ? 'activated' : 'assigned', assignedTo: { id: id(i, 1) } } : {}),
  }));
  return { tenant: { id: TENANT, size: 'L' }, users, hardwareOathDevices: devices };
}

/** A snapshot as plain data, to compare two reads (of two emulators: the policy's URL and time differ). */
function plain(s: TenantSnapshot): unknown {
  const { '@odata.context': _context, lastModifiedDateTime: _modified, ...policy } = s.policy as Record<string, unknown>;
  return { ...s, policy, users: Object.fromEntries([...s.users].sort(([a], [b]) => a.localeCompare(b))), hardwareTokens: Object.fromEntries([...s.hardwareTokens].sort(([a], [b]) => a.localeCompare(b))) };
}

describe('readTenant against the emulator', () => {
  const doc = bigTenant();
  const upns = (doc.users as { userPrincipalName: string }[]).map((u, i) => (i % 2 ? u.userPrincipalName.toUpperCase() : u.userPrincipalName));
  const serials = Array.from({ length: 129 }, (_, i) => `S${String(i).padStart(4, '0')}`);
  let calm: FakeGraph;
  let throttled: FakeGraph;
  let whole: TenantSnapshot;
  const read = (g: FakeGraph, o: { upns: string[]; serials: string[]; concurrency: number }) => readTenant(g.client({ readOnly: true }), { ...o, policy: true, organization: true });
  beforeAll(async () => {
    calm = fakeGraph({ tenant: doc });
    // 600 RU per 0.2 s window: the ~2,100 reads meet 429s several times.
    throttled = fakeGraph({ tenant: doc, throttle: 'L', throttleLimits: { resourceUnits: 600 }, timeScale: 50 });
    whole = await read(calm, { upns: [...upns, 'nobody@big.example'], serials, concurrency: 4 });
  });

  it('lists the directory and the token inventory page by page when the scope is large', () => {
    const paths = calm.emu.requests().map((e) => e.path);
    const userPages = paths.filter((p) => p.startsWith('/v1.0/users?'));
    expect(userPages).toHaveLength(2);
    expect(userPages[1]).toContain('$skiptoken=');
    const devicePages = paths.filter((p) => p.startsWith('/beta/directory/authenticationMethodDevices/hardwareOathDevices'));
    expect(devicePages).toHaveLength(2);
    // Every user's methods and sign-in preferences, through $batch.
    const items = calm.emu.requests().flatMap((e) => e.items ?? []);
    expect(items.filter((i) => i.path.endsWith('/authentication/methods'))).toHaveLength(1050);
    expect(items.filter((i) => i.path.endsWith('/authentication/signInPreferences'))).toHaveLength(1050);
    expect(calm.emu.requests().every((e) => e.status === 200 && (e.items ?? []).every((i) => i.status === 200))).toBe(true);
  });

  it('says how many of the scope it found as it lists the directory, a page at a time (a black-box test sat through a silent listing)', async () => {
    const listing: [number, number][] = [];
    const reads: number[] = [];
    await readTenant(calm.client({ readOnly: true }), { upns: [...upns, 'nobody@big.example'], serials: [], policy: false, organization: false, concurrency: 4, onListing: (f, w) => listing.push([f, w]), onProgress: (d) => reads.push(d) });
    expect(listing).toEqual([
      [999, 1051],
      [1050, 1051],
    ]);
    // The listing comes before the users' reads.
    expect(reads).toHaveLength(1050);
  });

  it("starts a few hundred users' reads at a time, not every user's at once (100,000 users' queued reads held 400 MB), and reads the same tenant", async () => {
    const client = calm.client({ readOnly: true });
    const read = client.read.bind(client);
    let open = 0;
    let most = 0;
    client.read = (async (...args: Parameters<typeof read>) => {
      most = Math.max(most, ++open);
      try {
        return await read(...args);
      } finally {
        open--;
      }
    }) as typeof read;
    const again = await readTenant(client, { upns: [...upns, 'nobody@big.example'], serials, policy: true, organization: true, concurrency: 1 });
    expect(plain(again)).toEqual(plain(whole));
    // 256 users at once, two reads each (methods, sign-in preferences); 2,100 were queued at once before.
    expect(most).toBeLessThanOrEqual(2 * 256);
    expect(most).toBeGreaterThan(256);
  });

  it('holds every user, matched by UPN case-insensitively, with their methods and default', () => {
    expect(whole.tenant.id).toBe(TENANT);
    expect(whole.policy.authenticationMethodConfigurations?.length).toBeGreaterThan(5);
    expect(whole.users.size).toBe(1050);
    expect(whole.users.has('nobody@big.example')).toBe(false);
    for (const i of [0, 1, 3, 5, 7, 11, 18, 59, 60, 63, 99, 990, 1049]) {
      const u = whole.users.get(`user${i}@big.example`)!;
      expect(u.id).toBe(id(i, 1));
      const phones = [...(i % 3 === 0 ? [{ phoneType: 'mobile', phoneNumber: `+1 42555${String(i).padStart(5, '0')}` }] : []), ...(i % 9 === 0 ? [{ phoneType: 'alternateMobile', phoneNumber: `+1 20655${String(i).padStart(5, '0')}` }] : [])];
      expect(u.phones).toEqual(phones);
      expect(u.emails.map((e) => e.emailAddress)).toEqual(i % 5 === 0 ? [`user${i}@mail.example`] : []);
      expect(u.authenticatorCount).toBe(i % 7 === 0 ? 1 : 0);
      expect(u.softwareOathCount).toBe(i % 11 === 0 ? 1 : 0);
      expect(u.hardwareOath).toEqual(i < 60 ? [{ id: id(i, 2), serialNumber: `S${String(i).padStart(4, '0')}`, status: i % 2 === 0 ? 'activated' : 'assigned' }] : []);
      expect(u.defaultMethod).toBe(i % 6 === 0 ? 'sms' : null);
    }
  });

  it('holds the inventory by serial, a repeated serial twice, assigned tokens with their user', () => {
    expect(whole.hardwareTokens.size).toBe(129);
    expect(whole.hardwareTokens.get('s0000')!.map((t) => t.id).sort()).toEqual([id(0, 2), id(129, 2)].sort());
    expect(whole.hardwareTokens.get('s0002')).toEqual([{ id: id(2, 2), serialNumber: 'S0002', status: 'activated', hashFunction: 'hmacsha1', timeIntervalInSeconds: 30, assignedToId: id(2, 1), manufacturer: 'Contoso', model: 'T6' }]);
    expect(whole.hardwareTokens.get('s0100')).toEqual([expect.objectContaining({ status: 'available' })]);
    expect(whole.hardwareTokens.get('s0100')![0]!.assignedToId).toBeUndefined();
  });

  it('looks users and serials up one by one for a small scope, and misses unknown ones', async () => {
    calm.emu.clearRequests();
    const small = await read(calm, { upns: ['USER3@big.example', 'user4@big.example', 'ghost@big.example'], serials: ['S0003', 'S0000', 'NOPE'], concurrency: 2 });
    expect([...small.users.keys()].sort()).toEqual(['user3@big.example', 'user4@big.example']);
    expect(small.users.get('user3@big.example')).toEqual(whole.users.get('user3@big.example'));
    expect([...small.hardwareTokens.keys()].sort()).toEqual(['s0000', 's0003']);
    expect(small.hardwareTokens.get('s0000')).toHaveLength(2);
    const items = calm.operations();
    expect(items.filter((i) => i.path.startsWith('/v1.0/users/')).map((i) => [decodeURIComponent(i.path.split('?')[0]!), i.status]).filter(([p]) => !String(p).includes('/authentication/'))).toEqual(
      expect.arrayContaining([
        ['/v1.0/users/user3@big.example', 200],
        ['/v1.0/users/ghost@big.example', 404],
      ]),
    );
    expect(items.some((i) => i.path.startsWith('/v1.0/users?'))).toBe(false);
    expect(items.filter((i) => i.path.includes('hardwareOathDevices?$filter='))).toHaveLength(3);
  });

  it("users known by id (apply's re-check) are confirmed 15 to a request; a user whose id now has another UPN is left out, as is an unknown id", async () => {
    calm.emu.clearRequests();
    const known = Array.from({ length: 40 }, (_, i) => ({ upn: `user${i}@big.example`, userId: id(i, 1), needsPreferences: i % 2 === 0 }));
    known[5] = { ...known[5]!, upn: 'someone.else@big.example' };
    known[6] = { ...known[6]!, userId: id(9999, 1) };
    const serialsOf40 = known.map((_, i) => `S${String(i).padStart(4, '0')}`);
    const snap = await readTenant(calm.client({ readOnly: true }), { known, serials: serialsOf40, policy: false, organization: false, concurrency: 4 });
    expect([...snap.users.keys()].sort()).toEqual(known.filter((_, i) => i !== 5 && i !== 6).map((k) => k.upn).sort());
    expect(snap.users.get('user8@big.example')).toEqual(whole.users.get('user8@big.example'));
    const items = calm.operations();
    const lists = items.filter((i) => i.path.startsWith('/v1.0/users?'));
    expect(lists).toHaveLength(3);
    expect(lists.every((i) => decodeURIComponent(i.path).includes('$filter=id in ('))).toBe(true);
    expect(items.filter((i) => /^\/v1\.0\/users\/[^/?]+\?/.test(i.path))).toEqual([]);
    // Methods for the 38 confirmed; sign-in preferences only where a change needs them.
    expect(items.filter((i) => i.path.endsWith('/authentication/methods'))).toHaveLength(38);
    expect(items.filter((i) => i.path.endsWith('/authentication/signInPreferences'))).toHaveLength(known.filter((k, i) => k.needsPreferences && i !== 6).length);
  });

  it('users just listed (a federated domain\'s) have their methods read and nothing else: not looked up again by id, no sign-in preferences; one deleted since (its methods 404) is left out', async () => {
    calm.emu.clearRequests();
    const listed = Array.from({ length: 40 }, (_, i) => ({ id: id(i, 1), userPrincipalName: `user${i}@big.example`, accountEnabled: true, userType: 'Member' }));
    // Listed, then gone: an id the tenant does not have.
    listed[6] = { ...listed[6]!, id: id(9999, 1) };
    const done: number[] = [];
    const snap = await readTenant(calm.client({ readOnly: true }), { listed, serials: [], policy: false, organization: false, concurrency: 4, onProgress: (d, t) => done.push(t) });
    expect([...snap.users.keys()].sort()).toEqual(listed.filter((_, i) => i !== 6).map((u) => u.userPrincipalName).sort());
    expect(snap.users.get('user9@big.example')!.phones).toEqual(whole.users.get('user9@big.example')!.phones);
    expect(done).toHaveLength(40);
    expect(new Set(done)).toEqual(new Set([40]));
    const items = calm.operations();
    expect(items.filter((i) => i.path.startsWith('/v1.0/users?'))).toEqual([]);
    expect(items.filter((i) => /^\/v1\.0\/users\/[^/?]+\?/.test(i.path))).toEqual([]);
    expect(items.filter((i) => i.path.endsWith('/authentication/methods'))).toHaveLength(40);
    expect(items.filter((i) => i.path.endsWith('/authentication/signInPreferences'))).toEqual([]);
  });

  it('reads the same tenant under throttling, waiting out the 429s', async () => {
    const again = await read(throttled, { upns: [...upns, 'nobody@big.example'], serials, concurrency: 4 });
    expect(plain(again)).toEqual(plain(whole));
    const items = throttled.operations();
    expect(items.filter((i) => i.status === 429).length).toBeGreaterThan(0);
  });
});
