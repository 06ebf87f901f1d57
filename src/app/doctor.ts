import type { AuthenticationMethodsPolicy } from '@microsoft/microsoft-graph-types-beta';
import type { GraphClient } from '../graph/graph-client.js';
import { GraphUnreachableError, TokenRefusedError } from '../graph/graph-errors.js';
import { tokenKind } from '../graph/access-token.js';
import { isSuccess, errorText } from '../graph/graph-call.js';
import { capability, COMMAND_NEEDS, grants, type CapabilityId } from '../graph/permissions.js';
import { endpointMissing, PROBES } from '../graph/probes.js';
import { readOrganization } from '../graph/tenant-reader.js';
import { isLoopback } from '../graph/graph-root.js';
import { UserError } from '../model/user-error.js';
import { readExport } from '../source/export-bundle.js';
import { isLoopbackGraph } from '../plan/render-report.js';
import { getUser } from '../graph/calls/users.js';
import { listPhoneMethods } from '../graph/calls/user-methods.js';
import { maskedPhoneIn, MASKED_PHONES_FIX, MASKED_PHONES_WHY } from '../graph/masked-phone.js';

export type CheckState = 'ok' | 'warn' | 'fail';

export interface DoctorCheck {
  id: string;
  state: CheckState;
  /** What was checked and what came of it. */
  detail: string;
  /** What to do about it. */
  fix?: string;
}

export interface DoctorReport {
  ready: boolean;
  graph: string;
  rehearsal: boolean;
  tenant: { id: string; displayName: string } | null;
  identity: { kind: 'application' | 'delegated' | 'unknown'; appId: string | null; appDisplayName: string | null; upn: string | null; permissions: string[] };
  checks: DoctorCheck[];
  /** Per command: ready, or the capabilities it lacks. */
  commands: { command: string; ready: boolean; missing: string[] }[];
}

/** Above this the authentication methods policy can fail to save (Entra docs); warned a little before. */
const POLICY_LIMIT_BYTES = 20 * 1024;

/**
 * What an admin runs before the first plan against a real tenant: signs in, names the tenant and
 * the identity, compares the token's permissions with what each command needs, reads each endpoint
 * the tool uses once, and reports the tenant's state that matters to a migration. Reads only.
 */
