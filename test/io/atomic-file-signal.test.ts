import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'rolldown';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * A Ctrl-C while a large file is written (plan --report of 100,000 users) left the writer's hidden
 * temporary file, the report's first part, beside the old report: real processes, killed mid-write
 * (test/io/atomic-writer-child.ts, bundled here).
 */
let dir: string;
let child: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'atomic-signal-'));
  await build({
    input: { child: join(import.meta.dirname, 'atomic-writer-child.ts') },
    platform: 'node',
    resolve: { extensionAlias: { '.js': ['.ts', '.js'] } },
    logLevel: 'silent',
    output: { dir: join(dir, 'bundle'), format: 'esm', entryFileNames: '[name].mjs' },
  });
  child = join(dir, 'bundle', 'child.mjs');
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the child on `target` and sends it SIGINT once it is writing: how it ended, and what it printed. */
async function interrupted(target: string, mode: 'plain' | 'handles' | 'exits' | 'once'): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; tempsWhileWriting: string[] }> {
  const proc = spawn(process.execPath, [child, target, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  let tempsWhileWriting: string[] = [];
  proc.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    if (stdout === 'writing\n') {
      tempsWhileWriting = readdirSync(join(target, '..')).filter((f) => f.endsWith('.tmp'));
      proc.kill('SIGINT');
    }
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => proc.on('exit', (c, s) => resolve([c, s])));
  return { code, signal, stdout, tempsWhileWriting };
}

describe('writeFileAtomic, the process ended mid-write', () => {
  it('by a signal nothing handles: its temporary file is removed, the old file kept, and the process ends by the signal as before', async () => {
    const sub = mkdtempSync(join(dir, 'plain-'));
    const target = join(sub, 'big.html');
    writeFileSync(target, 'old report');
    const run = await interrupted(target, 'plain');
    expect(run.tempsWhileWriting).toHaveLength(1);
    expect({ code: run.code, signal: run.signal, stdout: run.stdout }).toEqual({ code: null, signal: 'SIGINT', stdout: 'writing\n' });
    expect(readdirSync(sub)).toEqual(['big.html']);
    expect(readFileSync(target, 'utf8')).toBe('old report');
  });

  it('by a listener that exits at once (apply\'s second Ctrl-C): its temporary file is removed at the exit', async () => {
    const sub = mkdtempSync(join(dir, 'exits-'));
    const target = join(sub, 'big.html');
    const run = await interrupted(target, 'exits');
    expect(run.tempsWhileWriting).toHaveLength(1);
    expect({ code: run.code, signal: run.signal }).toEqual({ code: 130, signal: null });
    expect(readdirSync(sub)).toEqual([]);
  });

  it('not, when the process handles the signal itself (apply stopping): the write goes on and completes', async () => {
    const sub = mkdtempSync(join(dir, 'handles-'));
    const target = join(sub, 'big.html');
    const run = await interrupted(target, 'handles');
    expect({ code: run.code, signal: run.signal, stdout: run.stdout }).toEqual({ code: 0, signal: null, stdout: 'writing\nwritten\n' });
    expect(readdirSync(sub)).toEqual(['big.html']);
    expect(readFileSync(target, 'utf8').endsWith('end\n')).toBe(true);
  });

  // shim serve's stop listener removes itself as it runs (once): it handles the signal all the same,
  // and a review found the process killed by it mid-compaction (the count taken after it had gone).
  it('not, when the process handles the signal with a listener that removes itself: the write completes', async () => {
    const sub = mkdtempSync(join(dir, 'once-'));
    const target = join(sub, 'big.html');
    const run = await interrupted(target, 'once');
    expect({ code: run.code, signal: run.signal, stdout: run.stdout }).toEqual({ code: 0, signal: null, stdout: 'writing\nwritten\n' });
    expect(readdirSync(sub)).toEqual(['big.html']);
  });
});
