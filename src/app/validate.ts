import { formatProblem, SourceError } from '../model/problem.js';
import { UserError } from '../model/user-error.js';
import { readExport } from '../source/export-bundle.js';
import type { SeedReadOptions } from '../source/seeds/read-seed-files.js';
import { buildValidationReport, type ValidationReport } from '../source/validation-report.js';

export interface ValidateRequest {
  /** The export folder. */
  source: string;
  /** Seed files (--tokens). */
  tokens: string[];
  seeds: SeedReadOptions;
  /** How far users.csv has been read, in bytes. */
  onProgress?: (read: number, total: number) => void;
}

/** `validate`: reads the export and its seed files and reports what is in them and what is wrong (never the network). */
export async function validateExport(req: ValidateRequest): Promise<ValidationReport> {
  try {
    return buildValidationReport(await readExport({ source: req.source, tokens: req.tokens, seeds: req.seeds, ...(req.onProgress ? { onProgress: req.onProgress } : {}) }));
  } catch (err) {
    // A file that cannot be read at all is one message naming it (file, line and field where known).
    if (err instanceof SourceError) throw new UserError(formatProblem(err.problem));
    throw err;
  }
}
