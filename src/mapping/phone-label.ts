import type { PhoneType } from '../model/tenant.js';

/** A phone type as findings and reasons word it. */
export const PHONE_LABEL: Readonly<Record<PhoneType, string>> = { mobile: 'mobile', alternateMobile: 'alternate mobile', office: 'office' };
