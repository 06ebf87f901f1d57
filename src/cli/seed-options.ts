import { Option, type Command } from 'commander';
import { loadPskcKeyFile, loadPskcPasswordFile } from '../source/seeds/pskc-credentials.js';
import type { SeedReadOptions } from '../source/seeds/read-seed-files.js';
import type { SecretFileOptions } from '../io/secret-file.js';
import { UserError } from '../model/user-error.js';
import { addStrictPermissionsOption, secretFilesFrom } from './strict-permissions.js';

/** The seed-file options shared by validate, plan, apply and shim import. */
export function addSeedOptions(cmd: Command): Command {
  cmd
    .option('--tokens <file>', 'OATH seed file: PSKC, Entra upload CSV or generic seed CSV (repeatable)', collect, [] as string[])
    .option('--pskc-key-file <file>', 'pre-shared AES key for encrypted PSKC files (hex)')
    .option('--pskc-password-file <file>', 'password for PBKDF2-encrypted PSKC files (first line of the file)')
    .addOption(
      new Option('--pskc-mac <mode>', 'PSKC ValueMAC checking: fail = a bad MAC refuses the file, skip = leave bad keys out, off = do not check')
        .choices(['fail', 'skip', 'off'])
        .default('fail'),
    );
  return addStrictPermissionsOption(cmd, ['the PSKC key file', 'the PSKC password file']);
}

export interface SeedCliOptions {
  tokens: string[];
  pskcKeyFile?: string;
  pskcPasswordFile?: string;
  pskcMac: 'fail' | 'skip' | 'off';
  /** --strict-permissions: refuse a PSKC key or password file group or others can access. */
  strictPermissions: boolean;
}

/** The seed options read: the PSKC key and password files warned about or refused as `files` says. */
export function seedReadOptionsFrom(opts: SeedCliOptions, files: SecretFileOptions = secretFilesFrom(opts)): SeedReadOptions {
  const out: SeedReadOptions = { pskcMac: opts.pskcMac };
  try {
    if (opts.pskcKeyFile) out.pskcKey = loadPskcKeyFile(opts.pskcKeyFile, files);
    if (opts.pskcPasswordFile) out.pskcPassword = loadPskcPasswordFile(opts.pskcPasswordFile, files);
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError((err as Error).message);
  }
  return out;
}

/** Commander's accumulator for a repeatable option. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
