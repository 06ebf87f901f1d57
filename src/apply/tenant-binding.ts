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

/**
 * A run is resumed and rolled back against the Graph it wrote to. Another root answering for the
 * same tenant id (a rehearsal emulator loaded with the production tenant, say) would get the rest
 * of a run whose first part went elsewhere, or undo what it never received.
 */
export function requireRunGraph(recorded: string | undefined, client: GraphClient, runId: string, command: 'resume' | 'rollback'): void {
  if (recorded === undefined || sameRoot(recorded, client.root)) return;
  throw new UserError(`run ${runId} wrote to ${recorded}, not ${client.root}: ${command} goes to the Graph the run wrote to (leave --graph-url out)`);
}

/** Roots are origins (parseGraphRoot makes them so): compared as such, whatever their case. */
function sameRoot(a: string, b: string): boolean {
  const origin = (x: string) => {
    try {
      return new URL(x).origin;
    } catch {
      return x;
    }
  };
  return origin(a) === origin(b);
}
