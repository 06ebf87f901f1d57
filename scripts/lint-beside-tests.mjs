// `npm test` after the build: ESLint and vitest side by side, not one after the other. The suite
// mostly waits (emulated latency, throttle windows, child processes), so the lint's few seconds of
// CPU fit beside it on two cores. Exits non-zero when either fails; the lint's findings are printed
// after the tests' report, whole.
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

const bin = (name) => fileURLToPath(new URL(`../node_modules/.bin/${name}`, import.meta.url));
const lint = run(bin('eslint'), ['.'], { stdio: ['ignore', 'pipe', 'pipe'] });
const tests = await run(bin('vitest'), ['run', ...process.argv.slice(2)], { stdio: 'inherit' });
const linted = await lint;
if (linted.out.trim() !== '') process.stdout.write(linted.out);
if (linted.code !== 0) process.stderr.write(`ESLint failed (exit ${linted.code})\n`);
process.exit(tests.code !== 0 ? tests.code : linted.code);
