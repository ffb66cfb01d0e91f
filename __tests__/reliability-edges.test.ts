/**
 * Edges a nightly job meets: a progress callback that throws, a generator
 * input that throws, a named pipe or a process substitution as the input,
 * and a second Ctrl-C while a --rejects file is being prepared.
 */
import Database from 'better-sqlite3';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPipeline } from '../src/backend';
import type { PipelineFailure } from '../src/pipeline';
import { CLI, cliEnv } from './helpers/cli';
import { startFaultyCli } from './helpers/faults';
import { mixedFeed } from './helpers/lines';
import { tempDir } from './helpers/tmp';

let t: ReturnType<typeof tempDir>;
beforeEach(() => { t = tempDir('bo-edges-'); });
afterEach(() => t.cleanup());

function feed(n: number): string {
  const p = join(t.dir, 'feed.ndjson');
  writeFileSync(p, `${mixedFeed(n).lines.join('\n')}\n`);
  return p;
}

describe('runPipeline({onProgress})', () => {
  it('a callback that throws is isolated: the run completes, and one process warning says so', async () => {
    const emitted = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    let calls = 0;
    try {
      const s = await runPipeline({
        input: feed(500), dbPath: t.db, workers: 1, chunkSize: 100, progressIntervalMs: 0,
        onProgress: () => { calls++; throw new Error('dashboard down'); },
      });
      expect(s).toMatchObject({ status: 'completed', inserted: 500 });
      expect(calls).toBeGreaterThan(1);
      const ours = emitted.mock.calls.filter(([, o]) => (o as { code?: string } | undefined)?.code === 'BO_ON_PROGRESS_THREW');
      expect(ours).toHaveLength(1);
      expect(ours[0]?.[0]).toMatch(/^onProgress threw \(dashboard down\); the run goes on/);
    } finally {
      emitted.mockRestore();
    }
  });
});

describe('runPipeline({input: generator})', () => {
  it('a generator that throws fails the run with ERR_INPUT, naming the cause', async () => {
    function* lines(): Generator<string> {
      yield* mixedFeed(10).lines;
      throw new Error('upstream API returned 503');
    }
    const e = await runPipeline({ input: lines(), dbPath: t.db, workers: 1 }).then(() => undefined, (err: unknown) => err as PipelineFailure);
    expect(e).toMatchObject({ code: 'ERR_INPUT', message: expect.stringMatching(/^Reading input iterable failed: upstream API returned 503/) });
  });
});

describe('ingest from a pipe', () => {
  it('streams a named pipe (FIFO) given as the input path', () => {
    const fifo = join(t.dir, 'feed.fifo');
    execFileSync('mkfifo', [fifo]);
    const source = feed(300);
    const writer = spawn('sh', ['-c', 'cat "$1" > "$2"', 'sh', source, fifo]);
    const r = spawnSync(process.execPath, [CLI, 'ingest', fifo, '--db', t.db, '--json'], { encoding: 'utf8', env: cliEnv(), timeout: 60_000 });
    writer.kill();
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'completed', lines_read: 300, inserted: 300 });
  });

  it('streams a process substitution <(...) of a gzip decompressor', () => {
    const source = feed(200);
    execFileSync('gzip', ['-k', source]);
    const r = spawnSync('bash', ['-c', `"$0" "$1" ingest <(zcat "$2") --db "$3" --json`, process.execPath, CLI, `${source}.gz`, t.db],
      { encoding: 'utf8', env: cliEnv(), timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'completed', lines_read: 200 });
  });
});

describe('ingest --rejects, a second signal', () => {
  it('removes the temporary rejects file when a second SIGINT ends the process at once', async () => {
    const source = join(t.dir, 'big.ndjson');
    writeFileSync(source, `${mixedFeed(4000, 10).lines.join('\n')}\n`);
    const out = join(t.dir, 'out');
    execFileSync('mkdir', [out]);
    const run = startFaultyCli(['ingest', source, '--db', t.db, '--workers', '1', '--chunk-size', '500', '--quiet', '--rejects', join(out, 'rejects.ndjson')],
      t.db, { chunkIndex: 2, kind: 'park-in-transaction' }, t.dir);
    await run.parked(2);
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp'))).toHaveLength(1); // the file being prepared
    await run.interrupt('SIGINT');
    run.child.kill('SIGINT');
    expect(await run.exited).toEqual({ code: null, signal: 'SIGINT' });
    expect(readdirSync(out)).toEqual([]);
    const db = new Database(t.db, { readonly: true });
    expect(db.prepare('SELECT count(*) FROM run_chunks').pluck().get()).toBe(2);
    db.close();
  });
});
