import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as planCheck from '../../src/app/plan-check.js';
import { applyFile, resumeIn, tempDir, planOfUntouched } from '../helpers/migration.js';

// The check is said from 5,000 users; Contoso's few stand for them here. Spied on, not mocked: the
// file shares a worker with others (vitest.config.ts), so the spy goes at its end.
const said = vi.spyOn(planCheck, 'CHECK_SAID_FROM_USERS', 'get');
// The constant's type is its literal, 5000.
beforeAll(() => void said.mockReturnValue(1 as never));
afterAll(() => said.mockRestore());

/** A black-box test at 20,000 users: resume was silent 7-13 s at its start while it checked the plan; apply said so. */
describe('the check of a plan against its sources, said before it starts', () => {
  const tmp = tempDir('check-said');
  afterAll(() => tmp.cleanup());

  it('by apply, and by resume, before anything else is told', async () => {
    const dir = join(tmp.dir, 'state');
    const file = `${dir}.plan`;
    const { g, plan } = await planOfUntouched(file);
    const told: string[] = [];
    const first = await applyFile(g, file, dir, { batchSize: 10, waves: 1, log: (l) => told.push(l), onProgress: (e) => told.push(`progress ${e.phase}`) });
    expect(first.outcome.state).toBe('stopped');
    expect(told[0]).toBe(`Checking ${file} against its export and seed files (${plan.users.length} users): an edited plan is never applied`);

    told.length = 0;
    const resumed = await resumeIn(g, dir, { log: (l) => told.push(l), onProgress: (e) => told.push(`progress ${e.phase}`) });
    expect(resumed.outcome.state).toBe('completed');
    expect(told[0]).toBe(`Checking run ${first.outcome.runId}'s plan (${join(dir, 'runs', first.outcome.runId, 'plan.jsonl')}) against its export and seed files (${plan.users.length} users): an edited plan is never applied`);
  }, 60_000);
});
