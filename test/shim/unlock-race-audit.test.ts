import { existsSync, rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_RULES } from '../../src/shim/rules.js';
import type { ShimService } from '../../src/shim/shim-service.js';
import { runUnlock } from '../../src/shim/shim-operations.js';
import { auditPathOf } from '../../src/shim/audit-log.js';
import { importIvanStore, startTestService, TEST_KEY, TestClock, tempDir } from './helpers.js';

/**
 * The race a lead of an earlier session noticed: `shim unlock` looks for a running server first, and a
 * server that takes the store between that look and the unlock's own open made the unlock hand the
 * request over (or refuse --audit-log) with an audit log it had created, empty, left behind. The look
 * is made to miss the server here, as it does when the server starts a moment after it.
 */
vi.mock('../../src/shim/store-lock.js', async (original) => ({ ...(await original<typeof import('../../src/shim/store-lock.js')>()), liveHolder: () => Promise.resolve(undefined) }));

let tmp: ReturnType<typeof tempDir>;
let store: string;
let service: ShimService | undefined;

beforeEach(async () => {
  tmp = tempDir('shim-unlock-race-');
  store = tmp.path('shim.store');
  await importIvanStore(store);
});
afterEach(async () => {
  await service?.close();
  service = undefined;
  tmp.cleanup();
});

describe('shim unlock racing a server that takes the store', () => {
  it('hands the unlock over, and creates no audit log of its own (the server writes the line to its log)', async () => {
    // The server's log is elsewhere; the store's default one (the import's) was rotated away.
    const ownLog = auditPathOf(store);
    rmSync(ownLog);
    service = await startTestService(store, new TestClock(Date.now()), { auditLog: tmp.path('server.audit.jsonl') });
    const outcome = await runUnlock({ store, key: TEST_KEY, rules: DEFAULT_RULES, user: 'ivan@contoso.com' });
    expect(outcome.status).toBe('requested');
    expect(existsSync(ownLog)).toBe(false);
  });

  it('refuses --audit-log and leaves no file there', async () => {
    service = await startTestService(store, new TestClock(Date.now()), { auditLog: tmp.path('server.audit.jsonl') });
    const auditLog = tmp.path('ops.audit.jsonl');
    await expect(runUnlock({ store, key: TEST_KEY, rules: DEFAULT_RULES, user: 'ivan@contoso.com', auditLog })).rejects.toThrow(/run the unlock again without --audit-log/);
    expect(existsSync(auditLog)).toBe(false);
  });

  it('with no server, an unknown user leaves no audit log either; a known one is unlocked and audited', async () => {
    const auditLog = tmp.path('ops.audit.jsonl');
    expect((await runUnlock({ store, key: TEST_KEY, rules: DEFAULT_RULES, user: 'nobody@contoso.com', auditLog })).status).toBe('unknown_user');
    expect(existsSync(auditLog)).toBe(false);
    expect((await runUnlock({ store, key: TEST_KEY, rules: DEFAULT_RULES, user: 'ivan@contoso.com', auditLog })).status).toBe('unlocked');
    expect(existsSync(auditLog)).toBe(true);
  });
});
