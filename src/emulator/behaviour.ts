/**
 * How this emulated Graph behaves where the docs show more than one behaviour, or where a tenant can be in
 * a state that tests need to reach: set in the tenant file's `behaviour`, or by EmulatorOptions.behaviour.
 */
export interface Behaviour {
  /**
   * The shape of hardware OATH inventory items: 'device' (flat device objects, as the create examples and the
   * Entra docs show) or 'method' (list items as hardwareOathAuthenticationMethod with the device under
   * `device`, and a Get wrapped in `value`, as the List and Get examples show).
   */
  inventoryShape: 'device' | 'method';
  /** False: every /beta path answers as Graph does for an endpoint that does not exist. */
  betaAvailable: boolean;
  /**
   * Seconds (divided by --time-scale) after the HardwareOath method is enabled during which activations fail
   * for a policy reason; 0: none. Whatever the delay, activations fail while HardwareOath is disabled.
   */
  hardwareOathPropagationSeconds: number;
  /**
   * The tenant's HardwareOath method was enabled this many seconds (divided by --time-scale) before the
   * emulator started (or was reset): an admin who enabled it in the portal minutes ago, its propagation
   * partly over. null: long before (no delay left). The policy's lastModifiedDateTime says so too.
   */
  hardwareOathEnabledSecondsBeforeStart: number | null;
  /**
   * How Graph words that refusal: undocumented (only the delay is), so a test can give it another status,
   * code or message and check that the client does not depend on the emulator's wording.
   */
  hardwareOathPropagationRefusal: { status: 400 | 403; code: string; message: string };
  /** At most `activations` activations per `windowSeconds` (time-scaled) in the tenant; null: no limit. */
  activationRateLimit: { activations: number; windowSeconds: number } | null;
  /**
   * Staged rollout's documented limits: groups per feature, users per group, and users a group may hold when
   * it is added to a rollout policy. Lower them to reach the limits in tests.
   */
  stagedRolloutLimits: { groupsPerFeature: number; membersPerGroup: number; membersAtFirstAdd: number };
  /**
   * Seconds (divided by --time-scale) after a hardware OATH token or a staged rollout policy is created
   * during which Graph's other requests do not find it yet (404 by id or serial, left out of lists): Entra
   * is eventually consistent, and Microsoft documents that a new object may answer "Not Found" at first.
   */
  replicationLagSeconds: number;
  /**
   * Reads show each Microsoft Authenticator target with `outlookMobileAllowedState`,
   * `displayAppInformationRequiredState` and `numberMatchingRequiredState` ("default"), as Graph's own GET
   * samples and many tenants' reads do: properties the schema has since dropped, which a PATCH may not carry.
   */
  authenticatorTargetLegacyProperties: boolean;
  /**
   * Phone methods read as an Authentication Administrator sees them: Graph's list methods doc says "The
   * authentication administrator only sees masked phone numbers", and not how they are masked. The
   * emulator keeps the country code and the number's last two digits and shows an `X` for every other
   * digit, the extension's included (`+1 XXXXXXXX01`, `+1 XXXXXXXX03xXXXX`). Writes take real numbers.
   */
  maskedPhoneNumbers: boolean;
}

export const DEFAULT_BEHAVIOUR: Behaviour = {
  inventoryShape: 'device',
  betaAvailable: true,
  hardwareOathPropagationSeconds: 0,
  hardwareOathEnabledSecondsBeforeStart: null,
  hardwareOathPropagationRefusal: {
    status: 400,
    code: 'badRequest',
    message: 'Hardware OATH tokens are not enabled for this user by the authentication methods policy. Policy changes can take up to 20 minutes to apply.',
  },
  activationRateLimit: null,
  stagedRolloutLimits: { groupsPerFeature: 10, membersPerGroup: 50_000, membersAtFirstAdd: 200 },
  replicationLagSeconds: 0,
  authenticatorTargetLegacyProperties: false,
  maskedPhoneNumbers: false,
};
