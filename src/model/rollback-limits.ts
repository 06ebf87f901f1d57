import { phoneBehindDefault } from './default-phone.js';
import type { DefaultMethod } from './tenant.js';

/**
 * What a rollback cannot undo, known before the run: the one rule the plan counts by and the
 * rollback (apply/rollback-inverses.ts) lists by, so that the two cannot disagree. Pure.
 */

type Preferences = { userPreferredMethodForSecondaryAuthentication?: unknown } | null | undefined;

/**
 * The default method a change of `signInPreferences` sets where the user had none, or undefined:
 * Graph documents no way to unset a default method (null is not an allowed value), so it stays.
 */
export function defaultSetWhereNone(resource: string, before: unknown, after: unknown): string | undefined {
  if (resource !== 'signInPreferences' || (before as Preferences)?.userPreferredMethodForSecondaryAuthentication) return undefined;
  return String((after as Preferences)?.userPreferredMethodForSecondaryAuthentication);
}

/**
 * The phone (`phoneMethods/<type>`) a default method set where none was rings or texts: a phone the
 * run created there stays too, since Graph refuses to delete the phone behind the default method.
 */
export function phoneKeptBehind(defaultSet: string): string | undefined {
  const type = phoneBehindDefault(defaultSet as DefaultMethod);
  return type ? `phoneMethods/${type}` : undefined;
}

/** A user change as the plan records it (the fields the rule reads). */
export interface UndoableChange {
  user_id: string;
  resource: string;
  action: string;
  before: unknown;
  after: unknown;
}

/** The changes of a plan a rollback cannot undo: defaults set where none was, and the phones created behind them. */
export function changesRollbackCannotUndo<C extends UndoableChange>(changes: readonly C[]): { defaults: C[]; phones: C[] } {
  const defaults = changes.filter((c) => c.action !== 'no-op' && defaultSetWhereNone(c.resource, c.before, c.after) !== undefined);
  const kept = new Set(defaults.map((c) => `${c.user_id}\n${phoneKeptBehind(defaultSetWhereNone(c.resource, c.before, c.after)!) ?? ''}`));
  const phones = changes.filter((c) => c.action === 'create' && kept.has(`${c.user_id}\n${c.resource}`));
  return { defaults, phones };
}
