import type { DefaultMethod, PhoneType } from './tenant.js';

/** The phone a default MFA method rings or texts: Graph refuses to delete it while it is the default. */
export function phoneBehindDefault(method: DefaultMethod | null | undefined): PhoneType | undefined {
  switch (method) {
    case 'sms':
    case 'voiceMobile':
      return 'mobile';
    case 'voiceAlternateMobile':
      return 'alternateMobile';
    case 'voiceOffice':
      return 'office';
    default:
      return undefined;
  }
}
