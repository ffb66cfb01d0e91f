/**
 * `parseIntelLine`: one NDJSON line in, one stored row or one reject out.
 * Changing what a line turns into (here, in validation, scoring or gates)?
 * Bump `PARSER_VERSION` in line-hash.ts, or re-ingests keep the old rows.
 *
 * Choices where the spec is silent (also the contract the tests pin):
 * - `null` for an optional field (claims, evidence, scores, risk_flags,
 *   explainability, signals and each signal, triggers, decision,
 *   decision_reason, created_at) means "absent" and takes the default;
 *   `null` for a required field is `wrong_type`.
 * - `scores`, when present, needs all five components (`missing_field`
 *   names the first missing one); extra keys in it (e.g. an old
 *   `trend_score`) are ignored. 1e999 parses to Infinity: `out_of_range`.
 * - `<key>_json` synonyms: the plain key wins unless it is absent or null;
 *   a synonym holding a string is parsed as JSON text (text that is not JSON
 *   is `invalid_value`); `triggers` has no synonym.
 * - Lengths ("1-200 chars") count Unicode code points. A title of only
 *   whitespace is `invalid_value`. Broken string rules (empty, too long,
 *   control characters in item_id, enum mismatch) are `invalid_value`;
 *   `out_of_range` is for numbers only.
 * - Lone surrogates (only possible through `\uD800` escapes) are rejected
 *   (`invalid_value`) in the plain text columns, which SQLite would store as
 *   U+FFFD; inside the JSON columns they are kept verbatim (JSON.stringify
 *   escapes them).
 * - Evidence entries are strings or objects; an object's `url`, `source`
 *   and `published_at` are optional but must be strings (or null) when given;
 *   other keys are kept as they are.
 * - `decision_reason` without `decision` is ignored: the gates write the reason.
 * - `created_at` must have an ISO-8601 shape (date, optional time with `T`
 *   or space, optional fraction and offset); without an offset it is UTC.
 * - Nesting deeper than JSON.stringify can serialise (thousands of levels)
 *   in a stored column is `invalid_value`; in ignored fields it is harmless.
 */
import type { AppConfig } from '../config';
import { Invalid, ownCopy, truncate } from './invalid';
import { buildRow } from './row';
import type { ParseResult, RejectCode } from './types';
import { validateItem } from './validate';

/** @defaultValue 1 MiB */
export const DEFAULT_MAX_LINE_BYTES = 1_048_576;

/** Longest excerpt kept with a reject, in UTF-16 units. */
export const EXCERPT_MAX_CHARS = 200;

/**
 * Parses, validates, normalises, scores and gates one NDJSON line. Never
 * throws on bad data: a broken line comes back as a reject with a stable
 * code, a reason naming the field, and a bounded excerpt.
 *
 * The caller skips blank lines; a whitespace-only line given here is
 * `invalid_json`. A leading BOM and a trailing `\r` are dropped.
 *
 * @example
 * const r = parseIntelLine(line, 42, config);
 * if (r.ok) rows.push(r.row); else rejects.push(r.reject);
 */
export function parseIntelLine(text: string, lineNo: number, config: AppConfig, maxLineBytes = DEFAULT_MAX_LINE_BYTES): ParseResult {
  // UTF-8 needs at most 3 bytes per UTF-16 unit: only long lines are measured.
  // No size in the reason: the chunker keeps only the head (limit + 1 bytes)
  // of a longer line, so the size seen here may not be the line's.
  if (text.length * 3 > maxLineBytes && Buffer.byteLength(text, 'utf8') > maxLineBytes) {
    return reject(lineNo, 'line_too_long', `Line is longer than the limit of ${maxLineBytes} bytes`, text);
  }
  let body = text;
  if (body.charCodeAt(0) === 0xfeff) body = body.slice(1);
  if (body.charCodeAt(body.length - 1) === 0x0d) body = body.slice(0, -1);

  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    return reject(lineNo, 'invalid_json', `Line is not valid JSON: ${(err as Error).message}`, text);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    return reject(lineNo, 'not_an_object', `Expected the line to be a JSON object, got ${got}`, text);
  }
  const item = validateItem(value as Record<string, unknown>);
  if (item instanceof Invalid) return reject(lineNo, item.code, item.reason, text);
  try {
    return { ok: true, row: buildRow(item, config) };
  } catch (err) {
    // JSON.stringify recurses: thousands of nesting levels exhaust the stack.
    if (err instanceof RangeError) {
      return reject(lineNo, 'invalid_value', `Line nests arrays/objects too deeply to store (${err.message})`, text);
    }
    throw err;
  }
}

/**
 * A reject lives until its chunk commits, so it must not keep its (up to
 * 1 MiB) line alive: the excerpt is copied out of the line; the reason is
 * copied too, whatever it quotes (validation's reasons quote values through
 * JSON.stringify, already a copy).
 */
function reject(lineNo: number, code: RejectCode, reason: string, text: string): ParseResult {
  return { ok: false, reject: { lineNo, code, reason: ownCopy(reason), excerpt: ownCopy(truncate(text, EXCERPT_MAX_CHARS)) } };
}
