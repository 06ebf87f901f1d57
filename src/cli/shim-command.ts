import { Command, InvalidArgumentError } from 'commander';
import { readFileSync, statSync } from 'node:fs';
import { formatProblem, SourceError } from '../model/problem.js';
import { readExport } from '../source/export-bundle.js';
import { EXIT } from '../model/exit-code.js';
import { UserError as CliError } from '../model/user-error.js';
import { addSeedOptions, seedReadOptionsFrom, type SeedCliOptions } from './seed-options.js';
import type { ImportSummary } from '../shim/import-store.js';
import { DEFAULT_RULES, validateRules, type ShimRules } from '../shim/rules.js';
import { startShimService, ShimConfigError } from '../shim/shim-service.js';
import { runCheck, runImportStore, runUnlock } from '../shim/shim-operations.js';
import { loadStoreKey, StoreKeyError } from '../shim/store-key.js';
import { StoreError } from '../shim/store-file.js';

function wholeNumber(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

/** The verification rule flags, shared by serve, check and unlock so all three apply the same rules. */
function addRuleOptions(cmd: Command): Command {
  return cmd
    .option('--totp-window <steps>', 'TOTP steps accepted either side of the expected step', wholeNumber(0, 10), DEFAULT_RULES.totpWindow)
    .option('--hotp-look-ahead <n>', 'HOTP counter values tried from the stored counter', wholeNumber(1, 100), DEFAULT_RULES.hotpLookAhead)
    .option('--hotp-look-behind <n>', 'HOTP values below the counter reported as "replayed"', wholeNumber(0, 100), DEFAULT_RULES.hotpLookBehind)
    .option('--max-fails <n>', 'consecutive failures that lock a user out', wholeNumber(1, 1000), DEFAULT_RULES.maxFails)
    .option('--lockout-minutes <m>', 'minutes until a lock-out clears by itself (0: only `shim unlock`)', wholeNumber(0, 10080), DEFAULT_RULES.lockoutMinutes);
}

function addStoreOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--store <file>', 'the encrypted token store')
    .option('--key-file <file>', 'file holding the store key (base64 of 32 bytes); default: $MFA_SHIM_KEY')
    .option('--audit-log <file>', 'JSON-lines audit log (default: <store>.audit.jsonl)');
}

interface StoreFlags {
  store: string;
  keyFile?: string;
  auditLog?: string;
}

interface RuleFlags {
  totpWindow: number;
  hotpLookAhead: number;
  hotpLookBehind: number;
  maxFails: number;
  lockoutMinutes: number;
}

function rulesFrom(flags: RuleFlags): ShimRules {
  const rules: ShimRules = {
    totpWindow: flags.totpWindow,
    hotpLookAhead: flags.hotpLookAhead,
    hotpLookBehind: flags.hotpLookBehind,
    maxFails: flags.maxFails,
    lockoutMinutes: flags.lockoutMinutes,
  };
  const problems = validateRules(rules);
  if (problems.length > 0) throw new CliError(problems.join('; '));
  return rules;
}

function keyFrom(flags: StoreFlags): Buffer {
  return loadStoreKey(flags.keyFile !== undefined ? { keyFile: flags.keyFile } : {});
}

const notice = (message: string): void => {
  process.stderr.write(`mfa-migrate shim: ${message}\n`);
};

/** Turns the shim's own errors into one-line CLI errors (they never carry secrets). */
async function cliErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof StoreError || err instanceof StoreKeyError || err instanceof ShimConfigError) throw new CliError(err.message);
    if (err instanceof Error && 'code' in err && typeof (err as NodeJS.ErrnoException).syscall === 'string') {
      const e = err as NodeJS.ErrnoException;
      throw new CliError(`${e.syscall} ${e.path ?? ''} failed: ${e.code}`.replace(/\s+/g, ' '));
    }
    throw err;
  }
}

