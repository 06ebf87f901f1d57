import { Option, type Command } from 'commander';
import { showPlan } from '../app/show.js';
import { planJsonChunks } from '../plan/plan-json.js';
import { writeChunks } from './json-stream.js';
import { renderPlanTerminal } from '../plan/render-terminal.js';
import { useColor } from './color.js';
import { asOutputError, checkOutputFile } from './output-file.js';
import { checkReportPath, writePlanReport } from './views/plan-report-file.js';

interface ShowOptions {
  format: 'text' | 'json';
  report?: string;
  showPhoneNumbers: boolean;
  verbose: boolean;
  all: boolean;
  color?: boolean;
}

export function registerShow(program: Command): void {
  program
    .command('show')
    .argument('<planfile>', 'a plan saved by `mfa-migrate plan --out` (or the plan.jsonl copy in a run folder)')
    .description('Show a saved plan offline, as plan showed it when it was made (no tenant access): for people, as JSON (the object plan --format json printed), or as the mapping report.')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--report <file>', "write the auditors' mapping report (.html or .md)")
    .option('--show-phone-numbers', 'show phone numbers in full (masked by default)', false)
    .option('--verbose', 'also list the resources the plan leaves unchanged (and, as --all, every user and finding)', false)
    .option('--all', 'print every user with changes and every finding in the terminal (by default a large plan shows the first 200 users, and a finding code with more than 50 findings as one line)', false)
    .addHelpText(
      'after',
      `
Examples:
  $ mfa-migrate show wave1.plan
  $ mfa-migrate show wave1.plan --all | less            # every user and finding of a large plan
  $ mfa-migrate show wave1.plan --format json > wave1.json
  $ mfa-migrate show wave1.plan --report wave1-review.html`,
    )
    .action(async (planfile: string, opts: ShowOptions) => {
      if (opts.report) checkReportPath(opts.report);
      await checkOutputFile('--report', opts.report);
      const plan = await showPlan(planfile);
      if (opts.format === 'json') await writeChunks(process.stdout, planJsonChunks(plan, { showPhoneNumbers: opts.showPhoneNumbers }));
      else process.stdout.write(renderPlanTerminal(plan, { color: useColor(opts, process.stdout), showPhoneNumbers: opts.showPhoneNumbers, verbose: opts.verbose, all: opts.all }));
      if (opts.report !== undefined) await asOutputError('--report', opts.report, writePlanReport(opts.report, plan, opts.showPhoneNumbers));
    });
}
