/**
 * Why a SQLite file cannot be opened, in the words a user acts on (is a
 * folder / no such file / permission denied / read-only), instead of
 * SQLite's `unable to open database file (SQLITE_CANTOPEN)`. Looked up on
 * the file system after SQLite failed; undefined when nothing there
 * explains it.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname } from 'node:path';

export function openProblem(path: string, forWrite: boolean): string | undefined {
  const st = statOf(path);
  if (st?.isDirectory() === true) return 'it is a folder, not a database file';
  if (st === undefined) {
    if (!forWrite) return 'no such file (a reading command never creates one)';
    const dir = dirname(path);
    const parent = statOf(dir);
    if (parent === undefined) return `folder ${dir} does not exist`;
    if (!can(dir, constants.W_OK | constants.X_OK)) return `permission denied: cannot create a file in ${dir}`;
    return undefined;
  }
  if (!can(path, constants.R_OK)) return 'permission denied: the file cannot be read';
  if (forWrite && !can(path, constants.W_OK)) return 'read-only: the file cannot be written';
  // SQLite creates its -wal, -shm and -journal files beside the database.
  if (forWrite && !can(dirname(path), constants.W_OK)) return `read-only: folder ${dirname(path)} cannot be written (SQLite keeps its -wal and -shm files there)`;
  return undefined;
}

function statOf(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function can(path: string, mode: number): boolean {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}
