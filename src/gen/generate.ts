/**
 * Synthetic NDJSON feed: realistic intel items (~800 bytes, unicode text,
 * mixed evidence shapes) plus, on request, bad lines that cover every reject
 * code, repeated item ids and padding to long lines. Deterministic for a
 * seed. Used by the CLI `generate` command, the benchmarks and the tests.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { InvalidOptionError } from '../errors';
import type { RejectCode } from '../domain/types';
import { Rng } from './prng';
import {
  ALWAYS_COVER, EXPLANATIONS, FORBIDDEN_FLAGS, HOSTS, ITEM_TYPES, OTHER_TRIGGERS, RISK_FLAGS, SOURCES, UNICODE_WORDS, WORDS,
} from './vocab';

export interface GenerateOptions {
  /** Number of lines. */
  readonly count: number;
  /** Fraction of deliberately bad lines, 0 to 1, spread evenly. @defaultValue 0 */
  readonly badRatio?: number;
  /** @defaultValue 1 */
  readonly seed?: number;
  /** Fraction of (good) lines that reuse an earlier line's `item_id` with new content. @defaultValue 0 */
  readonly duplicateRatio?: number;
  /**
   * Pads each item's `summary` with ASCII filler words so that a good line is
   * exactly this many bytes (a bad one about as long; a line already longer
   * stays as it is), for feeds of long lines; 0 pads nothing. The items are
   * otherwise those of the same seed without padding.
   * @defaultValue 0
   */
  readonly lineBytes?: number;
}

/** The kinds of bad line, named by the reject code each one triggers; they are used in this order, cyclically. */
export const BAD_LINE_KINDS = [
  'invalid_json', 'not_an_object', 'missing_field', 'wrong_type', 'out_of_range', 'invalid_timestamp', 'invalid_value',
] as const satisfies readonly RejectCode[];
export type BadLineKind = (typeof BAD_LINE_KINDS)[number];

const BAD_LINE_TEXT: Record<BadLineKind, string> = {
  invalid_json: 'an item cut off half-way (not valid JSON)',
  not_an_object: 'an item wrapped in a JSON array',
  missing_field: 'an item without `title`',
  wrong_type: 'an item whose `summary` is a number',
  out_of_range: 'an item with `scores.confidence` 11 (cap 10)',
  invalid_timestamp: 'an item whose `created_at` is not ISO-8601',
  invalid_value: 'an item whose `decision` is "approve"',
};

/** What a bad line of `kind` looks like, for docs and test messages. */
export function describeBadLine(kind: BadLineKind): string {
  return BAD_LINE_TEXT[kind];
}

export interface GeneratedLine {
  /** NDJSON text without the newline. */
  readonly line: string;
  /** The reject this line must cause, or null for a valid line. */
  readonly bad: BadLineKind | null;
}

/**
 * The lines with what each is meant to be.
 *
 * @example
 * for (const { line, bad } of generateRecords({ count: 100, badRatio: 0.1 })) ...
 */
export function* generateRecords(options: GenerateOptions): Generator<GeneratedLine> {
  const { count, badRatio, seed, duplicateRatio, lineBytes } = resolveOptions(options);
  const rng = new Rng(seed);
  const filler = lineBytes > 0 ? new Filler(seed) : undefined;
  let badCount = 0;
  for (let n = 1; n <= count; n++) {
    // Evenly spread: line n is bad when floor(n * ratio) steps up.
    const isBad = Math.floor(n * badRatio) > Math.floor((n - 1) * badRatio);
    const reuse = !isBad && n > 1 && duplicateRatio > 0 && rng.chance(duplicateRatio);
    const id = `item-${seed}-${reuse ? rng.int(1, n - 1) : n}`;
    const item = makeItem(rng, id);
    filler?.pad(item, lineBytes);
    if (!isBad) {
      yield { line: JSON.stringify(item), bad: null };
      continue;
    }
    const kind = BAD_LINE_KINDS[badCount++ % BAD_LINE_KINDS.length] as BadLineKind;
    yield { line: corrupt(item, kind), bad: kind };
  }
}

