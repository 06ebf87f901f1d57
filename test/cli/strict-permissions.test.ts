import { chmodSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleSeedArgs } from '../../src/cli/demo-command.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { TEST_STATE_HOME } from '../helpers/e2e.js';
import { CONTOSO, privateContosoKeys, tempDir } from '../helpers/migration.js';
import { runMain } from '../helpers/run-main.js';
import { TEST_KEY_B64 } from '../shim/helpers.js';

/**
 * Issue 17 item 17: the secret files the migration commands read (the PSKC key and password files,
 * the client secret file, the certificate with its private key) are warned about when group or
 * others can access them, and refused with --strict-permissions before anything else is done.
 */

const warning = (what: string, path: string, mode = '0644') => `warning: ${what} ${path} has mode ${mode}: group or others can access it; chmod 600 it (--strict-permissions refuses such files)`;
const refusal = (what: string, path: string, mode = '0644') => `mfa-migrate: ${what} ${path} has mode ${mode}: group or others can access it; chmod 600 it\n`;
/** No Azure sign-in settings from the environment the tests run in. */
const ENV = { XDG_STATE_HOME: TEST_STATE_HOME, AZURE_TENANT_ID: undefined, AZURE_CLIENT_ID: undefined, AZURE_CLIENT_SECRET: undefined };
const run = (args: string[]) => runMain(args, { env: ENV });

