import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { loadConfig, validateConfig, type AppConfig } from '../config';
import { describeValue } from '../describe';
import { InvalidOptionError, toError } from '../errors';
import { parseDbTarget, type DbTarget } from '../store/target';
import type { Synchronous } from '../store/types';
import { DEFAULT_MAX_REJECT_RATIO } from './reject-ratio';
import type { RunPipelineOptions } from './types';

/** @internal */
export type ResolvedPipelineOptions = Readonly<
  Required<Omit<RunPipelineOptions, 'db' | 'runId' | 'resume' | 'signal' | 'onProgress' | 'workerResourceLimits' | 'maxRejects' | 'maxRejectRatio'>>
  & Pick<RunPipelineOptions, 'runId' | 'resume' | 'signal' | 'onProgress' | 'workerResourceLimits'>
  & { maxRejects: number; config: AppConfig; synchronous: Synchronous }
  /** `Infinity` when disabled (`'none'`). */
  & { maxRejectRatio: number }
  /** Where the run goes. `dbPath` is its SQLite file (absolute, or `:memory:`); empty for a postgres target. */
  & { db: DbTarget }
>;

/**
 * Default lines per chunk: one transaction each. Larger chunks commit less
 * often but hold more in each worker (raw bytes, lines, the staged rows);
 * on 1M lines 10,000-line chunks ran at about the same speed with ~76 MB
 * more peak RSS, and 1,000-line ones commit too often (docs/performance.md).
 */
export const DEFAULT_CHUNK_SIZE = 2_500;

/**
 * Default byte bound of a chunk: far above a chunk of 2,500 ordinary lines
 * (~2 MB), so it only cuts feeds of long lines, whose chunks would otherwise
 * hold gigabytes.
 */
export const DEFAULT_MAX_CHUNK_BYTES = 16 * 1_048_576;

/**
 * Default bytes per chunk on PostgreSQL, where chunks are planned by bytes
 * alone: ~5,000 lines of ~800 bytes, so a few processes of a few workers
 * each find work until the end of a feed of a few hundred MB.
 */
export const PG_DEFAULT_CHUNK_BYTES = 4 * 1_048_576;

/** How long a PostgreSQL run retries a lost or refused connection (see `RunPipelineOptions.maxOutageMs`). */
export const DEFAULT_MAX_OUTAGE_MS = 60_000;
/** Default lease of a claimed chunk on PostgreSQL (see `RunPipelineOptions.leaseMs`). */
export const DEFAULT_LEASE_MS = 30_000;

/**
 * V8 lets an uncapped heap grow far past what a chunk needs before it
 * collects; capping the old generation keeps each worker's footprint near its
 * working set. The young generation trades memory for GC time: 16 MB keeps
 * peak RSS near 250 MB on a 1M-line run, and 48 MB measured no faster
 * (docs/performance.md).
 */
export const DEFAULT_WORKER_LIMITS = Object.freeze({ maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 16 });

/**
 * Default worker threads: the cores, at most 4. Commits are serial, so past a
 * few workers more threads only queue for the write lock while holding their
 * chunks in memory: 16 workers on a 2-core machine used 772 MB and were
 * slower than 2 (docs/performance.md).
 */
export function defaultWorkers(cores: number): number {
  return Math.max(1, Math.min(4, cores));
}

const KEYS = new Set<string>([
  'input', 'db', 'dbPath', 'config', 'runId', 'runType', 'resume', 'force', 'join', 'leaseMs', 'maxOutageMs', 'workers', 'chunkSize', 'maxChunkBytes', 'maxInFlight',
  'synchronous', 'maxRejects', 'maxRejectRatio', 'maxLineBytes', 'parseAll', 'busyTimeoutMs', 'maxBusyWaitMs', 'maxAttempts', 'signal',
  'onProgress', 'progressIntervalMs', 'workerResourceLimits',
]);

