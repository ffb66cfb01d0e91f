import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { checkReport, currentRatios, describeVerdict } from '../bench/check';
import { ACTION_FILES, BETTER_BY_UNIT, writeResults, type BenchResult } from '../bench/lib/results';
import { tempDir } from './helpers/tmp';

let t: ReturnType<typeof tempDir>;
beforeEach(() => { t = tempDir('bo-bench-results-'); });
afterEach(() => t.cleanup());

const pipeline: BenchResult[] = [
  { name: 'pipeline-2w', unit: 'items/s', value: 34877, range: '', extra: 'median of 3, 200000 lines' },
  { name: 'ratio: pipeline-2w / reference', unit: 'x', value: 1.52, range: '1.48-1.55', extra: '' },
  { name: 'pipeline-2w pool utilisation', unit: 'share', value: 0.89, range: '', extra: '', better: 'bigger' },
  { name: 'pipeline-2w write-lock share', unit: 'share', value: 0.57, range: '', extra: '', better: 'none' },
];
const parse: BenchResult[] = [
  { name: 'parseIntelLine', unit: 'items/s', value: 92541, range: '±2.1%', extra: '' },
  { name: 'cost ratio: parseIntelLine / baseline', unit: 'x cost', value: 1.88, range: '±3.0%', extra: '' },
];
const memory: BenchResult[] = [{ name: 'peak RSS, 100000 lines', unit: 'MB', value: 233, range: '', extra: 'median of 3' }];
const peers: BenchResult[] = [
  { name: 'ingest (defaults): wall', unit: 's', value: 6.1, range: '', extra: '' },
  { name: 'ingest (defaults): CPU per item', unit: 'µs', value: 51.2, range: '', extra: '' },
  { name: 'query one run: with index', unit: 'ms', value: 4.2, range: '', extra: '' },
];

function read(which: 'bigger' | 'smaller'): unknown {
  return JSON.parse(readFileSync(join(t.dir, ACTION_FILES[which]), 'utf8')) as unknown;
}

/** github-action-benchmark's custom tools: an array of {name, unit, value, range?, extra?}, nothing else. */
function expectActionShape(file: unknown): Array<Record<string, unknown>> {
  expect(Array.isArray(file)).toBe(true);
  const entries = file as Array<Record<string, unknown>>;
  for (const e of entries) {
    expect(Object.keys(e).every((k) => ['name', 'unit', 'value', 'range', 'extra'].includes(k))).toBe(true);
    expect(typeof e.name).toBe('string');
    expect(typeof e.unit).toBe('string');
    expect(Number.isFinite(e.value)).toBe(true);
    if ('range' in e) expect(typeof e.range).toBe('string');
    if ('extra' in e) expect(typeof e.extra).toBe('string');
  }
  expect(new Set(entries.map((e) => e.name)).size).toBe(entries.length);
  return entries;
}

