import { addTo } from '../model/add-to.js';
import { ROLLOUT_POLICY_TARGET } from '../model/staged-rollout.js';
import type { SavedCutoverChange, SavedPolicyChange } from '../plan/plan-file.js';
import { createHash } from 'node:crypto';
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
  /** A wave's new tokens created in the inventory in one request (#$delta), unassigned. */
  | 'token-bulk-create'
  /** An inventory token assigned to the user and activated in one write, by serial number. */
  | 'token-assign-activate'
  | 'signin-update'
  // The cutover:
  | 'rollout-policy-create'
  | 'rollout-policy-update'
  | 'rollout-attach'
  | 'rollout-add'
  | 'campaign-add'
  | 'federation-update'
  // Rollback only:
  | 'email-delete'
  | 'token-deactivate'
  | 'token-unassign'
  | 'token-delete'
  | 'rollout-policy-delete'
  | 'rollout-detach'
  | 'group-member-remove';

/**
 * One Graph write the apply performs. Ids are stable (derived from the plan), so a resumed run
 * finds each operation's journal record again.
 */
export interface Operation {
  id: string;
  kind: OpKind;
  /** The export's username. */
  user?: string;
  /** The user's UPN in the tenant, when it is not `user` (the plan matched them by an on-premises name): what reads by UPN use. */
  tenantUpn?: string;
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
  /**
   * A federation change: the domain whose users' switches (rollout-add operations), this many, must
   * all be done first. They run in earlier steps (the waves), so the run checks this itself.
   */
  requires?: { domain: string; switches: number };
}

/** The id of the operation that creates (or enables) the MFA rollout policy; attachments read a created policy's id from its result. */
export const ROLLOUT_POLICY_OP = 'cutover/featureRolloutPolicy';

/**
 * The cutover's tenant-level operations: the rollout policy and its groups go in the policy step,
 * before the waves (a group is attached while it is small, users are added to it after); each
 * domain's federation goes after the waves, once every switch of its users succeeded.
 */
export function cutoverOperations(changes: readonly SavedCutoverChange[]): { beforeWaves: Operation[]; afterWaves: Operation[] } {
  const beforeWaves: Operation[] = [];
  const afterWaves: Operation[] = [];
  const base = (c: SavedCutoverChange) => ({ resource: c.target, before: c.before, after: c.after, stateFingerprint: c.state_fingerprint, dependsOn: [] as string[] });
  const creates = changes.some((c) => c.target === ROLLOUT_POLICY_TARGET && c.action === 'create');
  for (const c of changes) {
    if (c.target === ROLLOUT_POLICY_TARGET) {
      beforeWaves.push({ ...base(c), id: ROLLOUT_POLICY_OP, kind: c.action === 'create' ? 'rollout-policy-create' : 'rollout-policy-update', after: c.action === 'create' ? c.after : { isEnabled: c.after.isEnabled } });
    } else if (c.target.startsWith('featureRolloutPolicies/multiFactorAuthentication/appliesTo/')) {
      beforeWaves.push({ ...base(c), id: `cutover/featureRolloutPolicy/appliesTo/${String(c.after.groupId)}`, kind: 'rollout-attach', dependsOn: creates ? [ROLLOUT_POLICY_OP] : [] });
    } else if (c.target.startsWith('domains/')) {
      const domain = c.target.split('/')[1]!;
      afterWaves.push({ ...base(c), id: `cutover/${c.target}`, kind: 'federation-update', requires: { domain, switches: c.switches ?? 0 } });
    } else {
      throw new Error(`unknown cutover target ${c.target}`);
    }
  }
  return { beforeWaves, afterWaves };
}

/** The root policy's targets, each written by its own PATCH (the campaign is on v1.0, the report settings only on beta). */
const ROOT_OP_IDS: Record<string, string> = {
  'registrationEnforcement/authenticationMethodsRegistrationCampaign': 'policy/authenticationMethodsPolicy',
  reportSuspiciousActivitySettings: 'policy/reportSuspiciousActivitySettings',
};

/**
 * The policy step: one PATCH per method configuration, one per complex property of the policy itself,
 * one after another. They are parts of one policy object (its 20 KB limit is the whole policy's), and how
 * Graph takes concurrent saves of it is not documented: sent side by side, one could be lost or refused.
 */
export function policyOperations(changes: readonly SavedPolicyChange[]): Operation[] {
  const byTarget = new Map<string, SavedPolicyChange[]>();
  for (const c of changes) addTo(byTarget, c.target, c);
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
  for (let i = 1; i < ops.length; i++) ops[i]!.dependsOn = [ops[i - 1]!.id];
  return ops;
}

/**
 * A user's operations in Graph's order: the mobile phone before the alternate (Graph needs it),
 * a token created (assigned in the same call) before it is activated, every method before the
 * default method that may point at it, and deletions (--prune) last, after the default has moved.
 */
/**
 * How hardware tokens are written: `bulk`, a wave's new tokens created in one inventory request and
 * each assigned and activated in one write (about one write per token); `single`, each created
 * assigned and then activated (two writes per token), where Graph lacks the bulk actions.
 */
