import type { Command, Option } from 'commander';

/**
 * Commander checks required options before unknown ones, so `plan --bogus` said that --source was
 * missing, not that --bogus is unknown (most often a typo of an option meant). Here required options
 * are checked in a preAction hook instead, which commander runs after its unknown-option and
 * argument checks, with commander's own words and exit path (`Command.error`).
 */
export function checkRequiredOptionsLast(program: Command): void {
  const required = new Set<Option>();
  const collect = (cmd: Command) => {
    for (const o of cmd.options) {
      if (!o.mandatory) continue;
      o.mandatory = false;
      required.add(o);
    }
    cmd.commands.forEach(collect);
  };
  collect(program);
  program.hook('preAction', (_program, action) => {
    for (let cmd: Command | null = action; cmd; cmd = cmd.parent) {
      const missing = cmd.options.find((o) => required.has(o) && cmd!.getOptionValue(o.attributeName()) === undefined);
      if (missing) action.error(`error: required option '${missing.flags}' not specified`, { code: 'commander.missingMandatoryOptionValue' });
    }
  });
}
