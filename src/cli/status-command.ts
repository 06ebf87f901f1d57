import { Option, type Command } from 'commander';
import { cutoverStatus } from '../app/status.js';
import { addGraphOptions, connectFromOptions, type GraphCliOptions } from './graph-options.js';
import { Progress } from './progress.js';
import { renderStatus } from './views/status-table.js';

interface StatusCliOptions extends GraphCliOptions {
  source?: string;
  users?: string;
  group?: string;
  format: 'text' | 'json';
}

export function registerStatus(program: Command): void {
  const cmd = program
    .command('status')
    .description('Where the cutover stands, per user in scope: migrated (cloud methods present), switched to Entra MFA (staged rollout group, or the federation), SMS/voice only, and what blocks the rest. Reads only.')
    .option('--source <dir>', 'the export folder: its users are in scope')
    .option('--users <file>', 'only these users: a file of UPNs, one per line')
    .option('--group <nameOrId>', 'only the members of this group (nested groups included)');
  addGraphOptions(cmd)
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .addHelpText(
      'after',
      `
Examples:
  $ mfa-migrate status --source ./export --graph-url http://127.0.0.1:5580
  $ mfa-migrate status --group "MFA Migration Wave 1" --format json > wave1-status.json`,
    )
    .action(async (opts: StatusCliOptions) => {
      const progress = new Progress('Reading tenant users');
      const status = await cutoverStatus({
        ...(opts.source ? { source: opts.source } : {}),
        ...(opts.users ? { users: opts.users } : {}),
        ...(opts.group ? { group: opts.group } : {}),
        graph: connectFromOptions(opts, true),
        concurrency: opts.concurrency,
        onProgress: (d, t) => progress.count(d, t),
      }).finally(() => progress.stop());
      process.stdout.write(opts.format === 'json' ? `${JSON.stringify(status, null, 2)}\n` : renderStatus(status));
    });
}
