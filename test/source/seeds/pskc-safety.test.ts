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
