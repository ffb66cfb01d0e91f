/**
 * The chunk plan of a run on PostgreSQL: chunk `i` holds the lines that
 * start in bytes [i * chunkBytes, (i + 1) * chunkBytes) of the file. Any
 * process finds a chunk's bounds by seeking there and reading to the next
 * line end, so processes on several machines share one run without reading
 * the whole file, and all cut it the same way.
 */
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { InputError } from '../errors';
import { Chunker } from '../pipeline/chunker';
import type { ChunkPlan } from './pg-store';

const PROBE_BYTES = 65_536;
const READ_BYTES = 1_048_576;

/** The plan for the file at `path`: its size, a fingerprint, and the chunk count. */
export async function planFile(path: string, chunkBytes: number): Promise<ChunkPlan> {
  const fh = await openInput(path);
  try {
    const { size } = await fh.stat();
    const hash = createHash('sha1').update(`${size};`);
    const head = Buffer.alloc(Math.min(PROBE_BYTES, size));
    await fh.read(head, 0, head.length, 0);
    hash.update(head);
    const tail = Buffer.alloc(Math.min(PROBE_BYTES, size));
    await fh.read(tail, 0, tail.length, size - tail.length);
    hash.update(tail);
    return { inputBytes: size, chunkBytes, chunks: Math.max(1, Math.ceil(size / chunkBytes)), fingerprint: hash.digest('hex') };
  } finally {
    await fh.close();
  }
}

export async function openInput(path: string): Promise<FileHandle> {
  try {
    const fh = await open(path, 'r');
    if (!(await fh.stat()).isFile()) {
      await fh.close();
      throw new InputError('ERR_INPUT', `${path} is not a plain file; a PostgreSQL run reads a file it can seek in`);
    }
    return fh;
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError('ERR_INPUT', `Cannot read ${path}: ${(err as Error).message}`);
  }
}

/** A planned chunk as read: its bounds, its lines (over-long ones cut as the `Chunker` cuts them) and their checksum. */
export interface PlannedChunk {
  chunkIndex: number;
  byteStart: number;
  byteEnd: number;
  lineCount: number;
  checksum: string;
  bytes: Uint8Array;
}

/** Reads chunk `i` of `plan` from `fh`. */
export async function readPlannedChunk(fh: FileHandle, plan: ChunkPlan, i: number, maxLineBytes: number): Promise<PlannedChunk> {
  const byteStart = await lineStartFrom(fh, i * plan.chunkBytes, plan.inputBytes);
  const byteEnd = Math.max(byteStart, i === plan.chunks - 1 ? plan.inputBytes : await lineStartFrom(fh, (i + 1) * plan.chunkBytes, plan.inputBytes));
  const chunker = new Chunker(Number.MAX_SAFE_INTEGER, maxLineBytes);
  const buf = Buffer.allocUnsafe(Math.min(READ_BYTES, Math.max(1, byteEnd - byteStart)));
  for (let pos = byteStart; pos < byteEnd;) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, byteEnd - pos), pos);
    if (bytesRead === 0) throw new InputError('ERR_INPUT_CHANGED', `The input ended at byte ${pos}, before the ${plan.inputBytes} bytes the run planned; it changed`);
    chunker.push(buf.subarray(0, bytesRead));
    pos += bytesRead;
  }
  const chunk = chunker.end();
  if (chunk === undefined) return { chunkIndex: i, byteStart, byteEnd, lineCount: 0, checksum: createHash('sha1').digest('hex'), bytes: new Uint8Array(0) };
  return { chunkIndex: i, byteStart, byteEnd, lineCount: chunk.meta.lineCount, checksum: chunk.meta.checksum, bytes: chunk.bytes };
}

/** The first line start at or after `pos`: 0, or just past the first "\n" at or after `pos - 1`. */
async function lineStartFrom(fh: FileHandle, pos: number, size: number): Promise<number> {
  if (pos <= 0) return 0;
  if (pos >= size) return size;
  const buf = Buffer.allocUnsafe(PROBE_BYTES);
  for (let at = pos - 1; at < size;) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - at), at);
    if (bytesRead === 0) break;
    const nl = buf.subarray(0, bytesRead).indexOf(10);
    if (nl !== -1) return at + nl + 1;
    at += bytesRead;
  }
  return size;
}
