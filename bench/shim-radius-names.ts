/**
 * Whether the RADIUS answer's timing tells a made-up name from a real user's wrong code (docs/shim.md,
 * "Who learns which users exist"): the latency of `Wrong code or unknown user` for an unknown name
 * against a wrong code for a real user, p50 / p90 / p99, with the local journal and with PostgreSQL
 * state, on an idle server and under load.
 *
 *   npm run build && node dist/bench/shim-radius-names.js [--names 300] [--users 2000] [--load-clients 16] [--state local|postgres|both]
 *
 * The real `shim serve --radius-port` (budgets off: `source-max-fails=0 rate-limit=0`, so that only
 * the verification path is timed). The probe sends one request at a time, alternating an unknown name
 * and a real user, each name twice (its first try on the node, then again: a node's cache of the
 * state is cold, then warm), each from its own Calling-Station-Id. Under load, other clients keep the
 * server busy meanwhile with the workload of bench/shim-radius.ts (90 % fresh codes, 5 % wrong, 5 %
 * replays) on other users. PostgreSQL: the distribution's, started here (test/shim/postgres-server.ts).
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ATTR, CODE, decodePacket, encodeAccessRequest, hideUserPassword } from '../src/shim/radius/packet.js';
import { runImportStore } from '../src/shim/shim-operations.js';
import { args, benchSeed, makeUsers, nextCode, num, pct, startChild, stopChild, wrongCode, type BenchUser } from './shim-bench-kit.js';

const SECRET = Buffer.from('bench-radius-shared-secret-0123456789');

/** One Access-Request from `socket`, resolved with the answer's code and the time it took (ms). */
function ask(socket: Socket, port: number, user: string, code: string, station: string): Promise<{ code: number; ms: number }> {
  const ra = randomBytes(16);
  const id = ra[0]!;
  const packet = encodeAccessRequest(id, ra, [
    { type: ATTR.userName, value: Buffer.from(user) },
    { type: ATTR.userPassword, value: hideUserPassword(Buffer.from(code), SECRET, ra) },
    { type: ATTR.callingStationId, value: Buffer.from(station) },
  ], SECRET);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const timer = setTimeout(() => {
      socket.off('message', on);
      reject(new Error(`no answer for ${user} in 5 s`));
    }, 5000);
    const on = (msg: Buffer): void => {
      const p = decodePacket(msg);
      if (p.identifier !== id) return;
      clearTimeout(timer);
      socket.off('message', on);
      resolve({ code: p.code, ms: performance.now() - started });
    };
    socket.on('message', on);
    socket.send(packet, port, '127.0.0.1');
  });
}

const udp = (): Promise<Socket> =>
  new Promise((resolve) => {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1', () => resolve(s));
  });

/** Closed-loop background load over `users` from `clients` sockets until stop() (bench/shim-radius.ts's workload). */
async function backgroundLoad(port: number, users: BenchUser[], clients: number): Promise<{ stop: () => Promise<number> }> {
  let running = true;
  let sent = 0;
  const loops = await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const socket = await udp();
      const mine = users.filter((_, i) => i % clients === c);
      // Wrapped: an async function returning the loop's promise would wait for the loop to end.
      return { done: (async () => {
        for (let k = 0; running; k++) {
          const u = mine[k % mine.length]!;
          const next = nextCode(u);
          await ask(socket, port, u.name, next?.code ?? wrongCode(u), `10.9.${c}.1`).catch(() => undefined);
          sent++;
        }
        socket.close();
      })() };
    }),
  );
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops.map((l) => l.done));
      return sent;
    },
  };
}

interface Samples {
  unknownFirst: number[];
  unknownAgain: number[];
  wrongFirst: number[];
  wrongAgain: number[];
}

/** The probe: `names` made-up names and as many real users, alternating, each tried twice with a wrong code. */
async function probe(port: number, real: BenchUser[], names: number, tag: string): Promise<Samples> {
  const socket = await udp();
  const s: Samples = { unknownFirst: [], unknownAgain: [], wrongFirst: [], wrongAgain: [] };
  try {
    for (let i = 0; i < names; i++) {
      const u = real[i]!;
      const made = `guess-${tag}-${i}@bench.contoso.com`;
      const station = (n: number) => `192.0.${(4 * i + n) >> 8 & 0xff}.${(4 * i + n) & 0xff}`;
      for (const [again, n] of [[false, 0], [true, 1]] as const) {
        const a = await ask(socket, port, made, '000000', station(n));
        const b = await ask(socket, port, u.name, wrongCode(u), station(n + 2));
        if (a.code !== CODE.accessReject || b.code !== CODE.accessReject) throw new Error('an accept where a reject was due');
        (again ? s.unknownAgain : s.unknownFirst).push(a.ms);
        (again ? s.wrongAgain : s.wrongFirst).push(b.ms);
      }
    }
  } finally {
    socket.close();
  }
  return s;
}

