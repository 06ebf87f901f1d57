/**
 * Builds fixtures/contoso/tenant.json, the Contoso tenant before migration (see fixtures/contoso/CASES.md),
 * from users.csv so the two cannot drift apart. Run after changing either:
 *   npm run build && node dist/test/emulator/contoso-tenant.js --write
 * contoso-tenant.test.ts checks that the committed file is what this produces.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { encodeBase32 } from '../../src/emulator/oath-secret.js';
import { packageRoot } from '../../src/io/package-root.js';
import { guidFromName } from '../../src/emulator/prng.js';

export const CONTOSO_TENANT_ID = guidFromName('contoso', 'tenant');

/** The Contoso demo seed of a serial: first 20 bytes of sha256("contoso-demo-seed-" + serial) (SHA-1 tokens). */
export function contosoSeed(serial: string, length = 20): Buffer {
  return createHash('sha256').update(`contoso-demo-seed-${serial}`).digest().subarray(0, length);
}

const userId = (upn: string): string => guidFromName(CONTOSO_TENANT_ID, `user:${upn}`);
const deviceId = (serial: string): string => guidFromName(CONTOSO_TENANT_ID, `device:${serial}`);
const groupId = (name: string): string => guidFromName(CONTOSO_TENANT_ID, `group:${name}`);
const authenticatorId = (upn: string, i: number): string => guidFromName(CONTOSO_TENANT_ID, `authenticator:${upn}:${i}`);

interface CsvUser {
  username: string;
  first_name: string;
  last_name: string;
  email: string;
  enabled: string;
  language: string;
}

const ENABLED = new Set(['true', 'yes', '1', 'y']);

