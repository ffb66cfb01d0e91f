import { isUtf8 } from 'node:buffer';
import { asBuffer } from '../src/domain/bytes';
import { EXCERPT_MAX_CHARS } from '../src/domain/parse';
import { truncate } from '../src/domain/invalid';
import type { Reject } from '../src/domain/types';

export type ChunkLine =
  | {
    kind: 'line'; lineNo: number;
    /** The line's raw bytes, valid UTF-8 (a view into the chunk): `lineText` decodes them. */
    bytes: Buffer;
  }
  | { kind: 'blank'; lineNo: number }
  | { kind: 'reject'; lineNo: number; reject: Reject };

const lenient = new TextDecoder('utf-8', { ignoreBOM: true });

/** Node 20's `Buffer#indexOf` returns wrapped negative offsets past 2^31. */
const MAX_SPLIT_BYTES = 2 ** 31 - 1;

/**
 * Splits a chunk's raw bytes into its lines (the last may lack its "\n"),
 * without decoding them: a line is decoded (`lineText`) only if it is parsed,
 * and one line at a time, so a line kept as unchanged is never decoded. The
 * chunk's UTF-8 is checked at once; only a chunk holding invalid UTF-8 is
 * checked line by line, so one bad line cannot spoil its neighbours. Chunks
 * are bounded far below 2 GiB (`maxChunkBytes`); a larger one is refused.
 */
export function* splitChunk(bytes: Uint8Array, firstLineNo: number, maxLineBytes: number): Generator<ChunkLine> {
  if (bytes.length > MAX_SPLIT_BYTES) throw new RangeError(`A chunk of ${bytes.length} bytes is too large to split (limit ${MAX_SPLIT_BYTES})`);
  const buf = asBuffer(bytes);
  const valid = isUtf8(buf);
  let lineNo = firstLineNo;
  let start = 0;
  while (start < buf.length) {
    const nl = buf.indexOf(10, start);
    const end = nl === -1 ? buf.length : nl;
    const line = buf.subarray(start, end);
    yield valid ? classify(line, lineNo++) : checked(line, lineNo++, maxLineBytes);
    start = end + 1;
  }
}

/** The text of a line from `splitChunk` (BOM and trailing "\r" kept). */
export function lineText(bytes: Uint8Array): string {
  return asBuffer(bytes).toString('utf8');
}

/** A line of a chunk that holds invalid UTF-8 somewhere: checked on its own. */
function checked(raw: Buffer, lineNo: number, maxLineBytes: number): ChunkLine {
  if (raw.length > maxLineBytes) {
    return reject(lineNo, 'line_too_long', `Line is longer than the limit of ${maxLineBytes} bytes`, lenient.decode(raw.subarray(0, EXCERPT_MAX_CHARS * 4)));
  }
  if (isUtf8(raw)) return classify(raw, lineNo);
  return reject(lineNo, 'invalid_utf8', 'Line is not valid UTF-8', lenient.decode(raw.subarray(0, EXCERPT_MAX_CHARS * 4)));
}

/**
 * Blank: nothing but whitespace (what `String#trim` drops: also U+00A0,
 * U+3000 and a BOM, so a first line holding only a BOM is blank). A line
 * starting with a printable ASCII character (a JSON line starts with `{`) is
 * told apart without decoding it.
 */
function classify(bytes: Buffer, lineNo: number): ChunkLine {
  const first = bytes[0];
  if (first === undefined) return { kind: 'blank', lineNo };
  if ((first <= 0x20 || first >= 0x80) && lineText(bytes).trim() === '') return { kind: 'blank', lineNo };
  return { kind: 'line', lineNo, bytes };
}

function reject(lineNo: number, code: Reject['code'], reason: string, text: string): ChunkLine {
  return { kind: 'reject', lineNo, reject: { lineNo, code, reason, excerpt: truncate(text, EXCERPT_MAX_CHARS) } };
}
