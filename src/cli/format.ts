import { once } from 'node:events';
import stringWidth from 'string-width';

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

/** A table column: its header, and how it gives way on a narrow terminal. */
export interface Column {
  header: string;
  /**
   * Cut with `…` down to this many columns when the table is wider than the
   * terminal (ids, titles: a run id's first characters still resolve it).
   */
  shrinkTo?: number;
  /**
   * Dropped when cutting is not enough, lowest first; a column without it is
   * always shown. Every value stays in `--json` and the NDJSON exports.
   */
  dropOrder?: number;
}

/**
 * The width a table may take: the terminal's columns when stdout is one, else
 * `COLUMNS` when set (`COLUMNS=80 brand-orchestrator runs | less`), else
 * unlimited (a pipe gets whole values).
 */
export function terminalWidth(stream: NodeJS.WriteStream = process.stdout): number | undefined {
  if (stream.isTTY === true && stream.columns > 0) return stream.columns;
  const env = Number(process.env.COLUMNS);
  return Number.isInteger(env) && env > 0 ? env : undefined;
}

/**
 * Plain-text table of `rows` (held in memory: for short lists), fitted to
 * `width` (see {@link fitColumns}).
 */
export function table(columns: readonly (Column | string)[], rows: Cell[][], width = terminalWidth()): string {
  const cols = columns.map(asColumn);
  const texts = rows.map((r) => r.map(cellText));
  const natural = cols.map((c) => displayWidth(c.header));
  for (const r of texts) widen(natural, r);
  const fit = fitColumns(cols, natural, width);
  return [cols.map((c) => c.header), ...texts].map((r) => tableLine(r, fit)).join('\n');
}

/** Rows or lines from memory (sync) or streamed from a database (async). */
export type AnyIterable<T> = Iterable<T> | AsyncIterable<T>;

/**
 * Streams a table of any length at bounded memory: `rows()` is iterated twice,
 * once to measure the columns and once to print them, so nothing but the
 * widths is kept. Rows that changed in between are printed as they are then.
 */
export async function writeTable(
  out: NodeJS.WritableStream, columns: readonly (Column | string)[], rows: () => AnyIterable<Cell[]>, width = terminalWidth(),
): Promise<void> {
  const cols = columns.map(asColumn);
  const natural = cols.map((c) => displayWidth(c.header));
  for await (const r of rows()) widen(natural, r.map(cellText));
  const fit = fitColumns(cols, natural, width);
  await writeLines(out, [tableLine(cols.map((c) => c.header), fit)]);
  await writeLines(out, mapIterable(rows(), (r) => tableLine(r.map(cellText), fit)));
}

/** Writes each line with a newline, waiting for `drain` whenever the stream asks to. */
export async function writeLines(out: NodeJS.WritableStream, lines: AnyIterable<string>): Promise<void> {
  for await (const line of lines) {
    if (!out.write(`${line}\n`)) await once(out, 'drain');
  }
}

/** Which columns a table shows and how wide: `widths[i]` for each index in `shown`. */
export interface Fit {
  shown: number[];
  widths: number[];
}

const GAP = 2;

/**
 * Fits columns of `natural` widths into `width`: first the shrinkable
 * columns are cut to their `shrinkTo`; if that is not enough, columns are
 * dropped by `dropOrder`; then the cut columns take back whatever room is
 * left, right to left (the free text, a title, stands last). A table that
 * fits is shown whole.
 */
export function fitColumns(cols: readonly Column[], natural: readonly number[], width: number | undefined): Fit {
  const widths = [...natural];
  let shown = cols.map((_, i) => i);
  const total = () => shown.reduce((sum, i) => sum + (widths[i] ?? 0), 0) + GAP * Math.max(0, shown.length - 1);
  if (width === undefined || total() <= width) return { shown, widths };
  cols.forEach((c, i) => { if (c.shrinkTo !== undefined) widths[i] = Math.min(widths[i] ?? 0, Math.max(c.shrinkTo, 1)); });
  const droppable = cols.map((c, i) => [c.dropOrder, i] as const).filter((d): d is readonly [number, number] => d[0] !== undefined)
    .sort((a, b) => a[0] - b[0]);
  for (const [, i] of droppable) {
    if (total() <= width) break;
    shown = shown.filter((s) => s !== i);
  }
  for (const i of [...shown].reverse()) {
    const room = width - total();
    if (room <= 0) break;
    widths[i] = Math.min(natural[i] ?? 0, (widths[i] ?? 0) + room);
  }
  return { shown, widths };
}

function asColumn(c: Column | string): Column {
  return typeof c === 'string' ? { header: c } : c;
}

function widen(widths: number[], texts: string[]): void {
  texts.forEach((t, i) => { widths[i] = Math.max(widths[i] ?? 0, displayWidth(t)); });
}

function tableLine(texts: string[], fit: Fit): string {
  return fit.shown.map((i) => pad(truncate(texts[i] ?? '', fit.widths[i] ?? 0), fit.widths[i] ?? 0)).join(' '.repeat(GAP)).trimEnd();
}

function cellText(c: Cell): string {
  return c === null ? '-' : escapeControl(String(c));
}

/** Columns `s` takes on a terminal: wide (CJK) characters count two, combining marks none. */
export function displayWidth(s: string): number {
  return stringWidth(s);
}

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/** `s` cut to `width` columns, ending with `…` when cut; never splits a character or an emoji. */
export function truncate(s: string, width: number): string {
  if (displayWidth(s) <= width) return s;
  let out = '';
  let used = 0;
  for (const { segment } of graphemes.segment(s)) {
    const w = displayWidth(segment);
    if (used + w > width - 1) break;
    out += segment;
    used += w;
  }
  return `${out}…`;
}

function pad(s: string, width: number): string {
  return s + ' '.repeat(Math.max(0, width - displayWidth(s)));
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
