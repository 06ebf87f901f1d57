import { commandHint } from './views/command-hint.js';
import { cliCommand } from '../model/command-line.js';
import { Option, type Command } from 'commander';
import { makePlan, savePlan, stagePlan, UntrustedExportError, type PlanRequest } from '../app/plan.js';
import { failedOncePlaced, type StagedFile } from '../io/atomic-file.js';
import type { DefaultMethodMode } from '../mapping/default-method-rules.js';
import type { SecretFileOptions } from '../io/secret-file.js';
import { EXIT } from '../model/exit-code.js';
import { UserError } from '../model/user-error.js';
import { printable } from '../model/printable.js';
import { planJsonChunks } from '../plan/plan-json.js';
import type { Plan } from '../plan/plan-model.js';
import { writeChunks } from './json-stream.js';
import { renderPlanTerminal } from '../plan/render-terminal.js';
import { useColor } from './color.js';
import { addGraphOptions, connectFromOptions, type GraphCliOptions } from './graph-options.js';
import { Progress } from './progress.js';
import { secretFilesFrom } from './strict-permissions.js';
import { checkReportPath, stagePlanReport, writePlanReport } from './views/plan-report-file.js';
import { asOutputError, checkOutputFile, inputFiles } from './output-file.js';
import { addSeedOptions, collect, seedReadOptionsFrom, type SeedCliOptions } from './seed-options.js';
import { parseNetbiosDomains, type MatchBy } from '../model/user-match.js';

export interface PlanCliOptions extends SeedCliOptions, GraphCliOptions {
  source: string;
  users?: string;
  group?: string;
  targetGroup?: string;
  includeEmail: boolean;
  defaultMethod: DefaultMethodMode;
  prune: boolean;
  allowMissingSeeds: boolean;
  rolloutGroup: string[];
  federatedMfa?: 'reject';
  forceFederation: boolean;
  campaignGroup?: string;
  matchBy: string;
  netbiosDomain: string[];
  showPhoneNumbers: boolean;
  color?: boolean;
}

/** Options that decide what a plan holds: given with a saved plan (apply PLANFILE) they are refused. */
export const PLAN_SHAPING_OPTIONS: readonly { key: string; flag: string }[] = [
  { key: 'prune', flag: '--prune' },
  { key: 'defaultMethod', flag: '--default-method' },
  { key: 'includeEmail', flag: '--include-email' },
  { key: 'targetGroup', flag: '--target-group' },
  { key: 'allowMissingSeeds', flag: '--allow-missing-seeds' },
  { key: 'tokens', flag: '--tokens' },
  { key: 'pskcKeyFile', flag: '--pskc-key-file' },
  { key: 'pskcPasswordFile', flag: '--pskc-password-file' },
  { key: 'pskcMac', flag: '--pskc-mac' },
  { key: 'pskcExpired', flag: '--pskc-expired' },
  { key: 'rolloutGroup', flag: '--rollout-group' },
  { key: 'federatedMfa', flag: '--federated-mfa' },
  { key: 'forceFederation', flag: '--force-federation' },
  { key: 'campaignGroup', flag: '--campaign-group' },
  { key: 'matchBy', flag: '--match-by' },
  { key: 'netbiosDomain', flag: '--netbios-domain' },
];

/** Staged rollout takes at most this many groups per feature. */
const MAX_ROLLOUT_GROUPS = 10;

