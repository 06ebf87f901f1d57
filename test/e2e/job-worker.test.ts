import { chmodSync, copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { CONTOSO, CONTOSO_TOKENS, tempDir } from '../helpers/migration.js';
import { runCli } from '../helpers/run-cli.js';
import { TEST_STATE_HOME } from '../helpers/e2e.js';

/**
 * The installed CLI runs apply, resume and rollback in a worker thread (src/cli/run-job.ts): what the
 * admin sees must be what the job did there: its notices, its errors with their exit status, its run.
 */
describe('apply, resume and rollback in their worker thread', () => {
  let emu: RunningEmulator;
  const tmp = tempDir('job-worker');
  const key = join(tmp.dir, 'psk.hex');
  const password = join(tmp.dir, 'pskc-password.txt');
  const planFile = join(tmp.dir, 'p.plan');
  const stateDir = join(tmp.dir, 'state');
  const env = { XDG_STATE_HOME: TEST_STATE_HOME };

  beforeAll(async () => {
    emu = await startEmulator({ port: 0, throttle: 'off' });
    copyFileSync(join(CONTOSO, 'tokens', 'psk.hex'), key);
    copyFileSync(join(CONTOSO, 'tokens', 'pskc-password.txt'), password);
    chmodSync(key, 0o600);
    chmodSync(password, 0o600);
    // The seed files private too (a checkout leaves them 0644, which is warned about).
    const tokens = CONTOSO_TOKENS.map((t) => join(tmp.dir, basename(t)));
    CONTOSO_TOKENS.forEach((t, i) => {
      copyFileSync(t, tokens[i]!);
      chmodSync(tokens[i]!, 0o600);
    });
    const seeds = [...tokens.flatMap((t) => ['--tokens', t]), '--pskc-key-file', key, '--pskc-password-file', password];
    const planned = await runCli(['plan', '--source', CONTOSO, ...seeds, '--graph-url', emu.url, '--out', planFile], { env });
    expect(planned.code, planned.stderr).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await emu.stop();
    tmp.cleanup();
  });

  it('a refusal in the job is one line and exit 1, before any run; a warning is shown and the run completes; rollback undoes it', async () => {
    chmodSync(key, 0o644);
    const refused = await runCli(['apply', planFile, '--state-dir', stateDir, '--strict-permissions'], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toBe(`mfa-migrate: PSKC key file ${key} has mode 0644: group or others can access it; chmod 600 it`);
    expect(existsSync(join(stateDir, 'runs')) ? readdirSync(join(stateDir, 'runs')) : []).toEqual([]);

    const resultsFile = join(tmp.dir, 'results.csv');
    const applied = await runCli(['apply', planFile, '--state-dir', stateDir, '--results', resultsFile], { env });
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stderr).toContain(`warning: PSKC key file ${key} has mode 0644`);
    // The worker hands over counts and the results file's text, not each user: both still add up.
    const rows = readFileSync(resultsFile, 'utf8').trim().split('\n');
    expect(rows[0]).toBe('user,outcome,done,failed,skipped,first_error,run_id,plan_hash,final_hash,stale_reason');
    const done = rows.filter((r) => r.split(',')[1] === 'done').length;
    expect(done).toBeGreaterThan(20);
    expect(applied.stdout).toContain(`users: ${done} done, 0 partial, 0 failed, 0 skipped, 0 not started`);
    expect(rows.length - 1).toBe(new Set(rows.slice(1).map((r) => r.split(',')[0])).size);
    const runId = /Run (\S+): completed/.exec(applied.stdout)?.[1];
    expect(runId).toBeDefined();

    const rolled = await runCli(['rollback', runId!, '--state-dir', stateDir], { env });
    expect(rolled.code, rolled.stderr).toBe(0);
    expect(rolled.stdout).toMatch(/completed/);
    const again = await runCli(['rollback', runId!, '--state-dir', stateDir], { env });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(new RegExp(`run ${runId} was rolled back already, completely, by run \\S+\\n$`));
  }, 120_000);

  it('a job past its heap ceiling says so, with the ceiling and how to give more; before a run, that nothing was written', async () => {
    const oom = join(tmp.dir, 'oom-state');
    const out = await runCli(['apply', planFile, '--state-dir', oom], { env: { ...env, MFA_MIGRATE_JOB_HEAP_MB: '12' } });
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/the apply ran out of memory \(a heap ceiling of 12 MB, sized for \d+ users or operations\): no run was started and nothing was written; set MFA_MIGRATE_JOB_HEAP_MB=24 and run it again/);
    expect(out.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(oom, 'runs')) ? readdirSync(join(oom, 'runs')) : []).toEqual([]);
  }, 60_000);
});