describe('writeResults()', () => {
  it('writes items/s and speed ratios to the bigger-is-better file, times, MB, µs and cost ratios to the smaller-is-better one', () => {
    writeResults('pipeline', pipeline, t.dir);
    writeResults('parse', parse, t.dir);
    writeResults('memory', memory, t.dir);
    writeResults('peers', peers, t.dir);
    const bigger = expectActionShape(read('bigger'));
    const smaller = expectActionShape(read('smaller'));
    expect(bigger.map((e) => [e.name, e.unit])).toEqual([
      ['pipeline: pipeline-2w', 'items/s'], ['pipeline: ratio: pipeline-2w / reference', 'x'],
      ['pipeline: pipeline-2w pool utilisation', 'share'], ['parse: parseIntelLine', 'items/s'],
    ]);
    expect(smaller.map((e) => [e.name, e.unit])).toEqual([
      ['parse: cost ratio: parseIntelLine / baseline', 'x cost'], ['memory: peak RSS, 100000 lines', 'MB'],
      ['peers: ingest (defaults): wall', 's'], ['peers: ingest (defaults): CPU per item', 'µs'], ['peers: query one run: with index', 'ms'],
    ]);
  });

  it('keeps range and extra when set and leaves them out when empty', () => {
    writeResults('pipeline', pipeline, t.dir);
    const [first, second] = expectActionShape(read('bigger'));
    expect(first).toEqual({ name: 'pipeline: pipeline-2w', unit: 'items/s', value: 34877, extra: 'median of 3, 200000 lines' });
    expect(second).toEqual({ name: 'pipeline: ratio: pipeline-2w / reference', unit: 'x', value: 1.52, range: '1.48-1.55' });
  });

  it('leaves a result without a direction out of both files but keeps it in the suite\'s own file', () => {
    writeResults('pipeline', pipeline, t.dir);
    const names = [...expectActionShape(read('bigger')), ...expectActionShape(read('smaller'))].map((e) => e.name);
    expect(names).not.toContain('pipeline: pipeline-2w write-lock share');
    const own = JSON.parse(readFileSync(join(t.dir, 'pipeline.json'), 'utf8')) as BenchResult[];
    expect(own).toEqual(pipeline);
    expect(existsSync(join(t.dir, 'pipeline.machine.json'))).toBe(true);
  });

  it('replaces a suite\'s earlier entries and keeps the other suites\'', () => {
    writeResults('pipeline', pipeline, t.dir);
    writeResults('parse', parse, t.dir);
    writeResults('pipeline', [{ name: 'pipeline-1w', unit: 'items/s', value: 21717, range: '', extra: '' }], t.dir);
    expect(expectActionShape(read('bigger')).map((e) => e.name)).toEqual(['parse: parseIntelLine', 'pipeline: pipeline-1w']);
    expect(expectActionShape(read('smaller')).map((e) => e.name)).toEqual(['parse: cost ratio: parseIntelLine / baseline']);
  });

  it('refuses a value that is not a finite number, or a unit without a direction, before writing anything', () => {
    expect(() => writeResults('pipeline', [{ name: 'pipeline-2w', unit: 'items/s', value: Number.NaN, range: '', extra: '' }], t.dir))
      .toThrow('Result "pipeline-2w" of pipeline is not a finite number: NaN');
    expect(() => writeResults('pipeline', [{ name: 'load', unit: 'share', value: 0.5, range: '', extra: '' }], t.dir))
      .toThrow('Result "load": unit "share" has no known direction; give it `better`');
    expect(existsSync(join(t.dir, 'pipeline.json'))).toBe(false);
    expect(existsSync(join(t.dir, ACTION_FILES.bigger))).toBe(false);
  });

  it('knows a direction for every unit the bench suites write (a share names its own)', () => {
    const benchDir = join(__dirname, '..', 'bench');
    const units = readdirSync(benchDir).filter((f) => f.endsWith('.bench.ts'))
      .flatMap((f) => [...readFileSync(join(benchDir, f), 'utf8').matchAll(/unit: '([^']+)'/g)].map((m) => m[1] as string));
    expect(units.length).toBeGreaterThan(10);
    expect([...new Set(units)].filter((u) => u !== 'share' && BETTER_BY_UNIT[u] === undefined)).toEqual([]);
  });
});

describe('currentRatios()', () => {
  it('reads every speed ratio of the suites, leaving out those marked gate: false', () => {
    writeResults('seed-claims', [
      { name: 'ratio: batch / per-item, original (DELETE, FULL)', unit: 'x', value: 94.5, range: '', extra: '', gate: false },
      { name: 'ratio: batch / per-item, ours (WAL, NORMAL)', unit: 'x', value: 7.1, range: '', extra: '' },
      { name: 'query one run: with index', unit: 'ms', value: 4.2, range: '', extra: '' },
    ], t.dir);
    writeResults('parse', parse, t.dir);
    expect(currentRatios(['seed-claims', 'parse'], t.dir)).toEqual({ 'seed-claims: ratio: batch / per-item, ours (WAL, NORMAL)': 7.1 });
    expect(expectActionShape(read('bigger')).map((e) => e.name)).toContain('seed-claims: ratio: batch / per-item, original (DELETE, FULL)');
  });

  it('names the suite whose results are missing', () => {
    expect(() => currentRatios(['memory'], t.dir)).toThrow(/no results for memory: .*memory\.json is missing/);
  });
});

describe('checkReport()', () => {
  const base = { 'a: ratio': 1.0, 'b: ratio': 2.0, 'c: ratio': 4.0, 'gone: ratio': 1.0 };
  const cur = { 'a: ratio': 0.95, 'b: ratio': 1.6, 'c: ratio': 2.0, 'new: ratio': 3.0 };

  it('fails on a ratio that dropped past the tolerance or went missing, naming each and by how much', () => {
    const r = checkReport('quick', base, cur, 0.1, 0.3);
    expect(r.passed).toBe(false);
    expect(r.regressions.map((v) => [v.name, v.status, v.change])).toEqual([['c: ratio', 'FAIL', -0.5], ['gone: ratio', 'missing', null]]);
    expect(r.warnings.map((v) => [v.name, v.change])).toEqual([['b: ratio', -0.2]]);
    expect(r.verdicts.find((v) => v.name === 'new: ratio')?.status).toBe('new');
    expect(r.regressions.map(describeVerdict)).toEqual(['c: ratio: 4 -> 2 (-50.0%)', 'gone: ratio: missing (baseline 1); no suite wrote it']);
  });

  it('passes when every ratio stays within the tolerance, and serialises to plain JSON', () => {
    const r = checkReport('full', { 'a: ratio': 1.0 }, { 'a: ratio': 0.8 }, 0.1, 0.25);
    expect(r).toMatchObject({ mode: 'full', passed: true, regressions: [], warnings: [{ name: 'a: ratio', change: -0.2, status: 'warn' }] });
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });
});
