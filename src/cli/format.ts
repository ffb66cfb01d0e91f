import { once } from 'node:events';

/**
 * Control characters (C0, DEL, C1), the bidirectional overrides and
 * isolates, the line and paragraph separators and the zero-width
 * characters: a terminal obeys the first (an ESC sequence can clear the
 * screen or set the window title), renders text reordered by the second,
 * breaks lines at the third and shows nothing for the last.
 */
const UNSAFE_ABOVE_C0 = '\\u007f-\\u009f\\u061c\\u200b-\\u200f\\u2028-\\u202e\\u2060\\u2066-\\u2069\\ufeff';
const UNSAFE_CLASS = `[\\u0000-\\u001f${UNSAFE_ABOVE_C0}]`;
const UNSAFE = new RegExp(UNSAFE_CLASS);
const UNSAFE_ALL = new RegExp(UNSAFE_CLASS, 'g');
/** What JSON text still holds raw: `JSON.stringify` escapes C0 in strings, and its own line breaks must stay. */
const JSON_UNSAFE_ALL = new RegExp(`[${UNSAFE_ABOVE_C0}]`, 'g');
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Text from the database or the input made safe to print on a terminal: each
 * unsafe character becomes a visible escape (`\x1b`, `\n`, `\u202e`). A
 * backslash is doubled only in text that holds an unsafe character, so
 * ordinary text prints as it is and an escaped one stays unambiguous.
 */
export function escapeControl(s: string): string {
  if (!UNSAFE.test(s)) return s;
  return s.replace(/\\/g, '\\\\').replace(UNSAFE_ALL, (c) => NAMED[c] ?? escapeCode(c.charCodeAt(0)));
}

/**
 * JSON text (from `JSON.stringify`) safe to print on a terminal: the unsafe
 * characters JSON leaves raw (DEL, C1, bidi, separators, zero-width) become
 * `\\uXXXX` escapes. They can only stand inside strings, so the text parses
 * to the same value.
 */
export function jsonSafe(json: string): string {
  return json.replace(JSON_UNSAFE_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function escapeCode(code: number): string {
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

export type Cell = string | number | null;

/** Plain-text table of `rows` (held in memory: for short lists), columns padded to their widest cell. */
export function table(headers: string[], rows: Cell[][]): string {
  const widths = headers.map((h) => h.length);
  for (const r of rows) widen(widths, r);
  return [headers, ...rows].map((r) => tableLine(r, widths)).join('\n');
}

/** Rows or lines from memory (sync) or streamed from a database (async). */
export type AnyIterable<T> = Iterable<T> | AsyncIterable<T>;

/**
 * Streams a table of any length at bounded memory: `rows()` is iterated twice,
 * once to measure the columns and once to print them, so nothing but the
 * widths is kept. Rows that changed in between are printed as they are then.
 */
export async function writeTable(out: NodeJS.WritableStream, headers: string[], rows: () => AnyIterable<Cell[]>): Promise<void> {
  const widths = await columnWidths(headers, rows());
  await writeLines(out, [tableLine(headers, widths)]);
  await writeLines(out, mapIterable(rows(), (r) => tableLine(r, widths)));
}

/** Writes each line with a newline, waiting for `drain` whenever the stream asks to. */
export async function writeLines(out: NodeJS.WritableStream, lines: AnyIterable<string>): Promise<void> {
  for await (const line of lines) {
    if (!out.write(`${line}\n`)) await once(out, 'drain');
  }
}

async function columnWidths(headers: string[], rows: AnyIterable<Cell[]>): Promise<number[]> {
  const widths = headers.map((h) => h.length);
  for await (const r of rows) widen(widths, r);
  return widths;
}

function widen(widths: number[], r: Cell[]): void {
  r.forEach((c, i) => { widths[i] = Math.max(widths[i] ?? 0, cellText(c).length); });
}

function tableLine(r: Cell[], widths: number[]): string {
  return r.map((c, i) => cellText(c).padEnd(widths[i] ?? 0)).join('  ').trimEnd();
}

function cellText(c: Cell): string {
  return c === null ? '-' : escapeControl(String(c));
}

/** Lazily applies `fn` to each value of `it`. */
export async function* mapIterable<T, U>(it: AnyIterable<T>, fn: (v: T) => U): AsyncGenerator<U> {
  for await (const v of it) yield fn(v);
}

/**
 * A duration as people read it: `850ms`, `12.3s`, `1m 5s`, `2h 3m`. Rounded
 * once, before it is split, so 59.96 s prints `1m`, never `60.0s` or `1m 60s`.
 */
export function fmtDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '-';
  if (ms < 0) return `-${fmtDuration(-ms)}`;
  if (Math.round(ms) < 1000) return `${Math.round(ms)}ms`;
  const tenths = Math.round(ms / 100);
  if (tenths < 600) return `${(tenths / 10).toFixed(1)}s`;
  const total = Math.round(ms / 1000);
  const [d, h, m, s] = [Math.floor(total / 86_400), Math.floor(total / 3600) % 24, Math.floor(total / 60) % 60, total % 60];
  const parts = [[d, 'd'], [h, 'h'], [m, 'm'], [s, 's']] as const;
  const first = parts.findIndex(([v]) => v > 0);
  // The two largest units are enough to read a nightly job's duration.
  return parts.slice(first, first + 2).filter(([v]) => v > 0).map(([v, u]) => `${v}${u}`).join(' ');
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** `1 chunk`, `2 chunks`, `10,000 lines`. */
export function plural(n: number, word: string, pluralWord = `${word}s`): string {
  return `${fmtInt(n)} ${n === 1 ? word : pluralWord}`;
}
