import type { Secret } from './secret.js';

/** MFA Server's four methods, in our canonical spelling. */
export const METHODS = ['phone_call', 'text_message', 'mobile_app', 'oath_token'] as const;
export type MfaMethod = (typeof METHODS)[number];

export type PhoneCallMode = 'standard' | 'pin';
export type MobileAppMode = 'standard' | 'pin';
export type TextMessageMode = 'otp' | 'otp_pin';
export type TextMessageDirection = 'one_way' | 'two_way';

/** A phone number parsed and normalised to Entra's format. */
export interface PhoneNumber {
  /** Country calling code without '+', e.g. "1", "44". */
  countryCode: string;
  /** National significant number, digits only. */
  nationalNumber: string;
  /** Extension digits, when the number has one. */
  extension?: string;
  /** Entra's format: `+{cc} {national}` plus `x{ext}` when an extension exists. */
  entra: string;
}

/** A phone's cells as exported, before normalisation: kept so a report can show them beside Entra's format. */
export interface ExportedPhone {
  countryCode?: string;
  number: string;
  extension?: string;
}

/** One row of users.csv, typed. Optional fields are absent when the cell was empty. */
export interface MfaUser {
  /** 1-based line of the row in users.csv. */
  line: number;
  username: string;
  firstName?: string;
  lastName?: string;
  email?: string;
  enabled: boolean;
  /** The enabled cell could not be read: the user is taken as disabled (never migrated on a guess). */
  enabledUnreadable?: true;
  userGroup?: string;
  phone?: PhoneNumber;
  backupPhone?: PhoneNumber;
  defaultMethod?: MfaMethod;
  phoneCallMode?: PhoneCallMode;
  textMessageMode?: TextMessageMode;
  textMessageDirection?: TextMessageDirection;
  mobileAppMode?: MobileAppMode;
  oathTokenSerial?: string;
  language?: string;
  /** The phone cells as written in the export (valid or not), for reports. */
  exportedPhones?: { phone?: ExportedPhone; backup_phone?: ExportedPhone };
  /** Phone cells that were present but unusable: kept so the mapping can report them per user. */
  invalidPhones?: { field: 'phone' | 'backup_phone'; reason: string }[];
}

/** One mobile-app (Authenticator) registration from devices.csv. The OTP seed is never kept. */
export interface MobileDevice {
  line: number;
  username: string;
  deviceName: string;
  /** ISO 8601 when the cell parsed as a date. */
  registeredAt?: string;
  deviceToken?: string;
  /** Fingerprint of the app's OTP seed, when one was exported. */
  oathSecretFingerprint?: string;
}

export type OathType = 'totp' | 'hotp';
export type OathAlgorithm = 'sha1' | 'sha256' | 'sha512';

/** An OATH token seed read from a vendor seed file. */
export interface OathSeed {
  serial: string;
  type: OathType;
  algorithm: OathAlgorithm;
  digits: number;
  /** TOTP time step in seconds; null for HOTP. */
  period: number | null;
  /**
   * HOTP moving factor; null for TOTP. A bigint: RFC 4226's counter (and RFC 6030's `Counter`,
   * xs:unsignedLong) runs to 2^64 - 1, past what a number holds exactly (2^53 - 1).
   */
  counter: bigint | null;
  /** TOTP drift in time steps, when the vendor file carries it (PSKC TimeDrift). */
  timeDrift?: number;
  /**
   * True when the device appends a Luhn check digit to each code (PSKC ResponseFormat
   * CheckDigits="true"): it shows `digits` + 1 digits. Absent otherwise.
   */
  checkDigit?: true;
  manufacturer?: string;
  model?: string;
  /** The user the seed file names (Entra upload CSV `upn`, PSKC `UserId`), if any. */
  user?: string;
  /** PSKC `Key@Id` (the drafts' `KeyId`): tells apart the keys a file gives one device. */
  keyId?: string;
  /**
   * The PSKC key's ExpiryDate (ISO 8601, UTC) when it had passed and the key was read anyway
   * (--pskc-expired take); absent otherwise.
   */
  expiredOn?: string;
  secret: Secret;
  /** secret.fingerprint(), kept as data for reports. */
  fingerprint: string;
  /** The seed file as the admin gave it. */
  source: string;
  /** Line of the seed in its file (CSV row, or the line where the PSKC KeyPackage starts). */
  line?: number;
  /**
   * Where the serial and the secret were read from, for problems about them (seed-duplicate,
   * secret-duplicate): the CSV column as its header names it, or the PSKC element (`SerialNo`, a Key
   * `Id` standing in for it, `Secret`). One string per file, shared by its seeds.
   */
  serialField?: string;
  secretField?: string;
}
