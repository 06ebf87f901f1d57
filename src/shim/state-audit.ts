import { printable } from '../model/printable.js';
import type { AuditEvent } from './audit-log.js';
import type { OutageEvent } from './postgres/state-health.js';

/**
 * The audit lines of the shared state's own events (event `state`): an outage's beginning (with its
 * reason) and end (with how many requests were answered state_unavailable meanwhile), and a schema
 * migration. Requests answered at once during an outage get no line each (docs/shim.md, "Audit
 * log"): without these the log showed no trace of an outage at all (a black-box test).
 */
export function outageEvent(e: OutageEvent): AuditEvent {
  if (e.kind === 'lost') return { event: 'state', result: 'reject', reason: 'state_unavailable', detail: printable(`state lost: ${e.reason}`) };
  return { event: 'state', result: 'accept', detail: `state back after ${e.seconds} s (${e.how}); ${e.refused} request(s) answered state_unavailable meanwhile` };
}

export function migrationEvent(m: { from: number; to: number; makes: string }): AuditEvent {
  return { event: 'state', detail: `schema migrated from version ${m.from} to ${m.to} (${m.makes})` };
}
