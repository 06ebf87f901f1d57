import { Option, type Command } from 'commander';
import { access, constants } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { makePlan, planFileOf, UntrustedExportError, type PlanRequest } from '../app/plan.js';
import type { DefaultMethodMode } from '../mapping/default-method-rules.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import { EXIT } from '../model/exit-code.js';
import { UserError } from '../model/user-error.js';
import { encodePlanFile, writePlanFile } from '../plan/plan-file.js';
import { renderReportHtml, renderReportMarkdown } from '../plan/render-report.js';
import { renderPlanTerminal } from '../plan/render-terminal.js';
import { useColor } from './color.js';
import { addGraphOptions, connectFromOptions, type GraphCliOptions } from './graph-options.js';
import { Progress } from './progress.js';
import { addSeedOptions, seedReadOptionsFrom, type SeedCliOptions } from './seed-options.js';

export interface PlanCliOptions extends SeedCliOptions, GraphCliOptions {
  source: string;
  users?: string;
  group?: string;
  targetGroup?: string;
  includeEmail: boolean;
  defaultMethod: DefaultMethodMode;
  prune: boolean;
  allowMissingSeeds: boolean;
  showPhoneNumbers: boolean;
  color?: boolean;
}

/** Options that decide what a plan holds: given with a saved plan (apply PLANFILE) they are refused. */
export const PLAN_SHAPING_OPTIONS: readonly { key: string; flag: string }[] = [
  { key: 'prune', flag: '--prune' },
  { key: 'defaultMethod', flag: '--default-method' },
  { key: 'includeEmail', flag: '--include-email' },
  { key: 'targetGroup', flag: '--target-group' },
  { key: 'allowMissingSeeds', flag: '--allow-missing-seeds' },
  { key: 'tokens', flag: '--tokens' },
  { key: 'pskcKeyFile', flag: '--pskc-key-file' },
  { key: 'pskcPasswordFile', flag: '--pskc-password-file' },
  { key: 'pskcMac', flag: '--pskc-mac' },
];

/** Options shared by plan and apply --source: what to migrate and how. */
export function addPlanningOptions(cmd: Command, graphHelp?: string): Command {
  cmd.requiredOption('--source <dir>', 'export folder (users.csv, devices.csv, settings.json)');
  addSeedOptions(cmd);
  addGraphOptions(cmd, graphHelp);
  return cmd
    .option('--users <file>', 'only these users: a file of UPNs, one per line')
    .option('--group <nameOrId>', 'only the members of this group (nested groups included)')
    .option('--target-group <nameOrId>', 'enable the migrated methods for this group instead of all users')
    .option('--include-email', 'migrate email addresses as email methods', false)
    .addOption(new Option('--default-method <mode>', "how to set users' default MFA method").choices(['always', 'if-unset', 'most-secure-if-unset', 'never']).default('if-unset'))
    .option('--prune', 'delete tenant phone methods that MFA Server does not have', false)
    .option('--allow-missing-seeds', 'plan even when token serials have no seed: those tokens are skipped and their users keep their default method', false);
}

/** The plan use case's request from the command line (the Graph client is added by the caller). */
export function planRequestFrom(opts: PlanCliOptions): Omit<PlanRequest, 'graph'> {
  return {
    source: opts.source,
    tokens: opts.tokens,
    seeds: seedReadOptionsFrom(opts),
    ...(opts.pskcKeyFile ? { pskcKeyFile: opts.pskcKeyFile } : {}),
    ...(opts.pskcPasswordFile ? { pskcPasswordFile: opts.pskcPasswordFile } : {}),
    ...(opts.users ? { users: opts.users } : {}),
    ...(opts.group ? { group: opts.group } : {}),
    ...(opts.targetGroup ? { targetGroup: opts.targetGroup } : {}),
    includeEmail: opts.includeEmail,
    defaultMethod: opts.defaultMethod,
    prune: opts.prune,
    allowMissingSeeds: opts.allowMissingSeeds,
    concurrency: opts.concurrency,
  };
}

