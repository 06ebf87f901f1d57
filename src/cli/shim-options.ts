import { printable } from '../model/printable.js';
import { InvalidArgumentError, type Command } from 'commander';
import { UserError } from '../model/user-error.js';
import { DEFAULT_RULES, validateRules, type ShimRules } from '../shim/rules.js';
import type { ShimStoreRequest } from '../app/shim-store.js';
import { addStrictPermissionsOption } from './strict-permissions.js';

/** The flags shared by the shim's subcommands, and how they become a use case's request. */

export function wholeNumber(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

/** The verification rule flags, shared by serve, check and unlock so all three apply the same rules. */
export function addRuleOptions(cmd: Command): Command {
  return cmd
    .option('--totp-window <steps>', 'TOTP steps accepted either side of the expected step', wholeNumber(0, 10), DEFAULT_RULES.totpWindow)
    .option('--hotp-look-ahead <n>', 'HOTP counter values tried from the stored counter', wholeNumber(1, 100), DEFAULT_RULES.hotpLookAhead)
    .option('--hotp-look-behind <n>', 'HOTP values below the counter reported as "replayed"', wholeNumber(0, 100), DEFAULT_RULES.hotpLookBehind)
    .option('--max-fails <n>', 'consecutive failures that lock a user out', wholeNumber(1, 1000), DEFAULT_RULES.maxFails)
    .option('--lockout-minutes <m>', 'minutes until a lock-out clears by itself (0: only `shim unlock`)', wholeNumber(0, 10080), DEFAULT_RULES.lockoutMinutes);
}

export function addStoreOptions(cmd: Command): Command {
  cmd
    .requiredOption('--store <file>', 'the encrypted token store')
    .option('--key-file <file>', 'file holding the store key (base64 of 32 bytes); default: $MFA_SHIM_KEY')
    .option('--audit-log <file>', 'JSON-lines audit log (default: <store>.audit.jsonl)');
  return addStrictPermissionsOption(cmd, ['the store key file'])
    .option('--state <url>', 'keep the verification state in PostgreSQL (postgres://user@host:port/database; no password in the URL: PGPASSFILE or PGPASSWORD), shared by several nodes; default: the local journal')
    .option('--reset-state', "start from the store's own state when its state journal is missing or not the one it names (the changes since the store was written are lost)", false);
}

export interface StoreFlags {
  store: string;
  keyFile?: string;
  auditLog?: string;
  strictPermissions: boolean;
  resetState: boolean;
  state?: string;
}

export interface RuleFlags {
  totpWindow: number;
  hotpLookAhead: number;
  hotpLookBehind: number;
  maxFails: number;
  lockoutMinutes: number;
}

export function rulesFrom(flags: RuleFlags): ShimRules {
  const rules: ShimRules = {
    totpWindow: flags.totpWindow,
    hotpLookAhead: flags.hotpLookAhead,
    hotpLookBehind: flags.hotpLookBehind,
    maxFails: flags.maxFails,
    lockoutMinutes: flags.lockoutMinutes,
  };
  const problems = validateRules(rules);
  if (problems.length > 0) throw new UserError(problems.join('; '));
  return rules;
}

/** An operator's note on stderr: what it quotes from files and requests (a client's name, a user) shown printable. */
export const notice = (message: string): void => {
  process.stderr.write(`mfa-migrate shim: ${printable(message)}\n`);
};

export function storeRequestFrom(flags: StoreFlags): ShimStoreRequest {
  return {
    store: flags.store,
    ...(flags.keyFile !== undefined ? { keyFile: flags.keyFile } : {}),
    ...(flags.auditLog !== undefined ? { auditLog: flags.auditLog } : {}),
    strictPermissions: flags.strictPermissions,
    resetState: flags.resetState,
    ...(flags.state !== undefined ? { state: flags.state } : {}),
    onNotice: notice,
  };
}

/** The code as given, or read from stdin for "-" (keeps it out of the process list). */
export async function readCode(code: string): Promise<string> {
  if (code !== '-') return code;
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

/** Resolves on the first SIGINT or SIGTERM. */
export function untilStopped(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
