import { closeSync, constants, fstatSync, lstatSync, openSync, unlinkSync } from 'node:fs';

/** A file this process created, as it found it then: removed only if it is still that file, and empty. */
export interface CreatedFile {
  path: string;
  dev: number;
  ino: number;
}

/**
 * Creates `path` (0600, exclusively, never through a symbolic link) when it does not exist: the file,
 * when this call made it; undefined when it was there already or cannot be made (the caller's own
 * open then says why).
 */
export function createdNow(path: string): CreatedFile | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    return { path, dev: st.dev, ino: st.ino };
  } finally {
    closeSync(fd);
  }
}

/** Removes a file createdNow made, if it is still that file and still empty (nothing was written to it since); quietly otherwise. */
export function removeIfStillEmpty(file: CreatedFile): void {
  try {
    const st = lstatSync(file.path);
    if (st.isFile() && st.size === 0 && st.dev === file.dev && st.ino === file.ino) unlinkSync(file.path);
  } catch {
    // Gone already, or not ours to judge: left as it is.
  }
}
