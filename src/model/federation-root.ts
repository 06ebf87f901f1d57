import type { TenantFederatedDomain } from './tenant.js';

/**
 * A subdomain added under a root domain (eu.contoso.com under contoso.com, Graph `isRoot: false`) has
 * no federation of its own: it takes its root's authentication type and federation settings, so the
 * root's federatedIdpMfaBehavior governs its users, and the root's final step moves them too. Only a
 * promoted subdomain (`isRoot: true`) has settings of its own: it is a domain of its own here.
 */
type Family = Pick<TenantFederatedDomain, 'id' | 'subdomains'>;

/** A federated domain and the non-root subdomains that take its federation, lower case. */
export function domainsOf(d: Family): string[] {
  return [d.id.toLowerCase(), ...(d.subdomains ?? []).map((s) => s.toLowerCase())];
}

/** The federated domain whose federation governs a domain (a UPN's): itself, or the root it is a subdomain of; none for another domain. */
export function federationOf<D extends Family>(domains: readonly D[]): (domain: string) => D | undefined {
  const byName = new Map<string, D>();
  for (const d of domains) for (const name of domainsOf(d)) if (!byName.has(name)) byName.set(name, d);
  return (domain) => byName.get(domain.toLowerCase());
}

/** The name of the domain whose federation governs a domain (lower case): its root's when it is a subdomain, else its own. */
export function federationRootOf(domains: readonly Family[]): (domain: string) => string {
  const of = federationOf(domains);
  return (domain) => of(domain)?.id.toLowerCase() ?? domain.toLowerCase();
}
