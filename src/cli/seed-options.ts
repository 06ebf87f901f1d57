import { InvalidArgumentError, Option, type Command } from 'commander';
import { PSKC_EXPIRED_MODES, type PskcExpiredMode } from '../source/seeds/pskc-expired-mode.js';
import { PSKC_MAC_MODES, type PskcMacMode } from '../source/seeds/pskc-mac-mode.js';
import type { SeedReadOptions } from '../source/seeds/read-seed-files.js';
import type { SecretFileOptions } from '../io/secret-file.js';
import { loadSeedOptionFiles } from '../source/seeds/seed-option-files.js';
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
    )
    .addOption(
      new Option(
        '--pskc-expired <mode>',
        'PSKC keys past their Policy ExpiryDate: leave = leave them out (RFC 6030), take = read them, with a warning per key (a vendor\'s ExpiryDate is often a warranty date while the token still works); a StartDate still to come and the other Policy rules are enforced either way',
      )
        .choices(PSKC_EXPIRED_MODES)
        .default('leave'),
    );
  // The seed files are checked too (seed-file-modes.ts): they hold the seeds in plain text.
  return addStrictPermissionsOption(cmd, ['a seed file', 'the PSKC key file', 'the PSKC password file']);
}

export interface SeedCliOptions {
  tokens: string[];
  /** --pskc-key-file, each time it is given. */
  pskcKeyFile: string[];
  /** --pskc-password-file, each time it is given. */
  pskcPasswordFile: string[];
  pskcMac: PskcMacMode;
  pskcExpired: PskcExpiredMode;
  /** --strict-permissions: refuse a seed file, PSKC key or password file group or others can access. */
  strictPermissions: boolean;
}

/** The seed options read: the PSKC key and password files warned about or refused as `files` says (SeedOptionError names the file). */
export function seedReadOptionsFrom(opts: SeedCliOptions, files: SecretFileOptions = secretFilesFrom(opts)): SeedReadOptions {
  return loadSeedOptionFiles({ tokens: opts.tokens, pskcKeyFiles: opts.pskcKeyFile ?? [], pskcPasswordFiles: opts.pskcPasswordFile ?? [], pskcMac: opts.pskcMac, pskcExpired: opts.pskcExpired }, files);
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
