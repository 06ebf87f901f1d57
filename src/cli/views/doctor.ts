import type { DoctorReport } from '../../app/doctor.js';
import { printable } from '../../model/printable.js';

const MARK = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' } as const;

/** `doctor`'s text: who and where, each check, and a verdict with what to fix first. */
export function renderDoctor(r: DoctorReport, color: boolean): string {
  // Colour goes on after the text from Graph, the token or the export is made printable: escaped
  // after, the colour codes themselves were shown as `\u001b[32m` text on a terminal (a black-box test).
  const paint = (code: string) => (s: string) => (color ? `\u001b[${code}m${s}\u001b[0m` : s);
  const tint = { ok: paint('32'), warn: paint('33'), fail: paint('31') };
  const p = (s: string) => printable(s);
  const lines = [p(`Graph ${r.graph}${r.rehearsal ? ' (loopback: the emulator, a rehearsal)' : ''}`)];
  if (r.tenant) lines.push(p(`Tenant ${r.tenant.displayName} (${r.tenant.id})`));
  const who = r.identity.upn ? `${r.identity.upn} (delegated)` : (r.identity.appDisplayName ?? r.identity.appId);
  // A sign-in that failed is said by its check below, not as "Signed in as unknown" (a black-box test).
  const signedIn = r.checks.find((c) => c.id === 'sign-in')?.state === 'ok';
  lines.push(p(signedIn ? `Signed in as ${who ?? 'an unnamed identity'}; permissions: ${r.identity.permissions.length ? r.identity.permissions.join(', ') : '(none named in the token)'}` : 'Not signed in'), '');
  for (const c of r.checks) {
    lines.push(`${tint[c.state](MARK[c.state])} ${p(c.detail)}`);
    if (c.fix && c.state !== 'ok') lines.push(p(`      fix: ${c.fix}`));
  }
  for (const c of r.commands) lines.push(`${c.ready ? tint.ok('ready') : tint.fail('not ready')}: ${p(`${c.command}${c.missing.length ? ` (lacks: ${c.missing.join(', ')})` : ''}`)}`);
  const fails = r.checks.filter((c) => c.state === 'fail').length;
  lines.push('', r.ready ? tint.ok('Ready.') : tint.fail(`Not ready: ${fails} check(s) failed; fix them first (the fixes are under each).`));
  return `${lines.join('\n')}\n`;
}
