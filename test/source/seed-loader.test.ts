import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateExport } from '../../fixtures/generate-export.js';
import { TEST_PSK } from '../../fixtures/make-contoso-seeds.js';
import { VENDOR_KEYS } from '../../fixtures/make-vendor-seeds.js';
import { sampleSeedArgs } from '../../src/cli/demo-command.js';
import { runCli } from '../helpers/run-cli.js';
import { runMain } from '../helpers/run-main.js';
import { CHECK_DIGIT_PSKC } from '../helpers/check-digit-pskc.js';

// The seed worker exists only in the bundle, so the worker's path runs the bundled CLI (rebuilt
// first if stale) and the main thread's path runs the sources in process, side by side: the two
// must give byte-identical reports and the same exit code.
async function bothWays(args: string[]): Promise<{ code: number | null; report: { tokens: { source: string }[]; errors: { code: string; file: string }[]; warnings: { code: string; file: string; message: string }[] } }> {
  const [here, worker] = await Promise.all([
    runMain([...args, '--format', 'json'], { env: { MFA_MIGRATE_SEED_WORKER: 'never' } }),
    runCli([...args, '--format', 'json'], { env: { MFA_MIGRATE_SEED_WORKER: 'always' } }),
  ]);
  expect(worker.stderr).toBe(here.stderr);
  expect(worker.code).toBe(here.code);
  expect(worker.stdout).toBe(here.stdout);
  return { code: here.code, report: JSON.parse(here.stdout) };
}

/** Seeds in the generated export's file: past one of the seed worker's batches (BATCH in src/source/seed-worker.ts). */
const SEEDS = 5000;

