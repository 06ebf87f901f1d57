#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { registerApply } from './apply-command.js';
import { registerPlan } from './plan-command.js';
import { registerValidate } from './validate-command.js';
import { registerEmulator } from './emulator-command.js';
import { registerDemo } from './demo-command.js';
import { registerShim } from './shim-command.js';
import { CliError, EXIT } from './cli-error.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

export function buildProgram(): Command {
  const program = new Command('mfa-migrate')
    .description('Move users, OATH tokens and settings from on-premises Azure MFA Server to Microsoft Entra MFA.')
    .version(pkg.version, '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage and examples)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .exitOverride();
  program.addHelpText(
    'after',
    `
Examples:
  $ mfa-migrate validate --source ./export --tokens ./tokens/seeds.pskc
  $ mfa-migrate validate --source ./export --format json > report.json
  $ mfa-migrate <command> --help`,
  );
  registerValidate(program);
  registerPlan(program);
  registerApply(program);
  registerEmulator(program);
  registerDemo(program, async (argv) => {
    await buildProgram().parseAsync(argv, { from: 'user' });
  });
  registerShim(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage errors were already printed.
      return err.exitCode === 0 ? 0 : EXIT.usage;
    }
    if (err instanceof CliError) {
      process.stderr.write(`mfa-migrate: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`mfa-migrate: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT.error;
  }
}

function isEntryPoint(): boolean {
  // npm's bin link is a symlink: compare real paths.
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