function readSmallFile(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new CliError(`cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

function readApiKey(file: string): string {
  const key = readSmallFile(file, 'API key file').toString('utf8').trim();
  if (key.length < 16 || /\s/.test(key)) throw new CliError(`API key file ${file}: the key must be at least 16 characters without white space`);
  if ((statSync(file).mode & 0o077) !== 0) notice(`warning: API key file ${file} is readable by group or others; chmod 600 it`);
  return key;
}

async function readCode(code: string): Promise<string> {
  if (code !== '-') return code;
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

export function registerShim(program: Command): void {
  const shim = program
    .command('shim')
    .description('Cutover verify shim: verify OATH TOTP/HOTP codes locally from the MFA Server seeds (see docs/shim.md).');
  shim.addHelpText(
    'after',
    `
Examples:
  $ export MFA_SHIM_KEY="$(openssl rand -base64 32)"   # keep it: the store is encrypted with it
  $ mfa-migrate shim import --source ./export --tokens ./tokens/seeds.pskc --store ./shim.store
  $ mfa-migrate shim serve --store ./shim.store
  $ mfa-migrate shim check --store ./shim.store --user ivan@contoso.com --code 287082
  $ mfa-migrate shim unlock ivan@contoso.com --store ./shim.store`,
  );

  addRuleOptions(
    addStoreOptions(
      shim
        .command('serve')
        .description('Serve POST /v1/verify, GET /healthz and GET /metrics from the token store.')
        .option('--host <address>', 'address to listen on', '127.0.0.1')
        .option('--port <port>', 'TCP port (0: any free port)', wholeNumber(0, 65535), 8085)
        .option('--api-key-file <file>', 'require "Authorization: Bearer <key>" with the key in this file')
        .option('--tls-cert <file>', 'TLS certificate chain (PEM)')
        .option('--tls-key <file>', 'TLS private key (PEM)')
        .option('--insecure', 'allow a non-loopback address without API key and TLS', false)
        .option('--rate-limit <per-second>', 'requests per second per client address (0: off)', wholeNumber(0, 1_000_000_000), 50)
        .option('--rate-burst <n>', 'requests a client may send at once before the rate limit applies', wholeNumber(1, 1_000_000_000), 100)
        .option('--max-body <bytes>', 'largest request body accepted', wholeNumber(64, 1_048_576), 4096),
    ),
  )
    .addHelpText(
      'after',
      `
Binding to anything but a loopback address requires --api-key-file and --tls-cert/--tls-key
(or --insecure). Stops cleanly on SIGINT/SIGTERM.

Examples:
  $ mfa-migrate shim serve --store ./shim.store --port 8085
  $ mfa-migrate shim serve --store ./shim.store --host 0.0.0.0 --api-key-file ./api.key \\
      --tls-cert ./shim.crt --tls-key ./shim.key
  $ curl -s localhost:8085/v1/verify -d '{"user":"ivan@contoso.com","code":"287082"}'
  {"result":"accept","reason":"ok"}`,
    )
    .action(async (flags: StoreFlags & RuleFlags & Record<string, unknown>) => {
      const tlsCert = flags.tlsCert as string | undefined;
      const tlsKey = flags.tlsKey as string | undefined;
      if ((tlsCert === undefined) !== (tlsKey === undefined)) throw new CliError('--tls-cert and --tls-key go together');
      const rules = rulesFrom(flags);
      await cliErrors(async () => {
        const service = await startShimService({
          store: flags.store,
          key: keyFrom(flags),
          host: flags.host as string,
          port: flags.port as number,
          rules,
          rateLimit: { perSecond: flags.rateLimit as number, burst: flags.rateBurst as number },
          ...(flags.apiKeyFile !== undefined ? { apiKey: readApiKey(flags.apiKeyFile as string) } : {}),
          ...(tlsCert !== undefined && tlsKey !== undefined
            ? { tls: { cert: readSmallFile(tlsCert, 'TLS certificate'), key: readSmallFile(tlsKey, 'TLS key') } }
            : {}),
          insecure: flags.insecure === true,
          ...(flags.auditLog !== undefined ? { auditLog: flags.auditLog } : {}),
          maxBodyBytes: flags.maxBody as number,
          onNotice: notice,
        });
        if (flags.insecure === true && service.url.startsWith('http:')) notice('warning: --insecure: serving without TLS');
        process.stdout.write(
          `mfa-migrate shim: listening on ${service.url} (${service.db.users.size} users, ${service.db.tokens.size} tokens; audit log ${service.auditPath})\n`,
        );
        await new Promise<void>((resolve) => {
          const stop = (): void => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            notice('stopping');
            service.close().then(resolve, (err: Error) => {
              notice(`error while stopping: ${err.message}`);
              process.exitCode = EXIT.error;
              resolve();
            });
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
      });
    });

  addRuleOptions(
    addStoreOptions(
      shim
        .command('check')
        .description('Verify one code offline, with the same rules and state as the server (which must be stopped).')
        .requiredOption('--user <user>', 'the user (case-insensitive)')
        .requiredOption('--code <code>', 'the code, or "-" to read it from stdin (keeps it out of the process list)'),
    ),
  )
    .addHelpText(
      'after',
      `
Prints {"result": ..., "reason": ...} and exits 0 on accept, 1 on reject. The check counts: an
accepted code is used up and a wrong one counts towards the lock-out, as on the server.

Examples:
  $ mfa-migrate shim check --store ./shim.store --user ivan@contoso.com --code 287082
  $ read -s CODE; echo "$CODE" | mfa-migrate shim check --store ./shim.store --user ivan@contoso.com --code -`,
    )
    .action(async (flags: StoreFlags & RuleFlags & { user: string; code: string }) => {
      const rules = rulesFrom(flags);
      const code = await readCode(flags.code);
      const outcome = await cliErrors(() =>
        runCheck({
          store: flags.store,
          key: keyFrom(flags),
          rules,
          user: flags.user,
          code,
          ...(flags.auditLog !== undefined ? { auditLog: flags.auditLog } : {}),
          onNotice: notice,
        }),
      );
      process.stdout.write(JSON.stringify({ result: outcome.result, reason: outcome.reason }) + '\n');
      process.exitCode = outcome.result === 'accept' ? EXIT.ok : EXIT.error;
    });

  addRuleOptions(
    addStoreOptions(
      shim
        .command('unlock')
        .description("Clear a user's fail counter and lock-out.")
        .argument('<user>', 'the user (case-insensitive)'),
    ),
  )
    .addHelpText(
      'after',
      `
While \`shim serve\` runs on the store, the unlock is handed to it and applied within seconds
(at the latest at the user's next attempt).

Examples:
  $ mfa-migrate shim unlock ivan@contoso.com --store ./shim.store`,
    )
    .action(async (user: string, flags: StoreFlags & RuleFlags) => {
      const rules = rulesFrom(flags);
      const outcome = await cliErrors(() =>
        runUnlock({
          store: flags.store,
          key: keyFrom(flags),
          rules,
          user,
          ...(flags.auditLog !== undefined ? { auditLog: flags.auditLog } : {}),
          onNotice: notice,
        }),
      );
      if (outcome.status === 'unknown_user') throw new CliError(`${flags.store}: no user ${user} in the store`);
      if (outcome.status === 'requested') {
        process.stdout.write(
          `unlock of ${user} handed to the running server (pid ${outcome.server.pid} on ${outcome.server.host}); it applies it within seconds\n`,
        );
        return;
      }
      process.stdout.write(outcome.wasLocked ? `${outcome.username} unlocked\n` : `${outcome.username} was not locked out; fail counter reset\n`);
    });

  registerShimImport(shim);
}