describe('--strict-permissions (issue 17 item 17)', () => {
  let emu: RunningEmulator;
  let tmp: ReturnType<typeof tempDir>;
  let keys: string;
  let key: string;
  let password: string;
  let seeds: string[];
  let planFile: string;
  /** A state folder with an apply run stopped after its first wave (resume and rollback find it). */
  let stateDir: string;
  let runId: string;

  beforeAll(async () => {
    tmp = tempDir('strict-permissions');
    emu = await startEmulator({ port: 0, throttle: 'off' });
    ({ dir: keys, key, password } = privateContosoKeys(join(tmp.dir, 'keys')));
    seeds = sampleSeedArgs(CONTOSO, keys);
    planFile = join(tmp.dir, 'wave.plan');
    const planned = await run(['plan', '--source', CONTOSO, ...seeds, '--graph-url', emu.url, '--out', planFile, '--strict-permissions']);
    expect(planned.code, planned.stderr).toBe(0);
    stateDir = join(tmp.dir, 'state');
    // 0600: nothing said.
    const applied = await run(['apply', planFile, '--graph-url', emu.url, '--state-dir', stateDir, '--batch-size', '5', '--waves', '1', '--strict-permissions']);
    expect(applied.code, applied.stderr).toBe(4);
    expect(applied.stderr).not.toMatch(/has mode|warning/);
    runId = readdirSync(join(stateDir, 'runs'))[0]!;
  }, 60_000);

  afterAll(async () => {
    await emu?.stop();
    tmp?.cleanup();
  });

  it('is an option, once, of every command that reads a secret file, naming the files it reads', async () => {
    const commands: [string[], string[]][] = [
      [['validate'], ['seed file', 'PSKC key file', 'PSKC password file']],
      [['plan'], ['seed file', 'PSKC key file', 'PSKC password file', 'client secret file', 'certificate']],
      [['apply'], ['seed file', 'PSKC key file', 'PSKC password file', 'client secret file', 'certificate']],
      // resume reads again the seed and PSKC files the run's plan records (a docs audit: its help named only the two below).
      // Every command that reads seed files names them (a black-box review: the help left them out though they are refused).
      [['resume'], ['client secret file', 'certificate', 'seed file', 'PSKC key file', 'PSKC password file']],
      [['rollback'], ['client secret file', 'certificate']],
      [['doctor'], ['client secret file', 'certificate']],
      [['status'], ['client secret file', 'certificate']],
      [['shim', 'import'], ['store key file', 'seed file', 'PSKC key file', 'PSKC password file']],
      [['shim', 'serve'], ['store key file', 'API key file', 'TLS key']],
    ];
    for (const [command, files] of commands) {
      const help = await run([...command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout.match(/--strict-permissions/g), command.join(' ')).toHaveLength(1);
      const text = help.stdout.slice(help.stdout.indexOf('--strict-permissions')).replace(/\s+/g, ' ');
      for (const f of files) expect(text.slice(0, 300), `${command.join(' ')}: ${f}`).toContain(f);
    }
  });

  it('the seed files and the PSKC key and password files: validate, plan and apply --source warn at 0644, refuse them with --strict-permissions before any Graph request, and say nothing at 0600', async () => {
    const commands = [
      ['validate', '--source', CONTOSO, ...seeds],
      ['plan', '--source', CONTOSO, ...seeds, '--graph-url', emu.url],
      ['apply', '--source', CONTOSO, ...seeds, '--graph-url', emu.url, '--auto-approve', '--state-dir', join(tmp.dir, 'never')],
    ];
    for (const [file, what] of [
      [key, 'PSKC key file'],
      [password, 'PSKC password file'],
      // The seeds themselves (a security review: a seed file others could read went unsaid).
      [join(keys, 'seeds.pskc'), 'seed file'],
    ] as const) {
      chmodSync(file, 0o644);
      for (const args of commands) {
        emu.clearRequests();
        const refused = await run([...args, '--strict-permissions']);
        expect([refused.code, refused.stdout, refused.stderr], args[0]).toEqual([1, '', refusal(what, file)]);
        expect(emu.requests(), args[0]).toEqual([]);
      }
      for (const args of commands.slice(0, 2)) {
        const warned = await run(args);
        expect(warned.code, warned.stderr).toBe(0);
        expect(warned.stderr.split('\n').filter((l) => l.includes('has mode'))).toEqual([warning(what, file)]);
      }
      chmodSync(file, 0o600);
      for (const args of commands.slice(0, 2)) {
        const quiet = await run([...args, '--strict-permissions']);
        expect(quiet.code, quiet.stderr).toBe(0);
        expect(quiet.stderr).not.toMatch(/has mode|chmod/);
      }
    }
    expect(existsSync(join(tmp.dir, 'never'))).toBe(false);
  });

  it('apply PLANFILE and resume re-read the files the plan records: warned about once, refused with --strict-permissions before any Graph request, quiet at 0600', async () => {
    chmodSync(key, 0o644);
    emu.clearRequests();
    const otherState = join(tmp.dir, 'state-refused');
    const applyRefused = await run(['apply', planFile, '--graph-url', emu.url, '--state-dir', otherState, '--strict-permissions']);
    expect([applyRefused.code, applyRefused.stdout, applyRefused.stderr]).toEqual([1, '', refusal('PSKC key file', key)]);
    const resumeRefused = await run(['resume', runId, '--graph-url', emu.url, '--state-dir', stateDir, '--strict-permissions']);
    expect([resumeRefused.code, resumeRefused.stdout, resumeRefused.stderr]).toEqual([1, '', refusal('PSKC key file', key)]);
    expect(emu.requests()).toEqual([]);
    expect(existsSync(join(otherState, 'runs')) ? readdirSync(join(otherState, 'runs')) : []).toEqual([]);

    const warned = await run(['resume', runId, '--graph-url', emu.url, '--state-dir', stateDir, '--waves', '1']);
    expect(warned.code, warned.stderr).toBe(4);
    expect(warned.stderr.split('\n').filter((l) => l.includes('has mode'))).toEqual([warning('PSKC key file', key)]);
    chmodSync(key, 0o600);
    const quiet = await run(['resume', runId, '--graph-url', emu.url, '--state-dir', stateDir, '--waves', '1', '--strict-permissions']);
    expect(quiet.code, quiet.stderr).toBe(4);
    expect(quiet.stderr).not.toMatch(/has mode|chmod/);
    // The seed files the plan records, likewise.
    const seedFile = join(keys, 'generic-seeds.csv');
    chmodSync(seedFile, 0o640);
    try {
      const seedRefused = await run(['apply', planFile, '--graph-url', emu.url, '--state-dir', otherState, '--strict-permissions']);
      expect([seedRefused.code, seedRefused.stderr]).toEqual([1, refusal('seed file', seedFile, '0640')]);
    } finally {
      chmodSync(seedFile, 0o600);
    }
  });

  it('shim import: the PSKC key and password files as for the migration commands (the shim\'s own key files are checked as before)', async () => {
    const store = join(tmp.dir, 'shim.store');
    const args = ['shim', 'import', '--source', CONTOSO, ...seeds, '--store', store];
    const env = { ...ENV, MFA_SHIM_KEY: TEST_KEY_B64 };
    chmodSync(key, 0o644);
    try {
      const refused = await runMain([...args, '--strict-permissions'], { env });
      expect([refused.code, refused.stdout, refused.stderr]).toEqual([1, '', refusal('PSKC key file', key)]);
      expect(existsSync(store)).toBe(false);
      const warned = await runMain(args, { env });
      expect(warned.code, warned.stderr).toBe(0);
      expect(warned.stderr.split('\n').filter((l) => l.includes('has mode'))).toEqual([`mfa-migrate shim: ${warning('PSKC key file', key)}`]);
    } finally {
      chmodSync(key, 0o600);
    }
    const quiet = await runMain([...args, '--strict-permissions'], { env });
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).not.toMatch(/has mode|chmod/);
    const storeKey = join(keys, 'store.key');
    writeFileSync(storeKey, `${TEST_KEY_B64}\n`, { mode: 0o644 });
    chmodSync(storeKey, 0o644);
    const keyRefused = await runMain([...args, '--key-file', storeKey, '--strict-permissions'], { env });
    expect([keyRefused.code, keyRefused.stderr]).toEqual([1, refusal('key file', storeKey)]);
  });

  it('apply --source reads the PSKC files twice (to plan, then to check the plan it made) and warns once', async () => {
    chmodSync(password, 0o640);
    emu.reset();
    try {
      const r = await run(['apply', '--source', CONTOSO, ...seeds, '--graph-url', emu.url, '--auto-approve', '--state-dir', join(tmp.dir, 'state-source'), '--max-users', '2']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr.split('\n').filter((l) => l.includes('has mode'))).toEqual([warning('PSKC password file', password, '0640')]);
    } finally {
      chmodSync(password, 0o600);
    }
  });

  it('the client secret file and the certificate: every Graph command warns at 0644, refuses them with --strict-permissions first, and says nothing at 0600', async () => {
    const secret = join(keys, 'client-secret.txt');
    writeFileSync(secret, 'hunter2-client-secret\n', { mode: 0o600 });
    const certificate = join(keys, 'app.pem');
    writeFileSync(certificate, '-----BEGIN PRIVATE KEY-----\nhunter2\n-----END PRIVATE KEY-----\n', { mode: 0o600 });
    // A Graph that needs a credential. No --tenant-id: past the file, the command stops at that
    // (so nothing here signs in); a refused file stops it before.
    const graph = ['--graph-url', 'https://graph.microsoft.com', '--client-id', '66666666-7777-8888-9999-000000000000'];
    const commands = [
      ['plan', '--source', CONTOSO, ...seeds],
      ['apply', planFile, '--state-dir', join(tmp.dir, 'state-graph')],
      ['apply', '--source', CONTOSO, ...seeds, '--auto-approve', '--state-dir', join(tmp.dir, 'state-graph')],
      ['resume', runId, '--state-dir', stateDir],
      ['rollback', runId, '--state-dir', stateDir],
      ['doctor'],
      ['status', '--source', CONTOSO],
    ];
    for (const [file, what, auth] of [
      [secret, 'client secret file', ['--auth', 'client-secret', '--client-secret-file', secret]],
      [certificate, 'certificate', ['--auth', 'certificate', '--certificate-path', certificate]],
    ] as const) {
      const next = `mfa-migrate: --auth ${auth[1]} needs --tenant-id or AZURE_TENANT_ID\n`;
      for (const command of commands) {
        const args = [...command, ...graph, ...auth];
        const name = command.slice(0, 2).join(' ');
        chmodSync(file, 0o644);
        const refused = await run([...args, '--strict-permissions']);
        expect([refused.code, refused.stdout, refused.stderr], name).toEqual([1, '', refusal(what, file)]);
        const warned = await run(args);
        expect([warned.code, warned.stderr], name).toEqual([1, `${warning(what, file)}\n${next}`]);
        chmodSync(file, 0o600);
        const quiet = await run([...args, '--strict-permissions']);
        expect([quiet.code, quiet.stderr], name).toEqual([1, next]);
      }
    }
    expect(existsSync(join(tmp.dir, 'state-graph'))).toBe(false);
  });
});
