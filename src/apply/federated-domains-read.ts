import { readFederatedDomains } from '../graph/cutover-reader.js';
import type { GraphClient } from '../graph/graph-client.js';
import { GraphRequestError } from '../graph/graph-errors.js';
import type { TenantFederatedDomain } from '../model/tenant.js';

/**
 * The federated domains (all, or those named) for a rollback's check of who a domain's federation
 * switches: a read refused for a missing permission (Domain.Read.All) is warned about, with what goes
 * on unchecked (`unchecked`), and gives undefined; any other failure (Graph failing, the network)
 * stops the rollback as any failed read does.
 */
export async function federatedDomainsOrWarn(client: GraphClient, only: readonly string[] | undefined, unchecked: string, log?: (line: string) => void): Promise<TenantFederatedDomain[] | undefined> {
  try {
    return await readFederatedDomains(client, only);
  } catch (err) {
    if (!(err instanceof GraphRequestError && err.response.status === 403)) throw err;
    log?.(`Warning: the domains' federation could not be read (${err.message}): ${unchecked}`);
    return undefined;
  }
}
