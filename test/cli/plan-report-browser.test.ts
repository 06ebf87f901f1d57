import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import type { Plan } from '../../src/plan/plan-model.js';
import { CONTOSO, runPlan } from '../plan/helpers.js';

/** Debian's chromium (or CHROMIUM_BIN), driven by playwright-core. Without one the test is skipped, and says so. */
const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`plan-report-browser: SKIPPED, no Chromium at ${CHROMIUM} (install Debian's chromium or set CHROMIUM_BIN to check the HTML report in a browser)`);

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** What the page's code uses of the DOM (the project compiles without the DOM library). */
interface Shown {
  offsetParent: unknown;
}
type WithStyle = { getComputedStyle(e: unknown): { borderBottomStyle: string } };

/** The users whose entries are laid out now (an element not displayed has no offsetParent). */
const visibleUsers = (page: Page) => page.$$eval('.entry[data-user]', (els) => els.filter((e) => (e as unknown as Shown).offsetParent !== null).map((e) => e.getAttribute('data-user')));

describe.skipIf(!hasChromium)('the HTML mapping report in Chromium', () => {
  let emu: RunningEmulator;
  let dir: string;
  let browser: Browser;
  let plan: Plan;
  let html: string;
  // Screenshots stay where REPORT_SCREENSHOTS says (for a person to look at), else in the test's folder.
  let shots: string;

  beforeAll(async () => {
    emu = await startEmulator({ port: 0, throttle: 'off' });
    dir = mkdtempSync(join(tmpdir(), 'plan-browser-'));
    shots = process.env.REPORT_SCREENSHOTS ?? dir;
    mkdirSync(shots, { recursive: true });
    html = join(dir, 'report.html');
    const r = await runPlan(emu.url, [...CONTOSO, '--format', 'json', '--report', html]);
    expect(r.code, r.stderr).toBe(0);
    plan = JSON.parse(r.stdout) as Plan;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await emu?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(path: string): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1300, height: 1000 } });
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('request', (req) => !req.url().startsWith('file:') && problems.push(`fetched ${req.url()}`));
    await page.goto(pathToFileURL(path).href);
    return { page, problems };
  }

  it('runs its own script and style under its CSP, fetches nothing, and filters to one user as a name is typed', async () => {
    const { page, problems } = await open(html);
    // The style applied (by its hash) and the script ran (by its hash): it counts the entries.
    expect(await page.$eval('h2', (h) => (globalThis as unknown as WithStyle).getComputedStyle(h).borderBottomStyle)).toBe('solid');
    expect(await page.textContent('#shown')).toBe(`${plan.users.length} of ${plan.users.length} users shown`);
    expect(await visibleUsers(page)).toHaveLength(plan.users.length);
    await page.screenshot({ path: join(shots, 'report-top.png') });

    await page.locator('#search').pressSequentially('aaron@');
    expect(await visibleUsers(page)).toEqual(['aaron@contoso.com']);
    expect(await page.textContent('#shown')).toBe(`1 of ${plan.users.length} users shown`);
    await page.locator('#user-aaron-contoso-com').screenshot({ path: join(shots, 'report-user.png') });

    // The filters: users left with no usable method, then one rule.
    await page.fill('#search', '');
    await page.selectOption('select[data-filter="outcome"]', 'no-usable-method');
    expect((await visibleUsers(page)).sort()).toEqual(plan.users.filter((u) => u.methods_after?.length === 0).map((u) => u.user.toLowerCase()).sort());
    await page.selectOption('select[data-filter="outcome"]', '');
    await page.selectOption('select[data-filter="rules"]', 'PHONE-PRIMARY-OFFICE');
    const office = new Set(plan.user_changes.filter((c) => c.rule === 'PHONE-PRIMARY-OFFICE').map((c) => c.user.toLowerCase()));
    expect(new Set(await visibleUsers(page))).toEqual(office);
    expect(problems).toEqual([]);
    await page.close();

    for (const png of ['report-top.png', 'report-user.png']) {
      const bytes = readFileSync(join(shots, png));
      expect(bytes.subarray(0, 8).equals(PNG_SIGNATURE), png).toBe(true);
      // A blank page compresses to a few kilobytes; a page of tables does not.
      expect(statSync(join(shots, png)).size, png).toBeGreaterThan(20_000);
    }
  }, 120_000);

  it('prints every user expanded, filters and search hidden', async () => {
    const { page, problems } = await open(html);
    await page.fill('#search', 'aaron@');
    const collapsed = plan.users.find((u) => u.status === 'unchanged' && (u.methods_after?.length ?? 0) > 0)!;
    const inner = page.locator(`details[data-user="${collapsed.user.toLowerCase()}"] .cols`);
    expect(await inner.isVisible()).toBe(false);
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('.controls').isVisible()).toBe(false);
    expect(await inner.isVisible()).toBe(true);
    expect(await visibleUsers(page)).toHaveLength(plan.users.length);
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);

  it('refuses a script its CSP does not name (a report edited to carry one runs nothing)', async () => {
    const edited = join(dir, 'edited.html');
    writeFileSync(edited, readFileSync(html, 'utf8').replace('<body>', '<body>\n<script>document.title = "pwned"</script>'));
    const { page, problems } = await open(edited);
    expect(await page.title()).not.toBe('pwned');
    expect(problems.some((p) => /Content Security Policy/i.test(p))).toBe(true);
    await page.close();
  }, 60_000);
});
