import { describe, expect, it } from 'vitest';
import { ProblemList } from '../../../src/model/problem.js';
import { fatalProblems } from '../../../src/plan/build-plan.js';
import { readSeedFiles } from '../../../src/source/seeds/read-seed-files.js';
import { read, tempDir } from './seed-test-helpers.js';

const HOTP_SEED = Buffer.from('multi-hotp-seed-0123').toString('base64');
const TOTP_SEED = Buffer.from('multi-totp-seed-0123').toString('base64');

const key = (id: string, kind: 'hotp' | 'totp', seed: string, policy = '') =>
  `<Key Id="${id}" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:${kind}"><Data><Secret><PlainValue>${seed}</PlainValue></Secret>${kind === 'hotp' ? '<Counter><PlainValue>0</PlainValue></Counter>' : ''}</Data>${policy}</Key>`;
const pkg = (serial: string, keyXml: string) => `<KeyPackage><DeviceInfo><SerialNo>${serial}</SerialNo></DeviceInfo>\n${keyXml}</KeyPackage>\n`;
const container = (body: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">\n${body}</KeyContainer>\n`;

describe('one device, several keys', () => {
  const tmp = tempDir();

  it('two KeyPackages with one serial and different Key Ids: an error that says it is one device with several keys, naming them', async () => {
    const path = tmp.file('two-packages.pskc', container(pkg('MULTI1', key('k-hotp', 'hotp', HOTP_SEED)) + pkg('MULTI1', key('k-totp', 'totp', TOTP_SEED))));
    const { seeds, problems, text } = await read(path);
    expect(seeds.map((s) => [s.serial, s.keyId])).toEqual([['MULTI1', 'k-hotp']]);
    expect(problems).toEqual([expect.objectContaining({ severity: 'error', code: 'seed-duplicate', line: 5 })]);
    expect(problems[0]!.message).toMatch(/^token MULTI1 is one device with several keys in .*: Key Id "k-hotp" \(line 3, .*\) and Key Id "k-totp" \(line 5, .*\), both usable now/);
    expect(problems[0]!.message).toMatch(/Entra holds one key per token serial/);
    expect(problems[0]!.message).not.toMatch(/only one can be right/);
    expect(text).not.toContain(HOTP_SEED);
  });

  it("draft-ietf-keyprov-pskc-02's Device with two Keys: the same error, by KeyId", async () => {
    const device = `<Device><DeviceInfo><SerialNo>DEV2</SerialNo></DeviceInfo>
<Key KeyAlgorithm="urn:ietf:params:xml:ns:keyprov:pskc#hotp" KeyId="a1"><Data><Secret><PlainValue>${HOTP_SEED}</PlainValue></Secret><Counter><PlainValue>0</PlainValue></Counter></Data></Key>
<Key KeyAlgorithm="urn:ietf:params:xml:ns:keyprov:pskc#totp" KeyId="a2"><Data><Secret><PlainValue>${TOTP_SEED}</PlainValue></Secret></Data></Key>
</Device>\n`;
    const { seeds, problems } = await read(tmp.file('draft-device.pskc', container(device)));
    expect(seeds.map((s) => s.keyId)).toEqual(['a1']);
    expect(problems).toEqual([expect.objectContaining({ severity: 'error', code: 'seed-duplicate', message: expect.stringMatching(/one device with several keys.*Key Id "a1".*Key Id "a2"/) })]);
  });

  it('keys told apart by their validity dates: the one valid now is migrated, the other left out by its Policy', async () => {
    const policy = (from: string, to: string) => `<Policy><StartDate>${from}T00:00:00Z</StartDate><ExpiryDate>${to}T00:00:00Z</ExpiryDate></Policy>`;
    const path = tmp.file('monthly.pskc', container(pkg('M-1', key('march', 'hotp', HOTP_SEED, policy('2024-03-01', '2024-03-31'))) + pkg('M-1', key('april', 'hotp', TOTP_SEED, policy('2024-04-01', '2024-04-30')))));
    const { seeds, problems } = await read(path, { now: new Date('2024-04-10T00:00:00Z') });
    expect(seeds.map((s) => [s.serial, s.keyId])).toEqual([['M-1', 'april']]);
    expect(problems).toEqual([expect.objectContaining({ severity: 'warning', code: 'pskc-policy', serial: 'M-1', message: expect.stringMatching(/Key Id "march"\) is left out: the key expired/) })]);
  });

  it('one serial with different seeds in two files is still the copy that only one can be right about', async () => {
    const a = tmp.file('a.pskc', container(pkg('S-1', key('k1', 'hotp', HOTP_SEED))));
    const b = tmp.file('b.pskc', container(pkg('S-1', key('k2', 'hotp', TOTP_SEED))));
    const problems = new ProblemList();
    await readSeedFiles([a, b], {}, problems);
    expect(problems.items).toEqual([expect.objectContaining({ severity: 'error', code: 'seed-duplicate', message: expect.stringMatching(/only one can be right/) })]);
  });

  it('plan stops on a seed-duplicate error (as shim import does on any error), not on the same-seed warning', async () => {
    const path = tmp.file('plan.pskc', container(pkg('MULTI1', key('k-hotp', 'hotp', HOTP_SEED)) + pkg('MULTI1', key('k-totp', 'totp', TOTP_SEED))));
    const { problems } = await read(path);
    expect(fatalProblems(problems).map((p) => p.code)).toEqual(['seed-duplicate']);
    const same = tmp.file('same.pskc', container(pkg('S-2', key('k', 'hotp', HOTP_SEED)) + pkg('S-2', key('k', 'hotp', HOTP_SEED))));
    expect(fatalProblems((await read(same)).problems)).toEqual([]);
  });
});
