import type { GraphCall } from '../graph-call.js';

/** Domains and their federation configuration (internalDomainFederation): v1.0. */

export interface DomainEntry {
  id: string;
  authenticationType: string;
  isVerified: boolean;
  /** False for a subdomain added under a root domain, which takes the root's authentication and federation; true when absent. */
  isRoot: boolean;
}

export const listDomains = (): GraphCall => ({ method: 'GET', version: 'v1.0', path: '/domains?$select=id,authenticationType,isVerified,isRoot' });

/** The root domain a subdomain (isRoot false) was added under, whose federation it takes. */
export const getRootDomain = (domain: string): GraphCall => ({ method: 'GET', version: 'v1.0', path: `/domains/${encodeURIComponent(domain)}/rootDomain?$select=id` });

/** A domain's federation configuration: a collection of (at most) one internalDomainFederation. */
export const listFederationConfiguration = (domain: string): GraphCall => ({
  method: 'GET',
  version: 'v1.0',
  path: `/domains/${encodeURIComponent(domain)}/federationConfiguration`,
});

export const getFederationConfiguration = (domain: string, federationId: string): GraphCall => ({
  method: 'GET',
  version: 'v1.0',
  path: `/domains/${encodeURIComponent(domain)}/federationConfiguration/${encodeURIComponent(federationId)}`,
});

/** Sets how Entra treats MFA done by the federated IdP (`rejectMfaByFederatedIdp`: Entra always does MFA). */
export const setFederatedIdpMfaBehavior = (domain: string, federationId: string, behavior: string): GraphCall => ({
  method: 'PATCH',
  version: 'v1.0',
  path: `/domains/${encodeURIComponent(domain)}/federationConfiguration/${encodeURIComponent(federationId)}`,
  body: { '@odata.type': '#microsoft.graph.internalDomainFederation', federatedIdpMfaBehavior: behavior },
});

export function parseDomain(item: unknown): DomainEntry | undefined {
  const d = item as { id?: unknown; authenticationType?: unknown; isVerified?: unknown; isRoot?: unknown } | null;
  if (!d || typeof d.id !== 'string') return undefined;
  return { id: d.id.toLowerCase(), authenticationType: typeof d.authenticationType === 'string' ? d.authenticationType : '', isVerified: d.isVerified === true, isRoot: d.isRoot !== false };
}

/** The one internalDomainFederation of a federationConfiguration answer (a collection, or one entity). */
export function parseFederation(body: unknown): { id: string; federatedIdpMfaBehavior: string | null } | undefined {
  const b = body as { value?: unknown[] } & Record<string, unknown>;
  const item = (Array.isArray(b?.value) ? b.value[0] : b) as { id?: unknown; federatedIdpMfaBehavior?: unknown } | undefined;
  if (!item || typeof item.id !== 'string') return undefined;
  return { id: item.id, federatedIdpMfaBehavior: typeof item.federatedIdpMfaBehavior === 'string' ? item.federatedIdpMfaBehavior : null };
}
