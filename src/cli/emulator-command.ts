import { InvalidArgumentError, type Command } from 'commander';
import { EXIT } from '../model/exit-code.js';
import { UserError as CliError } from '../model/user-error.js';
import { EmulatorOptionError, TenantFileError, startEmulator, type ThrottleMode } from '../emulator/index.js';

const TOKEN_ENV = 'MFA_MIGRATE_EMULATOR_TOKEN';

function number(name: string, check: (n: number) => boolean, what: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || !check(n)) throw new InvalidArgumentError(`${name} must be ${what}.`);
    return n;
  };
}

function throttleMode(value: string): ThrottleMode {
  const v = value.toLowerCase() === 'off' ? 'off' : value.toUpperCase();
  if (v !== 'off' && v !== 'S' && v !== 'M' && v !== 'L') throw new InvalidArgumentError('--throttle must be off, S, M or L.');
  return v;
}

interface EmulatorFlags {
  host: string;
  port: number;
  tenant?: string;
  throttle?: ThrottleMode;
  timeScale: number;
  latency: number;
  faultRate: number;
  seed: number;
  token?: string;
  logLimit: number;
  maskedPhones?: boolean;
}

export function registerEmulator(program: Command): void {
  program
    .command('emulator')
    .description(
      'Run a local, stateful Microsoft Graph emulator (users, groups, authentication methods, hardware OATH tokens, ' +
        'the authentication methods policy, $batch) with Graph\'s rules, errors and throttling. See docs/emulator.md.',
    )
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--port <n>', 'port to listen on; 0 picks a free one', number('--port', (n) => Number.isInteger(n) && n >= 0 && n <= 65535, 'an integer from 0 to 65535'), 5580)
    .option('--tenant <file>', 'tenant file (default: the bundled fixtures/contoso/tenant.json)')
    .option('--throttle <mode>', "off, or a tenant size S | M | L for Graph's limits (default: the tenant file's size)", throttleMode)
    .option('--time-scale <k>', 'divide every throttling window and Retry-After by k', number('--time-scale', (n) => n > 0, 'a positive number'), 1)
    .option('--latency <ms>', 'delay added to every HTTP request', number('--latency', (n) => n >= 0 && n <= 60_000, 'a number of milliseconds from 0 to 60000'), 0)
    .option('--fault-rate <p>', 'share (0..1) of requests answered with 500/502/503/504', number('--fault-rate', (n) => n >= 0 && n <= 1, 'from 0 to 1'), 0)
    .option('--seed <n>', 'seed for generated ids, faults and $batch response order', number('--seed', Number.isSafeInteger, 'an integer'), 1)
    .option('--token <t>', `accept only this bearer token (default: any; also read from ${TOKEN_ENV})`)
    .option('--masked-phones', 'show phone numbers masked, as Graph shows them to an Authentication Administrator (the behaviour switch maskedPhoneNumbers)')
    .option('--log-limit <n>', 'request log entries kept for GET /_emulator/requests (0: none)', number('--log-limit', (n) => Number.isInteger(n) && n >= 0, 'a non-negative integer'), 10_000)
    .addHelpText(
      'after',
      `
Prints "Graph emulator listening on http://HOST:PORT" as its first line and serves until Ctrl-C (SIGINT) or SIGTERM.
Graph paths are under /v1.0 and /beta; /_emulator/state, /_emulator/requests and /_emulator/reset need no token unless --token is set (then Authorization: Bearer TOKEN).

Examples:
  $ mfa-migrate emulator
  $ mfa-migrate emulator --port 0 --throttle off
  $ mfa-migrate emulator --tenant ./my-tenant.json --throttle M --time-scale 10
  $ mfa-migrate emulator --fault-rate 0.05 --seed 42 --latency 30
  $ mfa-migrate emulator --masked-phones
  $ curl -H "Authorization: Bearer x" http://127.0.0.1:5580/v1.0/users?\\$top=5`,
    )
    .action(async (flags: EmulatorFlags) => {
      let emulator;
      try {
        emulator = await startEmulator({
          host: flags.host,
          port: flags.port,
          ...(flags.tenant !== undefined ? { tenant: flags.tenant } : {}),
          ...(flags.throttle !== undefined ? { throttle: flags.throttle } : {}),
          timeScale: flags.timeScale,
          latencyMs: flags.latency,
          faultRate: flags.faultRate,
          seed: flags.seed,
          requestLogLimit: flags.logLimit,
          ...(flags.maskedPhones ? { behaviour: { maskedPhoneNumbers: true } } : {}),
          ...((flags.token ?? process.env[TOKEN_ENV]) ? { token: flags.token ?? process.env[TOKEN_ENV] } : {}),
        });
      } catch (err) {
        if (err instanceof TenantFileError) throw new CliError(err.message);
        if (err instanceof EmulatorOptionError) throw new CliError(err.message, EXIT.usage);
        const code = (err as NodeJS.ErrnoException).code;
        // In the shim's words (src/shim/shim-service.ts): what it means, and what to give instead.
        const why: Record<string, string> = {
          EADDRINUSE: 'the port is in use (another process; choose another with --port)',
          EACCES: 'permission denied (a port below 1024 needs privileges; choose another with --port)',
          EADDRNOTAVAIL: "the address is not one of this machine's (--host)",
          ENOTFOUND: 'the host name does not resolve (--host)',
          EAI_AGAIN: 'the host name could not be resolved now (--host)',
        };
        if (code !== undefined && Object.hasOwn(why, code)) throw new CliError(`cannot listen on ${flags.host}:${flags.port}: ${why[code]}`);
        // Any other refusal of the socket, as the shim says it (a black-box test saw a stack trace).
        if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) throw new CliError(`cannot listen on ${flags.host}:${flags.port}: ${code}`);
        throw err;
      }
      process.stdout.write(`Graph emulator listening on ${emulator.url}\n`);
      const { tenant } = emulator.state;
      process.stderr.write(
        `tenant ${tenant.id} (size ${tenant.size}, ${emulator.state.users.length} users); throttle ${flags.throttle ?? tenant.size}` +
          `${flags.timeScale !== 1 ? ` at time scale ${flags.timeScale}` : ''}; fault rate ${flags.faultRate}; seed ${flags.seed}` +
          `${emulator.state.behaviour.maskedPhoneNumbers ? '; phone numbers shown masked (an Authentication Administrator\'s view)' : ''}\n`,
      );
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        process.once('SIGINT', () => resolve('SIGINT'));
        process.once('SIGTERM', () => resolve('SIGTERM'));
      });
      process.stderr.write(`received ${signal}, stopping\n`);
      await emulator.stop();
    });
}
