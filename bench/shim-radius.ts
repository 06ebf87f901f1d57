/**
 * The shim's RADIUS front end: Access-Requests (PAP, with Message-Authenticator) per second and
 * p50/p99 latency, beside a bare UDP responder that parses each packet and answers it (with the
 * same Message-Authenticator and Response Authenticator an answer needs), in the same run.
 *
 *   npm run build && node dist/bench/shim-radius.js [--duration 5] [--clients 64] [--users 5000] [--rate 500] [--slice 1] [--warmup 3]
 *
 * Both run as child processes (the shim is the real `mfa-migrate shim serve --radius-port`, with its
 * journal write before every answer and the audit log on); the load generator runs here: `clients`
 * UDP sockets, each with one request outstanding (closed loop), or requests due at a fixed rate
 * (open loop, latency from when each was due). Workload as bench/shim-throughput.ts: 90 % fresh
 * codes, 5 % wrong, 5 % replays, every answer checked against what it must be; the codes are
 * computed before each timed slice (ClientRequests), so the load generator does the same work a
 * request for either server.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ATTR, CODE, decodePacket, encodeAccessRequest, encodeResponse, hideUserPassword } from '../src/shim/radius/packet.js';
import { runImportStore } from '../src/shim/shim-operations.js';
import { args, benchSeed, cpuSeconds, makeUsers, nextCode, num, pct, startChild, stopChild, type BenchUser } from './shim-bench-kit.js';

const SECRET = Buffer.from('bench-radius-shared-secret-0123456789');

interface RadiusRun {
  requests: number;
  seconds: number;
  cpuSeconds: number | null;
  latenciesMs: Float64Array;
  answers: Map<string, number>;
  unexpected: number;
  lost: number;
}

/** A request to send: the user, the PAP code, and whether an accept must follow (true), may (null) or must not (false). */
interface Prepared {
  user: string;
  code: string;
  accept: boolean | null;
}

/**
 * One client socket's requests, in the order it sends them. They are computed ahead, before each
 * timed slice (HOTP codes, and the look-ahead checks of the wrong codes and replays, cost the load
 * generator some 5 µs a request, which the bare responder's slices never paid, on the two cores it
 * shares with the servers); what a slice does not send waits for the next, so every user's codes
 * still go out in the order they were made and every answer is checked against what it must be.
 * A client that runs out within a slice computes the rest as it goes (counted, and printed).
 */
class ClientRequests {
  readonly #mine: BenchUser[];
  #next = 0;
  #ahead: Prepared[] = [];
  #head = 0;
  /** Computed inside a timed slice (the queue ran dry). */
  static live = 0;

  constructor(users: BenchUser[], index: number, clients: number) {
    this.#mine = users.filter((_, i) => i % clients === index);
  }

  #compute(): Prepared {
    for (let tries = 0; tries < this.#mine.length; tries++) {
      const u = this.#mine[this.#next++ % this.#mine.length]!;
      const next = nextCode(u);
      if (next) return { user: u.name, code: next.code, accept: !next.expect.includes('ok') ? false : next.expect.length === 1 ? true : null };
    }
    return { user: this.#mine[0]?.name ?? 'user0@bench.contoso.com', code: '000000', accept: null };
  }

