/** Quotes an argument for a POSIX shell when it needs it. */
export function shellArg(a: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

/** `mfa-migrate WORDS`, quoted for a shell: a command printed as a hint must run as printed. */
export function cliCommand(words: readonly string[]): string {
  return ['mfa-migrate', ...words].map(shellArg).join(' ');
}

