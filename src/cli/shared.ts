import { InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import { loadConfig } from '../config';
import { StateStore } from '../store';

export interface GlobalOpts {
  db?: string;
}

/**
 * The database's absolute path: flag > env > default, as `loadConfig`
 * defines, resolved against the working folder once, so every message and
 * hint names the file that is really used (cron starts jobs in `/`).
 */
export function resolveDb(opts: GlobalOpts): string {
  return resolve(opts.db ?? loadConfig().dbPath);
}

/** True when neither `--db` nor `BRAND_ORCH_DB_PATH` chose the database. */
export function isDefaultDb(opts: GlobalOpts, env: NodeJS.ProcessEnv = process.env): boolean {
  return opts.db === undefined && (env.BRAND_ORCH_DB_PATH ?? '') === '';
}

/** Opens an existing database read-only (listing commands never create one). */
export function openExisting(opts: GlobalOpts): StateStore {
  return StateStore.open(resolveDb(opts), { readonly: true });
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
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
