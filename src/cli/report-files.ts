import { accessSync, constants, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CliError } from './exit-codes';

/**
 * Checks, before a run starts, that `path` can be written at its end (its
 * folder exists and is writable, and it is not a folder): found out now, not
 * after an hour of ingesting. Returns the absolute path.
 */
export function checkWritable(flag: string, path: string): string {
  const abs = resolve(path);
  try {
    if (statSync(abs, { throwIfNoEntry: false })?.isDirectory() === true) throw new Error('it is a folder');
    accessSync(dirname(abs), constants.W_OK);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such folder' : e.code === 'EACCES' ? 'permission denied' : e.message;
    throw new CliError(`Cannot write ${flag} ${abs}: ${why}`);
  }
  return abs;
}

/**
 * Writes `text` to a temporary file beside `path`, then renames it over
 * `path`: a reader (node_exporter, a monitoring script) sees the old file or
 * the new one, never half of one.
 */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
