import { UserError } from '../model/user-error.js';
import type { ShimRules } from '../shim/rules.js';
import { runUnlock, type UnlockOutcome } from '../shim/shim-operations.js';
import { checkShimFiles, operationOptions, storeKeyOf, withFileErrors, type ShimStoreRequest } from './shim-store.js';

export interface ShimUnlockRequest extends ShimStoreRequest {
  rules: ShimRules;
  user: string;
}

export type ShimUnlocked = Exclude<UnlockOutcome, { status: 'unknown_user' }>;

/** `shim unlock`: clears a user's failures and lock-out, or hands the unlock to the running server. */
export async function unlockShimUser(req: ShimUnlockRequest): Promise<ShimUnlocked> {
  await checkShimFiles(req);
  const key = storeKeyOf(req);
  const outcome = await withFileErrors(() => runUnlock({ ...operationOptions(req, key), rules: req.rules, user: req.user }), req.store);
  if (outcome.status === 'unknown_user') throw new UserError(`${req.store}: no user ${req.user} in the store`);
  return outcome;
}
