import { EXIT } from './exit-code.js';

/**
 * An error meant for the admin, not a bug: the command prints its message as one line (no stack
 * trace) and exits with its code. Every error that can reach the admin extends this; main.ts maps
 * it to output and exit status in one place. Anything else is an unexpected error (a bug).
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.error,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}
