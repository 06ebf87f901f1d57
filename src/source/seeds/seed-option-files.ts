import { UnsafeModeError, type SecretFileOptions } from '../../io/secret-file.js';
import type { Problem, ProblemCode } from '../../model/problem.js';
import { UserError } from '../../model/user-error.js';
import { loadPskcKeyFile, loadPskcPasswordFile } from './pskc-credentials.js';
import type { PskcExpiredMode } from './pskc-expired-mode.js';
import type { PskcMacMode } from './pskc-mac-mode.js';
import type { SeedReadOptions } from './read-seed-files.js';
import { checkSeedFileModes } from './seed-file-modes.js';
import { distinctSeedFiles } from './distinct-seed-files.js';

/** The seed files and the PSKC key and password files to read them with: as given on the command line, or as a plan records them. */
export interface SeedOptionFiles {
  tokens: readonly string[];
  pskcKeyFiles: readonly string[];
  pskcPasswordFiles: readonly string[];
  pskcMac: PskcMacMode;
  /** Absent: 'leave' (what a plan made before format 2.21 means). */
  pskcExpired?: PskcExpiredMode;
}

/**
 * A seed file, PSKC key or password file the seed options cannot use, as the problem
 * `validate --format json` reports (it answers in JSON whatever went wrong); its message is the
 * one line the other commands and formats print.
 */
export class SeedOptionError extends UserError {
  constructor(readonly problem: Problem) {
    super(problem.message);
  }
}

/**
 * The options to read seed files with, the PSKC key and password files loaded: they and the seed
 * files are warned about or refused as `files` says. One implementation for the commands that take
 * the files as options and for apply and resume, which read those a plan records again.
 */
export function loadSeedOptionFiles(given: SeedOptionFiles, files: SecretFileOptions): SeedReadOptions {
  const out: SeedReadOptions = { pskcMac: given.pskcMac, pskcExpired: given.pskcExpired ?? 'leave' };
  for (const file of distinctSeedFiles(given.tokens).files) refusedAs(file, 'file-unreadable', () => checkSeedFileModes([file], files));
  if (given.pskcKeyFiles.length > 0) out.pskcKeys = given.pskcKeyFiles.map((file) => ({ key: refusedAs(file, 'pskc-credentials', () => loadPskcKeyFile(file, files)), file }));
  if (given.pskcPasswordFiles.length > 0) out.pskcPasswords = given.pskcPasswordFiles.map((file) => ({ password: refusedAs(file, 'pskc-credentials', () => loadPskcPasswordFile(file, files)), file }));
  return out;
}

/** Reads one file of the seed options; what it refuses is a SeedOptionError naming that file. */
function refusedAs<T>(file: string, code: ProblemCode, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    throw new SeedOptionError({ severity: 'error', code: err instanceof UnsafeModeError ? 'file-unsafe' : code, file, message: err.message });
  }
}
