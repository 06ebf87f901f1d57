import { createHash } from 'node:crypto';
import { escHtml } from './escape.js';

/**
 * The shell of every HTML report: one self-contained page (no external resource of any kind), its
 * style and script inline, and a Content-Security-Policy that allows exactly those two by their
 * SHA-256 and nothing else (no other script, style, image, font, frame, connection or form).
 */
export function htmlPage(title: string, body: string): string {
  const page = htmlPageAround(title);
  return `${page.head}${body}${page.tail}`;
}

/** What htmlPage puts before and after the body: a long body is written between them as it is made. */
export function htmlPageAround(title: string): { head: string; tail: string } {
  const head = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
`;
  const tail = `
<script>${SCRIPT}</script>
</body>
</html>
`;
  return { head, tail };
}

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

const CSS = `
:root { --ink: #1b1f24; --muted: #5b6470; --line: #d7dce2; --head: #f3f5f8; --create: #116329; --update: #7d4e00; --delete: #a40e26; --accent: #0b5cad; }
* { box-sizing: border-box; }
body { font: 14px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); margin: 2rem auto; max-width: 1200px; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin: 0 0 1rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .5rem; border-bottom: 2px solid var(--line); padding-bottom: .25rem; }
h3 { font-size: 1.05rem; margin: 0 0 .5rem; }
h4 { font-size: .95rem; margin: .75rem 0 .35rem; color: var(--muted); }
a { color: var(--accent); }
p.intro, .muted { color: var(--muted); }
p.intro { margin: .25rem 0 .75rem; }
table { border-collapse: collapse; width: 100%; margin-bottom: .75rem; }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; overflow-wrap: break-word; }
th { background: var(--head); font-weight: 600; white-space: nowrap; }
table.kv { width: auto; min-width: 60%; }
table.kv th { width: 13rem; white-space: nowrap; }
.mono, td code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
p.alert { border: 2px solid var(--delete); color: var(--delete); background: #fff0f0; padding: .5rem .75rem; font-weight: 700; }
.rehearsal { background: #fff4ce; border: 1px solid #e0b300; padding: 0 .35rem; font-weight: 600; }
table.signoff td { height: 2.4rem; }
ul.counts { margin: .25rem 0 1rem; padding-left: 1.2rem; }
.controls { position: sticky; top: 0; background: #fff; border: 1px solid var(--line); padding: .5rem; display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; z-index: 1; }
.controls label { font-size: 13px; color: var(--muted); }
.controls input[type=search] { min-width: 18rem; padding: .25rem .4rem; }
.entry { border: 1px solid var(--line); border-radius: 6px; padding: .6rem .8rem; margin: .6rem 0; }
.entry > summary { cursor: pointer; font-weight: 600; }
.entry.attention { border-color: var(--delete); }
.cols { display: grid; grid-template-columns: minmax(16rem, 1fr) 2fr; gap: 1rem; }
.badge { display: inline-block; font-size: 12px; font-weight: 600; padding: 0 .4rem; border-radius: 4px; border: 1px solid var(--line); background: var(--head); margin-left: .4rem; }
.badge.changes, .badge.failed, .badge.error { border-color: var(--update); color: var(--update); }
.badge.failed, .badge.error, .badge.none-usable { border-color: var(--delete); color: var(--delete); }
.badge.done { border-color: var(--create); color: var(--create); }
.badge.unknown, .badge.partly-undone, .badge.not-undone { border-color: var(--update); color: var(--update); }
td.create { color: var(--create); font-weight: 600; }
td.update { color: var(--update); font-weight: 600; }
td.delete, td.failed, td.error { color: var(--delete); font-weight: 600; }
td.done { color: var(--create); font-weight: 600; }
td.no-op, td.info { color: var(--muted); }
td.warning, td.started { color: var(--update); font-weight: 600; }
.none { color: var(--muted); font-style: italic; }
@media (max-width: 800px) { .cols { grid-template-columns: 1fr; } }
@media print {
  body { margin: 0; max-width: none; font-size: 10.5px; }
  .controls { display: none; }
  .entry[hidden] { display: block; }
  details.entry > :not(summary), details.entry::details-content { display: block; content-visibility: visible; }
  h2, h3 { break-after: avoid; }
  tr, .entry > summary { break-inside: avoid; }
  thead { display: table-header-group; }
  a { color: inherit; text-decoration: none; }
  table.signoff { break-inside: avoid; }
}
`;

/**
 * Search and filters: every `.entry` carries `data-user` (lower-case), `data-status`, and
 * space-separated `data-actions`, `data-rules`, `data-severities`; an entry stays visible when it
 * matches the search text and every filter chosen. The same script serves the plan and the run report.
 */
const SCRIPT = `
(function () {
  var q = document.getElementById('search');
  var filters = Array.prototype.slice.call(document.querySelectorAll('select[data-filter]'));
  var entries = Array.prototype.slice.call(document.querySelectorAll('.entry[data-user]'));
  var shown = document.getElementById('shown');
  if (!q) return;
  function has(list, value) { return !value || (' ' + (list || '') + ' ').indexOf(' ' + value + ' ') >= 0; }
  function apply() {
    var term = q.value.trim().toLowerCase();
    var n = 0;
    entries.forEach(function (e) {
      var ok = !term || e.getAttribute('data-user').indexOf(term) >= 0;
      filters.forEach(function (f) { ok = ok && has(e.getAttribute('data-' + f.getAttribute('data-filter')), f.value); });
      e.hidden = !ok;
      if (ok) n++;
    });
    if (shown) shown.textContent = n + ' of ' + entries.length + ' users shown';
  }
  q.addEventListener('input', apply);
  filters.forEach(function (f) { f.addEventListener('change', apply); });
  apply();
})();
`;

const CSP = [`default-src 'none'`, `style-src ${sha256(CSS)}`, `script-src ${sha256(SCRIPT)}`, `img-src 'none'`, `base-uri 'none'`, `form-action 'none'`].join('; ');

/** A `<select>` filter over one `data-` attribute of the entries (values and their labels). */
export function filterSelect(attribute: string, label: string, options: readonly (readonly [string, string])[]): string {
  const opts = [`<option value="">any</option>`, ...options.map(([v, l]) => `<option value="${escHtml(v)}">${escHtml(l)}</option>`)].join('');
  return `<label>${escHtml(label)} <select data-filter="${escHtml(attribute)}">${opts}</select></label>`;
}

/** The search box and filters above the entries. */
export function controls(filters: readonly string[]): string {
  return `<div class="controls" role="search"><label>Search user <input type="search" id="search" placeholder="name@domain" autocomplete="off"></label>${filters.join('')}<span class="muted" id="shown"></span></div>`;
}

/** A user-data anchor id: `user-` and the UPN's letters and digits, made unique in order of use. */
export function anchorIds(names: readonly string[], prefix: string): string[] {
  const used = new Set<string>();
  return names.map((n) => {
    const base = `${prefix}-${n.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}`;
    let id = base;
    for (let k = 2; used.has(id); k++) id = `${base}-${k}`;
    used.add(id);
    return id;
  });
}
