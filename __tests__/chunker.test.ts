import { createHash } from 'node:crypto';
import { BufferPool } from '../src/pipeline/buffers';
import { Chunker, type Chunk } from '../src/pipeline/chunker';
import { lineText, splitChunk } from '../workers/lines';

function chunkAll(input: Buffer, chunkSize: number, pieceSize: number, maxLineBytes = 1 << 20, maxChunkBytes?: number): Chunk[] {
  const c = new Chunker(chunkSize, maxLineBytes, undefined, maxChunkBytes);
  const out: Chunk[] = [];
  for (let i = 0; i < input.length; i += pieceSize) out.push(...c.push(input.subarray(i, i + pieceSize)));
  const last = c.end();
  if (last) out.push(last);
  return out;
}

const text = (c: Chunk) => Buffer.from(c.bytes).toString('utf8');

describe('Chunker', () => {
  const input = Buffer.from(Array.from({ length: 25 }, (_, i) => `{"n":${i},"s":"ü✓"}`).join('\n') + '\n');

  it('cuts complete lines into chunks with contiguous metadata and a checksum of the bytes', () => {
    const chunks = chunkAll(input, 10, 7);
    expect(chunks.map((c) => c.meta.lineCount)).toEqual([10, 10, 5]);
    expect(chunks.map((c) => c.meta.firstLineNo)).toEqual([1, 11, 21]);
    expect(chunks[0]!.meta.byteStart).toBe(0);
    expect(chunks[1]!.meta.byteStart).toBe(chunks[0]!.meta.byteEnd);
    expect(chunks[2]!.meta.byteEnd).toBe(input.length);
    for (const c of chunks) {
      const original = input.subarray(c.meta.byteStart, c.meta.byteEnd);
      expect(Buffer.from(c.bytes).equals(original)).toBe(true);
      expect(c.meta.checksum).toBe(createHash('sha1').update(original).digest('hex'));
    }
  });

  it('is deterministic whatever the stream piece sizes', () => {
    const strip = (cs: Chunk[]) => cs.map((c) => ({ ...c.meta, text: text(c) }));
    expect(strip(chunkAll(input, 10, 1))).toEqual(strip(chunkAll(input, 10, 4096)));
    expect(strip(chunkAll(input, 10, 3))).toEqual(strip(chunkAll(input, 10, 64)));
  });

  it('counts a last line without a trailing newline, and nothing for empty input', () => {
    const chunks = chunkAll(Buffer.from('a\nb\nc'), 2, 100);
    expect(chunks.map((c) => [c.meta.lineCount, text(c)])).toEqual([[2, 'a\nb\n'], [1, 'c']]);
    expect(chunkAll(Buffer.alloc(0), 2, 100)).toEqual([]);
    expect(chunkAll(Buffer.from('\n\n'), 5, 1).map((c) => c.meta.lineCount)).toEqual([2]);
  });

  it('ends a chunk at the first line end at or past maxChunkBytes, before chunkSize lines, whatever the piece sizes', () => {
    const lines = Buffer.from(Array.from({ length: 10 }, (_, i) => `${i}${'x'.repeat(99)}`).join('\n') + '\n'); // 101 bytes a line
    for (const piece of [1, 50, 4096]) {
      const chunks = chunkAll(lines, 100, piece, 1 << 20, 300);
      expect(chunks.map((c) => c.meta.lineCount)).toEqual([3, 3, 3, 1]);
      expect(chunks.map((c) => c.bytes.length)).toEqual([303, 303, 303, 101]);
      expect(Buffer.concat(chunks.map((c) => c.bytes))).toEqual(lines);
    }
    expect(chunkAll(lines, 100, 64, 1 << 20, 202).map((c) => c.meta.lineCount)).toEqual([2, 2, 2, 2, 2]);
  });

  it('keeps only the head of an over-long line but still hashes and counts all of it', () => {
    const long = Buffer.from(`short\n${'x'.repeat(10_000)}\nafter\n`);
    const [chunk] = chunkAll(long, 100, 333, 100);
    expect(chunk!.meta.lineCount).toBe(3);
    expect(chunk!.meta.byteEnd).toBe(long.length);
    expect(chunk!.meta.checksum).toBe(createHash('sha1').update(long).digest('hex'));
    const lines = text(chunk!).split('\n');
    expect(lines[1]).toHaveLength(101);
    expect(lines[2]).toBe('after');
  });
});

