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
import { reportHtmlChunks, reportMarkdownChunks } from '../../../src/plan/render-report.js';
import { readExport } from '../../../src/source/export-bundle.js';
import { fakeGraph } from '../../helpers/graph.js';
import { contosoRequest } from '../../helpers/migration.js';
import { contosoTenant } from '../../plan/helpers.js';

/** The Contoso plan with its users repeated under new names up to `n` (`name(i)`): a report of a few MB. */
function scaled(contoso: Plan, n: number, name: (i: number) => string): Plan {
  const names = Array.from({ length: n }, (_, i) => name(i));
  const from = (i: number) => contoso.users[i % contoso.users.length]!;
  return {
    ...contoso,
    users: names.map((user, i) => ({ ...from(i), user })),
    user_changes: names.flatMap((user, i) => contoso.user_changes.filter((c) => c.user === from(i).user).map((c) => ({ ...c, user }))),
    // The plan's own findings (no user's) kept: the rules it applied are the Contoso plan's.
    findings: [...contoso.findings.filter((f) => f.user === undefined), ...names.flatMap((user, i) => contoso.findings.filter((f) => f.user === from(i).user).map((f) => ({ ...f, user })))],
  };
}

/** Bytes as UTF-8 that any writer's bug would break: a pair split between chunks, or cut, is not valid UTF-8, or not these characters. */
const strictUtf8 = (bytes: Buffer): string => new TextDecoder('utf-8', { fatal: true }).decode(bytes);

/** Multi-byte characters in every scaled user's name: two UTF-8 bytes (é), three (→) and a UTF-16 surrogate pair (😀, four). */
const name = (i: number) => `u${String(i).padStart(5, '0')}-é→😀@contoso.com`;

/** Where each user's entry starts, on a line of its own; and the users those entries name, in order. */
const ENTRY = {
  html: { start: /\n<(?:details|section) class="entry[^"]*" id="[^"]*" data-user="([^"]*)"/g },
  md: { start: /\n### <a id="[^"]*"><\/a>([^:\n]*?)(?: \(Entra [^)]*\))?: /g },
} as const;

/** Where the part after the users starts (the same in every report of these plans' rules): the rule glossary. */
const GLOSSARY = { html: '<h2 id="rules">Rule glossary</h2>', md: '## Rule glossary' } as const;

/**
 * A report's bytes, pinned apart from the code that makes them: the Contoso report (a fixed export,
 * tenant and clock) is compared byte for byte with a file kept beside this test (its chunks' joins,
 * the page around the body, what is said); a report of many chunks, by what a dropped, doubled or
 * badly joined chunk, or a character cut at a chunk's end, would break. When the report's wording
 * changes on purpose: `npx vitest run test/cli/views/plan-report-file.test.ts -u`, and read the diff.
 */
describe('writePlanReport', () => {
  let contoso: Plan;
  let plan: Plan;
  let dir: string;
  beforeAll(async () => {
    const req = contosoRequest();
    const bundle = await readExport({ source: req.source, tokens: req.tokens, seeds: req.seeds });
    const snapshot = await readTenant(fakeGraph({ tenant: contosoTenant() }).client({ readOnly: true }), { upns: bundle.users.map((u) => u.username), serials: bundle.tokens.map((t) => t.seed.serial), policy: true, organization: true, concurrency: 4 });
    const built = buildPlan({ bundle, tenant: snapshot, options: { includeEmail: false, defaultMethod: 'if-unset', prune: false, target: ALL_USERS }, sourceFingerprint: 'f'.repeat(64), now: new Date('2026-12-01T00:00:00Z') }).plan;
    // The build's identity (its commit) is no part of what is pinned.
    contoso = { ...built, tool_version: '0.0.0-golden' };
    plan = scaled(contoso, 3000, name);
    dir = mkdtempSync(join(tmpdir(), 'plan-report-file-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const [ext, chunks] of [
    ['html', reportHtmlChunks],
    ['md', reportMarkdownChunks],
  ] as const) {
    it(`writes the ${ext} report of the Contoso plan byte for byte as kept in golden/contoso-report.${ext}`, async () => {
      const path = join(dir, `contoso.${ext}`);
      await writePlanReport(path, contoso, false);
      const text = strictUtf8(readFileSync(path));
      await expect(text).toMatchFileSnapshot(`golden/contoso-report.${ext}`);
      // What the page has once: its start, its end (the HTML page's head and tail round the body).
      expect(text.split(ext === 'html' ? '<!doctype html>' : '# MFA Server to Entra migration: mapping report').length).toBe(2);
      if (ext === 'html') expect(text.endsWith('</body>\n</html>\n')).toBe(true);
    });

    it(`writes the ${ext} report of 3,000 users a chunk at a time: every entry once, in order, on its line, every character whole`, async () => {
      const path = join(dir, `report.${ext}`);
      await writePlanReport(path, plan, false);
      const bytes = readFileSync(path);
      const text = strictUtf8(bytes);
      expect(Buffer.from(text, 'utf8').equals(bytes)).toBe(true);
      expect(text).not.toContain('\uFFFD');
      expect(text.length).toBeGreaterThan(20 * TEXT_CHUNK);
      const named = [...text.matchAll(ENTRY[ext].start)].map((m) => m[1]);
      expect(named).toEqual(plan.users.map((u) => (ext === 'html' ? u.user.toLowerCase() : u.user)));
      // The part after the users is the Contoso report's: no chunk of it lost, doubled or joined wrong.
      const small = readFileSync(join(import.meta.dirname, `golden/contoso-report.${ext}`), 'utf8');
      expect(text.slice(text.indexOf(GLOSSARY[ext]))).toBe(small.slice(small.indexOf(GLOSSARY[ext])));
      const pieces = [...chunks(plan, { showPhoneNumbers: false })];
      expect(pieces.length).toBeGreaterThan(20);
      // A chunk is about TEXT_CHUNK characters: never more than one user's entry over it; none ends inside a pair.
      expect(Math.max(...pieces.map((p) => p.length))).toBeLessThan(2 * TEXT_CHUNK);
      expect(pieces.filter((p) => /[\uD800-\uDBFF]$/.test(p) || /^[\uDC00-\uDFFF]/.test(p))).toEqual([]);
      expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    });
  }
});

describe('the report chunks', () => {
  it("gather the report's data when asked for, before a writer makes its file: seconds for 100,000 users, not spent with a temporary file open", () => {
    const plan = new Proxy({} as Plan, {
      get: () => {
        throw new Error('the plan read');
      },
    });
    expect(() => reportHtmlChunks(plan, { showPhoneNumbers: false })).toThrow('the plan read');
    expect(() => reportMarkdownChunks(plan, { showPhoneNumbers: false })).toThrow('the plan read');
  });
});