interface ImportFlags extends SeedCliOptions, StoreFlags {
  source: string;
  includeDisabled: boolean;
  force: boolean;
  json: boolean;
}

function registerShimImport(shim: Command): void {
  const cmd = addStoreOptions(
    shim
      .command('import')
      .description('Build (or refresh) the encrypted token store from the MFA Server export and the OATH seed files.')
      .requiredOption('--source <dir>', 'export folder holding users.csv (users are matched to tokens via oath_token_serial)'),
  );
  addSeedOptions(cmd)
    .option('--include-disabled', 'also import tokens of users disabled in MFA Server', false)
    .option('--force', 'write the store even if the export has errors (what could be read is imported)', false)
    .option('--json', 'print the summary as JSON', false)
    .addHelpText(
      'after',
      `
Every OATH token assigned to a user is imported, including those Entra could take (during cutover
both paths may be live). Re-importing keeps the counters, replay state and drift of unchanged tokens
(same serial and seed) and the users' fail counters; a changed seed starts afresh. The store is
encrypted with the key from --key-file or $MFA_SHIM_KEY and written 0600, atomically. Refuses to
run while \`shim serve\` holds the store. Never prints a secret.

Examples:
  $ export MFA_SHIM_KEY="$(openssl rand -base64 32)"
  $ mfa-migrate shim import --source ./export --tokens ./tokens/seeds.pskc --store ./shim.store
  $ mfa-migrate shim import --source ./export --tokens vendor.pskc --pskc-key-file psk.hex \\
      --tokens entra-upload.csv --store ./shim.store --key-file ./shim.key`,
    )
    .action(async (flags: ImportFlags) => {
      const seeds = seedReadOptionsFrom(flags);
      const key = await cliErrors(async () => keyFrom(flags));
      let bundle: Awaited<ReturnType<typeof readExport>>;
      try {
        bundle = await readExport({ source: flags.source, tokens: flags.tokens, seeds });
      } catch (err) {
        if (err instanceof SourceError) throw new CliError(formatProblem(err.problem));
        throw err;
      }
      const errors = bundle.problems.errors;
      for (const p of bundle.problems.items) process.stderr.write(`${p.severity}: ${formatProblem(p)}\n`);
      if (errors.length > 0 && !flags.force) {
        throw new CliError(`the export has ${errors.length} error(s); nothing was written (fix them, or pass --force to import what could be read)`);
      }
      const summary = await cliErrors(() =>
        runImportStore({
          store: flags.store,
          key,
          input: {
            users: bundle.users.map((u) => ({ username: u.username, enabled: u.enabled })),
            tokens: bundle.tokens.map((t) => (t.user !== undefined ? { seed: t.seed, user: t.user } : { seed: t.seed })),
          },
          importOptions: { includeDisabled: flags.includeDisabled },
          ...(flags.auditLog !== undefined ? { auditLog: flags.auditLog } : {}),
          onNotice: notice,
        }),
      );
      process.stdout.write(flags.json ? `${JSON.stringify(summary, null, 2)}\n` : renderImportSummary(flags.store, summary));
    });
}

