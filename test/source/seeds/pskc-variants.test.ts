import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TEST_PSK, TEST_SECRETS } from '../../../fixtures/make-contoso-seeds.js';
import { bySerial, codes, read, seedsFixture, tempDir } from './seed-test-helpers.js';

const NS = 'urn:ietf:params:xml:ns:keyprov:pskc';

/** A one-key plain PSKC document with the given Key attributes and AlgorithmParameters/Data content. */
function onePackage(opts: { algorithm?: string; params?: string; data?: string; device?: string; keyExtra?: string }): string {
  const secret = TEST_SECRETS.a.toString('base64');
  return `<?xml version="1.0" encoding="UTF-8"?>
<KeyContainer Version="1.0" xmlns="${NS}">
  <KeyPackage>
    <DeviceInfo>${opts.device ?? '<SerialNo>V-1</SerialNo>'}</DeviceInfo>
    <Key Id="K-1" Algorithm="${opts.algorithm ?? `${NS}:totp`}">
      <AlgorithmParameters>${opts.params ?? ''}</AlgorithmParameters>
      <Data>
        <Secret><PlainValue>${secret}</PlainValue></Secret>
        ${opts.data ?? ''}
      </Data>
      ${opts.keyExtra ?? ''}
    </Key>
  </KeyPackage>
</KeyContainer>
`;
}

