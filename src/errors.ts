import { types } from 'node:util';

/**
 * Error hierarchy. Every error the library throws carries a stable `code` the
 * caller can switch on; subclasses exist only for meanings a caller acts on.
 */

/** Stable error codes. Part of the public contract: never renamed. */
export type ErrorCode =
  | 'ERR_INVALID_OPTION'
  | 'ERR_INVALID_CONFIG'
  | 'ERR_STORE_CLOSED'
  | 'ERR_SCHEMA_TOO_NEW'
  | 'ERR_RUN_NOT_FOUND'
  | 'ERR_RUN_EXISTS'
  | 'ERR_RUN_AMBIGUOUS'
  | 'ERR_RUN_ACTIVE'
  | 'ERR_RUN_TAKEN_OVER'
  | 'ERR_DB_BUSY'
  | 'ERR_DB_FULL'
  | 'ERR_DB_CORRUPT'
  | 'ERR_DB'
  | 'ERR_DB_UNREACHABLE'
  | 'ERR_DB_AUTH'
  | 'ERR_DB_MISSING'
  | 'ERR_DB_CONNECTION_LOST'
  | 'ERR_TEMP_DIR'
  | 'ERR_INPUT'
  | 'ERR_INPUT_CHANGED'
  | 'ERR_OUTPUT'
  | 'ERR_TOO_MANY_REJECTS'
  | 'ERR_WORKER'
  | 'ERR_CANCELLED'
  | 'ERR_INTERNAL';

export class BrandOrchestratorError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A caller-supplied option or config value is wrong. */
export class InvalidOptionError extends BrandOrchestratorError {
  constructor(message: string, code: 'ERR_INVALID_OPTION' | 'ERR_INVALID_CONFIG' = 'ERR_INVALID_OPTION') {
    super(code, message);
  }
}

/** The database or its state is not usable as asked (closed, too new, unknown run...). */
export class StoreError extends BrandOrchestratorError {}

/** SQLite stayed locked by another connection past the bounded wait. */
export class BusyError extends BrandOrchestratorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_DB_BUSY', message, options);
  }
}

/** The input cannot be read, or no longer matches what a run committed. */
export class InputError extends BrandOrchestratorError {}

/** An output file cannot be written where asked (a missing folder, no permission, or a file that must not be overwritten). */
export class OutputError extends BrandOrchestratorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_OUTPUT', message, options);
  }
}

/**
 * A worker failed on a chunk more often than the retry budget allows. Only a
 * started run fails so: `summary` is always there.
 */
export class WorkerError extends BrandOrchestratorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_WORKER', message, options);
  }
}

/** The run exceeded `maxRejects`. Only a started run fails so: `summary` is always there. */
export class TooManyRejectsError extends BrandOrchestratorError {
  constructor(message: string) {
    super('ERR_TOO_MANY_REJECTS', message);
  }
}

/**
 * The run was aborted through its `AbortSignal`. Named `AbortError`, as Node
 * names the errors of aborted operations; `cause` is the signal's `reason`.
 */
export class CancelledError extends BrandOrchestratorError {
  constructor(message = 'The run was cancelled', options?: { cause?: unknown }) {
    super('ERR_CANCELLED', message, options);
    this.name = 'AbortError';
  }
}

const KNOWN_CODES = new Set<string>([
  'ERR_INVALID_OPTION', 'ERR_INVALID_CONFIG', 'ERR_STORE_CLOSED', 'ERR_SCHEMA_TOO_NEW', 'ERR_RUN_NOT_FOUND',
  'ERR_RUN_EXISTS', 'ERR_RUN_AMBIGUOUS', 'ERR_RUN_ACTIVE', 'ERR_RUN_TAKEN_OVER', 'ERR_DB_BUSY', 'ERR_DB_FULL', 'ERR_DB_CORRUPT', 'ERR_DB',
  'ERR_DB_UNREACHABLE', 'ERR_DB_AUTH', 'ERR_DB_MISSING', 'ERR_DB_CONNECTION_LOST',
  'ERR_TEMP_DIR', 'ERR_INPUT', 'ERR_INPUT_CHANGED', 'ERR_OUTPUT',
  'ERR_TOO_MANY_REJECTS', 'ERR_WORKER', 'ERR_CANCELLED', 'ERR_INTERNAL',
]);

/** Normalises any thrown value into an `Error` (once, at the boundary). @internal */
export function toError(value: unknown): Error {
  // isNativeError also recognises errors from another realm (a worker thread, a vm context);
  // better-sqlite3's SqliteError is no native error, and from another realm (jest's) not
  // `instanceof Error` either: an object with a string message and a stack is taken as one.
  if (value instanceof Error || types.isNativeError(value)) return value as Error;
  if (isErrorLike(value)) return value;
  return new Error(typeof value === 'string' ? value : `Non-error thrown: ${safeString(value)}`);
}

/** What crosses the thread boundary: plain data, rebuilt by {@link reviveError}. @internal */
export interface SerializedError {
  code: string;
  message: string;
  name?: string;
}

/** @internal */
export function serializeError(err: unknown): SerializedError {
  const e = toError(err);
  const code = (e as { code?: unknown }).code;
  return { code: typeof code === 'string' ? code : 'ERR_INTERNAL', message: e.message, name: e.name };
}

/** Rebuilds a typed error on the main side from its serialized form. @internal */
export function reviveError(s: SerializedError): BrandOrchestratorError {
  switch (s.code) {
    case 'ERR_DB_BUSY': return new BusyError(s.message);
    case 'ERR_CANCELLED': return new CancelledError(s.message);
    case 'ERR_TOO_MANY_REJECTS': return new TooManyRejectsError(s.message);
    case 'ERR_WORKER': return new WorkerError(s.message);
    case 'ERR_INPUT': case 'ERR_INPUT_CHANGED': return new InputError(s.code, s.message);
    default:
      return KNOWN_CODES.has(s.code)
        ? new StoreError(s.code as ErrorCode, s.message)
        : new BrandOrchestratorError('ERR_INTERNAL', `${s.code}: ${s.message}`);
  }
}

function isErrorLike(v: unknown): v is Error {
  const e = v as { message?: unknown; stack?: unknown } | null;
  return typeof e === 'object' && e !== null && typeof e.message === 'string' && typeof e.stack === 'string';
}

function safeString(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
