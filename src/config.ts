/**
 * Immutable application config (spec section 5). Resolved once at the
 * boundary by {@link loadConfig}; every object in it is frozen.
 */
import { describeValue } from './describe';
import { InvalidOptionError } from './errors';

export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The other usual spellings (syslog's, pino's, Python's), accepted in any case like the names above. */
const LEVEL_ALIASES: Readonly<Record<string, LogLevel>> = { WARN: 'WARNING', ERR: 'ERROR', CRIT: 'CRITICAL', FATAL: 'CRITICAL' };

export interface ScoreWeights {
  readonly impact: number;
  readonly timeliness: number;
  readonly virality: number;
  readonly relevance: number;
  readonly confidence: number;
}

export interface Thresholds {
  /** @defaultValue 75 */
  readonly mustCover: number;
  /** @defaultValue 60 */
  readonly optional: number;
  /** @defaultValue 45 */
  readonly watch: number;
  /** @defaultValue 6 */
  readonly minConfidencePromote: number;
  /** @defaultValue 3 */
  readonly minConfidenceMonitor: number;
}

export interface BrandProfile {
  readonly pillars: readonly string[];
  readonly forbiddenTactics: readonly string[];
  readonly alwaysCoverTriggers: readonly string[];
}

export interface SourcePolicy {
  readonly tierADomains: readonly string[];
}

export interface AppConfig {
  /** @defaultValue `./data/brand_orchestrator.sqlite` (env `BRAND_ORCH_DB_PATH`) */
  readonly dbPath: string;
  /** @defaultValue `./artifacts` (env `BRAND_ORCH_ARTIFACTS_DIR`) */
  readonly artifactsDir: string;
  /** @defaultValue `INFO` (env `BRAND_ORCH_LOG_LEVEL`) */
  readonly logLevel: LogLevel;
  readonly brand: BrandProfile;
  readonly weights: ScoreWeights;
  readonly thresholds: Thresholds;
  readonly sourcePolicy: SourcePolicy;
}

/** Plain snake_case snapshot returned by {@link asDict}, keys as the original. */
export interface ConfigDict {
  readonly db_path: string;
  readonly artifacts_dir: string;
  readonly log_level: LogLevel;
  readonly brand: {
    readonly pillars: readonly string[];
    readonly forbidden_tactics: readonly string[];
    readonly always_cover_triggers: readonly string[];
  };
  readonly weights: ScoreWeights;
  readonly thresholds: {
    readonly must_cover: number;
    readonly optional: number;
    readonly watch: number;
    readonly min_confidence_promote: number;
    readonly min_confidence_monitor: number;
  };
  readonly source_policy: { readonly tier_a_domains: readonly string[] };
}

export type ConfigOverrides = {
  readonly dbPath?: string;
  readonly artifactsDir?: string;
  readonly logLevel?: LogLevel;
  readonly brand?: Partial<BrandProfile>;
  readonly weights?: Partial<ScoreWeights>;
  readonly thresholds?: Partial<Thresholds>;
  readonly sourcePolicy?: Partial<SourcePolicy>;
};

export const DEFAULT_CONFIG: AppConfig = deepFreeze({
  dbPath: './data/brand_orchestrator.sqlite',
  artifactsDir: './artifacts',
  logLevel: 'INFO',
  brand: {
    pillars: ['material_analysis', 'institutional_critique', 'internet_culture_and_ideology', 'geopolitical_power_structures'],
    forbiddenTactics: ['harassment', 'doxxing', 'pile_on_private_individuals', 'speculative_accusations_without_evidence'],
    alwaysCoverTriggers: [
      'major_labor_action', 'supreme_court_ruling', 'budget_legislation',
      'war_escalation', 'corporate_exploitation_scandal', 'platform_censorship_shift',
    ],
  },
  weights: { impact: 25, timeliness: 20, virality: 15, relevance: 25, confidence: 10 },
  thresholds: { mustCover: 75, optional: 60, watch: 45, minConfidencePromote: 6, minConfidenceMonitor: 3 },
  sourcePolicy: {
    tierADomains: [
      'reuters.com', 'apnews.com', 'bbc.co.uk', 'bbc.com', 'theguardian.com', 'cnn.com', 'nytimes.com',
      'washingtonpost.com', 'wsj.com', 'economist.com', 'gov', 'gc.ca', 'canada.ca', 'whitehouse.gov', 'supremecourt.gov',
    ],
  },
} satisfies AppConfig);

const OVERRIDE_KEYS = new Set(['dbPath', 'artifactsDir', 'logLevel', 'brand', 'weights', 'thresholds', 'sourcePolicy']);

/**
 * Resolves the config: defaults, then environment, then `overrides`.
 * Creates no directories (that is the store's job when it opens).
 *
 * @example
 * const config = loadConfig(process.env, { thresholds: { watch: 40 } });
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: ConfigOverrides = {}): AppConfig {
  for (const key of Object.keys(overrides)) {
    if (!OVERRIDE_KEYS.has(key)) {
      throw new InvalidOptionError(`Unknown config override \`${key}\`; expected one of ${[...OVERRIDE_KEYS].join(', ')}`, 'ERR_INVALID_CONFIG');
    }
  }
  const envLevel = nonEmpty(env.BRAND_ORCH_LOG_LEVEL?.trim());
  const logLevel = overrides.logLevel !== undefined
    ? parseLevel(overrides.logLevel, '`logLevel`')
    : envLevel !== undefined ? parseLevel(envLevel, 'BRAND_ORCH_LOG_LEVEL') : undefined;
  const d = DEFAULT_CONFIG;
  const config: AppConfig = {
    dbPath: overrides.dbPath ?? nonEmpty(env.BRAND_ORCH_DB_PATH) ?? d.dbPath,
    artifactsDir: overrides.artifactsDir ?? nonEmpty(env.BRAND_ORCH_ARTIFACTS_DIR) ?? d.artifactsDir,
    logLevel: logLevel ?? d.logLevel,
    brand: { ...d.brand, ...overrides.brand },
    weights: { ...d.weights, ...overrides.weights },
    thresholds: { ...d.thresholds, ...overrides.thresholds },
    sourcePolicy: { ...d.sourcePolicy, ...overrides.sourcePolicy },
  };
  return validateConfig(config, 'config', 'ERR_INVALID_CONFIG');
}

/** Every key of a config and the checks of its leaves: one table, so no key is forgotten and none unknown passes. */
const STRING_LIST = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string') ? undefined : 'a list of strings';
const NON_EMPTY = (v: unknown) => typeof v === 'string' && v.length > 0 ? undefined : 'a non-empty string';
const LEVEL = (v: unknown) => (LOG_LEVELS as readonly unknown[]).includes(v) ? undefined : `one of ${LOG_LEVELS.join(', ')}`;
const range = (lo: number, hi: number) => (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi
  ? undefined : `a finite number from ${lo} to ${hi}`;
const WEIGHT = range(0, 1e6);
const SCORE = range(0, 100);
const CONFIDENCE = range(0, 10);
type Check = (v: unknown) => string | undefined;
const SHAPE: Readonly<Record<string, Check | Readonly<Record<string, Check>>>> = {
  dbPath: NON_EMPTY, artifactsDir: NON_EMPTY, logLevel: LEVEL,
  brand: { pillars: STRING_LIST, forbiddenTactics: STRING_LIST, alwaysCoverTriggers: STRING_LIST },
  weights: { impact: WEIGHT, timeliness: WEIGHT, virality: WEIGHT, relevance: WEIGHT, confidence: WEIGHT },
  thresholds: { mustCover: SCORE, optional: SCORE, watch: SCORE, minConfidencePromote: CONFIDENCE, minConfidenceMonitor: CONFIDENCE },
  sourcePolicy: { tierADomains: STRING_LIST },
};

/**
 * Checks a whole config (every key present, no unknown key, each value of
 * its type and range, weights not all zero) and returns a frozen copy: a
 * config that would store rows no one can read back (a NaN score) is
 * refused before a run starts. `what` names it in messages, `code` is the
 * error's code.
 *
 * @example
 * validateConfig({ ...loadConfig(), weights: { ...w, impact: NaN } }, 'config', 'ERR_INVALID_OPTION');
 * // throws: Expected `config.weights.impact` to be a finite number from 0 to 1000000, got NaN (number)
 */
export function validateConfig(value: unknown, what: string, code: 'ERR_INVALID_CONFIG' | 'ERR_INVALID_OPTION'): AppConfig {
  const fail = (path: string, expected: string, got: unknown): never => {
    throw new InvalidOptionError(`Expected \`${path}\` to be ${expected}, got ${describeValue(got)}`, code);
  };
  const walk = (v: unknown, shape: Readonly<Record<string, Check | Readonly<Record<string, Check>>>>, path: string): void => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(path, 'an object', v);
    const obj = v as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      if (!(key in shape)) {
        throw new InvalidOptionError(`Unknown key \`${path}.${key}\`; expected ${Object.keys(shape).join(', ')}`, code);
      }
    }
    for (const [key, check] of Object.entries(shape)) {
      if (!(key in obj)) throw new InvalidOptionError(`Missing key \`${path}.${key}\` (pass a whole config, e.g. from loadConfig())`, code);
      if (typeof check === 'function') {
        const expected = check(obj[key]);
        if (expected !== undefined) fail(`${path}.${key}`, expected, obj[key]);
      } else walk(obj[key], check, `${path}.${key}`);
    }
  };
  walk(value, SHAPE, what);
  const config = value as AppConfig;
  if (Object.values(config.weights).every((w) => w === 0)) fail(`${what}.weights`, 'weights not all 0 (the trend score divides by their sum)', config.weights);
  return deepFreeze(structuredClone(config));
}

