import { appendFileSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';

/**
 * A setup file of `vitest.cpu.config.ts` (not of the suite): appends one JSON line per test file to
 * $CPU_PROBE_OUT (default /tmp/vitest-cpu.jsonl) with the worker's CPU over the file (`self`, ms; the
 * import of its modules included) and that of the child processes it waited for (`kids`, ms:
 * /proc/self/stat's cutime + cstime, so spawned CLIs, emulators and PostgreSQL count once reaped).
 * Files share workers (`isolate: false`) and run one at a time in each, so the deltas are the file's.
 */
const OUT = process.env.CPU_PROBE_OUT ?? '/tmp/vitest-cpu.jsonl';

function childrenMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 16 and 17 of proc(5) (cutime, cstime), in clock ticks of 10 ms.
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

const start = { cpu: process.cpuUsage(), kids: childrenMs(), wall: Date.now() };
let file = '?';
// vitest takes the suite as the second argument only, the first destructured (a fixture's context).
// eslint-disable-next-line no-empty-pattern
beforeAll(({}, suite) => {
  file = suite.file?.filepath ?? '?';
});
afterAll(async () => {
  // A child killed in the file's last hook is reaped a moment later.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const cpu = process.cpuUsage(start.cpu);
  appendFileSync(OUT, `${JSON.stringify({ file, self: Math.round((cpu.user + cpu.system) / 1000), kids: childrenMs() - start.kids, wall: Date.now() - start.wall })}\n`);
});
