import { describe, expect, it } from 'vitest';
import { connectFromOptions, graphCliOptions, type GraphCliOptions } from '../../src/cli/graph-options.js';
import { commandHint } from '../../src/cli/views/command-hint.js';
import { runMain } from '../helpers/run-main.js';

/** --consistency-window: how long the commands that write wait for Graph to show what they created. */
describe('--consistency-window', () => {
  const base: GraphCliOptions = { graphUrl: 'http://127.0.0.1:9', allowGraphHost: [], auth: 'default', concurrency: 4, strictPermissions: false };

  it("sets the Graph client's consistency window, 30 s when not given", () => {
    expect(connectFromOptions(base, false).consistencyMs).toBe(30_000);
    expect(connectFromOptions({ ...base, consistencyWindow: 120 }, false).consistencyMs).toBe(120_000);
  });

  it('crosses to the job worker with the other Graph options, and the hint to finish a run repeats it', () => {
    expect(graphCliOptions({ ...base, consistencyWindow: 120 }).consistencyWindow).toBe(120);
    expect(graphCliOptions(base)).not.toHaveProperty('consistencyWindow');
    expect(commandHint(['resume', 'RUN'], { ...base, consistencyWindow: 120 })).toBe('mfa-migrate resume RUN --consistency-window 120');
  });

  it('is offered by apply, resume and rollback, and a value that is not a whole number of seconds from 1 to 600 is refused', async () => {
    for (const command of ['apply', 'resume', 'rollback']) expect((await runMain([command, '--help'])).stdout).toContain('--consistency-window <seconds>');
    for (const bad of ['0', '-5', '2.5', 'soon']) {
      const r = await runMain(['resume', '--consistency-window', bad]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`--consistency-window must be a positive integer, got "${bad}"`);
    }
    // Ten minutes at most: a 404 that is no lag (a user deleted meanwhile) is tried again that long.
    const long = await runMain(['apply', 'x.plan', '--consistency-window', '601']);
    expect(long.code).toBe(1);
    expect(long.stderr).toContain('--consistency-window is at most 600 seconds, got 601');
  });
});
