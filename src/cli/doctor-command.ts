import { Option, type Command } from 'commander';
import { runDoctor } from '../app/doctor.js';
import { EXIT } from '../model/exit-code.js';
import { useColor } from './color.js';
import { addGraphOptions, connectFromOptions, type GraphCliOptions } from './graph-options.js';
import { renderDoctor } from './views/doctor.js';

export function registerDoctor(program: Command): void {
  const cmd = program
    .command('doctor')
    .description('Check a tenant before the first plan: sign in, name the tenant and the identity, compare the permissions with what each command needs, read each endpoint once (v1.0 and beta), and report the policy state that matters. Reads only.')
    .option('--source <dir>', 'an export folder: also check that its users are in this tenant');
  addGraphOptions(cmd)
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .addHelpText(
      'after',
      `
Exit status: 0 ready; 1 not ready (a check failed: its fix is printed under it).

Examples:
  $ mfa-migrate doctor --auth client-secret --tenant-id $TENANT --client-id $APP --client-secret-file ./secret.txt
  $ mfa-migrate doctor --auth device-code --source ./export
  $ mfa-migrate doctor --graph-url http://127.0.0.1:5580 --format json`,
    )
    .action(async (opts: GraphCliOptions & { source?: string; format: 'text' | 'json'; color?: boolean }) => {
      const report = await runDoctor(connectFromOptions(opts, true), opts.source ? { source: opts.source } : {});
      process.stdout.write(opts.format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderDoctor(report, useColor(opts, process.stdout)));
      process.exitCode = report.ready ? EXIT.ok : EXIT.error;
    });
}
