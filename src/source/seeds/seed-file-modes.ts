import { statSync } from 'node:fs';
import { checkSecretFile, type SecretFileOptions } from '../../io/secret-file.js';

/**
 * Seed files hold the seeds (in plain text, but for an encrypted PSKC): one group or others can
 * access is warned about, or refused, as the files holding its key are. One that cannot be read is
 * left to the reader, which reports it with the file's other problems.
 */
export function checkSeedFileModes(paths: readonly string[], files: SecretFileOptions): void {
  for (const path of paths) if (statSync(path, { throwIfNoEntry: false })?.isFile()) checkSecretFile(path, 'seed file', files);
}