describe('PSKC variants', () => {
  const tmp = tempDir();

  it('accepts ...pskc#totp / ...pskc#hotp URIs, keeps TimeDrift and the HOTP counter, skips non-OATH keys with a warning', async () => {
    const { seeds, problems } = await read(seedsFixture('totp-hash-uri.pskc'));
    const s = bySerial(seeds);
    expect(s.get('U-1')).toMatchObject({ type: 'totp', period: 60, timeDrift: 3, counter: null });
    expect(s.get('U-2')).toMatchObject({ type: 'hotp', counter: 7n, period: null });
    expect(s.get('U-2')!.timeDrift).toBeUndefined();
    expect(s.has('U-3')).toBe(false);
    expect(codes(problems)).toEqual(['warning:value-invalid']);
    expect(problems[0]).toMatchObject({ field: 'Algorithm' });
    expect(problems[0]!.message).toMatch(/:pin/);
  });

  it('reads PSKC elements under any prefix of the PSKC namespace (and encrypted ones)', async () => {
    const prefixed = await read(seedsFixture('prefixed-namespace.pskc'), { pskcKey: TEST_PSK });
    const plain = await read(seedsFixture('psk-two-keys.pskc'), { pskcKey: TEST_PSK });
    expect(prefixed.problems).toEqual([]);
    expect(prefixed.seeds.map((s) => [s.serial, s.fingerprint])).toEqual(plain.seeds.map((s) => [s.serial, s.fingerprint]));
  });

  it('reads element text with entities, CDATA and comments, whatever text lies between elements', async () => {
    const device = [
      '&amp;stray<!-- a comment -->text',
      '<Manufacturer>A&amp;B <![CDATA[<Tokens>]]> &#x41;&lt;</Manufacturer>',
      '&lt;more stray&gt; &#65;',
      '<SerialNo>V-<!-- split -->1</SerialNo>',
      '&amp;',
      '<Model><![CDATA[M&1]]></Model>',
    ].join('\n      ');
    const { seeds, problems } = await read(tmp.file('mixed-text.pskc', onePackage({ device })));
    expect(problems).toEqual([]);
    expect(seeds).toHaveLength(1);
    expect(seeds[0]).toMatchObject({ serial: 'V-1', manufacturer: 'A&B <Tokens> A<', model: 'M&1' });
  });

  it('skips blank space before the XML declaration (a figure pasted from an RFC), counting its lines', async () => {
    const xml = readFileSync(seedsFixture('rfc6030-figure2.pskc'), 'utf8');
    const { seeds, problems } = await read(tmp.file('indented.pskc', `\n\n  ${xml}`));
    expect(seeds.map((s) => [s.serial, s.line])).toEqual([['12345678', 6]]);
    expect(codes(problems)).not.toContain('error:pskc-invalid');
  });

  it('ignores look-alike elements from other namespaces', async () => {
    const xml = onePackage({ device: '<SerialNo>V-1</SerialNo><x:UserId xmlns:x="urn:example:other">mallory@example.com</x:UserId>' });
    const { seeds } = await read(tmp.file('other-ns.pskc', xml));
    expect(seeds).toHaveLength(1);
    expect(seeds[0]!.user).toBeUndefined();
  });

  it.each([
    ['HMAC-SHA256', 'sha256'],
    ['SHA256', 'sha256'],
    ['SHA-256', 'sha256'],
    ['hmac-sha512', 'sha512'],
    ['HMAC-SHA1', 'sha1'],
  ])('Suite %s -> %s', async (suite, algorithm) => {
    const { seeds, problems } = await read(tmp.file(`suite-${suite}.pskc`, onePackage({ params: `<Suite>${suite}</Suite>` })));
    expect(problems).toEqual([]);
    expect(seeds[0]!.algorithm).toBe(algorithm);
  });

  it('defaults: SHA-1, 6 digits, 30 s for TOTP when AlgorithmParameters/Data say nothing', async () => {
    const { seeds } = await read(tmp.file('defaults.pskc', onePackage({})));
    expect(seeds[0]).toMatchObject({ serial: 'V-1', algorithm: 'sha1', digits: 6, period: 30, counter: null, line: 3 });
  });

  it('DeviceInfo/SerialNo wins over Key Id; Manufacturer, Model and UserId are kept', async () => {
    const device = '<Manufacturer>Acme</Manufacturer><SerialNo>V-9</SerialNo><Model>A1</Model><UserId>grace@contoso.com</UserId>';
    const { seeds } = await read(tmp.file('device.pskc', onePackage({ device })));
    expect(seeds[0]).toMatchObject({ serial: 'V-9', manufacturer: 'Acme', model: 'A1', user: 'grace@contoso.com' });
  });

  it('Key/UserId is used when DeviceInfo has none', async () => {
    const { seeds } = await read(tmp.file('key-user.pskc', onePackage({ keyExtra: '<UserId>heidi@contoso.com</UserId>' })));
    expect(seeds[0]!.user).toBe('heidi@contoso.com');
  });

  it('8 digits, 60 s interval, TimeDrift, non-zero Time (warned)', async () => {
    const xml = onePackage({
      params: '<ResponseFormat Length="8" Encoding="DECIMAL"/>',
      data: '<Time><PlainValue>1000</PlainValue></Time><TimeInterval><PlainValue>60</PlainValue></TimeInterval><TimeDrift><PlainValue>-4</PlainValue></TimeDrift>',
    });
    const { seeds, problems } = await read(tmp.file('drift.pskc', xml));
    expect(seeds[0]).toMatchObject({ digits: 8, period: 60, timeDrift: -4 });
    expect(codes(problems)).toEqual(['warning:value-invalid']);
    expect(problems[0]!.field).toBe('Time');
  });

  it.each([
    ['Suite', { params: '<Suite>SHA384</Suite>' }, 'Suite'],
    ['digits', { params: '<ResponseFormat Length="five" Encoding="DECIMAL"/>' }, 'Length'],
    ['encoding', { params: '<ResponseFormat Length="6" Encoding="ALPHANUMERIC"/>' }, 'Encoding'],
    ['interval', { data: '<TimeInterval><PlainValue>0</PlainValue></TimeInterval>' }, 'TimeInterval'],
    ['counter', { algorithm: `${NS}:hotp`, data: '<Counter><PlainValue>-1</PlainValue></Counter>' }, 'Counter'],
  ])('bad %s -> value-invalid naming the field and its own line, key left out', async (_name, opts, field) => {
    const { seeds, problems } = await read(tmp.file(`bad-${field}.pskc`, onePackage(opts)));
    expect(seeds).toEqual([]);
    expect(codes(problems)).toEqual(['error:value-invalid']);
    // AlgorithmParameters on line 6, the Data beside the Secret on line 9 (the KeyPackage is on line 3).
    expect(problems[0]).toMatchObject({ field, line: 'params' in opts ? 6 : 9 });
    expect(problems[0]!.path).toMatch(/^KeyPackage\[1\]\/Key/);
  });

  it('bad Base64 secret -> secret-invalid, the secret text is not quoted', async () => {
    const xml = onePackage({}).replace(/<PlainValue>[^<]+<\/PlainValue>/, '<PlainValue>JBSW!Y3DP#EHPK3PXP</PlainValue>');
    const { seeds, problems, text } = await read(tmp.file('bad-b64.pskc', xml));
    expect(seeds).toEqual([]);
    expect(codes(problems)).toEqual(['error:secret-invalid']);
    expect(text).not.toContain('JBSW');
  });

  it('a key without serial, without Secret, and a package without Key are reported', async () => {
    const noSerial = onePackage({ device: '' }).replace(' Id="K-1"', '');
    const r1 = await read(tmp.file('no-serial.pskc', noSerial));
    expect(codes(r1.problems)).toEqual(['error:pskc-invalid']);
    expect(r1.problems[0]!.field).toBe('SerialNo');

    const noSecret = onePackage({}).replace(/<Secret>.*<\/Secret>/, '');
    const r2 = await read(tmp.file('no-secret.pskc', noSecret));
    expect(r2.seeds).toEqual([]);
    expect(codes(r2.problems)).toEqual(['error:pskc-invalid']);

    const noKey = `<KeyContainer Version="1.0" xmlns="${NS}"><KeyPackage><DeviceInfo><SerialNo>1</SerialNo></DeviceInfo></KeyPackage></KeyContainer>`;
    const r3 = await read(tmp.file('no-key.pskc', noKey));
    expect(codes(r3.problems)).toEqual(['warning:pskc-invalid']);
  });

  it('a UTF-8 BOM before the XML declaration is fine', async () => {
    const xml = readFileSync(seedsFixture('rfc6030-figure2.pskc'));
    const { seeds } = await read(tmp.file('bom.pskc', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), xml])));
    expect(seeds.map((s) => [s.serial, s.line])).toEqual([['12345678', 4]]);
  });

  it('the line of each seed is the line its KeyPackage starts on', async () => {
    const xml = readFileSync(seedsFixture('psk-two-keys.pskc'), 'utf8');
    const lines = xml.split('\n');
    const expected = lines.flatMap((l, i) => (l.includes('<KeyPackage>') ? [i + 1] : []));
    const { seeds } = await read(seedsFixture('psk-two-keys.pskc'), { pskcKey: TEST_PSK });
    expect(seeds.map((s) => s.line)).toEqual(expected);
    // Same with CRLF line ends and in one big chunk boundary-crossing document.
    const crlf = await read(tmp.file('crlf.pskc', xml.replace(/\n/g, '\r\n')), { pskcKey: TEST_PSK });
    expect(crlf.seeds.map((s) => s.line)).toEqual(expected);
    // A black-box test: a CR alone (old Mac line ends) put every problem on line 1.
    const cr = await read(tmp.file('cr.pskc', xml.replace(/\n/g, '\r')), { pskcKey: TEST_PSK });
    expect(cr.seeds.map((s) => s.line)).toEqual(expected);
    const mixed = await read(tmp.file('mixed.pskc', lines.map((l, i) => l + ['\r', '\r\n', '\n'][i % 3]).join('')), { pskcKey: TEST_PSK });
    expect(mixed.seeds.map((s) => s.line)).toEqual(expected);
  });

  it('CR-only line ends: a problem is reported at its own line', async () => {
    const xml = `<?xml version="1.0"?>\r<KeyContainer Version="1.0" xmlns="${NS}">\r  <KeyPackage>\r    <DeviceInfo><SerialNo>C-1</SerialNo></DeviceInfo>\r    <Key Algorithm="${NS}:totp">\r      <AlgorithmParameters><ResponseFormat Length="6" Encoding="HEXADECIMAL"/></AlgorithmParameters>\r      <Data><Secret><PlainValue>${Buffer.from('12345678901234567890').toString('base64')}</PlainValue></Secret></Data>\r    </Key>\r  </KeyPackage>\r</KeyContainer>\r`;
    const { problems } = await read(tmp.file('cr-problem.pskc', xml));
    expect(problems.map((p) => [p.code, p.line])).toEqual([['value-invalid', 6]]);
    const broken = await read(tmp.file('cr-broken.pskc', xml.replace('</Key>', '</Kee>')));
    expect(broken.problems.map((p) => [p.code, p.line])).toEqual([['pskc-invalid', 8]]);
  });

  it('line numbers stay right across read chunks in a large file', async () => {
    // A distinct secret per token: tokens sharing one are an error (secret-duplicate).
    const secret = (i: number): string => createHash('sha1').update(`L-${i}`).digest('base64');
    const pkg = (i: number): string =>
      `  <KeyPackage>\n    <DeviceInfo><SerialNo>L-${i}</SerialNo></DeviceInfo>\n    <Key Algorithm="${NS}:totp"><Data><Secret><PlainValue>${secret(i)}</PlainValue></Secret></Data></Key>\n  </KeyPackage>\n`;
    const count = 12_000; // ~2.4 MB: several 1 MiB chunks
    const body = Array.from({ length: count }, (_, i) => pkg(i)).join('');
    const xml = `<?xml version="1.0"?>\n<KeyContainer Version="1.0" xmlns="${NS}">\n${body}</KeyContainer>\n`;
    const { seeds, problems } = await read(tmp.file('large.pskc', xml));
    expect(problems).toEqual([]);
    expect(seeds).toHaveLength(count);
    seeds.forEach((s, i) => {
      if (s.line !== 3 + 4 * i || s.serial !== `L-${i}`) throw new Error(`seed ${i}: line ${s.line}, serial ${s.serial}`);
    });
    // CR alone, and a CRLF cut in two by the 1 MiB read boundary (the CR ends one chunk, the LF starts the next): one line end.
    for (const [name, text] of [
      ['large-cr.pskc', xml.replace(/\n/g, '\r')],
      ['large-split-crlf.pskc', splitCrlf(xml.replace(/\n/g, '\r\n'), 1 << 20)],
    ] as const) {
      const r = await read(tmp.file(name, text));
      expect(r.problems, name).toEqual([]);
      r.seeds.forEach((s, i) => {
        if (s.line !== 3 + 4 * i) throw new Error(`${name} seed ${i}: line ${s.line}`);
      });
    }
  });
});

/** `text` with spaces added before its first package so that a CRLF's CR is the last character before `boundary`. */
function splitCrlf(text: string, boundary: number): string {
  const at = text.indexOf('\r\n', boundary - 200);
  const pad = boundary - 1 - at;
  if (at > boundary - 1 || pad < 0) throw new Error('no CRLF near the boundary');
  const first = text.indexOf('  <KeyPackage>');
  return text.slice(0, first) + ' '.repeat(pad) + text.slice(first);
}
