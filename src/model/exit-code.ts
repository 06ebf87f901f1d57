/** Exit codes shared by every command (docs/cli.md). */
export const EXIT = {
  ok: 0,
  /** Failure: bad input, errors found, an error that stopped the command. */
  error: 1,
  /** `plan --detailed-exitcode`: there are changes. */
  changes: 2,
  /** apply, resume, rollback: finished, but some operations failed or were skipped (resumable). */
  partial: 3,
  /** apply, resume: stopped by --waves with waves left and nothing failed. */
  stopped: 4,
  /** Command-line usage error (unknown option, missing argument). */
  usage: 1,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT] | 4 | 130 | 143;
