import { stageFileAtomic, writeFileAtomic, type StagedFile } from '../../io/atomic-file.js';
import { UserError } from '../../model/user-error.js';
import type { Plan } from '../../plan/plan-model.js';
import { reportHtmlChunks, reportMarkdownChunks } from '../../plan/render-report.js';

/** A report is HTML or Markdown, chosen by the file's extension (any case). */
export function checkReportPath(path: string): void {
  if (!/\.(html?|md)$/i.test(path)) throw new UserError(`--report ${path}: the report is HTML or Markdown: name the file .html or .md`);
}

export function isMarkdown(path: string): boolean {
  return /\.md$/i.test(path);
}

/**
 * Writes the mapping report of a plan (mode 0600: it names users, and numbers when asked), a chunk
 * at a time as it is made: the HTML report of 100,000 users is 257 MB, and made whole (its body, the
 * page around it, its UTF-8 copy) it added 0.85 GB to the plan's peak (docs/benchmarks.md, Plan).
 */
export async function writePlanReport(path: string, plan: Plan, showPhoneNumbers: boolean): Promise<void> {
  await writeFileAtomic(path, reportChunks(path, plan, showPhoneNumbers), 0o600);
  process.stderr.write(`Mapping report written to ${path}\n`);
}

/** writePlanReport's file written and synced beside `path`, not yet in place (with plan --out: both or neither). */
export function stagePlanReport(path: string, plan: Plan, showPhoneNumbers: boolean): Promise<StagedFile> {
  return stageFileAtomic(path, reportChunks(path, plan, showPhoneNumbers), 0o600);
}

function reportChunks(path: string, plan: Plan, showPhoneNumbers: boolean): Iterable<string> {
  return isMarkdown(path) ? reportMarkdownChunks(plan, { showPhoneNumbers }) : reportHtmlChunks(plan, { showPhoneNumbers });
}
