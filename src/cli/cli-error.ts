/** Exit codes shared by every command. */
export const EXIT = {
  ok: 0,
  /** Failure: bad input, errors found, or an operation failed. */
  error: 1,
  /** `plan --detailed-exitcode`: there are changes. */
  changes: 2,
  /** `apply`: the run finished but some operations failed (resumable). */
  partial: 3,
  /** Command-line usage error (unknown option, missing argument). */
  usage: 1,
} as const;

/** An error meant for the admin: printed as one line on stderr, without a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.error,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
