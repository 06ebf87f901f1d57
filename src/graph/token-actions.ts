import { randomBytes } from 'node:crypto';
import type { GraphClient } from './graph-client.js';
import { assignAndActivateBySerial, bulkCreateDevices } from './calls/hardware-oath.js';
import { endpointMissing } from './probes.js';

/**
 * Whether this Graph has the bulk inventory create (`#$delta` PATCH) and assign-and-activate by
 * serial number (beta, newer than the per-token calls): asked once per run with two requests that
 * change nothing: an empty bulk create, and an activation of a serial no token has (404 when the
 * action exists). An action Graph does not know answers "not found for the segment" or 405.
 */
export async function bulkTokenActionsAvailable(client: GraphClient, userId: string): Promise<boolean> {
  const unknown = (status: number, body: unknown) => status === 405 || endpointMissing(status, body);
  // A request that changes nothing may still be refused as invalid (an empty list): that answer
  // comes from the action, so the action exists. A passing failure (5xx) is asked again.
  const answer = async (call: Parameters<GraphClient['write']>[0]) => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const out = await client.write(call);
      if (out.kind === 'answer') return out.response;
    }
    return undefined;
  };
  const bulk = await answer(bulkCreateDevices([]));
  if (!bulk || unknown(bulk.status, bulk.body)) return false;
  const probe = await answer(assignAndActivateBySerial(userId, `mfa-migrate-probe-${randomBytes(6).toString('hex')}`, '000000'));
  return probe !== undefined && !unknown(probe.status, probe.body);
}
