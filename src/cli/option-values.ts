import type { Command, Option } from 'commander';

/**
 * Two slips commander lets through, refused before any command runs. An empty value (`--users ""`
 * from an unset shell variable) was taken as the option not given: a pilot's `--users "$PILOT"`
 * applied the whole plan, `--target-group ""` enabled methods for everyone (a black-box test). And an
 * option that takes one value given twice kept the last one without a word (`--users a --users b`).
 */
export function checkOptionValues(program: Command, raw: readonly string[]): void {
  program.hook('preAction', (_root, action) => {
    // An option a command and its parent both take (`runs --state-dir X verify ID --state-dir X`) may be given once to each.
    const chain: Command[] = [];
    for (let cmd: Command | null = action; cmd; cmd = cmd.parent) chain.push(cmd);
    const defined = (long: string) => chain.filter((c) => c.options.some((o) => o.long === long)).length;
    for (const cmd of chain) {
      for (const o of cmd.options) {
        const value: unknown = cmd.getOptionValue(o.attributeName());
        if (value === '' || (Array.isArray(value) && value.some((v) => v === ''))) action.error(`error: option '${o.flags}' is given an empty value`, { code: 'mfa-migrate.emptyOptionValue' });
        if (takesOneValue(o) && raw.filter((a) => a === o.long || a.startsWith(`${o.long}=`)).length > defined(o.long!)) {
          action.error(`error: option '${o.flags}' is given more than once: it takes one value`, { code: 'mfa-migrate.repeatedOption' });
        }
      }
    }
    for (const arg of action.args) if (arg === '') action.error('error: an argument is empty', { code: 'mfa-migrate.emptyArgument' });
  });
}

/** A value option that is not repeatable (repeatable ones collect into an array default). */
function takesOneValue(o: Option): boolean {
  return (o.required || o.optional) && !o.variadic && !Array.isArray(o.defaultValue) && o.long !== undefined;
}
