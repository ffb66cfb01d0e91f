import { availableParallelism } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../src/config';
import { defaultWorkers, resolvePipelineOptions } from '../src/pipeline/options';
import type { RunPipelineOptions } from '../src/pipeline/types';

describe('resolvePipelineOptions()', () => {
  it('defaults to one worker per core, at most 4 (more only queue for the write lock)', () => {
    expect([1, 2, 3, 4, 16, 64].map(defaultWorkers)).toEqual([1, 2, 3, 4, 4, 4]);
    expect(resolvePipelineOptions({ input: 'x' }).workers).toBe(Math.min(4, availableParallelism()));
    expect(resolvePipelineOptions({ input: 'x', workers: 8 }).workers).toBe(8);
  });

  it('resolves a relative input file and database path against the working folder, once', () => {
    const o = resolvePipelineOptions({ input: join('feeds', 'night.ndjson'), dbPath: join('data', 'bo.sqlite') });
    expect(o.input).toBe(join(process.cwd(), 'feeds', 'night.ndjson'));
    expect(o.dbPath).toBe(join(process.cwd(), 'data', 'bo.sqlite'));
    expect(isAbsolute(resolvePipelineOptions({ input: 'x' }).dbPath)).toBe(true);
  });

  it('resolves maxRejectRatio: 0.5 by default, none as no limit', () => {
    expect(resolvePipelineOptions({ input: 'x' }).maxRejectRatio).toBe(0.5);
    expect(resolvePipelineOptions({ input: 'x', maxRejectRatio: 'none' }).maxRejectRatio).toBe(Number.POSITIVE_INFINITY);
    expect(resolvePipelineOptions({ input: 'x', maxRejectRatio: 0 }).maxRejectRatio).toBe(0);
  });

  it('takes a SQLite path or file: URL given as `db` for dbPath, made absolute', () => {
    const abs = join(process.cwd(), 'data', 'bo.sqlite');
    for (const db of [join('data', 'bo.sqlite'), pathToFileURL(abs).href]) {
      const o = resolvePipelineOptions({ input: 'x', db });
      expect(o.db).toEqual({ kind: 'sqlite', path: abs });
      expect(o.dbPath).toBe(abs);
    }
    expect(resolvePipelineOptions({ input: 'x', dbPath: pathToFileURL(abs).href }).dbPath).toBe(abs);
    expect(resolvePipelineOptions({ input: 'x', dbPath: ':memory:' }).db).toEqual({ kind: 'sqlite', path: ':memory:' });
  });

  it('takes a postgres URL given as `db`, labelled without its password, with no SQLite path', () => {
    const o = resolvePipelineOptions({ input: 'x', db: 'postgres://bo:s3cret@db.internal/intel' });
    expect(o.db).toEqual({ kind: 'postgres', url: 'postgres://bo:s3cret@db.internal/intel', label: 'postgres://bo:***@db.internal/intel' });
    expect(o.dbPath).toBe('');
  });

  it('refuses `db` and `dbPath` together, without echoing a password', () => {
    expect(() => resolvePipelineOptions({ input: 'x', db: 'postgres://bo:s3cret@h/intel', dbPath: 'bo.sqlite' })).toThrow(expect.objectContaining({
      code: 'ERR_INVALID_OPTION', message: 'Give `db` or `dbPath`, not both (`dbPath` is a SQLite file; `db` is a postgres:// URL or a SQLite file)',
    }));
  });

  it('refuses a postgres URL as `dbPath` or BRAND_ORCH_DB_PATH (it belongs in `db`), without its password', () => {
    expect(() => resolvePipelineOptions({ input: 'x', dbPath: 'postgres://bo:s3cret@h/intel' })).toThrow(expect.objectContaining({
      code: 'ERR_INVALID_OPTION', message: 'Expected `dbPath` to be a SQLite file; give a postgres:// URL as `db`, got postgres://bo:***@h/intel',
    }));
    const config = loadConfig({ BRAND_ORCH_DB_PATH: 'postgresql:///intel' });
    expect(() => resolvePipelineOptions({ input: 'x', config })).toThrow(expect.objectContaining({
      code: 'ERR_INVALID_OPTION', message: expect.stringMatching(/^Expected `config.dbPath` \(BRAND_ORCH_DB_PATH\) to be a SQLite file/) as unknown,
    }));
  });

  it.each([
    [{ db: 'mysql:///x' }, /scheme "mysql:" in `db`/],
    [{ dbPath: 'http://x/bo.sqlite' }, /scheme "http:" in `dbPath`/],
    [{ config: loadConfig({ BRAND_ORCH_DB_PATH: 'sqlite:///x' }) }, /scheme "sqlite:" in `config.dbPath`/],
    [{ db: '' }, /Expected `db` to be a non-empty string/],
  ])('refuses %p with ERR_INVALID_OPTION (a URL is never a file name)', (over, message) => {
    expect(() => resolvePipelineOptions({ input: 'x', ...over })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringMatching(message) as unknown }));
  });
});

describe('options of the other backend', () => {
  const pg = 'postgres://u@127.0.0.1:5432/x';
  it.each([
    [{ db: pg, chunkSize: 100 }, /`chunkSize` applies to SQLite runs only: a PostgreSQL run plans its chunks by bytes: use `maxChunkBytes`/],
    [{ db: pg, synchronous: 'FULL' }, /`synchronous` applies to SQLite runs only/],
    [{ db: pg, busyTimeoutMs: 100 }, /`busyTimeoutMs` applies to SQLite runs only/],
    [{ db: pg, maxBusyWaitMs: 100 }, /`maxBusyWaitMs` applies to SQLite runs only/],
    [{ db: pg, resume: 'r', force: true }, /`force` applies to SQLite runs only/],
    [{ dbPath: 'x.sqlite', leaseMs: 5000 }, /`leaseMs` applies to PostgreSQL runs only: a SQLite run is owned by one process/],
  ])('refuses %p with ERR_INVALID_OPTION instead of ignoring it', (given, message) => {
    expect(() => resolvePipelineOptions({ input: 'feed.ndjson', ...given } as RunPipelineOptions))
      .toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringMatching(message) }));
  });
});
