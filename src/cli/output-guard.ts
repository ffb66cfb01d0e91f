import { fstatSync, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { OutputError } from '../errors';

/** What an output file (`--rejects`, `--rejects-lines`, `--summary-file`, `--metrics-file`) must never overwrite. */
export interface ProtectedFiles {
  /** The SQLite database; none for a server database. */
  dbPath?: string;
  /** The input feed's path, or `-` for stdin (then the file behind stdin, if it is one); none for `report`, which reads no feed. */
  input?: string;
}

/**
 * The one guard every output path goes through, before the run starts and
 * again just before the file is replaced (the database exists by then):
 * the database, its -wal/-shm/-journal files and the input are refused,
 * compared by device and inode where the file exists, by resolved path
 * otherwise, so a symlink, a hard link or a relative name is caught too.
 * Returns the canonical path to write.
 */
export function refuseProtected(flag: string, path: string, guard: ProtectedFiles): string {
  const final = canonical(path);
  const target = statOf(final);
  if (target?.isDirectory()) throw new OutputError(`Refusing ${flag} ${path}: it is a folder`);
  const protectedFiles: [string, string][] = [];
  if (guard.dbPath !== undefined) {
    const db = resolve(guard.dbPath);
    protectedFiles.push(
      [db, `it is the database (${guard.dbPath})`],
      [`${db}-wal`, "it is the database's -wal file"],
      [`${db}-shm`, "it is the database's -shm file"],
      [`${db}-journal`, "it is the database's -journal file"],
    );
  }
  if (guard.input !== undefined && guard.input !== '-') protectedFiles.push([resolve(guard.input), `it is the input (${guard.input})`]);
  for (const [file, why] of protectedFiles) {
    if (sameFile(final, target, file)) throw new OutputError(`Refusing ${flag} ${path}: ${why}; nothing was written`);
  }
  if (guard.input === '-' && target !== undefined && sameInode(target, stdinStats())) {
    throw new OutputError(`Refusing ${flag} ${path}: it is the input (the file behind stdin); nothing was written`);
  }
  return final;
}

/** Refuses two output flags that name the same file: the second would replace the first. */
export function refuseSameOutputs(outputs: readonly (readonly [flag: string, path: string | undefined])[]): void {
  const seen = new Map<string, string>();
  for (const [flag, path] of outputs) {
    if (path === undefined) continue;
    const final = canonical(path);
    const other = seen.get(final);
    if (other !== undefined) throw new OutputError(`Refusing ${flag} ${path}: ${other} names the same file; nothing was written`);
    seen.set(final, flag);
  }
}

/** By device and inode when both exist, else by resolved path (a file the run may still create). */
function sameFile(final: string, target: Stats | undefined, other: string): boolean {
  const o = statOf(other);
  if (target !== undefined && o !== undefined) return sameInode(target, o);
  return final === canonical(other);
}

function sameInode(a: Stats, b: Stats | undefined): boolean {
  return b !== undefined && a.dev === b.dev && a.ino === b.ino;
}

/** The absolute path with every existing part's symlinks resolved. */
export function canonical(path: string): string {
  const abs = resolve(path);
  try {
    return realpathSync(abs);
  } catch {
    const parent = dirname(abs);
    return parent === abs ? abs : join(canonical(parent), basename(abs));
  }
}

export function statOf(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function stdinStats(): Stats | undefined {
  try {
    const s = fstatSync(0);
    return s.isFile() ? s : undefined;
  } catch {
    return undefined;
  }
}