/** Options shared by plan and apply --source: what to migrate and how. */
export function addPlanningOptions(cmd: Command, graphHelp?: string): Command {
  cmd.requiredOption('--source <dir>', 'export folder (users.csv, devices.csv, settings.json)');
  addSeedOptions(cmd);
  addGraphOptions(cmd, graphHelp);
  return cmd
    .option('--users <file>', 'only these users: a file of usernames as the export has them (UPNs, or on-premises names), one per line')
    .option('--group <nameOrId>', 'only the members of this group (nested groups included)')
    .option('--target-group <nameOrId>', 'enable the migrated methods for this group instead of all users')
    .option('--include-email', 'migrate email addresses as email methods', false)
    .addOption(new Option('--default-method <mode>', "how to set users' default MFA method").choices(['always', 'if-unset', 'most-secure-if-unset', 'never']).default('if-unset'))
    .option('--prune', 'delete tenant phone methods that MFA Server does not have (except one Graph cannot delete, such as the phone behind a default the plan keeps: kept, PHONE-PRUNE-KEPT)', false)
    .option('--allow-missing-seeds', 'plan even when token serials have no seed: those tokens are skipped and their users keep their default method', false)
    .option('--rollout-group <nameOrId>', 'switch users to Entra MFA by staged rollout: add each user with a cloud method to this assigned group once their methods are there (repeatable, up to 10, filled in order)', collect, [] as string[])
    .addOption(new Option('--federated-mfa <mode>', "the final step for federated domains: reject the federated IdP's MFA (Entra does it), once every user of the domain is switched").choices(['reject']))
    .option('--force-federation', 'with --federated-mfa reject: plan it even while users of the domain are not switched', false)
    .option('--campaign-group <nameOrId>', 'add users left with SMS and voice only to this assigned group, and target it with the Authenticator registration campaign')
    .option(
      '--match-by <list>',
      'how export usernames find their Entra user: upn,on-premises (the default) also looks a username no user has as UPN up by the synced onPremisesUserPrincipalName (name@suffix) or onPremisesSamAccountName (DOMAIN\\sam, sam), matching only when exactly one user fits; upn matches by UPN alone',
      'upn,on-premises',
    )
    .option('--netbios-domain <NAME=dns.domain>', 'for DOMAIN\\sam usernames: the DNS domain (onPremisesDomainName) of the NetBIOS domain NAME, where it is not the one whose first label is NAME (repeatable)', collect, [] as string[]);
}

/** `--match-by` as given: `upn`, or `upn,on-premises` (either order). */
export function parseMatchBy(value: string): MatchBy[] {
  const parts = value.split(',').map((p) => p.trim().toLowerCase());
  const known = new Set(['upn', 'on-premises']);
  const bad = parts.find((p) => !known.has(p));
  if (bad !== undefined || !parts.includes('upn') || new Set(parts).size !== parts.length) {
    throw new UserError(`--match-by ${JSON.stringify(value)}: give upn, or upn,on-premises (users are always matched by UPN first)`);
  }
  return parts.includes('on-premises') ? ['upn', 'on-premises'] : ['upn'];
}

/**
 * The plan use case's request from the command line (the Graph client is added by the caller);
 * the PSKC key and password files are read here, checked as `secretFiles` says.
 */
export function planRequestFrom(opts: PlanCliOptions, secretFiles: SecretFileOptions = secretFilesFrom(opts)): Omit<PlanRequest, 'graph'> {
  const rolloutGroups = opts.rolloutGroup ?? [];
  if (rolloutGroups.length > MAX_ROLLOUT_GROUPS) throw new UserError(`--rollout-group is given ${rolloutGroups.length} times: staged rollout takes at most ${MAX_ROLLOUT_GROUPS} groups per feature`);
  if (opts.forceFederation && !opts.federatedMfa) throw new UserError('--force-federation goes with --federated-mfa reject');
  const matchBy = parseMatchBy(opts.matchBy ?? 'upn,on-premises');
  let netbiosDomains: Map<string, string>;
  try {
    netbiosDomains = parseNetbiosDomains(opts.netbiosDomain ?? []);
  } catch (err) {
    throw new UserError((err as Error).message);
  }
  if (netbiosDomains.size > 0 && !matchBy.includes('on-premises')) throw new UserError('--netbios-domain goes with --match-by upn,on-premises (it tells DOMAIN\\sam usernames their domain)');
  return {
    source: opts.source,
    tokens: opts.tokens,
    seeds: seedReadOptionsFrom(opts, secretFiles),
    ...(opts.pskcKeyFile?.length ? { pskcKeyFiles: opts.pskcKeyFile } : {}),
    ...(opts.pskcPasswordFile?.length ? { pskcPasswordFiles: opts.pskcPasswordFile } : {}),
    ...(opts.users ? { users: opts.users } : {}),
    ...(opts.group ? { group: opts.group } : {}),
    ...(opts.targetGroup ? { targetGroup: opts.targetGroup } : {}),
    includeEmail: opts.includeEmail,
    defaultMethod: opts.defaultMethod,
    prune: opts.prune,
    allowMissingSeeds: opts.allowMissingSeeds,
    ...(rolloutGroups.length > 0 ? { rolloutGroups } : {}),
    ...(opts.federatedMfa ? { federatedMfa: opts.federatedMfa } : {}),
    ...(opts.forceFederation ? { forceFederation: true } : {}),
    ...(opts.campaignGroup ? { campaignGroup: opts.campaignGroup } : {}),
    matchBy,
    ...(netbiosDomains.size > 0 ? { netbiosDomains } : {}),
    concurrency: opts.concurrency,
  };
}

