import { isIP } from 'node:net';
import * as z from 'zod';

/** `10.0.0.0/8`, `2001:db8::/32` or a single address: what a named location's IP range takes. */
function isIpOrRange(text: string): boolean {
  const [address = '', prefix, extra] = text.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** MFA Server methods, as settings.json names them. */
const method = z.enum(['phone_call', 'text_message', 'mobile_app', 'oath_token']);

/**
 * settings.json: MFA Server's company settings, user portal and mobile app settings. Every field
 * is optional; unknown fields are errors (a typo must not silently drop a setting).
 */
export const settingsSchema = z
  .strictObject({
    company: z
      .strictObject({
        userDefaults: z
          .strictObject({
            method: method.optional(),
            phoneCallMode: z.enum(['standard', 'pin']).optional(),
            textMessageMode: z.enum(['otp', 'otp_pin']).optional(),
            textMessageDirection: z.enum(['one_way', 'two_way']).optional(),
            mobileAppMode: z.enum(['standard', 'pin']).optional(),
          })
          .optional()
          .describe('Company Settings > General > User Defaults: applied to users added later'),
        fraudAlert: z
          .strictObject({
            enabled: z.boolean().optional(),
            blockUser: z.boolean().optional().describe('automatically block users who report fraud'),
            reportingCode: z.number().int().min(0).max(9).optional().describe('digit pressed during the greeting to report fraud'),
          })
          .optional(),
        phoneCall: z
          .strictObject({
            callerId: z.string().optional().describe('the number MFA Server phone calls show as caller ID'),
            customGreetings: z.boolean().optional().describe('custom greeting recordings are played'),
          })
          .optional()
          .describe('Company Settings > Phone Call: what has to be set by hand for Entra phone calls'),
        lockout: z
          .strictObject({
            enabled: z.boolean().optional(),
            failures: z.number().int().min(1).optional().describe('MFA denials that lock the account'),
            resetMinutes: z.number().int().min(1).optional(),
            unlockMinutes: z.number().int().min(1).optional(),
          })
          .optional(),
      })
      .optional(),
    userPortal: z
      .strictObject({
        enabled: z.boolean().optional().describe('allow users to log in to the user portal'),
        allowUserEnrollment: z.boolean().optional(),
        allowMethodSelection: z.array(method).optional().describe('methods users may select'),
        allowMobileAppActivation: z.boolean().optional(),
        maxMobileAppDevices: z.number().int().min(1).max(10).optional(),
        allowOneTimeBypass: z.boolean().optional(),
        oneTimeBypassSeconds: z.number().int().min(1).optional(),
        useSecurityQuestions: z.boolean().optional(),
        allowOathTokenAssociation: z.boolean().optional(),
        useOathTokenFallback: z.boolean().optional(),
        trustedIps: z
          .array(z.string().regex(/^[0-9A-Fa-f:.]+(\/\d{1,3})?$/, { message: 'an IP address or CIDR range', abort: true }).refine(isIpOrRange, 'an IP address or CIDR range (IPv4 prefix 0-32, IPv6 prefix 0-128)'))
          .optional(),
      })
      .optional(),
    mobileApp: z
      .strictObject({
        accountName: z.string().optional().describe('company name shown in the Authenticator app'),
        oathPasscode: z.boolean().optional().describe('the app shows an OATH passcode (OTP)'),
      })
      .optional(),
  })
  .describe('MFA Server settings for entra-mfa-migrate (settings.json)');

export type ServerSettings = z.infer<typeof settingsSchema>;

/** The JSON Schema published as docs/settings.schema.json. */
export function settingsJsonSchema(): unknown {
  return z.toJSONSchema(settingsSchema, { target: 'draft-2020-12' });
}
