import type { Command } from 'commander';
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../emulator/index.js';
import { checkOutputFile } from './output-file.js';
import { checkReportPath } from './views/plan-report-file.js';
import { packageRoot } from '../io/package-root.js';


/**
 * Every seed file of the Contoso sample with the key and password it needs (also used by the
 * tests), read from `tokens` (default: the sample's own tokens folder).
 */
export function sampleSeedArgs(sample: string, tokens = join(sample, 'tokens')): string[] {
  const keys = tokens;
  return [
    '--tokens', join(tokens, 'seeds.pskc'),
    '--tokens', join(tokens, 'seeds-psk.pskc'),
    '--pskc-key-file', join(keys, 'psk.hex'),
    '--tokens', join(tokens, 'seeds-password.pskc'),
    '--pskc-password-file', join(keys, 'pskc-password.txt'),
    '--tokens', join(tokens, 'entra-upload.csv'),
    '--tokens', join(tokens, 'generic-seeds.csv'),
  ];
}

/**
 * `mfa-migrate demo`: the whole dry run on the bundled Contoso sample against the embedded Graph
 * emulator, no tenant needed. Writes the auditors' report (HTML, or Markdown for a .md name); the plan it runs says where.
 */
export function registerDemo(program: Command, run: (argv: string[]) => Promise<void>): void {
  program
    .command('demo')
    .description('Plan the bundled Contoso sample export against the embedded Graph emulator, with the cutover (staged rollout, federation), and write the mapping report, HTML or Markdown (no tenant needed).')
    // Outside the working folder by default (run from a checkout, the demo must not leave files in
    // it), in a folder of its own: a fixed name in a shared /tmp could be another user's file or link.
    .option('--report <file>', 'where to write the mapping report: HTML for a .html name, Markdown for .md (default: report.html in a new private folder under the system temp folder)')
    .addHelpText('after', '\nExamples:\n  $ mfa-migrate demo\n  $ mfa-migrate demo --report ./demo-report.html\n  $ mfa-migrate demo --report ./demo-report.md      # Markdown')
    .action(async (given: { report?: string; color?: boolean }) => {
      // The report's name and folder first, before anything starts (as plan checks them).
      if (given.report !== undefined) checkReportPath(given.report);
      const opts = { ...given, report: given.report ?? join(mkdtempSync(join(tmpdir(), 'mfa-migrate-demo-')), 'report.html') };
      await checkOutputFile('--report', opts.report);
      const emulator = await startEmulator({ port: 0 });
      process.stderr.write(`Embedded Graph emulator at ${emulator.url} (bundled Contoso tenant)\n`);
      const sample = join(packageRoot(), 'fixtures', 'contoso');
      const keys = privateSampleKeys(sample);
      try {
        await run([
          'plan',
          '--source', sample,
          ...sampleSeedArgs(sample, keys),
          '--graph-url', emulator.url,
          // The whole cutover: users switched by staged rollout once their methods are there, then
          // the federated contoso.com's final step (forced: judy and zoe, and admin@ and helpdesk@ outside the export, have no cloud method).
          '--rollout-group', 'MFA Staged Rollout',
          '--federated-mfa', 'reject',
          '--force-federation',
          '--report', opts.report,
          // --no-color (main.ts gives every command one) reaches the plan it runs.
          ...(opts.color === false ? ['--no-color'] : []),
        ]);
      } finally {
        await emulator.stop();
        rmSync(keys, { recursive: true, force: true });
      }
      // Where the report is, the plan said (`Mapping report written to FILE`): said once, not again here.
    });
}

/**
 * The sample's seed files, PSKC key and password copied 0600 into a private temporary folder:
 * installed, the package's files are readable by all (0644), and the demo should not warn about its
 * own sample seeds and keys or tell the admin to chmod a file of the package.
 */
function privateSampleKeys(sample: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'mfa-migrate-demo-keys-'));
  for (const name of ['psk.hex', 'pskc-password.txt', 'seeds.pskc', 'seeds-psk.pskc', 'seeds-password.pskc', 'entra-upload.csv', 'generic-seeds.csv']) {
    copyFileSync(join(sample, 'tokens', name), join(dir, name));
    chmodSync(join(dir, name), 0o600);
  }
  return dir;
}
