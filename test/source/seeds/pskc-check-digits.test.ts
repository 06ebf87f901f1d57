import { describe, expect, it } from 'vitest';
import { TEST_SECRETS } from '../../../fixtures/make-contoso-seeds.js';
import { codes, read, tempDir } from './seed-test-helpers.js';

// RFC 6030 4.3.4 ResponseFormat CheckDigits: the device appends a Luhn check digit to each code. A
// black-box review found it ignored: the key read as a plain 6-digit token, which plan would migrate
// to Entra and whose codes would then never match.
const NS = 'urn:ietf:params:xml:ns:keyprov:pskc';
const tmp = tempDir();

/** One TOTP key (its KeyPackage on line 3, its ResponseFormat on line 6) with `format` as its ResponseFormat's attributes. */
function rfc6030(name: string, format: string): string {
  return tmp.file(
    name,
    `<?xml version="1.0" encoding="UTF-8"?>
<KeyContainer Version="1.0" xmlns="${NS}">
  <KeyPackage>
    <DeviceInfo><SerialNo>C-1</SerialNo></DeviceInfo>
    <Key Id="K-1" Algorithm="${NS}:totp">
      <AlgorithmParameters><ResponseFormat ${format}/></AlgorithmParameters>
      <Data><Secret><PlainValue>${TEST_SECRETS.a.toString('base64')}</PlainValue></Secret><TimeInterval><PlainValue>30</PlainValue></TimeInterval></Data>
    </Key>
  </KeyPackage>
</KeyContainer>
`,
  );
}

describe('PSKC ResponseFormat CheckDigits', () => {
  it.each([
    ['CheckDigits="true"', true],
    ['CheckDigits="1"', true],
    ['CheckDigits="TRUE"', true],
    ['CheckDigit="true"', true],
    ['CheckDigits="false"', false],
    ['CheckDigits="0"', false],
    ['', false],
  ])('%s -> checkDigit %s; Length stays the code digits before it', async (attribute, expected) => {
    const { seeds, problems } = await read(rfc6030(`cd-${attribute.replace(/\W/g, '')}.pskc`, `Length="6" Encoding="DECIMAL" ${attribute}`));
    expect(problems).toEqual([]);
    expect(seeds).toHaveLength(1);
    expect(seeds[0]!.digits).toBe(6);
    expect(seeds[0]!.checkDigit === true).toBe(expected);
    // Left out rather than false, as the other optional fields are.
    if (!expected) expect('checkDigit' in seeds[0]!).toBe(false);
  });

  it('a value that is not a boolean leaves the key out with value-invalid naming file, line and attribute', async () => {
    const path = rfc6030('cd-bad.pskc', 'Length="6" Encoding="DECIMAL" CheckDigits="yes"');
    const { seeds, problems } = await read(path);
    expect(seeds).toEqual([]);
    expect(codes(problems)).toEqual(['error:value-invalid']);
    expect(problems[0]).toMatchObject({ file: path, line: 6, field: 'CheckDigits', path: 'KeyPackage[1]/Key/AlgorithmParameters/ResponseFormat', serial: 'C-1' });
    expect(problems[0]!.message).toBe('ResponseFormat CheckDigits "yes" of token C-1 is not true or false; the key is left out');
  });

  it("the drafts' Usage/ResponseFormat carries it too", async () => {
    const path = tmp.file(
      'cd-draft.pskc',
      `<?xml version="1.0" encoding="UTF-8"?>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc:1.0">
  <Device>
    <DeviceInfo><SerialNo>D-1</SerialNo></DeviceInfo>
    <Key KeyId="D-1" KeyAlgorithm="urn:ietf:params:xml:ns:keyprov:pskc#hotp">
      <Usage OTP="true"><ResponseFormat CheckDigits="true" Length="8" Encoding="DECIMAL"/></Usage>
      <Data><Secret><PlainValue>${TEST_SECRETS.a.toString('base64')}</PlainValue></Secret><Counter><PlainValue>9</PlainValue></Counter></Data>
    </Key>
  </Device>
</KeyContainer>
`,
    );
    const { seeds, problems } = await read(path);
    expect(problems).toEqual([]);
    expect(seeds[0]).toMatchObject({ serial: 'D-1', type: 'hotp', digits: 8, checkDigit: true, counter: 9n });
  });
});
