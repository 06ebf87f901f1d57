import type { DomainRecord } from './state.js';

/**
 * Subdomains (entra-docs "Change subdomain authentication type in Microsoft Entra ID"): a domain added
 * under another of the tenant's (eu.contoso.com under contoso.com) is not a root (`isRoot` false) and
 * takes its root's authentication type and federation; it has no federation configuration of its
 * own until it is promoted (`isRoot` true).
 */

/** The tenant's domain a domain is a subdomain of, nearest first (x.eu.contoso.com: eu.contoso.com, then contoso.com). */
function ancestorsOf(domains: readonly DomainRecord[], d: Pick<DomainRecord, 'id'>): DomainRecord[] {
  const out: DomainRecord[] = [];
  const labels = d.id.split('.');
  for (let i = 1; i < labels.length - 1; i++) {
    const name = labels.slice(i).join('.');
    const found = domains.find((o) => o.id === name);
    if (found) out.push(found);
  }
  return out;
}

/** Whether a domain has a parent among the tenant's domains (so may be a non-root subdomain). */
export function hasParentDomain(domains: readonly DomainRecord[], d: Pick<DomainRecord, 'id'>): boolean {
  return ancestorsOf(domains, d).length > 0;
}

/** The root a non-root subdomain takes its authentication from: its nearest ancestor that is a root; undefined for a root. */
export function rootDomainOf(domains: readonly DomainRecord[], d: DomainRecord): DomainRecord | undefined {
  if (d.isRoot) return undefined;
  return ancestorsOf(domains, d).find((o) => o.isRoot);
}

/** The federation that governs a domain's users: its own, or (a non-root subdomain) its root's. */
function governingFederation(domains: readonly DomainRecord[], d: DomainRecord): Record<string, unknown> | null {
  return (rootDomainOf(domains, d) ?? d).federation;
}

/** `Federated` or `Managed`, as Graph reads it: a non-root subdomain reads its root's. */
export function authenticationTypeOf(domains: readonly DomainRecord[], d: DomainRecord): 'Federated' | 'Managed' {
  return governingFederation(domains, d) ? 'Federated' : 'Managed';
}
