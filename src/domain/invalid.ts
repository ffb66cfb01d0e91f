/**
 * How validation reports a broken field without throwing: validators return
 * either the value or an {@link Invalid}, which `parseIntelLine` turns into a
 * reject. Building reasons is only ever paid for on bad lines.
 */
import type { RejectCode } from './types';

export class Invalid {
  constructor(readonly code: RejectCode, readonly reason: string) {}
}

/** ``Expected `<field>` to be <expected>, got <value>`` */
export function expected(code: RejectCode, field: string, expectation: string, got: unknown): Invalid {
  return new Invalid(code, `Expected \`${field}\` to be ${expectation}, got ${describe(got)}`);
}

export function missing(field: string, expectation: string): Invalid {
  return new Invalid('missing_field', `Missing required field \`${field}\` (expected ${expectation})`);
}

const MAX_SHOWN = 60;

/** A short, bounded rendering of a JSON value and its type, for reasons. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string': return `${JSON.stringify(truncate(value, MAX_SHOWN))} (string)`;
    case 'number': return `${String(value)} (number)`;
    case 'boolean': return `${String(value)} (boolean)`;
    case 'object': return 'an object';
    default: return typeof value;
  }
}

/**
 * At most `max` UTF-16 units of `s`, never ending on half a surrogate pair.
 *
 * @example
 * truncate('ab😀', 3); // 'ab'
 */
export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  const code = s.charCodeAt(max - 1);
  return s.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

/**
 * `s` in a string of its own. V8 makes a slice of a long string (and a
 * template that quotes one) a view that keeps the whole parent alive: the
 * 200-character excerpt of a 900 KB line held the 900 KB until its chunk
 * committed, and 300 such rejects exhausted a worker's heap. A reject's texts
 * go through this, so a reject holds only its own bytes. UTF-16LE round-trips
 * every string exactly (lone surrogates included).
 */
export function ownCopy(s: string): string {
  return Buffer.from(s, 'utf16le').toString('utf16le');
}