/** Applies defaults, validates, cross-checks; the result is frozen. @internal */
export function resolvePipelineOptions(o: RunPipelineOptions): ResolvedPipelineOptions {
  if (o === null || typeof o !== 'object') throw new InvalidOptionError(`Expected an options object, got ${describeValue(o)}`);
  for (const key of Object.keys(o)) {
    if (!KEYS.has(key)) throw new InvalidOptionError(`Unknown option \`${key}\`; expected one of ${[...KEYS].join(', ')}`);
  }
  if (o.input === undefined || o.input === null) throw new InvalidOptionError('Expected `input` (a file path, a Readable or an iterable), got nothing');
  const config = o.config === undefined ? loadConfig() : validateConfig(o.config, 'config', 'ERR_INVALID_OPTION');
  const workers = int('workers', o.workers ?? defaultWorkers(availableParallelism()), 1, 64);
  const synchronous = (o.synchronous ?? 'NORMAL').toUpperCase();
  if (synchronous !== 'NORMAL' && synchronous !== 'FULL') {
    throw new InvalidOptionError(`Expected \`synchronous\` to be 'NORMAL' or 'FULL', got ${describeValue(o.synchronous)}`);
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw new InvalidOptionError(`Expected \`signal\` to be an AbortSignal, got ${describeValue(o.signal)}`);
  if (o.parseAll !== undefined && typeof o.parseAll !== 'boolean') throw new InvalidOptionError(`Expected \`parseAll\` to be a boolean, got ${describeValue(o.parseAll)}`);
  if (o.force !== undefined && typeof o.force !== 'boolean') throw new InvalidOptionError(`Expected \`force\` to be a boolean, got ${describeValue(o.force)}`);
  if (o.force === true && o.resume === undefined) throw new InvalidOptionError('`force` takes over a run being resumed; give `resume` too');
  if (o.join !== undefined && typeof o.join !== 'boolean') throw new InvalidOptionError(`Expected \`join\` to be a boolean, got ${describeValue(o.join)}`);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw new InvalidOptionError(`Expected \`onProgress\` to be a function, got ${describeValue(o.onProgress)}`);
  for (const k of ['runId', 'resume', 'db', 'dbPath', 'runType'] as const) {
    const v = o[k];
    if (v !== undefined && (typeof v !== 'string' || v === '')) throw new InvalidOptionError(`Expected \`${k}\` to be a non-empty string, got ${describeValue(v)}`);
  }
  if (o.runId !== undefined && o.resume !== undefined && o.runId !== o.resume) {
    throw new InvalidOptionError(`\`runId\` (${o.runId}) and \`resume\` (${o.resume}) name different runs; give only \`resume\``);
  }
  const db = dbTarget(o, config);
  refuseOtherBackendOptions(o, db);
  return Object.freeze({
    // Absolute, so the run's settings, its messages and a resume name the same files wherever the process starts.
    input: typeof o.input === 'string' ? resolve(o.input) : o.input,
    db,
    dbPath: db.kind === 'sqlite' ? db.path : '',
    config,
    runId: o.runId,
    runType: o.runType ?? 'batch',
    resume: o.resume,
    force: o.force ?? false,
    join: joinOption(o, db),
    leaseMs: int('leaseMs', o.leaseMs ?? DEFAULT_LEASE_MS, 500, 3_600_000),
    maxOutageMs: int('maxOutageMs', o.maxOutageMs ?? DEFAULT_MAX_OUTAGE_MS, 0, 86_400_000),
    workers,
    chunkSize: int('chunkSize', o.chunkSize ?? DEFAULT_CHUNK_SIZE, 1, 1_000_000),
    // Below 2^30: a chunk's offsets then stay far from 2^31, where Node 20's Buffer#indexOf wraps.
    maxChunkBytes: int('maxChunkBytes', o.maxChunkBytes ?? (db.kind === 'postgres' ? PG_DEFAULT_CHUNK_BYTES : DEFAULT_MAX_CHUNK_BYTES), 1024, 1024 * 1_048_576),
    maxInFlight: int('maxInFlight', o.maxInFlight ?? workers, 1, 1024),
    synchronous,
    maxRejects: o.maxRejects === undefined ? Number.POSITIVE_INFINITY : int('maxRejects', o.maxRejects, 0, Number.MAX_SAFE_INTEGER),
    maxRejectRatio: ratio('maxRejectRatio', o.maxRejectRatio ?? DEFAULT_MAX_REJECT_RATIO),
    maxLineBytes: int('maxLineBytes', o.maxLineBytes ?? 1_048_576, 64, 256 * 1_048_576),
    parseAll: o.parseAll ?? false,
    busyTimeoutMs: int('busyTimeoutMs', o.busyTimeoutMs ?? 5000, 0, 3_600_000),
    maxBusyWaitMs: int('maxBusyWaitMs', o.maxBusyWaitMs ?? 30_000, 0, 3_600_000),
    maxAttempts: int('maxAttempts', o.maxAttempts ?? 3, 1, 100),
    signal: o.signal,
    onProgress: o.onProgress === undefined ? undefined : isolated(o.onProgress),
    progressIntervalMs: int('progressIntervalMs', o.progressIntervalMs ?? 500, 0, 3_600_000),
    workerResourceLimits: resourceLimits(o.workerResourceLimits) ?? DEFAULT_WORKER_LIMITS,
  });
}

/**
 * `db`, else `dbPath`, else `config.dbPath`, read by `parseDbTarget`; a
 * SQLite path made absolute. Only `db` may be a postgres URL. Also what
 * `renderRunReport` opens. @internal
 */
export function dbTarget(o: Pick<RunPipelineOptions, 'db' | 'dbPath'>, config: AppConfig): DbTarget {
  if (o.db !== undefined && o.dbPath !== undefined) {
    // Not echoed: `db` may hold a password.
    throw new InvalidOptionError('Give `db` or `dbPath`, not both (`dbPath` is a SQLite file; `db` is a postgres:// URL or a SQLite file)');
  }
  let target: DbTarget;
  if (o.db !== undefined) target = parseDbTarget(o.db, '`db`');
  else {
    const what = o.dbPath === undefined ? '`config.dbPath` (BRAND_ORCH_DB_PATH)' : '`dbPath`';
    target = parseDbTarget(o.dbPath ?? config.dbPath, what);
    if (target.kind === 'postgres') throw new InvalidOptionError(`Expected ${what} to be a SQLite file; give a postgres:// URL as \`db\`, got ${target.label}`);
  }
  if (target.kind === 'postgres' || target.path === ':memory:') return target;
  return { kind: 'sqlite', path: resolve(target.path) };
}

function int(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new InvalidOptionError(`Expected \`${name}\` to be an integer ${range}, got ${describeValue(v)}`);
  }
  return v;
}

