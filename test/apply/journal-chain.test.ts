import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainHash, journalProblem, splitHash, verifyJournal } from '../../src/apply/journal.js';
import { fakeGraph, type FakeGraph } from '../helpers/graph.js';
import { applyFile, planTo, resumeIn, rollbackIn, runDirs, tempDir } from '../helpers/migration.js';

/** Issue 14: each journal line carries a hash chained from the plan hash; any edit of a line breaks it there. */
describe('the journal hash chain', () => {
  let g: FakeGraph;
  let tmp: ReturnType<typeof tempDir>;
  let planFile: string;
  let stateDir: string;
  let applyDir: string;
  let finalHash: string | undefined;
  const journal = (dir: string) => join(dir, 'journal.jsonl');

  beforeAll(async () => {
    tmp = tempDir('chain');
    g = fakeGraph();
    planFile = join(tmp.dir, 'contoso.plan');
    await planTo(g, planFile);
    stateDir = join(tmp.dir, 'state');
    // One wave, then a resume: the chain goes on across the two processes' appends.
    const first = await applyFile(g, planFile, stateDir, { batchSize: 10, waves: 1 });
    expect(first.outcome.state).toBe('stopped');
    const resumed = await resumeIn(g, stateDir);
    expect(resumed.outcome.state).toBe('completed');
    finalHash = resumed.outcome.journalHash;
    applyDir = runDirs(stateDir)[0]!;
  }, 60_000);
  afterAll(() => tmp?.cleanup());

  it('chains every line from the plan hash to the final hash apply and resume report', async () => {
    const lines = readFileSync(journal(applyDir!), 'utf8').trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(10);
    let previous = JSON.parse(lines[0]!).planHash as string;
    expect(previous).toBe(createHash('sha256').update(readFileSync(join(applyDir!, 'plan.jsonl'))).digest('hex'));
    for (const line of lines) {
      const split = splitHash(line)!;
      expect(split.hash).toBe(chainHash(previous, split.body));
      // The line without its hash is exactly what was hashed: the same object less one member.
      const { hash: _h, ...rest } = JSON.parse(line);
      expect(JSON.parse(split.body)).toEqual(rest);
      previous = split.hash;
    }
    expect(previous).toBe(finalHash);
    expect(await verifyJournal(applyDir!)).toEqual({ state: 'verified', lines: lines.length, planHash: JSON.parse(lines[0]!).planHash, head: finalHash });
  });

  it('fails on a one-byte edit of any line, naming that line', async () => {
    const original = readFileSync(journal(applyDir!));
    const starts = [0];
    for (let i = 0; i < original.length - 1; i++) if (original[i] === 0x0a) starts.push(i + 1);
    try {
      for (let n = 0; n < starts.length; n++) {
        const copy = Buffer.from(original);
        // A byte in the middle of the line, replaced by another printable one.
        const end = n + 1 < starts.length ? starts[n + 1]! - 1 : original.length - 1;
        const at = Math.floor((starts[n]! + end) / 2);
        copy[at] = copy[at] === 0x41 ? 0x42 : 0x41;
        writeFileSync(journal(applyDir!), copy);
        expect(await verifyJournal(applyDir!), `line ${n + 1}`).toMatchObject({ state: 'broken', line: n + 1 });
      }
    } finally {
      writeFileSync(journal(applyDir!), original);
    }
    expect((await verifyJournal(applyDir!)).state).toBe('verified');
  });

  it("fails when the run's plan copy is not the plan the chain starts from, and when lines are taken out", async () => {
    const plan = readFileSync(join(applyDir!, 'plan.jsonl'));
    const original = readFileSync(journal(applyDir!), 'utf8');
    try {
      const swapped = Buffer.concat([plan, Buffer.from('\n')]);
      writeFileSync(join(applyDir!, 'plan.jsonl'), swapped);
      // Both hashes, so that the recorded one can be compared with the one signed off.
      const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
      expect(await verifyJournal(applyDir!)).toMatchObject({
        state: 'broken',
        line: 1,
        reason: `the run's plan copy (plan.jsonl) is not the plan the journal records (the journal records sha256 ${sha(plan)}; the file is sha256 ${sha(swapped)})`,
      });
      writeFileSync(join(applyDir!, 'plan.jsonl'), plan);
      const lines = original.split('\n');
      writeFileSync(journal(applyDir!), [...lines.slice(0, 3), ...lines.slice(4)].join('\n'));
      expect(await verifyJournal(applyDir!)).toMatchObject({ state: 'broken', line: 4 });
    } finally {
      writeFileSync(join(applyDir!, 'plan.jsonl'), plan);
      writeFileSync(journal(applyDir!), original);
    }
  });

  /**
   * Found by an auditor's black-box test: the end line edited (`completed` to `partial`) and its newline
   * taken off passed `runs verify` as "incomplete: a crash while writing leaves this, not an edit".
   */
  it('a last line without its newline is an edit when it is whole JSON whose hash does not verify; a crash only when torn', async () => {
    const original = readFileSync(journal(applyDir!), 'utf8');
    const lines = original.trimEnd().split('\n');
    const n = lines.length;
    const head = lines.slice(0, -1).join('\n');
    try {
      const edited = lines.at(-1)!.replace('"state":"completed"', '"state":"partial"');
      expect(edited).not.toBe(lines.at(-1));
      writeFileSync(journal(applyDir!), `${head}\n${edited}`);
      const check = await verifyJournal(applyDir!);
      expect(check).toEqual({ state: 'broken', line: n, reason: 'its hash does not match its content and the line before it (it has no newline, but is whole: a crash does not change a line)' });
      expect(journalProblem(check)).toMatch(new RegExp(`^the journal was changed after it was written: line ${n}: `));
      // Its hash taken out too: still whole JSON, so not a crash's.
      writeFileSync(journal(applyDir!), `${head}\n${splitHash(edited)!.body}`);
      expect(await verifyJournal(applyDir!)).toMatchObject({ state: 'broken', line: n, reason: expect.stringMatching(/^it has no hash/) });
      // Unchanged, only its newline lost (a crash between the record and its newline): whole lines before it, a note.
      writeFileSync(journal(applyDir!), `${head}\n${lines.at(-1)!}`);
      expect(await verifyJournal(applyDir!)).toMatchObject({ state: 'verified', lines: n - 1, tornLine: n });
      // Torn (not JSON): a crash's.
      writeFileSync(journal(applyDir!), `${head}\n${lines.at(-1)!.slice(0, 40)}`);
      const torn = await verifyJournal(applyDir!);
      expect(torn).toMatchObject({ state: 'verified', lines: n - 1, tornLine: n });
      expect(journalProblem(torn)).toMatch(new RegExp(`^line ${n} is incomplete: a crash while writing leaves this, not an edit`));
    } finally {
      writeFileSync(journal(applyDir!), original);
    }
  });

  it('says "unverifiable" for a journal written before the chain (its plan copy of a format versions before the chain wrote)', async () => {
    const original = readFileSync(journal(applyDir!), 'utf8');
    const copy = join(applyDir!, 'plan.jsonl');
    const plan = readFileSync(copy, 'utf8');
    try {
      const legacy = original.trimEnd().split('\n').map((l) => splitHash(l)!.body);
      const older = plan.replace(/"format_version":"2\.\d+"/, '"format_version":"2.1"');
      writeFileSync(copy, older);
      // The plan copy is still held to the plan hash the header records (a review: a copy relabelled, or renamed, passed).
      writeFileSync(journal(applyDir!), `${legacy.join('\n')}\n`);
      expect(await verifyJournal(applyDir!)).toMatchObject({ state: 'broken', line: 1, about: 'plan-copy-changed' });
      const renamed = [legacy[0]!.replace('"planFile":"plan.jsonl"', '"planFile":"plan.json"'), ...legacy.slice(1)];
      writeFileSync(journal(applyDir!), `${renamed.join('\n')}\n`);
      expect(await verifyJournal(applyDir!)).toMatchObject({ state: 'broken', line: 1, about: 'plan-copy-unreadable' });
      // A run from before the chain: its header records its own plan copy's hash.
      const header = JSON.parse(legacy[0]!) as { planHash: string };
      header.planHash = createHash('sha256').update(older).digest('hex');
      writeFileSync(journal(applyDir!), `${[JSON.stringify(header), ...legacy.slice(1)].join('\n')}\n`);
      expect(await verifyJournal(applyDir!)).toMatchObject({ state: 'unverifiable' });
    } finally {
      writeFileSync(journal(applyDir!), original);
      writeFileSync(copy, plan);
    }
  });

  /** Found by an auditor's black-box test: hashes stripped and a line edited passed as a journal from before the chain. */
  it('fails a journal whose hashes were taken out when its plan copy shows the run began after the chain', async () => {
    const original = readFileSync(journal(applyDir!), 'utf8');
    try {
      const stripped = original.trimEnd().split('\n').map((l) => splitHash(l)!.body);
      const at = stripped.findIndex((l) => l.includes('"state":"done"'));
      stripped[at] = stripped[at]!.replace('"state":"done"', '"state":"failed"');
      writeFileSync(journal(applyDir!), `${stripped.join('\n')}\n`);
      expect(await verifyJournal(applyDir!)).toEqual({
        state: 'broken',
        line: 1,
        reason: expect.stringMatching(/^it has no hash, though the run's plan copy is of format 2\.\d+, which only versions that chain their journals wrote: the hash chain was taken out$/),
      });
    } finally {
      writeFileSync(journal(applyDir!), original);
    }
  });

  it('a plan copy relabelled to a newer format than this version reads (which it refuses to read) is still one only versions that chain wrote', async () => {
    const original = readFileSync(journal(applyDir!), 'utf8');
    const copy = join(applyDir!, 'plan.jsonl');
    const plan = readFileSync(copy, 'utf8');
    try {
      const newer = plan.replace(/"format_version":"2\.\d+"/, '"format_version":"2.99"');
      writeFileSync(copy, newer);
      const stripped = original.trimEnd().split('\n').map((l) => splitHash(l)!.body);
      const header = JSON.parse(stripped[0]!) as { planHash: string };
      header.planHash = createHash('sha256').update(newer).digest('hex');
      writeFileSync(journal(applyDir!), `${[JSON.stringify(header), ...stripped.slice(1)].join('\n')}\n`);
      expect(await verifyJournal(applyDir!)).toEqual({ state: 'broken', line: 1, reason: "it has no hash, though the run's plan copy is of format 2.99, which only versions that chain their journals wrote: the hash chain was taken out" });
    } finally {
      writeFileSync(journal(applyDir!), original);
      writeFileSync(copy, plan);
    }
  });

  /** A fault-injection test: copying the approved plan back mended the run, but nothing said which file that was. */
  it('a plan copy changed after the run: rollback names both hashes and what to put back; restored, the run goes on', async () => {
    const copy = join(applyDir!, 'plan.jsonl');
    const plan = readFileSync(copy);
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    const runId = applyDir!.split('/').at(-1)!;
    try {
      for (const changed of [Buffer.concat([plan, Buffer.from('\n')]), plan.subarray(0, 200)]) {
        writeFileSync(copy, changed);
        const err = (await rollbackIn(g, stateDir, runId).catch((e: unknown) => e)) as Error;
        // Cut short is what a crash leaves of a copy not yet on disk: said so, not as an edit (test/apply/plan-copy-lost.test.ts).
        if (changed.length === 200) expect(err.message).toContain(`the run's plan copy (plan.jsonl) is cut short (200 bytes, without the plan's closing line): lost in a crash`);
        else expect(err.message).toContain(`its plan copy ${copy} was changed after the run (sha256 ${sha(changed)}; the journal records ${sha(plan)})`);
        expect(err.message).toContain(`put the run's plan back there (the file whose sha256 is ${sha(plan)}, the plan applied)`);
      }
    } finally {
      writeFileSync(copy, plan);
    }
  });

  it('chains a rollback run from the plan hash of the run it undoes', async () => {
    const { outcome } = await rollbackIn(g, stateDir, applyDir!.split('/').at(-1)!);
    expect(outcome.state).toBe('completed');
    const rollbackDir = join(stateDir, 'runs', outcome.runId);
    const check = await verifyJournal(rollbackDir);
    expect(check).toMatchObject({ state: 'verified', head: outcome.journalHash });
    // Its hashes taken out: the plan copy of the run it undoes shows it was written with the chain.
    const original = readFileSync(journal(rollbackDir), 'utf8');
    writeFileSync(journal(rollbackDir), `${original.trimEnd().split('\n').map((l) => splitHash(l)!.body).join('\n')}\n`);
    expect(await verifyJournal(rollbackDir)).toMatchObject({ state: 'broken', line: 1, reason: expect.stringContaining('the plan copy of the run it undoes') });
    writeFileSync(journal(rollbackDir), original);
  });
});
