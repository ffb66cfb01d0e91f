import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { CancelledError, InputError } from '../src/errors';
import { runPipeline } from '../src/backend';
import { StateStore } from '../src/sqlite';
import { mixedFeed } from './helpers/lines';
import { tempDir } from './helpers/tmp';

let t: ReturnType<typeof tempDir>;
beforeEach(() => { t = tempDir('bo-forms-'); });
afterEach(() => t.cleanup());

const feed = mixedFeed(60, 20); // 57 good lines, 3 rejects
const text = `${feed.lines.join('\n')}\n`;
const db = (name: string) => join(t.dir, `${name}.sqlite`);

describe('runPipeline() input forms', () => {
  it('reads an object-mode Readable of item objects like an iterable of objects', async () => {
    const items = mixedFeed(40).lines.map((l) => JSON.parse(l) as object);
    const s = await runPipeline({ input: Readable.from(items), dbPath: db('objects'), workers: 2, chunkSize: 7 });
    expect(s).toMatchObject({ status: 'completed', linesRead: 40, inserted: 40, chunks: 6 });
    using store = StateStore.open(db('objects'), { readonly: true });
    expect(store.getIntelItem('item-40')?.title).toBe((items[39] as { title: string }).title);
  });

  it('reads an object-mode Readable of strings as lines, like an iterable of lines', async () => {
    const s = await runPipeline({ input: Readable.from(feed.lines), dbPath: db('lines'), workers: 1 });
    expect(s).toMatchObject({ status: 'completed', linesRead: 60, inserted: 57, rejected: 3 });
  });

  it('fails the run with ERR_INPUT naming the object-mode stream when it yields something else', async () => {
    const err = await runPipeline({ input: Readable.from([feed.lines[0], 42]), dbPath: db('bad'), workers: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(err).toMatchObject({ code: 'ERR_INPUT', message: expect.stringMatching(/object-mode stream to yield strings, bytes or objects, got number/) as unknown });
  });

  it('destroys an object-mode Readable that has not ended when the run is cancelled', async () => {
    const endless = new Readable({ objectMode: true, read() { /* pushed below, never ends */ } });
    for (const l of mixedFeed(300).lines) endless.push(JSON.parse(l) as object);
    const ac = new AbortController();
    const err = await runPipeline({
      input: endless, dbPath: db('endless'), workers: 2, chunkSize: 100, signal: ac.signal, progressIntervalMs: 0,
      onProgress: (p) => { if (p.chunksDone >= 3) ac.abort(); },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledError);
    expect((err as CancelledError).summary).toMatchObject({ status: 'cancelled', inserted: 300 });
    expect(endless.destroyed).toBe(true);
  });

  it('reads the whole feed from a Buffer or a Uint8Array', async () => {
    const buf = Buffer.from(text);
    const expected = { status: 'completed', linesRead: 60, inserted: 57, rejected: 3 };
    expect(await runPipeline({ input: buf, dbPath: db('buffer'), workers: 2, chunkSize: 25 })).toMatchObject({ ...expected, chunks: 3 });
    const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    expect(await runPipeline({ input: bytes, dbPath: db('uint8'), workers: 1 })).toMatchObject(expected);
  });

  it('reads a file: URL as the file it names', async () => {
    const path = join(t.dir, 'feed.ndjson');
    writeFileSync(path, text);
    const s = await runPipeline({ input: pathToFileURL(path), dbPath: db('url'), workers: 1 });
    expect(s).toMatchObject({ status: 'completed', linesRead: 60, inserted: 57 });
    using store = StateStore.open(db('url'), { readonly: true });
    expect(store.countItems(s.runId)).toBe(57);
  });

  it('refuses a URL that does not name a local file with ERR_INVALID_OPTION, before creating anything', async () => {
    await expect(runPipeline({ input: new URL('https://example.com/feed.ndjson'), dbPath: t.db }))
      .rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', message: expect.stringMatching(/file: URL, got a https: URL/) as unknown });
    await expect(runPipeline({ input: new URL('file://elsewhere/feed.ndjson'), dbPath: t.db }))
      .rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', message: expect.stringMatching(/local file: URL/) as unknown });
    await expect(runPipeline({ input: pathToFileURL(join(t.dir, 'missing.ndjson')), dbPath: t.db })).rejects.toMatchObject({ code: 'ERR_INPUT' });
    expect(existsSync(t.db)).toBe(false);
  });
});
