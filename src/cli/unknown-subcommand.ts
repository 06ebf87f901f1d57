import { Command } from 'commander';

/**
 * A command with subcommands and no arguments of its own (`runs`, `shim`) refuses a word that names
 * none of them as commander refuses an unknown top-level command: `unknown command 'verfy'` with its
 * "Did you mean verify?", exit 1. Left to commander, `runs verfy X` went to runs' own action ("too
 * many arguments for 'runs'", no suggestion), and `runs list --help` or `shim status --help` printed
 * the parent's help with exit 0, as if the subcommand existed (a black-box test). Checked as the
 * parent hands over to the command, on the words commander leaves it.
 */
export function checkSubcommandNames(program: Command): void {
  const add = (cmd: Command): void => {
    if (cmd.commands.some((sub) => sub.commands.length > 0)) cmd.hook('preSubcommand', refuseUnknownSubcommand);
    cmd.commands.forEach(add);
  };
  add(program);
}

function refuseUnknownSubcommand(parent: Command, cmd: Command): void {
  if (cmd.commands.length === 0 || cmd.registeredArguments.length > 0) return;
  // `help shim` dispatches here too: only a command named by the first word is checked.
  const [name, ...words] = parent.args;
  if (name !== cmd.name() && !cmd.aliases().includes(name ?? '')) return;
  const word = firstOperand(cmd, words);
  const known = [...cmd.commands, ...cmd.createHelp().visibleCommands(cmd)].flatMap((c) => [c.name(), ...c.aliases()]);
  if (word === undefined || known.includes(word)) return;
  // Commander's own refusal (its words, its suggestion, its exit path), from a stand-in holding the
  // same subcommands: commander has no public call that raises it for a command being dispatched.
  const probe = new Command(cmd.name()).copyInheritedSettings(cmd).helpCommand(false);
  for (const c of cmd.createHelp().visibleCommands(cmd)) probe.command(c.name()).aliases(c.aliases());
  probe.parse([word], { from: 'user' });
}

/**
 * The first word commander will take as an operand of `cmd` (its subcommand's name): the command's
 * own options and their values skipped. Undefined when an option it does not know comes first (the
 * rest is then commander's to judge: a subcommand's option, or --help for `cmd` itself).
 */
function firstOperand(cmd: Command, words: readonly string[]): string | undefined {
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === '--') return words[i + 1];
    if (word.length < 2 || !word.startsWith('-')) return word;
    const eq = word.startsWith('--') ? word.indexOf('=') : -1;
    const flag = eq > 0 ? word.slice(0, eq) : word;
    const option = cmd.options.find((o) => o.long === flag || o.short === flag);
    if (!option) return undefined;
    const next = words[i + 1];
    if (eq < 0 && (option.required || (option.optional && next !== undefined && !next.startsWith('-')))) i++;
  }
  return undefined;
}
