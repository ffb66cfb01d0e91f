/**
 * The piscina entry of a PostgreSQL ingest worker: adapts `PgChunkIngester`
 * to the pool. Each thread opens its own connection on its first task; a
 * connection that broke is dropped, and the next task opens a new one.
 */
import { workerData } from 'piscina';
import { serializeError } from '../src/errors';
import { fromPgError } from '../src/pg/connect';
import { isTransient } from '../src/pg/outage';
import type { PgChunkReply, PgChunkTask, PgWorkerInit } from '../src/protocol/pg-messages';
import { PgChunkIngester } from './pg-chunk-ingester';

let ingester: Promise<PgChunkIngester> | undefined;

export default async function handle(task: PgChunkTask): Promise<PgChunkReply> {
  ingester ??= PgChunkIngester.open(workerData as PgWorkerInit);
  let ing: PgChunkIngester;
  try {
    ing = await ingester;
  } catch (err) {
    ingester = undefined; // the next task tries to connect again
    if (isTransient(err)) return { ok: false, error: serializeError(err), transient: true };
    throw err;
  }
  try {
    return { ok: true, stats: await ing.ingest(task) };
  } catch (err) {
    // A lost connection: the chunk rolled back; the scheduler retries it on a new one, with back-off while the server is away.
    const code = (err as { code?: unknown } | null)?.code;
    if (isTransient(err)) {
      ingester = undefined;
      await ing.close();
      return { ok: false, error: serializeError(fromPgError(err, ing.where, `Chunk ${task.chunkIndex} (bytes ${task.byteStart}-${task.byteEnd})`)), transient: true };
    }
    // Another coded database error is final for this chunk, and keeps its code across the thread boundary.
    if (typeof code === 'string' && code.startsWith('ERR_')) return { ok: false, error: serializeError(err) };
    throw err;
  }
}
