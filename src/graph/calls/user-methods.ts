import { PHONE_METHOD_IDS, type PhoneType } from '../../model/tenant.js';
import type { GraphCall } from '../graph-call.js';

/** Graph's fixed id of a user's email method. */
export const EMAIL_METHOD_ID = '3ddfcfc8-9383-446f-83cc-3ab9be4be18f';

const auth = (userId: string) => `/users/${encodeURIComponent(userId)}/authentication`;

/**
 * A user's authentication methods, every kind. Read on beta: v1.0 has no hardware OATH method type,
 * so its list would not show the user's tokens.
 */
export const listMethods = (userId: string): GraphCall => ({ method: 'GET', version: 'beta', path: `${auth(userId)}/methods` });

/** The user's default MFA method and system-preferred state: beta only. */
export const getSignInPreferences = (userId: string): GraphCall => ({ method: 'GET', version: 'beta', path: `${auth(userId)}/signInPreferences` });

export const setDefaultMethod = (userId: string, method: string): GraphCall => ({
  method: 'PATCH',
  version: 'beta',
  path: `${auth(userId)}/signInPreferences`,
  body: { userPreferredMethodForSecondaryAuthentication: method },
});

// Phone and email methods are on v1.0.
export const listPhoneMethods = (userId: string): GraphCall => ({ method: 'GET', version: 'v1.0', path: `${auth(userId)}/phoneMethods` });

export const createPhoneMethod = (userId: string, phone: { phoneNumber: string; phoneType: PhoneType }): GraphCall => ({
  method: 'POST',
  version: 'v1.0',
  path: `${auth(userId)}/phoneMethods`,
  body: { phoneNumber: phone.phoneNumber, phoneType: phone.phoneType },
});

/** A phone method's id is fixed by its type. */
export const updatePhoneMethod = (userId: string, phone: { phoneNumber: string; phoneType: PhoneType }): GraphCall => ({
  method: 'PATCH',
  version: 'v1.0',
  path: `${auth(userId)}/phoneMethods/${PHONE_METHOD_IDS[phone.phoneType]}`,
  body: { phoneNumber: phone.phoneNumber, phoneType: phone.phoneType },
});

export const deletePhoneMethod = (userId: string, phoneType: PhoneType): GraphCall => ({
  method: 'DELETE',
  version: 'v1.0',
  path: `${auth(userId)}/phoneMethods/${PHONE_METHOD_IDS[phoneType]}`,
});

export const listEmailMethods = (userId: string): GraphCall => ({ method: 'GET', version: 'v1.0', path: `${auth(userId)}/emailMethods` });

export const createEmailMethod = (userId: string, emailAddress: string): GraphCall => ({ method: 'POST', version: 'v1.0', path: `${auth(userId)}/emailMethods`, body: { emailAddress } });

export const updateEmailMethod = (userId: string, emailAddress: string): GraphCall => ({
  method: 'PATCH',
  version: 'v1.0',
  path: `${auth(userId)}/emailMethods/${EMAIL_METHOD_ID}`,
  body: { emailAddress },
});

export const deleteEmailMethod = (userId: string): GraphCall => ({ method: 'DELETE', version: 'v1.0', path: `${auth(userId)}/emailMethods/${EMAIL_METHOD_ID}` });
