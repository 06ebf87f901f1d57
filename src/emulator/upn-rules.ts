/**
 * What Graph refuses in a user principal name, so that the emulator's tenant never holds a user a real
 * tenant cannot (a plan would match, and apply write to, someone Entra could never have). Graph's user
 * resource: the UPN "can't contain accent characters" (nothing but ASCII); Microsoft's username policy
 * (Microsoft 365 "Invalid user name ... special character") names the rest: no `@` but the one before the
 * domain, no `&`, no period just before the `@`, at most 64 characters before it and 113 in all; its list
 * of special characters not permitted holds `,` `;` `:` `"` `<` `>` `(` `)` `[` `]` `\` and spaces. Not
 * `$`, which a UPN may start with (Graph's user-get page says how to address one), nor `'` `!` `#` `^` `~`.
 * Creating such a user answers 400 Request_BadRequest "Property userPrincipalName is invalid."
 */
const NOT_IN_LOCAL_PART = /[^\x21-\x7e]|[,;:"<>()[\]\\&]/u;

/** Graph's answer to a user made with such a UPN. */
export const UPN_REFUSAL = { status: 400, code: 'Request_BadRequest', message: 'Property userPrincipalName is invalid.' } as const;

/** Why Graph refuses `upn` (undefined when it takes it): the first rule it breaks, said with the character at fault. */
export function upnRefusal(upn: string): string | undefined {
  const at = upn.indexOf('@');
  if (at <= 0 || at !== upn.lastIndexOf('@') || at === upn.length - 1) return 'it is not name@domain with one @';
  const local = upn.slice(0, at);
  const bad = NOT_IN_LOCAL_PART.exec(local)?.[0];
  if (bad !== undefined) return `its name before the @ holds ${JSON.stringify(bad)}${/[^\x20-\x7e]/u.test(bad) ? ' (not ASCII: Graph takes no accented letter)' : ''}`;
  if (local.endsWith('.')) return 'a period stands just before the @';
  if (local.length > 64) return `${local.length} characters stand before the @ (at most 64)`;
  if (upn.length > 113) return `it is ${upn.length} characters long (at most 113)`;
  return undefined;
}
