import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { planVia, spawnCli } from '../helpers/e2e.js';
import { CONTOSO, tempDir } from '../helpers/migration.js';
import { runMain } from '../helpers/run-main.js';

/** Found by a black-box test: a second Ctrl-C said "resume reads back what was in flight", with no run id, for a rollback (which resume cannot finish). */
describe('a rollback interrupted twice', () => {
  let emu: RunningEmulator;
  let tmp: ReturnType<typeof tempDir>;
  let proxy: Server;
  let graphUrl: string;
  /** While set, the proxy holds the answer to every write this long: the rollback's batch is still in flight at the second signal. */
  let holdMs = 0;

  beforeAll(async () => {
    tmp = tempDir('sigint-twice');
    emu = await startEmulator({ port: 0, throttle: 'off' });
    // A proxy in front of the emulator (the run's Graph root is the proxy's), slow only when asked.
    proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void (async () => {
          const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
          const answer = await fetch(`${emu.url}${req.url}`, { method: req.method!, headers: req.headers as Record<string, string>, ...(body && req.method !== 'GET' ? { body } : {}) });
          const text = Buffer.from(await answer.arrayBuffer());
          // Writes only (a $batch holding one, or a write itself): the rollback's reads before them go at once.
          const writes = req.method !== 'GET' && (!req.url!.endsWith('/$batch') || /"method":"(?:POST|PATCH|DELETE|PUT)"/.test(body?.toString() ?? ''));
          if (holdMs > 0 && writes) await new Promise((r) => setTimeout(r, holdMs));
          res.writeHead(answer.status, Object.fromEntries([...answer.headers].filter(([k]) => !['content-length', 'content-encoding', 'transfer-encoding'].includes(k))));
          res.end(text);
        })();
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    graphUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  }, 60_000);

  afterAll(async () => {
    proxy?.closeAllConnections();
    await new Promise((r) => proxy?.close(r));
    await emu?.stop();
    tmp?.cleanup();
  });

  it('exits at once naming the command that finishes it: the rollback of its own run id, with its state folder', async () => {
    // Two users of the sample: a short run to undo.
    const source = join(tmp.dir, 'export');
    mkdirSync(source);
    writeFileSync(join(source, 'users.csv'), readFileSync(join(CONTOSO, 'users.csv'), 'utf8').split('\n').slice(0, 3).join('\n') + '\n');
    const planFile = join(tmp.dir, 'two.plan');
    // Planned, applied and finished in process: only the run signalled is a process of its own.
    await planVia(runMain, graphUrl, planFile, source);
    const stateDir = join(tmp.dir, 'state');
    const applied = await runMain(['apply', planFile, '--state-dir', stateDir]);
    expect(applied.stdout).toMatch(/Run \S+: completed/);
    const applyId = /Run (\S+): /.exec(applied.stdout)![1]!;
    holdMs = 3000;
    const { child, exit } = spawnCli(['rollback', applyId, '--state-dir', stateDir, '--concurrency', '1']);
    const runsDir = join(stateDir, 'runs');
    const rollbackId = () => readdirSync(runsDir).find((id) => id !== applyId && !id.startsWith('.') && existsSync(join(runsDir, id, 'journal.jsonl')) && readFileSync(join(runsDir, id, 'journal.jsonl'), 'utf8').includes('"state":"started"'));
    for (let i = 0; i < 400 && !rollbackId(); i++) await new Promise((r) => setTimeout(r, 20));
    const id = rollbackId();
    expect(id).toBeDefined();
    child.kill('SIGINT');
    // The first is taken (said on stderr) before the second is sent: two signals at once may arrive as one.
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGINT');
    const r = await exit;
    holdMs = 0;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain(`SIGINT again: exiting now; finish the run with mfa-migrate rollback ${id} --state-dir ${stateDir}, which reads back what was in flight.`);
    const finished = await runMain(['rollback', id!, '--state-dir', stateDir]);
    expect(finished.code, finished.stderr).toBe(0);
  }, 60_000);
});
