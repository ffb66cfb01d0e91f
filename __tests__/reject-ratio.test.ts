import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPipeline } from '../src/backend';
import type { PipelineFailure } from '../src/pipeline';
import { StateStore } from '../src/sqlite';
import { itemLine } from './helpers/lines';
import { tempDir } from './helpers/tmp';

let t: ReturnType<typeof tempDir>;
beforeEach(() => { t = tempDir('bo-ratio-'); });
afterEach(() => t.cleanup());

/** `good` valid lines, then `bad` lines that are not JSON, then `blank` blank lines. */
function feed(good: number, bad: number, blank = 0): string {
  const lines = [
    ...Array.from({ length: good }, (_, i) => itemLine(`ok-${i}`)),
    ...Array.from({ length: bad }, (_, i) => `not json ${i}`),
    ...Array.from({ length: blank }, () => ''),
  ];
  const p = join(t.dir, 'feed.ndjson');
  writeFileSync(p, `${lines.join('\n')}\n`);
  return p;
}

async function failure(p: Promise<unknown>): Promise<PipelineFailure> {
  const e = await p.then(() => undefined, (err: unknown) => err as PipelineFailure);
  if (e === undefined) throw new Error('expected the run to fail');
  return e;
}

describe('runPipeline({maxRejectRatio})', () => {
  it('fails a run that rejected more than half its non-blank lines by default, keeping every valid line', async () => {
    const e = await failure(runPipeline({ input: feed(40, 60, 50), dbPath: t.db, workers: 2, chunkSize: 25, runId: 'wrong-format' }));
    expect(e.code).toBe('ERR_TOO_MANY_REJECTS');
    expect(e.message).toMatch(/^60 of 100 non-blank lines \(60%\) were rejected, more than maxRejectRatio \(50%\)/);
    expect(e.summary).toMatchObject({ status: 'failed', linesRead: 150, inserted: 40, rejected: 60, blankLines: 50 });
    using store = StateStore.open(t.db);
    expect(store.getRun('wrong-format')).toMatchObject({ status: 'failed', notes: expect.stringMatching(/^ERR_TOO_MANY_REJECTS: 60 of 100/) });
    expect(store.countItems()).toBe(40);
  });

  it('completes a run at exactly the limit, and one under a higher limit', async () => {
    await expect(runPipeline({ input: feed(50, 50), dbPath: t.db, workers: 1 })).resolves.toMatchObject({ status: 'completed', rejected: 50 });
    await expect(runPipeline({ input: feed(10, 80), dbPath: t.db, workers: 1, maxRejectRatio: 0.9 })).resolves.toMatchObject({ status: 'completed' });
    const e = await failure(runPipeline({ input: feed(10, 80), dbPath: t.db, workers: 1, maxRejectRatio: 0.1 }));
    expect(e.code).toBe('ERR_TOO_MANY_REJECTS');
  });

  it("is disabled by 'none': a feed of nothing but rejects completes", async () => {
    await expect(runPipeline({ input: feed(0, 30), dbPath: t.db, workers: 1, maxRejectRatio: 'none' }))
      .resolves.toMatchObject({ status: 'completed', rejected: 30 });
  });

  it('counts the whole run on resume: a failed run completes when resumed with a higher limit', async () => {
    const input = feed(20, 80);
    await failure(runPipeline({ input, dbPath: t.db, workers: 1, chunkSize: 10, runId: 'r' }));
    const again = await failure(runPipeline({ input, dbPath: t.db, workers: 1, resume: 'r' }));
    expect(again.code).toBe('ERR_TOO_MANY_REJECTS');
    await expect(runPipeline({ input, dbPath: t.db, workers: 1, resume: 'r', maxRejectRatio: 'none' }))
      .resolves.toMatchObject({ status: 'completed', resumedChunks: 10, rejected: 80 });
  });

  it('rejects a ratio outside 0..1 with a message naming the option and the value', async () => {
    await expect(runPipeline({ input: 'x', maxRejectRatio: 1.5 })).rejects.toThrow("Expected `maxRejectRatio` to be a number from 0 to 1 or 'none', got 1.5 (number)");
    await expect(runPipeline({ input: 'x', maxRejectRatio: 'all' as never })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
  });
});
