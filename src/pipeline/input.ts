import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import { open as openFileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { BrandOrchestratorError, InputError, InvalidOptionError, toError } from '../errors';
import type { ChunkMeta } from '../store/types';
import { Chunker } from './chunker';
import { asByteSource, itemBytes } from './input-forms';
import type { PipelineInput } from './types';

export interface OpenedInput {
  /**
   * Raw bytes, in order. A piece may be overwritten once the next one is
   * asked for (plain files reuse one read buffer): copy what you keep.
   */
  bytes: AsyncIterable<Uint8Array>;
  /**
   * Rebuilds a chunk from the file (plain files only), so a retry needs no
   * copy of the chunk kept in memory. Fails with `ERR_INPUT_CHANGED` if the
   * file no longer holds the same bytes.
   */
  reread?: (meta: ChunkMeta, maxLineBytes: number) => Uint8Array;
  /**
   * Size in the bytes the pipeline counts, for progress and ETA: exact for a
   * plain file, an estimate for a .gz file (its size times the compression
   * ratio so far), unknown for streams.
   */
  totalBytes: () => number | undefined;
  /** Stops reading: destroys the underlying stream (a cancelled run must not wait for stdin's EOF). */
  close: () => void;
}

/**
 * Turns any accepted input into a stream of raw bytes. File problems
 * (missing, unreadable, a directory) are reported here, before a run starts.
 */
export function openInput(given: PipelineInput): OpenedInput {
  const input = asByteSource(given);
  if (typeof input === 'string') return openFile(input);
  // Streams and iterables are sniffed for the gzip magic like files: `ingest - < feed.ndjson.gz` must not read compressed bytes as lines.
  if (isReadable(input)) {
    const src = new Source(() => input);
    const bytes = gunzipIfCompressed(readableBytes(src, 'input stream'), 'input stream');
    return { bytes, totalBytes: unknownSize, close: () => { src.close(); bytes.return(undefined).catch(() => undefined); } };
  }
  if (isIterable(input)) {
    const bytes = gunzipIfCompressed(iterableBytes(input), 'input iterable');
    return { bytes, totalBytes: unknownSize, close: () => { bytes.return(undefined).catch(() => undefined); } };
  }
  throw new InvalidOptionError('Expected `input` to be a file path or file: URL, bytes, a Readable or an iterable of lines, bytes or objects');
}

function openPipe(path: string): OpenedInput {
  const what = `input ${path}`;
  const src = new Source(() => createReadStream(path, { highWaterMark: 1 << 20 }));
  const bytes = gunzipIfCompressed(readableBytes(src, what), what);
  return { bytes, totalBytes: unknownSize, close: () => { src.close(); bytes.return(undefined).catch(() => undefined); } };
}

function openFile(path: string): OpenedInput {
  let size: number;
  let gzip = false;
  try {
    const st = statSync(path);
    // A named pipe or a process substitution `<(zcat feed.gz)`: streamed like stdin (no size, so no percentage).
    if (st.isFIFO() || st.isSocket() || st.isCharacterDevice()) return openPipe(path);
    if (!st.isFile()) throw new Error('not a regular file');
    size = st.size;
    const fd = openSync(path, 'r');
    try {
      const magic = Buffer.alloc(2);
      gzip = readSync(fd, magic, 0, 2, 0) === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    const e = toError(err) as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.message;
    throw new InputError('ERR_INPUT', `Cannot read input ${path}: ${why}`, { cause: e });
  }
  if (!gzip) {
    const bytes = fileBytes(path);
    // return() runs the generator's finally (closing the file); a failing close must not become an unhandled rejection.
    return { bytes, totalBytes: () => size, close: () => { bytes.return(undefined).catch(() => undefined); }, reread: (meta, max) => rereadChunk(path, meta, max) };
  }
  // Opened lazily, on first read: a run that fails to start leaves no stream behind.
  let gunzip: ReturnType<typeof createGunzip> | undefined;
  let out = 0;
  const src = new Source(() => {
    const file = createReadStream(path, { highWaterMark: 1 << 20 });
    gunzip = createGunzip();
    file.on('error', (err) => gunzip?.destroy(err));
    return file.pipe(gunzip);
  });
  async function* counted(): AsyncGenerator<Uint8Array> {
    for await (const piece of readableBytes(src, path)) {
      out += piece.length;
      yield piece;
    }
  }
  const totalBytes = () => {
    // What zlib has taken in, not what was read from disk: the read-ahead would skew the ratio.
    const read = gunzip?.bytesWritten ?? 0;
    return read > 0 && out > 0 ? Math.round(size * (out / read)) : undefined;
  };
  return { bytes: counted(), totalBytes, close: () => src.close() };
}

const unknownSize = (): undefined => undefined;

const GZIP_MAGIC = [0x1f, 0x8b] as const;

/**
 * `bytes` as they are, or decompressed when they start with the gzip magic
 * (members one after another, as `cat a.gz b.gz` makes, decompress as one).
 * Only raw bytes are looked at: an iterable of lines or objects is text.
 */
async function* gunzipIfCompressed(bytes: AsyncGenerator<Uint8Array>, what: string): AsyncGenerator<Uint8Array> {
  try {
    const head = await readHead(bytes);
    const start = Buffer.concat(head.map((h) => h.subarray(0, GZIP_MAGIC.length)));
    const gzip = start[0] === GZIP_MAGIC[0] && start[1] === GZIP_MAGIC[1];
    yield* gzip ? gunzipped(chain(head, bytes), what) : chain(head, bytes);
  } finally {
    await bytes.return(undefined);
  }
}

/**
 * The first pieces, up to two bytes: enough to decide. A piece shorter than
 * that is copied, since a piece may be reused once the next one is read. Its
 * own frame, so no suspended generator keeps a piece alive for the run.
 */
async function readHead(bytes: AsyncIterator<Uint8Array>): Promise<Uint8Array[]> {
  const head: Uint8Array[] = [];
  let size = 0;
  while (size < GZIP_MAGIC.length) {
    const next = await bytes.next();
    if (next.done === true) break;
    if (next.value.length === 0) continue;
    head.push(size + next.value.length < GZIP_MAGIC.length ? next.value.slice() : next.value);
    size += next.value.length;
  }
  return head;
}

/** `head`'s pieces, each taken out as it is passed on, then the rest of `bytes`. */
async function* chain(head: Uint8Array[], bytes: AsyncGenerator<Uint8Array>): AsyncGenerator<Uint8Array> {
  for (let piece = head.shift(); piece !== undefined; piece = head.shift()) yield piece;
  yield* bytes;
}

async function* gunzipped(compressed: AsyncIterable<Uint8Array>, what: string): AsyncGenerator<Uint8Array> {
  const source = Readable.from(compressed, { objectMode: false });
  const gunzip = createGunzip();
  source.on('error', (err) => gunzip.destroy(err));
  source.pipe(gunzip);
  try {
    for await (const piece of gunzip as AsyncIterable<Buffer>) yield piece;
  } catch (err) {
    throw err instanceof InputError ? err : new InputError('ERR_INPUT', `Decompressing the gzip ${what} failed: ${toError(err).message}`, { cause: err });
  } finally {
    source.destroy();
    gunzip.destroy();
  }
}

/** Bytes read per call from a plain file. */
const READ_BYTES = 1 << 20;

/**
 * A plain file, read into one buffer that is reused for every piece (a read
 * stream allocates a fresh 1 MiB buffer per read, garbage that piled up on
 * the otherwise quiet main thread). Opened on first read.
 */
async function* fileBytes(path: string): AsyncGenerator<Uint8Array> {
  const failed = (err: unknown) => new InputError('ERR_INPUT', `Reading ${path} failed: ${toError(err).message}`, { cause: err });
  const fh = await openFileHandle(path, 'r').catch((err: unknown) => { throw failed(err); });
  try {
    const buf = Buffer.allocUnsafe(READ_BYTES);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, READ_BYTES, null).catch((err: unknown) => { throw failed(err); });
      if (bytesRead === 0) return;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

/** A stream created on first use, which can be destroyed from outside. */
class Source {
  #stream: NodeJS.ReadableStream | undefined;
  #closed = false;
  readonly #create: () => NodeJS.ReadableStream;

  constructor(create: () => NodeJS.ReadableStream) {
    this.#create = create;
  }

  get closed(): boolean {
    return this.#closed;
  }

  open(): NodeJS.ReadableStream {
    this.#stream ??= this.#create();
    return this.#stream;
  }

  close(): void {
    this.#closed = true;
    const s = this.#stream as (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
    s?.destroy?.();
  }
}

function rereadChunk(path: string, meta: ChunkMeta, maxLineBytes: number): Uint8Array {
  const chunker = new Chunker(Number.MAX_SAFE_INTEGER, maxLineBytes);
  const fd = openSync(path, 'r');
  try {
    // In pieces through the same Chunker: an over-long line is cut exactly as
    // the first time. The chunker copies what it is given, so one buffer does.
    const piece = Buffer.allocUnsafe(Math.min(READ_BYTES, meta.byteEnd - meta.byteStart));
    for (let pos = meta.byteStart; pos < meta.byteEnd;) {
      const n = readSync(fd, piece, 0, Math.min(piece.length, meta.byteEnd - pos), pos);
      if (n === 0) break;
      chunker.push(piece.subarray(0, n));
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
  const chunk = chunker.end();
  if (chunk === undefined || chunk.meta.checksum !== meta.checksum) {
    throw new InputError('ERR_INPUT_CHANGED', `${path} changed while it was being ingested (chunk ${meta.chunkIndex} reads differently now)`);
  }
  return chunk.bytes;
}

async function* readableBytes(source: Source, what: string): AsyncGenerator<Uint8Array> {
  try {
    const stream = source.open();
    for await (const piece of stream as AsyncIterable<Uint8Array | string>) {
      yield typeof piece === 'string' ? Buffer.from(piece) : piece;
    }
  } catch (err) {
    if (source.closed) return; // destroyed on purpose (the run stopped)
    throw new InputError('ERR_INPUT', `Reading ${what} failed: ${toError(err).message}`, { cause: err });
  }
}

async function* iterableBytes(items: AsyncIterable<unknown> | Iterable<unknown>): AsyncGenerator<Uint8Array> {
  try {
    for await (const item of items) yield itemBytes(item, 'input iterable');
  } catch (err) {
    // A generator that throws is an input that failed to read, as a stream that errors is.
    if (err instanceof BrandOrchestratorError) throw err;
    throw new InputError('ERR_INPUT', `Reading input iterable failed: ${toError(err).message}`, { cause: err });
  }
}

function isReadable(v: unknown): v is NodeJS.ReadableStream {
  return v !== null && typeof v === 'object' && typeof (v as { pipe?: unknown }).pipe === 'function'
    && typeof (v as { on?: unknown }).on === 'function';
}

function isIterable(v: unknown): v is AsyncIterable<unknown> | Iterable<unknown> {
  return v !== null && typeof v === 'object'
    && (typeof (v as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function' || typeof (v as Iterable<unknown>)[Symbol.iterator] === 'function');
}
