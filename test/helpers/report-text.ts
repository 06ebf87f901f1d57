import type { Plan } from '../../src/plan/plan-model.js';
import { reportHtmlChunks, reportMarkdownChunks, type ReportOptions } from '../../src/plan/render-report.js';

/** A plan's HTML report whole, its chunks joined: for tests of what it says (test/plan/report-bytes.test.ts pins its bytes). */
export function renderReportHtml(plan: Plan, opts: ReportOptions): string {
  return [...reportHtmlChunks(plan, opts)].join('');
}

/** A plan's Markdown report whole, its chunks joined: for tests of what it says. */
export function renderReportMarkdown(plan: Plan, opts: ReportOptions): string {
  return [...reportMarkdownChunks(plan, opts)].join('');
}
