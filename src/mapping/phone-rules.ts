import type { MfaUser, PhoneNumber } from '../model/export-data.js';
import type { PhoneType } from '../model/tenant.js';
import type { Finding } from './finding.js';
import type { RuleId } from './rules.js';

/** A phone MFA Server has that the user should have in Entra, and why it goes where it goes. */
export interface DesiredPhone {
  phoneType: PhoneType;
  /** Entra format, `+{cc} {number}[x{ext}]`. */
  phoneNumber: string;
  from: 'phone' | 'backup_phone';
  rule: RuleId;
  because: string;
}

export interface PhoneMapping {
  phones: DesiredPhone[];
  /** Where the primary and backup phones went (for the default method). */
  primaryType?: PhoneType;
  backupType?: PhoneType;
  findings: Finding[];
}

const withoutExtension = (p: PhoneNumber) => `+${p.countryCode} ${p.nationalNumber}`;

/** Graph stores `+1 4255550101`; numbers compare ignoring spacing. */
export const sameNumber = (a: string, b: string) => a.replace(/\s+/g, '') === b.replace(/\s+/g, '');

/**
 * Microsoft's migration utility rules for phones, plus the one Graph forces: an alternateMobile
 * needs a mobile. `tenantMobile` is the tenant's mobile number, if it has one (a tenant mobile is
 * never removed without --prune, and then only when MFA Server has none).
 */
export function mapPhones(user: MfaUser, tenantMobile: string | undefined): PhoneMapping {
  const findings: Finding[] = [];
  const out = new Map<PhoneType, DesiredPhone>();
  const name = user.username;

  for (const bad of user.invalidPhones ?? []) {
    findings.push({
      severity: 'warning',
      code: 'phone-invalid',
      user: name,
      rule: 'PHONE-INVALID',
      message: `${bad.field === 'phone' ? 'primary' : 'backup'} phone not migrated: ${bad.reason}`,
    });
  }

  const primary = user.phone;
  const backup = user.backupPhone;
  let primaryType: PhoneType | undefined;
  let backupType: PhoneType | undefined;

  if (primary) {
    if (primary.extension === undefined) {
      primaryType = 'mobile';
      out.set('mobile', { phoneType: 'mobile', phoneNumber: primary.entra, from: 'phone', rule: 'PHONE-PRIMARY-MOBILE', because: 'primary phone has no extension' });
    } else if (user.defaultMethod === 'text_message') {
      primaryType = 'mobile';
      out.set('mobile', {
        phoneType: 'mobile',
        phoneNumber: withoutExtension(primary),
        from: 'phone',
        rule: 'PHONE-PRIMARY-SMS-DROP-EXT',
        because: 'default method is text message and SMS cannot reach an extension',
      });
      findings.push({ severity: 'warning', code: 'extension-dropped', user: name, rule: 'PHONE-PRIMARY-SMS-DROP-EXT', message: "the primary phone's extension is dropped so that text messages reach it (the extension, like the number, is not shown)" });
    } else {
      primaryType = 'office';
      out.set('office', { phoneType: 'office', phoneNumber: primary.entra, from: 'phone', rule: 'PHONE-PRIMARY-OFFICE', because: 'primary phone has an extension' });
    }
  }

  const primaryWritten = primaryType ? out.get(primaryType)!.phoneNumber : undefined;
  if (backup && primaryWritten !== undefined && sameNumber(backup.entra, primaryWritten)) {
    // The same number twice (mobile and alternateMobile) is no backup: one phone, written once.
    findings.push({ severity: 'info', code: 'backup-phone-same', user: name, rule: 'PHONE-BACKUP-SAME', message: 'backup phone not migrated: it is the same number as the primary phone, which is migrated' });
  } else if (backup) {
    if (backup.extension === undefined) {
      backupType = 'alternateMobile';
      out.set('alternateMobile', { phoneType: 'alternateMobile', phoneNumber: backup.entra, from: 'backup_phone', rule: 'PHONE-BACKUP-ALTERNATE', because: 'backup phone has no extension' });
    } else if (out.has('office')) {
      findings.push({
        severity: 'warning',
        code: 'backup-phone-skipped',
        user: name,
        rule: 'PHONE-BACKUP-SKIPPED',
        message: "backup phone not migrated: it has an extension, and the primary phone, which has one too, holds Entra's one office phone",
      });
    } else {
      // The office slot is free: no primary, one without an extension, or one whose extension a
      // text-message default dropped (it went to mobile).
      backupType = 'office';
      const because = primary?.extension !== undefined ? 'backup phone has an extension; the office phone is free, as the primary went to mobile' : 'backup phone has an extension';
      out.set('office', { phoneType: 'office', phoneNumber: backup.entra, from: 'backup_phone', rule: 'PHONE-BACKUP-OFFICE', because });
    }
  }

  const alternate = out.get('alternateMobile');
  // Promote the backup when there is no other mobile; a tenant mobile that is this very number is
  // an earlier run's promotion, so the mapping stays the same on the next plan.
  if (alternate && !out.has('mobile') && (tenantMobile === undefined || sameNumber(tenantMobile, alternate.phoneNumber))) {
    out.delete('alternateMobile');
    out.set('mobile', { ...alternate, phoneType: 'mobile', rule: 'PHONE-BACKUP-AS-MOBILE', because: 'the user has no mobile phone and Entra needs one before an alternate' });
    backupType = 'mobile';
    findings.push({ severity: 'info', code: 'backup-phone-as-mobile', user: name, rule: 'PHONE-BACKUP-AS-MOBILE', message: 'backup phone becomes the mobile phone: there is no primary mobile' });
  }

  const order: PhoneType[] = ['mobile', 'alternateMobile', 'office'];
  return {
    phones: order.flatMap((t) => (out.has(t) ? [out.get(t)!] : [])),
    ...(primaryType ? { primaryType } : {}),
    ...(backupType ? { backupType } : {}),
    findings,
  };
}
