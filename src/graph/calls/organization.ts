import type { GraphCall } from '../graph-call.js';

export interface Organization {
  id: string;
  displayName: string;
}

/** The signed-in tenant: `/organization` lists exactly one. */
export const getOrganization = (): GraphCall => ({ method: 'GET', version: 'v1.0', path: '/organization?$select=id,displayName' });

export function parseOrganization(body: unknown): Organization | undefined {
  const o = (body as { value?: { id?: unknown; displayName?: unknown }[] } | null)?.value?.[0];
  if (!o || typeof o.id !== 'string') return undefined;
  return { id: o.id, displayName: typeof o.displayName === 'string' ? o.displayName : '' };
}
