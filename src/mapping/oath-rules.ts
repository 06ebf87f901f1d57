import { entraTokenFit } from '../model/entra-oath.js';
import type { MfaUser, OathSeed } from '../model/export-data.js';
import type { TenantHardwareToken, TenantUser } from '../model/tenant.js';
import { serialKey } from '../model/serial.js';
import type { Finding } from './finding.js';
import type { RuleId } from './rules.js';

/** Entra's cap on OATH tokens plus Authenticator registrations per user. */
export const DEVICE_LIMIT = 5;

/** A hardware OATH token the user should have in Entra. Holds the seed's fingerprint, never the seed. */
export interface DesiredToken {
  serialNumber: string;
  hashFunction: 'hmacsha1' | 'hmacsha256';
  timeIntervalInSeconds: 30 | 60;
  secretFingerprint: string;
  manufacturer: string;
  model: string;
  /** create: new device; activate: an inventory device to assign and/or activate; exists: nothing to do. */
  state: 'create' | 'activate' | 'exists';
  tenantToken?: TenantHardwareToken;
  rule: RuleId;
  because: string;
}

export interface OathMapping {
  tokens: DesiredToken[];
  findings: Finding[];
}

/**
 * A drift of one step is inside the window every validator keeps on either side of the current
 * step (RFC 6238 section 6 recommends at least one back); beyond it, Entra, which takes no drift,
 * may refuse the token's codes.
 */
const DRIFT_STEPS_REPORTED = 2;

/** The seed file's recorded clock drift, which Entra cannot take, when it is large enough to matter. */
function driftDropped(seed: OathSeed, user: string): Finding[] {
  const drift = seed.type === 'totp' ? Math.trunc(seed.timeDrift ?? 0) : 0;
  if (Math.abs(drift) < DRIFT_STEPS_REPORTED) return [];
  const seconds = drift * (seed.period ?? 30);
  return [
    {
      severity: 'warning',
      code: 'token-drift',
      user,
      rule: 'OATH-DRIFT',
      message: `token ${seed.serial}: its seed file records a clock drift of ${drift} steps (${seconds} s); Entra takes no drift, so it may refuse the token's codes (the verify shim applies the drift): check the token's clock, or keep it on the shim until the user has another method`,
    },
  ];
}

/**
 * Maps a user's seeds to hardware OATH tokens. Existing tenant tokens are found by serial so a
 * token is never created twice; Entra's five-device limit counts what the tenant already has.
 */
