import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { applyPlanFile, type Applied, type ApplyRequest } from '../../src/app/apply.js';
import { makePlan, planFileOf, type MadePlan, type PlanRequest } from '../../src/app/plan.js';
import { resumeRun, type ResumeRequest } from '../../src/app/resume.js';
import { rollbackRun, type RollbackRequest } from '../../src/app/rollback.js';
import { planFileChunks, writePlanFile } from '../../src/plan/plan-file.js';
import type { Plan } from '../../src/plan/plan-model.js';
import { loadPskcKeyFile, loadPskcPasswordFile } from '../../src/source/seeds/pskc-credentials.js';
import { packageRoot } from '../../src/io/package-root.js';
import { fakeGraph, type FakeGraph } from './graph.js';
import { rewriteJournal } from './graph-proxies.js';

export const CONTOSO = join(packageRoot(), 'fixtures', 'contoso');
const TOKENS = join(CONTOSO, 'tokens');

/** Every Contoso seed file, with the key and password they need (as the demo passes them). */
export const CONTOSO_TOKENS = ['seeds.pskc', 'seeds-psk.pskc', 'seeds-password.pskc', 'entra-upload.csv', 'generic-seeds.csv'].map((f) => join(TOKENS, f));

export function contosoRequest(source = CONTOSO, tokens = CONTOSO_TOKENS): Omit<PlanRequest, 'graph'> {
  const withKeys = source === CONTOSO;
  return {
    source,
    tokens,
    seeds: {
      pskcMac: 'fail',
      ...(withKeys ? { pskcKey: loadPskcKeyFile(join(TOKENS, 'psk.hex')), pskcPassword: loadPskcPasswordFile(join(TOKENS, 'pskc-password.txt')) } : {}),
    },
    ...(withKeys ? { pskcKeyFiles: [join(TOKENS, 'psk.hex')], pskcPasswordFiles: [join(TOKENS, 'pskc-password.txt')] } : {}),
    includeEmail: false,
    defaultMethod: 'if-unset',
    prune: false,
    allowMissingSeeds: false,
    concurrency: 4,
  };
}

/**
 * The Contoso PSKC key and password copied 0600 into `dir` (created 0700): git keeps the
 * repository's copies 0644, which the commands warn about (issue 17 item 17).
 */
export function privateContosoKeys(dir: string): { dir: string; key: string; password: string } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // The seed files too: they are secret files as well (a checkout leaves them 0644).
  const [key, password] = ['psk.hex', 'pskc-password.txt', 'seeds.pskc', 'seeds-psk.pskc', 'seeds-password.pskc', 'entra-upload.csv', 'generic-seeds.csv'].map((name) => {
    const copy = join(dir, name);
    copyFileSync(join(TOKENS, name), copy);
    chmodSync(copy, 0o600);
    return copy;
  }) as [string, string];
  return { dir, key, password };
}

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `mfa-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A folder for the running test alone, removed when it finishes. */
export function testDir(prefix: string): { dir: string } {
  const t = tempDir(prefix);
  onTestFinished(t.cleanup);
  return t;
}

/** Plans against the fake Graph (read-only) and saves the plan file; the Plan object is what `plan --format json` prints. */
export async function planTo(g: FakeGraph, path: string, over: Partial<PlanRequest> = {}): Promise<{ plan: Plan; made: MadePlan }> {
  const made = await makePlan({ ...contosoRequest(), ...over, graph: g.client({ readOnly: true, retry: TEST_RETRY }) });
  await writePlanFile(path, planFileChunks(planFileOf(made)));
  return { plan: made.built.plan, made };
}

/**
 * A plan of the untouched Contoso tenant written to `path`, with a fake Graph as untouched to apply it
 * to. Made once per worker for each `over` and kept (plans of fresh fake Graphs are the same but for
 * their `created` time; a plan costs about 40 ms of CPU). `over` is plain JSON and names no file whose
 * content a test changes.
 */
export async function planOfUntouched(path: string, over: Partial<PlanRequest> = {}): Promise<{ g: FakeGraph; plan: Plan }> {
  const key = JSON.stringify(over);
  let made = untouchedPlans.get(key);
  if (!made) {
    made = (async () => {
      const t = tempDir('untouched-plan');
      try {
        const { plan } = await planTo(fakeGraph(), join(t.dir, 'p.plan'), over);
        return { bytes: readFileSync(join(t.dir, 'p.plan')), mode: statSync(join(t.dir, 'p.plan')).mode & 0o777, plan };
      } finally {
        t.cleanup();
      }
    })();
    untouchedPlans.set(key, made);
  }
  const { bytes, mode, plan } = await made;
  writeFileSync(path, bytes, { mode });
  return { g: fakeGraph(), plan: structuredClone(plan) };
}
const untouchedPlans = new Map<string, Promise<{ bytes: Buffer; mode: number; plan: Plan }>>();

/** Retries in tests wait at most this long (the policy's real cap is 30 s). */
const TEST_RETRY = { capMs: 300 };

export async function applyFile(g: FakeGraph, path: string, stateDir: string, over: Partial<ApplyRequest> = {}): Promise<Applied> {
  return applyPlanFile(path, { graph: g.client({ retry: TEST_RETRY }), stateDir, batchSize: 500, skipStale: false, concurrency: 4, ...over });
}

export function resumeIn(g: FakeGraph, stateDir: string, over: Partial<ResumeRequest> = {}) {
  return resumeRun({ stateDir, connect: () => g.client({ retry: TEST_RETRY }), ...over });
}

export function rollbackIn(g: FakeGraph, stateDir: string, runId: string, over: Partial<RollbackRequest> = {}) {
  return rollbackRun({ runId, stateDir, force: false, concurrency: 4, connect: () => g.client({ retry: TEST_RETRY }), ...over });
}

export function runDirs(stateDir: string): string[] {
  return readdirSync(join(stateDir, 'runs')).map((id) => join(stateDir, 'runs', id));
}

/**
 * Cuts a journal as a crash leaves it: ending after its `n`th line holding a `started` record (from
 * the end when negative: -1, the last), so those writes were sent with no answer journaled.
 */
export function crashAfterStarted(journal: string, n = -1): void {
  const lines = readFileSync(journal, 'utf8').split('\n');
  const at = lines.flatMap((l, i) => (l.includes('"state":"started"') ? [i] : [])).at(n)!;
  writeFileSync(journal, `${lines.slice(0, at + 1).join('\n')}\n`);
}

/**
 * Cuts a journal as a crash leaves it (after its last `started` line) with the answers of `inFlight`
 * operations, which a run sending batches side by side may have journaled before that line, taken
 * out and the hash chain made again: those writes were sent, and the crash came before their answers
 * were written. Which batch a run sends last varies with the machine's load; a test that needs a
 * given write in flight names it here rather than counting on it being last.
 */
export function crashWithAnswersLost(journal: string, inFlight: (op: string) => boolean): void {
  crashAfterStarted(journal);
  rewriteJournal(journal, (line) => {
    if (line.t !== 'ops') return line;
    const ops = (line.ops as { op: string; state: string }[]).filter((o) => o.state === 'started' || !inFlight(o.op));
    return ops.length === 0 ? null : { ...line, ops };
  });
}

/** The journal's lines, parsed. */
export function journalLines(runDir: string): any[] {
  return readFileSync(join(runDir, 'journal.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}