function ratio(name: string, v: unknown): number {
  if (v === 'none') return Number.POSITIVE_INFINITY;
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new InvalidOptionError(`Expected \`${name}\` to be a number from 0 to 1 or 'none', got ${describeValue(v)}`);
  return v;
}

/**
 * `onProgress` as the scheduler calls it: a callback that throws is the
 * caller's bug, not the run's failure. The first throw becomes one process
 * warning (code `BO_ON_PROGRESS_THREW`); the run and later calls go on.
 */
function isolated(cb: NonNullable<RunPipelineOptions['onProgress']>): NonNullable<RunPipelineOptions['onProgress']> {
  let warned = false;
  return (event) => {
    try {
      cb(event);
    } catch (err) {
      if (warned) return;
      warned = true;
      process.emitWarning(`onProgress threw (${toError(err).message}); the run goes on, and so do later calls`, { code: 'BO_ON_PROGRESS_THREW' });
    }
  };
}

const LIMIT_KEYS = ['maxOldGenerationSizeMb', 'maxYoungGenerationSizeMb', 'codeRangeSizeMb', 'stackSizeMb'] as const;

/** `workerResourceLimits`: Node's `ResourceLimits`, each given limit a positive finite number. */
function resourceLimits(v: RunPipelineOptions['workerResourceLimits']): RunPipelineOptions['workerResourceLimits'] {
  if (v === undefined) return undefined;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new InvalidOptionError(`Expected \`workerResourceLimits\` to be an object, got ${describeValue(v)}`);
  for (const [k, n] of Object.entries(v)) {
    if (!(LIMIT_KEYS as readonly string[]).includes(k)) {
      throw new InvalidOptionError(`Unknown key \`workerResourceLimits.${k}\`; expected ${LIMIT_KEYS.join(', ')}`);
    }
    if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) {
      throw new InvalidOptionError(`Expected \`workerResourceLimits.${k}\` to be a positive number (MB), got ${describeValue(n)}`);
    }
  }
  return Object.freeze({ ...v });
}

/** Options that mean something on one backend only: given for the other, they are refused, never silently ignored. */
const SQLITE_ONLY = {
  chunkSize: 'a PostgreSQL run plans its chunks by bytes: use `maxChunkBytes`',
  synchronous: 'PostgreSQL commits durably by its own settings (synchronous_commit)',
  busyTimeoutMs: 'PostgreSQL waits for row locks, it has no busy database',
  maxBusyWaitMs: 'PostgreSQL waits for row locks, it has no busy database',
  force: 'a PostgreSQL run is shared through chunk leases: `join` it, or resume it once its leases have run out',
} as const;
const POSTGRES_ONLY = {
  leaseMs: 'a SQLite run is owned by one process and has no chunk leases',
  maxOutageMs: 'a SQLite file has no connection to lose',
} as const;

function refuseOtherBackendOptions(o: RunPipelineOptions, db: DbTarget): void {
  const [other, theirs] = db.kind === 'postgres' ? ['SQLite', SQLITE_ONLY] as const : ['PostgreSQL', POSTGRES_ONLY] as const;
  for (const [key, why] of Object.entries(theirs)) {
    if (o[key as keyof RunPipelineOptions] !== undefined) {
      throw new InvalidOptionError(`\`${key}\` applies to ${other} runs only: ${why}`);
    }
  }
}

/** `join` shares a run among processes: PostgreSQL only, and every process must name the run. */
function joinOption(o: RunPipelineOptions, db: DbTarget): boolean {
  if (o.join !== true) return false;
  if (db.kind !== 'postgres') throw new InvalidOptionError('`join` shares a run among processes on a PostgreSQL database; a SQLite file serves one machine');
  if (o.runId === undefined) throw new InvalidOptionError('`join` needs `runId`: every process of a shared run gives the same one');
  if (o.resume !== undefined) throw new InvalidOptionError('Give `join` or `resume`, not both: joining a run resumes it too');
  return true;
}
