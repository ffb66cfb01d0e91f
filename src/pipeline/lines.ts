import { EXCERPT_MAX_CHARS } from '../domain/parse';
import { truncate } from '../domain/invalid';
import type { Reject } from '../domain/types';

export type ChunkLine =
  | { kind: 'line'; lineNo: number; text: string; /** The line's raw bytes (a view into the chunk). */ bytes: Uint8Array }
  | { kind: 'blank'; lineNo: number }
  | { kind: 'reject'; lineNo: number; reject: Reject };

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenient = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * Splits a chunk's raw bytes into its lines (the last may lack its "\n").
 * The whole chunk is decoded at once; only a chunk holding invalid UTF-8 is
 * decoded line by line, so one bad line cannot spoil its neighbours.
 */
export function* splitChunk(bytes: Uint8Array, firstLineNo: number, maxLineBytes: number): Generator<ChunkLine> {
  let text: string;
  try {
    text = strict.decode(bytes);
  } catch {
    yield* splitBytes(bytes, firstLineNo, maxLineBytes);
    return;
  }
  let lineNo = firstLineNo;
  let start = 0;
  let byteStart = 0;
  while (start < text.length) {
    const nl = text.indexOf('\n', start);
    const end = nl === -1 ? text.length : nl;
    // "\n" is one byte in UTF-8 and one unit in UTF-16: both split alike.
    const byteNl = bytes.indexOf(10, byteStart);
    const byteEnd = byteNl === -1 ? bytes.length : byteNl;
    yield classify(text.slice(start, end), lineNo++, bytes.subarray(byteStart, byteEnd));
    start = end + 1;
    byteStart = byteEnd + 1;
  }
}

function* splitBytes(bytes: Uint8Array, firstLineNo: number, maxLineBytes: number): Generator<ChunkLine> {
  let lineNo = firstLineNo;
  let start = 0;
  while (start < bytes.length) {
    const nl = bytes.indexOf(10, start);
    const end = nl === -1 ? bytes.length : nl;
    const raw = bytes.subarray(start, end);
    const no = lineNo++;
    start = end + 1;
    if (raw.length > maxLineBytes) {
      yield reject(no, 'line_too_long', `Line is longer than the limit of ${maxLineBytes} bytes`, lenient.decode(raw.subarray(0, EXCERPT_MAX_CHARS * 4)));
      continue;
    }
    try {
      yield classify(strict.decode(raw), no, raw);
    } catch {
      yield reject(no, 'invalid_utf8', 'Line is not valid UTF-8', lenient.decode(raw.subarray(0, EXCERPT_MAX_CHARS * 4)));
    }
  }
}

function classify(text: string, lineNo: number, bytes: Uint8Array): ChunkLine {
  if (text.length === 0 || (text.charCodeAt(0) <= 32 && text.trim() === '')) return { kind: 'blank', lineNo };
  return { kind: 'line', lineNo, text, bytes };
}

function reject(lineNo: number, code: Reject['code'], reason: string, text: string): ChunkLine {
  return { kind: 'reject', lineNo, reject: { lineNo, code, reason, excerpt: truncate(text, EXCERPT_MAX_CHARS) } };
}
