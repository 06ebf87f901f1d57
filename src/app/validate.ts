import { formatProblem, ProblemList, SourceError, type Problem } from '../model/problem.js';
import { UserError } from '../model/user-error.js';
import { readExport, USERS_FILE } from '../source/export-bundle.js';
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

/** The source folder cannot be read: the message, and the report that says so. */
export class UnreadableSourceError extends UserError {
  constructor(
    message: string,
    readonly report: ValidationReport,
  ) {
    super(message);
  }
}

/** `validate`: reads the export and its seed files and reports what is in them and what is wrong (never the network). */
export async function validateExport(req: ValidateRequest): Promise<ValidationReport> {
  try {
    return buildValidationReport(await readExport({ source: req.source, tokens: req.tokens, seeds: req.seeds, ...(req.onProgress ? { onProgress: req.onProgress } : {}) }));
  } catch (err) {
    // A source folder that cannot be read: one line, and a report of that one error for --format json,
    // which must answer in JSON (a black-box test got the stderr line alone).
    if (err instanceof SourceError && err.problem.file === req.source) {
      throw new UnreadableSourceError(formatProblem(err.problem), reportOfOne(req.source, err.problem));
    }
    if (err instanceof SourceError) throw new UserError(formatProblem(err.problem));
    throw err;
  }
}

/** The report of an export nothing of which could be read for one reason: that problem, and nothing found. */
export function reportOfOne(source: string, problem: Problem): ValidationReport {
  const problems = new ProblemList();
  problems.items.push(problem);
  return buildValidationReport({ sourceDir: source, users: [], devices: [], seeds: [], tokens: [], files: { users: USERS_FILE, seeds: [] }, problems });
}