export function mapOathTokens(
  user: MfaUser,
  seeds: OathSeed[],
  tenantUser: TenantUser,
  inventory: ReadonlyMap<string, TenantHardwareToken[]>,
  /** Why the user's token has no seed when a seed file holds its serial but its reader left it out (seed-left-out.ts). */
  leftOut?: string,
): OathMapping {
  const findings: Finding[] = [];
  const tokens: DesiredToken[] = [];
  const name = user.username;

  if (user.oathTokenSerial !== undefined && !seeds.some((s) => serialKey(s.serial) === serialKey(user.oathTokenSerial!))) {
    findings.push({ severity: 'warning', code: 'seed-missing', user: name, rule: 'OATH-SEED-MISSING', message: `token ${user.oathTokenSerial} not migrated: ${leftOut ?? 'no seed file holds its secret'}` });
  }

  let used = tenantUser.authenticatorCount + tenantUser.softwareOathCount + tenantUser.hardwareOath.length;
  for (const seed of seeds) {
    const fit = entraTokenFit(seed);
    if (!fit.ok) {
      findings.push({
        severity: 'warning',
        code: fit.code,
        user: name,
        rule: fit.code === 'hotp-unsupported' ? 'OATH-HOTP-UNSUPPORTED' : fit.checkDigit ? 'OATH-CHECK-DIGIT' : 'OATH-UNSUPPORTED',
        message: `token ${seed.serial} not migrated: ${fit.reason}; keep it on the verify shim or re-enrol the user`,
      });
      continue;
    }
    // Graph answers 400 "cannot be assigned to guest users" (a black-box test applied one): not planned.
    if (tenantUser.userType === 'Guest') {
      findings.push({ severity: 'warning', code: 'token-guest', user: name, rule: 'OATH-GUEST', message: `token ${seed.serial} not migrated: Entra does not assign hardware OATH tokens to guest users; keep it on the verify shim or register another method for the user` });
      continue;
    }
    const base = {
      serialNumber: seed.serial,
      hashFunction: fit.hashFunction,
      timeIntervalInSeconds: fit.timeIntervalInSeconds,
      secretFingerprint: seed.fingerprint,
      manufacturer: seed.manufacturer ?? 'Unknown',
      model: seed.model ?? 'Unknown',
    };
    const candidates = inventory.get(serialKey(seed.serial)) ?? [];
    if (candidates.length > 1) {
      findings.push({
        severity: 'warning',
        code: 'token-duplicate-in-tenant',
        user: name,
        rule: 'OATH-EXISTS',
        message: `serial ${seed.serial} exists ${candidates.length} times in the tenant inventory; remove the duplicates (Microsoft's documented clean-up)`,
      });
    }
    // A token uploaded through the older admin-center route can be on the user but missing from the
    // inventory list: the user's own list shows it. It is never created a second time.
    const legacy = tenantUser.hardwareOath.find((t) => t.notInInventory && t.serialNumber !== undefined && serialKey(t.serialNumber) === serialKey(seed.serial));
    if (legacy && !candidates.some((t) => t.id === legacy.id)) {
      const held: TenantHardwareToken = { id: legacy.id, serialNumber: legacy.serialNumber!, status: legacy.status ?? 'assigned', assignedToId: tenantUser.id };
      findings.push({ severity: 'warning', code: 'token-legacy', user: name, rule: 'OATH-LEGACY', message: `token ${seed.serial} is already the user's but missing from the tenant's inventory list (an older admin-center upload): not created again${held.status === 'activated' ? '' : '; it is activated'}` });
      if (held.status !== 'activated') findings.push(...driftDropped(seed, name));
      tokens.push(
        held.status === 'activated'
          ? { ...base, state: 'exists', tenantToken: held, rule: 'OATH-LEGACY', because: 'the user already holds this serial, activated (missing from the inventory list)' }
          : { ...base, state: 'activate', tenantToken: held, rule: 'OATH-LEGACY', because: `the user already holds this serial, ${held.status} (missing from the inventory list)` },
      );
      continue;
    }
    const mine = candidates.find((t) => t.assignedToId === tenantUser.id);
    const other = candidates.find((t) => t.assignedToId !== undefined && t.assignedToId !== tenantUser.id);
    const free = candidates.find((t) => t.assignedToId === undefined);

    if (mine && mine.status === 'activated') {
      tokens.push({ ...base, state: 'exists', tenantToken: mine, rule: 'OATH-EXISTS', because: 'the tenant already has this serial assigned to the user and activated' });
      continue;
    }
    if (!mine && !free && other) {
      findings.push({
        severity: 'error',
        code: 'token-assigned-elsewhere',
        user: name,
        rule: 'OATH-ASSIGNED-ELSEWHERE',
        message: `token ${seed.serial} is assigned to another tenant user (${other.assignedToId}); it is left alone`,
      });
      continue;
    }
    const onUser = mine !== undefined;
    if (!onUser && used >= DEVICE_LIMIT) {
      findings.push({
        severity: 'warning',
        code: 'device-limit',
        user: name,
        rule: 'OATH-DEVICE-LIMIT',
        message: `token ${seed.serial} not migrated: the user already has ${used} of Entra's ${DEVICE_LIMIT} OATH tokens and Authenticator registrations`,
      });
      continue;
    }
    if (!onUser) used++;
    const existing = mine ?? free;
    findings.push(...driftDropped(seed, name));
    if (existing) {
      tokens.push({
        ...base,
        state: 'activate',
        tenantToken: existing,
        rule: 'OATH-ACTIVATE-EXISTING',
        because: onUser ? `the serial is assigned to the user, not activated (${existing.status})` : 'the serial is in the tenant inventory, unassigned',
      });
    } else {
      tokens.push({ ...base, state: 'create', rule: 'OATH-HARDWARE', because: `TOTP ${seed.algorithm.toUpperCase()} ${seed.digits} digits ${seed.period} s fits Entra's hardware OATH tokens` });
    }
  }
  return { tokens, findings };
}
