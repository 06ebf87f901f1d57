import { errors } from '../graph-error.js';
import { isEmailAddress } from '../../model/email-address.js';
import { EMAIL_METHOD_ID, PHONE_NUMBER_RE, PHONE_TYPES, isPhoneType, phoneTypeForId, type PhoneType } from '../phone-number.js';
import {
  allMethodsJson,
  authenticatorJson,
  emailJson,
  phoneJson,
  phonesJson,
  signInPreferencesJson,
  softwareOathJson,
} from '../representations.js';
import type { HandlerContext, HandlerResult, Router } from '../router.js';
import { phoneBehindDefault } from '../../model/default-phone.js';
import { PREFERRED_METHODS, preferredMethodProblem, type PreferredMethod } from '../state.js';
import { collection, entity, lagMs, NO_CONTENT, objectBody, requireUser } from './common.js';

const AUTH = 'users/{user}/authentication';

/** A user's authentication methods: phones, email, Authenticator, software OATH and the default method. */
export function registerUserMethodRoutes(router: Router): void {
  router.add({ pattern: `${AUTH}/methods`, handlers: { GET: listMethods } });
  router.add({ pattern: `${AUTH}/methods/{id}`, handlers: { GET: getMethod } });
  router.add({ pattern: `${AUTH}/phoneMethods`, handlers: { GET: listPhones, POST: createPhone } });
  router.add({ pattern: `${AUTH}/phoneMethods/{id}`, handlers: { GET: getPhone, PATCH: updatePhone, DELETE: deletePhone } });
  router.add({ pattern: `${AUTH}/emailMethods`, handlers: { GET: listEmail, POST: createEmail } });
  router.add({ pattern: `${AUTH}/emailMethods/{id}`, handlers: { GET: getEmail, PATCH: updateEmail, DELETE: deleteEmail } });
  // Graph has no API to create these two (the user registers them in the app): read and delete only.
  router.add({ pattern: `${AUTH}/softwareOathMethods`, handlers: { GET: listSoftwareOath } });
  router.add({ pattern: `${AUTH}/softwareOathMethods/{id}`, handlers: { GET: getSoftwareOath, DELETE: deleteSoftwareOath } });
  router.add({ pattern: `${AUTH}/microsoftAuthenticatorMethods`, handlers: { GET: listAuthenticators } });
  router.add({ pattern: `${AUTH}/microsoftAuthenticatorMethods/{id}`, handlers: { GET: getAuthenticator, DELETE: deleteAuthenticator } });
  router.add({ pattern: `${AUTH}/signInPreferences`, versions: ['beta'], handlers: { GET: getSignInPreferences, PATCH: patchSignInPreferences } });
}

const ctxPath = (ctx: HandlerContext, tail: string): string => `users('${ctx.params['user']}')/authentication/${tail}`;

function listMethods(ctx: HandlerContext): HandlerResult {
  const user = requireUser(ctx);
  return collection(ctx, ctxPath(ctx, 'methods'), allMethodsJson(ctx.state, user, ctx.req.version));
}

function getMethod(ctx: HandlerContext): HandlerResult {
  const user = requireUser(ctx);
  const id = ctx.params['id']!.toLowerCase();
  const method = allMethodsJson(ctx.state, user, ctx.req.version).find((m) => m.id?.toLowerCase() === id);
  if (!method) throw errors.itemNotFound('authentication method', ctx.params['id']!);
  return entity(ctx, `${ctxPath(ctx, 'methods')}/$entity`, method);
}

// ---- phone methods ----

function listPhones(ctx: HandlerContext): HandlerResult {
  const user = requireUser(ctx);
  return collection(ctx, ctxPath(ctx, 'phoneMethods'), phonesJson(ctx.state, user));
}

function requirePhoneType(ctx: HandlerContext): PhoneType {
  const user = requireUser(ctx);
  const type = phoneTypeForId(ctx.params['id']!);
  if (!type || !user.phones[type]) throw errors.itemNotFound('phone method', ctx.params['id']!);
  return type;
}

function checkPhoneNumber(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw errors.ruleViolation('phoneNumber is required.');
  // The number itself stays out of the message: error texts end up in client logs.
  if (!PHONE_NUMBER_RE.test(value)) {
    throw errors.ruleViolation("Invalid phone number: it must be in the format '+{country code} {number}', with an optional 'x{extension}'.");
  }
  return value;
}

