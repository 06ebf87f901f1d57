import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RECORD_ENV, type RecordedRequest } from '../../src/emulator/index.js';
import { encodeBase32 } from '../../src/emulator/oath-secret.js';
import { inProcess } from './helpers.js';
import { DEVICES, newToken } from './oath-helpers.js';

describe('recording every request a client sends (contract tests)', () => {
  let dir: string | undefined;
  // Set for a whole suite run (to record its requests), it is put back: later files share this worker.
  const given = process.env[RECORD_ENV];
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
    if (given === undefined) delete process.env[RECORD_ENV];
    else process.env[RECORD_ENV] = given;
  });

  it('hands each direct request and $batch item (run or 424) to the hook, as sent, secrets redacted', async () => {
    const seen: RecordedRequest[] = [];
    const { graph } = inProcess({ onRequest: (r) => seen.push(r) });
    await graph.get("/v1.0/users('alice%40contoso.com')?$select=id");
    await graph.post(DEVICES, newToken('70000001', { secretKey: encodeBase32(Buffer.from('0123456789abcdefghij')) }));
    await graph.post('/v1.0/$batch', {
      requests: [
        { id: '1', method: 'POST', url: '/users/alice@contoso.com/authentication/phoneMethods', headers: { 'Content-Type': 'application/json' }, body: { phoneType: 'mobile', phoneNumber: '+1 4255550101' } },
        { id: '2', method: 'GET', url: '/users/alice@contoso.com/authentication/phoneMethods', dependsOn: ['1'] },
      ],
    });
    expect(seen.map((r) => `${r.method} ${r.version} ${r.path} ${r.status}`)).toEqual([
      "GET v1.0 users('alice%40contoso.com') 200",
      `POST beta ${DEVICES.replace('/beta/', '')} 201`,
      'POST v1.0 users/alice@contoso.com/authentication/phoneMethods 409',
      'GET v1.0 users/alice@contoso.com/authentication/phoneMethods 424',
    ]);
    expect(seen[0]!.query).toBe('%24select=id');
    expect(seen[1]!.body).toMatchObject({ serialNumber: '70000001', secretKey: expect.stringMatching(/^\[redacted fingerprint=[0-9a-f]{16}\]$/) });
    expect(JSON.stringify(seen)).not.toContain('4255550101');
    expect(seen[3]!.body).toBeNull();
  });

  it("masks a phone number as the tool does everywhere: an extension's digits and their count hidden", async () => {
    const seen: RecordedRequest[] = [];
    const { graph } = inProcess({ onRequest: (r) => seen.push(r) });
    await graph.post('/v1.0/users/alice@contoso.com/authentication/phoneMethods', { phoneType: 'office', phoneNumber: '+1 4255550101x12345' });
    expect(seen[0]!.body).toMatchObject({ phoneNumber: '+1 ********01x***' });
  });

  it('appends JSON lines to a file in the directory MFA_MIGRATE_EMULATOR_RECORD names', async () => {
    dir = mkdtempSync(join(tmpdir(), 'emu-record-'));
    process.env[RECORD_ENV] = join(dir, 'nested');
    const { graph } = inProcess();
    await graph.get('/v1.0/organization');
    await graph.get('/beta/nothing');
    const files = readdirSync(join(dir, 'nested'));
    expect(files).toEqual([`requests-${process.pid}.jsonl`]);
    const lines = readFileSync(join(dir, 'nested', files[0]!), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RecordedRequest);
    expect(lines.map((l) => `${l.method} ${l.version} ${l.path} ${l.status}`)).toEqual(['GET v1.0 organization 200', 'GET beta nothing 400']);
    // Only the user's: user names and ids are in it (a black-box test under umask 000 found 0777 and 0666).
    expect(statSync(join(dir, 'nested')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'nested', files[0]!)).mode & 0o777).toBe(0o600);
  });
});