  /** Makes `count` requests ready (outside the timed slice). */
  fill(count: number): void {
    if (this.#head > 0) {
      this.#ahead = this.#ahead.slice(this.#head);
      this.#head = 0;
    }
    while (this.#ahead.length < count) this.#ahead.push(this.#compute());
  }

  take(): Prepared {
    if (this.#head < this.#ahead.length) return this.#ahead[this.#head++]!;
    ClientRequests.live++;
    return this.#compute();
  }
}

/** Requests made ready per client before a slice of `seconds`: above what the shim answers (about 12,000-25,000 a second here). */
const readyFor = (seconds: number, clients: number): number => Math.ceil((40_000 * seconds) / clients);

async function runLoad(port: number, clients: number, seconds: number, requests: ClientRequests[] | null, serverPid: number, rate?: number): Promise<RadiusRun> {
  for (const r of requests ?? []) r.fill(readyFor(seconds, clients));
  const sockets: Socket[] = await Promise.all(
    Array.from({ length: clients }, () => new Promise<Socket>((resolve) => {
      const s = createSocket('udp4');
      s.bind(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const lat: number[] = [];
  const answers = new Map<string, number>();
  let unexpected = 0;
  let lost = 0;
  let measured = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  const idle: number[] = [];
  const backlog: number[] = [];
  let finished = 0;
  let resolveAll!: () => void;
  const all = new Promise<void>((r) => (resolveAll = r));
  const cpuFrom = cpuSeconds(serverPid);

  const states = sockets.map((socket, index) => {
    const mine = requests?.[index];
    let id = 0;
    let dueAt = 0;
    let expectAccept: boolean | null = null;
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      socket.close();
      if (++finished === clients) resolveAll();
    };
    const send = (due: number): void => {
      const req: Prepared = mine ? mine.take() : { user: 'user0@bench.contoso.com', code: '123456', accept: null };
      const user = req.user;
      expectAccept = req.accept;
      dueAt = due;
      id = (id + 1) & 0xff;
      const ra = randomBytes(16);
      const packet = encodeAccessRequest(id, ra, [
        { type: ATTR.userName, value: Buffer.from(user) },
        { type: ATTR.userPassword, value: hideUserPassword(Buffer.from(req.code), SECRET, ra) },
        { type: ATTR.callingStationId, value: Buffer.from(`10.${index >> 8}.${index & 0xff}.1`) },
      ], SECRET);
      socket.send(packet, port, '127.0.0.1');
      timer = setTimeout(() => {
        lost++;
        proceed();
      }, 2000);
    };
    const proceed = (): void => {
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (performance.now() >= end) return finish();
      if (rate === undefined) return send(performance.now());
      const due = backlog.shift();
      if (due !== undefined) send(due);
      else idle.push(index);
    };
    socket.on('message', (msg) => {
      const p = decodePacket(msg);
      if (p.identifier !== id || !timer) return;
      const now = performance.now();
      if (now < end) {
        measured++;
        lat.push(now - dueAt);
        const kind = p.code === CODE.accessAccept ? 'accept' : 'reject';
        answers.set(kind, (answers.get(kind) ?? 0) + 1);
        if (mine && expectAccept !== null && (p.code === CODE.accessAccept) !== expectAccept) unexpected++;
      }
      proceed();
    });
    return { send, finish, proceed };
  });
  for (const s of states) s.proceed();
  if (rate !== undefined) {
    let issued = 0;
    const tick = setInterval(() => {
      const now = performance.now();
      if (now >= end) {
        clearInterval(tick);
        for (const i of idle.splice(0)) states[i]!.finish();
        return;
      }
      const due = Math.floor(((now - start) * rate) / 1000) + 1;
      for (; issued < due; issued++) {
        const at = start + (issued * 1000) / rate;
        const i = idle.shift();
        if (i !== undefined) states[i]!.send(at);
        else backlog.push(at);
      }
    }, 1);
  }
  await Promise.race([all, new Promise((r) => setTimeout(r, seconds * 1000 + 5000).unref())]);
  const cpuTo = cpuSeconds(serverPid);
  return { requests: measured, seconds, cpuSeconds: cpuFrom !== null && cpuTo !== null ? cpuTo - cpuFrom : null, latenciesMs: Float64Array.from(lat).sort(), answers, unexpected, lost };
}

function pool(rs: RadiusRun[]): RadiusRun {
  const answers = new Map<string, number>();
  for (const r of rs) for (const [k, v] of r.answers) answers.set(k, (answers.get(k) ?? 0) + v);
  return {
    requests: rs.reduce((a, r) => a + r.requests, 0),
    seconds: rs.reduce((a, r) => a + r.seconds, 0),
    cpuSeconds: rs.every((r) => r.cpuSeconds !== null) ? rs.reduce((a, r) => a + r.cpuSeconds!, 0) : null,
    latenciesMs: Float64Array.from(rs.flatMap((r) => [...r.latenciesMs])).sort(),
    answers,
    unexpected: rs.reduce((a, r) => a + r.unexpected, 0),
    lost: rs.reduce((a, r) => a + r.lost, 0),
  };
}

const line = (label: string, r: RadiusRun): string =>
  `  ${label.padEnd(28)} ${Math.round(r.requests / r.seconds).toLocaleString('en-US').padStart(8)} req/s   p50 ${pct(r.latenciesMs, 50).toFixed(2).padStart(6)} ms   p99 ${pct(r.latenciesMs, 99).toFixed(2).padStart(6)} ms${r.cpuSeconds !== null && r.requests ? `   server CPU ${((r.cpuSeconds * 1e6) / r.requests).toFixed(0).padStart(4)} µs/req` : ''}`;

async function main(): Promise<void> {
  const duration = num('duration', 5);
  const clients = num('clients', 64);
  const userCount = num('users', 5000);
  const rate = num('rate', 500);
  const slice = num('slice', 1);
  const warmup = num('warmup', 3);
  const slices = Math.max(1, Math.round(duration / slice));
  const here = fileURLToPath(import.meta.url);
  const cli = fileURLToPath(new URL('../bin/cli/main.js', import.meta.url));
  const key = randomBytes(32);
  const work = mkdtempSync(join(tmpdir(), 'shim-radius-bench-'));
  const cpu = cpus();
  console.log(`Shim RADIUS throughput over loopback UDP: ${clients} clients, one request outstanding each; ${duration} s per server and mode, ${slices} alternating slices of ${slice} s, after ${warmup} s of warm-up each`);
  console.log(`Machine: ${cpu[0]?.model ?? 'unknown CPU'} x ${cpu.length}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log('Baseline: a bare UDP responder that parses each packet and answers it (Message-Authenticator and Response Authenticator included).');
  console.log(`Shim: the real \`shim serve --radius-port\` (Message-Authenticator checked, PAP decoded, durable journal write, audit log), ${userCount} users (80 % HOTP, 20 % TOTP); 90 % fresh codes, 5 % wrong, 5 % replays, computed before each timed slice; every answer checked\n`);
  const users = makeUsers(userCount);
  const requests = Array.from({ length: clients }, (_, i) => new ClientRequests(users, i, clients));
  const store = join(work, 'bench.store');
  await runImportStore({ store, key, input: { users: users.map((u) => ({ username: u.name, enabled: true })), tokens: users.map((u, i) => ({ seed: benchSeed(`B${i}`, u), user: u.name })) } });
  const clientsFile = join(work, 'clients');
  writeFileSync(clientsFile, `127.0.0.1 ${SECRET.toString()} bench rate-limit=0 source-max-fails=0\n`, { mode: 0o600 });
  const bare = await startChild([here, '--bare-udp'], {});
  const shim = await startChild([cli, 'shim', 'serve', '--store', store, '--port', '0', '--radius-port', '0', '--radius-clients', clientsFile, '--rate-limit', '0', '--source-max-fails', '0'], { MFA_SHIM_KEY: key.toString('base64') });
  const runs = { bare: [] as RadiusRun[], shim: [] as RadiusRun[], bareOpen: [] as RadiusRun[], shimOpen: [] as RadiusRun[] };
  try {
    // Both warmed up as long: the shim's first seconds of load cost 2-4 times its steady CPU (JIT; session 21).
    await runLoad(bare.port, clients, warmup, null, bare.child.pid!);
    await runLoad(shim.radiusPort!, clients, warmup, requests, shim.child.pid!);
    for (let i = 0; i < slices; i++) {
      for (const which of i % 2 === 0 ? ['bare', 'shim'] : ['shim', 'bare']) {
        if (which === 'bare') runs.bare.push(await runLoad(bare.port, clients, slice, null, bare.child.pid!));
        else runs.shim.push(await runLoad(shim.radiusPort!, clients, slice, requests, shim.child.pid!));
      }
    }
    for (let i = 0; i < slices; i++) {
      for (const which of i % 2 === 0 ? ['bare', 'shim'] : ['shim', 'bare']) {
        if (which === 'bare') runs.bareOpen.push(await runLoad(bare.port, clients, slice, null, bare.child.pid!, rate));
        else runs.shimOpen.push(await runLoad(shim.radiusPort!, clients, slice, requests, shim.child.pid!, rate));
      }
    }
  } finally {
    await stopChild(bare.child);
    await stopChild(shim.child);
    rmSync(work, { recursive: true, force: true });
  }
  const [b, s, bo, so] = [pool(runs.bare), pool(runs.shim), pool(runs.bareOpen), pool(runs.shimOpen)];
  console.log(line('bare responder, closed loop', b));
  console.log(line('shim RADIUS, closed loop', s));
  console.log(line('bare responder, open loop', bo));
  console.log(line('shim RADIUS, open loop', so));
  const all = pool([...runs.shim, ...runs.shimOpen]);
  console.log(`  shim answers: ${[...all.answers].map(([k, v]) => `${k} ${((100 * v) / all.requests).toFixed(1)} %`).join(', ')}; unexpected ${all.unexpected}; lost (no answer in 2 s) ${all.lost + b.lost + bo.lost}; codes computed inside the timed slices ${ClientRequests.live}`);
  const ratio = s.requests / s.seconds / (b.requests / b.seconds);
  console.log(`  throughput shim / bare responder (closed loop): ${ratio.toFixed(2)}  (target >= 0.50: ${ratio >= 0.5 ? 'met' : 'NOT met'})`);
  console.log(`  shim p99 open loop at ${rate} req/s: ${pct(so.latenciesMs, 99).toFixed(2)} ms (bare ${pct(bo.latenciesMs, 99).toFixed(2)} ms)  (target < 10 ms: ${pct(so.latenciesMs, 99) < 10 ? 'met' : 'NOT met'})`);
}

if (args.has('bare-udp')) {
  // The baseline: parse the packet, answer it.
  const socket = createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    try {
      const p = decodePacket(msg);
      socket.send(encodeResponse(CODE.accessReject, p, [{ type: ATTR.replyMessage, value: Buffer.from('Wrong code') }], SECRET), rinfo.port, rinfo.address);
    } catch {
      // dropped
    }
  });
  socket.bind(0, '127.0.0.1', () => process.stdout.write(`listening on http://127.0.0.1:${socket.address().port}\n`));
  process.on('SIGTERM', () => socket.close(() => process.exit(0)));
} else {
  await main();
}