const dist = (xs: number[]): string => {
  const sorted = Float64Array.from(xs).sort();
  return `${pct(sorted, 50).toFixed(2)} / ${pct(sorted, 90).toFixed(2)} / ${pct(sorted, 99).toFixed(2)}`;
};

async function measure(label: string, port: number, probeUsers: BenchUser[], loadUsers: BenchUser[], names: number, loadClients: number): Promise<void> {
  // Warm-up (connections, JIT), not counted.
  await probe(port, probeUsers.slice(names * 3), Math.min(50, names), `${label}-warm`);
  const idle = await probe(port, probeUsers, names, `${label}-idle`);
  const load = await backgroundLoad(port, loadUsers, loadClients);
  const started = performance.now();
  const busy = await probe(port, probeUsers.slice(names), names, `${label}-load`);
  const background = await load.stop();
  const rate = Math.round(background / ((performance.now() - started) / 1000));
  for (const [what, s] of [['idle', idle], [`under load (${rate.toLocaleString('en-US')} req/s beside)`, busy]] as const) {
    console.log(`| ${label} | ${what} | unknown name, first try | ${dist(s.unknownFirst)} |`);
    console.log(`| ${label} | ${what} | wrong code, first try | ${dist(s.wrongFirst)} |`);
    console.log(`| ${label} | ${what} | unknown name, again | ${dist(s.unknownAgain)} |`);
    console.log(`| ${label} | ${what} | wrong code, again | ${dist(s.wrongAgain)} |`);
  }
}

async function main(): Promise<void> {
  const names = num('names', 300);
  const userCount = Math.max(num('users', 2000), names * 4 + 200);
  const loadClients = num('load-clients', 16);
  const which = args.get('state') ?? 'both';
  const cli = fileURLToPath(new URL('../bin/cli/main.js', import.meta.url));
  const key = randomBytes(32);
  const work = mkdtempSync(join(tmpdir(), 'shim-names-bench-'));
  const cpu = cpus();
  console.log(`Unknown names against wrong codes over RADIUS: ${names} of each, each tried twice; load ${loadClients} closed-loop clients`);
  console.log(`Machine: ${cpu[0]?.model ?? 'unknown CPU'} x ${cpu.length}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log('\n| state | server | answer | p50 / p90 / p99 ms |\n|---|---|---|---:|');
  const users = makeUsers(userCount);
  // The probe's real users, and the load's (others): a probe user is never one the load moves on.
  const probeUsers = users.slice(0, names * 4);
  const loadUsers = users.slice(names * 4);
  const input = { users: users.map((u) => ({ username: u.name, enabled: true })), tokens: users.map((u, i) => ({ seed: benchSeed(`B${i}`, u), user: u.name })) };
  const clientsFile = join(work, 'clients');
  writeFileSync(clientsFile, `127.0.0.1 ${SECRET.toString()} bench rate-limit=0 source-max-fails=0\n`, { mode: 0o600 });
  const flags = ['--port', '0', '--radius-port', '0', '--radius-clients', clientsFile, '--rate-limit', '0', '--source-max-fails', '0'];
  const env = { MFA_SHIM_KEY: key.toString('base64') };
  try {
    if (which === 'local' || which === 'both') {
      const store = join(work, 'local.store');
      await runImportStore({ store, key, input });
      const shim = await startChild([cli, 'shim', 'serve', '--store', store, ...flags], env);
      try {
        await measure('local journal', shim.radiusPort!, probeUsers, loadUsers, names, loadClients);
      } finally {
        await stopChild(shim.child);
      }
    }
    if (which === 'postgres' || which === 'both') {
      const { startPostgres, unavailable } = await import('../test/shim/postgres-server.js');
      if (unavailable) throw new Error(`cannot run: ${unavailable}`);
      const pg = await startPostgres();
      const saved = process.env.PGPASSFILE;
      process.env.PGPASSFILE = pg.env.PGPASSFILE;
      try {
        const { parseStateUrl } = await import('../src/shim/postgres/state-url.js');
        const store = join(work, 'pg.store');
        await runImportStore({ store, key, input, state: parseStateUrl(pg.url) });
        copyFileSync(store, join(work, 'pg-copy.store'));
        const shim = await startChild([cli, 'shim', 'serve', '--store', store, '--state', pg.url, ...flags], { ...env, ...pg.env });
        try {
          await measure('PostgreSQL', shim.radiusPort!, probeUsers, loadUsers, names, loadClients);
        } finally {
          await stopChild(shim.child);
        }
      } finally {
        if (saved === undefined) delete process.env.PGPASSFILE;
        else process.env.PGPASSFILE = saved;
        await pg.stop();
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
