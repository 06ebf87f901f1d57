import { readFile, stat } from 'node:fs/promises';
import type * as z from 'zod';
import type { ProblemList } from '../model/problem.js';
import { settingsSchema, type ServerSettings } from './settings-schema.js';
import { jsonSyntaxProblem } from '../model/json-syntax.js';
import { lineAndColumn, scanJson } from '../model/json-scan.js';

/** settings.json is a few kB; one far larger is read whole into memory by nothing. */
const MAX_SETTINGS_BYTES = 16 * 1024 * 1024;

/**
 * Reads and validates settings.json. Syntax errors name the line and column; schema errors name
 * the JSON path (`$.userPortal.maxMobileAppDevices`); a key given twice is refused with both lines
 * (JSON.parse keeps the last in silence: which one the admin meant is theirs to say). Returns
 * undefined when unusable.
 */
export async function readSettings(path: string, display: string, problems: ProblemList): Promise<ServerSettings | undefined> {
  let text: string;
  try {
    const { size } = await stat(path);
    if (size > MAX_SETTINGS_BYTES) {
      problems.error('file-unreadable', { file: display }, `the file is ${size} bytes, more than the ${MAX_SETTINGS_BYTES}-byte limit for settings.json; it is not read`);
      return undefined;
    }
    text = await readFile(path, 'utf8');
  } catch (err) {
    problems.error('file-unreadable', { file: display }, `cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    // V8's message quotes the file (a caller ID, a PIN): only its reason and place are told.
    const p = jsonSyntaxProblem(err, text);
    const utf16 = text.includes('\u0000') ? ' (the file looks like UTF-16: save it as UTF-8)' : '';
    problems.error('settings-invalid', { file: display, ...(p.line !== undefined ? { line: p.line } : {}) }, `not valid JSON: ${p.reason}${p.column !== undefined ? ` (column ${p.column})` : ''}${utf16}`);
    return undefined;
  }
  const { duplicates } = scanJson(text);
  for (const d of duplicates) {
    const { line, column } = lineAndColumn(text, d.offset);
    const first = lineAndColumn(text, d.firstOffset);
    problems.error('settings-invalid', { file: display, line, path: d.path, field: d.key }, `"${d.key}" is given twice in one object (here at column ${column}; first at line ${first.line}, column ${first.column}): JSON readers keep one of the two values without a word (the last, most of them); keep the one meant`);
  }
  // The rest is checked too (the last value of a key given twice, as JSON.parse kept it): one run tells everything.
  const result = settingsSchema.safeParse(json);
  if (result.success) return duplicates.length === 0 ? result.data : undefined;
  for (const issue of result.error.issues) reportIssue(issue, display, problems);
  return undefined;
}

function reportIssue(issue: z.core.$ZodIssue, file: string, problems: ProblemList): void {
  if (issue.code === 'unrecognized_keys') {
    for (const key of issue.keys) {
      problems.error('settings-invalid', { file, path: jsonPath([...issue.path, key]), field: key }, `unknown field "${key}"`);
    }
    return;
  }
  const last = issue.path[issue.path.length - 1];
  problems.error(
    'settings-invalid',
    { file, path: jsonPath(issue.path), ...(typeof last === 'string' ? { field: last } : {}) },
    issue.message,
  );
}

export function jsonPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : `${acc}.${String(k)}`), '$');
}