describe('seed files read in a worker thread or in the main thread', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'seed-loader-'));
    // More seeds than one of the worker's batches (4,096): two batches, and the cut copy below ends
    // after the first was sent. The size is not the point beyond that (9,000 cost 3 s more CPU).
    await generateExport({ out: dir, users: SEEDS, tokenShare: 1, deviceShare: 0, backupShare: 0, tenantMethodShare: 0, seed: 11, tenant: false });
    // Ten of its users kept: the seeds are the point, and reading 5,000 users (their phone numbers)
    // cost a quarter of each run's CPU. The other seeds are said unassigned, in both threads alike.
    const users = join(dir, 'users.csv');
    writeFileSync(users, readFileSync(users, 'utf8').split('\n').slice(0, 11).join('\n') + '\n');
    copyFileSync(join(dir, 'tokens', 'seeds.pskc'), join(dir, 'tokens', 'copy.pskc'));
    // Cut off after most of its KeyPackages: refused only at the end, after batches were sent.
    const whole = readFileSync(join(dir, 'tokens', 'seeds.pskc'));
    writeFileSync(join(dir, 'tokens', 'cut.pskc'), whole.subarray(0, Math.floor(whole.length * 0.9)));
    writeFileSync(join(dir, 'psk.hex'), TEST_PSK.toString('hex'));
    // Every key past its ExpiryDate (--pskc-expired take), whole and cut off after its first batches.
    const expired = whole.toString('utf8').replaceAll('    </Key>', '      <Policy><ExpiryDate>2019-03-01T00:00:00Z</ExpiryDate></Policy>\n    </Key>');
    writeFileSync(join(dir, 'tokens', 'expired.pskc'), expired);
    writeFileSync(join(dir, 'tokens', 'expired-cut.pskc'), expired.slice(0, Math.floor(expired.length * 0.9)));
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the Contoso sample and its seed files of every kind', async () => {
    const { code, report } = await bothWays(['validate', '--source', 'fixtures/contoso', ...sampleSeedArgs('fixtures/contoso')]);
    expect(code).toBe(0);
    expect(report.tokens.length).toBeGreaterThan(10);
  });

  it("a token's check digit crosses to the main thread (the wire's own column)", async () => {
    const file = join(dir, 'check-digit.pskc');
    writeFileSync(file, CHECK_DIGIT_PSKC);
    const { report } = await bothWays(['validate', '--source', 'fixtures/contoso', '--tokens', file]);
    expect((report.tokens as unknown as { serial: string; check_digit: boolean }[]).map((t) => [t.serial, t.check_digit])).toEqual([['CD-1', true]]);
  });

  it('several PSKC keys, each file decrypted with its own (the keys cross to the worker too)', async () => {
    const { code, report } = await bothWays([
      'validate', '--source', 'fixtures/contoso', ...sampleSeedArgs('fixtures/contoso'),
      '--tokens', 'fixtures/seeds/psk-two-keys.pskc', '--pskc-key-file', join(dir, 'psk.hex'),
    ]);
    expect(code).toBe(0);
    expect(report.tokens.filter((t) => t.source === 'fixtures/seeds/psk-two-keys.pskc')).toHaveLength(2);
    expect(report.tokens.filter((t) => t.source.endsWith('seeds-psk.pskc')).length).toBeGreaterThan(0);
  });

  it('broken, unsafe and duplicated seed files', async () => {
    const s = 'fixtures/seeds';
    const { code, report } = await bothWays([
      'validate', '--source', 'fixtures/contoso-with-errors',
      '--tokens', 'fixtures/contoso/tokens/seeds.pskc', '--tokens', 'fixtures/contoso/tokens/seeds.pskc',
      '--tokens', `${s}/bad-mac.pskc`, '--pskc-key-file', join(dir, 'psk.hex'), '--tokens', `${s}/truncated.pskc`, '--tokens', `${s}/xxe.pskc`,
      '--tokens', `${s}/generic.csv`, '--tokens', `${s}/bad-values.csv`, '--tokens', `${s}/entra.csv`,
    ]);
    expect(code).toBe(1);
    const seedErrors = report.errors.filter((e) => e.file.startsWith('fixtures/seeds/')).map((e) => `${e.code} ${e.file}`);
    expect(seedErrors).toEqual(expect.arrayContaining([`pskc-mac ${s}/bad-mac.pskc`, `pskc-invalid ${s}/truncated.pskc`, `pskc-unsafe ${s}/xxe.pskc`]));
    // The sample's seed file given twice: read once, said once (its serials are not each a duplicate of themselves).
    expect(report.warnings.filter((w) => w.code === 'seed-duplicate' || w.code === 'seed-file-repeated').map((w) => `${w.code} ${w.file} ${w.message}`)).toEqual([
      'seed-file-repeated fixtures/contoso/tokens/seeds.pskc --tokens gives this seed file twice: it is read once',
    ]);
  });

  it('a large file, a copy of it, and a copy refused at its end after its first batches were sent', async () => {
    const t = join(dir, 'tokens');
    const { code, report } = await bothWays(['validate', '--source', dir, '--tokens', join(t, 'seeds.pskc'), '--tokens', join(t, 'cut.pskc'), '--tokens', join(t, 'copy.pskc')]);
    expect(code).toBe(1);
    const bySource = new Map<string, number>();
    for (const tk of report.tokens) bySource.set(tk.source, (bySource.get(tk.source) ?? 0) + 1);
    // Every seed once, from the first file; the copy only repeats serials, the cut file is refused whole.
    expect(report.tokens).toHaveLength(SEEDS);
    expect([...bySource.keys()]).toEqual(['tokens/seeds.pskc']);
    expect(report.errors.filter((e) => e.code === 'pskc-invalid').map((e) => e.file)).toEqual(['tokens/cut.pskc']);
    expect(report.warnings.filter((w) => w.code === 'seed-duplicate' && w.file === 'tokens/copy.pskc')).toHaveLength(SEEDS);
  }, 60_000);

  it('a file refused after its first batches, then the file whose serials it repeated: nothing of the refused file is kept', async () => {
    const t = join(dir, 'tokens');
    const { report } = await bothWays(['validate', '--source', dir, '--tokens', join(t, 'cut.pskc'), '--tokens', join(t, 'seeds.pskc')]);
    expect(report.tokens).toHaveLength(SEEDS);
    expect(new Set(report.tokens.map((tk) => tk.source))).toEqual(new Set(['tokens/seeds.pskc']));
    expect(report.warnings.filter((w) => w.code === 'seed-duplicate')).toEqual([]);
    expect(report.errors.filter((e) => e.code === 'seed-duplicate')).toEqual([]);
  }, 60_000);

  it('--pskc-expired take: keys past their ExpiryDate cross with their date; a refused file\'s are dropped; a key valid now in another file wins', async () => {
    const t = join(dir, 'tokens');
    const key = (serial: string, id: string, seed: string, date: string) =>
      `<KeyPackage><DeviceInfo><SerialNo>${serial}</SerialNo></DeviceInfo><Key Id="${id}" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp"><Data><Secret><PlainValue>${Buffer.from(seed).toString('base64')}</PlainValue></Secret><TimeInterval><PlainValue>30</PlainValue></TimeInterval></Data><Policy><ExpiryDate>${date}T00:00:00Z</ExpiryDate></Policy></Key></KeyPackage>\n`;
    const pskc = (...keys: string[]) => `<?xml version="1.0"?>\n<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">\n${keys.join('')}</KeyContainer>\n`;
    // One device's March key (first) and April key, both expired; a serial valid now in one file and expired in the next.
    writeFileSync(join(t, 'periods.pskc'), pskc(key('9999999', '3', 'march-key-0123456789', '2006-03-31'), key('9999999', '4', 'april-key-0123456789', '2006-04-30'), key('X-1', 'old', 'old-x1-key-0123456789', '2019-01-01')));
    writeFileSync(join(t, 'current.pskc'), pskc(key('X-1', 'new', 'new-x1-key-0123456789', '2099-01-01')));
    const { report } = await bothWays([
      'validate', '--source', dir, '--pskc-expired', 'take',
      '--tokens', join(t, 'expired-cut.pskc'), '--tokens', join(t, 'periods.pskc'), '--tokens', join(t, 'expired.pskc'), '--tokens', join(t, 'current.pskc'),
    ]);
    const tokens = report.tokens as unknown as { serial: string; source: string; expired_on: string | null }[];
    expect(tokens).toHaveLength(SEEDS + 2);
    expect(tokens.filter((tk) => tk.source === 'tokens/expired.pskc' && tk.expired_on === '2019-03-01T00:00:00Z')).toHaveLength(SEEDS);
    expect(tokens.filter((tk) => tk.source !== 'tokens/expired.pskc').map((tk) => [tk.serial, tk.expired_on])).toEqual([
      ['X-1', null],
      ['9999999', '2006-04-30T00:00:00Z'],
    ]);
    expect(report.errors.map((e) => `${e.code} ${e.file}`)).toEqual(['pskc-invalid tokens/expired-cut.pskc']);
    expect(report.warnings.filter((w) => w.message.includes('left out although --pskc-expired take')).map((w) => w.message.slice(0, w.message.indexOf(' expired on')))).toEqual(['token 9999999 (Key Id "3")', 'token X-1 (Key Id "old")']);
  }, 60_000);

  it('the vendor formats (drafts, key wraps, OATH CSV, counters past 2^53, a secret shared across files)', async () => {
    const f = 'fixtures/seeds/formats';
    writeFileSync(join(dir, 'aes128.hex'), VENDOR_KEYS.aes128.toString('hex'));
    const files = ['rfc6030-kw-aes128.pskc', 'rfc6030-hotp-big-counters.pskc', 'draft-ietf-keyprov-pskc-02-encrypted.pskc', 'draft-hoyer-00-secretcontainer.pskc', 'rfc6030-no-algorithm.pskc', 'oath-linotp.csv', 'oath-privacyidea-v2.csv'];
    const { code, report } = await bothWays(['validate', '--source', 'fixtures/contoso', '--pskc-key-file', join(dir, 'aes128.hex'), ...files.flatMap((x) => ['--tokens', `${f}/${x}`])]);
    expect(code).toBe(1);
    const counters = new Map(report.tokens.map((tk) => [(tk as unknown as { serial: string }).serial, (tk as unknown as { counter: unknown }).counter]));
    expect(counters.get('BIG-1')).toBe('9007199254740993');
    expect(counters.get('BIG-2')).toBe('18446744073709551615');
    expect(counters.get('oath-h1')).toBe(3);
    expect(report.errors.some((e) => e.code === 'secret-duplicate')).toBe(true);
  }, 60_000);
});
