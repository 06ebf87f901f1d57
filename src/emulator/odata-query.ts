import { errors, GraphError } from './graph-error.js';

/**
 * The OData query options the emulated endpoints understand: $select, $top, $filter (the subset Graph's
 * directory supports without advanced queries: eq, in, startswith, and, or; and endswith, which Graph
 * takes in an advanced query only), $count and $expand.
 */

/**
 * OData's refusal of a system query option given more than once (`$top=2&$top=3`), in its words; names
 * compare case-insensitively. Undefined when none repeats.
 */
export function repeatedQueryOption(query: URLSearchParams): GraphError | undefined {
  const seen = new Set<string>();
  for (const key of query.keys()) {
    const lower = key.toLowerCase();
    if (!lower.startsWith('$')) continue;
    if (seen.has(lower)) return errors.badRequest(`Query option '${key}' was specified more than once, but it must be specified at most once.`);
    seen.add(lower);
  }
  return undefined;
}

/** Resolves `$select=a,b` against the properties a type has (case-insensitively, as Graph does). */
export function parseSelect(query: URLSearchParams, known: readonly string[], typeName: string): string[] | undefined {
  const raw = query.get('$select');
  if (raw === null) return undefined;
  const out: string[] = [];
  for (const part of raw.split(',')) {
    const name = part.trim();
    if (!name) continue;
    const canonical = known.find((k) => k.toLowerCase() === name.toLowerCase());
    if (!canonical) throw errors.badRequest(`Could not find a property named '${name}' on type 'microsoft.graph.${typeName}'.`);
    if (!out.includes(canonical)) out.push(canonical);
  }
  return out;
}

/** `$expand=a,b` against the navigation properties a type lets expand (case-insensitively). */
export function parseExpand(query: URLSearchParams, known: readonly string[], typeName: string): string[] {
  const raw = query.get('$expand');
  if (raw === null) return [];
  return raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((name) => {
      const canonical = known.find((k) => k.toLowerCase() === name.toLowerCase());
      if (!canonical) throw errors.badRequest(`Could not find a navigation property named '${name}' on type 'microsoft.graph.${typeName}'.`);
      return canonical;
    });
}

/** $top for directory collections: an integer from 1 to 999, else Graph's error. */
export function parseTop(query: URLSearchParams, max = 999): number | undefined {
  const raw = query.get('$top');
  if (raw === null) return undefined;
  if (!/^-?\d+$/.test(raw.trim())) throw errors.badRequest(`Invalid $top query option value '${raw}'.`);
  const n = Number(raw.trim());
  if (n < 1 || n > max) {
    throw errors.unsupportedQuery(`Invalid page size specified: '${raw.trim()}'. Must be between 1 and ${max} inclusive.`);
  }
  return n;
}

/** $count=true needs `ConsistencyLevel: eventual`, as for Graph's advanced directory queries. */
export function parseCount(query: URLSearchParams, headers: Record<string, string>): boolean {
  const raw = query.get('$count');
  if (raw === null || raw.toLowerCase() === 'false') return false;
  if (raw.toLowerCase() !== 'true') throw errors.badRequest(`Invalid $count query option value '${raw}'.`);
  if ((headers['consistencylevel'] ?? '').toLowerCase() !== 'eventual') {
    throw errors.unsupportedQuery("$count requires the 'ConsistencyLevel: eventual' request header.");
  }
  return true;
}

export type FilterFields<T> = Record<string, (item: T) => unknown>;

type Token = { kind: 'ident' | 'string' | 'number' | 'punct'; text: string; value?: string | number; at: number };

/** Values an `in` may hold (learn.microsoft.com/graph/filter-query-parameter: 15 expressions by default). */
export const MAX_IN_VALUES = 15;

/**
 * A compiled $filter. `equals`: set when the whole filter is one `field eq value` or `field in (...)`,
 * so a route can look the items up by that key instead of testing every item. `clauses`: how many
 * OR'ed clauses it is (an `in` counts its values; 1 when unset).
 */
export type CompiledFilter<T> = ((item: T) => boolean) & { equals?: { field: string; values: (string | number | boolean | null)[] }; clauses?: number };

