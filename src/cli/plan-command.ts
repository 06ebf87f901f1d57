import { Option, type Command } from 'commander';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { DefaultMethodMode } from '../mapping/default-method-rules.js';
import { ALL_USERS, type PolicyTarget } from '../mapping/policy-rules.js';
import { formatProblem, SourceError } from '../model/problem.js';
import { GraphRequestError, ReadOnlyViolation, SignInError, type GraphConnection } from '../graph/graph-connection.js';
import { GroupResolutionError, groupMemberUpns, readTenant, resolveGroup, type ResolvedGroup } from '../graph/tenant-reader.js';
import { buildPlan, fatalProblems, type BuiltPlan } from '../plan/build-plan.js';
import { fingerprintFiles } from '../plan/fingerprint.js';
import { toPlanFile, writePlanFile, type PlanSource } from '../plan/plan-file.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import { renderReportHtml, renderReportMarkdown } from '../plan/render-report.js';
import { renderPlanTerminal } from '../plan/render-terminal.js';
import { DEVICES_FILE, readExport, SETTINGS_FILE, USERS_FILE, type ExportBundle } from '../source/export-bundle.js';
import { CliError, EXIT } from './cli-error.js';
import { addGraphOptions, connect, type GraphCliOptions } from './graph-options.js';
import { Progress } from './progress.js';
import { addSeedOptions, seedReadOptionsFrom, type SeedCliOptions } from './seed-options.js';

export interface PlanCliOptions extends SeedCliOptions, GraphCliOptions {
  source: string;
  users?: string;
  group?: string;
  targetGroup?: string;
  includeEmail: boolean;
  defaultMethod: DefaultMethodMode;
  prune: boolean;
  format: 'text' | 'json';
  report?: string;
  out?: string;
  detailedExitcode: boolean;
  showPhoneNumbers: boolean;
}

/** Options shared by plan and apply --source: what to migrate and how. */
export function addPlanningOptions(cmd: Command): Command {
  cmd.requiredOption('--source <dir>', 'export folder (users.csv, devices.csv, settings.json)');
  addSeedOptions(cmd);
  addGraphOptions(cmd);
  return cmd
    .option('--users <file>', 'only these users: a file of UPNs, one per line')
    .option('--group <nameOrId>', 'only the members of this group (nested groups included)')
    .option('--target-group <nameOrId>', 'enable the migrated methods for this group instead of all users')
    .option('--include-email', 'migrate email addresses as email methods', false)
    .addOption(new Option('--default-method <mode>', "how to set users' default MFA method").choices(['always', 'if-unset', 'most-secure-if-unset']).default('if-unset'))
    .option('--prune', 'delete tenant phone methods that MFA Server does not have', false);
}

export function registerPlan(program: Command): void {
  const cmd = program.command('plan').description('Dry run: read the tenant through Graph, compare it with the export, and show every change the migration would make, with the rule and reason for each. Never writes.');
  addPlanningOptions(cmd)
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--report <file>', "write the auditors' mapping report (.html or .md)")
    .option('--out <planfile>', 'save the plan for `mfa-migrate apply PLANFILE`')
    .option('--detailed-exitcode', 'exit 0 when there are no changes, 2 when there are, 1 on error', false)
    .option('--show-phone-numbers', 'show phone numbers in full (masked by default)', false)
    .addHelpText(
      'after',
      `
Examples:
  $ mfa-migrate emulator --port 8080 &                      # a local Graph to rehearse against
  $ mfa-migrate plan --source ./export --tokens seeds.pskc --graph-url http://127.0.0.1:8080
  $ mfa-migrate plan --source ./export --tokens seeds.pskc --auth client-secret \\
        --tenant-id $TENANT --client-id $APP --client-secret-file ./secret.txt \\
        --target-group "MFA Migration Wave 1" --report report.html --out wave1.plan
  $ mfa-migrate plan --source ./export --group "MFA Migration Wave 1" --format json --detailed-exitcode`,
    )
    .action(async (opts: PlanCliOptions) => {
      const built = await planFromOptions(opts);
      if (!built) return;
      const { plan } = built.built;
      if (opts.format === 'json') process.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
      else process.stdout.write(renderPlanTerminal(plan, { color: process.stdout.isTTY === true && !process.env.NO_COLOR, showPhoneNumbers: opts.showPhoneNumbers }));
      if (opts.report) {
        const md = /\.md$/i.test(opts.report);
        const report = md ? renderReportMarkdown(plan, { showPhoneNumbers: opts.showPhoneNumbers }) : renderReportHtml(plan, { showPhoneNumbers: opts.showPhoneNumbers });
        await writeFileAtomic(opts.report, report, 0o600);
        process.stderr.write(`Mapping report written to ${opts.report}\n`);
      }
      if (opts.out) {
        await writePlanFile(opts.out, toPlanFile(plan, built.source));
        process.stderr.write(`Saved the plan to ${opts.out}. To perform exactly these actions: mfa-migrate apply ${opts.out}\n`);
      }
      const changes = plan.summary.create + plan.summary.update + plan.summary.delete;
      process.exitCode = opts.detailedExitcode && changes > 0 ? EXIT.changes : EXIT.ok;
    });
}

