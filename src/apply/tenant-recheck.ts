import type { AuthenticationMethodsPolicy } from '@microsoft/microsoft-graph-types-beta';
import { BatchScheduler } from '../graph/batch-scheduler.js';
import { GraphRequestError, type GraphConnection, type GraphResponse } from '../graph/graph-connection.js';
import { tokensByAssignee, toTenantUser, toToken, type RawDevice } from '../graph/tenant-reader.js';
import type { TenantHardwareToken, TenantSnapshot, TenantUser } from '../model/tenant.js';

export interface RecheckUser {
  upn: string;
  userId: string;
  /** The sign-in preferences are read only when the plan changes them. */
  needsPreferences: boolean;
}

/**
 * Reads again, just before apply writes them, the tenant objects a plan's users will change: each
 * user's methods and sign-in preferences by object id (a user deleted, or deleted and created
 * again under the same UPN, answers 404 and is absent), and the inventory tokens of the given
 * serials, one filtered read each. Unlike the plan's tenant read it never lists the directory, so
 * re-checking a wave costs reads of that wave's users only.
 */
export async function recheckTenant(
  conn: GraphConnection,
  users: RecheckUser[],
  serials: string[],
  opts: { concurrency: number; policy?: AuthenticationMethodsPolicy },
): Promise<TenantSnapshot> {
  const beta = new BatchScheduler(conn, { version: 'beta', concurrency: opts.concurrency });
  const hardwareTokens = new Map<string, TenantHardwareToken[]>();
  const path = '/directory/authenticationMethodDevices/hardwareOathDevices';
  await Promise.all(
    [...new Set(serials.map((s) => s.trim()))].map(async (serial) => {
      const filter = encodeURIComponent(`serialNumber eq '${serial.replace(/'/g, "''")}'`);
      const res = await beta.send({ method: 'GET', url: `${path}?$filter=${filter}` });
      for (const d of (ok(res, `token ${serial}`) as { value?: RawDevice[] }).value ?? []) {
        const t = toToken(d);
        const key = t.serialNumber.trim().toLowerCase();
        hardwareTokens.set(key, [...(hardwareTokens.get(key) ?? []), t]);
      }
    }),
  );
  const byAssignee = tokensByAssignee(hardwareTokens);
  const found = new Map<string, TenantUser>();
  await Promise.all(
    users.map(async (u) => {
      const id = encodeURIComponent(u.userId);
      const [methods, prefs] = await Promise.all([
        beta.send({ method: 'GET', url: `/users/${id}/authentication/methods` }),
        u.needsPreferences ? beta.send({ method: 'GET', url: `/users/${id}/authentication/signInPreferences` }) : undefined,
      ]);
      if (methods.status === 404 || prefs?.status === 404) return;
      const user = toTenantUser({ id: u.userId, userPrincipalName: u.upn }, ok(methods, `methods of ${u.upn}`), prefs ? ok(prefs, `sign-in preferences of ${u.upn}`) : {}, byAssignee.get(u.userId) ?? new Map());
      found.set(u.upn.toLowerCase(), user);
    }),
  );
  return { tenantId: 'unknown', policy: opts.policy ?? {}, users: found, hardwareTokens };
}

function ok(res: GraphResponse, what: string): unknown {
  if (res.status >= 200 && res.status < 300) return res.body;
  throw new GraphRequestError('GET', what, res);
}
