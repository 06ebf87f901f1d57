/**
 * A username as an export file, a seed file or a --users list gives it, in Unicode's composed form
 * (NFC): AD holds names composed (`ü` one character, as Graph's onPremisesSamAccountName and
 * onPremisesUserPrincipalName give them), and a tool on macOS or a script may write them decomposed
 * (`u` and a combining diaeresis), which looks the same and compares unequal. Every reader of a
 * username goes through this, so that duplicates, matching to the tenant and a plan's scope agree.
 */
export function composedUsername(name: string): string {
  return name.normalize('NFC');
}
