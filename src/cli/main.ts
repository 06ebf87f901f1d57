#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EXIT } from '../model/exit-code.js';
import { UserError } from '../model/user-error.js';
import { ownValue } from '../model/own-value.js';
import { printable } from '../model/printable.js';
import { toolVersion } from '../io/tool-version.js';
import { checkOptionValues } from './option-values.js';
import { checkRequiredOptionsLast } from './required-options.js';
import { checkSubcommandNames } from './unknown-subcommand.js';
import { nodeDebugWarning } from './node-debug-warning.js';


type Registrar = (program: Command) => void;

/**
 * Each command's module, loaded only when needed: a command's run pays for its own dependencies,
 * not for every other command's (the Graph client, the emulator, the shim: some 0.2 s at start-up).
 */
const REGISTRARS: Record<string, () => Promise<Registrar>> = {
  validate: async () => (await import('./validate-command.js')).registerValidate,
  plan: async () => (await import('./plan-command.js')).registerPlan,
  show: async () => (await import('./show-command.js')).registerShow,
  report: async () => (await import('./report-command.js')).registerReport,
  apply: async () => (await import('./apply-command.js')).registerApply,
  status: async () => (await import('./status-command.js')).registerStatus,
  emulator: async () => (await import('./emulator-command.js')).registerEmulator,
  demo: async () => {
    const { registerDemo } = await import('./demo-command.js');
    return (program) =>
      registerDemo(program, async (argv) => {
        await (await buildProgram(argv)).parseAsync(argv, { from: 'user' });
      });
  },
  shim: async () => (await import('./shim-command.js')).registerShim,
  doctor: async () => (await import('./doctor-command.js')).registerDoctor,
};
/** Commands registered by another command's module. */
const ALIASES: Record<string, string> = { resume: 'apply', rollback: 'apply', runs: 'apply', 'force-unlock': 'apply' };

/**
 * The CLI for these arguments (user arguments, without node and the script): with only the named
 * command's module loaded when a known command is named; with every command otherwise (top-level
 * help, an unknown command and its suggestions).
 */
export async function buildProgram(args: readonly string[]): Promise<Command> {
  const program = new Command('mfa-migrate')
    .description('Move users, OATH tokens and settings from on-premises Azure MFA Server to Microsoft Entra MFA.')
    .version(toolVersion(), '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage and examples)')
    // A usage error reads like every other error (`mfa-migrate: ...`), with a pointer to --help after it.
    .configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: (s, write) => write(`mfa-migrate: ${printable(s.replace(/^error: /, ''), true)}`) })
    .exitOverride();
  program.addHelpText(
    'after',
    `
Examples:
  $ mfa-migrate validate --source ./export --tokens ./tokens/seeds.pskc
  $ mfa-migrate validate --source ./export --format json > report.json
  $ mfa-migrate <command> --help`,
  );
  const first = args[0];
  const named = first === undefined ? undefined : (ownValue(ALIASES, first) ?? first);
  const versionOnly = args.length === 1 && (first === '-V' || first === '--version');
  const modules = versionOnly ? [] : named !== undefined && Object.hasOwn(REGISTRARS, named) ? [named] : Object.keys(REGISTRARS);
  for (const register of await Promise.all(modules.map((m) => REGISTRARS[m]!()))) register(program);
  addNoColor(program);
  checkSubcommandNames(program);
  checkRequiredOptionsLast(program);
  checkOptionValues(program, args);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const debugWarning = nodeDebugWarning();
  if (debugWarning !== undefined) process.stderr.write(`mfa-migrate: ${printable(debugWarning, true)}\n`);
  try {
    const program = await buildProgram(argv.slice(2));
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage errors were already printed.
      return err.exitCode === 0 ? 0 : EXIT.usage;
    }
    // The one place errors become output and exit status: an admin's error is one clear message,
    // anything else is a bug and says so with its stack.
    if (err instanceof UserError) {
      process.stderr.write(`mfa-migrate: ${printable(err.message, true)}\n`);
      return err.exitCode;
    }
    process.stderr.write(`mfa-migrate: unexpected error: ${printable(err instanceof Error ? (err.stack ?? err.message) : String(err), true)}\n`);
    return EXIT.error;
  }
}

const NO_COLOR_HELP = 'no colours in the output (also: NO_COLOR set in the environment)';

/**
 * Every command takes --no-color, and so does the program, before the command's name
 * (`mfa-migrate --no-color validate ...` was refused as an unknown option, a black-box test). The
 * program's is taken wherever it is given (commander reads a program's options before and after the
 * command's name), and handed to the command that runs.
 */
function addNoColor(program: Command): void {
  const add = (cmd: Command) => {
    for (const sub of cmd.commands) {
      if (!sub.options.some((o) => o.long === '--no-color')) sub.option('--no-color', NO_COLOR_HELP);
      add(sub);
    }
  };
  add(program);
  program.option('--no-color', NO_COLOR_HELP);
  program.hook('preAction', (_program, action) => {
    if (program.getOptionValue('color') === false) action.setOptionValueWithSource('color', false, 'cli');
  });
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
  // Output piped into `head` and the like: a closed pipe ends the command quietly, not with a stack trace.
  // Output that cannot be written otherwise (a full disk, /dev/full): the command's work goes on, since
  // a migration must not stop halfway for its summary; it ends with exit 1, having said so once (a
  // black-box test saw a completed apply end in a stack trace, and one killed by its progress line).
  let outputLost: string | undefined;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    if (outputLost !== undefined) return;
    outputLost = err.code ?? err.message;
    // Set now too: the error may come after the command has ended, or leave its last write unanswered.
    if (!process.exitCode || process.exitCode === EXIT.changes) process.exitCode = EXIT.error;
    process.stderr.write(`mfa-migrate: the output could not be written (${outputLost}): it is incomplete; what the command did stands\n`);
  });
  // Nowhere left to say anything (progress, notices): the work goes on, its journal and results as ever.
  process.stderr.on('error', () => undefined);
  main(process.argv).then((result) => {
    // A success (2 included: plan --detailed-exitcode's "changes") whose output was lost is a failure; a
    // run's own state (3 partial, 4 stopped, 130/143 interrupted) is kept, for what a script does next.
    const code = outputLost !== undefined && (result === 0 || result === EXIT.changes) ? EXIT.error : result;
    process.exitCode = code;
    // A failed command has said why and has nothing left to do: a connection the error left half-open
    // (a database login that stopped for want of a password waits for the server's one-minute login
    // timeout) must not hold the exit. Once what it wrote has reached its pipes (a reader such as
    // `less` may take its time), it ends.
    if (code !== 0) process.stdout.write('', () => process.stderr.write('', () => setTimeout(() => process.exit(code), 500).unref()));
  });
}
