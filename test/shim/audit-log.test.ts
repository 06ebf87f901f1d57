import { readFileSync, statSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/shim/audit-log.js';
import { tempDir } from './helpers.js';

let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(() => tmp?.cleanup());

describe('audit log', () => {
  it('writes one valid JSON line per event, whatever the request put in the user name, file 0600', async () => {
    tmp = tempDir();
    const path = tmp.path('a.audit.jsonl');
    const log = await AuditLog.open(path, () => undefined, () => Date.UTC(2026, 0, 1, 8));
    const users = ['ivan@contoso.com', 'a"b\\c', 'line\nbreak\r\u2028', 'ünïcode@contoso.com', 'x'.repeat(5000)];
    for (const user of users) log.write({ event: 'verify', user, client: '10.0.0.7', result: 'reject', reason: 'wrong_code', serial: null });
    log.write({ event: 'stop' });
    await log.close();
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(users.length + 1);
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    parsed.slice(0, 4).forEach((p, i) => expect(p).toEqual({ time: '2026-01-01T08:00:00.000Z', event: 'verify', user: users[i], client: '10.0.0.7', result: 'reject', reason: 'wrong_code', serial: null }));
    expect(parsed[4]!.user).toBe(`${'x'.repeat(256)}…`);
    expect(parsed[5]).toEqual({ time: '2026-01-01T08:00:00.000Z', event: 'stop' });
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('appends to an existing log and reports a failed write once, without throwing', async () => {
    tmp = tempDir();
    const path = tmp.path('b.audit.jsonl');
    for (const n of [1, 2]) {
      const log = await AuditLog.open(path, () => undefined);
      log.write({ event: 'start', detail: `run ${n}` });
      await log.close();
    }
    expect(readFileSync(path, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { detail: string }).detail)).toEqual(['run 1', 'run 2']);

    const notices: string[] = [];
    const full = await AuditLog.open('/dev/full', (m) => notices.push(m));
    full.write({ event: 'start' });
    await new Promise((r) => setImmediate(r));
    full.write({ event: 'stop' });
    await new Promise((r) => setImmediate(r));
    await full.close();
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/audit log \/dev\/full: write failed/);
  });
});
