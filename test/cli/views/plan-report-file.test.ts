import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePlanReport } from '../../../src/cli/views/plan-report-file.js';
import { readTenant } from '../../../src/graph/tenant-reader.js';
import { TEXT_CHUNK } from '../../../src/io/text-chunks.js';
import { ALL_USERS } from '../../../src/mapping/policy-rules.js';
import { buildPlan } from '../../../src/plan/build-plan.js';
import type { Plan } from '../../../src/plan/plan-model.js';
import { renderReportHtml, renderReportMarkdown, reportHtmlChunks, reportMarkdownChunks } from '../../../src/plan/render-report.js';
import { readExport } from '../../../src/source/export-bundle.js';
import { fakeGraph } from '../../helpers/graph.js';
import { contosoRequest } from '../../helpers/migration.js';
import { contosoTenant } from '../../plan/helpers.js';

/** The Contoso plan with its users repeated under new names up to `n`: a report of a few MB. */
function scaled(contoso: Plan, n: number): Plan {
  const names = Array.from({ length: n }, (_, i) => `u${String(i).padStart(5, '0')}@contoso.com`);
  const from = (i: number) => contoso.users[i % contoso.users.length]!;
  return {
    ...contoso,
    users: names.map((user, i) => ({ ...from(i), user })),
    user_changes: names.flatMap((user, i) => contoso.user_changes.filter((c) => c.user === from(i).user).map((c) => ({ ...c, user }))),
    findings: names.flatMap((user, i) => contoso.findings.filter((f) => f.user === from(i).user).map((f) => ({ ...f, user }))),
  };
}

describe('writePlanReport', () => {
  let plan: Plan;
  let dir: string;
  beforeAll(async () => {
    const req = contosoRequest();
    const bundle = await readExport({ source: req.source, tokens: req.tokens, seeds: req.seeds });
    const snapshot = await readTenant(fakeGraph({ tenant: contosoTenant() }).client({ readOnly: true }), { upns: bundle.users.map((u) => u.username), serials: bundle.tokens.map((t) => t.seed.serial), policy: true, organization: true, concurrency: 4 });
    const contoso = buildPlan({ bundle, tenant: snapshot, options: { includeEmail: false, defaultMethod: 'if-unset', prune: false, target: ALL_USERS }, sourceFingerprint: 'f'.repeat(64), now: new Date('2026-12-01T00:00:00Z') }).plan;
    plan = scaled(contoso, 3000);
    dir = mkdtempSync(join(tmpdir(), 'plan-report-file-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const [ext, chunks, whole] of [
    ['html', reportHtmlChunks, renderReportHtml],
    ['md', reportMarkdownChunks, renderReportMarkdown],
  ] as const) {
    it(`writes the ${ext} report of 3,000 users as rendered, a chunk at a time (never the whole text in one piece)`, async () => {
      const path = join(dir, `report.${ext}`);
      await writePlanReport(path, plan, false);
      const text = whole(plan, { showPhoneNumbers: false });
      expect(readFileSync(path, 'utf8')).toBe(text);
      expect(text.length).toBeGreaterThan(20 * TEXT_CHUNK);
      const pieces = [...chunks(plan, { showPhoneNumbers: false })];
      expect(pieces.length).toBeGreaterThan(20);
      // A chunk is about TEXT_CHUNK characters: never more than one user's entry over it.
      expect(Math.max(...pieces.map((p) => p.length))).toBeLessThan(2 * TEXT_CHUNK);
      expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    });
  }
});
