import { asDict, loadConfig, DEFAULT_CONFIG, type AppConfig } from '../src/config';
import { resolvePipelineOptions } from '../src/pipeline/options';

describe('loadConfig()', () => {
  it('returns every default of the spec when the environment is empty', () => {
    const c = loadConfig({});
    expect(c.dbPath).toBe('./data/brand_orchestrator.sqlite');
    expect(c.artifactsDir).toBe('./artifacts');
    expect(c.logLevel).toBe('INFO');
    expect(c.weights).toEqual({ impact: 25, timeliness: 20, virality: 15, relevance: 25, confidence: 10 });
    expect(c.thresholds).toEqual({ mustCover: 75, optional: 60, watch: 45, minConfidencePromote: 6, minConfidenceMonitor: 3 });
    expect(c.brand.forbiddenTactics).toContain('doxxing');
    expect(c.brand.alwaysCoverTriggers).toHaveLength(6);
    expect(c.brand.pillars).toHaveLength(4);
    expect(c.sourcePolicy.tierADomains).toContain('supremecourt.gov');
    expect(c.sourcePolicy.tierADomains).toHaveLength(15);
  });

  it('reads the three environment variables, and overrides win over them', () => {
    const env = { BRAND_ORCH_DB_PATH: '/tmp/x.sqlite', BRAND_ORCH_ARTIFACTS_DIR: '/tmp/art', BRAND_ORCH_LOG_LEVEL: 'debug' };
    expect(loadConfig(env)).toMatchObject({ dbPath: '/tmp/x.sqlite', artifactsDir: '/tmp/art', logLevel: 'DEBUG' });
    expect(loadConfig(env, { dbPath: '/tmp/y.sqlite', thresholds: { watch: 40 } })).toMatchObject({
      dbPath: '/tmp/y.sqlite', thresholds: { watch: 40, mustCover: 75 },
    });
  });

  it('rejects an invalid log level naming the variable and the allowed values', () => {
    expect(() => loadConfig({ BRAND_ORCH_LOG_LEVEL: 'LOUD' })).toThrow(
      'Invalid log level in BRAND_ORCH_LOG_LEVEL: expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got "LOUD"',
    );
  });

  it('accepts the usual spellings of each log level in any case (warn, Warning, err, crit, fatal)', () => {
    const level = (v: string) => loadConfig({ BRAND_ORCH_LOG_LEVEL: v }).logLevel;
    expect(['warn', 'WARN', 'Warning', 'warning'].map(level)).toEqual(['WARNING', 'WARNING', 'WARNING', 'WARNING']);
    expect(['err', 'Error', 'crit', 'critical', 'FATAL', 'fatal', 'Info', ' debug '].map(level))
      .toEqual(['ERROR', 'ERROR', 'CRITICAL', 'CRITICAL', 'CRITICAL', 'CRITICAL', 'INFO', 'DEBUG']);
    expect(loadConfig({}, { logLevel: 'warn' as never }).logLevel).toBe('WARNING');
    expect(loadConfig({ BRAND_ORCH_LOG_LEVEL: '' }).logLevel).toBe('INFO');
  });

  it('rejects misspelled override keys and non-numeric thresholds', () => {
    expect(() => loadConfig({}, { dbpath: 'x' } as never)).toThrow(/Unknown config override `dbpath`/);
    expect(() => loadConfig({}, { thresholds: { watch: Number.NaN } })).toThrow(/`config\.thresholds\.watch` to be a finite number/);
  });

  it('is deeply frozen, including nested arrays', () => {
    const c = loadConfig({});
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.brand.forbiddenTactics)).toBe(true);
    expect(() => { (c.thresholds as { watch: number }).watch = 1; }).toThrow(TypeError);
    expect(Object.isFrozen(DEFAULT_CONFIG.sourcePolicy.tierADomains)).toBe(true);
  });
});

