import { availableParallelism } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { defaultWorkers, resolvePipelineOptions } from '../src/pipeline/options';

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
});