/** Graph's refusal of more than MAX_IN_VALUES clauses under one OR (its words). */
function tooManyOrClauses(count: number): GraphError {
  return errors.badRequest(`Too many child clauses specified in search filter expression containing 'OR' operators: ${count}. Max allowed: ${MAX_IN_VALUES}.`);
}

/**
 * Compiles a $filter into a predicate. `fields` maps each filterable property (lower case, `a/b` for
 * nested) to its value; string comparisons ignore case like the directory does. `advancedOnly`: the
 * properties Graph filters on only in an advanced query, refused as Graph refuses them without one.
 * `endsWith`: the properties `endswith` may test, given only for an advanced query (`ConsistencyLevel:
 * eventual` and `$count=true`): without one Graph answers 400 Request_UnsupportedQuery "Unsupported
 * Query." (learn.microsoft.com/graph/aad-advanced-queries: endsWith is an advanced query's alone).
 */
export function compileFilter<T>(text: string, fields: FilterFields<T>, resource: string, advancedOnly?: ReadonlySet<string>, endsWith?: ReadonlySet<string>): CompiledFilter<T> {
  const tokens = tokenize(text);
  let pos = 0;
  const syntax = (detail: string): GraphError => errors.badRequest(`Invalid filter clause: ${detail}`);
  const unsupported = (property: string): GraphError =>
    errors.unsupportedQuery(`Unsupported or invalid query filter clause specified for property '${property}' of resource '${resource}'.`);
  const peek = (): Token | undefined => tokens[pos];
  const isWord = (t: Token | undefined, word: string): boolean => t?.kind === 'ident' && t.text.toLowerCase() === word;
  const expect = (text: string): void => {
    const t = tokens[pos];
    if (t?.kind !== 'punct' || t.text !== text) throw syntax(`expected '${text}' at position ${t?.at ?? text.length} in '${textOf()}'.`);
    pos++;
  };
  const textOf = (): string => text;
  const field = (): { name: string; key: string; get: (item: T) => unknown } => {
    const t = tokens[pos++];
    if (t?.kind !== 'ident') throw syntax(`expected a property name at position ${t?.at ?? text.length} in '${text}'.`);
    const get = fields[t.text.toLowerCase()];
    // A property Graph filters on in advanced queries only, without `ConsistencyLevel: eventual` and `$count=true`: Graph's own answer.
    if (!get || advancedOnly?.has(t.text.toLowerCase())) throw unsupported(t.text);
    return { name: t.text, key: t.text.toLowerCase(), get };
  };
  const literal = (): string | number | boolean | null => {
    const t = tokens[pos++];
    if (!t) throw syntax(`expected a value at the end of '${text}'.`);
    if (t.kind === 'string' || t.kind === 'number') return t.value!;
    if (t.kind === 'ident' && ['true', 'false', 'null'].includes(t.text.toLowerCase())) {
      return t.text.toLowerCase() === 'null' ? null : t.text.toLowerCase() === 'true';
    }
    throw syntax(`Syntax error at position ${t.at} in '${text}'.`);
  };

  const primary = (): CompiledFilter<T> => {
    const t = peek();
    if (t?.kind === 'punct' && t.text === '(') {
      pos++;
      const inner = orExpr();
      expect(')');
      return inner;
    }
    if (isWord(t, 'not')) throw errors.unsupportedQuery(`'not' requires an advanced query, which the emulator does not support.`);
    const next = tokens[pos + 1];
    if (t?.kind === 'ident' && next?.kind === 'punct' && next.text === '(') {
      const fn = t.text.toLowerCase();
      pos += 2;
      if (fn === 'endswith' && !endsWith) throw errors.unsupportedQuery('Unsupported Query.');
      if (fn !== 'startswith' && fn !== 'endswith') throw errors.unsupportedQuery(`The function '${t.text}' is not supported by the emulator.`);
      const f = field();
      if (fn === 'endswith' && !endsWith!.has(f.key)) throw unsupported(f.name);
      expect(',');
      const value = literal();
      expect(')');
      if (typeof value !== 'string') throw syntax(`${fn} needs a string value in '${text}'.`);
      const part = value.toLowerCase();
      return (item) => {
        const v = f.get(item);
        return typeof v === 'string' && (fn === 'startswith' ? v.toLowerCase().startsWith(part) : v.toLowerCase().endsWith(part));
      };
    }
    const f = field();
    const op = tokens[pos++];
    if (isWord(op, 'eq')) {
      const value = literal();
      return Object.assign((item: T) => same(f.get(item), value), { equals: { field: f.key, values: [value] } });
    }
    if (isWord(op, 'in')) {
      expect('(');
      const values = [literal()];
      while (peek()?.kind === 'punct' && peek()?.text === ',') {
        pos++;
        values.push(literal());
      }
      expect(')');
      // Graph's directory allows 15 values in an `in` (the filter docs' note; its error text).
      if (values.length > MAX_IN_VALUES) throw tooManyOrClauses(values.length);
      return Object.assign((item: T) => values.some((v) => same(f.get(item), v)), { equals: { field: f.key, values }, clauses: values.length });
    }
    if (op?.kind === 'ident' && ['ne', 'gt', 'ge', 'lt', 'le'].includes(op.text.toLowerCase())) throw unsupported(f.name);
    throw syntax(`Syntax error at position ${op?.at ?? text.length} in '${text}'.`);
  };
  const andExpr = (): CompiledFilter<T> => {
    const parts = [primary()];
    while (isWord(peek(), 'and')) {
      pos++;
      parts.push(primary());
    }
    return parts.length === 1 ? parts[0]! : (item) => parts.every((p) => p(item));
  };
  const orExpr = (): CompiledFilter<T> => {
    const parts = [andExpr()];
    while (isWord(peek(), 'or')) {
      pos++;
      parts.push(andExpr());
    }
    if (parts.length === 1) return parts[0]!;
    // The same limit as an `in`'s, which is an OR of its values: the error counts `or` clauses, and
    // an `in` or parenthesised OR among them adds all of its own.
    const clauses = parts.reduce((n, p) => n + (p.clauses ?? 1), 0);
    if (clauses > MAX_IN_VALUES) throw tooManyOrClauses(clauses);
    return Object.assign((item: T) => parts.some((p) => p(item)), { clauses });
  };

  if (tokens.length === 0) throw syntax('the filter is empty.');
  const predicate = orExpr();
  if (pos < tokens.length) throw syntax(`Syntax error at position ${tokens[pos]!.at} in '${text}'.`);
  return predicate;
}

