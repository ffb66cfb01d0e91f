/**
 * A value as an option or config message shows it, with its type:
 * `NaN (number)`, `"x" (string)`, `an object`. The one rendering every
 * "Expected `x` to be ..., got ..." message uses.
 *
 * @example
 * describeValue(0); // '0 (number)'
 */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return `${JSON.stringify(v)} (string)`;
  if (typeof v === 'function') return 'a function';
  if (v === null) return 'null';
  if (typeof v === 'object') return Array.isArray(v) ? 'an array' : 'an object';
  return `${String(v)} (${typeof v})`;
}
