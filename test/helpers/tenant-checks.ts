import { parse as parseCsvSync } from 'csv-parse/sync';
import { expect } from 'vitest';
import type { RequestLogEntry } from '../../src/emulator/index.js';
import { ProblemList } from '../../src/model/problem.js';
import { encodeBase32 } from '../../src/source/seeds/secret-encoding.js';
import { loadPskcKeyFile, loadPskcPasswordFile } from '../../src/source/seeds/pskc-credentials.js';
import { readSeedFiles } from '../../src/source/seeds/read-seed-files.js';
import { join } from 'node:path';
import { CONTOSO, CONTOSO_TOKENS } from './migration.js';

const TOKENS = join(CONTOSO, 'tokens');

export interface PlanChange {
  user: string;
  user_id: string;
  resource: string;
  action: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

/** What the checks read of a plan (the Plan object, or `plan --format json`). */
export interface PlanDoc {
  user_changes: PlanChange[];
  policy_changes: { target: string; property: string; after: unknown }[];
  cutover_changes?: { target: string; after: Record<string, unknown> }[];
}

// The emulator's state, as GET /_emulator/state returns it (test code reads it loosely).
export type Snapshot = any;

/**
 * Asserts that the tenant holds what every change of the plan promised: phones, email, each token
 * created once, assigned, activated with the planned seed (fingerprint), period and hash, the default
 * method, group memberships, the policy values, and the cutover (rollout policy, its groups, federation).
 */
export function expectPlanApplied(plan: PlanDoc, state: Snapshot, skipUsers: Set<string> = new Set()): void {
  const users = new Map<string, Snapshot>(state.users.map((u: Snapshot) => [u.id, u]));
  for (const c of plan.user_changes) {
    if (c.action === 'no-op' || skipUsers.has(c.user.toLowerCase())) continue;
    const u = users.get(c.user_id);
    expect(u, `${c.user} in the tenant`).toBeDefined();
    const [kind, key] = c.resource.split('/');
    const where = `${c.user} ${c.resource}`;
    if (kind === 'phoneMethods') {
      const phone = u.methods.phone.find((p: Snapshot) => p.phoneType === key);
      if (c.action === 'delete') expect(phone, where).toBeUndefined();
      else expect(phone?.phoneNumber, where).toBe(c.after!.phoneNumber);
    } else if (kind === 'emailMethods') {
      expect(u.methods.email.map((e: Snapshot) => e.emailAddress), where).toContain(c.after!.emailAddress);
    } else if (kind === 'hardwareOathMethods') {
      const devices = state.hardwareOathDevices.filter((d: Snapshot) => d.serialNumber === key);
      const mine = devices.filter((d: Snapshot) => d.assignedTo?.id === c.user_id);
      expect(mine, `${where}: one device with that serial assigned to the user`).toHaveLength(1);
      const d = mine[0];
      expect(d.status, where).toBe('activated');
      expect(d.secretFingerprint, `${where}: the planned seed`).toBe(c.after!.secretFingerprint);
      expect(d.timeIntervalInSeconds, where).toBe(c.after!.timeIntervalInSeconds);
      expect(d.hashFunction, where).toBe(c.after!.hashFunction);
      expect(u.methods.hardwareOath, where).toContain(d.id);
    } else if (kind === 'signInPreferences') {
      expect(u.signInPreferences?.userPreferredMethodForSecondaryAuthentication, where).toBe(c.after!.userPreferredMethodForSecondaryAuthentication);
    } else if (kind === 'rolloutGroup' || kind === 'campaignGroup') {
      expect(state.groups.find((g: Snapshot) => g.id === key)?.members, where).toContain(c.user_id);
    } else {
      throw new Error(`unknown resource ${c.resource}`);
    }
  }
  const policy = state.authenticationMethodsPolicy;
  for (const c of plan.policy_changes) {
    let holder: Snapshot;
    if (c.target.startsWith('authenticationMethodConfigurations/')) {
      const id = c.target.split('/')[1]!.toLowerCase();
      holder = policy.authenticationMethodConfigurations.find((x: Snapshot) => x.id.toLowerCase() === id);
    } else if (c.target === 'registrationEnforcement/authenticationMethodsRegistrationCampaign') {
      holder = policy.registrationEnforcement.authenticationMethodsRegistrationCampaign;
    } else {
      holder = policy[c.target];
    }
    expect(holder?.[c.property], `policy ${c.target}.${c.property}`).toEqual(c.after);
  }
  for (const c of plan.cutover_changes ?? []) {
    const rollout = state.featureRolloutPolicies.find((p: Snapshot) => p.feature === 'multiFactorAuthentication');
    if (c.target === 'featureRolloutPolicies/multiFactorAuthentication') expect(rollout, c.target).toMatchObject({ isEnabled: true, isAppliedToOrganization: false });
    else if (c.target.includes('/appliesTo/')) expect(rollout?.appliesTo, c.target).toContain(c.after.groupId);
    else expect(state.domains.find((d: Snapshot) => c.target === `domains/${d.id}/federationConfiguration`)?.federatedIdpMfaBehavior, c.target).toBe(c.after.federatedIdpMfaBehavior);
  }
}

/**
 * The tenant state without what legitimately differs between two runs of the same plan: generated
 * device ids (replaced by serial numbers), timestamps.
 */
export function normalizeState(state: Snapshot): Snapshot {
  const serialOf = new Map<string, string>(state.hardwareOathDevices.map((d: Snapshot) => [d.id, d.serialNumber]));
  const users = state.users.map((u: Snapshot) => ({
    ...u,
    methods: { ...u.methods, hardwareOath: u.methods.hardwareOath.map((id: string) => serialOf.get(id) ?? id).sort() },
  }));
  const devices = state.hardwareOathDevices
    .map(({ id: _id, lastUsedDateTime: _l, ...rest }: Snapshot) => rest)
    .sort((a: Snapshot, b: Snapshot) => `${a.serialNumber}/${a.assignedTo?.id ?? ''}`.localeCompare(`${b.serialNumber}/${b.assignedTo?.id ?? ''}`));
  const { lastModifiedDateTime: _m, ...policy } = state.authenticationMethodsPolicy;
  return { ...state, users, hardwareOathDevices: devices, authenticationMethodsPolicy: policy };
}

/** The write items of the emulator's request log ($batch items flattened), oldest first. */
export function writes(log: RequestLogEntry[]): RequestLogEntry[] {
  const out: RequestLogEntry[] = [];
  for (const e of log) {
    for (const item of e.items ?? [e]) if (item.method !== 'GET') out.push(item);
  }
  return out;
}

/**
 * Fails on any duplicate create in the request log: a token serial created twice (a POST to the device
 * inventory after one that succeeded, or two devices with one serial in the state), or a phone of one
 * type created again for a user after a POST that succeeded or was refused because it already existed.
 */
export function expectNoDuplicateCreates(log: RequestLogEntry[], state: Snapshot): void {
  const ws = writes(log);
  const created = new Map<string, number>();
  for (const w of ws) {
    if (!/\/hardwareOathDevices$/i.test(w.path.replace(/\?.*$/, '')) || w.method !== 'POST') continue;
    const serial = String((w.body as { serialNumber?: string }).serialNumber);
    if (w.status === 201) created.set(serial, (created.get(serial) ?? 0) + 1);
  }
  const twice = [...created].filter(([, n]) => n > 1);
  expect(twice, 'token serials created twice (request log)').toEqual([]);
  const serials = new Map<string, number>();
  for (const d of state.hardwareOathDevices) serials.set(d.serialNumber, (serials.get(d.serialNumber) ?? 0) + 1);
  expect([...serials].filter(([, n]) => n > 1), 'token serials held twice (state)').toEqual([]);

  const phones = new Map<string, { ok: number; refused: number }>();
  for (const w of ws) {
    const m = /\/users\/([^/]+)\/authentication\/phoneMethods$/i.exec(w.path.replace(/\?.*$/, ''));
    if (!m || w.method !== 'POST') continue;
    const key = `${decodeURIComponent(m[1]!)}/${(w.body as { phoneType?: string }).phoneType}`;
    const p = phones.get(key) ?? { ok: 0, refused: 0 };
    if (w.status === 201) p.ok++;
    else if (w.status === 400 || w.status === 409) p.refused++;
    phones.set(key, p);
  }
  const dupPhones = [...phones].filter(([, p]) => p.ok > 1 || p.refused > 0);
  expect(dupPhones, 'phones POSTed again after they existed').toEqual([]);
}

/** All secrets of the Contoso seed files, in every text form a leak could take. */
export async function contosoSecretForms(): Promise<{ serial: string; forms: string[] }[]> {
  const problems = new ProblemList();
  const seeds = await readSeedFiles(
    CONTOSO_TOKENS,
    { pskcKey: loadPskcKeyFile(join(TOKENS, 'psk.hex')), pskcPassword: loadPskcPasswordFile(join(TOKENS, 'pskc-password.txt')), pskcMac: 'fail' },
    problems,
  );
  return seeds.map((s) => {
    const b = s.secret.reveal();
    const b32 = encodeBase32(b);
    const forms = [b32, b32.replace(/=+$/, ''), b.toString('hex'), b.toString('base64'), b.toString('base64url')];
    return { serial: s.serial, forms: [...new Set([...forms, ...forms.map((f) => f.toLowerCase()), ...forms.map((f) => f.toUpperCase())])] };
  });
}

export function parseCsv(text: string): Record<string, string>[] {
  return parseCsvSync(text, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
}