describe('Chunker buffers', () => {
  const input = Buffer.from(Array.from({ length: 40 }, (_, i) => `{"n":${i},"pad":"${'p'.repeat(i * 7)}"}`).join('\n') + '\n');

  it('copies what it is given: the caller may reuse its buffer for the next piece', () => {
    const c = new Chunker(10, 1 << 20);
    const reused = Buffer.alloc(64);
    const chunks: Chunk[] = [];
    for (let i = 0; i < input.length; i += reused.length) {
      const n = input.copy(reused, 0, i, i + reused.length);
      chunks.push(...c.push(reused.subarray(0, n)));
      reused.fill(0x58); // scribble over the piece once pushed
    }
    const last = c.end();
    if (last) chunks.push(last);
    expect(chunks).toHaveLength(4);
    expect(Buffer.concat(chunks.map((ch) => ch.bytes))).toEqual(input);
  });

  it('builds chunks in buffers from the pool and reuses the ones given back', () => {
    const pool = new BufferPool(2);
    const c = new Chunker(10, 1 << 20, pool);
    const first = c.push(input.subarray(0, input.length / 2));
    expect(first.length).toBeGreaterThan(0);
    const firstBytes = Buffer.concat(first.map((ch) => ch.bytes)); // copied: the buffers go back to the pool
    const used = first.map((ch) => ch.bytes.buffer);
    for (const ch of first) pool.give(ch.bytes.buffer as ArrayBuffer);
    const rest = c.push(input.subarray(input.length / 2));
    const last = c.end();
    if (last) rest.push(last);
    expect(Buffer.concat([firstBytes, ...rest.map((ch) => ch.bytes)])).toEqual(input);
    // The chunks after the first ones were built in the buffers handed back.
    expect(rest.some((ch) => used.includes(ch.bytes.buffer))).toBe(true);
    for (const ch of rest) expect(ch.bytes.byteOffset).toBe(0);
  });
});

describe('BufferPool', () => {
  it('hands out its largest idle buffer when it is big enough, else a new one', () => {
    const pool = new BufferPool(3);
    const small = new ArrayBuffer(10);
    const big = new ArrayBuffer(100);
    pool.give(small);
    pool.give(big);
    expect(pool.take(50)).toBe(big);
    const fresh = pool.take(50);
    expect(fresh).not.toBe(small);
    expect(fresh.byteLength).toBe(50);
    expect(pool.take(5)).toBe(small);
    expect(pool.idle).toBe(0);
  });

  it('ignores detached buffers and keeps the biggest ones when full', () => {
    const pool = new BufferPool(2);
    const detached = new ArrayBuffer(8);
    structuredClone(detached, { transfer: [detached] });
    pool.give(detached);
    expect(pool.idle).toBe(0);
    const a = new ArrayBuffer(10);
    const b = new ArrayBuffer(20);
    const c = new ArrayBuffer(30);
    pool.give(a);
    pool.give(b);
    pool.give(c); // full: replaces the smallest (a)
    expect(pool.idle).toBe(2);
    expect(pool.take(1)).toBe(c);
    expect(pool.take(1)).toBe(b);
    const none = new BufferPool(0);
    none.give(new ArrayBuffer(4));
    expect(none.idle).toBe(0);
  });
});

