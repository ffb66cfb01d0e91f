import { asDict, loadConfig, DEFAULT_CONFIG, type AppConfig } from '../src/config';

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
    expect(() => loadConfig({}, { thresholds: { watch: Number.NaN } })).toThrow(/`watch` to be a finite number/);
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
