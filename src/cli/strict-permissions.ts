import type { Command, Option } from 'commander';
import type { SecretFileOptions } from '../io/secret-file.js';
import { printable } from '../model/printable.js';

/**
 * --strict-permissions, for every command that reads a secret file (issue 17 item 17). Several
 * option groups of one command read such files (the seed options, the Graph options, the shim's
 * store options): each adds the option with the files it reads, and the option is added once, its
 * help naming them all (commander refuses an option added twice).
 */

const filesOf = new WeakMap<Option, string[]>();

const describe = (files: readonly string[]): string =>
  `refuse ${files.length > 1 ? `${files.slice(0, -1).join(', ')} or ${files.at(-1)}` : files[0]} when group or others can access it, rather than warn`;

export function addStrictPermissionsOption(cmd: Command, files: readonly string[]): Command {
  const existing = cmd.options.find((o) => o.long === '--strict-permissions');
  if (!existing) {
    cmd.option('--strict-permissions', describe(files), false);
    filesOf.set(cmd.options.at(-1)!, [...files]);
    return cmd;
  }
  const all = [...new Set([...(filesOf.get(existing) ?? []), ...files])];
  filesOf.set(existing, all);
  existing.description = describe(all);
  return cmd;
}

/**
 * How one command's run reads secret files: strict or not, and warnings on stderr, each said once
 * (apply --source reads the PSKC files when planning and again when checking the plan it made).
 */
export function secretFilesFrom(opts: { strictPermissions?: boolean }, say: (line: string) => void = (line) => process.stderr.write(`${printable(line)}\n`)): SecretFileOptions {
  const said = new Set<string>();
  return {
    strict: opts.strictPermissions === true,
    onNotice: (message) => {
      if (said.has(message)) return;
      said.add(message);
      say(message);
    },
  };
}