function createPhone(ctx: HandlerContext): HandlerResult {
  const user = requireUser(ctx);
  const body = objectBody(ctx, ['phoneNumber', 'phoneType', 'smsSignInState', 'id'], 'phoneAuthenticationMethod');
  if ('smsSignInState' in body) throw errors.ruleViolation('smsSignInState is read-only and cannot be set.');
  const type = body['phoneType'];
  if (!isPhoneType(type)) throw errors.ruleViolation(`phoneType is required and must be one of ${PHONE_TYPES.join(', ')}.`);
  const phoneNumber = checkPhoneNumber(body['phoneNumber']);
  if (user.phones[type]) throw errors.conflict(`The user already has a ${type} phone method; a user can have one phone of each type.`);
  if (type === 'alternateMobile' && !user.phones.mobile) {
    throw errors.ruleViolation('An alternateMobile phone can only be added to a user who has a mobile phone.');
  }
  const phone = (user.phones[type] = { phoneNumber, createdDateTime: new Date().toISOString() });
  ctx.state.unsettledUntil(phone, performance.now() + lagMs(ctx));
  return entity(ctx, `${ctxPath(ctx, 'phoneMethods')}/$entity`, phoneJson(ctx.state, user, type)!, 201);
}

function getPhone(ctx: HandlerContext): HandlerResult {
  const type = requirePhoneType(ctx);
  return entity(ctx, `${ctxPath(ctx, 'phoneMethods')}/$entity`, phoneJson(ctx.state, requireUser(ctx), type)!);
}

function updatePhone(ctx: HandlerContext): HandlerResult {
  const user = requireUser(ctx);
  const type = requirePhoneType(ctx);
  const body = objectBody(ctx, ['phoneNumber', 'phoneType', 'smsSignInState', 'id'], 'phoneAuthenticationMethod');
  if ('smsSignInState' in body) throw errors.ruleViolation('smsSignInState is read-only and cannot be set.');
  if ('phoneType' in body && body['phoneType'] !== type) {
    throw errors.ruleViolation("A phone method's type cannot be changed: add a phone of the new type, then delete this one.");
  }
  if ('phoneNumber' in body) user.phones[type]!.phoneNumber = checkPhoneNumber(body['phoneNumber']);
  return NO_CONTENT;
}

function deletePhone(ctx: HandlerContext): HandlerResult {
  const user = requireUser(ctx);
  const type = requirePhoneType(ctx);
  if (type === 'mobile' && user.phones.alternateMobile) {
    throw errors.ruleViolation('The mobile phone cannot be deleted while the user has an alternateMobile phone: update the mobile number instead.');
  }
  if (phoneBehindDefault(user.signInPreferences.userPreferredMethodForSecondaryAuthentication) === type) {
    throw errors.ruleViolation(`The ${type} phone backs the user's default sign-in method and cannot be deleted.`);
  }
  delete user.phones[type];
  return NO_CONTENT;
}

// ---- email method (one per user, fixed id) ----

function checkEmail(value: unknown): string {
  if (typeof value !== 'string' || !isEmailAddress(value)) throw errors.ruleViolation('emailAddress must be an email address.');
  return value;
}

function listEmail(ctx: HandlerContext): HandlerResult {
  const user = requireUser(ctx);
  const email = emailJson(user);
  return collection(ctx, ctxPath(ctx, 'emailMethods'), email ? [email] : []);
}

function requireEmail(ctx: HandlerContext): void {
  const user = requireUser(ctx);
  if (!user.email || ctx.params['id']!.toLowerCase() !== EMAIL_METHOD_ID) throw errors.itemNotFound('email method', ctx.params['id']!);
}

function createEmail(ctx: HandlerContext): HandlerResult {
  const user = requireUser(ctx);
  const body = objectBody(ctx, ['emailAddress', 'id'], 'emailAuthenticationMethod');
  const emailAddress = checkEmail(body['emailAddress']);
  if (user.email) throw errors.conflict('The user already has an email method; a user can have only one.');
  user.email = { emailAddress, createdDateTime: new Date().toISOString() };
  return entity(ctx, `${ctxPath(ctx, 'emailMethods')}/$entity`, emailJson(user)!, 201);
}

function getEmail(ctx: HandlerContext): HandlerResult {
  requireEmail(ctx);
  return entity(ctx, `${ctxPath(ctx, 'emailMethods')}/$entity`, emailJson(requireUser(ctx))!);
}

