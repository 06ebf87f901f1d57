import type { Command } from 'commander';
import { CliError } from './cli-error.js';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('Read an MFA Server export and seed files and report what is in them and what is wrong (no network).')
    .requiredOption('--source <dir>', 'folder holding users.csv, devices.csv, settings.json')
    .action(() => {
      throw new CliError('validate: not implemented yet');
    });
}
