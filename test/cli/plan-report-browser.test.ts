import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { CONTOSO, runPlan } from '../plan/helpers.js';

/** Debian's chromium (or CHROMIUM_BIN). Without one the test is skipped, and says so. */
const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`plan-report-browser: SKIPPED, no Chromium at ${CHROMIUM} (install Debian's chromium or set CHROMIUM_BIN to render the HTML report)`);

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function screenshot(html: string, png: string, profile: string): Promise<{ stdout: string; stderr: string }> {
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--user-data-dir=${profile}`,
    '--window-size=1300,2000',
    `--screenshot=${png}`,
    pathToFileURL(html).href,
  ];
  return new Promise((resolve, reject) => {
    execFile(CHROMIUM, args, { timeout: 90_000 }, (err, stdout, stderr) => (err ? reject(Object.assign(err, { stderr })) : resolve({ stdout, stderr })));
  });
}

describe('mfa-migrate plan --report: the HTML report in a browser', () => {
  let emu: RunningEmulator;
  let dir: string;
  beforeAll(async () => {
    emu = await startEmulator({ port: 0, throttle: 'off' });
    dir = mkdtempSync(join(tmpdir(), 'plan-browser-'));
  });
  afterAll(async () => {
    await emu?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!hasChromium)(
    'renders in headless Chromium to a full-size screenshot',
    async () => {
      const html = join(dir, 'report.html');
      const r = await runPlan(emu.url, [...CONTOSO, '--report', html]);
      expect(r.code).toBe(0);
      const png = join(dir, 'report.png');
      await screenshot(html, png, join(dir, 'profile'));
      expect(existsSync(png)).toBe(true);
      const bytes = readFileSync(png);
      expect(bytes.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
      // IHDR: the window size asked for.
      expect(bytes.toString('latin1', 12, 16)).toBe('IHDR');
      expect([bytes.readUInt32BE(16), bytes.readUInt32BE(20)]).toEqual([1300, 2000]);
      // A blank or error page of that size compresses to a few kilobytes; tables of text do not.
      expect(statSync(png).size).toBeGreaterThan(60_000);
    },
    120_000,
  );
});
