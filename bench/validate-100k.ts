/**
 * Figure: `mfa-migrate validate` end to end on 100,000 users plus 100,000 PSKC seeds: wall time and
 * peak memory, beside a bare csv-parse pass over the same users.csv measured in the same run (both
 * inside this process and as a process of its own, timed from spawn to exit as validate is).
 * Targets: under 5 s, under 400 MB, at most 3x the bare parse.
 *
 *   npm run build && node dist/bench/validate-100k.js [--users 100000] [--runs 3]
 */
import { spawn } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse';
import { generateExport } from '../fixtures/generate-export.js';

const { values } = parseArgs({ options: { users: { type: 'string', default: '100000' }, runs: { type: 'string', default: '3' } } });
const users = Number(values.users);
const runs = Number(values.runs);
const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist/bin/cli/main.js'); // the bundled CLI, as installed (npm run build)
const rss = join(root, 'dist/bench/report-rss.js');

const dir = join(tmpdir(), `mfa-migrate-bench-${users}`);
if (!existsSync(join(dir, 'tokens', 'seeds.pskc'))) {
  process.stdout.write(`generating ${users} users and seeds in ${dir}...\n`);
  await generateExport({ out: dir, users, tokenShare: 1, deviceShare: 0.1, backupShare: 0.3, tenantMethodShare: 0, seed: 1, tenant: false });
}

/** The baseline: csv-parse over users.csv, streaming with the same chunk size, doing nothing else. */
async function bareParse(): Promise<number> {
  const t = performance.now();
  let n = 0;
  const parser = createReadStream(join(dir, 'users.csv'), { highWaterMark: 1 << 20 }).pipe(parse({ bom: true, relax_column_count: true }));
  for await (const _ of parser) n++;
  if (n !== users + 1) throw new Error(`bare parse read ${n} records`);
  return performance.now() - t;
}

/**
 * The same bare pass as a process of its own, timed like validate (spawn to exit): Node's start-up
 * and csv-parse's loading included, so that both figures are measured the same way.
 */
function bareParseProcess(): Promise<number> {
  const script = `
    import { createReadStream } from 'node:fs';
    import { parse } from 'csv-parse';
    let n = 0;
    const parser = createReadStream(process.argv[1], { highWaterMark: 1 << 20 }).pipe(parse({ bom: true, relax_column_count: true }));
    for await (const _ of parser) n++;
    if (n !== ${users + 1}) { console.error('read ' + n + ' records'); process.exit(1); }`;
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, join(dir, 'users.csv')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(performance.now() - t) : reject(new Error(`bare parse process exited ${code}`))));
  });
}

function validate(): Promise<{ ms: number; rssKb: number; report: { users: number; tokens: unknown[]; errors: unknown[] } }> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const child = spawn(process.execPath, ['--import', rss, cli, 'validate', '--source', dir, '--tokens', join(dir, 'tokens', 'seeds.pskc'), '--format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - t;
      const m = /BENCH_MAX_RSS_KB=(\d+)/.exec(err);
      if (code !== 0 || !m) return reject(new Error(`validate exited ${code}: ${err.slice(0, 2000)}`));
      resolve({ ms, rssKb: Number(m[1]), report: JSON.parse(Buffer.concat(out).toString('utf8')) });
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const bare: number[] = [];
const bareProc: number[] = [];
const full: number[] = [];
const mem: number[] = [];
await bareParse(); // warm the file cache
for (let i = 0; i < runs; i++) {
  bare.push(await bareParse());
  bareProc.push(await bareParseProcess());
  const r = await validate();
  if (r.report.users !== users || r.report.tokens.length !== users || r.report.errors.length !== 0) {
    throw new Error(`unexpected report: ${r.report.users} users, ${r.report.tokens.length} tokens, ${r.report.errors.length} errors`);
  }
  full.push(r.ms);
  mem.push(r.rssKb);
}
const b = median(bare);
const bp = median(bareProc);
const f = median(full);
const peakMb = Math.max(...mem) / 1024;
process.stdout.write(
  [
    `validate ${users} users + ${users} PSKC seeds (median of ${runs} runs)`,
    `  mfa-migrate validate   ${(f / 1000).toFixed(2)} s wall, peak ${peakMb.toFixed(0)} MB   (targets: < 5 s, < 400 MB)`,
    `  bare csv-parse pass    ${(b / 1000).toFixed(2)} s in this process (warm), ${(bp / 1000).toFixed(2)} s as a process of its own (spawn to exit, like validate)`,
    `  ratio                  ${(f / b).toFixed(2)}x the in-process bare parse, ${(f / bp).toFixed(2)}x the bare parse process   (target: <= 3x)`,
  ].join('\n') + '\n',
);
