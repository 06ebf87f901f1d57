import { chmodSync, existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPskcKeyFile, loadPskcPasswordFile } from '../../src/source/seeds/pskc-credentials.js';
import { fakeGraph } from '../helpers/graph.js';
import { applyFile, CONTOSO, CONTOSO_TOKENS, contosoRequest, planTo, privateContosoKeys, resumeIn, tempDir } from '../helpers/migration.js';

const tmp = tempDir('plan-check');
afterAll(() => tmp.cleanup());

const warning = (what: string, path: string) => `warning: ${what} ${path} has mode 0644: group or others can access it; chmod 600 it (--strict-permissions refuses such files)`;
const refusal = (what: string, path: string) => `${what} ${path} has mode 0644: group or others can access it; chmod 600 it`;

describe('the plan check re-reads the PSKC key and password files the plan records', () => {
  it('issue 17 item 17: apply PLANFILE and resume warn about them, refuse them with --strict-permissions before any Graph request, and say nothing at 0600', async () => {
    const g = fakeGraph();
    const { dir: keys, key, password } = privateContosoKeys(join(tmp.dir, 'keys'));
    // The private copies of the seed files too (0600): only the key files' modes are in question here.
    const base = contosoRequest(CONTOSO, CONTOSO_TOKENS.map((t) => join(keys, basename(t))));
    const planFile = join(tmp.dir, 'wave.plan');
    await planTo(g, planFile, { ...base, seeds: { ...base.seeds, pskcKey: loadPskcKeyFile(key), pskcPassword: loadPskcPasswordFile(password) }, pskcKeyFiles: [key], pskcPasswordFiles: [password] });
    const stateDir = join(tmp.dir, 'state');
    const runs = () => (existsSync(join(stateDir, 'runs')) ? readdirSync(join(stateDir, 'runs')) : []);

    // Refused: nothing read from Graph (not even the --group's members, looked up after the check), no run.
    chmodSync(key, 0o644);
    let before = g.operations().length;
    await expect(applyFile(g, planFile, stateDir, { group: 'MFA Migration Wave 1', secretFiles: { strict: true } })).rejects.toThrow(refusal('PSKC key file', key));
    expect(g.operations().length).toBe(before);
    expect(runs()).toEqual([]);
    chmodSync(key, 0o600);
    chmodSync(password, 0o644);
    await expect(applyFile(g, planFile, stateDir, { secretFiles: { strict: true } })).rejects.toThrow(refusal('PSKC password file', password));
    expect(g.operations().length).toBe(before);
    expect(runs()).toEqual([]);

    // Warned (to the log when no other place is named), and the run goes on: one wave, left to resume.
    const logged: string[] = [];
    const first = await applyFile(g, planFile, stateDir, { batchSize: 5, waves: 1, log: (l) => logged.push(l) });
    expect(first.outcome.state).toBe('stopped');
    expect(logged.filter((l) => l.includes('has mode'))).toEqual([warning('PSKC password file', password)]);

    chmodSync(key, 0o644);
    before = g.operations().length;
    await expect(resumeIn(g, stateDir, { secretFiles: { strict: true } })).rejects.toThrow(refusal('PSKC key file', key));
    expect(g.operations().length).toBe(before);

    // 0600: nothing said, the run finishes.
    chmodSync(key, 0o600);
    chmodSync(password, 0o600);
    const notices: string[] = [];
    const resumed = await resumeIn(g, stateDir, { secretFiles: { strict: true, onNotice: (m) => notices.push(m) }, log: (l) => notices.push(l) });
    expect(resumed.outcome.state).toBe('completed');
    expect(notices.filter((l) => l.includes('has mode'))).toEqual([]);
  });
});
