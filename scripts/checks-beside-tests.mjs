// `npm test`: the bundle first (the few tests that spawn the CLI run it), then vitest with the type
// check (tsc --noEmit) and ESLint beside it, not one after the other. The suite mostly waits
// (emulated latency, throttle windows, child processes), so the checks' CPU fits beside it on two
// cores: run in series they added about 14 s to the suite. Exits non-zero when any of them fails;
// the checks' findings are printed after the tests' report, whole. `npm run build` still emits
// dist/ for the benchmarks and fixture scripts.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const run = (cmd, args, opts) =>
  new Promise((resolve) => {
    const child = spawn(cmd, args, { shell: false, ...opts });
    let out = '';
    child.stdout?.on('data', (c) => (out += c));
    child.stderr?.on('data', (c) => (out += c));
    child.on('error', (err) => resolve({ code: 1, out: `${out}${cmd}: ${err.message}\n` }));
    child.on('exit', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), out }));
  });

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name) => fileURLToPath(new URL(`../node_modules/.bin/${name}`, import.meta.url));
const piped = { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] };

const bundled = await run(process.execPath, [fileURLToPath(new URL('bundle.mjs', import.meta.url))], { cwd: root, stdio: 'inherit' });
if (bundled.code !== 0) {
  process.stderr.write(`The bundle failed (exit ${bundled.code})\n`);
  process.exit(bundled.code);
}
// Both keep what they learnt in node_modules/.cache (as vitest does): a run after an edit checks the
// files that changed, and whatever depends on them, rather than all of them (about 40 s of CPU on
// the 2-core machine when nothing is cached, as in a fresh clone).
const cache = (name) => fileURLToPath(new URL(`../node_modules/.cache/${name}`, import.meta.url));
const checks = [
  ['The type check (tsc --noEmit)', run(bin('tsc'), ['-p', 'tsconfig.json', '--noEmit', '--incremental', '--tsBuildInfoFile', cache('tsc/tsconfig.tsbuildinfo')], piped)],
  ['ESLint', run(bin('eslint'), ['--cache', '--cache-location', `${cache('eslint')}/`, '.'], piped)],
];
const tests = await run(bin('vitest'), ['run', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
let failed = tests.code;
for (const [name, check] of checks) {
  const { code, out } = await check;
  if (out.trim() !== '') process.stdout.write(out);
  if (code !== 0) {
    process.stderr.write(`${name} failed (exit ${code})\n`);
    failed ||= code;
  }
}
process.exit(failed);