describe('splitChunk()', () => {
  const kinds = (input: Uint8Array, maxLineBytes = 100) => [...splitChunk(input, 1, maxLineBytes)]
    .map((l) => (l.kind === 'line' ? [l.lineNo, lineText(l.bytes)] : l.kind === 'reject' ? [l.lineNo, l.reject.code] : [l.lineNo, l.kind]));

  it('numbers lines from firstLineNo and tells blank lines apart', () => {
    const out = [...splitChunk(Buffer.from('a\n\n  \r\nb'), 41, 100)];
    expect(out).toEqual([
      { kind: 'line', lineNo: 41, bytes: Buffer.from('a') }, { kind: 'blank', lineNo: 42 }, { kind: 'blank', lineNo: 43 },
      { kind: 'line', lineNo: 44, bytes: Buffer.from('b') },
    ]);
  });

  it('calls blank every line of only whitespace, Unicode spaces and a BOM included', () => {
    expect(kinds(Buffer.from('\ufeff\n\t\u3000\n\u3000\n\u00a0\n \u00a0 \r\n\ufeff \n \ufeff{}\n\u00e9\n\u3000x'))).toEqual([
      [1, 'blank'], [2, 'blank'], [3, 'blank'], [4, 'blank'], [5, 'blank'], [6, 'blank'], [7, ' \ufeff{}'], [8, '\u00e9'], [9, '\u3000x'],
    ]);
  });

  it("gives each line's raw bytes, decoded by lineText, multi-byte characters, BOM and CRLF included", () => {
    const lines = ['\ufeff{"t":"ünï ✓ 😀"}\r', '', 'plain', '€'];
    for (const input of [Buffer.from(lines.join('\n')), Buffer.concat([Buffer.from(`${lines.join('\n')}\n`), Buffer.from([0xff])])]) {
      const out = [...splitChunk(input, 1, 100)].flatMap((l) => (l.kind === 'line' ? [[lineText(l.bytes), Buffer.from(l.bytes).toString('utf8')]] : []));
      expect(out).toEqual([[lines[0], lines[0]], ['plain', 'plain'], ['€', '€']]);
    }
    // A plain Uint8Array view (a transferred chunk) splits the same as a Buffer.
    const bytes = new Uint8Array(Buffer.from(`xx${lines.join('\n')}`));
    expect(kinds(bytes.subarray(2))).toEqual(kinds(Buffer.from(lines.join('\n'))));
  });

  it('rejects only the line with invalid UTF-8 or too many bytes', () => {
    const bytes = Buffer.concat([Buffer.from('ok\n'), Buffer.from([0xc3, 0x28, 0x0a]), Buffer.from('y'.repeat(50) + '\nok2\n')]);
    const out = [...splitChunk(bytes, 1, 20)].map((l) => (l.kind === 'reject' ? [l.lineNo, l.reject.code] : [l.lineNo, l.kind]));
    expect(out).toEqual([[1, 'line'], [2, 'invalid_utf8'], [3, 'line_too_long'], [4, 'line']]);
  });

  it('takes as invalid UTF-8 exactly what a fatal TextDecoder refuses', () => {
    const fatal = new TextDecoder('utf-8', { fatal: true });
    const sequences = [
      [0xed, 0xa0, 0x80], [0xed, 0x9f, 0xbf], [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xf4, 0x90, 0x80, 0x80], [0xf4, 0x8f, 0xbf, 0xbf],
      [0xef, 0xbf, 0xbe], [0xf0, 0x9f, 0x98], [0xc3], [0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xef, 0xbb, 0xbf],
    ];
    for (const seq of sequences) {
      let valid = true;
      try { fatal.decode(new Uint8Array(seq)); } catch { valid = false; }
      const line = Buffer.concat([Buffer.from('{"x":"'), Buffer.from(seq), Buffer.from('"}')]);
      expect([seq, kinds(Buffer.concat([Buffer.from('ok\n'), line]))[1]?.[1]])
        .toEqual([seq, valid ? fatal.decode(line) : 'invalid_utf8']);
    }
  });
});
