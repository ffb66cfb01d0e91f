/**
 * The piscina entry of every ingest worker, SQLite or PostgreSQL
 * (`WorkerInit.backend`): adapts `ChunkIngester` to the pool (the chunk's
 * buffer handed back, errors serialised). Each thread opens its own
 * connection on its first task and keeps it for the run; a connection that
 * broke is dropped, and the next task opens a new one. The PostgreSQL
 * backend (and `pg`) is loaded only by a PostgreSQL run's threads.
 */
import { move, transferableSymbol, valueSymbol, workerData } from 'piscina';
import type { ChunkReply, ChunkTask, WorkerInit } from '../src/protocol/messages';
import { TransientOpenError } from './chunk-backend';
import { ChunkIngester } from './chunk-ingester';
import { SqliteWorkerBackend } from './sqlite-backend';

/** The task handler for a pool, over the ingester `create` makes on first use (a test fixture passes its own). */
export function chunkHandler(create: (init: WorkerInit) => ChunkIngester | Promise<ChunkIngester>): (task: ChunkTask) => Promise<unknown> {
  let current: Promise<ChunkIngester> | undefined;
  return async (task) => {
    current ??= Promise.resolve().then(() => create(workerData as WorkerInit));
    let ingester: ChunkIngester;
    try {
      ingester = await current;
    } catch (err) {
      current = undefined; // the next task tries to connect again
      if (err instanceof TransientOpenError) return withBuffer({ ok: false, ...err.reply }, task.bytes);
      throw err;
    }
    try {
      return withBuffer({ ok: true, stats: await ingester.ingest(task) }, task.bytes);
    } catch (err) {
      const reply = ingester.errorReply(err, task);
      if (reply === undefined) throw err; // a bug or a crash: the scheduler retries the chunk on a fresh thread
      if (reply.reconnect === true) {
        current = undefined;
        await ingester.close();
      }
      return withBuffer({ ok: false, error: reply.error, ...(reply.transient === true ? { transient: true } : {}) }, task.bytes);
    }
  };
}

/** This thread's ingester, on a connection of its own. */
export async function createIngester(init: WorkerInit): Promise<ChunkIngester> {
  if (init.backend === 'sqlite') return new ChunkIngester(init, SqliteWorkerBackend.open(init));
  const { PgWorkerBackend } = await import('./pg-backend.js');
  return new ChunkIngester(init, await PgWorkerBackend.open(init));
}

export default chunkHandler(createIngester);

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
