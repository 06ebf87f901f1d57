import { InvalidArgumentError, Option, type Command } from 'commander';
import { loadPskcKeyFile, loadPskcPasswordFile } from '../source/seeds/pskc-credentials.js';
import { PSKC_MAC_MODES, type PskcMacMode } from '../source/seeds/pskc-mac-mode.js';
import type { SeedReadOptions } from '../source/seeds/read-seed-files.js';
import { UnsafeModeError, type SecretFileOptions } from '../io/secret-file.js';
import type { Problem, ProblemCode } from '../model/problem.js';
import { checkSeedFileModes } from '../source/seeds/seed-file-modes.js';
import { UserError } from '../model/user-error.js';
import { addStrictPermissionsOption, secretFilesFrom } from './strict-permissions.js';

/** The seed-file options shared by validate, plan, apply and shim import. */
export function addSeedOptions(cmd: Command): Command {
  cmd
    .option('--tokens <file>', 'OATH seed file: PSKC (RFC 6030 or its drafts), Entra upload CSV, seed CSV with a header, or LinOTP/privacyIDEA OATH CSV (repeatable)', collect, [] as string[])
    .option('--pskc-key-file <file>', 'pre-shared key for encrypted PSKC files (hex; AES or Triple-DES); repeatable, one per shipment: each file is decrypted with the key its MACs verify', collect, [] as string[])
    .option('--pskc-password-file <file>', 'password for PBKDF2-encrypted PSKC files (first line of the file); repeatable, as --pskc-key-file', collect, [] as string[])
    .addOption(
      new Option(
        '--pskc-mac <mode>',
        'PSKC ValueMAC checking: fail = a bad or missing MAC refuses the file, skip = leave bad keys out, allow-unprotected = as fail but read encrypted values that carry no MAC at all (with a warning), off = do not check',
      )
        .choices(PSKC_MAC_MODES)
        .default('fail'),
    );
  return addStrictPermissionsOption(cmd, ['the PSKC key file', 'the PSKC password file']);
}

export interface SeedCliOptions {
  tokens: string[];
  /** --pskc-key-file, each time it is given. */
  pskcKeyFile: string[];
  /** --pskc-password-file, each time it is given. */
  pskcPasswordFile: string[];
  pskcMac: PskcMacMode;
  /** --strict-permissions: refuse a seed file, PSKC key or password file group or others can access. */
  strictPermissions: boolean;
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

/** The seed options read: the PSKC key and password files warned about or refused as `files` says. */
export function seedReadOptionsFrom(opts: SeedCliOptions, files: SecretFileOptions = secretFilesFrom(opts)): SeedReadOptions {
  const out: SeedReadOptions = { pskcMac: opts.pskcMac };
  const keys = opts.pskcKeyFile ?? [];
  const passwords = opts.pskcPasswordFile ?? [];
  for (const file of opts.tokens) refusedAs(file, 'file-unreadable', () => checkSeedFileModes([file], files));
  if (keys.length > 0) out.pskcKeys = keys.map((file) => ({ key: refusedAs(file, 'pskc-credentials', () => loadPskcKeyFile(file, files)), file }));
  if (passwords.length > 0) out.pskcPasswords = passwords.map((file) => ({ password: refusedAs(file, 'pskc-credentials', () => loadPskcPasswordFile(file, files)), file }));
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

/**
 * Commander's accumulator for a repeatable option. Commander takes the word after an option as its
 * value even when it is the next option (`--tokens --source DIR` read `--source` as a seed file,
 * then said --source was missing): such a value is refused as the option's missing value.
 */
export function collect(value: string, previous: string[]): string[] {
  if (/^--[a-z]/i.test(value)) throw new InvalidArgumentError(`a value is missing (the next word is the option ${value})`);
  return [...previous, value];
}