describe('asDict()', () => {
  it('returns the original snake_case keys', () => {
    const d = asDict(loadConfig({}));
    expect(Object.keys(d)).toEqual(['db_path', 'artifacts_dir', 'log_level', 'brand', 'weights', 'thresholds', 'source_policy']);
    expect(d.thresholds).toEqual({ must_cover: 75, optional: 60, watch: 45, min_confidence_promote: 6, min_confidence_monitor: 3 });
    expect(d.brand.always_cover_triggers).toContain('war_escalation');
  });

  it('caches per config object: the same object comes back every time', () => {
    const c = loadConfig({});
    expect(asDict(c)).toBe(asDict(c));
    expect(asDict(loadConfig({}))).not.toBe(asDict(c));
  });

  it('isolates callers: the snapshot is deeply frozen and cannot change the config', () => {
    const c: AppConfig = loadConfig({});
    const d = asDict(c);
    expect(() => { (d.brand.forbidden_tactics as string[]).push('x'); }).toThrow(TypeError);
    expect(() => { (d as { db_path: string }).db_path = 'x'; }).toThrow(TypeError);
    expect(asDict(c).brand.forbidden_tactics).toHaveLength(4);
    expect(d.brand.forbidden_tactics).not.toBe(c.brand.forbiddenTactics);
  });
});

describe('validateConfig() at the runPipeline boundary', () => {
  const base = loadConfig({});
  const run = (config: unknown) => resolvePipelineOptions({ input: 'feed.ndjson', dbPath: 'x.sqlite', config: config as AppConfig });
  it.each([
    ['a NaN weight', { ...base, weights: { ...base.weights, impact: NaN } }, /Expected `config\.weights\.impact` to be a finite number from 0 to 1000000, got NaN \(number\)/],
    ['an infinite threshold', { ...base, thresholds: { ...base.thresholds, watch: Infinity } }, /`config\.thresholds\.watch` to be a finite number from 0 to 100, got Infinity/],
    ['a negative weight', { ...base, weights: { ...base.weights, virality: -5 } }, /`config\.weights\.virality` .* got -5 \(number\)/],
    ['a confidence threshold past its cap', { ...base, thresholds: { ...base.thresholds, minConfidencePromote: 11 } }, /minConfidencePromote` to be a finite number from 0 to 10/],
    ['a string for a number', { ...base, thresholds: { ...base.thresholds, optional: '60' } }, /got "60" \(string\)/],
    ['weights all 0', { ...base, weights: { impact: 0, timeliness: 0, virality: 0, relevance: 0, confidence: 0 } }, /`config\.weights` to be weights not all 0/],
    ['a missing key', { ...base, thresholds: { mustCover: 75 } }, /Missing key `config\.thresholds\.optional`/],
    ['a missing section', (({ brand: _b, ...rest }) => rest)(base), /Missing key `config\.brand`/],
    ['an unknown key', { ...base, weights: { ...base.weights, reach: 3 } }, /Unknown key `config\.weights\.reach`/],
    ['a list of non-strings', { ...base, brand: { ...base.brand, forbiddenTactics: [1] } }, /`config\.brand\.forbiddenTactics` to be a list of strings/],
    ['not an object', 'defaults', /`config` to be an object, got "defaults" \(string\)/],
  ])('refuses %s with ERR_INVALID_OPTION', (_what, config, message) => {
    expect(() => run(config)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringMatching(message) }));
  });

  it('accepts a whole valid config and hands on a frozen copy', () => {
    const given = structuredClone(base) as { thresholds: { watch: number } };
    given.thresholds.watch = 40;
    const resolved = run(given).config;
    expect(resolved.thresholds.watch).toBe(40);
    expect(Object.isFrozen(resolved.thresholds)).toBe(true);
    expect(resolved).not.toBe(given);
  });

  it('refuses out-of-range overrides in loadConfig with ERR_INVALID_CONFIG', () => {
    expect(() => loadConfig({}, { weights: { impact: NaN } })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_CONFIG' }));
    expect(() => loadConfig({}, { thresholds: { watch: 101 } })).toThrow(/`config\.thresholds\.watch` to be a finite number from 0 to 100, got 101/);
  });
});

describe('workerResourceLimits', () => {
  it.each([
    [{ maxOldGenerationSizeMb: -1 }, /`workerResourceLimits\.maxOldGenerationSizeMb` to be a positive number \(MB\), got -1/],
    [{ maxOldGenerationSizeMb: '64' }, /got "64" \(string\)/],
    [{ heapMb: 64 }, /Unknown key `workerResourceLimits\.heapMb`/],
    [42, /`workerResourceLimits` to be an object, got 42 \(number\)/],
  ])('refuses %p with ERR_INVALID_OPTION', (limits, message) => {
    expect(() => resolvePipelineOptions({ input: 'f', dbPath: 'x.sqlite', workerResourceLimits: limits as never }))
      .toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringMatching(message) }));
  });
});
