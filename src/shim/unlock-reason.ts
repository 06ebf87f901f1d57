/**
 * The audit line's reason for an unlock: a lock-out released, failures cleared, or nothing to clear
 * (the user had no failures counted). Every unlock an admin asks for is audited, with what it found.
 */
export function unlockReason(wasLocked: boolean, cleared: boolean): 'unlocked' | 'fail_counter_reset' | 'nothing_to_clear' {
  return !cleared ? 'nothing_to_clear' : wasLocked ? 'unlocked' : 'fail_counter_reset';
}
