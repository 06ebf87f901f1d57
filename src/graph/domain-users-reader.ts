import type { GraphClient } from './graph-client.js';
import { listUsersOfDomain, type DirectoryUser } from './calls/users.js';

/**
 * The tenant users of a domain (UPN `...@domain`), listed in pages: what a domain's federation moves
 * to Entra MFA at once. `onListed`: users listed so far, a page at a time (a large domain takes a while).
 */
export async function listDomainUsers(client: GraphClient, domain: string, onListed?: (listed: number) => void): Promise<DirectoryUser[]> {
  const out: DirectoryUser[] = [];
  const suffix = `@${domain.toLowerCase()}`;
  for await (const u of client.pages<DirectoryUser>(listUsersOfDomain(domain), `listing the users of ${domain}`)) {
    // The filter's answer, checked: a user of another domain is never taken for one of this one.
    if (typeof u.id !== 'string' || typeof u.userPrincipalName !== 'string' || !u.userPrincipalName.toLowerCase().endsWith(suffix)) continue;
    out.push(u);
    if (out.length % 999 === 0) onListed?.(out.length);
  }
  onListed?.(out.length);
  return out;
}
