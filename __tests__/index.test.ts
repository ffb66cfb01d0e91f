import * as api from '../src/index';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

describe('package root', () => {
  it('exports the public API by name and nothing internal', () => {
    expect(Object.keys(api).sort()).toEqual([
      'BrandOrchestratorError', 'BusyError', 'CancelledError', 'DEFAULT_CHUNK_SIZE', 'DEFAULT_CONFIG', 'Gate', 'InputError',
      'InvalidOptionError', 'LOG_LEVELS', 'QualityGate', 'SCHEMA_VERSION', 'StateStore', 'StoreError', 'TooManyRejectsError',
      'TrendGate', 'TrendScorer', 'VERSION', 'WorkerError', 'applyModifiers', 'asDict', 'clamp', 'contentHash', 'decide',
      'generateLines', 'loadConfig', 'parseIntelLine', 'renderRunReport', 'runPipeline', 'trendScore', 'writeFeed',
    ]);
  });

  it('reports the version of package.json', () => {
    const pkg = JSON.parse(readFileSync(resolve(__dirname, '../package.json'), 'utf8')) as { version: string };
    expect(api.VERSION).toBe(pkg.version);
  });
});