function updateEmail(ctx: HandlerContext): HandlerResult {
  requireEmail(ctx);
  const body = objectBody(ctx, ['emailAddress', 'id'], 'emailAuthenticationMethod');
  if ('emailAddress' in body) requireUser(ctx).email!.emailAddress = checkEmail(body['emailAddress']);
  return NO_CONTENT;
}

function deleteEmail(ctx: HandlerContext): HandlerResult {
  requireEmail(ctx);
  requireUser(ctx).email = null;
  return NO_CONTENT;
}

// ---- software OATH and Microsoft Authenticator (read and delete) ----

function listSoftwareOath(ctx: HandlerContext): HandlerResult {
  const user = requireUser(ctx);
  return collection(ctx, ctxPath(ctx, 'softwareOathMethods'), user.softwareOath.map(softwareOathJson));
}

function findIndex<T extends { id: string }>(ctx: HandlerContext, items: T[], what: string): number {
  const id = ctx.params['id']!.toLowerCase();
  const i = items.findIndex((m) => m.id === id);
  if (i < 0) throw errors.itemNotFound(what, ctx.params['id']!);
  return i;
}

function getSoftwareOath(ctx: HandlerContext): HandlerResult {
  const user = requireUser(ctx);
  const i = findIndex(ctx, user.softwareOath, 'software OATH method');
  return entity(ctx, `${ctxPath(ctx, 'softwareOathMethods')}/$entity`, softwareOathJson(user.softwareOath[i]!));
}

function deleteSoftwareOath(ctx: HandlerContext): HandlerResult {
  const user = requireUser(ctx);
  user.softwareOath.splice(findIndex(ctx, user.softwareOath, 'software OATH method'), 1);
  return NO_CONTENT;
}

function listAuthenticators(ctx: HandlerContext): HandlerResult {
  const user = requireUser(ctx);
  return collection(ctx, ctxPath(ctx, 'microsoftAuthenticatorMethods'), user.authenticators.map(authenticatorJson));
}

function getAuthenticator(ctx: HandlerContext): HandlerResult {
  const user = requireUser(ctx);
  const i = findIndex(ctx, user.authenticators, 'Microsoft Authenticator method');
  return entity(ctx, `${ctxPath(ctx, 'microsoftAuthenticatorMethods')}/$entity`, authenticatorJson(user.authenticators[i]!));
}

function deleteAuthenticator(ctx: HandlerContext): HandlerResult {
  const user = requireUser(ctx);
  user.authenticators.splice(findIndex(ctx, user.authenticators, 'Microsoft Authenticator method'), 1);
  return NO_CONTENT;
}

// ---- default method (beta) ----

function getSignInPreferences(ctx: HandlerContext): HandlerResult {
  const user = requireUser(ctx);
  return entity(ctx, ctxPath(ctx, 'signInPreferences'), signInPreferencesJson(user));
}

function patchSignInPreferences(ctx: HandlerContext): HandlerResult {
  const user = requireUser(ctx);
  const body = objectBody(
    ctx,
    ['userPreferredMethodForSecondaryAuthentication', 'isSystemPreferredAuthenticationMethodEnabled'],
    'signInPreferences',
  );
  const system = body['isSystemPreferredAuthenticationMethodEnabled'];
  if (system !== undefined && typeof system !== 'boolean') {
    throw errors.badRequest("Invalid value for property 'isSystemPreferredAuthenticationMethodEnabled': expected a boolean.");
  }
  let preferred: PreferredMethod | undefined;
  if ('userPreferredMethodForSecondaryAuthentication' in body) {
    const value = body['userPreferredMethodForSecondaryAuthentication'];
    // null too: Graph documents only the methods as values, no way to unset a default.
    if (!(PREFERRED_METHODS as readonly unknown[]).includes(value)) {
      throw errors.badRequest(
        `Invalid value for property 'userPreferredMethodForSecondaryAuthentication': must be one of ${PREFERRED_METHODS.join(', ')}.`,
      );
    }
    preferred = value as PreferredMethod;
    const why = preferredMethodProblem(ctx.state, user, preferred);
    if (why) throw errors.ruleViolation(`The user does not have the method '${preferred}' registered: ${why}.`);
  }
  if (preferred !== undefined) user.signInPreferences.userPreferredMethodForSecondaryAuthentication = preferred;
  if (typeof system === 'boolean') user.signInPreferences.isSystemPreferredAuthenticationMethodEnabled = system;
  return NO_CONTENT;
}