interface PlanCommandOptions extends PlanCliOptions {
  format: 'text' | 'json';
  report?: string;
  out?: string;
  detailedExitcode: boolean;
}

export function registerPlan(program: Command): void {
  const cmd = program.command('plan').description('Dry run: read the tenant through Graph, compare it with the export, and show every change the migration would make, with the rule and reason for each. Never writes.');
  addPlanningOptions(cmd)
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--report <file>', "write the auditors' mapping report (.html or .md)")
    .option('--out <planfile>', 'save the plan for `mfa-migrate apply PLANFILE`')
    .option('--detailed-exitcode', 'exit 0 when there are no changes, 2 when there are, 1 on error', false)
    .option('--show-phone-numbers', 'show phone numbers in full (masked by default)', false)
    .addHelpText(
      'after',
      `
Examples:
  $ mfa-migrate emulator --port 5580 &                      # a local Graph to rehearse against
  $ mfa-migrate plan --source ./export --tokens seeds.pskc --graph-url http://127.0.0.1:5580
  $ mfa-migrate plan --source ./export --tokens seeds.pskc --auth client-secret \\
        --tenant-id $TENANT --client-id $APP --client-secret-file ./secret.txt \\
        --target-group "MFA Migration Wave 1" --report report.html --out wave1.plan
  $ mfa-migrate plan --source ./export --group "MFA Migration Wave 1" --format json --detailed-exitcode`,
    )
    .action(async (opts: PlanCommandOptions) => {
      if (opts.report && !/\.(html?|md)$/i.test(opts.report)) throw new UserError(`--report ${opts.report}: the report is HTML or Markdown: name the file .html or .md`);
      // Fail before minutes of reading, not after: the files must be writable where asked.
      for (const [flag, file] of [['--out', opts.out], ['--report', opts.report]] as const) if (file) await assertWritableDir(flag, file);
      const graph = connectFromOptions(opts, true);
      const progress = new Progress('Reading tenant users');
      let made;
      try {
        made = await makePlan({ ...planRequestFrom(opts), graph, onProgress: (d, t) => progress.count(d, t), log: (l) => process.stderr.write(`${l}\n`) });
      } catch (err) {
        if (err instanceof UntrustedExportError && opts.format === 'json') process.stdout.write(`${JSON.stringify({ errors: err.problems }, null, 2)}\n`);
        throw err;
      } finally {
        progress.stop();
      }
      const { plan } = made.built;
      if (opts.format === 'json') process.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
      else process.stdout.write(renderPlanTerminal(plan, { color: useColor(opts, process.stdout), showPhoneNumbers: opts.showPhoneNumbers }));
      if (opts.report) {
        const report = /\.md$/i.test(opts.report) ? renderReportMarkdown(plan, { showPhoneNumbers: opts.showPhoneNumbers }) : renderReportHtml(plan, { showPhoneNumbers: opts.showPhoneNumbers });
        await writeFileAtomic(opts.report, report, 0o600);
        process.stderr.write(`Mapping report written to ${opts.report}\n`);
      }
      if (opts.out) {
        await writePlanFile(opts.out, encodePlanFile(planFileOf(made)));
        process.stderr.write(`Saved the plan to ${opts.out}. To perform exactly these actions: mfa-migrate apply ${opts.out}\n`);
      }
      const changes = plan.summary.create + plan.summary.update + plan.summary.delete;
      process.exitCode = opts.detailedExitcode && changes > 0 ? EXIT.changes : EXIT.ok;
    });
}

async function assertWritableDir(flag: string, file: string): Promise<void> {
  const dir = dirname(resolve(file));
  try {
    await access(dir, constants.W_OK);
  } catch (err) {
    throw new UserError(`${flag} ${file}: cannot write in ${dir} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}
