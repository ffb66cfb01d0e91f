import { InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import { loadConfig } from '../config';
import { jsonText } from './json-out';
import { parseDbTarget, type DbTarget } from '../store/target';

/** The `--db` help, global and on `ingest`. */
export const DB_HELP = 'database: a SQLite file path or file: URL, or a postgres:// URL '
  + '(default: BRAND_ORCH_DB_URL, else BRAND_ORCH_DB_PATH, else ./data/brand_orchestrator.sqlite)';

export interface GlobalOpts {
  /** A file path, a `file:` URL or a `postgres://` URL. */
  db?: string;
}

/**
 * The database a command uses: `--db` > `BRAND_ORCH_DB_URL` >
 * `BRAND_ORCH_DB_PATH` > the default path, each read by `parseDbTarget` (a
 * URL of another scheme is `ERR_INVALID_OPTION`, before anything is
 * created). A SQLite path is made absolute against the working folder once,
 * so every message and hint names the file really used (cron starts jobs in `/`).
 */
export function resolveTarget(opts: GlobalOpts, env: NodeJS.ProcessEnv = process.env): DbTarget {
  const url = env.BRAND_ORCH_DB_URL ?? '';
  const [value, what] = opts.db !== undefined ? [opts.db, '`--db`']
    : url !== '' ? [url, 'BRAND_ORCH_DB_URL']
    : [loadConfig(env).dbPath, 'BRAND_ORCH_DB_PATH'];
  const target = parseDbTarget(value, what);
  return target.kind === 'sqlite' ? { kind: 'sqlite', path: resolve(target.path) } : target;
}

/** True when neither `--db`, `BRAND_ORCH_DB_URL` nor `BRAND_ORCH_DB_PATH` chose the database. */
export function isDefaultDb(opts: GlobalOpts, env: NodeJS.ProcessEnv = process.env): boolean {
  return opts.db === undefined && (env.BRAND_ORCH_DB_URL ?? '') === '' && (env.BRAND_ORCH_DB_PATH ?? '') === '';
}

/** A commander argument parser for an integer of at least `min`. */
export function intArg(flag: string, min = 0) {
  const what = min === 0 ? 'a non-negative integer' : min === 1 ? 'a positive integer' : `an integer >= ${min}`;
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(`Expected \`${flag}\` to be ${what}, got ${JSON.stringify(value)}`);
    }
    return n;
  };
}

/** A commander argument parser for a fraction from 0 to 1. */
export function fractionArg(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
      throw new InvalidArgumentError(`Expected \`${flag}\` to be a number from 0 to 1, got ${JSON.stringify(value)}`);
    }
    return n;
  };
}

/** Like {@link fractionArg}, also accepting `none` (any case), given back as `'none'`. */
export function ratioOrNoneArg(flag: string) {
  const fraction = fractionArg(flag);
  return (value: string): number | 'none' => {
    if (value.toLowerCase() === 'none') return 'none';
    try {
      return fraction(value);
    } catch {
      throw new InvalidArgumentError(`Expected \`${flag}\` to be a number from 0 to 1 or \`none\`, got ${JSON.stringify(value)}`);
    }
  };
}

export function writeJson(value: unknown): void {
  process.stdout.write(`${jsonText(value, 2)}\n`);
}
