import type { SavedPolicyChange } from '../plan/plan-file.js';
import type { PlanUser, SavedUserChange } from '../plan/plan-file.js';
import { splitResource } from '../plan/resource-state.js';

export type OpKind =
  | 'policy-config'
  | 'policy-root'
  | 'phone-create'
  | 'phone-update'
  | 'phone-delete'
  | 'email-create'
  | 'email-update'
  | 'token-create'
  | 'token-assign'
  | 'token-activate'
  | 'signin-update'
  // Rollback only:
  | 'email-delete'
  | 'token-deactivate'
  | 'token-unassign'
  | 'token-delete';

/**
 * One Graph write the apply performs. Ids are stable (derived from the plan), so a resumed run
 * finds each operation's journal record again.
 */
export interface Operation {
  id: string;
  kind: OpKind;
  user?: string;
  userId?: string;
  /** The plan resource (`phoneMethods/mobile`, `hardwareOathMethods/<serial>`...) or policy target. */
  resource: string;
  /** Graph properties the operation sets (no secrets: a token's seed is looked up when sent). */
  after: Record<string, unknown> | null;
  /** The plan's view of the tenant before. */
  before: unknown;
  /** Fingerprint of `before` when planned (stale when the tenant now differs). */
  stateFingerprint: string;
  /** Operations of the same user (or policy) that must succeed first. */
  dependsOn: string[];
}

/** The root policy's targets, each written by its own PATCH (the campaign is on v1.0, the report settings only on beta). */
const ROOT_OP_IDS: Record<string, string> = {
  'registrationEnforcement/authenticationMethodsRegistrationCampaign': 'policy/authenticationMethodsPolicy',
  reportSuspiciousActivitySettings: 'policy/reportSuspiciousActivitySettings',
};

/** The policy step: one PATCH per method configuration, one per complex property of the policy itself. */
export function policyOperations(changes: readonly SavedPolicyChange[]): Operation[] {
  const byTarget = new Map<string, SavedPolicyChange[]>();
  for (const c of changes) byTarget.set(c.target, [...(byTarget.get(c.target) ?? []), c]);
  const ops: Operation[] = [];
  for (const [target, list] of byTarget) {
    if (!target.startsWith('authenticationMethodConfigurations/')) {
      const id = Object.hasOwn(ROOT_OP_IDS, target) ? ROOT_OP_IDS[target]! : `policy/${target}`;
      ops.push({
        id,
        kind: 'policy-root',
        resource: 'authenticationMethodsPolicy',
        after: Object.fromEntries(list.map((c) => [`${c.target}.${c.property}`, c.after])),
        before: Object.fromEntries(list.map((c) => [`${c.target}.${c.property}`, c.before])),
        stateFingerprint: list.map((c) => c.state_fingerprint ?? '').join(','),
        dependsOn: [],
      });
      continue;
    }
    ops.push({
      id: `policy/${target}`,
      kind: 'policy-config',
      resource: target,
      after: Object.fromEntries(list.map((c) => [c.property, c.after])),
      before: Object.fromEntries(list.map((c) => [c.property, c.before])),
      stateFingerprint: list.map((c) => c.state_fingerprint ?? '').join(','),
      dependsOn: [],
    });
  }
  return ops;
}

/**
 * A user's operations in Graph's order: the mobile phone before the alternate (Graph needs it),
 * a token created (assigned in the same call) before it is activated, every method before the
 * default method that may point at it, and deletions (--prune) last, after the default has moved.
 */
export function userOperations(u: PlanUser): Operation[] {
  const ops: Operation[] = [];
  const methodOps: string[] = [];
  const deletes: SavedUserChange[] = [];
  let mobileOp: string | undefined;
  const base = (c: SavedUserChange) => ({
    user: u.upn,
    userId: u.userId,
    resource: c.resource,
    before: c.before,
    stateFingerprint: c.state_fingerprint,
  });
  const changes = u.changes;
  const ordered = [...changes].sort((a, b) => rank(a) - rank(b));
  for (const c of ordered) {
    if (c.action === 'no-op') continue;
    const [kind, key] = splitResource(c.resource);
    const id = (step: string) => `${u.userId}/${c.resource}${step ? `/${step}` : ''}`;
    if (c.action === 'delete') {
      deletes.push(c);
      continue;
    }
    if (kind === 'phoneMethods') {
      const op: Operation = {
        ...base(c),
        id: id(''),
        kind: c.action === 'create' ? 'phone-create' : 'phone-update',
        after: c.after,
        dependsOn: key === 'alternateMobile' && mobileOp ? [mobileOp] : [],
      };
      if (key === 'mobile') mobileOp = op.id;
      ops.push(op);
      methodOps.push(op.id);
    } else if (kind === 'emailMethods') {
      ops.push({ ...base(c), id: id(''), kind: c.action === 'create' ? 'email-create' : 'email-update', after: c.after, dependsOn: [] });
      methodOps.push(id(''));
    } else if (kind === 'hardwareOathMethods') {
      const before = c.before as { id?: string; assignedTo?: string | null; status?: string } | null;
      const activate: Operation = { ...base(c), id: id('activate'), kind: 'token-activate', after: c.after, dependsOn: [] };
      if (c.action === 'create') {
        const create: Operation = { ...base(c), id: id('create'), kind: 'token-create', after: c.after, dependsOn: [] };
        activate.dependsOn = [create.id];
        ops.push(create);
      } else if (!before?.assignedTo) {
        const assign: Operation = { ...base(c), id: id('assign'), kind: 'token-assign', after: { ...c.after, deviceId: before?.id }, dependsOn: [] };
        activate.dependsOn = [assign.id];
        ops.push(assign);
      }
      ops.push(activate);
      methodOps.push(activate.id);
    } else if (kind === 'signInPreferences') {
      ops.push({ ...base(c), id: id(''), kind: 'signin-update', after: c.after, dependsOn: [...methodOps] });
    }
  }
  const signin = ops.find((o) => o.kind === 'signin-update');
  // Deleting alternateMobile before mobile, and only once the default has moved off them.
  deletes.sort((a, b) => (a.resource.endsWith('/alternateMobile') ? -1 : b.resource.endsWith('/alternateMobile') ? 1 : 0));
  let previous: string | undefined;
  for (const c of deletes) {
    const op: Operation = {
      ...base(c),
      id: `${u.userId}/${c.resource}/delete`,
      kind: 'phone-delete',
      after: null,
      dependsOn: [...(signin ? [signin.id] : []), ...(previous ? [previous] : [])],
    };
    ops.push(op);
    previous = op.id;
  }
  return ops;
}

function rank(c: SavedUserChange): number {
  const [kind, key] = splitResource(c.resource);
  if (kind === 'phoneMethods') return key === 'mobile' ? 0 : key === 'alternateMobile' ? 1 : 2;
  if (kind === 'emailMethods') return 3;
  if (kind === 'hardwareOathMethods') return 4;
  return 5;
}

