import { readFileSync, writeFileSync } from 'node:fs';
import { chainHash } from '../../src/apply/journal.js';
import { connectGraph } from '../../src/graph/connect.js';
import { serialKey } from '../../src/model/serial.js';
import type { FakeGraph } from './graph.js';
import type { Snapshot } from './tenant-checks.js';

/** One request of a `$batch` body, as the tests' proxies read it. */
export interface BatchItem {
  id: string;
  method: string;
  url: string;
  body?: { value?: { serialNumber: string }[] };
}

/** The bulk token create (a PATCH of the inventory) among a `$batch`'s requests. */
export const isBulkCreate = (i: BatchItem) => i.method === 'PATCH' && /hardwareOathDevices$/.test(i.url);

/** A hardware OATH token of the fake Graph's inventory. */
export type InventoryDevice = { id: string; serialNumber: string; status: string; assignedTo: { id: string } | null };

/** The inventory's tokens of these serials (compared as the tool compares serials). */
export function devicesOf(g: FakeGraph, serials: readonly string[]): InventoryDevice[] {
  const keys = new Set(serials.map(serialKey));
  return ((g.emu.snapshot() as Snapshot).hardwareOathDevices as InventoryDevice[]).filter((d) => keys.has(serialKey(d.serialNumber)));
}

/** A Graph that refuses (400, not retried) the writes whose path matches, direct or in a $batch, while `on.refuse`. */
export function refusing(g: FakeGraph, match: RegExp, on: { refuse: boolean }) {
  const no = { error: { code: 'Request_BadRequest', message: 'Refused by test' } };
  const fetch: typeof g.emu.fetch = async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    if (on.refuse && init?.method && init.method !== 'GET' && match.test(url)) return new Response(JSON.stringify(no), { status: 400, headers: { 'content-type': 'application/json' } });
    if (on.refuse && init?.method === 'POST' && url.endsWith('/$batch')) {
      const body = JSON.parse(String(init.body)) as { requests: { id: string; method: string; url: string }[] };
      const refused = body.requests.filter((r) => r.method !== 'GET' && match.test(r.url));
      if (refused.length > 0) {
        const rest = body.requests.filter((r) => !refused.includes(r));
        const res = rest.length > 0 ? ((await (await g.emu.fetch(input, { ...init, body: JSON.stringify({ requests: rest }) })).json()) as { responses: unknown[] }) : { responses: [] };
        const answers = refused.map((r) => ({ id: r.id, status: 400, headers: { 'content-type': 'application/json' }, body: no }));
        return new Response(JSON.stringify({ responses: [...res.responses, ...answers] }), { status: 200, headers: { 'content-type': 'application/json' } });
      }
    }
    return g.emu.fetch(input, init);
  };
  return connectGraph({ graphUrl: g.emu.url, fetch, readOnly: false, concurrency: 4, retry: { capMs: 300 } });
}

/**
 * The fake Graph answering a domain's id as `id` (mixed case, as Graph may answer what it was given
 * at verification) in its reads of domains, where the emulator answers every id lower case.
 */
export function domainIdAs(g: FakeGraph, id: string): FakeGraph {
  // Reads go direct or in a $batch; only a domain has its name for an id.
  const fetch: typeof g.emu.fetch = async (input, init) => {
    const res = await g.emu.fetch(input, init);
    const text = (await res.text()).replaceAll(`"id":"${id.toLowerCase()}"`, `"id":"${id}"`);
    return new Response(text, { status: res.status, headers: res.headers });
  };
  return {
    ...g,
    client: (o = {}) => connectGraph({ graphUrl: g.emu.url, fetch, readOnly: o.readOnly ?? false, concurrency: o.concurrency ?? 4, ...(o.retry ? { retry: o.retry } : {}), ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) }),
  };
}

/**
 * Rewrites a journal line by line with `edit` (the line without its hash; null drops it), and its
 * hash chain as the journal writes it.
 */
export function rewriteJournal(journal: string, edit: (line: Record<string, unknown>, index: number) => Record<string, unknown> | null): void {
  let previous = '';
  const lines = readFileSync(journal, 'utf8')
    .split('\n')
    .filter(Boolean)
    .flatMap((raw, i) => {
      const { hash: _h, ...parsed } = JSON.parse(raw) as Record<string, unknown>;
      if (i === 0) previous = String(parsed.planHash);
      const line = edit(parsed, i);
      if (line === null) return [];
      const body = JSON.stringify(line);
      previous = chainHash(previous, body);
      return [`${body.slice(0, -1)},"hash":"${previous}"}`];
    });
  writeFileSync(journal, `${lines.join('\n')}\n`);
}

/**
 * Rewrites each operation record of a journal with `edit` (and its header with `editHeader`: a journal
 * as an older version wrote it), and its hash chain as the journal writes it.
 */
export function rechain(journal: string, edit: (op: Record<string, unknown>) => void, editHeader?: (header: Record<string, unknown>) => void): void {
  rewriteJournal(journal, (line, i) => {
    if (i === 0) editHeader?.(line);
    if (line.t === 'ops') for (const op of line.ops as Record<string, unknown>[]) edit(op);
    return line;
  });
}
