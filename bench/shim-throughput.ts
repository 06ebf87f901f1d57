/**
 * Verify shim throughput: verifications per second and p50/p99 latency over loopback HTTP with many
 * concurrent keep-alive clients, beside a bare node:http JSON endpoint measured in the same run.
 *
 *   npm run build && node dist/bench/shim-throughput.js [--duration 5] [--clients 64] [--users 5000] [--rounds 2] [--warmup 3]
 *
 * Both servers run as child processes (the shim is the real `mfa-migrate shim serve`, with its
 * journal fsyncs and audit log); the load generator runs in this process, on raw sockets, so the
 * client's own HTTP parsing stays small and the same for both. Every shim answer is checked against
 * what the generator expects (HOTP codes in counter order are accepted, wrong codes rejected).
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { connect, type Socket } from 'node:net';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { closeSync, constants, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runImportStore } from '../src/shim/shim-operations.js';
import { args, benchSeed, cpuSeconds, cpuSecondsOf, machineCpu, makeUsers, nextCode, num, pct, startChild, stopChild, type BenchUser } from './shim-bench-kit.js';

// ---------------------------------------------------------------- workload
/** The next request for a user (shim-bench-kit's nextCode, as a /v1/verify body), or null. */
function nextRequest(u: BenchUser): BenchRequest | null {
  const next = nextCode(u);
  return next && { body: JSON.stringify({ user: u.name, code: next.code }), expect: next.expect, about: about(u, next.kind) };
}

interface BenchRequest {
  body: string;
  expect: string[];
  /** For the report of an unexpected answer: the user, what was sent, and when in the TOTP step. */
  about?: () => string;
}
const about = (u: BenchUser, kind: string) => {
  const at = Date.now();
  const counter = u.counter;
  return () => `${u.name} (${u.type}) ${kind}, counter after ${counter}, ${((at % 30_000) / 1000).toFixed(1)} s into the step`;
};

// ---------------------------------------------------------------- load generator (raw sockets)
interface RunResult {
  requests: number;
  seconds: number;
  /** Server CPU seconds (user + system) spent in the measured window, when /proc tells. */
  cpuSeconds: number | null;
  latenciesMs: Float64Array;
  reasons: Map<string, number>;
  unexpected: number;
  surprises: Map<string, number>;
  errors: number;
}

/**
 * Drives `clients` keep-alive connections. Closed loop (rate undefined): each connection sends its
 * next request as soon as the answer arrives, so throughput is the server's capacity and latency is
 * mostly queueing (clients / throughput). Open loop (rate given): requests are due at a fixed rate and
 * latency counts from when a request was due (no coordinated omission), showing the service time.
 */
/**
 * Opens the keep-alive connections first and starts the clock once all are up: the clients of a
 * verification service hold their connections open, so connection set-up is not verification latency.
 */
