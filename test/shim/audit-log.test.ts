import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, closeSync, constants, existsSync, openSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog, type AuditEvent } from '../../src/shim/audit-log.js';
import { printableAscii } from '../../src/model/printable.js';
import { setImmutable, tempDir } from './helpers.js';

/** A full file system for the failing write: a small tmpfs (the tests run as root), or the reason it cannot be had. */
function fullTmpfs(dir: string, size = '64k'): string | undefined {
  try {
    mkdirSync(dir, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    return (err as Error).message.split('\n')[0];
  }
  fill(dir, 'filler');
  return undefined;
}

/** Fills a small file system with one file (as large as it takes). */
function fill(dir: string, name: string): void {
  try {
    writeFileSync(`${dir}/${name}`, Buffer.alloc(8 * 1024 * 1024));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  }
}

/** Runs `check` with a full tmpfs at `dir` (unmounted after), or says it is skipped and why. */
async function onFullTmpfs(dir: string, skip: (note: string) => void, check: () => Promise<void>): Promise<void> {
  const cannot = fullTmpfs(dir);
  if (cannot) return skip(`cannot mount a tmpfs: ${cannot}`);
  try {
    await check();
  } finally {
    // Lazily: a check that failed with the log still open must report its own failure, not umount's "busy".
    execFileSync('umount', ['-l', dir]);
  }
}

let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(() => tmp?.cleanup());

describe('audit log', () => {
  it('an event that comes after close() is not written, and its loss is said (an accept waiting is told it was not written)', async () => {
    tmp = tempDir();
    const path = tmp.path('closed.audit.jsonl');
    const errors: string[] = [];
    const log = await AuditLog.open(path, (m) => errors.push(m), () => Date.UTC(2026, 0, 1, 8));
    await log.close();
    const accepted = log.writeAccept({ event: 'verify', user: 'ivan@contoso.com', client: '10.0.0.7', result: 'accept', reason: 'ok', serial: 'H0' });
    log.write({ event: 'stop' });
    expect(await accepted).toBe(false);
    await new Promise((r) => setImmediate(r));
    expect(readFileSync(path, 'utf8')).toBe('');
    expect(errors.join('\n')).toMatch(/event\(s\) came after it was closed and could not be written: lost/);
  });

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
    parsed.slice(0, 4).forEach((p, i) => expect(p).toEqual({ time: '2026-01-01T08:00:00.000Z', event: 'verify', user: printableAscii(users[i]!), client: '10.0.0.7', result: 'reject', reason: 'wrong_code', serial: null }));
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

    const fullDir = tmp.path('full');
    const cannot = fullTmpfs(fullDir);
    if (cannot) {
      process.stderr.write(`audit log write-failure check skipped: cannot mount a tmpfs (${cannot})\n`);
      return;
    }
    try {
      const notices: string[] = [];
      const full = await AuditLog.open(`${fullDir}/audit.jsonl`, (m) => notices.push(m));
      full.write({ event: 'start', detail: 'x'.repeat(8192) });
      await new Promise((r) => setImmediate(r));
      // Down: the shim stops verifying (a black-box test saw accepts answered and never logged).
      expect(full.up).toBe(false);
      full.write({ event: 'verify', user: 'ivan@contoso.com', result: 'accept', reason: 'ok', serial: '20010001', detail: 'y'.repeat(8192) });
      await new Promise((r) => setImmediate(r));
      expect(notices).toHaveLength(1);
      expect(notices[0]).toMatch(/audit log .*full\/audit.jsonl: write failed: .*; lines are held back and written once it can be/);
      // Room again: what was held back is written whole and in order within a retry, and the log is up.
      rmSync(`${fullDir}/filler`);
      await new Promise((r) => setTimeout(r, 1300));
      expect(full.up).toBe(true);
      expect(notices[1]).toMatch(/full\/audit.jsonl: written again$/);
      full.write({ event: 'stop' });
      await full.close();
      const events = readFileSync(`${fullDir}/audit.jsonl`, 'utf8').trimEnd().split('\n').map((l) => (JSON.parse(l) as { event: string }).event);
      expect(events).toEqual(['start', 'verify', 'stop']);
      expect(notices).toHaveLength(2);

      // Still full when it closes: what is lost is said, not dropped silently.
      fill(fullDir, 'filler3');
      const lost: string[] = [];
      const last = await AuditLog.open(`${fullDir}/audit.jsonl`, (m) => lost.push(m));
      last.write({ event: 'stop', detail: 'w'.repeat(8192) });
      await last.close();
      expect(lost.at(-1)).toMatch(/audit log .*: \d+ byte\(s\) held back could not be written before closing: lost$/);
    } finally {
      execFileSync('umount', [fullDir]);
    }
  });

  it('writeAccept resolves once the line is in the file; a line it could not write is replaced by the refusal answered instead, kept and written later', async ({ skip }) => {
    tmp = tempDir();
    const path = tmp.path('c.audit.jsonl');
    const log = await AuditLog.open(path, () => undefined, () => Date.UTC(2026, 0, 1, 8));
    const accept = (user: string): AuditEvent => ({ event: 'verify', user, client: 'radius:vpn-1', result: 'accept', reason: 'ok', serial: 'H0' });
    expect(await log.writeAccept(accept('ivan@contoso.com'))).toBe(true);
    // Resolved: in the file already, not only queued.
    expect(readFileSync(path, 'utf8')).toContain('"user":"ivan@contoso.com","client":"radius:vpn-1","result":"accept"');
    const cannot = setImmutable(path, true);
    if (cannot) return skip(`cannot chattr +i the audit log: ${cannot}`);
    try {
      // Written in one turn with a reject: the write fails, the accept's writer is told.
      const failed = log.writeAccept(accept('grace@contoso.com'));
      log.write({ event: 'verify', user: 'zoe@contoso.com', result: 'reject', reason: 'wrong_code', serial: null });
      expect(await failed).toBe(false);
      expect(log.up).toBe(false);
      // While the log is down nothing is written: told at once.
      expect(await log.writeAccept(accept('ann@contoso.com'))).toBe(false);
    } finally {
      setImmutable(path, false);
    }
    await new Promise((r) => setTimeout(r, 1300));
    expect(log.up).toBe(true);
    await log.close();
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.user, l.result, l.reason])).toEqual([
      ['ivan@contoso.com', 'accept', 'ok'],
      ['grace@contoso.com', 'reject', 'audit_unavailable'],
      ['zoe@contoso.com', 'reject', 'wrong_code'],
      ['ann@contoso.com', 'reject', 'audit_unavailable'],
    ]);
    expect(lines[1]).toMatchObject({ serial: 'H0', detail: 'the code was accepted and is used up, but answered as unavailable: its audit line could not be written' });
  });

  it('an accept line cut by a partial write is completed later, followed by the refusal that was answered', async ({ skip }) => {
    tmp = tempDir();
    const dir = tmp.path('full');
    await onFullTmpfs(dir, skip, async () => {
      rmSync(`${dir}/filler`);
      const log = await AuditLog.open(`${dir}/audit.jsonl`, () => undefined);
      log.write({ event: 'start' });
      await new Promise((r) => setImmediate(r));
      // The file's first page has room left; the rest of the disk has none: the next write is cut.
      fill(dir, 'filler');
      const accept: AuditEvent = { event: 'verify', user: 'ivan@contoso.com', result: 'accept', reason: 'ok', serial: 'H0', detail: 'y'.repeat(8192) };
      expect(await log.writeAccept(accept)).toBe(false);
      rmSync(`${dir}/filler`);
      await new Promise((r) => setTimeout(r, 1300));
      await log.close();
      const lines = readFileSync(`${dir}/audit.jsonl`, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.map((l) => [l.event, l.result, l.reason])).toEqual([['start', undefined, undefined], ['verify', 'accept', 'ok'], ['verify', 'reject', 'audit_unavailable']]);
    });
  });

  it('shim check: an accept whose line cannot be written is not answered accept; the code stays used up', async ({ skip }) => {
    const { runCheck, runImportStore } = await import('../../src/shim/shim-operations.js');
    const { DEFAULT_RULES } = await import('../../src/shim/rules.js');
    const { RFC_SEED_SHA1, TEST_KEY, seed } = await import('./helpers.js');
    const { hotpCode } = await import('../../src/otp/hotp.js');
    tmp = tempDir();
    const store = tmp.path('k.store');
    await runImportStore({ store, key: TEST_KEY, input: { users: [{ username: 'ivan@contoso.com', enabled: true }], tokens: [{ seed: seed({ serial: 'H0', secret: RFC_SEED_SHA1, type: 'hotp' }), user: 'ivan@contoso.com' }] } });
    const dir = tmp.path('full');
    await onFullTmpfs(dir, skip, async () => {
      const check = (code: string) => runCheck({ store, key: TEST_KEY, rules: DEFAULT_RULES, user: 'ivan@contoso.com', code, auditLog: `${dir}/audit.jsonl` });
      await expect(check(hotpCode(RFC_SEED_SHA1, 'sha1', 0, 6))).rejects.toThrow(/audit log .*full\/audit\.jsonl cannot be written: the code was accepted and is used up, but is not answered as accepted/);
      rmSync(`${dir}/filler`);
      expect(await check(hotpCode(RFC_SEED_SHA1, 'sha1', 0, 6))).toMatchObject({ result: 'reject', reason: 'replayed' });
      expect(await check(hotpCode(RFC_SEED_SHA1, 'sha1', 1, 6))).toMatchObject({ result: 'accept', reason: 'ok' });
    });
  });

  it('past 1 MiB held back keeps only accepts, and a gap line after them counts what was dropped', async () => {
    tmp = tempDir();
    const dir = tmp.path('full');
    const cannot = fullTmpfs(dir, '4m');
    if (cannot) {
      process.stderr.write(`audit log cap check skipped: cannot mount a tmpfs (${cannot})\n`);
      return;
    }
    try {
      const log = await AuditLog.open(`${dir}/audit.jsonl`, () => undefined);
      for (const [prefix, accepted] of [['u', 299], ['v', 0]] as const) {
        for (let i = 0; i < 300; i++) log.write({ event: 'verify', user: `${prefix}${i}`, result: i === accepted ? 'accept' : 'reject', reason: i === accepted ? 'ok' : 'wrong_code', serial: null, detail: 'z'.repeat(4000) });
        await new Promise((r) => setImmediate(r));
      }
      expect(log.up).toBe(false);
      rmSync(`${dir}/filler`);
      await new Promise((r) => setTimeout(r, 1300));
      expect(log.up).toBe(true);
      await log.close();
      const lines = readFileSync(`${dir}/audit.jsonl`, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { event: string; user?: string; detail?: string });
      expect(lines.filter((l) => l.user === 'u299' || l.user === 'v0')).toHaveLength(2);
      const gap = lines.at(-1)!;
      expect(gap.event).toBe('audit_gap');
      expect(gap.detail).toMatch(/^\d+ event\(s\) dropped while the log could not be written$/);
      expect(lines.filter((l) => l.event === 'verify').length + Number(gap.detail!.split(' ')[0])).toBe(600);
      expect(lines.reduce((n, l) => n + JSON.stringify(l).length, 0)).toBeLessThan(1.2 * (1 << 20));
    } finally {
      execFileSync('umount', [dir]);
    }
  });

  it('issue 17 item 10: never writes through a symbolic link, nor to a file of another user or one others can read', async () => {
    tmp = tempDir();
    const target = tmp.path('shell-rc');
    writeFileSync(target, 'echo hello\n', { mode: 0o600 });
    const link = tmp.path('link.audit.jsonl');
    symlinkSync(target, link);
    await expect(AuditLog.open(link, () => undefined)).rejects.toThrow(/audit log .*link\.audit\.jsonl is a symbolic link; refusing to write through it/);
    expect(readFileSync(target, 'utf8')).toBe('echo hello\n');

    const open = tmp.path('open.audit.jsonl');
    writeFileSync(open, '', { mode: 0o644 });
    chmodSync(open, 0o644);
    await expect(AuditLog.open(open, () => undefined)).rejects.toThrow(/has mode 0644; chmod 600 it/);

    const foreign = tmp.path('foreign.audit.jsonl');
    writeFileSync(foreign, '', { mode: 0o600 });
    if (process.getuid?.() === 0) {
      chownSync(foreign, 4242, 4242);
      await expect(AuditLog.open(foreign, () => undefined)).rejects.toThrow(/is owned by uid 4242, not by this user/);
    }
    await expect(AuditLog.open(tmp.dir, () => undefined)).rejects.toThrow(/audit log|EISDIR/);
  });

  it('reopen: lines queued before it go whole to the moved file, the first line and those after to a new 0600 file at the path', async () => {
    tmp = tempDir();
    const path = tmp.path('r.audit.jsonl');
    const log = await AuditLog.open(path, () => undefined, () => Date.UTC(2026, 0, 1, 8));
    log.write({ event: 'start' });
    await new Promise((r) => setImmediate(r));
    renameSync(path, `${path}.1`);
    // Queued in the same turn as the reopen, not yet written: it belongs to the file open until then.
    const accepted = log.writeAccept({ event: 'verify', user: 'ivan@contoso.com', result: 'accept', reason: 'ok', serial: 'H0' });
    log.write({ event: 'verify', user: 'grace@contoso.com', result: 'reject', reason: 'wrong_code', serial: null });
    log.reopen({ event: 'reload', client: 'SIGHUP', result: 'accept', detail: 'reopened' });
    log.write({ event: 'stop' });
    expect(await accepted).toBe(true);
    await log.close();
    const events = (file: string) => readFileSync(file, 'utf8').split('\n').map((l) => (l === '' ? l : (JSON.parse(l) as { event: string; user?: string }).user ?? (JSON.parse(l) as { event: string }).event));
    expect(events(`${path}.1`)).toEqual(['start', 'ivan@contoso.com', 'grace@contoso.com', '']);
    expect(events(path)).toEqual(['reload', 'stop', '']);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('a pipe at the path is refused at once, at open and at reopen (the open file kept), with or without a reader (a black-box test: a FIFO froze serve)', async () => {
    tmp = tempDir();
    const fifo = tmp.path('p.audit.jsonl');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    // No process reads it: a blocking open would wait for one for ever.
    await expect(AuditLog.open(fifo, () => undefined)).rejects.toThrow(`audit log ${fifo} is not a regular file (a pipe): give a regular file`);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      await expect(AuditLog.open(fifo, () => undefined)).rejects.toThrow(`audit log ${fifo} is not a regular file (a pipe): give a regular file`);
    } finally {
      closeSync(reader);
    }
    const path = tmp.path('r.audit.jsonl');
    const log = await AuditLog.open(path, () => undefined);
    renameSync(path, `${path}.1`);
    execFileSync('mkfifo', ['-m', '600', path]);
    expect(() => log.reopen({ event: 'reload' })).toThrow(`audit log ${path} is not a regular file (a pipe): give a regular file`);
    log.write({ event: 'stop' });
    await log.close();
    expect(readFileSync(`${path}.1`, 'utf8')).toContain('"event":"stop"');
  });

  it('reopen is refused while the log is down: what is held back belongs to the open file', async ({ skip }) => {
    tmp = tempDir();
    const path = tmp.path('d.audit.jsonl');
    const log = await AuditLog.open(path, () => undefined);
    const cannot = setImmutable(path, true);
    if (cannot) return skip(`cannot chattr +i the audit log: ${cannot}`);
    try {
      log.write({ event: 'start' });
      await new Promise((r) => setImmediate(r));
      expect(log.up).toBe(false);
      expect(() => log.reopen({ event: 'reload' })).toThrow(/cannot be written now; lines held back go to the file open now: send SIGHUP again once it is written again/);
    } finally {
      setImmutable(path, false);
    }
    await log.close();
    expect(readFileSync(path, 'utf8')).toMatch(/^\{"time":"[^"]+","event":"start"\}\n$/);
  });

  it('writes plain fields as they are and escapes the others, every field as JSON.stringify of its printable text would (the fast path for plain text)', async () => {
    tmp = tempDir();
    const path = tmp.path('f.audit.jsonl');
    let now = Date.UTC(2026, 11, 6, 12, 0, 0, 5);
    const log = await AuditLog.open(path, () => undefined, () => now);
    log.write({ event: 'verify', user: 'alice@contoso.com', client: 'radius:vpn-1', source: '10.0.0.1', result: 'accept', reason: 'ok', serial: 'S1' });
    log.write({ event: 'verify', user: 'bob', client: 'radius:vpn-1', source: 'radius:vpn-1', result: 'reject', reason: 'wrong_code', serial: null });
    now += 1;
    const odd = { user: 'a"b\\c', client: 'radius:"q"\\', source: 'aa:bb\u0007\u202e', serial: 'S"2\\', reason: 'x"y' };
    log.write({ event: 'verify', ...odd, result: 'reject' });
    await log.close();
    expect(readFileSync(path, 'utf8').split('\n')).toEqual([
      '{"time":"2026-12-06T12:00:00.005Z","event":"verify","user":"alice@contoso.com","client":"radius:vpn-1","source":"10.0.0.1","result":"accept","reason":"ok","serial":"S1"}',
      '{"time":"2026-12-06T12:00:00.005Z","event":"verify","user":"bob","client":"radius:vpn-1","result":"reject","reason":"wrong_code","serial":null}',
      '{"time":"2026-12-06T12:00:00.006Z","event":"verify","user":"a\\"b\\\\c","client":"radius:\\"q\\"\\\\","source":"aa:bb\\\\u0007\\\\u202e","result":"reject","reason":"x\\"y","serial":"S\\"2\\\\"}',
      '',
    ]);
  });

  it('shows control characters and bidi overrides in user names as escapes', async () => {
    tmp = tempDir();
    const path = tmp.path('c.audit.jsonl');
    const log = await AuditLog.open(path, () => undefined);
    log.write({ event: 'verify', user: 'evil\u202egnp.exe\u001b]0;x\u0007', result: 'reject', reason: 'unknown_user' });
    await log.close();
    const line = readFileSync(path, 'utf8');
    expect(line).not.toMatch(/[\u202e\u001b\u0007]/);
    expect((JSON.parse(line) as { user: string }).user).toBe('evil\\u202egnp.exe\\u001b]0;x\\u0007');
  });

  it('shows look-alikes in user names as escapes: the shim matches ASCII names only, so the log must not pass one off as another', async () => {
    tmp = tempDir();
    const path = tmp.path('k.audit.jsonl');
    const log = await AuditLog.open(path, () => undefined);
    // The Kelvin sign and a Cyrillic a, which a terminal shows as "Kim" and "alice".
    log.write({ event: 'verify', user: '\u212aim@contoso.com', result: 'reject', reason: 'unknown_user' });
    log.write({ event: 'verify', user: '\u0430lice@contoso.com', result: 'reject', reason: 'unknown_user' });
    log.write({ event: 'verify', user: `${'\u212a'.repeat(300)}`, result: 'reject', reason: 'unknown_user' });
    await log.close();
    const users = readFileSync(path, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { user: string }).user);
    expect(users[0]).toBe('\\u212aim@contoso.com');
    expect(users[1]).toBe('\\u0430lice@contoso.com');
    // A capped name is cut before it is escaped, so no escape is cut in half.
    expect(users[2]).toMatch(/^(\\u212a)+…$/);
  });
});