export async function runDoctor(client: GraphClient, opts: { source?: string } = {}): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  const report: DoctorReport = { ready: false, graph: client.root, rehearsal: isLoopback(client.root), tenant: null, identity: { kind: 'unknown', appId: null, appDisplayName: null, upn: null, permissions: [] }, checks, commands: [] };

  // 1. Sign-in: a token, and who it names.
  let identity;
  try {
    identity = await client.identity();
  } catch (err) {
    checks.push({ id: 'sign-in', state: 'fail', detail: (err as Error).message, fix: 'check --auth and its credential options (docs/cli.md), or the AZURE_* variables' });
    return finish(report);
  }
  const delegated = identity.scopes.length > 0 || identity.upn !== null;
  const permissions = new Set(delegated ? identity.scopes : identity.roles);
  report.identity = { kind: tokenKind(identity), appId: identity.appId, appDisplayName: identity.appDisplayName, upn: identity.upn, permissions: [...permissions].sort() };
  checks.push({ id: 'sign-in', state: 'ok', detail: `signed in as ${identity.upn ?? `the application ${identity.appDisplayName ?? identity.appId ?? '(unnamed)'}`}${identity.appId ? ` (app ${identity.appId})` : ''}` });

  // 2. The tenant.
  try {
    report.tenant = await readOrganization(client);
    checks.push({ id: 'tenant', state: 'ok', detail: `tenant ${report.tenant.displayName} (${report.tenant.id}) at ${client.root}${report.rehearsal ? ': a loopback Graph (the emulator): a rehearsal' : ''}` });
  } catch (err) {
    // Nothing answers at that address: one failure with a network fix, not a permission to grant
    // and eight more failures of the same cause (a black-box test).
    if (err instanceof GraphUnreachableError) {
      checks.push({ id: 'graph', state: 'fail', detail: err.message, fix: 'check --graph-url (a rehearsal: is the emulator running?), the network and any proxy between here and Graph' });
      return finish(report);
    }
    checks.push({ id: 'tenant', state: 'fail', detail: `cannot read the tenant: ${(err as Error).message}`, fix: fixFor('organization.read', delegated) });
  }

  // 3. The token's permissions against each command's needs.
  if (report.identity.kind === 'unknown') {
    checks.push({ id: 'permissions', state: 'warn', detail: 'the access token names no permissions (roles or scp): they cannot be checked here; the reads below show what works' });
  } else {
    for (const c of COMMAND_NEEDS) {
      // What an application can never have (staged rollout) is said once below, not per command.
      const possible = (id: CapabilityId) => delegated || capability(id).application.length > 0;
      const missing = [...c.needs, ...c.optional.map((o) => o.id).filter(possible)].filter((id) => !grants(permissions, delegated, capability(id)));
      const required = missing.filter((id) => c.needs.includes(id));
      report.commands.push({ command: c.command, ready: required.length === 0, missing });
      for (const id of missing) {
        const opt = c.optional.find((o) => o.id === id);
        checks.push({ id: `permission:${c.command}:${id}`, state: opt ? 'warn' : 'fail', detail: `${c.command} ${opt ? `(${opt.when}) ` : ''}cannot ${capability(id).what}: the token has none of ${accepted(id, delegated)}`, fix: fixFor(id, delegated) });
      }
    }
    const rollout = capability('rollout.write');
    if (!delegated) checks.push({ id: 'permission:cutover', state: 'warn', detail: 'an application cannot manage staged rollout (Graph has no application permission for it): the cutover needs a signed-in admin', fix: `sign in as an admin with ${rollout.delegated[0]} consented, through an app registration of your own (a public client): --auth device-code --client-id APP (Azure CLI's own app cannot be given it); see docs/cutover.md and ${rollout.source}` });
  }

  // 4. One harmless read of each endpoint, with one user of the tenant for the per-user ones.
  const firstUser = await client.request<{ value?: { id: string; userPrincipalName?: string }[] }>(PROBES.find((p) => p.id === 'users')!.call(undefined)!).catch(() => undefined);
  const userId = firstUser && isSuccess(firstUser) ? firstUser.body?.value?.[0]?.id : undefined;
  // How doctor names that user if Graph shows their phones masked.
  const firstUpn = firstUser && isSuccess(firstUser) ? (firstUser.body?.value?.[0]?.userPrincipalName ?? userId) : userId;
  const phones = new PhonesSeen();
  let policy: AuthenticationMethodsPolicy | undefined;
  for (const probe of PROBES) {
    const call = probe.call(userId);
    if (!call) {
      checks.push({ id: `read:${probe.id}`, state: 'warn', detail: `${probe.what}: not read (no user found to read it for)` });
      continue;
    }
    let res;
    try {
      res = await client.request(call);
    } catch (err) {
      // Graph refused the access token, a new one too: said as the refusal it is, with its fix below.
      if (err instanceof TokenRefusedError) res = err.response;
      else {
        checks.push({ id: `read:${probe.id}`, state: 'fail', detail: `${probe.what}: ${(err as Error).message}` });
        continue;
      }
    }
    if (isSuccess(res)) {
      if (probe.id === 'policy') policy = res.body as AuthenticationMethodsPolicy;
      if (probe.id === 'methods' || probe.id === 'phone-methods') phones.see(firstUpn!, res.body);
      checks.push({ id: `read:${probe.id}`, state: 'ok', detail: `${probe.what}: readable` });
    } else if (endpointMissing(res.status, res.body)) {
      checks.push({ id: `read:${probe.id}`, state: call.version === 'beta' ? 'fail' : 'warn', detail: `${probe.what}: Graph ${call.version} here has no such endpoint (${errorText(res)})`, fix: call.version === 'beta' ? 'the hardware OATH and default-method APIs are beta only: use a cloud whose Graph has them (the public cloud has), or migrate phones only' : undefined });
    } else if (res.status === 403 || res.status === 401) {
      const optional = ['groups.read', 'rollout.read', 'domains.read', 'inventory.read'].includes(probe.capability);
      // A local emulator that refuses is one started with --token: no permission would help.
      const fix = res.status === 401 && isLoopbackGraph(client.root) ? `this Graph is a local emulator started with --token: set MFA_MIGRATE_EMULATOR_TOKEN to that token` : fixFor(probe.capability, delegated);
      checks.push({ id: `read:${probe.id}`, state: optional ? 'warn' : 'fail', detail: `${probe.what}: refused (${errorText(res)})`, fix });
    } else {
      checks.push({ id: `read:${probe.id}`, state: 'warn', detail: `${probe.what}: ${errorText(res)}` });
    }
  }

  // 5. The tenant's state that matters to a migration.
  if (policy) {
    const p = policy as AuthenticationMethodsPolicy & { systemCredentialPreferences?: { state?: string }; policyMigrationState?: string };
    const migration = p.policyMigrationState ?? 'unknown';
    checks.push({ id: 'policy-migration-state', state: migration === 'migrationComplete' || migration === 'unknown' ? 'ok' : 'warn', detail: `policyMigrationState: ${migration}`, ...(migration === 'migrationComplete' || migration === 'unknown' ? {} : { fix: 'the legacy MFA and SSPR method settings stopped being manageable on 2025-09-30: finish the methods migration in the Entra admin center (Authentication methods > Manage migration)' }) });
    const system = p.systemCredentialPreferences?.state ?? 'unknown';
    checks.push({ id: 'system-preferred', state: system === 'disabled' ? 'ok' : 'warn', detail: `system-preferred MFA: ${system === 'default' ? 'Microsoft managed (on)' : system}`, ...(system === 'disabled' ? {} : { fix: 'with system-preferred MFA on, the default method the migration sets is used only by the NPS extension and AD FS; the plan names the users concerned' }) });
    const bytes = Buffer.byteLength(JSON.stringify(policy));
    checks.push({ id: 'policy-size', state: bytes > POLICY_LIMIT_BYTES * 0.9 ? 'warn' : 'ok', detail: `the policy is ${(bytes / 1024).toFixed(1)} KB of the ${POLICY_LIMIT_BYTES / 1024} KB it can be saved at`, ...(bytes > POLICY_LIMIT_BYTES * 0.9 ? { fix: 'target groups rather than many single users; remove unused method targets' } : {}) });
    const hw = (policy.authenticationMethodConfigurations ?? []).find((c) => c.id?.toLowerCase() === 'hardwareoath');
    checks.push({ id: 'hardware-oath', state: 'ok', detail: `hardware OATH tokens: ${hw?.state ?? 'not configured'}${hw?.state === 'enabled' ? '' : ' (the plan enables them if the export has tokens; activations may then wait up to 20 minutes)'}` });
  }

  // 6. The export's users: are they in this tenant?
  if (opts.source) {
    let bundle;
    try {
      bundle = await readExport({ source: opts.source, tokens: [], seeds: {} });
    } catch (err) {
      throw new UserError(`--source ${opts.source}: ${(err as Error).message}`);
    }
    const enabled = bundle.users.filter((u) => u.enabled);
    const sample = enabled.slice(0, 20);
    let found = 0;
    for (const u of sample) {
      const res = await client.request<{ id?: string; userPrincipalName?: string }>(getUser(u.username)).catch(() => undefined);
      if (!res || !isSuccess(res)) continue;
      found++;
      // The export's users have phones where the first user of the tenant (an admin, a service account) often has none.
      if (phones.masked || !res.body?.id) continue;
      const listed = await client.request(listPhoneMethods(res.body.id)).catch(() => undefined);
      if (listed && isSuccess(listed)) phones.see(res.body.userPrincipalName ?? u.username, listed.body);
    }
    checks.push({ id: 'export-users', state: found === sample.length ? 'ok' : found === 0 ? 'fail' : 'warn', detail: `${found} of ${sample.length} export users looked up are in this tenant${sample.length < enabled.length ? ` (the first ${sample.length} of the export's ${enabled.length} enabled users: a sample; plan reads them all)` : ''}${found === 0 && sample.length > 0 ? ': wrong tenant?' : ''}`, ...(found < sample.length ? { fix: 'users not found are skipped by the plan; check the export is for this tenant and the UPNs match' } : {}) });
    if (bundle.users.some((u) => u.oathTokenSerial !== undefined) && !checks.some((c) => c.id === 'read:inventory' && c.state === 'ok')) {
      checks.push({ id: 'export-tokens', state: 'fail', detail: 'the export has OATH tokens, and the token inventory cannot be read', fix: fixFor('inventory.read', delegated) });
    }
  }
  const phoneCheck = phones.check();
  if (phoneCheck) checks.push(phoneCheck);
  // Every command reads users' phones, and refuses masked ones whatever its permissions.
  if (phoneCheck?.state === 'fail') for (const c of report.commands) c.ready = false;
  return finish(report);
}

/**
 * The phone numbers doctor read (the first user's, and the export sample's): whether Graph showed
 * them masked, as it does to an Authentication Administrator, which plan, status, apply and
 * rollback refuse (src/graph/masked-phone.ts).
 */
class PhonesSeen {
  masked: { upn: string; phoneType: string } | undefined;
  #numbers = 0;

  see(upn: string, list: unknown): void {
    this.#numbers += ((list as { value?: { phoneNumber?: unknown }[] } | null)?.value ?? []).filter((m) => m && typeof m === 'object' && 'phoneNumber' in m).length;
    const type = maskedPhoneIn(list);
    if (type !== undefined && !this.masked) this.masked = { upn, phoneType: type };
  }

  check(): DoctorCheck | undefined {
    if (this.masked) {
      const { upn, phoneType } = this.masked;
      return { id: 'phone-numbers', state: 'fail', detail: `Graph showed ${upn}'s ${phoneType} phone number masked: ${MASKED_PHONES_WHY}; plan, status, apply and rollback refuse, since masked numbers cannot be compared, kept or put back`, fix: MASKED_PHONES_FIX };
    }
    if (this.#numbers > 0) return { id: 'phone-numbers', state: 'ok', detail: `${this.#numbers} phone number(s) read, none masked` };
    return undefined;
  }
}

function accepted(id: CapabilityId, delegated: boolean): string {
  const c = capability(id);
  const list = delegated ? c.delegated : c.application;
  return list.length ? list.join(', ') : '(no permission: Graph does not allow it for an application)';
}

function fixFor(id: CapabilityId, delegated: boolean): string {
  const c = capability(id);
  const list = delegated ? c.delegated : c.application;
  if (list.length === 0) return `Graph has no application permission to ${c.what}: sign in as an admin (${c.delegated[0]}); see ${c.source}`;
  return `grant ${list[0]} (${delegated ? 'delegated' : 'application'}) and admin consent; see ${c.source} and docs/permissions.md`;
}

function finish(report: DoctorReport): DoctorReport {
  report.ready = !report.checks.some((c) => c.state === 'fail');
  return report;
}


