import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { codes, read, seedsFixture, tempDir } from './seed-test-helpers.js';

/** A line of /etc/passwd that would show up if the external entity were ever resolved. */
const PASSWD_MARKERS = ['root:x:0:0', '/bin/bash', '/usr/sbin/nologin'];

describe('PSKC parsing is safe against hostile XML', () => {
  it('XXE: a DOCTYPE with an external entity refuses the file; /etc/passwd never appears', async () => {
    const { seeds, problems, text } = await read(seedsFixture('xxe.pskc'));
    expect(seeds).toEqual([]);
    expect(codes(problems)).toEqual(['error:pskc-unsafe']);
    expect(problems[0]!.message).toMatch(/DOCTYPE/);
    // Where the DOCTYPE starts, not where it ends (line 4).
    expect(problems[0]!.line).toBe(2);
    for (const marker of PASSWD_MARKERS) expect(text).not.toContain(marker);
    expect(JSON.stringify(seeds)).not.toContain('root');
  });

  it('billion laughs: refused at the DOCTYPE, without expanding anything', async () => {
    const before = process.memoryUsage().heapUsed;
    const { seeds, problems, text } = await read(seedsFixture('billion-laughs.pskc'));
    expect(seeds).toEqual([]);
    expect(codes(problems)).toEqual(['error:pskc-unsafe']);
    expect(text).not.toContain('lollol');
    // An expansion would need about 3 GB; the heap must not have grown by anything like that.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(50 * 1024 * 1024);
  });

  it('an entity reference without a DTD is a parse error, not an expansion', async () => {
    const { seeds, problems } = await read(seedsFixture('undeclared-entity.pskc'));
    expect(seeds).toEqual([]);
    expect(codes(problems)).toEqual(['error:pskc-invalid']);
    expect(problems[0]!.line).toBe(6);
  });

  it('a DOCTYPE without entities is refused too', async () => {
    const tmp = tempDir();
    const xml = readFileSync(seedsFixture('rfc6030-figure2.pskc'), 'utf8').replace('<KeyContainer', '<!DOCTYPE KeyContainer>\n<KeyContainer');
    const { seeds, problems } = await read(tmp.file('doctype.pskc', xml));
    expect(seeds).toEqual([]);
    expect(codes(problems)).toEqual(['error:pskc-unsafe']);
    const line = xml.split('\n').findIndex((l) => l.startsWith('<!DOCTYPE')) + 1;
    expect(problems[0]!.line).toBe(line);
    // A DOCTYPE over several lines, with CRLF and CR line ends: still the line it starts on.
    for (const eol of ['\r\n', '\r']) {
      const text = `<?xml version="1.0"?>${eol}${eol}<!DOCTYPE KeyContainer [${eol}  <!ENTITY a "b">${eol}]>${eol}<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"/>${eol}`;
      const long = await read(tmp.file(`doctype-${eol.length}.pskc`, text));
      expect(long.problems.map((p) => [p.code, p.line]), JSON.stringify(eol)).toEqual([['pskc-unsafe', 3]]);
    }
  });

  it('files over maxXmlBytes are refused before parsing', async () => {
    const { seeds, problems } = await read(seedsFixture('rfc6030-figure2.pskc'), { maxXmlBytes: 100 });
    expect(seeds).toEqual([]);
    expect(codes(problems)).toEqual(['error:pskc-unsafe']);
    expect(problems[0]!.message).toMatch(/100-byte limit/);
  });

  it('malformed XML is pskc-invalid with the line, and nothing from the file is used', async () => {
    const { seeds, problems } = await read(seedsFixture('truncated.pskc'));
    expect(seeds).toEqual([]);
    expect(codes(problems)).toEqual(['error:pskc-invalid']);
    expect(problems[0]!.line).toBe(16);
  });

  it('XML that is not PSKC is seed-format-unknown', async () => {
    const { seeds, problems, text } = await read(seedsFixture('not-pskc.xml'));
    expect(seeds).toEqual([]);
    expect(codes(problems)).toEqual(['error:seed-format-unknown']);
    expect(text).not.toContain('3132333435');
  });

  it('invalid UTF-8 is pskc-invalid', async () => {
    const tmp = tempDir();
    const xml = Buffer.concat([
      Buffer.from('<?xml version="1.0"?>\n<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"><KeyPackage><DeviceInfo><Manufacturer>'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('</Manufacturer></DeviceInfo></KeyPackage></KeyContainer>'),
    ]);
    const { seeds, problems } = await read(tmp.file('latin.pskc', xml));
    expect(seeds).toEqual([]);
    expect(codes(problems)).toEqual(['error:pskc-invalid']);
    expect(problems[0]!.message).toMatch(/UTF-8/);
  });

  it('a file that declares ISO-8859-1 (or windows-1252) is read in that encoding, as XML has it; another declared encoding is refused saying which', async () => {
    const tmp = tempDir();
    const body = (decl: string, manufacturer: Buffer) => Buffer.concat([
      Buffer.from(`<?xml version="1.0" ${decl}?>\r\n<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">\r\n<KeyPackage><DeviceInfo><Manufacturer>`),
      manufacturer,
      Buffer.from('</Manufacturer><SerialNo>L-1</SerialNo></DeviceInfo>\r\n<Key Id="L-1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp"><Data><Secret><PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</PlainValue></Secret><TimeInterval><PlainValue>60</PlainValue></TimeInterval></Data></Key></KeyPackage></KeyContainer>\r\n'),
    ]);
    const latin = Buffer.from('Soci\xe9t\xe9 \x80', 'latin1');
    for (const decl of ['encoding="ISO-8859-1"', "encoding='latin1' standalone='yes'", 'encoding="windows-1252"']) {
      const { seeds, problems } = await read(tmp.file('latin1.pskc', body(decl, latin)));
      expect(problems, decl).toEqual([]);
      expect(seeds.map((s) => [s.serial, s.manufacturer, s.period, s.line, s.secret.reveal().toString('ascii')]), decl).toEqual([['L-1', 'Société €', 60, 3, '12345678901234567890']]);
    }
    const sjis = await read(tmp.file('sjis.pskc', body('encoding="Shift_JIS"', Buffer.from('X'))));
    expect(sjis.seeds).toEqual([]);
    expect(codes(sjis.problems)).toEqual(['error:pskc-invalid']);
    expect(sjis.problems[0]).toMatchObject({ line: 1 });
    expect(sjis.problems[0]!.message).toMatch(/declares the encoding "Shift_JIS".*UTF-8/);
    // Declared UTF-8 yet holding Latin-1 bytes: still refused as not UTF-8.
    const lying = await read(tmp.file('lying.pskc', body('encoding="UTF-8"', latin)));
    expect(codes(lying.problems)).toEqual(['error:pskc-invalid']);
    expect(lying.problems[0]!.message).toMatch(/not valid UTF-8/);
  });

  it('a file that declares ISO-8859-1 but is written in UTF-8 (as tools that write the declaration blindly leave it) is read as UTF-8, not turned into mojibake', async () => {
    const tmp = tempDir();
    const file = (decl: string, manufacturer: string, user: string) =>
      tmp.file('utf8-labelled-latin1.pskc', Buffer.from(`<?xml version="1.0" ${decl}?>\n<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">\n<KeyPackage><DeviceInfo><Manufacturer>${manufacturer}</Manufacturer><SerialNo>U-1</SerialNo></DeviceInfo>\n<Key Id="U-1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp"><UserId>${user}</UserId><Data><Secret><PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</PlainValue></Secret></Data></Key></KeyPackage></KeyContainer>\n`, 'utf8'));
    for (const decl of ['encoding="ISO-8859-1"', 'encoding="windows-1252"']) {
      const { seeds, problems } = await read(file(decl, 'Société', 'jürgen.müller@contoso.com'));
      expect(problems, decl).toEqual([]);
      expect(seeds.map((s) => [s.serial, s.manufacturer, s.user]), decl).toEqual([['U-1', 'Société', 'jürgen.müller@contoso.com']]);
    }
  });

  it('an unsupported KeyContainer Version is refused', async () => {
    const tmp = tempDir();
    const xml = readFileSync(seedsFixture('rfc6030-figure2.pskc'), 'utf8').replace('Version="1.0"', 'Version="2.0"');
    const { seeds, problems } = await read(tmp.file('v2.pskc', xml));
    expect(seeds).toEqual([]);
    expect(codes(problems)).toEqual(['error:pskc-invalid']);
  });

  it('a PBKDF2 iteration count meant to stall the run is refused', async () => {
    const tmp = tempDir();
    const xml = readFileSync(seedsFixture('rfc6030-figure7.pskc'), 'utf8').replace('<IterationCount>1000<', '<IterationCount>2000000000<');
    const { seeds, problems } = await read(tmp.file('slow.pskc', xml), { pskcPassword: 'qwerty' });
    expect(seeds).toEqual([]);
    expect(codes(problems)).toEqual(['error:pskc-invalid']);
    expect(problems[0]!.message).toMatch(/IterationCount/);
  });
});

/**
 * Issue 17 item 9: a KeyContainer child is held as a tree until it is complete; a hostile one (50M
 * elements, nesting a million deep, huge text) exhausted memory or aborted the process. The shape is
 * capped while streaming; the caps are settable, so these files stay small.
 */
describe('issue 17 item 9: PSKC streaming caps (depth, children per element, elements, text) end in pskc-unsafe', () => {
  const tmp = tempDir();
  const NS = 'urn:ietf:params:xml:ns:keyprov:pskc';
  const secret = (n: number): string => Buffer.from(`1234567890123456789${n}`).toString('base64');
  /** A good KeyPackage (serial S-1) followed by one whose DeviceInfo holds `junk`. */
  const file = (name: string, junk: string): string =>
    tmp.file(
      name,
      `<?xml version="1.0"?>\n<KeyContainer Version="1.0" xmlns="${NS}">\n` +
        `<KeyPackage><DeviceInfo><SerialNo>S-1</SerialNo></DeviceInfo><Key Algorithm="${NS}:totp"><Data><Secret><PlainValue>${secret(1)}</PlainValue></Secret></Data></Key></KeyPackage>\n` +
        `<KeyPackage><DeviceInfo>${junk}<SerialNo>S-2</SerialNo></DeviceInfo><Key Algorithm="${NS}:hotp"><Data><Secret><PlainValue>${secret(2)}</PlainValue></Secret><Counter><PlainValue>0</PlainValue></Counter></Data></Key></KeyPackage>\n</KeyContainer>\n`,
    );

  it('nesting deeper than maxDepth (default 32): refused, also a million deep, without a crash', async () => {
    const deep = (n: number): string => '<x>'.repeat(n) + '</x>'.repeat(n);
    const small = await read(file('deep-40.pskc', deep(40)));
    expect(small.seeds).toEqual([]);
    expect(codes(small.problems)).toEqual(['error:pskc-unsafe']);
    expect(small.problems[0]!.message).toMatch(/nested more than 32 deep; no PSKC file needs that; the file is refused$/);
    expect(small.problems[0]!.line).toBe(4);
    const huge = await read(file('deep-1m.pskc', deep(1_000_000)));
    expect(codes(huge.problems)).toEqual(['error:pskc-unsafe']);
    const settable = await read(file('deep-5.pskc', deep(5)), { pskcLimits: { maxDepth: 6 } });
    expect(codes(settable.problems)).toEqual(['error:pskc-unsafe']);
    expect(codes((await read(file('deep-5b.pskc', deep(5)))).problems)).toEqual([]);
  });

  it('more than maxChildren child elements under one element: refused', async () => {
    const { seeds, problems } = await read(file('wide.pskc', '<x/>'.repeat(1_001)));
    expect(seeds).toEqual([]);
    expect(codes(problems)).toEqual(['error:pskc-unsafe']);
    expect(problems[0]!.message).toMatch(/more than 1000 child elements/);
    expect(codes((await read(file('wide-10.pskc', '<x/>'.repeat(10)), { pskcLimits: { maxChildren: 10 } })).problems)).toEqual(['error:pskc-unsafe']);
  });

  it('more than maxElements in one KeyPackage (however they nest): refused before they pile up', async () => {
    // 50 wide groups of 500: each element has few enough children, the package has far too many.
    const groups = `<g>${'<x/>'.repeat(500)}</g>`.repeat(50);
    const before = process.memoryUsage().heapUsed;
    const { seeds, problems } = await read(file('many.pskc', groups));
    expect(seeds).toEqual([]);
    expect(codes(problems)).toEqual(['error:pskc-unsafe']);
    expect(problems[0]!.message).toMatch(/more than 10000 elements/);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('text beyond maxText (one node or a KeyPackage in all): refused, also a node larger than a read chunk', async () => {
    const { seeds, problems } = await read(file('text.pskc', `<x>${'a'.repeat(200)}</x>`), { pskcLimits: { maxText: 100 } });
    expect(seeds).toEqual([]);
    expect(codes(problems)).toEqual(['error:pskc-unsafe']);
    expect(codes((await read(file('texts.pskc', `<x>${'a'.repeat(60)}</x><y>${'a'.repeat(60)}</y>`), { pskcLimits: { maxText: 100 } })).problems)).toEqual(['error:pskc-unsafe']);
    // 3 MB of text in one node, over several 1 MiB chunks: stopped at the default 1 MiB.
    const big = await read(file('big-text.pskc', `<x>${'a'.repeat(3 * 1024 * 1024)}</x>`));
    expect(codes(big.problems)).toEqual(['error:pskc-unsafe']);
    expect(big.problems[0]!.message).toMatch(/more than 1048576 characters/);
  });

  it('within the caps, files read as before', async () => {
    const { seeds, problems } = await read(file('fine.pskc', '<x>ok</x>'.repeat(20)));
    expect(problems).toEqual([]);
    expect(seeds.map((s) => s.serial)).toEqual(['S-1', 'S-2']);
  });

  it('never quotes a field that holds what could be a secret (an Algorithm, Suite or Version written in the wrong place)', async () => {
    const secret = 'INQW4YLSPFJWKZLEIJ4XIZLTEMYDANBS';
    const tmp = tempDir();
    const path = tmp.file('misplaced.pskc', `<?xml version="1.0"?>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">
  <KeyPackage><DeviceInfo><SerialNo>M-1</SerialNo></DeviceInfo>
    <Key Id="M-1" Algorithm="${secret}"><Data><Secret><PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</PlainValue></Secret></Data></Key></KeyPackage>
  <KeyPackage><DeviceInfo><SerialNo>M-2</SerialNo></DeviceInfo>
    <Key Id="M-2" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp"><AlgorithmParameters><Suite>${secret}</Suite></AlgorithmParameters>
      <Data><Secret><PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</PlainValue></Secret></Data></Key></KeyPackage>
</KeyContainer>
`);
    const { problems, text } = await read(path);
    expect(problems.length).toBeGreaterThanOrEqual(2);
    expect(text).not.toContain(secret);
    expect(text).toMatch(/a value of 32 characters, not shown/);
  });
});

describe('a PSKC SerialNo, UserId, Manufacturer or Model holding what looks like a seed (a security review: echoed in messages)', () => {
  const tmp = tempDir();
  const NS = 'urn:ietf:params:xml:ns:keyprov:pskc';
  const seed = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
  const pkg = (deviceInfo: string, userId = '') =>
    `<KeyPackage><DeviceInfo>${deviceInfo}</DeviceInfo><Key Id="K-1" Algorithm="${NS}:totp">${userId}<Data><Secret><PlainValue>${Buffer.from('12345678901234567890').toString('base64')}</PlainValue></Secret></Data></Key></KeyPackage>\n`;
  const file = (name: string, packages: string) => tmp.file(name, `<?xml version="1.0"?>\n<KeyContainer Version="1.0" xmlns="${NS}">\n${packages}</KeyContainer>\n`);

  it('is refused with the key, the value neither shown nor named, as is such a Key Id standing in for the serial; a GUID Key Id is read', async () => {
    for (const [name, packages] of [
      ['serial', pkg(`<SerialNo>${seed}</SerialNo>`)],
      ['model', pkg(`<SerialNo>S-1</SerialNo><Model>${seed}</Model>`)],
      ['user', pkg('<SerialNo>S-1</SerialNo>', `<UserId>${seed}</UserId>`)],
    ] as const) {
      const { seeds, problems, text } = await read(file(`${name}.pskc`, packages));
      expect(seeds, name).toEqual([]);
      expect(codes(problems), name).toEqual(['error:value-invalid']);
      expect(problems[0]!.message, name).toMatch(/looks like a secret \(32 Base32 characters, not shown\): is the file written with its fields in the wrong places\? The key is skipped$/);
      expect(text, name).not.toContain(seed);
    }
    // A black-box test: a Key Id standing in for the missing SerialNo was shown whatever it held.
    for (const id of [seed, '3132333435363738393031323334353637383930', '3f2b8c1e9a7d4e6f8b2a1c0d9e8f7a6b']) {
      const keyId = await read(file('key-id.pskc', pkg('').replace('Id="K-1"', `Id="${id}"`)));
      expect(keyId.seeds, id).toEqual([]);
      expect(keyId.problems.map((p) => [p.code, p.path, p.field]), id).toEqual([['value-invalid', 'KeyPackage[1]/Key', 'Id']]);
      expect(keyId.problems[0]!.message).toMatch(/^the Key Id \(standing in for the missing SerialNo\) looks like a secret \(\d+ (hex|Base32) characters, not shown\)/);
      expect(keyId.text, id).not.toContain(id);
    }
    // With a SerialNo, the Key Id is not the serial (and may be anything the vendor numbers keys by).
    const withSerial = await read(file('key-id-serial.pskc', pkg('<SerialNo>S-1</SerialNo>').replace('Id="K-1"', 'Id="3132333435363738393031323334353637383930"')));
    expect(withSerial.seeds.map((s) => s.serial)).toEqual(['S-1']);
    const guid = await read(file('guid.pskc', pkg('').replace('Id="K-1"', 'Id="3f2b8c1e-9a7d-4e6f-8b2a-1c0d9e8f7a6b"')));
    expect(guid.seeds.map((s) => s.serial)).toEqual(['3f2b8c1e-9a7d-4e6f-8b2a-1c0d9e8f7a6b']);
    // As a URN (RFC 4122) or in braces, the same GUID (a review saw the URN refused).
    for (const id of ['urn:uuid:3f2b8c1e-9a7d-4e6f-8b2a-1c0d9e8f7a6b', '{3F2B8C1E-9A7D-4E6F-8B2A-1C0D9E8F7A6B}']) {
      const r = await read(file('guid-forms.pskc', pkg('').replace('Id="K-1"', `Id="${id}"`)));
      expect([r.seeds.map((s) => s.serial), r.problems], id).toEqual([[id], []]);
    }
    // A UserId holding a directory object's GUID is a user, not a seed (a review).
    const objectId = await read(file('user-guid.pskc', pkg('<SerialNo>S-1</SerialNo>', '<UserId>8c4a4b6e-1f2a-4b7d-9c3e-0a1b2c3d4e5f</UserId>')));
    expect(objectId.seeds.map((s) => [s.serial, s.user])).toEqual([['S-1', '8c4a4b6e-1f2a-4b7d-9c3e-0a1b2c3d4e5f']]);
  });
});

describe('an XML Signature (ds:Signature) on the KeyContainer', () => {
  const tmp = tempDir();
  const NS = 'urn:ietf:params:xml:ns:keyprov:pskc';

  it('is not checked, and a warning says so (a black-box test: it was ignored without a word)', async () => {
    const xml = `<?xml version="1.0"?>\n<KeyContainer Version="1.0" xmlns="${NS}" xmlns:ds="http://www.w3.org/2000/09/xmldsig#">\n<KeyPackage><DeviceInfo><SerialNo>S-1</SerialNo></DeviceInfo><Key Id="1" Algorithm="${NS}:totp"><Data><Secret><PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</PlainValue></Secret></Data></Key></KeyPackage>\n<ds:Signature><ds:SignedInfo><ds:SignatureMethod Algorithm="http://www.w3.org/2000/09/xmldsig#rsa-sha1"/></ds:SignedInfo><ds:SignatureValue>AAAA</ds:SignatureValue></ds:Signature>\n</KeyContainer>\n`;
    const { seeds, problems } = await read(tmp.file('signed.pskc', xml));
    expect(seeds.map((s) => s.serial)).toEqual(['S-1']);
    expect(problems).toEqual([
      expect.objectContaining({ severity: 'warning', code: 'pskc-signature', line: 4, path: 'Signature', message: expect.stringMatching(/^the file carries an XML Signature \(ds:Signature\), which is not checked/) }),
    ]);
  });
});
