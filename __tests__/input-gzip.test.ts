import { createReadStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { runPipeline } from '../src/backend';
import type { PipelineFailure } from '../src/pipeline';
import { mixedFeed } from './helpers/lines';
import { tempDir } from './helpers/tmp';

let t: ReturnType<typeof tempDir>;
beforeEach(() => { t = tempDir('bo-gzip-'); });
afterEach(() => t.cleanup());

const feed = mixedFeed(300, 50);
const text = Buffer.from(`${feed.lines.join('\n')}\n`);
const expected = { status: 'completed', linesRead: 300, inserted: feed.good, rejected: feed.bad };

/** `bytes` in pieces of `size` bytes (the first piece of one byte, to split the gzip magic). */
function* pieces(bytes: Buffer, size: number): Generator<Uint8Array> {
  yield bytes.subarray(0, 1);
  for (let i = 1; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

describe('runPipeline() input: gzip is detected in every byte source', () => {
  it('decompresses a gzip Readable (stdin, a socket, a read stream)', async () => {
    const gz = join(t.dir, 'feed.ndjson.gz');
    writeFileSync(gz, gzipSync(text));
    await expect(runPipeline({ input: createReadStream(gz, { highWaterMark: 1000 }), dbPath: t.db, workers: 1, chunkSize: 100 }))
      .resolves.toMatchObject(expected);
  });

  it('decompresses an iterable of gzip bytes, even when the magic is split across pieces', async () => {
    await expect(runPipeline({ input: pieces(gzipSync(text), 777), dbPath: t.db, workers: 1, chunkSize: 100 })).resolves.toMatchObject(expected);
  });

  it('decompresses concatenated gzip members as one feed (cat a.gz b.gz)', async () => {
    const half = feed.lines.length / 2;
    const members = Buffer.concat([gzipSync(`${feed.lines.slice(0, half).join('\n')}\n`), gzipSync(`${feed.lines.slice(half).join('\n')}\n`)]);
    await expect(runPipeline({ input: Readable.from([members]), dbPath: t.db, workers: 2, chunkSize: 100 })).resolves.toMatchObject(expected);
  });

  it('passes plain bytes through untouched, including a stream of one byte', async () => {
    await expect(runPipeline({ input: pieces(text, 500), dbPath: t.db, workers: 1 })).resolves.toMatchObject(expected);
    await expect(runPipeline({ input: Readable.from([Buffer.from('{')]), dbPath: t.db, workers: 1, maxRejectRatio: 'none' }))
      .resolves.toMatchObject({ linesRead: 1, rejected: 1 });
  });

  it('fails with ERR_INPUT on a truncated gzip stream, after committing what it could read', async () => {
    const gz = gzipSync(text);
    const e = await runPipeline({ input: Readable.from([gz.subarray(0, gz.length - 20)]), dbPath: t.db, workers: 1, chunkSize: 100 })
      .then(() => undefined, (err: unknown) => err as PipelineFailure);
    expect(e).toMatchObject({ code: 'ERR_INPUT', message: expect.stringMatching(/^Decompressing the gzip input stream failed: unexpected end of file/) });
    expect(e?.summary?.status).toBe('failed');
  });
});
