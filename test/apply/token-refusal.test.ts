import { describe, expect, it } from 'vitest';
import type { Operation } from '../../src/apply/operations.js';
import { needsNewPlan } from '../../src/apply/new-plan-needed.js';
import { assignedElsewhereRefusal } from '../../src/apply/token-refusal.js';

const op = (kind: Operation['kind']): Operation => ({ id: `u/hardwareOathMethods/20010006/${kind}`, kind, userId: 'u', resource: 'hardwareOathMethods/20010006', before: null, after: {}, stateFingerprint: '', dependsOn: [] });
const refusal = (status: number, message: string, code = 'badRequest') => ({ status, headers: {}, body: { error: { code, message } } });

describe('assignedElsewhereRefusal: Graph refusing a token that is another user\'s (its wording is not documented)', () => {
  it("takes the emulator's wording and others like it, with the serial and 'plan again'", () => {
    for (const message of [
      'The hardware OATH token is assigned to another user; a token can be assigned to one user only.',
      'Device is already assigned to a different user.',
      'This token belongs to someone else.',
      'A hardware OATH token can only be assigned to one user.',
    ]) {
      const why = assignedElsewhereRefusal(op('token-assign-activate'), refusal(400, message) as never);
      expect(why, message).toMatch(/serial 20010006 is assigned to another user.*no resume mends this: plan again/);
      expect(needsNewPlan(why)).toBe(true);
    }
  });

  it('leaves alone what a wait may mend or that says something else: the policy, a code, access, the device limit, other writes', () => {
    expect(assignedElsewhereRefusal(op('token-assign-activate'), refusal(400, 'The authentication method is not enabled for the user.') as never)).toBeUndefined();
    expect(assignedElsewhereRefusal(op('token-activate'), refusal(400, 'The verification code is not valid for this hardware OATH token.') as never)).toBeUndefined();
    expect(assignedElsewhereRefusal(op('token-assign-activate'), refusal(403, 'Insufficient privileges to manage the methods of other users.', 'Authorization_RequestDenied') as never)).toBeUndefined();
    // A 403 is access, whatever its words (a review: these were taken for a token held elsewhere, so no resume was offered and the run's stop on refusals never counted them).
    expect(assignedElsewhereRefusal(op('token-assign-activate'), refusal(403, 'Caller is not permitted to manage the authentication methods of other users.', 'Forbidden') as never)).toBeUndefined();
    expect(assignedElsewhereRefusal(op('token-assign-activate'), refusal(403, 'The token is assigned to another user.', 'unknownError') as never)).toBeUndefined();
    expect(assignedElsewhereRefusal(op('token-assign-activate'), refusal(400, 'The user already has the maximum of 5 OATH tokens and Microsoft Authenticator registrations.') as never)).toBeUndefined();
    expect(assignedElsewhereRefusal(op('phone-create'), refusal(400, 'assigned to another user') as never)).toBeUndefined();
    expect(assignedElsewhereRefusal(op('token-assign-activate'), refusal(404, 'assigned to another user') as never)).toBeUndefined();
  });
});