export function buildContosoTenant(root = packageRoot()): Record<string, unknown> {
  const rows = parse(readFileSync(join(root, 'fixtures', 'contoso', 'users.csv')), { columns: true, skip_empty_lines: true }) as CsvUser[];
  const users: Record<string, unknown>[] = rows
    .filter((r) => r.username.toLowerCase() !== 'sybil@contoso.com') // "not in the tenant"
    .map((r) => {
      const upn = r.username.toLowerCase();
      return {
        id: userId(upn),
        userPrincipalName: upn,
        displayName: `${r.first_name} ${r.last_name}`,
        givenName: r.first_name,
        surname: r.last_name,
        mail: r.email.toLowerCase(),
        accountEnabled: ENABLED.has(r.enabled.trim().toLowerCase()),
        preferredLanguage: r.language || null,
      };
    });
  // Tenant-only accounts, not in the MFA Server export.
  users.push(
    { id: userId('admin@contoso.com'), userPrincipalName: 'admin@contoso.com', displayName: 'Contoso Admin', mail: 'admin@contoso.com', accountEnabled: true },
    { id: userId('helpdesk@contoso.com'), userPrincipalName: 'helpdesk@contoso.com', displayName: 'Contoso Helpdesk', mail: 'helpdesk@contoso.com', accountEnabled: true },
  );
  const byUpn = (upn: string): Record<string, unknown> => {
    const u = users.find((x) => x['userPrincipalName'] === upn);
    if (!u) throw new Error(`users.csv has no ${upn}`);
    return u;
  };
  const mobile = (phoneNumber: string) => ({ phoneType: 'mobile', phoneNumber });

  // The "tenant before migration" column of CASES.md.
  byUpn('alice@contoso.com')['methods'] = { phone: [mobile('+1 4255550101')] };
  byUpn('niaj@contoso.com')['methods'] = {
    microsoftAuthenticator: [{ id: authenticatorId('niaj@contoso.com', 0), displayName: 'iPhone 15', phoneAppVersion: '6.8.12', createdDateTime: '2025-03-01T10:00:00Z' }],
  };
  byUpn('rupert@contoso.com')['methods'] = { phone: [mobile('+1 4255550115')] };
  byUpn('hana@contoso.com')['methods'] = { hardwareOath: [deviceId('20010011')] };
  byUpn('igor@contoso.com')['methods'] = { phone: [mobile('+1 4255550999')] };
  byUpn('julia@contoso.com')['methods'] = {
    microsoftAuthenticator: ['iPhone 11', 'iPhone 13', 'Pixel 6', 'iPad Air', 'Galaxy S22'].map((displayName, i) => ({
      id: authenticatorId('julia@contoso.com', i),
      displayName,
    })),
  };
  byUpn('quinn@contoso.com')['methods'] = {
    phone: [mobile('+1 4255550139'), { phoneType: 'alternateMobile', phoneNumber: '+1 4255550940' }],
  };
  byUpn('quinn@contoso.com')['signInPreferences'] = {
    userPreferredMethodForSecondaryAuthentication: 'sms',
    isSystemPreferredAuthenticationMethodEnabled: false,
  };

  const token = (serial: string, status: string, owner: string | null) => ({
    id: deviceId(serial),
    serialNumber: serial,
    manufacturer: 'Contoso',
    model: 'TOTP-6-30',
    displayName: owner ? `Token ${serial}` : null,
    secretKey: encodeBase32(contosoSeed(serial)),
    timeIntervalInSeconds: 30,
    hashFunction: 'hmacsha1',
    status,
    assignedTo: owner ? { id: userId(owner) } : null,
  });

  const wave1 = ['alice', 'bob', 'carol', 'grace', 'niaj'].map((n) => userId(`${n}@contoso.com`));
  const sales = ['dave', 'erin', 'frank'].map((n) => userId(`${n}@contoso.com`));
  const others = ['dave', 'erin', 'frank', 'hana', 'igor', 'julia', 'quinn', 'nora.smith'].map((n) => userId(`${n}@contoso.com`));
  return {
    tenant: { id: CONTOSO_TENANT_ID, displayName: 'Contoso', size: 'S' },
    // The migration is run by an admin signed in interactively: staged rollout has no application permission.
    identity: { appId: guidFromName(CONTOSO_TENANT_ID, 'app:mfa-migrate'), appDisplayName: 'mfa-migrate', userPrincipalName: 'admin@contoso.com' },
    // contoso.com is federated with the on-premises AD FS that used MFA Server; the cutover's last step sets
    // its federatedIdpMfaBehavior to rejectMfaByFederatedIdp.
    domains: [
      { id: 'contoso.onmicrosoft.com', isInitial: true },
      {
        id: 'contoso.com',
        isDefault: true,
        federation: {
          id: guidFromName(CONTOSO_TENANT_ID, 'federation:contoso.com'),
          displayName: 'Contoso AD FS',
          issuerUri: 'http://sts.contoso.com/adfs/services/trust',
          passiveSignInUri: 'https://sts.contoso.com/adfs/ls/',
          activeSignInUri: 'https://sts.contoso.com/adfs/services/trust/2005/usernamemixed',
          metadataExchangeUri: 'https://sts.contoso.com/adfs/services/trust/mex',
          signOutUri: 'https://sts.contoso.com/adfs/ls/?wa=wsignout1.0',
          preferredAuthenticationProtocol: 'wsFed',
          promptLoginBehavior: 'nativeSupport',
          federatedIdpMfaBehavior: 'acceptIfMfaDoneByFederatedIdp',
        },
      },
    ],
    users,
    groups: [
      { id: groupId('MFA Migration Wave 1'), displayName: 'MFA Migration Wave 1', description: 'First users moved to Entra MFA', members: wave1 },
      {
        id: groupId('MFA Migration All'),
        displayName: 'MFA Migration All',
        description: 'Everyone in the migration (Wave 1 nested)',
        members: [groupId('MFA Migration Wave 1'), ...others],
      },
      // An empty assigned group for staged rollout (Microsoft advises one separate from the migration scope).
      { id: groupId('MFA Staged Rollout'), displayName: 'MFA Staged Rollout', description: 'Users switched to Entra MFA by staged rollout', members: [] },
      // A dynamic group, which staged rollout refuses.
      {
        id: groupId('Contoso Sales'),
        displayName: 'Contoso Sales',
        description: 'Everyone in Sales (dynamic)',
        groupTypes: ['DynamicMembership'],
        membershipRule: '(user.department -eq "Sales")',
        members: sales,
      },
    ],
    hardwareOathDevices: [token('20010011', 'activated', 'hana@contoso.com'), token('20019998', 'available', null)],
  };
}

export function contosoTenantText(root = packageRoot()): string {
  return JSON.stringify(buildContosoTenant(root), null, 2) + '\n';
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--write')) {
  const file = join(packageRoot(), 'fixtures', 'contoso', 'tenant.json');
  writeFileSync(file, contosoTenantText());
  process.stdout.write(`wrote ${file}\n`);
}
