import { describe, expect, it } from 'vitest';
import { runMain } from '../helpers/run-main.js';

/** --concurrency: $batch requests in flight, for every command that talks to Graph. */
describe('--concurrency', () => {
  it('takes 1 to 32 and refuses more, naming the bound and why, before any Graph request', async () => {
    for (const command of ['plan', 'apply', 'resume', 'rollback', 'status']) {
      const help = (await runMain([command, '--help'])).stdout;
      expect(help.replace(/\s+/g, ' ')).toContain('requests in flight, at most 32 (default: 4)');
    }
    // Nothing listens on port 9: a value let through would fail on the connection instead.
    const over = await runMain(['plan', '--source', '.', '--graph-url', 'http://127.0.0.1:9', '--concurrency', '33']);
    expect(over.code).toBe(1);
    expect(over.stderr).toContain('--concurrency is at most 32 (each $batch carries up to 20 requests; more in flight only draws throttling from Graph), got 33');
    for (const bad of ['0', '-1', 'many']) {
      const r = await runMain(['rollback', 'RUN', '--concurrency', bad]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`mfa-migrate: --concurrency must be a positive integer, got "${bad}"\n(run with --help for usage and examples)\n`);
    }
  });
});
