/**
 * What this tool does with Graph, and the permissions Graph accepts for each, from the permission
 * tables of Graph's API pages (least privileged first; the pages are named in `source`). `doctor`
 * compares a token's permissions with these, and docs/permissions.md lists them per command.
 */
export interface Capability {
  id: CapabilityId;
  /** What the tool does with it. */
  what: string;
  /** Application permissions (app-only sign-in); empty when Graph has none for it. */
  application: readonly string[];
  /** Delegated permissions (a signed-in admin). */
  delegated: readonly string[];
  source: string;
}

export type CapabilityId =
  | 'organization.read'
  | 'users.read'
  | 'groups.read'
  | 'policy.read'
  | 'policy.write'
  | 'methods.read'
  | 'methods.write'
  | 'inventory.read'
  | 'inventory.write'
  | 'rollout.read'
  | 'rollout.write'
  | 'members.write'
  | 'domains.read'
  | 'federation.write';

const learn = (name: string, beta = false) => `https://learn.microsoft.com/graph/api/${name}?view=graph-rest-${beta ? 'beta' : '1.0'}`;
const both = (id: CapabilityId, what: string, permissions: string[], source: string): Capability => ({ id, what, application: permissions, delegated: permissions, source });

export const CAPABILITIES: readonly Capability[] = [
  // Least privileged first, then the higher ones Graph's tables also accept (doctor must not fail a grant Graph takes).
  { id: 'organization.read', what: 'read the tenant (GET /organization)', application: ['Organization.Read.All', 'Organization.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'], delegated: ['User.Read', 'Organization.Read.All', 'Organization.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'], source: learn('organization-list') },
  // Not User.ReadBasic.All, which Graph's table takes: it reads the basic profile only, and the tool needs
  // accountEnabled and userType (a disabled account, a guest), which Graph then leaves out without an error.
  both('users.read', 'find users by UPN, with accountEnabled and userType', ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'], learn('user-get')),
  both('groups.read', 'resolve --group / --target-group and list the members of those and of the groups the authentication methods policy targets', ['GroupMember.Read.All', 'GroupMember.ReadWrite.All', 'Group.Read.All', 'Group.ReadWrite.All', 'Directory.Read.All'], learn('group-list-transitivemembers')),
  both('policy.read', 'read the authentication methods policy', ['Policy.Read.AuthenticationMethod', 'Policy.ReadWrite.AuthenticationMethod', 'Policy.Read.All'], learn('authenticationmethodspolicy-get')),
  both('policy.write', 'change the authentication methods policy', ['Policy.ReadWrite.AuthenticationMethod'], learn('authenticationmethodspolicy-update')),
  both('methods.read', "read users' methods and sign-in preferences", ['UserAuthenticationMethod.Read.All', 'UserAuthenticationMethod.ReadWrite.All'], learn('authentication-list-methods')),
  both('methods.write', "write users' phone and email methods, default method, assign and activate tokens", ['UserAuthenticationMethod.ReadWrite.All'], learn('hardwareoathauthenticationmethod-activate', true)),
  both('inventory.read', 'read the hardware OATH token inventory (not Policy.Read.AuthenticationMethod)', ['Policy.Read.All', 'Policy.ReadWrite.AuthenticationMethod'], learn('authenticationmethoddevice-list-hardwareoathdevices', true)),
  // A token created for a user is assigned in the same request (assignTo): Graph then asks for methods.write too (apply/permission-check.ts).
  both('inventory.write', 'create and delete inventory tokens (one created assigned to its user also takes the permission to write users\' methods)', ['Policy.ReadWrite.AuthenticationMethod'], learn('authenticationmethoddevice-post-hardwareoathdevices', true)),
  { id: 'rollout.read', what: 'read staged rollout policies (delegated only in Graph)', application: [], delegated: ['Policy.Read.HybridAuthentication', 'Policy.ReadWrite.HybridAuthentication', 'Directory.ReadWrite.All'], source: learn('featurerolloutpolicies-list') },
  { id: 'rollout.write', what: 'create staged rollout for MFA and attach groups (delegated only in Graph)', application: [], delegated: ['Policy.ReadWrite.HybridAuthentication', 'Directory.ReadWrite.All'], source: learn('featurerolloutpolicies-post') },
  both('members.write', 'add users to rollout groups', ['GroupMember.ReadWrite.All', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'], learn('group-post-members')),
  both('domains.read', 'read domains and their federation configuration', ['Domain.Read.All', 'Domain.ReadWrite.All'], learn('domain-list-federationconfiguration')),
  both('federation.write', "change a federated domain's federatedIdpMfaBehavior (Graph documents a known issue: signed in as an admin, it may also need Directory.AccessAsUser.All consented)", ['Domain-InternalFederation.ReadWrite.All', 'Domain.ReadWrite.All'], learn('internaldomainfederation-update')),
];

export const capability = (id: CapabilityId): Capability => CAPABILITIES.find((c) => c.id === id)!;

/** What each command needs; `when` notes capabilities needed only with some options. */
export const COMMAND_NEEDS: readonly { command: string; needs: readonly CapabilityId[]; optional: readonly { id: CapabilityId; when: string }[] }[] = [
  {
    command: 'plan',
    needs: ['organization.read', 'users.read', 'policy.read', 'methods.read'],
    optional: [
      { id: 'inventory.read', when: 'with seed files (--tokens)' },
      { id: 'groups.read', when: 'with --group, --target-group, --rollout-group or --campaign-group, and when the authentication methods policy targets groups' },
      { id: 'rollout.read', when: 'with --rollout-group or --federated-mfa (a signed-in admin)' },
      { id: 'domains.read', when: 'with --federated-mfa' },
    ],
  },
  {
    command: 'apply, resume, rollback',
    needs: ['organization.read', 'users.read', 'policy.read', 'methods.read', 'policy.write', 'methods.write'],
    optional: [
      { id: 'inventory.read', when: 'with hardware tokens' },
      { id: 'inventory.write', when: 'with hardware tokens' },
      { id: 'groups.read', when: 'with --group, and when the authentication methods policy targets groups (their members are read again)' },
      { id: 'rollout.read', when: 'when the plan has a staged rollout (a signed-in admin)' },
      { id: 'rollout.write', when: 'when the plan has a staged rollout (a signed-in admin)' },
      { id: 'members.write', when: 'when the plan adds users to rollout or campaign groups' },
      { id: 'domains.read', when: 'when the plan changes a federated domain' },
      { id: 'federation.write', when: 'when the plan changes a federated domain' },
    ],
  },
  {
    command: 'status',
    needs: ['organization.read', 'users.read', 'policy.read', 'methods.read'],
    optional: [
      { id: 'groups.read', when: 'with --group, to see rollout group membership, and when the authentication methods policy targets groups' },
      { id: 'rollout.read', when: 'to see who staged rollout switched (a signed-in admin)' },
      { id: 'domains.read', when: 'to see federated domains' },
    ],
  },
];

/** Whether a token's permissions (roles, or delegated scopes) include one Graph accepts for a capability. */
export function grants(permissions: ReadonlySet<string>, delegated: boolean, c: Capability): boolean {
  return (delegated ? c.delegated : c.application).some((p) => permissions.has(p));
}
