import { writeFileAtomic } from '../../io/atomic-file.js';
import { UserError } from '../../model/user-error.js';
import type { Plan } from '../../plan/plan-model.js';
import { renderReportHtml, renderReportMarkdown } from '../../plan/render-report.js';

/** A report is HTML or Markdown, chosen by the file's extension (any case). */
export function checkReportPath(path: string): void {
  if (!/\.(html?|md)$/i.test(path)) throw new UserError(`--report ${path}: the report is HTML or Markdown: name the file .html or .md`);
}

export function isMarkdown(path: string): boolean {
  return /\.md$/i.test(path);
}

/** Writes the mapping report of a plan (mode 0600: it names users, and numbers when asked). */
export async function writePlanReport(path: string, plan: Plan, showPhoneNumbers: boolean): Promise<void> {
  const report = isMarkdown(path) ? renderReportMarkdown(plan, { showPhoneNumbers }) : renderReportHtml(plan, { showPhoneNumbers });
  await writeFileAtomic(path, report, 0o600);
  process.stderr.write(`Mapping report written to ${path}\n`);
}
