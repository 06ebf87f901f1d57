/** Why a file system refused a write, in words an admin acts on, for the errors they can act on. */
const REASONS: Readonly<Record<string, string>> = {
  EROFS: 'it is on a read-only file system',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOTDIR: 'a part of the path is a file',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
};

/** Whether a write was refused for want of room, or of a writable file system: what a full disk gives. */
export function isOutOfRoom(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'EROFS';
}

/** The reason for such an error; undefined for any other. */
export function knownFsReason(err: unknown): string | undefined {
  return REASONS[(err as NodeJS.ErrnoException | null)?.code ?? ''];
}

/** The reason for such an error, else its code (or message). */
export function fsReason(err: unknown): string {
  return knownFsReason(err) ?? (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}