function same(actual: unknown, expected: string | number | boolean | null): boolean {
  if (typeof actual === 'string' && typeof expected === 'string') return actual.toLowerCase() === expected.toLowerCase();
  return actual === expected || (actual === undefined && expected === null);
}

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t') {
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      out.push({ kind: 'punct', text: c, at: i });
      i++;
    } else if (c === "'") {
      // OData strings: single quotes, a quote inside is doubled.
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= text.length) throw errors.badRequest(`Invalid filter clause: unterminated string literal at position ${i} in '${text}'.`);
        if (text[j] === "'") {
          if (text[j + 1] === "'") {
            value += "'";
            j += 2;
            continue;
          }
          break;
        }
        value += text[j];
        j++;
      }
      out.push({ kind: 'string', text: text.slice(i, j + 1), value, at: i });
      i = j + 1;
    } else if (/[0-9-]/.test(c)) {
      const m = /^-?\d+(\.\d+)?/.exec(text.slice(i));
      if (!m) throw errors.badRequest(`Invalid filter clause: Syntax error at position ${i} in '${text}'.`);
      out.push({ kind: 'number', text: m[0], value: Number(m[0]), at: i });
      i += m[0].length;
    } else if (/[A-Za-z_$@]/.test(c)) {
      const m = /^[A-Za-z_$@][\w/.@$]*/.exec(text.slice(i))!;
      out.push({ kind: 'ident', text: m[0], at: i });
      i += m[0].length;
    } else {
      throw errors.badRequest(`Invalid filter clause: Syntax error at position ${i} in '${text}'.`);
    }
  }
  return out;
}
