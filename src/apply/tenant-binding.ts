import type { GraphClient } from '../graph/graph-client.js';
import { readOrganization } from '../graph/tenant-reader.js';
import { UserError } from '../model/user-error.js';

export interface BoundTenant {
  id: string;
  displayName: string;
}

/** The Graph a run talks to is another tenant than the one its plan (or run) is for. */
export class WrongTenantError extends UserError {
  constructor(expected: { id: string; displayName?: string }, root: string, actual: BoundTenant) {
    super(`the plan is for tenant ${name(expected)}, but ${root} is tenant ${name(actual)}`);
  }
}

const name = (t: { id: string; displayName?: string }) => (t.displayName ? `${t.displayName} (${t.id})` : t.id);

/**
 * Reads the tenant behind the client and refuses anything but the expected one,
 * before any write is sent. Nothing bypasses it: not --skip-stale, not --force.
 */
export async function bindTenant(client: GraphClient, expected: { id: string; displayName?: string }): Promise<BoundTenant> {
  if (!expected.id || expected.id === 'unknown') throw new UserError('the plan does not record which tenant it is for (it was made by an older mfa-migrate that could not read it): make a new plan');
  const org = await readOrganization(client);
  if (org.id.toLowerCase() !== expected.id.toLowerCase()) throw new WrongTenantError(expected, client.root, org);
  return org;
}