/** Reads the export and the tenant and builds the plan; undefined (exit 1 already set) when the export is unusable. */
export async function planFromOptions(opts: PlanCliOptions): Promise<{ built: BuiltPlan; bundle: ExportBundle; source: PlanSource; conn: GraphConnection } | undefined> {
  const seeds = seedReadOptionsFrom(opts);
  let bundle: ExportBundle;
  try {
    bundle = await readExport({ source: opts.source, tokens: opts.tokens, seeds });
  } catch (err) {
    if (err instanceof SourceError) throw new CliError(formatProblem(err.problem));
    throw err;
  }
  const fatal = fatalProblems(bundle.problems.items);
  if (fatal.length > 0) {
    process.stderr.write(`The export cannot be trusted; fix these first (mfa-migrate validate lists everything):\n${fatal.map((p) => `  ${formatProblem(p)}`).join('\n')}\n`);
    if (opts.format === 'json') process.stdout.write(`${JSON.stringify({ errors: fatal }, null, 2)}\n`);
    process.exitCode = EXIT.error;
    return undefined;
  }

  // Hash the export now, next to reading it, not after a tenant read that can take minutes (a file
  // edited meanwhile would give a fingerprint of other content); the hashing overlaps the reads.
  const files = [USERS_FILE, DEVICES_FILE, SETTINGS_FILE].filter((f) => existsSync(join(opts.source, f))).map((f) => ({ name: f, path: join(opts.source, f) }));
  const fingerprint = fingerprintFiles([...files, ...opts.tokens.map((t, i) => ({ name: bundle.files.seeds[i] ?? t, path: t }))]);
  fingerprint.catch(() => {}); // awaited below; a Graph failure may come first

  const conn = connect(opts, true);
  try {
    const scope = await resolveScope(conn, bundle, opts);
    const target: PolicyTarget = opts.targetGroup ? await resolveGroupOption(conn, '--target-group', opts.targetGroup) : ALL_USERS;
    const inScope = bundle.users.filter((u) => u.enabled && (!scope || scope.has(u.username.toLowerCase())));
    const names = new Set(inScope.map((u) => u.username));
    const serials = bundle.tokens.filter((t) => t.user !== undefined && names.has(t.user)).map((t) => t.seed.serial);
    const progress = new Progress('Reading tenant users');
    const tenant = await readTenant(conn, { upns: inScope.map((u) => u.username), serials, concurrency: opts.concurrency, onProgress: (d, t) => progress.update(d, t) });
    progress.done();

    const sourceFingerprint = await fingerprint;
    const built = buildPlan({
      bundle,
      tenant,
      ...(scope ? { scope } : {}),
      options: { includeEmail: opts.includeEmail, defaultMethod: opts.defaultMethod, prune: opts.prune, target },
      sourceFingerprint,
      now: new Date(),
    });
    // Absolute paths: apply and resume read the seeds again, maybe from another working folder.
    const source: PlanSource = {
      dir: resolve(opts.source),
      tokens: opts.tokens.map((t) => resolve(t)),
      ...(opts.pskcKeyFile ? { pskcKeyFile: resolve(opts.pskcKeyFile) } : {}),
      ...(opts.pskcPasswordFile ? { pskcPasswordFile: resolve(opts.pskcPasswordFile) } : {}),
      pskcMac: opts.pskcMac,
    };
    return { built, bundle, source, conn };
  } catch (err) {
    if (err instanceof GraphRequestError || err instanceof ReadOnlyViolation || err instanceof SignInError) throw new CliError(err.message);
    if (err instanceof TypeError && /fetch failed/.test(err.message)) throw new CliError(`cannot reach Graph at ${opts.graphUrl}: ${(err.cause as Error | undefined)?.message ?? err.message}`);
    if (err instanceof Error && err.name === 'TimeoutError') throw new CliError(`Graph at ${opts.graphUrl} did not answer in time: ${err.message}`);
    throw err;
  }
}

async function resolveScope(conn: GraphConnection, bundle: ExportBundle, opts: PlanCliOptions): Promise<Set<string> | undefined> {
  let scope: Set<string> | undefined;
  if (opts.users) {
    let text: string;
    try {
      text = await readFile(opts.users, 'utf8');
    } catch (err) {
      throw new CliError(`cannot read --users ${opts.users} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    scope = new Set(
      text
        .split(/\r?\n/)
        .map((l) => l.split(/[,;]/)[0]!.trim().toLowerCase())
        .filter((l) => l && !l.startsWith('#') && l !== 'upn' && l !== 'username' && l !== 'userprincipalname'),
    );
  }
  if (opts.group) {
    const group = await resolveGroupOption(conn, '--group', opts.group);
    const members = new Set((await groupMemberUpns(conn, group.id)).map((u) => u.toLowerCase()));
    scope = scope ? new Set([...scope].filter((u) => members.has(u))) : members;
  }
  if (scope) {
    const known = new Set(bundle.users.map((u) => u.username.toLowerCase()));
    const unknown = [...scope].filter((u) => !known.has(u));
    if (unknown.length > 0 && opts.users) process.stderr.write(`Note: ${unknown.length} user(s) in --users are not in the export and are ignored\n`);
  }
  return scope;
}

/** A group option's group; an unknown or ambiguous name is the admin's error, reported as such. */
async function resolveGroupOption(conn: GraphConnection, option: string, nameOrId: string): Promise<ResolvedGroup> {
  try {
    return await resolveGroup(conn, nameOrId);
  } catch (err) {
    if (err instanceof GroupResolutionError) throw new CliError(`${option} ${JSON.stringify(nameOrId)}: ${err.message}`);
    throw err;
  }
}
