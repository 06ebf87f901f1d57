import { printable } from '../model/printable.js';

/**
 * Text from the export, the seed files or Graph, made safe for the reports. Control characters and
 * the marks that reorder displayed text (bidi overrides and isolates) are shown as `\u202e`-style
 * escapes first (model/printable.ts), so a report shows the text that is there and not a reordered
 * one; then the format's own syntax is escaped.
 */

/** For HTML text and attribute values: `& < > " '` as entities. */
export function escHtml(text: string): string {
  return printable(text).replace(/[&<>"']/g, (c) => HTML_ENTITIES[c]!);
}

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * For Markdown text (CommonMark with GitHub's tables and autolinks): `< > &` as entities, so no raw
 * HTML passes (`<script>`, `<svg onload>`, `<https://...>` autolinks); the brackets of link and
 * image syntax (`[x](url)`, `![x](url)`, `[x]: url`), emphasis and code marks and table pipes
 * backslash-escaped, and bare `https://` and `www.` (GitHub's autolinks) broken up; line breaks are
 * shown as escapes by printable (a newline would end a table row).
 */
export function escMarkdown(text: string): string {
  return printable(text)
    .replace(/[&<>]/g, (c) => HTML_ENTITIES[c]!)
    .replace(/[\\`*_[\]|~]/g, (c) => `\\${c}`)
    .replace(/:\/\//g, '\\://')
    .replace(/\bwww\./gi, (w) => `${w.slice(0, 3)}\\.`);
}
