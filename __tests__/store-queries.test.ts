import { StateStore } from '../src/sqlite';
import type { Reject } from '../src/domain/types';
import type { BrandOrchestratorError } from '../src/errors';
import { commitChunk, tempDir } from './helpers/tmp';

let t: ReturnType<typeof tempDir>;
beforeEach(() => { t = tempDir('bo-queries-'); });
afterEach(() => t.cleanup());

function failure(fn: () => unknown): BrandOrchestratorError {
  try { fn(); } catch (e) { return e as BrandOrchestratorError; }
  throw new Error('expected a throw');
}

describe('StateStore#resolveRun()', () => {
  it('takes an exact id, `latest` (the most recently started run) or a unique id prefix', () => {
    using store = StateStore.open(t.db);
    for (const runId of ['abc-1', 'abd-2', 'x%_y']) store.startRun({ runId, runType: 'batch' });
    expect(store.resolveRun('abc-1').runId).toBe('abc-1');
    expect(store.resolveRun('latest').runId).toBe('x%_y');
    expect(store.resolveRun('abd').runId).toBe('abd-2');
    expect(store.resolveRun('x%').runId).toBe('x%_y'); // LIKE wildcards are plain characters
  });

  it('prefers a run whose id is exactly the reference, even one named `latest`', () => {
    using store = StateStore.open(t.db);
    store.startRun({ runId: 'latest', runType: 'batch' });
    store.startRun({ runId: 'newer', runType: 'batch' });
    expect(store.resolveRun('latest').runId).toBe('latest');
  });

  it('fails with ERR_RUN_AMBIGUOUS naming the candidates, and ERR_RUN_NOT_FOUND for no match or no runs', () => {
    using store = StateStore.open(t.db);
    expect(failure(() => store.resolveRun('latest'))).toMatchObject({ code: 'ERR_RUN_NOT_FOUND', message: expect.stringMatching(/no run yet/) });
    store.startRun({ runId: 'abc-1', runType: 'batch' });
    store.startRun({ runId: 'abd-2', runType: 'batch' });
    expect(failure(() => store.resolveRun('ab'))).toMatchObject({ code: 'ERR_RUN_AMBIGUOUS', message: expect.stringMatching(/"abd-2", "abc-1"/) });
    expect(failure(() => store.resolveRun('zz'))).toMatchObject({ code: 'ERR_RUN_NOT_FOUND' });
    expect(failure(() => store.resolveRun(''))).toMatchObject({ code: 'ERR_RUN_NOT_FOUND' });
  });
});

describe('StateStore#rejectCounts() / #rejectExamples()', () => {
  it('counts a run\'s rejects per code, most frequent first, and lists the first few of a code in line order', () => {
    using store = StateStore.open(t.db);
    const run = store.startRun({ runType: 'batch' });
    const other = store.startRun({ runType: 'batch' });
    const rejects: Reject[] = [5, 1, 9, 3].map((lineNo) => ({ lineNo, code: 'invalid_json', reason: `bad ${lineNo}`, excerpt: '{' }));
    rejects.push({ lineNo: 7, code: 'missing_field', reason: 'no title', excerpt: '{}' });
    const meta = { chunkIndex: 0, firstLineNo: 1, lineCount: 9, byteStart: 0, byteEnd: 90, checksum: 'c' };
    commitChunk(t.db, run.runId, { meta, rows: [], blankLines: 4, rejects });
    commitChunk(t.db, other.runId, { meta, rows: [], blankLines: 8, rejects: [{ lineNo: 2, code: 'wrong_type', reason: 'r', excerpt: 'e' }] });
    expect(store.rejectCounts(run.runId)).toEqual([{ code: 'invalid_json', count: 4 }, { code: 'missing_field', count: 1 }]);
    expect(store.rejectExamples(run.runId, 'invalid_json', 2)).toEqual([
      { lineNo: 1, code: 'invalid_json', reason: 'bad 1', excerpt: '{' }, { lineNo: 3, code: 'invalid_json', reason: 'bad 3', excerpt: '{' },
    ]);
    expect(store.rejectCounts('nope')).toEqual([]);
  });
});