interface PlanCommandOptions extends PlanCliOptions {
  format: 'text' | 'json';
  report?: string;
  out?: string;
  detailedExitcode: boolean;
  all: boolean;
}

export function registerPlan(program: Command): void {
  const cmd = program.command('plan').description('Dry run: read the tenant through Graph, compare it with the export, and show every change the migration would make, with the rule and reason for each. Never writes.');
  addPlanningOptions(cmd)
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--report <file>', "write the auditors' mapping report (.html or .md)")
    .option('--out <planfile>', 'save the plan for `mfa-migrate apply PLANFILE`')
    .option('--detailed-exitcode', 'exit 0 when there are no changes, 2 when there are, 1 on error', false)
    .option('--show-phone-numbers', 'show phone numbers in full in the output and the report (masked by default; the --out file always holds them)', false)
    .option('--all', 'print every user with changes and every finding in the terminal (by default a large plan shows the first 200 users, and a finding code with more than 50 findings as one line)', false)
    .addHelpText(
      'after',
      `
Examples:
  $ mfa-migrate emulator --port 5580 &                      # a local Graph to rehearse against
  $ mfa-migrate plan --source ./export --tokens seeds.pskc --graph-url http://127.0.0.1:5580
  $ mfa-migrate plan --source ./export --tokens seeds.pskc --auth client-secret \\
        --tenant-id $TENANT --client-id $APP --client-secret-file ./secret.txt \\
        --target-group "MFA Migration Wave 1" --report report.html --out wave1.plan
  $ mfa-migrate plan --source ./export --group "MFA Migration Wave 1" --format json --detailed-exitcode
  $ mfa-migrate plan --source ./export --tokens seeds.pskc --group "MFA Migration Wave 1" \\
        --rollout-group "MFA Staged Rollout" --campaign-group "SMS users" --out wave1.plan
  $ mfa-migrate plan --source ./export --tokens seeds.pskc --rollout-group "MFA Staged Rollout" \\
        --federated-mfa reject --out final.plan             # the last wave: federation after every switch
  $ mfa-migrate plan --source ./export --netbios-domain CORP=ad.contoso.com --out wave1.plan
        # usernames CORP\\jdoe, jdoe or jdoe@corp.local found by their synced on-premises names (the default)
  $ mfa-migrate plan --source ./export --match-by upn         # by UPN alone: the others are user-not-found`,
    )
    .action(async (opts: PlanCommandOptions) => {
      if (opts.report) checkReportPath(opts.report);
      // Fail before minutes of reading, not after: the files must be writable where asked.
      // Never over a file the plan reads (the export's, a seed or key file).
      const reads = inputFiles({ dir: opts.source, tokens: opts.tokens, pskcKeyFiles: opts.pskcKeyFile, pskcPasswordFiles: opts.pskcPasswordFile });
      await checkOutputFile('--out', opts.out, reads);
      await checkOutputFile('--report', opts.report, [...reads, ...(opts.out !== undefined ? [opts.out] : [])]);
      const plan = await madeAndSaved(opts);
      if (opts.format === 'json') await writeChunks(process.stdout, planJsonChunks(plan, { showPhoneNumbers: opts.showPhoneNumbers }));
      else process.stdout.write(renderPlanTerminal(plan, { color: useColor(opts, process.stdout), showPhoneNumbers: opts.showPhoneNumbers, all: opts.all }));
      // As the other hints: quoted, with the sign-in options given (apply goes back to the plan's own Graph root).
      if (opts.out !== undefined) process.stderr.write(`Saved the plan to ${opts.out}. To perform exactly these actions: ${commandHint(['apply', opts.out], opts)}\n`);
      const changes = plan.summary.create + plan.summary.update + plan.summary.delete;
      process.exitCode = opts.detailedExitcode && changes > 0 ? EXIT.changes : EXIT.ok;
    });
}

/**
 * Makes the plan and saves it (--out, with --report both or neither), giving the plan alone: the
 * export and the tenant read are let go once the plan file is written (makeAndSave returns), as the
 * terminal plan and the report need neither (100,000 users' held some 130 MB more while those are written).
 */
async function madeAndSaved(opts: PlanCommandOptions): Promise<Plan> {
  const { plan, staged } = await makeAndSave(opts);
  if (opts.report !== undefined) await saveWithReport(opts, plan, opts.report, staged);
  return plan;
}