describe('shim import outputs', () => {
  it('issue 17 item 10: refuses to replace a store or journal that is a symbolic link or not a private file of this user', async () => {
    const { runImportStore } = await import('../../src/shim/shim-operations.js');
    const { TEST_KEY } = await import('./helpers.js');
    tmp = tempDir();
    const target = tmp.path('elsewhere');
    writeFileSync(target, 'precious\n', { mode: 0o600 });
    const store = tmp.path('shim.store');
    symlinkSync(target, store);
    const input = { users: [{ username: 'ivan@contoso.com', enabled: true }], tokens: [] };
    await expect(runImportStore({ store, key: TEST_KEY, input })).rejects.toThrow(/store .*shim\.store is a symbolic link; refusing to replace it/);
    expect(readFileSync(target, 'utf8')).toBe('precious\n');

    const store2 = tmp.path('two.store');
    symlinkSync(target, `${store2}.journal`);
    await expect(runImportStore({ store: store2, key: TEST_KEY, input })).rejects.toThrow(/state journal .*two\.store\.journal is a symbolic link/);
    const store3 = tmp.path('three.store');
    writeFileSync(store3, '{}', { mode: 0o644 });
    chmodSync(store3, 0o644);
    await expect(runImportStore({ store: store3, key: TEST_KEY, input })).rejects.toThrow(/store .*three\.store has mode 0644/);
    expect(readFileSync(target, 'utf8')).toBe('precious\n');
  });

  it('serve, check and unlock refuse a store or journal others can read or another user owns, as import does, before writing anything', async () => {
    const { runCheck, runImportStore, runUnlock } = await import('../../src/shim/shim-operations.js');
    const { DEFAULT_RULES } = await import('../../src/shim/rules.js');
    const { TEST_KEY, TestClock, startTestService } = await import('./helpers.js');
    tmp = tempDir();
    const store = tmp.path('l.store');
    const journal = `${store}.journal`;
    await runImportStore({ store, key: TEST_KEY, input: { users: [{ username: 'ivan@contoso.com', enabled: true }], tokens: [] } });
    const clock = new TestClock(1_700_000_000_000);
    const rules = DEFAULT_RULES;
    const commands = [
      () => startTestService(store, clock),
      () => runCheck({ store, key: TEST_KEY, rules, user: 'ivan@contoso.com', code: '123456' }),
      () => runUnlock({ store, key: TEST_KEY, rules, user: 'ivan@contoso.com' }),
    ];
    const unchanged = () => [readFileSync(store, 'utf8'), readFileSync(journal).toString('base64'), statSync(store).mode, statSync(journal).mode, readFileSync(`${store}.audit.jsonl`, 'utf8')];
    const cases: Array<[string, () => void, RegExp]> = [
      ['store 0644', () => chmodSync(store, 0o644), /^store .*l\.store has mode 0644; chmod 600 it$/],
      ['journal 0640', () => chmodSync(journal, 0o640), /^state journal .*l\.store\.journal has mode 0640; chmod 600 it$/],
    ];
    if (process.getuid?.() === 0) {
      cases.push(['store of another user', () => chownSync(store, 4242, 4242), /^store .*l\.store is owned by uid 4242, not by this user/]);
      cases.push(['journal of another user', () => chownSync(journal, 4242, 4242), /^state journal .*l\.store\.journal is owned by uid 4242/]);
    }
    for (const [, spoil, refusal] of cases) {
      spoil();
      const before = unchanged();
      for (const command of commands) {
        await expect(command()).rejects.toThrow(refusal);
        expect(unchanged()).toEqual(before);
        expect(existsSync(`${store}.lock`)).toBe(false);
      }
      for (const f of [store, journal]) {
        chmodSync(f, 0o600);
        chownSync(f, process.getuid?.() ?? 0, process.getgid?.() ?? 0);
      }
    }
    // Changed while a server holds the store: an unlock handed over to it is refused too.
    const service = await startTestService(store, clock);
    try {
      chmodSync(store, 0o644);
      await expect(runUnlock({ store, key: TEST_KEY, rules, user: 'ivan@contoso.com' })).rejects.toThrow(/^store .*l\.store has mode 0644/);
      expect(existsSync(`${store}.unlock`) ? readdirSync(`${store}.unlock`) : []).toEqual([]);
      chmodSync(store, 0o600);
    } finally {
      await service.close();
    }
  });
});
