import { Option, type Command } from 'commander';
import { cutoverStatus } from '../app/status.js';
import { addGraphOptions, connectFromOptions, type GraphCliOptions } from './graph-options.js';
import { Progress } from './progress.js';
import { renderStatus } from './views/status-table.js';
import { parseMatchBy } from './plan-command.js';
import { collect } from './seed-options.js';
import { parseNetbiosDomains } from '../model/user-match.js';
import { printable } from '../model/printable.js';
import { UserError } from '../model/user-error.js';

interface StatusCliOptions extends GraphCliOptions {
  source?: string;
  users?: string;
  group?: string;
  matchBy: string;
  netbiosDomain: string[];
  format: 'text' | 'json';
}

export function registerStatus(program: Command): void {
  const cmd = program
    .command('status')
    .description('Where the cutover stands, per user in scope: migrated (cloud methods present), switched to Entra MFA (staged rollout group, or the federation), SMS/voice only, and what blocks the rest. Reads only.')
    .option('--source <dir>', 'the export folder: its users are in scope')
    .option('--users <file>', 'only these users: a file of usernames (UPNs, or on-premises names as the export has them), one per line')
    .option('--group <nameOrId>', 'only the members of this group (nested groups included)')
    .option('--match-by <list>', 'as plan: upn,on-premises (the default) also finds a name no user has as UPN by its synced on-premises name; upn by UPN alone', 'upn,on-premises')
    .option('--netbios-domain <NAME=dns.domain>', 'as plan: the DNS domain of the NetBIOS domain NAME, for DOMAIN\\sam names (repeatable)', collect, [] as string[]);
  addGraphOptions(cmd)
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .addHelpText(
      'after',
      `
Examples:
  $ mfa-migrate status --source ./export --graph-url http://127.0.0.1:5580
  $ mfa-migrate status --group "MFA Migration Wave 1" --format json > wave1-status.json
  $ mfa-migrate status --source ./export --netbios-domain CORP=ad.contoso.com   # CORP\\jdoe shown as its Entra user`,
    )
    .action(async (opts: StatusCliOptions) => {
      const matchBy = parseMatchBy(opts.matchBy);
      let netbiosDomains: Map<string, string>;
      try {
        netbiosDomains = parseNetbiosDomains(opts.netbiosDomain);
      } catch (err) {
        throw new UserError((err as Error).message);
      }
      const progress = new Progress('Reading tenant users');
      const status = await cutoverStatus({
        matchBy,
        netbiosDomains,
        ...(opts.source ? { source: opts.source } : {}),
        ...(opts.users ? { users: opts.users } : {}),
        ...(opts.group ? { group: opts.group } : {}),
        graph: connectFromOptions(opts, true),
        concurrency: opts.concurrency,
        onProgress: (d, t) => progress.count(d, t),
        log: (l) => process.stderr.write(`${printable(l, true)}\n`),
      }).finally(() => progress.stop());
      process.stdout.write(opts.format === 'json' ? `${JSON.stringify(status, null, 2)}\n` : renderStatus(status));
    });
}
