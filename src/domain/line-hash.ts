/**
 * Skipping unchanged lines without parsing them. A stored row remembers a
 * hash of the exact line that produced it (`line_hash`), seeded with
 * everything else its content depends on (the config, the line limit, the
 * parser's version). A line that hashes the same was produced by the same
 * bytes under the same rules, so parsing it again would give the same row:
 * it is `unchanged`. A re-ingest of an unchanged feed then costs a hash and
 * a lookup per line instead of a full parse.
 */
import { hash } from 'node:crypto';
import type { AppConfig } from '../config';
import { asBuffer } from './bytes';

/**
 * Bump whenever parsing, validation, scoring or gating changes what a line
 * turns into: rows stored by older rules are then parsed again.
 */
export const PARSER_VERSION = 1;

/**
 * The seed of every line hash: 16 hex chars over what a row depends on
 * besides its line: the parts of the config that parsing, scoring and gating
 * read (not the database path, artifacts folder or log level, which differ
 * between a cron job and a manual run), the line limit, the parser's version,
 * and the Node/V8/ICU versions (URL and date handling come from them).
 */
export function lineHashSeed(config: AppConfig, maxLineBytes: number): string {
  const { brand, weights, thresholds, sourcePolicy } = config;
  const runtime = `${process.version} ${process.versions.v8} ${process.versions.icu ?? ''}`;
  const text = JSON.stringify([PARSER_VERSION, maxLineBytes, runtime, brand, weights, thresholds, sourcePolicy]);
  return hash('sha1', text, 'hex').slice(0, 16);
}

/**
 * The seed, then the hex SHA-1 of the line's raw bytes (BOM and trailing CR
 * included). Hashing the bytes the worker already has, rather than the
 * decoded text, measured ~2x cheaper (~1 µs a line): no UTF-8 re-encoding.
 */
export function lineHash(seed: string, line: Uint8Array): string {
  return seed + hash('sha1', line, 'hex');
}

const KEY = Buffer.from('"item_id"');
const MAX_ID_BYTES = 800;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The `item_id` of a line, guessed from its UTF-8 bytes without decoding or
 * parsing it: the string after the first `"item_id"` key, when it has no
 * escapes; else undefined. (In UTF-8 an ASCII byte is always that
 * character, so this finds what a search of the decoded text would.) A
 * wrong guess is harmless: only the row this exact line produced stores its
 * line hash, so a row found under a wrong id never matches.
 */
export function quickItemId(line: Uint8Array): string | undefined {
  const b = asBuffer(line);
  const at = b.indexOf(KEY);
  if (at === -1) return undefined;
  let i = at + KEY.length;
  while (isSpace(b[i])) i++;
  if (b[i] !== 0x3a) return undefined; // ':'
  i++;
  while (isSpace(b[i])) i++;
  if (b[i] !== QUOTE) return undefined;
  const end = b.indexOf(QUOTE, i + 1);
  // A valid id is at most 200 code points (800 bytes): a longer one is no
  // key to look up, and copying it out would keep a huge string per line.
  if (end === -1 || end - i - 1 > MAX_ID_BYTES) return undefined;
  for (let j = i + 1; j < end; j++) if (b[j] === BACKSLASH) return undefined;
  return b.toString('utf8', i + 1, end);
}

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}
