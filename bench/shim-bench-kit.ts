/** What the shim benchmarks share: arguments, the OATH workload, child servers, CPU and percentiles. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { Secret } from '../src/model/secret.js';
import type { OathSeed } from '../src/model/export-data.js';

export const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i]!;
  if (a.startsWith('--')) args.set(a.slice(2), process.argv[i + 1]?.startsWith('--') === false ? process.argv[++i]! : 'true');
}
export const num = (name: string, def: number): number => (args.has(name) ? Number(args.get(name)) : def);


export interface BenchUser {
  name: string;
  type: 'hotp' | 'totp';
  secret: Buffer;
  /** HOTP: next counter; TOTP: last step this client used. */
  counter: number;
  lastCode: string | null;
}

export function hotp(secret: Buffer, counter: number): string {
  const msg = Buffer.alloc(8);
  msg.writeUInt32BE(Math.floor(counter / 2 ** 32), 0);
  msg.writeUInt32BE(counter >>> 0, 4);
  const mac = createHmac('sha1', secret).update(msg).digest();
  const off = mac[mac.length - 1]! & 15;
  return String((mac.readUInt32BE(off) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/**
 * A code the shim must refuse as wrong for this user: not the code of any counter or time step it
 * could accept now, nor of one already used. A fixed "000000" matches one of the ten HOTP look-ahead
 * codes once in 100,000 tries; accepted, it moves the counter on and the bench's next fresh codes
 * read as replays (seen as a few "unexpected" answers in some runs).
 */
export function wrongCode(u: BenchUser): string {
  const taken = new Set<string>();
  if (u.type === 'hotp') {
    for (let c = Math.max(0, u.counter - 12); c <= Math.max(0, u.counter) + 12; c++) taken.add(hotp(u.secret, c));
  } else {
    const step = Math.floor(Date.now() / 30_000);
    for (let t = step - 3; t <= step + 3; t++) taken.add(hotp(u.secret, t));
  }
  let code = 0;
  while (taken.has(String(code).padStart(6, '0'))) code += 111_111;
  return String(code).padStart(6, '0');
}

/**
 * Whether the user's last code, sent again, would be a valid code the shim must accept: six digits
 * repeat, and a HOTP token's next ten codes (the look-ahead; TOTP: the steps in the window) hold
 * the last one again about once in 100,000 replays. The shim then rightly accepts it, its counter
 * jumps ahead of the bench's, and the bench's next fresh codes read as replays (seen as "ok ->
 * replayed" and then "locked_out" for one user in some runs). Such a replay is not sent.
 */
export function replayIsFresh(u: BenchUser): boolean {
  if (u.lastCode === null) return false;
  if (u.type === 'hotp') {
    for (let c = u.counter; c < u.counter + 10; c++) if (hotp(u.secret, c) === u.lastCode) return true;
    return false;
  }
  const step = Math.floor(Date.now() / 30_000);
  for (let t = step - 2; t <= step + 2; t++) if (t > u.counter && hotp(u.secret, t) === u.lastCode) return true;
  return false;
}

let codeSeq = 0;

/**
 * The next code to send for a user, what it is, and the answers the shim may give (the `reason`s of
 * /v1/verify; RADIUS reads them as accept or reject), or null when a TOTP user has no fresh code until
 * the next step (the client moves on to another user). Mix (deterministic): 90 % fresh codes (HOTP:
 * the next counter; TOTP: the previous, then the current step), 5 % wrong codes, 5 % the user's last
 * code again (a double submit: replayed).
 */
export function nextCode(u: BenchUser): { code: string; kind: 'fresh' | 'wrong' | 'replay'; expect: string[] } | null {
  const step = Math.floor(Date.now() / 30_000);
  if (u.type === 'totp' && u.counter >= step) return null;
  const r = (codeSeq++ * 37) % 100;
  if (r < 5) return { code: wrongCode(u), kind: 'wrong', expect: ['wrong_code'] };
  if (r < 10 && u.lastCode !== null && !replayIsFresh(u)) {
    // A TOTP code two steps old is outside the window: the shim cannot tell it from a wrong code.
    const stale = u.type === 'totp' && u.counter < step - 1;
    return { code: u.lastCode, kind: 'replay', expect: stale ? ['replayed', 'wrong_code'] : ['replayed'] };
  }
  if (u.type === 'hotp') {
    if (u.counter < 0) u.counter = 0;
    u.lastCode = hotp(u.secret, u.counter++);
    return { code: u.lastCode, kind: 'fresh', expect: ['ok'] };
  }
  u.counter = Math.max(step - 1, u.counter + 1);
  u.lastCode = hotp(u.secret, u.counter);
  // At a step boundary the server may already be one step further (then step - 1 is out of the window).
  return { code: u.lastCode, kind: 'fresh', expect: ['ok', 'wrong_code'] };
}

export function makeUsers(count: number): BenchUser[] {
  // 80 % HOTP (each accept needs the next counter: unlimited accepts per user), 20 % TOTP.
  return Array.from({ length: count }, (_, i) => ({
    name: `user${i}@bench.contoso.com`,
    type: i % 5 === 4 ? 'totp' : 'hotp',
    secret: randomBytes(20),
    counter: -1,
    lastCode: null,
  }));
}


/** user + system CPU seconds of a process, from /proc (Linux); null elsewhere. */
export function cpuSeconds(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
    return ticks / CLOCK_TICKS;
  } catch {
    return null;
  }
}
/** The machine's CPU seconds, busy and in all (every core), from /proc/stat; null where there is none. */
export function machineCpu(): { busy: number; total: number } | null {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = f.reduce((a, b) => a + b, 0);
    const idle = f[3]! + (f[4] ?? 0); // idle, iowait
    return { busy: (total - idle) / CLOCK_TICKS, total: total / CLOCK_TICKS };
  } catch {
    return null;
  }
}

/**
 * CPU seconds of every process with this command name (e.g. PostgreSQL's server processes); with
 * `port`, only the server started with `-p port` and its children (its backends): other PostgreSQL
 * servers on a shared machine (other work's tests) are not counted.
 */
export function cpuSecondsOf(command: string, port?: number): number | null {
  try {
    const stats = new Map<number, string[]>();
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        if (stat.includes(`(${command})`)) stats.set(Number(pid), stat.split(') ')[1]!.split(' '));
      } catch {
        // gone meanwhile
      }
    }
    let server: number | undefined;
    if (port !== undefined) {
      for (const pid of stats.keys()) {
        try {
          if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`\0-p\0${port}\0`)) server = pid;
        } catch {
          // gone meanwhile
        }
      }
      if (server === undefined) return null;
    }
    let ticks = 0;
    // After the command: state, ppid, ..., utime (12th), stime (13th), then the same of the children
    // it has reaped: the server's own include its backends that have ended (a pool's idle connection
    // closed), which would otherwise drop out of the sum between two readings.
    for (const [pid, fields] of stats) {
      if (server !== undefined && pid !== server && Number(fields[1]) !== server) continue;
      ticks += Number(fields[11]) + Number(fields[12]) + (pid === server ? Number(fields[13]) + Number(fields[14]) : 0);
    }
    return ticks / CLOCK_TICKS;
  } catch {
    return null;
  }
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();


/** Starts a server child; resolves with the port it prints ("listening on http://host:PORT", and " and radius udp/PORT" when it has one). */
export function startChild(cmd: string[], env: Record<string, string>): Promise<{ child: ChildProcess; port: number; radiusPort?: number }> {
  // BENCH_CPU_PROF=DIR: each server writes a V8 CPU profile there when it stops (node --cpu-prof).
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...prof, ...cmd], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on https?:\/\/[^:]+:(\d+)( and radius udp\/(\d+))?/.exec(out);
      if (m && out.includes('\n')) resolve({ child, port: Number(m[1]), ...(m[3] ? { radiusPort: Number(m[3]) } : {}) });
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code} before listening`)));
  });
}

export async function stopChild(child: ChildProcess): Promise<void> {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}


export const pct = (sorted: Float64Array, p: number): number => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]! : NaN);


export function benchSeed(serial: string, u: BenchUser): OathSeed {
  const secret = new Secret(u.secret);
  return {
    serial,
    type: u.type,
    algorithm: 'sha1',
    digits: 6,
    period: u.type === 'totp' ? 30 : null,
    counter: u.type === 'hotp' ? 0n : null,
    secret,
    fingerprint: secret.fingerprint(),
    source: 'bench',
  };
}

