import { jsonSafe } from './format';

/**
 * Every JSON the CLI prints or writes (`--json`, `--summary-file`, `runs`,
 * `rejects`, `verify`, the JSON log lines) names its keys in snake_case, as
 * the feed, the database's columns and the items export do, so one script
 * reads them all the same way; the library API keeps TypeScript's camelCase.
 * Only keys change: values (ids, reject codes, worker names) stay as they are.
 */
export function snakeKeys(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  const json = (v as { toJSON?: () => unknown }).toJSON;
  if (typeof json === 'function') return snakeKeys(json.call(v));
  if (Array.isArray(v)) return v.map(snakeKeys);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[snakeKey(k)] = snakeKeys(x);
  return out;
}

/** `itemsPerSecond` → `items_per_second`; `thread-1`, `invalid_json`, `ERR_INPUT` unchanged. */
export function snakeKey(k: string): string {
  return k.replace(/([a-z\d])([A-Z])/g, (_, a: string, b: string) => `${a}_${b.toLowerCase()}`);
}

/** `value` as the CLI's JSON text: snake_case keys, safe to print on a terminal. */
export function jsonText(value: unknown, indent?: number): string {
  return jsonSafe(JSON.stringify(snakeKeys(value), null, indent));
}