/**
 * NDJSON lines (without newlines), deterministic for a seed.
 *
 * @example
 * for (const line of generateLines({ count: 1000, badRatio: 0.01, seed: 7 })) out.write(`${line}\n`);
 */
export function* generateLines(options: GenerateOptions): Generator<string> {
  for (const r of generateRecords(options)) yield r.line;
}

/**
 * Streams a generated feed to `path` (one line each, `\n`-terminated),
 * honouring the stream's backpressure.
 *
 * @example
 * await writeFeed('feed.ndjson', { count: 200_000, badRatio: 0.001, seed: 11 });
 */
export async function writeFeed(path: string, options: GenerateOptions): Promise<{ lines: number; bytes: number }> {
  const out = createWriteStream(path);
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  failed.catch(() => undefined); // observed below; avoid an unhandled rejection in between
  let lines = 0;
  let bytes = 0;
  let batch = '';
  const flush = async (): Promise<void> => {
    const chunk = batch;
    batch = '';
    bytes += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await Promise.race([once(out, 'drain'), failed]);
  };
  for (const line of generateLines(options)) {
    batch += `${line}\n`;
    lines++;
    if (batch.length >= 65_536) await flush();
  }
  if (batch.length > 0) await flush();
  out.end();
  await Promise.race([once(out, 'finish'), failed]);
  return { lines, bytes };
}

function resolveOptions(o: GenerateOptions): Required<GenerateOptions> {
  const { count, badRatio = 0, seed = 1, duplicateRatio = 0, lineBytes = 0 } = o;
  if (!Number.isSafeInteger(count) || count < 0) throw optionError('count', 'a non-negative integer', count);
  if (!Number.isSafeInteger(seed)) throw optionError('seed', 'an integer', seed);
  if (!(badRatio >= 0 && badRatio <= 1)) throw optionError('badRatio', 'a number from 0 to 1', badRatio);
  if (!(duplicateRatio >= 0 && duplicateRatio <= 1)) throw optionError('duplicateRatio', 'a number from 0 to 1', duplicateRatio);
  if (!Number.isSafeInteger(lineBytes) || lineBytes < 0) throw optionError('lineBytes', 'a non-negative integer', lineBytes);
  return { count, badRatio, seed, duplicateRatio, lineBytes };
}

function optionError(name: string, want: string, got: unknown): InvalidOptionError {
  return new InvalidOptionError(`Expected \`${name}\` to be ${want}, got \`${String(got)}\` (${typeof got})`);
}

type Item = Record<string, unknown>;

function makeItem(rng: Rng, id: string): Item {
  const item: Item = {
    item_id: id,
    item_type: rng.pick(ITEM_TYPES),
    title: capitalize(words(rng, rng.int(5, 10))),
    summary: sentences(rng, rng.int(1, 3)),
    claims: Array.from({ length: rng.int(0, 3) }, () => `${capitalize(words(rng, rng.int(4, 8)))}.`),
    evidence: Array.from({ length: rng.int(0, 4) }, () => evidence(rng)),
  };
  if (rng.chance(0.9)) item.scores = scores(rng);
  const flags: string[] = [];
  if (rng.chance(0.1)) flags.push(rng.pick(RISK_FLAGS));
  if (rng.chance(0.02)) flags.push(rng.pick(FORBIDDEN_FLAGS));
  if (flags.length > 0 || rng.chance(0.5)) item.risk_flags = flags;
  item.explainability = Array.from({ length: rng.int(1, 3) }, () => rng.pick(EXPLANATIONS));
  if (rng.chance(0.15)) {
    const signals: Record<string, boolean> = { brigading_suspected: rng.chance(0.4), high_misinfo_risk: rng.chance(0.4) };
    if (rng.chance(0.5)) signals.single_source_only = rng.chance(0.5);
    item.signals = signals;
  }
  if (rng.chance(0.06)) item.triggers = [rng.chance(0.7) ? rng.pick(ALWAYS_COVER) : rng.pick(OTHER_TRIGGERS)];
  if (rng.chance(0.02)) {
    item.decision = rng.pick(['promote', 'monitor', 'block'] as const);
    item.decision_reason = rng.chance(0.8) ? `editor override: ${words(rng, 3)}` : null;
  }
  if (rng.chance(0.95)) item.created_at = timestamp(rng);
  if (rng.chance(0.2)) item.run_id = `upstream-${rng.int(1, 999)}`;
  return item;
}