/**
 * How a run writes hardware tokens: one by one (`single`), or by the bulk actions (`bulk-by-id`: new
 * tokens by a bulk create, then an assign-and-activate by serial each, tokens of the inventory the plan
 * saw assigned by their id). `bulk` is the layout of runs begun before, which assigned those by serial
 * too: kept, so that such a run resumes and rolls back on the operations it journaled.
 */
export type TokenPath = 'single' | 'bulk' | 'bulk-by-id';

export const isBulkPath = (p: TokenPath): boolean => p !== 'single';

/** New tokens per bulk create: some 400 bytes each, so a $batch of 20 such requests stays well under Graph's 4 MB. */
export const BULK_CREATE_SIZE = 200;

export function userOperations(u: PlanUser, tokenPath: TokenPath = 'single'): Operation[] {
  const ops: Operation[] = [];
  const methodOps: string[] = [];
  const deletes: SavedUserChange[] = [];
  let mobileOp: string | undefined;
  let switchOp: Operation | undefined;
  const base = (c: SavedUserChange) => ({
    user: u.upn,
    ...(u.tenantUpn !== undefined ? { tenantUpn: u.tenantUpn } : {}),
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
      // A token of the inventory the plan saw (its id known) is assigned by that id on either path:
      // assigned by serial, Graph refuses a serial the inventory holds twice ("assign one by its id"),
      // and could take another token of that serial than the one the plan judged (a rehearsal).
      if ((tokenPath === 'bulk' && (c.action === 'create' || !before?.assignedTo)) || (tokenPath === 'bulk-by-id' && c.action === 'create')) {
        // Created by its wave's bulk create (when new), then assigned and activated in one write.
        const op: Operation = { ...base(c), id: id('assign-activate'), kind: 'token-assign-activate', after: { ...c.after, created: c.action === 'create' }, dependsOn: [] };
        ops.push(op);
        methodOps.push(op.id);
        continue;
      }
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
    } else if (kind === 'campaignGroup') {
      ops.push({ ...base(c), id: id(''), kind: 'campaign-add', after: c.after, dependsOn: [] });
    } else if (kind === 'rolloutGroup') {
      switchOp = { ...base(c), id: id(''), kind: 'rollout-add', after: c.after, dependsOn: [] };
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
  // Switched to Entra MFA last, and only once everything else of the user succeeded: a failed or
  // skipped operation leaves them on MFA Server (the executor skips what depends on a failure).
  if (switchOp) ops.push({ ...switchOp, dependsOn: ops.map((o) => o.id) });
  return ops;
}

function rank(c: SavedUserChange): number {
  const [kind, key] = splitResource(c.resource);
  if (kind === 'phoneMethods') return key === 'mobile' ? 0 : key === 'alternateMobile' ? 1 : 2;
  if (kind === 'emailMethods') return 3;
  if (kind === 'hardwareOathMethods') return 4;
  if (kind === 'signInPreferences') return 5;
  return 6;
}

/**
 * A wave's operations: its users' and, on the bulk token path, the bulk creates of its new tokens
 * (each user's assign-and-activate waiting for the one that creates their token). Deterministic, so
 * a resume rebuilds the same ids.
 */
export function waveOperations(users: readonly PlanUser[], tokenPath: TokenPath): Operation[] {
  const ops = users.flatMap((u) => userOperations(u, tokenPath));
  if (!isBulkPath(tokenPath)) return ops;
  const creates = ops.filter((o) => o.kind === 'token-assign-activate' && (o.after as { created?: boolean } | null)?.created);
  const bulks: Operation[] = [];
  for (let i = 0; i < creates.length; i += BULK_CREATE_SIZE) {
    const chunk = creates.slice(i, i + BULK_CREATE_SIZE);
    const tokens = chunk.map((o) => {
      const a = o.after as Record<string, unknown>;
      return { serialNumber: a.serialNumber, hashFunction: a.hashFunction, timeIntervalInSeconds: a.timeIntervalInSeconds, secretFingerprint: a.secretFingerprint };
    });
    const id = `tokens/${createHash('sha256').update(tokens.map((t) => String(t.serialNumber)).join('\n')).digest('hex').slice(0, 16)}`;
    bulks.push({ id, kind: 'token-bulk-create', resource: 'hardwareOathDevices', before: null, after: { tokens }, stateFingerprint: '', dependsOn: [] });
    for (const o of chunk) o.dependsOn = [...o.dependsOn, id];
  }
  return [...bulks, ...ops];
}

/** Whether an operation id is a token activation's (the ids userOperations makes: `<user>/<resource>/activate`, `.../assign-activate`). */
export function isActivationId(id: string): boolean {
  return id.endsWith('/activate') || id.endsWith('/assign-activate');
}

/** The UPN an operation's user has in the tenant (the username, unless the plan matched them by an on-premises name). */
export function tenantUpnOf(o: Pick<Operation, 'user' | 'tenantUpn'>): string | undefined {
  return o.tenantUpn ?? o.user;
}
