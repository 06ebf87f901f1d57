import type { Command } from 'commander';
import { EXIT } from '../model/exit-code.js';
import { formatProblem } from '../model/problem.js';
import { printable } from '../model/printable.js';
import { checkShimCode } from '../app/shim-check.js';
import { importShimStore } from '../app/shim-import.js';
import { onHangUp, startShimServe } from '../app/shim-serve.js';
import { DEFAULT_SOURCE_MAX_FAILS } from '../shim/shim-service.js';
import { unlockShimUser } from '../app/shim-unlock.js';
import { addSeedOptions, collect, seedReadOptionsFrom, type SeedCliOptions } from './seed-options.js';
import { addStrictPermissionsOption, secretFilesFrom } from './strict-permissions.js';
import { addRuleOptions, addStoreOptions, notice, readCode, rulesFrom, storeRequestFrom, untilStopped, wholeNumber, type RuleFlags, type StoreFlags } from './shim-options.js';
import { renderImportSummary, renderUnlocked } from './views/shim-views.js';

/** `mfa-migrate shim ...`: the flags and the views; the use cases are in src/app/shim-*.ts. */
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
  registerServe(shim);
  registerCheck(shim);
  registerUnlock(shim);
  registerImport(shim);
}

interface ServeFlags extends StoreFlags, RuleFlags {
  host: string;
  port: number;
  apiKeyFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  insecure: boolean;
  rateLimit: number;
  rateBurst: number;
  sourceMaxFails: number;
  maxBody: number;
  radiusPort?: number;
  radiusClients?: string;
  radiusAttributes?: string;
}

function registerServe(shim: Command): void {
  addStrictPermissionsOption(
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
        .option('--source-max-fails <n>', 'failures one end-user address may have across all users per lock-out window (0: no budget)', wholeNumber(0, 1_000_000), DEFAULT_SOURCE_MAX_FAILS)
        .option('--max-body <bytes>', 'largest request body accepted', wholeNumber(64, 1_048_576), 4096)
        .option('--radius-port <port>', 'also answer RADIUS Access-Requests (PAP) on this UDP port of --host (default: off)', wholeNumber(0, 65535))
        .option('--radius-clients <file>', 'RADIUS clients, one per line: ADDRESS[/PREFIX] SECRET [NAME] (mode 0600)')
        .option('--radius-attributes <file>', 'RADIUS attributes returned on Access-Accept per user or group (user:UPN | group:NAME  Name=value ...)'),
      ),
    ),
    ['the API key file', 'the TLS key'],
  )
    .addHelpText(
      'after',
      `
Binding to anything but a loopback address requires --api-key-file and --tls-cert/--tls-key
(or --insecure). Stops cleanly on SIGINT/SIGTERM; SIGHUP reopens the audit log at its path
(log rotation) and reloads --radius-clients and --radius-attributes (a file that does not read is
refused, and the ones in use stay).

Examples:
  $ mfa-migrate shim serve --store ./shim.store --port 8085
  $ mfa-migrate shim serve --store ./shim.store --host 0.0.0.0 --api-key-file ./api.key \\
      --tls-cert ./shim.crt --tls-key ./shim.key
  $ curl -s localhost:8085/v1/verify -H 'Content-Type: application/json' -d '{"user":"ivan@contoso.com","code":"287082"}'
  {"result":"accept","reason":"ok"}
  $ mfa-migrate shim serve --store ./shim.store --host 10.0.0.5 --api-key-file ./api.key \\
      --tls-cert ./shim.crt --tls-key ./shim.key --radius-port 1812 --radius-clients ./radius-clients
  $ mfa-migrate shim serve --store ./shim.store --state postgres://shim@db.example:5432/mfa_shim

RADIUS (RFC 2865): PAP only; every Access-Request must carry a Message-Authenticator (RFC 3579),
else it is dropped. Set the VPN's RADIUS timeout to at least 30 s. With --state, any number of
nodes share one PostgreSQL database (see docs/shim.md, "High availability").`,
    )
    .action(async (flags: ServeFlags) => {
      const service = await startShimServe({
        ...storeRequestFrom(flags),
        host: flags.host,
        port: flags.port,
        rules: rulesFrom(flags),
        rateLimit: { perSecond: flags.rateLimit, burst: flags.rateBurst },
        sourceMaxFails: flags.sourceMaxFails,
        ...(flags.apiKeyFile !== undefined ? { apiKeyFile: flags.apiKeyFile } : {}),
        ...(flags.tlsCert !== undefined ? { tlsCert: flags.tlsCert } : {}),
        ...(flags.tlsKey !== undefined ? { tlsKey: flags.tlsKey } : {}),
        insecure: flags.insecure,
        maxBodyBytes: flags.maxBody,
        ...(flags.radiusPort !== undefined ? { radiusPort: flags.radiusPort } : {}),
        ...(flags.radiusClients !== undefined ? { radiusClients: flags.radiusClients } : {}),
        ...(flags.radiusAttributes !== undefined ? { radiusAttributes: flags.radiusAttributes } : {}),
      });
      process.stdout.write(
        `mfa-migrate shim: listening on ${service.url}${service.radiusAddress ? ` and radius udp/${service.radiusAddress.port}` : ''} (${service.db.users.size} users, ${service.db.tokens.size} tokens; audit log ${printable(service.auditPath)})\n`,
      );
      // SIGHUP reopens the audit log (logrotate) and reloads the RADIUS files, as FreeRADIUS does
      // (by default it would end the process).
      const hangUp = (): void => {
        for (const message of onHangUp(service, flags)) notice(message);
      };
      process.on('SIGHUP', hangUp);
      await untilStopped();
      process.off('SIGHUP', hangUp);
      notice('stopping');
      try {
        await service.close();
      } catch (err) {
        notice(`error while stopping: ${(err as Error).message}`);
        process.exitCode = EXIT.error;
      }
    });
}

