import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { contosoTenant, type ContosoTenant } from '../plan/helpers.js';

export const JDOE = '0b7e8c52-0000-4000-8000-000000000001';
export const MARY = '0b7e8c52-0000-4000-8000-000000000002';
export const SAM_CORP = '0b7e8c52-0000-4000-8000-000000000003';
export const SAM_EMEA = '0b7e8c52-0000-4000-8000-000000000004';
export const ALICE = 'a1f1d87d-05e0-555e-bdb8-de674260eb27';
export const BOB = 'fd706bef-ca38-5a2c-9c94-df554914bf7b';
/** bob1234@contoso.onmicrosoft.com, synced: on premises bob@contoso.com, the UPN of the cloud-only bob. */
export const BOB_SYNCED = '0b7e8c52-0000-4000-8000-000000000005';
/** The group of onPremisesGroupTenant(): the synced users and alice, not bob. */
export const ONPREM_GROUP = 'Wave CORP';

/**
 * Contoso with synced users an export names by on-premises name: CORP\jdoe and the bare
 * sAMAccountName mary, each one tenant user, and sam1, the sAMAccountName of two (ambiguous); and
 * bob1234@contoso.onmicrosoft.com, whose on-premises UPN bob@contoso.com is the cloud-only bob's UPN.
 * The group "Wave CORP" holds the five synced users and alice, not the cloud-only bob.
 */
export function onPremisesGroupTenant(): ContosoTenant {
  const doc = contosoTenant();
  const synced = (id: string, upn: string, sam: string, domain = 'corp.contoso.com') => ({ id, userPrincipalName: upn, displayName: upn, onPremisesSyncEnabled: true, onPremisesSamAccountName: sam, onPremisesDomainName: domain, onPremisesUserPrincipalName: `${sam}@${domain}` });
  doc.users.push(synced(JDOE, 'jdoe@contoso.com', 'jdoe'), synced(MARY, 'mary@contoso.com', 'mary'), synced(SAM_CORP, 'sam1@contoso.com', 'sam1'), synced(SAM_EMEA, 'sam1@contoso.onmicrosoft.com', 'sam1', 'emea.contoso.com'), synced(BOB_SYNCED, 'bob1234@contoso.onmicrosoft.com', 'bob', 'contoso.com'));
  doc.groups.push({ id: 'c0ffee00-0000-4000-8000-000000000001', displayName: ONPREM_GROUP, members: [JDOE, MARY, SAM_CORP, SAM_EMEA, BOB_SYNCED, ALICE] });
  return doc;
}

/** An export of CORP\jdoe, mary, sam1, alice and bob, a phone each, in `dir`/export. */
export function onPremisesExport(dir: string): string {
  const source = join(dir, 'export');
  mkdirSync(source, { recursive: true });
  const rows = ['CORP\\jdoe,true,1,4255550201,phone_call', 'mary,true,1,4255550202,phone_call', 'sam1,true,1,4255550203,phone_call', 'alice@contoso.com,true,1,4255550191,phone_call', 'bob@contoso.com,true,1,4255550192,phone_call'];
  writeFileSync(join(source, 'users.csv'), `username,enabled,phone_country_code,phone,default_method\n${rows.join('\n')}\n`);
  return source;
}