/** The plan made, and saved with --out alone; with --report too, staged beside its name for saveWithReport. */
async function makeAndSave(opts: PlanCommandOptions): Promise<{ plan: Plan; staged?: StagedFile }> {
  const graph = connectFromOptions(opts, true);
  const progress = new Progress('Reading tenant users');
  let made;
  try {
    made = await makePlan({
      ...planRequestFrom(opts),
      graph,
      onReadProgress: (read, total) => progress.bytes(read, total, 'Reading users.csv (MB)'),
      onListing: (found, wanted) => progress.count(found, wanted, "Listing the directory: the plan's users found"),
      onProgress: (d, t) => progress.count(d, t),
      onDomainUsers: (what, d, t) => progress.count(d, t, what),
      log: (l) => process.stderr.write(`${printable(l, true)}\n`),
    });
  } catch (err) {
    if (err instanceof UntrustedExportError && opts.format === 'json') process.stdout.write(`${JSON.stringify({ errors: err.problems }, null, 2)}\n`);
    throw err;
  } finally {
    progress.stop();
  }
  const { plan } = made.built;
  // The saved plan first: its hash (the one apply's journal records) goes into the output and the report.
  // Saved before anything is printed: a reader that closes the output early (`| head`) must not cost the plan file (a review).
  if (opts.out === undefined) return { plan };
  if (opts.report === undefined) {
    plan.plan_hash = await asOutputError('--out', opts.out, savePlan(opts.out, made));
    return { plan };
  }
  const staged = await asOutputError('--out', opts.out, stagePlan(opts.out, made)).catch((err: unknown) => {
    throw withTail(err, neitherWritten(opts.out!, opts.report!));
  });
  plan.plan_hash = staged.hash;
  return { plan, staged: staged.file };
}

/**
 * Writes --report, and puts the plan staged for --out in place with it: both or neither. A whole plan
 * beside a report that could not be written (a full disk) was left saved without "Saved the plan" (a
 * black-box round), one an apply would take. Each is written and synced beside its name first, then
 * both renamed in; a rename that fails once the plan is in place says the plan was saved and its
 * report not.
 */
async function saveWithReport(opts: PlanCommandOptions, plan: Plan, reportPath: string, staged: StagedFile | undefined): Promise<void> {
  if (staged === undefined || opts.out === undefined) {
    await asOutputError('--report', reportPath, writePlanReport(reportPath, plan, opts.showPhoneNumbers));
    return;
  }
  const out = opts.out;
  const neither = neitherWritten(out, reportPath);
  let report: StagedFile;
  try {
    report = await asOutputError('--report', reportPath, stagePlanReport(reportPath, plan, opts.showPhoneNumbers));
  } catch (err) {
    await staged.discard();
    throw withTail(err, neither);
  }
  const again = `write the report again with ${cliCommand(['show', out, '--report', reportPath, ...(opts.showPhoneNumbers ? ['--show-phone-numbers'] : [])])}`;
  // The plan in place with its folder's sync failed (EIO): the report goes in too, and the error says both are there.
  let unsynced: unknown;
  try {
    await asOutputError('--out', out, staged.commit());
  } catch (err) {
    if (!failedOncePlaced(err)) {
      await report.discard();
      throw withTail(err, neither);
    }
    unsynced = err;
  }
  try {
    await asOutputError('--report', reportPath, report.commit());
  } catch (err) {
    if (!failedOncePlaced(err)) throw withTail(err, `the plan was saved to ${out}, its report was not; ${again}`);
    unsynced ??= err;
  }
  if (unsynced !== undefined) {
    const which = unsynced instanceof UserError ? unsynced.message : String(unsynced);
    throw new UserError(`${which.replace(': cannot write it', ': cannot sync its folder')}: the plan was saved to ${out} and its report to ${reportPath}, but a crash now could lose them; check the disk, then make the plan again`, 1, { cause: unsynced });
  }
  process.stderr.write(`Mapping report written to ${reportPath}\n`);
}

/** `err` with what was left said after its message when it is the user's to read (a UserError); any other as it is. */
function withTail(err: unknown, tail: string): unknown {
  return err instanceof UserError ? new UserError(`${err.message}: ${tail}`, 1, { cause: err }) : err;
}

/** What a failure of --out or --report given together leaves: nothing. */
function neitherWritten(out: string, report: string): string {
  return `neither was written (--out ${out} and --report ${report} are saved both or neither); make room and run plan again`;
}
