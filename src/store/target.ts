import { fileURLToPath } from 'node:url';
import { InvalidOptionError } from '../errors';

/** Where a run's data lives: a SQLite file, or a PostgreSQL database. */
export type DbTarget =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string; readonly label: string };

/** A scheme of two or more letters (`C:` is a Windows drive, not a scheme). */
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]+):/;

/** True for a `postgres:` or `postgresql:` URL. */
export function isPostgresUrl(value: string): boolean {
  const m = SCHEME.exec(value);
  return m !== null && ['postgres', 'postgresql'].includes((m[1] as string).toLowerCase());
}

/**
 * Reads a `--db` / `db` value: a `postgres://` or `postgresql://` URL, a
 * `file:` URL, or a file path. Any other scheme is refused: a URL is never
 * taken as a file name (`postgresql:///x` once created a folder `postgresql:`).
 */
export function parseDbTarget(value: string, what = '`db`'): DbTarget {
  if (typeof value !== 'string' || value === '') throw new InvalidOptionError(`Expected ${what} to be a file path or a postgres:// URL, got ${JSON.stringify(value)}`);
  const m = SCHEME.exec(value);
  if (m === null) return { kind: 'sqlite', path: value };
  const scheme = (m[1] as string).toLowerCase();
  if (scheme === 'file') {
    try {
      return { kind: 'sqlite', path: fileURLToPath(value) };
    } catch (err) {
      throw new InvalidOptionError(`Expected ${what} to be a valid file: URL, got ${JSON.stringify(value)} (${(err as Error).message})`);
    }
  }
  if (scheme === 'postgres' || scheme === 'postgresql') return { kind: 'postgres', url: value, label: redactUrl(value) };
  throw new InvalidOptionError(`Unsupported database URL scheme "${m[1] as string}:" in ${what}; expected a file path, a file: URL, or a postgres:// URL`);
}

/**
 * The URL as it may be shown: host, port, user and database, never the
 * password (nor a `password=` query parameter).
 */
export function redactUrl(value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    // Not even parseable: show the scheme and drop everything from `//` to the last `@` (a password may hold `@` or `/`).
    return value.replace(/\/\/.*@/, '//***@').replace(/password=[^&]*/gi, 'password=***');
  }
  if (u.password !== '') u.password = '***';
  for (const key of [...u.searchParams.keys()]) if (key.toLowerCase() === 'password') u.searchParams.set(key, '***');
  return u.toString();
}

/** What messages and hints name: the file's path, or the URL without its password (as `ReadStore#label`). */
export function targetLabel(target: DbTarget): string {
  return target.kind === 'sqlite' ? target.path : target.label;
}
