/**
 * Connections to PostgreSQL and the errors met on the way, mapped to our
 * codes. A message names the server and the database, never the password.
 */
import { userInfo } from 'node:os';
import pg from 'pg';
import { parse } from 'pg-connection-string';
import { BrandOrchestratorError, InvalidOptionError, StoreError } from '../errors';

/** Where a connection goes, as messages show it: `host:port, database "x" (user y)`. */
export function describeServer(c: { host: string; port: number; database?: string | undefined; user?: string | undefined }): string {
  const host = c.host.startsWith('/') ? `socket ${c.host}` : `${c.host}:${c.port}`;
  return `PostgreSQL at ${host}, database "${c.database ?? ''}" (user ${c.user ?? '?'})`;
}

/**
 * Bounds on a session of a run, sized to the chunk lease: the server ends a
 * transaction left idle longer than a lease (a client cut off by the
 * network holds its locks no longer than that), cancels a statement that
 * runs two leases (a COPY whose client vanished mid-stream waits for data,
 * not idle), and both ends probe a silent connection every few seconds.
 * Without them a partitioned process's transaction held its rows for the
 * server's default keepalive, ~2 hours.
 */
function sessionOptions(leaseMs: number): string {
  return `-c idle_in_transaction_session_timeout=${Math.round(leaseMs)} -c statement_timeout=${Math.round(2 * leaseMs)}`
    + ' -c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3';
}

/**
 * A new client for `url` (`role`: its application_name; `leaseMs`: the run's
 * lease, which bounds its sessions). What the URL leaves out comes from the
 * libpq variables (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD,
 * PGSSLMODE, ~/.pgpass) as `psql` takes them, and the user name defaults to
 * the operating-system user's, as libpq's does, even where `USER` is unset
 * (cron, systemd). A URL the driver cannot read is `ERR_INVALID_OPTION`.
 */
export function newClient(url: string, label: string, role = 'brand-orchestrator', leaseMs?: number): pg.Client {
  let p: ReturnType<typeof parse>;
  try {
    p = parse(url);
  } catch (err) {
    throw new InvalidOptionError(`Cannot read the database URL ${label}: ${(err as Error).message}`);
  }
  if (typeof p.host === 'string' && /\s/.test(p.host)) {
    throw new InvalidOptionError(`Cannot read the database URL ${label}: the host ${JSON.stringify(p.host)} holds white space; is the URL quoted and percent-encoded?`);
  }
  const { host, port, database, user, password, options, ...rest } = p;
  try {
    return new pg.Client({
      ...rest,
      // Left undefined, the driver takes PGHOST, PGPORT, PGDATABASE, PGPASSWORD (and ~/.pgpass).
      host: host || undefined, port: port ? Number(port) : undefined, database: database || undefined, password: password || undefined,
      user: user || process.env.PGUSER || osUser(),
      options: [options, leaseMs === undefined ? undefined : sessionOptions(leaseMs)].filter((o) => o).join(' ') || undefined,
      application_name: role, connectionTimeoutMillis: 10_000,
      keepAlive: leaseMs !== undefined, keepAliveInitialDelayMillis: 10_000,
    } as pg.ClientConfig);
  } catch (err) {
    throw new InvalidOptionError(`Cannot read the database URL ${label}: ${(err as Error).message}`);
  }
}

function osUser(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
}

/**
 * Connects, or throws a coded error naming the server: unreachable,
 * authentication refused, database missing. An idle client whose connection
 * drops later emits `error`; it is kept from crashing the process, and the
 * next query fails with `ERR_DB_CONNECTION_LOST`.
 */
export async function connect(url: string, label: string, context: string, role?: string, leaseMs?: number): Promise<pg.Client> {
  const client = newClient(url, label, role, leaseMs);
  client.on('error', () => { /* surfaced by the next query */ });
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw fromPgError(err, client, context);
  }
  return client;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOENT', '57P03']);
const LOST = new Set(['ECONNRESET', 'EPIPE', '57P01', '57P02', '08000', '08003', '08006']);

/**
 * A deadlock, a serialization failure, or a statement cancelled by its
 * timeout (a lock waited for past two leases): the transaction rolled back
 * and may simply run again.
 */
export function isRetryableConflict(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001' || code === '57014';
}

/** The connection is gone (server restart, backend terminated, network): a new connection may do the work. */
export function isConnectionLost(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (typeof e?.code === 'string' && LOST.has(e.code)) return true;
  return typeof e?.message === 'string' && /Connection terminated|not queryable|connection.*(closed|ended)/i.test(e.message);
}

/** Maps a `pg` or socket error to our codes; `server` (a client, or its description) is named in the message. */
export function fromPgError(err: unknown, server: pg.Client | string, context: string): BrandOrchestratorError {
  if (err instanceof BrandOrchestratorError) return err;
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const where = typeof server === 'string' ? server : describeServer(server);
  const opts = { cause: err };
  if (code !== undefined && UNREACHABLE.has(code)) {
    return new StoreError('ERR_DB_UNREACHABLE', `${context}: cannot reach ${where}: ${message} (${code}); is the server running?`, opts);
  }
  if (code === '28P01' || code === '28000') return new StoreError('ERR_DB_AUTH', `${context}: ${where} refused the login: ${message} (${code})`, opts);
  if (code === '3D000') return new StoreError('ERR_DB_MISSING', `${context}: ${where}: ${message} (${code}); create it first (createdb)`, opts);
  if (isConnectionLost(err)) return new StoreError('ERR_DB_CONNECTION_LOST', `${context}: lost the connection to ${where}: ${message}${code ? ` (${code})` : ''}`, opts);
  if (code === '53100') return new StoreError('ERR_DB_FULL', `${context}: ${where}: the server's disk is full: ${message} (${code})`, opts);
  return new StoreError('ERR_DB', `${context}: ${where}: ${message}${code ? ` (${code})` : ''}`, opts);
}
