import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { OutputError, toError } from '../errors';

/**
 * A coded one-line error for an output file that cannot be written: what
 * went wrong in words, not `ENOENT` and a stack.
 *
 * @example
 * outputError('/missing/dir/x', err); // ERR_OUTPUT: Cannot write /missing/dir/x: folder /missing/dir does not exist
 */
export function outputError(path: string, err: unknown, what = 'Cannot write'): OutputError {
  return new OutputError(`${what} ${path}: ${fsReason(path, err)}`, { cause: err });
}

/** Why a file operation on `path` failed, in words. */
export function fsReason(path: string, err: unknown): string {
  const e = toError(err) as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOENT': return isFolder(dirname(path)) ? 'no such file' : `folder ${dirname(path)} does not exist`;
    case 'ENOTDIR': return 'a part of the path is not a folder';
    case 'EISDIR': return 'it is a folder';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EROFS': return 'read-only file system';
    case 'ENOSPC': return 'no space left on the device';
    default: return e.message;
  }
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
