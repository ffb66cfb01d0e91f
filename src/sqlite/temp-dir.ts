import { accessSync, closeSync, constants, openSync, statfsSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';

/**
 * The folder SQLite writes its temporary files to (our staging TEMP table,
 * large sorts), found as SQLite's unix VFS finds it (`unixTempFileDir` in
 * sqlite3.c): the first of SQLITE_TMPDIR, TMPDIR, /var/tmp, /usr/tmp, /tmp
 * and `.` that is a folder this process may write to. SQLite reads the two
 * variables once, when the library loads; this reads them now (the same,
 * unless the process changed them since).
 */
export interface TempDir {
  /** As SQLite will use it (`.` stays relative). */
  path: string;
  /** Where the choice came from, for messages: `TMPDIR`, or the fallback folder itself. */
  source: string;
}

const FALLBACKS = ['/var/tmp', '/usr/tmp', '/tmp', '.'];

/** One TEMP page (see staging.ts): the least a spill writes. */
const PROBE_BYTES = 16_384;

interface Candidate { path: string | undefined; source: string }

function candidates(env: NodeJS.ProcessEnv): Candidate[] {
  return [
    { path: env.SQLITE_TMPDIR, source: 'SQLITE_TMPDIR' },
    { path: env.TMPDIR, source: 'TMPDIR' },
    ...FALLBACKS.map((path) => ({ path, source: path })),
  ];
}

/** Why SQLite would pass over `path` (undefined: it would use it). */
function unusable(path: string | undefined): string | undefined {
  if (path === undefined || path === '') return 'is not set';
  try {
    if (!statSync(path).isDirectory()) return 'is not a folder';
  } catch {
    return 'does not exist';
  }
  try {
    accessSync(path, constants.W_OK | constants.X_OK);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EROFS' ? 'is on a read-only file system' : 'is not writable';
  }
  return undefined;
}

/** The folder SQLite will use, or undefined when there is none (SQLite then fails with "disk I/O error"). */
export function sqliteTempDir(env: NodeJS.ProcessEnv = process.env): TempDir | undefined {
  if (process.platform === 'win32') return undefined; // the Windows VFS asks the OS (GetTempPath)
  for (const c of candidates(env)) {
    if (unusable(c.path) === undefined) return { path: c.path as string, source: c.source };
  }
  return undefined;
}

/**
 * What is wrong with SQLite's temp folder, as one sentence, or undefined
 * when it can take a temporary file: there is one, and a page can be written
 * in it (a full or read-only folder fails here, not halfway through a run
 * with a "disk full" blamed on the database).
 */
export function tempDirProblem(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (process.platform === 'win32') return undefined;
  const dir = sqliteTempDir(env);
  if (dir === undefined) {
    const tried = candidates(env).map((c) => {
      const label = c.source !== c.path ? (c.path ? `${c.source}=${c.path}` : c.source) : c.path === '.' ? `. (${resolve('.')})` : c.path;
      return `${label} ${unusable(c.path) ?? 'is usable'}`;
    });
    return `No folder for SQLite's temporary files: ${tried.join(', ')}; set SQLITE_TMPDIR to a writable folder with room`;
  }
  const file = join(dir.path, `.brand-orchestrator-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  let fd: number | undefined;
  try {
    fd = openSync(file, 'wx', 0o600);
    writeSync(fd, Buffer.alloc(PROBE_BYTES));
    return undefined;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOSPC' ? 'is full' : e.code === 'EDQUOT' ? 'is over its quota' : `cannot take a file (${e.code ?? e.message})`;
    return `SQLite's temp folder ${describe(dir)} ${why}; set SQLITE_TMPDIR to a writable folder with room`;
  } finally {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(file);
    } catch {
      // never created
    }
  }
}

/**
 * For a "disk full" error, where SQLite's temporary files go and how much
 * room is left there: the database's disk may have plenty.
 */
export function tempDirNote(env: NodeJS.ProcessEnv = process.env): string {
  const dir = sqliteTempDir(env);
  if (dir === undefined) return 'SQLite has no folder for temporary files';
  try {
    const s = statfsSync(dir.path);
    return `SQLite's temp folder ${describe(dir)} has ${bytes(s.bavail * s.bsize)} free`;
  } catch {
    return `SQLite's temp folder is ${describe(dir)}`;
  }
}

function describe(dir: TempDir): string {
  const where = dir.path === '.' ? `${resolve('.')}` : dir.path;
  return dir.source === dir.path ? where : `${where} (${dir.source})`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${v.toFixed(1)} ${units[u]}`;
}
