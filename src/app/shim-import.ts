import { join } from 'node:path';
import type { Problem } from '../model/problem.js';
import { UserError } from '../model/user-error.js';
import type { SeedReadOptions } from '../source/seeds/read-seed-files.js';
import type { ImportSummary } from '../shim/import-store.js';
import { runImportStore } from '../shim/shim-operations.js';
import { DEVICES_FILE, readExport, SETTINGS_FILE, USERS_FILE } from '../source/export-bundle.js';
import { checkShimFiles, operationOptions, storeKeyOf, withFileErrors, type ShimStoreRequest } from './shim-store.js';

export interface ShimImportRequest extends ShimStoreRequest {
  /** The export folder (users.csv). */
  source: string;
  /** Seed files (--tokens). */
  tokens: string[];
  seeds: SeedReadOptions;
  includeDisabled: boolean;
  /** Write the store even when the export has errors. */
  force: boolean;
  /** --drop-store-state: other stores whose state the --state database drops for this one. */
  dropStoreState?: string[];
  /** Hears every problem found in the export (errors and warnings), before anything is written. */
  onProblem?: (problem: Problem) => void;
}

export interface ShimImported {
  summary: ImportSummary;
  problems: Problem[];
}

/**
 * `shim import`: reads the export and its seed files, then builds (or refreshes) the encrypted token
 * store. An export with errors writes nothing unless `force`.
 */
export async function importShimStore(req: ShimImportRequest): Promise<ShimImported> {
  // The PSKC key and password files too, as `seeds` records them (--pskc-key-file, --pskc-password-file): never written over.
  const keyFiles = [...(req.seeds.pskcKeys ?? []), ...(req.seeds.pskcPasswords ?? [])].map((k) => k.file);
  await checkShimFiles(req, [...[USERS_FILE, DEVICES_FILE, SETTINGS_FILE].map((f) => join(req.source, f)), ...req.tokens, ...keyFiles]);
  const key = storeKeyOf(req);
  const bundle = await readExport({ source: req.source, tokens: req.tokens, seeds: req.seeds });
  const problems = bundle.problems.items;
  for (const p of problems) req.onProblem?.(p);
  const errors = bundle.problems.errors;
  if (errors.length > 0 && !req.force) {
    throw new UserError(`the export has ${errors.length} error(s); nothing was written (fix them, or pass --force to import what could be read)`);
  }
  const summary = await withFileErrors(() =>
    runImportStore({
      ...operationOptions(req, key),
      input: {
        users: bundle.users.map((u) => ({ username: u.username, enabled: u.enabled, ...(u.userGroup !== undefined ? { group: u.userGroup } : {}) })),
        tokens: bundle.tokens.map((t) => (t.user !== undefined ? { seed: t.seed, user: t.user } : { seed: t.seed })),
      },
      importOptions: { includeDisabled: req.includeDisabled },
      ...(req.dropStoreState !== undefined ? { dropStoreState: req.dropStoreState } : {}),
    }),
    req.store,
  );
  return { summary, problems };
}