/**
 * Summary padding: 64 KiB of ASCII words (a character is a byte and needs no
 * JSON escape), read cyclically from a random start. Its own PRNG leaves the
 * items' sequence as it is without padding.
 */
class Filler {
  readonly #rng: Rng;
  readonly #text: string;

  constructor(seed: number) {
    this.#rng = new Rng(seed ^ 0x5bd1e995);
    let text = '';
    while (text.length < 65_536) text += `${this.#rng.pick(WORDS)} `;
    this.#text = text;
  }

  /** Lengthens `item.summary` until the item's JSON is `lineBytes` bytes, if it is shorter. */
  pad(item: Item, lineBytes: number): void {
    const room = lineBytes - Buffer.byteLength(JSON.stringify(item)) - 1; // 1: the space before the filler
    if (room <= 0) return;
    item.summary = `${String(item.summary)} ${this.#take(room)}`;
  }

  #take(n: number): string {
    const text = this.#text;
    const from = text.indexOf(' ', this.#rng.int(0, text.length - 1)) + 1; // a word's start
    const head = text.slice(from, from + n);
    const rest = n - head.length;
    return head + text.repeat(Math.floor(rest / text.length)) + text.slice(0, rest % text.length);
  }
}

function words(rng: Rng, n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(rng.chance(0.12) ? rng.pick(UNICODE_WORDS) : rng.pick(WORDS));
  return out.join(' ');
}

function sentences(rng: Rng, n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`${capitalize(words(rng, rng.int(6, 12)))}.`);
  return out.join(' ');
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function evidence(rng: Rng): unknown {
  const url = `https://${rng.pick(HOSTS)}/${rng.int(2019, 2025)}/${words(rng, 3).replace(/[^a-z]+/gi, '-').toLowerCase()}-${rng.int(1, 99_999)}`;
  if (rng.chance(0.35)) return url;
  return { url, source: rng.pick(SOURCES), published_at: timestamp(rng) };
}

// A latent quality drives all five components so that every gate band
// (must-cover, optional, watch, below watch) is populated.
function scores(rng: Rng): Record<string, number> {
  const q = rng.float();
  const part = (cap: number, base: number): number => {
    const v = Math.min(1, Math.max(0, base + (rng.float() - 0.5) * 0.4)) * cap;
    return rng.chance(0.7) ? Math.round(v) : Math.round(v * 10) / 10;
  };
  // Confidence leans high so that the low-confidence block stays a minority.
  return { impact: part(25, q), timeliness: part(20, q), virality: part(20, q), relevance: part(25, q), confidence: part(10, 0.45 + q * 0.55) };
}

function timestamp(rng: Rng): string {
  const t = Date.UTC(2024, 0, 1) + rng.int(0, 700 * 24 * 3600) * 1000;
  const iso = new Date(t).toISOString();
  return rng.chance(0.2) ? iso.replace('.000Z', '+00:00') : iso;
}

function corrupt(item: Item, kind: BadLineKind): string {
  switch (kind) {
    case 'invalid_json': {
      const line = JSON.stringify(item);
      let cut = Math.floor(line.length / 2);
      const c = line.charCodeAt(cut - 1);
      if (c >= 0xd800 && c <= 0xdbff) cut--; // keep the text well-formed: the cut is the only defect
      return line.slice(0, cut);
    }
    case 'not_an_object': return JSON.stringify([item]);
    case 'missing_field': return JSON.stringify({ ...item, title: undefined });
    case 'wrong_type': return JSON.stringify({ ...item, summary: 42 });
    case 'out_of_range': return JSON.stringify({ ...item, scores: { impact: 10, timeliness: 10, virality: 10, relevance: 10, confidence: 11 } });
    case 'invalid_timestamp': return JSON.stringify({ ...item, created_at: 'yesterday at noon' });
    case 'invalid_value': return JSON.stringify({ ...item, decision: 'approve' });
  }
}