function registerCheck(shim: Command): void {
  addRuleOptions(
    addStoreOptions(
      shim
        .command('check')
        .description('Verify one code offline, with the same rules and state as the server (a server on the store file must be stopped; with --state postgres://... it may run).')
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
  $ read -s CODE; echo "$CODE" | mfa-migrate shim check --store ./shim.store --user ivan@contoso.com --code -
  $ PGPASSFILE=~/.pgpass mfa-migrate shim check --store ./shim.store --state postgres://shim@db:5432/mfa_shim \\
      --user ivan@contoso.com --code -`,
    )
    .action(async (flags: StoreFlags & RuleFlags & { user: string; code: string }) => {
      const rules = rulesFrom(flags);
      const outcome = await checkShimCode({ ...storeRequestFrom(flags), rules, user: flags.user, code: await readCode(flags.code) });
      process.stdout.write(JSON.stringify({ result: outcome.result, reason: outcome.reason }) + '\n');
      process.exitCode = outcome.result === 'accept' ? EXIT.ok : EXIT.error;
    });
}

function registerUnlock(shim: Command): void {
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
(at the latest at the user's next attempt). With --state it is written to the database, for every
server at once.

Examples:
  $ mfa-migrate shim unlock ivan@contoso.com --store ./shim.store
  $ mfa-migrate shim unlock ivan@contoso.com --store ./shim.store --state postgres://shim@db:5432/mfa_shim`,
    )
    .action(async (user: string, flags: StoreFlags & RuleFlags) => {
      const outcome = await unlockShimUser({ ...storeRequestFrom(flags), rules: rulesFrom(flags), user });
      process.stdout.write(renderUnlocked(user, outcome));
    });
}

interface ImportFlags extends SeedCliOptions, StoreFlags {
  source: string;
  includeDisabled: boolean;
  force: boolean;
  dropStoreState: string[];
  json: boolean;
}

function registerImport(shim: Command): void {
  const cmd = addStoreOptions(
    shim
      .command('import')
      .description('Build (or refresh) the encrypted token store from the MFA Server export and the OATH seed files.')
      .requiredOption('--source <dir>', 'export folder holding users.csv (users are matched to tokens via oath_token_serial)'),
  );
  addSeedOptions(cmd)
    .option('--include-disabled', 'also import tokens of users disabled in MFA Server', false)
    .option('--force', 'write the store even if the export has errors (what could be read is imported)', false)
    .option('--drop-store-state <store-id>', "with --state: drop the state the database holds for another store (the id its refusal names), giving the database to this store; tokens of the same seed carry on from it (repeatable)", collect, [] as string[])
    .option('--json', 'print the summary as JSON', false)
    .addHelpText(
      'after',
      `
Every OATH token assigned to a user is imported, including those Entra could take (during cutover
both paths may be live). Re-importing keeps the counters, replay state and drift of unchanged tokens
(same serial and seed) and the users' fail counters; a changed seed starts afresh. The store is
encrypted with the key from --key-file or $MFA_SHIM_KEY and written 0600, atomically. Refuses to
run while \`shim serve\` holds the store. Never prints a secret. One import names every seed file
(with every shipment's --pskc-key-file): tokens of a seed file left out are removed. With --state, a
database holds one store's state: an import of another store is refused, naming the one held (new
seeds go into that store's file; --drop-store-state ID gives the database to this store instead).

Examples:
  $ export MFA_SHIM_KEY="$(openssl rand -base64 32)"
  $ mfa-migrate shim import --source ./export --tokens ./tokens/seeds.pskc --store ./shim.store
  $ mfa-migrate shim import --source ./export --tokens vendor.pskc --pskc-key-file psk.hex \\
      --tokens entra-upload.csv --store ./shim.store --key-file ./shim.key
  $ mfa-migrate shim import --source ./export --tokens ./tokens/seeds.pskc --store ./shim.store \\
      --state postgres://shim@db:5432/mfa_shim      # the state goes to PostgreSQL (docs/shim.md)`,
    )
    .action(async (flags: ImportFlags) => {
      const { summary } = await importShimStore({
        ...storeRequestFrom(flags),
        source: flags.source,
        tokens: flags.tokens,
        seeds: seedReadOptionsFrom(flags, secretFilesFrom(flags, notice)),
        includeDisabled: flags.includeDisabled,
        force: flags.force,
        dropStoreState: flags.dropStoreState,
        // A note like every other of the shim's commands (`mfa-migrate shim: warning: ...`), shown printable.
        onProblem: (p) => notice(`${p.severity}: ${formatProblem(p)}`),
      });
      process.stdout.write(flags.json ? `${JSON.stringify(summary, null, 2)}\n` : renderImportSummary(flags.store, summary));
    });
}
