import { Option, type Command } from 'commander';
import { reportOfOne, UnreadableSourceError, validateExport } from '../app/validate.js';
import { formatProblem } from '../model/problem.js';
import { printable } from '../model/printable.js';
import type { ValidationReport } from '../source/validation-report.js';
import { EXIT } from '../model/exit-code.js';
import { writeJsonStreamed } from './json-stream.js';
import { useColor } from './color.js';
import { Progress } from './progress.js';

import { addSeedOptions, seedReadOptionsFrom, type SeedCliOptions } from './seed-options.js';
import { SeedOptionError } from '../source/seeds/seed-option-files.js';

interface ValidateOptions extends SeedCliOptions {
  source: string;
  format: 'text' | 'json';
  color?: boolean;
}

export function registerValidate(program: Command): void {
  const cmd = program
    .command('validate')
    .description('Read an MFA Server export and its OATH seed files and report what is in them and what is wrong. Never touches the network.')
    .requiredOption('--source <dir>', 'export folder holding users.csv (required), devices.csv and settings.json (optional)');
  addSeedOptions(cmd)
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .addHelpText(
      'after',
      `
Seed files (--tokens), told apart by their content (docs/seed-formats.md):
  PSKC (RFC 6030)       plain, or encrypted with AES-CBC, Triple-DES-CBC, AES or Triple-DES key wrap
                        under --pskc-key-file, or with a PBKDF2 password (--pskc-password-file)
  PSKC drafts           draft-ietf-keyprov-pskc-02 and the older ActivIdentity-style container
                        (including its PBE-3DES password encryption)
  Entra upload CSV      upn,serial number,secret key,time interval,manufacturer,model
  seed CSV              a header naming a serial and a secret column
  OATH CSV              LinOTP/privacyIDEA, no header: serial, hex key, hotp|totp, digits[, period|counter]
In the JSON report a HOTP counter above 2^53 - 1 is a decimal string.

Exit status: 0 when there are no errors (warnings allowed), 1 when there are errors.

Examples:
  $ mfa-migrate validate --source ./export
  $ mfa-migrate validate --source ./export --tokens seeds.pskc --pskc-key-file psk.hex
  $ mfa-migrate validate --source ./export --tokens order1.pskc --tokens order2.pskc \\
      --pskc-key-file order1.hex --pskc-key-file order2.hex   # each file decrypted with its own key
  $ mfa-migrate validate --source ./export --tokens activid.xml --pskc-password-file pw.txt --tokens tokens.oath
  $ mfa-migrate validate --source ./export --tokens vendor.pskc --tokens entra-upload.csv --format json > report.json`,
    )
    .action(async (opts: ValidateOptions) => {
      let seeds;
      try {
        seeds = seedReadOptionsFrom(opts);
      } catch (err) {
        // --format json answers in JSON whatever is wrong: a key file refused is that one error.
        if (!(err instanceof SeedOptionError && opts.format === 'json')) throw err;
        await writeJsonStreamed(process.stdout, { ...reportOfOne(opts.source, err.problem) });
        process.exitCode = EXIT.error;
        return;
      }
      // A large export takes seconds: how much of users.csv is read, in MB (on stderr; nothing for a small one).
      const label = 'Reading users.csv (MB)';
      const progress = new Progress(label);
      let report;
      try {
        report = await validateExport({ source: opts.source, tokens: opts.tokens, seeds, onProgress: (read, total) => progress.bytes(read, total, label) });
      } catch (err) {
        if (!(err instanceof UnreadableSourceError && opts.format === 'json')) throw err;
        report = err.report;
      } finally {
        progress.stop();
      }
      if (opts.format === 'json') await writeJsonStreamed(process.stdout, { ...report });
      else process.stdout.write(renderValidationText(report, useColor(opts, process.stdout)));
      process.exitCode = report.errors.length > 0 ? EXIT.error : EXIT.ok;
    });
}

export function renderValidationText(r: ValidationReport, color: boolean): string {
  const paint = (code: string) => (s: string) => (color ? `\u001b[${code}m${s}\u001b[0m` : s);
  const red = paint('31');
  const yellow = paint('33');
  const bold = paint('1');
  const assigned = r.tokens.filter((t) => t.user !== null).length;
  const lines = [
    bold(`Export ${printable(r.source)}`),
    `  users.csv      ${r.users} users (${r.users - r.enabled_users} disabled)`,
    `  devices.csv    ${r.devices} mobile app registrations`,
    `  settings.json  ${settingsState(r)}`,
    `  seed files     ${r.tokens.length} tokens from ${r.seed_files.length} file(s), ${assigned} assigned to users`,
  ];
  const byType = new Map<string, number>();
  for (const t of r.tokens) {
    const k = `${t.type.toUpperCase()} ${t.algorithm.toUpperCase()} ${t.digits} digits${t.check_digit ? ' + check digit' : ''}${t.period ? ` ${t.period} s` : ''}`;
    byType.set(k, (byType.get(k) ?? 0) + 1);
  }
  for (const [k, n] of [...byType].sort()) lines.push(`                 ${n} x ${k}`);
  const expired = r.tokens.filter((t) => t.expired_on !== null).length;
  if (expired > 0) lines.push(`                 ${expired} read past their PSKC ExpiryDate (--pskc-expired take; a warning each)`);
  const section = (title: string, items: ValidationReport['errors'], tint: (s: string) => string) => {
    if (items.length === 0) return;
    lines.push('', tint(`${title} (${items.length})`));
    for (const p of items) {
      lines.push(`  ${formatProblem({ severity: 'error', code: p.code as never, file: p.file, ...(p.line !== null ? { line: p.line } : {}), ...(p.path ? { path: p.path } : {}), ...(p.field !== null ? { field: p.field } : {}), message: p.message })}`);
    }
  };
  section('Errors', r.errors, red);
  section('Warnings', r.warnings, yellow);
  lines.push(
    '',
    r.errors.length > 0
      ? red(`Not valid: ${r.errors.length} error(s), ${r.warnings.length} warning(s).`)
      : `Valid${r.warnings.length ? ` with ${r.warnings.length} warning(s)` : ''}.`,
  );
  return `${lines.join('\n')}\n`;
}

/** Read, absent (it is optional), or refused: an error then names what is wrong with it. */
function settingsState(r: ValidationReport): string {
  if (r.settings) return 'read';
  return r.errors.some((e) => e.file === 'settings.json') ? 'not valid (the errors below say why)' : 'absent (optional)';
}
