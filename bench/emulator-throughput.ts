/**
 * Throughput of the Graph emulator with throttling off, beside a bare node:http JSON endpoint measured the
 * same way in the same run (the ceiling of this machine and client). Each server runs in its own worker
 * thread; the client keeps CONCURRENCY requests in flight over loopback keep-alive connections.
 *
 *   npm run build && node dist/bench/emulator-throughput.js [--seconds 4] [--concurrency 50]
 *
 * Target: at least 5,000 simple requests/s (GET /v1.0/users/{upn}) on a 2-core machine.
 */
import { createServer } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../src/emulator/index.js';

type ServerKind = 'bare' | 'emulator';

const TARGET = 5000;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
}

async function serve(kind: ServerKind): Promise<void> {
  // The client asks for the server thread's busy time around the measured period.
  parentPort!.on('message', (m: string) => {
    if (m === 'elu') parentPort!.postMessage({ elu: performance.eventLoopUtilization() });
  });
  if (kind === 'emulator') {
    const emu = await startEmulator({ throttle: 'off', requestLogLimit: 1000 });
    parentPort!.postMessage({ url: emu.url });
    return;
  }
  const body = JSON.stringify({
    '@odata.context': 'http://127.0.0.1/v1.0/$metadata#users/$entity',
    id: 'a1f1d87d-05e0-555e-bdb8-de674260eb27',
    userPrincipalName: 'alice@contoso.com',
    displayName: 'Alice Anders',
  });
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.keepAliveTimeout = 10_000;
  server.listen(0, '127.0.0.1', () => parentPort!.postMessage({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
}

interface Result {
  /** Milliseconds the server's thread was busy during the measured period. */
  serverBusyMs: number;
  requests: number;
  errors: number;
  seconds: number;
  p50: number;
  p99: number;
}

/**
 * A lean HTTP/1.1 keep-alive client on raw sockets: node:http's client costs more CPU per request than the
 * servers under test, and on two cores it would otherwise be what is measured.
 */
class Connection {
  readonly #socket: Socket;
  #buffer: Buffer = Buffer.alloc(0);
  #pending: ((status: number) => void) | undefined;
  #failed: ((err: Error) => void) | undefined;

  constructor(port: number) {
    this.#socket = connect({ host: '127.0.0.1', port, noDelay: true });
    this.#socket.on('data', (chunk: Buffer) => {
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
      this.#parse();
    });
    this.#socket.on('error', (err) => this.#failed?.(err));
  }

  #parse(): void {
    const end = this.#buffer.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = this.#buffer.subarray(0, end).toString('latin1');
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!length) return this.#failed?.(new Error('response without Content-Length'));
    const total = end + 4 + Number(length[1]);
    if (this.#buffer.length < total) return;
    this.#buffer = this.#buffer.subarray(total);
    const done = this.#pending;
    this.#pending = undefined;
    done?.(Number(head.slice(9, 12)));
  }

  get(request: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#pending = resolve;
      this.#failed = reject;
      this.#socket.write(request);
    });
  }

  close(): void {
    this.#socket.destroy();
  }
}

type EventLoopUtilization = ReturnType<typeof performance.eventLoopUtilization>;

function serverElu(worker: Worker): Promise<EventLoopUtilization> {
  return new Promise((resolve) => {
    const onMessage = (m: { elu?: EventLoopUtilization }) => {
      if (!m.elu) return;
      worker.off('message', onMessage);
      resolve(m.elu);
    };
    worker.on('message', onMessage);
    worker.postMessage('elu');
  });
}

/** Runs `concurrency` connections of sequential GETs for `seconds` after a one-second warm-up. */
async function load(worker: Worker, url: string, path: string, seconds: number, concurrency: number): Promise<Result> {
  const { port, host } = new URL(url);
  const request = `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer bench\r\nConnection: keep-alive\r\n\r\n`;
  const connections = Array.from({ length: concurrency }, () => new Connection(Number(port)));
  const run = async (ms: number, latencies: number[] | undefined, counts: { ok: number; bad: number }) => {
    const until = performance.now() + ms;
    await Promise.all(
      connections.map(async (c) => {
        while (performance.now() < until) {
          const t = performance.now();
          const status = await c.get(request);
          if (!latencies) continue;
          latencies.push(performance.now() - t);
          if (status === 200) counts.ok++;
          else counts.bad++;
        }
      }),
    );
  };
  await run(1000, undefined, { ok: 0, bad: 0 });
  const latencies: number[] = [];
  const counts = { ok: 0, bad: 0 };
  const eluBefore = await serverElu(worker);
  const started = performance.now();
  await run(seconds * 1000, latencies, counts);
  const elapsed = (performance.now() - started) / 1000;
  const eluAfter = await serverElu(worker);
  for (const c of connections) c.close();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
  const serverBusyMs = eluAfter.active - eluBefore.active;
  return { serverBusyMs, requests: counts.ok, errors: counts.bad, seconds: elapsed, p50: pct(0.5), p99: pct(0.99) };
}

function startWorker(kind: ServerKind): Promise<{ worker: Worker; url: string }> {
  const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { kind } });
  return new Promise((resolve, reject) => {
    worker.once('message', (m: { url: string }) => resolve({ worker, url: m.url }));
    worker.once('error', reject);
  });
}

async function main(): Promise<void> {
  const seconds = arg('seconds', 4);
  const concurrency = arg('concurrency', 50);
  const rows: string[] = [];
  let emulatorRate = 0;
  for (const [kind, path, label] of [
    ['bare', '/v1.0/users/alice@contoso.com', 'bare node:http JSON endpoint (baseline)'],
    ['emulator', '/v1.0/users/alice@contoso.com', 'emulator GET /v1.0/users/{upn}'],
    ['emulator', '/v1.0/users/alice@contoso.com/authentication/phoneMethods', 'emulator GET .../authentication/phoneMethods'],
  ] as const) {
    const { worker, url } = await startWorker(kind);
    const r = await load(worker, url, path, seconds, concurrency);
    await worker.terminate();
    const rate = r.requests / r.seconds;
    if (kind === 'emulator' && path === '/v1.0/users/alice@contoso.com') emulatorRate = rate;
    const busyUs = (r.serverBusyMs * 1000) / Math.max(1, r.requests + r.errors);
    rows.push(
      `| ${label} | ${Math.round(rate).toLocaleString('en-US')} | ${busyUs.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.errors} |`,
    );
    process.stderr.write(`${label}: ${Math.round(rate)} req/s\n`);
  }
  process.stdout.write(
    [
      `Graph emulator throughput, throttling off, ${concurrency} requests in flight over loopback keep-alive, ${seconds} s per row (after 1 s warm-up), Node ${process.version}:`,
      '',
      '| server | requests/s | server busy µs/request | p50 ms | p99 ms | non-200 |',
      '|---|---:|---:|---:|---:|---:|',
      ...rows,
      '',
      `Target ${TARGET.toLocaleString('en-US')} requests/s: ${emulatorRate >= TARGET ? 'met' : 'NOT met'} (${Math.round(emulatorRate).toLocaleString('en-US')}).`,
      '"Server busy" is the server thread\'s event-loop active time divided by the requests served: the CPU the',
      'server spends per request, which other load on the machine disturbs less than the rate does.',
      '',
    ].join('\n'),
  );
}

if (isMainThread) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
} else {
  void serve((workerData as { kind: ServerKind }).kind);
}