const dictCache = new WeakMap<AppConfig, ConfigDict>();

/**
 * A plain, deeply frozen snake_case snapshot of `config`, cached per config
 * object: repeated calls return the same object in O(1).
 */
export function asDict(config: AppConfig): ConfigDict {
  let dict = dictCache.get(config);
  if (dict === undefined) {
    dict = buildDict(config);
    dictCache.set(config, dict);
  }
  return dict;
}

/** The uncached work behind {@link asDict} (exported for the benchmark that compares the two). */
export function buildDict(config: AppConfig): ConfigDict {
  return deepFreeze({
    db_path: config.dbPath,
    artifacts_dir: config.artifactsDir,
    log_level: config.logLevel,
    brand: {
      pillars: [...config.brand.pillars],
      forbidden_tactics: [...config.brand.forbiddenTactics],
      always_cover_triggers: [...config.brand.alwaysCoverTriggers],
    },
    weights: { ...config.weights },
    thresholds: {
      must_cover: config.thresholds.mustCover,
      optional: config.thresholds.optional,
      watch: config.thresholds.watch,
      min_confidence_promote: config.thresholds.minConfidencePromote,
      min_confidence_monitor: config.thresholds.minConfidenceMonitor,
    },
    source_policy: { tier_a_domains: [...config.sourcePolicy.tierADomains] },
  });
}

/** A level name or alias in any case (`warn`, `Warning`, `FATAL`) as one of {@link LOG_LEVELS}. */
function parseLevel(raw: unknown, source: string): LogLevel {
  const name = typeof raw === 'string' ? raw.toUpperCase() : '';
  const level = (LOG_LEVELS as readonly string[]).includes(name) ? (name as LogLevel) : LEVEL_ALIASES[name];
  if (level === undefined) {
    throw new InvalidOptionError(
      `Invalid log level in ${source}: expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(raw)}`
      + ` (any case; ${Object.keys(LEVEL_ALIASES).join(', ')} are accepted too)`,
      'ERR_INVALID_CONFIG',
    );
  }
  return level;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

/** Freezes `value` and everything reachable from it. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
