/**
 * The address an email method may hold: a name, an `@` and a domain with a dot, none of them
 * holding a space or another `@`. Graph documents no rule of its own; this is the emulator's (its
 * POST and PATCH of `emailMethods` refuse any other with 400 "emailAddress must be an email
 * address."), and the export reader and the mapping use the same one, so that a plan never holds an
 * address the tenant refuses. Deliberately loose: no RFC 5322 parse, which Graph does not do either.
 */
export const EMAIL_ADDRESS = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

export const isEmailAddress = (value: string): boolean => EMAIL_ADDRESS.test(value);
