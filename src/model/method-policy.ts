import type * as Graph from '@microsoft/microsoft-graph-types-beta';

/**
 * The authentication methods policy read for who may use which method: its method configurations
 * as a plan leaves them, the groups their targets name, and what changed between two reads. Pure;
 * planning judges users by it, and apply checks before writing that it still holds.
 */

/** A change of one property of the policy (a plan's policy change, as far as reading it goes). */
export interface PolicyEdit {
  target: string;
  property: string;
  after: unknown;
}

type Config = Graph.AuthenticationMethodConfiguration & { id?: string | null; includeTargets?: ({ id?: string } & Record<string, unknown>)[] | null } & Record<string, unknown>;

/** Case-insensitive lookup of a method configuration by id. */
export function findConfig(policy: Graph.AuthenticationMethodsPolicy, id: string): Config | undefined {
  return (policy.authenticationMethodConfigurations ?? []).find((c) => c.id?.toLowerCase() === id.toLowerCase()) as Config | undefined;
}

/** The method configurations that decide whether a migrated method can be used to sign in. */
export const METHOD_CONFIGS = ['Voice', 'Sms', 'MicrosoftAuthenticator', 'HardwareOath', 'SoftwareOath'] as const;
export type MethodConfig = (typeof METHOD_CONFIGS)[number];

/** An include or exclude target of a method: a group, a user, or all_users. */
export interface MethodTarget {
  id: string;
  targetType?: string;
}

/** One method configuration as it will be once the plan's changes are applied. */
interface ConfigAfter {
  enabled: boolean;
  include: MethodTarget[];
  exclude: MethodTarget[];
}

/**
 * The authentication methods policy as it will be once the plan is applied, reduced to what decides
 * who can sign in with what: each method's state, include and exclude targets, and the two switches
 * that widen a method (office phones for voice, Authenticator's OATH codes).
 */
export interface PolicyAfter {
  configs: Record<MethodConfig, ConfigAfter>;
  officePhoneAllowed: boolean;
  authenticatorOtp: boolean;
}

export function policyAfter(policy: Graph.AuthenticationMethodsPolicy, changes: readonly PolicyEdit[]): PolicyAfter {
  const after = (id: string, property: string, current: unknown): unknown => {
    const c = changes.find((x) => x.target.toLowerCase() === `authenticationmethodconfigurations/${id.toLowerCase()}` && x.property === property);
    return c ? c.after : current;
  };
  const targets = (value: unknown): MethodTarget[] => (Array.isArray(value) ? value.filter((t): t is MethodTarget => typeof (t as MethodTarget | null)?.id === 'string') : []);
  const configs = {} as Record<MethodConfig, ConfigAfter>;
  for (const id of METHOD_CONFIGS) {
    const c = findConfig(policy, id) as (Record<string, unknown> & { state?: string | null }) | undefined;
    configs[id] = {
      enabled: after(id, 'state', c?.state) === 'enabled',
      include: targets(after(id, 'includeTargets', c?.includeTargets)),
      exclude: targets(after(id, 'excludeTargets', c?.excludeTargets)),
    };
  }
  return {
    configs,
    officePhoneAllowed: after('Voice', 'isOfficePhoneAllowed', findConfig(policy, 'Voice')?.isOfficePhoneAllowed) === true,
    authenticatorOtp: after('MicrosoftAuthenticator', 'isSoftwareOathEnabled', findConfig(policy, 'MicrosoftAuthenticator')?.isSoftwareOathEnabled) === true,
  };
}

/**
 * The groups whose members the policy's targets name, once the plan is applied (all_users left
 * out): planning reads their members (nested groups included) to tell, user by user, what is enabled.
 */
export function policyTargetGroups(view: PolicyAfter): string[] {
  const ids = new Set<string>();
  for (const c of Object.values(view.configs)) {
    for (const t of [...c.include, ...c.exclude]) if (t.id.toLowerCase() !== 'all_users' && t.targetType !== 'user') ids.add(t.id.toLowerCase());
  }
  return [...ids].sort();
}

/** A method configuration's property that decides who can use the method, as it was and as it is. */
export interface TargetingChange {
  target: string;
  property: string;
  before: string;
  now: string;
}

/**
 * Where the policy's say over who can use which method changed between two reads (the plan's, and
 * apply's): each method's state, include and exclude targets (by id and type), and the two switches
 * that widen a method. Properties the plan itself changes are left to the plan's own check.
 */
export function targetingChanges(seen: Graph.AuthenticationMethodsPolicy, live: Graph.AuthenticationMethodsPolicy, planned: readonly Pick<PolicyEdit, 'target' | 'property'>[]): TargetingChange[] {
  const plannedKeys = new Set(planned.map((c) => `${c.target.toLowerCase()}|${c.property}`));
  const targets = (value: unknown): string =>
    JSON.stringify(
      (Array.isArray(value) ? (value as { id?: unknown; targetType?: unknown }[]) : [])
        .map((t) => `${String(t.id ?? '').toLowerCase()}:${String(t.targetType ?? 'group')}`)
        .sort(),
    );
  const out: TargetingChange[] = [];
  const properties: [MethodConfig, string, (v: unknown) => string][] = [
    ...METHOD_CONFIGS.flatMap((id): [MethodConfig, string, (v: unknown) => string][] => [
      [id, 'state', (v) => JSON.stringify(v ?? null)],
      [id, 'includeTargets', targets],
      [id, 'excludeTargets', targets],
    ]),
    ['Voice', 'isOfficePhoneAllowed', (v) => JSON.stringify(v === true)],
    ['MicrosoftAuthenticator', 'isSoftwareOathEnabled', (v) => JSON.stringify(v === true)],
  ];
  for (const [id, property, show] of properties) {
    const target = `authenticationMethodConfigurations/${id}`;
    if (plannedKeys.has(`${target.toLowerCase()}|${property}`)) continue;
    const before = show((findConfig(seen, id) as Record<string, unknown> | undefined)?.[property]);
    const now = show((findConfig(live, id) as Record<string, unknown> | undefined)?.[property]);
    if (before !== now) out.push({ target, property, before, now });
  }
  return out;
}


/**
 * The groups whose memberships a plan records for each user (`seen.policyGroups`): those the policy
 * targets as read, and the target group the plan may add. Those the policy names once the plan is
 * applied are among them (a plan adds the target group, or replaces targets with it), so apply,
 * reading these same groups again, compares like with like.
 */
export function judgedGroups(policy: Graph.AuthenticationMethodsPolicy, targetGroupId: string | undefined): string[] {
  const target = targetGroupId && targetGroupId.toLowerCase() !== 'all_users' ? [targetGroupId.toLowerCase()] : [];
  return [...new Set([...policyTargetGroups(policyAfter(policy, [])), ...target])].sort();
}
