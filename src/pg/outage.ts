/** Which PostgreSQL failures a run waits out (see `Outage` in pipeline/outage.ts). */
import { Outage } from '../pipeline/outage';
import { isConnectionLost } from './connect';

/** Codes of a server that is down, starting, shutting down or out of reach: worth waiting out. */
const TRANSIENT_CODES = new Set(['ERR_DB_CONNECTION_LOST', 'ERR_DB_UNREACHABLE', '57P01', '57P02', '57P03', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE']);

/** A failure a new connection may get past: the connection was lost, or the server cannot be reached right now. */
export function isTransient(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (typeof code === 'string' && TRANSIENT_CODES.has(code)) || isConnectionLost(err);
}

/** A PostgreSQL run's outage policy: lost connections and servers that are away are waited out for up to `maxMs`. */
export function pgOutage(maxMs: number): Outage {
  return new Outage(maxMs, isTransient);
}
