import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderResultsCsv } from '../../src/cli/views/results-csv.js';
import { escHtml, escMarkdown } from '../../src/report/escape.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { ROOT } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/migration.js';
import { CONTOSO_SEEDS, runPlan } from '../plan/helpers.js';

const RLO = '\u202e';

/** Issue 17 item 11: nothing from the input reaches a report or CSV as markup, a link, or a reordering mark. */
describe('report escaping (issue 17 item 11)', () => {
  it('Markdown: < > & as entities, link and image syntax and autolinks broken, bidi and control characters as escapes', () => {
    expect(escMarkdown('<script>alert(1)</script>')).toBe('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(escMarkdown('<svg onload=alert(1)> & co')).toBe('&lt;svg onload=alert(1)&gt; &amp; co');
    expect(escMarkdown('[click](https://evil.example) ![x](http://e/x.png) [r]: http://e')).toBe('\\[click\\](https\\://evil.example) !\\[x\\](http\\://e/x.png) \\[r\\]: http\\://e');
    expect(escMarkdown('see www.evil.example')).toBe('see www\\.evil.example');
    // The escape's backslash is itself escaped, so the page shows `\u202e`.
    expect(escMarkdown(`admin${RLO}gnp.exe`)).toBe('admin\\\\u202egnp.exe');
    expect(escMarkdown('a|b *c* _d_ `e`\nf')).toBe('a\\|b \\*c\\* \\_d\\_ \\`e\\`\\\\u000af');
  });

  it('HTML: markup as entities, bidi and control characters as escapes', () => {
    expect(escHtml(`<b onclick="x">'&'</b>`)).toBe('&lt;b onclick=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/b&gt;');
    expect(escHtml(`admin${RLO}gnp.exe\u0007`)).toBe('admin\\u202egnp.exe\\u0007');
  });

  it('CSV (--results): bidi and control characters as escapes, formulas defused', () => {
    const csv = renderResultsCsv([{ user: `eve${RLO}moc.osotnoc@`, outcome: 'failed', done: 0, failed: 1, skipped: 0, first_error: '=HYPERLINK("http://e")\u001b[2J', stale_reason: '@SUM(1)' }], { runId: 'r1', planHash: 'a'.repeat(64) });
    expect(csv).not.toContain(RLO);
    expect(csv).not.toContain('\u001b');
    expect(csv.split('\n')[1]).toBe(`eve\\u202emoc.osotnoc@,failed,0,1,0,"'=HYPERLINK(""http://e"")\\u001b[2J",r1,${'a'.repeat(64)},,'@SUM(1)`);
  });

  describe('a hostile export through plan --report', () => {
    let emu: RunningEmulator;
    let tmp: ReturnType<typeof tempDir>;
    beforeAll(async () => {
      emu = await startEmulator({ port: 0, throttle: 'off' });
      tmp = tempDir('hostile');
      const source = join(tmp.dir, 'export');
      cpSync(join(ROOT, 'fixtures/contoso'), source, { recursive: true });
      const users = readFileSync(join(source, 'users.csv'), 'utf8');
      // A user whose name carries markup and a right-to-left override, and a method cell that is a Markdown link.
      const row = `"<svg onload=alert(1)>${RLO}moc.osotnoc@eve",Eve,Evil,,true,HR,1,4255550177,,,,,[click](https://evil.example),standard,otp,one_way,standard,,en\n`;
      writeFileSync(join(source, 'users.csv'), users + row);
      for (const f of ['r.md', 'r.html']) {
        const r = await runPlan(emu.url, ['--source', source, ...CONTOSO_SEEDS, '--report', join(tmp.dir, f)]);
        expect(r.code, r.stderr).toBe(0);
      }
    }, 60_000);
    afterAll(async () => {
      await emu?.stop();
      tmp?.cleanup();
    });

    it('keeps the user, shown as text: no raw HTML, no link, no reordering mark', () => {
      const md = readFileSync(join(tmp.dir, 'r.md'), 'utf8');
      const html = readFileSync(join(tmp.dir, 'r.html'), 'utf8');
      for (const out of [md, html]) {
        expect(out).not.toContain('<svg');
        expect(out).not.toContain(RLO);
      }
      expect(html).toContain('&lt;svg onload=alert(1)&gt;\\u202emoc.osotnoc@eve');
      expect(md).toContain('&lt;svg onload=alert(1)&gt;\\\\u202emoc.osotnoc@eve');
      expect(md).not.toMatch(/(?<!\\)\[click(?<!\\)\]\(/);
      expect(md).toContain('\\[click\\](https\\://evil.example)');
    });
  });
});
