import { errorText, type GraphResponse } from '../graph/graph-call.js';
import { splitResource } from '../plan/resource-state.js';
import { NEW_PLAN_NEEDED } from './new-plan-needed.js';
import type { Operation } from './operations.js';

/** The token writes Graph refuses when the token is another user's. */
const TOKEN_WRITES: ReadonlySet<Operation['kind']> = new Set(['token-create', 'token-assign', 'token-activate', 'token-assign-activate']);

/**
 * Graph's words for a token that is another user's. Its wording is not documented (only "assign each
 * token to one user only"); the emulator's is "assigned to another user; a token can be assigned to
 * one user only". Taken broadly: another, a different or some other user or account, or one user only.
 */
const ASSIGNED_ELSEWHERE = /\b(another|a different|other) (users?|accounts?|person)\b|\bsome ?one else\b|\bone user only\b|\bonly (be )?(assigned )?to one user\b/i;

/** A refusal for access may speak of other users too ("... methods of other users"): never taken for one. */
const ACCESS_WORDING = /Authorization_RequestDenied|AccessDenied|privilege|permission|not authori[sz]ed|not allowed|consent|\brole\b/i;

/**
 * Why a token write was refused for good, when Graph's refusal (a 400) says the token is assigned
 * to another user: not the policy's propagation, which a wait mends. Undefined otherwise. A 403 is
 * a refusal for access whatever its words ("... not permitted to manage the methods of other
 * users"): its fix is a permission and a resume, and it counts toward the run's stop on refusals.
 */
export function assignedElsewhereRefusal(op: Operation, res: GraphResponse): string | undefined {
  if (!TOKEN_WRITES.has(op.kind) || res.status !== 400) return undefined;
  const error = (res.body as { error?: { code?: string; message?: string } } | null)?.error;
  const words = `${error?.code ?? ''} ${error?.message ?? ''}`;
  if (!ASSIGNED_ELSEWHERE.test(words) || ACCESS_WORDING.test(words)) return undefined;
  const serial = splitResource(op.resource)[1];
  return `the token${serial ? ` with serial ${serial}` : ''} is assigned to another user in the tenant, and a token can be one user's only (${errorText(res)}): not a wait for the policy; ${NEW_PLAN_NEEDED} (once the token is unassigned there, if it is this user's)`;
}
