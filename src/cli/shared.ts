import { InvalidArgumentError } from 'commander';
import { loadConfig } from '../config';
import { StateStore } from '../store';

export interface GlobalOpts {
  db?: string;
}

/** Flags > env > defaults, as `loadConfig` defines. */
export function resolveDb(opts: GlobalOpts): string {
  return opts.db ?? loadConfig().dbPath;
}

/** Opens an existing database read-only (listing commands never create one). */
export function openExisting(opts: GlobalOpts): StateStore {
  return StateStore.open(resolveDb(opts), { readonly: true });
}

export function intArg(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`${flag} expects a non-negative integer, got ${JSON.stringify(value)}`);
    return n;
  };
}

export function writeJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
