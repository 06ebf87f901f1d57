import { describe, expect, it } from 'vitest';
import { TEST_SECRETS } from '../../../fixtures/make-contoso-seeds.js';
import { codes, read, tempDir } from './seed-test-helpers.js';

// A black-box review: a HOTP counter of 2^64 - 1 was imported without a word, though the shim never
// takes the code of the last counter (the counter after it would pass RFC 4226's 8 bytes).
const NS = 'urn:ietf:params:xml:ns:keyprov:pskc';
const tmp = tempDir();
const hex = TEST_SECRETS.a.toString('hex');

function pskc(name: string, counter: string): string {
  return tmp.file(
    name,
    `<?xml version="1.0" encoding="UTF-8"?>
<KeyContainer Version="1.0" xmlns="${NS}">
  <KeyPackage>
    <DeviceInfo><SerialNo>H-1</SerialNo></DeviceInfo>
    <Key Id="H-1" Algorithm="${NS}:hotp">
      <Data><Secret><PlainValue>${TEST_SECRETS.a.toString('base64')}</PlainValue></Secret><Counter><PlainValue>${counter}</PlainValue></Counter></Data>
    </Key>
  </KeyPackage>
</KeyContainer>
`,
  );
}

describe('a HOTP counter that leaves no or few codes', () => {
  it('PSKC: at 2^64 - 1 no code can verify; just below, the codes left are counted; the key is read either way', async () => {
    const end = await read(pskc('end.pskc', '18446744073709551615'));
    expect(end.seeds.map((s) => s.counter)).toEqual([18446744073709551615n]);
    expect(codes(end.problems)).toEqual(['warning:value-invalid']);
    expect(end.problems[0]).toMatchObject({ line: 6, field: 'Counter', path: 'KeyPackage[1]/Key/Data/Counter' });
    expect(end.problems[0]!.message).toBe(
      "HOTP token H-1 has counter 18446744073709551615: no code of it can ever verify: the counter is at the end of its range, 2^64 - 1 (its code would move the counter past what RFC 4226 holds); check the seed file's counter, or re-enrol the user with a new token",
    );
    const near = await read(pskc('near.pskc', '18446744073709551605'));
    expect(near.seeds).toHaveLength(1);
    expect(near.problems[0]!.message).toBe(
      "HOTP token H-1 has counter 18446744073709551605: only 10 code(s) of it can ever verify, up to the end of the counter's range (2^64 - 1); check the seed file's counter, or re-enrol the user with a new token",
    );
  });

  it('leaves a million codes and more in peace, a real token counter above all', async () => {
    for (const counter of ['0', '123456', '9007199254740993', '18446744073708551615']) {
      expect((await read(pskc(`ok-${counter}.pskc`, counter))).problems, counter).toEqual([]);
    }
    expect(codes((await read(pskc('one-short.pskc', '18446744073708551616'))).problems)).toEqual(['warning:value-invalid']);
  });

  it('the CSV formats warn at their counter cell', async () => {
    const generic = await read(tmp.file('generic.csv', `serial,secret,type,counter\nG-1,${hex},hotp,18446744073709551615\n`));
    expect(generic.seeds).toHaveLength(1);
    expect(generic.problems).toMatchObject([{ severity: 'warning', code: 'value-invalid', line: 2, field: 'counter', message: expect.stringContaining('HOTP token G-1 has counter 18446744073709551615: no code') }]);
    const oath = await read(tmp.file('oath.csv', `L-1, ${hex}, hotp, 6, 18446744073709551614\n`));
    expect(oath.seeds).toHaveLength(1);
    expect(oath.problems).toMatchObject([{ severity: 'warning', code: 'value-invalid', line: 1, field: 'period or counter', message: expect.stringContaining('only 1 code(s)') }]);
  });
});
