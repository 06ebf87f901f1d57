export { EXIT } from '../model/exit-code.js';
export { UserError as CliError } from '../model/user-error.js';
