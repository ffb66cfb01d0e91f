/**
 * The piscina entry of an ingest worker: adapts `ChunkIngester` to the pool
 * (the chunk's buffer handed back, errors serialised). Each thread opens its
 * own connection on its first task and keeps it for the run.
 */
import { move, transferableSymbol, valueSymbol, workerData } from 'piscina';
import { serializeError } from '../src/errors';
import { fromSqliteError } from '../src/sqlite/errors';
import type { ChunkReply, ChunkTask, WorkerInit } from '../src/protocol/messages';
import { SqliteChunkBackend } from '../src/store/sqlite-chunk-backend';
import { ChunkIngester } from './chunk-ingester';

/**
 * Longest one SQLite call waits for a lock before the retry loop (which
 * checks for a cancelled run) takes over.
 */
const NATIVE_BUSY_WAIT_MS = 100;

/** The task handler for a pool, over the ingester `create` makes on first use (a test fixture passes its own). */
export function chunkHandler(create: (init: WorkerInit) => ChunkIngester): (task: ChunkTask) => unknown {
  let ingester: ChunkIngester | undefined;
  return (task) => {
    ingester ??= create(workerData as WorkerInit);
    return withBuffer(handle(ingester, task), task.bytes);
  };
}

/** This thread's ingester, on a connection of its own. */
export function createIngester(init: WorkerInit): ChunkIngester {
  const backend = SqliteChunkBackend.open(init.dbPath, {
    synchronous: init.synchronous, busyTimeoutMs: Math.min(init.busyTimeoutMs, NATIVE_BUSY_WAIT_MS),
  });
  return new ChunkIngester(init, backend);
}

export default chunkHandler(createIngester);

function handle(ingester: ChunkIngester, task: ChunkTask): ChunkReply {
  try {
    return { ok: true, stats: ingester.ingest(task) };
  } catch (err) {
    // A database error (SQLite's own, or ours after the busy backoff) is final
    // for this chunk and keeps its code across the thread boundary: another
    // thread would meet the same database. Anything else (a bug, a crash) is
    // thrown so the scheduler retries the chunk.
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && (code.startsWith('SQLITE_') || code.startsWith('ERR_'))) {
      const m = task.meta;
      return { ok: false, error: serializeError(fromSqliteError(err, `Chunk ${m.chunkIndex} (lines ${m.firstLineNo}-${m.firstLineNo + m.lineCount - 1})`)) };
    }
    throw err;
  }
}

/**
 * Sends the chunk's buffer back (transferred) with the reply, for the
 * scheduler to reuse; left here, it would be garbage until this thread's
 * next major GC. Nothing reads it once the chunk is handled.
 */
function withBuffer(reply: ChunkReply, bytes: Uint8Array): unknown {
  const { buffer } = bytes;
  if (buffer.byteLength === 0 || !(buffer instanceof ArrayBuffer)) return reply;
  return move({
    get [transferableSymbol]() { return buffer; },
    get [valueSymbol]() { return { ...reply, bytes }; },
  });
}