export function renderImportSummary(store: string, s: ImportSummary): string {
  const lines = [
    `Token store ${store} (generation ${s.generation}): ${s.users} users, ${s.tokens} tokens`,
    `  ${s.added} new, ${s.kept} unchanged (state kept), ${s.reset} with a changed seed (state reset), ${s.removed.length} removed`,
    `  ${s.tokens - s.shimOnly} can also move to Entra; ${s.shimOnly} only the shim can verify (marked "shim only")`,
  ];
  for (const [kind, n] of Object.entries(s.byKind).sort()) lines.push(`  ${String(n).padStart(5)} x ${kind}`);
  if (s.perUser.length > 0) {
    lines.push('', 'Tokens per user:');
    const width = Math.max(...s.perUser.map((u) => u.username.length));
    for (const u of [...s.perUser].sort((a, b) => a.username.localeCompare(b.username))) {
      const tokens = u.tokens.map(
        (t) =>
          `${t.serial} (${t.type.toUpperCase()} ${t.algorithm.toUpperCase()} ${t.digits}${t.period ? `/${t.period}s` : ''}${t.entraCapable ? '' : ', shim only'}${t.change === 'added' ? '' : `, ${t.change}`})`,
      );
      lines.push(`  ${u.username.padEnd(width)}  ${tokens.join(', ')}`);
    }
  }
  if (s.removed.length > 0) lines.push('', `Removed (no longer in the export): ${s.removed.join(', ')}`);
  if (s.skipped.length > 0) {
    lines.push('', `Skipped seeds (${s.skipped.length}):`);
    for (const k of s.skipped) lines.push(`  ${k.serial}  ${k.source}${k.line !== undefined ? `:${k.line}` : ''}  ${k.reason}`);
  }
  return `${lines.join('\n')}\n`;
}
