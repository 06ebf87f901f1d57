import { Option, type Command } from 'commander';
import { runReport } from '../app/report.js';
import { EXIT } from '../model/exit-code.js';
import { printable } from '../model/printable.js';
import { UserError } from '../model/user-error.js';
import { renderRunReportHtml, renderRunReportMarkdown, renderRunReportText } from '../report/render-run-report.js';
import { checkOutputFile, writeOutputFile } from './output-file.js';
import { checkReportPath, isMarkdown } from './views/plan-report-file.js';

interface ReportOptions {
  report?: string;
  format: 'text' | 'json';
  stateDir?: string;
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .argument('<runId>', 'the apply or rollback run to report')
    .description("What a run did, per user: each operation with its outcome, time, Graph's request id and, for failures, Graph's error; the plan hash it applied, the journal's verification and final hash, and its rollback. Reads the state folder only.")
    .option('--report <file>', 'write the run report (.html or .md)')
    .addOption(new Option('--format <format>', 'standard output: a summary, or the whole report as JSON').choices(['text', 'json']).default('text'))
    .option('--state-dir <dir>', "the run's state folder (default: look in every tenant folder of the state base)")
    .addHelpText(
      'after',
      `
Exit status: 0 the report was made; 1 an error (a run whose plan copy is of a later plan format
than this build reads is refused, nothing written: a later build's run), or the report was made (and written) but the run's
evidence is in question, as runs verify exits 1: its journal was edited (said first in every format),
its plan copy changed or cannot be read (the report is then the journal's alone), or, for a rollback,
the run it undoes fails runs verify.

Examples:
  $ mfa-migrate report 20261128T101500Z-3f2a9c1d --report wave1-run.html
  $ mfa-migrate report 20261128T101500Z-3f2a9c1d --format json > wave1-run.json`,
    )
    .action(async (runId: string, opts: ReportOptions) => {
      if (opts.report) checkReportPath(opts.report);
      await checkOutputFile('--report', opts.report, [], opts.stateDir);
      const report = await runReport(runId, opts.stateDir);
      if (opts.format === 'json') process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else process.stdout.write(printable(renderRunReportText(report, opts), true));
      if (opts.report !== undefined) {
        await writeOutputFile('--report', opts.report, isMarkdown(opts.report) ? renderRunReportMarkdown(report, opts) : renderRunReportHtml(report, opts));
        process.stderr.write(`Run report written to ${opts.report}\n`);
      }
      // The report is written all the same (it is what an investigation starts from), but the evidence is in question: exit 1, as `runs verify` does.
      if (report.journal.state === 'broken') throw new UserError(`run ${runId}: ${report.journal.problem}`, EXIT.error);
      // Its plan copy unreadable, the report is the journal's alone: made and written, and said as a failure too.
      if (report.run.plan_problem) throw new UserError(`run ${runId}: ${report.run.plan_problem}`, EXIT.error);
    });
}
