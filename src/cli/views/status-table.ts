import type { StatusResult } from '../../app/status.js';
import { printable } from '../../model/printable.js';

/** `status`: the counts first, the rollout policy, federations and managed domains, then one row per user. */
export function renderStatus(s: StatusResult): string {
  const c = s.counts;
  // Parts that add up to the users in scope (a black-box test added up overlapping counts): a switched
  // user who is blocked is counted with the switched, and said; SMS/voice only is a trait across them.
  const switchedBlocked = s.users.filter((u) => u.switched && u.blocked).length;
  const out = [
    `Cutover status for tenant ${printable(s.tenant.displayName)} (${s.tenant.id}), read ${s.read_at}${s.read_as ? ` as ${printable(s.read_as)}` : ''}: ${c.users} user(s) in scope`,
    `  ${c.switched} switched to Entra MFA${switchedBlocked > 0 ? ` (${switchedBlocked} of them blocked)` : ''}, ${c.ready} migrated and ready to switch, ${c.blocked - switchedBlocked} blocked before the switch; ${c.phone_only} of all with SMS/voice only (blocked at sign-in from 2027-02-01)`,
  ];
  const p = s.rollout_policy;
  out.push(
    p
      ? `  staged rollout (multiFactorAuthentication): ${p.isEnabled ? 'enabled' : 'disabled'}${p.isAppliedToOrganization ? ', whole organisation' : ''}; groups: ${p.groups.map((g) => `${printable(g.displayName || g.id)} (${g.members})`).join(', ') || 'none'}`
      : s.rollout_unread !== null
        ? `  staged rollout (multiFactorAuthentication): not read: ${s.rollout_unread}`
        : '  staged rollout (multiFactorAuthentication): no policy',
  );
  for (const f of s.federation) out.push(`  federated domain ${f.domain}: federatedIdpMfaBehavior ${f.federatedIdpMfaBehavior ?? 'not set'}${f.subdomains?.length ? ` (and its subdomains ${f.subdomains.join(', ')}, which take its federation)` : ''}`);
  for (const d of s.managed_domains) out.push(`  managed domain ${printable(d)}: Entra does the MFA of its users (switched, whatever their groups)`);
  out.push('');
  const head = ['USER', 'MIGRATED', 'SWITCHED', 'PHONE-ONLY', 'METHODS', 'BLOCKED'];
  // A disabled Entra account is said on its row, switched or not (only a row not switched is blocked by it).
  const rows = s.users.map((u) => [`${u.username !== undefined ? `${u.user} (${u.username})` : u.user}${u.account_enabled === false ? ' [account disabled]' : ''}`, u.migrated ? 'yes' : 'no', u.switched ? `yes (${u.switched_by})` : 'no', u.phone_only ? 'yes' : 'no', u.methods.join(',') || '-', u.blocked ?? ''].map((v) => printable(v)));
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [head, ...rows]) out.push(r.map((v, i) => (i === r.length - 1 ? v : v.padEnd(widths[i]!))).join('  ').trimEnd());
  return `${out.join('\n')}\n`;
}
