import { describe, expect, it } from 'vitest';
import { mapOathTokens } from '../../src/mapping/oath-rules.js';
import type { MfaUser } from '../../src/model/export-data.js';
import type { TenantHardwareToken, TenantUser } from '../../src/model/tenant.js';
import { makeSeed } from '../helpers/make-seed.js';

const user: MfaUser = { line: 2, username: 'grace@contoso.com', enabled: true, oathTokenSerial: '1' };
const tenantUser = (over: Partial<TenantUser> = {}): TenantUser => ({
  id: 'u1',
  userPrincipalName: 'grace@contoso.com',
  phones: [],
  emails: [],
  authenticatorCount: 0,
  softwareOathCount: 0,
  hardwareOath: [],
  defaultMethod: null,
  ...over,
});
const inventory = (...tokens: TenantHardwareToken[]) => new Map(tokens.map((t) => [t.serialNumber.toLowerCase(), [t]]));

describe('mapOathTokens', () => {
  it.each([
    ['TOTP SHA-1 30 s', {}, 'hmacsha1', 30],
    ['TOTP SHA-256 60 s', { algorithm: 'sha256' as const, period: 60 }, 'hmacsha256', 60],
  ])('creates a hardware token for %s', (_name, over, hashFunction, period) => {
    const seed = makeSeed({ serial: '1', ...over, manufacturer: 'Contoso', model: 'CT-1' });
    const r = mapOathTokens(user, [seed], tenantUser(), new Map());
    expect(r.findings).toEqual([]);
    expect(r.tokens).toEqual([
      { serialNumber: '1', hashFunction, timeIntervalInSeconds: period, secretFingerprint: seed.fingerprint, manufacturer: 'Contoso', model: 'CT-1', state: 'create', rule: 'OATH-HARDWARE', because: expect.any(String) },
    ]);
  });

  it.each([
    ['HOTP', { type: 'hotp' as const, period: null, counter: 5n }, 'hotp-unsupported', 'OATH-HOTP-UNSUPPORTED'],
    ['8 digits', { digits: 8 }, 'token-unsupported', 'OATH-UNSUPPORTED'],
    ['SHA-512', { algorithm: 'sha512' as const }, 'token-unsupported', 'OATH-UNSUPPORTED'],
    ['45 s', { period: 45 }, 'token-unsupported', 'OATH-UNSUPPORTED'],
    ['a Luhn check digit', { checkDigit: true as const }, 'token-unsupported', 'OATH-CHECK-DIGIT'],
  ])('reports %s as unsupported and plans nothing', (_name, over, code, rule) => {
    const r = mapOathTokens(user, [makeSeed({ serial: '1', ...over })], tenantUser(), new Map());
    expect(r.tokens).toEqual([]);
    expect(r.findings).toEqual([expect.objectContaining({ code, rule, user: 'grace@contoso.com' })]);
  });

  it('says why a token with a check digit cannot move: Entra takes the code alone, the device shows one digit more', () => {
    const [finding] = mapOathTokens(user, [makeSeed({ serial: '1', checkDigit: true })], tenantUser(), new Map()).findings;
    expect(finding!.message).toBe(
      "token 1 not migrated: Entra cannot take this token: a Luhn check digit after each code (the device shows 7 digits; Entra takes the code alone); keep it on the verify shim or re-enrol the user",
    );
  });

  it('says so of a HOTP token with a check digit too (a review: the HOTP reason came first and alone)', () => {
    const [finding] = mapOathTokens(user, [makeSeed({ serial: '1', type: 'hotp', counter: 0n, checkDigit: true })], tenantUser(), new Map()).findings;
    expect(finding!.message).toContain('HOTP (counter-based) tokens are not supported by Entra; this one also adds a Luhn check digit after each code (the device shows 7 digits');
  });

  it('plans no token for a guest user: Entra does not assign them to guests (a black-box test applied one and got 400)', () => {
    const r = mapOathTokens(user, [makeSeed({ serial: '1' })], tenantUser({ userType: 'Guest' }), inventory({ id: 'd9', serialNumber: '1', status: 'available' }));
    expect(r.tokens).toEqual([]);
    expect(r.findings).toEqual([{ severity: 'warning', code: 'token-guest', user: 'grace@contoso.com', rule: 'OATH-GUEST', message: 'token 1 not migrated: Entra does not assign hardware OATH tokens to guest users; keep it on the verify shim or register another method for the user' }]);
    expect(mapOathTokens(user, [makeSeed({ serial: '1' })], tenantUser({ userType: 'Member' }), new Map()).tokens.map((t) => t.state)).toEqual(['create']);
  });

  it('reports a serial with no seed', () => {
    expect(mapOathTokens(user, [], tenantUser(), new Map()).findings).toEqual([expect.objectContaining({ code: 'seed-missing', rule: 'OATH-SEED-MISSING' })]);
  });

  it('says why a seed file that holds the serial gave no seed, rather than that none holds it (a black-box test)', () => {
    const why = 'token serial 1 is in seeds.csv line 2, but its seed was not taken: the secret of token 1 is not valid Base32; the row is skipped [secret-invalid]';
    const [finding] = mapOathTokens(user, [], tenantUser(), new Map(), why).findings;
    expect(finding).toMatchObject({ code: 'seed-missing', rule: 'OATH-SEED-MISSING', message: `token 1 not migrated: ${why}` });
  });

  it('never duplicates a token already assigned to the user and activated', () => {
    const r = mapOathTokens(user, [makeSeed({ serial: '1' })], tenantUser({ hardwareOath: [{ id: 'd1', serialNumber: '1', status: 'activated' }] }), inventory({ id: 'd1', serialNumber: '1', status: 'activated', assignedToId: 'u1' }));
    expect(r.tokens.map((t) => [t.state, t.rule])).toEqual([['exists', 'OATH-EXISTS']]);
  });

  it('assigns and activates an inventory token rather than creating the serial again', () => {
    const r = mapOathTokens(user, [makeSeed({ serial: '1' })], tenantUser(), inventory({ id: 'd9', serialNumber: '1', status: 'available' }));
    expect(r.tokens.map((t) => [t.state, t.rule, t.tenantToken?.id])).toEqual([['activate', 'OATH-ACTIVATE-EXISTING', 'd9']]);
  });

  it('activates a token assigned to the user but not activated', () => {
    const r = mapOathTokens(user, [makeSeed({ serial: '1' })], tenantUser({ hardwareOath: [{ id: 'd1', serialNumber: '1', status: 'assigned' }] }), inventory({ id: 'd1', serialNumber: '1', status: 'assigned', assignedToId: 'u1' }));
    expect(r.tokens.map((t) => t.state)).toEqual(['activate']);
  });

  it('leaves a token assigned to someone else alone, as an error', () => {
    const r = mapOathTokens(user, [makeSeed({ serial: '1' })], tenantUser(), inventory({ id: 'd1', serialNumber: '1', status: 'activated', assignedToId: 'someone-else' }));
    expect(r.tokens).toEqual([]);
    expect(r.findings).toEqual([expect.objectContaining({ severity: 'error', code: 'token-assigned-elsewhere' })]);
  });

  it.each([
    [4, 0, 0, 1],
    [5, 0, 0, 0],
    [3, 1, 1, 0],
    [2, 1, 1, 1],
  ])('counts %i Authenticator + %i software + %i hardware already in the tenant against the limit of 5', (app, soft, hard, planned) => {
    const t = tenantUser({ authenticatorCount: app, softwareOathCount: soft, hardwareOath: Array.from({ length: hard }, (_, i) => ({ id: `h${i}`, serialNumber: `x${i}`, status: 'activated' })) });
    const r = mapOathTokens(user, [makeSeed({ serial: '1' })], t, new Map());
    expect(r.tokens).toHaveLength(planned);
    expect(r.findings.map((f) => f.code)).toEqual(planned ? [] : ['device-limit']);
  });

  it('reports a clock drift Entra cannot take (two steps or more) on a token it plans, and only there (a black-box test: it was dropped unsaid)', () => {
    const drifted = (timeDrift: number, over: Partial<TenantUser> = {}, inv = new Map<string, TenantHardwareToken[]>()) => mapOathTokens(user, [makeSeed({ serial: '1', timeDrift })], tenantUser(over), inv);
    expect(drifted(8).findings).toEqual([
      {
        severity: 'warning',
        code: 'token-drift',
        user: 'grace@contoso.com',
        rule: 'OATH-DRIFT',
        message: "token 1: its seed file records a clock drift of 8 steps (240 s); Entra takes no drift, so it may refuse the token's codes (the verify shim applies the drift): check the token's clock, or keep it on the shim until the user has another method",
      },
    ]);
    expect(drifted(8).tokens.map((t) => t.state)).toEqual(['create']);
    expect(drifted(-2).findings.map((f) => f.message)).toEqual([expect.stringContaining('a clock drift of -2 steps (-60 s)')]);
    expect(drifted(8, {}, inventory({ id: 'd9', serialNumber: '1', status: 'available' })).findings.map((f) => f.code)).toEqual(['token-drift']);
    // Inside every window, or nothing planned for Entra: nothing said.
    expect(drifted(1).findings).toEqual([]);
    expect(drifted(-1).findings).toEqual([]);
    expect(drifted(8, { hardwareOath: [{ id: 'd1', serialNumber: '1', status: 'activated' }] }, inventory({ id: 'd1', serialNumber: '1', status: 'activated', assignedToId: 'u1' })).findings).toEqual([]);
    expect(drifted(8, { userType: 'Guest' }).findings.map((f) => f.code)).toEqual(['token-guest']);
    expect(mapOathTokens(user, [makeSeed({ serial: '1', type: 'hotp', period: null, counter: 5n, timeDrift: 8 })], tenantUser(), new Map()).findings.map((f) => f.code)).toEqual(['hotp-unsupported']);
  });

  it('matches a serial written in composed and decomposed Unicode as one (a black-box test: users.csv in NFC, the seed file in NFD, seed-missing)', () => {
    const nfc = { ...user, oathTokenSerial: 'Caf\u00e9-01' };
    const r = mapOathTokens(nfc, [makeSeed({ serial: 'Cafe\u0301-01' })], tenantUser(), new Map());
    expect(r.findings).toEqual([]);
    expect(r.tokens.map((t) => [t.serialNumber, t.state])).toEqual([['Cafe\u0301-01', 'create']]);
  });
});
