/**
 * Ends a failure that no resume of the run can mend (the tenant holds the token elsewhere, Graph
 * refuses the plan's own value, or the run can no longer make it): apply does not offer a resume for
 * it. Matched by needsNewPlan.
 */
export const NEW_PLAN_NEEDED = 'no resume mends this: plan again';

export const needsNewPlan = (error: string | undefined): boolean => error?.includes(NEW_PLAN_NEEDED) === true;