async function runLoad(
  port: number,
  clients: number,
  seconds: number,
  users: BenchUser[] | null,
  serverPid: number,
  rate?: number,
  warmupMs = 0,
): Promise<RunResult> {
  const sockets = await Promise.all(
    Array.from(
      { length: clients },
      () =>
        new Promise<Socket>((resolve, reject) => {
          const socket = connect(port, '127.0.0.1');
          socket.setNoDelay(true);
          socket.once('connect', () => {
            socket.off('error', reject);
            resolve(socket);
          });
          socket.once('error', reject);
        }),
    ),
  );
  const lat: number[] = [];
  const reasons = new Map<string, number>();
  let unexpected = 0;
  /** What was expected and what came instead, counted. */
  const surprises = new Map<string, number>();
  let errors = 0;
  let measured = 0;
  const start = performance.now();
  const measureFrom = start + warmupMs;
  const end = measureFrom + seconds * 1000;
  const dummy = { body: JSON.stringify({ user: 'user0@bench.contoso.com', code: '123456' }), expect: ['wrong_code'] };

  interface Conn {
    busy: boolean;
    send: (dueAt: number) => void;
    finish: () => void;
  }
  const idle: Conn[] = [];
  const backlog: number[] = [];
  let finished = 0;
  let resolveAll!: () => void;
  const all = new Promise<void>((r) => (resolveAll = r));

  const open = (index: number): void => {
    const mine = users ? users.filter((_, i) => i % clients === index) : [];
    let next = 0;
    const socket = sockets[index]!;
    let buf: Buffer = Buffer.alloc(0);
    let dueAt = 0;
    let expected: string[] = [];
    let about: (() => string) | undefined;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      socket.end();
      if (++finished === clients) resolveAll();
    };
    const conn: Conn = {
      busy: false,
      finish,
      send: (due: number) => {
        let req: BenchRequest | null = dummy;
        if (users) {
          req = null;
          for (let tries = 0; req === null && tries < mine.length; tries++) req = nextRequest(mine[next++ % mine.length]!);
          req ??= { body: JSON.stringify({ user: mine[0]!.name, code: '000000' }), expect: ['wrong_code', 'replayed', 'locked_out'] };
        }
        expected = req.expect;
        about = req.about;
        dueAt = due;
        conn.busy = true;
        const body = Buffer.from(req.body);
        socket.write(`POST /v1/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
        socket.write(body);
      },
    };
    const proceed = (): void => {
      conn.busy = false;
      if (performance.now() >= end) return finish();
      if (rate === undefined) return conn.send(performance.now());
      const due = backlog.shift();
      if (due !== undefined) conn.send(due);
      else idle.push(conn);
    };
    socket.on('error', () => {
      errors++;
      finish();
    });
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      const headerEnd = buf.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const head = buf.toString('latin1', 0, headerEnd);
      const m = /content-length:\s*(\d+)/i.exec(head);
      const length = m ? Number(m[1]) : 0;
      if (buf.length < headerEnd + 4 + length) return;
      const body = buf.toString('utf8', headerEnd + 4, headerEnd + 4 + length);
      buf = buf.subarray(headerEnd + 4 + length);
      const now = performance.now();
      if (now >= measureFrom && now < end) {
        measured++;
        lat.push(now - dueAt);
        const status = Number(head.slice(9, 12));
        let reason = `http_${status}`;
        try {
          reason = (JSON.parse(body) as { reason: string }).reason;
        } catch {
          // counted under http_<status>
        }
        reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
        if (users && (status !== 200 || !expected.includes(reason))) {
          unexpected++;
          const what = `${expected.join('|')} -> ${reason}`;
          surprises.set(what, (surprises.get(what) ?? 0) + 1);
          // The first few in full: enough to tell the bench's model from the shim's answer.
          if (unexpected <= 5 && about) console.log(`    unexpected: ${what}: ${about()}`);
        }
      }
      proceed();
    });
    proceed();
  };
  for (let i = 0; i < clients; i++) open(i);

  if (rate !== undefined) {
    // Issue what is due every millisecond; what finds no idle connection waits in the backlog.
    let issued = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      if (now >= end) {
        clearInterval(timer);
        // Idle connections are done; busy ones finish when their answer arrives.
        for (const c of idle.splice(0)) c.finish();
        return;
      }
      // Request i is due at start + i / rate: every request whose due time has come, including the one due exactly now.
      const due = Math.floor(((now - start) * rate) / 1000) + 1;
      for (; issued < due; issued++) {
        const at = start + (issued * 1000) / rate;
        const conn = idle.shift();
        if (conn) conn.send(at);
        else backlog.push(at);
      }
    }, 1);
  }

  let cpuFrom: number | null = null;
  let cpuTo: number | null = null;
  setTimeout(() => (cpuFrom = cpuSeconds(serverPid)), warmupMs);
  setTimeout(() => (cpuTo = cpuSeconds(serverPid)), end - start);
  const deadline = new Promise<void>((r) => setTimeout(r, end - start + 5_000).unref());
  return Promise.race([all, deadline]).then(() => {
    // The window's end sample, if the last answers came in before its timer fired.
    const cpuEnd = cpuTo ?? cpuSeconds(serverPid);
    return {
      requests: measured,
      seconds,
      cpuSeconds: cpuFrom !== null && cpuEnd !== null ? cpuEnd - cpuFrom : null,
      latenciesMs: Float64Array.from(lat).sort(),
      reasons,
      unexpected,
      surprises,
      errors,
    };
  });
}

/** Latency of the write the shim makes per batch, measured here: a floor for the shim's latency. */
function diskWriteLatency(dir: string): { p50: number; p99: number } {
  const file = join(dir, 'disk-probe');
  const fd = openSync(file, constants.O_RDWR | constants.O_CREAT | constants.O_DSYNC, 0o600);
  try {
    writeSync(fd, Buffer.alloc(1024 * 1024), 0, 1024 * 1024, 0);
    fsyncSync(fd);
    const chunk = Buffer.alloc(1536, 0x61);
    const samples: number[] = [];
    for (let i = 0; i < 300; i++) {
      const t = performance.now();
      writeSync(fd, chunk, 0, chunk.length, (i * chunk.length) % (1024 * 1024 - chunk.length));
      samples.push(performance.now() - t);
    }
    const sorted = Float64Array.from(samples).sort();
    return { p50: pct(sorted, 50), p99: pct(sorted, 99) };
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
}

// ---------------------------------------------------------------- orchestration
function line(label: string, r: RunResult): string {
  const rps = r.requests / r.seconds;
  const cpu = r.cpuSeconds !== null && r.requests > 0 ? `   server CPU ${((r.cpuSeconds * 1e6) / r.requests).toFixed(0).padStart(4)} µs/req` : '';
  return `  ${label.padEnd(30)} ${Math.round(rps).toLocaleString('en-US').padStart(8)} req/s   p50 ${pct(r.latenciesMs, 50).toFixed(2).padStart(6)} ms   p99 ${pct(r.latenciesMs, 99).toFixed(2).padStart(6)} ms${cpu}`;
}

function pool(rs: RunResult[]): RunResult {
  return {
    requests: rs.reduce((a, r) => a + r.requests, 0),
    seconds: rs.reduce((a, r) => a + r.seconds, 0),
    cpuSeconds: rs.every((r) => r.cpuSeconds !== null) ? rs.reduce((a, r) => a + r.cpuSeconds!, 0) : null,
    latenciesMs: Float64Array.from(rs.flatMap((r) => [...r.latenciesMs])).sort(),
    reasons: rs.reduce((m, r) => {
      for (const [k, v] of r.reasons) m.set(k, (m.get(k) ?? 0) + v);
      return m;
    }, new Map<string, number>()),
    unexpected: rs.reduce((a, r) => a + r.unexpected, 0),
    surprises: rs.reduce((m, r) => {
      for (const [k, v] of r.surprises) m.set(k, (m.get(k) ?? 0) + v);
      return m;
    }, new Map<string, number>()),
    errors: rs.reduce((a, r) => a + r.errors, 0),
  };
}

async function runBenchmark(): Promise<void> {
  const duration = num('duration', 5);
  const clients = num('clients', 64);
  const userCount = num('users', 5000);
  const rate = num('rate', 500);
  const slice = num('slice', 1);
  const warmup = num('warmup', 3);
  const here = fileURLToPath(import.meta.url);
  const cli = fileURLToPath(new URL('../bin/cli/main.js', import.meta.url)); // the bundled CLI, as installed
  const key = randomBytes(32);
  const work = mkdtempSync(join(tmpdir(), 'shim-bench-'));
  const slices = Math.max(1, Math.round(duration / slice));

  const cpu = cpus();
  console.log(`Verify shim throughput over loopback HTTP: ${clients} keep-alive clients; ${duration} s per server and mode, in ${slices} alternating slices of ${slice} s, after ${warmup} s of warm-up each`);
  console.log(`Machine: ${cpu[0]?.model ?? 'unknown CPU'} x ${cpu.length}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`Baseline: a bare node:http endpoint that parses the JSON body and answers a JSON verdict.`);
  console.log(`Shim: the real \`shim serve\` (durable journal write per batch, audit log on), ${userCount} users (80 % HOTP, 20 % TOTP); 90 % fresh codes, 5 % wrong, 5 % replays; every answer checked; rate limit off (one client address)`);
  console.log(`Closed loop: each client sends again as soon as answered (capacity; latency is mostly queueing = clients / throughput).`);
  console.log(`Open loop: ${rate.toLocaleString('en-US')} requests/s due on a fixed schedule over the same connections; latency from when each was due.`);
  console.log(`Both servers run at once as child processes; the load alternates between them slice by slice, so both see the same background load.\n`);

  const users = makeUsers(userCount);
  const store = join(work, 'bench.store');
  await runImportStore({
    store,
    key,
    input: {
      users: users.map((u) => ({ username: u.name, enabled: true })),
      tokens: users.map((u, i) => ({ seed: benchSeed(`B${i}`, u), user: u.name })),
    },
  });
  const floor = diskWriteLatency(work);
  console.log(`Durable write floor on this disk (O_DSYNC, 1.5 KB, in place, like one journal batch): p50 ${floor.p50.toFixed(2)} ms, p99 ${floor.p99.toFixed(2)} ms\n`);
  const base = await startChild([here, '--baseline-server'], {});
  // Rate limit and source budget off: all traffic comes from one address (the budget would refuse the wrong codes' source).
  const shim = await startChild([cli, 'shim', 'serve', '--store', store, '--port', '0', '--rate-limit', '0', '--source-max-fails', '0'], { MFA_SHIM_KEY: key.toString('base64') });
  const runs = { baseClosed: [] as RunResult[], baseOpen: [] as RunResult[], shimClosed: [] as RunResult[], shimOpen: [] as RunResult[] };
  const ratios: number[] = [];
  try {
    // Warm both up (JIT, connections, page cache): a shim costs 2-4 times its steady CPU a request in its
    // first three seconds of load (JIT), which a 1 s warm-up left in the first slices (session 21).
    await runLoad(base.port, clients, warmup, null, base.child.pid!);
    await runLoad(shim.port, clients, warmup, users, shim.child.pid!);
    for (let i = 0; i < slices; i++) {
      const order = i % 2 === 0 ? ['base', 'shim'] : ['shim', 'base'];
      const got: Record<string, RunResult> = {};
      for (const which of order) {
        got[which] = which === 'base' ? await runLoad(base.port, clients, slice, null, base.child.pid!) : await runLoad(shim.port, clients, slice, users, shim.child.pid!);
      }
      runs.baseClosed.push(got.base!);
      runs.shimClosed.push(got.shim!);
      ratios.push(got.shim!.requests / got.base!.requests);
    }
    for (let i = 0; i < slices; i++) {
      const order = i % 2 === 0 ? ['base', 'shim'] : ['shim', 'base'];
      for (const which of order) {
        if (which === 'base') runs.baseOpen.push(await runLoad(base.port, clients, slice, null, base.child.pid!, rate));
        else runs.shimOpen.push(await runLoad(shim.port, clients, slice, users, shim.child.pid!, rate));
      }
    }
  } finally {
    await stopChild(base.child);
    await stopChild(shim.child);
    rmSync(work, { recursive: true, force: true });
  }

  const bc = pool(runs.baseClosed);
  const sc = pool(runs.shimClosed);
  const bo = pool(runs.baseOpen);
  const so = pool(runs.shimOpen);
  const shimAll = pool([...runs.shimClosed, ...runs.shimOpen]);
  const ratio = sc.requests / sc.seconds / (bc.requests / bc.seconds);
  const sorted = [...ratios].sort((a, b) => a - b);
  const medianRatio = sorted[Math.floor(sorted.length / 2)]!;
  const mix = [...shimAll.reasons].sort((x, y) => y[1] - x[1]).map(([k, v]) => `${k} ${((100 * v) / shimAll.requests).toFixed(1)} %`).join(', ');
  console.log(line('baseline, closed loop', bc));
  console.log(line('shim, closed loop', sc));
  console.log(line('baseline, open loop', bo));
  console.log(line('shim, open loop', so));
  console.log(`  shim answers: ${mix}; unexpected ${shimAll.unexpected}; connection errors ${shimAll.errors + bc.errors + bo.errors}`);
  console.log(`  throughput shim / baseline (closed loop): ${ratio.toFixed(2)} pooled, ${medianRatio.toFixed(2)} median of slices [${sorted.map((r) => r.toFixed(2)).join(' ')}]  (target >= 0.60: ${ratio >= 0.6 ? 'met' : 'NOT met'})`);
  if (sc.cpuSeconds !== null && bc.cpuSeconds !== null) {
    console.log(`  server CPU per request (closed loop): shim ${((sc.cpuSeconds * 1e6) / sc.requests).toFixed(0)} µs, baseline ${((bc.cpuSeconds * 1e6) / bc.requests).toFixed(0)} µs: ratio ${(bc.cpuSeconds / bc.requests / (sc.cpuSeconds / sc.requests)).toFixed(2)} (throughput ratio if CPU-bound; less noisy)`);
  }
  console.log(`  shim p99: open loop at ${rate} req/s ${pct(so.latenciesMs, 99).toFixed(2)} ms (baseline ${pct(bo.latenciesMs, 99).toFixed(2)} ms); closed loop ${pct(sc.latenciesMs, 99).toFixed(2)} ms (baseline ${pct(bc.latenciesMs, 99).toFixed(2)} ms)  (target < 10 ms: ${pct(so.latenciesMs, 99) < 10 ? 'met' : 'NOT met'} open loop)`);
}

// ---------------------------------------------------------------- baseline server (child mode)
if (args.has('baseline-server')) {
  // The bare endpoint: read the body, parse JSON, check the two fields, answer a JSON verdict.
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let ok: boolean;
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { user?: unknown; code?: unknown };
        ok = typeof body.user === 'string' && typeof body.code === 'string';
      } catch {
        ok = false;
      }
      const out = Buffer.from(JSON.stringify(ok ? { result: 'reject', reason: 'wrong_code' } : { result: 'reject', reason: 'malformed' }));
      res.writeHead(ok ? 200 : 400, { 'content-type': 'application/json', 'content-length': String(out.length) });
      res.end(out);
    });
  });
  server.keepAliveTimeout = 5_000;
  server.listen(0, '127.0.0.1', () => {
    const addr = server.address() as { port: number };
    process.stdout.write(`listening on http://127.0.0.1:${addr.port}\n`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
} else if (args.has('postgres')) {
  await runPostgresBenchmark();
} else {
  await runBenchmark();
}

/**
 * `--postgres`: the shim with its state in PostgreSQL beside the shim with the local journal, same
 * run, alternating slices; then two nodes on the one database against one node. PostgreSQL is the
 * distribution's, started here (test/shim/postgres-server.ts), with its default durability
 * (fsync on, synchronous commit).
 *
 * `--postgres --against DIST` (another build's dist folder, e.g. the unchanged code's in a second
 * worktree): in place of the local journal, that build's shim on PostgreSQL too (its own database on
 * the same server, its store imported by its own code), so both builds are measured in the same
 * alternating slices on a busy machine: "local journal" in the report is then the other build.
 * Without the two-node slices: the second node would change users the first one caches, which the
 * other build's node is spared.
 */
async function runPostgresBenchmark(): Promise<void> {
  const { startPostgres, unavailable } = await import('../test/shim/postgres-server.js');
  if (unavailable) throw new Error(`cannot run: ${unavailable}`);
  const duration = num('duration', 5);
  const clients = num('clients', 64);
  const userCount = num('users', 5000);
  const rate = num('rate', 500);
  const slice = num('slice', 1);
  const slices = Math.max(1, Math.round(duration / slice));
  const warmup = num('warmup', 3);
  const against = args.get('against');
  const cli = fileURLToPath(new URL('../bin/cli/main.js', import.meta.url));
  const key = randomBytes(32);
  const work = mkdtempSync(join(tmpdir(), 'shim-pg-bench-'));
  const cpu = cpus();
  console.log(`Verify shim with its state in PostgreSQL vs the local journal, over loopback HTTP: ${clients} keep-alive clients; ${duration} s per mode, ${slices} alternating slices of ${slice} s, after ${warmup} s of warm-up per server`);
  console.log(`Machine: ${cpu[0]?.model ?? 'unknown CPU'} x ${cpu.length}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const pg = await startPostgres();
  const env = { MFA_SHIM_KEY: key.toString('base64'), ...pg.env };
  const savedPassfile = process.env.PGPASSFILE;
  process.env.PGPASSFILE = pg.env.PGPASSFILE;
  const children: ChildProcess[] = [];
  try {
    const { parseStateUrl } = await import('../src/shim/postgres/state-url.js');
    const state = parseStateUrl(pg.url);
    const localUsers = makeUsers(userCount);
    const pgUsers = makeUsers(userCount);
    const localStore = join(work, 'local.store');
    const pgStore = join(work, 'pg.store');
    const input = (us: BenchUser[]) => ({ users: us.map((u) => ({ username: u.name, enabled: true })), tokens: us.map((u, i) => ({ seed: benchSeed(`B${i}`, u), user: u.name })) });
    let otherUrl: string | undefined;
    if (against === undefined) await runImportStore({ store: localStore, key, input: input(localUsers) });
    else {
      pg.sql('CREATE DATABASE mfa_shim_against');
      otherUrl = pg.url.replace(/\/mfa_shim$/, '/mfa_shim_against');
      const other = (await import(pathToFileURL(resolve(against, 'src/shim/shim-operations.js')).href)) as { runImportStore: typeof runImportStore };
      const otherState = (await import(pathToFileURL(resolve(against, 'src/shim/postgres/state-url.js')).href)) as { parseStateUrl: typeof parseStateUrl };
      await other.runImportStore({ store: localStore, key, input: input(localUsers), state: otherState.parseStateUrl(otherUrl) });
      console.log(`  "local journal" below: the build in ${against}, its state in PostgreSQL too (database mfa_shim_against)`);
    }
    await runImportStore({ store: pgStore, key, input: input(pgUsers), state });
    const { copyFileSync } = await import('node:fs');
    copyFileSync(pgStore, join(work, 'pg-b.store'));
    const flags = ['--port', '0', '--rate-limit', '0', '--source-max-fails', '0'];
    const local = await startChild(
      otherUrl === undefined ? [cli, 'shim', 'serve', '--store', localStore, ...flags] : [resolve(against!, 'bin/cli/main.js'), 'shim', 'serve', '--store', localStore, '--state', otherUrl, ...flags],
      env,
    );
    const nodeA = await startChild([cli, 'shim', 'serve', '--store', pgStore, '--state', pg.url, ...flags], env);
    const nodeB = await startChild([cli, 'shim', 'serve', '--store', join(work, 'pg-b.store'), '--state', pg.url, ...flags], env);
    children.push(local.child, nodeA.child, nodeB.child);
    const half = Math.floor(pgUsers.length / 2);
    const [usersA, usersB] = [pgUsers.slice(0, half), pgUsers.slice(half)];
    const runs = { local: [] as RunResult[], pg: [] as RunResult[], two: [] as RunResult[], localOpen: [] as RunResult[], pgOpen: [] as RunResult[] };
    // Every server warmed up as long (JIT, connections, PostgreSQL's plans and caches), the second node too.
    await runLoad(local.port, clients, warmup, localUsers, local.child.pid!);
    await runLoad(nodeA.port, clients, warmup, pgUsers, nodeA.child.pid!);
    if (against === undefined) await runLoad(nodeB.port, clients, warmup, usersB, nodeB.child.pid!);
    // Where the machine's CPU went in each closed-loop mode: all cores busy, and PostgreSQL's share.
    const usage = { local: { busy: 0, total: 0, pg: 0 }, pg: { busy: 0, total: 0, pg: 0 }, two: { busy: 0, total: 0, pg: 0 } };
    // This bench's PostgreSQL only (its port): other servers on a shared machine are not its cost.
    const pgPort = Number(new URL(pg.url).port);
    for (let i = 0; i < slices; i++) {
      const modes = against === undefined ? (['local', 'pg', 'two'] as const) : (['local', 'pg'] as const);
      for (const which of i % 2 === 0 ? modes : [...modes].reverse()) {
        const [m0, p0] = [machineCpu(), cpuSecondsOf('postgres', pgPort)];
        if (which === 'local') runs.local.push(await runLoad(local.port, clients, slice, localUsers, local.child.pid!));
        else if (which === 'pg') runs.pg.push(await runLoad(nodeA.port, clients, slice, pgUsers, nodeA.child.pid!));
        else {
          // Two nodes, each with half the clients and half the users (a load balancer in front).
          const [a, b] = await Promise.all([runLoad(nodeA.port, clients / 2, slice, usersA, nodeA.child.pid!), runLoad(nodeB.port, clients / 2, slice, usersB, nodeB.child.pid!)]);
          runs.two.push({ ...pool([a, b]), seconds: slice });
        }
        const [m1, p1] = [machineCpu(), cpuSecondsOf('postgres', pgPort)];
        if (m0 && m1) {
          usage[which].busy += m1.busy - m0.busy;
          usage[which].total += m1.total - m0.total;
        }
        if (p0 !== null && p1 !== null) usage[which].pg += p1 - p0;
      }
    }
    for (let i = 0; i < slices; i++) {
      for (const which of i % 2 === 0 ? ['local', 'pg'] : ['pg', 'local']) {
        if (which === 'local') runs.localOpen.push(await runLoad(local.port, clients, slice, localUsers, local.child.pid!, rate));
        else runs.pgOpen.push(await runLoad(nodeA.port, clients, slice, pgUsers, nodeA.child.pid!, rate));
      }
    }
    const [lc, pc, tc, lo, po] = [pool(runs.local), pool(runs.pg), pool(runs.two), pool(runs.localOpen), pool(runs.pgOpen)];
    console.log(line('local journal, closed loop', lc));
    console.log(line('PostgreSQL, closed loop', pc));
    if (tc.requests > 0) console.log(line('PostgreSQL 2 nodes, closed', tc));
    console.log(line('local journal, open loop', lo));
    console.log(line('PostgreSQL, open loop', po));
    const cores = cpus().length;
    for (const [label, which, r] of [['local journal', 'local', lc], ['PostgreSQL', 'pg', pc], ['PostgreSQL 2 nodes', 'two', tc]] as const) {
      const u = usage[which];
      if (u.total > 0 && r.requests > 0) {
        console.log(`  machine, ${label.padEnd(20)} ${((100 * u.busy) / u.total).toFixed(0).padStart(3)} % of ${cores} cores busy   PostgreSQL server CPU ${((u.pg * 1e6) / r.requests).toFixed(0).padStart(4)} µs/req`);
      }
    }
    const all = pool([...runs.pg, ...runs.two, ...runs.pgOpen]);
    const mix = [...all.reasons].sort((x, y) => y[1] - x[1]).map(([k, v]) => `${k} ${((100 * v) / all.requests).toFixed(1)} %`).join(', ');
    const localAll = pool([...runs.local, ...runs.localOpen]);
    console.log(`  PostgreSQL answers: ${mix}; unexpected: local journal ${localAll.unexpected}, PostgreSQL ${pool([...runs.pg, ...runs.pgOpen]).unexpected}, two nodes ${tc.unexpected}; connection errors ${all.errors}`);
    for (const [what, n] of pool([...runs.local, ...runs.localOpen, ...runs.pg, ...runs.two, ...runs.pgOpen]).surprises) console.log(`    unexpected: expected ${what}: ${n}`);
    const ratio = pc.requests / pc.seconds / (lc.requests / lc.seconds);
    console.log(`  throughput PostgreSQL / local journal (closed loop): ${ratio.toFixed(2)}  (target >= 0.50: ${ratio >= 0.5 ? 'met' : 'NOT met'})`);
    console.log(`  PostgreSQL p99 open loop at ${rate} req/s: ${pct(po.latenciesMs, 99).toFixed(2)} ms (local journal ${pct(lo.latenciesMs, 99).toFixed(2)} ms)  (target < 20 ms: ${pct(po.latenciesMs, 99) < 20 ? 'met' : 'NOT met'})`);
    const scale = tc.requests / tc.seconds / (pc.requests / pc.seconds);
    if (tc.requests > 0) console.log(`  two nodes / one node on one database (closed loop): ${scale.toFixed(2)}  (target > 1: ${scale > 1 ? 'met' : 'NOT met'})`);
  } finally {
    for (const c of children) await stopChild(c).catch(() => undefined);
    if (savedPassfile === undefined) delete process.env.PGPASSFILE;
    else process.env.PGPASSFILE = savedPassfile;
    await pg.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
