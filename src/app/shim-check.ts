import type { ShimRules } from '../shim/rules.js';
import { runCheck } from '../shim/shim-operations.js';
import type { VerifyReason, VerifyResult } from '../shim/verifier.js';
import { checkShimFiles, operationOptions, storeKeyOf, withFileErrors, type ShimStoreRequest } from './shim-store.js';

export interface ShimCheckRequest extends ShimStoreRequest {
  rules: ShimRules;
  user: string;
  code: string;
}

export interface ShimChecked {
  result: VerifyResult;
  reason: VerifyReason;
}

/** `shim check`: one verification, offline, with the rules and state of the server (stopped, unless the state is in PostgreSQL). */
export async function checkShimCode(req: ShimCheckRequest): Promise<ShimChecked> {
  await checkShimFiles(req);
  const key = storeKeyOf(req);
  const outcome = await withFileErrors(() => runCheck({ ...operationOptions(req, key), rules: req.rules, user: req.user, code: req.code }), req.store);
  return { result: outcome.result, reason: outcome.reason };
}
