import { accessSync, chmodSync, closeSync, constants, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { OutputError } from '../errors';
import { fsReason } from './fs-errors';
import { refuseProtected, statOf, type ProtectedFiles } from './output-guard';

/**
 * Checks, before a run starts, that `path` may be written at its end: not
 * the database, its companions or the input (the output guard), not a
 * folder, in a folder that exists and is writable. Found out now, not after
 * an hour of ingesting. Returns the canonical path.
 */
export function checkWritable(flag: string, path: string, guard: ProtectedFiles): string {
  const final = refuseProtected(flag, path, guard);
  try {
    accessSync(dirname(final), constants.W_OK);
  } catch (err) {
    throw new OutputError(`Cannot write ${flag} ${path}: ${fsReason(final, err)}`, { cause: err });
  }
  return final;
}

/**
 * Writes `text` to a temporary file beside `path`, flushes it, then renames
 * it over `path`: a reader (node_exporter, a monitoring script) sees the old
 * file or the new one, never half of one, and a crash leaves the old one.
 * The guard is checked again first (the database exists by now); an
 * existing file's permission bits are kept.
 */
export function writeFileAtomic(flag: string, path: string, text: string, guard: ProtectedFiles): void {
  const final = refuseProtected(flag, path, guard);
  const tmp = join(dirname(final), `.${basename(final)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fd = openSync(tmp, 'wx');
    try {
      const bytes = Buffer.from(text);
      for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    const mode = statOf(final)?.mode;
    if (mode !== undefined) chmodSync(tmp, mode & 0o7777);
    renameSync(tmp, final);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err instanceof OutputError ? err : new OutputError(`Cannot write ${flag} ${path}: ${fsReason(final, err)}`, { cause: err });
  }
}
